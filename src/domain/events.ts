import { z } from "zod";
import { TraceRecordSchema } from "./trace.js";
import { FailureReasonSchema } from "./reasons.js";
import { editPathProblem, repoNameProblem } from "./input-names.js";

/** The name every event we emit carries in `created_by` (seed: "pull-request-creator-agent"). */
export const AGENT_NAME = "pull-request-creator-agent";

const nonEmpty = (what: string) => z.string().trim().min(1, `${what} must be a non-empty string`);

/** A repository name either forge could accept (`name`, `owner/name` or one Azure DevOps name); intake applies the forge's own rules. */
export const RepoNameSchema = nonEmpty("repo").superRefine((repo, ctx) => {
  const problem = repo === "" ? null : repoNameProblem(repo);
  if (problem) ctx.addIssue({ code: "custom", message: problem, input: repo });
});

/** A file path inside the repository's working tree (see editPathProblem). */
export const EditPathSchema = nonEmpty("path").superRefine((path, ctx) => {
  const problem = path === "" ? null : editPathProblem(path);
  if (problem) ctx.addIssue({ code: "custom", message: problem, input: path });
});

export const CommitHashSchema = z
  .string()
  .trim()
  .regex(/^[0-9a-fA-F]{4,64}$/, "commit_hash must be 4 to 64 hexadecimal characters (an abbreviated or full git hash)");

