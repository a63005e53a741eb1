import { createServer, type IncomingHttpHeaders } from "node:http";
import type { AddressInfo } from "node:net";
import { Annotation, END, START, StateGraph } from "@langchain/langgraph";
import { SpanStatusCode, type HrTime } from "@opentelemetry/api";
import { InMemorySpanExporter, type ReadableSpan } from "@opentelemetry/sdk-trace-base";
import { afterEach, describe, expect, it, vi } from "vitest";
import type { AgentStateType } from "../../src/agent/state.js";
import { PrCreatorError } from "../../src/domain/errors.js";
import type { CommitCompleted } from "../../src/domain/events.js";
import type { Violation, ViolationCode } from "../../src/domain/violations.js";
import { PullRequestExistsError, type Forge, type RemotePullRequest } from "../../src/forges/forge.js";
import { startRunTrace } from "../../src/telemetry/run-trace.js";
import { traceForge } from "../../src/telemetry/traced-forge.js";
import { createTelemetry, SPAN, type Telemetry } from "../../src/telemetry/tracing.js";
import { runResult, SEED_HASH, SEED_TRACE_ID, seedTrace } from "./builders.js";

const T0 = 1_746_657_321_000; // 2025-05-07T22:35:21Z, epoch ms

/** A clock that moves only when told: every span time and duration is exact. */
function clock(start = T0) {
  let t = start;
  return { now: () => t, advance: (ms: number) => (t += ms) };
}

const open: Telemetry[] = [];
afterEach(async () => {
  vi.unstubAllEnvs();
  await Promise.all(open.splice(0).map((t) => t.shutdown()));
});

/** The SDK reads OTEL_* from the process environment itself; each test's values are undone after it. */
function stubEnv(values: Record<string, string>) {
  for (const [name, value] of Object.entries(values)) vi.stubEnv(name, value);
}

function inMemory() {
  const exporter = new InMemorySpanExporter();
  const telemetry = createTelemetry({ serviceName: "pr-creator-test", exporter });
  open.push(telemetry);
  const spans = () => exporter.getFinishedSpans();
  const named = (name: string) => spans().filter((s) => s.name === name);
  const one = (name: string) => {
    const found = named(name);
    expect(found, name).toHaveLength(1);
    return found[0]!;
  };
  return { exporter, telemetry, spans, named, one };
}

const idOf = (span: ReadableSpan) => span.spanContext().spanId;
const parentOf = (span: ReadableSpan) => span.parentSpanContext?.spanId;
const ms = (time: HrTime) => time[0] * 1000 + time[1] / 1e6;

function commitEvent(overrides: Partial<CommitCompleted> = {}): CommitCompleted {
  return {
    event: "CommitCompleted",
    trace_id: SEED_TRACE_ID,
    commit_hash: SEED_HASH,
    repo: "OrderService",
    branch: "feature/order-handler",
    agent: "code-committer-agent",
    timestamp: "2025-05-07T22:35:00Z",
    ...overrides,
  };
}

type Step = [node: string, update: Partial<AgentStateType>, ms: number];

const violation = (code: ViolationCode): Violation => ({ code, message: `${code} broken`, where: "body" });

/** The node updates of a run whose first model draft needs one repair, then publishes PR 3123. */
function successfulRun(event = commitEvent()): Step[] {
  return [
    ["intake", { started_at: T0, event, target_branch: "dev" }, 5],
    ["gather", { trace: seedTrace() }, 40],
    ["check_trace", {}, 3],
    ["check_limits", {}, 1],
    ["recall", { recalled: [] }, 12],
    ["draft", { drafted_by: "model" }, 900],
    [
      "gate",
      {
        violations: [violation("title_too_long"), violation("body_missing_section")],
        rounds: [
          {
            round: 1,
            drafted_by: "model",
            violations: [violation("title_too_long"), violation("body_missing_section")],
          },
        ],
      },
      4,
    ],
    ["draft", { drafted_by: "model" }, 800],
    ["gate", { violations: [], rounds: [{ round: 2, drafted_by: "model", violations: [] }], truncation: null }, 3],
    ["dedupe", {}, 2],
    ["publish", { published: { status: "created", id: 3123, url: "https://example.test/pr/3123" } }, 300],
    ["record", { events: [] }, 10],
    ["merge", {}, 70],
  ];
}

function drive(run: ReturnType<typeof startRunTrace>, time: ReturnType<typeof clock>, steps: Step[]) {
  for (const [node, update, took] of steps) {
    time.advance(took);
    run.onNode(node, update);
  }
}

