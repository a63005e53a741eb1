/**
 * Alerts for repeated failures: after `alerts.consecutive_failures` failed runs in a row for one repository
 * (or, when the repository is unknown, one trace), one `PullRequestAlert` goes to the event sinks with the
 * failures' reasons. One alert per streak; a run that publishes a PR (Created, Updated, ReadyForReview) for
 * that repository ends the streak, and the next streak alerts again.
 *
 * The decision (`nextStreak`) is pure; where streaks are kept is a `StreakStore`: the SQLite state file by
 * default (failure-streak-store.ts), the shared database when one is configured (src/postgres/failure-streaks.ts).
 *
 * An alert is never lost to a crash: the store keeps it as pending in the same transaction that marks the streak
 * alerted, leased to the process that raised it, and forgets it once that process has handed it to the sinks.
 * Should the process die in between, the lease runs out and the next process to record any streak outcome
 * takes the alert over and sends it (so an alert may go out twice, never zero times). One alert per streak still
 * holds: the streak is marked alerted in that transaction, so no other failure raises a second one.
 */
import {
  AGENT_NAME,
  type AlertedFailure,
  type LifecycleEvent,
  PullRequestAlertSchema,
  type PullRequestAlert,
  type PullRequestFailed,
} from "../domain/events.js";
import { errorText } from "../domain/errors.js";
import type { EventSink } from "./sinks.js";

/** One key's streak: failures in a row, whether it was alerted, and the latest failures (oldest first). */
export interface Streak {
  count: number;
  alerted: boolean;
  recent: AlertedFailure[];
}

export const NO_STREAK: Streak = { count: 0, alerted: false, recent: [] };

/** At most this many failures are kept (and sent) per streak, whatever the threshold. */
export const MAX_RECENT = 20;

/** How long the process that took a pending alert has to hand it to the sinks before another may take it over. */
export const ALERT_LEASE_MS = 10 * 60_000;

/** An alert raised and not yet handed to the sinks, by its id in the store. */
export interface PendingAlert {
  id: string;
  alert: PullRequestAlert;
}

export type RunOutcome = { kind: "failure"; failure: AlertedFailure } | { kind: "success" };

/**
 * The streak after one run, and whether it raises the alert now. A failure extends it; the alert is raised
 * once, when the count reaches `threshold` (0: never). A success clears it.
 */
export function nextStreak(
  current: Streak,
  outcome: RunOutcome,
  threshold: number,
): { streak: Streak; alert: boolean } {
  if (outcome.kind === "success") return { streak: NO_STREAK, alert: false };
  const count = current.count + 1;
  const keep = Math.min(Math.max(threshold, 1), MAX_RECENT);
  const recent = [...current.recent, outcome.failure].slice(-keep);
  const alert = threshold > 0 && !current.alerted && count >= threshold;
  return { streak: { count, alerted: current.alerted || alert, recent }, alert };
}

/** Which streak an event belongs to and what it says about its run; null for events that say neither. */
export function outcomeOf(event: LifecycleEvent): { key: string; outcome: RunOutcome } | null {
  switch (event.event) {
    case "PullRequestFailed": {
      // A refused event's repository and trace are untrusted text, not known to exist: they key no streak.
      if (event.reason === "invalid_event") return null;
      const key = streakKey(event);
      if (key === null) return null;
      const { reason, message, trace_id, branch, timestamp } = event;
      return { key, outcome: { kind: "failure", failure: { reason, message, trace_id, branch, timestamp } } };
    }
    case "PullRequestCreated":
    case "PullRequestUpdated":
    case "PullRequestReadyForReview":
      return { key: `repo:${event.repo}`, outcome: { kind: "success" } };
    default:
      return null;
  }
}

function streakKey(event: PullRequestFailed): string | null {
  if (event.repo) return `repo:${event.repo}`;
  if (event.trace_id) return `trace:${event.trace_id}`;
  return null;
}

/** The alert for a streak that just reached the threshold. */
export function buildAlert(key: string, streak: Streak, issueId: string | null, now: Date): PullRequestAlert {
  const repo = key.startsWith("repo:") ? key.slice("repo:".length) : null;
  const last = streak.recent[streak.recent.length - 1];
  const traceId = key.startsWith("trace:") ? key.slice("trace:".length) : (last?.trace_id ?? null);
  const reasons = [...new Set(streak.recent.map((f) => f.reason))];
  return {
    event: "PullRequestAlert",
    repo,
    trace_id: traceId,
    issue_id: issueId,
    consecutive_failures: streak.count,
    failures: streak.recent,
    message: `${streak.count} runs in a row failed for ${repo ? `repository ${repo}` : `trace ${traceId}`} (${reasons.join(", ")}); the latest: ${last?.message ?? "unknown"}`,
    created_by: AGENT_NAME,
    timestamp: now.toISOString(),
  };
}

