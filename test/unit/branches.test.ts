import { describe, expect, it } from "vitest";
import { checkBranches, forbiddenBy, invalidRefNameReason, matchPrefix } from "../../src/policy/branches.js";
import { makePolicy } from "./builders.js";

const policy = makePolicy();

describe("matchPrefix", () => {
  it("returns the allowed prefix the branch starts with", () => {
    expect(matchPrefix("feature/order-handler", ["feature/", "bugfix/", "hotfix/"])).toBe("feature/");
    expect(matchPrefix("hotfix/crash", ["feature/", "bugfix/", "hotfix/"])).toBe("hotfix/");
    expect(matchPrefix("release/1.0", ["feature/", "bugfix/", "hotfix/"])).toBeUndefined();
    expect(matchPrefix("feature", ["feature/"])).toBeUndefined();
    expect(matchPrefix("Feature/x", ["feature/"])).toBeUndefined();
  });

  it("the longest matching prefix wins whatever the order of the list", () => {
    expect(matchPrefix("feature/ui/button", ["feature/", "feature/ui/"])).toBe("feature/ui/");
    expect(matchPrefix("feature/ui/button", ["feature/ui/", "feature/"])).toBe("feature/ui/");
    expect(matchPrefix("feature/api/x", ["feature/ui/", "feature/"])).toBe("feature/");
  });

  it("does not reorder the caller's array", () => {
    const prefixes = ["a/", "abc/", "ab/"];
    matchPrefix("abc/x", prefixes);
    expect(prefixes).toEqual(["a/", "abc/", "ab/"]);
  });
});

describe("forbiddenBy", () => {
  const forbidden = ["master", "deprecated/"];

  it("an entry without a trailing slash forbids that exact name only", () => {
    expect(forbiddenBy("master", forbidden)).toBe("master");
    expect(forbiddenBy("master2", forbidden)).toBeUndefined();
    expect(forbiddenBy("feature/master", forbidden)).toBeUndefined();
    expect(forbiddenBy("master/x", forbidden)).toBeUndefined();
  });

  it("an entry ending in / forbids everything under it and the name itself", () => {
    expect(forbiddenBy("deprecated/old-thing", forbidden)).toBe("deprecated/");
    expect(forbiddenBy("deprecated/a/b", forbidden)).toBe("deprecated/");
    expect(forbiddenBy("deprecated", forbidden)).toBe("deprecated/");
    expect(forbiddenBy("deprecated-x", forbidden)).toBeUndefined();
    expect(forbiddenBy("feature/deprecated/x", forbidden)).toBeUndefined();
  });
});

describe("invalidRefNameReason", () => {
  it("accepts ordinary branch names", () => {
    for (const name of [
      "feature/order-handler",
      "hotfix/1.2.3",
      "bugfix/JIRA-42_fix",
      "feature/a.b/c",
      "dev",
      "feature/ü",
    ]) {
      expect(invalidRefNameReason(name), name).toBeUndefined();
    }
  });

  it.each([
    ["refs/heads/feature/x", "give the short branch name, without refs/heads/"],
    ["-feature/x", "it starts with '-'"],
    ["feature/a b", "it contains a space, a control character or one of ~ ^ : ? * [ \\"],
    ["feature/a~1", "it contains a space, a control character or one of ~ ^ : ? * [ \\"],
    ["feature/a^", "it contains a space, a control character or one of ~ ^ : ? * [ \\"],
    ["feature/a:b", "it contains a space, a control character or one of ~ ^ : ? * [ \\"],
    ["feature/a?", "it contains a space, a control character or one of ~ ^ : ? * [ \\"],
    ["feature/*", "it contains a space, a control character or one of ~ ^ : ? * [ \\"],
    ["feature/[x", "it contains a space, a control character or one of ~ ^ : ? * [ \\"],
    ["feature\\x", "it contains a space, a control character or one of ~ ^ : ? * [ \\"],
    ["feature/a\tb", "it contains a space, a control character or one of ~ ^ : ? * [ \\"],
    ["feature/a\x7fb", "it contains a space, a control character or one of ~ ^ : ? * [ \\"],
    ["feature/a..b", "it contains '..'"],
    ["feature/a@{1}", "it contains '@{'"],
    ["@", "'@' alone is not a branch"],
    ["feature//x", "it has an empty path component"],
    ["/feature/x", "it has an empty path component"],
    ["feature/", "it has an empty path component"],
    ["feature/x.", "it ends with '.' or '.lock'"],
    ["feature/x.lock", "it ends with '.' or '.lock'"],
    ["feature/.hidden", "a path component starts with '.'"],
    [".feature/x", "a path component starts with '.'"],
  ])("%j is invalid: %s", (name, reason) => {
    expect(invalidRefNameReason(name)).toBe(reason);
  });
});

