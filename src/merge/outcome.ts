import type { CheckRun } from "../forges/forge.js";

/**
 * What the agent did about merging a published PR. `not_requested`: the plan needs people (review or a
 * senior approval); `enabled`: the forge merges once CI is green; `merged`: it is merged; `blocked`: a check
 * failed or the forge refused; `pending`: still waiting when the watch ended; `previewed`: a dry run.
 */
export interface MergeOutcome {
  requires: "none" | "review" | "senior_approval";
  status: "previewed" | "not_requested" | "enabled" | "merged" | "blocked" | "pending" | "failed";
  message: string;
  failed_checks: string[];
  checks: CheckRun[];
  merge_commit: string | null;
  /** Observed: PR published → every check settled, and checks settled → merged (when watched). */
  ci_ms: number | null;
  merge_ms: number | null;
}
