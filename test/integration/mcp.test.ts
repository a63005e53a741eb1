/**
 * The MCP front door through the SDK's own client: in process (linked in-memory transports) against the demo's
 * sample repository and the Azure DevOps emulator, and spawned from the built CLI over stdio.
 */
import { access, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { InMemoryTransport } from "@modelcontextprotocol/sdk/inMemory.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildSampleRepo, type SampleRepo } from "../../src/demo/sample-repo.js";
import type { ChangeRequested } from "../../src/domain/events.js";
import { openMcpAgents, type McpAgents } from "../../src/server/mcp-agents.js";
import { createMcpServer, POLICY_URI } from "../../src/server/mcp.js";
import { RollbackOutputSchema, RunOutputSchema, TraceOutputSchema } from "../../src/server/mcp-output.js";
import { seedPipeline } from "../emulators/ci.js";
import { runCli } from "../helpers.js";
import { azureWorld, type World } from "../scenarios/worlds.js";

const MAIN = fileURLToPath(new URL("../../dist/cli/main.js", import.meta.url));

type ToolResult = Awaited<ReturnType<Client["callTool"]>>;

const text = (r: ToolResult) => (r.content as { type: string; text?: string }[]).map((c) => c.text ?? "").join("");
const exists = (file: string) =>
  access(file).then(
    () => true,
    () => false,
  );

interface Connected {
  client: Client;
  close(): Promise<void>;
}

/** A client linked to a fresh server over the agents; tools are listed first so the client checks every result against its outputSchema. */
async function connect(agents: McpAgents): Promise<Connected> {
  const { server, idle } = createMcpServer(agents);
  const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
  await server.connect(serverSide);
  const client = new Client({ name: "mcp-test", version: "1.0.0" });
  await client.connect(clientSide);
  await client.listTools();
  return {
    client,
    close: async () => {
      await client.close();
      await idle();
    },
  };
}

describe("MCP server on the sample repository (no forge)", () => {
  let root: string;
  let sample: SampleRepo;
  let agents: McpAgents;
  let mcp: Connected;
  const call = (name: string, args: Record<string, unknown>) => mcp.client.callTool({ name, arguments: args });

  beforeAll(async () => {
    root = await mkdtemp(path.join(os.tmpdir(), "pr-creator-mcp-"));
    sample = await buildSampleRepo(root);
    await writeFile(
      path.join(root, "pr-creator.yaml"),
      "state_file: .pr-creator/state.db\ntrace_registry: traces.yaml\nevents: { jsonl_file: events.jsonl }\napproval: { on_violations: [forbidden_branch] }\n",
    );
    agents = await openMcpAgents({ configFile: "pr-creator.yaml", repoPath: sample.dir, cwd: root, env: {} });
    mcp = await connect(agents);
  });

  afterAll(async () => {
    await mcp.close();
    await agents.close();
    await rm(root, { recursive: true, force: true });
  });

  it("lists the four tools with their schemas and annotations, and the policy resource", async () => {
    const { tools } = await mcp.client.listTools();
    const byName = new Map(tools.map((t) => [t.name, t]));
    expect([...byName.keys()].sort()).toEqual([
      "create_pull_request",
      "lookup_trace",
      "preview_pull_request",
      "rollback_pull_request",
    ]);
    expect(byName.get("preview_pull_request")!.annotations).toMatchObject({
      readOnlyHint: true,
      idempotentHint: true,
      openWorldHint: false,
    });
    expect(byName.get("create_pull_request")!.annotations).toMatchObject({
      readOnlyHint: false,
      destructiveHint: true,
      idempotentHint: true,
    });
    expect(byName.get("lookup_trace")!.annotations).toMatchObject({ readOnlyHint: true, openWorldHint: false });
    expect(byName.get("rollback_pull_request")!.annotations).toMatchObject({
      readOnlyHint: false,
      destructiveHint: true,
      idempotentHint: false,
    });
    const eventSchema = JSON.stringify(byName.get("preview_pull_request")!.inputSchema);
    expect(eventSchema).toContain('"const":"CommitCompleted"');
    expect(eventSchema).toContain('"const":"ChangeRequested"');
    expect(byName.get("rollback_pull_request")!.inputSchema.required).toEqual(["reason"]);
    for (const tool of tools) expect(tool.outputSchema?.type).toBe("object");

    const { resources } = await mcp.client.listResources();
    expect(resources).toEqual([expect.objectContaining({ uri: POLICY_URI, mimeType: "application/json" })]);
  });

  it("serves the effective policy as JSON", async () => {
    const { contents } = await mcp.client.readResource({ uri: POLICY_URI });
    expect(contents).toHaveLength(1);
    const policy = JSON.parse(String((contents[0] as { text: string }).text)) as Record<
      string,
      Record<string, unknown>
    >;
    expect(policy.branch_rules!.target_branch_map).toEqual({ "feature/": "dev", "bugfix/": "dev", "hotfix/": "main" });
    expect(policy.approval!.on_violations).toEqual(["forbidden_branch"]);
    expect(policy.state_file).toBe(path.join(root, ".pr-creator", "state.db"));
    expect(policy.trace_registry).toBe(sample.tracesFile);
  });

  it("previews the sample commit as a PR and writes nothing: no memory record, no event", async () => {
    const result = await call("preview_pull_request", { event: sample.event });
    expect(result.isError, text(result)).toBe(false);
    const out = RunOutputSchema.parse(result.structuredContent);
    expect(out.status).toBe("previewed");
    expect(out.pr).toMatchObject({
      id: null,
      url: null,
      title: "feat(order): implement CreateOrderHandler [trace:ord-8128]",
      source_branch: "feature/order-handler",
      target_branch: "dev",
    });
    expect(out.pr!.reviewers.map((r) => r.name)).toEqual(expect.arrayContaining(["TechLeadAgent", "QAAssistantAgent"]));
    expect(out.pr!.description).toContain("trace-ord-8128");
    expect(out.pr!.risk?.level).toMatch(/^(low|medium|high)$/);
    expect(out.pr!.merge?.requires).toMatch(/^(none|review|senior_approval)$/);
    expect(out.merge?.status).toBe("previewed");
    expect(text(result)).toContain("✔ PR preview (dry run: nothing was sent to a forge)");
    expect(text(result)).toContain(out.pr!.title);

    const lookup = await call("lookup_trace", { trace_id: "trace-ord-8128" });
    expect(lookup.isError, text(lookup)).toBeFalsy();
    const trace = TraceOutputSchema.parse(lookup.structuredContent);
    expect(trace).toMatchObject({ trace_id: "trace-ord-8128", prs: [], memory: "sqlite", trace_registry: true });
    expect(trace.trace).toMatchObject({ blueprint_id: "usecase-create-order", component_scope: "Order" });
    expect(text(lookup)).toContain("No pull requests are remembered for trace-ord-8128.");
    expect(await exists(path.join(root, "events.jsonl"))).toBe(false);
  });

  it("a preview that fails is a tool error with reason and violations; it neither pauses for approval nor delivers an event", async () => {
    const event = { ...sample.event, branch: "deprecated/order-handler" };
    const result = await call("preview_pull_request", { event });
    expect(result.isError).toBe(true);
    const out = RunOutputSchema.parse(result.structuredContent);
    expect(out).toMatchObject({ status: "failed", reason: "forbidden_branch", pr: null, approval: null });
    expect(out.violations.map((v) => v.code)).toContain("branch_forbidden");
    expect(text(result)).toContain("✖ Rejected: forbidden_branch");
    expect(await exists(path.join(root, "events.jsonl"))).toBe(false);
    // The same event on the configured agent waits for a person: the preview's failure is its own doing.
    expect((await agents.live.handle(event)).status).toBe("awaiting_approval");
  });

  it("rejects malformed requests as tool errors naming the field, and goes on serving", async () => {
    const cases: [string, Record<string, unknown>, RegExp][] = [
      ["preview_pull_request", {}, /expected object, received undefined at event$/],
      [
        "preview_pull_request",
        { event: { ...sample.event, commit_hash: "zz" } },
        /commit_hash must be 4 to 64 hexadecimal characters .* at event\.commit_hash/,
      ],
      [
        "preview_pull_request",
        { event: { ...sample.event, event: "PushCompleted" } },
        /'CommitCompleted' \| 'ChangeRequested' at event\.event/,
      ],
      [
        "create_pull_request",
        { event: { ...sample.changeEvent, context: { remediation: "r", impact: "i" } } },
        /at event\.context\.alert/,
      ],
      ["preview_pull_request", { event: sample.event, dry: true }, /Unrecognized key: "dry"/],
      ["lookup_trace", { trace_id: "  " }, /trace_id must be a non-empty string at trace_id/],
      [
        "rollback_pull_request",
        { pr_id: "7", repo: "OrderService", reason: "x" },
        /expected number, received string at pr_id/,
      ],
      ["rollback_pull_request", { pr_id: 7, reason: "x" }, /repo is required with pr_id at repo/],
      [
        "rollback_pull_request",
        { pr_id: 7, repo: "OrderService", trace_id: "trace-ord-8128", reason: "x" },
        /give exactly one of pr_id \(with repo\) and trace_id at trace_id/,
      ],
      ["rollback_pull_request", { trace_id: "trace-ord-8128" }, /at reason/],
    ];
    for (const [name, args, message] of cases) {
      const result = await call(name, args);
      expect(result.isError, `${name} ${JSON.stringify(args)}`).toBe(true);
      expect(text(result)).toMatch(message);
    }
    const after = await call("lookup_trace", { trace_id: "trace-ord-8131" });
    expect(after.isError).toBeFalsy();
    expect(TraceOutputSchema.parse(after.structuredContent).trace?.blueprint_id).toBe("usecase-cancel-order");
  });

  it("create and rollback say that no forge is configured", async () => {
    const created = await call("create_pull_request", { event: sample.event });
    expect(created.isError).toBe(true);
    expect(text(created)).toMatch(/^No forge is configured \(forge: dry-run\), so create_pull_request cannot publish/);
    const rolled = await call("rollback_pull_request", { trace_id: "trace-ord-8128", reason: "bad release" });
    expect(rolled.isError).toBe(true);
    expect(text(rolled)).toMatch(/^No forge is configured/);
  });
});

describe("MCP policy resource", () => {
  it("keeps credentials, queries and webhook paths out of URLs", async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), "pr-creator-mcp-policy-"));
    await writeFile(
      path.join(dir, "pr-creator.yaml"),
      "azure_devops: { org_url: 'https://builder:pat-value@dev.azure.com/acme?token=q1' }\nevents: { webhooks: [{ url: 'https://hooks.example.test/services/T0/B0/hook-s3cret' }] }\n",
    );
    const agents = await openMcpAgents({ configFile: "pr-creator.yaml", cwd: dir, env: {} });
    const mcp = await connect(agents);
    try {
      const { contents } = await mcp.client.readResource({ uri: POLICY_URI });
      const served = String((contents[0] as { text: string }).text);
      const policy = JSON.parse(served) as {
        azure_devops: { org_url: string };
        events: { webhooks: { url: string }[] };
      };
      expect(policy.azure_devops.org_url).toBe("https://dev.azure.com/acme");
      expect(policy.events.webhooks[0]!.url).toBe("https://hooks.example.test/…");
      expect(served).not.toMatch(/pat-value|token=q1|hook-s3cret/);
    } finally {
      await mcp.close();
      await agents.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});

