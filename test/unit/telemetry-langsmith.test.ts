/**
 * LangSmith: LangChain's tracer turns on from LANGSMITH_TRACING / LANGSMITH_API_KEY / LANGSMITH_ENDPOINT. The
 * root run is named after the agent and the event, labelled with the trace id, repository, branch and PR
 * number (metadata and tags), and carries no secret. A loopback receiver stands in for the LangSmith API.
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { gunzipSync } from "node:zlib";
import { context, ROOT_CONTEXT, trace } from "@opentelemetry/api";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { createAgent } from "../../src/agent/create-agent.js";
import { buildSampleRepo, type SampleRepo } from "../../src/demo/sample-repo.js";
import { PolicySchema } from "../../src/domain/policy.js";
import { BUILT_IN_PROMPTS } from "../../src/prompts/prompts.js";
import { langSmithRunConfig } from "../../src/telemetry/langsmith.js";

const TRACE = "4bf92f3577b34da6a3ce929d0e0e4736";
const remote = trace.setSpanContext(ROOT_CONTEXT, { traceId: TRACE, spanId: "00f067aa0ba902b7", traceFlags: 1 });

describe("the run config LangSmith sees", () => {
  it("names the run after the agent and the event and labels it with what identifies the change", () => {
    const config = langSmithRunConfig({
      input: {
        event: "CommitCompleted",
        trace_id: "ORD-42",
        repo: "OrderService",
        branch: "feature/order-handler",
        commit_hash: "abc1234",
        token: "ghp_not-for-langsmith",
      },
      execution_id: "exec-1",
      context: remote,
      prompts_version: "0123456789ab",
      pr_number: 3123,
    });
    expect(config).toEqual({
      runName: "pr-creator CommitCompleted",
      metadata: {
        agent: "pr-creator",
        execution_id: "exec-1",
        event: "CommitCompleted",
        trace_id: "ORD-42",
        repo: "OrderService",
        branch: "feature/order-handler",
        pr_number: 3123,
        prompts_version: "0123456789ab",
        otel_trace_id: TRACE,
      },
      tags: [
        "pr-creator",
        "event:CommitCompleted",
        "trace_id:ORD-42",
        "repo:OrderService",
        "branch:feature/order-handler",
        "pr_number:3123",
      ],
    });
  });

  it("keeps to known event names, the change request's base branch and short values", () => {
    const change = langSmithRunConfig({
      input: { event: "ChangeRequested", repo: "gitops", base_branch: "main", trace_id: "x".repeat(500) },
      execution_id: "exec-2",
      context: context.active(),
    });
    expect(change.runName).toBe("pr-creator ChangeRequested");
    expect(change.metadata.branch).toBe("main");
    expect(String(change.metadata.trace_id)).toHaveLength(201);
    expect(change.metadata).not.toHaveProperty("otel_trace_id");
    const odd = langSmithRunConfig({ input: { event: "DropTables" }, execution_id: "exec-3", context: ROOT_CONTEXT });
    expect(odd.runName).toBe("pr-creator");
    expect(odd.tags).toEqual(["pr-creator"]);
    expect(langSmithRunConfig({ input: "not an object", execution_id: "e", context: ROOT_CONTEXT }).runName).toBe(
      "pr-creator",
    );
  });
});

/** The JSON parts of multipart uploads (and whole JSON bodies). */
function jsonParts(text: string): unknown[] {
  return text.split(/\r?\n(?=[{[])|\r?\n--/).flatMap((chunk) => {
    try {
      return [JSON.parse(chunk.trim()) as unknown];
    } catch {
      return [];
    }
  });
}

describe("a run traced to LangSmith", () => {
  let root: string;
  let sample: SampleRepo;
  let server: Server;
  const bodies: string[] = [];
  let rootRunSeen!: () => void;
  const rootRun = new Promise<void>((resolve) => (rootRunSeen = resolve));

  beforeAll(async () => {
    root = await mkdtemp(path.join(tmpdir(), "pr-creator-langsmith-"));
    sample = await buildSampleRepo(path.join(root, "sample"));
    server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (chunk: Buffer) => chunks.push(chunk));
      req.on("end", () => {
        const raw = Buffer.concat(chunks);
        const body = (req.headers["content-encoding"] === "gzip" ? gunzipSync(raw) : raw).toString("utf8");
        bodies.push(body);
        if (body.includes('"name":"pr-creator CommitCompleted"') && body.includes('"end_time"')) rootRunSeen();
        res.writeHead(req.url === "/info" ? 200 : 202, { "content-type": "application/json" }).end("{}");
      });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  }, 60_000);

  afterAll(async () => {
    vi.unstubAllEnvs();
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
    await rm(root, { recursive: true, force: true });
  });

  it("sends the root run as 'pr-creator CommitCompleted' with the labels, and no secret", async () => {
    vi.stubEnv("LANGSMITH_TRACING", "true");
    vi.stubEnv("LANGSMITH_ENDPOINT", `http://127.0.0.1:${(server.address() as AddressInfo).port}`);
    vi.stubEnv("LANGSMITH_API_KEY", "lsv2-secret-api-key");
    vi.stubEnv("LANGSMITH_PROJECT", "pr-creator-tests");
    vi.stubEnv("OPENAI_API_KEY", "sk-secret-never-sent");
    const agent = await createAgent({
      policy: PolicySchema.parse({ state_file: path.join(root, "state.db") }),
      repoPath: sample.dir,
      tracesFile: sample.tracesFile,
      dryRun: true,
      model: null,
      cwd: root,
      sinks: [async () => undefined],
    });
    try {
      expect((await agent.handle(sample.event)).status).toBe("previewed");
    } finally {
      await agent.close();
    }
    await rootRun;
    const sent = bodies.join("\n");
    expect(sent).toContain('"session_name":"pr-creator-tests"');
    for (const tag of [
      "pr-creator",
      `trace_id:${sample.event.trace_id}`,
      `repo:${sample.event.repo}`,
      `branch:${sample.event.branch}`,
    ])
      expect(sent).toContain(JSON.stringify(tag));
    // The root run's metadata travels in its own JSON part ("extra") of the multipart upload.
    const metadata = jsonParts(sent)
      .map((part) => (part as { metadata?: Record<string, unknown> }).metadata)
      .find((m) => m?.execution_id !== undefined && m.agent === "pr-creator");
    expect(metadata).toMatchObject({
      event: "CommitCompleted",
      trace_id: sample.event.trace_id,
      repo: sample.event.repo,
      branch: sample.event.branch,
      prompts_version: BUILT_IN_PROMPTS.version,
      execution_id: expect.stringMatching(/^exec-/) as string,
    });
    // The graph's steps are child runs of that root, not roots of their own.
    const parts = jsonParts(sent) as { name?: string; id?: string; parent_run_id?: string; trace_id?: string }[];
    const rootPart = parts.find((p) => p.name === "pr-creator CommitCompleted" && p.id !== undefined);
    const planPart = parts.find((p) => p.name === "plan_pr");
    expect(rootPart?.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(planPart?.trace_id).toBe(rootPart?.id);
    expect(planPart?.parent_run_id).toMatch(/^[0-9a-f-]{36}$/);
    expect(sent).not.toContain("sk-secret-never-sent");
    expect(sent).not.toContain("lsv2-secret-api-key");
  });
});
