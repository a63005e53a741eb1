/**
 * Integration tests for the whole agent: createAgent wired to a real git repository (built with the fixture
 * builder), a real trace registry file, the dry-run publisher and a collecting event sink.
 */
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createAgent, type AgentOptions } from "../../src/agent/create-agent.js";
import type { RunResult } from "../../src/domain/run-result.js";
import { buildSampleRepo, SAMPLE_TRACES, type SampleRepo } from "../../src/demo/sample-repo.js";
import type { CommitSource } from "../../src/domain/commit.js";
import {
  PullRequestFailedSchema,
  type CommitCompleted,
  type LifecycleEvent,
  type PullRequestFailed,
} from "../../src/domain/events.js";
import type { FailureReason } from "../../src/domain/reasons.js";
import { createGitRepo, type GitRepo } from "../../src/demo/git-fixture.js";
import { createLocalGitSource } from "../../src/forges/local-git.js";
import { rejection } from "../helpers.js";

const NOW = new Date("2025-05-07T19:10:00.000Z");
const SEED_TITLE = "feat(order): implement CreateOrderHandler [trace:ord-8128]";
const HANDLER_PATH = "src/Application/Handlers/CreateOrderHandler.cs";
const TESTS_PATH = "tests/Order/CreateOrderHandlerTests.cs";
const MANDATORY_REVIEWERS = [
  { name: "TechLeadAgent", required: true },
  { name: "QAAssistantAgent", required: true },
];

let root: string;
let sample: SampleRepo;
/** A second repository with one branch per scenario that needs its own commits. */
let custom: GitRepo;
const hashes: Record<string, string> = {};

const lines = (count: number, prefix: string): string =>
  Array.from({ length: count }, (_, i) => `${prefix} ${i + 1}\n`).join("");

/** main → dev like the sample, plus one branch per scenario. Leaves HEAD on dev. */
async function buildCustomRepo(dir: string): Promise<GitRepo> {
  const repo = await createGitRepo(dir, { initialBranch: "main" });
  await repo.writeFile("README.md", "# OrderService\n");
  await repo.writeFile(
    "src/Domain/Order.cs",
    "namespace OrderService.Domain;\n\npublic sealed record Order(OrderId Id);\n",
  );
  await repo.commit("chore: scaffold OrderService");
  await repo.checkout("dev", { create: true });
  await repo.writeFile(
    "src/Domain/OrderId.cs",
    "namespace OrderService.Domain;\n\npublic readonly record struct OrderId(Guid Value);\n",
  );
  await repo.commit("feat(order): add OrderId value object");

  const branch = async (name: string, from: string, make: () => Promise<string>) => {
    await repo.checkout(from);
    await repo.checkout(name, { create: true });
    hashes[name] = await make();
  };

  await branch("feature/billing-leak", "dev", async () => {
    await repo.writeFile(HANDLER_PATH, "public sealed class CreateOrderHandler {}\n");
    await repo.writeFile("src/Billing/Invoice.cs", "public sealed class Invoice {}\n");
    return repo.commit("feat(order): implement CreateOrderHandler [trace:ord-8128]");
  });
  await branch("feature/foreign-tag", "dev", async () => {
    await repo.writeFile(
      "src/Domain/Order.cs",
      "namespace OrderService.Domain;\n\npublic sealed record Order(OrderId Id, decimal Total);\n",
    );
    return repo.commit("feat(order): add the order total [trace:pay-2201]");
  });
  await branch("feature/empty", "dev", () =>
    repo.commit("feat(order): nothing to see [trace:ord-8128]", { allowEmpty: true }),
  );
  await branch("feature/huge", "dev", async () => {
    await repo.writeFile("src/Domain/OrderLines.cs", lines(3001, "// order line"));
    return repo.commit("feat(order): add order lines [trace:ord-8128]");
  });
  await branch("hotfix/order-total", "main", async () => {
    await repo.writeFile(
      "src/Domain/Order.cs",
      "namespace OrderService.Domain;\n\npublic sealed record Order(OrderId Id, CustomerId CustomerId);\n",
    );
    return repo.commit("fix(order): restore the customer on orders [trace:ord-8128]");
  });
  await branch("bugfix/order-id", "dev", async () => {
    await repo.writeFile(
      "src/Domain/OrderId.cs",
      "namespace OrderService.Domain;\n\npublic readonly record struct OrderId(Guid Value) { }\n",
    );
    return repo.commit("fix(order): make OrderId a proper value object [trace:ord-8128]");
  });
  await repo.checkout("dev");
  return repo;
}

