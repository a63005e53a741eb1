/**
 * Runs the dataset through the real agent and scores it. Commit and change cases run in dry-run against a
 * local git fixture (no forge); github cases run against the loopback GitHub emulator (forge failures,
 * idempotency). The drafter depends on the mode: deterministic, a scripted adversarial model, or a real model.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import type { BaseChatModel } from "@langchain/core/language_models/chat_models";
import { createAgent, type AgentOptions } from "../src/agent/create-agent.js";
import { createChatModel } from "../src/agent/model.js";
import type { RunResult } from "../src/agent/run.js";
import { PrCreatorError } from "../src/domain/errors.js";
import { PolicySchema, type Policy } from "../src/domain/policy.js";
import { createInMemoryTraceRegistry } from "../src/policy/trace-registry.js";
import { TRACE_ID_PATTERN } from "../src/policy/trace-ids.js";
import { startGitHubEmulator, type FaultRoute, type GitHubEmulator } from "../test/emulators/github.js";
import { startOpenAiChatEmulator } from "../test/emulators/openai-chat.js";
import { BAD_KINDS, EXPECTED_CODES, PLANTED, goodProse, scriptFor, type BadKind } from "./adversarial.js";
import { loadCases, type LoadedCase } from "./cases.js";
import { buildFixture } from "./fixture.js";
import type { Expect } from "./schema.js";

export type Mode = "deterministic" | "adversarial" | "model";
export const MODES: readonly Mode[] = ["deterministic", "adversarial", "model"];
type Env = Record<string, string | undefined>;

const NOW = new Date("2025-05-07T19:10:00.000Z");
const GH_REPO = "acme/OrderService";
const GH_TOKEN = "ghp_evalTokenValue000000";
const GH_BRANCH = "feature/order-handler";
const ghSha = (n: number) => n.toString(16).padStart(40, "a");
const SHIPPED = new Set(["previewed", "created", "updated", "unchanged"]);

export interface DraftCheck {
  kind: BadKind | "good";
  /** The gate (or the parser) found something wrong with it. */
  rejected: boolean;
  codes: string[];
  /**
   * The case's deterministic PR passes the gate, so a verdict on this draft is about the draft alone. Not so
   * where the template itself breaks the rules: every draft fails there, good or bad, and says nothing.
   */
  graded: boolean;
}

export interface CaseResult {
  id: string;
  category: string;
  kind: LoadedCase["kind"];
  /** Every expectation held. */
  passed: boolean;
  mismatches: string[];
  status: string;
  reason: string | null;
  title: string | null;
  drafted_by: string | null;
  /** The PR shipped (previewed or published). */
  shipped: boolean;
  /** For shipped PRs: the independent template check found nothing. */
  compliant: boolean | null;
  compliance_problems: string[];
  /** Facts in a shipped PR that the input does not support. */
  faithfulness_violations: string[];
  /** Adversarial mode: each scripted draft the gate saw, in order. */
  drafts: DraftCheck[];
  fallback: boolean;
  usage: RunResult["usage"];
  ms: number;
}

export interface Scores {
  cases: number;
  passed: number;
  decision_accuracy: number;
  shipped: number;
  compliance_rate: number | null;
  faithfulness_violations: number;
  bad_drafts: number;
  bad_drafts_caught: number;
  gate_recall: number | null;
  good_drafts: number;
  good_drafts_passed: number;
  gate_precision: number | null;
  /** Per PR that reached drafting. */
  drafted: number;
  repairs_per_pr: number;
  fallbacks_per_pr: number;
  model_calls_per_pr: number;
  tokens_per_pr: number;
}

export interface ThresholdCheck {
  metric: string;
  value: number | null;
  threshold: string;
  met: boolean;
}

export interface KindScore {
  kind: BadKind;
  drafts: number;
  caught: number;
  /** Caught with the violation code that names the defect. */
  named: number;
}

export interface EvalReport {
  mode: Mode;
  /** Set when the mode could not run (model mode without a configured model). */
  skipped: string | null;
  filter: string | null;
  drafter: string;
  started_at: string;
  duration_ms: number;
  scores: Scores;
  thresholds: ThresholdCheck[];
  passed: boolean;
  by_category: { category: string; cases: number; passed: number }[];
  by_kind: KindScore[];
  cases: CaseResult[];
}

