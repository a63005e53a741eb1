import type { ChangeSet } from "../domain/commit.js";
import type { Policy } from "../domain/policy.js";
import type { Violation } from "../domain/violations.js";

/** The seed's PR size rule: at most `limits.max_changed_lines` added plus deleted lines (binary files count 0). */
export function validateSize(changes: ChangeSet, policy: Policy): Violation[] {
  if (changes.line_counts === "unavailable") return [];
  const lines = changes.additions + changes.deletions;
  const max = policy.limits.max_changed_lines;
  if (lines <= max) return [];
  return [
    {
      code: "pr_too_large",
      where: "commit",
      message: `the change has ${lines} changed lines in ${changes.files.length} file${changes.files.length === 1 ? "" : "s"}; the limit is ${max}`,
    },
  ];
}
