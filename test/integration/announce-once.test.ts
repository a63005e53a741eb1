/**
 * Exactly one PullRequestCreated per PR across runs that share a state file: a create whose answer was lost
 * leaves a PR nobody announced, and the next run announces it; later changes are PullRequestUpdated.
 */
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createAgent } from "../../src/agent/create-agent.js";
import { SAMPLE_TRACES } from "../../src/demo/sample-repo.js";
import { PrCreatorError } from "../../src/domain/errors.js";
import type { CommitCompleted, LifecycleEvent } from "../../src/domain/events.js";
import { PolicySchema, type Policy } from "../../src/domain/policy.js";
import { createForge } from "../../src/forges/create-forge.js";
import type { Forge } from "../../src/forges/forge.js";
import { createInMemoryTraceRegistry } from "../../src/policy/trace-registry.js";
import { startGitHubEmulator, type GitHubEmulator } from "../emulators/github.js";
import { seedOrderServiceOnGitHub } from "./worlds.js";

const TOKEN = "ghp_announceOnceToken";
const REPO = "acme/OrderService";
const sha = (n: number) => n.toString(16).padStart(40, "b");
const author = { name: "code-committer-agent", email: "cc@agents.local", date: "2025-05-07T19:05:33Z" };
let gh: GitHubEmulator;
let dir: string;
let policy: Policy;

beforeAll(async () => {
  gh = await startGitHubEmulator({ token: TOKEN });
  seedOrderServiceOnGitHub(gh, REPO, sha, { devMessage: "feat(order): add OrderId" });
  dir = await mkdtemp(path.join(tmpdir(), "pr-creator-announce-"));
  policy = PolicySchema.parse({
    forge: "github",
    github: { throttle: false },
    retry_policy: { base_delay_ms: 10 },
    state_file: path.join(dir, "state.db"),
  });
});

afterAll(async () => {
  await gh.close();
});

function commitOnBranch(branch: string, n: number, message: string, parent = sha(2)): CommitCompleted {
  const repo = gh.state.repos.get(REPO.toLowerCase())!;
  repo.commits.set(sha(n), {
    message,
    author,
    parents: [parent],
    files: [
      { filename: "src/Application/Handlers/CreateOrderHandler.cs", status: "added", additions: 12, deletions: 0 },
      { filename: "tests/Order/CreateOrderHandlerTests.cs", status: "added", additions: 14, deletions: 0 },
    ],
  });
  repo.branches.set(branch, sha(n));
  return {
    event: "CommitCompleted",
    trace_id: "trace-ord-8128",
    commit_hash: sha(n),
    repo: REPO,
    branch,
    agent: "code-committer-agent",
    timestamp: "2025-05-07T19:05:33Z",
  };
}

/**
 * The forge, except that the first create's answer is lost after the PR was made (a 500 after the write).
 * With `complete`, the PR got its labels and reviewers too, as a process killed right after publishing leaves it.
 */
function losingFirstCreate(forge: Forge, complete = false): Forge {
  let lost = false;
  return {
    ...forge,
    async createPullRequest(repo, pr) {
      const made = await forge.createPullRequest(repo, pr);
      if (lost) return made;
      lost = true;
      if (complete) {
        await forge.addLabels(repo, made.id, pr.labels);
        await forge.addReviewers(repo, made, pr.reviewers);
      }
      throw new PrCreatorError("forge_unreachable", "The forge answered 500 after creating the pull request.");
    },
  };
}

async function run(event: CommitCompleted, forge?: Forge) {
  const delivered: LifecycleEvent[] = [];
  const env = { GITHUB_TOKEN: TOKEN, GITHUB_API_URL: gh.url };
  const agent = await createAgent({
    policy,
    env,
    cwd: dir,
    ...(forge ? { forge } : {}),
    traceRegistry: createInMemoryTraceRegistry(SAMPLE_TRACES),
    sinks: [async (e) => void delivered.push(e)],
    model: null,
    memory: null,
  });
  const result = await agent.handle(event);
  await agent.close();
  return { result, names: delivered.map((e) => e.event) };
}

describe("announcements are exactly once per PR", () => {
  it("a PR whose create answer was lost is announced by the next run, once; a change is an update", async () => {
    const event = commitOnBranch(
      "feature/announce-1",
      3001,
      "feat(order): implement CreateOrderHandler [trace:ord-8128]",
    );
    const forge = createForge(policy, { GITHUB_TOKEN: TOKEN, GITHUB_API_URL: gh.url })!;

    const lostAnswer = await run(event, losingFirstCreate(forge));
    expect(lostAnswer.result.status).toBe("failed");
    expect(lostAnswer.names).toEqual(["PullRequestFailed"]);
    const pulls = () => gh.state.repos.get(REPO.toLowerCase())!.pulls.filter((p) => p.state === "open");
    expect(pulls()).toHaveLength(1);

    // The lost answer also skipped the labels and reviewers, so the re-run updates the PR; it was never announced.
    const rerun = await run(event);
    expect(rerun.result.status).toBe("updated");
    expect(rerun.names).toEqual(["PullRequestCreated", "PullRequestReadyForReview"]);

    const again = await run(event);
    expect(again.result.status).toBe("unchanged");
    expect(again.names).toEqual([]);

    const next = commitOnBranch(
      "feature/announce-1",
      3002,
      "feat(order): validate the cart [trace:ord-8128]",
      sha(3001),
    );
    const updated = await run(next);
    expect(updated.result.status).toBe("updated");
    expect(updated.names).toEqual(["PullRequestUpdated"]);
    expect(pulls()).toHaveLength(1);
  });

  it("a complete PR nobody announced is announced by a re-run that finds nothing to change", async () => {
    const event = commitOnBranch(
      "feature/announce-3",
      3201,
      "feat(order): implement CreateOrderHandler [trace:ord-8128]",
    );
    const forge = createForge(policy, { GITHUB_TOKEN: TOKEN, GITHUB_API_URL: gh.url })!;
    expect((await run(event, losingFirstCreate(forge, true))).names).toEqual(["PullRequestFailed"]);
    const rerun = await run(event);
    expect(rerun.result.status).toBe("unchanged");
    expect(rerun.names).toEqual(["PullRequestCreated", "PullRequestReadyForReview"]);
    expect((await run(event)).names).toEqual([]);
  });

  it("a PR this run created is announced at once, with ReadyForReview", async () => {
    const event = commitOnBranch(
      "feature/announce-2",
      3101,
      "feat(order): implement CreateOrderHandler [trace:ord-8128]",
    );
    const first = await run(event);
    expect(first.result.status).toBe("created");
    expect(first.names).toEqual(["PullRequestCreated", "PullRequestReadyForReview"]);
  });
});
