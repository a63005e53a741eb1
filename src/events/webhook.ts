/**
 * Lifecycle events over HTTP: one POST per event, its body the event as JSON.
 *
 * Headers:
 * - `content-type: application/json`, `user-agent: pr-creator/<version>`
 * - `x-pr-creator-event`: the event name (`PullRequestCreated`, ...)
 * - `x-pr-creator-delivery`: a UUID for this delivery of this event to this webhook. It stays the same across
 *   retries and across re-sends from the outbox, so a receiver that stores it can drop a copy it already has.
 * - `x-pr-creator-signature-256: sha256=<hex>` when `secret_env` is set: the HMAC-SHA256 of the exact body
 *   bytes under the secret (as GitHub's `X-Hub-Signature-256`).
 *
 * Verifying a delivery on the receiving side: compute the HMAC over the raw body bytes as received (before any
 * JSON parsing, which would change them), prefix `sha256=`, and compare with the header in constant time, so
 * the comparison does not leak how many leading characters matched:
 *
 * ```ts
 * const expected = Buffer.from(`sha256=${createHmac("sha256", secret).update(rawBody).digest("hex")}`);
 * const given = Buffer.from(req.headers["x-pr-creator-signature-256"] ?? "");
 * const valid = given.length === expected.length && timingSafeEqual(given, expected);
 * ```
 * `verifyWebhookSignature` below does exactly this.
 *
 * Retries: network errors, timeouts (`timeout_ms` per attempt), 408, 429 and 5xx, up to `max_attempts`
 * attempts, waiting the longer of the exponential backoff and the receiver's Retry-After. Any other answer
 * (a 4xx, a redirect) is final at once. Error messages never carry the secret or the signature.
 */
import { createHmac, randomUUID, timingSafeEqual } from "node:crypto";
import { readFileSync } from "node:fs";
import { PrCreatorError } from "../domain/errors.js";
import type { LifecycleEvent } from "../domain/events.js";
import type { Policy } from "../domain/policy.js";
import { parseRetryAfter, RetriesExhausted, withRetry, type CallFailure, type RetryPolicy } from "../net/retry.js";

export type WebhookConfig = Policy["events"]["webhooks"][number];
export type EventName = LifecycleEvent["event"];

export const EVENT_HEADER = "x-pr-creator-event";
export const DELIVERY_HEADER = "x-pr-creator-delivery";
export const SIGNATURE_HEADER = "x-pr-creator-signature-256";

// A record rather than an array so that adding an event to the union fails to compile until it is listed here.
const EVENT_NAMES: Record<EventName, true> = {
  PullRequestCreated: true,
  PullRequestUpdated: true,
  PullRequestReadyForReview: true,
  PullRequestFailed: true,
  PullRequestMerged: true,
  PullRequestMergeBlocked: true,
  PullRequestRollbackCreated: true,
  PullRequestAlert: true,
};
export const LIFECYCLE_EVENT_NAMES = Object.keys(EVENT_NAMES) as EventName[];

/** What the human-operations webhook receives: the runs that failed, the merges that need people, and repeated failures. */
export const FAILURE_EVENTS: readonly EventName[] = [
  "PullRequestFailed",
  "PullRequestMergeBlocked",
  "PullRequestAlert",
];

const RETRYABLE_STATUS = [408, 429, ...Array.from({ length: 100 }, (_, i) => 500 + i)];

/**
 * The longest wait between two attempts. A receiver asking for more (Retry-After) is not retried now: the
 * event goes to the outbox instead of holding up the run.
 */
export const MAX_RETRY_WAIT_MS = 30_000;

const VERSION = (
  JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as { version: string }
).version;

export interface WebhookDeps {
  fetch?: typeof fetch;
  sleep?: (ms: number) => Promise<void>;
  /** Backoff between attempts; default exponential from 1000 ms (the policy's retry_policy is the usual source). */
  backoff?: Pick<RetryPolicy, "backoff" | "base_delay_ms">;
  /** How messages name this webhook; default `webhook <url>`. */
  name?: string;
}

