/**
 * Unsafe names in events never reach a forge: edit paths that leave the working tree and repository names a
 * forge cannot take fail as invalid_event (exit 2) before any request, with one paragraph naming the field.
 * Also: event files with a UTF-8 byte order mark are read, and control characters from events are shown
 * escaped in the human output.
 */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { createAgent } from "../../src/agent/create-agent.js";
import { runCommand, type Io } from "../../src/cli/run-command.js";
import { buildSampleRepo, SAMPLE_TRACES, type SampleRepo } from "../../src/demo/sample-repo.js";
import type { LifecycleEvent } from "../../src/domain/events.js";
import { PolicySchema } from "../../src/domain/policy.js";
import { createInMemoryTraceRegistry } from "../../src/policy/trace-registry.js";
import { startAzureDevOpsEmulator, type AzureEmulator } from "../emulators/azure-devops.js";
import { startGitHubEmulator, type GitHubEmulator } from "../emulators/github.js";
import { runCli, type CliResult } from "../helpers.js";

const GH_TOKEN = "ghp_inputSafetyToken0000000001";
const AZ_TOKEN = "azdo-input-safety-pat";

let root: string;
let sample: SampleRepo;
let gh: GitHubEmulator;
let az: AzureEmulator;

beforeAll(async () => {
  root = await mkdtemp(path.join(tmpdir(), "pr-creator-input-safety-"));
  [sample, gh, az] = await Promise.all([
    buildSampleRepo(path.join(root, "sample")),
    startGitHubEmulator({ token: GH_TOKEN }),
    startAzureDevOpsEmulator({ token: AZ_TOKEN }),
  ]);
}, 60_000);

afterEach(() => {
  gh.reset();
  az.reset();
});

afterAll(async () => {
  await Promise.all([gh?.close(), az?.close()]);
  await rm(root, { recursive: true, force: true });
});

const ghEnv = () => ({ GITHUB_TOKEN: GH_TOKEN, GITHUB_API_URL: gh.url });
const azEnv = () => ({
  AZURE_DEVOPS_TOKEN: AZ_TOKEN,
  AZURE_DEVOPS_ORG_URL: az.orgUrl,
  AZURE_DEVOPS_PROJECT: az.project,
});

const changeRequest = (overrides: Record<string, unknown> = {}) => ({
  ...sample.changeEvent,
  repo: "acme/gitops",
  ...overrides,
});

/** The built CLI in human mode (no --json) on one event in a fresh folder with `config`. */
async function cliRun(event: unknown, config: string, env: Record<string, string>): Promise<CliResult> {
  const dir = await mkdtemp(path.join(root, "cli-"));
  await writeFile(path.join(dir, "event.json"), JSON.stringify(event));
  await writeFile(path.join(dir, "pr-creator.yaml"), config);
  return runCli(["run", "event.json"], { cwd: dir, env: { PATH: process.env.PATH ?? "", ...env } });
}

/** stderr is the status line, a blank line and exactly one paragraph (no stack, no second paragraph). */
function paragraphOf(result: CliResult): string {
  const lines = result.stderr.trimEnd().split("\n");
  expect(lines).toHaveLength(3);
  expect(lines[0]).toBe("✖ Rejected: invalid_event");
  expect(lines[1]).toBe("");
  expect(result.stderr).not.toMatch(/^\s+at /m);
  return lines[2]!;
}

describe("the CLI rejects unsafe names with exit 2 before any forge request", () => {
  it("a change request editing ../../etc/passwd on GitHub", async () => {
    const event = changeRequest({ edits: [{ path: "../../etc/passwd", content: "root::0:0::/:/bin/sh\n" }] });
    const result = await cliRun(event, "forge: github\ngithub:\n  throttle: false\n", ghEnv());
    expect(result.code).toBe(2);
    expect(result.stdout).toBe("");
    const paragraph = paragraphOf(result);
    expect(paragraph).toMatch(
      /^The change request is invalid: edits\[0\]\.path: "\.\.\/\.\.\/etc\/passwd" has a "\.\." segment; expected a path from the repository root/,
    );
    expect(paragraph).toContain("Send a CommitCompleted event");
    expect(gh.requests).toEqual([]);
  }, 30_000);

  it("a GitHub owner/name sent to Azure DevOps", async () => {
    const event = { ...sample.event, repo: "acme/OrderService" };
    const result = await cliRun(event, "forge: azure-devops\n", azEnv());
    expect(result.code).toBe(2);
    expect(paragraphOf(result)).toMatch(
      /^The event is invalid: repo: "acme\/OrderService" is not an Azure DevOps repository name: it contains "\/"; expected one repository name/,
    );
    expect(az.requests).toEqual([]);
  }, 30_000);
});

