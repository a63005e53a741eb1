import { createAppAuth } from "@octokit/auth-app";
import { throttling } from "@octokit/plugin-throttling";
import { Octokit } from "@octokit/rest";
import { createHash } from "node:crypto";
import { PrCreatorError } from "../../domain/errors.js";
import type { FailureReason } from "../../domain/reasons.js";
import { limitedFetch } from "../../net/limited-fetch.js";
import { RetriesExhausted, withRetry, type RetryOptions, type RetryPolicy } from "../../net/retry.js";
import { CommitRepos } from "../commit-repos.js";
import { forgeFailure, redact, type CredentialInfo } from "../forge-errors.js";
import type { Forge, RemotePullRequest } from "../forge.js";
import { automation } from "./automation.js";
import { commits } from "./commits.js";
import type { GitHubContext, Pull, Where } from "./context.js";
import { classifyGitHubError, gitHubPermission, serverMessage } from "./errors.js";
import { files } from "./files.js";
import { issues } from "./issues.js";
import { nativeJsonBodies } from "./native-json.js";
import { pullRequests } from "./pull-requests.js";

/** A GitHub App installation: the app's JWT (signed with the key) buys installation tokens, renewed as they expire. */
export interface GitHubAppAuth {
  appId: string;
  /** The app's private key, PEM. */
  privateKey: string;
  installationId: number;
}

export interface GitHubConfig {
  /** A personal access token (or an Actions GITHUB_TOKEN); exactly one of `token` and `app`. */
  token?: string;
  app?: GitHubAppAuth;
  /** Where the credential came from, named by 401 and 403 messages. */
  credential?: CredentialInfo;
  /** API root; https://api.github.com, or https://HOST/api/v3 for GitHub Enterprise Server. */
  apiUrl: string;
  /** Owner for bare repository names. */
  owner?: string;
  timeoutMs: number;
  /**
   * GitHub's recommended pacing (@octokit/plugin-throttling: one write a second, 3 s between requests that
   * notify people, ten requests at a time), per API host and token, shared by every forge in the process.
   */
  throttle: boolean;
  /** Requests in flight per API host in this process (the first forge for a host sets it); default 8. */
  maxInFlightPerHost?: number;
  retry: RetryPolicy;
  retryOptions?: RetryOptions;
}

const ThrottledOctokit = Octokit.plugin(throttling);

/** The throttle's key: API host and a digest of the token (never the token itself). */
export function throttleId(baseUrl: string, token: string): string {
  return `${baseUrl}#${createHash("sha256").update(token).digest("hex").slice(0, 16)}`;
}

/**
 * GitHub through @octokit/rest. Our retry policy is the only retry layer (the retry plugin is not loaded);
 * the throttling plugin paces requests and recognises rate limits but never retries itself. The context built
 * here is shared by the folder's modules: commits.ts (the commit source), pull-requests.ts, files.ts (reading
 * and committing files through the git data API) and automation.ts (status, checks, auto-merge, reverts).
 */
export function createGitHubForge(cfg: GitHubConfig): Forge {
  const baseUrl = cfg.apiUrl.replace(/\/+$/, "");
  if (Boolean(cfg.token) === Boolean(cfg.app)) throw new Error("createGitHubForge needs exactly one of token and app");
  const secrets = cfg.app ? [cfg.app.privateKey] : [cfg.token!];
  const credential: CredentialInfo =
    cfg.credential ??
    (cfg.app
      ? { variable: "the GitHub App settings", kind: "GitHub App installation token" }
      : { variable: "the configured token", kind: "token" });
  const octokit = new ThrottledOctokit({
    ...(cfg.app
      ? {
          authStrategy: createAppAuth,
          auth: { appId: cfg.app.appId, privateKey: cfg.app.privateKey, installationId: cfg.app.installationId },
        }
      : { auth: cfg.token }),
    baseUrl,
    // Every request waits for a slot of the host's process-wide limiter, then its timeout starts (net/limited-fetch).
    request: {
      fetch: limitedFetch({
        timeoutMs: cfg.timeoutMs,
        ...(cfg.maxInFlightPerHost ? { maxInFlightPerHost: cfg.maxInFlightPerHost } : {}),
      }),
    },
    userAgent: "pr-creator",
    // Octokit logs failed requests to the console by itself; failures reach people through our errors only.
    log: { debug: () => {}, info: () => {}, warn: () => {}, error: () => {} },
    throttle: {
      enabled: cfg.throttle,
      // The plugin's Bottleneck groups are module-wide, keyed by this id: every forge (every agent, every run of
      // serve or a worker) with the same host and token shares one pacing, as GitHub's guidance is per account.
      id: throttleId(baseUrl, cfg.app ? `app:${cfg.app.appId}:${cfg.app.installationId}` : cfg.token!),
      onRateLimit: () => false,
      onSecondaryRateLimit: () => false,
    },
  });
  octokit.hook.wrap("request", nativeJsonBodies);

  function split(repo: string): Where {
    const [a, b] = repo.split("/");
    if (b) return { owner: a!, repo: b };
    if (!cfg.owner) {
      throw new PrCreatorError("invalid_event", `The repository "${repo}" has no owner.`, {
        hint: "Send owner/name in the event's repo, or set github.owner in the config (or GITHUB_OWNER).",
      });
    }
    return { owner: cfg.owner, repo };
  }

  // The per-request timeout starts when the request is sent (limitedFetch), not when it is queued by the throttle.
  const timeout = () => ({});

  const retry = <T>(fn: () => Promise<T>): Promise<T> =>
    withRetry(fn, cfg.retry, classifyGitHubError, cfg.retryOptions);
  const failure = (operation: string, error: RetriesExhausted, notFound?: FailureReason, notFoundStatuses?: number[]) =>
    forgeFailure("github", operation, error, {
      secrets,
      notFound,
      notFoundStatuses,
      serverMessage: serverMessage(error.cause),
      credential,
      permission: gitHubPermission(operation),
    });

  async function call<T>(
    operation: string,
    fn: () => Promise<T>,
    notFound?: FailureReason,
    notFoundStatuses?: number[],
  ): Promise<T> {
    try {
      return await retry(fn);
    } catch (error) {
      if (!(error instanceof RetriesExhausted)) throw error;
      throw failure(operation, error, notFound, notFoundStatuses);
    }
  }

  function remote(pr: Pull): RemotePullRequest {
    return {
      id: pr.number,
      url: pr.html_url,
      title: pr.title,
      description: pr.body ?? "",
      source_branch: pr.head.ref,
      target_branch: pr.base.ref,
      is_draft: Boolean(pr.draft),
      labels: pr.labels.map((l) => l.name ?? "").filter(Boolean),
      reviewer_ids: [
        ...(pr.requested_reviewers ?? []).map((u) => u.login.toLowerCase()),
        ...(pr.requested_teams ?? []).map((t) => `team:${t.slug.toLowerCase()}`),
      ],
    };
  }

  const ctx: GitHubContext = {
    octokit,
    split,
    timeout,
    call,
    retry,
    failure,
    remote,
    credential,
    throttled: cfg.throttle,
    redact: (text) => redact(text, secrets),
    commitRepos: new CommitRepos(),
  };
  const prs = pullRequests(ctx);
  return { kind: "github", commits: commits(ctx), ...prs, ...files(ctx), ...automation(ctx), issues: issues(ctx) };
}
