/** Shared builders for the tests: policies, commits, changed files, trace records, PR facts, run results and events. */
import { NO_USAGE } from "../../src/agent/state.js";
import type { ChangeSet, ChangedFile, ChangeType, CommitInfo, FileTexts } from "../../src/domain/commit.js";
import { diffTexts } from "../../src/digest/hunks.js";
import { PolicySchema, type Policy } from "../../src/domain/policy.js";
import type { Draft, PrFacts } from "../../src/domain/pull-request.js";
import type { RunResult } from "../../src/domain/run-result.js";
import type { TraceRecord } from "../../src/domain/trace.js";

/** A policy through the real schema, so defaults and refinements apply. */
export function makePolicy(input: Record<string, unknown> = {}): Policy {
  return PolicySchema.parse(input);
}

export function file(
  path: string,
  change: ChangeType = "added",
  opts: Partial<Omit<ChangedFile, "path" | "change">> = {},
): ChangedFile {
  return {
    path,
    change,
    additions: opts.additions ?? 10,
    deletions: opts.deletions ?? 0,
    binary: opts.binary ?? false,
    ...(opts.old_path ? { old_path: opts.old_path } : {}),
  };
}

let hashCounter = 0;

/** A deterministic 40-character hex hash (distinct per seed) that always contains a digit and a letter. */
export function fakeHash(seed?: number): string {
  const n = seed ?? ++hashCounter;
  const core = ((n * 2654435761) % 2 ** 32).toString(16).padStart(8, "0");
  return `${core}c0ffee`.padEnd(40, "ab12").slice(0, 40);
}

export function commit(subject: string, opts: Partial<Omit<CommitInfo, "subject">> = {}): CommitInfo {
  const hash = opts.hash ?? fakeHash();
  return {
    hash,
    short_hash: opts.short_hash ?? hash.slice(0, 7),
    subject,
    body: opts.body ?? "",
    author: opts.author ?? { name: "code-committer-agent", email: "agent@example.org" },
    authored_at: opts.authored_at ?? "2025-05-07T19:05:33Z",
    parents: opts.parents ?? [fakeHash(999_999)],
  };
}

export function changeSet(
  commits: CommitInfo[],
  files: ChangedFile[],
  opts: Partial<Pick<ChangeSet, "base" | "range">> = {},
): ChangeSet {
  return {
    commits,
    files,
    base: opts.base === undefined ? null : opts.base,
    range: opts.range ?? "commit",
    additions: files.reduce((s, f) => s + f.additions, 0),
    deletions: files.reduce((s, f) => s + f.deletions, 0),
  };
}

// ---- The seed's worked example -------------------------------------------------------------------

/**
 * Changed files with the before and after texts given per path (null: absent on that side), with line counts
 * and patches as a forge gives them.
 */
export function changedTexts(paths: Record<string, [string | null, string | null]>): {
  files: ChangedFile[];
  texts: Map<string, FileTexts>;
} {
  const files: ChangedFile[] = [];
  const texts = new Map<string, FileTexts>();
  for (const [path, [before, after]] of Object.entries(paths)) {
    const set = diffTexts(before, after)!;
    const change = before === null ? "added" : after === null ? "deleted" : "modified";
    files.push({
      ...file(path, change),
      additions: set.additions,
      deletions: set.deletions,
      patch: set.hunks.map((h) => `${h.header}\n${h.lines.join("\n")}\n`).join(""),
    });
    texts.set(path, { before, after });
  }
  return { files, texts };
}

export const SEED_TRACE_ID = "trace-ord-8128";
export const SEED_HASH = "9fbc871e4b2a6c3d5f708192a3b4c5d6e7f80912";
export const SEED_SUBJECT = "feat(order): implement CreateOrderHandler [trace:ord-8128]";
export const SEED_HANDLER = "src/Application/Handlers/CreateOrderHandler.cs";
export const SEED_TESTS = "tests/Order/CreateOrderHandlerTests.cs";

