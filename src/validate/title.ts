import type { Policy } from "../domain/policy.js";
import type { Violation } from "../domain/violations.js";
import { parseTitle, titleScope, traceTagId } from "../render/title.js";

export interface TitleContext {
  componentScope: string;
  traceId: string;
  policy: Policy;
}

/** Forbidden keywords that occur as whole words of the summary, case-insensitively. */
export function forbiddenKeywordsIn(summary: string, keywords: readonly string[]): string[] {
  const lower = summary.toLowerCase();
  return keywords.filter((k) => {
    const escaped = k.toLowerCase().replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
    return new RegExp(`(?<![\\p{L}\\p{N}_])${escaped}(?![\\p{L}\\p{N}_])`, "u").test(lower);
  });
}

export function validateTitle(title: string, ctx: TitleContext): Violation[] {
  const { policy } = ctx;
  const out: Violation[] = [];
  const v = (code: Violation["code"], message: string) => out.push({ code, message, where: "title" });
  if (title.length > policy.title.max_length)
    v("title_too_long", `title is ${title.length} characters; the limit is ${policy.title.max_length}`);
  const parsed = parseTitle(title);
  if (!parsed) {
    v("title_format", `title "${title}" does not follow "<type>(<scope>): <summary> [trace:<id>]"`);
    return out;
  }
  if (!policy.title.types.includes(parsed.type))
    v("title_unknown_type", `type "${parsed.type}" is not one of ${policy.title.types.join(", ")}`);
  const scope = titleScope(ctx.componentScope);
  if (parsed.scope !== scope)
    v("title_scope_mismatch", `scope "${parsed.scope}" should be "${scope}" (the component scope in lower case)`);
  const tag = traceTagId(ctx.traceId, policy);
  if (parsed.traceTag !== tag)
    v("title_trace_mismatch", `trace tag "[trace:${parsed.traceTag}]" should be "[trace:${tag}]"`);
  const banned = forbiddenKeywordsIn(parsed.summary, policy.title.forbidden_keywords);
  if (banned.length > 0)
    v(
      "title_forbidden_keyword",
      `summary contains forbidden keyword${banned.length > 1 ? "s" : ""} ${banned.map((b) => `"${b}"`).join(", ")}`,
    );
  return out;
}
