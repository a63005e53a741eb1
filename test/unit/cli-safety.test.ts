/**
 * What the CLI and its config loading show and refuse (issue 13): YAML alias bombs, state files that can
 * never work, webhook URLs that are not HTTP, values of environment variables that may be secrets, URL user
 * info, terminal control characters in human output, repository names on the command line, and the help
 * text staying the same while the option blocks are shared.
 */
import { mkdir, mkdtemp, readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import type { Command } from "commander";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createAgent, forgeEnv } from "../../src/agent/create-agent.js";
import { resolveProvider } from "../../src/agent/model.js";
import { buildProgram } from "../../src/cli/build-program.js";
import { createDebugPrinter } from "../../src/cli/debug-printer.js";
import { checkRepoName } from "../../src/cli/options.js";
import type { Io } from "../../src/cli/run-command.js";
import { describeSetting } from "../../src/domain/input-names.js";
import { PolicySchema } from "../../src/domain/policy.js";
import { stripUrlCredentials, urlCredentials, withoutUrlCredentials } from "../../src/domain/url-credentials.js";
import { displayUrl } from "../../src/events/webhook.js";
import { createLogger, resolveLogLevel, secretValuesFromEnv } from "../../src/logging/run-log.js";
import { loadPolicy } from "../../src/policy/load-policy.js";
import { loadTraceRegistryFile } from "../../src/policy/trace-registry.js";
import { formatHuman } from "../../src/render/run-summary.js";
import { checkStateFilePath } from "../../src/state/state-db.js";
import { rejection } from "../helpers.js";
import { makePolicy, runResult } from "./builders.js";

let root: string;

beforeAll(async () => {
  root = await mkdtemp(path.join(tmpdir(), "pr-creator-cli-safety-"));
});

afterAll(async () => {
  const { rm } = await import("node:fs/promises");
  await rm(root, { recursive: true, force: true });
});

async function file(name: string, text: string): Promise<string> {
  const target = path.join(root, name);
  await mkdir(path.dirname(target), { recursive: true });
  await writeFile(target, text);
  return target;
}

/** Nine levels of ten aliases each: a billion nodes once expanded, from a few hundred bytes. */
const ALIAS_BOMB = [
  'a: &a ["x", "x", "x", "x", "x", "x", "x", "x", "x", "x"]',
  ...["b", "c", "d", "e", "f", "g", "h", "i"].map(
    (name, i) => `${name}: &${name} [${Array(10).fill(`*${"abcdefghi"[i]}`).join(", ")}]`,
  ),
].join("\n");

describe("YAML alias bombs", () => {
  it("refuses a config file that expands aliases without bound, as invalid_config naming the file", async () => {
    const config = await file("bomb/pr-creator.yaml", `${ALIAS_BOMB}\n`);
    const error = await rejection(loadPolicy(config, root));
    expect(error.reason).toBe("invalid_config");
    expect(error.message).toBe(
      `The config file ${config} expands YAML aliases more than 100 times, which is refused as a resource exhaustion attack.`,
    );
  });

  it("refuses such a trace registry the same way", async () => {
    const traces = await file("bomb/traces.yaml", `${ALIAS_BOMB}\ntraces: []\n`);
    const error = await rejection(loadTraceRegistryFile(traces));
    expect(error.reason).toBe("invalid_config");
    expect(error.message).toContain(`The trace registry ${traces} expands YAML aliases more than 100 times`);
  });

  it("still reads a config that uses a few anchors and aliases", async () => {
    const config = await file(
      "anchors/pr-creator.yaml",
      "retry_policy: { max_attempts: &n 2 }\nmodel: { max_retries: *n }\n",
    );
    const { policy } = await loadPolicy(config, root);
    expect(policy.model.max_retries).toBe(2);
  });

  it("says an alias to an anchor that is not defined is not valid YAML", async () => {
    const config = await file("dangling/pr-creator.yaml", "title: *nowhere\n");
    const error = await rejection(loadPolicy(config, root));
    expect(error.reason).toBe("invalid_config");
    expect(error.message).toMatch(/^The config file .* is not valid YAML: Unresolved alias/);
  });
});

