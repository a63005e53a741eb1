/**
 * The result of one run, declared once: the TypeScript types are inferred from these zod schemas, the HTTP
 * API's OpenAPI description is generated from them, and the MCP output schema and the LangChain tool's
 * output are projections of them. To add a field to the result, add it to RunResultSchema (with a
 * `.describe()`) and set it where the runner builds the result (src/agent/run.ts).
 */
import { createHash } from "node:crypto";
import { z } from "zod";
import { LifecycleEventSchema } from "./events.js";
import { FailureReasonSchema } from "./reasons.js";

const count = () => z.number().int().nonnegative();

export const RunStatusSchema = z
  .enum(["previewed", "created", "updated", "unchanged", "failed", "awaiting_approval"])
  .describe(
    "previewed: a dry run, nothing sent to a forge; created / updated / unchanged: the PR on the forge; failed: see reason; awaiting_approval: paused for a person",
  );
export type RunStatus = z.infer<typeof RunStatusSchema>;

export const DraftedBySchema = z
  .enum(["model", "deterministic", "fallback"])
  .describe("Who wrote the prose: the model, the deterministic drafter, or the drafter after the model failed");

export const RiskLevelSchema = z.enum(["low", "medium", "high"]);
export const MergeRequirementSchema = z.enum(["none", "review", "senior_approval"]);

export const ViolationSummarySchema = z.object({
  code: z.string().describe("The rule that was broken, e.g. title_too_long"),
  message: z.string(),
});

export const RiskAssessmentSchema = z.object({
  level: RiskLevelSchema,
  reasons: z.array(z.string()).describe("Why: change type, paths and size rules that applied"),
});

export const MergePlanSchema = z.object({
  requires: MergeRequirementSchema.describe(
    "none: merges itself once CI is green; review: an approving review; senior_approval: a senior reviewer",
  ),
  decision: z.string().describe("The plan in words"),
});

/** A complete PR as it would be sent to a forge (the facts computed by code, the prose by the drafter). */
export const PullRequestSpecSchema = z.object({
  title: z.string().min(1),
  description: z.string().describe("The PR body, rendered from the template"),
  source_branch: z.string().min(1),
  target_branch: z.string().min(1),
  reviewers: z.array(z.object({ name: z.string().min(1), required: z.boolean() })),
  labels: z.array(z.string().min(1)),
  is_draft: z.boolean().describe("Draft when the blueprint context is incomplete"),
  auto_complete: z.boolean().describe("Set to merge itself once CI is green"),
  risk: RiskAssessmentSchema.nullable().describe("null only for PRs made before risk existed"),
  merge: MergePlanSchema.optional().describe("The merge plan: what happens after CI"),
  checklist: z.array(z.object({ label: z.string(), done: z.boolean() })),
  work_items: z
    .array(z.string().regex(/^[1-9][0-9]*$/))
    .optional()
    .describe(
      "Azure Boards work items the PR is linked to when it is created (trackers.azure_boards.link_work_items); absent in PRs made before it existed",
    ),
});

/** The PR of a run: the spec plus where it lives on the forge (both null for a preview). */
export const RunPullRequestSchema = z.object({
  id: z.union([z.number(), z.string()]).nullable().describe("The forge's PR id; null for a preview"),
  url: z.string().nullable().describe("The PR's web page; null for a preview"),
  ...PullRequestSpecSchema.shape,
});

export { LifecycleEventSchema };

export const TruncationSchema = z.object({
  files_shown: count(),
  files_total: count(),
  commits_shown: count(),
  commits_total: count(),
  prose_shortened: z.boolean(),
});

export const UsageSchema = z.object({
  model_calls: count().describe("Logical model calls (a call the client retried counts once)"),
  prompt_tokens: count(),
  completion_tokens: count(),
  repairs: count().describe("Rounds that sent the gate's violations back to the model"),
  fallbacks: count().describe("Times the deterministic drafter took over from the model"),
});
/** Model usage of a run; nodes write increments and the graph state adds them up. */
export type Usage = z.infer<typeof UsageSchema>;

export const DraftRoundSchema = z.object({
  round: z.number().int().positive(),
  drafted_by: DraftedBySchema,
  violations: z.array(ViolationSummarySchema).describe("What the gate found in this draft"),
});
/** One draft and what the gate said of it, for the result, the debugger and evals. */
export type DraftRound = z.infer<typeof DraftRoundSchema>;

/** A person's answer to a paused run. */
export const ApprovalDecisionSchema = z.object({
  approved: z.boolean(),
  reason: z.string().optional().describe("Why, in the person's words; goes into the failure event on rejection"),
  by: z.string().optional(),
});
export type ApprovalDecision = z.infer<typeof ApprovalDecisionSchema>;

export const ApprovalRecordSchema = z.object({
  ...ApprovalDecisionSchema.shape,
  failure_reason: FailureReasonSchema.describe("The failure reason that was waved through or upheld"),
  at: z.string().describe("When the decision was made, ISO 8601"),
});
export type ApprovalRecord = z.infer<typeof ApprovalRecordSchema>;

/** What a paused run shows the person deciding. */
export const ApprovalRequestSchema = z.object({
  failure_reason: z.string(),
  message: z.string(),
  violations: z.array(ViolationSummarySchema),
  question: z.string().describe("What the person is asked, e.g. Create the pull request despite forbidden_branch?"),
});
export type ApprovalRequest = z.infer<typeof ApprovalRequestSchema>;