beforeAll(async () => {
  root = await mkdtemp(path.join(tmpdir(), "pr-creator-agent-it-"));
  sample = await buildSampleRepo(path.join(root, "sample"));
  custom = await buildCustomRepo(path.join(root, "custom"));
}, 60_000);

afterAll(async () => {
  if (root) await rm(root, { recursive: true, force: true });
});

interface Run {
  result: RunResult;
  /** Events the collecting sink received. */
  delivered: LifecycleEvent[];
}

async function run(event: unknown, options: AgentOptions = {}): Promise<Run> {
  const delivered: LifecycleEvent[] = [];
  const agent = await createAgent({
    repoPath: sample.dir,
    tracesFile: sample.tracesFile,
    sinks: [async (e) => void delivered.push(e)],
    now: () => NOW,
    // No pr-creator.yaml lives here, so the built-in policy applies unless a test passes a config file.
    cwd: root,
    // Memory has its own tests; here earlier runs must not make later PRs look like duplicates.
    memory: null,
    ...options,
  });
  return { result: await agent.handle(event), delivered };
}

function sampleEvent(overrides: Record<string, unknown> = {}): CommitCompleted {
  return { ...sample.event, ...overrides } as CommitCompleted;
}

/** An event for a branch of the custom repository. */
function customEvent(branch: string, overrides: Record<string, unknown> = {}): CommitCompleted {
  return sampleEvent({ branch, commit_hash: hashes[branch], ...overrides });
}

const customRun = (event: unknown, options: AgentOptions = {}) => run(event, { repoPath: custom.path, ...options });

/** Checks the result and its one PullRequestFailed event; returns the event. */
function expectFailure(
  { result, delivered }: Run,
  reason: FailureReason,
  fields: { trace_id: string | null; repo: string | null; branch: string | null; commit_hash: string | null },
): PullRequestFailed {
  expect(result.status).toBe("failed");
  expect(result.reason).toBe(reason);
  expect(result.message).toEqual(expect.any(String));
  expect(result.message).not.toContain("\n");
  expect(result.events).toHaveLength(1);
  expect(delivered).toHaveLength(1);
  expect(delivered[0]).toEqual(result.events[0]);
  const event = PullRequestFailedSchema.parse(result.events[0]);
  expect(event).toEqual({
    event: "PullRequestFailed",
    reason,
    message: result.message,
    trace_id: fields.trace_id,
    repo: fields.repo,
    branch: fields.branch,
    attempted_branch: fields.branch,
    commit_hash: fields.commit_hash,
    attempts: 0,
    violations: result.violations,
    issue_id: null,
    created_by: "pull-request-creator-agent",
    timestamp: NOW.toISOString(),
  });
  return event;
}

/** The event fields a PullRequestFailed should carry for a readable CommitCompleted event. */
function fieldsOf(event: { trace_id: string; repo: string; branch: string; commit_hash: string }) {
  return { trace_id: event.trace_id, repo: event.repo, branch: event.branch, commit_hash: event.commit_hash };
}

async function writeConfig(name: string, yaml: string): Promise<string> {
  const dir = path.join(root, "configs");
  await mkdir(dir, { recursive: true });
  const file = path.join(dir, name);
  await writeFile(file, yaml);
  return file;
}