describe("run trace: span model", () => {
  it("nests template, draft rounds and complete under prcreator.start, all in one trace", () => {
    const { one, named, spans, telemetry } = inMemory();
    const time = clock();
    const run = startRunTrace(telemetry, { execution_id: "exec-901", now: time.now });
    drive(run, time, successfulRun());
    run.finish(runResult());

    const root = one(SPAN.start);
    const template = one(SPAN.templateResolve);
    const rounds = named(SPAN.titleBodyGenerated);
    const complete = one(SPAN.complete);
    expect(parentOf(root)).toBeUndefined();
    expect(parentOf(template)).toBe(idOf(root));
    expect(parentOf(complete)).toBe(idOf(root));
    expect(rounds.map(parentOf)).toEqual([idOf(template), idOf(template)]);
    expect(new Set(spans().map((s) => s.spanContext().traceId)).size).toBe(1);
    expect(spans().every((s) => s.ended)).toBe(true);
    expect(spans().every((s) => s.resource.attributes["service.name"] === "pr-creator-test")).toBe(true);
  });

  it("tags the root with the seed's tags and the outcome", () => {
    const { one, telemetry } = inMemory();
    const time = clock();
    const run = startRunTrace(telemetry, { execution_id: "exec-901", now: time.now });
    drive(run, time, successfulRun());
    const outcome = run.finish(runResult());

    const total = successfulRun().reduce((sum, [, , took]) => sum + took, 0);
    const expected = {
      "gen_ai.agent.name": "pull-request-creator-agent",
      "pr_creator.execution_id": "exec-901",
      "pr_creator.trace_id": SEED_TRACE_ID,
      "vcs.repository.name": "OrderService",
      "vcs.ref.head.name": "feature/order-handler",
      "vcs.ref.base.name": "dev",
      "pr_creator.component_scope": "Order",
      "pr_creator.status": "success",
      "pr_creator.outcome": "created",
      "vcs.change.id": "3123",
      "pr_creator.duration_ms": total,
    };
    expect(one(SPAN.start).attributes).toEqual(expected);
    expect(one(SPAN.complete).attributes).toEqual(expected);
    expect(one(SPAN.start).status.code).not.toBe(SpanStatusCode.ERROR);
    expect(ms(one(SPAN.start).endTime) - ms(one(SPAN.start).startTime)).toBe(total);
    expect(outcome).toEqual({
      execution_id: "exec-901",
      trace_id: SEED_TRACE_ID,
      repo: "OrderService",
      branch: "feature/order-handler",
      component_scope: "Order",
      status: "success",
      outcome: "created",
      pr_id: 3123,
      duration_ms: total,
      error_type: null,
      finished_at: T0 + total,
      otel_trace_id: one(SPAN.start).spanContext().traceId,
    });
  });

  it("gives each draft round its drafter, number and violation count, and the template span the draft ⇄ gate time", () => {
    const { one, named, telemetry } = inMemory();
    const time = clock();
    const run = startRunTrace(telemetry, { execution_id: "exec-1", now: time.now });
    drive(run, time, successfulRun());
    run.finish(runResult());

    const rounds = named(SPAN.titleBodyGenerated);
    expect(
      rounds.map((s) => [
        s.attributes["pr_creator.draft.round"],
        s.attributes["pr_creator.drafted_by"],
        s.attributes["pr_creator.violations"],
      ]),
    ).toEqual([
      [1, "model", 2],
      [2, "model", 0],
    ]);
    // Every span carries the common tags known when it ends.
    for (const span of [...rounds, one(SPAN.templateResolve)]) {
      expect(span.attributes).toMatchObject({
        "pr_creator.trace_id": SEED_TRACE_ID,
        "vcs.repository.name": "OrderService",
        "vcs.ref.head.name": "feature/order-handler",
        "pr_creator.component_scope": "Order",
        "pr_creator.execution_id": "exec-1",
      });
    }
    const template = one(SPAN.templateResolve);
    expect(template.attributes).toMatchObject({
      "pr_creator.draft.rounds": 2,
      "pr_creator.drafted_by": "model",
      "pr_creator.violations": 0,
      "pr_creator.truncated": false,
    });
    const beforeDraft = 5 + 40 + 3 + 1 + 12;
    expect(ms(template.startTime)).toBe(T0 + beforeDraft);
    expect(ms(template.endTime)).toBe(T0 + beforeDraft + 900 + 4 + 800 + 3);
    expect(ms(rounds[1]!.startTime)).toBe(T0 + beforeDraft + 900 + 4);
  });

  it("marks a failed run ERROR with the reason on the root, complete and the spans where it failed", () => {
    const { one, named, telemetry } = inMemory();
    const time = clock();
    const run = startRunTrace(telemetry, { execution_id: "exec-2", now: time.now });
    const failure = {
      reason: "validation_failed" as const,
      message: "The drafted PR breaks 1 content rule.",
      attempts: 0,
    };
    drive(run, time, [
      ...successfulRun().slice(0, 5),
      ["draft", { drafted_by: "deterministic" }, 2],
      [
        "gate",
        {
          violations: [violation("body_missing_section")],
          rounds: [{ round: 1, drafted_by: "deterministic", violations: [violation("body_missing_section")] }],
          failure,
        },
        2,
      ],
      ["fail", { events: [] }, 1],
    ]);
    const outcome = run.finish(runResult({ status: "failed", reason: "validation_failed", pr: null }));

    for (const span of [
      one(SPAN.start),
      one(SPAN.complete),
      one(SPAN.templateResolve),
      named(SPAN.titleBodyGenerated)[0]!,
    ]) {
      expect(span.status).toEqual({ code: SpanStatusCode.ERROR, message: "validation_failed" });
      expect(span.attributes).toMatchObject({ "pr_creator.status": "failed", "error.type": "validation_failed" });
      expect(span.attributes.error_type).toBeUndefined();
    }
    expect(one(SPAN.start).attributes["vcs.change.id"]).toBeUndefined();
    expect(outcome).toMatchObject({ status: "failed", error_type: "validation_failed", pr_id: null });
  });

  it("tags a run that fails validation from the raw event", () => {
    const { one, telemetry } = inMemory();
    const input = {
      event: "CommitCompleted",
      trace_id: "trace-x-1",
      repo: "Billing",
      branch: "feature/x",
      commit_hash: "not-hex",
    };
    const run = startRunTrace(telemetry, { execution_id: "exec-3", input });
    run.onNode("intake", { failure: { reason: "invalid_event", message: "The event is invalid.", attempts: 0 } });
    run.onNode("fail", {});
    run.finish(runResult({ status: "failed", reason: "invalid_event", pr: null }));
    expect(one(SPAN.start).attributes).toMatchObject({
      "pr_creator.trace_id": "trace-x-1",
      "vcs.repository.name": "Billing",
      "vcs.ref.head.name": "feature/x",
      "error.type": "invalid_event",
      "pr_creator.status": "failed",
    });
  });

  it("reports previews, unchanged PRs and paused runs as skipped, with the finer outcome", () => {
    const { named, telemetry } = inMemory();
    for (const status of ["previewed", "unchanged", "awaiting_approval"] as const) {
      const run = startRunTrace(telemetry, { execution_id: `exec-${status}` });
      run.finish(runResult({ status, ...(status === "previewed" ? { pr: null } : {}) }));
    }
    expect(
      named(SPAN.complete).map((s) => [
        s.attributes["pr_creator.status"],
        s.attributes["pr_creator.outcome"],
        s.attributes["vcs.change.id"],
      ]),
    ).toEqual([
      ["skipped", "previewed", undefined],
      ["skipped", "unchanged", "3123"],
      ["skipped", "awaiting_approval", "3123"],
    ]);
    expect(named(SPAN.complete).every((s) => s.status.code !== SpanStatusCode.ERROR)).toBe(true);
  });

  it("ends the spans of a run whose runner threw, once", () => {
    const { one, spans, telemetry } = inMemory();
    const run = startRunTrace(telemetry, { execution_id: "exec-4" });
    const first = run.abort(new PrCreatorError("invalid_request", "No run is waiting for approval."));
    const second = run.finish(runResult());
    expect(second).toBe(first);
    expect(first).toMatchObject({ status: "failed", outcome: "failed", error_type: "invalid_request" });
    expect(spans()).toHaveLength(2);
    expect(one(SPAN.complete).events.map((e) => e.name)).toEqual(["exception"]);
    expect(one(SPAN.start).status).toEqual({ code: SpanStatusCode.ERROR, message: "invalid_request" });
  });

  it("keeps a resumed run's tags from its checkpointed state and ignores LangGraph's own keys", () => {
    const { one, telemetry } = inMemory();
    const state: Partial<AgentStateType> = { event: commitEvent(), trace: seedTrace({ component_scope: "Payments" }) };
    const run = startRunTrace(telemetry, { execution_id: "exec-5", state });
    expect(run.onNode("__interrupt__", {})).toBeNull();
    run.finish(runResult({ status: "awaiting_approval" }));
    expect(one(SPAN.start).attributes).toMatchObject({
      "vcs.repository.name": "OrderService",
      "pr_creator.component_scope": "Payments",
      "pr_creator.trace_id": SEED_TRACE_ID,
    });
    expect(one(SPAN.start).events).toEqual([]);
  });

  it("returns the node step the per-node log line needs", () => {
    const { telemetry } = inMemory();
    const time = clock();
    const run = startRunTrace(telemetry, { execution_id: "exec-6", now: time.now });
    time.advance(7);
    const step = run.onNode("gate", {
      violations: [violation("body_too_long")],
      rounds: [{ round: 1, drafted_by: "model", violations: [violation("body_too_long")] }],
      repairs: 1,
    });
    expect(step).toEqual({
      execution_id: "exec-6",
      trace_id: null,
      node: "gate",
      duration_ms: 7,
      keys: ["violations", "rounds", "repairs"],
      violations: 1,
      failure: null,
    });
  });
});

