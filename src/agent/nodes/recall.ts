import type { AgentDeps } from "../deps.js";
import { factsOf } from "../facts.js";
import { hit, memoryWarning, styleExample } from "../memory-use.js";
import type { AgentStateType, AgentUpdate } from "../state.js";
import { recordKey } from "../../memory/store.js";

/**
 * Finds earlier PRs like this change (same scope first) to offer the model as style examples. Memory that
 * fails makes the run degrade, not fail: the examples are skipped and the result says why.
 */
export function makeRecall(deps: AgentDeps) {
  return async function recall(state: AgentStateType): Promise<AgentUpdate> {
    const k = deps.policy.memory.recall_k;
    if (!deps.memory || k === 0 || state.memory_unavailable) return {};
    const facts = factsOf(state);
    const text = [
      facts.trace.blueprint_name ?? facts.trace.blueprint_id,
      facts.trace.description ?? "",
      ...facts.changes.commits.map((c) => `${c.subject}\n${c.body}`),
      ...facts.changes.files.slice(0, 50).map((f) => f.path),
    ].join("\n");
    try {
      const found = await deps.memory.recall({
        text,
        k,
        repo: facts.repo,
        component_scope: facts.trace.component_scope,
        exclude_key: recordKey({
          repo: facts.repo,
          pr_id: null,
          source_branch: facts.source_branch,
          target_branch: facts.target_branch,
        }),
      });
      // Our own earlier PR for this branch pair is not an example of someone else's phrasing.
      const others = found.filter(
        (s) => !(s.record.source_branch === facts.source_branch && s.record.target_branch === facts.target_branch),
      );
      return { style_examples: others.map((s) => styleExample(s.record)), recalled: others.map(hit) };
    } catch (error) {
      const warning = memoryWarning(error);
      return { memory_unavailable: warning, warnings: [warning] };
    }
  };
}