describe("in process: no forge request for any unsafe name", () => {
  async function handle(event: unknown, forge: "github" | "azure-devops") {
    const delivered: LifecycleEvent[] = [];
    const agent = await createAgent({
      policy: PolicySchema.parse({
        forge,
        github: { throttle: false },
        retry_policy: { base_delay_ms: 10 },
        state_file: path.join(root, "state.db"),
      }),
      env: forge === "github" ? ghEnv() : azEnv(),
      traceRegistry: createInMemoryTraceRegistry(SAMPLE_TRACES),
      sinks: [async (e) => void delivered.push(e)],
      model: null,
      memory: null,
      cwd: root,
    });
    try {
      return { result: await agent.handle(event), delivered };
    } finally {
      await agent.close();
    }
  }

  const badPaths = [
    "../../etc/passwd",
    "deploy/../../x.yaml",
    ".git/config",
    "deploy/.Git/hooks/post-checkout",
    "/etc/passwd",
    "C:\\Windows\\win.ini",
    "\\\\host\\share\\x.yaml",
    "deploy/pvc\u0000.yaml",
    "deploy//pvc.yaml",
    `deploy/${"x".repeat(1100)}.yaml`,
  ];
  it.each(["github", "azure-devops"] as const)("edit paths on %s", async (forge) => {
    for (const [i, bad] of badPaths.entries()) {
      const edits = [
        { path: "deploy/orders/pvc.yaml", set: { "spec.resources.requests.storage": "20Gi" } },
        { path: bad, delete: true },
      ];
      const { result, delivered } = await handle(changeRequest({ repo: "gitops", change_id: `c${i}`, edits }), forge);
      expect(result.reason, bad).toBe("invalid_event");
      expect(result.message).toMatch(/^The change request is invalid: edits\[1\]\.path: "/);
      expect(delivered).toEqual([
        expect.objectContaining({ event: "PullRequestFailed", reason: "invalid_event", repo: "gitops" }),
      ]);
    }
    expect(forge === "github" ? gh.requests : az.requests).toEqual([]);
  });

  const badRepos: [string, "github" | "azure-devops"][] = [
    ["factory/OrderService/extra", "github"],
    ["../../etc", "github"],
    ["acme/..", "github"],
    ["Order Service", "github"],
    ["factory/OrderService/extra", "azure-devops"],
    ["../../etc", "azure-devops"],
    ["acme/OrderService", "azure-devops"],
    ["_OrderService", "azure-devops"],
    ["Order:Service", "azure-devops"],
  ];
  it.each(badRepos)("repo %j on %s", async (repo, forge) => {
    for (const event of [{ ...sample.event, repo }, changeRequest({ repo })]) {
      const { result, delivered } = await handle(event, forge);
      expect(result.reason).toBe("invalid_event");
      expect(result.message).toMatch(/^The (event|change request) is invalid: repo: "/);
      expect(delivered).toHaveLength(1);
    }
    expect(forge === "github" ? gh.requests : az.requests).toEqual([]);
  });
});

describe("reading and printing events (run command in process)", () => {
  function io(cwd: string, stdin = ""): Io & { out: string[]; err: string[] } {
    const out: string[] = [];
    const err: string[] = [];
    return {
      out,
      err,
      cwd,
      stdout: (t) => void out.push(t),
      stderr: (t) => void err.push(t),
      readStdin: async () => stdin,
    };
  }

  async function folder(): Promise<string> {
    const dir = await mkdtemp(path.join(root, "run-"));
    await writeFile(path.join(dir, "pr-creator.yaml"), "forge: dry-run\nlogging:\n  level: silent\n");
    return dir;
  }

  const opts = () => ({ repoPath: sample.dir, traces: sample.tracesFile, json: true });

  it("an event file or standard input starting with a UTF-8 byte order mark is read", async () => {
    const dir = await folder();
    await writeFile(path.join(dir, "bom.json"), `\ufeff${JSON.stringify(sample.event)}`);
    const fromFile = io(dir);
    expect(await runCommand(path.join(dir, "bom.json"), opts(), fromFile)).toBe(0);
    expect(JSON.parse(fromFile.out.join(""))).toMatchObject({ status: "previewed" });
    const fromStdin = io(dir, `\ufeff${JSON.stringify(sample.changeEvent)}\n`);
    expect(await runCommand("-", opts(), fromStdin)).toBe(0);
    expect(JSON.parse(fromStdin.out.join(""))).toMatchObject({ status: "previewed" });
  });

  it("control characters from the event are escaped in the paragraph printed for people", async () => {
    const dir = await folder();
    await writeFile(
      path.join(dir, "event.json"),
      JSON.stringify({ ...sample.event, branch: "feature/\u001b[2J\u001b[31mowned\u0007", agent: "a\u009b31m" }),
    );
    const human = io(dir);
    expect(await runCommand(path.join(dir, "event.json"), { ...opts(), json: false }, human)).toBe(2);
    const stderr = human.err.join("");
    expect(stderr).toContain("feature/\\x1b[2J\\x1b[31mowned\\x07");
    expect([...stderr].filter((c) => /\p{Cc}/u.test(c) && c !== "\n")).toEqual([]);
    // The JSON view keeps the value exactly; JSON itself escapes it.
    const machine = io(dir);
    await runCommand(path.join(dir, "event.json"), opts(), machine);
    expect(JSON.parse(machine.out.join("")).message).toContain("feature/\u001b[2J");
  });

  it("a JSON syntax error naming a control character is escaped too", async () => {
    const dir = await folder();
    const human = io(dir, '{"event": \u001b[31m}');
    expect(await runCommand("-", { json: false }, human)).toBe(2);
    expect(human.err.join("")).toMatch(/not valid JSON \(.*\\x1b/);
    expect(human.err.join("")).not.toContain("\u001b");
  });
});
