import { describe, expect, it } from "vitest";
import type { CiEntry, GenerationEntry, HistoryEntry, MergeEntry, RollbackEntry } from "../../src/metrics/history.js";
import { computeReport, FIGURE_KEYS, formatReport, nearestRank, type FigureKey } from "../../src/metrics/report.js";

const NOW = new Date("2026-01-08T12:00:00.000Z");
/** A moment `minutes` before NOW. */
const ago = (minutes: number): string => new Date(NOW.getTime() - minutes * 60_000).toISOString();

let serial = 0;
const nextPr = () => String(++serial);

function gen(o: Partial<GenerationEntry> = {}): GenerationEntry {
  const status = o.status ?? "created";
  return {
    kind: "generation",
    at: ago(60),
    repo: "OrderService",
    trace_id: "trace-ord-1",
    pr_id: status === "previewed" || status === "failed" ? null : nextPr(),
    status,
    reason: status === "failed" ? "azure_devops_503" : null,
    risk: "low",
    duration_ms: 5_000,
    compliant: true,
    drafted_by: "model",
    ...o,
  };
}

function ci(o: Partial<CiEntry> = {}): CiEntry {
  return {
    kind: "ci",
    at: ago(50),
    repo: "OrderService",
    trace_id: "trace-ord-1",
    pr_id: "1",
    result: "succeeded",
    duration_ms: 60_000,
    failed_checks: [],
    ...o,
  };
}

function merge(o: Partial<MergeEntry> = {}): MergeEntry {
  return {
    kind: "merge",
    at: ago(40),
    repo: "OrderService",
    trace_id: "trace-ord-1",
    pr_id: "1",
    risk: "low",
    auto: true,
    result: "merged",
    after_ci_ms: 10_000,
    reason: null,
    ...o,
  };
}

function rollback(o: Partial<RollbackEntry> = {}): RollbackEntry {
  return {
    kind: "rollback",
    at: ago(30),
    repo: "OrderService",
    trace_id: "trace-ord-1",
    pr_id: "1",
    revert_pr_id: "900",
    result: "merged",
    reason: null,
    ...o,
  };
}

const times = <T>(n: number, make: (i: number) => T): T[] => Array.from({ length: n }, (_, i) => make(i));

function figure(entries: HistoryEntry[], key: FigureKey, opts: { since?: Date; repo?: string } = {}) {
  return computeReport(entries, { now: NOW, ...opts }).figures[key];
}

describe("nearestRank", () => {
  it("takes the value at rank ceil(p/100 * n), never interpolating", () => {
    const twenty = times(20, (i) => (i + 1) * 1000).reverse();
    // Linear interpolation would give 19050.
    expect(nearestRank(twenty, 95)).toBe(19_000);
    expect(
      nearestRank(
        times(100, (i) => i + 1),
        95,
      ),
    ).toBe(95);
    expect(
      nearestRank(
        times(101, (i) => i + 1),
        95,
      ),
    ).toBe(96);
    expect(nearestRank([1, 2, 3, 4], 50)).toBe(2);
    expect(nearestRank([4, 1, 3, 2], 100)).toBe(4);
    expect(nearestRank([7], 95)).toBe(7);
    expect(nearestRank([5, 1, 1000], 95)).toBe(1000);
  });

  it("is null for no values and refuses a p outside (0, 100]", () => {
    expect(nearestRank([], 95)).toBeNull();
    expect(() => nearestRank([1], 0)).toThrow(RangeError);
    expect(() => nearestRank([1], 101)).toThrow(RangeError);
  });
});

