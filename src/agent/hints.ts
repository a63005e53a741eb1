import type { FailureReason } from "../domain/reasons.js";

/** How to fix each failure, appended to its message so every error is one actionable paragraph. */
const HINTS: Partial<Record<FailureReason, string>> = {
  invalid_event:
    'Send a CommitCompleted event {"event":"CommitCompleted","trace_id","commit_hash","repo","branch","agent","timestamp"} or a ChangeRequested event (see the README for both).',
  edit_not_applicable:
    "Check the change request's edits against the file on the base branch: the path, the key path and the document selector.",
  missing_trace:
    'Add the trace to the registry (--traces FILE or trace_registry in the config) or send its metadata in the event\'s "trace" field.',
  trace_violation:
    "Check that the event names the trace (and blueprint) the commits belong to; if the listed files really belong to this trace, add them to its linked_files or scope_paths.",
  branch_policy_violation:
    "Push the commit to a branch with an allowed prefix (branch_rules.allowed_prefixes), or change the policy.",
  forbidden_branch: "Create the PR from a branch that branch_rules.forbidden does not list.",
  target_mismatch:
    "Leave target_branch out of the event to use the policy's target, or change branch_rules.target_branch_map.",
  pr_too_large: "Split the change into smaller PRs, or raise limits.max_changed_lines in the config.",
  no_changes: "The commit changes no files; there is nothing to review.",
  validation_failed:
    "The assembled PR breaks the content rules listed above; if a custom template is in use, check it has every required section.",
  internal_error: "This is a bug in pr-creator; run again with --debug and report the output.",
};

const OUTAGE =
  "The forge kept failing after every retry: send the event again once it recovers (re-runs are safe: they update the same PR, never open a second one), or open the PR by hand.";

/** Server errors, rate limits and unreachable forges are outages: the fallback is a later re-run or a person. */
function isOutage(reason: FailureReason): boolean {
  return reason === "forge_unreachable" || /^(azure_devops|github)_(5\d\d|429)$/.test(reason);
}

export function withHint(reason: FailureReason, message: string): string {
  const hint = HINTS[reason] ?? (isOutage(reason) ? OUTAGE : undefined);
  return hint ? `${message} ${hint}` : message;
}