describe("agent: the seed's worked example", () => {
  it("previews the PR with the seed's title, target, reviewers, labels and body", async () => {
    const { result, delivered } = await run(sample.event);
    expect(result.status).toBe("previewed");
    expect(result.reason).toBeUndefined();
    expect(result.message).toBeUndefined();
    expect(result.violations).toEqual([]);
    // A preview emits no PullRequestCreated: nothing exists on a forge that downstream agents could act on.
    expect(result.events).toEqual([]);
    expect(delivered).toEqual([]);
    expect(result.drafted_by).toBe("deterministic");
    expect(result.truncation).toBeNull();

    const pr = result.pr!;
    expect(pr.id).toBeNull();
    expect(pr.url).toBeNull();
    expect(pr.title).toBe(SEED_TITLE);
    expect(pr.source_branch).toBe("feature/order-handler");
    expect(pr.target_branch).toBe("dev");
    expect(pr.reviewers).toEqual(MANDATORY_REVIEWERS);
    expect(pr.labels).toEqual(["domain:order", "traceable", "generated-by:AI"]);
    expect(pr.is_draft).toBe(false);
    expect(pr.auto_complete).toBe(false);
    expect(pr.risk).toEqual({ level: "medium", reasons: ["commit type feat is medium risk"] });
    expect(pr.checklist.every((item) => item.done)).toBe(true);

    const body = pr.description;
    for (const heading of ["## Summary", "## Blueprint", "## Changed Files", "## Review Checklist"]) {
      expect(body.split("\n")).toContain(heading);
    }
    expect(body).toContain(HANDLER_PATH);
    expect(body).toContain(TESTS_PATH);
    expect(body).toContain(sample.event.commit_hash);
    expect(body).toContain("trace-ord-8128");
    expect(body).toContain("usecase-create-order");
    expect(body).toContain("Component Scope: Order");
  });

  it("gives the same preview when the trace metadata travels in the event and no registry is configured", async () => {
    const trace = SAMPLE_TRACES.find((t) => t.trace_id === "trace-ord-8128")!;
    const { result, delivered } = await run(sampleEvent({ trace }), { tracesFile: undefined });
    expect(result.status).toBe("previewed");
    expect(result.pr!.title).toBe(SEED_TITLE);
    expect(result.pr!.target_branch).toBe("dev");
    expect(result.violations).toEqual([]);
    expect(delivered).toEqual([]);
  });

  it("fails with missing_trace when neither the event nor any registry knows the trace", async () => {
    const run_ = await run(sample.event, { tracesFile: undefined });
    expectFailure(run_, "missing_trace", fieldsOf(sample.event));
    expect(run_.result.message).toContain("none is configured");
  });
});

describe("agent: invalid events", () => {
  it("rejects an event with a missing field and names the field", async () => {
    const { agent: _omitted, ...event } = sample.event;
    const outcome = await run(event);
    expectFailure(outcome, "invalid_event", fieldsOf(sample.event));
    expect(outcome.result.message).toMatch(/\bagent\b.*missing/);
    expect(outcome.result.pr).toBeNull();
  });

  it("rejects a field of the wrong type and names it", async () => {
    const outcome = await run(sampleEvent({ commit_hash: 8128 }));
    // commit_hash is not a string, so the failure event cannot carry it.
    expectFailure(outcome, "invalid_event", { ...fieldsOf(sample.event), commit_hash: null });
    expect(outcome.result.message).toContain("commit_hash");
    expect(outcome.result.message).toContain("expected string");
  });

  it("says what the wrong-typed value was instead of calling the field missing", async () => {
    const { result } = await run(sampleEvent({ commit_hash: 8128 }));
    expect(result.message).not.toContain("is missing");
    expect(result.message).toContain("got number 8128");
  });

  it("rejects an event with another name", async () => {
    const outcome = await run(sampleEvent({ event: "CommitPushed" }));
    expectFailure(outcome, "invalid_event", fieldsOf(sample.event));
    expect(outcome.result.message).toContain('"CommitPushed"');
    expect(outcome.result.message).toContain("CommitCompleted");
  });

  it.each([
    ["a number", 42],
    ["an array", []],
    ["null", null],
    ["a string", "CommitCompleted"],
  ])("rejects %s as input with a failure event whose fields are all null", async (_label, input) => {
    const outcome = await run(input);
    expectFailure(outcome, "invalid_event", { trace_id: null, repo: null, branch: null, commit_hash: null });
    expect(outcome.result.message).toContain("(top level)");
    expect(outcome.result.message).toContain("expected object");
  });

  it("says what the non-object input was", async () => {
    const { result } = await run(42);
    expect(result.message).not.toContain("is missing");
    expect(result.message).toContain("got number 42");
  });
});

