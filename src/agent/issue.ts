import type { IssueRefs } from "../domain/pull-request.js";
import { canonicalIssueId, resolveIssueRefs } from "../policy/issue-refs.js";
import type { AgentDeps } from "./deps.js";
import type { AgentStateType } from "./state.js";

function text(input: unknown, key: string): string | null {
  if (typeof input !== "object" || input === null) return null;
  const value = (input as Record<string, unknown>)[key];
  return typeof value === "string" && value.trim() !== "" ? value : null;
}

const strict = (id: string | null) => (id === null ? null : canonicalIssueId(id));

/**
 * The run's issue from whatever it knows so far: the plan node's answer once there is one, else the event
 * (validated, or as far as it was readable when intake refused it), the commits read, the branch and the trace.
 */
export function issueOf(state: AgentStateType, deps: Pick<AgentDeps, "policy" | "publisher">): IssueRefs {
  if (state.issue) return state.issue;
  const cr = state.change_request;
  const event = state.event;
  // An event intake refused is still read for its ids, each checked by the same strict patterns.
  const raw = state.input;
  const workItems = event?.work_item_ids ?? cr?.work_item_ids;
  return resolveIssueRefs(
    {
      // Unvalidated, it counts only in one of the strict forms (a key, #N, AB#N).
      issue_id: event?.issue_id ?? cr?.issue_id ?? (event || cr ? null : strict(text(raw, "issue_id"))),
      work_item_ids: workItems ?? [],
      messages: (state.changes?.commits ?? []).map((c) => (c.body ? `${c.subject}\n\n${c.body}` : c.subject)),
      branch: event?.branch ?? state.change_branch ?? text(raw, "branch"),
      trace_issue_id: state.trace?.issue_id ?? null,
      forge: deps.publisher.kind,
    },
    deps.policy.issues,
  );
}
