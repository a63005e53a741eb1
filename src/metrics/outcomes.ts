/** The closed sets of outcomes that metrics, the PR history ledger and the report share. */

/** How a run ended for its PR: written to the forge (created, updated), already so (unchanged), dry run (previewed), or not (failed). */
export const GENERATION_STATUSES = ["created", "updated", "unchanged", "previewed", "failed"] as const;
export type GenerationStatus = (typeof GENERATION_STATUSES)[number];

/** The statuses whose title and body are on the forge: template compliance is measured over these. */
export const PUBLISHED_STATUSES = ["created", "updated", "unchanged"] as const satisfies readonly GenerationStatus[];

export const RISK_LEVELS = ["low", "medium", "high"] as const;
export type RiskLevel = (typeof RISK_LEVELS)[number];

export const DRAFTERS = ["model", "deterministic", "fallback"] as const;
export type DraftedBy = (typeof DRAFTERS)[number];

export const CI_RESULTS = ["succeeded", "failed"] as const;
export type CiResult = (typeof CI_RESULTS)[number];

/** A merge attempt's outcome; `blocked` means policy or checks stopped it, `failed` that the forge refused or erred. */
export const MERGE_RESULTS = ["merged", "blocked", "failed"] as const;
export type MergeResult = (typeof MERGE_RESULTS)[number];

/** Auto-merge as the metrics count it: also when it is switched on (auto-complete set), before the forge merges. */
export const AUTO_MERGE_RESULTS = ["enabled", ...MERGE_RESULTS] as const;
export type AutoMergeResult = (typeof AUTO_MERGE_RESULTS)[number];

export const ROLLBACK_RESULTS = ["created", "merged", "failed"] as const;
export type RollbackResult = (typeof ROLLBACK_RESULTS)[number];

export const GATE_RESULTS = ["passed", "failed"] as const;
export type GateResult = (typeof GATE_RESULTS)[number];
