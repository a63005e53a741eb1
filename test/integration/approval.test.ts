/**
 * Human approval: a policy failure named in approval.on_violations pauses the run with a checkpoint in the
 * state file; resume continues (approve) or ends it with PullRequestFailed (reject) — also from a new process.
 */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createAgent, type Agent } from "../../src/agent/create-agent.js";
import { buildSampleRepo, type SampleRepo } from "../../src/demo/sample-repo.js";
import type { CommitCompleted, LifecycleEvent } from "../../src/domain/events.js";
import { createGitRepo } from "../../src/demo/git-fixture.js";
import { rejection, runCli } from "../helpers.js";

const NOW = new Date("2025-05-07T19:10:00.000Z");
let root: string;
let sample: SampleRepo;
let leakHash: string;
let leakRepo: string;
let configCount = 0;

beforeAll(async () => {
  root = await mkdtemp(path.join(tmpdir(), "pr-creator-approval-"));
  sample = await buildSampleRepo(path.join(root, "sample"));
  const repo = await createGitRepo(path.join(root, "leak"), { initialBranch: "main" });
  await repo.writeFile("README.md", "# OrderService\n");
  await repo.commit("chore: scaffold");
  await repo.checkout("dev", { create: true });
  await repo.checkout("feature/order-handler", { create: true });
  await repo.writeFile("src/Application/Handlers/CreateOrderHandler.cs", "public sealed class CreateOrderHandler {}\n");
  await repo.writeFile("src/Billing/Invoice.cs", "public sealed class Invoice {}\n");
  leakHash = await repo.commit("feat(order): implement CreateOrderHandler [trace:ord-8128]");
  leakRepo = repo.path;
}, 60_000);

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

/** A config allowing approvals for the given reasons, with its own state file. */
async function config(reasons: string[], extra = ""): Promise<string> {
  configCount += 1;
  const file = path.join(root, `config-${configCount}.yaml`);
  await writeFile(
    file,
    `approval:\n  on_violations: [${reasons.join(", ")}]\nstate_file: state-${configCount}.db\n${extra}`,
  );
  return file;
}

async function agentWith(configFile: string, repoPath: string, delivered: LifecycleEvent[]): Promise<Agent> {
  return createAgent({
    configFile,
    repoPath,
    tracesFile: sample.tracesFile,
    sinks: [async (e) => void delivered.push(e)],
    now: () => NOW,
    cwd: root,
    model: null,
  });
}

function leakEvent(overrides: Partial<CommitCompleted> = {}): CommitCompleted {
  return { ...sample.event, commit_hash: leakHash.slice(0, 7), ...overrides };
}