describe("state files that can never work", () => {
  it("refuses a directory, a device, and a path under a file, naming the problem", async () => {
    const dir = path.join(root, "state-dir");
    await mkdir(dir, { recursive: true });
    const plain = await file("state-plain", "not a folder");
    expect((await rejection(checkStateFilePath(dir))).message).toBe(`The state file ${dir} is a directory.`);
    expect((await rejection(checkStateFilePath("/dev/null"))).message).toBe(
      "The state file /dev/null is not a regular file.",
    );
    const under = path.join(plain, "deeper", "state.db");
    const error = await rejection(checkStateFilePath(under));
    expect(error.reason).toBe("invalid_config");
    expect(error.message).toBe(`The state file ${under} cannot be created: ${plain} is a file, not a folder.`);
  });

  it("accepts a state file that does not exist yet in folders that do not exist yet", async () => {
    await expect(checkStateFilePath(path.join(root, "new", "folders", "state.db"))).resolves.toBeUndefined();
  });

  it("makes createAgent fail with invalid_config before anything opens the state file", async () => {
    const dir = path.join(root, "agent-state-dir");
    await mkdir(dir, { recursive: true });
    const error = await rejection(createAgent({ policy: makePolicy({ state_file: dir }), model: null, cwd: root }));
    expect(error.reason).toBe("invalid_config");
    expect(error.message).toBe(`The state file ${dir} is a directory.`);
  });
});

describe("webhook URLs", () => {
  it("refuses a file: webhook URL when the config is read, saying only http and https are sent to", () => {
    const parsed = PolicySchema.safeParse({
      events: { webhooks: [{ url: "file:///etc/passwd" }], failure_webhook: { url: "ftp://example.com/x" } },
    });
    expect(parsed.success).toBe(false);
    expect(parsed.error!.issues.map((i) => [i.path.join("."), i.message])).toEqual([
      ["events.webhooks.0.url", "expected an http:// or https:// URL, not file:// (webhooks are sent over HTTP)"],
      ["events.failure_webhook.url", "expected an http:// or https:// URL, not ftp:// (webhooks are sent over HTTP)"],
    ]);
  });

  it("shows a non-HTTP URL with its scheme and host, not as null", () => {
    expect(displayUrl("file:///etc/passwd")).toBe("file:///etc/passwd");
    expect(displayUrl("https://user:pw@hooks.example.com:8443/in?token=x#f")).toBe("https://hooks.example.com:8443/in");
  });
});

describe("values of environment variables", () => {
  const TOKEN = "ghp_0123456789abcdefghijklmnopqrstuvwxyz";
  const env = { GITHUB_TOKEN: TOKEN, OPENAI_API_KEY: "sk-proj-abcdefghijklmnop" };

  it("never echoes a value that is a configured secret", () => {
    expect(describeSetting("PR_CREATOR_FORGE", TOKEN, [TOKEN])).toBe(
      "PR_CREATOR_FORGE holds the value of a configured secret (not shown)",
    );
    expect(describeSetting("X", `Bearer ${TOKEN}`, [TOKEN])).toContain("not shown");
    expect(describeSetting("X", TOKEN.slice(0, 20), [TOKEN])).toContain("not shown");
  });

  it("shows at most a short, escaped prefix of any other value", () => {
    expect(describeSetting("PR_CREATOR_FORGE", "gitlab", [])).toBe('PR_CREATOR_FORGE is "gitlab"');
    expect(describeSetting("PR_CREATOR_FORGE", "\u001b[2Jazure-devops-server-2022", [])).toBe(
      'PR_CREATOR_FORGE is "\\x1b[2Jazure-dev..."',
    );
  });

  it("PR_CREATOR_FORGE, PR_CREATOR_MODEL_PROVIDER and PR_CREATOR_LOG_LEVEL holding a token do not show it", async () => {
    const forge = await rejection(Promise.resolve().then(() => forgeEnv({ ...env, PR_CREATOR_FORGE: TOKEN })));
    expect(forge.message).toBe(
      "PR_CREATOR_FORGE holds the value of a configured secret (not shown); expected one of dry-run, azure-devops, github.",
    );
    const provider = await rejection(
      Promise.resolve().then(() =>
        resolveProvider(makePolicy(), { ...env, PR_CREATOR_MODEL_PROVIDER: env.OPENAI_API_KEY }),
      ),
    );
    expect(provider.message).toBe(
      "PR_CREATOR_MODEL_PROVIDER holds the value of a configured secret (not shown); expected one of none, openai, azure-openai.",
    );
    const level = await rejection(
      Promise.resolve().then(() =>
        resolveLogLevel({ configured: "info", env: { ...env, PR_CREATOR_LOG_LEVEL: ` ${TOKEN} ` } }),
      ),
    );
    expect(level.message).toBe(
      "PR_CREATOR_LOG_LEVEL holds the value of a configured secret (not shown), which is not a log level.",
    );
    for (const error of [forge, provider, level]) {
      expect(error.paragraph).not.toContain(TOKEN.slice(0, 12));
      expect(error.paragraph).not.toContain("sk-proj");
    }
  });
});

