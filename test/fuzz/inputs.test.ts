/**
 * Property-based fuzzing of everything a caller hands pr-creator: CommitCompleted events, change requests,
 * config files and trace registry files, each generated malformed in a known field (≥ 500 per kind per run).
 *
 * Invariants: the run is rejected with exit code 2 (invalid_event / invalid_config); the message is one
 * paragraph naming the field; no stack trace and no raw control character is printed; the forge (a GitHub
 * or Azure DevOps emulator) receives no request at all; no file outside the state folder is touched.
 *
 * Events go through a real agent (the emulator forges), configs and trace files through the CLI's own run
 * command in process; a handful of samples of each kind also go through the built CLI as child processes.
 * The seed is fixed (FUZZ_SEED overrides it) and fast-check prints it, with the counterexample, on failure.
 */
import { mkdir, mkdtemp, readdir, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import fc from "fast-check";
import { stringify } from "yaml";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createAgent, type Agent } from "../../src/agent/create-agent.js";
import { exitCodeFor } from "../../src/cli/exit-codes.js";
import { report, runCommand, type Io } from "../../src/cli/run-command.js";
import type { LifecycleEvent } from "../../src/domain/events.js";
import { PolicySchema } from "../../src/domain/policy.js";
import { SAMPLE_TRACES } from "../../src/demo/sample-repo.js";
import { createInMemoryTraceRegistry } from "../../src/policy/trace-registry.js";
import { startAzureDevOpsEmulator, type AzureEmulator } from "../emulators/azure-devops.js";
import { startGitHubEmulator, type GitHubEmulator } from "../emulators/github.js";
import { runCli, type CliResult } from "../helpers.js";
import { changeRequest } from "../unit/builders.js";

const SEED = Number(process.env.FUZZ_SEED ?? 20260108);
const RUNS = 500;
const settings = { seed: SEED, numRuns: RUNS } as const;

const GH_TOKEN = "ghp_fuzzToken000000000000000001";
const AZ_TOKEN = "azdo-fuzz-pat";

let root: string;
/** The agents' and the CLI's working folder: nothing in it but `state/` may change. */
let work: string;
/** Generated config and trace files live here, outside the working folder. */
let inputs: string;
let gh: GitHubEmulator;
let az: AzureEmulator;
let agents: Record<Forge, Agent>;
const delivered: LifecycleEvent[] = [];

type Forge = "github" | "azure-devops";

// ── generators ──────────────────────────────────────────────────────────────────────────────────────────

const alnum = fc.stringMatching(/^[A-Za-z0-9]{1,8}$/);
const word = fc.stringMatching(/^[a-z][a-z0-9-]{0,7}$/);
/** C0 controls, DEL, C1, bidi and zero-width characters: the ones a terminal acts on or hides. */
const control = fc.oneof(
  fc.integer({ min: 0, max: 0x1f }).map((c) => String.fromCharCode(c)),
  fc.constantFrom("\u007f", "\u0085", "\u009b", "\u200b", "\u200e", "\u202e", "\u2066", "\u2028", "\ufeff", "\ud800"),
);
/** Any string, control characters included. */
const anyText = fc.string({
  unit: fc.oneof(
    fc.string({ unit: "binary", minLength: 1, maxLength: 1 }),
    control,
    fc.constantFrom("/", "\\", ".", '"'),
  ),
  maxLength: 40,
});
const notAString = fc.oneof(
  fc.integer(),
  fc.boolean(),
  fc.constant(null),
  fc.array(fc.nat(), { maxLength: 2 }),
  fc.object({ maxDepth: 1 }),
);
/** A value no ISO date-time parser accepts: starts with a letter. */
const notADate = fc.tuple(fc.stringMatching(/^[a-z]$/), anyText).map(([a, b]) => a + b);