describe("agent: trace checks", () => {
  it("fails with missing_trace for a trace id the registry does not know", async () => {
    const event = sampleEvent({ trace_id: "trace-zzz-0001" });
    const outcome = await run(event);
    expectFailure(outcome, "missing_trace", fieldsOf(event));
    expect(outcome.result.message).toContain('"trace-zzz-0001"');
    expect(outcome.result.message).toContain(sample.tracesFile);
  });

  it("fails with trace_violation when the event's blueprint differs from the registry's", async () => {
    const outcome = await run(sampleEvent({ blueprint_id: "usecase-cancel-order" }));
    expectFailure(outcome, "trace_violation", fieldsOf(sample.event));
    expect(outcome.result.message).toContain('"usecase-cancel-order"');
    expect(outcome.result.message).toContain('"usecase-create-order"');
    expect(outcome.result.violations.map((v) => v.code)).toEqual(["trace_blueprint_mismatch"]);
  });

  it("fails with trace_violation and lists the file when a commit touches a file outside the scope", async () => {
    const event = customEvent("feature/billing-leak");
    const outcome = await customRun(event);
    expectFailure(outcome, "trace_violation", fieldsOf(event));
    expect(outcome.result.message).toContain("src/Billing/Invoice.cs");
    expect(outcome.result.message).toContain("outside component scope Order");
    // The handler is a linked file of the trace, so only the billing file is reported.
    expect(outcome.result.message).not.toContain(HANDLER_PATH);
    expect(outcome.result.violations.map((v) => v.code)).toEqual(["trace_files_outside_scope"]);
  });

  it("fails with trace_violation when a commit message is tagged with another trace", async () => {
    const event = customEvent("feature/foreign-tag");
    const outcome = await customRun(event);
    expectFailure(outcome, "trace_violation", fieldsOf(event));
    expect(outcome.result.message).toContain("[trace:pay-2201]");
    expect(outcome.result.violations.map((v) => v.code)).toEqual(["trace_commit_mismatch"]);
  });
});

describe("agent: branch policy", () => {
  it.each([
    ["master", "forbidden_branch", /forbidden/],
    ["deprecated/x", "forbidden_branch", /forbidden.*"deprecated\/"/],
    ["topic/x", "branch_policy_violation", /allowed prefix/],
    ["feature/a..b", "branch_policy_violation", /not a valid git branch name.*'\.\.'/],
  ] as const)("rejects branch %s with %s", async (branch, reason, wording) => {
    const event = sampleEvent({ branch });
    const outcome = await run(event);
    expectFailure(outcome, reason, fieldsOf(event));
    expect(outcome.result.message).toContain(`"${branch}"`);
    expect(outcome.result.message).toMatch(wording);
  });

  it("rejects a feature branch that asks for target main with target_mismatch", async () => {
    const outcome = await run(sampleEvent({ target_branch: "main" }));
    expectFailure(outcome, "target_mismatch", fieldsOf(sample.event));
    expect(outcome.result.message).toContain('"main"');
    expect(outcome.result.message).toContain('"dev"');
  });

  it("accepts a feature branch that asks for its own target", async () => {
    const { result } = await run(sampleEvent({ target_branch: "dev" }));
    expect(result.status).toBe("previewed");
    expect(result.pr!.target_branch).toBe("dev");
  });

  it("targets main from a hotfix/ branch", async () => {
    const { result, delivered } = await customRun(customEvent("hotfix/order-total"));
    expect(result.status).toBe("previewed");
    expect(result.pr!.target_branch).toBe("main");
    expect(result.pr!.source_branch).toBe("hotfix/order-total");
    expect(result.pr!.title).toBe("fix(order): restore the customer on orders [trace:ord-8128]");
    // Code changed without tests.
    expect(result.pr!.labels).toContain("requires-tests");
    expect(delivered).toEqual([]);
  });

  it("targets dev from a bugfix/ branch", async () => {
    const { result } = await customRun(customEvent("bugfix/order-id"));
    expect(result.status).toBe("previewed");
    expect(result.pr!.target_branch).toBe("dev");
    expect(result.pr!.title).toBe("fix(order): make OrderId a proper value object [trace:ord-8128]");
  });
});