describe("checkBranches", () => {
  it("maps the seed's prefixes to their targets: feature/→dev, bugfix/→dev, hotfix/→main", () => {
    expect(checkBranches("feature/order-handler", undefined, policy)).toEqual({ target: "dev", violations: [] });
    expect(checkBranches("bugfix/null-check", undefined, policy)).toEqual({ target: "dev", violations: [] });
    expect(checkBranches("hotfix/crash", undefined, policy)).toEqual({ target: "main", violations: [] });
  });

  it("accepts a requested target equal to the mapped one", () => {
    expect(checkBranches("feature/order-handler", "dev", policy)).toEqual({ target: "dev", violations: [] });
    expect(checkBranches("hotfix/crash", "main", policy)).toEqual({ target: "main", violations: [] });
  });

  it("a different requested target is a target_mismatch, and the policy's target is still returned", () => {
    expect(checkBranches("feature/order-handler", "main", policy)).toEqual({
      target: "dev",
      violations: [
        {
          code: "target_mismatch",
          where: "target",
          message: 'target branch "main" was requested but policy maps feature/* to "dev"',
        },
      ],
    });
    expect(checkBranches("hotfix/crash", "dev", policy).violations.map((v) => v.code)).toEqual(["target_mismatch"]);
  });

  it("a source without an allowed prefix is rejected", () => {
    expect(checkBranches("release/1.0", undefined, policy)).toEqual({
      target: null,
      violations: [
        {
          code: "branch_prefix_not_allowed",
          where: "branch",
          message: 'source branch "release/1.0" does not start with an allowed prefix (feature/, bugfix/, hotfix/)',
        },
      ],
    });
    expect(checkBranches("feature-x", undefined, policy).violations.map((v) => v.code)).toEqual([
      "branch_prefix_not_allowed",
    ]);
    expect(checkBranches("main", undefined, policy).violations.map((v) => v.code)).toEqual([
      "branch_prefix_not_allowed",
    ]);
  });

  it("master is forbidden by exact name", () => {
    expect(checkBranches("master", undefined, policy)).toEqual({
      target: null,
      violations: [
        {
          code: "branch_forbidden",
          where: "branch",
          message: 'source branch "master" is forbidden by branch_rules.forbidden entry "master"',
        },
      ],
    });
  });

  it("deprecated/ forbids the folder and the bare name", () => {
    expect(checkBranches("deprecated/old", undefined, policy).violations).toEqual([
      {
        code: "branch_forbidden",
        where: "branch",
        message: 'source branch "deprecated/old" is forbidden by branch_rules.forbidden entry "deprecated/"',
      },
    ]);
    expect(checkBranches("deprecated", undefined, policy).violations.map((v) => v.code)).toEqual(["branch_forbidden"]);
  });

  it("the forbidden list wins over an allowed prefix", () => {
    const p = makePolicy({ branch_rules: { forbidden: ["feature/legacy/"] } });
    expect(checkBranches("feature/legacy/x", undefined, p)).toEqual({
      target: null,
      violations: [
        {
          code: "branch_forbidden",
          where: "branch",
          message: 'source branch "feature/legacy/x" is forbidden by branch_rules.forbidden entry "feature/legacy/"',
        },
      ],
    });
    expect(checkBranches("feature/legacy-x", undefined, p)).toEqual({ target: "dev", violations: [] });
  });

  it("a name that is not a valid git ref is rejected before any other rule", () => {
    expect(checkBranches("feature/a..b", "main", policy)).toEqual({
      target: null,
      violations: [
        {
          code: "branch_invalid_name",
          where: "branch",
          message: `source branch "feature/a..b" is not a valid git branch name: it contains '..'`,
        },
      ],
    });
    expect(checkBranches("refs/heads/feature/x", undefined, policy).violations.map((v) => v.code)).toEqual([
      "branch_invalid_name",
    ]);
    expect(checkBranches("master.lock", undefined, policy).violations.map((v) => v.code)).toEqual([
      "branch_invalid_name",
    ]);
  });

  it("the longest prefix decides the target", () => {
    const p = makePolicy({
      branch_rules: {
        allowed_prefixes: ["feature/", "feature/ui/"],
        target_branch_map: { "feature/": "dev", "feature/ui/": "ui-dev" },
      },
    });
    expect(checkBranches("feature/ui/button", undefined, p)).toEqual({ target: "ui-dev", violations: [] });
    expect(checkBranches("feature/api", undefined, p)).toEqual({ target: "dev", violations: [] });
    expect(checkBranches("feature/ui/button", "dev", p).violations).toEqual([
      {
        code: "target_mismatch",
        where: "target",
        message: 'target branch "dev" was requested but policy maps feature/ui/* to "ui-dev"',
      },
    ]);
  });

  it("a map that points at a forbidden branch is target_forbidden", () => {
    const p = makePolicy({
      branch_rules: { allowed_prefixes: ["feature/"], target_branch_map: { "feature/": "master" } },
    });
    expect(checkBranches("feature/x", undefined, p)).toEqual({
      target: "master",
      violations: [
        {
          code: "target_forbidden",
          where: "target",
          message: 'target branch "master" (for feature/) is forbidden by branch_rules.forbidden entry "master"',
        },
      ],
    });
    const q = makePolicy({
      branch_rules: { allowed_prefixes: ["feature/"], target_branch_map: { "feature/": "deprecated/dev" } },
    });
    expect(checkBranches("feature/x", undefined, q).violations.map((v) => v.code)).toEqual(["target_forbidden"]);
  });

  it("target_forbidden and target_mismatch are reported together", () => {
    const p = makePolicy({
      branch_rules: { allowed_prefixes: ["feature/"], target_branch_map: { "feature/": "master" } },
    });
    expect(checkBranches("feature/x", "dev", p).violations.map((v) => v.code)).toEqual([
      "target_forbidden",
      "target_mismatch",
    ]);
  });

  it("an empty forbidden list forbids nothing", () => {
    const p = makePolicy({ branch_rules: { forbidden: [] } });
    expect(checkBranches("master", undefined, p).violations.map((v) => v.code)).toEqual(["branch_prefix_not_allowed"]);
  });
});
