/**
 * `serve` without a database keeps finished runs for `server.keep_finished_runs_days`, as the workers do in
 * PostgreSQL (postgres-runs-retention.test.ts): done and failed runs older than that leave the state file at start
 * and then periodically, in batches; queued, running and awaiting_approval runs stay. Time is the injected clock
 * and fake timers; every wait is for an event (a log line, a callback), bounded only so a bug fails.
 */
import Database from "better-sqlite3";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { createAgent } from "../../src/agent/create-agent.js";
import { PolicySchema, type Policy } from "../../src/domain/policy.js";
import { createHttpServer } from "../../src/server/http.js";
import { startRunPruner } from "../../src/server/runs-retention.js";
import { openRunStore, PRUNE_FINISHED_SQL, type RunStore } from "../../src/server/runs-store.js";
import { startAzureDevOpsEmulator, type AzureEmulator } from "../emulators/azure-devops.js";
import { pvcChangeRequest, seedDataVolumeOnAzure } from "./worlds.js";

const DAY = 86_400_000;
const T0 = Date.parse("2026-03-01T12:00:00.000Z");
const iso = (ms: number) => new Date(ms).toISOString();

let root: string;
let cases = 0;
beforeAll(async () => {
  root = await mkdtemp(path.join(tmpdir(), "pr-creator-serve-retention-"));
});
afterAll(() => rm(root, { recursive: true, force: true }));
afterEach(() => {
  vi.useRealTimers();
});

const stateFile = () => path.join(root, `case-${++cases}`, "state.db");

/** A run accepted at `at` and, unless status is queued or running, finished then with that status. */
function addRun(
  store: RunStore,
  id: string,
  status: "queued" | "running" | "done" | "failed" | "awaiting_approval",
  at: number,
  key: string | null = null,
): void {
  store.insert({
    run_id: id,
    thread_id: `thread-${id}`,
    event: "ChangeRequested",
    input: { id },
    request_hash: `hash-${id}`,
    idempotency_key: key,
    submitted_at: iso(at),
  });
  if (status === "queued") return;
  store.markRunning(id, iso(at));
  if (status === "running") return;
  store.finish(id, { status, result: null, error: null, at: iso(at) });
}

/** Resolves with the next value a callback receives; rejects after a bound so a missing call fails the test. */
function nextCall<T>(what: string): { fn: (value: T) => void; next: () => Promise<T> } {
  let waiting: ((value: T) => void) | undefined;
  const received: T[] = [];
  return {
    fn(value) {
      if (waiting) {
        waiting(value);
        waiting = undefined;
      } else received.push(value);
    },
    next() {
      if (received.length > 0) return Promise.resolve(received.shift()!);
      return new Promise<T>((resolve, reject) => {
        const bound = setTimeout(() => reject(new Error(`gave up waiting for ${what}`)), 20_000);
        bound.unref?.();
        waiting = (value) => {
          clearTimeout(bound);
          resolve(value);
        };
      });
    },
  };
}

describe("the run registry in the state file", () => {
  it("deletes only done and failed runs that finished before the cutoff, oldest first, a batch at a time", () => {
    const file = stateFile();
    const store = openRunStore(file);
    try {
      addRun(store, "done-old", "done", T0 - 10 * DAY, "key-old");
      addRun(store, "failed-old", "failed", T0 - 9 * DAY);
      addRun(store, "done-older", "done", T0 - 20 * DAY);
      addRun(store, "done-recent", "done", T0 - DAY);
      addRun(store, "paused-old", "awaiting_approval", T0 - 30 * DAY);
      addRun(store, "queued-old", "queued", T0 - 30 * DAY);
      addRun(store, "running-old", "running", T0 - 30 * DAY);
      addRun(store, "resumed-old", "awaiting_approval", T0 - 30 * DAY);
      store.requeueWithDecision("resumed-old", { approved: true });

      const cutoff = iso(T0 - 7 * DAY);
      expect(store.pruneFinished(cutoff, 2)).toBe(2);
      // Oldest first: the 20- and 10-day-old runs went, the 9-day-old one waits for the next batch.
      expect(store.get("done-older")).toBeUndefined();
      expect(store.get("done-old")).toBeUndefined();
      expect(store.get("failed-old")?.status).toBe("failed");
      expect(store.pruneFinished(cutoff, 2)).toBe(1);
      expect(store.pruneFinished(cutoff, 2)).toBe(0);
      for (const id of ["done-recent", "paused-old", "queued-old", "running-old", "resumed-old"])
        expect(store.get(id), id).toBeDefined();

      // The key went with its run: the same key now names a new run.
      expect(store.byIdempotencyKey("key-old")).toBeUndefined();
      addRun(store, "done-old-again", "queued", T0, "key-old");
      expect(store.byIdempotencyKey("key-old")?.run_id).toBe("done-old-again");
    } finally {
      store.close();
    }

    // A batch reads the partial index, not every finished run.
    const db = new Database(file, { readonly: true });
    try {
      const plan = db.prepare(`EXPLAIN QUERY PLAN ${PRUNE_FINISHED_SQL}`).all(iso(T0), 10) as { detail: string }[];
      const steps = plan.map((row) => row.detail).join("; ");
      expect(steps).toMatch(/USING INDEX server_runs_finished/);
      expect(steps).not.toMatch(/TEMP B-TREE/);
    } finally {
      db.close();
    }
  });
});

