/**
 * The contract as a user meets it, through the built CLI: `tracker: linear` in the config (or
 * PR_CREATOR_TRACKER=linear), LINEAR_API_KEY and LINEAR_API_URL, and an event with `issue_id: "BVL-232"`.
 */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
import type { ChangeRequested } from "../../src/domain/events.js";
import { seedPipeline } from "../emulators/ci.js";
import { startLinearEmulator, type LinearEmulator } from "../emulators/linear.js";
import { runCli } from "../helpers.js";
import { githubWorld, type World } from "../scenarios/worlds.js";

// Each test spawns the CLI twice, a second or more of module loading each.
vi.setConfig({ testTimeout: 120_000 });

const KEY = "lin_api_cli_contract_key_112233";
const PVC =
  "apiVersion: v1\nkind: PersistentVolumeClaim\nmetadata:\n  name: data\nspec:\n  resources:\n    requests:\n      storage: 10Gi\n";
const CONFIG = `forge: github\nretry_policy: { base_delay_ms: 10 }\ngithub: { throttle: false }\nmerge: { auto_merge_levels: [] }\n`;

let world: World;
let linear: LinearEmulator;
let dir: string;

beforeAll(async () => {
  world = await githubWorld();
});

beforeEach(async () => {
  world.seed({ "apps/data/pvc.yaml": PVC });
  world.setCi(seedPipeline({ delayMs: 30 }));
  linear = await startLinearEmulator({ apiKey: KEY });
  linear.addIssue({ identifier: "BVL-232", state: "Todo" });
  dir = await mkdtemp(path.join(os.tmpdir(), "pr-creator-cli-linear-"));
});

afterEach(async () => {
  expect(linear.violations).toEqual([]);
  await linear.close();
  await rm(dir, { recursive: true, force: true });
});

afterAll(async () => {
  await world.close();
});

async function run(id: string, config: string, extraEnv: Record<string, string>) {
  const event: ChangeRequested = {
    event: "ChangeRequested",
    change_id: id,
    issue_id: "BVL-232",
    change_type: "pvc-size",
    repo: world.repo,
    base_branch: "main",
    summary: `grow the data volume (${id})`,
    edits: [{ path: "apps/data/pvc.yaml", set: { "spec.resources.requests.storage": `2${id.slice(-1)}Gi` } }],
    context: { alert: "PersistentVolumeFillingUp", remediation: "Grow the volume", impact: "Namespace data" },
    agent: "agent-sre",
    timestamp: "2026-01-08T10:00:00Z",
  };
  await writeFile(path.join(dir, `event-${id}.json`), JSON.stringify(event));
  await writeFile(path.join(dir, "pr-creator.yaml"), config);
  const out = await runCli(["run", `event-${id}.json`, "--json"], {
    cwd: dir,
    env: {
      PATH: process.env.PATH ?? "",
      PR_CREATOR_LOG_LEVEL: "info",
      ...world.env,
      LINEAR_API_KEY: KEY,
      LINEAR_API_URL: linear.url,
      ...extraEnv,
    },
  });
  expect(out.stdout + out.stderr).not.toContain(KEY);
  return {
    ...out,
    result: JSON.parse(out.stdout) as {
      status: string;
      pr: { url: string };
      warnings: string[];
      events: { event: string; issue_id: string }[];
    },
  };
}

describe("pr-creator run with a Linear tracker", () => {
  it("tracker: linear in the config: the issue links the PR and is In Review", async () => {
    const { code, result } = await run("1", `${CONFIG}tracker: linear\n`, {});
    expect(code).toBe(0);
    expect(result.status).toBe("created");
    expect(result.events[0]).toMatchObject({ event: "PullRequestCreated", issue_id: "BVL-232" });
    expect(linear.attachments).toEqual([expect.objectContaining({ url: result.pr.url })]);
    expect(linear.stateOf("BVL-232")).toBe("In Review");
  });

  it("PR_CREATOR_TRACKER=linear with Linear down: exit 0 and a warning; the next run sends the update", async () => {
    linear.down();
    const first = await run("2", CONFIG, { PR_CREATOR_TRACKER: "linear" });
    expect(first.code).toBe(0);
    expect(first.result.status).toBe("created");
    expect(first.result.warnings.join("\n")).toMatch(/Linear did not take the update for BVL-232 .* tracker outbox/);
    expect(linear.attachments).toEqual([]);
    linear.up();
    const second = await run("3", CONFIG, { PR_CREATOR_TRACKER: "linear" });
    expect(second.result.warnings.filter((w) => /Linear|tracker/.test(w))).toEqual([]);
    expect(linear.attachments.map((a) => a.url).sort()).toEqual([first.result.pr.url, second.result.pr.url].sort());
  });
});
