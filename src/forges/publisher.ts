import type { PullRequestSpec, ReviewerAssignment } from "../domain/pull-request.js";

export interface PublishResult {
  status: "previewed" | "created" | "updated" | "unchanged";
  /** The forge's PR id; null for a preview. */
  id: number | string | null;
  url: string | null;
  /** Problems that did not stop publishing (a reviewer that could not be resolved). */
  warnings?: string[];
  /** Reviewers the policy asked for that are not on the PR: no identity resolved, or the forge refused them. */
  unresolved_reviewers?: string[];
}

/** Port: where a finished PR goes. Forge adapters create or update it; the dry-run one only previews. */
export interface Publisher {
  readonly kind: "dry-run" | "azure-devops" | "github";
  /** `trace_id` tells our own open PR (to update) from someone else's (never taken over). */
  publish(repo: string, traceId: string, pr: PullRequestSpec): Promise<PublishResult>;
  /**
   * Starts the look-ups `publish` will make — the open PR of a branch pair, the reviewers' identities — so
   * they overlap with reading the change and drafting instead of waiting until publishing. Never throws;
   * `publish` uses a fresh result once and looks up again when the early one failed or is old.
   */
  prefetch?(
    repo: string,
    pair: { source_branch: string; target_branch: string },
    reviewers?: readonly ReviewerAssignment[],
  ): void;
}

/** The embedded default: validates nothing further, writes nothing, and says so. */
export function createDryRunPublisher(): Publisher {
  return {
    kind: "dry-run",
    publish: async () => ({ status: "previewed", id: null, url: null }),
  };
}