/** A forge whose calls wait at `gate` (if given), so concurrent runs really interleave. */
function fakeForge(gate: () => Promise<void> = async () => {}): Forge {
  const pr = (id: number): RemotePullRequest => ({
    id,
    url: `https://example.test/pr/${id}`,
    title: "t",
    description: "d",
    source_branch: "feature/a",
    target_branch: "dev",
    is_draft: false,
    labels: [],
    reviewer_ids: [],
  });
  const unused = async () => Promise.reject(new Error("unused"));
  return {
    kind: "azure-devops",
    commits: { load: unused },
    findOpenPullRequest: async () => {
      await gate();
      return null;
    },
    createPullRequest: async (repo) => {
      await gate();
      return pr(repo === "RepoA" ? 101 : 202);
    },
    updatePullRequest: async () => {
      throw new PrCreatorError("azure_devops_503", "Azure DevOps answered 503 three times.", { attempts: 3 });
    },
    resolveReviewers: async () => ({ resolved: [], unresolved: [] }),
    addReviewers: async () => {},
    addLabels: async () => {
      throw new PullRequestExistsError("exists");
    },
    listPullRequests: async () => [],
    readFile: async () => null,
    commitFiles: unused,
    getPullRequest: unused,
    getChecks: async () => ({ state: "none", checks: [] }),
    enableAutoMerge: async () => "enabled",
    revertPullRequest: unused,
  };
}

