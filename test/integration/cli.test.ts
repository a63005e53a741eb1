/**
 * Integration tests for the built CLI: `node dist/cli/main.js` as a child process, with CI=true and no TTY.
 * test/global-setup.ts builds dist once; one sample repository (buildSampleRepo) serves every `run` test.
 */
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildSampleRepo, type SampleRepo } from "../../src/demo/sample-repo.js";
import { PullRequestFailedSchema, type PullRequestFailed } from "../../src/domain/events.js";
import { runCli, type CliResult } from "../helpers.js";

const PROJECT = fileURLToPath(new URL("../..", import.meta.url));
const MAIN = path.join(PROJECT, "dist", "cli", "main.js");
const SEED_TITLE = "feat(order): implement CreateOrderHandler [trace:ord-8128]";
const STACK_LINE = /^ {4}at /m;

let root: string;
let sample: SampleRepo;

/** The parts of `--json` output the tests read. */
interface JsonResult {
  status: string;
  reason?: string;
  message?: string;
  pr: Record<string, unknown> | null;
  violations: { code: string; message: string }[];
  events: Record<string, unknown>[];
  drafted_by: string | null;
  warnings: string[];
}

function cli(args: string[], opts: { input?: string; cwd?: string } = {}): Promise<CliResult> {
  return runCli(args, {
    cwd: opts.cwd ?? root,
    env: { ...process.env, TMPDIR: root },
    ...(opts.input === undefined ? {} : { input: opts.input }),
  });
}

/** The whole of stdout must be one JSON document. */
function json(result: CliResult): JsonResult {
  return JSON.parse(result.stdout) as JsonResult;
}

const runArgs = (eventFile: string, ...extra: string[]) => [
  "run",
  eventFile,
  "--repo-path",
  sample.dir,
  "--traces",
  sample.tracesFile,
  ...extra,
];

function expectNoStack(result: CliResult): void {
  expect(result.stdout).not.toMatch(STACK_LINE);
  expect(result.stderr).not.toMatch(STACK_LINE);
}

/** A file in the temporary root holding `content` (an event as JSON, or raw text). */
async function file(name: string, content: unknown): Promise<string> {
  const target = path.join(root, "files", name);
  await mkdir(path.dirname(target), { recursive: true });
  await writeFile(target, typeof content === "string" ? content : JSON.stringify(content, null, 2));
  return target;
}

function onlyFailedEvent(out: JsonResult): PullRequestFailed {
  expect(out.events).toHaveLength(1);
  return PullRequestFailedSchema.parse(out.events[0]);
}

let seedRun: Promise<CliResult> | undefined;
/** `run <sample event> --json`, spawned once and shared. */
const seedJson = () => (seedRun ??= cli(runArgs(sample.eventFile, "--json")));

beforeAll(async () => {
  root = await mkdtemp(path.join(tmpdir(), "pr-creator-cli-it-"));
  // test/global-setup.ts has built dist/ for this run.
  expect(existsSync(MAIN)).toBe(true);
  sample = await buildSampleRepo(path.join(root, "sample"));
}, 180_000);

afterAll(async () => {
  if (root) await rm(root, { recursive: true, force: true });
});

