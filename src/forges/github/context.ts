import type { Octokit, RestEndpointMethodTypes } from "@octokit/rest";
import type { PrCreatorError } from "../../domain/errors.js";
import type { FailureReason } from "../../domain/reasons.js";
import type { RetriesExhausted } from "../../net/retry.js";
import type { CommitRepos } from "../commit-repos.js";
import type { CredentialInfo } from "../forge-errors.js";
import type { RemotePullRequest } from "../forge.js";

export type Pull = RestEndpointMethodTypes["pulls"]["get"]["response"]["data"];
export type Where = { owner: string; repo: string };

/**
 * What the GitHub forge's modules share, built once in index.ts: the client, the retry policy and the error
 * mapping.
 */
export interface GitHubContext {
  octokit: Octokit;
  /** owner/name, or a bare name with the configured owner. */
  split(repo: string): Where;
  /**
   * Spread into every call's parameters; empty since the per-request timeout moved into the client's fetch
   * (src/net/limited-fetch.ts), where it starts when the request is sent rather than when it is queued.
   */
  timeout(): { request?: { signal?: AbortSignal } };
  /** One call under the retry policy; a failure that survives it becomes a PrCreatorError. */
  call<T>(operation: string, fn: () => Promise<T>, notFound?: FailureReason, notFoundStatuses?: number[]): Promise<T>;
  /** Under the retry policy only, leaving the final failure as RetriesExhausted, for callers that tell some apart. */
  retry<T>(fn: () => Promise<T>): Promise<T>;
  /** The PrCreatorError for a call given up on (token redacted): what `call` would have thrown. */
  failure(
    operation: string,
    error: RetriesExhausted,
    notFound?: FailureReason,
    notFoundStatuses?: number[],
  ): PrCreatorError;
  /** Where the credential came from, for refusals built here (a GraphQL FORBIDDEN arrives with HTTP 200). */
  credential: CredentialInfo;
  /** Whether GitHub's pacing is on: it spaces every GraphQL request like a write, a second apart. */
  throttled: boolean;
  /** Server text with the token taken out, for messages built here. */
  redact(text: string): string;
  remote(pr: Pull): RemotePullRequest;
  /** The repository of each commit loaded or pushed here, for readTexts (which is given no repository). */
  commitRepos: CommitRepos;
}
