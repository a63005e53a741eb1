/**
 * The agent's Prometheus metrics, in a registry of their own: never prom-client's global one, so tests and
 * several agents in one process each count their own runs. Callers use the helper methods, which know the
 * label names and their closed sets of values; `instruments` is there for anything the helpers do not cover.
 *
 * Every label value of the closed sets starts at 0, so each series exists from the first scrape and rate()
 * sees the first increment.
 */
import { Counter, Histogram, Registry } from "prom-client";
import {
  AUTO_MERGE_RESULTS,
  GATE_RESULTS,
  GENERATION_STATUSES,
  ROLLBACK_RESULTS,
  type AutoMergeResult,
  type GateResult,
  type GenerationStatus,
  type RollbackResult,
} from "./outcomes.js";

export const METRIC_PREFIX = "prcreator_";

/** Run start → PR published or failed, in seconds: a bound at the 30 s target. */
export const GENERATION_BUCKETS = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 15, 20, 30, 45, 60] as const;
/** PR opened → all checks settled, in seconds: a bound at the 5 min target, up to 15 min. */
export const CI_VALIDATION_BUCKETS = [5, 15, 30, 60, 120, 180, 240, 300, 450, 600, 900] as const;
/** Checks settled → merged, in seconds: a bound at the 60 s target, up to 5 min. */
export const MERGE_BUCKETS = [1, 2.5, 5, 10, 15, 30, 45, 60, 90, 120, 180, 300] as const;

export interface Instruments {
  prsGenerated: Counter<"status">;
  generationSeconds: Histogram;
  ciValidationSeconds: Histogram;
  mergeSeconds: Histogram;
  autoMerges: Counter<"result">;
  rollbacks: Counter<"result">;
  gateChecks: Counter<"result">;
  modelCalls: Counter;
  fallbacks: Counter;
}

export interface Metrics {
  readonly registry: Registry;
  readonly instruments: Instruments;
  /** The Content-Type of render()'s text, for a /metrics HTTP response. */
  readonly contentType: string;
  /** A run ended: counts it by status and observes its duration (run start → published or failed). */
  generated(status: GenerationStatus, seconds: number): void;
  /** A PR's checks settled, `seconds` after it was opened. */
  ciValidated(seconds: number): void;
  /** A PR merged, `seconds` after its checks settled. */
  merged(seconds: number): void;
  autoMerge(result: AutoMergeResult): void;
  rollback(result: RollbackResult): void;
  /** One gate round over a rendered title and body. */
  gateCheck(result: GateResult): void;
  modelCall(count?: number): void;
  /** The deterministic drafter took over from the model. */
  fallback(): void;
  /** The registry's metrics in the Prometheus text format. */
  render(): Promise<string>;
}

/** Durations come from a monotonic clock (performance.now()); anything else is a caller's bug, reported here rather than skewing a histogram. */
function checkSeconds(seconds: number, what: string): number {
  if (!Number.isFinite(seconds) || seconds < 0)
    throw new RangeError(`${what}: the duration must be a finite number of seconds >= 0, got ${seconds}.`);
  return seconds;
}

/**
 * Registers the agent's instruments in `registry` (a fresh one by default). A registry takes one set:
 * registering twice in the same registry throws prom-client's "already registered" error.
 */
export function createMetrics(registry: Registry = new Registry()): Metrics {
  const registers = [registry];
  const counter = <L extends string>(
    name: string,
    help: string,
    label?: { name: L; values: readonly string[] },
  ): Counter<L> => {
    const c = new Counter<L>({
      name: `${METRIC_PREFIX}${name}`,
      help,
      labelNames: label ? [label.name] : [],
      registers,
    });
    if (label) for (const value of label.values) c.labels(value).inc(0);
    else c.inc(0);
    return c;
  };
  const histogram = (name: string, help: string, buckets: readonly number[]): Histogram =>
    new Histogram({ name: `${METRIC_PREFIX}${name}`, help, buckets: [...buckets], registers });

  const instruments: Instruments = {
    prsGenerated: counter("prs_generated_total", "Runs that ended, by what happened to their PR.", {
      name: "status",
      values: GENERATION_STATUSES,
    }),
    generationSeconds: histogram(
      "generation_seconds",
      "Seconds from run start to the PR published or the run failed.",
      GENERATION_BUCKETS,
    ),
    ciValidationSeconds: histogram(
      "ci_validation_seconds",
      "Seconds from a PR opened to all its checks settled.",
      CI_VALIDATION_BUCKETS,
    ),
    mergeSeconds: histogram("merge_seconds", "Seconds from a PR's checks settled to the PR merged.", MERGE_BUCKETS),
    autoMerges: counter(
      "auto_merges_total",
      "Auto-merge outcomes: switched on, merged, blocked by policy or checks, or failed.",
      { name: "result", values: AUTO_MERGE_RESULTS },
    ),
    rollbacks: counter("rollbacks_total", "Rollback outcomes: revert PR created, revert merged, or failed.", {
      name: "result",
      values: ROLLBACK_RESULTS,
    }),
    gateChecks: counter("gate_checks_total", "Gate rounds over a rendered title and body, by whether they passed.", {
      name: "result",
      values: GATE_RESULTS,
    }),
    modelCalls: counter("model_calls_total", "Calls to the drafting model."),
    fallbacks: counter("fallbacks_total", "Runs whose prose the deterministic drafter wrote after the model failed."),
  };

  return {
    registry,
    instruments,
    contentType: registry.contentType,
    generated(status, seconds) {
      checkSeconds(seconds, "generated()");
      instruments.prsGenerated.inc({ status });
      instruments.generationSeconds.observe(seconds);
    },
    ciValidated(seconds) {
      instruments.ciValidationSeconds.observe(checkSeconds(seconds, "ciValidated()"));
    },
    merged(seconds) {
      instruments.mergeSeconds.observe(checkSeconds(seconds, "merged()"));
    },
    autoMerge(result) {
      instruments.autoMerges.inc({ result });
    },
    rollback(result) {
      instruments.rollbacks.inc({ result });
    },
    gateCheck(result) {
      instruments.gateChecks.inc({ result });
    },
    modelCall(count = 1) {
      if (!Number.isInteger(count) || count < 0)
        throw new RangeError(`modelCall(): count must be a whole number >= 0, got ${count}.`);
      instruments.modelCalls.inc(count);
    },
    fallback() {
      instruments.fallbacks.inc();
    },
    render: () => registry.metrics(),
  };
}
