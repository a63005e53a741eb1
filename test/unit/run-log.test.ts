import { describe, expect, it } from "vitest";
import type { RunResult } from "../../src/domain/run-result.js";
import { NO_USAGE } from "../../src/agent/state.js";
import { PrCreatorError } from "../../src/domain/errors.js";
import {
  createLogger,
  logNode,
  logRun,
  resolveLogLevel,
  runLogLine,
  secretValuesFromEnv,
  type LogLevel,
} from "../../src/logging/run-log.js";
import { startRunTrace, type RunOutcome } from "../../src/telemetry/run-trace.js";
import { createTelemetry } from "../../src/telemetry/tracing.js";
import { runResult } from "./builders.js";

/** A pino destination that keeps every line. */
function capture() {
  const raw: string[] = [];
  return {
    destination: { write: (line: string) => void raw.push(line) },
    raw,
    lines: () => raw.map((line) => JSON.parse(line) as Record<string, unknown>),
  };
}

function logger(level: LogLevel, secrets: string[] = []) {
  const out = capture();
  return { log: createLogger({ level, destination: out.destination, secrets }), ...out };
}

const outcome: RunOutcome = {
  execution_id: "exec-901",
  trace_id: "trace-ord-8128",
  repo: "OrderService",
  branch: "feature/order-handler",
  component_scope: "Order",
  status: "success",
  outcome: "created",
  error_type: null,
  pr_id: 3123,
  duration_ms: 2350,
  finished_at: Date.parse("2025-05-07T22:35:21.734Z"),
  otel_trace_id: "4bf92f3577b34da6a3ce929d0e0e4736",
};

/** A created, medium-risk PR whose model draft needed one repair, left to a review. */
function result(overrides: Partial<RunResult> = {}): RunResult {
  return runResult({
    pr: { ...runResult().pr!, risk: { level: "medium", reasons: ["behaviour change"] } },
    usage: { ...NO_USAGE, model_calls: 2, prompt_tokens: 1800, completion_tokens: 240, repairs: 1 },
    rounds: [
      { round: 1, drafted_by: "model", violations: [{ code: "title_too_long", message: "too long" }] },
      { round: 2, drafted_by: "model", violations: [] },
    ],
    merge: {
      requires: "review",
      status: "not_requested",
      message: "",
      failed_checks: [],
      checks: [],
      merge_commit: null,
      ci_ms: null,
      merge_ms: null,
    },
    ...overrides,
  });
}

const SEED_FIELDS = [
  "agent",
  "execution_id",
  "trace_id",
  "repo",
  "branch",
  "status",
  "pr_id",
  "duration_ms",
  "timestamp",
];