describe("URL user info", () => {
  it("is stripped from text, wherever a URL stands, and JSON text stays JSON", () => {
    expect(stripUrlCredentials("at https://bob:hunter2@api.example.com/v3 and http://TOKEN@h.example/x")).toBe(
      "at https://api.example.com/v3 and http://h.example/x",
    );
    expect(stripUrlCredentials("https://u:p@ss@host/x?mail=a@b")).toBe("https://host/x?mail=a@b");
    const json = JSON.stringify({ url: "https://h.example", by: "me@example.com" });
    expect(stripUrlCredentials(json)).toBe(json);
    expect(stripUrlCredentials("ssh://git@host/repo")).toBe("ssh://git@host/repo");
  });

  it("is stripped from every string of a result or event, which is otherwise unchanged", () => {
    const result = runResult({
      message: "GitHub could not be reached at https://bob:hunter2@ghe.example/api/v3",
      warnings: ["the webhook https://x:y@hooks.example/in failed"],
    });
    const clean = withoutUrlCredentials(result);
    expect(JSON.stringify(clean)).not.toMatch(/hunter2|x:y@/);
    expect(clean.message).toBe("GitHub could not be reached at https://ghe.example/api/v3");
    expect(clean.pr).toBe(result.pr);
  });

  it("counts as a secret: the password is scrubbed from log lines and the user info stripped", () => {
    const env = { GITHUB_API_URL: "https://bob:hunter2%21x@ghe.example/api/v3" };
    expect(urlCredentials(env.GITHUB_API_URL)).toEqual([
      "bob:hunter2%21x",
      "bob:hunter2!x",
      "hunter2%21x",
      "hunter2!x",
    ]);
    const lines: string[] = [];
    const log = createLogger({
      level: "info",
      destination: { write: (line: string) => void lines.push(line) },
      secrets: secretValuesFromEnv(env),
    });
    log.info({ api: env.GITHUB_API_URL, note: "password hunter2!x" }, "started");
    expect(lines.join("")).not.toMatch(/hunter2|bob/);
    expect(JSON.parse(lines[0]!)).toMatchObject({ api: "https://ghe.example/api/v3", note: "password [Redacted]" });
  });

  it("is never handed to the forge: the forge's environment has it stripped", () => {
    const env = forgeEnv({ GITHUB_API_URL: "https://bob:hunter2@ghe.example/api/v3", GITHUB_TOKEN: "t0ken-value" });
    expect(env).toEqual({ GITHUB_API_URL: "https://ghe.example/api/v3", GITHUB_TOKEN: "t0ken-value" });
  });
});

