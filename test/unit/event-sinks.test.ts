import { createServer, type IncomingHttpHeaders } from "node:http";
import type { AddressInfo } from "node:net";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { inspect } from "node:util";
import { afterEach, describe, expect, it } from "vitest";
import { AGENT_NAME, type LifecycleEvent } from "../../src/domain/events.js";
import { PolicySchema } from "../../src/domain/policy.js";
import { createJsonlFileSink, createStdoutSink, emitAll } from "../../src/events/sinks.js";
import {
  createFailureWebhookSink,
  createWebhookSink,
  DELIVERY_HEADER,
  EVENT_HEADER,
  SIGNATURE_HEADER,
  verifyWebhookSignature,
  type WebhookConfig,
  type WebhookDeps,
} from "../../src/events/webhook.js";
import { configError, rejectedWith } from "../helpers.js";

const SECRET = "s3cr3t-value-that-must-not-leak";
const VERSION = (
  JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as { version: string }
).version;

const created: LifecycleEvent = {
  event: "PullRequestCreated",
  pr_id: 101,
  repo: "OrderService",
  branch: "feature/order-handler",
  trace_id: "trace-ord-8128",
  blueprint_id: "bp-ord",
  component_scope: "Order",
  commit_hash: "9fbc871",
  issue_id: null,
  created_by: AGENT_NAME,
  timestamp: "2026-01-08T10:00:00.000Z",
};