export interface EvalOptions {
  mode: Mode;
  /** Only cases whose id, category or description contains this text (case-insensitive). */
  filter?: string;
  concurrency?: number;
  casesDir?: string;
  /** The environment model mode reads its model from (default process.env). */
  env?: Env;
  onCase?: (result: CaseResult) => void;
}

/** Plain objects merge key by key; anything else (arrays too) replaces. */
function deepMerge(base: Record<string, unknown>, over: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base };
  for (const [k, v] of Object.entries(over)) {
    const b = out[k];
    const plain = (x: unknown): x is Record<string, unknown> =>
      typeof x === "object" && x !== null && !Array.isArray(x);
    out[k] = plain(b) && plain(v) ? deepMerge(b, v) : v;
  }
  return out;
}

interface World {
  repoPath: string | null;
  event: Record<string, unknown>;
  before: Record<string, unknown>[];
  /** Every commit hash the PR may name. */
  hashes: string[];
  /** The trace id the PR must carry. */
  traceId: string;
  env: Env;
  policy: Record<string, unknown>;
  close: () => Promise<void>;
}

async function shortHash(repo: Awaited<ReturnType<typeof buildFixture>>, ref: string): Promise<string> {
  return (await repo.git("rev-parse", "--short=7", ref)).trim();
}

async function localWorld(c: LoadedCase, dir: string): Promise<World> {
  const repo = await buildFixture(dir, c.steps);
  const current = (await repo.git("rev-parse", "--abbrev-ref", "HEAD")).trim();
  const eventFor = async (
    over: Record<string, unknown>,
    commit: string | undefined,
  ): Promise<Record<string, unknown>> => {
    if (c.kind === "change") {
      const base = {
        event: "ChangeRequested",
        repo: "gitops",
        base_branch: "main",
        agent: "agent-sre",
        timestamp: "2026-01-08T10:00:00Z",
        context: {
          alert: "PersistentVolumeFillingUp: orders-data is 91% full",
          remediation: "Increase the PVC size",
          impact: "Single namespace (orders)",
        },
      };
      return deepMerge(base, over);
    }
    const event = deepMerge(
      {
        event: "CommitCompleted",
        trace_id: "trace-ord-8128",
        repo: "OrderService",
        branch: current,
        agent: "code-committer-agent",
        timestamp: "2025-05-07T19:05:33Z",
      },
      over,
    );
    if (event.commit_hash === undefined) {
      const ref = commit ?? String(event.branch);
      event.commit_hash = await shortHash(repo, ref).catch(() => shortHash(repo, "HEAD"));
    }
    return event;
  };
  const event = await eventFor(c.event, c.commit);
  for (const key of c.omit) delete event[key];
  const hashes = (await repo.git("rev-list", "--all")).split("\n").filter(Boolean);
  const changeTrace = `trace-${String(event.change_type)}-${String(event.change_id ?? event.issue_id)}`;
  return {
    repoPath: repo.path,
    event,
    before: await Promise.all(c.before.map((b) => eventFor(b.event, b.commit))),
    hashes,
    traceId: typeof event.trace_id === "string" ? event.trace_id : changeTrace,
    env: {},
    policy: {},
    close: async () => undefined,
  };
}

/** A port nothing listens on: the forge is down. */
async function deadUrl(): Promise<string> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return `http://127.0.0.1:${port}`;
}

