import type { PullRequestSpec } from "../domain/pull-request.js";

export interface PublishResult {
  status: "previewed" | "created" | "updated" | "unchanged";
  /** The forge's PR id; null for a preview. */
  id: number | string | null;
  url: string | null;
}

/** Port: where a finished PR goes. Forge adapters create or update it; the dry-run one only previews. */
export interface Publisher {
  readonly kind: string;
  publish(repo: string, pr: PullRequestSpec): Promise<PublishResult>;
}

/** The embedded default: validates nothing further, writes nothing, and says so. */
export function createDryRunPublisher(): Publisher {
  return {
    kind: "dry-run",
    publish: async () => ({ status: "previewed", id: null, url: null }),
  };
}