const failed: LifecycleEvent = {
  event: "PullRequestFailed",
  reason: "trace_violation",
  message: "the trace does not resolve",
  trace_id: "trace-ord-8128",
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

interface Received {
  headers: IncomingHttpHeaders;
  body: string;
  status: number | "hung";
}
type Answer = { status: number; headers?: Record<string, string>; body?: string } | "hang";

/** A real HTTP receiver on 127.0.0.1 that answers from a script (then 200) and records every request. */
async function receiver(script: Answer[] | ((request: { headers: IncomingHttpHeaders; body: string }) => Answer) = []) {
  const requests: Received[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const body = Buffer.concat(chunks).toString("utf8");
      const answer =
        typeof script === "function"
          ? script({ headers: req.headers, body })
          : (script[requests.length] ?? { status: 200 });
      requests.push({ headers: req.headers, body, status: answer === "hang" ? "hung" : answer.status });
      if (answer !== "hang") res.writeHead(answer.status, answer.headers).end(answer.body ?? "");
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;
  const handle = {
    url: `http://127.0.0.1:${port}/hooks/pr?token=query-token`,
    requests,
    accepted: () => requests.filter((r) => typeof r.status === "number" && r.status < 300),
    close: () => {
      server.closeAllConnections();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  open.push(handle);
  return handle;
}
const open: Array<{ close(): Promise<void> }> = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((r) => r.close()));
});

function hook(url: string, o: Partial<WebhookConfig> = {}): WebhookConfig {
  return PolicySchema.parse({ events: { webhooks: [{ url, ...o }] } }).events.webhooks[0]!;
}

/** Instant waits, recorded, so backoff and Retry-After are checked without timing anything. */
function fastDeps(o: WebhookDeps = {}) {
  const waits: number[] = [];
  return {
    waits,
    deps: {
      sleep: async (ms: number) => void waits.push(ms),
      backoff: { backoff: "exponential" as const, base_delay_ms: 10 },
      ...o,
    },
  };
}

const failure = (promise: Promise<unknown>) => rejectedWith(promise, Error);

describe("createStdoutSink", () => {
  it("writes each event as one JSON line", async () => {
    const lines: string[] = [];
    const sink = createStdoutSink((line) => lines.push(line));
    await sink(created);
    await sink(failed);
    expect(lines).toHaveLength(2);
    expect(lines.every((l) => l.endsWith("\n") && !l.slice(0, -1).includes("\n"))).toBe(true);
    expect(lines.map((l) => JSON.parse(l))).toEqual([created, failed]);
  });
});

describe("the existing sinks", () => {
  it("createJsonlFileSink appends lines in a folder it creates; emitAll turns a failed delivery into a warning", async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), "pr-creator-sinks-"));
    try {
      const file = path.join(dir, "nested", "events.jsonl");
      const broken = async () => {
        throw new Error("collector broke");
      };
      expect(await emitAll(createJsonlFileSink(file), [created])).toEqual([]);
      expect(
        readFileSync(file, "utf8")
          .trim()
          .split("\n")
          .map((l) => JSON.parse(l)),
      ).toEqual([created]);
      expect(await emitAll(broken, [created])).toEqual(["Event delivery failed: collector broke."]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("createWebhookSink", () => {
  it("POSTs the event as JSON with the documented headers and a signature that verifies with the secret", async () => {
    const r = await receiver();
    await createWebhookSink(hook(r.url, { secret_env: "HOOK_SECRET" }), { HOOK_SECRET: SECRET })(created);
    expect(r.requests).toHaveLength(1);
    const { headers, body } = r.requests[0]!;
    expect(JSON.parse(body)).toEqual(created);
    expect(headers["content-type"]).toBe("application/json");
    expect(headers["user-agent"]).toBe(`pr-creator/${VERSION}`);
    expect(headers[EVENT_HEADER]).toBe("PullRequestCreated");
    expect(headers[DELIVERY_HEADER]).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    const signature = headers[SIGNATURE_HEADER] as string;
    expect(signature).toMatch(/^sha256=[0-9a-f]{64}$/);
    expect(verifyWebhookSignature(body, signature, SECRET)).toBe(true);
    expect(verifyWebhookSignature(body, signature, "another secret")).toBe(false);
    expect(verifyWebhookSignature(body.replace("101", "102"), signature, SECRET)).toBe(false);
    expect(verifyWebhookSignature(body, signature.slice(0, -1), SECRET)).toBe(false);
    expect(verifyWebhookSignature(body, undefined, SECRET)).toBe(false);
  });

  it("sends no signature header without secret_env, and a fresh delivery id per event", async () => {
    const r = await receiver();
    const sink = createWebhookSink(hook(r.url), {});
    await sink(created);
    await sink(created);
    expect(r.requests.map((q) => q.headers[SIGNATURE_HEADER])).toEqual([undefined, undefined]);
    expect(r.requests[0]!.headers[DELIVERY_HEADER]).not.toBe(r.requests[1]!.headers[DELIVERY_HEADER]);
  });

  it("uses the delivery id it is given (re-sends from the outbox)", async () => {
    const r = await receiver();
    await createWebhookSink(hook(r.url), {})(created, "0b0c5f43-2b4e-4a51-9d0e-4c4d7b2a9f10");
    expect(r.requests[0]!.headers[DELIVERY_HEADER]).toBe("0b0c5f43-2b4e-4a51-9d0e-4c4d7b2a9f10");
  });

  it("sends only the events listed in `events`", async () => {
    const r = await receiver();
    const sink = createWebhookSink(hook(r.url, { events: ["PullRequestFailed"] }), {});
    await sink(created);
    await sink(failed);
    expect(r.requests.map((q) => q.headers[EVENT_HEADER])).toEqual(["PullRequestFailed"]);
  });

  it("retries 503 with exponential backoff until accepted: one delivery accepted, the same delivery id on every attempt", async () => {
    const r = await receiver([{ status: 503 }, { status: 503 }, { status: 202 }]);
    const { waits, deps } = fastDeps();
    await createWebhookSink(hook(r.url), {}, deps)(created);
    expect(r.requests.map((q) => q.status)).toEqual([503, 503, 202]);
    expect(r.accepted()).toHaveLength(1);
    expect(new Set(r.requests.map((q) => q.headers[DELIVERY_HEADER])).size).toBe(1);
    expect(waits).toEqual([10, 20]);
  });

  it("retries 408, 429 and 500 as well", async () => {
    const r = await receiver([{ status: 408 }, { status: 429 }, { status: 500 }]);
    await createWebhookSink(hook(r.url), {}, fastDeps().deps)(created);
    expect(r.requests.map((q) => q.status)).toEqual([408, 429, 500, 200]);
  });

  it("waits as long as Retry-After asks when that is longer than the backoff", async () => {
    const r = await receiver([
      { status: 429, headers: { "retry-after": "2" } },
      { status: 503, headers: { "retry-after": "0" } },
    ]);
    const { waits, deps } = fastDeps();
    await createWebhookSink(hook(r.url), {}, deps)(created);
    expect(waits).toEqual([2000, 20]);
    expect(r.accepted()).toHaveLength(1);
  });

  it("does not wait for a Retry-After longer than a run waits: it fails at once and says so", async () => {
    const r = await receiver([{ status: 503, headers: { "retry-after": "120" } }]);
    const { waits, deps } = fastDeps();
    const error = await failure(createWebhookSink(hook(r.url), {}, deps)(created));
    expect(r.requests).toHaveLength(1);
    expect(waits).toEqual([]);
    expect(error.message).toContain("answered 503");
    expect(error.message).toContain("retry after 120 s");
  });

  it("stops after max_attempts and names the webhook (without its query), the status and the attempts", async () => {
    const r = await receiver(() => ({ status: 502, body: "upstream down" }));
    const error = await failure(createWebhookSink(hook(r.url, { max_attempts: 3 }), {}, fastDeps().deps)(created));
    expect(r.requests).toHaveLength(3);
    expect(error.message).toMatch(
      /^the webhook http:\/\/127\.0\.0\.1:\d+\/hooks\/pr did not accept PullRequestCreated \(delivery [0-9a-f-]{36}\) after 3 attempts: answered 502 Bad Gateway: upstream down$/,
    );
    expect(error.message).not.toContain("query-token");
  });

  it("does not retry 400 (nor any 4xx but 408 and 429)", async () => {
    for (const status of [400, 401, 404, 422]) {
      const r = await receiver([{ status, body: "bad event" }]);
      const { waits, deps } = fastDeps();
      const error = await failure(createWebhookSink(hook(r.url), {}, deps)(created));
      expect(r.requests).toHaveLength(1);
      expect(waits).toEqual([]);
      expect(error.message).toContain(`after 1 attempt: answered ${status}`);
    }
  });

  it("does not follow redirects (a POST would turn into a GET)", async () => {
    const target = await receiver();
    const r = await receiver([{ status: 302, headers: { location: target.url } }]);
    const error = await failure(createWebhookSink(hook(r.url), {}, fastDeps().deps)(created));
    expect(error.message).toContain("answered 302");
    expect(error.message).toContain("redirects are not followed");
    expect(target.requests).toHaveLength(0);
  });

  it("gives up on an attempt after timeout_ms and retries it", async () => {
    const r = await receiver(["hang", { status: 200 }]);
    await createWebhookSink(hook(r.url, { timeout_ms: 100 }), {}, fastDeps().deps)(created);
    expect(r.requests.map((q) => q.status)).toEqual(["hung", 200]);
    expect(r.requests[0]!.headers[DELIVERY_HEADER]).toBe(r.requests[1]!.headers[DELIVERY_HEADER]);
  });

  it("reports a receiver that never answers as a timeout", async () => {
    const r = await receiver(() => "hang");
    const error = await failure(
      createWebhookSink(hook(r.url, { timeout_ms: 100, max_attempts: 2 }), {}, fastDeps().deps)(created),
    );
    expect(r.requests).toHaveLength(2);
    expect(error.message).toContain("after 2 attempts: no answer within 100 ms");
  });

  it("retries a refused connection, then reports it", async () => {
    const r = await receiver();
    await r.close();
    const { waits, deps } = fastDeps();
    const error = await failure(createWebhookSink(hook(r.url, { max_attempts: 2 }), {}, deps)(created));
    expect(waits).toEqual([10]);
    expect(error.message).toContain("after 2 attempts");
    expect(error.message).toContain("ECONNREFUSED");
  });

  it("never puts the secret or the signature in an error, even when the receiver echoes them", async () => {
    const r = await receiver((request) => ({
      status: 400,
      body: `rejected ${request.headers[SIGNATURE_HEADER]} for secret ${SECRET}`,
    }));
    const error = await failure(
      createWebhookSink(hook(r.url, { secret_env: "HOOK_SECRET" }), { HOOK_SECRET: SECRET }, fastDeps().deps)(created),
    );
    const signature = (r.requests[0]!.headers[SIGNATURE_HEADER] as string).slice("sha256=".length);
    const text = `${error.message}\n${inspect(error, { depth: 10 })}`;
    expect(text).toContain("rejected sha256=[redacted] for secret [redacted]");
    expect(text).not.toContain(SECRET);
    expect(text).not.toContain(signature);
  });

  it("refuses to start when secret_env names an unset variable, naming the variable only", () => {
    const error = configError(() =>
      createWebhookSink(hook("https://hooks.example.com/pr", { secret_env: "PR_HOOK_SECRET" }), { OTHER: SECRET }),
    );
    expect(error.message).toContain("PR_HOOK_SECRET");
    expect(error.message).toContain("https://hooks.example.com/pr");
    configError(() =>
      createWebhookSink(hook("https://hooks.example.com/pr", { secret_env: "PR_HOOK_SECRET" }), { PR_HOOK_SECRET: "" }),
    );
  });

  it("refuses an unknown event name and a URL that is not HTTP(S)", () => {
    expect(
      configError(() => createWebhookSink(hook("https://hooks.example.com/pr", { events: ["PullRequestCreatd"] }), {}))
        .message,
    ).toContain("PullRequestCreatd");
    // The config schema refuses such a URL first; a sink built from code refuses it too.
    const ftp = { ...hook("https://hooks.example.com/pr"), url: "ftp://hooks.example.com/pr" };
    expect(configError(() => createWebhookSink(ftp, {})).message).toBe(
      "The webhook ftp://hooks.example.com/pr uses ftp: but webhooks are sent over http: or https:.",
    );
  });
});

describe("createFailureWebhookSink", () => {
  it("sends PullRequestFailed and PullRequestMergeBlocked only", async () => {
    const r = await receiver();
    const sink = createFailureWebhookSink({ url: r.url, timeout_ms: 1000, max_attempts: 1 }, {});
    const blocked: LifecycleEvent = {
      event: "PullRequestMergeBlocked",
      pr_id: 101,
      repo: "OrderService",
      branch: "feature/x",
      trace_id: "t",
      issue_id: null,
      failed_checks: ["build"],
      message: "build failed",
      created_by: AGENT_NAME,
      timestamp: created.timestamp,
    };
    const merged: LifecycleEvent = {
      event: "PullRequestMerged",
      pr_id: 101,
      repo: "OrderService",
      branch: "feature/x",
      trace_id: "t",
      issue_id: null,
      merge_commit: null,
      auto_merged: true,
      risk: "low",
      created_by: AGENT_NAME,
      timestamp: created.timestamp,
    };
    for (const e of [
      created,
      { ...created, event: "PullRequestReadyForReview" } as LifecycleEvent,
      failed,
      merged,
      blocked,
    ])
      await sink(e);
    expect(r.requests.map((q) => q.headers[EVENT_HEADER])).toEqual(["PullRequestFailed", "PullRequestMergeBlocked"]);
  });
});