async function githubWorld(c: LoadedCase): Promise<World> {
  const world = c.github!;
  const gh: GitHubEmulator = await startGitHubEmulator({ token: GH_TOKEN });
  const author = { name: "code-committer-agent", email: "cc@agents.local", date: "2025-05-07T19:05:33Z" };
  const files = world.files ?? [
    {
      filename: "src/Application/Handlers/CreateOrderHandler.cs",
      status: "added" as const,
      additions: 12,
      deletions: 0,
    },
    { filename: "tests/Order/CreateOrderHandlerTests.cs", status: "added" as const, additions: 14, deletions: 0 },
  ];
  gh.seedRepo(GH_REPO, {
    default_branch: "main",
    branches: { main: ghSha(1), dev: ghSha(2), [GH_BRANCH]: ghSha(1001) },
    commits: {
      [ghSha(1)]: {
        message: "chore: scaffold",
        author,
        parents: [],
        files: [{ filename: "README.md", status: "added", additions: 3, deletions: 0 }],
      },
      [ghSha(2)]: {
        message: "feat(order): add OrderId [trace:ord-8128]",
        author,
        parents: [ghSha(1)],
        files: [{ filename: "src/Domain/OrderId.cs", status: "added", additions: 4, deletions: 0 }],
      },
      [ghSha(1001)]: { message: world.message, author, parents: [ghSha(2)], files },
    },
  });
  gh.addUser("TechLeadAgent");
  gh.addUser("QAAssistantAgent");
  if (world.foreign_pr) {
    const res = await fetch(`${gh.url}/repos/${GH_REPO}/pulls`, {
      method: "POST",
      headers: { authorization: `token ${GH_TOKEN}`, "content-type": "application/json" },
      body: JSON.stringify({ title: "WIP: order handler", head: GH_BRANCH, base: "dev", body: "Opened by hand." }),
    });
    if (!res.ok) throw new Error(`the emulator refused the foreign PR: ${res.status}`);
  }
  for (const f of world.faults) {
    gh.inject(
      f.route as FaultRoute,
      f.reset ? { reset: true } : { status: f.status ?? 500, body: { message: `Emulated ${f.status ?? 500}` } },
      f.times,
    );
  }
  const event = {
    event: "CommitCompleted",
    trace_id: "trace-ord-8128",
    commit_hash: ghSha(1001),
    repo: GH_REPO,
    branch: GH_BRANCH,
    agent: "code-committer-agent",
    timestamp: "2025-05-07T19:05:33Z",
    ...c.event,
  };
  for (const key of c.omit) delete (event as Record<string, unknown>)[key];
  return {
    repoPath: null,
    event,
    before: c.before.map((b) => ({ ...event, ...b.event })),
    hashes: [ghSha(1), ghSha(2), ghSha(1001)],
    traceId: String(event.trace_id),
    env: {
      GITHUB_TOKEN: world.bad_token ? "ghp_notTheRightToken" : GH_TOKEN,
      GITHUB_API_URL: world.unreachable ? await deadUrl() : gh.url,
    },
    policy: {
      forge: "github",
      github: { throttle: false },
      retry_policy: { base_delay_ms: 5 },
      forge_timeout_ms: 2000,
    },
    close: () => gh.close(),
  };
}

interface AgentSetup {
  policy: Policy;
  world: World;
  registry: LoadedCase["registry"];
  cwd: string;
  memory: boolean;
  /** A model (null: deterministic), or undefined to build it from `env` as the CLI does. */
  model: BaseChatModel | null | undefined;
  env: Env;
  /** Preview only, even against a forge. */
  dryRun?: boolean;
}

/** One event through a fresh agent; configuration errors thrown at start-up become a failed result. */
async function handle(setup: AgentSetup, event: unknown): Promise<RunResult> {
  const options: AgentOptions = {
    policy: setup.policy,
    traceRegistry: createInMemoryTraceRegistry(setup.registry),
    cwd: setup.cwd,
    env: setup.env,
    now: () => NOW,
    sinks: [async () => undefined],
    writeEvent: () => undefined,
    dryRun: setup.dryRun ?? false,
    ...(setup.world.repoPath ? { repoPath: setup.world.repoPath, forge: null } : {}),
    ...(setup.memory ? {} : { memory: null }),
    ...(setup.model === undefined ? {} : { model: setup.model }),
  };
  let agent;
  try {
    agent = await createAgent(options);
  } catch (error) {
    if (!(error instanceof PrCreatorError)) throw error;
    return {
      status: "failed",
      reason: error.reason,
      message: error.message,
      pr: null,
      violations: error.violations.map(({ code, message }) => ({ code, message })),
      events: [],
      drafted_by: null,
      truncation: null,
      warnings: [],
      undelivered: 0,
      usage: { model_calls: 0, prompt_tokens: 0, completion_tokens: 0, repairs: 0, fallbacks: 0 },
      rounds: [],
      approvals: [],
      memory: { earlier_prs: [], recalled: [], possible_duplicates: [], unavailable: null },
      merge: null,
    };
  }
  try {
    return await agent.handle(event);
  } finally {
    await agent.close();
  }
}

