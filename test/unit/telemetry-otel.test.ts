/**
 * OpenTelemetry the standard way: the global API's tracer with the package's version as scope version, the
 * SDK's own OTEL_* environment handling for the resource, W3C traceparent from the event and from the HTTP
 * request, and GenAI semantic conventions on model calls. Spans go to an in-memory exporter; the model is the
 * loopback OpenAI emulator, so the client is the real one.
 */
import { readFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { Writable } from "node:stream";
import { context, propagation, trace } from "@opentelemetry/api";
import { resourceFromAttributes } from "@opentelemetry/resources";
import { NodeTracerProvider } from "@opentelemetry/sdk-trace-node";
import { InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from "@opentelemetry/sdk-trace-base";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { createAgent } from "../../src/agent/create-agent.js";
import { buildSampleRepo, type SampleRepo } from "../../src/demo/sample-repo.js";
import { ChangeRequestedSchema, CommitCompletedSchema } from "../../src/domain/events.js";
import { PolicySchema } from "../../src/domain/policy.js";
import { createLogger } from "../../src/logging/run-log.js";
import { createHttpServer } from "../../src/server/http.js";
import { startRunTrace } from "../../src/telemetry/run-trace.js";
import { withTraceparent } from "../../src/telemetry/traceparent.js";
import { createTelemetry, SCOPE, SPAN, type Telemetry } from "../../src/telemetry/tracing.js";
import { startOpenAiChatEmulator, type OpenAiChatEmulator } from "../emulators/openai-chat.js";
import { runResult, SEED_HASH, SEED_TRACE_ID } from "./builders.js";

const PACKAGE_VERSION = (
  JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as { version: string }
).version;
const TRACE = "4bf92f3577b34da6a3ce929d0e0e4736";
const PARENT = "00f067aa0ba902b7";
const TRACEPARENT = `00-${TRACE}-${PARENT}-01`;

const open: Telemetry[] = [];
afterEach(async () => {
  vi.unstubAllEnvs();
  await Promise.all(open.splice(0).map((t) => t.shutdown()));
});

function inMemory(serviceName = "pr-creator-test") {
  const exporter = new InMemorySpanExporter();
  const telemetry = createTelemetry({ serviceName, exporter });
  open.push(telemetry);
  return { exporter, telemetry, named: (name: string) => exporter.getFinishedSpans().filter((s) => s.name === name) };
}

const event = {
  event: "CommitCompleted",
  trace_id: SEED_TRACE_ID,
  commit_hash: SEED_HASH,
  repo: "OrderService",
  branch: "feature/order-handler",
  agent: "code-committer-agent",
  timestamp: "2025-05-07T22:35:00Z",
};

describe("the SDK's own settings", () => {
  it("names the instrumentation scope pr-creator with the package's version, through the global API", () => {
    const { telemetry, named } = inMemory();
    startRunTrace(telemetry, { execution_id: "exec-1" }).finish(runResult());
    const [root] = named(SPAN.start);
    expect(SCOPE.version).toBe(PACKAGE_VERSION);
    expect(root!.instrumentationScope).toMatchObject({ name: "pr-creator", version: PACKAGE_VERSION });
    // Registered globally: any code reaching for the API's tracer lands in the same provider.
    trace.getTracer("someone-else").startSpan("probe").end();
    expect(named("probe")).toHaveLength(1);
  });

  it("takes service.name and other resource attributes from OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES over the policy", () => {
    vi.stubEnv("OTEL_SERVICE_NAME", "pr-creator-staging");
    vi.stubEnv("OTEL_RESOURCE_ATTRIBUTES", "deployment.environment.name=staging,team=platform%20tools");
    const { telemetry, named } = inMemory("from-the-policy");
    startRunTrace(telemetry, { execution_id: "exec-2" }).finish(runResult());
    expect(named(SPAN.start)[0]!.resource.attributes).toMatchObject({
      "service.name": "pr-creator-staging",
      "service.version": PACKAGE_VERSION,
      "deployment.environment.name": "staging",
      team: "platform tools",
    });
  });

  it("uses the policy's service name when the environment names none", () => {
    vi.stubEnv("OTEL_SERVICE_NAME", undefined);
    vi.stubEnv("OTEL_RESOURCE_ATTRIBUTES", undefined);
    const { telemetry, named } = inMemory("from-the-policy");
    startRunTrace(telemetry, { execution_id: "exec-3" }).finish(runResult());
    expect(named(SPAN.start)[0]!.resource.attributes["service.name"]).toBe("from-the-policy");
  });

  it("samples as OTEL_TRACES_SAMPLER says", () => {
    vi.stubEnv("OTEL_TRACES_SAMPLER", "always_off");
    const { telemetry, exporter } = inMemory();
    const outcome = startRunTrace(telemetry, { execution_id: "exec-8" }).finish(runResult());
    expect(exporter.getFinishedSpans()).toEqual([]);
    expect(outcome.otel_trace_id).toBeNull();
  });

  it("leaves the provider to a host that registered its own SDK first", async () => {
    const exporter = new InMemorySpanExporter();
    const host = new NodeTracerProvider({
      resource: resourceFromAttributes({ "service.name": "host-app" }),
      spanProcessors: [new SimpleSpanProcessor(exporter)],
    });
    host.register();
    try {
      const ours = createTelemetry({ serviceName: "pr-creator" });
      expect(ours.exporter).toBe("host");
      startRunTrace(ours, { execution_id: "exec-4" }).finish(runResult());
      await ours.shutdown();
      const [root] = exporter.getFinishedSpans().filter((s) => s.name === SPAN.start);
      expect(root!.resource.attributes["service.name"]).toBe("host-app");
      // Our shutdown left the host's registration alone.
      trace.getTracer("host").startSpan("after").end();
      expect(exporter.getFinishedSpans().map((s) => s.name)).toContain("after");
    } finally {
      trace.disable();
      context.disable();
      propagation.disable();
      await host.shutdown();
    }
  });

  it("shares one provider between the agents of a process until the last one shuts down", async () => {
    const { telemetry: first, named } = inMemory();
    const second = createTelemetry({ serviceName: "pr-creator-test" });
    open.push(second);
    expect(second.exporter).toBe("custom");
    await first.shutdown();
    await first.shutdown();
    startRunTrace(second, { execution_id: "exec-9" }).finish(runResult());
    expect(named(SPAN.start)).toHaveLength(1);
    await second.shutdown();
    // Given back: the next telemetry registers its own provider and exporter.
    const { telemetry: third, named: namedThird } = inMemory();
    startRunTrace(third, { execution_id: "exec-10" }).finish(runResult());
    expect(namedThird(SPAN.start)).toHaveLength(1);
  });
});

describe("W3C traceparent on the event", () => {
  it("is validated by the event schemas", () => {
    expect(CommitCompletedSchema.parse({ ...event, traceparent: TRACEPARENT }).traceparent).toBe(TRACEPARENT);
    for (const bad of [
      "00-xyz",
      `00-${"0".repeat(32)}-${PARENT}-01`,
      `00-${TRACE}-${"0".repeat(16)}-01`,
      TRACEPARENT.toUpperCase(),
    ]) {
      const parsed = CommitCompletedSchema.safeParse({ ...event, traceparent: bad });
      expect(parsed.success, bad).toBe(false);
      expect(parsed.error!.issues[0]!.path).toEqual(["traceparent"]);
    }
    const change = {
      event: "ChangeRequested",
      change_id: "c-1",
      change_type: "pvc-size",
      repo: "gitops",
      base_branch: "main",
      summary: "grow the volume",
      edits: [{ path: "apps/pvc.yaml", content: "x" }],
      context: { alert: "a", remediation: "r", impact: "i" },
      agent: "agent-sre",
      timestamp: "2026-01-08T10:00:00Z",
    };
    expect(ChangeRequestedSchema.parse({ ...change, traceparent: TRACEPARENT }).traceparent).toBe(TRACEPARENT);
    expect(ChangeRequestedSchema.safeParse({ ...change, traceparent: "00-nope" }).error!.issues[0]!.path).toEqual([
      "traceparent",
    ]);
  });

  it("puts the run's spans in the caller's trace, under the caller's span", () => {
    const { telemetry, named } = inMemory();
    startRunTrace(telemetry, { execution_id: "exec-5", input: { ...event, traceparent: TRACEPARENT } }).finish(
      runResult(),
    );
    const [root] = named(SPAN.start);
    expect(root!.spanContext().traceId).toBe(TRACE);
    expect(root!.parentSpanContext?.spanId).toBe(PARENT);
    expect(named(SPAN.complete)[0]!.spanContext().traceId).toBe(TRACE);
  });

  it("keeps a resumed run in the trace of the event it paused on", () => {
    const { telemetry, named } = inMemory();
    startRunTrace(telemetry, {
      execution_id: "exec-6",
      state: { input: { ...event, traceparent: TRACEPARENT } },
    }).finish(runResult({ status: "awaiting_approval" }));
    expect(named(SPAN.start)[0]!.spanContext().traceId).toBe(TRACE);
  });

  it("ignores a traceparent that is not valid (a new trace starts)", () => {
    const { telemetry, named } = inMemory();
    startRunTrace(telemetry, { execution_id: "exec-7", input: { ...event, traceparent: "00-nope" } }).finish(
      runResult(),
    );
    const [root] = named(SPAN.start);
    expect(root!.spanContext().traceId).not.toBe(TRACE);
    expect(root!.parentSpanContext).toBeUndefined();
  });

  it("comes from the HTTP header unless the event has its own", () => {
    expect(withTraceparent(event, TRACEPARENT)).toEqual({ ...event, traceparent: TRACEPARENT });
    const own = { ...event, traceparent: `00-${"a".repeat(32)}-${"b".repeat(16)}-01` };
    expect(withTraceparent(own, TRACEPARENT)).toBe(own);
    expect(withTraceparent(event, "garbage")).toBe(event);
    expect(withTraceparent(event, [TRACEPARENT, TRACEPARENT])).toBe(event);
    expect(withTraceparent([event], TRACEPARENT)).toEqual([event]);
  });
});

describe("a served run with a model", () => {
  let root: string;
  let sample: SampleRepo;
  let emulator: OpenAiChatEmulator;

  beforeAll(async () => {
    root = await mkdtemp(path.join(tmpdir(), "pr-creator-otel-"));
    sample = await buildSampleRepo(path.join(root, "sample"));
  }, 60_000);

  afterAll(async () => {
    await emulator?.close();
    if (root) await rm(root, { recursive: true, force: true });
  });

  it("joins the HTTP request's trace and gives the model call GenAI attributes with token usage", async () => {
    emulator = await startOpenAiChatEmulator({
      script: [
        {
          args: {
            type: "feat",
            summary: "implement CreateOrderHandler",
            purpose:
              "Implements the CreateOrderHandler for the Create Order blueprint: a customer's validated cart becomes a persisted order.",
            highlights: ["Persists the new order through IOrderRepository"],
          },
          usage: { prompt_tokens: 1234, completion_tokens: 56 },
        },
      ],
    });
    const { exporter, telemetry } = inMemory();
    let finished!: (line: Record<string, unknown>) => void;
    const runFinished = new Promise<Record<string, unknown>>((resolve) => (finished = resolve));
    const destination = new Writable({
      write(chunk: Buffer, _encoding, done) {
        for (const line of chunk.toString("utf8").split("\n").filter(Boolean)) {
          const parsed = JSON.parse(line) as Record<string, unknown>;
          if (parsed.msg === "run finished") finished(parsed);
        }
        done();
      },
    });
    const policy = PolicySchema.parse({
      state_file: path.join(root, "state.db"),
      model: { name: "gpt-4o-mini", timeout_ms: 5000, max_retries: 0 },
      server: { port: 0 },
    });
    const agent = await createAgent({
      policy,
      repoPath: sample.dir,
      tracesFile: sample.tracesFile,
      dryRun: true,
      cwd: root,
      sinks: [async () => undefined],
      env: { PR_CREATOR_MODEL_PROVIDER: "openai", OPENAI_API_KEY: "test-key", OPENAI_BASE_URL: emulator.url },
      telemetry,
      logger: createLogger({ level: "info", destination }),
    });
    const http = createHttpServer({ agent, server: policy.server, env: {} });
    try {
      const base = await http.listen();
      const response = await fetch(`${base}/v1/events`, {
        method: "POST",
        headers: { "content-type": "application/json", traceparent: TRACEPARENT },
        body: JSON.stringify(sample.event),
      });
      expect(response.status).toBe(202);
      const line = await runFinished;
      expect(line.status).toBe("skipped"); // a preview
    } finally {
      await http.close();
      await agent.close();
    }

    const spans = exporter.getFinishedSpans();
    const start = spans.find((s) => s.name === SPAN.start)!;
    expect(start.spanContext().traceId).toBe(TRACE);
    expect(start.parentSpanContext?.spanId).toBe(PARENT);
    expect(start.attributes["pr_creator.prompts.version"]).toMatch(/^[0-9a-f]{12}$/);

    const model = spans.filter((s: ReadableSpan) => s.attributes["gen_ai.operation.name"] === "chat");
    expect(model).toHaveLength(1);
    expect(model[0]!.name).toBe("chat gpt-4o-mini");
    expect(model[0]!.spanContext().traceId).toBe(TRACE);
    expect(model[0]!.attributes).toMatchObject({
      "gen_ai.provider.name": "openai",
      "gen_ai.system": "openai",
      "gen_ai.request.model": "gpt-4o-mini",
      "gen_ai.usage.input_tokens": 1234,
      "gen_ai.usage.output_tokens": 56,
      "gen_ai.response.finish_reasons": ["stop"],
    });
  });
});
