import Database from "better-sqlite3";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { PrCreatorError } from "../../src/domain/errors.js";
import { AGENT_NAME, type LifecycleEvent } from "../../src/domain/events.js";
import { createEventDelivery, EventDeliveryError, type EventDeliveryOptions } from "../../src/events/delivery.js";
import { openOutbox } from "../../src/events/outbox.js";
import { DELIVERY_HEADER, EVENT_HEADER, SIGNATURE_HEADER, verifyWebhookSignature } from "../../src/events/webhook.js";
import { configError, rejectedWith } from "../helpers.js";
import { makePolicy } from "../unit/builders.js";

const SECRET = "outbox-secret-never-printed";
const dir = mkdtempSync(path.join(os.tmpdir(), "pr-creator-events-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let count = 0;
/** A fresh folder per case; the state file inside it does not exist yet. */
function workspace() {
  const root = path.join(dir, `case-${++count}`);
  mkdirSync(root);
  return { stateFile: path.join(root, "state", "state.db"), jsonl: path.join(root, "events.jsonl") };
}

function event(n: number, name: "PullRequestCreated" | "PullRequestMerged" = "PullRequestCreated"): LifecycleEvent {
  const common = {
    pr_id: n,
    repo: "OrderService",
    branch: "feature/order-handler",
    trace_id: `trace-ord-${n}`,
    created_by: AGENT_NAME,
    timestamp: "2026-01-08T10:00:00.000Z",
  } as const;
  return name === "PullRequestCreated"
    ? {
        event: name,
        ...common,
        blueprint_id: "bp-ord",
        component_scope: "Order",
        commit_hash: "9fbc871",
        issue_id: null,
      }
    : { event: name, ...common, issue_id: null, merge_commit: null, auto_merged: true, risk: "low" };
}
const failedEvent: LifecycleEvent = {
  event: "PullRequestFailed",
  reason: "trace_violation",
  message: "the trace does not resolve",
  trace_id: "trace-ord-1",
  repo: "OrderService",
  branch: "feature/order-handler",
  attempted_branch: null,
  commit_hash: "9fbc871",
  attempts: 1,
  violations: [],
  issue_id: null,
  created_by: AGENT_NAME,
  timestamp: "2026-01-08T10:00:00.000Z",
};
const blockedEvent: LifecycleEvent = {
  event: "PullRequestMergeBlocked",
  pr_id: 1,
  repo: "OrderService",
  branch: "feature/x",
  trace_id: "trace-ord-1",
  issue_id: null,
  failed_checks: ["build"],
  message: "build failed",
  created_by: AGENT_NAME,
  timestamp: "2026-01-08T10:00:00.000Z",
};

interface Received {
  headers: IncomingHttpHeaders;
  body: string;
  status: number;
}

/**
 * A real receiver on 127.0.0.1 that can go down and come back on the same port. It answers `status()`
 * (200 unless changed) and records every request with the status it got.
 */
async function receiver() {
  const requests: Received[] = [];
  let status = 200;
  let server: Server | undefined;
  let port = 0;
  const up = async () => {
    server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("end", () => {
        requests.push({ headers: req.headers, body: Buffer.concat(chunks).toString("utf8"), status });
        res.writeHead(status).end();
      });
    });
    await new Promise<void>((resolve) => server!.listen(port, "127.0.0.1", resolve));
    port = (server.address() as AddressInfo).port;
  };
  const down = async () => {
    const s = server;
    server = undefined;
    if (!s) return;
    s.closeAllConnections();
    await new Promise<void>((resolve) => s.close(() => resolve()));
  };
  await up();
  const handle = {
    url: `http://127.0.0.1:${port}/hook`,
    requests,
    up,
    down,
    answer: (s: number) => void (status = s),
    /** Requests the receiver accepted, as (event name, pr or trace) pairs. */
    accepted: () => requests.filter((r) => r.status < 300).map((r) => JSON.parse(r.body) as LifecycleEvent),
  };
  receivers.push(handle);
  return handle;
}
const receivers: Array<{ down(): Promise<void> }> = [];
const deliveries: Array<{ close(): Promise<void> }> = [];
afterEach(async () => {
  await Promise.all(deliveries.splice(0).map((d) => d.close()));
  await Promise.all(receivers.splice(0).map((r) => r.down()));
});

