/**
 * Where a PR's issue comes from, through the whole agent: the event's issue_id, else a commit message, the
 * branch name or the trace record; the PR body's Issue line and metadata, and issue_id in every event.
 */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { stringify } from "yaml";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createAgent } from "../../src/agent/create-agent.js";
import { createGitRepo, type GitRepo } from "../../src/demo/git-fixture.js";
import { SAMPLE_TRACES } from "../../src/demo/sample-repo.js";
import type { LifecycleEvent } from "../../src/domain/events.js";
import type { PullRequestSpec } from "../../src/domain/pull-request.js";
import type { Publisher } from "../../src/forges/publisher.js";
import { issueIdInBody } from "../../src/policy/issue-refs.js";

const HANDLER = "src/Application/Handlers/CreateOrderHandler.cs";
let root: string;
let repo: GitRepo;
let tracesFile: string;
const hashes: Record<string, string> = {};
let configs = 0;

beforeAll(async () => {
  root = await mkdtemp(path.join(tmpdir(), "pr-creator-issue-id-"));
  repo = await createGitRepo(path.join(root, "repo"), { initialBranch: "main" });
  await repo.writeFile("README.md", "# OrderService\n");
  await repo.commit("chore: scaffold");
  await repo.checkout("dev", { create: true });
  const branch = async (name: string, message: string, content: string) => {
    await repo.checkout("dev");
    await repo.checkout(name, { create: true });
    await repo.writeFile(HANDLER, content);
    hashes[name] = await repo.commit(message);
  };
  await branch("feature/order-handler", "feat(order): add the handler [trace:ord-8128]", "class A {}\n");
  await branch(
    "feature/order-refs",
    "feat(order): add the handler [trace:ord-8128]\n\nUses UTF-8 throughout.\nRefs ENG-42",
    "class B {}\n",
  );
  await branch("feature/BVL-7-order", "feat(order): add the handler [trace:ord-8128]", "class C {}\n");
  await branch("feature/123-order", "feat(order): add the handler [trace:ord-8128]\n\nFixes #12", "class D {}\n");
  tracesFile = path.join(root, "traces.yaml");
  await writeFile(
    tracesFile,
    stringify({ traces: SAMPLE_TRACES.map((t) => (t.trace_id === "trace-ord-8128" ? { ...t } : t)) }),
  );
}, 60_000);

afterAll(async () => {
  if (root) await rm(root, { recursive: true, force: true });
});

/** A publisher that "creates" every PR and keeps what it was given. */
function creatingPublisher(kind: Publisher["kind"], published: PullRequestSpec[]): Publisher {
  return {
    kind,
    publish: async (_repo, _trace, pr) => {
      published.push(pr);
      return { status: "created", id: 41 + published.length, url: `https://forge.example/pr/${41 + published.length}` };
    },
  };
}

async function run(
  branch: string,
  extra: Record<string, unknown> = {},
  options: { kind?: Publisher["kind"]; config?: string; traces?: string } = {},
) {
  const published: PullRequestSpec[] = [];
  const delivered: LifecycleEvent[] = [];
  const configFile = path.join(root, `config-${++configs}.yaml`);
  await writeFile(configFile, `state_file: ${JSON.stringify(path.join(root, "state.db"))}\n${options.config ?? ""}`);
  const agent = await createAgent({
    repoPath: repo.path,
    tracesFile: options.traces ?? tracesFile,
    configFile,
    publisher: creatingPublisher(options.kind ?? "github", published),
    sinks: [async (e) => void delivered.push(e)],
    memory: null,
    cwd: root,
  });
  const result = await agent.handle({
    event: "CommitCompleted",
    trace_id: "trace-ord-8128",
    commit_hash: hashes[branch] ?? "abcdef1",
    repo: "OrderService",
    branch,
    agent: "code-committer-agent",
    timestamp: "2026-01-08T10:00:00Z",
    ...extra,
  });
  return { result, published, delivered };
}