describe("the pruner", () => {
  it("works off a backlog one batch per event-loop turn and reports the round once", async () => {
    const store = openRunStore(":memory:");
    try {
      for (let i = 0; i < 2500; i += 1) addRun(store, `old-${i}`, i % 2 === 0 ? "done" : "failed", T0 - 8 * DAY + i);
      addRun(store, "paused", "awaiting_approval", T0 - 8 * DAY);
      const remaining = () => countOf(store);
      const batches: number[] = [];
      const pruned = nextCall<number>("the pruned count");
      const pruner = startRunPruner({
        store: {
          pruneFinished: (before, limit) => {
            const n = store.pruneFinished(before, limit);
            batches.push(n);
            return n;
          },
        },
        keepDays: 7,
        now: () => new Date(T0),
        batchSize: 1000,
        onPruned: pruned.fn,
        onError: (error) => {
          throw error;
        },
      });
      // Queued after the pruner's first turn: it runs between the first and second batch.
      const between = new Promise<number>((resolve) => setImmediate(() => resolve(remaining())));
      expect(await between).toBe(1501);
      expect(await pruned.next()).toBe(2500);
      expect(batches).toEqual([1000, 1000, 500]);
      expect(store.get("paused")?.status).toBe("awaiting_approval");
      await pruner.stop();
    } finally {
      store.close();
    }
  });

  it("prunes at start and then every everyMs by the injected clock, never the recent or unfinished runs, until stopped", async () => {
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout"] });
    const store = openRunStore(stateFile());
    let now = T0;
    try {
      addRun(store, "eight-days", "done", T0 - 8 * DAY);
      addRun(store, "six-days", "failed", T0 - 6 * DAY);
      addRun(store, "paused", "awaiting_approval", T0 - 60 * DAY);
      addRun(store, "queued", "queued", T0 - 60 * DAY);
      const pruned = nextCall<number>("the pruned count");
      const pruner = startRunPruner({
        store,
        keepDays: 7,
        now: () => new Date(now),
        everyMs: 60_000,
        onPruned: pruned.fn,
        onError: (error) => {
          throw error;
        },
      });
      expect(await pruned.next()).toBe(1);
      expect(store.get("eight-days")).toBeUndefined();
      expect(store.get("six-days")?.status).toBe("failed");

      // Two days later the six-day-old run is eight days old; the next round starts when the timer fires.
      now = T0 + 2 * DAY;
      await vi.advanceTimersByTimeAsync(59_999);
      expect(vi.getTimerCount()).toBe(1);
      expect(store.get("six-days")?.status).toBe("failed");
      await vi.advanceTimersByTimeAsync(1);
      expect(await pruned.next()).toBe(1);
      expect(store.get("six-days")).toBeUndefined();
      expect(store.get("paused")?.status).toBe("awaiting_approval");
      expect(store.get("queued")?.status).toBe("queued");

      await pruner.stop();
      expect(vi.getTimerCount()).toBe(0);
    } finally {
      store.close();
    }
  });

  it("keeps every run with keep_finished_runs_days 0", async () => {
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout"] });
    const store = openRunStore(stateFile());
    try {
      addRun(store, "ancient", "done", T0 - 3000 * DAY);
      const spy = vi.fn(store.pruneFinished);
      const pruner = startRunPruner({
        store: { pruneFinished: spy },
        keepDays: 0,
        now: () => new Date(T0),
        onPruned: () => undefined,
        onError: () => undefined,
      });
      await new Promise((resolve) => setImmediate(resolve));
      expect(vi.getTimerCount()).toBe(0);
      expect(spy).not.toHaveBeenCalled();
      await pruner.stop();
      expect(store.get("ancient")?.status).toBe("done");
    } finally {
      store.close();
    }
  });
});

function countOf(store: RunStore): number {
  let n = 0;
  for (let i = 0; i < 2500; i += 1) if (store.get(`old-${i}`)) n += 1;
  return n + (store.get("paused") ? 1 : 0);
}

