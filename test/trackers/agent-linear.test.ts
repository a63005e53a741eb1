/**
 * The agent with `tracker: linear` on the GitHub emulator and the Linear emulator: every lifecycle moment of a
 * run reaches the issue, a Linear that is down never holds up the PR, and what it missed is sent by the next
 * run exactly once.
 */
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { createAgent, type Agent } from "../../src/agent/create-agent.js";
import type { ChangeRequested } from "../../src/domain/events.js";
import { PolicySchema } from "../../src/domain/policy.js";
import { openTrackerOutbox } from "../../src/trackers/outbox.js";
import { seedPipeline } from "../emulators/ci.js";
import { startLinearEmulator, type LinearEmulator } from "../emulators/linear.js";
import { githubWorld, type World } from "../scenarios/worlds.js";

const KEY = "lin_api_agent_test_key_24680";
const PVC = `apiVersion: v1
kind: PersistentVolumeClaim
metadata:
  name: orders-data
spec:
  resources:
    requests:
      storage: 10Gi
`;

function request(id: string, storage: string, issue = "BVL-232"): ChangeRequested {
  return {
    event: "ChangeRequested",
    change_id: id,
    issue_id: issue,
    change_type: "pvc-size",
    repo: "acme/gitops",
    base_branch: "main",
    summary: `increase orders-data PVC to ${storage}`,
    edits: [{ path: "apps/orders/pvc.yaml", set: { "spec.resources.requests.storage": storage } }],
    context: { alert: "PersistentVolumeFillingUp", remediation: "Grow the PVC", impact: "orders only" },
    agent: "agent-sre",
    timestamp: "2026-01-08T10:00:00Z",
  };
}

let world: World;
let linear: LinearEmulator;
let dir: string;
let stateFile: string;
const agents: Agent[] = [];

/** `review`: the PR waits for reviewers instead of merging itself (GitHub merges a PR without checks at once). */
async function agent(opts: { watch?: boolean; review?: boolean } = {}): Promise<Agent> {
  const a = await createAgent({
    policy: PolicySchema.parse({
      forge: "github",
      tracker: "linear",
      retry_policy: { base_delay_ms: 10 },
      state_file: stateFile,
      github: { throttle: false },
      merge: { poll_interval_ms: 20, watch_timeout_ms: 15_000, ...(opts.review ? { auto_merge_levels: [] } : {}) },
    }),
    env: { ...world.env, LINEAR_API_KEY: KEY, LINEAR_API_URL: linear.url },
    model: null,
    watch: opts.watch ?? false,
    cwd: dir,
  });
  agents.push(a);
  return a;
}

beforeAll(async () => {
  world = await githubWorld();
  dir = await mkdtemp(path.join(os.tmpdir(), "pr-creator-linear-"));
});

beforeEach(async () => {
  world.seed({ "apps/orders/pvc.yaml": PVC });
  world.setCi(seedPipeline({ delayMs: 30 }));
  linear = await startLinearEmulator({ apiKey: KEY });
  linear.addIssue({ identifier: "BVL-232", state: "Todo" });
  linear.addIssue({ identifier: "BVL-233", state: "Todo" });
  stateFile = path.join(await mkdtemp(path.join(dir, "run-")), "state.db");
});

afterEach(async () => {
  await Promise.all(agents.splice(0).map((a) => a.close()));
  expect(linear.violations).toEqual([]);
  await linear.close();
});

afterAll(async () => {
  await world.close();
  await rm(dir, { recursive: true, force: true });
});

describe("tracker: linear", () => {
  it("links a created PR to its issue, moves it to In Review and names the reviewers; once merged, Done", async () => {
    const created = await (await agent({ review: true })).handle(request("100", "20Gi"));
    expect(created.status).toBe("created");
    expect(created.events[0]).toMatchObject({ event: "PullRequestCreated", issue_id: "BVL-232" });
    expect(linear.attachments).toEqual([
      expect.objectContaining({ url: created.pr!.url, title: expect.stringMatching(/^PR \d+: fix\(orders\)/) }),
    ]);
    expect(linear.stateOf("BVL-232")).toBe("In Review");
    expect(created.warnings).toEqual([]);
    expect(linear.comments.map((c) => c.body)).toEqual([
      expect.stringMatching(/^\[PR \d+ in acme\/gitops\]\(http[^)]+\) waits for an approving review from \w+/),
    ]);

    const merged = await (await agent({ watch: true })).handle(request("100", "20Gi"));
    expect(merged.merge!.status).toBe("merged");
    expect(linear.stateOf("BVL-232")).toBe("Done");
    expect(linear.attachments).toHaveLength(1);
  });

  it("comments once on a failed run, and a re-run that fails the same way adds no second comment", async () => {
    world.failNext(50);
    const first = await (await agent()).handle(request("200", "21Gi"));
    expect(first.status).toBe("failed");
    expect(linear.comments).toHaveLength(1);
    expect(linear.comments[0]!.body).toMatch(/could not be created or updated \(`github_503`\)/);
    world.failNext(50);
    const again = await (await agent()).handle(request("200", "21Gi"));
    expect(again.status).toBe("failed");
    expect(linear.comments).toHaveLength(1);
    world.recover();
  });

  it("a Linear that is down: the PR is still published with a warning; the next run sends the update exactly once", async () => {
    linear.down();
    const published = await (await agent({ review: true })).handle(request("300", "22Gi"));
    expect(published.status).toBe("created");
    expect(published.pr!.url).toBeTruthy();
    expect(published.warnings.join("\n")).toMatch(
      /Linear did not take the update for BVL-232 \(opened PR \d+\): .*It waits in the tracker outbox in .* and is sent again by the next run\./,
    );
    expect(linear.attachments).toEqual([]);
    expect((await openTrackerOutbox(stateFile).list()).map((w) => w.update?.moment)).toEqual([
      "opened",
      "awaiting_approval",
    ]);

    linear.up();
    // The next run is about another issue; it sends the waiting update first.
    const next = await (await agent({ review: true })).handle(request("301", "23Gi", "BVL-233"));
    expect(next.warnings).toEqual([]);
    expect(linear.attachments.map((a) => a.url).sort()).toEqual([published.pr!.url, next.pr!.url].sort());
    expect(linear.stateOf("BVL-232")).toBe("In Review");
    expect(await openTrackerOutbox(stateFile).list()).toEqual([]);

    // And never again.
    const writes = () => linear.requests.filter((r) => r.operation === "attachmentLinkURL").length;
    const before = writes();
    await (await agent({ review: true })).handle(request("302", "24Gi", "BVL-233"));
    expect(writes()).toBe(before + 1);
    expect(linear.attachments.filter((a) => a.url === published.pr!.url)).toHaveLength(1);
  });

  it("an update of an issue whose earlier update still waits goes behind it, so their order holds", async () => {
    linear.down();
    const merged = await (await agent({ watch: true })).handle(request("400", "25Gi"));
    expect(merged.merge!.status).toBe("merged");
    const waiting = openTrackerOutbox(stateFile);
    expect((await waiting.list()).map((w) => w.update?.moment)).toEqual(["opened", "merged"]);
    await waiting.close();
    linear.up();
    await (await agent({ review: true })).handle(request("401", "26Gi", "BVL-233"));
    expect(linear.stateOf("BVL-232")).toBe("Done");
    expect(linear.stateOf("BVL-233")).toBe("In Review");
    expect(await openTrackerOutbox(stateFile).list()).toEqual([]);
  });
});
