import { PrCreatorError } from "../domain/errors.js";
import { describeSetting } from "../domain/input-names.js";
import { TRACKER_KINDS, type Policy } from "../domain/policy.js";
import type { Forge } from "../forges/forge.js";
import { createAzureBoardsTracker } from "./azure-boards.js";
import { createGitHubIssuesTracker } from "./github-issues.js";
import { createLinearTracker } from "./linear.js";
import type { Tracker, TrackerKind } from "./tracker.js";

export interface TrackerDeps {
  /** Values that must never appear in a message (tokens), for describing a bad setting. */
  secrets?: readonly string[];
  /** The configured forge: GitHub issues and Azure Boards use its client and token. */
  forge?: Forge | null;
}

/** The tracker kind in force: env PR_CREATOR_TRACKER, else `tracker:` in the policy. */
export function trackerKind(
  policy: Policy,
  env: Readonly<Record<string, string | undefined>>,
  deps: TrackerDeps = {},
): TrackerKind | "none" {
  const value = env.PR_CREATOR_TRACKER?.trim();
  if (!value) return policy.tracker;
  if (!(TRACKER_KINDS as readonly string[]).includes(value)) {
    throw new PrCreatorError(
      "invalid_config",
      `${describeSetting("PR_CREATOR_TRACKER", value, deps.secrets ?? [])}; expected one of ${TRACKER_KINDS.join(", ")}.`,
      { hint: "Fix or unset the variable." },
    );
  }
  return value as TrackerKind | "none";
}

/**
 * The issue tracker the policy and environment ask for; null for `none` (the default). Throws a
 * PrCreatorError (invalid_config) for a tracker that lacks its settings (a missing API key, a bad URL).
 */
export function createTracker(
  policy: Policy,
  env: Readonly<Record<string, string | undefined>>,
  deps: TrackerDeps = {},
): Tracker | null {
  const kind = trackerKind(policy, env, deps);
  switch (kind) {
    case "none":
      return null;
    case "linear":
      return createLinearTracker(policy, env);
    case "azure-boards":
      return createAzureBoardsTracker(policy, deps.forge);
    case "github":
      return createGitHubIssuesTracker(policy, deps.forge);
  }
}