describe("agent: repository and commit problems", () => {
  it("fails with commit_not_found for a commit the repository does not have", async () => {
    const event = sampleEvent({ commit_hash: "deadbeef" });
    const outcome = await run(event);
    expectFailure(outcome, "commit_not_found", fieldsOf(event));
    expect(outcome.result.message).toContain("deadbeef");
    expect(outcome.result.message).toContain(sample.dir);
  });

  it("fails with repo_not_found when repoPath is not a git repository", async () => {
    const notRepo = path.join(root, "not-a-repo");
    await mkdir(notRepo, { recursive: true });
    const outcome = await run(sample.event, { repoPath: notRepo });
    expectFailure(outcome, "repo_not_found", fieldsOf(sample.event));
    expect(outcome.result.message).toContain(notRepo);
    expect(outcome.result.message).toContain("is not a git repository");
  });

  it("fails with repo_not_found when repoPath does not exist", async () => {
    const missing = path.join(root, "no-such-dir");
    const outcome = await run(sample.event, { repoPath: missing });
    expectFailure(outcome, "repo_not_found", fieldsOf(sample.event));
    expect(outcome.result.message).toContain("does not exist");
  });

  it("fails with branch_not_found for a branch the repository does not have", async () => {
    const event = sampleEvent({ branch: "feature/no-such-branch" });
    const outcome = await run(event);
    expectFailure(outcome, "branch_not_found", fieldsOf(event));
    expect(outcome.result.message).toContain('"feature/no-such-branch"');
  });

  it("fails with no_changes for an empty commit", async () => {
    const event = customEvent("feature/empty");
    const outcome = await customRun(event);
    expectFailure(outcome, "no_changes", fieldsOf(event));
    expect(outcome.result.message).toContain(event.commit_hash);
    expect(outcome.result.message).toContain("changes no files");
  });

  it("fails with pr_too_large for a change of more than 3000 lines", async () => {
    const event = customEvent("feature/huge");
    const outcome = await customRun(event);
    expectFailure(outcome, "pr_too_large", fieldsOf(event));
    expect(outcome.result.message).toContain("3001 changed lines");
    expect(outcome.result.message).toContain("the limit is 3000");
  });
});

describe("agent: body template", () => {
  const REPO_TEMPLATE = [
    "# ${title}",
    "",
    "## Summary",
    "",
    "Custom repository template for ${component_scope}.",
    "",
    "${purpose}",
    "",
    "## Related Trace",
    "",
    "${trace_id}",
    "",
    "## Changed Files",
    "",
    "${file_table}",
    "",
    "## Checklist",
    "",
    "${checklist}",
    "",
  ].join("\n");

  it("uses the template a commit source returns for .pr-template.md", async () => {
    const local = createLocalGitSource(sample.dir);
    const read: string[] = [];
    const commitSource: CommitSource = {
      load: (request) => local.load(request),
      readFile: async (commit, file) => {
        read.push(`${commit}:${file}`);
        return file === ".pr-template.md" ? REPO_TEMPLATE : null;
      },
    };
    const { result } = await run(sample.event, { commitSource });
    expect(result.status).toBe("previewed");
    expect(read).toHaveLength(1);
    expect(read[0]).toMatch(new RegExp(`^${sample.event.commit_hash}[0-9a-f]+:\\.pr-template\\.md$`));
    expect(result.pr!.description).toContain("Custom repository template for Order.");
    expect(result.pr!.description).toContain("## Related Trace");
    expect(result.pr!.description).not.toContain("## Metadata");
  });

  it("fails with invalid_config when the repository template uses an unknown variable", async () => {
    const local = createLocalGitSource(sample.dir);
    const commitSource: CommitSource = {
      load: (r) => local.load(r),
      readFile: async () => `${REPO_TEMPLATE}\n\${ticket}\n`,
    };
    const outcome = await run(sample.event, { commitSource });
    expectFailure(outcome, "invalid_config", fieldsOf(sample.event));
    expect(outcome.result.message).toContain("${ticket}");
    expect(outcome.result.message).toContain(".pr-template.md");
  });

  it("uses a .pr-template.md committed on the branch instead of the default template", async () => {
    const repo = await createGitRepo(path.join(root, "templated"), { initialBranch: "main" });
    await repo.writeFile("README.md", "# OrderService\n");
    await repo.writeFile(".pr-template.md", REPO_TEMPLATE);
    await repo.commit("chore: scaffold OrderService with a PR template");
    await repo.checkout("dev", { create: true });
    await repo.checkout("feature/order-handler", { create: true });
    await repo.writeFile(HANDLER_PATH, "public sealed class CreateOrderHandler {}\n");
    const hash = await repo.commit("feat(order): implement CreateOrderHandler [trace:ord-8128]");

    const { result } = await run(sampleEvent({ commit_hash: hash }), { repoPath: repo.path });
    expect(result.status).toBe("previewed");
    expect(result.pr!.description).toContain("Custom repository template for Order.");
    expect(result.pr!.description).not.toContain("## Metadata");

    const config = await writeConfig("no-repo-template.yaml", "body:\n  use_repo_template: false\n");
    const off = await run(sampleEvent({ commit_hash: hash }), { repoPath: repo.path, configFile: config });
    expect(off.result.status).toBe("previewed");
    expect(off.result.pr!.description).not.toContain("Custom repository template");
    expect(off.result.pr!.description).toContain("## Metadata");
  });
});