const PVC =
  "apiVersion: v1\nkind: PersistentVolumeClaim\nmetadata:\n  name: data # the data volume\nspec:\n  resources:\n    requests:\n      storage: 10Gi\n";

describe("MCP server on the Azure DevOps emulator", () => {
  let world: World;
  let dir: string;
  let agents: McpAgents;
  let mcp: Connected;
  const call = (name: string, args: Record<string, unknown>) => mcp.client.callTool({ name, arguments: args });

  function request(id: string, app: string): ChangeRequested {
    return {
      event: "ChangeRequested",
      change_id: id,
      change_type: "pvc-size",
      repo: world.repo,
      base_branch: "main",
      summary: `grow the ${app} volume to 20Gi`,
      edits: [{ path: `apps/${app}/pvc.yaml`, set: { "spec.resources.requests.storage": "20Gi" } }],
      context: { alert: "PersistentVolumeFillingUp", remediation: "Grow the volume", impact: `Namespace ${app}` },
      agent: "agent-sre",
      timestamp: "2026-01-08T10:00:00Z",
    };
  }

  beforeAll(async () => {
    world = await azureWorld();
    world.seed({ "apps/data/pvc.yaml": PVC, "apps/web/pvc.yaml": PVC });
    dir = await mkdtemp(path.join(os.tmpdir(), "pr-creator-mcp-azure-"));
    await writeFile(
      path.join(dir, "pr-creator.yaml"),
      "forge: azure-devops\nretry_policy: { base_delay_ms: 10 }\nevents: { jsonl_file: events.jsonl }\n",
    );
    agents = await openMcpAgents({ configFile: "pr-creator.yaml", cwd: dir, env: world.env });
    mcp = await connect(agents);
  });

  afterAll(async () => {
    await mcp.close();
    await agents.close();
    await world.close();
    await rm(dir, { recursive: true, force: true });
  });

  it("previews a change request without a single forge write", async () => {
    const writes = world.commitWrites();
    const result = await call("preview_pull_request", { event: request("501", "data") });
    expect(result.isError, text(result)).toBe(false);
    const out = RunOutputSchema.parse(result.structuredContent);
    expect(out).toMatchObject({
      status: "previewed",
      pr: { id: null, source_branch: "agent-sre/pvc-size-501", target_branch: "main", risk: { level: "low" } },
    });
    expect(world.commitWrites()).toBe(writes);
    expect(world.branchHead("agent-sre/pvc-size-501")).toBeUndefined();
  });

  it("creates a real PR, finds it by trace, and rolls it back once merged", async () => {
    world.setCi(seedPipeline({ delayMs: 20 }));
    const created = await call("create_pull_request", { event: request("501", "data") });
    expect(created.isError, text(created)).toBe(false);
    const run = RunOutputSchema.parse(created.structuredContent);
    expect(run.status).toBe("created");
    const id = Number(run.pr!.id);
    expect(run.pr!.url).toContain(String(id));
    // CI may already have passed while the run set auto-complete, so the PR may be merged already.
    expect(world.pr(id)).toMatchObject({ source_branch: "agent-sre/pvc-size-501", auto_merge: true });
    expect(["enabled", "merged"]).toContain(run.merge?.status);
    expect(run.events.map((e) => e.event)).toContain("PullRequestCreated");

    const lookup = await call("lookup_trace", { trace_id: "trace-pvc-size-501" });
    const chain = TraceOutputSchema.parse(lookup.structuredContent);
    expect(chain).toMatchObject({ trace: null, trace_registry: false, memory: "sqlite" });
    expect(chain.prs).toEqual([
      expect.objectContaining({
        pr_id: String(id),
        forge: "azure-devops",
        status: "created",
        source_branch: "agent-sre/pvc-size-501",
      }),
    ]);
    expect(text(lookup)).toContain(`PR ${id}`);

    // The emulator completes the PR once CI has passed (auto-complete).
    await world.ciSettled();
    expect(world.pr(id).state).toBe("merged");
    expect(world.fileAt("main", "apps/data/pvc.yaml")).toContain("storage: 20Gi");

    const rolled = await call("rollback_pull_request", {
      trace_id: "trace-pvc-size-501",
      reason: "latency regression",
    });
    expect(rolled.isError, text(rolled)).toBe(false);
    const back = RollbackOutputSchema.parse(rolled.structuredContent);
    expect(back.original).toMatchObject({ id, trace_id: "trace-pvc-size-501" });
    expect(back.revert!.id).not.toBe(id);
    // The revert's 20 ms CI may pass before the call sets auto-merge (a loaded machine): then the revert is
    // merged at once and its merge announced in the same answer; otherwise it merges after the call.
    const mergedAtOnce = back.status === "merged";
    expect(back.events).toEqual([
      expect.objectContaining({
        event: "PullRequestRollbackCreated",
        original_pr_id: id,
        reason: "latency regression",
      }),
      ...(mergedAtOnce ? [expect.objectContaining({ event: "PullRequestMerged", pr_id: back.revert!.id })] : []),
    ]);
    expect(back.merge?.status).toBe(mergedAtOnce ? "merged" : "enabled");
    expect(world.pr(back.revert!.id).labels).toContain("rollback");
    expect(text(rolled)).toContain(back.revert!.url);

    await world.ciSettled();
    expect(world.pr(back.revert!.id).state).toBe("merged");
    expect(world.fileAt("main", "apps/data/pvc.yaml")).toBe(PVC);
    const after = TraceOutputSchema.parse(
      (await call("lookup_trace", { trace_id: "trace-pvc-size-501" })).structuredContent,
    );
    expect(after.prs!.map((r) => r.pr_id)).toEqual([String(id), String(back.revert!.id)]);
    const delivered = (await readFile(path.join(dir, "events.jsonl"), "utf8"))
      .trim()
      .split("\n")
      .map((l) => (JSON.parse(l) as { event: string }).event);
    expect(delivered).toContain("PullRequestCreated");
    // The file ends with what the rollback announced: its PullRequestRollbackCreated, then the revert's merge when
    // that happened during the call.
    expect(delivered.slice(-back.events.length)).toEqual(
      mergedAtOnce ? ["PullRequestRollbackCreated", "PullRequestMerged"] : ["PullRequestRollbackCreated"],
    );
  });

  it("refuses to roll back a PR that is not merged, with the forge's state in the message", async () => {
    world.setCi(seedPipeline({ delayMs: 0, securityScan: "failed" }));
    const created = RunOutputSchema.parse(
      (await call("create_pull_request", { event: request("502", "web") })).structuredContent,
    );
    const id = Number(created.pr!.id);
    await world.ciSettled();
    expect(world.pr(id).state).toBe("open");
    const rolled = await call("rollback_pull_request", { pr_id: id, repo: world.repo, reason: "never mind" });
    expect(rolled.isError).toBe(true);
    expect(text(rolled)).toContain(
      `Rollback failed (invalid_request): PR ${id} is open, not merged; there is nothing to roll back.`,
    );
  });
});

