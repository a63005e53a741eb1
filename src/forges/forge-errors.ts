import { PrCreatorError } from "../domain/errors.js";
import type { FailureReason } from "../domain/reasons.js";
import type { RetriesExhausted } from "../net/retry.js";

export type Platform = "azure_devops" | "github";

const NAMES: Record<Platform, string> = { azure_devops: "Azure DevOps", github: "GitHub" };

/** Removes every secret from text that may reach people (error messages, events, logs). */
export function redact(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const s of secrets) if (s.length >= 4) out = out.split(s).join("[REDACTED]");
  return out;
}

/**
 * The credential a forge was built with, for messages: which environment variable(s) it came from and what it
 * is ("a PAT", "a GitHub App installation token"); never its value.
 */
export interface CredentialInfo {
  /** e.g. "GITHUB_TOKEN", "GITHUB_APP_ID, GITHUB_APP_PRIVATE_KEY, GITHUB_APP_INSTALLATION_ID". */
  variable: string;
  /** e.g. "personal access token", "GitHub App installation token", "bearer token". */
  kind: string;
}

const HINTS: Partial<Record<FailureReason, string>> = {
  unauthorized: "Check the token in the environment: it is missing, expired or revoked.",
  forbidden:
    "The token is valid but lacks a permission this call needs (docs/forges.md lists the permissions of each operation).",
  repo_not_found: "Check the repository name in the event (and the project or owner), and that the token can see it.",
  branch_not_found: "Push the branch first, or check the branch names.",
  forge_unreachable: "Check the forge URL and the network; the call was retried under retry_policy.",
  invalid_request: "The forge rejected the request as invalid; the message above says why.",
};

/** What a client-side failure usually means, for the hint. */
function clientHint(platform: Platform, detail: string): string {
  if (platform === "azure_devops" && /api location|resource area/i.test(detail))
    return "The server does not offer this API at AZURE_DEVOPS_ORG_URL, or answered with a sign-in page instead of the API (check the URL and that the token is valid).";
  return "This is not a network error: the client library failed before any HTTP answer. Run again with --debug and report the output.";
}

/**
 * Maps a call that failed for good to a reason code: 401 unauthorized, 403 forbidden, 404 the caller's
 * not-found reason, 400/422 invalid_request, a network error (no response) forge_unreachable, a client-side
 * failure (no response and no network error) internal_error, and any other status — after retries —
 * `<platform>_<status>` as in the seed's `azure_devops_500`.
 */
export function forgeFailure(
  platform: Platform,
  operation: string,
  error: RetriesExhausted,
  opts: {
    secrets: readonly string[];
    notFound?: FailureReason;
    notFoundStatuses?: readonly number[];
    serverMessage?: string;
    /** Where the credential came from: a 401 or 403 names it. */
    credential?: CredentialInfo;
    /** What the operation needs (from the forge's permission table): a 401 or 403 names it. */
    permission?: string;
  },
): PrCreatorError {
  const { status, network } = error.failure;
  const detail = (opts.serverMessage ?? error.message).replace(/\s+/g, " ").trim().slice(0, 300);
  if (status === undefined && network === undefined) {
    // No HTTP answer and no network error: the client library itself failed (a TypeError, "Failed to find
    // api location", an unreadable answer). Calling that a network error would send people to the wrong place.
    return new PrCreatorError(
      "internal_error",
      redact(
        `The ${NAMES[platform]} client failed to ${operation} without an HTTP error${detail ? `: ${detail}` : ""}.`,
        opts.secrets,
      ),
      { hint: clientHint(platform, detail), attempts: error.attempts },
    );
  }
  let reason: FailureReason;
  if (status === undefined) reason = "forge_unreachable";
  else if (status === 401) reason = "unauthorized";
  else if (status === 403) reason = "forbidden";
  else if ((opts.notFoundStatuses ?? [404]).includes(status)) reason = opts.notFound ?? "repo_not_found";
  else if (status === 400 || status === 422) reason = "invalid_request";
  else reason = `${platform}_${status}`;
  const what = status === undefined ? `could not be reached (${network})` : `answered ${status}`;
  const message = redact(
    `${NAMES[platform]} ${what} to ${operation} after ${error.attempts} attempt${error.attempts > 1 ? "s" : ""}${detail ? `: ${detail}` : ""}.${authSentence(reason, opts.credential, opts.permission)}`,
    opts.secrets,
  );
  return new PrCreatorError(reason, message, {
    hint: authHint(reason, opts.credential, opts.permission) ?? HINTS[reason],
    attempts: error.attempts,
  });
}

/** For a 401 or 403: which credential was refused and what the operation needs. Empty for anything else. */
function authSentence(reason: FailureReason, credential?: CredentialInfo, permission?: string): string {
  if (reason !== "unauthorized" && reason !== "forbidden") return "";
  const from = credential ? ` The ${credential.kind} from ${credential.variable}` : " The token";
  const needs = permission ? ` This operation needs ${permission}.` : "";
  return reason === "unauthorized"
    ? `${from} was not accepted (missing, expired, revoked, or for another organisation or server).${needs}`
    : `${from} was accepted but is not allowed to do this.${needs}`;
}

function authHint(reason: FailureReason, credential?: CredentialInfo, permission?: string): string | undefined {
  if (!credential) return undefined;
  if (reason === "unauthorized")
    return `Set a valid ${credential.kind} in ${credential.variable} (docs/forges.md, "Credentials").`;
  if (reason === "forbidden")
    return `Give the ${credential.kind} in ${credential.variable} ${permission ?? "the permissions docs/forges.md lists for this operation"}, or use one that has it.`;
  return undefined;
}