describe("computeReport", () => {
  it("reports no data as null, never as 0% or 100%", () => {
    const report = computeReport([], { now: NOW });
    for (const key of FIGURE_KEYS) {
      expect(report.figures[key], key).toMatchObject({ value: null, sample: 0, met: null });
    }
    expect(report.entries).toBe(0);
    expect(report.counts.generations).toEqual({ created: 0, updated: 0, unchanged: 0, previewed: 0, failed: 0 });
    const text = formatReport(report);
    expect(text.match(/no data/g)).toHaveLength(FIGURE_KEYS.length);
    expect(text).not.toMatch(/\d%\s+\d/);
    expect(text).not.toContain("0.0%");
  });

  it("generation success rate: created, updated and unchanged of all runs but previews; > 95% is strict", () => {
    const nineteen = [...times(17, () => gen()), gen({ status: "updated" }), gen({ status: "unchanged" })];
    const atBoundary = [...nineteen, gen({ status: "failed" }), ...times(5, () => gen({ status: "previewed" }))];
    expect(figure(atBoundary, "generation_success_rate")).toMatchObject({
      value: 0.95,
      count: 19,
      sample: 20,
      target: { op: ">", value: 0.95 },
      met: false,
    });
    const above = [...nineteen, gen(), gen({ status: "failed" })];
    expect(figure(above, "generation_success_rate")).toMatchObject({ count: 20, sample: 21, met: true });
    expect(
      figure(
        times(3, () => gen({ status: "previewed" })),
        "generation_success_rate",
      ),
    ).toMatchObject({ value: null, sample: 0, met: null });
  });

  it("generation time p95 over runs but previews, by nearest rank; < 30 s is strict", () => {
    const runs = (top: number) => [
      ...times(19, (i) => gen({ duration_ms: (i + 1) * 1000 })),
      gen({ status: "failed", duration_ms: top }),
    ];
    // Rank ceil(0.95 * 20) = 19: the 19th smallest, whatever the slowest run took.
    expect(figure(runs(120_000), "generation_time_p95")).toMatchObject({ value: 19_000, sample: 20, met: true });
    const slow = [
      ...times(18, () => gen({ duration_ms: 1000 })),
      gen({ duration_ms: 30_000 }),
      gen({ duration_ms: 31_000 }),
    ];
    expect(figure(slow, "generation_time_p95")).toMatchObject({ value: 30_000, met: false });
    const justUnder = [
      ...times(18, () => gen({ duration_ms: 1000 })),
      gen({ duration_ms: 29_999 }),
      gen({ duration_ms: 31_000 }),
    ];
    expect(figure(justUnder, "generation_time_p95")).toMatchObject({ value: 29_999, met: true });
    const withPreviews = [...justUnder, ...times(50, () => gen({ status: "previewed", duration_ms: 90_000 }))];
    expect(figure(withPreviews, "generation_time_p95")).toMatchObject({ value: 29_999, sample: 20 });
  });

  it("CI validation time p95 over every settled run, failed ones included; < 5 min is strict", () => {
    const runs = (slowest: number) => [
      ...times(19, () => ci({ duration_ms: 100_000 })),
      ci({ result: "failed", duration_ms: slowest, failed_checks: ["build"] }),
    ];
    expect(figure(runs(300_000), "ci_validation_time_p95")).toMatchObject({ value: 100_000, sample: 20, met: true });
    const atBoundary = [
      ...times(18, () => ci({ duration_ms: 100_000 })),
      ci({ duration_ms: 300_000 }),
      ci({ result: "failed", duration_ms: 400_000 }),
    ];
    expect(figure(atBoundary, "ci_validation_time_p95")).toMatchObject({
      value: 300_000,
      met: false,
      target: { op: "<", value: 300_000 },
    });
    expect(figure([ci({ duration_ms: 299_999 })], "ci_validation_time_p95")).toMatchObject({
      value: 299_999,
      sample: 1,
      met: true,
    });
  });

  it("merge time after CI p95 over merges that happened with a known CI time; < 60 s is strict", () => {
    const entries = [
      merge({ after_ci_ms: 60_000 }),
      merge({ pr_id: "2", result: "blocked", after_ci_ms: null }),
      merge({ pr_id: "3", result: "failed", after_ci_ms: 500_000 }),
      merge({ pr_id: "4", after_ci_ms: null }),
    ];
    expect(figure(entries, "merge_time_after_ci_p95")).toMatchObject({ value: 60_000, sample: 1, met: false });
    expect(figure([merge({ after_ci_ms: 59_999 })], "merge_time_after_ci_p95")).toMatchObject({
      value: 59_999,
      met: true,
    });
  });

  it("auto-merge success rate: low-risk auto merges, each PR by its latest attempt; > 90% is strict", () => {
    const entries = [
      merge({ pr_id: "1", result: "blocked", at: ago(50) }),
      merge({ pr_id: "1", result: "merged", at: ago(20) }),
      merge({ pr_id: "2", result: "failed" }),
      merge({ pr_id: "3", risk: "medium", result: "failed" }),
      merge({ pr_id: "4", auto: false, result: "failed" }),
      // Same PR id in another repository: another PR.
      merge({ pr_id: "1", repo: "Billing", result: "blocked" }),
    ];
    expect(figure(entries, "auto_merge_success_rate")).toMatchObject({ count: 1, sample: 3, met: false });
    const nineOfTen = [...times(9, (i) => merge({ pr_id: `m${i}` })), merge({ pr_id: "x", result: "failed" })];
    expect(figure(nineOfTen, "auto_merge_success_rate")).toMatchObject({ value: 0.9, sample: 10, met: false });
    expect(figure([...nineOfTen, merge({ pr_id: "m9" })], "auto_merge_success_rate")).toMatchObject({
      count: 10,
      sample: 11,
      met: true,
    });
    // Merged, then a later attempt on the same PR failed: the latest outcome counts.
    expect(
      figure([merge({ at: ago(30) }), merge({ at: ago(10), result: "failed" })], "auto_merge_success_rate"),
    ).toMatchObject({ value: 0, met: false });
  });

  it("merge rate is merged of created PRs; rollback rate is rolled back of merged PRs; neither has a target", () => {
    const entries = [
      gen({ pr_id: "A" }),
      gen({ pr_id: "B" }),
      gen({ pr_id: "C" }),
      gen({ pr_id: "D" }),
      gen({ pr_id: "A", status: "updated" }),
      merge({ pr_id: "A", result: "merged" }),
      merge({ pr_id: "B", auto: false, risk: "high", result: "merged" }),
      merge({ pr_id: "C", result: "blocked" }),
      // Created before the period: merged, but not one of the PRs created in it.
      merge({ pr_id: "E", result: "merged" }),
      rollback({ pr_id: "A", result: "failed" }),
    ];
    expect(figure(entries, "merge_rate")).toMatchObject({ value: 0.5, count: 2, sample: 4, target: null, met: null });
    expect(figure(entries, "rollback_rate")).toMatchObject({ count: 1, sample: 3, target: null, met: null });
  });

  it("rollback success rate: each rolled-back PR by its latest rollback, created or merged counting; > 95% is strict", () => {
    const nineteenOfTwenty = [
      ...times(19, (i) => rollback({ pr_id: `r${i}`, result: i % 2 ? "created" : "merged" })),
      rollback({ pr_id: "bad", result: "failed" }),
    ];
    expect(figure(nineteenOfTwenty, "rollback_success_rate")).toMatchObject({ value: 0.95, sample: 20, met: false });
    const retried = [...nineteenOfTwenty, rollback({ pr_id: "bad", result: "created", at: ago(1) })];
    expect(figure(retried, "rollback_success_rate")).toMatchObject({ value: 1, sample: 20, met: true });
    const revertMergeFailed = [
      rollback({ result: "created", at: ago(20) }),
      rollback({ result: "failed", at: ago(10) }),
    ];
    expect(figure(revertMergeFailed, "rollback_success_rate")).toMatchObject({ value: 0, sample: 1 });
  });

  it("template compliance: compliant of published generations (created, updated, unchanged); only 100% meets it", () => {
    const published = [gen(), gen({ status: "updated" }), gen({ status: "unchanged" })];
    const ignored = [gen({ status: "previewed", compliant: false }), gen({ status: "failed", compliant: false })];
    expect(figure([...published, ...ignored], "template_compliance")).toMatchObject({
      value: 1,
      count: 3,
      sample: 3,
      target: { op: ">=", value: 1 },
      met: true,
    });
    const oneBad = [...times(999, () => gen()), gen({ compliant: false })];
    expect(figure(oneBad, "template_compliance")).toMatchObject({ value: 0.999, met: false });
  });

  it("counts only entries from since to now, of the repository asked for", () => {
    const since = new Date(ago(60));
    const entries = [
      gen({ at: ago(61), status: "failed" }),
      gen({ at: ago(60) }),
      gen({ at: ago(0) }),
      gen({ at: ago(-1), status: "failed" }),
      gen({ at: ago(30), repo: "Billing", status: "failed" }),
    ];
    expect(figure(entries, "generation_success_rate", { since })).toMatchObject({ value: 2 / 3, sample: 3 });
    expect(figure(entries, "generation_success_rate", { since, repo: "OrderService" })).toMatchObject({
      value: 1,
      sample: 2,
    });
    // Without since: all but the one after now.
    expect(figure(entries, "generation_success_rate")).toMatchObject({ count: 2, sample: 4 });
    const report = computeReport(entries, { since, now: NOW, repo: "Billing" });
    expect(report).toMatchObject({ since: since.toISOString(), now: NOW.toISOString(), repo: "Billing", entries: 1 });
    expect(report.counts.generations.failed).toBe(1);
  });

  it("counts every outcome, auto and other merges apart", () => {
    const report = computeReport(
      [
        gen(),
        gen({ status: "previewed" }),
        ci(),
        ci({ result: "failed", failed_checks: ["lint"] }),
        merge(),
        merge({ auto: false, result: "blocked" }),
        rollback({ result: "created" }),
      ],
      { now: NOW },
    );
    expect(report.entries).toBe(7);
    expect(report.counts).toEqual({
      generations: { created: 1, updated: 0, unchanged: 0, previewed: 1, failed: 0 },
      ci: { succeeded: 1, failed: 1 },
      merges: { auto: { merged: 1, blocked: 0, failed: 0 }, manual: { merged: 0, blocked: 1, failed: 0 } },
      rollbacks: { created: 1, merged: 0, failed: 0 },
    });
  });

  it("refuses an invalid since or now", () => {
    expect(() => computeReport([], { now: new Date("nope") })).toThrow(RangeError);
    expect(() => computeReport([], { now: NOW, since: new Date("nope") })).toThrow(RangeError);
  });
});

