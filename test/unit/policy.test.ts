import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { formatZodIssues, parseExplained } from "../../src/domain/errors.js";
import { DEFAULT_REQUIRED_SECTIONS, DEFAULT_TYPES, PolicySchema } from "../../src/domain/policy.js";
import { TraceRecordSchema, TraceRegistryFileSchema } from "../../src/domain/trace.js";
import { DEFAULT_CONFIG_FILE, loadPolicy } from "../../src/policy/load-policy.js";
import { loadYamlFile } from "../../src/policy/load-yaml.js";
import { createInMemoryTraceRegistry, loadTraceRegistryFile } from "../../src/policy/trace-registry.js";
import { makePolicy, seedTrace } from "./builders.js";
import { rejection } from "../helpers.js";

let root: string;
let dirCount = 0;

beforeAll(async () => {
  root = await mkdtemp(path.join(tmpdir(), "pr-creator-policy-"));
});

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

async function newDir(): Promise<string> {
  dirCount += 1;
  const dir = path.join(root, `case-${dirCount}`);
  await mkdir(dir, { recursive: true });
  return dir;
}

async function writeIn(dir: string, name: string, text: string): Promise<string> {
  const file = path.join(dir, name);
  await mkdir(path.dirname(file), { recursive: true });
  await writeFile(file, text);
  return file;
}

function issuesOf(input: unknown): string[] {
  const result = PolicySchema.safeParse(input, { reportInput: true });
  if (result.success) throw new Error("expected the policy to be invalid");
  return formatZodIssues(result.error);
}

describe("PolicySchema defaults", () => {
  it("an empty object yields the seed's policy", () => {
    const p = makePolicy();
    expect(p.branch_rules).toEqual({
      allowed_prefixes: ["feature/", "bugfix/", "hotfix/"],
      target_branch_map: { "feature/": "dev", "bugfix/": "dev", "hotfix/": "main" },
      forbidden: ["master", "deprecated/"],
    });
    expect(p.title).toEqual({
      max_length: 100,
      types: DEFAULT_TYPES,
      forbidden_keywords: ["test", "asdf", "fixme"],
      trace_id_prefix: "trace-",
    });
    expect(p.body).toEqual({
      max_length: 4000,
      max_line_length: 100,
      repo_pr_template: "ignore",
      required_sections: DEFAULT_REQUIRED_SECTIONS,
      use_repo_template: true,
    });
    expect(p.body.template).toBeUndefined();
    expect(p.body.template_file).toBeUndefined();
    expect(p.limits).toEqual({ max_changed_lines: 3000 });
    expect(p.reviewers).toEqual({
      mandatory: ["TechLeadAgent", "QAAssistantAgent"],
      by_scope: {},
      codeowners: "off",
    });
    expect(p.labels.always).toEqual(["traceable", "generated-by:AI"]);
    expect(p.labels.domain).toBe("domain:<scope>");
    expect(p.labels.requires_tests.enabled).toBe(true);
    expect(p.labels.requires_tests.label).toBe("requires-tests");
    expect(p.trace.match_scope_in_path).toBe(true);
    expect(p.trace.always_in_scope).toContain("**/*.md");
    expect(p.pr).toEqual({ commit_range: "auto" });
    expect(p.merge.auto_merge_levels).toEqual(["low"]);
    expect(p.risk.change_types["pvc-size"]).toBe("low");
    expect(p.retry_policy).toEqual({
      max_attempts: 3,
      backoff: "exponential",
      base_delay_ms: 1000,
      retryable_status_codes: [429, 500, 502, 503],
    });
    expect(p.trace_registry).toBeUndefined();
    expect(p.events).toEqual({ stdout: false, webhooks: [], outbox: true });
  });

  it("the default required sections and types are the seed's", () => {
    expect(DEFAULT_REQUIRED_SECTIONS).toEqual([
      "Summary|Description",
      "Blueprint|Related Trace",
      "Changed Files",
      "Checklist|Review Checklist",
    ]);
    expect(DEFAULT_TYPES).toEqual([
      "feat",
      "fix",
      "refactor",
      "perf",
      "docs",
      "test",
      "build",
      "ci",
      "chore",
      "style",
      "revert",
    ]);
  });

  it("a partial section keeps the defaults of its other keys", () => {
    const p = makePolicy({ title: { max_length: 72 }, labels: { requires_tests: { label: "needs-tests" } } });
    expect(p.title.max_length).toBe(72);
    expect(p.title.forbidden_keywords).toEqual(["test", "asdf", "fixme"]);
    expect(p.labels.requires_tests).toMatchObject({ enabled: true, label: "needs-tests" });
    expect(p.labels.always).toEqual(["traceable", "generated-by:AI"]);
  });

  it("accepts a consistent custom branch map", () => {
    const p = makePolicy({
      branch_rules: {
        allowed_prefixes: ["feature/", "release/"],
        target_branch_map: { "feature/": "develop", "release/": "main" },
      },
    });
    expect(p.branch_rules.target_branch_map).toEqual({ "feature/": "develop", "release/": "main" });
    expect(p.branch_rules.forbidden).toEqual(["master", "deprecated/"]);
  });
});

