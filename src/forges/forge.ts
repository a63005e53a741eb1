import type { CommitSource } from "../domain/commit.js";
import type { ReviewerAssignment } from "../domain/pull-request.js";

/** A pull request as a forge reports it, in the forge-neutral shape the publisher compares against. */
export interface RemotePullRequest {
  id: number;
  url: string;
  title: string;
  description: string;
  source_branch: string;
  target_branch: string;
  is_draft: boolean;
  labels: string[];
  /** Reviewer identity ids (or logins / team slugs on GitHub) already on the PR. */
  reviewer_ids: string[];
}

/** A reviewer name resolved to the forge's identity. */
export interface ResolvedReviewer {
  name: string;
  required: boolean;
  id: string;
  kind: "user" | "team";
}

export interface NewPullRequest {
  title: string;
  description: string;
  source_branch: string;
  target_branch: string;
  is_draft: boolean;
  labels: string[];
  reviewers: ResolvedReviewer[];
  /** Work item ids to link (Azure Boards); forges without work items ignore them. */
  work_items: string[];
}

export interface PullRequestPatch {
  title?: string;
  description?: string;
  is_draft?: boolean;
}

/** The forge said a PR for this source and target already exists (Azure TF401179, GitHub 422). */
export class PullRequestExistsError extends Error {
  constructor(
    message: string,
    /** Attempts the create call made (the conflict was its last answer). */
    readonly attempts = 1,
  ) {
    super(message);
    this.name = "PullRequestExistsError";
  }
}

/** One file as it should be after a commit: its full UTF-8 text, or null to delete it. */
export interface FileChange {
  path: string;
  content: string | null;
}

/** A commit to make through the forge's API on a branch that may not exist yet. */
export interface BranchCommit {
  /** The branch to write, without `refs/heads/`. Created from `base_branch` when missing. */
  branch: string;
  base_branch: string;
  message: string;
  files: FileChange[];
}

export interface PushedCommit {
  /** The branch's head after the call. */
  sha: string;
  /** The commit the new branch started from (the base branch's head when it was created). */
  parent: string;
  /** True when the branch already held exactly these files and nothing was written (a re-run). */
  unchanged: boolean;
}

export type CheckState = "pending" | "succeeded" | "failed";

/** One CI signal on a PR: an Azure policy evaluation or PR status, a GitHub check run or commit status. */
export interface CheckRun {
  name: string;
  state: CheckState;
  /** The forge's own words for the state, e.g. "rejected", "failure", "Build failed". */
  description: string;
  url: string | null;
  started_at: string | null;
  completed_at: string | null;
}

export interface ChecksReport {
  /** failed if any failed, else pending if any pending, else succeeded; none when no check exists yet. */
  state: CheckState | "none";
  checks: CheckRun[];
}

/** The report over a PR's checks, the same rule on every forge. */
export function checksReport(checks: CheckRun[]): ChecksReport {
  const state =
    checks.length === 0
      ? "none"
      : checks.some((c) => c.state === "failed")
        ? "failed"
        : checks.some((c) => c.state === "pending")
          ? "pending"
          : "succeeded";
  return { state, checks };
}

/** A PR with where it stands in its life. */
export interface PullRequestStatus extends RemotePullRequest {
  state: "open" | "merged" | "closed";
  head_sha: string;
  merge_commit: string | null;
  merged_at: string | null;
  /** Azure auto-complete or GitHub auto-merge is set. */
  auto_merge: boolean;
  /** What the forge says stops the merge (merge conflicts, a rejected policy), when it says so. */
  blocked_reason: string | null;
}

export interface AutoMergeOptions {
  method: "squash";
  delete_source_branch: boolean;
  commit_title: string;
  commit_message: string;
}

/** `enabled`: the forge merges by itself once checks pass. `merged`: it was already clean and is merged now. */
export type AutoMergeOutcome = "enabled" | "merged";

export interface RevertRequest {
  /** The merged PR to undo. */
  pr_id: number;
  /** Branch for the revert commit (Azure); GitHub names it itself. */
  branch: string;
  title: string;
  description: string;
}

/**
 * Port: one code host. Every method retries under the policy and throws PrCreatorError with a reason code
 * (and attempts) when it gives up — except createPullRequest's conflict, which is PullRequestExistsError.
 */
