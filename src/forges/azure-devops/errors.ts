import { networkCode, parseRetryAfter, type CallFailure } from "../../net/retry.js";

/** typed-rest-client errors carry the status, the parsed body and the response headers. */
export interface RestError {
  statusCode?: number;
  code?: string;
  result?: { message?: string; typeKey?: string } | null;
  responseHeaders?: Record<string, string | string[] | undefined>;
  message?: string;
}

/** The server's own words for a failed call. */
export const serverMessage = (error: unknown): string | undefined => {
  const e = error as RestError;
  return e.result?.message ?? e.message;
};

function header(error: RestError, name: string): string | undefined {
  const headers = error.responseHeaders ?? {};
  const key = Object.keys(headers).find((k) => k.toLowerCase() === name);
  const value = key === undefined ? undefined : headers[key];
  return Array.isArray(value) ? value[0] : value;
}

/**
 * An HTTP failure with Retry-After first, else (when the rate limit is used up) the wait until X-RateLimit-Reset;
 * a network failure with its code; anything else (a client-side error) with neither.
 */
export function classifyAzureError(error: unknown): CallFailure {
  const e = (error ?? {}) as RestError;
  if (typeof e.statusCode !== "number") {
    // No HTTP answer: a network error, or the library failing on its own ("Failed to find api location").
    const code = networkCode(error);
    return code ? { network: code } : {};
  }
  const after = parseRetryAfter(header(e, "retry-after"));
  const reset = header(e, "x-ratelimit-reset");
  const exhausted =
    header(e, "x-ratelimit-remaining") === "0" && reset ? Math.max(0, Number(reset) * 1000 - Date.now()) : undefined;
  return { status: e.statusCode, retryAfterMs: after ?? exhausted };
}

/**
 * What each operation needs, by the operation's words, as PAT scopes (the token page's name and the OAuth
 * scope). A pipeline's System.AccessToken has no scopes: its build service identity needs the matching
 * repository permissions (Contribute to pull requests, Contribute, Create branch). First match wins;
 * docs/forges.md has the same table.
 */
export const AZURE_SCOPES: readonly (readonly [RegExp, string])[] = [
  [/work item/, "Work Items (Read & write) (vso.work_write)"],
  [/^search the identity/, "Identity (Read) (vso.identity)"],
  [/^(list the project's teams|list the members of team)/, "Project and Team (Read) (vso.project)"],
  [
    /^(create the pull request|update pull request|add reviewer|add label|set auto-complete|start reverting|create branch|push )/,
    "Code (Read & write) (vso.code_write)",
  ],
  [/statuses|policy evaluations/, "Code (Read) (vso.code) and Code (Status) (vso.code_status)"],
  [/^(connect to the Policy API)/, "Code (Read) (vso.code)"],
  [/^(connect to|read the token's identity)/, "a valid token for this organisation (any scope)"],
  [/^(read|list|look for)/, "Code (Read) (vso.code)"],
];

/** The scope an operation needs, for a 401 or 403 message; the general list when no row matches. */
export function azureScope(operation: string): string {
  return (
    AZURE_SCOPES.find(([pattern]) => pattern.test(operation))?.[1] ?? "the scopes docs/forges.md lists for Azure DevOps"
  );
}
