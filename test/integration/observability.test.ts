/**
 * A real run against the Azure DevOps emulator, observed the three ways operators see it: OpenTelemetry
 * spans (in-memory exporter), the one structured log line, and the lifecycle events — delivered to a signed
 * webhook and, for failures, the human-operations webhook, with the outbox keeping what a down receiver missed.
 */
import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { Writable } from "node:stream";
import { InMemorySpanExporter, type ReadableSpan } from "@opentelemetry/sdk-trace-base";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createAgent, PolicySchema, type ChangeRequested } from "../../src/index.js";
import { verifyWebhookSignature } from "../../src/events/webhook.js";
import { createLogger } from "../../src/logging/run-log.js";
import { createTelemetry } from "../../src/telemetry/tracing.js";
import { azureWorld, type World } from "../scenarios/worlds.js";

const SECRET = "whsec-observability-test-4242";
const PVC =
  "kind: PersistentVolumeClaim\nmetadata:\n  name: data\nspec:\n  resources:\n    requests:\n      storage: 10Gi\n";

interface Received {
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
}

/** A webhook receiver that can be taken down and brought back. */
async function receiver(): Promise<{ url: string; received: Received[]; down: boolean; server: Server }> {
  const state = { url: "", received: [] as Received[], down: false, server: undefined as unknown as Server };
  state.server = createServer((req, res) => {
    let body = "";
    req.setEncoding("utf8").on("data", (c: string) => (body += c));
    req.on("end", () => {
      if (state.down) {
        res.writeHead(503).end();
        return;
      }
      state.received.push({ path: req.url ?? "", headers: req.headers, body });
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => state.server.listen(0, "127.0.0.1", resolve));
  state.url = `http://127.0.0.1:${(state.server.address() as AddressInfo).port}`;
  return state;
}

function change(id: string, overrides: Partial<ChangeRequested> = {}): ChangeRequested {
  return {
    event: "ChangeRequested",
    change_id: id,
    change_type: "pvc-size",
    repo: "gitops",
    base_branch: "main",
    summary: "grow the data volume",
    edits: [{ path: `apps/${id}/pvc.yaml`, set: { "spec.resources.requests.storage": "20Gi" } }],
    context: {
      alert: "PersistentVolumeFillingUp",
      remediation: "Grow the volume",
      impact: "One namespace",
      namespace: `ns-${id}`,
    },
    agent: "agent-sre",
    timestamp: "2026-01-08T10:00:00Z",
    ...overrides,
  };
}

describe("observability of a real run", () => {
  let world: World;
  let dir: string;
  let hook: Awaited<ReturnType<typeof receiver>>;
  const exporter = new InMemorySpanExporter();
  const logs: Record<string, unknown>[] = [];

  beforeAll(async () => {
    world = await azureWorld();
    world.seed({ "apps/a/pvc.yaml": PVC, "apps/b/pvc.yaml": PVC, "apps/c/pvc.yaml": PVC, "apps/d/pvc.yaml": PVC });
    dir = await mkdtemp(path.join(os.tmpdir(), "pr-creator-observability-"));
    hook = await receiver();
  });

  afterAll(async () => {
    await world.close();
    hook.server.close();
    await rm(dir, { recursive: true, force: true });
  });

  async function agent() {
    const policy = PolicySchema.parse({
      forge: "azure-devops",
      retry_policy: { base_delay_ms: 10, max_attempts: 2 },
      state_file: path.join(dir, "state.db"),
      events: {
        webhooks: [{ url: `${hook.url}/events`, secret_env: "HOOK_SECRET", max_attempts: 1 }],
        failure_webhook: { url: `${hook.url}/humanops`, max_attempts: 1 },
      },
    });
    const sink = new Writable({
      write(chunk: Buffer, _enc, done) {
        for (const line of chunk.toString("utf8").split("\n").filter(Boolean))
          logs.push(JSON.parse(line) as Record<string, unknown>);
        done();
      },
    });
    return createAgent({
      policy,
      env: { ...world.env, HOOK_SECRET: SECRET },
      model: null,
      cwd: dir,
      telemetry: createTelemetry({ serviceName: "pr-creator-test", exporter }),
      logger: createLogger({ level: "info", destination: sink, secrets: [SECRET, world.env.AZURE_DEVOPS_TOKEN!] }),
    });
  }

  it("one run is one prcreator.start span with the seed's tags, its steps and every forge call nested under it", async () => {
    exporter.reset();
    const a = await agent();
    const result = await a.handle(change("a"));
    await a.close();
    expect(result.status).toBe("created");
    const spans = exporter.getFinishedSpans();
    const root = spans.find((s) => s.name === "prcreator.start")!;
    expect(root.attributes).toMatchObject({
      "pr_creator.trace_id": "trace-pvc-size-a",
      "vcs.repository.name": "gitops",
      "vcs.ref.head.name": "agent-sre/pvc-size-a",
      "pr_creator.component_scope": "ns-a",
    });
    const children = (name: string): ReadableSpan[] =>
      spans.filter((s) => s.name === name && s.spanContext().traceId === root.spanContext().traceId);
    expect(children("prcreator.template.resolve").length).toBeGreaterThanOrEqual(1);
    expect(children("prcreator.title.body.generated").length).toBe(1);
    const api = children("prcreator.devops.api.request");
    expect(api.map((s) => s.attributes["pr_creator.forge.operation"])).toEqual(
      expect.arrayContaining(["readFile", "commitFiles", "createPullRequest"]),
    );
    expect(api.every((s) => s.attributes["pr_creator.status"] === "success")).toBe(true);
    const [complete] = children("prcreator.complete");
    expect(complete!.attributes).toMatchObject({
      "pr_creator.status": "success",
      "vcs.change.id": String(result.pr!.id),
      "pr_creator.trace_id": "trace-pvc-size-a",
    });
    expect(typeof complete!.attributes["pr_creator.duration_ms"]).toBe("number");
  });

  it("logs one line per run with the seed's fields and no secret", async () => {
    const line = logs.find((l) => l.msg === "run finished" && l.trace_id === "trace-pvc-size-a")!;
    expect(line).toMatchObject({
      agent: "pull-request-creator-agent",
      repo: "gitops",
      branch: "agent-sre/pvc-size-a",
      status: "success",
      pr_id: expect.any(Number),
    });
    expect(Object.keys(line)).toEqual(
      expect.arrayContaining([
        "agent",
        "execution_id",
        "trace_id",
        "repo",
        "branch",
        "status",
        "pr_id",
        "duration_ms",
        "timestamp",
      ]),
    );
    expect(JSON.stringify(logs)).not.toContain(SECRET);
  });

  it("delivers the lifecycle events to the webhook, signed; failures also go to the human-operations webhook", async () => {
    const created = hook.received.filter((r) => r.path === "/events");
    // No CI is configured, so the low-risk PR merged at once and that is announced too.
    expect(created.map((r) => JSON.parse(r.body).event)).toEqual([
      "PullRequestCreated",
      "PullRequestReadyForReview",
      "PullRequestMerged",
    ]);
    for (const r of created)
      expect(verifyWebhookSignature(r.body, String(r.headers["x-pr-creator-signature-256"]), SECRET)).toBe(true);
    expect(hook.received.filter((r) => r.path === "/humanops")).toEqual([]);

    const a = await agent();
    const failed = await a.handle(change("b", { base_branch: "master" }));
    await a.close();
    expect(failed.reason).toBe("forbidden_branch");
    const ops = hook.received.filter((r) => r.path === "/humanops").map((r) => JSON.parse(r.body));
    expect(ops).toEqual([
      expect.objectContaining({ event: "PullRequestFailed", reason: "forbidden_branch", trace_id: "trace-pvc-size-b" }),
    ]);
    expect(
      exporter
        .getFinishedSpans()
        .find((s) => s.name === "prcreator.complete" && s.attributes["pr_creator.trace_id"] === "trace-pvc-size-b")!
        .attributes,
    ).toMatchObject({
      "pr_creator.status": "failed",
      "error.type": "forbidden_branch",
    });
  });

  it("a receiver that is down loses nothing: the next run sends what waited, exactly once", async () => {
    hook.down = true;
    const a = await agent();
    const first = await a.handle(change("c"));
    await a.close();
    expect(first.status).toBe("created");
    expect(first.undelivered).toBe(3);
    expect(first.warnings.join(" ")).toMatch(/waits in the outbox/);
    hook.down = false;
    const before = hook.received.length;
    const b = await agent();
    // The next run (of another change) first sends what waited.
    await b.handle(change("d"));
    await b.close();
    const resent = hook.received
      .slice(before)
      .filter((r) => r.path === "/events")
      .map((r) => JSON.parse(r.body) as { event: string; trace_id: string });
    expect(resent.filter((e) => e.trace_id === "trace-pvc-size-c").map((e) => e.event)).toEqual([
      "PullRequestCreated",
      "PullRequestReadyForReview",
      "PullRequestMerged",
    ]);
  });
});