describe("formatReport", () => {
  const entries = [
    ...times(19, (i) => gen({ duration_ms: 1000 + i })),
    gen({ status: "failed", duration_ms: 45_000, compliant: false }),
    ci({ duration_ms: 250_000 }),
    merge({ pr_id: "not-created-here", after_ci_ms: 75_000 }),
  ];
  const text = formatReport(computeReport(entries, { now: NOW, since: new Date("2026-01-01T00:00:00Z") }));
  const row = (label: string) => text.split("\n").find((l) => l.startsWith(label)) ?? "";

  it("prints one row per figure with value, sample, target and status", () => {
    expect(text).toMatch(/^Figure\s+Value\s+Sample\s+Target\s+Status$/m);
    expect(row("PR generation success rate")).toMatch(/95\.0%\s+19 of 20\s+> 95%\s+MISSED$/);
    expect(row("PR generation time p95")).toMatch(/1\.0 s\s+20\s+< 30 s\s+met$/);
    expect(row("CI validation time p95")).toMatch(/4 min 10 s\s+1\s+< 5 min\s+met$/);
    expect(row("Merge time after CI p95")).toMatch(/1 min 15 s\s+1\s+< 60 s\s+MISSED$/);
    expect(row("PR template compliance")).toMatch(/100\.0%\s+19 of 19\s+100%\s+met$/);
    expect(row("Merge rate")).toMatch(/0\.0%\s+0 of 19\s+-\s+-$/);
    expect(row("Rollback success rate")).toMatch(/-\s+0 of 0\s+> 95%\s+no data$/);
    expect(row("Auto-merge success rate")).toMatch(/100\.0%\s+1 of 1\s+> 90%\s+met$/);
  });

  it("lines the columns up and states the period, the counts and how p95 is taken", () => {
    const lines = text.split("\n");
    const header = lines.findIndex((l) => l.startsWith("Figure"));
    const valueColumn = lines[header]!.indexOf("Value");
    for (const l of lines.slice(header + 2, header + 2 + FIGURE_KEYS.length)) expect(l[valueColumn - 1]).toBe(" ");
    expect(lines[0]).toBe(`PR history, since 2026-01-01T00:00:00.000Z until ${NOW.toISOString()}: 22 entries`);
    expect(text).toContain("Generations   20 (created 19, failed 1)");
    expect(text).toContain("Rollbacks     0");
    expect(text).toContain("nearest rank");
  });

  it("never rounds a share up to a target it missed", () => {
    const text = formatReport(computeReport([...times(9999, () => gen()), gen({ compliant: false })], { now: NOW }));
    expect(text.split("\n").find((l) => l.startsWith("PR template compliance"))).toMatch(
      /99\.9%\s+9999 of 10000\s+100%\s+MISSED$/,
    );
  });
});