describe("agent: config file", () => {
  it("applies custom forbidden keywords to the title", async () => {
    const config = await writeConfig("keywords.yaml", "title:\n  forbidden_keywords: [implement]\n");
    const { result } = await run(sample.event, { configFile: config });
    expect(result.status).toBe("previewed");
    expect(result.pr!.title).toBe("feat(order): CreateOrderHandler [trace:ord-8128]");
    expect(result.pr!.title).not.toMatch(/implement/i);
  });

  it("applies a custom target branch map", async () => {
    const config = await writeConfig(
      "targets.yaml",
      [
        "branch_rules:",
        "  target_branch_map:",
        '    "feature/": release',
        '    "bugfix/": dev',
        '    "hotfix/": main',
        "",
      ].join("\n"),
    );
    const { result } = await run(sample.event, { configFile: config });
    expect(result.status).toBe("previewed");
    expect(result.pr!.target_branch).toBe("release");

    const mismatch = await run(sampleEvent({ target_branch: "dev" }), { configFile: config });
    expectFailure(mismatch, "target_mismatch", fieldsOf(sample.event));
    expect(mismatch.result.message).toContain('"release"');
  });

  it("adds reviewers by component scope", async () => {
    const config = await writeConfig(
      "reviewers.yaml",
      "reviewers:\n  by_scope:\n    order: [OrderDomainAgent, 'optional:DocsAgent']\n",
    );
    const { result } = await run(sample.event, { configFile: config });
    expect(result.status).toBe("previewed");
    expect(result.pr!.reviewers).toEqual([
      ...MANDATORY_REVIEWERS,
      { name: "OrderDomainAgent", required: true },
      { name: "DocsAgent", required: false },
    ]);
  });

  it('drops the domain label when labels.domain is ""', async () => {
    const config = await writeConfig("labels.yaml", 'labels:\n  domain: ""\n');
    const { result } = await run(sample.event, { configFile: config });
    expect(result.status).toBe("previewed");
    expect(result.pr!.labels).toEqual(["traceable", "generated-by:AI"]);
  });

  it("rejects an unknown key with invalid_config naming the key and the file", async () => {
    const config = await writeConfig("unknown-key.yaml", "titel:\n  max_length: 80\n");
    const error = await rejection(createAgent({ configFile: config, repoPath: sample.dir, cwd: root }));
    expect(error.reason).toBe("invalid_config");
    expect(error.message).toContain('"titel"');
    expect(error.message).toContain(config);
  });

  it("rejects a value of the wrong type with invalid_config naming the key and the file", async () => {
    const config = await writeConfig("wrong-type.yaml", "limits:\n  max_changed_lines: many\n");
    const error = await rejection(createAgent({ configFile: config, repoPath: sample.dir, cwd: root }));
    expect(error.reason).toBe("invalid_config");
    expect(error.message).toContain("limits.max_changed_lines");
    expect(error.message).toContain("expected number");
    expect(error.message).toContain(config);
  });

  it("describes the wrong value in a config file instead of calling the key missing", async () => {
    const config = await writeConfig(
      "wrong-values.yaml",
      "limits:\n  max_changed_lines: many\npr:\n  commit_range: sometimes\n",
    );
    const error = await rejection(createAgent({ configFile: config, repoPath: sample.dir, cwd: root }));
    expect(error.message).not.toContain("is missing");
    expect(error.message).not.toContain("undefined");
    expect(error.message).toContain('limits.max_changed_lines: expected number, got "many"');
    expect(error.message).toContain('got "sometimes"');
  });

  it("rejects a config file that does not exist", async () => {
    const missing = path.join(root, "configs", "nope.yaml");
    const error = await rejection(createAgent({ configFile: missing, repoPath: sample.dir, cwd: root }));
    expect(error.reason).toBe("invalid_config");
    expect(error.message).toContain(missing);
    expect(error.message).toContain("does not exist");
  });
});

