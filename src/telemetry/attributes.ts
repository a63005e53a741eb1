/**
 * Span attribute names. Standard names come from the OpenTelemetry semantic conventions (error, VCS, GenAI);
 * ours are under `pr_creator.`. The VCS and GenAI names are still "development" conventions, so they are
 * spelled here rather than imported from the package's unstable entry point (its advice for such names).
 */
export const ATTR = {
  errorType: "error.type",
  agentName: "gen_ai.agent.name",
  repository: "vcs.repository.name",
  headRef: "vcs.ref.head.name",
  baseRef: "vcs.ref.base.name",
  changeId: "vcs.change.id",
  vcsProvider: "vcs.provider.name",
  traceId: "pr_creator.trace_id",
  executionId: "pr_creator.execution_id",
  componentScope: "pr_creator.component_scope",
  status: "pr_creator.status",
  outcome: "pr_creator.outcome",
  durationMs: "pr_creator.duration_ms",
  draftedBy: "pr_creator.drafted_by",
  round: "pr_creator.draft.round",
  rounds: "pr_creator.draft.rounds",
  violations: "pr_creator.violations",
  truncated: "pr_creator.truncated",
  operation: "pr_creator.forge.operation",
  promptsVersion: "pr_creator.prompts.version",
  node: "pr_creator.node",
} as const;

/** GenAI semantic conventions for one model call. */
export const GEN_AI = {
  operationName: "gen_ai.operation.name",
  providerName: "gen_ai.provider.name",
  /** The older name of gen_ai.provider.name, still read by many back ends. */
  system: "gen_ai.system",
  requestModel: "gen_ai.request.model",
  responseModel: "gen_ai.response.model",
  inputTokens: "gen_ai.usage.input_tokens",
  outputTokens: "gen_ai.usage.output_tokens",
  finishReasons: "gen_ai.response.finish_reasons",
  temperature: "gen_ai.request.temperature",
} as const;

/** vcs.provider.name: the convention's value for GitHub; Azure DevOps has none yet, so ours. */
export const VCS_PROVIDER = { github: "github", "azure-devops": "azure_devops" } as const;