describe("pr-creator mcp (spawned over stdio)", () => {
  let root: string;
  let sample: SampleRepo;

  beforeAll(async () => {
    root = await mkdtemp(path.join(os.tmpdir(), "pr-creator-mcp-stdio-"));
    sample = await buildSampleRepo(root);
    await writeFile(
      path.join(root, "pr-creator.yaml"),
      "state_file: .pr-creator/state.db\ntrace_registry: traces.yaml\n",
    );
  });

  afterAll(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it("serves the tools and the policy; stdout carries nothing but the protocol", async () => {
    const transport = new StdioClientTransport({
      command: process.execPath,
      args: [MAIN, "mcp", "--config", "pr-creator.yaml", "--repo-path", sample.dir],
      cwd: root,
      env: { PATH: process.env.PATH ?? "" },
      stderr: "pipe",
    });
    let stderr = "";
    transport.stderr?.on("data", (chunk: Buffer) => (stderr += chunk.toString("utf8")));
    const client = new Client({ name: "mcp-stdio-test", version: "1.0.0" });
    // A line on stdout that is not JSON-RPC surfaces here as a parse error.
    const errors: Error[] = [];
    client.onerror = (error) => errors.push(error);
    await client.connect(transport);
    try {
      expect(client.getServerVersion()).toMatchObject({ name: "pr-creator" });
      const { tools } = await client.listTools();
      expect(tools.map((t) => t.name).sort()).toEqual([
        "create_pull_request",
        "lookup_trace",
        "preview_pull_request",
        "rollback_pull_request",
      ]);
      const preview = await client.callTool({ name: "preview_pull_request", arguments: { event: sample.event } });
      expect(preview.isError, text(preview)).toBe(false);
      expect(RunOutputSchema.parse(preview.structuredContent).pr?.title).toBe(
        "feat(order): implement CreateOrderHandler [trace:ord-8128]",
      );
      const bad = await client.callTool({ name: "lookup_trace", arguments: {} });
      expect(bad.isError).toBe(true);
      expect(text(bad)).toMatch(/at trace_id/);
      const { contents } = await client.readResource({ uri: POLICY_URI });
      expect(JSON.parse(String((contents[0] as { text: string }).text))).toMatchObject({
        trace_registry: sample.tracesFile,
      });
    } finally {
      await client.close();
    }
    expect(errors).toEqual([]);
    expect(stderr).toContain("pr-creator mcp: serving on stdio; publishes to dry-run");
  });

  it("a broken config fails before serving: exit 2, the reason on stderr, nothing on stdout", async () => {
    const result = await runCli(["mcp", "--config", "missing.yaml"], {
      cwd: root,
      env: { PATH: process.env.PATH ?? "" },
    });
    expect(result.code).toBe(2);
    expect(result.stdout).toBe("");
    expect(result.stderr).toContain(path.join(root, "missing.yaml"));
  });
});
