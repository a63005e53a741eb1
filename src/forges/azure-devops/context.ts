import type { ICoreApi } from "azure-devops-node-api/CoreApi.js";
import type { IGitApi } from "azure-devops-node-api/GitApi.js";
import type { GitPullRequest } from "azure-devops-node-api/interfaces/GitInterfaces.js";
import type { IPolicyApi } from "azure-devops-node-api/PolicyApi.js";
import type { IWorkItemTrackingApi } from "azure-devops-node-api/WorkItemTrackingApi.js";
import type { PrCreatorError } from "../../domain/errors.js";
import type { FailureReason } from "../../domain/reasons.js";
import type { RetriesExhausted } from "../../net/retry.js";
import type { CommitRepos } from "../commit-repos.js";
import type { RemotePullRequest } from "../forge.js";

/**
 * What the Azure DevOps forge's modules share, built once in index.ts: one connection (its API clients),
 * the retry policy and the error mapping.
 */
export interface AzureDevOpsContext {
  readonly orgUrl: string;
  readonly project: string;
  /** forge_timeout_ms: also the bound for waiting on asynchronous operations (reverts). */
  readonly timeoutMs: number;
  git(): Promise<IGitApi>;
  core(): Promise<ICoreApi>;
  policy(): Promise<IPolicyApi>;
  /** Azure Boards (work items), for the tracker. */
  workItems(): Promise<IWorkItemTrackingApi>;
  /** The id of the identity the token belongs to (connectionData), read once. */
  userId(): Promise<string>;
  /** One call under the retry policy; a failure for good becomes a PrCreatorError with a reason code. */
  call<T>(operation: string, fn: () => Promise<T>, notFound?: FailureReason): Promise<T>;
  /** Like call, but "not found" — a 404 thrown, or resolved as null by typed-rest-client — is null. */
  find<T>(operation: string, fn: () => Promise<T | null>): Promise<T | null>;
  /** Under the retry policy only, for callers that inspect the final failure themselves. */
  retry<T>(fn: () => Promise<T>): Promise<T>;
  /** The PrCreatorError for a call given up on (token redacted). */
  failure(operation: string, error: RetriesExhausted, notFound?: FailureReason): PrCreatorError;
  missing(what: string, name: string, reason: FailureReason, hint: string): PrCreatorError;
  /** Server text with the token taken out, for messages built here. */
  redact(text: string): string;
  remote(repo: string, pr: GitPullRequest): RemotePullRequest;
  /** The repository of each commit loaded or pushed here, for readTexts (which is given no repository). */
  readonly commitRepos: CommitRepos;
}

export const toRef = (branch: string) => `refs/heads/${branch}`;
export const fromRef = (ref: string | undefined) => (ref ?? "").replace(/^refs\/heads\//, "");
/** Item paths are absolute in the Git API; the port's paths are relative to the repository root. */
export const itemPath = (path: string) => (path.startsWith("/") ? path : `/${path}`);

/** A rejection handler that clears a cached promise before passing the error on. */
export const forget =
  (clear: () => void) =>
  (error: unknown): never => {
    clear();
    throw error;
  };