/** Repository names no forge accepts (control characters, more than one "/", ".." and characters both refuse). */
const badRepoAnywhere = fc.oneof(
  fc.tuple(alnum, control, alnum).map(([a, c, b]) => a + c + b),
  fc
    .tuple(alnum, alnum, fc.array(alnum, { minLength: 1, maxLength: 3 }))
    .map(([a, b, rest]) => [a, b, ...rest].join("/")),
  fc.constantFrom("..", ".", "../..", "../../etc"),
  alnum.map((a) => `../${a}`),
  alnum.map((a) => `${a}/..`),
  fc
    .tuple(
      alnum,
      fc.constantFrom("\\", ":", "*", "?", '"', "<", ">", "|", ";", "#", "$", "{", "}", ",", "+", "=", "[", "]"),
      alnum,
    )
    .map(([a, c, b]) => a + c + b),
);
/** Names Azure DevOps takes but GitHub does not. */
const badRepoGitHub = fc
  .tuple(alnum, fc.constantFrom(" ", "!", "@", "%", "&", "(", ")", "'", "~", "^", "`", "é"), alnum)
  .map(([a, c, b]) => a + c + b);
/** Names GitHub takes but Azure DevOps does not. */
const badRepoAzure = fc.oneof(
  fc.tuple(alnum, alnum).map(([a, b]) => `${a}/${b}`),
  alnum.map((a) => `_${a}`),
  alnum.map((a) => `.${a}`),
  alnum.map((a) => `${a}.`),
  fc.stringMatching(/^[A-Za-z0-9]{65,90}$/),
);
const badRepoFor = (forge: Forge) => fc.oneof(badRepoAnywhere, forge === "github" ? badRepoGitHub : badRepoAzure);

const segments = fc.array(word, { minLength: 1, maxLength: 3 });
/** Edit paths that leave the working tree, reach into .git, or smuggle characters no path may hold. */
const badPath = fc.oneof(
  fc.tuple(segments, fc.constantFrom("..", "."), segments).map(([a, dot, b]) => [...a, dot, ...b].join("/")),
  fc.tuple(fc.constantFrom("..", "../.."), segments).map(([up, b]) => [up, ...b].join("/")),
  fc
    .tuple(
      fc.array(word, { maxLength: 2 }),
      fc.constantFrom(".git", ".GIT", ".Git", ".git.", ".git ", "git~1"),
      segments,
    )
    .map(([a, git, b]) => [...a, git, ...b].join("/")),
  segments.map((s) => `/${s.join("/")}`),
  fc
    .tuple(fc.constantFrom("C:", "c:", "Z:"), fc.constantFrom("\\", "/"), segments)
    .map(([d, sep, s]) => d + sep + s.join(sep)),
  segments.map((s) => `\\\\host\\${s.join("\\")}`),
  fc.tuple(segments, segments).map(([a, b]) => `${a.join("/")}\\${b.join("/")}`),
  fc.tuple(segments, control, segments).map(([a, c, b]) => `${a.join("/")}${c}${b.join("/")}`),
  fc.tuple(segments, segments).map(([a, b]) => `${a.join("/")}//${b.join("/")}`),
  segments.map((s) => `${s.join("/")}/`),
  fc.integer({ min: 1025, max: 1600 }).map((n) => `deploy/${"a".repeat(n)}`),
  fc.integer({ min: 256, max: 400 }).map((n) => `deploy/${"b".repeat(n)}.yaml`),
);

interface Malformed {
  input: unknown;
  /** What the message must name: the field path as the message writes it. */
  field: string;
  forge: Forge;
}

const commitBase = {
  event: "CommitCompleted",
  trace_id: "trace-ord-8128",
  commit_hash: "9fbc871",
  repo: "OrderService",
  branch: "feature/order-handler",
  agent: "code-committer-agent",
  timestamp: "2025-05-07T19:05:33Z",
};
const COMMIT_STRINGS = ["trace_id", "repo", "branch", "agent"] as const;
const COMMIT_REQUIRED = ["trace_id", "commit_hash", "repo", "branch", "agent", "timestamp"] as const;

function without(object: Record<string, unknown>, key: string): Record<string, unknown> {
  const copy = { ...object };
  delete copy[key];
  return copy;
}

const forge = fc.constantFrom<Forge>("github", "azure-devops");