describe("cli run: success", () => {
  it("prints exactly one JSON object with --json and exits 0", async () => {
    const result = await seedJson();
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    // One structured log line per run, with the seed's fields, on stderr (stdout is the result).
    expect(result.logs).toHaveLength(1);
    expect(result.logs[0]).toMatchObject({
      level: "info",
      msg: "run finished",
      agent: "pull-request-creator-agent",
      execution_id: expect.stringMatching(/^exec-/),
      trace_id: "trace-ord-8128",
      repo: "OrderService",
      branch: "feature/order-handler",
      status: "skipped",
      pr_id: null,
      duration_ms: expect.any(Number),
      timestamp: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
    });
    const out = json(result);
    expect(Object.keys(out)).toEqual(expect.arrayContaining(["status", "pr", "violations", "events", "drafted_by"]));
    expect(out).not.toHaveProperty("reason");
    expect(out.status).toBe("previewed");
    expect(out.violations).toEqual([]);
    expect(out.events).toEqual([]);
    expect(out.drafted_by).toBe("deterministic");

    const pr = out.pr!;
    expect(Object.keys(pr)).toEqual(
      expect.arrayContaining([
        "id",
        "url",
        "title",
        "description",
        "source_branch",
        "target_branch",
        "reviewers",
        "labels",
        "is_draft",
        "auto_complete",
        "risk",
      ]),
    );
    expect(pr).toMatchObject({
      id: null,
      url: null,
      title: SEED_TITLE,
      source_branch: "feature/order-handler",
      target_branch: "dev",
      reviewers: [
        { name: "TechLeadAgent", required: true },
        { name: "QAAssistantAgent", required: true },
      ],
      labels: ["domain:order", "traceable", "generated-by:AI"],
      is_draft: false,
      auto_complete: false,
      risk: { level: "medium", reasons: ["commit type feat is medium risk"] },
    });
    for (const reviewer of pr.reviewers as object[]) expect(Object.keys(reviewer).sort()).toEqual(["name", "required"]);
    expect(pr.description).toEqual(expect.stringContaining("## Summary"));
  });

  it("prints the title and the description for people without --json", async () => {
    const [human, machine] = await Promise.all([cli(runArgs(sample.eventFile)), seedJson()]);
    expect(human.code).toBe(0);
    expect(human.stderr).toBe("");
    const pr = json(machine).pr!;
    expect(human.stdout).toContain(SEED_TITLE);
    expect(human.stdout).toContain((pr.description as string).trimEnd());
    expect(human.stdout).toContain("feature/order-handler → dev");
  });

  it("reads the event from standard input with -", async () => {
    const result = await cli(runArgs("-", "--json"), { input: JSON.stringify(sample.event) });
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    const out = json(result);
    expect(out.status).toBe("previewed");
    expect(out.pr!.title).toBe(SEED_TITLE);
  });
});

