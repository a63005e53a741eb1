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
import type { RunResult } from "../src/domain/run-result.js";
import { PrCreatorError } from "../src/domain/errors.js";
import { PolicySchema, type Policy } from "../src/domain/policy.js";
import type { ViolationCode } from "../src/domain/violations.js";
import { DEFAULT_TEMPLATE } from "../src/render/template.js";
import { createInMemoryTraceRegistry } from "../src/policy/trace-registry.js";
import { TRACE_ID_PATTERN } from "../src/policy/trace-ids.js";
import { startGitHubEmulator, type FaultRoute, type GitHubEmulator } from "../test/emulators/github.js";
import { startOpenAiChatEmulator } from "../test/emulators/openai-chat.js";
import {
  BAD_KINDS,
  EXPECTED_CODES,
  PLANTED,
  fakeAnswer,
  scriptFor,
  type BadKind,
  type FakeModel,
  type ForcedScript,
  type Reference,
} from "./adversarial.js";
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
  /** The PR's conventional type against the expected one (explicit, or read from the title pattern). */
  type_check: { expected: string; got: string | null } | null;
  risk_check: { expected: string; got: string | null } | null;
  /** Symbols the highlights must name, and those a shipped PR's highlights do. */
  symbols: { expected: string[]; named: string[] };
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
  /** Cases that expect a type / a risk level, and how many shipped exactly that. */
  type_checked: number;
  type_accuracy: number | null;
  risk_checked: number;
  risk_accuracy: number | null;
  /** Expected symbols over all cases, and the share the highlights named. */
  symbols_expected: number;
  symbols_named: number;
  symbol_coverage: number | null;
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
  /** Share of runs that reached drafting whose prose the fallback drafter wrote. */
  fallback_rate: number | null;
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
  /** Only the cases with these ids (in-process selection; the index stays the case's place in the dataset). */
  ids?: readonly string[];
  /** The environment model mode reads its model from (default process.env). */
  env?: Env;
  /** Model mode: a scripted fake served by the OpenAI emulator instead of the model from `env`. */
  fake?: FakeModel;
  /** Adversarial mode: the same bad drafts for every case instead of the rotation (ablations). */
  forced?: ForcedScript;
  /** Gate rules switched off in each case's run (ablations); the reference runs keep them. */
  disabledRules?: readonly ViolationCode[];
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
  /** Everything a PR may quote: every file version, every commit message, the event and the trace registry. */
  corpus: string;
  /** The repository's own .pr-template.md at the event's commit, if it has one. */
  repoTemplate: string | null;
  /** The trace's component scope, when the registry knows it. */
  scope: string | null;
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
  const history = await repo.git("log", "--all", "--no-renames", "-p", "--format=%an%n%B", "--").catch(() => "");
  const repoTemplate = await repo
    .git("show", `${String(event.commit_hash ?? "HEAD")}:.pr-template.md`)
    .catch(() => null as string | null);
  return {
    repoPath: repo.path,
    event,
    before: await Promise.all(c.before.map((b) => eventFor(b.event, b.commit))),
    hashes,
    traceId: typeof event.trace_id === "string" ? event.trace_id : changeTrace,
    corpus: [history, JSON.stringify(event), JSON.stringify(c.registry)].join("\n"),
    repoTemplate,
    scope: c.registry.find((t) => t.trace_id === event.trace_id)?.component_scope ?? null,
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
    corpus: [
      world.message,
      "chore: scaffold",
      "feat(order): add OrderId [trace:ord-8128]",
      ...files.map((f) => f.filename),
      JSON.stringify(event),
      JSON.stringify(c.registry),
    ].join("\n"),
    repoTemplate: null,
    scope: c.registry.find((t) => t.trace_id === event.trace_id)?.component_scope ?? null,
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
  disabledRules?: readonly ViolationCode[];
}

