/**
 * The tracker outbox's contract, one test body run against both backends (the state file and PostgreSQL), then
 * what only the shared database promises: workers claiming at once never take the same row, and an update one
 * worker could not send is sent by another.
 */
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PolicySchema } from "../../src/domain/policy.js";
import type { Database } from "../../src/postgres/database.js";
import { openSharedState } from "../../src/postgres/shared-state.js";
import { openPostgresTrackerOutbox } from "../../src/postgres/tracker-outbox.js";
import { createTrackerNotifier } from "../../src/trackers/notify.js";
import { openTrackerOutbox, type TrackerOutbox } from "../../src/trackers/outbox.js";
import type { Tracker, TrackerUpdate } from "../../src/trackers/tracker.js";
import { describePostgres, storeDatabase } from "../postgres.js";

const LEASE_MS = 60_000;

const opened = (issue: string, status: "created" | "updated" = "created"): TrackerUpdate => ({
  moment: "opened",
  issue_id: issue,
  trace_id: "trace-ord-1",
  at: "2026-01-08T10:00:00Z",
  pr: { id: 7, repo: "acme/order-service", branch: "feature/x", url: "https://example.test/pr/7", title: "t" },
  status,
});

/** A clock the test moves by hand. */
function clock(start = "2026-01-08T10:00:00.000Z") {
  let t = Date.parse(start);
  return { now: () => new Date(t), advance: (ms: number) => void (t += ms) };
}

/** Opens a handle on one shared outbox, as a separate process would, on the clock given. */
type Backend = (now: () => Date) => TrackerOutbox;

function trackerOutboxContract(name: string, backend: () => Backend): void {
  describe(`tracker outbox contract: ${name}`, () => {
    it("keeps updates oldest first, one per key (a newer update of the same key replaces the waiting one)", async () => {
      const c = clock();
      const box = backend()(c.now);
      await box.add(opened("BVL-1"), "HTTP 503");
      await box.add(opened("BVL-2"), "HTTP 503");
      await box.add(opened("BVL-1", "updated"), "HTTP 502");
      expect(await box.waiting("BVL-1")).toBe(true);
      expect(await box.waiting("BVL-3")).toBe(false);
      const rows = await box.list();
      expect(rows.map((r) => [r.issueId, r.update?.moment, r.attempts, r.lastError, r.problem])).toEqual([
        ["BVL-1", "opened", 2, "HTTP 502", null],
        ["BVL-2", "opened", 1, "HTTP 503", null],
      ]);
      expect(rows[0]!.update).toMatchObject({ status: "updated" });
      expect(rows[0]!.createdAt).toBe("2026-01-08T10:00:00.000Z");
      await box.close();
    });

    it("leases claimed rows until they are done, failed or released, or the lease ends", async () => {
      const c = clock();
      const open = backend();
      const first = open(c.now);
      const second = open(c.now);
      for (const issue of ["BVL-1", "BVL-2", "BVL-3"]) await first.add(opened(issue), "down");
      const claimed = await first.claim(LEASE_MS);
      expect(claimed.map((r) => r.issueId)).toEqual(["BVL-1", "BVL-2", "BVL-3"]);
      expect(await second.claim(LEASE_MS)).toEqual([]);
      const [one, two, three] = claimed;
      await first.done(one!.id);
      await first.failed(two!.id, "HTTP 500");
      await first.release(three!.id);
      // Failed and released rows are free again; a failure counts an attempt, a release does not.
      expect((await second.claim(LEASE_MS)).map((r) => [r.issueId, r.attempts, r.lastError])).toEqual([
        ["BVL-2", 2, "HTTP 500"],
        ["BVL-3", 1, "down"],
      ]);
      expect(await first.claim(LEASE_MS)).toEqual([]);
      // A claimer that died leaves its rows to a claim after the lease.
      c.advance(LEASE_MS + 1);
      expect((await first.claim(LEASE_MS)).map((r) => r.issueId)).toEqual(["BVL-2", "BVL-3"]);
      await first.close();
      await second.close();
    });
  });
}

describe("state file", () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), "pr-creator-tracker-outbox-"));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  let n = 0;
  trackerOutboxContract("SQLite", () => {
    const file = path.join(dir, `state-${++n}.db`);
    return (now) => openTrackerOutbox(file, { now });
  });
});

describePostgres("PostgreSQL", () => {
  const { shared: sharedDb, pool } = storeDatabase("trackerbox", "pr_creator.tracker_outbox");
  trackerOutboxContract("PostgreSQL", () => (now) => openPostgresTrackerOutbox(sharedDb(), { now }));

  it("gives each waiting row to exactly one of several workers claiming at once", async () => {
    const c = clock();
    const dbs = await Promise.all([pool(), pool(), pool()]);
    const boxes = dbs.map((db) => openPostgresTrackerOutbox(db, { now: c.now }));
    const issues = Array.from({ length: 30 }, (_, i) => `BVL-${i + 1}`);
    for (const issue of issues) await boxes[0]!.add(opened(issue), "down");
    // Several rounds of racing claims: a row taken twice shows up twice below.
    const claimed = (await Promise.all(boxes.flatMap((box) => [box.claim(LEASE_MS), box.claim(LEASE_MS)]))).flat();
    expect(claimed.map((r) => r.issueId).sort()).toEqual([...issues].sort());
  });

  it("sends an update one worker could not send from another worker, once (openSharedState picks the database)", async () => {
    const [a, b] = [await pool(), await pool()];
    const retry = PolicySchema.parse({}).retry_policy;
    const applied: TrackerUpdate[] = [];
    let down = true;
    const tracker: Tracker = {
      kind: "linear",
      async apply(update) {
        if (down) throw Object.assign(new Error("HTTP 400"), { status: 400 });
        applied.push(update);
        return { actions: ["linked"] };
      },
      classify: (error) => ({ status: (error as { status: number }).status }),
    };
    const notifierOn = async (db: Database) => {
      const state = await openSharedState({ database: {} }, {}, "/unused/state.db", { database: db });
      return createTrackerNotifier({ tracker, retry, stateFile: "/unused/state.db", outbox: state.trackerOutbox! });
    };
    const first = await notifierOn(a);
    const [warning] = await first.send([opened("BVL-232")]);
    expect(warning).toContain(`It waits in the tracker outbox in ${a.url}`);
    await first.close();
    down = false;
    const second = await notifierOn(b);
    expect(await second.flush()).toEqual([]);
    expect(await second.flush()).toEqual([]);
    expect(applied.map((u) => u.issue_id)).toEqual(["BVL-232"]);
    await second.close();
    const embedded = await openSharedState({ database: {} }, {}, "/unused/state.db", { database: null });
    expect(embedded.trackerOutbox).toBeUndefined();
  });
});