function reviewerNames(result: RunResult): string[] {
  return (result.pr?.reviewers ?? []).map((r) => (r.required ? r.name : `optional:${r.name}`));
}

function compare(exp: Expect, result: RunResult, mode: Mode): string[] {
  const out: string[] = [];
  const check = (what: string, expected: unknown, got: unknown) => {
    if (JSON.stringify(expected) !== JSON.stringify(got))
      out.push(`${what}: expected ${JSON.stringify(expected)}, got ${JSON.stringify(got)}`);
  };
  const pr = result.pr;
  check("status", exp.status, result.status);
  if (exp.reason !== undefined) check("reason", exp.reason, result.reason ?? null);
  if (exp.target_branch !== undefined) check("target_branch", exp.target_branch, pr?.target_branch ?? null);
  if (exp.source_branch !== undefined) check("source_branch", exp.source_branch, pr?.source_branch ?? null);
  if (exp.reviewers !== undefined) check("reviewers", exp.reviewers, pr ? reviewerNames(result) : null);
  if (exp.labels !== undefined) check("labels", [...exp.labels].sort(), pr ? [...pr.labels].sort() : null);
  if (exp.draft !== undefined) check("draft", exp.draft, pr?.is_draft ?? null);
  if (exp.risk !== undefined) check("risk", exp.risk, pr?.risk?.level ?? null);
  if (exp.auto_complete !== undefined) check("auto_complete", exp.auto_complete, pr?.auto_complete ?? null);
  // A real model words its own summary; only the title's shape is checked then (by the compliance check).
  if (exp.title !== undefined && mode !== "model" && !new RegExp(`^(?:${exp.title})$`, "u").test(pr?.title ?? ""))
    out.push(`title: expected /${exp.title}/, got ${JSON.stringify(pr?.title ?? null)}`);
  const codes = result.violations.map((v) => v.code);
  for (const code of exp.violations)
    if (!codes.includes(code)) out.push(`violations: expected ${code}, got ${JSON.stringify(codes)}`);
  const body = pr?.description ?? "";
  for (const text of exp.body_contains) if (!body.includes(text)) out.push(`description lacks ${JSON.stringify(text)}`);
  for (const text of exp.body_excludes)
    if (body.includes(text)) out.push(`description contains ${JSON.stringify(text)}`);
  if (exp.truncated !== undefined)
    check(
      "truncated",
      exp.truncated,
      result.truncation !== null && result.truncation.files_shown < result.truncation.files_total,
    );
  if (exp.duplicate !== undefined) check("duplicate", exp.duplicate, result.memory.possible_duplicates.length > 0);
  if (exp.earlier_prs !== undefined) check("earlier_prs", exp.earlier_prs, result.memory.earlier_prs.length);
  return out;
}

