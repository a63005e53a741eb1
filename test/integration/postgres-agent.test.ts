/**
 * Whole agents on one PostgreSQL database, as two workers (or a worker and a CLI run) share it: the failure
 * streaks and the tracker outbox the agent writes are the database's, not each process's state file. One agent
 * finds the database through PR_CREATOR_DATABASE_URL (as `pr-creator run` does), the other is handed it (as
 * `pr-creator worker` does); each has a state file of its own, so a store wired to the state file shows up as two
 * separate streaks or outboxes. The stores themselves are tested in pg-state-streaks and pg-state-tracker-outbox.
 */
import Sqlite from "better-sqlite3";
import { existsSync } from "node:fs";
import { createServer, request, type Server } from "node:http";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import pg from "pg";
import { afterAll, afterEach, beforeAll, beforeEach, expect, it } from "vitest";
import { createAgent, type Agent } from "../../src/agent/create-agent.js";
import { SAMPLE_TRACES } from "../../src/demo/sample-repo.js";
import type { CommitCompleted, LifecycleEvent, PullRequestAlert } from "../../src/domain/events.js";
import { PolicySchema } from "../../src/domain/policy.js";
import { createInMemoryTraceRegistry } from "../../src/policy/trace-registry.js";
import { openDatabase, type Database } from "../../src/postgres/database.js";
import { startAzureDevOpsEmulator, type AzureEmulator } from "../emulators/azure-devops.js";
import { startGitHubEmulator, type GitHubEmulator } from "../emulators/github.js";
import { startLinearEmulator, type LinearEmulator } from "../emulators/linear.js";
import { createTestDatabase, describePostgres, type TestDatabase } from "../postgres.js";
import { AGENT_AUTHOR, seedOrderServiceOnAzure, seedOrderServiceOnGitHub } from "./worlds.js";

const GH_TOKEN = "ghp_pgAgentStreakToken";
const AZ_TOKEN = "azdo-pg-agent-outbox-pat";
const LINEAR_KEY = "lin_api_pg_agent_key_13579";
const sha = (n: number) => n.toString(16).padStart(40, "d");

const STREAK = "repo:acme/OrderService";

/** Sessions of this database waiting for a lock another holds. */
async function lockWaiters(client: pg.Client): Promise<number> {
  const { rows } = await client.query<{ n: number }>(
    "SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'",
  );
  return rows[0]!.n;
}

/** Resolves once `check` holds, looking again every few milliseconds (the test's own timeout bounds it). */
async function until(check: () => Promise<boolean>): Promise<void> {
  while (!(await check())) await new Promise((resolve) => setTimeout(resolve, 5));
}

/** Past the notifier's rest (30 s), after which a process tries an issue's waiting updates again. */
const AFTER_REST_MS = 31_000;

/**
 * A loopback proxy in front of the Linear emulator that, once armed, holds the first link of `url` until a link
 * of another PR passes: the agent that sends the waiting update is still sending it while the other agent looks at
 * the outbox and goes on to its own PR, so both have looked before the first is done.
 */