describe("cli run: rejected input", () => {
  it("explains malformed JSON in one paragraph and exits 2", async () => {
    const bad = await file("malformed.json", '{"event": "CommitCompleted", "trace_id": }');
    const result = await cli(runArgs(bad));
    expect(result.code).toBe(2);
    expect(result.stdout).toBe("");
    expectNoStack(result);
    expect(result.stderr).toContain("not valid JSON");
    expect(result.stderr).toContain(bad);
    // A status line, a blank line, then the message as one paragraph.
    const [status, paragraph, ...rest] = result.stderr.trimEnd().split("\n\n");
    expect(status).toBe("✖ Rejected: invalid_event");
    expect(paragraph).not.toContain("\n");
    expect(rest).toEqual([]);
  });

  it("reports malformed JSON as one JSON object with no event when --json is given", async () => {
    const bad = await file("malformed.json", '{"event": "CommitCompleted", "trace_id": }');
    const result = await cli(runArgs(bad, "--json"));
    expect(result.code).toBe(2);
    expect(result.stderr).toBe("");
    expectNoStack(result);
    const out = json(result);
    expect(out.status).toBe("failed");
    expect(out.reason).toBe("invalid_event");
    expect(out.message).toContain("not valid JSON");
    expect(out.pr).toBeNull();
    // Nothing of the event could be read, so there is nothing to put in a PullRequestFailed.
    expect(out.events).toEqual([]);
  });

  // Node's JSON.parse message quotes the input, newlines included; the CLI must keep one paragraph.
  it("keeps the error one paragraph when the malformed JSON spans several lines", async () => {
    const bad = await file("malformed-multiline.json", '{\n  "event": "CommitCompleted",\n  "trace_id": \n}\n');
    const result = await cli(runArgs(bad, "--json"));
    expect(result.code).toBe(2);
    expect(json(result).message).not.toContain("\n");
  });

  it("rejects an event with a missing field, exits 2 and names the field", async () => {
    const { agent: _omitted, ...event } = sample.event;
    const eventFile = await file("missing-agent.json", event);
    const result = await cli(runArgs(eventFile));
    expect(result.code).toBe(2);
    expect(result.stdout).toBe("");
    expectNoStack(result);
    expect(result.stderr).toContain("invalid_event");
    expect(result.stderr).toMatch(/\bagent\b/);
  });

  it("reports a missing field with exactly one PullRequestFailed under --json, and appends it to --events", async () => {
    const { agent: _omitted, ...event } = sample.event;
    const eventFile = await file("missing-agent.json", event);
    const eventsFile = path.join(root, "events", "missing-field.jsonl");
    const result = await cli(runArgs(eventFile, "--json", "--events", eventsFile));
    expect(result.code).toBe(2);
    expect(result.stderr).toBe("");
    const out = json(result);
    expect(out.status).toBe("failed");
    expect(out.reason).toBe("invalid_event");
    const failed = onlyFailedEvent(out);
    expect(failed).toMatchObject({
      reason: "invalid_event",
      trace_id: sample.event.trace_id,
      repo: sample.event.repo,
      branch: sample.event.branch,
      attempted_branch: sample.event.branch,
      commit_hash: sample.event.commit_hash,
      created_by: "pull-request-creator-agent",
    });
    const lines = (await readFile(eventsFile, "utf8")).split("\n").filter(Boolean);
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0]!)).toEqual(failed);
  });

  it("says an event file that does not exist does not exist, and exits 2", async () => {
    const missing = path.join(root, "files", "no-such-event.json");
    const result = await cli(runArgs(missing));
    expect(result.code).toBe(2);
    expect(result.stdout).toBe("");
    expectNoStack(result);
    expect(result.stderr).toContain(missing);
    expect(result.stderr).toContain("does not exist");
  });

  it("names the key and the file of an invalid config, and exits 2", async () => {
    const config = await file("bad-config.yaml", "titel:\n  max_length: 80\n");
    const result = await cli(runArgs(sample.eventFile, "--config", config));
    expect(result.code).toBe(2);
    expect(result.stdout).toBe("");
    expectNoStack(result);
    expect(result.stderr).toContain("invalid_config");
    expect(result.stderr).toContain('"titel"');
    expect(result.stderr).toContain(config);
  });

  it("reports an invalid config as invalid_config with one PullRequestFailed under --json", async () => {
    const config = await file("bad-config.yaml", "titel:\n  max_length: 80\n");
    const result = await cli(runArgs(sample.eventFile, "--config", config, "--json"));
    expect(result.code).toBe(2);
    expect(result.stderr).toBe("");
    const out = json(result);
    expect(out.status).toBe("failed");
    expect(out.reason).toBe("invalid_config");
    expect(out.message).toContain(config);
    // The event itself was readable, so the failure event carries its fields.
    expect(onlyFailedEvent(out)).toMatchObject({
      reason: "invalid_config",
      trace_id: sample.event.trace_id,
      repo: sample.event.repo,
      branch: sample.event.branch,
      commit_hash: sample.event.commit_hash,
      created_by: "pull-request-creator-agent",
    });
  });

  // When the config itself is broken, --events is the only sink known, and the failure must still reach it.
  it("appends the invalid_config PullRequestFailed to the --events file too", async () => {
    const config = await file("bad-config.yaml", "titel:\n  max_length: 80\n");
    const eventsFile = path.join(root, "events", "invalid-config.jsonl");
    const result = await cli(runArgs(sample.eventFile, "--config", config, "--events", eventsFile, "--json"));
    expect(result.code).toBe(2);
    const lines = (await readFile(eventsFile, "utf8")).split("\n").filter(Boolean);
    expect(lines.map((l) => JSON.parse(l) as unknown)).toEqual(json(result).events);
  });

  it("reports repo_not_found for a --repo-path that is not a git repository, and exits 2", async () => {
    const notRepo = path.join(root, "not-a-repo");
    await mkdir(notRepo, { recursive: true });
    const result = await cli([
      "run",
      sample.eventFile,
      "--repo-path",
      notRepo,
      "--traces",
      sample.tracesFile,
      "--json",
    ]);
    expect(result.code).toBe(2);
    expect(result.stderr).toBe("");
    const out = json(result);
    expect(out.status).toBe("failed");
    expect(out.reason).toBe("repo_not_found");
    expect(out.message).toContain(notRepo);
    expect(out.message).toContain("is not a git repository");
    expect(onlyFailedEvent(out).reason).toBe("repo_not_found");
  });

  it("still prints one JSON object under --json when the --events file cannot be written", async () => {
    const { agent: _omitted, ...event } = sample.event;
    const eventFile = await file("missing-agent.json", event);
    const eventsDir = path.join(root, "events", "a-directory");
    await mkdir(eventsDir, { recursive: true });
    const result = await cli(runArgs(eventFile, "--json", "--events", eventsDir));
    expect(result.code).toBe(2);
    expectNoStack(result);
    const out = json(result);
    expect(out.status).toBe("failed");
    expect(out.reason).toBe("invalid_config");
    expect(out.message).toContain(`The events file ${eventsDir} is a directory`);
    expect(out.warnings).toEqual([
      expect.stringContaining(`could not append PullRequestFailed to the events file ${eventsDir}`),
    ]);
    expect(result.stderr).toContain("warning: Event delivery failed");
  });
});