describe("run log line", () => {
  it("has the seed's fields first, with the seed's values, then the extras", () => {
    const line = runLogLine(result(), outcome);
    expect(Object.keys(line).slice(0, SEED_FIELDS.length)).toEqual(SEED_FIELDS);
    expect(line).toEqual({
      agent: "pull-request-creator-agent",
      execution_id: "exec-901",
      trace_id: "trace-ord-8128",
      repo: "OrderService",
      branch: "feature/order-handler",
      status: "success",
      pr_id: 3123,
      duration_ms: 2350,
      timestamp: "2025-05-07T22:35:21Z",
      outcome: "created",
      component_scope: "Order",
      otel_trace_id: "4bf92f3577b34da6a3ce929d0e0e4736",
      pr_url: "https://dev.azure.com/acme/shop/_git/OrderService/pullrequest/3123",
      drafted_by: "model",
      rounds: 2,
      usage: { model_calls: 2, prompt_tokens: 1800, completion_tokens: 240, repairs: 1, fallbacks: 0 },
      risk: "medium",
      merge: "not_requested",
    });
  });

  it("carries the failure reason, and only the outcome's fields when the runner threw", () => {
    const failed: RunOutcome = {
      ...outcome,
      status: "failed",
      outcome: "failed",
      error_type: "azure_devops_503",
      pr_id: null,
      otel_trace_id: null,
    };
    expect(
      runLogLine(result({ status: "failed", reason: "azure_devops_503", pr: null, merge: null }), failed),
    ).toMatchObject({ status: "failed", reason: "azure_devops_503", pr_id: null });
    expect(runLogLine(null, failed)).toEqual({
      agent: "pull-request-creator-agent",
      execution_id: "exec-901",
      trace_id: "trace-ord-8128",
      repo: "OrderService",
      branch: "feature/order-handler",
      status: "failed",
      pr_id: null,
      duration_ms: 2350,
      timestamp: "2025-05-07T22:35:21Z",
      outcome: "failed",
      reason: "azure_devops_503",
      component_scope: "Order",
    });
  });

  it("is written as one JSON info line with the message 'run finished'", () => {
    const { log, lines } = logger("info");
    logRun(log, result(), outcome);
    expect(lines()).toHaveLength(1);
    const [line] = lines();
    expect(line).toMatchObject({ level: "info", msg: "run finished", ...runLogLine(result(), outcome) });
    expect(typeof line!.time).toBe("string");
    expect(line).not.toHaveProperty("pid");
    expect(line).not.toHaveProperty("hostname");
  });

  it("matches the spans' outcome when built from a run trace", () => {
    const telemetry = createTelemetry({ serviceName: "pr-creator" });
    const run = startRunTrace(telemetry, {
      execution_id: "exec-42",
      input: { trace_id: "trace-a", repo: "Repo", branch: "feature/a" },
    });
    const line = runLogLine(
      result({ status: "previewed", pr: null, merge: null }),
      run.finish(result({ status: "previewed", pr: null })),
    );
    expect(line).toMatchObject({
      execution_id: "exec-42",
      trace_id: "trace-a",
      repo: "Repo",
      branch: "feature/a",
      status: "skipped",
      outcome: "previewed",
      pr_id: null,
    });
    return telemetry.shutdown();
  });
});

describe("secrets", () => {
  const TOKEN = "ghp_R4nd0mT0k3nValue";
  const PAT = 'azdopat/with"quote';

  it("redacts secret-looking keys at any depth and keeps counts named like them", () => {
    const { log, raw, lines } = logger("info");
    log.info(
      {
        request: { headers: { Authorization: "Bearer abc", "x-api-key": "k1" } },
        config: {
          forge: { github_token: "t1", token_env: "GITHUB_TOKEN" },
          model: { apiKey: "k2" },
          db: [{ password: "p1" }],
          webhook: { secret: "s1" },
        },
        usage: { prompt_tokens: 12, completion_tokens: 3 },
      },
      "config loaded",
    );
    for (const value of ["Bearer abc", "k1", "t1", "k2", "p1", "s1"]) expect(raw[0]).not.toContain(`"${value}"`);
    const [line] = lines();
    expect(line).toMatchObject({
      request: { headers: { Authorization: "[Redacted]", "x-api-key": "[Redacted]" } },
      config: {
        forge: { github_token: "[Redacted]", token_env: "GITHUB_TOKEN" },
        model: { apiKey: "[Redacted]" },
        db: [{ password: "[Redacted]" }],
        webhook: { secret: "[Redacted]" },
      },
      usage: { prompt_tokens: 12, completion_tokens: 3 },
    });
  });

  it("scrubs configured secret values wherever they appear: values, messages, child bindings, errors", () => {
    const { log, raw } = logger("debug", [TOKEN, PAT]);
    log.info({ url: `https://x:${TOKEN}@example.test/repo.git`, note: PAT }, `cloning with ${TOKEN}`);
    log.child({ remote: TOKEN }).warn("retrying");
    log.error({ err: new PrCreatorError("unauthorized", `token ${TOKEN} was rejected`) }, "forge refused");
    expect(raw).toHaveLength(3);
    for (const line of raw) {
      expect(line).not.toContain(TOKEN);
      expect(line).not.toContain(JSON.stringify(PAT).slice(1, -1));
      expect(() => JSON.parse(line) as unknown).not.toThrow();
    }
    // The user info of a URL goes altogether, not only the secret in it.
    expect(JSON.parse(raw[0]!)).toMatchObject({
      url: "https://example.test/repo.git",
      note: "[Redacted]",
      msg: "cloning with [Redacted]",
    });
    expect(JSON.parse(raw[2]!)).toMatchObject({ err: { message: "token [Redacted] was rejected" } });
  });

  it("handles circular objects", () => {
    const { log, lines } = logger("info");
    const node: Record<string, unknown> = { name: "a" };
    node.self = node;
    log.info({ node }, "cycle");
    expect(lines()[0]).toMatchObject({ node: { name: "a", self: "[Circular]" } });
  });

  it("collects secret values from the environment", () => {
    const env = {
      GITHUB_TOKEN: " ghp_1 ",
      OPENAI_API_KEY: "sk-2",
      AZURE_DEVOPS_TOKEN: "pat-3",
      HOOK_SIGNING: "whsec-4",
      PATH: "/usr/bin",
      GITHUB_TOKEN_EMPTY: "",
      TOKEN_ENV: "x",
    };
    expect(secretValuesFromEnv(env, ["HOOK_SIGNING"]).sort()).toEqual(["ghp_1", "pat-3", "sk-2", "whsec-4"]);
  });
});

