import { draftDeterministically } from "../deterministic-drafter.js";
import type { AgentDeps } from "../deps.js";
import { factsOf } from "../facts.js";
import { buildDraftMessages, draftWithModel } from "../model-drafter.js";
import { NO_USAGE, type AgentStateType, type AgentUpdate } from "../state.js";
import { errorText } from "../../domain/errors.js";

/**
 * Writes the PR's prose: the model when one is configured (with the gate's violations as repair input from
 * the second round on), else — or once the model may not try again — the deterministic drafter.
 */
export function makeDraft(deps: AgentDeps) {
  return async function draft(state: AgentStateType): Promise<AgentUpdate> {
    const facts = factsOf(state);
    const plan = state.plan ?? undefined;
    const deterministic = () => draftDeterministically(facts, deps.policy, plan);
    if (!deps.model) return { prose: deterministic(), drafted_by: "deterministic", draft_violations: [] };
    if (state.fallback)
      return {
        prose: deterministic(),
        drafted_by: "fallback",
        draft_violations: [],
        usage: { ...NO_USAGE, fallbacks: 1 },
      };

    const repair =
      state.repairs > 0 ? { previousAnswer: state.last_answer, violations: state.repair_feedback } : undefined;
    const messages = buildDraftMessages(facts, deps.policy, state.style_examples, repair, plan, deps.prompts?.texts);
    try {
      const result = await draftWithModel(deps.model, messages, deps.policy);
      return {
        prose: result.draft,
        drafted_by: "model",
        draft_violations: result.violations,
        last_answer: result.answer,
        usage: { ...NO_USAGE, model_calls: 1, ...result.usage },
      };
    } catch (error) {
      // The client already retried timeouts, 429 and 5xx: the model is down, so the run must not wait on it.
      const why = errorText(error);
      return {
        prose: deterministic(),
        drafted_by: "fallback",
        draft_violations: [],
        fallback: true,
        usage: { ...NO_USAGE, model_calls: 1, fallbacks: 1 },
        warnings: [`The model failed (${why.slice(0, 300)}); the deterministic drafter wrote the prose.`],
      };
    }
  };
}
