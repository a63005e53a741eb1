import { describe, expect, it } from "vitest";
import { draftDeterministically } from "../../src/agent/deterministic-drafter.js";
import type { ChangeDigest } from "../../src/domain/digest.js";
import { breakingFooters, classifyChange, parseConventional, splitUpstreamRefs } from "../../src/policy/change-type.js";
import { planPullRequest } from "../../src/policy/plan.js";
import { assemblePullRequest } from "../../src/render/assemble.js";
import { DEFAULT_TEMPLATE } from "../../src/render/template.js";
import { runGate } from "../../src/validate/gate.js";
import { commit, file, makeFacts, makePolicy, type FactsOptions } from "./builders.js";

const policy = makePolicy();
const typeOf = (opts: FactsOptions) => {
  const facts = makeFacts(opts);
  return classifyChange(facts.changes, policy, facts.source_branch).type;
};

describe("conventional subjects", () => {
  it("reads type, scope and the breaking bang", () => {
    expect(parseConventional("fix(order)!: remove the legacy endpoint")).toEqual({
      type: "fix",
      scope: "order",
      breaking: true,
      description: "remove the legacy endpoint",
    });
    expect(parseConventional("Fix typo in README")).toBeNull();
    expect(parseConventional('Revert "feat: add discount"')).toBeNull();
  });

  it("reads BREAKING CHANGE and BREAKING-CHANGE footers with their continuation lines", () => {
    const body =
      "Drops v1.\n\nBREAKING CHANGE: clients must call\n/v2/orders instead.\nRefs: #12\n\nBREAKING-CHANGE: gone";
    expect(breakingFooters(body)).toEqual(["clients must call /v2/orders instead.", "gone"]);
    expect(breakingFooters("mentions a BREAKING CHANGE: in prose")).toEqual([]);
  });

  it("takes upstream references out of a subject", () => {
    expect(splitUpstreamRefs("Bump Serilog to 3.1 (#591)")).toEqual({ text: "Bump Serilog to 3.1", refs: ["#591"] });
    expect(splitUpstreamRefs("Fix parsing (org/repo#12) of dates")).toEqual({
      text: "Fix parsing of dates",
      refs: ["org/repo#12"],
    });
  });
});

describe("type when the subject is not conventional", () => {
  it("a declared type wins over the files", () => {
    expect(typeOf({ commits: [commit("feat: describe the API")], files: [file("README.md", "modified")] })).toBe(
      "feat",
    );
  });

  it.each([
    ["a revert subject", [commit('Revert "feat: add discount"')], [file("src/Order.cs", "modified")], "revert"],
    [
      "a revert body",
      [commit("Undo the discount", { body: "This reverts commit 0123456789abcdef." })],
      [file("src/Order.cs", "modified")],
      "revert",
    ],
    ["a typo fixed in docs", [commit("Fix typo in README")], [file("README.md", "modified")], "docs"],
    ["docs folder only", [commit("Describe the flow")], [file("docs/flow.md"), file("docs/img/flow.txt")], "docs"],
    ["tests only", [commit("Cover the handler")], [file("tests/Order/HandlerTests.cs")], "test"],
    ["CI only", [commit("Cache packages")], [file(".github/workflows/ci.yml", "modified")], "ci"],
    [
      "a framework upgrade",
      [commit("Upgrade to .NET 8 (#591)")],
      [file("src/Order/Order.csproj", "modified"), file("global.json", "modified")],
      "build",
    ],
    [
      "a lock file bump",
      [commit("Bump lodash")],
      [file("package.json", "modified"), file("package-lock.json", "modified")],
      "build",
    ],
    [
      "renames only",
      [commit("Move handlers")],
      [file("src/B.cs", "renamed", { old_path: "src/A.cs", additions: 0, deletions: 0 })],
      "refactor",
    ],
    ["a [fix] tag", [commit("[fix] null order total")], [file("src/Order.cs", "modified")], "fix"],
    ["a fix word", [commit("Resolve crash on empty cart")], [file("src/Cart.cs", "modified")], "fix"],
    ["anything else", [commit("Add discount codes")], [file("src/Order.cs", "modified")], "feat"],
  ])("%s", (_why, commits, files, expected) => {
    expect(typeOf({ commits, files })).toBe(expected);
  });

  it("a rename with edits is not rename-only", () => {
    expect(
      typeOf({
        commits: [commit("Move and extend handlers")],
        files: [file("src/B.cs", "renamed", { old_path: "src/A.cs", additions: 4, deletions: 1 })],
      }),
    ).toBe("feat");
  });

  it("upstream references leave the title and stay in the body", () => {
    const facts = makeFacts({
      commits: [commit("Add discount codes (#591)")],
      files: [file("src/Order.cs", "modified")],
    });
    const { pr } = assemblePullRequest(facts, draftDeterministically(facts, policy), DEFAULT_TEMPLATE, policy);
    expect(pr.title).toBe("feat(order): add discount codes [trace:ord-8128]");
    expect(pr.description).toContain("Add discount codes (#591)");
  });

  it("a revert reads as a roll-back of the reverted subject", () => {
    const facts = makeFacts({
      commits: [commit('Revert "feat(order): add discount"')],
      files: [file("src/Order.cs", "modified")],
    });
    const d = draftDeterministically(facts, policy);
    expect(d.type).toBe("revert");
    expect(d.summary).toBe('roll back "add discount"');
  });
});

