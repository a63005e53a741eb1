import type { LifecycleEvent } from "../domain/events.js";
import type { Policy } from "../domain/policy.js";
import type { Forge } from "../forges/forge.js";
import type { Logger } from "../logging/run-log.js";
import { createTracker } from "../trackers/create-tracker.js";
import { createTrackerNotifier, type TrackerNotifier } from "../trackers/notify.js";
import type { TrackerOutbox } from "../trackers/outbox.js";
import { trackerUpdates } from "../trackers/updates.js";

export interface Tracking {
  /** For the graph's track node; null when `tracker: none`. */
  notifier: TrackerNotifier | null;
  /**
   * `emit` for events sent outside a run — `watch`, `rollback`, the MCP tools: the event goes to the sinks,
   * then to the tracker (the PR's address looked up on the forge). A tracker problem is logged as a warning;
   * it never makes the emit fail, and the update waits in the tracker outbox.
   */
  emitting(emit: (event: LifecycleEvent) => Promise<void>): (event: LifecycleEvent) => Promise<void>;
  close(): Promise<void>;
}

/** The tracker the policy and environment ask for, and how events reach it. Throws invalid_config for bad settings. */
export function createTracking(options: {
  policy: Policy;
  env: Readonly<Record<string, string | undefined>>;
  stateFile: string;
  /** The shared database's tracker outbox; the state file's when not given. */
  trackerOutbox?: () => TrackerOutbox;
  forge: Forge | null;
  logger: Logger;
  secrets: readonly string[];
  now?: () => Date;
}): Tracking {
  const tracker = createTracker(options.policy, options.env, { secrets: options.secrets, forge: options.forge });
  const notifier = tracker
    ? createTrackerNotifier({
        tracker,
        retry: options.policy.retry_policy,
        stateFile: options.stateFile,
        ...(options.trackerOutbox ? { outbox: options.trackerOutbox } : {}),
        now: options.now,
      })
    : null;
  const { forge, logger } = options;

  const pullRequest = async (repo: string, id: number | string) => {
    if (!forge || !Number.isInteger(Number(id))) return null;
    // Only for the link's address and title: a forge that cannot say leaves them out.
    return forge.getPullRequest(repo, Number(id)).catch(() => null);
  };

  const track = async (event: LifecycleEvent): Promise<void> => {
    if (!notifier || !("issue_id" in event) || !event.issue_id || !("pr_id" in event)) return;
    const rollback = event.event === "PullRequestRollbackCreated";
    const [pr, revert] = await Promise.all([
      pullRequest(event.repo, rollback ? event.original_pr_id : event.pr_id),
      rollback ? pullRequest(event.repo, event.pr_id) : null,
    ]);
    const updates = trackerUpdates(event, {
      pr_url: pr?.url ?? null,
      pr_title: pr?.title ?? null,
      revert_url: revert?.url ?? null,
      revert_title: revert?.title ?? null,
    });
    for (const warning of await notifier.send(updates)) logger.warn({ tracker: notifier.kind, warning }, "tracker");
  };

  return {
    notifier,
    emitting: (emit) => async (event) => {
      try {
        await emit(event);
      } finally {
        await track(event);
      }
    },
    close: async () => notifier?.close(),
  };
}
