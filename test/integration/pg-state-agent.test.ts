/**
 * The agent on a shared PostgreSQL database (PR_CREATOR_DATABASE_URL): two agents on two machines — two state
 * files — announce a PR once between them, remember it in one memory, and `report` reads the history of both.
 */
import Database from "better-sqlite3";
import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { createAgent } from "../../src/agent/create-agent.js";
import { reportCommand } from "../../src/cli/report-command.js";
import { SAMPLE_TRACES } from "../../src/demo/sample-repo.js";
import type { CommitCompleted, LifecycleEvent } from "../../src/domain/events.js";
import { PolicySchema } from "../../src/domain/policy.js";
import { createInMemoryTraceRegistry } from "../../src/policy/trace-registry.js";
import { openDatabase } from "../../src/postgres/database.js";
import { startGitHubEmulator, type GitHubEmulator } from "../emulators/github.js";
import { createTestDatabase, describePostgres, type TestDatabase } from "../postgres.js";

const TOKEN = "ghp_pgStateAgentToken";
const REPO = "acme/OrderService";
const sha = (n: number) => n.toString(16).padStart(40, "c");
const author = { name: "code-committer-agent", email: "cc@agents.local", date: "2025-05-07T19:05:33Z" };

describePostgres("the agent with PR_CREATOR_DATABASE_URL", () => {
  let gh: GitHubEmulator;
  let dir: string;
  let test: TestDatabase;

  beforeAll(async () => {
    test = await createTestDatabase("agent");
    gh = await startGitHubEmulator({ token: TOKEN });
    gh.seedRepo(REPO, {
      default_branch: "main",
      branches: { main: sha(1), dev: sha(2), "feature/order-handler": sha(3) },
      commits: {
        [sha(1)]: { message: "chore: scaffold", author, parents: [], files: [] },
        [sha(2)]: { message: "chore: dev", author, parents: [sha(1)], files: [] },
        [sha(3)]: {
          message: "feat(order): implement CreateOrderHandler [trace:ord-8128]",
          author,
          parents: [sha(2)],
          files: [
            {
              filename: "src/Application/Handlers/CreateOrderHandler.cs",
              status: "added",
              additions: 12,
              deletions: 0,
            },
            { filename: "tests/Order/CreateOrderHandlerTests.cs", status: "added", additions: 14, deletions: 0 },
          ],
        },
      },
    });
    gh.addUser("TechLeadAgent");
    gh.addUser("QAAssistantAgent");
    dir = await mkdtemp(path.join(tmpdir(), "pg-state-agent-"));
  });

  afterAll(async () => {
    await gh?.close();
    await rm(dir, { recursive: true, force: true });
    await test?.drop();
  });

  const event: CommitCompleted = {
    event: "CommitCompleted",
    trace_id: "trace-ord-8128",
    commit_hash: sha(3),
    repo: REPO,
    branch: "feature/order-handler",
    agent: "code-committer-agent",
    timestamp: "2025-05-07T19:05:33Z",
  };

  /** One agent on its own "machine": its own state file, the shared database. */
  async function runOn(machine: string) {
    const delivered: LifecycleEvent[] = [];
    const stateFile = path.join(dir, machine, "state.db");
    const agent = await createAgent({
      policy: PolicySchema.parse({ forge: "github", github: { throttle: false }, state_file: stateFile }),
      env: { GITHUB_TOKEN: TOKEN, GITHUB_API_URL: gh.url, PR_CREATOR_DATABASE_URL: test.url },
      cwd: dir,
      traceRegistry: createInMemoryTraceRegistry(SAMPLE_TRACES),
      sinks: [async (e) => void delivered.push(e)],
      model: null,
    });
    try {
      const result = await agent.handle(event);
      return { result, names: delivered.map((e) => e.event), memory: agent.memoryDescription, stateFile };
    } finally {
      await agent.close();
    }
  }

  it("announces a PR once across machines, keeps one memory and one history, and report reads it", async () => {
    const first = await runOn("a");
    expect(first.result.status).toBe("created");
    expect(first.names).toEqual(["PullRequestCreated", "PullRequestReadyForReview"]);
    expect(first.memory).toBe(`postgres ${new URL(test.url).toString()}`);

    // Another machine with an empty state file of its own: the history in the database says it was announced.
    const second = await runOn("b");
    expect(second.result.status).toBe("unchanged");
    expect(second.names).toEqual([]);
    // Neither machine wrote its history, outbox or memory to its state file.
    for (const file of [first.stateFile, second.stateFile].filter((f) => existsSync(f))) {
      const sqlite = new Database(file, { readonly: true });
      const tables = sqlite.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").pluck().all() as string[];
      sqlite.close();
      expect(tables.filter((t) => /^(pr_history|memory_|event_outbox)/.test(t))).toEqual([]);
    }

    const db = await openDatabase(test.url, { max: 1 });
    try {
      const prs = await db.query<{ key: string }>("SELECT key FROM pr_creator.memory_prs");
      expect(prs.rows.map((r) => r.key)).toEqual([`${REPO}#1`]);
      const history = await db.query<{ kind: string }>("SELECT kind FROM pr_creator.pr_history ORDER BY id");
      expect(history.rows.map((r) => r.kind)).toEqual(["generation", "generation"]);
    } finally {
      await db.close();
    }

    const out: string[] = [];
    const code = await reportCommand(
      { json: true },
      { io: { cwd: dir, stdout: (text: string) => void out.push(text) }, env: { PR_CREATOR_DATABASE_URL: test.url } },
    );
    expect(code).toBe(0);
    expect(JSON.parse(out.join(""))).toMatchObject({
      entries: 2,
      counts: { generations: { created: 1, unchanged: 1 } },
    });
  });
});
