/**
 * Memory in the agent: recall of earlier PRs as style examples, the audit chain, duplicate flags, degraded
 * runs with a broken state file, records that wait and are written later, and the memory commands.
 */
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createAgent, type AgentOptions } from "../../src/agent/create-agent.js";
import type { AgentStateType } from "../../src/agent/state.js";
import { memorySearchCommand, traceCommand, memoryImportCommand } from "../../src/cli/memory-commands.js";
import { buildSampleRepo, type SampleRepo } from "../../src/demo/sample-repo.js";
import { PolicySchema } from "../../src/domain/policy.js";
import { createGitRepo } from "../../src/demo/git-fixture.js";
import { startGitHubEmulator } from "../emulators/github.js";

let root: string;
let sample: SampleRepo;
let dirCount = 0;

beforeAll(async () => {
  root = await mkdtemp(path.join(tmpdir(), "pr-creator-memory-it-"));
  sample = await buildSampleRepo(path.join(root, "sample"));
}, 60_000);

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

/** A new working folder, so each test has its own state file. */
async function workdir(): Promise<string> {
  const dir = path.join(root, `work-${++dirCount}`);
  await mkdir(dir, { recursive: true });
  return dir;
}

function options(cwd: string, extra: AgentOptions = {}): AgentOptions {
  return { repoPath: sample.dir, tracesFile: sample.tracesFile, cwd, model: null, forge: null, ...extra };
}

const capture = () => {
  let out = "";
  return {
    io: { stdout: (t: string) => void (out += t), stderr: () => {}, readStdin: async () => "", cwd: "" },
    text: () => out,
  };
};

