/**
 * The README's upstream-agent example (examples/upstream-agent.ts) against a forge emulator: pr-creator's
 * compiled graph as a subgraph and its typed tool through LangGraph's ToolNode each create a real PR.
 */
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildUpstreamGraph, runToolCall } from "../../examples/upstream-agent.js";
import { createAgent, PolicySchema, type Agent, type ChangeRequested } from "../../src/index.js";
import { azureWorld, type World } from "../scenarios/worlds.js";

const PVC =
  "kind: PersistentVolumeClaim\nmetadata:\n  name: data\nspec:\n  resources:\n    requests:\n      storage: 10Gi # size\n";

function change(id: string, app: string): ChangeRequested {
  return {
    event: "ChangeRequested",
    change_id: id,
    change_type: "pvc-size",
    repo: "gitops",
    base_branch: "main",
    summary: `grow the ${app} volume`,
    edits: [{ path: `apps/${app}/pvc.yaml`, set: { "spec.resources.requests.storage": "20Gi" } }],
    context: { alert: "PersistentVolumeFillingUp", remediation: "Grow the volume", impact: `Namespace ${app}` },
    agent: "upstream-agent",
    timestamp: "2026-01-08T10:00:00Z",
  };
}

describe("the upstream-agent example", () => {
  let world: World;
  let dir: string;
  let agent: Agent;

  beforeAll(async () => {
    world = await azureWorld();
    world.seed({ "apps/a/pvc.yaml": PVC, "apps/b/pvc.yaml": PVC });
    dir = await mkdtemp(path.join(os.tmpdir(), "pr-creator-upstream-it-"));
    const policy = PolicySchema.parse({
      forge: "azure-devops",
      retry_policy: { base_delay_ms: 10 },
      state_file: path.join(dir, "state.db"),
    });
    agent = await createAgent({ policy, env: world.env, model: null, cwd: dir });
  });

  afterAll(async () => {
    await agent.close();
    await world.close();
    await rm(dir, { recursive: true, force: true });
  });

  it("runs pr-creator's graph as a subgraph of the upstream graph and creates the PR", async () => {
    const upstream = buildUpstreamGraph(agent, async () => change("11", "a"));
    const { pr } = await upstream.invoke({});
    expect(pr).toMatchObject({ status: "created", title: "fix(a): grow the a volume [trace:pvc-size-11]" });
    expect(world.pr(Number(pr!.id)).source_branch).toBe("agent-sre/pvc-size-11");
  });

  it("runs the typed tool from a model's tool call and creates the PR; a bad event comes back as a failure", async () => {
    const out = (await runToolCall(agent, change("12", "b"))) as { status: string; pr: { id: number; risk: string } };
    expect(out.status).toBe("created");
    expect(out.pr.risk).toBe("low");
    expect(world.pr(out.pr.id).source_branch).toBe("agent-sre/pvc-size-12");
    const bad = (await runToolCall(agent, { ...change("13", "b"), summary: "" })) as {
      status: string;
      reason: string;
      message: string;
    };
    expect(bad).toMatchObject({ status: "failed", reason: "invalid_event" });
    expect(bad.message).toContain("summary must be a non-empty string");
  });
});