const malformedCommit: fc.Arbitrary<Malformed> = forge.chain((f) =>
  fc
    .oneof(
      fc.constantFrom(...COMMIT_REQUIRED).map((k) => ({ input: without(commitBase, k), field: k })),
      fc
        .tuple(fc.constantFrom(...COMMIT_STRINGS), notAString)
        .map(([k, v]) => ({ input: { ...commitBase, [k]: v }, field: k })),
      badRepoFor(f).map((repo) => ({ input: { ...commitBase, repo }, field: "repo" })),
      fc
        .tuple(alnum, control)
        .map(([a, c]) => ({ input: { ...commitBase, commit_hash: `${a}g${c}` }, field: "commit_hash" })),
      notADate.map((t) => ({ input: { ...commitBase, timestamp: t }, field: "timestamp" })),
      fc
        .oneof(anyText, notAString)
        .filter((n) => n !== "CommitCompleted" && n !== "ChangeRequested")
        .map((name) => ({ input: { ...commitBase, event: name }, field: "event" })),
      fc
        .oneof(fc.string(), fc.integer(), fc.boolean(), fc.array(fc.anything(), { maxLength: 3 }))
        .map((v) => ({ input: v, field: "(top level)" })),
    )
    .map((m) => ({ ...m, forge: f })),
);

const changeBase = changeRequest();
const CHANGE_REQUIRED = [
  "change_type",
  "repo",
  "base_branch",
  "summary",
  "edits",
  "context",
  "agent",
  "timestamp",
] as const;
const goodEdit = (i: number) =>
  fc.oneof(
    fc.constant({ path: `deploy/app-${i}/values.yaml`, set: { "spec.replicas": i } }),
    fc.constant({ path: `deploy/app-${i}/config.yaml`, content: "a: 1\n" }),
    fc.constant({ path: `deploy/app-${i}/old.yaml`, delete: true as const }),
  );
const goodEdits = fc
  .integer({ min: 1, max: 4 })
  .chain((n) => fc.tuple(...Array.from({ length: n }, (_, i) => goodEdit(i))));

const malformedChange: fc.Arbitrary<Malformed> = forge.chain((f) =>
  fc
    .oneof(
      {
        weight: 4,
        arbitrary: fc.tuple(goodEdits, fc.nat(), badPath).map(([edits, at, bad]) => {
          const k = at % edits.length;
          const changed = edits.map((e, i) => (i === k ? { ...e, path: bad } : e));
          return { input: { ...changeBase, edits: changed }, field: `edits[${k}].path` };
        }),
      },
      { weight: 2, arbitrary: badRepoFor(f).map((repo) => ({ input: { ...changeBase, repo }, field: "repo" })) },
      {
        weight: 1,
        arbitrary: fc.constantFrom(...CHANGE_REQUIRED).map((k) => ({ input: without(changeBase, k), field: k })),
      },
      {
        weight: 1,
        arbitrary: fc
          .constantFrom("alert", "remediation", "impact")
          .map((k) => ({ input: { ...changeBase, context: without(changeBase.context, k) }, field: `context.${k}` })),
      },
      {
        weight: 1,
        arbitrary: anyText.map((t) => ({ input: { ...changeBase, change_type: `X${t}` }, field: "change_type" })),
      },
      {
        weight: 1,
        arbitrary: fc
          .integer({ min: 201, max: 400 })
          .map((n) => ({ input: { ...changeBase, summary: "s".repeat(n) }, field: "summary" })),
      },
      { weight: 1, arbitrary: fc.constant({ input: { ...changeBase, edits: [] }, field: "edits" }) },
      {
        weight: 1,
        arbitrary: fc.tuple(goodEdits, fc.nat(), word).map(([edits, at, key]) => {
          const k = at % edits.length;
          const changed = edits.map((e, i) => (i === k ? { ...e, [`x-${key}`]: 1 } : e));
          return { input: { ...changeBase, edits: changed }, field: `edits[${k}]` };
        }),
      },
      { weight: 1, arbitrary: fc.constant({ input: without(changeBase, "change_id"), field: "change_id" }) },
      {
        weight: 1,
        arbitrary: fc
          .tuple(fc.constantFrom("repo", "base_branch", "summary", "agent"), notAString)
          .map(([k, v]) => ({ input: { ...changeBase, [k]: v }, field: k })),
      },
    )
    .map((m) => ({ ...m, forge: f })),
);

