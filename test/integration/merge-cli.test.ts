/**
 * The merge commands as people use them — `run` with a change request, `watch`, `rollback`, `report` —
 * spawned from the built CLI against each forge emulator.
 */
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import type { ChangeRequested } from "../../src/domain/events.js";
import { seedPipeline } from "../emulators/ci.js";
import { runCli } from "../helpers.js";
import { azureWorld, githubWorld, type World } from "../scenarios/worlds.js";

// Each test spawns the CLI up to four times, a second or more of module loading each: on a loaded machine that
// takes longer than the default 30 s, so the bound is wide. No test here waits on a timer.
vi.setConfig({ testTimeout: 120_000 });

const PVC =
  "apiVersion: v1\nkind: PersistentVolumeClaim\nmetadata:\n  name: data # the data volume\nspec:\n  resources:\n    requests:\n      storage: 10Gi\n";

describe.each([
  ["Azure DevOps", azureWorld],
  ["GitHub", githubWorld],
] as const)("merge commands on %s", (_name, makeWorld) => {
  let world: World;
  let dir: string;
  let env: Record<string, string>;
  /** The PR whose security scan fails: it stays open. */
  let blocked = 0;

  beforeAll(async () => {
    world = await makeWorld();
    world.seed({ "apps/data/pvc.yaml": PVC, "apps/web/pvc.yaml": PVC });
    dir = await mkdtemp(path.join(os.tmpdir(), "pr-creator-merge-cli-"));
    await writeFile(
      path.join(dir, "pr-creator.yaml"),
      `forge: ${world.kind}\nretry_policy: { base_delay_ms: 10 }\ngithub: { throttle: false }\nmerge: { poll_interval_ms: 20, watch_timeout_ms: 60000 }\nevents: { jsonl_file: events.jsonl }\n`,
    );
    env = { PATH: process.env.PATH ?? "", ...world.env };
  });

  afterAll(async () => {
    await world.close();
    await rm(dir, { recursive: true, force: true });
  });

  const cli = (args: string[]) => runCli(args, { cwd: dir, env });

  async function request(file: string, id: string, app: string): Promise<string> {
    const event: ChangeRequested = {
      event: "ChangeRequested",
      change_id: id,
      change_type: "pvc-size",
      repo: world.repo,
      base_branch: "main",
      summary: `grow the ${app} volume to 20Gi`,
      edits: [{ path: `apps/${app}/pvc.yaml`, set: { "spec.resources.requests.storage": "20Gi" } }],
      context: { alert: "PersistentVolumeFillingUp", remediation: "Grow the volume", impact: `Namespace ${app}` },
      agent: "agent-sre",
      timestamp: "2026-01-08T10:00:00Z",
    };
    await writeFile(path.join(dir, file), JSON.stringify(event));
    return file;
  }

  it("run sets auto-merge, watch follows it to the merge, rollback restores main, report counts it all", async () => {
    world.setCi(seedPipeline({ delayMs: 50 }));
    const run = await cli(["run", await request("cr-1.json", "901", "data"), "--json"]);
    expect(run.code, run.stderr).toBe(0);
    const result = JSON.parse(run.stdout) as {
      status: string;
      pr: { id: number; risk: { level: string } };
      merge: { status: string };
    };
    expect(result.status).toBe("created");
    expect(result.pr.risk.level).toBe("low");
    expect(["enabled", "merged"]).toContain(result.merge.status);

    const watch = await cli(["watch", String(result.pr.id), "--repo", world.repo, "--json"]);
    expect(watch.code, watch.stderr).toBe(0);
    const watched = JSON.parse(watch.stdout) as {
      outcome: string;
      pr: { state: string };
      events: { event: string }[];
    };
    expect(watched.outcome).toBe("merged");
    // The merge is announced once: by the run when it saw the merge itself, else by watch.
    expect(watched.events.map((e) => e.event)).toEqual(result.merge.status === "merged" ? [] : ["PullRequestMerged"]);
    expect(world.fileAt("main", "apps/data/pvc.yaml")).toContain("storage: 20Gi");

    const back = await cli([
      "rollback",
      "--pr",
      String(result.pr.id),
      "--repo",
      world.repo,
      "--reason",
      "latency regression",
      "--watch",
      "--json",
    ]);
    expect(back.code, back.stderr).toBe(0);
    const rolled = JSON.parse(back.stdout) as { status: string; revert: { id: number }; original: { id: number } };
    expect(rolled.status).toBe("merged");
    expect(rolled.original.id).toBe(result.pr.id);
    expect(world.fileAt("main", "apps/data/pvc.yaml")).toBe(PVC);

    const events = (await readFile(path.join(dir, "events.jsonl"), "utf8"))
      .trim()
      .split("\n")
      .map((l) => (JSON.parse(l) as { event: string }).event);
    expect(events).toEqual([
      "PullRequestCreated",
      "PullRequestReadyForReview",
      "PullRequestMerged",
      "PullRequestRollbackCreated",
      "PullRequestMerged",
    ]);

    const report = await cli(["report"]);
    expect(report.code, report.stderr).toBe(0);
    expect(report.stdout).toMatch(/^PR generation success rate\s+100\.0%\s+1 of 1\s+> 95%\s+met$/m);
    expect(report.stdout).toMatch(/^Rollback success rate\s+100\.0%\s+1 of 1\s+> 95%\s+met$/m);
    expect(report.stdout).toMatch(/^Auto-merge success rate \(low risk\)\s+100\.0%\s+2 of 2/m);
  });

  it("watch exits 1 and names the check when CI fails; the human view has a status line", async () => {
    world.setCi(seedPipeline({ delayMs: 20, securityScan: "failed" }));
    const run = await cli(["run", await request("cr-2.json", "902", "web"), "--json"]);
    const id = (JSON.parse(run.stdout) as { pr: { id: number } }).pr.id;
    blocked = id;
    const watch = await cli(["watch", String(id), "--repo", world.repo, "--interval", "0.02"]);
    expect(watch.code).toBe(1);
    expect(watch.stdout).toMatch(new RegExp(`^✖ PR ${id} cannot merge: security-scan failed`));
    expect(watch.stderr).toMatch(
      new RegExp(`PR ${id} (auto-merge on|waiting for a merge); checks \\d+ passed, 1 failed`),
    );
  });

  it("rejects bad requests with exit 2 and a precise message", async () => {
    const none = await cli(["rollback"]);
    expect(none.code).toBe(2);
    expect(none.stderr).toBe(
      'error: pr-creator rollback needs the merged PR to revert, and neither --pr nor --trace names one. Name it by id with its repository (pr-creator rollback --pr 42 --repo OrderService), or by trace to revert the trace\'s latest PR from memory (pr-creator rollback --trace trace-pvc-size-BVL-232 --reason "disk pressure persists").\n',
    );
    const both = await cli(["rollback", "--pr", "1", "--trace", "trace-x"]);
    expect(both.code).toBe(2);
    expect(both.stderr).toBe(
      'error: pr-creator rollback reverts one PR, but both --pr "1" and --trace "trace-x" name one. Keep one of them: --pr ID with --repo NAME for a PR you know, or --trace ID for the trace\'s latest PR.\n',
    );
    const open = await cli(["rollback", "--pr", String(blocked), "--repo", world.repo]);
    expect(open.code).toBe(2);
    expect(open.stderr).toContain(
      `PR ${blocked} is open, not merged; there is nothing to roll back. Close or abandon the open PR instead.`,
    );
    const badId = await cli(["watch", "abc", "--repo", world.repo]);
    expect(badId.code).toBe(2);
    expect(badId.stderr).toContain('The PR id must be a positive whole number, not "abc"');
  });
});
