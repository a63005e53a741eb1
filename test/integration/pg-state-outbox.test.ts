/**
 * The event outbox's contract, one test body run against both backends (the state file and PostgreSQL), then
 * what only the shared database promises: racing flushes from several workers deliver each event once, in order.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { AGENT_NAME, type LifecycleEvent } from "../../src/domain/events.js";
import { createEventDelivery, EventDeliveryError } from "../../src/events/delivery.js";
import { openOutbox, outboxStore, type OutboxStore } from "../../src/events/outbox.js";
import type { DeliverySink } from "../../src/events/sinks.js";
import { openDatabase, type Database } from "../../src/postgres/database.js";
import { openPostgresOutbox } from "../../src/postgres/outbox.js";
import { makePolicy } from "../unit/builders.js";
import { createTestDatabase, describePostgres, type TestDatabase } from "../postgres.js";

function event(n: number): LifecycleEvent {
  return {
    event: "PullRequestCreated",
    pr_id: n,
    repo: "OrderService",
    branch: "feature/order-handler",
    trace_id: `trace-ord-${n}`,
    created_by: AGENT_NAME,
    timestamp: "2026-01-08T10:00:00.000Z",
    blueprint_id: "bp-ord",
    component_scope: "Order",
    commit_hash: "9fbc871",
    issue_id: null,
  };
}

/** A clock the test moves by hand. */
function clock(start = "2026-01-08T10:00:00.000Z") {
  let t = Date.parse(start);
  return { now: () => new Date(t), advance: (ms: number) => void (t += ms) };
}

/** A sink that records what it was given, and fails while `down` is set. */
function probe() {
  const got: Array<{ pr: number; deliveryId: string }> = [];
  const state = { down: false };
  const sink: DeliverySink = async (e, deliveryId) => {
    if (state.down) throw new Error("503 from the sink");
    got.push({ pr: (e as { pr_id: number }).pr_id, deliveryId });
  };
  return { got, state, sink };
}

/** Handles on one outbox, as separate processes would hold, all on the clock given. */
type Backend = (now: () => Date) => { open(): Promise<OutboxStore> };

function outboxContract(name: string, backend: () => Backend): void {
  describe(`outbox contract: ${name}`, () => {
    it("keeps events until their sink takes them, oldest first, with the delivery id the sink saw first", async () => {
      const c = clock();
      const box = await backend()(c.now).open();
      for (const n of [1, 2, 3]) await box.add({ sink: "a", event: event(n), deliveryId: `d${n}`, error: "down" });
      await box.add({ sink: "gone", event: event(9), deliveryId: "d9", error: "down" });
      const a = probe();
      expect(await box.flush(new Map([["a", a.sink]]))).toEqual({ sent: 3, waiting: 1 });
      expect(a.got).toEqual([
        { pr: 1, deliveryId: "d1" },
        { pr: 2, deliveryId: "d2" },
        { pr: 3, deliveryId: "d3" },
      ]);
      // The sink no longer configured keeps its row.
      expect((await box.list()).map((w) => [w.sink, w.deliveryId, w.attempts, w.lastError])).toEqual([
        ["gone", "d9", 1, "down"],
      ]);
    });

    it("stops a sink at its first failure and backs off; later events never overtake it", async () => {
      const c = clock();
      const box = await backend()(c.now).open();
      for (const n of [1, 2]) await box.add({ sink: "a", event: event(n), deliveryId: `d${n}`, error: "down" });
      const a = probe();
      a.state.down = true;
      expect(await box.flush(new Map([["a", a.sink]]))).toEqual({ sent: 0, waiting: 2 });
      const [first, second] = await box.list();
      expect(first).toMatchObject({ attempts: 2, lastError: "503 from the sink" });
      expect(second!.nextAttemptAt).toBe(first!.nextAttemptAt);
      a.state.down = false;
      // Not due yet: nothing is sent.
      expect(await box.flush(new Map([["a", a.sink]]))).toEqual({ sent: 0, waiting: 2 });
      await box.add({ sink: "a", event: event(3), deliveryId: "d3", error: "down" });
      expect(await box.flush(new Map([["a", a.sink]]))).toEqual({ sent: 0, waiting: 3 });
      c.advance(31_000);
      expect(await box.flush(new Map([["a", a.sink]]))).toEqual({ sent: 3, waiting: 0 });
      expect(a.got.map((g) => g.pr)).toEqual([1, 2, 3]);
    });

    it("another handle (another process) sees and sends what one kept; a row leased by a flush is not sent twice", async () => {
      const c = clock();
      const b = backend()(c.now);
      const [one, other] = [await b.open(), await b.open()];
      await one.add({ sink: "a", event: event(1), deliveryId: "d1", error: "down" });
      expect(await other.list()).toHaveLength(1);
      // A flush that hangs on its sink holds the lease; a second flush meanwhile sends nothing.
      let release!: () => void;
      const hung = new Promise<void>((resolve) => (release = resolve));
      let started!: () => void;
      const inSink = new Promise<void>((resolve) => (started = resolve));
      const slow = one.flush(
        new Map<string, DeliverySink>([
          [
            "a",
            async () => {
              started();
              await hung;
            },
          ],
        ]),
      );
      await inSink;
      const a = probe();
      expect(await other.flush(new Map([["a", a.sink]]))).toEqual({ sent: 0, waiting: 1 });
      release();
      expect(await slow).toEqual({ sent: 1, waiting: 0 });
      expect(a.got).toEqual([]);
    });

    it("keeps an unreadable row for a person and skips it", async () => {
      const c = clock();
      const box = await backend()(c.now).open();
      await box.add({ sink: "a", event: { event: "Nope" } as unknown as LifecycleEvent, deliveryId: "x", error: "e" });
      await box.add({ sink: "a", event: event(2), deliveryId: "d2", error: "e" });
      const a = probe();
      expect(await box.flush(new Map([["a", a.sink]]))).toEqual({ sent: 1, waiting: 1 });
      expect((await box.list())[0]!.lastError).toMatch(/^the stored event is not a lifecycle event/);
    });
  });
}

