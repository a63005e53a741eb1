/**
 * Issue 13 through the built CLI: what people see (stdout, stderr, --json, exit codes) for a YAML alias bomb,
 * a state file that can never work, control characters in an error, bad --repo values, and a password in
 * GITHUB_API_URL (which must reach no output, file or webhook).
 */
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildSampleRepo, type SampleRepo } from "../../src/demo/sample-repo.js";
import { startGitHubEmulator, type GitHubEmulator } from "../emulators/github.js";
import { runCli, type CliResult } from "../helpers.js";
import { runEventCli } from "./forge-cli.js";

let root: string;
let sample: SampleRepo;

beforeAll(async () => {
  root = await mkdtemp(path.join(tmpdir(), "pr-creator-cli-safety-"));
  sample = await buildSampleRepo(path.join(root, "sample"));
}, 180_000);

afterAll(async () => {
  if (root) await rm(root, { recursive: true, force: true });
});

const cli = (args: string[]) => runCli(args, { cwd: root, env: { ...process.env, TMPDIR: root } });
const runArgs = (...extra: string[]) => [
  "run",
  sample.eventFile,
  "--repo-path",
  sample.dir,
  "--traces",
  sample.tracesFile,
  ...extra,
];

async function file(name: string, text: string): Promise<string> {
  const target = path.join(root, "files", name);
  await mkdir(path.dirname(target), { recursive: true });
  await writeFile(target, text);
  return target;
}

/** stdout is exactly one JSON object (and stderr carries no "error:" line). */
function onlyJson(result: CliResult): { status: string; reason: string; message: string } {
  expect(result.stderr).not.toMatch(/^error:/m);
  return JSON.parse(result.stdout) as { status: string; reason: string; message: string };
}

const ALIAS_BOMB = [
  'a: &a ["x", "x", "x", "x", "x", "x", "x", "x", "x", "x"]',
  ...["b", "c", "d", "e", "f", "g", "h", "i"].map(
    (name, i) => `${name}: &${name} [${Array(10).fill(`*${"abcdefghi"[i]}`).join(", ")}]`,
  ),
].join("\n");

