/**
 * A loopback reverse proxy in front of an emulator, to make it behave like a real forge under load: it can add
 * latency to every request (discovery included) and serve at most `capacity` requests at a time (1 = a
 * git-backed server serialising its reads), queueing the rest as a server would. It counts what the client
 * had in flight, so tests and benchmarks can check a client-side limit.
 */
import http from "node:http";
import type { AddressInfo } from "node:net";

export interface StrictProxyOptions {
  /** Where to forward, e.g. the emulator's base URL (only its origin is used). */
  target: string;
  /** Added before each request is forwarded, in ms, while it holds a server slot. */
  latencyMs?: number;
  /** Requests served at once; the rest wait (unbounded when absent). */
  capacity?: number;
}

export interface StrictProxy {
  /** The proxy's origin, e.g. http://127.0.0.1:PORT: replace the emulator's origin with it. */
  origin: string;
  /** The target URL with its origin replaced by the proxy's. */
  url(targetUrl: string): string;
  /** Requests received and not yet answered, now and at most. */
  readonly inFlight: number;
  readonly maxInFlight: number;
  /** Requests received in all. */
  readonly total: number;
  /** Arrival times (Date.now()) and methods, in order. */
  readonly log: ReadonlyArray<{ at: number; method: string; path: string }>;
  resetCounters(): void;
  close(): Promise<void>;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export async function startStrictProxy(opts: StrictProxyOptions): Promise<StrictProxy> {
  const target = new URL(opts.target);
  const agent = new http.Agent({ keepAlive: true });
  let inFlight = 0;
  let maxInFlight = 0;
  let total = 0;
  let log: Array<{ at: number; method: string; path: string }> = [];
  let serving = 0;
  const waiting: Array<() => void> = [];
  const acquire = async () => {
    if (opts.capacity === undefined) return;
    if (serving < opts.capacity) serving++;
    else await new Promise<void>((resolve) => waiting.push(resolve));
  };
  const release = () => {
    if (opts.capacity === undefined) return;
    const next = waiting.shift();
    if (next) next();
    else serving--;
  };

  const server = http.createServer((req, res) => {
    inFlight++;
    total++;
    maxInFlight = Math.max(maxInFlight, inFlight);
    log.push({ at: Date.now(), method: req.method ?? "GET", path: req.url ?? "/" });
    let done = false;
    const finish = () => {
      if (done) return;
      done = true;
      inFlight--;
    };
    res.on("close", finish);
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", async () => {
      await acquire();
      try {
        if (opts.latencyMs) await sleep(opts.latencyMs);
        await new Promise<void>((resolve) => {
          const upstream = http.request(
            {
              host: target.hostname,
              port: target.port,
              method: req.method,
              path: req.url,
              headers: { ...req.headers, host: target.host },
              agent,
            },
            (answer) => {
              res.writeHead(answer.statusCode ?? 502, answer.headers);
              answer.pipe(res);
              answer.on("end", resolve);
              answer.on("error", resolve);
            },
          );
          upstream.on("error", () => {
            if (!res.headersSent) res.writeHead(502);
            res.end();
            resolve();
          });
          upstream.end(Buffer.concat(chunks));
        });
      } finally {
        release();
      }
    });
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    origin,
    url: (targetUrl) => {
      const u = new URL(targetUrl);
      return `${origin}${u.pathname}${u.search}`.replace(/\/$/, "");
    },
    get inFlight() {
      return inFlight;
    },
    get maxInFlight() {
      return maxInFlight;
    },
    get total() {
      return total;
    },
    get log() {
      return log;
    },
    resetCounters() {
      maxInFlight = inFlight;
      total = 0;
      log = [];
    },
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      agent.destroy();
    },
  };
}