const breakingFacts = (body = "BREAKING CHANGE: clients must move to /v2/orders.") =>
  makeFacts({
    commits: [commit("fix(order)!: remove the legacy CreateOrder v1 endpoint", { body })],
    files: [file("src/Controllers/OrderV1Controller.cs", "deleted"), file("tests/OrderTests.cs", "modified")],
  });

describe("breaking changes", () => {
  const merging = makePolicy({ merge: { commits: true } });

  it("a bang and a footer: high risk with the reason, never auto-merged, title keeps the bang, label and section", () => {
    const facts = breakingFacts();
    const plan = planPullRequest(facts, merging);
    expect(plan.breaking).toBe(true);
    expect(plan.risk.level).toBe("high");
    expect(plan.risk.reasons.join("\n")).toMatch(/breaking change/);
    expect(plan.auto_merge).toBe(false);
    expect(plan.labels).toContain("breaking-change");
    const { pr } = assemblePullRequest(
      facts,
      draftDeterministically(facts, merging, plan),
      DEFAULT_TEMPLATE,
      merging,
      plan,
    );
    expect(pr.title).toBe("fix(order)!: remove the legacy CreateOrder v1 endpoint [trace:ord-8128]");
    expect(pr.auto_complete).toBe(false);
    expect(pr.description).toContain("## Breaking changes");
    expect(pr.description).toContain("> clients must move to /v2/orders.");
    expect(runGate(pr.title, pr.description, facts, merging)).toEqual([]);
  });

  it("a footer alone is enough", () => {
    const facts = makeFacts({
      commits: [commit("fix(order): drop v1", { body: "BREAKING-CHANGE: v1 is gone" })],
      files: [file("src/Order.cs", "modified")],
    });
    expect(planPullRequest(facts, merging).breaking).toBe(true);
  });

  it("a removed public symbol in the digest is enough", () => {
    const digest: ChangeDigest = {
      files: [],
      additions: 0,
      deletions: 0,
      line_counts: "exact",
      hunks: [],
      hunks_omitted: 0,
      removed_public: ["OrderV1Controller"],
    };
    const facts = { ...makeFacts({ commits: [commit("fix(order): tidy controllers")] }), digest };
    const plan = planPullRequest(facts, merging);
    expect(plan.breaking).toBe(true);
    expect(plan.breaking_reasons.join(" ")).toContain("OrderV1Controller");
    expect(plan.risk.level).toBe("high");
  });

  it("an ordinary fix is not breaking and may merge itself under merge.commits", () => {
    const facts = makeFacts({
      commits: [commit("fix(order): round totals")],
      files: [file("src/Order.cs", "modified"), file("tests/OrderTests.cs", "modified")],
    });
    const plan = planPullRequest(facts, merging);
    expect(plan.breaking).toBe(false);
    expect(plan.risk.level).toBe("low");
    expect(plan.auto_merge).toBe(true);
  });
});

describe("the plan's risk", () => {
  it("a README-only change is low risk, whatever its subject declares", () => {
    const facts = makeFacts({ commits: [commit("feat: explain setup")], files: [file("README.md", "modified")] });
    const plan = planPullRequest(facts, policy);
    expect(plan.risk.level).toBe("low");
    expect(plan.risk.reasons[0]).toBe("only documentation changed");
  });

  it("an inferred type feeds the risk: a dependency bump is build, medium", () => {
    const facts = makeFacts({ commits: [commit("Bump Serilog")], files: [file("src/App/App.csproj", "modified")] });
    const plan = planPullRequest(facts, policy);
    expect(plan.type).toBe("build");
    expect(plan.risk.reasons[0]).toBe("commit type build is medium risk");
  });
});