interface MalformedFile {
  text: string;
  /** What the message must contain: a field path, or the YAML syntax error's wording. */
  names: string;
}

const SYNTAX = "is not valid YAML";
/** YAML that does not parse (each with a random filler so the texts differ). */
const brokenYaml = (key: string) =>
  fc
    .tuple(
      fc.constantFrom(
        (w: string) => `${key}: [${w}`,
        (w: string) => `${key}: {a: ${w}`,
        (w: string) => `${key}: "${w}`,
        (w: string) => `${key}: 1\n${key}: ${w}`,
        (w: string) => `${key}:\n\t- ${w}`,
        (w: string) => `${key}: ${w}\n  - x\n y: z`,
        (w: string) => `[${w}]: : :\n- a\nb: c`,
      ),
      alnum,
    )
    .map(([make, w]) => ({ text: make(w), names: SYNTAX }));

const malformedConfig: fc.Arbitrary<MalformedFile> = fc.oneof(
  fc
    .tuple(word, fc.jsonValue({ maxDepth: 1 }))
    .map(([k, v]) => ({ text: stringify({ [`x_${k}`]: v }), names: `unknown key "x_${k}"` })),
  fc
    .oneof(
      anyText.map((t) => `x${t}`),
      notAString,
    )
    .map((v) => ({ text: stringify({ forge: v }), names: "forge:" })),
  fc
    .oneof(
      fc.integer({ max: 19 }),
      fc.integer({ min: 1001 }),
      fc.double({ min: 20.1, max: 99.9, noInteger: true }),
      anyText,
    )
    .map((v) => ({ text: stringify({ title: { max_length: v } }), names: "title.max_length:" })),
  fc
    .oneof(fc.integer({ max: 0 }), fc.double({ min: 0.1, max: 9.9, noInteger: true }), anyText)
    .map((v) => ({ text: stringify({ limits: { max_changed_lines: v } }), names: "limits.max_changed_lines:" })),
  fc.integer({ max: 499 }).map((v) => ({ text: stringify({ body: { max_length: v } }), names: "body.max_length:" })),
  fc
    .oneof(anyText, fc.integer(), fc.dictionary(word, fc.nat(), { minKeys: 1, maxKeys: 2 }))
    .map((v) => ({ text: stringify({ branch_rules: { forbidden: v } }), names: "branch_rules.forbidden" })),
  fc
    .tuple(fc.array(word, { maxLength: 2 }), fc.oneof(fc.constant(""), fc.integer(), fc.constant(null)))
    .map(([names, bad]) => ({
      text: stringify({ reviewers: { mandatory: [...names, bad] } }),
      names: "reviewers.mandatory",
    })),
  word.map((k) => ({ text: stringify({ title: { [`x_${k}`]: 1 } }), names: "title: has unknown key" })),
  fc
    .oneof(
      fc.integer(),
      fc.boolean(),
      fc.array(word, { minLength: 1, maxLength: 3 }),
      word.map((w) => `x${w}`),
    )
    .map((v) => ({ text: stringify(v), names: "(top level)" })),
  fc.constantFrom("forge", "title", "limits", "x").chain(brokenYaml),
);

const traceRecord = (i: number) =>
  fc.record({
    trace_id: fc.tuple(fc.constant(`trace-${i}-`), anyText).map(([a, b]) => a + b),
    blueprint_id: fc.constant(`bp-${i}`),
    component_scope: fc.constantFrom("Order", "Billing", "gitops"),
    linked_files: fc.array(
      word.map((w) => `src/${w}.cs`),
      { maxLength: 2 },
    ),
  });
const traceRecords = fc
  .integer({ min: 1, max: 3 })
  .chain((n) => fc.tuple(...Array.from({ length: n }, (_, i) => traceRecord(i))));
const TRACE_REQUIRED = ["trace_id", "blueprint_id", "component_scope"] as const;

