import { z } from "zod";
import { TraceRecordSchema } from "./trace.js";
import { FailureReasonSchema } from "./reasons.js";

/** The name every event we emit carries in `created_by` (seed: "pull-request-creator-agent"). */
export const AGENT_NAME = "pull-request-creator-agent";

const nonEmpty = (what: string) => z.string().trim().min(1, `${what} must be a non-empty string`);

export const CommitHashSchema = z
  .string()
  .trim()
  .regex(/^[0-9a-fA-F]{4,64}$/, "commit_hash must be 4 to 64 hexadecimal characters (an abbreviated or full git hash)");

/**
 * The trigger, exactly as the seed's Code Committer Agent sends it. The optional fields let an upstream
 * agent pass what it already knows (trace metadata, an explicit target) so nothing has to be looked up.
 */
export const CommitCompletedSchema = z.object({
  event: z.literal("CommitCompleted"),
  trace_id: nonEmpty("trace_id"),
  commit_hash: CommitHashSchema,
  repo: nonEmpty("repo"),
  branch: nonEmpty("branch"),
  agent: nonEmpty("agent"),
  timestamp: z.iso.datetime({ offset: true, error: "timestamp must be an ISO 8601 date-time such as 2025-05-07T19:05:33Z" }),
  blueprint_id: nonEmpty("blueprint_id").optional(),
  target_branch: nonEmpty("target_branch").optional(),
  trace: TraceRecordSchema.optional(),
});
export type CommitCompleted = z.infer<typeof CommitCompletedSchema>;

export const PullRequestCreatedSchema = z.object({
  event: z.literal("PullRequestCreated"),
  pr_id: z.union([z.number().int(), z.string()]),
  repo: z.string(),
  branch: z.string(),
  trace_id: z.string(),
  blueprint_id: z.string(),
  component_scope: z.string(),
  commit_hash: z.string(),
  created_by: z.literal(AGENT_NAME),
  timestamp: z.string(),
});
export type PullRequestCreated = z.infer<typeof PullRequestCreatedSchema>;

export const PullRequestReadyForReviewSchema = PullRequestCreatedSchema.extend({
  event: z.literal("PullRequestReadyForReview"),
});
export type PullRequestReadyForReview = z.infer<typeof PullRequestReadyForReviewSchema>;

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
  created_by: z.literal(AGENT_NAME),
  timestamp: z.string(),
});
export type PullRequestFailed = z.infer<typeof PullRequestFailedSchema>;

export type LifecycleEvent = PullRequestCreated | PullRequestReadyForReview | PullRequestFailed;
