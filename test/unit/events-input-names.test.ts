import { describe, expect, it } from "vitest";
import { makeIntake } from "../../src/agent/nodes/intake.js";
import type { AgentDeps } from "../../src/agent/deps.js";
import type { AgentStateType } from "../../src/agent/state.js";
import { parseExplained } from "../../src/domain/errors.js";
import { ChangeRequestedSchema, CommitCompletedSchema } from "../../src/domain/events.js";
import {
  editPathProblem,
  escapeControls,
  quoteValue,
  repoNameProblem,
  type RepoForge,
} from "../../src/domain/input-names.js";
import { changeRequest, makePolicy } from "./builders.js";

const commit = (overrides: Record<string, unknown> = {}) => ({
  event: "CommitCompleted",
  trace_id: "trace-ord-8128",
  commit_hash: "9fbc871",
  repo: "OrderService",
  branch: "feature/order-handler",
  agent: "code-committer-agent",
  timestamp: "2025-05-07T19:05:33Z",
  ...overrides,
});

/** The explained issues for a change request whose third edit has `path`. */
function pathIssues(path: unknown): string[] {
  const edits = [
    { path: "deploy/a.yaml", content: "a: 1\n" },
    { path: "deploy/b.yaml", delete: true },
    { path, set: { "spec.x": 1 } },
  ];
  const parsed = parseExplained(ChangeRequestedSchema, changeRequest({ edits }));
  return parsed.success ? [] : parsed.issues;
}

