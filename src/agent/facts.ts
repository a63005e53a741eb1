import type { PrFacts } from "../domain/pull-request.js";
import type { AgentStateType } from "./state.js";

/** The facts every drafting step shares, once gather and check_trace have filled them in. */
export function factsOf(state: AgentStateType): PrFacts {
  const cr = state.change_request;
  return {
    repo: state.event!.repo,
    source_branch: state.event!.branch,
    target_branch: state.target_branch!,
    trace: state.trace!,
    changes: state.changes!,
    digest: state.digest,
    issue: state.issue,
    ...(cr
      ? {
          change: {
            change_type: cr.change_type,
            change_id: (cr.change_id ?? cr.issue_id)!,
            issue_id: cr.issue_id ?? null,
            issue_url: cr.context.issue_url ?? null,
            alert: cr.context.alert,
            remediation: cr.context.remediation,
            impact: cr.context.impact,
            namespace: cr.context.namespace ?? null,
            runbook_url: cr.context.runbook_url ?? null,
            yaml_checked: state.change_yaml?.checked ?? 0,
            yaml_invalid: state.change_yaml?.invalid ?? [],
          },
        }
      : {}),
  };
}
