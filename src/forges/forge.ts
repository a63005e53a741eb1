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
  constructor(message: string) {
    super(message);
    this.name = "PullRequestExistsError";
  }
}

/**
 * Port: one code host. Every method retries under the policy and throws PrCreatorError with a reason code
 * (and attempts) when it gives up — except createPullRequest's conflict, which is PullRequestExistsError.
 */
export interface Forge {
  readonly kind: "azure-devops" | "github";
  findOpenPullRequest(repo: string, source: string, target: string): Promise<RemotePullRequest | null>;
  createPullRequest(repo: string, pr: NewPullRequest): Promise<RemotePullRequest>;
  updatePullRequest(repo: string, id: number, patch: PullRequestPatch): Promise<void>;
  resolveReviewers(repo: string, reviewers: readonly ReviewerAssignment[]): Promise<{ resolved: ResolvedReviewer[]; unresolved: string[] }>;
  addReviewers(repo: string, pr: RemotePullRequest, reviewers: readonly ResolvedReviewer[]): Promise<void>;
  addLabels(repo: string, id: number, labels: readonly string[]): Promise<void>;
  /** Every PR of the repository, open and closed, with full descriptions (for backfilling memory). */
  listPullRequests(repo: string, onPage?: (seen: number) => void): Promise<RemotePullRequest[]>;
  /** Reads commits through the forge's API, for runs without a local clone. */
  readonly commits: CommitSource;
}
