/**
 * The plan of a PR: type, breaking-ness, risk, reviewers, labels, checklist, draft state and merge plan,
 * computed once per run from facts and policy. Pure. The renderer renders it; nothing recomputes it.
 */
import type { ChangeSet } from "../domain/commit.js";
import type { Policy } from "../domain/policy.js";
import { globMatcher } from "./glob.js";
import type { ChecklistItem, PrFacts, PrPlan, ReviewerAssignment, RiskAssessment } from "../domain/pull-request.js";
import { classifyChange, parseConventional, type ChangeKind } from "./change-type.js";
import { computeLabels, lacksTests } from "./labels.js";
import { planMerge, type PrOrigin } from "./merge-plan.js";
import { routeReviewers } from "./reviewers.js";
import { assessRisk, maxLevel } from "./risk.js";

const countsKnown = (changes: ChangeSet) => changes.line_counts !== "unavailable";

export function computeChecklist(facts: PrFacts, policy: Policy): ChecklistItem[] {
  const { trace, changes } = facts;
  const lines = changes.additions + changes.deletions;
  const yaml =
    facts.change && facts.change.yaml_checked > 0
      ? [
          facts.change.yaml_invalid.length === 0
            ? { label: `Edited YAML files parse (${facts.change.yaml_checked} checked)`, done: true }
            : {
                label: `Edited YAML files parse (${facts.change.yaml_invalid.length} of ${facts.change.yaml_checked} do not: ${facts.change.yaml_invalid.join(", ")})`,
                done: false,
              },
        ]
      : [];
  return [
    { label: `Trace metadata attached (${trace.trace_id}, scope ${trace.component_scope})`, done: true },
    { label: `Blueprint linked (${trace.blueprint_id})`, done: true },
    { label: "Blueprint name and description recorded", done: Boolean(trace.blueprint_name && trace.description) },
    { label: "Tests included for changed code", done: !lacksTests(changes.files, policy, countsKnown(changes)) },
    countsKnown(changes)
      ? {
          label: `Change size within policy (${lines} of ${policy.limits.max_changed_lines} lines)`,
          done: lines <= policy.limits.max_changed_lines,
        }
      : { label: "Change size checked (line counts unavailable from the commit source)", done: false },
    ...yaml,
  ];
}

function onlyDocs(facts: PrFacts, policy: Policy): boolean {
  const files = facts.changes.files;
  if (files.length === 0) return false;
  const docs = globMatcher(policy.types.docs_globs);
  return files.every((f) => docs(f.path) && (f.old_path === undefined || docs(f.old_path)));
}

/** The riskiest conventional type the commits declare (merges aside), else the PR's own type. */
function riskType(kind: ChangeKind, facts: PrFacts, policy: Policy): string {
  const order = { low: 0, medium: 1, high: 2 } as const;
  const levelOf = (t: string) => order[policy.risk.commit_types[t] ?? policy.risk.unknown_commit_type];
  const declared = facts.changes.commits
    .filter((c) => c.parents.length <= 1)
    .map((c) => parseConventional(c.subject)?.type)
    .filter((t): t is string => t !== undefined);
  if (declared.length === 0) return kind.type;
  return declared.reduce((worst, t) => (levelOf(t) > levelOf(worst) ? t : worst));
}

/** Risk from facts only: the change type (or the commits' types), paths, size, and breaking changes. */
export function riskOf(facts: PrFacts, policy: Policy, kind: ChangeKind): RiskAssessment {
  const lines = countsKnown(facts.changes) ? facts.changes.additions + facts.changes.deletions : null;
  // Documentation cannot change behaviour, whatever type a subject declares.
  const docs = !facts.change && onlyDocs(facts, policy);
  const base = assessRisk(
    {
      ...(facts.change
        ? { change_type: facts.change.change_type }
        : { commit_type: docs ? "docs" : riskType(kind, facts, policy) }),
      files: facts.changes.files,
      lines,
    },
    policy,
  );
  const reasons = docs ? ["only documentation changed", ...base.reasons] : [...base.reasons];
  let level = base.level;
  if (!facts.change && kind.breaking) {
    level = maxLevel(level, "high");
    reasons.push(`breaking change (${kind.breaking_reasons.join("; ")}): high risk`);
  }
  return { level, reasons };
}

/** Policy reviewers, then the owners CODEOWNERS gives (codeowners.ts); a name listed twice is required if either is. */
function withCodeOwners(reviewers: ReviewerAssignment[], codeOwners: readonly ReviewerAssignment[]) {
  const out = reviewers.map((r) => ({ ...r }));
  for (const owner of codeOwners) {
    const prior = out.find((r) => r.name.toLowerCase() === owner.name.toLowerCase());
    if (!prior) out.push({ ...owner });
    else if (owner.required) prior.required = true;
  }
  return out;
}

export function planPullRequest(
  facts: PrFacts,
  policy: Policy,
  origin: PrOrigin = facts.change ? "change" : "commit",
  codeOwners: readonly ReviewerAssignment[] = [],
): PrPlan {
  const kind: ChangeKind = facts.change
    ? {
        type: policy.change_requests.commit_type,
        type_reason: "change requests take change_requests.commit_type",
        breaking: false,
        breaking_reasons: [],
        breaking_notes: [],
        declared: [],
      }
    : classifyChange(facts.changes, policy, facts.source_branch, facts.digest);
  const checklist = computeChecklist(facts, policy);
  const isDraft = !(facts.trace.blueprint_name && facts.trace.description);
  const risk = riskOf(facts, policy, kind);
  const labels = computeLabels(facts.trace.component_scope, facts.changes.files, policy, countsKnown(facts.changes));
  if (kind.breaking && policy.labels.breaking && !labels.includes(policy.labels.breaking))
    labels.push(policy.labels.breaking);
  const merge = planMerge(
    risk,
    origin,
    {
      reviewers: withCodeOwners(routeReviewers(facts.trace.component_scope, policy), codeOwners),
      labels,
      ready: checklist.every((i) => i.done) && !isDraft,
    },
    policy,
  );
  return {
    type: kind.type,
    type_reason: kind.type_reason,
    breaking: kind.breaking,
    breaking_reasons: kind.breaking_reasons,
    breaking_notes: kind.breaking_notes,
    risk,
    reviewers: merge.reviewers,
    labels: merge.labels,
    checklist,
    is_draft: isDraft,
    // A breaking change is high risk, and high risk never merges itself; said twice so no policy can undo it.
    auto_merge: merge.auto_merge && !kind.breaking,
    requires: merge.requires,
    decision: merge.decision,
  };
}