describe("PolicySchema rejections", () => {
  it("rejects unknown keys at the top level and in every section", () => {
    expect(issuesOf({ titel: {} })).toEqual(['(top level): has unknown key "titel" (check the spelling)']);
    expect(issuesOf({ title: { maxlength: 80 } })).toEqual(['title: has unknown key "maxlength" (check the spelling)']);
    expect(issuesOf({ labels: { requires_tests: { enable: false } } })).toEqual([
      'labels.requires_tests: has unknown key "enable" (check the spelling)',
    ]);
    expect(issuesOf({ pr: { a: 1, b: 2 } })).toEqual(['pr: has unknown keys "a", "b" (check the spelling)']);
  });

  it("a target map entry for a prefix that is not allowed is named by its key", () => {
    expect(
      issuesOf({
        branch_rules: { allowed_prefixes: ["feature/"], target_branch_map: { "feature/": "dev", "release/": "main" } },
      }),
    ).toEqual([
      'branch_rules.target_branch_map.release/: "release/" is not one of branch_rules.allowed_prefixes (feature/); add it there or remove this mapping',
    ]);
  });

  it("an allowed prefix without a target is rejected", () => {
    expect(
      issuesOf({
        branch_rules: { allowed_prefixes: ["feature/", "release/"], target_branch_map: { "feature/": "dev" } },
      }),
    ).toEqual([
      'branch_rules.target_branch_map: allowed prefix "release/" has no target branch; add "release/: <branch>" to branch_rules.target_branch_map',
    ]);
  });

  it("narrowing allowed_prefixes alone keeps the default targets of the remaining prefixes", () => {
    expect(
      PolicySchema.parse({ branch_rules: { allowed_prefixes: ["feature/"] } }).branch_rules.target_branch_map,
    ).toEqual({ "feature/": "dev" });
    expect(
      PolicySchema.parse({ branch_rules: { allowed_prefixes: ["hotfix/", "bugfix/"] } }).branch_rules.target_branch_map,
    ).toEqual({
      "hotfix/": "main",
      "bugfix/": "dev",
    });
  });

  it("a new prefix without a map has no target and says so", () => {
    expect(issuesOf({ branch_rules: { allowed_prefixes: ["feature/", "release/"] } })).toEqual([
      'branch_rules.target_branch_map: allowed prefix "release/" has no target branch; add "release/: <branch>" to branch_rules.target_branch_map',
    ]);
  });

  it("an explicit map must only use allowed prefixes", () => {
    expect(
      issuesOf({
        branch_rules: { allowed_prefixes: ["feature/"], target_branch_map: { "feature/": "dev", "hotfix/": "main" } },
      }),
    ).toEqual([
      'branch_rules.target_branch_map.hotfix/: "hotfix/" is not one of branch_rules.allowed_prefixes (feature/); add it there or remove this mapping',
    ]);
  });

  it("enforces bounds and shapes", () => {
    expect(issuesOf({ title: { max_length: 19 } })).toEqual([
      "title.max_length: Too small: expected number to be >=20",
    ]);
    expect(issuesOf({ title: { max_length: 1001 } })).toEqual([
      "title.max_length: Too big: expected number to be <=1000",
    ]);
    expect(issuesOf({ body: { max_length: 499 } })).toEqual([
      "body.max_length: Too small: expected number to be >=500",
    ]);
    expect(issuesOf({ body: { max_line_length: 39 } })).toEqual([
      "body.max_line_length: Too small: expected number to be >=40",
    ]);
    expect(issuesOf({ limits: { max_changed_lines: 0 } })).toEqual([
      "limits.max_changed_lines: Too small: expected number to be >0",
    ]);
    expect(issuesOf({ title: { types: ["Feat"] } })).toEqual([
      "title.types[0]: conventional types are lower-case words",
    ]);
    expect(issuesOf({ title: { types: [] } })).toEqual(["title.types: Too small: expected array to have >=1 items"]);
    expect(issuesOf({ branch_rules: { allowed_prefixes: [], target_branch_map: {} } })).toEqual([
      "branch_rules.allowed_prefixes: Too small: expected array to have >=1 items",
    ]);
    expect(issuesOf({ retry_policy: { retryable_status_codes: [200] } })).toEqual([
      "retry_policy.retryable_status_codes[0]: Too small: expected number to be >=400",
    ]);
  });

  it("names the expected type and the value given (when zod reports the input)", () => {
    expect(issuesOf({ title: { max_length: "long" } })).toEqual(['title.max_length: expected number, got "long"']);
    expect(issuesOf({ pr: { commit_range: "sometimes" } })).toEqual([
      'pr.commit_range: expected one of "auto", "commit", "merge-base", got "sometimes"',
    ]);
    expect(issuesOf({ reviewers: { mandatory: ["TechLeadAgent", 5] } })).toEqual([
      "reviewers.mandatory[1]: expected string, got number 5",
    ]);
    expect(issuesOf({ merge: { commits: null } })).toEqual(["merge.commits: expected boolean, got null"]);
    expect(issuesOf({ merge: { auto_merge_levels: ["high"] } })[0]).toMatch(
      /^merge.auto_merge_levels\[0\]: expected one of "low", "medium", got "high"/,
    );
    expect(issuesOf({ labels: { always: {} } })).toEqual(["labels.always: expected array, got an object"]);
    expect(issuesOf({ limits: [] })).toEqual(["limits: expected object, got an array"]);
    expect(issuesOf(5)).toEqual(["(top level): expected object, got number 5"]);
  });
});