/** Sends one event; `deliveryId` is given when re-sending, so the receiver sees the id of the first try. */
export type WebhookSink = (event: LifecycleEvent, deliveryId?: string) => Promise<void>;

/**
 * The URL as messages show it: without user info, query or fragment, where tokens tend to live. Built from
 * scheme and host rather than `origin`, which is "null" for schemes such as file: (`null/etc/passwd`).
 */
export function displayUrl(url: string): string {
  const u = new URL(url);
  return `${u.protocol}//${u.host}${u.pathname}`;
}

/** The signature header's value for a body: `sha256=<hex HMAC-SHA256>`. */
export function signBody(body: string | Uint8Array, secret: string): string {
  return `sha256=${createHmac("sha256", secret).update(body).digest("hex")}`;
}

/** Checks a signature header against the raw body, in constant time. */
export function verifyWebhookSignature(
  body: string | Uint8Array,
  header: string | null | undefined,
  secret: string,
): boolean {
  const expected = Buffer.from(signBody(body, secret));
  const given = Buffer.from(header ?? "");
  return given.length === expected.length && timingSafeEqual(given, expected);
}

/** A non-2xx answer. Its text is already cut short and cleaned of the secret and signature. */
class HttpFailure extends Error {
  constructor(
    readonly status: number,
    readonly retryAfterMs: number | undefined,
    text: string,
  ) {
    super(text);
    this.name = "HttpFailure";
  }
}

function classify(error: unknown): CallFailure {
  if (error instanceof HttpFailure) return { status: error.status, retryAfterMs: error.retryAfterMs };
  if (error instanceof Error && (error.name === "TimeoutError" || error.name === "AbortError"))
    return { network: "TIMEOUT" };
  // fetch reports connection problems as TypeError("fetch failed") with the socket error as its cause.
  const code = (error as { cause?: { code?: unknown } } | null)?.cause?.code;
  return typeof code === "string" ? { network: code } : {};
}

function describeFailure(error: unknown, failure: CallFailure, timeoutMs: number): string {
  if (error instanceof HttpFailure) {
    const waited =
      failure.retryAfterMs !== undefined && failure.retryAfterMs > MAX_RETRY_WAIT_MS
        ? `; it asked to retry after ${Math.ceil(failure.retryAfterMs / 1000)} s, longer than a run waits`
        : "";
    return `${error.message}${waited}`;
  }
  if (failure.network === "TIMEOUT") return `no answer within ${timeoutMs} ms`;
  const cause = (error as { cause?: unknown } | null)?.cause;
  return cause instanceof Error ? cause.message : error instanceof Error ? error.message : String(error);
}

function envSecret(
  config: WebhookConfig,
  env: Readonly<Record<string, string | undefined>>,
  name: string,
): string | undefined {
  if (config.secret_env === undefined) return undefined;
  const secret = env[config.secret_env];
  if (secret === undefined || secret === "") {
    throw new PrCreatorError(
      "invalid_config",
      `The ${name} names secret_env ${config.secret_env}, but that environment variable is not set.`,
      {
        hint: `Set ${config.secret_env} to the secret the receiver shares, or remove secret_env to send unsigned events.`,
      },
    );
  }
  return secret;
}

function checkConfig(config: WebhookConfig, name: string): void {
  const protocol = new URL(config.url).protocol;
  if (protocol !== "http:" && protocol !== "https:") {
    throw new PrCreatorError(
      "invalid_config",
      `The ${name} uses ${protocol} but webhooks are sent over http: or https:.`,
      { hint: "Fix the url in the events section of the config." },
    );
  }
  const unknown = (config.events ?? []).filter((e) => !(e in EVENT_NAMES));
  if (unknown.length > 0) {
    throw new PrCreatorError(
      "invalid_config",
      `The ${name} lists unknown event${unknown.length > 1 ? "s" : ""} ${unknown.join(", ")}.`,
      {
        hint: `Lifecycle events are ${LIFECYCLE_EVENT_NAMES.join(", ")}.`,
      },
    );
  }
}

