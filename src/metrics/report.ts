/**
 * The success-metrics report: the PR history ledger's entries measured against the seed's targets. Pure.
 *
 * Rules, so the figures can be checked by hand:
 * - Only entries with `since <= at <= now` count (a report as of `now`).
 * - A figure with no data has value null and met null: never a made-up 0% or 100%.
 * - Percentiles are by nearest rank: p95 of n values sorted ascending is the value at rank ceil(0.95 n),
 *   i.e. the smallest observed value with at least 95% of the sample at or below it (never interpolated).
 * - Generation figures leave previews (dry runs) out: nothing was published.
 * - Figures about PRs count each PR (repo + PR id) once. Auto-merge and rollback success use each PR's
 *   latest entry, so a merge blocked and later retried successfully counts as one success. Merge rate is
 *   the share of PRs created in the period that merged in it; rollback rate the share of PRs merged in the
 *   period that were rolled back in it.
 */
import type { CiEntry, GenerationEntry, HistoryEntry, MergeEntry, RollbackEntry } from "./history.js";
import {
  CI_RESULTS,
  GENERATION_STATUSES,
  MERGE_RESULTS,
  PUBLISHED_STATUSES,
  ROLLBACK_RESULTS,
  type CiResult,
  type GenerationStatus,
  type MergeResult,
  type RollbackResult,
} from "./outcomes.js";

export interface Target {
  op: ">" | "<" | ">=";
  value: number;
}

export interface Figure {
  label: string;
  /** `ratio`: a share from 0 to 1; `ms`: a duration in milliseconds. */
  unit: "ratio" | "ms";
  /** null when there is no data. */
  value: number | null;
  /** For a ratio, how many of `sample` counted (its numerator); null for a percentile. */
  count: number | null;
  sample: number;
  /** The seed's target; null where it sets none. */
  target: Target | null;
  /** null when there is no data or no target. */
  met: boolean | null;
}

export const FIGURE_KEYS = [
  "generation_success_rate",
  "generation_time_p95",
  "ci_validation_time_p95",
  "merge_time_after_ci_p95",
  "auto_merge_success_rate",
  "merge_rate",
  "rollback_rate",
  "rollback_success_rate",
  "template_compliance",
] as const;
export type FigureKey = (typeof FIGURE_KEYS)[number];

/** The seed's "Success Metrics". */
export const TARGETS = {
  generation_success_rate: { op: ">", value: 0.95 },
  generation_time_p95: { op: "<", value: 30_000 },
  ci_validation_time_p95: { op: "<", value: 5 * 60_000 },
  merge_time_after_ci_p95: { op: "<", value: 60_000 },
  auto_merge_success_rate: { op: ">", value: 0.9 },
  rollback_success_rate: { op: ">", value: 0.95 },
  template_compliance: { op: ">=", value: 1 },
} as const satisfies Partial<Record<FigureKey, Target>>;

export interface Report {
  /** The end of the period (ISO 8601). */
  now: string;
  /** The start of the period (ISO 8601), or null for all history. */
  since: string | null;
  /** The repository the report is limited to, or null for all. */
  repo: string | null;
  /** Ledger entries in the period. */
  entries: number;
  figures: Record<FigureKey, Figure>;
  counts: {
    generations: Record<GenerationStatus, number>;
    ci: Record<CiResult, number>;
    merges: { auto: Record<MergeResult, number>; manual: Record<MergeResult, number> };
    rollbacks: Record<RollbackResult, number>;
  };
}

export interface ReportOptions {
  since?: Date;
  now: Date;
  repo?: string;
}

/** The nearest-rank percentile (0 < p <= 100) of `values`; null for none. */
export function nearestRank(values: readonly number[], p: number): number | null {
  if (!(p > 0 && p <= 100)) throw new RangeError(`nearestRank(): p must be in (0, 100], got ${p}.`);
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  // p * n before dividing keeps ranks exact for whole p: 0.95 * 20 is not exactly 19 in floating point.
  return sorted[Math.ceil((p * sorted.length) / 100) - 1]!;
}

function judge(value: number | null, target: Target | null): boolean | null {
  if (value === null || target === null) return null;
  if (target.op === ">") return value > target.value;
  if (target.op === "<") return value < target.value;
  return value >= target.value;
}

