import { recordKey } from "../../memory/store.js";
import type { AgentDeps } from "../deps.js";
import { hit, memoryWarning } from "../memory-use.js";
import type { AgentStateType, AgentUpdate } from "../state.js";

/**
 * Flags a PR whose text is nearly identical to an earlier PR of the same scope on another branch pair:
 * a label on the PR and an entry in the result, so a person can close one of them.
 */
export function makeDedupe(deps: AgentDeps) {
  return async function dedupe(state: AgentStateType): Promise<AgentUpdate> {
    if (!deps.memory || state.memory_unavailable) return {};
    const pr = state.pr!;
    const event = state.event!;
    const own = (r: { source_branch: string; target_branch: string }) =>
      r.source_branch === pr.source_branch && r.target_branch === pr.target_branch;
    try {
      const best = await deps.memory.nearest(`${pr.title}\n${proseText(state)}`, {
        component_scope: state.trace!.component_scope,
        exclude_key: recordKey({
          repo: event.repo,
          pr_id: null,
          source_branch: pr.source_branch,
          target_branch: pr.target_branch,
        }),
      });
      if (!best || own(best.record) || best.score < deps.policy.memory.duplicate_threshold) return {};
      const label = deps.policy.memory.duplicate_label;
      const labels = label && !pr.labels.includes(label) ? [...pr.labels, label] : pr.labels;
      return {
        pr: { ...pr, labels },
        possible_duplicates: [hit(best)],
        warnings: [
          `This PR is nearly identical (similarity ${best.score.toFixed(3)}) to "${best.record.title}"${best.record.url ? ` (${best.record.url})` : ""}.`,
        ],
      };
    } catch (error) {
      const warning = memoryWarning(error);
      return { memory_unavailable: warning, warnings: [warning] };
    }
  };
}

/** The prose remembered and compared: summary, purpose and highlights. */
export function proseText(state: AgentStateType): string {
  const p = state.prose!;
  return [p.summary, p.purpose, ...p.highlights].join("\n");
}