/**
 * A sink that POSTs each event (of `config.events`, when given) to `config.url`. Throws a PrCreatorError
 * (invalid_config) at once when the secret's environment variable is unset, the URL is not HTTP(S) or an
 * event name is unknown. A delivery that fails after its retries rejects with an Error saying why.
 */
export function createWebhookSink(
  config: WebhookConfig,
  env: Readonly<Record<string, string | undefined>>,
  deps: WebhookDeps = {},
): WebhookSink {
  const name = deps.name ?? `webhook ${displayUrl(config.url)}`;
  checkConfig(config, name);
  const secret = envSecret(config, env, name);
  const wanted = config.events ? new Set<string>(config.events) : null;
  const doFetch = deps.fetch ?? globalThis.fetch;
  const policy: RetryPolicy = {
    max_attempts: config.max_attempts,
    backoff: deps.backoff?.backoff ?? "exponential",
    base_delay_ms: deps.backoff?.base_delay_ms ?? 1000,
    retryable_status_codes: RETRYABLE_STATUS,
  };

  return async (event, deliveryId = randomUUID()) => {
    if (wanted && !wanted.has(event.event)) return;
    const body = JSON.stringify(event);
    const signature = secret === undefined ? undefined : signBody(body, secret);
    const headers: Record<string, string> = {
      "content-type": "application/json",
      "user-agent": `pr-creator/${VERSION}`,
      [EVENT_HEADER]: event.event,
      [DELIVERY_HEADER]: deliveryId,
      ...(signature === undefined ? {} : { [SIGNATURE_HEADER]: signature }),
    };
    // A receiver may echo the request back in an error page; what it says is kept, the credentials are not.
    const clean = (text: string) =>
      [secret, signature?.slice("sha256=".length)].reduce<string>(
        (t, s) => (s ? t.split(s).join("[redacted]") : t),
        text,
      );

    const attempt = async () => {
      const response = await doFetch(config.url, {
        method: "POST",
        headers,
        body,
        redirect: "manual",
        signal: AbortSignal.timeout(config.timeout_ms),
      });
      if (response.ok) {
        // The status is the receiver's acceptance; whatever it sends after it does not matter.
        await response.body?.cancel().catch(() => undefined);
        return;
      }
      const text = clean(await response.text().catch(() => ""))
        .replace(/\s+/g, " ")
        .trim();
      const answer = `answered ${response.status}${response.statusText ? ` ${response.statusText}` : ""}${text ? `: ${text.slice(0, 200)}` : ""}`;
      throw new HttpFailure(
        response.status,
        parseRetryAfter(response.headers.get("retry-after")),
        response.status >= 300 && response.status < 400 ? `${answer} (redirects are not followed)` : answer,
      );
    };

    try {
      await withRetry(attempt, policy, classify, { sleep: deps.sleep, maxDelayMs: MAX_RETRY_WAIT_MS });
    } catch (error) {
      if (!(error instanceof RetriesExhausted)) throw error;
      const attempts = `${error.attempts} attempt${error.attempts > 1 ? "s" : ""}`;
      throw new Error(
        `the ${name} did not accept ${event.event} (delivery ${deliveryId}) after ${attempts}: ${clean(describeFailure(error.cause, error.failure, config.timeout_ms))}`,
      );
    }
  };
}

/** The human-operations webhook: like any webhook, but it only ever gets FAILURE_EVENTS. */
export function createFailureWebhookSink(
  config: NonNullable<Policy["events"]["failure_webhook"]>,
  env: Readonly<Record<string, string | undefined>>,
  deps: WebhookDeps = {},
): WebhookSink {
  return createWebhookSink({ ...config, events: [...FAILURE_EVENTS] }, env, {
    name: `failure webhook ${displayUrl(config.url)}`,
    ...deps,
  });
}