const malformedTraces: fc.Arbitrary<MalformedFile> = fc.oneof(
  fc.tuple(traceRecords, fc.nat(), fc.constantFrom(...TRACE_REQUIRED)).map(([records, at, key]) => {
    const k = at % records.length;
    const traces = records.map((r, i) => (i === k ? without(r, key) : r));
    return { text: stringify({ traces }), names: `traces[${k}].${key}:` };
  }),
  fc.tuple(traceRecords, fc.nat(), fc.constantFrom(...TRACE_REQUIRED), notAString).map(([records, at, key, v]) => {
    const k = at % records.length;
    const traces = records.map((r, i) => (i === k ? { ...r, [key]: v } : r));
    return { text: stringify({ traces }), names: `traces[${k}].${key}:` };
  }),
  fc.tuple(traceRecords, fc.nat(), word).map(([records, at, key]) => {
    const k = at % records.length;
    const traces = records.map((r, i) => (i === k ? { ...r, [`x_${key}`]: "?" } : r));
    return { text: stringify({ traces }), names: `traces[${k}]: has unknown key` };
  }),
  fc.tuple(traceRecords, fc.nat(), fc.oneof(fc.constant([""]), fc.integer(), anyText)).map(([records, at, v]) => {
    const k = at % records.length;
    const traces = records.map((r, i) => (i === k ? { ...r, linked_files: v } : r));
    return { text: stringify({ traces }), names: `traces[${k}].linked_files` };
  }),
  fc.tuple(traceRecords, fc.nat()).map(([records, at]) => {
    const dup = { ...records[at % records.length]!, blueprint_id: "bp-dup" };
    return { text: stringify({ traces: [...records, dup] }), names: `twice (traces[${records.length}])` };
  }),
  fc
    .oneof(anyText, fc.integer(), fc.dictionary(word, fc.nat(), { maxKeys: 2 }))
    .map((v) => ({ text: stringify({ traces: v }), names: "traces:" })),
  fc
    .dictionary(
      word.filter((w) => w !== "traces"),
      fc.nat(),
      { maxKeys: 2 },
    )
    .map((v) => ({ text: stringify(v), names: "traces: is missing" })),
  fc.constantFrom("traces", "x").chain(brokenYaml),
);

// ── invariants ──────────────────────────────────────────────────────────────────────────────────────────

const STACK = /\bat .+:\d+:\d+|\n\s+at /;
/** Control characters other than the newlines between lines of output. */
const rawControls = (text: string) =>
  [...text].filter((c) => /[\p{Cc}\p{Cs}\u200b\u200e\u202a-\u202e\u2066-\u2069\u2028\ufeff]/u.test(c) && c !== "\n");

function capture(cwd: string): Io & { out: string[]; err: string[] } {
  const out: string[] = [];
  const err: string[] = [];
  return { out, err, cwd, stdout: (t) => void out.push(t), stderr: (t) => void err.push(t), readStdin: async () => "" };
}

/** What people read: a status line, a blank line, one paragraph — escaped, without a stack trace. */
function expectOneParagraph(stderr: string, reason: string, names: string): void {
  expect(rawControls(stderr)).toEqual([]);
  expect(stderr).not.toMatch(STACK);
  const lines = stderr.trimEnd().split("\n");
  expect(lines).toHaveLength(3);
  expect(lines[0]).toBe(`✖ Rejected: ${reason}`);
  expect(lines[1]).toBe("");
  expect(lines[2]).toContain(names);
}

/** Every file under `dir` (but `state/`) with its size and modification time. */
async function snapshot(dir: string): Promise<Record<string, string>> {
  const found: Record<string, string> = {};
  for (const entry of await readdir(dir, { recursive: true, withFileTypes: true })) {
    const full = path.join(entry.parentPath, entry.name);
    const rel = path.relative(dir, full);
    if (rel === "state" || rel.startsWith(`state${path.sep}`)) continue;
    const s = await stat(full);
    found[rel] = `${s.size}:${s.mtimeMs}`;
  }
  return found;
}

let before: Record<string, string>;

