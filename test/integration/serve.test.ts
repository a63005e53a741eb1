/**
 * `pr-creator serve`: the HTTP front door against the Azure DevOps emulator, so accepted events really become
 * PRs. In-process servers for the API (auth, precise errors, limits, idempotency, approvals, metrics, OpenAPI
 * conformance) and the built CLI for signals and restarts. No assertion depends on timing: slow forges only
 * keep runs busy, and waits poll a condition (with a bound so a bug fails instead of hanging).
 */
import { Ajv2020 } from "ajv/dist/2020.js";
import addFormats from "ajv-formats";
import { spawn, type ChildProcess } from "node:child_process";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { createAgent, type Agent } from "../../src/agent/create-agent.js";
import { buildSampleRepo, type SampleRepo } from "../../src/demo/sample-repo.js";
import type { ChangeRequested } from "../../src/domain/events.js";
import { PolicySchema, type Policy } from "../../src/domain/policy.js";
import { createHttpServer, type HttpServer } from "../../src/server/http.js";
import { openApiDocument, type OpenApiDocument } from "../../src/server/openapi.js";
import { startAzureDevOpsEmulator, type AzureEmulator } from "../emulators/azure-devops.js";
import { pvcChangeRequest, seedDataVolumeOnAzure } from "./worlds.js";
import { rejection, runCli } from "../helpers.js";

const MAIN = fileURLToPath(new URL("../../dist/cli/main.js", import.meta.url));
const TOKEN = "azdo-serve-secret-pat";
const REPO = "gitops";
const API_TOKEN = "serve-test-token-5f1c2a";

let root: string;
let az: AzureEmulator;
let forgeEnv: Record<string, string>;
let dirCount = 0;

beforeAll(async () => {
  root = await mkdtemp(path.join(tmpdir(), "pr-creator-serve-"));
  az = await startAzureDevOpsEmulator({ token: TOKEN });
  az.addIdentity({ displayName: "TechLeadAgent", uniqueName: "techlead@acme.test" });
  az.addIdentity({ displayName: "QAAssistantAgent", uniqueName: "qa@acme.test" });
  seedDataVolumeOnAzure(az, REPO, "0a".repeat(20));
  forgeEnv = { AZURE_DEVOPS_TOKEN: TOKEN, AZURE_DEVOPS_ORG_URL: az.orgUrl, AZURE_DEVOPS_PROJECT: az.project };
});

afterAll(async () => {
  await az.close();
  await rm(root, { recursive: true, force: true });
});

afterEach(() => az.clearFaults());

async function freshDir(): Promise<string> {
  dirCount += 1;
  const dir = path.join(root, `case-${dirCount}`);
  await mkdir(dir, { recursive: true });
  return dir;
}

function changeRequest(id: string, overrides: Record<string, unknown> = {}): ChangeRequested & Record<string, unknown> {
  return { ...pvcChangeRequest(id, REPO), ...overrides };
}

const prsOf = (id: string) =>
  az.state.pullRequests.filter((p) => p.sourceRefName === `refs/heads/agent-sre/pvc-size-${id}`);

function policyFor(dir: string, server: Record<string, unknown> = {}, extra: Record<string, unknown> = {}): Policy {
  // PRs stay open (no auto-merge), so every change request of the file has something to change and a re-run updates its PR.
  return PolicySchema.parse({
    forge: "azure-devops",
    retry_policy: { base_delay_ms: 10 },
    merge: { auto_merge_levels: [] },
    state_file: path.join(dir, "state.db"),
    server: { port: 0, ...server },
    ...extra,
  });
}

// ---------------------------------------------------------------------------------------------------------
// HTTP helpers: every answer is kept for the OpenAPI conformance check at the end
// ---------------------------------------------------------------------------------------------------------

interface Answer {
  status: number;
  headers: Headers;
  body: unknown;
  text: string;
}
const seen: { method: string; route: string; status: number; body: unknown }[] = [];

async function call(
  base: string,
  method: string,
  route: string,
  opts: { path?: string; body?: unknown; raw?: string; headers?: Record<string, string>; token?: string } = {},
): Promise<Answer> {
  const headers: Record<string, string> = {
    ...(opts.token ? { authorization: `Bearer ${opts.token}` } : {}),
    ...opts.headers,
  };
  let body: string | undefined = opts.raw;
  if (opts.body !== undefined) {
    body = JSON.stringify(opts.body);
    headers["content-type"] ??= "application/json";
  }
  const response = await fetch(`${base}${opts.path ?? route}`, { method, headers, body });
  const text = await response.text();
  const json = (response.headers.get("content-type") ?? "").startsWith("application/json")
    ? (JSON.parse(text) as unknown)
    : text;
  seen.push({ method, route, status: response.status, body: json });
  return { status: response.status, headers: response.headers, body: json, text };
}

