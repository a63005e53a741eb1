import type { Policy } from "../domain/policy.js";
import type { ReviewerAssignment, RiskAssessment } from "../domain/pull-request.js";

/** Where a PR comes from: a commit event, a change request, or a rollback of a merged PR. */
export type PrOrigin = "commit" | "change" | "rollback";

export interface MergePlan {
  /** Ask the forge to merge once CI is green (Azure auto-complete, GitHub auto-merge). */
  auto_merge: boolean;
  /** What a person must do: nothing, review, or a senior approval. */
  requires: "none" | "review" | "senior_approval";
  reviewers: ReviewerAssignment[];
  labels: string[];
  /** One sentence for the PR body and the result. */
  decision: string;
}

/**
 * The seed's merge policy: low risk merges itself after CI; medium needs reviewers; high needs a senior
 * approval, carries the approval label and is never merged automatically. A draft or an incomplete
 * checklist never auto-merges.
 */
export function planMerge(
  risk: RiskAssessment,
  origin: PrOrigin,
  base: { reviewers: readonly ReviewerAssignment[]; labels: readonly string[]; ready: boolean },
  policy: Policy,
): MergePlan {
  const rules = policy.merge;
  const reviewers = base.reviewers.map((r) => ({ ...r }));
  const labels = [...base.labels];
  if (risk.level === "high") {
    for (const name of rules.senior_reviewers) {
      const prior = reviewers.find((r) => r.name.toLowerCase() === name.toLowerCase());
      if (prior) prior.required = true;
      else reviewers.push({ name, required: true });
    }
    if (rules.approval_label && !labels.includes(rules.approval_label)) labels.push(rules.approval_label);
    const who =
      rules.senior_reviewers.length > 0
        ? rules.senior_reviewers.join(", ")
        : "a senior engineer (no senior reviewers are configured)";
    return {
      auto_merge: false,
      requires: "senior_approval",
      reviewers,
      labels,
      decision: `High risk: needs approval from ${who}; never merged automatically.`,
    };
  }
  const allowedOrigin = origin !== "commit" || rules.commits;
  const levelAllowed = rules.auto_merge_levels.includes(risk.level);
  if (levelAllowed && allowedOrigin && base.ready) {
    // Reviewers still hear of it, but a required reviewer would hold the merge (Azure waits for required votes).
    for (const r of reviewers) r.required = false;
    return {
      auto_merge: true,
      requires: "none",
      reviewers,
      labels,
      decision: `${capital(risk.level)} risk: merges itself (${rules.method}) once every CI check passes.`,
    };
  }
  // Optional reviewers stay optional, but someone must be required to approve.
  if (!reviewers.some((r) => r.required)) for (const r of reviewers) r.required = true;
  const why = !allowedOrigin
    ? "by policy, PRs from commits do not merge themselves"
    : !levelAllowed
      ? `by policy, ${risk.level} risk does not merge itself`
      : "the PR is a draft or its checklist is incomplete";
  return {
    auto_merge: false,
    requires: "review",
    reviewers,
    labels,
    decision: `${capital(risk.level)} risk: needs an approving review before a person merges it (${why}).`,
  };
}

function capital(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}
