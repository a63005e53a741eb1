/**
 * A PullRequestAlert is never lost to a crash: the store keeps it pending in the transaction that marks its
 * streak alerted, so when the process that raised it dies before handing it to the sinks, the next process to
 * record a streak outcome after the lease sends it, exactly once; while the raising process may still be sending
 * it, nobody else does. One test body for both backends (the state file and PostgreSQL), then what only the
 * shared database promises: two live workers taking over one dead worker's alert send it once.
 */
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { LifecycleEvent, PullRequestAlert } from "../../src/domain/events.js";
import { ALERT_LEASE_MS, withFailureAlerts, type StreakStore } from "../../src/events/failure-streak.js";
import { openStreakStore } from "../../src/events/failure-streak-store.js";
import { openDatabase, type Database } from "../../src/postgres/database.js";
import { openPostgresStreaks } from "../../src/postgres/failure-streaks.js";
import { created, failed } from "../fixtures/streak-events.js";
import { createTestDatabase, describePostgres, type TestDatabase } from "../postgres.js";

const T0 = new Date("2026-01-08T10:00:00.000Z").getTime();
const at = (ms: number) => () => new Date(T0 + ms);

/** A store handle on one shared backend at a clock, as a separate process would open it. */
type Backend = (now: () => Date) => StreakStore;

/** A process's alerting sink: what went out, and the alerts among it. */
function processOn(backend: Backend, now: () => Date) {
  const sent: LifecycleEvent[] = [];
  const alerts = withFailureAlerts(async (e) => void sent.push(e), { threshold: 3, store: () => backend(now), now });
  return {
    emit: alerts.emit,
    close: alerts.close,
    alerts: () => sent.filter((e): e is PullRequestAlert => e.event === "PullRequestAlert"),
  };
}

/**
 * A process that fails 3 times for OrderService and dies while its alert is being sent: the streak is marked
 * alerted, the alert reached no sink. Resolves once the alert is on its way.
 */
async function dieWhileAlerting(backend: Backend): Promise<void> {
  let onItsWay!: () => void;
  const sending = new Promise<void>((resolve) => (onItsWay = resolve));
  const dying = withFailureAlerts(
    (e) => {
      if (e.event !== "PullRequestAlert") return Promise.resolve();
      onItsWay();
      // The process is gone: this send never ends, and nothing after it runs.
      return new Promise<void>(() => undefined);
    },
    { threshold: 3, store: () => backend(at(0)), now: at(0) },
  );
  for (const n of [1, 2]) await dying.emit(failed(n));
  void dying.emit(failed(3));
  await sending;
}

function durableAlertContract(name: string, backend: () => Backend): void {
  describe(`durable failure alerts: ${name}`, () => {
    it("an alert whose process died before sending it goes out with the next outcome after the lease, once", async () => {
      const open = backend();
      await dieWhileAlerting(open);

      // While the dead process's lease lasts it might still be sending: nobody else sends it. Its streak is
      // alerted, so a fourth failure raises no second alert.
      const early = processOn(open, at(ALERT_LEASE_MS - 1));
      await early.emit(failed(4));
      await early.emit(failed(1, "BillingService"));
      expect(early.alerts()).toEqual([]);
      await early.close();

      // After the lease, the next outcome of any repository (here a success that clears the streak) sends it.
      const next = processOn(open, at(ALERT_LEASE_MS));
      await next.emit(created());
      expect(next.alerts().map((a) => [a.repo, a.consecutive_failures, a.failures.map((f) => f.message)])).toEqual([
        ["OrderService", 3, ["run 1 failed", "run 2 failed", "run 3 failed"]],
      ]);
      await next.close();

      const later = processOn(open, at(3 * ALERT_LEASE_MS));
      await later.emit(failed(2, "BillingService"));
      await later.emit(created());
      expect(later.alerts()).toEqual([]);
      await later.close();
    });

    it("an alert handed to the sinks is not sent again, whatever the sinks did with it", async () => {
      const open = backend();
      const refusing = withFailureAlerts(
        async (e) => {
          if (e.event === "PullRequestAlert") throw new Error("sink down (the outbox keeps it)");
        },
        { threshold: 3, store: () => open(at(0)), now: at(0) },
      );
      for (const n of [1, 2]) await refusing.emit(failed(n));
      await expect(refusing.emit(failed(3))).rejects.toThrow("sink down");
      await refusing.close();
      const later = processOn(open, at(2 * ALERT_LEASE_MS));
      await later.emit(failed(4));
      await later.emit(created());
      expect(later.alerts()).toEqual([]);
      await later.close();
    });
  });
}

describe("state file", () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), "pr-creator-alerts-"));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  let n = 0;
  durableAlertContract("SQLite", () => {
    const file = path.join(dir, `state-${++n}.db`);
    return (now) => openStreakStore(file, { now });
  });
});

describePostgres("PostgreSQL", () => {
  let testDb: TestDatabase;
  let shared: Database | undefined;
  beforeAll(async () => {
    testDb = await createTestDatabase("alerts");
    shared = await openDatabase(testDb.url);
  });
  afterEach(async () => {
    const { rows } = await shared!.query<{ t: string | null }>("SELECT to_regclass('pr_creator.failure_alerts') AS t");
    if (rows[0]?.t)
      await shared!.query("DELETE FROM pr_creator.failure_streaks; DELETE FROM pr_creator.failure_alerts");
  });
  afterAll(async () => {
    await shared?.close();
    await testDb?.drop();
  });

  durableAlertContract("PostgreSQL", () => (now) => openPostgresStreaks(shared!, { now }));

  it("two live workers taking over a dead worker's alert at once send it once", async () => {
    await dieWhileAlerting((now) => openPostgresStreaks(shared!, { now }));
    const pools = await Promise.all([1, 2].map(() => openDatabase(testDb.url)));
    try {
      const workers = pools.map((db) => processOn((now) => openPostgresStreaks(db, { now }), at(ALERT_LEASE_MS)));
      await Promise.all(workers.flatMap((w, i) => [w.emit(failed(10 + i, `Repo${i}`)), w.emit(created(`Other${i}`))]));
      expect(workers.flatMap((w) => w.alerts()).map((a) => [a.repo, a.consecutive_failures])).toEqual([
        ["OrderService", 3],
      ]);
      const { rows } = await shared!.query("SELECT id FROM pr_creator.failure_alerts");
      expect(rows).toEqual([]);
      await Promise.all(workers.map((w) => w.close()));
    } finally {
      await Promise.all(pools.map((db) => db.close()));
    }
  });
});