async function startLinkGate(target: string) {
  let armed: { url: string; release: () => void; released: Promise<void> } | null = null;
  let held = false;
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const body = Buffer.concat(chunks);
      let link: string | null = null;
      try {
        const parsed = JSON.parse(body.toString("utf8")) as { query?: string; variables?: { url?: unknown } };
        if (/\bmutation attachmentLinkURL\b/.test(parsed.query ?? "")) link = String(parsed.variables?.url);
      } catch {
        link = null;
      }
      const gate = armed;
      let wait: Promise<void> = Promise.resolve();
      if (gate && link !== null) {
        if (link !== gate.url) gate.release();
        else if (!held) {
          held = true;
          wait = gate.released;
        }
      }
      void wait.then(() => {
        const upstream = request(
          new URL(req.url ?? "/", target),
          { method: req.method, headers: { ...req.headers, host: new URL(target).host } },
          (answer) => {
            res.writeHead(answer.statusCode ?? 502, answer.headers);
            answer.pipe(res);
          },
        );
        upstream.on("error", () => res.destroy());
        upstream.end(body);
      });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  return {
    url: `http://127.0.0.1:${typeof address === "object" && address ? address.port : 0}${new URL(target).pathname}`,
    /** Holds the next link of `url` until a link of another PR goes through. */
    arm(url: string) {
      let release = () => undefined as void;
      const released = new Promise<void>((resolve) => (release = resolve));
      armed = { url, release, released };
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

describePostgres("agents sharing one PostgreSQL database", () => {
  let gh: GitHubEmulator;
  let az: AzureEmulator;
  let linear: LinearEmulator;
  let gate: Awaited<ReturnType<typeof startLinkGate>>;
  let dir: string;
  let test: TestDatabase;
  let db: Database;
  let skew = 0;
  let commits = 0;
  const agents: Agent[] = [];

  beforeAll(async () => {
    gh = await startGitHubEmulator({ token: GH_TOKEN });
    seedOrderServiceOnGitHub(gh, "acme/OrderService", sha);
    az = await startAzureDevOpsEmulator({ token: AZ_TOKEN });
    seedOrderServiceOnAzure(az, "OrderService", sha);
    az.addIdentity({ displayName: "TechLeadAgent", uniqueName: "techlead@acme.example" });
    az.addIdentity({ displayName: "QA Assistant", uniqueName: "QAAssistantAgent@acme.example" });
    dir = await mkdtemp(path.join(tmpdir(), "pr-creator-pg-agent-"));
  });

  beforeEach(async () => {
    test = await createTestDatabase("agentstate");
    db = await openDatabase(test.url, { max: 4 });
    linear = await startLinearEmulator({ apiKey: LINEAR_KEY });
    for (const issue of ["BVL-232", "BVL-233", "BVL-234"]) linear.addIssue({ identifier: issue, state: "Todo" });
    gate = await startLinkGate(linear.url);
    skew = 0;
  });

  afterEach(async () => {
    await Promise.all(agents.splice(0).map((a) => a.close()));
    expect(linear.violations).toEqual([]);
    await gate.close();
    await linear.close();
    await db.close();
    await test.drop();
  });

  afterAll(async () => {
    await gh?.close();
    await az?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  type Forge = "github" | "azure-devops";

  /**
   * One agent process: its own state file; the database from the environment (`via: "env"`) or handed over
   * (`via: "option"`, as the worker does). The clock runs `skew` ms ahead, the same for every agent.
   */
  async function agent(forge: Forge, machine: string, via: "env" | "option") {
    const delivered: LifecycleEvent[] = [];
    const stateFile = path.join(dir, `${machine}-${test.name}`, "state.db");
    const forgeEnv =
      forge === "github"
        ? { GITHUB_TOKEN: GH_TOKEN, GITHUB_API_URL: gh.url }
        : { AZURE_DEVOPS_TOKEN: AZ_TOKEN, AZURE_DEVOPS_ORG_URL: az.orgUrl, AZURE_DEVOPS_PROJECT: az.project };
    const a = await createAgent({
      policy: PolicySchema.parse({
        forge,
        tracker: "linear",
        github: { throttle: false },
        retry_policy: { base_delay_ms: 5, max_attempts: 2 },
        // PRs wait for review: nothing merges, so each run's tracker moments are "opened" and "awaiting_approval".
        merge: { auto_merge_levels: [] },
        state_file: stateFile,
      }),
      env: {
        ...forgeEnv,
        LINEAR_API_KEY: LINEAR_KEY,
        LINEAR_API_URL: gate.url,
        ...(via === "env" ? { PR_CREATOR_DATABASE_URL: test.url } : {}),
      },
      ...(via === "option" ? { database: db } : {}),
      cwd: dir,
      traceRegistry: createInMemoryTraceRegistry(SAMPLE_TRACES),
      sinks: [async (e) => void delivered.push(e)],
      model: null,
      memory: null,
      now: () => new Date(Date.now() + skew),
    });
    agents.push(a);
    return {
      agent: a,
      stateFile,
      alerts: () => delivered.filter((e): e is PullRequestAlert => e.event === "PullRequestAlert"),
    };
  }

  /** A new feature branch off dev with a handler commit on the forge; the event for it. */
  function featureBranch(forge: Forge, issue: string): CommitCompleted {
    const n = ++commits;
    const commit = sha(100 + n);
    const branch = `feature/order-${n}`;
    const message = "feat(order): implement CreateOrderHandler [trace:ord-8128]";
    if (forge === "github") {
      const repo = gh.state.repos.get("acme/orderservice")!;
      repo.commits.set(commit, {
        message,
        author: AGENT_AUTHOR,
        parents: [sha(2)],
        files: [
          { filename: "src/Application/Handlers/CreateOrderHandler.cs", status: "added", additions: 12, deletions: 0 },
        ],
      });
      repo.branches.set(branch, commit);
    } else {
      az.seedRepo("OrderService", {
        branches: { [branch]: commit },
        commits: {
          [commit]: {
            message,
            author: AGENT_AUTHOR,
            parents: [sha(2)],
            changes: [{ path: "/src/Application/Handlers/CreateOrderHandler.cs", changeType: "add" }],
          },
        },
      });
    }
    return {
      event: "CommitCompleted",
      trace_id: "trace-ord-8128",
      commit_hash: commit,
      repo: forge === "github" ? "acme/OrderService" : "OrderService",
      branch,
      agent: "code-committer-agent",
      issue_id: issue,
      timestamp: "2025-05-07T19:05:33Z",
    };
  }

  /** A run that fails at the trace check (no such trace) for the GitHub repository, on issue BVL-232. */
  const failing = (n: number): CommitCompleted => ({
    ...featureBranch("github", "BVL-232"),
    trace_id: `trace-none-${n}`,
  });

  const streakRows = async () =>
    (
      await db.query<{ key: string; count: number; alerted: boolean }>(
        "SELECT key, count, alerted FROM pr_creator.failure_streaks ORDER BY key",
      )
    ).rows;

  const outboxRows = async () =>
    (
      await db.query<{ update_key: string; issue_id: string }>(
        "SELECT update_key, issue_id FROM pr_creator.tracker_outbox ORDER BY id",
      )
    ).rows;

  /** The tables an agent's own state file holds (none when it was never created). */
  const stateTables = (file: string): string[] => {
    if (!existsSync(file)) return [];
    const sqlite = new Sqlite(file, { readonly: true });
    try {
      return sqlite.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").pluck().all() as string[];
    } finally {
      sqlite.close();
    }
  };

  it("counts failures of both agents in one streak, alerts once, and a published PR clears the row", async () => {
    const a = await agent("github", "a", "env");
    const b = await agent("github", "b", "option");
    // The tracker is down the whole time: it never holds up a run, an alert or a streak.
    linear.down();

    // Three failed runs in a row, taking turns: each agent alone has seen at most two.
    for (const [n, run] of [a, b, a].entries()) {
      const result = await run.agent.handle(failing(n + 1));
      expect(result.status).toBe("failed");
      expect(result.events[0]).toMatchObject({ event: "PullRequestFailed", reason: "missing_trace" });
    }
    expect(a.alerts().map((x) => [x.repo, x.consecutive_failures, x.issue_id])).toEqual([
      ["acme/OrderService", 3, "BVL-232"],
    ]);
    expect(a.alerts()[0]!.failures.map((f) => f.trace_id)).toEqual(["trace-none-1", "trace-none-2", "trace-none-3"]);
    expect(b.alerts()).toEqual([]);
    expect(await streakRows()).toEqual([{ key: STREAK, count: 3, alerted: true }]);

    // A fourth failure, on the other agent, extends the streak without a second alert.
    await b.agent.handle(failing(4));
    expect([...a.alerts(), ...b.alerts()]).toHaveLength(1);
    expect(await streakRows()).toEqual([{ key: STREAK, count: 4, alerted: true }]);

    // The failure comments the tracker missed wait in the database too, one per failed run.
    expect((await outboxRows()).map((r) => r.issue_id)).toEqual(Array(4).fill("BVL-232"));

    // A published PR ends the streak: its row is gone.
    const published = await b.agent.handle(featureBranch("github", "BVL-233"));
    expect(published.status).toBe("created");
    expect(await streakRows()).toEqual([]);

    // The next streak starts with one failure; then both agents fail at the same moment. The test holds the
    // streak's row and lets go only once both updates wait for it, so they certainly overlap: one alert between
    // them, at 3, and no failure lost (two updates reading the same count would leave 2 and alert nobody).
    await b.agent.handle(failing(10));
    const holder = new pg.Client({ connectionString: test.url });
    await holder.connect();
    try {
      await holder.query("BEGIN");
      await holder.query("SELECT 1 FROM pr_creator.failure_streaks WHERE key = $1 FOR UPDATE", [STREAK]);
      const racing = Promise.all([a.agent.handle(failing(11)), b.agent.handle(failing(12))]);
      await until(async () => (await lockWaiters(holder)) >= 2);
      await holder.query("COMMIT");
      expect((await racing).map((r) => r.status)).toEqual(["failed", "failed"]);
    } finally {
      await holder.end();
    }
    const second = [...a.alerts(), ...b.alerts()].slice(1);
    expect(second.map((x) => [x.repo, x.consecutive_failures])).toEqual([["acme/OrderService", 3]]);
    expect(await streakRows()).toEqual([{ key: STREAK, count: 3, alerted: true }]);

    // More at once, unheld, as busy workers fail: still that one alert, every failure counted.
    const more = await Promise.all([a, b, a, b].map((run, i) => run.agent.handle(failing(20 + i))));
    expect(more.map((r) => r.status)).toEqual(Array(4).fill("failed"));
    expect([...a.alerts(), ...b.alerts()]).toHaveLength(2);
    expect(await streakRows()).toEqual([{ key: STREAK, count: 7, alerted: true }]);

    // Neither agent kept a streak or a tracker update in its own state file.
    for (const file of [a.stateFile, b.stateFile])
      expect(stateTables(file).filter((t) => /^(failure_streaks|tracker_outbox)/.test(t))).toEqual([]);
  });

  it("keeps an update the tracker missed in the database; the next runs of either agent send it exactly once", async () => {
    const a = await agent("azure-devops", "a", "env");
    const b = await agent("azure-devops", "b", "option");
    linear.down();
    const first = await a.agent.handle(featureBranch("azure-devops", "BVL-232"));
    expect(first.status).toBe("created");
    const prUrl = first.pr!.url!;
    // (Results show URLs without their user info.)
    expect(first.warnings.join("\n")).toMatch(
      new RegExp(`It waits in the tracker outbox in postgres://127\\.0\\.0\\.1:\\d+/${test.name} and is sent again`),
    );
    expect(await outboxRows()).toEqual([
      { update_key: `BVL-232|OrderService#${first.pr!.id}|opened`, issue_id: "BVL-232" },
      { update_key: expect.stringMatching(/^BVL-232\|OrderService#\d+\|/), issue_id: "BVL-232" },
    ]);
    expect(stateTables(a.stateFile).filter((t) => t.startsWith("tracker_outbox"))).toEqual([]);

    // The tracker is back, and agent a no longer rests on BVL-232: both agents run at once, and the one that sends
    // the waiting update is held sending it until the other has looked at the outbox and linked its own PR. The
    // update goes out once, from whichever claimed it.
    linear.up();
    skew = AFTER_REST_MS;
    gate.arm(prUrl);
    const linked = () =>
      linear.requests.filter(
        (r) => r.operation === "attachmentLinkURL" && r.status === 200 && r.variables.url === prUrl,
      ).length;
    const [ra, rb] = await Promise.all([
      a.agent.handle(featureBranch("azure-devops", "BVL-233")),
      b.agent.handle(featureBranch("azure-devops", "BVL-234")),
    ]);
    expect([ra.status, rb.status]).toEqual(["created", "created"]);
    expect([...ra.warnings, ...rb.warnings].filter((w) => /tracker|Linear/.test(w))).toEqual([]);
    expect(linked()).toBe(1);
    expect(linear.stateOf("BVL-232")).toBe("In Review");
    expect(await outboxRows()).toEqual([]);

    // And never again, from either agent.
    await b.agent.handle(featureBranch("azure-devops", "BVL-233"));
    await a.agent.handle(featureBranch("azure-devops", "BVL-234"));
    expect(linked()).toBe(1);
    expect(linear.attachments.filter((x) => x.url === prUrl)).toHaveLength(1);
  });
});