describe("formatZodIssues", () => {
  it("a missing key says it is missing and what was expected", () => {
    const result = TraceRecordSchema.safeParse({ trace_id: "t", component_scope: "Order" }, { reportInput: true });
    expect(result.success).toBe(false);
    expect(formatZodIssues(result.error!)).toEqual(["blueprint_id: is missing (expected string)"]);
  });

  it("formats array indexes after a key and at the top level", () => {
    const nested = TraceRegistryFileSchema.safeParse(
      { traces: [seedTrace(), { trace_id: "x" }] },
      { reportInput: true },
    );
    expect(formatZodIssues(nested.error!)).toEqual([
      "traces[1].blueprint_id: is missing (expected string)",
      "traces[1].component_scope: is missing (expected string)",
    ]);
    const top = z.array(z.number()).safeParse([1, "two"], { reportInput: true });
    expect(formatZodIssues(top.error!)).toEqual(['[1]: expected number, got "two"']);
  });

  it("shortens long values to 60 characters", () => {
    const long = "x".repeat(100);
    expect(issuesOf({ title: { max_length: long } })).toEqual([
      `title.max_length: expected number, got "${"x".repeat(57)}..."`,
    ]);
  });

  it("without the input on the issue, states only the expectation", () => {
    const result = PolicySchema.safeParse({ title: { max_length: "long" }, pr: { commit_range: "x" } });
    expect(formatZodIssues(result.error!)).toEqual([
      "title.max_length: expected number",
      'pr.commit_range: expected one of "auto", "commit", "merge-base"',
    ]);
  });

  it("parseExplained returns the data or one line per issue, with the values given", () => {
    expect(parseExplained(PolicySchema, { title: { max_length: 80 } })).toMatchObject({
      success: true,
      data: { title: { max_length: 80 } },
    });
    expect(parseExplained(PolicySchema, { title: { max_length: "80" }, pr: { commit_range: "x" } })).toEqual({
      success: false,
      issues: [
        'title.max_length: expected number, got "80"',
        'pr.commit_range: expected one of "auto", "commit", "merge-base", got "x"',
      ],
    });
  });

  it("falls back to zod's message for other issue codes", () => {
    const result = TraceRecordSchema.safeParse({ trace_id: "  ", blueprint_id: "b", component_scope: "c" });
    expect(formatZodIssues(result.error!)).toEqual(["trace_id: trace_id must be a non-empty string"]);
  });
});