/** A clock the test moves by hand. */
function clock(start = "2026-01-08T10:00:00.000Z") {
  let t = Date.parse(start);
  return { now: () => new Date(t), advance: (ms: number) => void (t += ms) };
}

function delivery(events: Record<string, unknown>, o: Partial<EventDeliveryOptions> & { stateFile: string | null }) {
  const d = createEventDelivery({
    policy: makePolicy({ events, retry_policy: { base_delay_ms: 0 } }),
    env: { HOOK_SECRET: SECRET },
    sleep: async () => undefined,
    ...o,
  });
  deliveries.push(d);
  return d;
}

const rejected = (promise: Promise<unknown>) => rejectedWith(promise, EventDeliveryError);

function waitingRows(stateFile: string) {
  const box = openOutbox(stateFile);
  try {
    return box.list();
  } finally {
    box.close();
  }
}

const lines = (file: string) =>
  existsSync(file)
    ? readFileSync(file, "utf8")
        .trim()
        .split("\n")
        .filter(Boolean)
        .map((l) => JSON.parse(l) as LifecycleEvent)
    : [];

describe("createEventDelivery: fan-out", () => {
  it("sends each event once to the JSON-lines file, stdout, every webhook and the extra sinks", async () => {
    const { stateFile, jsonl } = workspace();
    const a = await receiver();
    const b = await receiver();
    const out: string[] = [];
    const extra: LifecycleEvent[] = [];
    const d = delivery(
      {
        jsonl_file: jsonl,
        stdout: true,
        webhooks: [
          { url: a.url, secret_env: "HOOK_SECRET" },
          { url: b.url, events: ["PullRequestMerged"] },
        ],
      },
      { stateFile, write: (line) => out.push(line), extraSinks: [async (e) => void extra.push(e)] },
    );
    await d.emit(event(1));
    await d.emit(event(2, "PullRequestMerged"));
    expect(lines(jsonl)).toEqual([event(1), event(2, "PullRequestMerged")]);
    expect(out.map((l) => JSON.parse(l))).toEqual([event(1), event(2, "PullRequestMerged")]);
    expect(extra).toEqual([event(1), event(2, "PullRequestMerged")]);
    expect(a.accepted()).toEqual([event(1), event(2, "PullRequestMerged")]);
    expect(b.accepted()).toEqual([event(2, "PullRequestMerged")]);
    for (const r of a.requests)
      expect(verifyWebhookSignature(r.body, r.headers[SIGNATURE_HEADER] as string, SECRET)).toBe(true);
    expect(b.requests[0]!.headers[SIGNATURE_HEADER]).toBeUndefined();
    // Nothing failed, so the state file was never needed.
    expect(existsSync(stateFile)).toBe(false);
  });

  it("routes only PullRequestFailed and PullRequestMergeBlocked to the failure webhook", async () => {
    const { stateFile } = workspace();
    const ops = await receiver();
    const all = await receiver();
    const d = delivery(
      { webhooks: [{ url: all.url }], failure_webhook: { url: ops.url, secret_env: "HOOK_SECRET" } },
      { stateFile },
    );
    for (const e of [event(1), failedEvent, event(2, "PullRequestMerged"), blockedEvent]) await d.emit(e);
    expect(ops.requests.map((r) => r.headers[EVENT_HEADER])).toEqual(["PullRequestFailed", "PullRequestMergeBlocked"]);
    expect(all.requests).toHaveLength(4);
    expect(
      verifyWebhookSignature(ops.requests[0]!.body, ops.requests[0]!.headers[SIGNATURE_HEADER] as string, SECRET),
    ).toBe(true);
  });

  it("describes its sinks and outbox without URL queries", async () => {
    const { stateFile, jsonl } = workspace();
    const d = delivery(
      {
        jsonl_file: jsonl,
        stdout: true,
        webhooks: [
          { url: "https://hooks.example.com/pr?token=abc", secret_env: "HOOK_SECRET", events: ["PullRequestCreated"] },
        ],
        failure_webhook: { url: "https://ops.example.com/alerts" },
      },
      { stateFile, extraSinks: [async () => undefined] },
    );
    expect(d.describe()).toEqual([
      `JSON-lines file ${jsonl}`,
      "stdout",
      "webhook https://hooks.example.com/pr (signed): PullRequestCreated",
      "failure webhook https://ops.example.com/alerts: PullRequestFailed, PullRequestMergeBlocked, PullRequestAlert",
      "extra sink 0",
      `outbox: ${stateFile}`,
    ]);
    expect(delivery({}, { stateFile: null }).describe()).toEqual(["outbox: off"]);
  });
});