/** Resolves for everyone once `n` callers are waiting. */
function barrier(n: number) {
  let waiting = 0;
  let release!: () => void;
  const all = new Promise<void>((resolve) => (release = resolve));
  return async () => {
    waiting += 1;
    if (waiting === n) release();
    await all;
  };
}

const newPr = {
  title: "t",
  description: "d",
  source_branch: "feature/a",
  target_branch: "dev",
  is_draft: false,
  labels: [],
  reviewers: [],
  work_items: [],
};

describe("traced forge", () => {
  it("wraps each call in a devops span with provider, operation, repository, change id, status and duration", async () => {
    const { named, telemetry } = inMemory();
    const forge = traceForge(fakeForge(), telemetry);
    expect(forge.kind).toBe("azure-devops");
    await forge.getChecks("OrderService", 77);
    const created = await forge.createPullRequest("RepoA", newPr);
    expect(created.id).toBe(101);

    const [checks, create] = named(SPAN.devopsApiRequest);
    expect(checks!.attributes).toMatchObject({
      "vcs.provider.name": "azure_devops",
      "pr_creator.forge.operation": "getChecks",
      "vcs.repository.name": "OrderService",
      "vcs.change.id": "77",
      "pr_creator.status": "success",
    });
    expect(create!.attributes).toMatchObject({
      "pr_creator.forge.operation": "createPullRequest",
      "vcs.repository.name": "RepoA",
      "vcs.change.id": "101",
      "pr_creator.status": "success",
    });
    expect(typeof checks!.attributes["pr_creator.duration_ms"]).toBe("number");
    // Outside any run a call starts its own trace.
    expect(parentOf(checks!)).toBeUndefined();
  });

  it("marks failed calls ERROR with the reason code and rethrows the same error", async () => {
    const { named, telemetry } = inMemory();
    const inner = fakeForge();
    const forge = traceForge(inner, telemetry);
    const error = await forge.updatePullRequest("OrderService", 5, { title: "x" }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PrCreatorError);
    await expect(forge.addLabels("OrderService", 5, ["x"])).rejects.toBeInstanceOf(PullRequestExistsError);

    const [update, labels] = named(SPAN.devopsApiRequest);
    expect(update!.status).toEqual({ code: SpanStatusCode.ERROR, message: "azure_devops_503" });
    expect(update!.attributes).toMatchObject({
      "pr_creator.forge.operation": "updatePullRequest",
      "vcs.change.id": "5",
      "pr_creator.status": "failed",
      "error.type": "azure_devops_503",
    });
    expect(update!.events.map((e) => e.name)).toEqual(["exception"]);
    expect(labels!.attributes).toMatchObject({ "pr_creator.status": "failed", "error.type": "pr_already_exists" });
  });

  it("traces commit reads through the forge's API too", async () => {
    const { named, telemetry } = inMemory();
    const forge = traceForge(fakeForge(), telemetry);
    const request = {
      repo: "OrderService",
      branch: "feature/a",
      commit: SEED_HASH,
      target_branch: "dev",
      range: "auto" as const,
    };
    await expect(forge.commits.load(request)).rejects.toThrow("unused");
    expect(named(SPAN.devopsApiRequest)[0]!.attributes).toMatchObject({
      "pr_creator.forge.operation": "commits.load",
      "vcs.repository.name": "OrderService",
      "pr_creator.status": "failed",
      "error.type": "internal_error",
    });
  });

  it("nests each run's forge calls under its own prcreator.start when runs interleave on one forge", async () => {
    const { named, telemetry } = inMemory();
    const forge = traceForge(fakeForge(barrier(2)), telemetry);
    const runs = ["RepoA", "RepoB"].map((repo, i) => {
      const run = startRunTrace(telemetry, { execution_id: `exec-${repo}` });
      run.onNode("intake", { event: commitEvent({ repo, trace_id: `trace-${i}` }) });
      return { repo, run };
    });
    await Promise.all(
      runs.map(({ repo, run }) =>
        run.within(async () => {
          await forge.findOpenPullRequest(repo, "feature/a", "dev");
          await forge.createPullRequest(repo, newPr);
        }),
      ),
    );
    for (const { run } of runs) run.finish(runResult());

    const roots = named(SPAN.start);
    const calls = named(SPAN.devopsApiRequest);
    expect(calls).toHaveLength(4);
    for (const call of calls) {
      const repoOf = (span: ReadableSpan) => span.attributes["vcs.repository.name"];
      const root = roots.find((r) => repoOf(r) === repoOf(call))!;
      expect(parentOf(call)).toBe(idOf(root));
      expect(call.spanContext().traceId).toBe(root.spanContext().traceId);
      // The run's tags travel with its context.
      expect(call.attributes["pr_creator.execution_id"]).toBe(`exec-${String(repoOf(call))}`);
      expect(call.attributes["pr_creator.trace_id"]).toBe(root.attributes["pr_creator.trace_id"]);
    }
    expect(roots[0]!.spanContext().traceId).not.toBe(roots[1]!.spanContext().traceId);
  });

  it("keeps the run's context through LangGraph's streamed execution, as the runner uses it", async () => {
    const { named, telemetry } = inMemory();
    const forge = traceForge(fakeForge(barrier(2)), telemetry);
    const State = Annotation.Root({ repo: Annotation<string>(), pr: Annotation<number | null>() });
    const graph = new StateGraph(State)
      .addNode("publish", async (state: typeof State.State) => ({
        pr: (await forge.createPullRequest(state.repo, newPr)).id,
      }))
      .addEdge(START, "publish")
      .addEdge("publish", END)
      .compile();

    const runs = ["RepoA", "RepoB"].map((repo) => ({
      repo,
      run: startRunTrace(telemetry, { execution_id: `exec-${repo}`, input: { repo } }),
    }));
    await Promise.all(
      runs.map(({ repo, run }) =>
        run.within(async () => {
          for await (const [mode, chunk] of await graph.stream(
            { repo, pr: null },
            { streamMode: ["updates", "values"] },
          )) {
            if (mode === "updates")
              for (const [node, update] of Object.entries(chunk as Record<string, Partial<AgentStateType>>))
                run.onNode(node, update);
          }
        }),
      ),
    );
    for (const { run } of runs) run.finish(runResult());

    const roots = named(SPAN.start);
    const calls = named(SPAN.devopsApiRequest);
    expect(calls).toHaveLength(2);
    for (const call of calls) {
      const root = roots.find((r) => r.attributes["vcs.repository.name"] === call.attributes["vcs.repository.name"])!;
      expect(parentOf(call)).toBe(idOf(root));
    }
  });
});