beforeAll(async () => {
  root = await mkdtemp(path.join(tmpdir(), "pr-creator-fuzz-"));
  work = path.join(root, "work");
  inputs = path.join(root, "inputs");
  await mkdir(path.join(work, "state"), { recursive: true });
  await mkdir(inputs);
  await writeFile(path.join(work, "event.json"), JSON.stringify(commitBase));
  [gh, az] = await Promise.all([
    startGitHubEmulator({ token: GH_TOKEN }),
    startAzureDevOpsEmulator({ token: AZ_TOKEN }),
  ]);
  const make = (kind: Forge, env: Record<string, string>) =>
    createAgent({
      policy: PolicySchema.parse({
        forge: kind,
        github: { throttle: false },
        retry_policy: { max_attempts: 1 },
        // Every run here fails; the alert a third failure in a row raises is tested in failure-alerts.test.ts.
        alerts: { consecutive_failures: 0 },
        state_file: path.join(work, "state", `${kind}.db`),
      }),
      env,
      traceRegistry: createInMemoryTraceRegistry(SAMPLE_TRACES),
      sinks: [async (e) => void delivered.push(e)],
      model: null,
      memory: null,
      cwd: work,
    });
  agents = {
    github: await make("github", { GITHUB_TOKEN: GH_TOKEN, GITHUB_API_URL: gh.url }),
    "azure-devops": await make("azure-devops", {
      AZURE_DEVOPS_TOKEN: AZ_TOKEN,
      AZURE_DEVOPS_ORG_URL: az.orgUrl,
      AZURE_DEVOPS_PROJECT: az.project,
    }),
  };
  before = await snapshot(work);
}, 60_000);

afterAll(async () => {
  await Promise.all(Object.values(agents ?? {}).map((a) => a.close()));
  await Promise.all([gh?.close(), az?.close()]);
  await rm(root, { recursive: true, force: true });
});

async function rejectsEvent({ input, field, forge: kind }: Malformed): Promise<void> {
  delivered.length = 0;
  const result = await agents[kind].handle(input);
  expect(result.status).toBe("failed");
  expect(result.reason).toBe("invalid_event");
  expect(exitCodeFor(result)).toBe(2);
  expect(result.message).not.toMatch(STACK);
  expect(result.message).not.toContain("\n");
  expect(result.message).toContain(field === "event" ? "The event's name is" : `${field}:`);
  expect(delivered.map((e) => [e.event, "reason" in e ? e.reason : null])).toEqual([
    ["PullRequestFailed", "invalid_event"],
  ]);
  const io = capture(work);
  expect(report(result, false, io)).toBe(2);
  expectOneParagraph(io.err.join(""), "invalid_event", field === "event" ? "The event's name is" : `${field}:`);
}

async function rejectsFile(kind: "config" | "traces", { text, names }: MalformedFile): Promise<void> {
  const file = path.join(inputs, kind === "config" ? "pr-creator.yaml" : "traces.yaml");
  await writeFile(file, text);
  const io = capture(work);
  const opts = kind === "config" ? { config: file } : { traces: file, config: path.join(inputs, "valid.yaml") };
  expect(await runCommand(path.join(work, "event.json"), opts, io)).toBe(2);
  expect(io.out).toEqual([]);
  expectOneParagraph(io.err.join(""), "invalid_config", names);
}

describe(`fuzzing inputs (seed ${SEED}, ${RUNS} runs per kind)`, () => {
  it("malformed CommitCompleted events", async () => {
    await fc.assert(fc.asyncProperty(malformedCommit, rejectsEvent), settings);
  });

  it("malformed change requests", async () => {
    await fc.assert(fc.asyncProperty(malformedChange, rejectsEvent), settings);
  });

  it("malformed config files", async () => {
    await fc.assert(
      fc.asyncProperty(malformedConfig, (m) => rejectsFile("config", m)),
      settings,
    );
  });

  it("malformed trace registry files", async () => {
    await writeFile(path.join(inputs, "valid.yaml"), "forge: dry-run\nlogging:\n  level: silent\n");
    await fc.assert(
      fc.asyncProperty(malformedTraces, (m) => rejectsFile("traces", m)),
      settings,
    );
  });

  it("reached no forge and touched no file outside the state folder", async () => {
    expect(gh.requests).toEqual([]);
    expect(az.requests).toEqual([]);
    expect(await snapshot(work)).toEqual(before);
  });
});

