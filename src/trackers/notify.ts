/**
 * Sends tracker updates without ever holding up a PR: each is tried under the retry policy; one the tracker
 * still does not take becomes a warning and waits in the tracker outbox (the state file, or the shared database
 * when one is configured), and the next run
 * sends it before its own updates. Updates of one issue keep their order: while one waits, later ones of the
 * same issue wait behind it. Sending twice is harmless (adapters look up before writing), and a row leaves
 * the outbox once sent, so a waiting update reaches the tracker exactly once.
 */
import { existsSync } from "node:fs";
import { errorText } from "../domain/errors.js";
import { withRetry, type RetryPolicy } from "../net/retry.js";
import { openTrackerOutbox, type TrackerOutbox } from "./outbox.js";
import { updateKey, type Tracker, type TrackerKind, type TrackerUpdate } from "./tracker.js";

export interface TrackerNotifier {
  readonly kind: TrackerKind;
  /** Sends what waits in the outbox, then `updates`; resolves to warnings and never rejects. */
  send(updates: readonly TrackerUpdate[]): Promise<string[]>;
  /** Sends what waits in the outbox; resolves to warnings and never rejects. */
  flush(): Promise<string[]>;
  /** Waits for sends under way, then releases the state file. */
  close(): Promise<void>;
}

export interface TrackerNotifierOptions {
  tracker: Tracker;
  retry: RetryPolicy;
  /** Where the outbox lives; null keeps none (an update the tracker refuses is then lost, with a warning). */
  stateFile: string | null;
  /** The shared database's outbox, which takes the state file's place when given. */
  outbox?: () => TrackerOutbox;
  now?: () => Date;
  /** The wait between attempts (tests make it instant). */
  sleep?: (ms: number) => Promise<void>;
}

/** Longer than any send takes: a run that dies mid-send leaves rows that become due again after this. */
const LEASE_MS = 10 * 60_000;
/** A tracker asking for a longer wait is not waited for: the update goes to the outbox. */
const MAX_DELAY_MS = 30_000;
/**
 * Runs that may try a waiting update before it is dropped (with a warning): enough to outlast an outage or a
 * config fix, but an issue that does not exist or a key without access must not warn on every run forever.
 */
export const MAX_OUTBOX_ATTEMPTS = 10;
/**
 * After an issue's update failed (retries and all), its waiting updates are not tried again by this process for
 * this long: a run's second tracking step, or the next runs of a busy server, would only wait out the same
 * retries against a tracker that is down.
 */
const REST_MS = 30_000;

function describe(update: TrackerUpdate): string {
  const pr = update.pr ? ` PR ${update.pr.id}` : "";
  const what = update.moment === "problem" ? update.what.replace("_", " ") : update.moment.replace("_", " ");
  return `${update.issue_id} (${what}${pr})`;
}

/** Drops repeats (same issue, PR and moment) within one batch; the last one wins. */
function distinct(updates: readonly TrackerUpdate[]): TrackerUpdate[] {
  const byKey = new Map<string, TrackerUpdate>();
  for (const update of updates) {
    const key = updateKey(update);
    byKey.delete(key);
    byKey.set(key, update);
  }
  return [...byKey.values()];
}