function ratio(label: string, count: number, sample: number, target: Target | null = null): Figure {
  const value = sample === 0 ? null : count / sample;
  return { label, unit: "ratio", value, count, sample, target, met: judge(value, target) };
}

function p95(label: string, durations: readonly number[], target: Target): Figure {
  const value = nearestRank(durations, 95);
  return { label, unit: "ms", value, count: null, sample: durations.length, target, met: judge(value, target) };
}

const isPublished = (g: GenerationEntry): boolean =>
  (PUBLISHED_STATUSES as readonly GenerationStatus[]).includes(g.status);

const prKey = (e: { repo: string; pr_id: string }): string => `${e.repo}\u0000${e.pr_id}`;

/** Each PR's latest entry; `entries` are in time order. */
function latestPerPr<E extends { repo: string; pr_id: string }>(entries: readonly E[]): E[] {
  const latest = new Map<string, E>();
  for (const e of entries) latest.set(prKey(e), e);
  return [...latest.values()];
}

function tally<K extends string>(keys: readonly K[], values: readonly K[]): Record<K, number> {
  const counts = Object.fromEntries(keys.map((k) => [k, 0])) as Record<K, number>;
  for (const v of values) counts[v]++;
  return counts;
}

export function computeReport(entries: readonly HistoryEntry[], opts: ReportOptions): Report {
  const from = opts.since?.getTime() ?? Number.NEGATIVE_INFINITY;
  const to = opts.now.getTime();
  if (Number.isNaN(from) || Number.isNaN(to))
    throw new RangeError("computeReport(): since and now must be valid Dates.");
  const inPeriod = entries
    .map((e) => ({ e, at: Date.parse(e.at) }))
    .filter(({ e, at }) => at >= from && at <= to && (opts.repo === undefined || e.repo === opts.repo))
    .sort((a, b) => a.at - b.at)
    .map(({ e }) => e);

  const generations = inPeriod.filter((e): e is GenerationEntry => e.kind === "generation");
  const ci = inPeriod.filter((e): e is CiEntry => e.kind === "ci");
  const merges = inPeriod.filter((e): e is MergeEntry => e.kind === "merge");
  const rollbacks = inPeriod.filter((e): e is RollbackEntry => e.kind === "rollback");

  const runs = generations.filter((g) => g.status !== "previewed");
  const published = generations.filter(isPublished);
  const autoLowRisk = latestPerPr(merges.filter((m) => m.auto && m.risk === "low"));
  const created = new Set(
    generations.flatMap((g) =>
      g.status === "created" && g.pr_id !== null ? [prKey({ repo: g.repo, pr_id: g.pr_id })] : [],
    ),
  );
  const merged = new Set(merges.filter((m) => m.result === "merged").map(prKey));
  const rolledBack = new Set(rollbacks.map(prKey));
  const rollbackOutcomes = latestPerPr(rollbacks);
  const mergeTimes = merges.flatMap((m) => (m.result === "merged" && m.after_ci_ms !== null ? [m.after_ci_ms] : []));
  const count = <T>(items: Iterable<T>, test: (item: T) => boolean): number => [...items].filter(test).length;

  return {
    now: opts.now.toISOString(),
    since: opts.since?.toISOString() ?? null,
    repo: opts.repo ?? null,
    entries: inPeriod.length,
    figures: {
      generation_success_rate: ratio(
        "PR generation success rate",
        count(runs, isPublished),
        runs.length,
        TARGETS.generation_success_rate,
      ),
      generation_time_p95: p95(
        "PR generation time p95",
        runs.map((g) => g.duration_ms),
        TARGETS.generation_time_p95,
      ),
      ci_validation_time_p95: p95(
        "CI validation time p95",
        ci.map((c) => c.duration_ms),
        TARGETS.ci_validation_time_p95,
      ),
      merge_time_after_ci_p95: p95("Merge time after CI p95", mergeTimes, TARGETS.merge_time_after_ci_p95),
      auto_merge_success_rate: ratio(
        "Auto-merge success rate (low risk)",
        count(autoLowRisk, (m) => m.result === "merged"),
        autoLowRisk.length,
        TARGETS.auto_merge_success_rate,
      ),
      merge_rate: ratio(
        "Merge rate (of PRs created)",
        count(created, (k) => merged.has(k)),
        created.size,
      ),
      rollback_rate: ratio(
        "Rollback rate (of PRs merged)",
        count(merged, (k) => rolledBack.has(k)),
        merged.size,
      ),
      rollback_success_rate: ratio(
        "Rollback success rate",
        count(rollbackOutcomes, (r) => r.result !== "failed"),
        rollbackOutcomes.length,
        TARGETS.rollback_success_rate,
      ),
      template_compliance: ratio(
        "PR template compliance",
        count(published, (g) => g.compliant),
        published.length,
        TARGETS.template_compliance,
      ),
    },
    counts: {
      generations: tally(
        GENERATION_STATUSES,
        generations.map((g) => g.status),
      ),
      ci: tally(
        CI_RESULTS,
        ci.map((c) => c.result),
      ),
      merges: {
        auto: tally(
          MERGE_RESULTS,
          merges.filter((m) => m.auto).map((m) => m.result),
        ),
        manual: tally(
          MERGE_RESULTS,
          merges.filter((m) => !m.auto).map((m) => m.result),
        ),
      },
      rollbacks: tally(
        ROLLBACK_RESULTS,
        rollbacks.map((r) => r.result),
      ),
    },
  };
}