describe("memory: recall and the audit chain", () => {
  it("the second of two related changes is drafted with the first as a style example", async () => {
    const cwd = await workdir();
    const agent = await createAgent(options(cwd));
    const first = await agent.handle(sample.event);
    expect(first.status).toBe("previewed");
    expect(first.memory.recalled).toEqual([]);

    const updates: Partial<AgentStateType>[] = [];
    const second = await agent.handle(sample.secondEvent, {
      onUpdate: (node, u) => node === "recall" && updates.push(u),
    });
    expect(second.memory.recalled.map((r) => r.title)).toEqual([
      "feat(order): implement CreateOrderHandler [trace:ord-8128]",
    ]);
    expect(second.memory.recalled[0]!.key).toBe("OrderService#preview:feature/order-handler->dev");
    expect(updates[0]?.style_examples?.[0]).toContain(
      "Title: feat(order): implement CreateOrderHandler [trace:ord-8128]",
    );
    expect(updates[0]?.style_examples?.[0]).toContain("Scope: Order; blueprint: usecase-create-order");
    // The same event again does not recall itself.
    const again = await agent.handle(sample.event);
    expect(again.memory.recalled.map((r) => r.title)).toEqual([
      "feat(order): implement CancelOrderHandler [trace:ord-8131]",
    ]);
    await agent.close();
  });

  it("the audit chain lists a trace's PRs from earlier runs, and pr-creator trace prints it", async () => {
    const cwd = await workdir();
    const agent = await createAgent(options(cwd));
    await agent.handle(sample.event);
    const later = await agent.handle(sample.event);
    expect(later.memory.earlier_prs).toEqual([
      expect.objectContaining({
        pr_id: null,
        commit_hash: sample.event.commit_hash,
        source_branch: "feature/order-handler",
        status: "previewed",
      }),
    ]);
    await agent.close();
    await writeFile(
      path.join(cwd, "..", `cfg-${dirCount}.yaml`),
      `state_file: ${path.join(process.env.PR_CREATOR_STATE_DIR!, "state.db")}\n`,
    );
    const out = capture();
    await traceCommand("trace-ord-8128", { config: path.join(cwd, "..", `cfg-${dirCount}.yaml`) }, { ...out.io, cwd });
    expect(out.text()).toContain("trace-ord-8128 → blueprint usecase-create-order, scope Order, repo OrderService");
    expect(out.text()).toContain("feature/order-handler → dev  previewed");
    const json = capture();
    await traceCommand(
      "trace-ord-8128",
      { config: path.join(cwd, "..", `cfg-${dirCount}.yaml`), json: true },
      { ...json.io, cwd },
    );
    expect((JSON.parse(json.text()) as { prs: unknown[] }).prs).toHaveLength(1);
    const search = capture();
    await memorySearchCommand(
      "order handler",
      { config: path.join(cwd, "..", `cfg-${dirCount}.yaml`), scope: "Order", json: true },
      { ...search.io, cwd },
    );
    expect((JSON.parse(search.text()) as { hits: { title: string }[] }).hits.map((h) => h.title)).toEqual([
      "feat(order): implement CreateOrderHandler [trace:ord-8128]",
    ]);
  });

  it("flags a nearly identical PR of the same scope on another branch with a label and a warning", async () => {
    const cwd = await workdir();
    const repo = await createGitRepo(path.join(cwd, "dup-repo"), { initialBranch: "main" });
    await repo.writeFile("README.md", "x\n");
    await repo.commit("chore: init");
    await repo.checkout("dev", { create: true });
    const hashes: string[] = [];
    for (const branch of ["feature/order-a", "feature/order-b"]) {
      await repo.checkout("dev");
      await repo.checkout(branch, { create: true });
      await repo.writeFile("src/Application/Handlers/CreateOrderHandler.cs", "class CreateOrderHandler {}\n");
      hashes.push(
        await repo.commit("feat(order): implement CreateOrderHandler [trace:ord-8128]\n\n- Persist the new order"),
      );
    }
    const agent = await createAgent(options(cwd, { repoPath: repo.path }));
    const event = (i: number) => ({
      ...sample.event,
      commit_hash: hashes[i]!,
      branch: i === 0 ? "feature/order-a" : "feature/order-b",
    });
    expect((await agent.handle(event(0))).memory.possible_duplicates).toEqual([]);
    const second = await agent.handle(event(1));
    expect(second.memory.possible_duplicates.map((d) => d.key)).toEqual(["OrderService#preview:feature/order-a->dev"]);
    expect(second.memory.possible_duplicates[0]!.score).toBeGreaterThanOrEqual(0.95);
    expect(second.pr?.labels).toContain("possible-duplicate");
    expect(second.warnings.some((w) => w.startsWith("This PR is nearly identical"))).toBe(true);
    await agent.close();
  });
});

