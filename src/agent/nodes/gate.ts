import { PrCreatorError } from "../../domain/errors.js";
import type { PrFacts } from "../../domain/pull-request.js";
import { assemblePullRequest } from "../../render/assemble.js";
import { unknownVariables } from "../../render/template.js";
import { runGate } from "../../validate/gate.js";
import type { AgentDeps } from "../deps.js";
import { withHint } from "../hints.js";
import type { AgentStateType, AgentUpdate } from "../state.js";

export const REPO_TEMPLATE = ".pr-template.md";

async function bodyTemplate(deps: AgentDeps, commit: string): Promise<string> {
  if (!deps.policy.body.use_repo_template || !deps.commitSource.readFile) return deps.template;
  const own = await deps.commitSource.readFile(commit, REPO_TEMPLATE);
  if (own === null || own.trim() === "") return deps.template;
  const unknown = unknownVariables(own);
  if (unknown.length > 0) {
    throw new PrCreatorError("invalid_config", `The repository's ${REPO_TEMPLATE} uses unknown variable${unknown.length > 1 ? "s" : ""} ${unknown.map((u) => `\${${u}}`).join(", ")}.`, {
      hint: "Use only the variables the README lists, or set body.use_repo_template: false in the config.",
    });
  }
  return own;
}

/** Assembles title and body from facts and prose, then runs every content rule on the result. */
export function makeGate(deps: AgentDeps) {
  return async function gate(state: AgentStateType): Promise<AgentUpdate> {
    const event = state.event!;
    const changes = state.changes!;
    const facts: PrFacts = { repo: event.repo, source_branch: event.branch, target_branch: state.target_branch!, trace: state.trace!, changes };
    const template = await bodyTemplate(deps, changes.commits[changes.commits.length - 1]!.hash);
    const { pr, truncation } = assemblePullRequest(facts, state.prose!, template, deps.policy);
    const violations = runGate(pr.title, pr.description, facts, deps.policy);
    if (violations.length === 0) return { pr, truncation, violations: [] };
    const message = `The drafted PR breaks ${violations.length} content rule${violations.length > 1 ? "s" : ""}: ${violations.map((v) => v.message).join("; ")}.`;
    return { pr, truncation, violations, failure: { reason: "validation_failed", message: withHint("validation_failed", message), attempts: 0 } };
  };
}
