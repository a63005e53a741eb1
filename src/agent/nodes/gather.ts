import type { PrRecord } from "../../memory/store.js";
import type { AgentDeps } from "../deps.js";
import { digestRun, holdDigest, startDigest } from "../digest-change.js";
import { memoryWarning } from "../memory-use.js";
import type { AgentStateType, AgentUpdate } from "../state.js";

/**
 * Reads the commit(s) from the commit source and, at the same time, the trace's earlier PRs from memory (the
 * audit chain) — before the forge is asked anything. The change digest is started here and taken by plan_pr:
 * the changed files are read and parsed (off the main thread) while the trace and limits are checked.
 */
export function makeGather(deps: AgentDeps) {
  return async function gather(state: AgentStateType): Promise<AgentUpdate> {
    const event = state.event!;
    // The publisher's open-PR look-up needs nothing from the change: start it now, beside the commit read.
    deps.publisher.prefetch?.(event.repo, { source_branch: event.branch, target_branch: state.target_branch! });
    const history: Promise<{ earlier_prs?: PrRecord[]; memory_unavailable?: string; warnings?: string[] }> = deps.memory
      ? deps.memory.chain(event.trace_id).then(
          (earlier_prs) => ({ earlier_prs }),
          (error: unknown) => {
            const warning = memoryWarning(error);
            return { memory_unavailable: warning, warnings: [warning] };
          },
        )
      : Promise.resolve({});
    // A change request's changes are already known: the agent made the commit itself.
    const loaded =
      state.changes ??
      (await deps.commitSource.load({
        repo: event.repo,
        branch: event.branch,
        commit: event.commit_hash,
        target_branch: state.target_branch!,
        range: deps.policy.pr.commit_range,
        // A forge publisher's create fails with branch_not_found; a preview has no create to tell.
        branch_checked_later: deps.publisher.kind !== "dry-run",
      }));
    const pending = startDigest(deps.commitSource, loaded, deps.policy);
    holdDigest(deps, digestRun(state), pending.outcome);
    // The size limits need line counts: a source without them (Azure DevOps) waits for the texts, not the parse.
    const changes = loaded.line_counts === "unavailable" ? await pending.changes : loaded;
    const earlier = await history;
    return { ...earlier, changes, digest: null };
  };
}