describe("terminal control characters in human output", () => {
  it("formatHuman escapes them in failures and previews, keeping the layout's newlines", () => {
    const failed = formatHuman(
      runResult({
        status: "failed",
        reason: "invalid_event",
        message: "bad \u001b[31mred\nline",
        pr: null,
        violations: [{ code: "title_format", message: "title \u202eevil", severity: "error" } as never],
      }),
    );
    expect(failed).toContain("bad \\x1b[31mred\\x0aline");
    expect(failed).toContain("title \\u202eevil");
    for (const raw of ["\u001b", "\u202e"]) expect(failed).not.toContain(raw);
    const base = runResult();
    const preview = formatHuman(runResult({ pr: { ...base.pr!, title: "feat: x \u001b]0;pwned\u0007" } }));
    expect(preview).toContain("feat: x \\x1b]0;pwned\\x07");
    expect(preview.split("\n").length).toBeGreaterThan(5);
  });

  it("the debug printer escapes node output: violations, failures and state values", () => {
    const out: string[] = [];
    const print = createDebugPrinter({ write: (t) => void out.push(t), color: false, now: () => 0 });
    print("gate", {
      rounds: [
        {
          round: 1,
          drafted_by: "model",
          violations: [{ code: "title_format", message: "bad \u001b[2J title", severity: "error" }],
        },
      ],
      failure: { reason: "invalid_event", message: "no \u009b31m way" },
      title: "t\u202eitle",
    } as never);
    const text = out.join("");
    for (const raw of ["\u001b", "\u009b", "\u202e"]) expect(text).not.toContain(raw);
    expect(text).toContain("bad \\x1b[2J title");
    expect(text).toContain("no \\x9b31m way");
    expect(text).toContain("t\\u202eitle");
  });
});

describe("repository names on the command line", () => {
  it("refuses a --repo that cannot name a repository, naming the option", () => {
    expect(() => checkRepoName("acme/Order/Service", "--repo")).toThrow(
      /^--repo "acme\/Order\/Service" is not a repository name: as a GitHub name it has 2 slashes/,
    );
    expect(() => checkRepoName("x\u001b[2J", "--repo")).toThrow(
      '--repo "x\\x1b[2J" contains the control or invisible character \\x1b',
    );
    expect(() => checkRepoName("acme/OrderService", "--repo", "azure-devops")).toThrow(
      /is not an Azure DevOps repository name/,
    );
    expect(() => checkRepoName("acme/OrderService", "--repo", "github")).not.toThrow();
  });
});

describe("help", () => {
  const io: Io = { stdout: () => {}, stderr: () => {}, readStdin: async () => "", cwd: root };

  /** `$ pr-creator <command> --help` → what it prints, for the program and every command under it. */
  function helpOf(command: Command, names: string[] = [], into = new Map<string, string>()): Map<string, string> {
    let text = "";
    command.configureOutput({ writeOut: (t) => void (text += t), getOutHelpWidth: () => 80 });
    command.outputHelp();
    into.set(`$ pr-creator ${names.map((n) => `${n} `).join("")}--help`, text);
    for (const sub of command.commands) helpOf(sub, [...names, sub.name()], into);
    return into;
  }

  /** cli-help.txt: the help as it was before the option blocks were shared, one `$ … --help` section per command. */
  async function recorded(): Promise<Map<string, string>> {
    const text = await readFile(new URL("./cli-help.txt", import.meta.url), "utf8");
    const sections = text.split(/^(?=\$ pr-creator .*--help$)/m);
    return new Map(sections.map((s) => [s.slice(0, s.indexOf("\n")), s.slice(s.indexOf("\n") + 1).replace(/\n$/, "")]));
  }

  it("is the same for every command as before the option blocks were shared", async () => {
    const expected = await recorded();
    const actual = helpOf(buildProgram(io));
    expect(expected.size).toBe(14);
    for (const [title, text] of expected) {
      // Commands added since may be listed in the program's own help; its options and description may not change.
      const shown =
        title === "$ pr-creator --help" ? (s: string) => s.slice(0, s.indexOf("Commands:")) : (s: string) => s;
      expect(shown(actual.get(title) ?? ""), title).toBe(shown(text));
    }
  });
});
