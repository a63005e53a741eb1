/**
 * The failure streaks' contract, one test body run against both backends (the state file and PostgreSQL), then
 * what only the shared database promises: workers on separate pools failing at once for one repository count
 * every failure and alert exactly once.
 */
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { LifecycleEvent, PullRequestAlert } from "../../src/domain/events.js";
import { withFailureAlerts, type StreakStore } from "../../src/events/failure-streak.js";
import { openStreakStore } from "../../src/events/failure-streak-store.js";
import { openPostgresStreaks } from "../../src/postgres/failure-streaks.js";
import { openSharedState } from "../../src/postgres/shared-state.js";
import { created, failed } from "../fixtures/streak-events.js";
import { describePostgres, storeDatabase } from "../postgres.js";

const NOW = () => new Date("2026-01-08T10:00:00.000Z");

/** An agent's alerting sink on `store`: what went out, and the alerts among it. */
function agentOn(store: () => StreakStore, threshold = 3) {
  const sent: LifecycleEvent[] = [];
  const alerts = withFailureAlerts(async (e) => void sent.push(e), { threshold, store, now: NOW });
  return {
    emit: alerts.emit,
    close: alerts.close,
    alerts: () => sent.filter((e): e is PullRequestAlert => e.event === "PullRequestAlert"),
  };
}

/** Opens a store on one shared backend, as a separate process would. */
type Backend = () => StreakStore;

function streakContract(name: string, backend: () => Backend): void {
  describe(`failure streak contract: ${name}`, () => {
    it("alerts once after 3 failures in a row; a success clears the streak and the next streak alerts again", async () => {
      const agent = agentOn(backend());
      for (const n of [1, 2]) await agent.emit(failed(n));
      expect(agent.alerts()).toEqual([]);
      await agent.emit(failed(3));
      expect(agent.alerts().map((a) => [a.repo, a.consecutive_failures, a.failures.map((f) => f.message)])).toEqual([
        ["OrderService", 3, ["run 1 failed", "run 2 failed", "run 3 failed"]],
      ]);
      await agent.emit(failed(4));
      expect(agent.alerts()).toHaveLength(1);
      await agent.emit(created());
      for (const n of [5, 6]) await agent.emit(failed(n));
      expect(agent.alerts()).toHaveLength(1);
      await agent.emit(failed(7));
      expect(agent.alerts().map((a) => a.consecutive_failures)).toEqual([3, 3]);
      expect(agent.alerts()[1]!.failures.map((f) => f.message)).toEqual([
        "run 5 failed",
        "run 6 failed",
        "run 7 failed",
      ]);
      await agent.close();
    });

    it("keeps one streak per repository, and across store handles (runs)", async () => {
      const open = backend();
      for (const n of [1, 2]) {
        const run = agentOn(open);
        await run.emit(failed(n));
        await run.emit(failed(n, "BillingService"));
        await run.close();
      }
      const third = agentOn(open);
      await third.emit(failed(3));
      expect(third.alerts().map((a) => [a.repo, a.consecutive_failures])).toEqual([["OrderService", 3]]);
      await third.close();
    });
  });
}

describe("state file", () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), "pr-creator-streaks-"));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  let n = 0;
  streakContract("SQLite", () => {
    const file = path.join(dir, `state-${++n}.db`);
    return () => openStreakStore(file, { now: NOW });
  });
});

describePostgres("PostgreSQL", () => {
  const { shared: sharedDb, pool } = storeDatabase("streaks", "pr_creator.failure_streaks");

  streakContract("PostgreSQL", () => () => openPostgresStreaks(sharedDb(), { now: NOW }));

  it("counts every failure once and alerts exactly once when two workers fail at once for one repository", async () => {
    const [a, b] = [await pool(), await pool()];
    const failures = 12;
    const workers = [a, b].map((db) => agentOn(() => openPostgresStreaks(db, { now: NOW }), failures));
    await Promise.all(Array.from({ length: failures }, (_, i) => workers[i % 2]!.emit(failed(i + 1))));
    const alerts = workers.flatMap((w) => w.alerts());
    // A lost update would leave the count short of the threshold (no alert); two readers of one count, two alerts.
    expect(alerts.map((x) => [x.repo, x.consecutive_failures])).toEqual([["OrderService", failures]]);
    await Promise.all(workers.map((w) => w.close()));
  });

  it("a success for a repository with no streak writes nothing", async () => {
    const agent = agentOn(() => openPostgresStreaks(sharedDb(), { now: NOW }));
    await agent.emit(failed(1, "BillingService"));
    // Every row the store tries to insert (a BEFORE trigger also sees inserts that ON CONFLICT drops).
    await sharedDb().query("CREATE TABLE streak_inserts (key text)");
    await sharedDb().query(`CREATE FUNCTION note_streak_insert() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN INSERT INTO streak_inserts VALUES (NEW.key); RETURN NEW; END $$`);
    await sharedDb().query(`CREATE TRIGGER note_insert BEFORE INSERT ON pr_creator.failure_streaks
      FOR EACH ROW EXECUTE FUNCTION note_streak_insert()`);
    try {
      await agent.emit(created());
      await agent.emit(created("BillingService"));
      expect((await sharedDb().query("SELECT key FROM streak_inserts")).rows).toEqual([]);
      expect((await sharedDb().query("SELECT key FROM pr_creator.failure_streaks")).rows).toEqual([]);
    } finally {
      await sharedDb().query("DROP TRIGGER note_insert ON pr_creator.failure_streaks");
      await sharedDb().query("DROP FUNCTION note_streak_insert(); DROP TABLE streak_inserts");
      await agent.close();
    }
  });

  it("openSharedState keeps the streaks in the database when one is configured, in the state file otherwise", async () => {
    const db = await pool();
    const onDb = await openSharedState({ database: {} }, {}, "/unused/state.db", { database: db, now: NOW });
    const agent = agentOn(onDb.streaks!);
    for (const n of [1, 2, 3]) await agent.emit(failed(n));
    expect(agent.alerts()).toHaveLength(1);
    const { rows } = await db.query<{ key: string; count: number }>(
      "SELECT key, count FROM pr_creator.failure_streaks",
    );
    expect(rows).toEqual([{ key: "repo:OrderService", count: 3 }]);
    const embedded = await openSharedState({ database: {} }, {}, "/unused/state.db", { database: null });
    expect(embedded.streaks).toBeUndefined();
  });
});
