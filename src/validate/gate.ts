import type { Policy } from "../domain/policy.js";
import type { PrFacts } from "../domain/pull-request.js";
import type { Violation } from "../domain/violations.js";
import { traceTagId } from "../render/title.js";
import { validateBody } from "./body.js";
import { validateFaithfulness } from "./faithfulness.js";
import { validateTitle } from "./title.js";

/** The gate: every content rule on an assembled title and body. Pure; an empty list means it may ship. */
export function runGate(
  title: string,
  body: string,
  facts: PrFacts,
  policy: Policy,
  /** Other input the body quotes (the repository's PR template): what it names is known, not invented. */
  quoted: readonly string[] = [],
): Violation[] {
  const traceId = facts.trace.trace_id;
  const componentScope = facts.trace.component_scope;
  const { trace } = facts;
  const knownText = [
    trace.blueprint_id,
    trace.blueprint_name ?? "",
    trace.description ?? "",
    ...trace.linked_files,
    facts.repo,
    facts.source_branch,
    facts.target_branch,
    ...quoted,
    // Symbols and keys the digest read (`Order.Total`, `dependencies.express`) look like file names but are facts.
    ...(facts.digest?.files.flatMap((f) =>
      f.symbols ? [...f.symbols.added, ...f.symbols.removed, ...f.symbols.changed].map((x) => x.name) : [],
    ) ?? []),
  ];
  const faith = { changes: facts.changes, traceId, traceTag: traceTagId(traceId, policy), knownText };
  return [
    ...validateTitle(title, { componentScope, traceId, policy }),
    ...validateBody(body, { traceId, componentScope, policy }),
    ...validateFaithfulness(title, "title", faith),
    ...validateFaithfulness(body, "body", faith),
  ];
}