describe("createEventDelivery: the outbox", () => {
  it("a receiver that is down: the event waits in the outbox for it alone, and one flush after it is back delivers it exactly once", async () => {
    const { stateFile, jsonl } = workspace();
    const up = await receiver();
    const flaky = await receiver();
    await flaky.down();
    const out: string[] = [];
    const d = delivery(
      {
        jsonl_file: jsonl,
        stdout: true,
        webhooks: [{ url: up.url }, { url: flaky.url, secret_env: "HOOK_SECRET", max_attempts: 2 }],
      },
      { stateFile, write: (l) => void out.push(l) },
    );

    const error = await rejected(d.emit(event(1)));
    expect(error.message).toContain(`PullRequestCreated was not delivered to webhook:${flaky.url}`);
    expect(error.message).toContain("ECONNREFUSED");
    expect(error.message).toContain(`it waits in the outbox in ${stateFile}`);
    expect(error.waiting).toEqual([`webhook:${flaky.url}`]);
    expect(error.lost).toEqual([]);

    const rows = waitingRows(stateFile);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ sink: `webhook:${flaky.url}`, attempts: 1, createdAt: expect.any(String) });
    expect(JSON.parse(rows[0]!.eventJson)).toEqual(event(1));
    expect(rows[0]!.lastError).toContain("ECONNREFUSED");

    await flaky.up();
    await expect(d.flush()).resolves.toEqual({ sent: 1, waiting: 0 });
    expect(flaky.accepted()).toEqual([event(1)]);
    expect(flaky.requests[0]!.headers[DELIVERY_HEADER]).toBe(rows[0]!.deliveryId);
    expect(
      verifyWebhookSignature(flaky.requests[0]!.body, flaky.requests[0]!.headers[SIGNATURE_HEADER] as string, SECRET),
    ).toBe(true);
    expect(waitingRows(stateFile)).toEqual([]);

    await expect(d.flush()).resolves.toEqual({ sent: 0, waiting: 0 });
    expect(flaky.requests).toHaveLength(1);
    // The sinks that took the event the first time never see it again.
    expect(up.accepted()).toEqual([event(1)]);
    expect(lines(jsonl)).toEqual([event(1)]);
    expect(out).toHaveLength(1);
  });

  it("a later run's delivery (a new process on the same state file) sends what the earlier one kept", async () => {
    const { stateFile } = workspace();
    const r = await receiver();
    r.answer(503);
    const first = delivery({ webhooks: [{ url: r.url, max_attempts: 2 }] }, { stateFile });
    await rejected(first.emit(event(1)));
    await rejected(first.emit(event(2)));
    await first.close();
    expect(r.requests).toHaveLength(4);

    r.answer(200);
    const second = delivery({ webhooks: [{ url: r.url, max_attempts: 2 }] }, { stateFile });
    await expect(second.flush()).resolves.toEqual({ sent: 2, waiting: 0 });
    expect(r.accepted()).toEqual([event(1), event(2)]);
    // Same delivery id as the failed attempts, so a receiver could have de-duplicated.
    const ids = r.requests.map((q) => q.headers[DELIVERY_HEADER]);
    expect(ids[4]).toBe(ids[0]);
    expect(ids[5]).toBe(ids[2]);
    expect(ids[0]).not.toBe(ids[2]);
  });

  it("a flush that fails keeps the events in order, records the error and waits before trying that sink again", async () => {
    const { stateFile } = workspace();
    const t = clock();
    const r = await receiver();
    r.answer(500);
    const d = delivery({ webhooks: [{ url: r.url, max_attempts: 1 }] }, { stateFile, now: t.now });
    for (const n of [1, 2, 3]) await rejected(d.emit(event(n)));
    expect(r.requests).toHaveLength(3);

    r.answer(503);
    await expect(d.flush()).resolves.toEqual({ sent: 0, waiting: 3 });
    // The oldest was tried; the others were not sent ahead of it.
    expect(r.requests).toHaveLength(4);
    expect(JSON.parse(r.requests[3]!.body)).toEqual(event(1));
    const rows = waitingRows(stateFile);
    expect(rows.map((w) => w.attempts)).toEqual([2, 1, 1]);
    expect(rows[0]!.lastError).toContain("answered 503");
    expect(new Set(rows.map((w) => w.nextAttemptAt))).toEqual(new Set(["2026-01-08T10:00:30.000Z"]));

    r.answer(200);
    await expect(d.flush()).resolves.toEqual({ sent: 0, waiting: 3 });
    expect(r.requests).toHaveLength(4);

    t.advance(30_000);
    await expect(d.flush()).resolves.toEqual({ sent: 3, waiting: 0 });
    expect(r.accepted()).toEqual([event(1), event(2), event(3)]);
  });

  it("two flushes at once on the same state file send each event once", async () => {
    const { stateFile } = workspace();
    const r = await receiver();
    r.answer(503);
    const config = { webhooks: [{ url: r.url, max_attempts: 1 }] };
    const a = delivery(config, { stateFile });
    for (const n of [1, 2, 3]) await rejected(a.emit(event(n)));
    r.answer(200);
    const b = delivery(config, { stateFile });
    const results = await Promise.all([a.flush(), b.flush()]);
    expect(results.map((x) => x.sent).sort()).toEqual([0, 3]);
    expect(r.accepted()).toEqual([event(1), event(2), event(3)]);
  });

  it("a flush delivers to a working sink even while another stays down", async () => {
    const { stateFile, jsonl } = workspace();
    const r = await receiver();
    await r.down();
    const blocker = path.join(path.dirname(jsonl), "blocked");
    writeFileSync(blocker, "a file where the events file's folder should be");
    const broken = path.join(blocker, "events.jsonl");
    const d = delivery({ jsonl_file: broken, webhooks: [{ url: r.url, max_attempts: 1 }] }, { stateFile });
    const error = await rejected(d.emit(event(1)));
    expect(error.waiting.sort()).toEqual([`jsonl:${broken}`, `webhook:${r.url}`]);

    await r.up();
    await expect(d.flush()).resolves.toEqual({ sent: 1, waiting: 1 });
    expect(r.accepted()).toEqual([event(1)]);
    expect(waitingRows(stateFile).map((w) => w.sink)).toEqual([`jsonl:${broken}`]);
  });

  it("never writes the secret into the error or the outbox", async () => {
    const { stateFile } = workspace();
    const r = await receiver();
    r.answer(401);
    const d = delivery({ webhooks: [{ url: r.url, secret_env: "HOOK_SECRET" }] }, { stateFile });
    const error = await rejected(d.emit(event(1)));
    expect(r.requests).toHaveLength(1);
    const signature = (r.requests[0]!.headers[SIGNATURE_HEADER] as string).slice("sha256=".length);
    const raw = new Database(stateFile, { readonly: true });
    const dump = JSON.stringify(raw.prepare("SELECT * FROM event_outbox").all());
    raw.close();
    for (const text of [error.message, dump]) {
      expect(text).not.toContain(SECRET);
      expect(text).not.toContain(signature);
    }
    expect(dump).toContain("answered 401");
  });

  it("with the outbox off, or no state file, or for an extra sink, the failure is reported and nothing is kept", async () => {
    const { stateFile } = workspace();
    const r = await receiver();
    await r.down();
    const off = delivery({ webhooks: [{ url: r.url, max_attempts: 1 }], outbox: false }, { stateFile });
    const e1 = await rejected(off.emit(event(1)));
    expect(e1.message).toContain("it is not kept for");
    expect(e1.message).toContain("the outbox is off");
    expect(e1.lost).toEqual([`webhook:${r.url}`]);
    await expect(off.flush()).resolves.toEqual({ sent: 0, waiting: 0 });

    const none = delivery({ webhooks: [{ url: r.url, max_attempts: 1 }] }, { stateFile: null });
    expect((await rejected(none.emit(event(1)))).lost).toEqual([`webhook:${r.url}`]);

    const extra = delivery({}, { stateFile, extraSinks: [async () => Promise.reject(new Error("collector broke"))] });
    const e3 = await rejected(extra.emit(event(1)));
    expect(e3.message).toContain("extra:0 (collector broke)");
    expect(e3.lost).toEqual(["extra:0"]);
    expect(existsSync(stateFile)).toBe(false);
  });

  it("flush without a state file does not create one", async () => {
    const { stateFile } = workspace();
    const d = delivery({ webhooks: [{ url: "http://127.0.0.1:9/hook" }] }, { stateFile });
    await expect(d.flush()).resolves.toEqual({ sent: 0, waiting: 0 });
    expect(existsSync(stateFile)).toBe(false);
  });

  it("close waits for a delivery under way; later calls reject", async () => {
    const { stateFile } = workspace();
    const r = await receiver();
    r.answer(503);
    const d = delivery({ webhooks: [{ url: r.url, max_attempts: 1 }] }, { stateFile });
    const pending = d.emit(event(1)).catch((e: unknown) => e);
    await d.close();
    expect(await pending).toBeInstanceOf(EventDeliveryError);
    expect(waitingRows(stateFile)).toHaveLength(1);
    await expect(d.emit(event(2))).rejects.toThrow("closed");
  });
});