/** One event through a fresh agent; configuration errors thrown at start-up become a failed result. */
async function handle(setup: AgentSetup, event: unknown): Promise<RunResult> {
  const options: AgentOptions = {
    // Each case keeps its state (memory, history, announcements) in its own folder, whatever the user's state directory.
    policy: { ...setup.policy, state_file: path.join(setup.cwd, "state.db") },
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
    ...(setup.disabledRules?.length ? { disabledRules: [...setup.disabledRules] } : {}),
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

/** The conventional type of a title (`feat(order)!: …` → feat), or null. */
export function titleType(title: string | null | undefined): string | null {
  return /^([a-z]+)\([^()]*\)!?: /.exec(title ?? "")?.[1] ?? null;
}

/** The type a case expects: stated, or the literal type its title pattern starts with (`feat\(order\)…`). */
export function expectedType(exp: Expect): string | null {
  return exp.type ?? /^([a-z]+)\\\(/.exec(exp.title ?? "")?.[1] ?? null;
}

const escapeRe = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

/** The body's Summary (or Description) section: the drafted purpose and highlights. */
export function summarySection(body: string): string {
  const lines = body.split("\n");
  const start = lines.findIndex((l) => /^#{1,6}\s+(summary|description)\s*$/i.test(l.trim()));
  if (start < 0) return "";
  const rest = lines.slice(start + 1);
  const end = rest.findIndex((l) => /^#{1,6}\s/.test(l));
  return (end < 0 ? rest : rest.slice(0, end)).join("\n");
}

/** The highlights: the Summary section's list items, wrapped lines joined. */
export function highlightsOf(body: string): string[] {
  const out: string[] = [];
  for (const line of summarySection(body).split("\n")) {
    if (/^[-*+] /.test(line)) out.push(line.slice(2).trim());
    else if (/^ {2,}\S/.test(line) && out.length > 0) out[out.length - 1] += ` ${line.trim()}`;
  }
  return out;
}

/** The expected symbols the highlights name, as whole names (`ApplyDiscount` is named by `Order.ApplyDiscount`). */
function symbolsNamed(expected: readonly string[], body: string): string[] {
  const text = highlightsOf(body).join("\n");
  return expected.filter((name) => new RegExp(`(?<![\\w$])${escapeRe(name)}(?![\\w$])`).test(text));
}

/** A case whose PR should ship is type-checked; so is every case that states a type. */
function typeCheck(exp: Expect, result: RunResult): CaseResult["type_check"] {
  const expected = expectedType(exp);
  const ships = exp.status !== "failed" && exp.status !== "awaiting_approval";
  return expected !== null && ships ? { expected, got: titleType(result.pr?.title) } : null;
}

function compare(exp: Expect, result: RunResult, mode: Mode): string[] {
  const out: string[] = [];
  const check = (what: string, expected: unknown, got: unknown) => {
    if (JSON.stringify(expected) !== JSON.stringify(got))
      out.push(`${what}: expected ${JSON.stringify(expected)}, got ${JSON.stringify(got)}`);
  };
  const pr = result.pr;
  check("status", exp.status, result.status);
  if (exp.status !== result.status && result.message) out.push(`message: ${result.message.slice(0, 400)}`);
  if (exp.reason !== undefined) check("reason", exp.reason, result.reason ?? null);
  if (exp.target_branch !== undefined) check("target_branch", exp.target_branch, pr?.target_branch ?? null);
  if (exp.source_branch !== undefined) check("source_branch", exp.source_branch, pr?.source_branch ?? null);
  if (exp.reviewers !== undefined) check("reviewers", exp.reviewers, pr ? reviewerNames(result) : null);
  if (exp.labels !== undefined) check("labels", [...exp.labels].sort(), pr ? [...pr.labels].sort() : null);
  if (exp.draft !== undefined) check("draft", exp.draft, pr?.is_draft ?? null);
  if (exp.risk !== undefined) check("risk", exp.risk, pr?.risk?.level ?? null);
  // The type is code's decision in every mode; a title pattern already checks it outside model mode.
  const type = expectedType(exp);
  if (type !== null && pr && (exp.type !== undefined || mode === "model")) check("type", type, titleType(pr.title));
  if (exp.breaking !== undefined && pr) check("breaking", exp.breaking, /^[a-z]+\([^()]*\)!: /.test(pr.title));
  // A real model is judged on what it wrote: a PR the fallback drafter had to write is the model's failure.
  if (mode === "model" && result.drafted_by === "fallback")
    out.push(`drafted by the fallback: the model's drafts never passed the gate (${result.usage.repairs} repairs)`);
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

/** Heading names of a template, lower case. */
function headingsOf(text: string): string[] {
  return text
    .split("\n")
    .filter((l) => /^#{1,6}\s/.test(l))
    .map((l) =>
      l
        .replace(/^#+\s*/, "")
        .replace(/[:\s]+$/, "")
        .trim()
        .toLowerCase(),
    );
}

/** The headings a body may have: the template's own, plus the sections the renderer adds when they apply. */
function allowedHeadings(policy: Policy, world: World): Set<string> {
  const template =
    (policy.body.use_repo_template && world.repoTemplate?.trim() ? world.repoTemplate : null) ??
    policy.body.template ??
    DEFAULT_TEMPLATE;
  return new Set([...headingsOf(template), "context", "breaking changes"]);
}

/** Whole-word forbidden keywords in the title's summary, found without the agent's own helper. */
function forbiddenIn(summary: string, keywords: readonly string[]): string[] {
  const words = new Set(summary.toLowerCase().split(/[^\p{L}\p{N}_]+/u));
  return keywords.filter((k) =>
    k.includes(" ") ? summary.toLowerCase().includes(k.toLowerCase()) : words.has(k.toLowerCase()),
  );
}

/** The template rules, checked independently of the agent's own gate. */
function complianceProblems(result: RunResult, policy: Policy, traceId: string, world: World): string[] {
  const pr = result.pr!;
  const out: string[] = [];
  const tag = traceId.startsWith(policy.title.trace_id_prefix)
    ? traceId.slice(policy.title.trace_id_prefix.length)
    : traceId;
  const m = /^([a-z]+)\(([^()\s]+)\)!?: (\S.*) \[trace:([^\]]+)\]$/u.exec(pr.title);
  if (!m) out.push(`title is not "<type>(<scope>): <summary> [trace:<id>]": ${pr.title}`);
  else {
    if (!policy.title.types.includes(m[1]!)) out.push(`title type ${m[1]} is not allowed`);
    if (m[4] !== tag) out.push(`title tag ${m[4]} is not ${tag}`);
  }
  const summary = /^[a-z]+\([^()]*\)!?: (.*) \[trace:[^\]]*\]$/u.exec(pr.title)?.[1] ?? "";
  const banned = forbiddenIn(summary, policy.title.forbidden_keywords);
  if (banned.length > 0) out.push(`title summary has forbidden keyword ${banned.join(", ")}`);
  if (/[.\s]$/.test(summary)) out.push("title summary ends with a period or a space");
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
  const scope = world.scope;
  if (scope && !new RegExp(`(?<![\\p{L}\\p{N}_])${escapeRe(scope)}(?![\\p{L}\\p{N}_])`, "u").test(body))
    out.push(`description does not name the component scope ${scope}`);
  let fence = false;
  for (const line of body.split("\n")) {
    if (/^\s*(```|~~~)/.test(line)) fence = !fence;
    else if (!fence && line.length > policy.body.max_line_length && !line.startsWith("|") && /\S\s+\S/.test(line))
      out.push(`description has a line of ${line.length} characters`);
  }
  if (/\$\{[^}]*\}/.test(body)) out.push("description holds a template placeholder");
  const live = liveText(body);
  if (/(^|[\s(])@[A-Za-z0-9][\w-]*/.test(live)) out.push("description has a live @mention");
  if (/<!--|<\/?[A-Za-z][A-Za-z0-9-]*(\s[^<>]*)?\/?>/.test(live)) out.push("description has raw HTML");
  if (/!\[[^\]]*\]\(/.test(live)) out.push("description has an image");
  const allowed = allowedHeadings(policy, world);
  for (const h of headingsOf(liveText(body)))
    if (![...allowed].some((a) => h === a || h.startsWith(`${a}:`)))
      out.push(`description has a heading "${h}" the template does not`);
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
  // The drafted prose: every code name it uses must occur somewhere in the repository, its history or the input.
  const prose = summarySection(pr.description);
  for (const name of codeNamesIn(prose))
    if (!name.split(".").every((part) => world.corpus.includes(part))) out.push(`unknown name ${name}`);
  // …and it must not contradict what code decided.
  for (const m of prose.matchAll(/\b(low|medium|high)[- ]risk\b/gi))
    if (pr.risk && m[1]!.toLowerCase() !== pr.risk.level)
      out.push(`prose says ${m[0]}, the PR is ${pr.risk.level} risk`);
  if (!pr.auto_complete && /\b(auto-?merg\w*|merges? (itself|automatically))\b/i.test(prose))
    out.push("prose says the PR merges itself; it does not");
  return [...new Set(out)];
}

/** Names that look like code in prose: identifier-shaped code spans, PascalCase words, dotted names. */
function codeNamesIn(text: string): string[] {
  const out = new Set<string>();
  for (const m of text.matchAll(/`([^`\n]+)`/g)) {
    const inner = m[1]!.trim().replace(/\(\)$/, "");
    if (/^[A-Za-z_$][\w$]*(\.[A-Za-z_$][\w$]*)*$/.test(inner) && /[A-Z_.]/.test(inner)) out.add(inner);
  }
  const prose = text.replace(/`[^`\n]*`/g, " ").replace(/\b[a-z][a-z0-9+.-]*:\/\/\S+/gi, " ");
  for (const m of prose.matchAll(/(?<![\w./-])[A-Z][a-z0-9]+(?:[A-Z][a-z0-9]*)+(?:\.[A-Z][A-Za-z0-9]*)*(?![\w/-])/g))
    out.add(m[0]);
  return [...out];
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
  /** Builds the final run's model setup from the deterministic dry run's facts (when there is one). */
  setup(
    index: number,
    reference: Reference,
  ): Promise<{
    model: BaseChatModel | null | undefined;
    env: Env;
    /** The scripted drafts in order, or null when no draft is graded (no script, or a fake model). */
    kinds: (BadKind | "good")[] | null;
    close: () => Promise<void>;
  }>;
  needsReference: boolean;
}

const emulatorEnv = (url: string): Env => ({
  PR_CREATOR_MODEL_PROVIDER: "openai",
  OPENAI_API_KEY: "eval-key",
  OPENAI_BASE_URL: url,
});

function planFor(mode: Mode, env: Env, options: EvalOptions): ModelPlan {
  if (mode === "deterministic")
    return {
      needsReference: false,
      setup: async () => ({ model: null, env: {}, kinds: null, close: async () => undefined }),
    };
  const fake = mode === "model" ? options.fake : undefined;
  if (mode === "model" && !fake)
    return {
      needsReference: false,
      setup: async () => ({ model: undefined, env, kinds: null, close: async () => undefined }),
    };
  if (fake)
    return {
      needsReference: true,
      // The fake gives the same answer to every request, repairs included.
      async setup(_index, reference) {
        const emu = await startOpenAiChatEmulator({ fallbackStep: fakeAnswer(fake, reference) });
        return { model: undefined, env: emulatorEnv(emu.url), kinds: null, close: () => emu.close() };
      },
    };
  return {
    needsReference: true,
    async setup(index, reference) {
      const script = scriptFor(index, reference, options.forced);
      const emu = await startOpenAiChatEmulator({ script: script.map((s) => s.step) });
      return {
        model: undefined,
        env: emulatorEnv(emu.url),
        kinds: script.map((s) => s.kind),
        close: () => emu.close(),
      };
    },
  };
}

/** What the scripted drafts take from the deterministic dry run. */
function referenceOf(result: RunResult | null, policy: Policy): Reference {
  const pr = result?.pr ?? null;
  return {
    title: pr?.title ?? null,
    risk: pr?.risk?.level ?? null,
    auto_complete: pr?.auto_complete ?? false,
    target_branch: pr?.target_branch ?? null,
    symbol_highlights: pr ? highlightsOf(pr.description).filter((h) => /^(Adds|Changes|Removes|Sets) /.test(h)) : [],
    forbidden_keywords: policy.title.forbidden_keywords,
  };
}

const BASE_POLICY = {
  logging: { level: "silent" },
  events: { outbox: false },
  model: { timeout_ms: 20_000, max_retries: 1 },
};

async function runCase(
  c: LoadedCase,
  index: number,
  mode: Mode,
  plan: ModelPlan,
  disabledRules: readonly ViolationCode[],
): Promise<CaseResult> {
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
    const drafting = await plan.setup(index, referenceOf(reference, policy));
    let result: RunResult;
    try {
      result = await handle(
        {
          ...base,
          cwd: path.join(root, "state"),
          model: drafting.model,
          env: { ...world.env, ...drafting.env },
          disabledRules,
        },
        world.event,
      );
    } finally {
      await drafting.close();
    }
    const mismatches = compare(c.expect, result, mode);
    const shipped = SHIPPED.has(result.status) && result.pr !== null;
    const problems = shipped ? complianceProblems(result, policy, world.traceId, world) : [];
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
      type_check: typeCheck(c.expect, result),
      risk_check: c.expect.risk === undefined ? null : { expected: c.expect.risk, got: result.pr?.risk?.level ?? null },
      symbols: {
        expected: c.expect.highlights_mention,
        named: shipped ? symbolsNamed(c.expect.highlights_mention, result.pr!.description) : [],
      },
      drafts: drafting.kinds
        ? draftChecks(result, drafting.kinds, reference !== null && SHIPPED.has(reference.status))
        : [],
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
      type_check: null,
      risk_check: null,
      symbols: { expected: c.expect.highlights_mention, named: [] },
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
  const typed = cases.filter((c) => c.type_check !== null);
  const risked = cases.filter((c) => c.risk_check !== null);
  const expectedSymbols = cases.reduce((n, c) => n + c.symbols.expected.length, 0);
  const namedSymbols = cases.reduce((n, c) => n + c.symbols.named.length, 0);
  return {
    cases: cases.length,
    passed: cases.filter((c) => c.passed).length,
    decision_accuracy: ratio(cases.filter((c) => c.passed).length, cases.length) ?? 0,
    shipped: shipped.length,
    compliance_rate: ratio(shipped.filter((c) => c.compliant).length, shipped.length),
    faithfulness_violations: shipped.reduce((n, c) => n + c.faithfulness_violations.length, 0),
    type_checked: typed.length,
    type_accuracy: ratio(typed.filter((c) => c.type_check!.got === c.type_check!.expected).length, typed.length),
    risk_checked: risked.length,
    risk_accuracy: ratio(risked.filter((c) => c.risk_check!.got === c.risk_check!.expected).length, risked.length),
    symbols_expected: expectedSymbols,
    symbols_named: namedSymbols,
    symbol_coverage: ratio(namedSymbols, expectedSymbols),
    bad_drafts: bad.length,
    bad_drafts_caught: bad.filter((d) => d.rejected).length,
    gate_recall: ratio(bad.filter((d) => d.rejected).length, bad.length),
    good_drafts: good.length,
    good_drafts_passed: good.filter((d) => !d.rejected).length,
    gate_precision: ratio(good.filter((d) => !d.rejected).length, good.length),
    drafted: drafted.length,
    repairs_per_pr: mean(drafted.map((c) => c.usage.repairs)),
    fallbacks_per_pr: mean(drafted.map((c) => c.usage.fallbacks)),
    fallback_rate: ratio(drafted.filter((c) => c.drafted_by === "fallback").length, drafted.length),
    model_calls_per_pr: mean(drafted.map((c) => c.usage.model_calls)),
    tokens_per_pr: mean(drafted.map((c) => c.usage.prompt_tokens + c.usage.completion_tokens)),
  };
}

/** Model mode: at most this share of PRs may be written by the fallback drafter. */
export const MAX_FALLBACK_RATE = 0.02;
/** Model mode: a real model words its highlights itself, so it may miss a few of the digest's symbols. */
export const MIN_MODEL_SYMBOL_COVERAGE = 0.9;

/**
 * The thresholds. Gate recall applies only where bad drafts were scripted; the fallback rate only in
 * model mode, where a PR the fallback drafter wrote is the model's failure (adversarial mode scripts fallbacks).
 */
export function thresholds(s: Scores, mode: Mode = "deterministic"): ThresholdCheck[] {
  const all = (metric: string, value: number | null): ThresholdCheck => ({
    metric,
    value,
    threshold: "100%",
    met: value === null || value === 1,
  });
  const checks: ThresholdCheck[] = [
    { metric: "decision accuracy", value: s.decision_accuracy, threshold: "100%", met: s.decision_accuracy === 1 },
    all("type accuracy", s.type_accuracy),
    all("risk accuracy", s.risk_accuracy),
    mode === "model"
      ? {
          metric: "symbol coverage",
          value: s.symbol_coverage,
          threshold: `≥ ${MIN_MODEL_SYMBOL_COVERAGE * 100}%`,
          met: s.symbol_coverage === null || s.symbol_coverage >= MIN_MODEL_SYMBOL_COVERAGE,
        }
      : all("symbol coverage", s.symbol_coverage),
    all("compliance rate", s.compliance_rate),
    {
      metric: "faithfulness violations (published)",
      value: s.faithfulness_violations,
      threshold: "0",
      met: s.faithfulness_violations === 0,
    },
  ];
  if (s.gate_recall !== null)
    checks.push({ metric: "gate recall", value: s.gate_recall, threshold: "100%", met: s.gate_recall === 1 });
  if (mode === "model")
    checks.push({
      metric: "fallback rate",
      value: s.fallback_rate,
      threshold: `≤ ${MAX_FALLBACK_RATE * 100}%`,
      met: s.fallback_rate === null || s.fallback_rate <= MAX_FALLBACK_RATE,
    });
  return checks;
}

/** A case the run got wrong in any way the eval checks: an expectation, the template, or a fact it shipped. */
export function caseFailed(c: CaseResult): boolean {
  return !c.passed || c.compliant === false || c.faithfulness_violations.length > 0;
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
  if (mode === "model" && options.fake) drafter = `fake model "${options.fake}" (OpenAI emulator)`;
  else if (mode === "model") {
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
  const ids = options.ids ? new Set(options.ids) : null;
  const cases = all.filter(
    (c) =>
      (!needle || `${c.id} ${c.category} ${c.description}`.toLowerCase().includes(needle)) && (!ids || ids.has(c.id)),
  );
  if (ids) {
    const unknown = [...ids].filter((id) => !all.some((c) => c.id === id));
    if (unknown.length > 0) throw new Error(`no case has the id ${unknown.join(", ")}`);
  }
  const started = new Date();
  const t0 = performance.now();
  const plan = planFor(mode, env, options);
  // The index is the case's place in the whole dataset, so a filtered run scripts the same drafts.
  const results = await pool(cases, options.concurrency ?? 2, async (c) => {
    const r = await runCase(c, all.indexOf(c), mode, plan, options.disabledRules ?? []);
    options.onCase?.(r);
    return r;
  });
  const scores = score(results);
  const checks = thresholds(scores, mode);
  const categories = [...new Set(results.map((r) => r.category))];
  return {
    mode,
    skipped: null,
    filter: options.filter ?? (options.ids ? `ids ${options.ids.join(", ")}` : null),
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