export function seedTrace(overrides: Partial<TraceRecord> = {}): TraceRecord {
  return {
    trace_id: SEED_TRACE_ID,
    blueprint_id: "usecase-create-order",
    blueprint_name: "Create Order",
    component_scope: "Order",
    description: "Customers place an order from a validated cart; the order is persisted.",
    linked_files: [SEED_HANDLER],
    scope_paths: [],
    ...overrides,
  };
}

export function seedCommit(overrides: Partial<CommitInfo> = {}): CommitInfo {
  return commit(overrides.subject ?? SEED_SUBJECT, { hash: SEED_HASH, short_hash: "9fbc871", ...overrides });
}

export function seedFiles(): ChangedFile[] {
  return [file(SEED_HANDLER, "added", { additions: 42 }), file(SEED_TESTS, "added", { additions: 30 })];
}

export interface FactsOptions {
  repo?: string;
  source_branch?: string;
  target_branch?: string;
  trace?: Partial<TraceRecord>;
  commits?: CommitInfo[];
  files?: ChangedFile[];
  base?: string | null;
}

/** The seed's facts: OrderService, feature/order-handler → dev, commit 9fbc871 adding the handler and its tests. */
export function makeFacts(opts: FactsOptions = {}): PrFacts {
  return {
    repo: opts.repo ?? "OrderService",
    source_branch: opts.source_branch ?? "feature/order-handler",
    target_branch: opts.target_branch ?? "dev",
    trace: seedTrace(opts.trace ?? {}),
    changes: changeSet(opts.commits ?? [seedCommit()], opts.files ?? seedFiles(), { base: opts.base ?? null }),
  };
}

export function makeDraft(overrides: Partial<Draft> = {}): Draft {
  return {
    type: "feat",
    summary: "implement CreateOrderHandler",
    purpose: "Implement CreateOrderHandler, as defined in blueprint `usecase-create-order` (Create Order).",
    highlights: [],
    ...overrides,
  };
}

/** The seed's `.pr-template.md`, verbatim. */
export const SEED_REPO_TEMPLATE = `### Description
\${commit_summary}

### Related Trace
- Trace ID: \${trace_id}
- Blueprint: \${blueprint_name}
- Scope: \${component_scope}

### Changed Files
\${file_table}

### Checklist
- [x] Code builds
- [x] Blueprint linked
- [ ] Tests attached
`;

// ---- Run results and events -----------------------------------------------------------------------

/** A created PR (Azure DevOps 3123, the seed's handler), low risk, no model usage, no merge outcome. */
export function runResult(overrides: Partial<RunResult> = {}): RunResult {
  return {
    status: "created",
    pr: {
      id: 3123,
      url: "https://dev.azure.com/acme/shop/_git/OrderService/pullrequest/3123",
      title: "feat(Order): implement CreateOrderHandler [trace:trace-ord-8128]",
      description: "body",
      source_branch: "feature/order-handler",
      target_branch: "dev",
      reviewers: [],
      labels: [],
      is_draft: false,
      auto_complete: false,
      risk: { level: "low", reasons: [] },
      checklist: [],
    },
    violations: [],
    events: [],
    drafted_by: "model",
    truncation: null,
    warnings: [],
    undelivered: 0,
    usage: NO_USAGE,
    rounds: [],
    approvals: [],
    memory: { earlier_prs: [], recalled: [], possible_duplicates: [], unavailable: null },
    merge: null,
    ...overrides,
  };
}

/** A ChangeRequested event from agent-sre: grow the orders PVC in the gitops repo. */
export function changeRequest(overrides: Record<string, unknown> = {}) {
  return {
    event: "ChangeRequested",
    change_id: "4711",
    change_type: "pvc-size",
    repo: "gitops",
    base_branch: "main",
    summary: "increase orders-data PVC to 20Gi",
    edits: [{ path: "deploy/orders/pvc.yaml", set: { "spec.resources.requests.storage": "20Gi" } }],
    context: { alert: "PVC filling up", remediation: "grow it", impact: "orders only" },
    agent: "agent-sre",
    timestamp: "2026-01-08T10:00:00Z",
    ...overrides,
  };
}
