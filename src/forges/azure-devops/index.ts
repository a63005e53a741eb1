import * as azdev from "azure-devops-node-api";
import type { ICoreApi } from "azure-devops-node-api/CoreApi.js";
import type { IGitApi } from "azure-devops-node-api/GitApi.js";
import type { GitPullRequest } from "azure-devops-node-api/interfaces/GitInterfaces.js";
import type { IPolicyApi } from "azure-devops-node-api/PolicyApi.js";
import type { IWorkItemTrackingApi } from "azure-devops-node-api/WorkItemTrackingApi.js";
import { PrCreatorError } from "../../domain/errors.js";
import type { FailureReason } from "../../domain/reasons.js";
import { hostAgent } from "../../net/limited-agent.js";
import { RetriesExhausted, withRetry, type RetryOptions, type RetryPolicy } from "../../net/retry.js";
import { CommitRepos } from "../commit-repos.js";
import { forgeFailure, redact, type CredentialInfo } from "../forge-errors.js";
import type { Forge, RemotePullRequest } from "../forge.js";
import { automation } from "./automation.js";
import { commits } from "./commits.js";
import { forget, fromRef, type AzureDevOpsContext } from "./context.js";
import { azureScope, classifyAzureError, serverMessage } from "./errors.js";
import { files } from "./files.js";
import { workItemIssues } from "./issues.js";
import { AzureLocations } from "./locations.js";
import { identityBaseUrl, pullRequests } from "./pull-requests.js";

export interface AzureDevOpsConfig {
  orgUrl: string;
  project: string;
  token: string;
  /**
   * `pat` (default): Basic auth with a personal access token. `bearer`: `Authorization: Bearer`, for a
   * pipeline's System.AccessToken or a Microsoft Entra ID access token.
   */
  scheme?: "pat" | "bearer";
  /** Where the token came from, named by 401 and 403 messages. */
  credential?: CredentialInfo;
  timeoutMs: number;
  retry: RetryPolicy;
  retryOptions?: RetryOptions;
  /** Requests in flight per host in this process (the first forge for a host sets it); default 8. */
  maxInFlightPerHost?: number;
  /** Where location data is kept between processes (next to the state file); none: this process only. */
  locationCacheFile?: string;
}

/**
 * The request handler that authenticates every call: a PAT as Basic, a bearer token (Entra ID, System.AccessToken)
 * as Bearer, sent to the organisation's host and to its identity host (`vssps.dev.azure.com`, where reviewer names
 * resolve) and to no other. The library's own handlers send the token to the first host they see only, which
 * left the identity search on Azure DevOps Services without credentials.
 */
export function tokenHandler(orgUrl: string, token: string, scheme: "pat" | "bearer" = "pat") {
  const inner =
    scheme === "bearer" ? azdev.getBearerHandler(token, true) : azdev.getPersonalAccessTokenHandler(token, true);
  const trusted = new Set(
    [new URL(orgUrl).hostname, new URL(identityBaseUrl(orgUrl)).hostname].map((h) => h.toLowerCase()),
  );
  const handler: typeof inner = {
    prepareRequest: (options) => {
      if (trusted.has(String(options.host ?? "").toLowerCase())) inner.prepareRequest(options);
    },
    canHandleAuthentication: (response) => inner.canHandleAuthentication(response),
    handleAuthentication: (client, info, objs) => inner.handleAuthentication(client, info, objs),
  };
  return handler;
}

/**
 * Azure DevOps through azure-devops-node-api with a PAT. One connection per forge, so location discovery
 * happens once. The context built here (clients, retry, error mapping) is shared by the folder's modules:
 * commits.ts (the commit source), pull-requests.ts, files.ts (reading and committing files) and
 * automation.ts (a PR's life after opening: checks, auto-complete, reverts).
 */