describe("on the state file", () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), "pg-state-outbox-"));
  let n = 0;
  const opened: OutboxStore[] = [];
  afterEach(async () => {
    await Promise.all(opened.splice(0).map((o) => o.close()));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  outboxContract("sqlite", () => {
    const file = path.join(dir, `s${++n}`, "state.db");
    return (now) => ({
      open: async () => {
        const box = outboxStore(openOutbox(file, { now }));
        opened.push(box);
        return box;
      },
    });
  });
});

describePostgres("in PostgreSQL", () => {
  let test: TestDatabase;
  const pools: Database[] = [];
  beforeAll(async () => {
    test = await createTestDatabase("outbox");
  });
  afterEach(async () => {
    await Promise.all(pools.splice(0).map((db) => db.close()));
    const db = await openDatabase(test.url, { max: 1 });
    await db.query("TRUNCATE pr_creator.event_outbox");
    await db.close();
  });
  afterAll(async () => {
    await test.drop();
  });
  // Each handle has its own pool: as separate processes, they share nothing but the server.
  const handle = async (now: () => Date): Promise<OutboxStore> => {
    const db = await openDatabase(test.url, { max: 4 });
    pools.push(db);
    return openPostgresOutbox(db, { now });
  };
  outboxContract("postgres", () => (now) => ({ open: () => handle(now) }));

  it("delivers each event once, in order per sink, when four workers flush at the same time", async () => {
    const workers = await Promise.all([0, 1, 2, 3].map(() => handle(() => new Date())));
    const sinks = ["a", "b", "c"];
    for (let n = 1; n <= 30; n++) {
      await workers[n % 4]!.add({ sink: sinks[n % 3]!, event: event(n), deliveryId: `d${n}`, error: "down" });
    }
    const got = new Map(sinks.map((s) => [s, [] as number[]]));
    const sinkMap = new Map<string, DeliverySink>(
      sinks.map((s) => [
        s,
        async (e) => {
          // Yield between deliveries, so racing flushes interleave.
          await new Promise((resolve) => setImmediate(resolve));
          got.get(s)!.push((e as { pr_id: number }).pr_id);
        },
      ]),
    );
    // Rounds of racing flushes until the outbox is empty.
    for (let round = 0; round < 10 && (await workers[0]!.list()).length > 0; round++) {
      await Promise.all(workers.map((w) => w.flush(sinkMap)));
    }
    expect(await workers[0]!.list()).toEqual([]);
    for (const [i, s] of sinks.entries()) {
      const expected = Array.from({ length: 30 }, (_, k) => k + 1).filter((n) => n % 3 === i);
      expect(got.get(s)).toEqual(expected);
    }
  });

  it("event delivery keeps what a sink refused in the database, and another worker's flush sends it", async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), "pg-outbox-"));
    // The events file's folder is a file at first, so the JSON-lines sink (a durable one) refuses the event.
    const blocker = path.join(dir, "events");
    writeFileSync(blocker, "");
    const file = path.join(blocker, "events.jsonl");
    const worker = () =>
      createEventDelivery({
        policy: makePolicy({ events: { jsonl_file: file } }),
        stateFile: null,
        env: {},
        outbox: { where: "the test database", open: () => handle(() => new Date()) },
      });
    const [one, other] = [worker(), worker()];
    try {
      const error = await one.emit(event(7)).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(EventDeliveryError);
      expect((error as EventDeliveryError).message).toContain("waits in the outbox in the test database");
      expect(one.describe()).toContain("outbox: the test database");
      rmSync(blocker);
      expect(await other.flush()).toEqual({ sent: 1, waiting: 0 });
      expect(
        readFileSync(file, "utf8")
          .trim()
          .split("\n")
          .map((l) => (JSON.parse(l) as { pr_id: number }).pr_id),
      ).toEqual([7]);
      expect(await one.flush()).toEqual({ sent: 0, waiting: 0 });
    } finally {
      await Promise.all([one.close(), other.close()]);
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
