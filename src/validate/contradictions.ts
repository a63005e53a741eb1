import type { Draft, PrPlan } from "../domain/pull-request.js";
import type { Violation, ViolationWhere } from "../domain/violations.js";

const RISK_WORD = /\b(low|medium|high)[- ]risk\b/gi;
const AUTO_MERGE = /\b(auto-?merg\w*|auto-?complet\w*|merges? (?:itself|automatically)|merged automatically)\b/i;
const BRANCH_WORDS = new Set(["main", "master", "dev", "develop", "development", "staging", "production", "trunk"]);
const INTO_BRANCH = /\b(?:into|onto|targets?|targeting|against)\s+(?:the\s+)?[`'"]?([A-Za-z0-9._/-]+)[`'"]?/gi;

/**
 * Prose must not contradict what code decided: the type, the risk level, whether the PR merges itself, and
 * the target branch. A model that writes "low risk, automerges into main" for a medium-risk PR to `dev`
 * is repaired, whatever the rest of its text says.
 */
export function validateAgainstPlan(draft: Draft, plan: PrPlan, targetBranch: string): Violation[] {
  const out: Violation[] = [];
  if (draft.type !== plan.type)
    out.push({
      code: "contradicts_fact",
      where: "draft",
      message: `type "${draft.type}" contradicts the computed type "${plan.type}" (${plan.type_reason}); return type "${plan.type}"`,
    });
  const fields: [ViolationWhere, string][] = [
    ["summary", draft.summary],
    ["purpose", draft.purpose],
    ...draft.highlights.map((h): [ViolationWhere, string] => ["highlights", h]),
  ];
  for (const [where, text] of fields) {
    for (const m of text.matchAll(RISK_WORD)) {
      if (m[1]!.toLowerCase() !== plan.risk.level)
        out.push({
          code: "contradicts_fact",
          where,
          message: `"${m[0]}" contradicts the computed risk level ${plan.risk.level}; leave risk to the Risk section`,
        });
    }
    const merge = AUTO_MERGE.exec(text);
    if (merge && !plan.auto_merge)
      out.push({
        code: "contradicts_fact",
        where,
        message: `"${merge[0]}" contradicts the merge plan (${plan.decision}); leave merging to the Risk section`,
      });
    for (const m of text.matchAll(INTO_BRANCH)) {
      const branch = m[1]!.replace(/[.,;:]+$/, "");
      const branchLike = BRANCH_WORDS.has(branch.toLowerCase()) || /^(release|hotfix)\//.test(branch);
      if (branchLike && branch !== targetBranch)
        out.push({
          code: "contradicts_fact",
          where,
          message: `"${m[0].trim()}" names branch ${branch}, but the PR targets ${targetBranch}`,
        });
    }
  }
  return out;
}
