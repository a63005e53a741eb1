import { mkdtemp } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { AGENT_NAME, type LifecycleEvent } from "../../src/domain/events.js";
import { PolicySchema } from "../../src/domain/policy.js";
import { createTrackerNotifier, MAX_OUTBOX_ATTEMPTS } from "../../src/trackers/notify.js";
import { openTrackerOutbox } from "../../src/trackers/outbox.js";
import type { Tracker, TrackerUpdate } from "../../src/trackers/tracker.js";
import { trackerUpdates } from "../../src/trackers/updates.js";

const retry = PolicySchema.parse({}).retry_policy;
const pr = { id: 7, repo: "acme/gitops", branch: "feature/x", url: "https://example.test/pr/7", title: "t" };
const opened = (issue: string): TrackerUpdate => ({
  moment: "opened",
  issue_id: issue,
  trace_id: "trace-1",
  at: "2026-01-01T00:00:00Z",
  pr,
  status: "created",
});

/** A tracker that answers from a script: a status to fail with, or "ok"; it records what it applied. */
function scripted(answers: Array<number | "ok">) {
  const applied: TrackerUpdate[] = [];
  let calls = 0;
  const tracker: Tracker = {
    kind: "linear",
    async apply(update) {
      calls++;
      const answer = answers.shift() ?? "ok";
      if (answer !== "ok") throw Object.assign(new Error(`HTTP ${answer}`), { status: answer });
      applied.push(update);
      return { actions: ["applied"] };
    },
    classify: (error) => ({ status: (error as { status: number }).status }),
  };
  return { tracker, applied, calls: () => calls };
}

const stateFile = async () => path.join(await mkdtemp(path.join(os.tmpdir(), "pr-creator-notify-")), "state.db");
const noSleep = async () => undefined;

describe("the tracker notifier", () => {
  it("retries a tracker that answers 503 under the retry policy, then succeeds without a warning", async () => {
    const t = scripted([503, 503]);
    const notifier = createTrackerNotifier({ tracker: t.tracker, retry, stateFile: await stateFile(), sleep: noSleep });
    expect(await notifier.send([opened("BVL-1")])).toEqual([]);
    expect(t.calls()).toBe(3);
    expect(t.applied).toHaveLength(1);
    await notifier.close();
  });

  it("does not retry a refusal (400), keeps the update and sends it on a later flush, once", async () => {
    const file = await stateFile();
    const t = scripted([400]);
    let clock = Date.parse("2026-01-01T00:00:00Z");
    const now = () => new Date(clock);
    const notifier = createTrackerNotifier({ tracker: t.tracker, retry, stateFile: file, sleep: noSleep, now });
    const [warning] = await notifier.send([opened("BVL-1")]);
    expect(warning).toMatch(
      /^Linear did not take the update for BVL-1 \(opened PR 7\): HTTP 400\. It waits in the tracker outbox/,
    );
    expect(t.calls()).toBe(1);
    // Right after the failure the issue rests: this process does not try it again at once.
    expect(await notifier.flush()).toEqual([]);
    expect(t.calls()).toBe(1);
    clock += 31_000;
    expect(await notifier.flush()).toEqual([]);
    expect(await notifier.flush()).toEqual([]);
    expect(t.applied).toHaveLength(1);
    expect(await openTrackerOutbox(file).list()).toEqual([]);
    await notifier.close();
  });

  it("keeps one row per issue, PR and moment however often the same update fails", async () => {
    const file = await stateFile();
    const t = scripted([400, 400, 400]);
    const notifier = createTrackerNotifier({ tracker: t.tracker, retry, stateFile: file, sleep: noSleep });
    await notifier.send([opened("BVL-1")]);
    await notifier.send([opened("BVL-1")]);
    const rows = await openTrackerOutbox(file).list();
    expect(rows).toHaveLength(1);
    expect(rows[0]!.attempts).toBeGreaterThanOrEqual(2);
    await notifier.close();
  });

  it("drops an update the tracker refuses run after run, after MAX_OUTBOX_ATTEMPTS tries, with a warning", async () => {
    const file = await stateFile();
    const t = scripted(Array.from({ length: MAX_OUTBOX_ATTEMPTS }, () => 400));
    // Each flush comes a minute after the last, past the rest an issue gets after a failure.
    let clock = Date.parse("2026-01-01T00:00:00Z");
    const now = () => new Date((clock += 60_000));
    const notifier = createTrackerNotifier({ tracker: t.tracker, retry, stateFile: file, sleep: noSleep, now });
    await notifier.send([opened("BVL-404")]);
    const last: string[][] = [];
    for (let i = 1; i < MAX_OUTBOX_ATTEMPTS; i++) last.push(await notifier.flush());
    expect(last.at(-2)![0]).toMatch(/stays in the tracker outbox/);
    expect(last.at(-1)![0]).toMatch(/in 10 tries \(HTTP 400\); it is dropped from the tracker outbox\./);
    expect(await openTrackerOutbox(file).list()).toEqual([]);
    expect(t.calls()).toBe(MAX_OUTBOX_ATTEMPTS);
    await notifier.close();
  });

  it("without a state file, says the update is lost rather than pretending it waits", async () => {
    const t = scripted([400]);
    const notifier = createTrackerNotifier({ tracker: t.tracker, retry, stateFile: null, sleep: noSleep });
    expect(await notifier.send([opened("BVL-1")])).toEqual([expect.stringMatching(/outbox is off .* not sent again/)]);
    await notifier.close();
  });

  it("two runs flushing one state file send a waiting update once between them", async () => {
    const file = await stateFile();
    const first = scripted([400]);
    const keeper = createTrackerNotifier({ tracker: first.tracker, retry, stateFile: file, sleep: noSleep });
    await keeper.send([opened("BVL-1")]);
    await keeper.close();
    const a = scripted([]);
    const b = scripted([]);
    const na = createTrackerNotifier({ tracker: a.tracker, retry, stateFile: file, sleep: noSleep });
    const nb = createTrackerNotifier({ tracker: b.tracker, retry, stateFile: file, sleep: noSleep });
    await Promise.all([na.flush(), nb.flush()]);
    expect(a.applied.length + b.applied.length).toBe(1);
    await Promise.all([na.close(), nb.close()]);
  });
});

