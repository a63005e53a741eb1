import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { Ajv2020 } from "ajv/dist/2020.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse as parseYaml } from "yaml";
import { configPrintCommand, configValidateCommand, type ConfigIo } from "../../src/cli/config-command.js";
import { checkConfigText } from "../../src/policy/check-config.js";
import { policyJsonSchema, type JsonSchemaNode } from "../../src/policy/json-schema.js";
import { loadPolicy } from "../../src/policy/load-policy.js";
import { rejection, runCli } from "../helpers.js";

const project = path.resolve(import.meta.dirname, "../..");
let root: string;
let count = 0;

beforeAll(async () => {
  root = await mkdtemp(path.join(tmpdir(), "pr-creator-config-"));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

async function dirWith(files: Record<string, string>): Promise<string> {
  const dir = path.join(root, `case-${++count}`);
  await import("node:fs/promises").then((fs) => fs.mkdir(dir, { recursive: true }));
  for (const [name, text] of Object.entries(files)) await writeFile(path.join(dir, name), text);
  return dir;
}

function capture(cwd: string, env: Record<string, string | undefined> = {}) {
  let out = "";
  let err = "";
  const io: ConfigIo = {
    stdout: (t) => void (out += t),
    stderr: (t) => void (err += t),
    readStdin: async () => "",
    cwd,
    env,
  };
  return { io, out: () => out, err: () => err };
}

/** Every object property of the schema, at any depth, as [dotted path, node]. */
function properties(node: JsonSchemaNode, prefix = ""): [string, JsonSchemaNode][] {
  const children: [string, JsonSchemaNode][] = [];
  for (const [key, child] of Object.entries(node.properties ?? {})) {
    const here = prefix ? `${prefix}.${key}` : key;
    children.push([here, child], ...properties(child, here));
  }
  if (node.items) children.push(...properties(node.items, `${prefix}[]`));
  if (typeof node.additionalProperties === "object")
    children.push(...properties(node.additionalProperties, `${prefix}.*`));
  return children;
}

describe("config schema", () => {
  it("describes every key of the policy", () => {
    const all = properties(policyJsonSchema());
    expect(all.length).toBeGreaterThan(140);
    expect(all.filter(([, node]) => !node.description?.trim()).map(([p]) => p)).toEqual([]);
    const byPath = Object.fromEntries(all);
    expect(byPath["title.trace_id_prefix"]!.description).toContain("`trace-ord-8128` → `[trace:ord-8128]`");
    expect(byPath["title.max_length"]!.default).toBe(100);
    // The one default that depends on the user is described, not given: the schema is the same everywhere.
    expect(byPath.state_file!.default).toBeUndefined();
    expect(byPath.state_file!.description).toContain("PR_CREATOR_STATE_DIR");
  });

  it("is shipped as schema/pr-creator.schema.json, byte for byte what `config schema` prints", async () => {
    const shipped = await readFile(path.join(project, "schema", "pr-creator.schema.json"), "utf8");
    const printed = await runCli(["config", "schema"], { cwd: root });
    expect(printed.code).toBe(0);
    expect(printed.stdout).toBe(shipped);
    const pkg = JSON.parse(await readFile(path.join(project, "package.json"), "utf8")) as { files: string[] };
    expect(pkg.files).toContain("schema");
  });

  it("accepts what pr-creator accepts and refuses typos, as an editor's validator would", () => {
    const ajv = new Ajv2020({ strict: false, allErrors: true });
    const validate = ajv.compile(policyJsonSchema());
    const good = "title: { max_length: 80 }\nforge: github\nrisk: { paths: [{ glob: 'infra/**', level: high }] }\n";
    expect(checkConfigText(good).ok).toBe(true);
    expect(validate(parseYaml(good))).toBe(true);
    for (const bad of ["title: { max_lenght: 80 }\n", "forge: gitlab\n", "risk: { paths: [{ glob: x }] }\n"]) {
      expect(checkConfigText(bad).ok).toBe(false);
      expect(validate(parseYaml(bad))).toBe(false);
    }
  });
});

describe("config validate", () => {
  const text = [
    "title:",
    "  max_lenght: 80",
    "forge: gitlab",
    "max_changed_lines: 10",
    "risk:",
    "  paths:",
    "    - { glob: 'infra/**', levl: high }",
    "",
  ].join("\n");

  it("names each problem's line and column, and the key a misspelt one meant", async () => {
    const dir = await dirWith({ "pr-creator.yaml": text });
    const c = capture(dir);
    expect(await configValidateCommand(undefined, {}, c.io)).toBe(2);
    expect(c.out()).toBe("");
    expect(c.err().split("\n")).toEqual([
      'pr-creator.yaml:2:3: title.max_lenght: unknown key "max_lenght"; did you mean "max_length"?',
      'pr-creator.yaml:3:8: forge: expected one of "dry-run", "azure-devops", "github", got "gitlab"',
      'pr-creator.yaml:4:1: max_changed_lines: unknown key "max_changed_lines"; did you mean "limits.max_changed_lines"?',
      'pr-creator.yaml:7:7: risk.paths[0].level: is missing (expected one of "low", "medium", "high")',
      'pr-creator.yaml:7:27: risk.paths[0].levl: unknown key "levl"; did you mean "level"?',
      "pr-creator.yaml: 5 problems. `pr-creator config schema` describes every key; point your editor at it for completion and checks as you type.",
      "",
    ]);
  });

  it("says a valid file is valid, reports YAML syntax errors by position, and answers --json", async () => {
    const dir = await dirWith({ "ok.yaml": "title: { max_length: 80 }\n", "broken.yaml": "title:\n  types: [feat,\n" });
    const ok = capture(dir);
    expect(await configValidateCommand("ok.yaml", {}, ok.io)).toBe(0);
    expect(ok.out()).toBe("ok.yaml: valid\n");
    const broken = capture(dir);
    expect(await configValidateCommand("broken.yaml", { json: true }, broken.io)).toBe(2);
    const result = JSON.parse(broken.out()) as { valid: boolean; problems: { line: number; message: string }[] };
    expect(result.valid).toBe(false);
    expect(result.problems[0]!.line).toBeGreaterThanOrEqual(2);
    expect(result.problems[0]!.message).toMatch(/^not valid YAML: /);
  });

  it("checks the file PR_CREATOR_CONFIG names when no file is given, through the CLI", async () => {
    const dir = await dirWith({ "team.yaml": "reviewers: { mandatry: [a] }\n" });
    const result = await runCli(["config", "validate"], {
      cwd: dir,
      env: { PATH: process.env.PATH ?? "", PR_CREATOR_CONFIG: "team.yaml" },
    });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(
      'team.yaml:1:14: reviewers.mandatry: unknown key "mandatry"; did you mean "mandatory"?',
    );
  });
});

describe("config print", () => {
  it("shows the effective policy and where each value came from: the file's line, the environment, the default", async () => {
    const dir = await dirWith({
      "pr-creator.yaml":
        "title:\n  max_length: 80\nrisk:\n  change_types: { pvc-size: high }\nstate_file: s/state.db\n",
    });
    const c = capture(dir, { PR_CREATOR_FORGE: "github", GITHUB_API_URL: "https://user:secret@ghe.example/api/v3" });
    expect(await configPrintCommand({}, c.io)).toBe(0);
    const lines = c.out().split("\n");
    expect(lines[0]).toBe(
      "# Effective pr-creator policy from pr-creator.yaml (found in the working directory); each value says where it came from.",
    );
    expect(lines).toContain("  max_length: 80 # pr-creator.yaml:2");
    expect(lines).toContain("  max_length: 4000 # default");
    expect(lines).toContain("    pvc-size: high # pr-creator.yaml:4");
    expect(lines).toContain("    cluster-config: high # default");
    expect(lines).toContain("forge: github # env PR_CREATOR_FORGE");
    expect(lines).toContain(`state_file: ${path.join(dir, "s", "state.db")} # pr-creator.yaml:5`);
    // A password in a URL from the environment is not printed.
    expect(c.out()).not.toContain("secret");
    expect(lines).toContain("  api_url: https://***@ghe.example/api/v3 # env GITHUB_API_URL");
  });

  it("without a config file prints the built-in policy, its state file in the state folder", async () => {
    const dir = await dirWith({});
    const c = capture(dir, { PR_CREATOR_STATE_DIR: path.join(dir, "state") });
    expect(await configPrintCommand({ json: true }, c.io)).toBe(0);
    const out = JSON.parse(c.out()) as {
      source: null;
      policy: { state_file: string };
      origins: Record<string, string>;
    };
    expect(out.source).toBeNull();
    expect(out.policy.state_file).toBe(path.join(dir, "state", "state.db"));
    expect(out.origins.state_file).toBe("default (from PR_CREATOR_STATE_DIR)");
    expect(out.origins["title.max_length"]).toBe("default");
  });
});

describe("PR_CREATOR_CONFIG", () => {
  it("names the config file when no --config is given; --config wins", async () => {
    const dir = await dirWith({
      "team.yaml": "title: { max_length: 90 }\n",
      "other.yaml": "title: { max_length: 70 }\n",
    });
    const env = { PR_CREATOR_CONFIG: "team.yaml" };
    const loaded = await loadPolicy(undefined, dir, env);
    expect(loaded.source).toBe(path.join(dir, "team.yaml"));
    expect(loaded.chosenBy).toBe("PR_CREATOR_CONFIG");
    expect(loaded.policy.title.max_length).toBe(90);
    expect((await loadPolicy("other.yaml", dir, env)).policy.title.max_length).toBe(70);
  });

  it("naming a missing or invalid file fails the run instead of silently using the built-in policy", async () => {
    const dir = await dirWith({ "event.json": "{}", "bad.yaml": "title: { max_lenght: 1 }\n" });
    const missing = await rejection(loadPolicy(undefined, dir, { PR_CREATOR_CONFIG: "nope.yaml" }));
    expect(missing.paragraph).toContain(`The config file ${path.join(dir, "nope.yaml")} does not exist.`);
    expect(missing.paragraph).toContain("fix the path in PR_CREATOR_CONFIG");
    const run = await runCli(["run", "event.json"], {
      cwd: dir,
      env: { PATH: process.env.PATH ?? "", PR_CREATOR_CONFIG: "bad.yaml" },
    });
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(`The config file ${path.join(dir, "bad.yaml")} is invalid`);
  });
});