export function createTrackerNotifier(options: TrackerNotifierOptions): TrackerNotifier {
  const { tracker } = options;
  const name = tracker.kind === "linear" ? "Linear" : tracker.kind;
  let outbox: TrackerOutbox | undefined;
  let closed = false;
  const inFlight = new Set<Promise<unknown>>();
  const now = options.now ?? (() => new Date());
  /** Issue id → until when its waiting updates are left alone. */
  const resting = new Map<string, number>();
  const rest = (issueId: string) => resting.set(issueId, now().getTime() + REST_MS);

  const box = (create: boolean): TrackerOutbox | null => {
    if (outbox) return outbox;
    if (options.outbox) {
      outbox = options.outbox();
      return outbox;
    }
    if (options.stateFile === null) return null;
    if (!create && !existsSync(options.stateFile)) return null;
    outbox = openTrackerOutbox(options.stateFile, { now: options.now });
    return outbox;
  };

  const attempt = (update: TrackerUpdate) =>
    withRetry(
      () => tracker.apply(update),
      options.retry,
      (error) => tracker.classify(error),
      {
        sleep: options.sleep,
        maxDelayMs: MAX_DELAY_MS,
      },
    );

  /** Keeps an update for the next run; returns the warning. */
  const keep = async (update: TrackerUpdate, problem: string): Promise<string> => {
    const head = `${name} did not take the update for ${describe(update)}: ${problem}`;
    try {
      const kept = box(true);
      if (!kept) return `${head}. The tracker outbox is off (no state file), so it is not sent again.`;
      await kept.add(update, problem);
      return `${head}. It waits in the tracker outbox in ${kept.where} and is sent again by the next run.`;
    } catch (error) {
      return `${head}. It could not be kept in the tracker outbox (${errorText(error)}), so it is not sent again.`;
    }
  };

  const flushOnce = async (): Promise<string[]> => {
    let kept: TrackerOutbox | null;
    try {
      kept = box(false);
    } catch (error) {
      return [`The tracker outbox could not be read (${errorText(error)}); waiting updates are sent by a later run.`];
    }
    if (!kept) return [];
    const rows = await kept.claim(LEASE_MS);
    const stuck = new Set<string>();
    const warnings: string[] = [];
    for (const row of rows) {
      if ((resting.get(row.issueId) ?? 0) > now().getTime()) {
        await kept.release(row.id);
        continue;
      }
      if (stuck.has(row.issueId) || row.update === null) {
        // Behind an update of the same issue that failed just now, or unreadable: left for a later run.
        await kept.failed(row.id, row.problem ?? row.lastError ?? "waits behind an earlier update of the same issue");
        if (row.update === null) warnings.push(`A tracker outbox row (${row.key}) is unreadable: ${row.problem}.`);
        continue;
      }
      try {
        await attempt(row.update);
        await kept.done(row.id);
      } catch (error) {
        stuck.add(row.issueId);
        rest(row.issueId);
        if (row.attempts + 1 >= MAX_OUTBOX_ATTEMPTS) {
          await kept.done(row.id);
          warnings.push(
            `${name} did not take the update for ${describe(row.update)} in ${MAX_OUTBOX_ATTEMPTS} tries (${errorText(error)}); it is dropped from the tracker outbox.`,
          );
          continue;
        }
        await kept.failed(row.id, errorText(error));
        warnings.push(
          `${name} still does not take the waiting update for ${describe(row.update)} (${errorText(error)}); it stays in the tracker outbox in ${kept.where}.`,
        );
      }
    }
    return warnings;
  };

  const sendOnce = async (updates: readonly TrackerUpdate[]): Promise<string[]> => {
    const warnings = await flushOnce();
    for (const update of distinct(updates)) {
      let behind = false;
      try {
        behind = (await box(false)?.waiting(update.issue_id)) ?? false;
      } catch {
        behind = false;
      }
      if (behind) {
        warnings.push(await keep(update, "an earlier update of the issue has not been sent yet"));
        continue;
      }
      try {
        await attempt(update);
      } catch (error) {
        rest(update.issue_id);
        warnings.push(await keep(update, errorText(error)));
      }
    }
    return warnings;
  };

  const track = <T>(work: () => Promise<T>): Promise<T> => {
    if (closed) return Promise.reject(new Error("The tracker notifier is closed."));
    const promise = work();
    inFlight.add(promise);
    void promise.catch(() => undefined).finally(() => inFlight.delete(promise));
    return promise;
  };

  const safely = async (work: () => Promise<string[]>): Promise<string[]> => {
    try {
      return await track(work);
    } catch (error) {
      return [`The ${name} tracker could not be updated: ${errorText(error)}.`];
    }
  };

  return {
    kind: tracker.kind,
    send: (updates) => safely(() => sendOnce(updates)),
    flush: () => safely(() => flushOnce()),
    async close() {
      closed = true;
      await Promise.allSettled([...inFlight]);
      await outbox?.close();
    },
  };
}