/** A stored pending alert read back; null when it is not one (written by another version, or by hand): left alone. */
export function readPendingAlert(id: string, json: string): PendingAlert | null {
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch {
    return null;
  }
  const parsed = PullRequestAlertSchema.safeParse(value);
  return parsed.success ? { id, alert: parsed.data } : null;
}

/** Where streaks, and the alerts they raised until they are sent, are kept. */
export interface StreakStore {
  /**
   * In one transaction: reads `key`'s streak, applies `step`, stores the streak it returns and, as pending, the
   * alert it raises; and takes over the pending alerts whose lease ran out (their process died before sending).
   * Resolves to the alerts the caller must now send and then mark `sent`, oldest first, each leased to it for
   * ALERT_LEASE_MS. A success for a key with no streak writes no streak.
   */
  update(
    key: string,
    step: (current: Streak) => { streak: Streak; alert: PullRequestAlert | null },
  ): Promise<PendingAlert[]>;
  /** The alert was handed to the sinks (whatever each did with it): it is no longer pending. */
  sent(id: string): Promise<void>;
  close(): Promise<void>;
}

export interface FailureAlertOptions {
  /** `alerts.consecutive_failures`; 0 turns alerts off (and no streak is kept). */
  threshold: number;
  /** Opened on first use, so runs that never fail or succeed do not touch the state file. */
  store: () => StreakStore;
  now: () => Date;
}

export interface FailureAlerts {
  /** Delivers an event, then counts it (and alerts) as described above. */
  emit: EventSink;
  /** Closes the store, if it was opened. */
  close(): Promise<void>;
}

/**
 * A sink that delivers each event through `emit`, then counts it towards its streak and, when a streak
 * reaches the threshold, delivers one PullRequestAlert through `emit` too, with any alert a dead process left
 * pending. A streak that cannot be recorded never stops the event: the error says the event went out and why
 * the streak did not.
 */
export function withFailureAlerts(emit: EventSink, options: FailureAlertOptions): FailureAlerts {
  let store: StreakStore | undefined;
  if (options.threshold <= 0) return { emit, close: async () => undefined };
  const deliver: EventSink = async (event) => {
    const delivered = await emit(event).then(
      () => null,
      (error: unknown) => ({ error }),
    );
    const seen = outcomeOf(event);
    if (!seen) {
      if (delivered) throw delivered.error;
      return;
    }
    let due: PendingAlert[];
    let opened: StreakStore;
    try {
      opened = store ??= options.store();
      due = await opened.update(seen.key, (current) => {
        const next = nextStreak(current, seen.outcome, options.threshold);
        const issueId = event.event === "PullRequestFailed" ? event.issue_id : null;
        return {
          streak: next.streak,
          alert: next.alert ? buildAlert(seen.key, next.streak, issueId, options.now()) : null,
        };
      });
    } catch (error) {
      if (delivered) throw delivered.error;
      throw new Error(`${event.event} went out, but the failure streak could not be recorded: ${errorText(error)}`, {
        cause: error,
      });
    }
    // An alert goes out even when the event did not (the outbox keeps both for their sinks). Once `emit` has
    // settled the sinks have it (or the outbox keeps it for them): sending it again would repeat it on the sinks
    // that took it, so it stops being pending either way.
    let problem: { error: unknown } | null = null;
    for (const pending of due) {
      const alerted = await emit(pending.alert).then(
        () => null,
        (error: unknown) => ({ error }),
      );
      problem ??= alerted;
      try {
        await opened.sent(pending.id);
      } catch (error) {
        problem ??= {
          error: new Error(
            `PullRequestAlert for ${pending.alert.repo ?? pending.alert.trace_id} went out, but could not be marked sent, so it may go out again: ${errorText(error)}`,
            { cause: error },
          ),
        };
      }
    }
    if (delivered) throw delivered.error;
    if (problem) throw problem.error;
  };
  return { emit: deliver, close: async () => store?.close() };
}