describe("loadYamlFile", () => {
  const Schema = z.strictObject({ name: z.string(), count: z.number().default(1) });

  it("parses and validates, applying defaults", async () => {
    const dir = await newDir();
    const file = await writeIn(dir, "ok.yaml", "name: widget\n");
    await expect(loadYamlFile(file, Schema, "widget file")).resolves.toEqual({ name: "widget", count: 1 });
  });

  it("treats an empty file (or a null document) as an empty object", async () => {
    const dir = await newDir();
    const Loose = z.object({ n: z.number().default(7) });
    await expect(loadYamlFile(await writeIn(dir, "empty.yaml", ""), Loose, "x")).resolves.toEqual({ n: 7 });
    await expect(loadYamlFile(await writeIn(dir, "null.yaml", "~\n"), Loose, "x")).resolves.toEqual({ n: 7 });
    await expect(loadYamlFile(await writeIn(dir, "comment.yaml", "# only a comment\n"), Loose, "x")).resolves.toEqual({
      n: 7,
    });
  });

  it("a YAML syntax error names the file and the line", async () => {
    const dir = await newDir();
    const file = await writeIn(dir, "bad.yaml", "meta:\n  a: 1\n b: 1\n");
    const error = await rejection(loadYamlFile(file, Schema, "widget file"));
    expect(error.reason).toBe("invalid_config");
    expect(error.message).toBe(
      `The widget file ${file} is not valid YAML (line 3): All mapping items must start at the same column at line 3, column 1:`,
    );
    expect(error.hint).toBe("Fix the YAML syntax; `yamllint` or an editor with YAML support shows the exact spot.");
  });

  it("duplicate keys are a syntax error on the duplicate's line", async () => {
    const dir = await newDir();
    const file = await writeIn(dir, "dup.yaml", "name: a\ncount: 1\nname: b\n");
    const error = await rejection(loadYamlFile(file, Schema, "widget file"));
    expect(error.message).toContain(`${file} is not valid YAML (line 3): Map keys must be unique`);
  });

  it("a schema error names the file, the key path and what was expected", async () => {
    const dir = await newDir();
    const file = await writeIn(dir, "schema.yaml", "name: widget\ncolour: red\n");
    const error = await rejection(loadYamlFile(file, Schema, "widget file"));
    expect(error.reason).toBe("invalid_config");
    expect(error.message).toBe(
      `The widget file ${file} is invalid: (top level): has unknown key "colour" (check the spelling).`,
    );
    expect(error.hint).toBe(
      "Fix these keys; the README's configuration reference lists every key, its type and its default.",
    );
  });

  it("joins several schema errors with semicolons", async () => {
    const dir = await newDir();
    const file = await writeIn(dir, "two.yaml", "count: 2\nextra: 1\n");
    const error = await rejection(loadYamlFile(file, Schema, "widget file"));
    expect(error.message).toBe(
      `The widget file ${file} is invalid: name: is missing (expected string); (top level): has unknown key "extra" (check the spelling).`,
    );
  });

  it("uses the given failure reason", async () => {
    const dir = await newDir();
    const file = await writeIn(dir, "bad.yaml", "count: [1\n");
    expect((await rejection(loadYamlFile(file, Schema, "event", { reason: "invalid_event" }))).reason).toBe(
      "invalid_event",
    );
    expect(
      (await rejection(loadYamlFile(path.join(dir, "none.yaml"), Schema, "event", { reason: "invalid_event" }))).reason,
    ).toBe("invalid_event");
  });

  it("a missing file and a directory are named as such", async () => {
    const dir = await newDir();
    const missing = path.join(dir, "missing.yaml");
    const notFound = await rejection(loadYamlFile(missing, Schema, "widget file"));
    expect(notFound.message).toBe(`The widget file ${missing} does not exist.`);
    expect(notFound.hint).toBe("Check the path.");
    expect((await rejection(loadYamlFile(dir, Schema, "widget file"))).message).toBe(
      `The widget file ${dir} is a directory.`,
    );
  });

  // Regression: zod 4 only fills `issue.input` with `{ reportInput: true }`; without it a wrong type used to read
  // "is missing" and an enum mismatch "got undefined undefined".
  it("a wrong-typed value is reported with the value given, not as missing", async () => {
    const dir = await newDir();
    const file = await writeIn(dir, "type.yaml", 'name: widget\ncount: "many"\n');
    const error = await rejection(loadYamlFile(file, Schema, "widget file"));
    expect(error.message).toBe(`The widget file ${file} is invalid: count: expected number, got "many".`);
  });

  it("a missing enum value is reported as missing, with the values it may take", async () => {
    const dir = await newDir();
    const file = await writeIn(dir, "enum.yaml", "name: widget\ncount: 1\n");
    const schema = z.strictObject({ name: z.string(), count: z.number(), kind: z.enum(["a", "b"]) });
    const error = await rejection(loadYamlFile(file, schema, "widget file"));
    expect(error.message).toBe(`The widget file ${file} is invalid: kind: is missing (expected one of "a", "b").`);
  });
});

