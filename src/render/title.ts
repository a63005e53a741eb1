import type { Policy } from "../domain/policy.js";

/** `Order` → `order`; `Order Management` → `order-management`: the scope as a conventional-commit scope. */
export function titleScope(componentScope: string): string {
  return componentScope.trim().toLowerCase().replace(/\s+/g, "-");
}

/** `trace-ord-8128` → `ord-8128`, the id the seed puts inside `[trace:...]`. */
export function traceTagId(traceId: string, policy: Policy): string {
  const prefix = policy.title.trace_id_prefix;
  return prefix && traceId.startsWith(prefix) && traceId.length > prefix.length
    ? traceId.slice(prefix.length)
    : traceId;
}

export function composeTitle(
  type: string,
  componentScope: string,
  summary: string,
  traceId: string,
  policy: Policy,
  breaking = false,
): string {
  return `${type}(${titleScope(componentScope)})${breaking ? "!" : ""}: ${summary} [trace:${traceTagId(traceId, policy)}]`;
}

export interface ParsedTitle {
  type: string;
  scope: string;
  breaking: boolean;
  summary: string;
  traceTag: string;
}

const TITLE = /^([a-z]+)\(([^()\s]+)\)(!?): (\S(?:.*\S)?) \[trace:([^\]\s]+)\]$/;

/** Splits a title of the form `<type>(<scope>): <summary> [trace:<id>]`, or null when it has another shape. */
export function parseTitle(title: string): ParsedTitle | null {
  const m = TITLE.exec(title);
  if (!m) return null;
  return { type: m[1]!, scope: m[2]!, breaking: m[3] === "!", summary: m[4]!, traceTag: m[5]! };
}