// ---------------------------------------------------------------------------------------------------------
// End to end: a serve restarted a week later
// ---------------------------------------------------------------------------------------------------------

const TOKEN = "azdo-retention-secret-pat";
const REPO = "gitops";
describe("serve in process: finished runs are kept server.keep_finished_runs_days", () => {
  let az: AzureEmulator;
  beforeAll(async () => {
    az = await startAzureDevOpsEmulator({ token: TOKEN });
    seedDataVolumeOnAzure(az, REPO, "0b".repeat(20));
  });
  afterAll(() => az.close());

  const forgeEnv = () => ({
    AZURE_DEVOPS_TOKEN: TOKEN,
    AZURE_DEVOPS_ORG_URL: az.orgUrl,
    AZURE_DEVOPS_PROJECT: az.project,
  });
  const event = (id: string) => pvcChangeRequest(id, REPO);
  const prsOf = (id: string) =>
    az.state.pullRequests.filter((p) => p.sourceRefName === `refs/heads/agent-sre/pvc-size-${id}`);

  async function serveAt(policy: Policy, clock: () => number, onLog: (message: string) => void = () => undefined) {
    const agent = await createAgent({ policy, env: forgeEnv(), model: null, cwd: path.dirname(policy.state_file) });
    const http = createHttpServer({
      agent,
      server: policy.server,
      env: {},
      now: () => new Date(clock()),
      logger: (_level, message) => onLog(message),
    });
    const base = await http.listen();
    const post = async (id: string, key: string) => {
      const response = await fetch(`${base}/v1/events`, {
        method: "POST",
        headers: { "content-type": "application/json", "idempotency-key": key },
        body: JSON.stringify(event(id)),
      });
      return { status: response.status, body: (await response.json()) as { run_id: string; status: string } };
    };
    const get = async (runId: string) => {
      const response = await fetch(`${base}/v1/runs/${runId}`);
      return { status: response.status, body: (await response.json()) as { status: string; result: unknown } };
    };
    /** Polls the run until it leaves queued and running; the bound only turns a bug into a failure. */
    const settled = async (runId: string) => {
      const give = Date.now() + 20_000;
      for (;;) {
        const run = await get(runId);
        if (!["queued", "running"].includes(run.body.status)) return run.body;
        if (Date.now() > give) throw new Error(`run ${runId} did not settle`);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    };
    return {
      post,
      get,
      settled,
      async stop() {
        await http.close();
        await agent.close();
      },
    };
  }

  it("a restart a week later deletes the long-finished run: GET answers 404 and a repeat of its event is a new run", async () => {
    const policy = PolicySchema.parse({
      forge: "azure-devops",
      retry_policy: { base_delay_ms: 10 },
      merge: { auto_merge_levels: [] },
      state_file: stateFile(),
      server: { port: 0 },
    });
    expect(policy.server.keep_finished_runs_days).toBe(7);
    let now = T0;

    const first = await serveAt(policy, () => now);
    const old = await first.post("9101", "key-9101");
    expect(old.status).toBe(202);
    expect((await first.settled(old.body.run_id)).status).toBe("done");
    now = T0 + 3 * DAY;
    const recent = await first.post("9102", "key-9102");
    expect((await first.settled(recent.body.run_id)).status).toBe("done");
    await first.stop();

    // A run paused long ago stays resumable however old it is.
    const store = openRunStore(policy.state_file);
    addRun(store, "run_paused-long-ago", "awaiting_approval", T0 - 30 * DAY);
    store.close();

    now = T0 + 8 * DAY;
    const logged = nextCall<string>("the pruning log line");
    const second = await serveAt(
      policy,
      () => now,
      (message) => {
        if (message.startsWith("Deleted")) logged.fn(message);
      },
    );
    try {
      expect(await logged.next()).toBe("Deleted 1 run finished over 7 days ago.");
      expect((await second.get(old.body.run_id)).status).toBe(404);
      expect((await second.get(recent.body.run_id)).body.status).toBe("done");
      expect((await second.get("run_paused-long-ago")).body.status).toBe("awaiting_approval");

      // The key went with its run: the repeat is a new run, which updates the same PR.
      const repeat = await second.post("9101", "key-9101");
      expect(repeat.status).toBe(202);
      expect(repeat.body.run_id).not.toBe(old.body.run_id);
      expect((await second.settled(repeat.body.run_id)).status).toBe("done");
      expect(prsOf("9101")).toHaveLength(1);

      // The kept run still holds its key.
      const retried = await second.post("9102", "key-9102");
      expect(retried.status).toBe(200);
      expect(retried.body.run_id).toBe(recent.body.run_id);
    } finally {
      await second.stop();
    }
  });
});
