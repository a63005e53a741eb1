import { networkCode, parseRetryAfter, type CallFailure } from "../../net/retry.js";

/** The parts of @octokit/request's RequestError (and of plugin-throttling's GraphQL rate-limit error) we read. */
export interface OctokitError {
  status?: number;
  message?: string;
  name?: string;
  response?: {
    headers?: Record<string, string | undefined>;
    data?: { message?: string; errors?: { message?: string; field?: string; code?: string; type?: string }[] };
  };
}

/** One entry of a GraphQL answer's `errors`. */
export interface GraphQLErrorEntry {
  type?: string;
  message: string;
  path?: (string | number)[];
}

/**
 * Rate limits arrive as 403 or 429: both become "429" for the retry policy, waiting for Retry-After or
 * the x-ratelimit-reset time. A request without a response is a network failure when a network error (reset,
 * refused, timeout) caused it, else a client-side failure (neither status nor network).
 */
export function classifyGitHubError(error: unknown): CallFailure {
  const e = (error ?? {}) as OctokitError;
  if (typeof e.status !== "number" || !e.response) {
    // @octokit/request reports a failed fetch as a 500 without a response; the network error is in its cause.
    // A thrown TypeError or any other error without a response is the client's own failure, not the network's.
    const code = networkCode(error);
    return code ? { network: code } : {};
  }
  const headers = e.response.headers ?? {};
  const after = parseRetryAfter(headers["retry-after"]);
  const exhausted =
    headers["x-ratelimit-remaining"] === "0" && headers["x-ratelimit-reset"]
      ? Math.max(0, Number(headers["x-ratelimit-reset"]) * 1000 - Date.now())
      : undefined;
  const secondary = /secondary rate limit/i.test(e.response.data?.message ?? e.message ?? "");
  const limited = e.status === 429 || (e.status === 403 && (secondary || exhausted !== undefined));
  return { status: limited ? 429 : e.status, retryAfterMs: after ?? exhausted ?? (secondary ? 60_000 : undefined) };
}

/** The server's own words for a failed call: its message and every `errors[]` detail. */
export function serverMessage(error: unknown): string {
  const data = (error as OctokitError).response?.data;
  const details = (data?.errors ?? [])
    .map((x) => x.message ?? [x.field, x.code].filter(Boolean).join(" "))
    .filter(Boolean);
  return [data?.message ?? (error as Error).message, ...details].filter(Boolean).join(": ");
}

/**
 * The `errors` of a GraphQL answer that came back with HTTP 200: @octokit/graphql throws them as a
 * GraphqlResponseError, plugin-throttling as an error carrying the response. Undefined for any other failure.
 */
export function graphQLErrors(error: unknown): GraphQLErrorEntry[] | undefined {
  const e = error as {
    name?: string;
    errors?: GraphQLErrorEntry[];
    response?: { status?: number; data?: { errors?: GraphQLErrorEntry[] } };
  };
  if (e?.name === "GraphqlResponseError" && Array.isArray(e.errors)) return e.errors;
  if (e?.response?.status === 200 && Array.isArray(e.response.data?.errors)) return e.response.data.errors;
  return undefined;
}

/** GraphQL's primary rate limit (type RATE_LIMITED, HTTP 200) in the shape classifyGitHubError reads as a 429. */
export function graphQLRateLimit(error: unknown, errors: readonly GraphQLErrorEntry[]): Error & OctokitError {
  const e = error as {
    headers?: Record<string, string | undefined>;
    response?: { headers?: Record<string, string | undefined> };
  };
  const message = errors.find((x) => x.type === "RATE_LIMITED")?.message ?? "API rate limit exceeded";
  return Object.assign(new Error(message), {
    name: "GraphQLRateLimit",
    status: 429,
    response: { headers: e.headers ?? e.response?.headers ?? {}, data: { message } },
  });
}

/**
 * What each operation needs, by the operation's words (the `operation` every call names), as GitHub's
 * fine-grained tokens and GitHub Apps call the repository permissions; a classic token needs `repo` for all
 * of them (and `read:org` for team reviewers). First match wins; docs/forges.md has the same table.
 */
export const GITHUB_PERMISSIONS: readonly (readonly [RegExp, string])[] = [
  [/^(request reviewers)/, "Pull requests: write (and organisation Members: read for team reviewers)"],
  [/^(create the pull request|update pull request)/, "Pull requests: write"],
  [/^add labels/, "Pull requests: write or Issues: write"],
  [
    /^(list open pull requests|list pull requests|read pull request|look for an existing revert)/,
    "Pull requests: read",
  ],
  [/^look up user/, "Metadata: read (a 403 here is usually organisation SSO or an IP allow list)"],
  [/^(merge pull request|enable auto-merge|revert)/, "Contents: write and Pull requests: write"],
  [/^(create a tree|create a commit|create branch|delete branch|update branch|push )/, "Contents: write"],
  [/check runs/, "Checks: read"],
  [/commit statuses/, "Commit statuses: read"],
  [/^(read|compare)/, "Contents: read"],
];

/** The permission an operation needs, for a 401 or 403 message; the general list when no row matches. */
export function gitHubPermission(operation: string): string {
  const row = GITHUB_PERMISSIONS.find(([pattern]) => pattern.test(operation));
  return row ? `${row[1]} (classic tokens: repo)` : "the permissions docs/forges.md lists (classic tokens: repo)";
}