/** Polls until `done` holds; the bound only turns a bug into a failure instead of a hang. */
async function until<T>(
  read: () => Promise<T>,
  done: (value: T) => boolean,
  what: string,
  boundMs = 20_000,
): Promise<T> {
  const give = Date.now() + boundMs;
  for (;;) {
    const value = await read();
    if (done(value)) return value;
    if (Date.now() > give) throw new Error(`gave up waiting for ${what}: last ${JSON.stringify(value).slice(0, 500)}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

interface RunView {
  run_id: string;
  thread_id: string;
  status: string;
  attempts: number;
  result: {
    status: string;
    pr: { id: number | null; target_branch: string } | null;
    approval?: { thread_id: string };
    approvals: unknown[];
  } | null;
  error: unknown;
  links: { self: string; resume?: string };
}

const getRun = async (base: string, id: string, token?: string) =>
  (await call(base, "GET", "/v1/runs/:id", { path: `/v1/runs/${id}`, token })).body as RunView;
const settled = (base: string, id: string, token?: string) =>
  until(
    () => getRun(base, id, token),
    (r) => !["queued", "running"].includes(r.status),
    `run ${id} to settle`,
  );

// ---------------------------------------------------------------------------------------------------------
// In-process servers
// ---------------------------------------------------------------------------------------------------------

interface Served {
  http: HttpServer;
  agent: Agent;
  base: string;
  stop(): Promise<void>;
}

async function serve(policy: Policy, opts: { env?: Record<string, string>; agent?: Agent } = {}): Promise<Served> {
  const agent =
    opts.agent ?? (await createAgent({ policy, env: forgeEnv, model: null, cwd: path.dirname(policy.state_file) }));
  const http = createHttpServer({ agent, server: policy.server, env: opts.env ?? {} });
  const base = await http.listen();
  return {
    http,
    agent,
    base,
    async stop() {
      await http.close();
      await agent.close();
    },
  };
}

describe("serve in process: events to PRs", () => {
  let s: Served;
  beforeAll(async () => {
    s = await serve(policyFor(await freshDir()));
  });
  afterAll(() => s.stop());

  it("accepts a ChangeRequested event (202), runs it to a PR on the forge, and reports the run", async () => {
    const accepted = await call(s.base, "POST", "/v1/events", { body: changeRequest("7001") });
    expect(accepted.status).toBe(202);
    const body = accepted.body as { run_id: string; status: string; thread_id: string; links: { self: string } };
    expect(body.status).toBe("queued");
    expect(body.thread_id).toBe("change@pvc-size-7001");
    expect(body.links.self).toBe(`/v1/runs/${body.run_id}`);
    expect(accepted.headers.get("location")).toBe(body.links.self);

    const run = await settled(s.base, body.run_id);
    expect(run.status).toBe("done");
    expect(run.attempts).toBe(1);
    expect(run.result?.status).toBe("created");
    expect(prsOf("7001")).toHaveLength(1);
    expect(run.result?.pr?.id).toBe(prsOf("7001")[0]!.pullRequestId);
  });

  it("answers a duplicate of a queued or running event with the same run (200), and honours Idempotency-Key", async () => {
    az.inject("*", { delayMs: 100 }, Infinity);
    const first = await call(s.base, "POST", "/v1/events", {
      body: changeRequest("7002"),
      headers: { "idempotency-key": "key-7002" },
    });
    const again = await call(s.base, "POST", "/v1/events", { body: changeRequest("7002") });
    expect(first.status).toBe(202);
    expect(again.status).toBe(200);
    const id = (first.body as { run_id: string }).run_id;
    expect((again.body as { run_id: string }).run_id).toBe(id);
    await settled(s.base, id);
    az.clearFaults();

    // The key names its run for good: a retry after the run ended gets it back instead of a second run.
    const retried = await call(s.base, "POST", "/v1/events", {
      body: changeRequest("7002"),
      headers: { "idempotency-key": "key-7002" },
    });
    expect(retried.status).toBe(200);
    expect(retried.body).toMatchObject({ run_id: id, status: "done" });
    const reused = await call(s.base, "POST", "/v1/events", {
      body: changeRequest("7003"),
      headers: { "idempotency-key": "key-7002" },
    });
    expect(reused.status).toBe(422);
    expect(reused.body).toMatchObject({ reason: "idempotency_key_reused", issues: [{ path: "Idempotency-Key" }] });

    // Without a key, the same event after its run ended is a new run, which updates the same PR.
    const rerun = await call(s.base, "POST", "/v1/events", { body: changeRequest("7002") });
    expect(rerun.status).toBe(202);
    const second = await settled(s.base, (rerun.body as { run_id: string }).run_id);
    expect(second.status).toBe("done");
    expect(["updated", "unchanged"]).toContain(second.result?.status);
    expect(prsOf("7002")).toHaveLength(1);
  });

  it("rejects malformed requests with a precise error and the right status", async () => {
    const badJson = await call(s.base, "POST", "/v1/events", {
      raw: '{"event": "ChangeRequested",',
      headers: { "content-type": "application/json" },
    });
    expect(badJson.status).toBe(400);
    expect(badJson.body).toMatchObject({ error: "Bad Request", reason: "invalid_json", issues: [] });
    expect((badJson.body as { message: string }).message).toMatch(/^The body is not valid JSON \(.+\)\.$/);

    const empty = await call(s.base, "POST", "/v1/events", {
      raw: "",
      headers: { "content-type": "application/json" },
    });
    expect(empty.status).toBe(400);
    expect(empty.body).toMatchObject({ reason: "invalid_json", message: "The body is empty; send one JSON object." });

    const array = await call(s.base, "POST", "/v1/events", { body: [changeRequest("x")] });
    expect(array.status).toBe(400);
    expect(array.body).toMatchObject({
      reason: "invalid_request",
      message: "The body must be a JSON object (an event), not an array.",
      issues: [{ path: "(top level)" }],
    });

    const unnamed = await call(s.base, "POST", "/v1/events", { body: { repo: REPO } });
    expect(unnamed.status).toBe(400);
    expect(unnamed.body).toMatchObject({
      reason: "invalid_request",
      issues: [{ path: "event", message: 'is missing (expected "CommitCompleted" or "ChangeRequested")' }],
    });

    const unknown = await call(s.base, "POST", "/v1/events", { body: { event: "PullRequestCreated" } });
    expect(unknown.status).toBe(400);
    expect(unknown.body).toMatchObject({
      reason: "invalid_request",
      message: 'Unknown event "PullRequestCreated": this endpoint accepts CommitCompleted and ChangeRequested.',
    });

    const { context: _context, ...withoutContext } = changeRequest("7010", { change_type: "PVC Size" });
    const fields = await call(s.base, "POST", "/v1/events", {
      body: { ...withoutContext, context: { remediation: "Grow the volume", impact: "Namespace data" } },
    });
    expect(fields.status).toBe(422);
    expect(fields.body).toEqual({
      error: "Unprocessable Entity",
      reason: "invalid_event",
      message:
        "The ChangeRequested event is invalid: change_type: change_type must be lower-case words joined by - (e.g. pvc-size); context.alert: is missing (expected string).",
      issues: [
        { path: "change_type", message: "change_type must be lower-case words joined by - (e.g. pvc-size)" },
        { path: "context.alert", message: "is missing (expected string)" },
      ],
    });
    const commit = await call(s.base, "POST", "/v1/events", {
      body: {
        event: "CommitCompleted",
        trace_id: "trace-ord-8128",
        commit_hash: "xyz",
        repo: REPO,
        branch: "feature/x",
        agent: "a",
        timestamp: "2025-05-07T19:05:33Z",
      },
    });
    expect(commit.status).toBe(422);
    expect(commit.body).toMatchObject({
      issues: [
        {
          path: "commit_hash",
          message: "commit_hash must be 4 to 64 hexadecimal characters (an abbreviated or full git hash)",
        },
      ],
    });

    const text = await call(s.base, "POST", "/v1/events", {
      raw: JSON.stringify(changeRequest("7011")),
      headers: { "content-type": "text/plain" },
    });
    expect(text.status).toBe(415);
    expect(text.body).toMatchObject({
      error: "Unsupported Media Type",
      reason: "unsupported_media_type",
      message: 'Content-Type "text/plain" is not accepted; send JSON with Content-Type: application/json.',
    });
    const none = await call(s.base, "POST", "/v1/events");
    expect(none.status).toBe(415);

    const big = await call(s.base, "POST", "/v1/events", {
      body: changeRequest("7012", { summary: "x".repeat(1_100_000) }),
    });
    expect(big.status).toBe(413);
    expect(big.body).toMatchObject({
      error: "Payload Too Large",
      reason: "payload_too_large",
      message: "The body is larger than 1000000 bytes (server.max_body_bytes).",
    });

    const badKey = await call(s.base, "POST", "/v1/events", {
      body: changeRequest("7013"),
      headers: { "idempotency-key": "has spaces" },
    });
    expect(badKey.status).toBe(400);
    expect(badKey.body).toMatchObject({ reason: "invalid_request", issues: [{ path: "Idempotency-Key" }] });

    const missingRun = await call(s.base, "GET", "/v1/runs/:id", { path: "/v1/runs/run_nope" });
    expect(missingRun.status).toBe(404);
    expect(missingRun.body).toMatchObject({
      reason: "not_found",
      message: 'No run "run_nope" exists; run ids come from POST /v1/events.',
    });
    const noRoute = await call(s.base, "GET", "/v1/nothing");
    expect(noRoute.status).toBe(404);
    expect(noRoute.body).toMatchObject({
      reason: "not_found",
      message: "There is no route GET /v1/nothing; GET /openapi.json lists the routes.",
    });
    const wrongMethod = await call(s.base, "DELETE", "/v1/events");
    expect(wrongMethod.status).toBe(405);
    expect(wrongMethod.headers.get("allow")).toBe("POST");
    expect(wrongMethod.body).toMatchObject({ reason: "method_not_allowed" });

    const done = (await call(s.base, "POST", "/v1/events", { body: changeRequest("7014") })).body as { run_id: string };
    await settled(s.base, done.run_id);
    const notPaused = await call(s.base, "POST", "/v1/runs/:id/resume", {
      path: `/v1/runs/${done.run_id}/resume`,
      body: { approve: true },
    });
    expect(notPaused.status).toBe(409);
    expect(notPaused.body).toMatchObject({
      reason: "not_awaiting_approval",
      message: `Run ${done.run_id} is done, not awaiting approval; only a paused run can be resumed.`,
    });
    const badDecision = await call(s.base, "POST", "/v1/runs/:id/resume", {
      path: `/v1/runs/${done.run_id}/resume`,
      body: { approve: "yes", extra: 1 },
    });
    expect(badDecision.status).toBe(422);
    expect(badDecision.body).toMatchObject({
      reason: "invalid_request",
      issues: [
        { path: "approve", message: 'expected boolean, got "yes"' },
        { path: "(top level)", message: 'has unknown key "extra" (check the spelling)' },
      ],
    });
    const resumeMissing = await call(s.base, "POST", "/v1/runs/:id/resume", {
      path: "/v1/runs/run_nope/resume",
      body: { approve: false },
    });
    expect(resumeMissing.status).toBe(404);
  });

  it("serves health, readiness, metrics (agent's and server's series) and its OpenAPI description", async () => {
    expect((await call(s.base, "GET", "/healthz")).body).toEqual({ status: "ok" });
    expect((await call(s.base, "GET", "/readyz")).body).toEqual({
      status: "ready",
      checks: { agent: true, state_file: true },
    });
    const metrics = await call(s.base, "GET", "/metrics");
    expect(metrics.status).toBe(200);
    expect(metrics.headers.get("content-type")).toBe(s.agent.ledger.metrics.contentType);
    expect(metrics.text).toMatch(/^prcreator_prs_generated_total\{status="created"\} [1-9]\d*$/m);
    expect(metrics.text).toMatch(
      /^prcreator_http_requests_total\{method="POST",route="\/v1\/events",status="202"\} [1-9]\d*$/m,
    );
    expect(metrics.text).toMatch(
      /^prcreator_http_requests_total\{method="POST",route="\/v1\/events",status="422"\} [1-9]\d*$/m,
    );
    expect(metrics.text).toMatch(/^prcreator_http_requests_total\{method="GET",route="unmatched",status="404"\} 1$/m);
    expect(metrics.text).toMatch(/^prcreator_server_runs_total\{status="done"\} [1-9]\d*$/m);
    expect(metrics.text).toMatch(/^prcreator_server_queue_depth 0$/m);
    expect(metrics.text).toMatch(/^prcreator_server_runs_in_flight 0$/m);
    expect(metrics.text).toMatch(
      /^prcreator_http_request_duration_seconds_count\{method="GET",route="\/v1\/runs\/:id"\} [1-9]\d*$/m,
    );
    const doc = await call(s.base, "GET", "/openapi.json");
    expect(doc.status).toBe(200);
    expect((doc.body as OpenApiDocument).openapi).toBe("3.1.0");
  });
});

describe("serve in process: auth", () => {
  it("needs the bearer token on every route but the health checks, and says which way it is wrong", async () => {
    const s = await serve(policyFor(await freshDir()), { env: { PR_CREATOR_API_TOKEN: API_TOKEN } });
    try {
      const missing = await call(s.base, "POST", "/v1/events", { body: changeRequest("7101") });
      expect(missing.status).toBe(401);
      expect(missing.headers.get("www-authenticate")).toBe('Bearer realm="pr-creator"');
      expect(missing.body).toMatchObject({
        error: "Unauthorized",
        reason: "unauthorized",
        message: "This route needs a bearer token: send Authorization: Bearer <token>.",
      });
      const wrong = await call(s.base, "GET", "/metrics", { token: `${API_TOKEN}x` });
      expect(wrong.status).toBe(401);
      expect(wrong.headers.get("www-authenticate")).toBe('Bearer realm="pr-creator", error="invalid_token"');
      expect(wrong.text).not.toContain(API_TOKEN);
      const basic = await call(s.base, "GET", "/openapi.json", {
        headers: { authorization: `Basic ${Buffer.from(`u:${API_TOKEN}`).toString("base64")}` },
      });
      expect(basic.status).toBe(401);
      expect((await call(s.base, "GET", "/v1/runs/:id", { path: "/v1/runs/run_x" })).status).toBe(401);
      // Auth comes before the body is read: an unauthenticated client learns nothing about its payload.
      expect(
        (await call(s.base, "POST", "/v1/events", { raw: "not json", headers: { "content-type": "application/json" } }))
          .status,
      ).toBe(401);

      expect((await call(s.base, "GET", "/healthz")).status).toBe(200);
      expect((await call(s.base, "GET", "/readyz")).status).toBe(200);
      const ok = await call(s.base, "POST", "/v1/events", { body: changeRequest("7101"), token: API_TOKEN });
      expect(ok.status).toBe(202);
      expect((await settled(s.base, (ok.body as { run_id: string }).run_id, API_TOKEN)).status).toBe("done");
    } finally {
      await s.stop();
    }
  });

  it("refuses to listen beyond loopback without a token, and runs open on loopback", async () => {
    const policy = policyFor(await freshDir(), { host: "0.0.0.0" });
    const error = await rejection(
      Promise.resolve().then(() =>
        createHttpServer({ agent: () => Promise.reject(new Error("never built")), server: policy.server, env: {} }),
      ),
    );
    expect(error.reason).toBe("invalid_config");
    expect(error.paragraph).toBe(
      "The server would listen on 0.0.0.0 without authentication: the environment variable PR_CREATOR_API_TOKEN is not set. Set PR_CREATOR_API_TOKEN to a secret bearer token, or listen on 127.0.0.1 (server.host or --host).",
    );
    expect(() =>
      createHttpServer({
        agent: () => Promise.reject(new Error("never built")),
        server: policy.server,
        env: { PR_CREATOR_API_TOKEN: API_TOKEN },
      }),
    ).not.toThrow();
  });
});

describe("serve in process: bounded concurrency", () => {
  it("answers 429 with Retry-After when every slot and queue place is taken, and accepts again once a run ends", async () => {
    const s = await serve(policyFor(await freshDir(), { max_concurrent_runs: 1, max_queued: 0 }));
    try {
      az.inject("*", { delayMs: 150 }, Infinity);
      const first = await call(s.base, "POST", "/v1/events", { body: changeRequest("7201") });
      expect(first.status).toBe(202);
      const full = await call(s.base, "POST", "/v1/events", { body: changeRequest("7202") });
      expect(full.status).toBe(429);
      expect(full.headers.get("retry-after")).toBe("1");
      expect(full.body).toEqual({
        error: "Too Many Requests",
        reason: "queue_full",
        message: "All 1 run slot and 0 queue places are taken; retry after 1 s.",
        issues: [],
      });
      const metrics = await call(s.base, "GET", "/metrics");
      expect(metrics.text).toMatch(/^prcreator_server_runs_in_flight 1$/m);
      expect(metrics.text).toMatch(
        /^prcreator_http_requests_total\{method="POST",route="\/v1\/events",status="429"\} 1$/m,
      );

      await settled(s.base, (first.body as { run_id: string }).run_id);
      // Now the estimate comes from the run that finished: at least 1 s, a whole number.
      const next = await call(s.base, "POST", "/v1/events", { body: changeRequest("7202") });
      expect(next.status).toBe(202);
      const fullAgain = await call(s.base, "POST", "/v1/events", { body: changeRequest("7203") });
      expect(fullAgain.status).toBe(429);
      expect(Number(fullAgain.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
      expect(fullAgain.headers.get("retry-after")).toMatch(/^\d+$/);
      expect((await settled(s.base, (next.body as { run_id: string }).run_id)).status).toBe("done");
    } finally {
      await s.stop();
    }
  });

  it("close() drains: no new runs (503) while the running one finishes, and readiness says draining", async () => {
    const s = await serve(policyFor(await freshDir(), { max_concurrent_runs: 1, max_queued: 5 }));
    az.inject("*", { delayMs: 150 }, Infinity);
    expect((await call(s.base, "POST", "/v1/events", { body: changeRequest("7301") })).status).toBe(202);
    const waiting = (await call(s.base, "POST", "/v1/events", { body: changeRequest("7302") })).body as {
      run_id: string;
    };
    const closing = s.http.close();
    const refused = await call(s.base, "POST", "/v1/events", { body: changeRequest("7303") });
    expect(refused.status).toBe(503);
    expect(refused.body).toMatchObject({ error: "Service Unavailable", reason: "shutting_down" });
    const ready = await call(s.base, "GET", "/readyz");
    expect(ready.status).toBe(503);
    expect(ready.body).toEqual({ status: "draining", checks: { agent: true, state_file: true } });
    expect((await getRun(s.base, waiting.run_id)).status).toBe("queued");
    expect(await closing).toEqual({ drained: true, running: 0, queued: 1 });
    await s.agent.close();
    expect(prsOf("7301")).toHaveLength(1);
    expect(prsOf("7302")).toHaveLength(0);
  });
});

describe("serve in process: approvals", () => {
  let sample: SampleRepo;
  let dir: string;
  beforeAll(async () => {
    dir = await freshDir();
    sample = await buildSampleRepo(path.join(dir, "sample"));
  }, 60_000);

  const approvalAgent = (policy: Policy) =>
    createAgent({ policy, repoPath: sample.dir, tracesFile: sample.tracesFile, model: null, cwd: dir, env: {} });

  it("pauses a target mismatch (awaiting_approval with a resume link), survives a restart, and resumes by run id", async () => {
    const policy = PolicySchema.parse({
      approval: { on_violations: ["target_mismatch"] },
      pr: { commit_range: "commit" },
      state_file: path.join(dir, "state.db"),
      server: { port: 0 },
    });
    const first = await serve(policy, { agent: await approvalAgent(policy) });
    const accepted = (
      await call(first.base, "POST", "/v1/events", { body: { ...sample.event, target_branch: "main" } })
    ).body as { run_id: string };
    const paused = await settled(first.base, accepted.run_id);
    expect(paused.status).toBe("awaiting_approval");
    expect(paused.links.resume).toBe(`/v1/runs/${accepted.run_id}/resume`);
    expect(paused.result?.status).toBe("awaiting_approval");
    expect(paused.result?.approval?.thread_id).toBe(paused.thread_id);
    // The same event while paused is the same run.
    const again = await call(first.base, "POST", "/v1/events", { body: { ...sample.event, target_branch: "main" } });
    expect(again.status).toBe(200);
    expect(again.body).toMatchObject({ run_id: accepted.run_id, status: "awaiting_approval" });
    await first.stop();

    const second = await serve(policy, { agent: await approvalAgent(policy) });
    try {
      expect((await getRun(second.base, accepted.run_id)).status).toBe("awaiting_approval");
      const resumed = await call(second.base, "POST", "/v1/runs/:id/resume", {
        path: `/v1/runs/${accepted.run_id}/resume`,
        body: { approve: true, by: "tech-lead", reason: "main is right for this hotfix" },
      });
      expect(resumed.status).toBe(202);
      expect(resumed.body).toMatchObject({ run_id: accepted.run_id, status: "queued" });
      const done = await settled(second.base, accepted.run_id);
      expect(done.status).toBe("done");
      expect(done.attempts).toBe(2);
      expect(done.result?.status).toBe("previewed");
      expect(done.result?.pr?.target_branch).toBe("main");
      expect(done.result?.approvals).toMatchObject([
        { approved: true, by: "tech-lead", reason: "main is right for this hotfix", failure_reason: "target_mismatch" },
      ]);
      const twice = await call(second.base, "POST", "/v1/runs/:id/resume", {
        path: `/v1/runs/${accepted.run_id}/resume`,
        body: { approve: true },
      });
      expect(twice.status).toBe(409);
    } finally {
      await second.stop();
    }
  });
});

describe("OpenAPI description", () => {
  const doc = openApiDocument("test");
  const toOpenApi = (url: string) => url.replace(/:(\w+)/g, "{$1}");

  it("describes every route and nothing else", async () => {
    const s = await serve(policyFor(await freshDir()));
    await s.stop();
    const served = s.http.routes.filter((r) => r.method !== "HEAD").map((r) => `${r.method} ${toOpenApi(r.url)}`);
    const described = Object.entries(doc.paths).flatMap(([p, ops]) =>
      Object.keys(ops).map((m) => `${m.toUpperCase()} ${p}`),
    );
    expect([...served].sort()).toEqual([...described].sort());
  });

  it("every answer the tests received validates against the description of its route and status", () => {
    const ajv = new Ajv2020({ strict: false, allErrors: true });
    addFormats.default(ajv);
    ajv.addSchema(doc, "openapi.json");
    const pointer = (...parts: string[]) => parts.map((p) => p.replace(/~/g, "~0").replace(/\//g, "~1")).join("/");
    const checked = new Set<string>();
    for (const answer of seen) {
      const op = doc.paths[toOpenApi(answer.route)]?.[answer.method.toLowerCase()] as
        { responses: Record<string, { $ref?: string; content?: Record<string, unknown> }> } | undefined;
      if (!op) {
        expect(answer.status, `${answer.method} ${answer.route} is not described`).toBeOneOf([404, 405]);
        continue;
      }
      const key = String(answer.status) in op.responses ? String(answer.status) : "default";
      const described = op.responses[key];
      expect(described, `${answer.method} ${answer.route} ${answer.status}`).toBeDefined();
      const base = described!.$ref
        ? described!.$ref.replace(/^#/, "")
        : `/${pointer("paths", toOpenApi(answer.route), answer.method.toLowerCase(), "responses", key)}`;
      const resolved = described!.$ref ? doc.components.responses[described!.$ref.split("/").pop()!]! : described!;
      const mediaType = Object.keys((resolved.content ?? {}) as Record<string, unknown>)[0]!;
      if (mediaType !== "application/json") continue;
      const schemaRef = `openapi.json#${base}/content/${pointer(mediaType)}/schema`;
      const validate =
        ajv.getSchema(schemaRef) ?? ajv.compile({ $id: schemaRef.replace(/[#/~]/g, "_"), $ref: schemaRef });
      expect(
        validate(answer.body),
        `${answer.method} ${answer.route} ${answer.status}: ${ajv.errorsText(validate.errors)}`,
      ).toBe(true);
      checked.add(`${answer.method} ${answer.route} ${answer.status}`);
    }
    expect([...checked]).toEqual(
      expect.arrayContaining([
        "POST /v1/events 202",
        "POST /v1/events 200",
        "POST /v1/events 400",
        "POST /v1/events 401",
        "POST /v1/events 413",
        "POST /v1/events 415",
        "POST /v1/events 422",
        "POST /v1/events 429",
        "POST /v1/events 503",
        "GET /v1/runs/:id 200",
        "GET /v1/runs/:id 404",
        "POST /v1/runs/:id/resume 202",
        "POST /v1/runs/:id/resume 409",
        "POST /v1/runs/:id/resume 422",
        "GET /healthz 200",
        "GET /readyz 200",
        "GET /readyz 503",
        "GET /openapi.json 200",
      ]),
    );
  });
});

// ---------------------------------------------------------------------------------------------------------
// The built CLI: signals and restarts
// ---------------------------------------------------------------------------------------------------------

interface Spawned {
  child: ChildProcess;
  base: string;
  stderr: () => string;
  exited: Promise<number | null>;
}

async function spawnServe(dir: string): Promise<Spawned> {
  const child = spawn(process.execPath, [MAIN, "serve", "--port", "0", "--config", "pr-creator.yaml"], {
    cwd: dir,
    env: { PATH: process.env.PATH ?? "", CI: "true", NO_COLOR: "1", ...forgeEnv },
    stdio: ["ignore", "ignore", "pipe"],
  });
  let stderr = "";
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  const base = await new Promise<string>((resolve, reject) => {
    child.stderr!.setEncoding("utf8").on("data", (chunk: string) => {
      stderr += chunk;
      const match = /listening on (http:\/\/[^\s;]+)/.exec(stderr);
      if (match) resolve(match[1]!);
    });
    void exited.then((code) => reject(new Error(`serve exited (${code}) before listening:\n${stderr}`)));
  });
  return { child, base, stderr: () => stderr, exited };
}

describe("pr-creator serve (built CLI)", () => {
  it("refuses a non-loopback host without a token, and a bad port, with exit 2 before listening", async () => {
    const dir = await freshDir();
    const env = { PATH: process.env.PATH ?? "" };
    const open = await runCli(["serve", "--host", "0.0.0.0", "--port", "0"], { cwd: dir, env });
    expect(open.code).toBe(2);
    expect(open.stderr).toBe(
      "error: The server would listen on 0.0.0.0 without authentication: the environment variable PR_CREATOR_API_TOKEN is not set. Set PR_CREATOR_API_TOKEN to a secret bearer token, or listen on 127.0.0.1 (server.host or --host).\n",
    );
    const port = await runCli(["serve", "--port", "http"], { cwd: dir, env });
    expect(port.code).toBe(2);
    expect(port.stderr).toBe(
      'error: --port "http" is not a port number. Give a whole number from 0 to 65535 (0 picks a free port).\n',
    );
  });

  it("SIGTERM drains the running run and exits 0; a restart finds the old runs, finishes the queued one, and re-runs one cut off by a crash", async () => {
    const dir = await freshDir();
    await writeFile(
      path.join(dir, "pr-creator.yaml"),
      "forge: azure-devops\nretry_policy: { base_delay_ms: 10 }\nmerge: { auto_merge_levels: [] }\nstate_file: state.db\nserver: { max_concurrent_runs: 1, max_queued: 10, drain_timeout_ms: 60000 }\n",
    );
    az.inject("*", { delayMs: 150 }, Infinity);
    const first = await spawnServe(dir);
    expect(first.stderr()).toMatch(
      /^pr-creator serve: listening on http:\/\/127\.0\.0\.1:\d+; auth: none, loopback only \(set PR_CREATOR_API_TOKEN to require a bearer token\)\n$/,
    );
    const a = (await call(first.base, "POST", "/v1/events", { body: changeRequest("7401") })).body as {
      run_id: string;
    };
    const b = (await call(first.base, "POST", "/v1/events", { body: changeRequest("7402") })).body as {
      run_id: string;
    };
    await until(
      () => getRun(first.base, a.run_id),
      (r) => r.status === "running",
      "the first run to start",
    );
    first.child.kill("SIGTERM");
    expect(await first.exited).toBe(0);
    expect(first.stderr()).toContain(
      "pr-creator serve: SIGTERM: accepting no new runs; waiting up to 60000 ms for running ones\n",
    );
    expect(first.stderr()).toContain(
      "pr-creator serve: stopped; every running run finished; 1 run will continue on the next start\n",
    );
    expect(prsOf("7401")).toHaveLength(1);
    expect(prsOf("7402")).toHaveLength(0);

    const second = await spawnServe(dir);
    expect(second.stderr()).toContain("; 1 unfinished run from before the restart queued again");
    const drained = await getRun(second.base, a.run_id);
    expect(drained).toMatchObject({ status: "done", attempts: 1, result: { status: "created" } });
    const queued = await settled(second.base, b.run_id);
    expect(queued).toMatchObject({ status: "done", attempts: 1, result: { status: "created" } });
    expect(prsOf("7402")).toHaveLength(1);

    // A crash (SIGKILL) mid-run leaves it running in the registry: the next start runs it again, onto the same PR.
    const c = (await call(second.base, "POST", "/v1/events", { body: changeRequest("7403") })).body as {
      run_id: string;
    };
    await until(
      () => getRun(second.base, c.run_id),
      (r) => r.status === "running",
      "the third run to start",
    );
    second.child.kill("SIGKILL");
    await second.exited;
    const third = await spawnServe(dir);
    try {
      const rerun = await settled(third.base, c.run_id);
      expect(rerun).toMatchObject({ status: "done", attempts: 2 });
      expect(["created", "updated", "unchanged"]).toContain(rerun.result?.status);
      expect(prsOf("7403")).toHaveLength(1);
    } finally {
      third.child.kill("SIGTERM");
      expect(await third.exited).toBe(0);
    }
  }, 90_000);
});