export const MemoryHitSchema = z.object({
  key: z.string(),
  title: z.string(),
  url: z.string().nullable(),
  score: z.number().describe("Similarity, 0 to 1"),
});
/** An earlier PR found in memory, and how similar it is. */
export type MemoryHit = z.infer<typeof MemoryHitSchema>;

export const EarlierPrSchema = z.object({
  pr_id: z.string().nullable().describe("null for a remembered preview"),
  url: z.string().nullable(),
  commit_hash: z.string(),
  source_branch: z.string(),
  status: z.string(),
  updated_at: z.string(),
});

export const CheckRunSchema = z.object({
  name: z.string(),
  state: z.enum(["pending", "succeeded", "failed"]),
  description: z.string().describe('The forge\'s own words for the state, e.g. "rejected", "failure"'),
  url: z.string().nullable(),
  started_at: z.string().nullable(),
  completed_at: z.string().nullable(),
});

/**
 * What the agent did about merging a published PR. `not_requested`: the plan needs people (review or a
 * senior approval); `enabled`: the forge merges once CI is green; `merged`: it is merged; `blocked`: a check
 * failed or the forge refused; `pending`: still waiting when the watch ended; `previewed`: a dry run.
 */
export const MergeOutcomeSchema = z.object({
  requires: MergeRequirementSchema,
  status: z
    .enum(["previewed", "not_requested", "enabled", "merged", "blocked", "pending", "failed"])
    .describe(
      "not_requested: people decide; enabled: the forge merges once CI is green; blocked: a check failed; pending: still running when the watch gave up; failed: the forge refused auto-merge",
    ),
  message: z.string(),
  failed_checks: z.array(z.string()),
  checks: z.array(CheckRunSchema),
  merge_commit: z.string().nullable(),
  ci_ms: count().nullable().describe("PR published → every check settled (when watched)"),
  merge_ms: count().nullable().describe("Checks settled → merged (when watched)"),
});
export type MergeOutcome = z.infer<typeof MergeOutcomeSchema>;

export const RunResultSchema = z
  .object({
    status: RunStatusSchema,
    reason: FailureReasonSchema.describe(
      "Failure reason code (closed set, see the README): set when failed, and why a paused run waits",
    ).optional(),
    message: z.string().describe("One paragraph for people: what went wrong and how to fix it").optional(),
    pr: RunPullRequestSchema.nullable().describe("The PR made, updated or previewed; null when the run failed first"),
    violations: z.array(ViolationSummarySchema),
    events: z.array(LifecycleEventSchema).describe("Lifecycle events of the run (a preview delivers none)"),
    drafted_by: DraftedBySchema.nullable().describe("null when the run failed before drafting"),
    truncation: TruncationSchema.nullable().describe(
      "How much of the file table and commit list was left out to respect the body limit",
    ),
    warnings: z
      .array(z.string())
      .describe(
        "Problems that did not change the outcome (an event sink that could not be written, a model that failed)",
      ),
    undelivered: count().describe("Lifecycle events no sink accepted; they are still in `events`"),
    usage: UsageSchema.describe("Model calls, tokens, repairs and fallbacks of this run"),
    prompts_version: z
      .string()
      .optional()
      .describe(
        "The prompt set in force (built-in, or with prompts.dir overrides): the first 12 hex digits of the SHA-256 of its texts; absent in results kept from before it existed",
      ),
    rounds: z.array(DraftRoundSchema).describe("Every draft and the violations the gate found in it, in order"),
    approvals: z.array(ApprovalRecordSchema).describe("Decisions people made on this run"),
    memory: z
      .object({
        earlier_prs: z.array(EarlierPrSchema).describe("The trace's earlier PRs, oldest first"),
        recalled: z.array(MemoryHitSchema).describe("Earlier PRs offered to the drafter as style examples"),
        possible_duplicates: z.array(MemoryHitSchema).describe("Near-identical earlier PRs of the same scope"),
        unavailable: z.string().nullable().describe("Why memory could not be used in this run"),
      })
      .describe("What memory knew"),
    merge: MergeOutcomeSchema.nullable().describe(
      "After publishing: auto-merge on, merged, blocked by a failed check, or left to reviewers",
    ),
    approval: z
      .object({ thread_id: z.string(), request: ApprovalRequestSchema })
      .optional()
      .describe("Set while the run waits for a person: the thread to resume and what they are asked"),
  })
  .describe(
    "The result of one event: what `pr-creator run --json` prints, what library callers get back and what a finished HTTP run holds",
  );

/** The result of one event: what the CLI prints with --json and what library callers get back. */
export type RunResult = z.infer<typeof RunResultSchema>;

/**
 * The checkpoint thread of an event: its trace and commit, so the same event finds its paused run again.
 * Unreadable events get a random thread (they fail before anything could pause).
 */
export function threadIdFor(input: unknown): string {
  const read = (key: string) =>
    typeof input === "object" && input !== null ? (input as Record<string, unknown>)[key] : undefined;
  const trace = read("trace_id");
  const commit = read("commit_hash");
  const bounded = (text: string) => {
    const safe = text.replace(/[^\w@.-]/g, "_");
    return safe.length <= 120
      ? safe
      : `${safe.slice(0, 100)}-${createHash("sha256").update(safe).digest("hex").slice(0, 16)}`;
  };
  if (typeof trace === "string" && typeof commit === "string") return bounded(`${trace}@${commit}`);
  // A change request has no commit yet: its type and id name it.
  const type = read("change_type");
  const id = read("change_id") ?? read("issue_id");
  if (read("event") === "ChangeRequested" && typeof type === "string" && typeof id === "string")
    return bounded(`change@${type}-${id}`);
  return `run-${crypto.randomUUID()}`;
}