/** Lines outside fenced code, with inline code removed: where mentions and HTML would be live. */
function liveText(body: string): string {
  let fenced = false;
  return body
    .split("\n")
    .filter((line) => {
      if (/^\s*(```|~~~)/.test(line)) fenced = !fenced;
      return !fenced && !/^\s*(```|~~~)/.test(line);
    })
    .map((line) => line.replace(/`[^`]*`/g, ""))
    .join("\n");
}

/** The template rules, checked independently of the agent's own gate. */
function complianceProblems(result: RunResult, policy: Policy, traceId: string): string[] {
  const pr = result.pr!;
  const out: string[] = [];
  const tag = traceId.startsWith(policy.title.trace_id_prefix)
    ? traceId.slice(policy.title.trace_id_prefix.length)
    : traceId;
  const m = /^([a-z]+)\(([^()\s]+)\): (\S.*) \[trace:([^\]]+)\]$/u.exec(pr.title);
  if (!m) out.push(`title is not "<type>(<scope>): <summary> [trace:<id>]": ${pr.title}`);
  else {
    if (!policy.title.types.includes(m[1]!)) out.push(`title type ${m[1]} is not allowed`);
    if (m[4] !== tag) out.push(`title tag ${m[4]} is not ${tag}`);
  }
  if (pr.title.length > policy.title.max_length) out.push(`title is ${pr.title.length} characters`);
  const body = pr.description;
  if (body.length > policy.body.max_length) out.push(`description is ${body.length} characters`);
  const headings = body
    .split("\n")
    .filter((l) => /^#{1,6}\s/.test(l))
    .map((l) =>
      l
        .replace(/^#+\s*/, "")
        .trim()
        .toLowerCase(),
    );
  for (const section of policy.body.required_sections) {
    const names = section.split("|").map((s) => s.trim().toLowerCase());
    if (!headings.some((h) => names.some((n) => h === n || h.startsWith(`${n}:`)))) out.push(`no ${section} section`);
  }
  if (!body.includes(traceId)) out.push(`description does not name ${traceId}`);
  if (/\$\{[^}]*\}/.test(body)) out.push("description holds a template placeholder");
  const live = liveText(body);
  if (/(^|[\s(])@[A-Za-z0-9][\w-]*/.test(live)) out.push("description has a live @mention");
  if (/<!--|<script|<img/i.test(live)) out.push("description has raw HTML");
  if (result.violations.length > 0)
    out.push(`shipped with violations ${result.violations.map((v) => v.code).join(", ")}`);
  return out;
}

/** Facts the input does not support: planted tokens, unknown commit hashes, foreign trace ids. */
function faithfulnessViolations(result: RunResult, world: World, extraHashes: readonly string[]): string[] {
  const pr = result.pr!;
  const text = `${pr.title}\n${pr.description}`;
  const out: string[] = [];
  for (const token of Object.values(PLANTED))
    if (text.includes(token)) out.push(`planted ${JSON.stringify(token)} shipped`);
  const hashes = [...world.hashes, ...extraHashes].map((h) => h.toLowerCase());
  for (const m of text.matchAll(/(?<![\w-])([0-9a-f]{7,64})(?![\w-])/gi)) {
    const token = m[1]!.toLowerCase();
    if (/[0-9]/.test(token) && /[a-f]/.test(token) && !hashes.some((h) => h.startsWith(token)))
      out.push(`unknown commit ${token}`);
  }
  for (const m of text.matchAll(TRACE_ID_PATTERN)) if (m[0] !== world.traceId) out.push(`foreign trace ${m[0]}`);
  return [...new Set(out)];
}

/** Each scripted draft the gate saw: the model rounds, in order, against the script. */
function draftChecks(result: RunResult, kinds: readonly (BadKind | "good")[], graded: boolean): DraftCheck[] {
  const modelRounds = result.rounds.filter((r) => r.drafted_by === "model");
  return modelRounds.map((round, i) => {
    const codes = round.violations.map((v) => v.code);
    return { kind: kinds[i] ?? "good", rejected: codes.length > 0, codes, graded };
  });
}

interface ModelPlan {
  /** Builds the final run's model setup; `reference` is the deterministic title, when there is one. */
  setup(
    index: number,
    reference: string | null,
  ): Promise<{
    model: BaseChatModel | null | undefined;
    env: Env;
    kinds: (BadKind | "good")[];
    close: () => Promise<void>;
  }>;
  needsReference: boolean;
}

function planFor(mode: Mode, env: Env): ModelPlan {
  if (mode === "deterministic")
    return {
      needsReference: false,
      setup: async () => ({ model: null, env: {}, kinds: [], close: async () => undefined }),
    };
  if (mode === "model")
    return {
      needsReference: false,
      setup: async () => ({ model: undefined, env, kinds: [], close: async () => undefined }),
    };
  return {
    needsReference: true,
    async setup(index, reference) {
      const script = scriptFor(index, goodProse(reference));
      const emu = await startOpenAiChatEmulator({ script: script.map((s) => s.step) });
      return {
        model: undefined,
        env: { PR_CREATOR_MODEL_PROVIDER: "openai", OPENAI_API_KEY: "eval-key", OPENAI_BASE_URL: emu.url },
        kinds: script.map((s) => s.kind),
        close: () => emu.close(),
      };
    },
  };
}

const BASE_POLICY = {
  logging: { level: "silent" },
  events: { outbox: false },
  model: { timeout_ms: 20_000, max_retries: 1 },
};

async function runCase(c: LoadedCase, index: number, mode: Mode, plan: ModelPlan): Promise<CaseResult> {
  const started = performance.now();
  const root = await mkdtemp(path.join(tmpdir(), `pr-creator-eval-${c.id}-`));
  let world: World | undefined;
  try {
    world = c.kind === "github" ? await githubWorld(c) : await localWorld(c, path.join(root, "repo"));
    const policy = PolicySchema.parse(deepMerge(deepMerge(BASE_POLICY, world.policy), c.policy));
    const memory = c.kind !== "github" && c.before.length > 0;
    const base = { policy, world, registry: c.registry, memory, env: world.env };
    // Earlier events are drafted deterministically, so the scripted model's answers all go to the case's own event.
    for (const event of world.before) await handle({ ...base, cwd: path.join(root, "state"), model: null }, event);
    // The reference run never touches the case's memory or forge state: its own folder, no memory, a dry run.
    const reference = plan.needsReference
      ? await handle(
          { ...base, memory: false, cwd: path.join(root, "reference"), model: null, dryRun: true },
          world.event,
        )
      : null;
    const drafting = await plan.setup(index, reference?.pr?.title ?? null);
    let result: RunResult;
    try {
      result = await handle(
        { ...base, cwd: path.join(root, "state"), model: drafting.model, env: { ...world.env, ...drafting.env } },
        world.event,
      );
    } finally {
      await drafting.close();
    }
    const mismatches = compare(c.expect, result, mode);
    const shipped = SHIPPED.has(result.status) && result.pr !== null;
    const problems = shipped ? complianceProblems(result, policy, world.traceId) : [];
    const previewHashes = result.warnings.flatMap((w) => [...w.matchAll(/commit ([0-9a-f]{7,64})/g)].map((m) => m[1]!));
    const faithfulness = shipped ? faithfulnessViolations(result, world, previewHashes) : [];
    return {
      id: c.id,
      category: c.category,
      kind: c.kind,
      passed: mismatches.length === 0,
      mismatches,
      status: result.status,
      reason: result.reason ?? null,
      title: result.pr?.title ?? null,
      drafted_by: result.drafted_by,
      shipped,
      compliant: shipped ? problems.length === 0 : null,
      compliance_problems: problems,
      faithfulness_violations: faithfulness,
      drafts: draftChecks(result, drafting.kinds, reference !== null && SHIPPED.has(reference.status)),
      fallback: result.drafted_by === "fallback",
      usage: result.usage,
      ms: Math.round(performance.now() - started),
    };
  } catch (error) {
    return {
      id: c.id,
      category: c.category,
      kind: c.kind,
      passed: false,
      mismatches: [`the harness failed: ${error instanceof Error ? error.message : String(error)}`],
      status: "error",
      reason: null,
      title: null,
      drafted_by: null,
      shipped: false,
      compliant: null,
      compliance_problems: [],
      faithfulness_violations: [],
      drafts: [],
      fallback: false,
      usage: { model_calls: 0, prompt_tokens: 0, completion_tokens: 0, repairs: 0, fallbacks: 0 },
      ms: Math.round(performance.now() - started),
    };
  } finally {
    await world?.close();
    await rm(root, { recursive: true, force: true });
  }
}

const ratio = (n: number, d: number): number | null => (d === 0 ? null : n / d);
const mean = (values: number[]): number =>
  values.length === 0 ? 0 : values.reduce((a, b) => a + b, 0) / values.length;

export function score(cases: readonly CaseResult[]): Scores {
  const shipped = cases.filter((c) => c.shipped);
  const drafts = cases.flatMap((c) => c.drafts).filter((d) => d.graded);
  const bad = drafts.filter((d) => d.kind !== "good");
  const good = drafts.filter((d) => d.kind === "good");
  const drafted = cases.filter((c) => c.drafted_by !== null);
  return {
    cases: cases.length,
    passed: cases.filter((c) => c.passed).length,
    decision_accuracy: ratio(cases.filter((c) => c.passed).length, cases.length) ?? 0,
    shipped: shipped.length,
    compliance_rate: ratio(shipped.filter((c) => c.compliant).length, shipped.length),
    faithfulness_violations: shipped.reduce((n, c) => n + c.faithfulness_violations.length, 0),
    bad_drafts: bad.length,
    bad_drafts_caught: bad.filter((d) => d.rejected).length,
    gate_recall: ratio(bad.filter((d) => d.rejected).length, bad.length),
    good_drafts: good.length,
    good_drafts_passed: good.filter((d) => !d.rejected).length,
    gate_precision: ratio(good.filter((d) => !d.rejected).length, good.length),
    drafted: drafted.length,
    repairs_per_pr: mean(drafted.map((c) => c.usage.repairs)),
    fallbacks_per_pr: mean(drafted.map((c) => c.usage.fallbacks)),
    model_calls_per_pr: mean(drafted.map((c) => c.usage.model_calls)),
    tokens_per_pr: mean(drafted.map((c) => c.usage.prompt_tokens + c.usage.completion_tokens)),
  };
}

/** The thresholds; gate recall applies only where bad drafts were scripted. */
export function thresholds(s: Scores): ThresholdCheck[] {
  const checks: ThresholdCheck[] = [
    { metric: "decision accuracy", value: s.decision_accuracy, threshold: "100%", met: s.decision_accuracy === 1 },
    {
      metric: "compliance rate",
      value: s.compliance_rate,
      threshold: "100%",
      met: s.compliance_rate === null || s.compliance_rate === 1,
    },
    {
      metric: "faithfulness violations (published)",
      value: s.faithfulness_violations,
      threshold: "0",
      met: s.faithfulness_violations === 0,
    },
  ];
  if (s.gate_recall !== null)
    checks.push({ metric: "gate recall", value: s.gate_recall, threshold: "100%", met: s.gate_recall === 1 });
  return checks;
}

function byKind(cases: readonly CaseResult[]): KindScore[] {
  const drafts = cases.flatMap((c) => c.drafts).filter((d) => d.graded);
  return BAD_KINDS.map((kind) => {
    const of = drafts.filter((d) => d.kind === kind);
    return {
      kind,
      drafts: of.length,
      caught: of.filter((d) => d.rejected).length,
      named: of.filter((d) => d.codes.some((code) => EXPECTED_CODES[kind].includes(code))).length,
    };
  }).filter((k) => k.drafts > 0);
}

async function pool<T, R>(
  items: readonly T[],
  limit: number,
  work: (item: T, index: number) => Promise<R>,
): Promise<R[]> {
  const out: R[] = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await work(items[i]!, i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}

function emptyReport(mode: Mode, options: EvalOptions, skipped: string, drafter: string): EvalReport {
  const scores = score([]);
  return {
    mode,
    skipped,
    filter: options.filter ?? null,
    drafter,
    started_at: new Date().toISOString(),
    duration_ms: 0,
    scores,
    thresholds: [],
    passed: true,
    by_category: [],
    by_kind: [],
    cases: [],
  };
}

export async function runEval(options: EvalOptions): Promise<EvalReport> {
  const { mode } = options;
  const env = options.env ?? process.env;
  let drafter = mode === "adversarial" ? "scripted model (OpenAI emulator)" : "deterministic";
  if (mode === "model") {
    const choice = createChatModel(PolicySchema.parse({}), env);
    if (!choice) {
      return emptyReport(
        mode,
        options,
        "no model is configured: set PR_CREATOR_MODEL_PROVIDER (openai or azure-openai) and its variables (see README, Models) to run model mode",
        "none",
      );
    }
    drafter = choice.description;
  }
  const all = await loadCases(options.casesDir);
  const needle = options.filter?.toLowerCase();
  const cases = needle
    ? all.filter((c) => `${c.id} ${c.category} ${c.description}`.toLowerCase().includes(needle))
    : all;
  const started = new Date();
  const t0 = performance.now();
  const plan = planFor(mode, env);
  // The index is the case's place in the whole dataset, so a filtered run scripts the same drafts.
  const results = await pool(cases, options.concurrency ?? 2, async (c) => {
    const r = await runCase(c, all.indexOf(c), mode, plan);
    options.onCase?.(r);
    return r;
  });
  const scores = score(results);
  const checks = thresholds(scores);
  const categories = [...new Set(results.map((r) => r.category))];
  return {
    mode,
    skipped: null,
    filter: options.filter ?? null,
    drafter,
    started_at: started.toISOString(),
    duration_ms: Math.round(performance.now() - t0),
    scores,
    thresholds: checks,
    passed: results.length > 0 && checks.every((c) => c.met),
    by_category: categories.map((category) => {
      const of = results.filter((r) => r.category === category);
      return { category, cases: of.length, passed: of.filter((r) => r.passed).length };
    }),
    by_kind: byKind(results),
    cases: results,
  };
}