describe("config that cannot be used: exit 2, invalid_config, JSON under --json", () => {
  it("an alias bomb in the config file", async () => {
    const config = await file("bomb.yaml", `${ALIAS_BOMB}\n`);
    const result = await cli(runArgs("--config", config, "--json"));
    expect(result.code).toBe(2);
    expect(onlyJson(result)).toMatchObject({
      status: "failed",
      reason: "invalid_config",
      message: expect.stringContaining(`The config file ${config} expands YAML aliases more than 100 times`),
    });
  });

  it("an alias bomb in the trace registry, for people", async () => {
    const traces = await file("bomb-traces.yaml", `${ALIAS_BOMB}\n`);
    const result = await cli(["run", sample.eventFile, "--repo-path", sample.dir, "--traces", traces]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(`The trace registry ${traces} expands YAML aliases more than 100 times`);
    expect(result.stderr).not.toContain("unexpected failure");
  });

  it("a state file under a file: run and trace both answer with one JSON object", async () => {
    const blocker = await file("not-a-folder", "plain file\n");
    const config = await file("state-under-file.yaml", `state_file: ${JSON.stringify(`${blocker}/state.db`)}\n`);
    const expected = {
      status: "failed",
      reason: "invalid_config",
      message: expect.stringContaining(
        `The state file ${blocker}/state.db cannot be created: ${blocker} is a file, not a folder.`,
      ),
    };
    const run = await cli(runArgs("--config", config, "--json"));
    expect(run.code).toBe(2);
    expect(onlyJson(run)).toMatchObject(expected);
    const trace = await cli(["trace", "trace-ord-8128", "--config", config, "--json"]);
    expect(trace.code).toBe(2);
    expect(onlyJson(trace)).toEqual(expected);
  });

  it("a state file that is a directory", async () => {
    const dir = path.join(root, "files", "state-dir");
    await mkdir(dir, { recursive: true });
    const config = await file("state-dir.yaml", `state_file: ${JSON.stringify(dir)}\n`);
    const result = await cli(["memory", "search", "orders", "--config", config, "--json"]);
    expect(result.code).toBe(2);
    expect(onlyJson(result)).toMatchObject({
      reason: "invalid_config",
      message: expect.stringContaining("is a directory"),
    });
  });
});

describe("what the CLI echoes", () => {
  it("escapes control characters in the top-level error line", async () => {
    const result = await cli(["debug", path.join(root, "evil\u001b[2J\u202e.json")]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("evil\\x1b[2J\\u202e.json does not exist");
    for (const raw of ["\u001b", "\u202e"]) expect(result.stderr).not.toContain(raw);
  });

  it("refuses a --repo of watch and rollback that cannot name a repository, naming the option", async () => {
    const watch = await cli(["watch", "7", "--repo", "acme/Order/Service"]);
    expect(watch.code).toBe(2);
    expect(watch.stderr).toMatch(/^error: --repo "acme\/Order\/Service" is not a repository name: /);
    const rollback = await cli(["rollback", "--pr", "7", "--repo", "x\u001b[2J", "--json"]);
    expect(rollback.code).toBe(2);
    expect(onlyJson(rollback)).toEqual({
      status: "failed",
      reason: "invalid_request",
      message:
        '--repo "x\\x1b[2J" contains the control or invisible character \\x1b; expected a repository name of printable characters; send the repository\'s name as the forge shows it.',
    });
  });
});

describe("a password inside GITHUB_API_URL", () => {
  const TOKEN = "ghp_cliSafetyToken0123456789";
  const PASSWORD = "hunter2-in-the-url";
  let gh: GitHubEmulator;
  let hook: Server;
  const delivered: string[] = [];

  beforeAll(async () => {
    gh = await startGitHubEmulator({ token: TOKEN });
    const sha = (n: number) => n.toString(16).padStart(40, "a");
    const author = { name: "code-committer-agent", email: "cc@agents.local", date: "2025-05-07T19:05:33Z" };
    const handler = "src/Application/Handlers/CreateOrderHandler.cs";
    gh.seedRepo("acme/OrderService", {
      default_branch: "main",
      branches: { main: sha(1), dev: sha(2), "feature/order-handler": sha(3) },
      commits: {
        [sha(1)]: { message: "chore: scaffold", author, parents: [], files: [] },
        [sha(2)]: { message: "chore: dev", author, parents: [sha(1)], files: [] },
        [sha(3)]: {
          message: "feat(order): implement CreateOrderHandler [trace:ord-8128]",
          author,
          parents: [sha(2)],
          files: [
            { filename: handler, status: "added", additions: 12, deletions: 0 },
            { filename: "tests/Order/CreateOrderHandlerTests.cs", status: "added", additions: 14, deletions: 0 },
          ],
        },
      },
    });
    gh.addUser("TechLeadAgent");
    gh.addUser("QAAssistantAgent");
    hook = createServer((req, res) => {
      let body = "";
      req.on("data", (chunk: Buffer) => (body += chunk.toString("utf8")));
      req.on("end", () => {
        delivered.push(body);
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((resolve) => hook.listen(0, "127.0.0.1", resolve));
  });

  afterAll(async () => {
    await gh.close();
    await new Promise<void>((resolve) => hook.close(() => resolve()));
  });

  it("is used without its user info and reaches no output, events file, webhook or log", async () => {
    const api = new URL(gh.url);
    const hookUrl = `http://127.0.0.1:${(hook.address() as AddressInfo).port}/hook`;
    const dir = await mkdtemp(path.join(root, "github-"));
    const result = await runEventCli(
      {
        event: "CommitCompleted",
        trace_id: "trace-ord-8128",
        commit_hash: "a".repeat(39) + "3",
        repo: "acme/OrderService",
        branch: "feature/order-handler",
        agent: "code-committer-agent",
        timestamp: "2025-05-07T19:05:33Z",
      },
      `forge: github\ngithub: { throttle: false }\nretry_policy: { base_delay_ms: 10 }\nevents: { jsonl_file: events.jsonl, webhooks: [{ url: "${hookUrl}" }] }\n`,
      {
        GITHUB_TOKEN: TOKEN,
        GITHUB_API_URL: `${api.protocol}//builder:${PASSWORD}@${api.host}`,
      },
      dir,
    );
    expect(result.code, result.stderr).toBe(0);
    expect(JSON.parse(result.stdout)).toMatchObject({
      status: "created",
      events: expect.arrayContaining([expect.objectContaining({ event: "PullRequestCreated" })]),
    });
    const events = await readFile(path.join(dir, "events.jsonl"), "utf8");
    expect(delivered.length).toBeGreaterThan(0);
    expect(result.logs.length).toBeGreaterThan(0);
    for (const text of [result.stdout, result.stderr, JSON.stringify(result.logs), events, ...delivered]) {
      expect(text).not.toContain(PASSWORD);
      expect(text).not.toContain("builder:");
    }
  });
});