describe("tracker updates from lifecycle events", () => {
  const base = {
    pr_id: 7,
    repo: "acme/gitops",
    branch: "feature/x",
    trace_id: "trace-1",
    blueprint_id: "b",
    component_scope: "orders",
    commit_hash: "abc1234",
    created_by: AGENT_NAME,
    timestamp: "2026-01-01T00:00:00Z",
  } as const;

  it("an event without an issue means nothing to the tracker", () => {
    const created = { event: "PullRequestCreated", ...base, issue_id: null } as LifecycleEvent;
    expect(trackerUpdates(created)).toEqual([]);
  });

  it("a created PR that needs a senior approval is opened and awaits the named approvers", () => {
    const created = { event: "PullRequestCreated", ...base, issue_id: "BVL-9" } as LifecycleEvent;
    const updates = trackerUpdates(created, {
      pr_url: pr.url,
      pr_title: "t",
      requires: "senior_approval",
      approvers: ["sre-leads"],
    });
    expect(updates.map((u) => u.moment)).toEqual(["opened", "awaiting_approval"]);
    expect(updates[1]).toMatchObject({ requires: "senior_approval", approvers: ["sre-leads"], pr: { url: pr.url } });
  });

  it("a merged revert does not move the issue to its merged state", () => {
    const merged = {
      event: "PullRequestMerged",
      pr_id: 9,
      repo: "acme/gitops",
      branch: "revert-7",
      trace_id: "trace-1",
      issue_id: "BVL-9",
      merge_commit: null,
      auto_merged: true,
      risk: "low",
      created_by: AGENT_NAME,
      timestamp: "2026-01-01T00:00:00Z",
    } as LifecycleEvent;
    expect(trackerUpdates(merged, { pr_title: "revert(orders): roll back PR 7 [trace:1]" })).toEqual([]);
    expect(trackerUpdates(merged, { pr_title: "fix(orders): grow the volume [trace:1]" })).toHaveLength(1);
  });

  it("a rollback is a problem of the original PR, naming the revert", () => {
    const rollback = {
      event: "PullRequestRollbackCreated",
      pr_id: 9,
      original_pr_id: 7,
      repo: "acme/gitops",
      branch: "revert-7",
      trace_id: "trace-1",
      issue_id: "BVL-9",
      reason: "pods crash-loop",
      created_by: AGENT_NAME,
      timestamp: "2026-01-01T00:00:00Z",
    } as LifecycleEvent;
    expect(trackerUpdates(rollback, { revert_url: "https://example.test/pr/9" })).toEqual([
      expect.objectContaining({
        moment: "problem",
        what: "rolled_back",
        reason: "pods crash-loop",
        pr: expect.objectContaining({ id: 7 }),
        revert: expect.objectContaining({ id: 9, url: "https://example.test/pr/9" }),
      }),
    ]);
  });
});