export function createAzureDevOpsForge(cfg: AzureDevOpsConfig): Forge {
  const orgUrl = cfg.orgUrl.replace(/\/+$/, "");
  // Every request of every client goes through the host's process-wide agent: its maxSockets bounds the requests
  // in flight to the host, and a request waiting for a socket has not started its socket timeout.
  const agent = hostAgent(orgUrl, cfg.maxInFlightPerHost);
  const pat = tokenHandler(orgUrl, cfg.token, cfg.scheme);
  const credential: CredentialInfo = cfg.credential ?? {
    variable: "the configured token",
    kind: cfg.scheme === "bearer" ? "bearer token" : "personal access token",
  };
  const handler: typeof pat = {
    prepareRequest: (options) => {
      pat.prepareRequest(options);
      options.agent = agent;
    },
    canHandleAuthentication: (response) => pat.canHandleAuthentication(response),
    handleAuthentication: (client, info, objs) => pat.handleAuthentication(client, info, objs),
  };
  const conn = new azdev.WebApi(orgUrl, handler, {
    socketTimeout: cfg.timeoutMs,
    // One TLS handshake per connection, not per call: every run makes several calls to the same host.
    keepAlive: true,
  });
  const locations = new AzureLocations(orgUrl, cfg.locationCacheFile);
  /** A client whose area locations are known before its first call (cached, or discovered once). */
  const client = async <T extends object>(area: string, make: () => Promise<T>): Promise<T> => {
    locations.primeConnection(conn);
    const api = await make();
    await locations.prepare(conn, api as T & { vsoClient: unknown }, area);
    return api;
  };
  let gitApi: Promise<IGitApi> | undefined;
  let coreApi: Promise<ICoreApi> | undefined;
  let policyApi: Promise<IPolicyApi> | undefined;
  let witApi: Promise<IWorkItemTrackingApi> | undefined;
  let userId: Promise<string> | undefined;
  const project = cfg.project;

  const retry = <T>(fn: () => Promise<T>) => withRetry(fn, cfg.retry, classifyAzureError, cfg.retryOptions);
  const failure = (operation: string, error: RetriesExhausted, notFound?: FailureReason) =>
    forgeFailure("azure_devops", operation, error, {
      secrets: [cfg.token],
      notFound,
      serverMessage: serverMessage(error.cause),
      credential,
      permission: azureScope(operation),
    });

  /** One API call under the retry policy, with failures mapped to reason codes. */
  async function call<T>(operation: string, fn: () => Promise<T>, notFound?: FailureReason): Promise<T> {
    try {
      return await retry(fn);
    } catch (error) {
      if (!(error instanceof RetriesExhausted)) throw error;
      throw failure(operation, error, notFound);
    }
  }

  /** typed-rest-client resolves a 404 as null; one that throws (a non-JSON answer) is null too. */
  async function find<T>(operation: string, fn: () => Promise<T | null>): Promise<T | null> {
    try {
      return await retry(fn);
    } catch (error) {
      if (!(error instanceof RetriesExhausted)) throw error;
      if (error.failure.status === 404) return null;
      throw failure(operation, error);
    }
  }

  // Connections are made once; a failed attempt is forgotten so the next run tries again.
  const git = () =>
    (gitApi ??= call("connect to the Git API", () => client("git", () => conn.getGitApi())).catch(
      forget(() => (gitApi = undefined)),
    ));
  const core = () =>
    (coreApi ??= call("connect to the Core API", () => client("core", () => conn.getCoreApi())).catch(
      forget(() => (coreApi = undefined)),
    ));
  const policy = () =>
    (policyApi ??= call("connect to the Policy API", () => client("policy", () => conn.getPolicyApi())).catch(
      forget(() => (policyApi = undefined)),
    ));
  const workItems = () =>
    (witApi ??= call("connect to the Work Item Tracking API", () =>
      client("wit", () => conn.getWorkItemTrackingApi()),
    ).catch(forget(() => (witApi = undefined))));
  /** The token's identity, for autoCompleteSetBy (the service accepts no other). */
  const me = () =>
    (userId ??= call("read the token's identity", () => conn.connect())
      .then((data) => {
        const id = data?.authenticatedUser?.id;
        if (!id)
          throw new PrCreatorError(
            "unauthorized",
            "Azure DevOps did not say which identity the token belongs to (connectionData has no authenticatedUser).",
            { hint: `Check the ${credential.kind} in ${credential.variable}.` },
          );
        return id;
      })
      .catch(forget(() => (userId = undefined))));

  const missing = (what: string, name: string, reason: FailureReason, hint: string) =>
    // typed-rest-client answers a 404 with null: the call that said so was made at least once.
    new PrCreatorError(reason, `Azure DevOps has no ${what} "${name}" in project ${project}.`, { hint, attempts: 1 });

  function remote(repo: string, pr: GitPullRequest): RemotePullRequest {
    return {
      id: pr.pullRequestId!,
      url: `${orgUrl}/${encodeURIComponent(project)}/_git/${encodeURIComponent(repo)}/pullrequest/${pr.pullRequestId}`,
      title: pr.title ?? "",
      description: pr.description ?? "",
      source_branch: fromRef(pr.sourceRefName),
      target_branch: fromRef(pr.targetRefName),
      is_draft: Boolean(pr.isDraft),
      labels: (pr.labels ?? []).map((l) => l.name ?? "").filter(Boolean),
      reviewer_ids: (pr.reviewers ?? []).map((r) => r.id ?? "").filter(Boolean),
    };
  }

  const ctx: AzureDevOpsContext = {
    orgUrl,
    project,
    timeoutMs: cfg.timeoutMs,
    git,
    core,
    policy,
    workItems,
    userId: me,
    call,
    find,
    retry,
    failure,
    missing,
    remote,
    redact: (text) => redact(text, [cfg.token]),
    commitRepos: new CommitRepos(),
  };
  const prs = pullRequests(ctx);
  return {
    kind: "azure-devops",
    commits: commits(ctx),
    ...prs,
    ...files(ctx),
    ...automation(ctx, prs),
    issues: workItemIssues(ctx),
  };
}