describe("createEventDelivery: invalid configuration", () => {
  it("names a missing secret variable, never a secret", () => {
    const error = configError(() =>
      createEventDelivery({
        policy: makePolicy({
          events: { failure_webhook: { url: "https://ops.example.com/a", secret_env: "OPS_SECRET" } },
        }),
        stateFile: null,
        env: { HOOK_SECRET: SECRET },
      }),
    );
    expect(error.message).toContain("failure webhook https://ops.example.com/a");
    expect(error.message).toContain("OPS_SECRET");
    expect(error.paragraph).not.toContain(SECRET);
  });

  it("refuses the same webhook URL twice and an unknown event name", () => {
    const url = "https://hooks.example.com/pr";
    expect(
      configError(() =>
        createEventDelivery({
          policy: makePolicy({ events: { webhooks: [{ url }, { url, events: ["PullRequestFailed"] }] } }),
          stateFile: null,
          env: {},
        }),
      ).message,
    ).toContain("more than once");
    expect(
      configError(() =>
        createEventDelivery({
          policy: makePolicy({ events: { webhooks: [{ url, events: ["Merged"] }] } }),
          stateFile: null,
          env: {},
        }),
      ).message,
    ).toContain("Merged");
  });

  it("a state file that is not a database: flush fails with invalid_config, emit still reports the sink and why nothing was kept", async () => {
    const { stateFile } = workspace();
    mkdirSync(path.dirname(stateFile), { recursive: true });
    writeFileSync(
      stateFile,
      "this is not a database, it is only a text file long enough to have a header page of garbage".repeat(20),
    );
    const r = await receiver();
    r.answer(503);
    const d = delivery({ webhooks: [{ url: r.url, max_attempts: 1 }] }, { stateFile });
    const flushed = await d.flush().catch((e: unknown) => e);
    expect(flushed).toBeInstanceOf(PrCreatorError);
    expect((flushed as PrCreatorError).reason).toBe("invalid_config");
    expect((flushed as PrCreatorError).message).toContain(stateFile);
    const error = await rejected(d.emit(event(1)));
    expect(error.message).toContain("the outbox could not be written");
    expect(error.lost).toEqual([`webhook:${r.url}`]);
  });
});