describe("edit paths", () => {
  it.each([
    ["../../etc/passwd", 'has a ".." segment'],
    ["deploy/../../x.yaml", 'has a ".." segment'],
    ["deploy/./x.yaml", 'has a "." segment'],
    [".git/config", "points into the .git folder"],
    ["deploy/.GIT/hooks/pre-commit", "points into the .git folder"],
    [".git./config", "points into the .git folder"],
    ["GIT~1/config", "points into the .git folder"],
    ["/etc/passwd", "is an absolute path"],
    ["C:\\Windows\\win.ini", "is an absolute path"],
    ["c:/x.yaml", "is an absolute path"],
    ["\\\\server\\share\\x.yaml", "is an absolute path"],
    ["deploy\\orders\\pvc.yaml", "contains a backslash"],
    ["deploy//pvc.yaml", "has an empty segment"],
    ["deploy/orders/", "has an empty segment"],
    ["deploy/pvc\u0000.yaml", "contains the control or invisible character \\x00"],
    ["deploy/\u001b[31mred.yaml", "contains the control or invisible character \\x1b"],
    ["deploy/pvc\n.yaml", "contains the control or invisible character \\x0a"],
    ["deploy/\u202egnp.yaml", "contains the control or invisible character \\u202e"],
    [".g\u200cit/config", "contains the control or invisible character \\u200c"],
    ["deploy/\ud800.yaml", "contains the control or invisible character \\ud800"],
    [`deploy/${"a".repeat(1100)}`, "characters long; expected at most 1024"],
    [`deploy/${"a".repeat(300)}.yaml`, "has a segment of 305 characters"],
  ])("rejects %j as edits[2].path", (path, problem) => {
    const issues = pathIssues(path);
    expect(issues).toHaveLength(1);
    expect(issues[0]).toMatch(/^edits\[2\]\.path: "/);
    expect(issues[0]).toContain(problem);
    // What was expected and what to do; never the raw control character.
    expect(issues[0]).toMatch(/expected .*; \w/);
    expect(issues[0]).not.toMatch(/[\p{Cc}\u202e\u200c]/u);
  });

  it("names the value, sanitised and shortened", () => {
    expect(pathIssues("../../etc/passwd")[0]).toBe(
      'edits[2].path: "../../etc/passwd" has a ".." segment; expected a path from the repository root with "/" between folders, such as deploy/orders/pvc.yaml, without "." or ".." segments; write the path from the repository root',
    );
    expect(pathIssues("a\u0000b")[0]).toContain('"a\\x00b"');
    expect(pathIssues(`x/${"a".repeat(2000)}`)[0]).toContain(`"x/${"a".repeat(55)}..."`);
  });

  it("a path that is not a string is still reported on its edit", () => {
    expect(pathIssues(7)).toEqual([expect.stringMatching(/^edits\[2\]: expected an edit \{"path","set"\}/)]);
  });

  it.each([
    "deploy/orders/pvc.yaml",
    ".github/workflows/ci.yaml",
    ".gitignore",
    "apps/x.git/values.yaml",
    "charts/..hidden/values.yaml",
    "deploy/Überweisung ä.yaml",
    "a".repeat(255),
  ])("accepts %j", (path) => {
    expect(editPathProblem(path)).toBeNull();
    expect(pathIssues(path)).toEqual([]);
  });
});

describe("repository names", () => {
  it.each([
    ["factory/OrderService/extra", "as a GitHub name it has 2 slashes"],
    ["../../etc", "as a GitHub name it has 2 slashes"],
    ["..", 'as a GitHub name it has a ".." part, as an Azure DevOps name it starts with "."'],
    ["acme/..", 'as a GitHub name it has a ".." part'],
    ["acme/", "as a GitHub name it has an empty owner or name"],
    ["Order\u001b[2JService", "contains the control or invisible character \\x1b"],
    ["Order\u0000Service", "contains the control or invisible character \\x00"],
  ])("the schema rejects %j for both events, naming repo", (repo, problem) => {
    for (const [schema, event] of [
      [ChangeRequestedSchema, changeRequest({ repo })],
      [CommitCompletedSchema, commit({ repo })],
    ] as const) {
      const parsed = parseExplained(schema, event);
      expect(parsed.success).toBe(false);
      const issues = parsed.success ? [] : parsed.issues;
      expect(issues).toHaveLength(1);
      expect(issues[0]).toMatch(/^repo: "/);
      expect(issues[0]).toContain(problem);
      expect(issues[0]).not.toMatch(/\p{Cc}/u);
    }
  });

  it.each(["OrderService", "acme/OrderService", "Acme.Orders", "My Repo", "order_service-2"])(
    "the schema accepts %j",
    (repo) => {
      expect(parseExplained(CommitCompletedSchema, commit({ repo })).success).toBe(true);
    },
  );

  const cases: [string, RepoForge, string | null][] = [
    ["OrderService", "github", null],
    ["acme/OrderService", "github", null],
    ["acme/order.service_2-x", "github", null],
    ["My Repo", "github", 'it contains " "'],
    ["acme/.", "github", 'it has a "." part'],
    ["a/b/c", "github", "it has 2 slashes"],
    [`acme/${"r".repeat(101)}`, "github", "it has a part longer than 100 characters"],
    ["OrderService", "azure-devops", null],
    ["My Repo", "azure-devops", null],
    ["Acme.Orders", "azure-devops", null],
    ["acme/OrderService", "azure-devops", 'it contains "/"'],
    ["_private", "azure-devops", 'it starts with "_"'],
    [".hidden", "azure-devops", 'it starts with "."'],
    ["trailing.", "azure-devops", 'it ends with "."'],
    ["a:b", "azure-devops", 'it contains ":"'],
    ["a#b", "azure-devops", 'it contains "#"'],
    ["a[b]", "azure-devops", 'it contains "["'],
    ["r".repeat(65), "azure-devops", "it is 65 characters long"],
  ];
  it.each(cases)("%j on %s", (repo, forge, problem) => {
    const found = repoNameProblem(repo, forge);
    if (problem === null) expect(found).toBeNull();
    else {
      expect(found).toContain(problem);
      expect(found).toContain(forge === "github" ? "is not a GitHub repository name" : "is not an Azure DevOps");
      expect(found).toMatch(/; expected .*; send /);
    }
  });
});

describe("intake checks the repository against the forge in use", () => {
  function intake(forge: RepoForge | null, input: unknown) {
    const deps = {
      policy: makePolicy(),
      forge: forge ? { kind: forge } : null,
      now: () => new Date("2026-01-08T10:00:00Z"),
    } as unknown as AgentDeps;
    return makeIntake(deps)({ input } as AgentStateType);
  }

  it("a GitHub owner/name is invalid_event on Azure DevOps, before any forge call", async () => {
    const update = await intake("azure-devops", commit({ repo: "acme/OrderService" }));
    expect(update.failure).toMatchObject({
      reason: "invalid_event",
      attempts: 0,
      message: expect.stringMatching(
        /^The event is invalid: repo: "acme\/OrderService" is not an Azure DevOps repository name: it contains "\/"; /,
      ),
    });
    expect(update.event).toMatchObject({ repo: "acme/OrderService" });
  });

  it("an Azure DevOps name with a space is invalid_event on GitHub; a change request keeps its branch for the failure event", async () => {
    const update = await intake("github", changeRequest({ repo: "My Repo" }));
    expect(update.failure).toMatchObject({
      reason: "invalid_event",
      message: expect.stringMatching(/^The change request is invalid: repo: "My Repo" is not a GitHub repository/),
    });
    expect(update.change_branch).toBe("agent-sre/pvc-size-4711");
  });

  it("without a forge (dry run) only the schema's rule applies; a good name passes on its forge", async () => {
    expect((await intake(null, commit({ repo: "My Repo" }))).failure).toBeUndefined();
    expect((await intake("github", commit({ repo: "acme/OrderService" }))).failure).toBeUndefined();
    expect((await intake("azure-devops", changeRequest({ repo: "gitops" }))).failure).toBeUndefined();
  });
});

describe("showing values from events", () => {
  it("escapes terminal control characters, keeping the ones asked for", () => {
    expect(escapeControls("a\u001b[31mred\u0007\u009b\u202e!")).toBe("a\\x1b[31mred\\x07\\x9b\\u202e!");
    expect(escapeControls("line 1\nline\t2\r", "\n\t")).toBe("line 1\nline\t2\\x0d");
    expect(escapeControls("emoji 👨‍👩‍👧 ok")).toBe("emoji 👨‍👩‍👧 ok");
    expect(escapeControls("lone \udc00")).toBe("lone \\udc00");
  });

  it("quotes a value: escaped quotes and backslashes, shortened", () => {
    expect(quoteValue('a"b\\c')).toBe('"a\\"b\\\\c"');
    expect(quoteValue("x".repeat(100), 10)).toBe('"xxxxxxx..."');
  });
});