/** A share as a percentage, rounded down so that 99.96% never shows as a 100% it did not reach. */
function percent(share: number): string {
  return `${(Math.floor(share * 1000) / 10).toFixed(1)}%`;
}

function duration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  const seconds = Math.round(ms / 1000);
  return `${Math.floor(seconds / 60)} min ${String(seconds % 60).padStart(2, "0")} s`;
}

function amount(f: Figure, value: number): string {
  return f.unit === "ratio" ? percent(value) : duration(value);
}

function targetText(f: Figure): string {
  if (f.target === null) return "-";
  const t = f.target;
  if (f.unit === "ratio" && t.op === ">=" && t.value === 1) return "100%";
  const shown =
    f.unit === "ratio"
      ? `${Math.round(t.value * 1000) / 10}%`
      : t.value >= 120_000 && t.value % 60_000 === 0
        ? `${t.value / 60_000} min`
        : `${t.value / 1000} s`;
  return `${t.op} ${shown}`;
}

function status(f: Figure): string {
  if (f.value === null) return "no data";
  if (f.met === null) return "-";
  return f.met ? "met" : "MISSED";
}

function table(rows: string[][]): string[] {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  const line = (r: string[]) =>
    r
      .map((cell, i) => cell.padEnd(widths[i]!))
      .join("  ")
      .trimEnd();
  return [line(rows[0]!), widths.map((w) => "-".repeat(w)).join("  "), ...rows.slice(1).map(line)];
}

function breakdown(counts: Record<string, number>): string {
  const total = Object.values(counts).reduce((a, b) => a + b, 0);
  const parts = Object.entries(counts).filter(([, n]) => n > 0);
  return parts.length === 0 ? "0" : `${total} (${parts.map(([k, n]) => `${k} ${n}`).join(", ")})`;
}

/** The report as a plain-text table for a terminal: figure | value | sample | target | status, then the counts. */
export function formatReport(report: Report): string {
  const period = `${report.since === null ? "all history" : `since ${report.since}`} until ${report.now}`;
  const rows = [
    ["Figure", "Value", "Sample", "Target", "Status"],
    ...FIGURE_KEYS.map((key) => {
      const f = report.figures[key];
      const sample = f.count === null ? String(f.sample) : `${f.count} of ${f.sample}`;
      return [f.label, f.value === null ? "-" : amount(f, f.value), sample, targetText(f), status(f)];
    }),
  ];
  const c = report.counts;
  return [
    `PR history${report.repo === null ? "" : ` of ${report.repo}`}, ${period}: ${report.entries} entries`,
    "",
    ...table(rows),
    "",
    `Generations   ${breakdown(c.generations)}`,
    `CI runs       ${breakdown(c.ci)}`,
    `Auto merges   ${breakdown(c.merges.auto)}`,
    `Other merges  ${breakdown(c.merges.manual)}`,
    `Rollbacks     ${breakdown(c.rollbacks)}`,
    "",
    "p95: nearest rank, the smallest value with at least 95% of the sample at or below it. Previews are left out of generation figures.",
    "",
  ].join("\n");
}
