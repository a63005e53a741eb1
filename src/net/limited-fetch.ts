import { hostLimiter } from "./limit.js";

export interface LimitedFetchOptions {
  /** Longest time one request may be in flight (from dispatch, not from the call: waiting for a slot is free). */
  timeoutMs: number;
  /** The host's in-flight limit, if this is the first use of that host in the process. */
  maxInFlightPerHost?: number;
  fetch?: typeof globalThis.fetch;
}

/** Statuses whose responses have no body (the Response constructor refuses one). */
const NULL_BODY = new Set([101, 103, 204, 205, 304]);

/**
 * A fetch for HTTP clients (Octokit's `request.fetch`) that waits for a slot of the host's process-wide limiter
 * (src/net/limit.ts) and only then starts the request's timeout, so a request queued behind others, or behind a
 * rate limiter in front of this, never times out before it was sent. The slot is held until the body is read.
 */
export function limitedFetch(opts: LimitedFetchOptions): typeof globalThis.fetch {
  const base = opts.fetch ?? globalThis.fetch;
  return async (input, init) => {
    const url = input instanceof Request ? input.url : input;
    return hostLimiter(url, opts.maxInFlightPerHost).run(async () => {
      const timeout = AbortSignal.timeout(opts.timeoutMs);
      const signal = init?.signal ? AbortSignal.any([init.signal, timeout]) : timeout;
      const response = await base(input, { ...init, signal });
      const body = NULL_BODY.has(response.status) ? null : await response.arrayBuffer();
      const copy = new Response(body, {
        status: response.status,
        statusText: response.statusText,
        headers: response.headers,
      });
      Object.defineProperty(copy, "url", { value: response.url });
      return copy;
    });
  };
}