describe("loadPolicy", () => {
  it("without --config and without ./pr-creator.yaml, uses the built-in defaults", async () => {
    const dir = await newDir();
    const loaded = await loadPolicy(undefined, dir);
    expect(loaded.source).toBeNull();
    // The state file is the one path with a default: the user's state folder, never the working directory.
    expect(loaded.policy).toEqual(PolicySchema.parse({}));
    expect(loaded.policy.state_file).toBe(path.join(process.env.PR_CREATOR_STATE_DIR!, "state.db"));
  });

  it("picks up ./pr-creator.yaml from the working directory", async () => {
    const dir = await newDir();
    expect(DEFAULT_CONFIG_FILE).toBe("pr-creator.yaml");
    await writeIn(dir, "pr-creator.yaml", "title:\n  max_length: 80\n");
    const loaded = await loadPolicy(undefined, dir);
    expect(loaded.source).toBe(path.join(dir, "pr-creator.yaml"));
    expect(loaded.policy.title.max_length).toBe(80);
    expect(loaded.policy.body.max_length).toBe(4000);
  });

  it("an explicit --config wins over ./pr-creator.yaml and resolves against cwd", async () => {
    const dir = await newDir();
    await writeIn(dir, "pr-creator.yaml", "title:\n  max_length: 80\n");
    await writeIn(dir, "conf/team.yaml", "title:\n  max_length: 90\n");
    const loaded = await loadPolicy("conf/team.yaml", dir);
    expect(loaded.source).toBe(path.join(dir, "conf", "team.yaml"));
    expect(loaded.policy.title.max_length).toBe(90);
  });

  it("an empty config file is the default policy", async () => {
    const dir = await newDir();
    await writeIn(dir, "pr-creator.yaml", "");
    const loaded = await loadPolicy(undefined, dir);
    expect(loaded.source).toBe(path.join(dir, "pr-creator.yaml"));
    expect(loaded.policy).toEqual({
      ...PolicySchema.parse({}),
      state_file: path.join(process.env.PR_CREATOR_STATE_DIR!, "state.db"),
    });
  });

  it("resolves relative paths against the config file's folder and keeps absolute ones", async () => {
    const dir = await newDir();
    const absolute = path.join(root, "elsewhere", "events.jsonl");
    await writeIn(
      dir,
      "conf/pr-creator.yaml",
      `trace_registry: traces.yaml\nbody:\n  template_file: ../templates/pr.md\nevents:\n  jsonl_file: ${JSON.stringify(absolute)}\n`,
    );
    const loaded = await loadPolicy("conf/pr-creator.yaml", dir);
    expect(loaded.policy.trace_registry).toBe(path.join(dir, "conf", "traces.yaml"));
    expect(loaded.policy.body.template_file).toBe(path.join(dir, "templates", "pr.md"));
    expect(loaded.policy.events.jsonl_file).toBe(absolute);
  });

  it("leaves unset paths unset and inline templates untouched", async () => {
    const dir = await newDir();
    await writeIn(dir, "pr-creator.yaml", 'body:\n  template: "## Summary\\n${purpose}"\n');
    const loaded = await loadPolicy(undefined, dir);
    expect(loaded.policy.trace_registry).toBeUndefined();
    expect(loaded.policy.body.template_file).toBeUndefined();
    expect(loaded.policy.events.jsonl_file).toBeUndefined();
    expect(loaded.policy.body.template).toBe("## Summary\n${purpose}");
  });

  it("a missing --config file is an error, not the defaults", async () => {
    const dir = await newDir();
    const error = await rejection(loadPolicy("nope.yaml", dir));
    expect(error.reason).toBe("invalid_config");
    expect(error.message).toBe(`The config file ${path.join(dir, "nope.yaml")} does not exist.`);
  });

  it("a YAML syntax error in the config names the file and line", async () => {
    const dir = await newDir();
    await writeIn(dir, "pr-creator.yaml", "title:\n  max_length: 100\ntitle:\n  max_length: 90\n");
    const error = await rejection(loadPolicy(undefined, dir));
    expect(error.reason).toBe("invalid_config");
    expect(error.message).toBe(
      `The config file ${path.join(dir, "pr-creator.yaml")} is not valid YAML (line 3): Map keys must be unique at line 3, column 1:`,
    );
  });

  it("an unknown key in the config is rejected, naming the key path and the file", async () => {
    const dir = await newDir();
    await writeIn(dir, "pr-creator.yaml", "title:\n  maxlength: 100\n");
    const error = await rejection(loadPolicy(undefined, dir));
    expect(error.message).toBe(
      `The config file ${path.join(dir, "pr-creator.yaml")} is invalid: title: has unknown key "maxlength" (check the spelling).`,
    );
  });

  it("a bound violation names the key path, the expectation and the file", async () => {
    const dir = await newDir();
    await writeIn(dir, "pr-creator.yaml", "body:\n  max_length: 10\n");
    const error = await rejection(loadPolicy(undefined, dir));
    expect(error.message).toBe(
      `The config file ${path.join(dir, "pr-creator.yaml")} is invalid: body.max_length: Too small: expected number to be >=500.`,
    );
  });

  it("a refinement error names the offending map key", async () => {
    const dir = await newDir();
    await writeIn(
      dir,
      "pr-creator.yaml",
      'branch_rules:\n  allowed_prefixes: ["feature/"]\n  target_branch_map: {"feature/": dev, "release/": main}\n',
    );
    const error = await rejection(loadPolicy(undefined, dir));
    expect(error.message).toBe(
      `The config file ${path.join(dir, "pr-creator.yaml")} is invalid: branch_rules.target_branch_map.release/: "release/" is not one of branch_rules.allowed_prefixes (feature/); add it there or remove this mapping.`,
    );
  });

  it("a wrong-typed config value names the value given", async () => {
    const dir = await newDir();
    await writeIn(dir, "pr-creator.yaml", 'title:\n  max_length: "long"\n');
    const error = await rejection(loadPolicy(undefined, dir));
    expect(error.message).toBe(
      `The config file ${path.join(dir, "pr-creator.yaml")} is invalid: title.max_length: expected number, got "long".`,
    );
  });

  it("an invalid enum value in the config names the value given", async () => {
    const dir = await newDir();
    await writeIn(dir, "pr-creator.yaml", "pr:\n  commit_range: sometimes\n");
    const error = await rejection(loadPolicy(undefined, dir));
    expect(error.message).toContain('pr.commit_range: expected one of "auto", "commit", "merge-base", got "sometimes"');
  });
});