describe("approval: pause and resume in one process", () => {
  it("pauses on an approvable trace violation without emitting any event, and a second delivery finds the same pause", async () => {
    const delivered: LifecycleEvent[] = [];
    const agent = await agentWith(await config(["trace_violation"]), leakRepo, delivered);
    const first = await agent.handle(leakEvent());
    expect(first.status).toBe("awaiting_approval");
    expect(first.reason).toBe("trace_violation");
    expect(first.approval?.thread_id).toBe(`trace-ord-8128@${leakHash.slice(0, 7)}`);
    expect(first.approval?.request.failure_reason).toBe("trace_violation");
    expect(first.approval?.request.violations.map((v) => v.code)).toEqual(["trace_files_outside_scope"]);
    expect(first.message).toContain("src/Billing/Invoice.cs");
    expect(first.message).toContain(`pr-creator resume trace-ord-8128@${leakHash.slice(0, 7)}`);
    expect(first.events).toEqual([]);
    expect(delivered).toEqual([]);

    const again = await agent.handle(leakEvent());
    expect(again.status).toBe("awaiting_approval");
    expect(again.approval?.thread_id).toBe(first.approval?.thread_id);
    await agent.close();
  });

  it("approve continues after the step that paused and previews the PR, recording the decision", async () => {
    const delivered: LifecycleEvent[] = [];
    const agent = await agentWith(await config(["trace_violation"]), leakRepo, delivered);
    const paused = await agent.handle(leakEvent());
    const done = await agent.resume(paused.approval!.thread_id, {
      approved: true,
      by: "tech-lead",
      reason: "invoice stub belongs here",
    });
    expect(done.status).toBe("previewed");
    expect(done.pr?.title).toBe("feat(order): implement CreateOrderHandler [trace:ord-8128]");
    expect(done.pr?.description).toContain("src/Billing/Invoice.cs");
    expect(done.violations).toEqual([]);
    expect(done.approvals).toEqual([
      {
        approved: true,
        by: "tech-lead",
        reason: "invoice stub belongs here",
        failure_reason: "trace_violation",
        at: NOW.toISOString(),
      },
    ]);
    expect(delivered).toEqual([]);
    await expect(agent.resume(paused.approval!.thread_id, { approved: true })).rejects.toThrow(
      /No run is waiting for approval/,
    );
    await agent.close();
  });

  it("reject ends the run with exactly one PullRequestFailed carrying the person's reason", async () => {
    const delivered: LifecycleEvent[] = [];
    const agent = await agentWith(await config(["trace_violation"]), leakRepo, delivered);
    const paused = await agent.handle(leakEvent());
    const done = await agent.resume(paused.approval!.thread_id, {
      approved: false,
      by: "qa",
      reason: "split the billing change",
    });
    expect(done.status).toBe("failed");
    expect(done.reason).toBe("trace_violation");
    expect(done.message).toContain("A person rejected the request by qa: split the billing change.");
    expect(done.events).toHaveLength(1);
    expect(delivered).toEqual(done.events);
    expect(delivered[0]).toMatchObject({
      event: "PullRequestFailed",
      reason: "trace_violation",
      trace_id: "trace-ord-8128",
    });
    await agent.close();
  });

  it("approving a target mismatch uses the target the event asked for", async () => {
    // Only the event's commit: since main, the branch also carries dev's commit of another trace.
    const agent = await agentWith(await config(["target_mismatch"], "pr:\n  commit_range: commit\n"), sample.dir, []);
    const paused = await agent.handle({ ...sample.event, target_branch: "main" });
    expect(paused.status).toBe("awaiting_approval");
    expect(paused.reason).toBe("target_mismatch");
    const done = await agent.resume(paused.approval!.thread_id, { approved: true });
    expect(done.status).toBe("previewed");
    expect(done.pr?.target_branch).toBe("main");
    await agent.close();
  });

  it("failures not named in approval.on_violations still fail at once", async () => {
    const delivered: LifecycleEvent[] = [];
    const agent = await agentWith(await config(["pr_too_large"]), leakRepo, delivered);
    const result = await agent.handle(leakEvent());
    expect(result.status).toBe("failed");
    expect(result.reason).toBe("trace_violation");
    expect(delivered).toHaveLength(1);
    await agent.close();
  });

  it("resume without approvals configured, or for an unknown thread, is a clear error", async () => {
    const plain = await createAgent({ repoPath: sample.dir, tracesFile: sample.tracesFile, cwd: root, model: null });
    expect((await rejection(plain.resume("x", { approved: true }))).message).toContain("approvals are off");
    const agent = await agentWith(await config(["trace_violation"]), leakRepo, []);
    expect((await rejection(agent.resume("trace-nope@123", { approved: true }))).message).toBe(
      "No run is waiting for approval on thread trace-nope@123.",
    );
    await agent.close();
  });
});

const cli = (args: string[]) => runCli(args, { cwd: root });

describe("approval: resume from a new process", () => {
  it("run exits 3 and prints the thread; resume --approve in another process exits 0 with the PR", async () => {
    const configFile = await config(["trace_violation"]);
    const eventFile = path.join(root, "leak-event.json");
    await writeFile(eventFile, JSON.stringify(leakEvent()));
    const common = ["--config", configFile, "--repo-path", leakRepo, "--traces", sample.tracesFile];
    const paused = await cli(["run", eventFile, ...common, "--json"]);
    expect(paused.code).toBe(3);
    const out = JSON.parse(paused.stdout) as { status: string; approval: { thread_id: string } };
    expect(out.status).toBe("awaiting_approval");

    const human = await cli(["run", eventFile, ...common]);
    expect(human.code).toBe(3);
    expect(human.stdout).toContain("Waiting for approval: trace_violation");
    expect(human.stdout).toContain(`pr-creator resume ${out.approval.thread_id} --approve | --reject`);

    const bad = await cli(["resume", out.approval.thread_id, ...common]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("Say either --approve or --reject.");

    const resumed = await cli(["resume", out.approval.thread_id, "--approve", "--by", "lead", ...common, "--json"]);
    expect(resumed.stderr).toBe("");
    expect(resumed.code).toBe(0);
    const done = JSON.parse(resumed.stdout) as { status: string; pr: { title: string }; approvals: { by: string }[] };
    expect(done.status).toBe("previewed");
    expect(done.pr.title).toBe("feat(order): implement CreateOrderHandler [trace:ord-8128]");
    expect(done.approvals[0]?.by).toBe("lead");
  });
});
