import { PrCreatorError } from "../../domain/errors.js";
import type { Violation } from "../../domain/violations.js";
import { planPullRequest } from "../../policy/plan.js";
import { assemblePullRequest } from "../../render/assemble.js";
import { mergeRepoTemplate } from "../../render/repo-template.js";
import { unknownVariables } from "../../render/template.js";
import { runGate } from "../../validate/gate.js";
import { validateAgainstPlan } from "../../validate/contradictions.js";
import { factsCorpus, knownIdentifiers, validateIdentifiers } from "../../validate/identifiers.js";
import { validateProse } from "../../validate/prose.js";
import type { AgentDeps } from "../deps.js";
import { factsOf } from "../facts.js";
import { failure } from "../failure.js";
import { NO_USAGE, type AgentStateType, type AgentUpdate } from "../state.js";

export const REPO_TEMPLATE = ".pr-template.md";

async function bodyTemplate(deps: AgentDeps, commit: string): Promise<string> {
  if (!deps.policy.body.use_repo_template || !deps.commitSource.readFile) return deps.template;
  const own = await deps.commitSource.readFile(commit, REPO_TEMPLATE);
  if (own === null || own.trim() === "") return deps.template;
  const unknown = unknownVariables(own);
  if (unknown.length > 0) {
    throw new PrCreatorError(
      "invalid_config",
      `The repository's ${REPO_TEMPLATE} uses unknown variable${unknown.length > 1 ? "s" : ""} ${unknown.map((u) => `\${${u}}`).join(", ")}.`,
      {
        hint: "Use only the variables the README lists, or set body.use_repo_template: false in the config.",
      },
    );
  }
  return own;
}

/**
 * The forge's PR template of the repository (read by the plan node) combined with our template, as
 * body.repo_pr_template says; its text, inert, may take at most a quarter of the body.
 */
function withForgeTemplate(deps: AgentDeps, template: string, state: AgentStateType): string {
  const mode = deps.policy.body.repo_pr_template;
  const repo = state.conventions?.pr_template;
  if (mode === "ignore" || !repo) return template;
  return mergeRepoTemplate(template, repo.text, {
    mode,
    aliases: deps.policy.body.required_sections.map((s) => s.split("|").map((n) => n.trim())),
    maxChars: Math.floor(deps.policy.body.max_length / 4),
    allowedHosts: deps.policy.prose.allowed_link_hosts,
  });
}

const brief = (violations: readonly Violation[]) => violations.map(({ code, message }) => ({ code, message }));

/**
 * Assembles title and body from facts and prose, then runs every rule on the result. A model draft that
 * breaks a rule goes back for repair, or to the deterministic drafter once `model.max_repairs` rounds are
 * used; a deterministic draft that breaks one is a failure, since nothing could fix it.
 */
export function makeGate(deps: AgentDeps) {
  return async function gate(state: AgentStateType): Promise<AgentUpdate> {
    const facts = factsOf(state);
    const round = state.rounds.length + 1;
    const drafted_by = state.drafted_by!;
    let update: AgentUpdate = {};
    let violations: Violation[] = state.draft_violations;
    if (state.prose) {
      const template = withForgeTemplate(
        deps,
        await bodyTemplate(deps, facts.changes.commits[facts.changes.commits.length - 1]!.hash),
        state,
      );
      const plan = state.plan ?? planPullRequest(facts, deps.policy);
      const { pr, truncation } = assemblePullRequest(facts, state.prose, template, deps.policy, plan);
      // Prose rules judge what the model wrote; deterministic prose only quotes the (already inert) commits and digest.
      const prose =
        drafted_by === "model"
          ? [
              ...validateProse(state.prose, deps.policy),
              ...validateAgainstPlan(state.prose, plan, facts.target_branch),
              ...validateIdentifiers(state.prose, knownIdentifiers(factsCorpus(facts))),
            ]
          : [];
      // What the repository's template names (CONTRIBUTING.md, …) is quoted input, not a claim about the change.
      const quoted = state.conventions?.pr_template ? [state.conventions.pr_template.text] : [];
      violations = [...prose, ...runGate(pr.title, pr.description, facts, deps.policy, quoted)].filter(
        (v) => !deps.disabledRules?.has(v.code),
      );
      update = { pr, truncation };
    }
    const rounds = [{ round, drafted_by, violations: brief(violations) }];
    if (violations.length === 0) return { ...update, violations: [], rounds };
    if (drafted_by === "model") {
      if (state.repairs < deps.policy.model.max_repairs) {
        return {
          ...update,
          violations,
          rounds,
          repair_feedback: violations,
          repairs: state.repairs + 1,
          usage: { ...NO_USAGE, repairs: 1 },
        };
      }
      return { ...update, violations, rounds, fallback: true };
    }
    const message = `The drafted PR breaks ${violations.length} content rule${violations.length > 1 ? "s" : ""}: ${violations.map((v) => v.message).join("; ")}.`;
    return {
      ...update,
      violations,
      rounds,
      failure: failure("validation_failed", message),
    };
  };
}