describe("trace registry", () => {
  it("an in-memory registry finds records by id", async () => {
    const registry = createInMemoryTraceRegistry([
      seedTrace(),
      seedTrace({ trace_id: "trace-pay-1", component_scope: "Billing" }),
    ]);
    expect((await registry.get("trace-pay-1"))?.component_scope).toBe("Billing");
    expect((await registry.get("trace-ord-8128"))?.blueprint_id).toBe("usecase-create-order");
    expect(await registry.get("trace-none")).toBeUndefined();
  });

  it("loads a YAML file, applying record defaults", async () => {
    const dir = await newDir();
    const file = await writeIn(
      dir,
      "traces.yaml",
      "traces:\n  - trace_id: trace-ord-8128\n    blueprint_id: usecase-create-order\n    component_scope: Order\n    linked_files: [src/A.cs]\n  - trace_id: trace-pay-1\n    blueprint_id: usecase-pay\n    component_scope: Billing\n",
    );
    const registry = await loadTraceRegistryFile(file);
    expect(await registry.get("trace-ord-8128")).toEqual({
      trace_id: "trace-ord-8128",
      blueprint_id: "usecase-create-order",
      component_scope: "Order",
      linked_files: ["src/A.cs"],
      scope_paths: [],
    });
    expect(await registry.get("trace-pay-1")).toEqual({
      trace_id: "trace-pay-1",
      blueprint_id: "usecase-pay",
      component_scope: "Billing",
      linked_files: [],
      scope_paths: [],
    });
    expect(await registry.get("trace-other")).toBeUndefined();
  });

  it("rejects a duplicate trace id, naming the id and its index", async () => {
    const dir = await newDir();
    const file = await writeIn(
      dir,
      "traces.yaml",
      "traces:\n  - {trace_id: a, blueprint_id: b, component_scope: c}\n  - {trace_id: x, blueprint_id: b, component_scope: c}\n  - {trace_id: a, blueprint_id: d, component_scope: c}\n",
    );
    const error = await rejection(loadTraceRegistryFile(file));
    expect(error.reason).toBe("invalid_config");
    expect(error.message).toBe(`The trace registry ${file} lists trace_id "a" twice (traces[2]).`);
    expect(error.hint).toBe("Each trace id must appear once; merge or remove the duplicate record.");
  });

  it("ids are compared after trimming", async () => {
    const dir = await newDir();
    const file = await writeIn(
      dir,
      "traces.yaml",
      "traces:\n  - {trace_id: a, blueprint_id: b, component_scope: c}\n  - {trace_id: ' a ', blueprint_id: b, component_scope: c}\n",
    );
    expect((await rejection(loadTraceRegistryFile(file))).message).toBe(
      `The trace registry ${file} lists trace_id "a" twice (traces[1]).`,
    );
  });

  it("a missing file names the file", async () => {
    const dir = await newDir();
    const file = path.join(dir, "missing-traces.yaml");
    const error = await rejection(loadTraceRegistryFile(file));
    expect(error.reason).toBe("invalid_config");
    expect(error.message).toBe(`The trace registry ${file} does not exist.`);
  });

  it("an invalid record names its index and field", async () => {
    const dir = await newDir();
    const file = await writeIn(dir, "traces.yaml", "traces:\n  - {trace_id: a, component_scope: c}\n");
    expect((await rejection(loadTraceRegistryFile(file))).message).toBe(
      `The trace registry ${file} is invalid: traces[0].blueprint_id: is missing (expected string).`,
    );
  });

  it("a file without a traces list is invalid", async () => {
    const dir = await newDir();
    const file = await writeIn(dir, "traces.yaml", "");
    expect((await rejection(loadTraceRegistryFile(file))).message).toBe(
      `The trace registry ${file} is invalid: traces: is missing (expected array).`,
    );
  });
});

describe("missing files get hints that fit them", () => {
  it("the config file and the trace registry each say what to do", async () => {
    const dir = await mkdtemp(path.join(tmpdir(), "pr-creator-hints-"));
    const config = await rejection(loadPolicy(path.join(dir, "nope.yaml"), dir));
    expect(config.hint).toBe("Check the path, or leave --config out to use ./pr-creator.yaml or the built-in policy.");
    const registry = await rejection(loadTraceRegistryFile(path.join(dir, "traces.yaml")));
    expect(registry.message).toBe(`The trace registry ${path.join(dir, "traces.yaml")} does not exist.`);
    expect(registry.hint).toContain("`traces:` list");
  });

  it("a misspelt key in a trace record is an error, not a silently narrower scope", async () => {
    const dir = await mkdtemp(path.join(tmpdir(), "pr-creator-hints-"));
    const file = path.join(dir, "traces.yaml");
    await writeFile(
      file,
      "traces:\n  - trace_id: trace-a-1\n    blueprint_id: bp\n    component_scope: A\n    linked_file: [x.cs]\n",
    );
    const error = await rejection(loadTraceRegistryFile(file));
    expect(error.message).toContain('traces[0]: has unknown key "linked_file"');
  });
});