describe(`the built CLI on samples of each kind (seed ${SEED})`, () => {
  it("exits 2 with one paragraph naming the field, no stack trace, no forge request", async () => {
    const pick = <T>(arb: fc.Arbitrary<T>, n: number, offset: number) =>
      fc.sample(arb, { seed: SEED + offset, numRuns: n });
    const cases: {
      files: Record<string, string>;
      args: string[];
      reason: string;
      names: string;
      forge?: Forge;
      input?: string;
    }[] = [
      ...pick(malformedCommit, 1, 1).map((m) => ({
        files: { "event.json": JSON.stringify(m.input) },
        args: ["event.json"],
        reason: "invalid_event",
        names: m.field === "event" ? "The event's name is" : `${m.field}:`,
        forge: m.forge,
      })),
      ...pick(malformedChange, 2, 2).map((m) => ({
        files: { "event.json": JSON.stringify(m.input) },
        args: ["event.json"],
        reason: "invalid_event",
        names: `${m.field}:`,
        forge: m.forge,
      })),
      ...pick(malformedConfig, 1, 3).map((m) => ({
        files: { "event.json": JSON.stringify(commitBase), "bad.yaml": m.text },
        args: ["event.json", "--config", "bad.yaml"],
        reason: "invalid_config",
        names: m.names,
      })),
      ...pick(malformedTraces, 1, 4).map((m) => ({
        files: { "event.json": JSON.stringify(commitBase), "traces.yaml": m.text },
        args: ["event.json", "--traces", "traces.yaml"],
        reason: "invalid_config",
        names: m.names,
      })),
      // Standard input with a byte order mark (accepted) and then a terminal escape where a value belongs.
      {
        files: {},
        args: ["-"],
        input: '\ufeff{"event": \u001b[2J}',
        reason: "invalid_event",
        names: "is not valid JSON",
      },
    ];
    expect(cases).toHaveLength(6);
    const env = (kind: Forge | undefined): Record<string, string> =>
      kind === "github"
        ? { PR_CREATOR_FORGE: "github", GITHUB_TOKEN: GH_TOKEN, GITHUB_API_URL: gh.url }
        : kind === "azure-devops"
          ? {
              PR_CREATOR_FORGE: "azure-devops",
              AZURE_DEVOPS_TOKEN: AZ_TOKEN,
              AZURE_DEVOPS_ORG_URL: az.orgUrl,
              AZURE_DEVOPS_PROJECT: az.project,
            }
          : {};
    const run = async (c: (typeof cases)[number], i: number): Promise<[CliResult, string[], string[]]> => {
      const dir = path.join(root, `cli-${i}`);
      await mkdir(dir);
      for (const [name, text] of Object.entries(c.files)) await writeFile(path.join(dir, name), text);
      const result = await runCli(["run", ...c.args], {
        cwd: dir,
        env: { PATH: process.env.PATH ?? "", ...env(c.forge) },
        ...(c.input === undefined ? {} : { input: c.input }),
      });
      // Nothing may appear in the working directory, not even the state file (it lives in PR_CREATOR_STATE_DIR).
      const after = (await readdir(dir)).sort();
      return [result, Object.keys(c.files).sort(), after];
    };
    // Two at a time: a loaded two-core machine runs the rest of the suite beside this.
    const results: [CliResult, string[], string[]][] = [];
    for (let i = 0; i < cases.length; i += 2)
      results.push(...(await Promise.all(cases.slice(i, i + 2).map((c, j) => run(c, i + j)))));
    for (const [i, [result, written, after]] of results.entries()) {
      const c = cases[i]!;
      expect(result.code, result.stderr).toBe(2);
      expect(result.stdout).toBe("");
      expectOneParagraph(result.stderr, c.reason, c.names);
      expect(after).toEqual(written);
    }
    expect(gh.requests).toEqual([]);
    expect(az.requests).toEqual([]);
  }, 60_000);
});
