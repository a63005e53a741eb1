/**
 * The PR history ledger's contract, one test body run against both backends (the state file and PostgreSQL),
 * then what only the shared database promises: exactly-once announcements across processes.
 */
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { PrCreatorError } from "../../src/domain/errors.js";
import { createLedger, type PrKey } from "../../src/merge/ledger.js";
import { openHistory, type History, type HistoryEntryInput } from "../../src/metrics/history.js";
import { openDatabase, type Database } from "../../src/postgres/database.js";
import { openPostgresHistory } from "../../src/postgres/history.js";
import { createTestDatabase, describePostgres, type TestDatabase } from "../postgres.js";

function generation(o: Partial<Extract<HistoryEntryInput, { kind: "generation" }>> = {}): HistoryEntryInput {
  return {
    kind: "generation",
    at: "2026-01-08T09:00:00.000Z",
    repo: "OrderService",
    trace_id: "trace-ord-8128",
    pr_id: "101",
    status: "created",
    reason: null,
    risk: "low",
    duration_ms: 4200,
    compliant: true,
    drafted_by: "model",
    ...o,
  };
}

/** Two handles on one store, as two processes would hold. */
interface Backend {
  open(): Promise<History>;
}

function historyContract(name: string, backend: () => Backend): void {
  describe(`history contract: ${name}`, () => {
    it("lists entries oldest first by `at`, then in the order appended, in UTC", async () => {
      const h = await backend().open();
      await h.append(generation({ at: "2026-01-08T11:00:00+02:00", pr_id: "2" }));
      await h.append(generation({ at: new Date("2026-01-08T08:00:00Z"), pr_id: "1" }));
      await h.append({
        kind: "merge",
        at: "2026-01-08T09:00:00.000Z",
        repo: "OrderService",
        trace_id: "t",
        pr_id: "1",
        risk: "low",
        auto: true,
        result: "merged",
        after_ci_ms: 10,
        reason: null,
      });
      const entries = await h.list();
      expect(entries.map((e) => [e.at, e.kind, e.pr_id])).toEqual([
        ["2026-01-08T08:00:00.000Z", "generation", "1"],
        ["2026-01-08T09:00:00.000Z", "generation", "2"],
        ["2026-01-08T09:00:00.000Z", "merge", "1"],
      ]);
      expect(entries[0]).toEqual({ ...generation({ pr_id: "1" }), at: "2026-01-08T08:00:00.000Z" });
    });

    it("filters by since and by repo", async () => {
      const h = await backend().open();
      await h.append(generation({ at: "2026-01-01T00:00:00Z", repo: "A" }));
      await h.append(generation({ at: "2026-01-05T00:00:00Z", repo: "B" }));
      await h.append(generation({ at: "2026-01-09T00:00:00Z", repo: "A" }));
      expect((await h.list({ since: new Date("2026-01-04T00:00:00Z") })).map((e) => e.repo)).toEqual(["B", "A"]);
      expect((await h.list({ repo: "A" })).map((e) => e.at)).toEqual([
        "2026-01-01T00:00:00.000Z",
        "2026-01-09T00:00:00.000Z",
      ]);
    });

    it("refuses an invalid entry, naming the field, and stores nothing", async () => {
      const h = await backend().open();
      const error = await h.append(generation({ status: "failed" })).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(PrCreatorError);
      expect((error as PrCreatorError).message).toContain("reason");
      expect(await h.list()).toEqual([]);
    });

    it("another handle (another process) sees the entries", async () => {
      const b = backend();
      const [a, other] = [await b.open(), await b.open()];
      await a.append(generation());
      expect(await other.list()).toHaveLength(1);
    });

    it("an announcement is claimed once; a stale unconfirmed claim is taken over, a confirmed one never", async () => {
      const b = backend();
      const [a, other] = [await b.open(), await b.open()];
      expect(await a.claimAnnouncement("pr-1", "created", 60_000)).toBe(true);
      expect(await other.claimAnnouncement("pr-1", "created", 60_000)).toBe(false);
      expect(await other.claimAnnouncement("pr-1", "ready", 60_000)).toBe(true);
      // A claim older than staleMs (here: any) was never confirmed: its run died, so another run takes it.
      expect(await other.claimAnnouncement("pr-1", "created", -1)).toBe(true);
      await other.confirmAnnouncement("pr-1", "created");
      expect(await a.claimAnnouncement("pr-1", "created", -1)).toBe(false);
    });

    it("refuses work after close", async () => {
      const h = await backend().open();
      await h.close();
      await expect(h.list()).rejects.toThrow(/closed/);
    });
  });
}

describe("on the state file", () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), "pg-state-history-"));
  let n = 0;
  const opened: History[] = [];
  afterEach(async () => {
    await Promise.all(opened.splice(0).map((h) => h.close()));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  historyContract("sqlite", () => {
    const file = path.join(dir, `s${++n}`, "state.db");
    return {
      open: async () => {
        const h = openHistory(file);
        opened.push(h);
        return h;
      },
    };
  });
});

describePostgres("in PostgreSQL", () => {
  let test: TestDatabase;
  const pools: Database[] = [];
  beforeAll(async () => {
    test = await createTestDatabase("hist");
  });
  afterEach(async () => {
    await Promise.all(pools.splice(0).map((db) => db.close()));
    // Each test starts on empty tables (the migrations stay).
    const db = await openDatabase(test.url, { max: 1 });
    await db.query("DROP TABLE IF EXISTS pr_creator.pr_history, pr_creator.pr_history_announcements");
    await db.query("DELETE FROM pr_creator.migrations WHERE component = 'history'");
    await db.close();
  });
  afterAll(async () => {
    await test.drop();
  });
  // Each handle has its own pool: as separate processes, they share nothing but the server.
  const handle = async (): Promise<History> => {
    const db = await openDatabase(test.url, { max: 4 });
    pools.push(db);
    return openPostgresHistory(db);
  };
  historyContract("postgres", () => ({ open: handle }));

  it("announces a PR exactly once when two processes' ledgers race for it", async () => {
    const ledgers = [0, 1].map(() => createLedger({ where: "test database", open: handle }));
    const prs: PrKey[] = Array.from({ length: 20 }, (_, i) => ({ forge: "github", repo: "Org/Repo", pr_id: `${i}` }));
    const attempts = prs.flatMap((pr) =>
      [0, 1, 0, 1].map(async (i) => ({ pr: pr.pr_id, won: await ledgers[i]!.mayAnnounce("created", pr) })),
    );
    const results = await Promise.all(attempts);
    for (const pr of prs) {
      expect(results.filter((r) => r.pr === pr.pr_id && r.won)).toHaveLength(1);
    }
    await Promise.all(ledgers.map((l) => l.close()));
  });

  it("the ledger writes history that a ledger in another process lists as settled", async () => {
    const [a, b] = [0, 1].map(() => createLedger({ where: "test database", open: handle }));
    expect(await b!.settled("merge", "OrderService", "101")).toBe(false);
    expect(
      await a!.append({
        kind: "merge",
        at: new Date(),
        repo: "OrderService",
        trace_id: "t",
        pr_id: "101",
        risk: "low",
        auto: true,
        result: "merged",
        after_ci_ms: null,
        reason: null,
      }),
    ).toBeNull();
    expect(await b!.settled("merge", "OrderService", "101")).toBe(true);
    await Promise.all([a!.close(), b!.close()]);
  });
});
