import { validateSize } from "../../validate/limits.js";
import type { AgentDeps } from "../deps.js";
import { failure } from "../failure.js";
import type { AgentStateType, AgentUpdate } from "../state.js";

/** The change must exist and stay within the PR size policy. */
export function makeCheckLimits(deps: AgentDeps) {
  return async function checkLimits(state: AgentStateType): Promise<AgentUpdate> {
    const changes = state.changes!;
    if (changes.files.length === 0) {
      const message = `Commit ${state.event!.commit_hash} changes no files compared with ${changes.base ?? "the empty tree"}.`;
      return {
        violations: [{ code: "no_changes", where: "commit", message: "the change is empty" }],
        failure: failure("no_changes", message),
      };
    }
    const violations = validateSize(changes, deps.policy);
    if (changes.line_counts === "unavailable") {
      return {
        warnings: [
          "The commit source reports no line counts, so limits.max_changed_lines was not checked; pass --repo-path for exact counts.",
        ],
      };
    }
    if (violations.length === 0) return {};
    const message = `The PR is too large: ${violations.map((v) => v.message).join("; ")}.`;
    return { violations, failure: failure("pr_too_large", message) };
  };
}
