/**
 * The server's own series, registered in the agent's registry so one scrape of /metrics has both. A registry
 * takes each name once: a second server on the same agent replaces the first one's series.
 */
import { Counter, Gauge, Histogram, type Registry } from "prom-client";
import { METRIC_PREFIX } from "../metrics/metrics.js";
import { RUN_STATUSES, type ServerRunStatus } from "./runs-store.js";

export interface ServerMetrics {
  /** One answered HTTP request; `route` is the route pattern (`/v1/runs/:id`) or `unmatched`, never the raw path. */
  request(method: string, route: string, status: number, seconds: number): void;
  runSettled(status: ServerRunStatus): void;
}

/** Seconds per HTTP request: submissions and reads answer in milliseconds; /metrics and a busy registry take longer. */
const REQUEST_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5];

export function registerServerMetrics(
  registry: Registry,
  sources: {
    queueDepth: () => number;
    inFlight: () => number;
    /** Runs in a registry the fleet shares, by status (RunService.statusCounts); none for this process's queue. */
    registry?: () => Promise<Record<ServerRunStatus, number>>;
  },
): ServerMetrics {
  const registers = [registry];
  const fresh = (name: string) => {
    const full = `${METRIC_PREFIX}${name}`;
    registry.removeSingleMetric(full);
    return full;
  };
  const requests = new Counter({
    name: fresh("http_requests_total"),
    help: "HTTP requests answered, by method, route pattern and status code.",
    labelNames: ["method", "route", "status"],
    registers,
  });
  const durations = new Histogram({
    name: fresh("http_request_duration_seconds"),
    help: "Seconds from a request's arrival to its answer, by method and route pattern.",
    labelNames: ["method", "route"],
    buckets: REQUEST_BUCKETS,
    registers,
  });
  const runs = new Counter({
    name: fresh("server_runs_total"),
    help: "Runs the server finished, by their status (done, failed, awaiting_approval).",
    labelNames: ["status"],
    registers,
  });
  for (const status of RUN_STATUSES) if (status !== "queued" && status !== "running") runs.labels(status).inc(0);
  new Gauge({
    name: fresh("server_queue_depth"),
    help: "Accepted runs waiting for a slot.",
    registers,
    collect() {
      this.set(sources.queueDepth());
    },
  });
  new Gauge({
    name: fresh("server_runs_in_flight"),
    help: "Runs executing now.",
    registers,
    collect() {
      this.set(sources.inFlight());
    },
  });
  const { registry: registryCounts } = sources;
  if (registryCounts) {
    // Read at scrape time: a front that runs nothing itself counts no runs in server_runs_total, but a Prometheus
    // scraping it should still see the fleet's work. A database that does not answer leaves the series out (the
    // rest of the scrape still answers) rather than showing stale numbers.
    new Gauge({
      name: fresh("server_registry_runs"),
      help: "Runs in the shared run registry, by status (queued, running, done, failed, awaiting_approval); fleet-wide, the same on every replica.",
      labelNames: ["status"],
      registers,
      async collect() {
        const counts = await registryCounts().catch(() => null);
        // Cleared and set in one step, after the read: a scrape running at the same time never sees it empty.
        this.reset();
        if (counts) for (const status of RUN_STATUSES) this.set({ status }, counts[status]);
      },
    });
  }
  return {
    request(method, route, status, seconds) {
      requests.inc({ method, route, status: String(status) });
      durations.observe({ method, route }, seconds);
    },
    runSettled(status) {
      runs.inc({ status });
    },
  };
}