describe("the PR's issue", () => {
  it("takes the event's issue_id: an Issue line linked by the policy's url_template, the metadata, and every event", async () => {
    const { result, published, delivered } = await run(
      "feature/order-handler",
      { issue_id: "BVL-232" },
      { config: "issues:\n  url_template: https://linear.app/acme/issue/{id}\n" },
    );
    expect(result.status).toBe("created");
    const body = published[0]!.description;
    expect(body).toContain("Issue: [BVL-232](https://linear.app/acme/issue/BVL-232)");
    expect(issueIdInBody(body)).toBe("BVL-232");
    expect(delivered.map((e) => e.event)).toContain("PullRequestCreated");
    for (const event of delivered) expect(event).toMatchObject({ issue_id: "BVL-232" });
  });

  it("reads a key from a commit message when the event names none, past acronyms such as UTF-8", async () => {
    const { published, delivered } = await run("feature/order-refs");
    expect(published[0]!.description).toMatch(/^Issue: ENG-42$/m);
    expect(delivered[0]).toMatchObject({ event: "PullRequestCreated", issue_id: "ENG-42" });
  });

  it("reads a key from the branch name", async () => {
    const { delivered } = await run("feature/BVL-7-order");
    expect(delivered[0]).toMatchObject({ event: "PullRequestCreated", issue_id: "BVL-7" });
  });

  it("reads #12 as a GitHub issue on GitHub and as a work item on Azure DevOps", async () => {
    const github = await run("feature/123-order", {}, { kind: "github" });
    expect(github.delivered[0]).toMatchObject({ issue_id: "#12" });
    // GitHub closes the issues a PR body names with a closing keyword; the Issue line is left to them.
    expect(github.published[0]!.description).toMatch(/^Closes #12\n\nCloses #123$/m);
    expect(github.published[0]!.description).not.toMatch(/^Issue:/m);
    const refs = await run(
      "feature/123-order",
      {},
      { kind: "github", config: "trackers:\n  github:\n    link: refs\n" },
    );
    expect(refs.published[0]!.description).toMatch(/^Refs #12\n\nRefs #123$/m);
    const azure = await run("feature/123-order", {}, { kind: "azure-devops" });
    expect(azure.delivered[0]).toMatchObject({ issue_id: "AB#12" });
  });

  it("falls back to the trace record's issue", async () => {
    const traces = path.join(root, "traces-issue.yaml");
    await writeFile(
      traces,
      stringify({
        traces: SAMPLE_TRACES.map((t) => (t.trace_id === "trace-ord-8128" ? { ...t, issue_id: "OPS-9" } : t)),
      }),
    );
    const { delivered } = await run("feature/order-handler", {}, { traces });
    expect(delivered[0]).toMatchObject({ issue_id: "OPS-9" });
  });

  it("names no issue when nothing does, and shows no Issue line", async () => {
    const { published, delivered } = await run("feature/order-handler");
    expect(published[0]!.description).not.toMatch(/^Issue:/m);
    expect(issueIdInBody(published[0]!.description)).toBeNull();
    expect(delivered[0]).toMatchObject({ issue_id: null });
  });

  it("puts the event's issue_id into PullRequestFailed, also when intake refuses the event", async () => {
    const missingTrace = await run("feature/order-handler", { issue_id: "BVL-232", trace_id: "trace-none-1" });
    expect(missingTrace.result.status).toBe("failed");
    expect(missingTrace.delivered).toEqual([
      expect.objectContaining({ event: "PullRequestFailed", issue_id: "BVL-232" }),
    ]);
    const badEvent = await run("feature/order-handler", { issue_id: "BVL-232", timestamp: "yesterday" });
    expect(badEvent.result.reason).toBe("invalid_event");
    expect(badEvent.delivered[0]).toMatchObject({ event: "PullRequestFailed", issue_id: "BVL-232" });
    // A refused event's id is still only taken when it is well-formed.
    const hostile = await run("feature/order-handler", { issue_id: "BVL-1](javascript:alert(1))", timestamp: "x" });
    expect(hostile.delivered[0]).toMatchObject({ event: "PullRequestFailed", issue_id: null });
  });

  it("refuses a malformed issue_id or work_item_ids at intake, naming the field", async () => {
    const { result } = await run("feature/order-handler", { issue_id: "BVL 232; drop" });
    expect(result.reason).toBe("invalid_event");
    expect(result.message).toContain("issue_id");
    const items = await run("feature/order-handler", { work_item_ids: [0] });
    expect(items.result.reason).toBe("invalid_event");
    expect(items.result.message).toContain("work_item_ids");
  });
});