describe("per-node lines", () => {
  function steps(level: LogLevel) {
    const { log, lines } = logger(level);
    const telemetry = createTelemetry({ serviceName: "pr-creator" });
    const run = startRunTrace(telemetry, { execution_id: "exec-9" });
    for (const [node, update] of [
      [
        "intake",
        {
          event: {
            event: "CommitCompleted",
            trace_id: "trace-a",
            commit_hash: "abcd",
            repo: "R",
            branch: "feature/a",
            agent: "x",
            timestamp: "2025-05-07T22:35:00Z",
          },
        },
      ],
      [
        "gate",
        {
          violations: [{ code: "c", message: "m", where: "title" }],
          rounds: [{ round: 1, drafted_by: "model", violations: [{ code: "c", message: "m" }] }],
        },
      ],
      ["__interrupt__", {}],
    ] as const) {
      const step = run.onNode(node, update as never);
      if (step) logNode(log, step);
    }
    run.finish(result());
    return { lines, telemetry };
  }

  it("writes one debug line per node at debug", async () => {
    const { lines, telemetry } = steps("debug");
    expect(lines()).toHaveLength(2);
    expect(
      lines().map(({ level, msg, node, keys, violations, execution_id, trace_id }) => ({
        level,
        msg,
        node,
        keys,
        violations,
        execution_id,
        trace_id,
      })),
    ).toEqual([
      {
        level: "debug",
        msg: "node finished",
        node: "intake",
        keys: ["event"],
        violations: 0,
        execution_id: "exec-9",
        trace_id: "trace-a",
      },
      {
        level: "debug",
        msg: "node finished",
        node: "gate",
        keys: ["violations", "rounds"],
        violations: 1,
        execution_id: "exec-9",
        trace_id: "trace-a",
      },
    ]);
    expect(lines().every((l) => typeof l.duration_ms === "number")).toBe(true);
    await telemetry.shutdown();
  });

  it("writes none at info", async () => {
    const { lines, telemetry } = steps("info");
    expect(lines()).toEqual([]);
    await telemetry.shutdown();
  });
});

describe("log level", () => {
  it("takes --verbose over PR_CREATOR_LOG_LEVEL over the config", () => {
    expect(resolveLogLevel({ configured: "warn", env: {} })).toBe("warn");
    expect(resolveLogLevel({ configured: "warn", env: { PR_CREATOR_LOG_LEVEL: "Error" } })).toBe("error");
    expect(resolveLogLevel({ configured: "warn", env: { PR_CREATOR_LOG_LEVEL: "error" }, verbose: true })).toBe(
      "debug",
    );
  });

  it("rejects an unknown level in the environment", () => {
    expect(() => resolveLogLevel({ configured: "info", env: { PR_CREATOR_LOG_LEVEL: "loud" } })).toThrow(
      /PR_CREATOR_LOG_LEVEL is "loud"/,
    );
  });
});