describe("memory: faults", () => {
  it("a corrupt state file degrades the run, keeps the record waiting, and a later run writes it", async () => {
    const cwd = await workdir();
    // The state file is the default one: state.db in this test's PR_CREATOR_STATE_DIR (test/setup-state-dir.ts).
    const stateDir = process.env.PR_CREATOR_STATE_DIR!;
    await mkdir(stateDir, { recursive: true });
    await writeFile(path.join(stateDir, "state.db"), "this is not a database ".repeat(200));
    const broken = await createAgent(options(cwd));
    const result = await broken.handle(sample.event);
    expect(result.status).toBe("previewed");
    expect(result.memory.unavailable).toMatch(
      /^Memory is unavailable \(The file .*state\.db is not a valid state file/,
    );
    // The PR history and the event outbox live in the same file, so they cannot be used either; each says so.
    expect(result.warnings).toEqual([
      result.memory.unavailable,
      expect.stringMatching(/^The PR history in .* could not be written .* report will miss this generation entry\.$/),
      expect.stringMatching(
        /^Events waiting in the outbox could not be re-sent \(The file .* is not a valid state file/,
      ),
    ]);
    await broken.close();

    await rm(path.join(stateDir, "state.db"));
    const fixed = await createAgent(options(cwd));
    const next = await fixed.handle(sample.secondEvent);
    expect(next.memory.unavailable).toBeNull();
    // The waiting record was written before this run's own, so the first change is remembered too.
    const chain = await fixed.memory!.chain("trace-ord-8128");
    expect(chain.map((r) => r.source_branch)).toEqual(["feature/order-handler"]);
    await fixed.close();
  });

  it("memory.store: none turns memory off entirely", async () => {
    const cwd = await workdir();
    const agent = await createAgent(options(cwd, { policy: PolicySchema.parse({ memory: { store: "none" } }) }));
    const result = await agent.handle(sample.event);
    expect(result.memory).toEqual({ earlier_prs: [], recalled: [], possible_duplicates: [], unavailable: null });
    expect(agent.memory).toBeNull();
    await agent.close();
  });
});

describe("memory import", () => {
  it("backfills memory from a forge's existing PRs that name a trace", async () => {
    const gh = await startGitHubEmulator({ token: "tok-import-123" });
    try {
      const sha = (n: number) => n.toString(16).padStart(40, "c");
      const author = { name: "a", email: "a@x", date: "2025-01-01T00:00:00Z" };
      gh.seedRepo("acme/OrderService", {
        default_branch: "main",
        branches: { main: sha(1), dev: sha(1), "feature/a": sha(2), "feature/b": sha(3) },
        commits: {
          [sha(1)]: {
            message: "init",
            author,
            parents: [],
            files: [{ filename: "README.md", status: "added", additions: 1, deletions: 0 }],
          },
          [sha(2)]: {
            message: "feat: a",
            author,
            parents: [sha(1)],
            files: [{ filename: "a.cs", status: "added", additions: 1, deletions: 0 }],
          },
          [sha(3)]: {
            message: "feat: b",
            author,
            parents: [sha(1)],
            files: [{ filename: "b.cs", status: "added", additions: 1, deletions: 0 }],
          },
        },
      });
      const { Octokit } = await import("@octokit/rest");
      const octo = new Octokit({
        auth: "tok-import-123",
        baseUrl: gh.url,
        log: { debug() {}, info() {}, warn() {}, error() {} },
      });
      await octo.pulls.create({
        owner: "acme",
        repo: "OrderService",
        head: "feature/a",
        base: "dev",
        title: "feat(order): implement CreateOrderHandler [trace:ord-8128]",
        body: "## Summary\n\nImplements the handler.\n",
      });
      await octo.pulls.create({
        owner: "acme",
        repo: "OrderService",
        head: "feature/b",
        base: "main",
        title: "chore: unrelated",
        body: "no trace",
      });
      const cwd = await workdir();
      const cfg = path.join(root, `import-${dirCount}.yaml`);
      await writeFile(cfg, `forge: github\nstate_file: ${path.join(cwd, "state.db")}\n`);
      const previous = { ...process.env };
      Object.assign(process.env, { GITHUB_TOKEN: "tok-import-123", GITHUB_API_URL: gh.url });
      try {
        const out = capture();
        const code = await memoryImportCommand(
          "acme/OrderService",
          { config: cfg, traces: sample.tracesFile, json: true },
          { ...out.io, cwd, progress: false },
        );
        expect(code).toBe(0);
        expect(JSON.parse(out.text())).toEqual({
          repo: "acme/OrderService",
          pull_requests: 2,
          imported: 1,
          skipped_without_trace: 1,
        });
        const chain = capture();
        await traceCommand("trace-ord-8128", { config: cfg, json: true }, { ...chain.io, cwd });
        expect(JSON.parse(chain.text())).toMatchObject({
          prs: [
            {
              pr_id: "1",
              blueprint_id: "usecase-create-order",
              component_scope: "Order",
              source_branch: "feature/a",
              forge: "github",
            },
          ],
        });
      } finally {
        process.env = previous;
      }
    } finally {
      await gh.close();
    }
  });
});
