/** The debugger's printer, fed by a real run's node updates. */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createAgent } from "../../src/agent/create-agent.js";
import { createDebugPrinter } from "../../src/cli/debug-printer.js";
import { buildSampleRepo, type SampleRepo } from "../../src/demo/sample-repo.js";

let root: string;
let sample: SampleRepo;

beforeAll(async () => {
  root = await mkdtemp(path.join(tmpdir(), "pr-creator-debug-"));
  sample = await buildSampleRepo(root);
}, 60_000);

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

describe("debug printer", () => {
  it("prints every node that runs, in order, with its duration, the keys it wrote and the gate's verdict", async () => {
    let out = "";
    let clock = 0;
    const printer = createDebugPrinter({ write: (t) => (out += t), color: false, now: () => (clock += 5) });
    const agent = await createAgent({ repoPath: sample.dir, tracesFile: sample.tracesFile, cwd: root, model: null });
    const result = await agent.handle(sample.event, { onUpdate: printer });
    expect(result.status).toBe("previewed");
    const nodes = [...out.matchAll(/^▶ (\w+) (\d+) ms$/gm)].map((m) => m[1]);
    expect(nodes).toEqual([
      "intake",
      "gather",
      "check_trace",
      "check_limits",
      "plan_pr",
      "recall",
      "draft",
      "gate",
      "dedupe",
      "publish",
      "record",
      "merge",
    ]);
    expect(out).toContain("▶ intake 5 ms");
    expect(out).toContain('  target_branch: "dev"');
    expect(out).toContain("  round 1 (deterministic): passed");
    expect(out).toContain('  drafted_by: "deterministic"');
    expect(out).not.toContain("\u001b[");
  });

  it("runs no step that has nothing to do: without memory, recall and dedupe are routed around", async () => {
    const nodes: string[] = [];
    const agent = await createAgent({
      repoPath: sample.dir,
      tracesFile: sample.tracesFile,
      cwd: root,
      model: null,
      memory: null,
    });
    try {
      const result = await agent.handle(sample.event, { onUpdate: (node) => nodes.push(node) });
      expect(result.status).toBe("previewed");
      expect(result.memory.recalled).toEqual([]);
    } finally {
      await agent.close();
    }
    expect(nodes).toEqual([
      "intake",
      "gather",
      "check_trace",
      "check_limits",
      "plan_pr",
      "draft",
      "gate",
      "publish",
      "record",
      "merge",
    ]);
  });

  it("shows a failure with its reason, and colour only when asked", async () => {
    let out = "";
    const printer = createDebugPrinter({ write: (t) => (out += t), color: true });
    const agent = await createAgent({ repoPath: sample.dir, tracesFile: sample.tracesFile, cwd: root, model: null });
    await agent.handle({ ...sample.event, branch: "master" }, { onUpdate: printer });
    expect(out).toContain("failure forbidden_branch");
    expect(out).toContain("\u001b[");
    expect(out).toContain("fail");
  });
});
