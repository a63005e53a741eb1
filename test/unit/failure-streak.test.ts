import { describe, expect, it } from "vitest";
import { AGENT_NAME, PullRequestAlertSchema, type LifecycleEvent } from "../../src/domain/events.js";
import {
  MAX_RECENT,
  NO_STREAK,
  nextStreak,
  outcomeOf,
  withFailureAlerts,
  type RunOutcome,
  type Streak,
  type StreakStore,
} from "../../src/events/failure-streak.js";

const failure = (n: number): RunOutcome => ({
  kind: "failure",
  failure: {
    reason: "missing_trace",
    message: `run ${n} failed`,
    trace_id: `trace-ord-${n}`,
    branch: "feature/x",
    timestamp: "2026-01-08T10:00:00Z",
  },
});
const success: RunOutcome = { kind: "success" };

/** Runs outcomes through nextStreak; returns after which runs (1-based) an alert was raised. */
function alertsAfter(outcomes: RunOutcome[], threshold: number): number[] {
  let streak: Streak = NO_STREAK;
  const alerts: number[] = [];
  outcomes.forEach((outcome, i) => {
    const next = nextStreak(streak, outcome, threshold);
    streak = next.streak;
    if (next.alert) alerts.push(i + 1);
  });
  return alerts;
}

describe("nextStreak", () => {
  it("alerts once, on the third failure in a row", () => {
    expect(alertsAfter([failure(1), failure(2), failure(3), failure(4), failure(5)], 3)).toEqual([3]);
  });

  it("a success clears the streak, and the next streak alerts again", () => {
    const runs = [failure(1), failure(2), success, failure(3), failure(4), failure(5), success];
    runs.push(failure(6), failure(7), failure(8));
    expect(alertsAfter(runs, 3)).toEqual([6, 10]);
  });

  it("never alerts with a threshold of 0, and at once with 1", () => {
    expect(alertsAfter([failure(1), failure(2), failure(3)], 0)).toEqual([]);
    expect(alertsAfter([failure(1), failure(2), success, failure(3)], 1)).toEqual([1, 4]);
  });

  it("keeps the latest failures only, oldest first", () => {
    let streak = NO_STREAK;
    for (let n = 1; n <= 5; n++) streak = nextStreak(streak, failure(n), 3).streak;
    expect(streak.count).toBe(5);
    expect(streak.recent.map((f) => f.message)).toEqual(["run 3 failed", "run 4 failed", "run 5 failed"]);
    for (let n = 6; n <= 100; n++) streak = nextStreak(streak, failure(n), 1000).streak;
    expect(streak.recent).toHaveLength(MAX_RECENT);
  });
});

const failedEvent = (repo: string | null, trace: string | null, n = 1): LifecycleEvent => ({
  event: "PullRequestFailed",
  reason: "missing_trace",
  message: `run ${n} failed`,
  trace_id: trace,
  repo,
  branch: null,
  attempted_branch: null,
  commit_hash: null,
  attempts: 0,
  violations: [],
  issue_id: "BVL-232",
  created_by: AGENT_NAME,
  timestamp: "2026-01-08T10:00:00Z",
});

describe("outcomeOf", () => {
  it("keys failures by repository, else by trace, and ignores events that say nothing of a run", () => {
    expect(outcomeOf(failedEvent("OrderService", "t-1"))?.key).toBe("repo:OrderService");
    expect(outcomeOf(failedEvent(null, "t-1"))?.key).toBe("trace:t-1");
    expect(outcomeOf(failedEvent(null, null))).toBeNull();
    expect(outcomeOf({ ...failedEvent("../../etc", "t-1"), reason: "invalid_event" } as LifecycleEvent)).toBeNull();
    expect(
      outcomeOf({
        event: "PullRequestMergeBlocked",
        pr_id: 1,
        repo: "OrderService",
        branch: "b",
        trace_id: "t",
        issue_id: null,
        failed_checks: [],
        message: "",
        created_by: AGENT_NAME,
        timestamp: "",
      }),
    ).toBeNull();
  });
});

/** A store in memory, as a port of the state file table would behave. */
function memoryStore(): StreakStore & { rows: Map<string, Streak> } {
  const rows = new Map<string, Streak>();
  return {
    rows,
    async update(key, step) {
      const { streak, alert } = step(rows.get(key) ?? NO_STREAK);
      rows.set(key, streak);
      return alert ? [{ id: key, alert }] : [];
    },
    async sent() {},
    async close() {},
  };
}

describe("withFailureAlerts", () => {
  it("delivers the event first, then the alert with the failures' reasons; a store failure does not stop the event", async () => {
    const sent: LifecycleEvent[] = [];
    const store = memoryStore();
    const alerts = withFailureAlerts(async (e) => void sent.push(e), {
      threshold: 2,
      store: () => store,
      now: () => new Date("2026-01-08T11:00:00Z"),
    });
    await alerts.emit(failedEvent("OrderService", "t-1", 1));
    await alerts.emit(failedEvent("OrderService", "t-2", 2));
    expect(sent.map((e) => e.event)).toEqual(["PullRequestFailed", "PullRequestFailed", "PullRequestAlert"]);
    const alert = PullRequestAlertSchema.parse(sent[2]);
    expect(alert).toMatchObject({
      repo: "OrderService",
      trace_id: "t-2",
      issue_id: "BVL-232",
      consecutive_failures: 2,
      timestamp: "2026-01-08T11:00:00.000Z",
    });
    expect(alert.failures.map((f) => f.message)).toEqual(["run 1 failed", "run 2 failed"]);
    expect(alert.message).toContain("missing_trace");

    const broken = withFailureAlerts(async (e) => void sent.push(e), {
      threshold: 2,
      store: () => {
        throw new Error("disk full");
      },
      now: () => new Date(),
    });
    await expect(broken.emit(failedEvent("OrderService", "t-3"))).rejects.toThrow(
      /PullRequestFailed went out, but the failure streak could not be recorded: disk full/,
    );
    expect(sent.at(-1)?.event).toBe("PullRequestFailed");
  });

  it("sends the alert even when the failure itself was not delivered", async () => {
    const sent: string[] = [];
    const alerts = withFailureAlerts(
      async (e) => {
        if (e.event === "PullRequestFailed") throw new Error("sink down");
        sent.push(e.event);
      },
      { threshold: 1, store: () => memoryStore(), now: () => new Date() },
    );
    await expect(alerts.emit(failedEvent("OrderService", "t-1"))).rejects.toThrow("sink down");
    expect(sent).toEqual(["PullRequestAlert"]);
  });
});
