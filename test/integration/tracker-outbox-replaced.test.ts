/**
 * A waiting tracker update that a run replaces (same issue, PR and moment) while another run is sending the older
 * one: the send must not delete the newer update. Both backends — the state file and PostgreSQL.
 */
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openDatabase, type Database } from "../../src/postgres/database.js";
import { openPostgresTrackerOutbox } from "../../src/postgres/tracker-outbox.js";
import { openTrackerOutbox, type TrackerOutbox } from "../../src/trackers/outbox.js";
import type { TrackerUpdate } from "../../src/trackers/tracker.js";
import { createTestDatabase, describePostgres, type TestDatabase } from "../postgres.js";

const LEASE_MS = 60_000;
const NOW = () => new Date("2026-01-08T10:00:00.000Z");

const opened = (title: string): TrackerUpdate => ({
  moment: "opened",
  issue_id: "BVL-232",
  trace_id: "trace-ord-1",
  at: "2026-01-08T10:00:00Z",
  pr: { id: 7, repo: "acme/order-service", branch: "feature/x", url: "https://example.test/pr/7", title },
  status: "updated",
});

function replacedWhileSent(name: string, backend: () => () => TrackerOutbox): void {
  describe(`tracker outbox: ${name}`, () => {
    it("keeps an update that replaced the one being sent, due at once; an unreplaced one is removed", async () => {
      const open = backend();
      const sender = open();
      const other = open();
      await sender.add(opened("first title"), "HTTP 503");
      const [row] = await sender.claim(LEASE_MS);
      expect(row!.update).toMatchObject({ pr: { title: "first title" } });
      // Another run, on another handle, has a newer update of the same key while the first is on its way.
      await other.add(opened("second title"), "an earlier update of the issue has not been sent yet");
      await sender.done(row!.id);
      const again = await other.claim(LEASE_MS);
      expect(again.map((r) => r.update?.pr?.title)).toEqual(["second title"]);
      await other.done(again[0]!.id);
      expect(await sender.list()).toEqual([]);
      await sender.close();
      await other.close();
    });
  });
}

describe("state file", () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), "pr-creator-outbox-replaced-"));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  replacedWhileSent("SQLite", () => {
    const file = path.join(dir, "state.db");
    return () => openTrackerOutbox(file, { now: NOW });
  });
});

describePostgres("PostgreSQL", () => {
  let testDb: TestDatabase;
  const pools: Database[] = [];
  beforeAll(async () => {
    testDb = await createTestDatabase("outboxreplaced");
    pools.push(await openDatabase(testDb.url), await openDatabase(testDb.url));
  });
  afterAll(async () => {
    await Promise.all(pools.map((db) => db.close()));
    await testDb?.drop();
  });
  let next = 0;
  replacedWhileSent("PostgreSQL", () => () => openPostgresTrackerOutbox(pools[next++ % 2]!, { now: NOW }));
});
