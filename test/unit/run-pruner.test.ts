/**
 * The sweeper's pruning of long-finished runs, step by step on a hand-driven clock: one batch per step, a full
 * batch keeps pruning due (a backlog is worked off tick by tick), a short batch ends the round and reports it
 * once, the next round waits `everyMs`, a failure waits too, and 0 days prunes nothing.
 */
import { describe, expect, it } from "vitest";
import { finishedRunPruner } from "../../src/workers/sweeper.js";

function registryOf(batches: Array<number | Error>) {
  const calls: Array<[number, number]> = [];
  return {
    calls,
    pruneFinished: async (days: number, limit: number) => {
      calls.push([days, limit]);
      const next = batches.shift() ?? 0;
      if (next instanceof Error) throw next;
      return next;
    },
  };
}

const quiet = { onPruned: () => undefined, onError: () => undefined };

describe("finishedRunPruner", () => {
  it("works off a backlog one batch per step, reports the round once, then waits everyMs", async () => {
    let now = 0;
    const registry = registryOf([100, 100, 30, 5]);
    const pruner = finishedRunPruner({ registry, keepDays: 7, batchSize: 100, everyMs: 60_000, ...quiet }, () => now);
    expect(await pruner.step()).toBe(0);
    expect(await pruner.step()).toBe(0);
    expect(await pruner.step()).toBe(230);
    expect(registry.calls).toEqual([
      [7, 100],
      [7, 100],
      [7, 100],
    ]);
    now = 59_999;
    expect(await pruner.step()).toBe(0);
    expect(registry.calls).toHaveLength(3);
    now = 60_000;
    expect(await pruner.step()).toBe(5);
    expect(registry.calls).toHaveLength(4);
  });

  it("after a failure it tries again only everyMs later, counting afresh", async () => {
    let now = 0;
    const registry = registryOf([100, new Error("database down"), 7]);
    const pruner = finishedRunPruner({ registry, keepDays: 3, batchSize: 100, everyMs: 1000, ...quiet }, () => now);
    expect(await pruner.step()).toBe(0);
    await expect(pruner.step()).rejects.toThrow("database down");
    expect(await pruner.step()).toBe(0);
    expect(registry.calls).toHaveLength(2);
    now = 1000;
    expect(await pruner.step()).toBe(7);
  });

  it("keeps every run with 0 days", async () => {
    const registry = registryOf([100]);
    const pruner = finishedRunPruner({ registry, keepDays: 0, ...quiet });
    expect(await pruner.step()).toBe(0);
    expect(registry.calls).toEqual([]);
  });
});