describe("cli options", () => {
  it("prints the package version with --version", async () => {
    const pkg = JSON.parse(await readFile(path.join(PROJECT, "package.json"), "utf8")) as { version: string };
    const result = await cli(["--version"]);
    expect(result.code).toBe(0);
    expect(result.stdout.trim()).toBe(pkg.version);
  });

  it("lists the global options and the commands with --help", async () => {
    const result = await cli(["--help"]);
    expect(result.code).toBe(0);
    for (const text of ["--version", "--debug", "--help", "run", "demo"]) expect(result.stdout).toContain(text);
  });

  it("lists every run option with run --help", async () => {
    const result = await cli(["run", "--help"]);
    expect(result.code).toBe(0);
    for (const text of [
      "-c, --config",
      "-t, --traces",
      "-r, --repo-path",
      "-e, --events",
      "--dry-run",
      "--json",
      "--help",
      "Exit codes",
    ]) {
      expect(result.stdout).toContain(text);
    }
  });

  it("lists every demo option with demo --help", async () => {
    const result = await cli(["demo", "--help"]);
    expect(result.code).toBe(0);
    for (const text of ["-d, --dir", "--json", "--help"]) expect(result.stdout).toContain(text);
  });

  it("exits 2 on an unknown option", async () => {
    const result = await cli(runArgs(sample.eventFile, "--bogus"));
    expect(result.code).toBe(2);
    expect(result.stdout).toBe("");
    expect(result.stderr).toContain("unknown option '--bogus'");
    expectNoStack(result);
  });

  it("exits 2 when run has no event argument", async () => {
    const result = await cli(["run"]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("missing required argument 'event'");
  });
});

describe("cli demo", () => {
  it("runs the seed's example, a related change and a change request with --json; the second recalls the first", async () => {
    const result = await cli(["demo", "--json"]);
    expect(result.code).toBe(0);
    expect(result.stderr).toBe("");
    const out = JSON.parse(result.stdout) as { runs: (JsonResult & { memory: { recalled: { title: string }[] } })[] };
    expect(out.runs.map((r) => r.status)).toEqual(["previewed", "previewed", "previewed"]);
    const change = out.runs[2]!.pr!;
    expect(change.title).toBe("fix(orders): increase orders-data PVC to 20Gi [trace:pvc-size-4711]");
    expect(change.source_branch).toBe("agent-sre/pvc-size-4711");
    expect(change.target_branch).toBe("main");
    expect(change.risk).toEqual({ level: "low", reasons: ["change type pvc-size is low risk"] });
    expect(change.auto_complete).toBe(true);
    expect(change.description).toContain("| deploy/orders/pvc.yaml | Modified | +1 -1 |");
    expect(out.runs[0]!.pr!.title).toBe(SEED_TITLE);
    expect(out.runs[1]!.pr!.title).toBe("feat(order): implement CancelOrderHandler [trace:ord-8131]");
    expect(out.runs[0]!.memory.recalled).toEqual([]);
    expect(out.runs[1]!.memory.recalled.map((r) => r.title)).toEqual([SEED_TITLE]);
  });

  it("builds the sample in --dir and prints the preview", async () => {
    const dir = path.join(root, "demo-here");
    const result = await cli(["demo", "--dir", dir]);
    expect(result.code).toBe(0);
    expect(result.stderr).toBe("");
    expect((await readdir(dir)).sort()).toEqual([
      ".pr-creator",
      "OrderService",
      "event-2.json",
      "event-3.json",
      "event.json",
      "pr-creator.yaml",
      "traces.yaml",
    ]);
    expect(existsSync(path.join(dir, "OrderService", ".git"))).toBe(true);
    expect(result.stdout).toContain(
      `Sample repository ${path.join(dir, "OrderService")}: branch feature/order-handler`,
    );
    expect(result.stdout).toContain(SEED_TITLE);
    expect(result.stdout).toContain(`Recalled   ${SEED_TITLE}`);
  });

  it("refuses a --dir that is not empty and exits 2", async () => {
    const dir = await mkdtemp(path.join(root, "demo-full-"));
    await writeFile(path.join(dir, "keep.txt"), "mine\n");
    const result = await cli(["demo", "--dir", dir]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("is not empty");
    expect(await readdir(dir)).toEqual(["keep.txt"]);
  });
});