/** An issue as an event names it: a key (`BVL-232`), `#12` (a GitHub issue) or `AB#123` (an Azure Boards work item). */
export const IssueIdSchema = z
  .string()
  .trim()
  .regex(
    /^(?:#|AB#)?[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/,
    "issue_id must be an issue key such as BVL-232, #12 for a GitHub issue or AB#123 for a work item",
  );

export const WorkItemIdsSchema = z
  .array(z.number().int().min(1, "work_item_ids must be positive work item numbers").max(999_999_999))
  .max(10, "work_item_ids may list at most 10 work items");

/**
 * A W3C trace-context `traceparent` (version 00): the caller's trace, so the run's spans join it.
 * https://www.w3.org/TR/trace-context/#traceparent-header
 */
export const TraceparentSchema = z
  .string()
  .regex(
    /^00-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$/,
    "traceparent must be a W3C trace context such as 00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01 (lower-case hex)",
  )
  .refine(
    (value) => !/^00-0{32}-|-0{16}-[0-9a-f]{2}$/.test(value),
    "traceparent must not have an all-zero trace or parent id",
  )
  .describe("W3C trace context of the caller (optional): the run's OpenTelemetry spans join that trace");

/**
 * The trigger, exactly as the seed's Code Committer Agent sends it. The optional fields let an upstream
 * agent pass what it already knows (trace metadata, an explicit target) so nothing has to be looked up.
 */
export const CommitCompletedSchema = z.object({
  event: z.literal("CommitCompleted"),
  trace_id: nonEmpty("trace_id"),
  commit_hash: CommitHashSchema,
  repo: RepoNameSchema,
  branch: nonEmpty("branch"),
  agent: nonEmpty("agent"),
  timestamp: z.iso.datetime({
    offset: true,
    error: "timestamp must be an ISO 8601 date-time such as 2025-05-07T19:05:33Z",
  }),
  blueprint_id: nonEmpty("blueprint_id").optional(),
  target_branch: nonEmpty("target_branch").optional(),
  trace: TraceRecordSchema.optional(),
  /** The tracking issue (a Linear or Jira key, `#12` for a GitHub issue, `AB#123` for a work item); linked from the PR. */
  issue_id: IssueIdSchema.optional(),
  /** Azure Boards work items the PR is linked to. */
  work_item_ids: WorkItemIdsSchema.optional(),
  traceparent: TraceparentSchema.optional(),
});
export type CommitCompleted = z.infer<typeof CommitCompletedSchema>;

const ID_PART = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
const idPart = z
  .string()
  .trim()
  .regex(ID_PART, "must be 1 to 64 letters, digits, '.', '_' or '-' (it becomes part of a branch name)");

/**
 * One file edit of a change request. `set` edits a YAML document in place (comments and layout kept):
 * keys are dotted paths (`spec.resources.requests.storage`, `spec.containers.0.image`; `\\.` for a literal dot).
 */
export const FileEditSchema = z.union(
  [
    z.strictObject({
      path: EditPathSchema,
      set: z
        .record(z.string().min(1), z.unknown())
        .refine((r) => Object.keys(r).length > 0, "set must name at least one key path"),
      /** Which document of a multi-document file: its index, or the one whose kind/metadata.name match. Default: the only one. */
      document: z
        .union([
          z.number().int().nonnegative(),
          z.strictObject({ kind: z.string().min(1).optional(), name: z.string().min(1).optional() }),
        ])
        .optional(),
    }),
    z.strictObject({ path: EditPathSchema, content: z.string() }),
    z.strictObject({ path: EditPathSchema, delete: z.literal(true) }),
  ],
  {
    error:
      'expected an edit {"path","set"}, {"path","content"} or {"path","delete":true}; give the path and exactly one of set, content or delete',
  },
);
export type FileEdit = z.infer<typeof FileEditSchema>;

/**
 * A requested infrastructure change (seed WORKFLOW-005): the agent makes the branch and the commit itself,
 * then continues as for a commit. `change_id` or `issue_id` names the branch `agent-sre/<type>-<id>`.
 */
export const ChangeRequestedSchema = z
  .object({
    event: z.literal("ChangeRequested"),
    change_id: idPart.optional(),
    /** The tracking issue (a Linear or Jira key, `#12` for a GitHub issue, `AB#123` for a work item); linked from the PR. */
    issue_id: IssueIdSchema.optional(),
    /** Azure Boards work items the PR is linked to. */
    work_item_ids: WorkItemIdsSchema.optional(),
    change_type: z
      .string()
      .regex(/^[a-z0-9][a-z0-9-]*$/, "change_type must be lower-case words joined by - (e.g. pvc-size)"),
    repo: RepoNameSchema,
    base_branch: nonEmpty("base_branch"),
    /** One line: what the change does, e.g. "increase orders-data PVC to 20Gi". Becomes the title's summary. */
    summary: nonEmpty("summary").max(200, "summary must be at most 200 characters"),
    edits: z
      .array(FileEditSchema)
      .min(1, "edits must list at least one file edit")
      .max(200, "edits may list at most 200 files"),
    context: z.object({
      alert: nonEmpty("context.alert"),
      remediation: nonEmpty("context.remediation"),
      impact: nonEmpty("context.impact"),
      namespace: nonEmpty("context.namespace").optional(),
      issue_url: z.url("context.issue_url must be a URL").optional(),
      runbook_url: z.url("context.runbook_url must be a URL").optional(),
    }),
    /** Trace of the remediation; default `trace-<change_type>-<id>`. */
    trace_id: nonEmpty("trace_id").optional(),
    blueprint_id: nonEmpty("blueprint_id").optional(),
    component_scope: nonEmpty("component_scope").optional(),
    trace: TraceRecordSchema.optional(),
    traceparent: TraceparentSchema.optional(),
    agent: nonEmpty("agent"),
    timestamp: z.iso.datetime({
      offset: true,
      error: "timestamp must be an ISO 8601 date-time such as 2026-01-08T10:00:00Z",
    }),
  })
  .refine((e) => e.change_id !== undefined || e.issue_id !== undefined, {
    message: "give change_id or issue_id (it names the branch)",
    path: ["change_id"],
  })
  .refine((e) => e.change_id !== undefined || e.issue_id === undefined || ID_PART.test(e.issue_id), {
    message: "an issue_id such as #12 or AB#123 cannot name the branch: give change_id too",
    path: ["change_id"],
  })
  .refine((e) => new Set(e.edits.map((x) => x.path)).size === e.edits.length, {
    message: "each path may appear in edits only once",
    path: ["edits"],
  });
export type ChangeRequested = z.infer<typeof ChangeRequestedSchema>;

export const PullRequestCreatedSchema = z.object({
  event: z.literal("PullRequestCreated"),
  pr_id: z.union([z.number().int(), z.string()]),
  repo: z.string(),
  branch: z.string(),
  trace_id: z.string(),
  blueprint_id: z.string(),
  component_scope: z.string(),
  commit_hash: z.string(),
  /** The tracked issue (see IssueRefs), null when nothing names one; absent in events kept before it existed. */
  issue_id: z.string().nullable().default(null),
  /**
   * Reviewers the policy asked for that are not on the PR (no identity resolved, or the forge refused them).
   * Present only when there are some; optional so consumers written before it still parse.
   */
  unresolved_reviewers: z.array(z.string()).optional(),
  created_by: z.literal(AGENT_NAME),
  timestamp: z.string(),
});
export type PullRequestCreated = z.infer<typeof PullRequestCreatedSchema>;

export const PullRequestReadyForReviewSchema = PullRequestCreatedSchema.extend({
  event: z.literal("PullRequestReadyForReview"),
});
export type PullRequestReadyForReview = z.infer<typeof PullRequestReadyForReviewSchema>;

/** An announced PR was changed by a later run (new commits, a re-drafted body): never a second Created. */
export const PullRequestUpdatedSchema = PullRequestCreatedSchema.extend({
  event: z.literal("PullRequestUpdated"),
});
export type PullRequestUpdated = z.infer<typeof PullRequestUpdatedSchema>;

export const PullRequestFailedSchema = z.object({
  event: z.literal("PullRequestFailed"),
  reason: FailureReasonSchema,
  message: z.string(),
  trace_id: z.string().nullable(),
  repo: z.string().nullable(),
  branch: z.string().nullable(),
  attempted_branch: z.string().nullable(),
  commit_hash: z.string().nullable(),
  attempts: z.number().int().nonnegative(),
  violations: z.array(z.object({ code: z.string(), message: z.string() })),
  issue_id: z.string().nullable().default(null),
  created_by: z.literal(AGENT_NAME),
  timestamp: z.string(),
});
export type PullRequestFailed = z.infer<typeof PullRequestFailedSchema>;

/** The agent saw the PR merge (auto-merge after CI, or a person) — for issue trackers and dashboards. */
export const PullRequestMergedSchema = z.object({
  event: z.literal("PullRequestMerged"),
  pr_id: z.union([z.number().int(), z.string()]),
  repo: z.string(),
  branch: z.string(),
  trace_id: z.string(),
  issue_id: z.string().nullable(),
  merge_commit: z.string().nullable(),
  auto_merged: z.boolean(),
  risk: z.enum(["low", "medium", "high"]).nullable(),
  created_by: z.literal(AGENT_NAME),
  timestamp: z.string(),
});
export type PullRequestMerged = z.infer<typeof PullRequestMergedSchema>;

/** Auto-merge cannot happen: a check failed (named) or the forge refused. People must look. */
export const PullRequestMergeBlockedSchema = z.object({
  event: z.literal("PullRequestMergeBlocked"),
  pr_id: z.union([z.number().int(), z.string()]),
  repo: z.string(),
  branch: z.string(),
  trace_id: z.string(),
  issue_id: z.string().nullable(),
  failed_checks: z.array(z.string()),
  message: z.string(),
  created_by: z.literal(AGENT_NAME),
  timestamp: z.string(),
});
export type PullRequestMergeBlocked = z.infer<typeof PullRequestMergeBlockedSchema>;

/** A revert PR was opened for a merged PR. */
export const PullRequestRollbackCreatedSchema = z.object({
  event: z.literal("PullRequestRollbackCreated"),
  pr_id: z.union([z.number().int(), z.string()]),
  original_pr_id: z.union([z.number().int(), z.string()]),
  repo: z.string(),
  branch: z.string(),
  trace_id: z.string(),
  /** The original PR's issue, read back from its body's metadata block. */
  issue_id: z.string().nullable().default(null),
  reason: z.string(),
  created_by: z.literal(AGENT_NAME),
  timestamp: z.string(),
});
export type PullRequestRollbackCreated = z.infer<typeof PullRequestRollbackCreatedSchema>;

/** One failed run of an alert's streak: what PullRequestFailed said, in short. */
export const AlertedFailureSchema = z.object({
  reason: FailureReasonSchema,
  message: z.string(),
  trace_id: z.string().nullable(),
  branch: z.string().nullable(),
  timestamp: z.string(),
});
export type AlertedFailure = z.infer<typeof AlertedFailureSchema>;

/**
 * Runs for one repository (or, when the repository is unknown, one trace) failed `consecutive_failures` times
 * in a row (policy `alerts.consecutive_failures`): sent once per streak; a successful run ends the streak.
 */
export const PullRequestAlertSchema = z.object({
  event: z.literal("PullRequestAlert"),
  repo: z.string().nullable(),
  trace_id: z.string().nullable(),
  issue_id: z.string().nullable().default(null),
  consecutive_failures: z.number().int().positive(),
  /** The streak's failures, oldest first (the latest `consecutive_failures` of them). */
  failures: z.array(AlertedFailureSchema),
  message: z.string(),
  created_by: z.literal(AGENT_NAME),
  timestamp: z.string(),
});
export type PullRequestAlert = z.infer<typeof PullRequestAlertSchema>;

export type LifecycleEvent =
  | PullRequestCreated
  | PullRequestUpdated
  | PullRequestReadyForReview
  | PullRequestFailed
  | PullRequestMerged
  | PullRequestMergeBlocked
  | PullRequestRollbackCreated
  | PullRequestAlert;

/** Every lifecycle event, by its `event` name: what results carry and what the outbox stores. */
export const LifecycleEventSchema = z.discriminatedUnion("event", [
  PullRequestCreatedSchema,
  PullRequestUpdatedSchema,
  PullRequestReadyForReviewSchema,
  PullRequestFailedSchema,
  PullRequestMergedSchema,
  PullRequestMergeBlockedSchema,
  PullRequestRollbackCreatedSchema,
  PullRequestAlertSchema,
]);
