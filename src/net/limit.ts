/**
 * Maps `items` through `fn` with at most `limit` calls in flight, keeping the order of `items` in the result.
 * A rejection stops new calls from starting and is passed on once the calls in flight have settled.
 */
export async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  let failed = false;
  const worker = async () => {
    while (!failed && next < items.length) {
      const index = next++;
      try {
        results[index] = await fn(items[index]!);
      } catch (error) {
        failed = true;
        throw error;
      }
    }
  };
  const settled = await Promise.allSettled(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
  const rejected = settled.find((s): s is PromiseRejectedResult => s.status === "rejected");
  if (rejected) throw rejected.reason;
  return results;
}

/** A counting semaphore: at most `max` calls of `run` in flight, the rest waiting in arrival order. */
export class Limiter {
  private active = 0;
  private readonly waiting: Array<() => void> = [];

  constructor(readonly max: number) {
    if (!Number.isInteger(max) || max < 1) throw new Error(`A limiter needs a positive integer limit, got ${max}.`);
  }

  /** Calls in flight now. */
  get inFlight(): number {
    return this.active;
  }

  /** Calls waiting for a slot now. */
  get queued(): number {
    return this.waiting.length;
  }

  async run<T>(fn: () => Promise<T>): Promise<T> {
    if (this.active >= this.max) await new Promise<void>((resolve) => this.waiting.push(resolve));
    else this.active++;
    try {
      return await fn();
    } finally {
      // Hand the slot straight to the next waiter (active stays the same), or free it.
      const next = this.waiting.shift();
      if (next) next();
      else this.active--;
    }
  }
}

/**
 * Requests in flight to one forge host at a time, per process, unless configured otherwise: enough to overlap a
 * PR's reads, few enough that a slow or serialising server answers each well inside forge_timeout_ms.
 */
export const DEFAULT_MAX_IN_FLIGHT_PER_HOST = 8;

const hostLimiters = new Map<string, Limiter>();

/**
 * The process-wide limiter of one host (scheme, host and port of `url`), shared by every forge instance and
 * agent in the process. The first caller's `max` sets the limit; later ones share it whatever they ask.
 */
export function hostLimiter(url: string | URL, max = DEFAULT_MAX_IN_FLIGHT_PER_HOST): Limiter {
  const origin = new URL(url).origin;
  let limiter = hostLimiters.get(origin);
  if (limiter === undefined) hostLimiters.set(origin, (limiter = new Limiter(max)));
  return limiter;
}