describe("exporter choice", () => {
  it("exports nothing and records nothing when no OTLP endpoint is set", async () => {
    vi.stubEnv("OTEL_EXPORTER_OTLP_ENDPOINT", undefined);
    vi.stubEnv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", undefined);
    const telemetry = createTelemetry({ serviceName: "pr-creator" });
    open.push(telemetry);
    expect(telemetry.exporter).toBe("none");
    expect(telemetry.endpoint).toBeNull();
    const run = startRunTrace(telemetry, { execution_id: "exec-7" });
    expect(run.onNode("intake", { event: commitEvent() })).toMatchObject({ node: "intake", trace_id: SEED_TRACE_ID });
    const outcome = run.finish(runResult());
    expect(outcome.otel_trace_id).toBeNull();
    expect(outcome.status).toBe("success");
  });

  it.each([
    [{ OTEL_EXPORTER_OTLP_ENDPOINT: "http://collector:4318" }, "http://collector:4318/v1/traces"],
    [{ OTEL_EXPORTER_OTLP_ENDPOINT: "http://collector:4318/" }, "http://collector:4318/v1/traces"],
    [
      {
        OTEL_EXPORTER_OTLP_ENDPOINT: "http://collector:4318",
        OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: "https://traces.example/otlp",
      },
      "https://traces.example/otlp",
    ],
  ])("chooses OTLP/HTTP from %j", async (env, url) => {
    stubEnv(env);
    const telemetry = createTelemetry({ serviceName: "pr-creator" });
    open.push(telemetry);
    expect(telemetry.exporter).toBe("otlp");
    expect(telemetry.endpoint).toBe(url);
  });

  it("stays off when the SDK is disabled, and rejects an endpoint that is not a URL", () => {
    stubEnv({ OTEL_EXPORTER_OTLP_ENDPOINT: "http://collector:4318", OTEL_SDK_DISABLED: "true" });
    const disabled = createTelemetry({ serviceName: "pr-creator" });
    expect(disabled.exporter).toBe("none");
    return disabled.shutdown().then(() => {
      stubEnv({ OTEL_SDK_DISABLED: "false", OTEL_EXPORTER_OTLP_ENDPOINT: "collector:4318 " });
      expect(() => createTelemetry({ serviceName: "pr-creator" })).toThrow(
        expect.objectContaining({ reason: "invalid_config" }) as Error,
      );
      stubEnv({ OTEL_EXPORTER_OTLP_ENDPOINT: "http://collector:4318", OTEL_TRACES_EXPORTER: "zipkin" });
      expect(() => createTelemetry({ serviceName: "pr-creator" })).toThrow(
        expect.objectContaining({ reason: "invalid_config" }) as Error,
      );
    });
  });

  it("sends the run's spans as OTLP/HTTP JSON with the configured headers on shutdown", async () => {
    const received: { url: string | undefined; headers: IncomingHttpHeaders; body: string }[] = [];
    const server = createServer((req, res) => {
      let body = "";
      req.on("data", (chunk: Buffer) => (body += chunk.toString()));
      req.on("end", () => {
        received.push({ url: req.url, headers: req.headers, body });
        res.writeHead(200, { "content-type": "application/json" }).end("{}");
      });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    try {
      const port = (server.address() as AddressInfo).port;
      stubEnv({
        OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${port}`,
        OTEL_EXPORTER_OTLP_HEADERS: "authorization=Bearer%20abc,x-tenant=shop",
      });
      const telemetry = createTelemetry({ serviceName: "pr-creator-otlp" });
      const run = startRunTrace(telemetry, { execution_id: "exec-8" });
      run.finish(runResult());
      expect(received).toHaveLength(0);
      await telemetry.shutdown();

      expect(received).toHaveLength(1);
      expect(received[0]!.url).toBe("/v1/traces");
      expect(received[0]!.headers).toMatchObject({ authorization: "Bearer abc", "x-tenant": "shop" });
      const body = received[0]!.body;
      expect(body).toContain(SPAN.start);
      expect(body).toContain(SPAN.complete);
      expect(body).toContain("pr-creator-otlp");
    } finally {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
