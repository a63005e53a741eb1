import { errorText } from "../domain/errors.js";
import type { Policy } from "../domain/policy.js";

export type RetryPolicy = Policy["retry_policy"];

/** What a failed call tells the retry loop: its HTTP status (or none for network errors) and any server-requested wait. */
export interface CallFailure {
  status?: number;
  /** Network error code (ECONNRESET, ETIMEDOUT, ...), when there was no HTTP response. */
  network?: string;
  /** How long the server asked us to wait (Retry-After, rate-limit reset), in ms. */
  retryAfterMs?: number;
}

/** Thrown when a call is given up on: the last error, how it was classified, and how many attempts were made. */
export class RetriesExhausted extends Error {
  constructor(
    override readonly cause: unknown,
    readonly failure: CallFailure,
    readonly attempts: number,
  ) {
    super(errorText(cause));
    this.name = "RetriesExhausted";
  }
}

export interface RetryOptions {
  /** Longest single wait; a server asking for more is not retried (the run must not hang). */
  maxDelayMs?: number;
  sleep?: (ms: number) => Promise<void>;
  onRetry?: (info: { attempt: number; delayMs: number; failure: CallFailure }) => void;
}

const NETWORK_CODES = new Set([
  "ECONNRESET",
  "ETIMEDOUT",
  "ESOCKETTIMEDOUT",
  "ECONNREFUSED",
  "EPIPE",
  "EAI_AGAIN",
  "UND_ERR_SOCKET",
  "UND_ERR_CONNECT_TIMEOUT",
  "TIMEOUT",
]);

/**
 * The network error behind a failed call, walking `cause` chains (undici's "fetch failed", @octokit/request's
 * wrapper): a system error code (ECONNRESET, ETIMEDOUT, ECONNREFUSED, ENOTFOUND, …, or undici's UND_ERR_*),
 * "socket hang up" (ECONNRESET), a timeout (TIMEOUT), or a bare "fetch failed" (ECONNRESET). Undefined for
 * anything else — a TypeError, a library's own error such as "Failed to find api location" — which is no
 * network error and must not be reported (or retried) as one.
 */
export function networkCode(error: unknown): string | undefined {
  let fetchFailed = false;
  const seen = new Set<unknown>();
  for (let e = error; e !== null && typeof e === "object" && !seen.has(e); e = (e as { cause?: unknown }).cause) {
    seen.add(e);
    const { code, name, message } = e as { code?: unknown; name?: unknown; message?: unknown };
    if (typeof code === "string" && /^(E(?!RR_)[A-Z_]+|UND_ERR_[A-Z_]+)$/.test(code)) return code;
    if (name === "TimeoutError" || name === "AbortError") return "TIMEOUT";
    const text = typeof message === "string" ? message : "";
    if (/socket hang up/i.test(text)) return "ECONNRESET";
    if (/^request timeout\b|\btimed? ?out\b/i.test(text)) return "TIMEOUT";
    if (/^fetch failed$/i.test(text)) fetchFailed = true;
  }
  return fetchFailed ? "ECONNRESET" : undefined;
}

export function isRetryable(failure: CallFailure, policy: RetryPolicy): boolean {
  if (failure.status !== undefined) return policy.retryable_status_codes.includes(failure.status);
  return failure.network !== undefined && NETWORK_CODES.has(failure.network);
}

export function backoffMs(attempt: number, policy: RetryPolicy): number {
  return policy.backoff === "fixed" ? policy.base_delay_ms : policy.base_delay_ms * 2 ** (attempt - 1);
}

/** Retry-After as seconds or an HTTP date, in ms from now. */
export function parseRetryAfter(value: string | undefined | null, now = Date.now()): number | undefined {
  if (!value) return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * The seed's retry policy, the only retry layer for forge calls: at most `max_attempts` attempts, waiting the
 * longer of the backoff and what the server asked for, on retryable statuses and network errors only.
 * Anything else — and the last failure — is rethrown as RetriesExhausted carrying the attempt count.
 */
export async function withRetry<T>(
  call: () => Promise<T>,
  policy: RetryPolicy,
  classify: (error: unknown) => CallFailure,
  options: RetryOptions = {},
): Promise<T> {
  const sleep = options.sleep ?? defaultSleep;
  const maxDelay = options.maxDelayMs ?? 60_000;
  for (let attempt = 1; ; attempt++) {
    try {
      return await call();
    } catch (error) {
      const failure = classify(error);
      const delayMs = Math.max(backoffMs(attempt, policy), failure.retryAfterMs ?? 0);
      if (attempt >= policy.max_attempts || !isRetryable(failure, policy) || delayMs > maxDelay) {
        throw new RetriesExhausted(error, failure, attempt);
      }
      options.onRetry?.({ attempt, delayMs, failure });
      await sleep(delayMs);
    }
  }
}
