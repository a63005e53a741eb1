import type { BaseChatModel } from "@langchain/core/language_models/chat_models";
import type { CommitSource } from "../domain/commit.js";
import type { LifecycleEvent } from "../domain/events.js";
import type { Policy } from "../domain/policy.js";
import type { ViolationCode } from "../domain/violations.js";
import type { Forge } from "../forges/forge.js";
import type { Publisher } from "../forges/publisher.js";
import type { Ledger } from "../merge/ledger.js";
import type { PendingRecords } from "../memory/pending.js";
import type { PrMemory } from "../memory/pr-memory.js";
import type { TraceRegistry } from "../policy/trace-registry.js";
import type { TrackerNotifier } from "../trackers/notify.js";
import type { PromptSet } from "../prompts/prompts.js";

/** What the graph's nodes need from the outside world. Passed in, never imported, so tests swap any of it. */
export interface AgentDeps {
  policy: Policy;
  /** The body template from policy (inline or file), used when the repository has no `.pr-template.md`. */
  template: string;
  traceRegistry: TraceRegistry | null;
  /** Names the registry in messages (a file path, or "built-in"). */
  traceRegistrySource: string;
  commitSource: CommitSource;
  publisher: Publisher;
  /** The forge behind the publisher, for change requests, merging and rollbacks; null without one. */
  forge: Forge | null;
  /** Delivers one lifecycle event to every configured sink. */
  emit: (event: LifecycleEvent) => Promise<void>;
  now: () => Date;
  /** The drafting model; null drafts deterministically. */
  model: BaseChatModel | null;
  /** Long-term memory of PRs; null when memory is off. */
  memory: PrMemory | null;
  /** Where records wait when memory cannot take them. */
  pending: PendingRecords | null;
  /** Metrics and the PR history ledger. */
  ledger: Ledger;
  /** The issue tracker that follows every PR (the track node); null or absent when `tracker: none`. */
  tracker?: TrackerNotifier | null;
  /** Follow an auto-merging PR's checks and merge to the end before the run returns. */
  watch: boolean;
  /** The model's prompts (policy `prompts.dir` over the built-in ones); default the built-in set. */
  prompts?: PromptSet;
  /** Gate rules switched off — for eval ablations that prove each rule catches something; never in production. */
  disabledRules?: ReadonlySet<ViolationCode>;
}