describe("agent: events file", () => {
  const readLines = async (file: string): Promise<string[]> =>
    (await readFile(file, "utf8")).split("\n").filter((l) => l !== "");

  it("appends exactly one JSON line, the PullRequestFailed event, for a failed run (eventsFile)", async () => {
    const file = path.join(root, "events", "option", "events.jsonl");
    const event = sampleEvent({ branch: "master" });
    const outcome = await run(event, { eventsFile: file });
    const failed = expectFailure(outcome, "forbidden_branch", fieldsOf(event));
    const written = await readLines(file);
    expect(written).toHaveLength(1);
    expect(JSON.parse(written[0]!)).toEqual(failed);
  });

  it("appends to events.jsonl_file from the config, resolved against the config's folder", async () => {
    const config = await writeConfig("events.yaml", "events:\n  jsonl_file: out/events.jsonl\n");
    const file = path.join(path.dirname(config), "out", "events.jsonl");
    const { agent: _omitted, ...event } = sample.event;
    const outcome = await run(event, { configFile: config });
    const failed = expectFailure(outcome, "invalid_event", fieldsOf(sample.event));
    const written = await readLines(file);
    expect(written).toHaveLength(1);
    expect(PullRequestFailedSchema.parse(JSON.parse(written[0]!))).toEqual(failed);
  });

  it("writes nothing for a preview", async () => {
    const file = path.join(root, "events", "preview", "events.jsonl");
    const { result } = await run(sample.event, { eventsFile: file });
    expect(result.status).toBe("previewed");
    await expect(readFile(file, "utf8")).rejects.toMatchObject({ code: "ENOENT" });
  });
});

describe("agent: event sinks that fail", () => {
  it("keeps the outcome and the event, tries every sink, and reports the failed delivery as a warning", async () => {
    const delivered: LifecycleEvent[] = [];
    const broken = async () => {
      throw new Error("broker unreachable");
    };
    const agent = await createAgent({
      repoPath: sample.dir,
      tracesFile: sample.tracesFile,
      sinks: [broken, async (e) => void delivered.push(e)],
      now: () => NOW,
      cwd: root,
    });
    const result = await agent.handle(sampleEvent({ trace_id: "trace-zzz-0001" }));
    expect(result.status).toBe("failed");
    expect(result.reason).toBe("missing_trace");
    expect(result.events).toHaveLength(1);
    expect(delivered).toEqual(result.events);
    expect(result.warnings).toEqual([
      "Event delivery failed: PullRequestFailed was not delivered to extra:0 (broker unreachable); it is not kept for extra:0 (sinks given by the caller are not kept).",
    ]);
  });

  it("a successful preview has no warnings", async () => {
    const { result } = await run(sampleEvent());
    expect(result.status).toBe("previewed");
    expect(result.warnings).toEqual([]);
  });
});