/** A comment on an issue or work item, as the tracker adapters look for their own. */
export interface IssueComment {
  id: number | string;
  /** The comment's text as the forge stores it (Markdown on GitHub, HTML on Azure Boards). */
  text: string;
}

/**
 * The forge's own issue tracker — GitHub issues, Azure Boards work items — for the tracker adapters
 * (src/trackers/). Unlike the rest of the forge, calls are not retried here: the tracker's caller retries them
 * under the retry policy (with the tracker's `classify`) and keeps what still fails in the tracker outbox.
 */
export interface ForgeIssues {
  /** Every comment of an issue (GitHub) or work item (Azure Boards), oldest first. */
  listComments(repo: string, issue: number): Promise<IssueComment[]>;
  addComment(repo: string, issue: number, text: string): Promise<void>;
  /** GitHub: adds labels (existing ones stay). Azure Boards: adds tags. */
  addLabels(repo: string, issue: number, labels: readonly string[]): Promise<void>;
  /** Azure Boards: the work item's state (System.State); GitHub issues: "open" or "closed". */
  getState(repo: string, issue: number): Promise<string>;
  /** Azure Boards only: moves the work item to a state of its process (JSON-patch on System.State). */
  setState?(repo: string, issue: number, state: string): Promise<void>;
}

export interface Forge {
  readonly kind: "azure-devops" | "github";
  /** The forge's issue tracker, for `tracker: github` and `tracker: azure-boards`. */
  readonly issues?: ForgeIssues;
  findOpenPullRequest(repo: string, source: string, target: string): Promise<RemotePullRequest | null>;
  createPullRequest(repo: string, pr: NewPullRequest): Promise<RemotePullRequest>;
  updatePullRequest(repo: string, id: number, patch: PullRequestPatch): Promise<void>;
  /**
   * Names to identities. A name that does not resolve is `unresolved`; a lookup that could not be made (a
   * refused scope, an unavailable API) is a `warnings` entry, not a failure: the PR is created without them.
   */
  resolveReviewers(
    repo: string,
    reviewers: readonly ReviewerAssignment[],
  ): Promise<{
    resolved: ResolvedReviewer[];
    unresolved: string[];
    /** Why look-ups failed (refused, unreachable), already phrased for the run's warnings. */
    warnings?: string[];
    /** Unresolved names whose look-up failed, so whether they have an identity is unknown (their warning says why). */
    failed?: string[];
  }>;
  addReviewers(repo: string, pr: RemotePullRequest, reviewers: readonly ResolvedReviewer[]): Promise<void>;
  addLabels(repo: string, id: number, labels: readonly string[]): Promise<void>;
  /** Every PR of the repository, open and closed, with full descriptions (for backfilling memory). */
  listPullRequests(repo: string, onPage?: (seen: number) => void): Promise<RemotePullRequest[]>;
  /** A file's text on a branch, or null when the branch has no such file. */
  readFile(repo: string, branch: string, path: string): Promise<string | null>;
  /** Commits the files on `branch` (creating it from `base_branch` when missing) — idempotent: same files, no new commit. */
  commitFiles(repo: string, commit: BranchCommit): Promise<PushedCommit>;
  getPullRequest(repo: string, id: number): Promise<PullRequestStatus>;
  getChecks(repo: string, id: number): Promise<ChecksReport>;
  /** Azure: auto-complete set by the authenticated identity; GitHub: GraphQL auto-merge, or a direct merge when already clean. */
  enableAutoMerge(repo: string, id: number, options: AutoMergeOptions): Promise<AutoMergeOutcome>;
  /** Opens a PR that reverts a merged PR into the same target (Azure reverts API, GitHub GraphQL revertPullRequest). */
  revertPullRequest(repo: string, request: RevertRequest): Promise<RemotePullRequest>;
  /** Reads commits through the forge's API, for runs without a local clone. */
  readonly commits: CommitSource;
}

/** The pull-request part of a forge: what each forge's pull-requests.ts provides. */
export type ForgePullRequests = Pick<
  Forge,
  | "findOpenPullRequest"
  | "createPullRequest"
  | "updatePullRequest"
  | "resolveReviewers"
  | "addReviewers"
  | "listPullRequests"
  | "addLabels"
>;
