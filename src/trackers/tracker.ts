/**
 * Port: an issue tracker (Linear, Azure Boards, GitHub issues) that follows a PR through its life. The agent
 * tells it what happened, as plain data; the adapter decides what that means in its tracker (a link, a state,
 * a comment). Updates are JSON so the tracker outbox can keep one that could not be sent and send it later.
 */
import { z } from "zod";
import { TRACKER_KINDS } from "../domain/policy.js";

export type TrackerKind = Exclude<(typeof TRACKER_KINDS)[number], "none">;

/** The PR an update is about. `url` and `title` are null when the caller could not learn them. */
export const TrackedPullRequestSchema = z.object({
  id: z.union([z.number().int(), z.string()]),
  repo: z.string(),
  branch: z.string().nullable(),
  url: z.string().nullable(),
  /** Untrusted text (a commit subject made it): adapters show it inert. */
  title: z.string().nullable(),
});
export type TrackedPullRequest = z.infer<typeof TrackedPullRequestSchema>;

const common = {
  /** The issue as the event named it (`BVL-232`, `AB#123`, `#42`, `owner/repo#42`); each adapter parses its own forms. */
  issue_id: z.string().min(1),
  trace_id: z.string().nullable(),
  /** The repository the event names, also when no PR exists yet (a bare `#42` is an issue of it). */
  repo: z.string().nullable().optional(),
  /** When it happened (ISO 8601), as the lifecycle event says. */
  at: z.string(),
};

/**
 * One moment in a PR's life, for its issue:
 * - `opened`: the PR was created, updated or became ready for review → link it, move to the review state.
 * - `awaiting_approval`: the PR waits for people → say who must review or approve.
 * - `merged`: → the merged state.
 * - `problem`: the run failed, the merge is blocked, or the PR was rolled back → say what and why; state per policy.
 * `pr` is null only for a run that failed before a PR existed.
 */
export const TrackerUpdateSchema = z.discriminatedUnion("moment", [
  z.object({
    moment: z.literal("opened"),
    ...common,
    pr: TrackedPullRequestSchema,
    status: z.enum(["created", "updated", "ready_for_review"]),
  }),
  z.object({
    moment: z.literal("awaiting_approval"),
    ...common,
    pr: TrackedPullRequestSchema,
    requires: z.enum(["review", "senior_approval"]),
    /** Who must approve (reviewer names as the policy gives them); empty when the policy names nobody. */
    approvers: z.array(z.string()),
  }),
  z.object({
    moment: z.literal("merged"),
    ...common,
    pr: TrackedPullRequestSchema,
    merge_commit: z.string().nullable(),
    auto_merged: z.boolean(),
  }),
  z.object({
    moment: z.literal("problem"),
    ...common,
    pr: TrackedPullRequestSchema.nullable(),
    what: z.enum(["failed", "merge_blocked", "rolled_back"]),
    /** The failure paragraph (what went wrong and how to fix it). Untrusted parts in it are shown inert. */
    reason: z.string(),
    /** Failure reason code or failed checks, when there are any. */
    codes: z.array(z.string()),
    /** For `rolled_back`: the revert PR. */
    revert: TrackedPullRequestSchema.nullable(),
  }),
]);
export type TrackerUpdate = z.infer<typeof TrackerUpdateSchema>;

/** What an adapter did for one update, for logs and tests: e.g. "linked PR 12", "moved BVL-232 to In Review". */
export interface TrackerOutcome {
  actions: string[];
}

/**
 * An issue tracker. `apply` is idempotent by contract: it looks up what exists (the link, the state, a comment
 * with its marker) before writing, so the same update sent twice — a re-run, an outbox re-send after a crash —
 * changes nothing the second time. It may throw on any failure; the caller retries under the retry policy
 * (with `classify`), and keeps an update that still fails in the tracker outbox. Errors never carry a secret.
 */
export interface Tracker {
  readonly kind: TrackerKind;
  apply(update: TrackerUpdate): Promise<TrackerOutcome>;
  /** How a thrown error counts for the retry policy: an HTTP status, a network code, a server-requested wait. */
  classify(error: unknown): { status?: number; network?: string; retryAfterMs?: number };
}

/** The key comments and outbox rows use to recognise "the same update": the issue, the PR and the moment. */
export function updateKey(update: TrackerUpdate): string {
  const pr = update.pr ? `${update.pr.repo}#${update.pr.id}` : `trace:${update.trace_id ?? "none"}`;
  const detail =
    update.moment === "problem"
      ? `${update.what}:${update.revert ? update.revert.id : update.codes.join(",")}`
      : update.moment === "awaiting_approval"
        ? update.requires
        : update.moment === "opened"
          ? "opened"
          : "merged";
  return `${update.issue_id}|${pr}|${detail}`;
}
