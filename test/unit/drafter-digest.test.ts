import { describe, expect, it } from "vitest";
import { digestHighlights, draftDeterministically } from "../../src/agent/deterministic-drafter.js";
import type { FileTexts } from "../../src/domain/commit.js";
import { digestChange } from "../../src/digest/index.js";
import { planPullRequest } from "../../src/policy/plan.js";
import { assemblePullRequest } from "../../src/render/assemble.js";
import { DEFAULT_TEMPLATE } from "../../src/render/template.js";
import { runGate } from "../../src/validate/gate.js";
import { commit, file, makeFacts, makePolicy } from "./builders.js";

const policy = makePolicy({ merge: { commits: true } });

const ORDER_BEFORE = `namespace Shop;
public class Order
{
    public decimal Total { get; set; }
    public void Cancel() { Total = 0; }
}
`;
const ORDER_AFTER = `namespace Shop;
public class Order
{
    public decimal Total { get; set; }
    public void Cancel() { Total = 0; }
    public void ApplyDiscount(decimal rate) { Total -= Total * rate; }
}
`;
const V1 = `namespace Shop.Api;
public class OrderV1Controller
{
    public string Get() => "v1";
}
`;

async function factsWith(subject: string, texts: Record<string, FileTexts>, files = Object.keys(texts)) {
  const changed = files.map((p) =>
    file(p, texts[p]!.before === null ? "added" : texts[p]!.after === null ? "deleted" : "modified"),
  );
  const base = makeFacts({ commits: [commit(subject)], files: changed });
  const digest = await digestChange(base.changes, new Map(Object.entries(texts)), policy);
  return { ...base, digest };
}

describe("the deterministic drafter writes from the digest", () => {
  it("names what was added and what public API was removed", async () => {
    const facts = await factsWith("fix(order): discounts, and drop the v1 controller", {
      "src/Domain/Order.cs": { before: ORDER_BEFORE, after: ORDER_AFTER },
      "src/Api/OrderV1Controller.cs": { before: V1, after: null },
    });
    expect(digestHighlights(facts.digest)).toEqual([
      "Adds `Order.ApplyDiscount`",
      "Removes public `OrderV1Controller`",
    ]);
  });

  it("a removed public class makes the change breaking: high risk, no auto-merge, a bang in the title", async () => {
    const facts = await factsWith("fix(order): drop the v1 controller", {
      "src/Api/OrderV1Controller.cs": { before: V1, after: null },
    });
    const plan = planPullRequest(facts, policy);
    expect(plan.breaking).toBe(true);
    expect(plan.risk.level).toBe("high");
    expect(plan.auto_merge).toBe(false);
    const { pr } = assemblePullRequest(
      facts,
      draftDeterministically(facts, policy, plan),
      DEFAULT_TEMPLATE,
      policy,
      plan,
    );
    expect(pr.title).toMatch(/^fix\(order\)!: /);
    expect(pr.description).toContain("Removes public `OrderV1Controller`");
    expect(runGate(pr.title, pr.description, facts, policy)).toEqual([]);
  });

  it("an internal change is not breaking and lists what changed", async () => {
    const facts = await factsWith("fix(order): round totals", {
      "src/Domain/Order.cs": { before: ORDER_BEFORE, after: ORDER_BEFORE.replace("Total = 0;", "Total = 0m;") },
    });
    expect(digestHighlights(facts.digest)).toEqual(["Changes `Order.Cancel`"]);
    expect(planPullRequest(facts, policy).breaking).toBe(false);
  });
});

describe("the model's input carries the digest as untrusted data", () => {
  it("lists symbols per file, the computed type and the budgeted hunks inside untrusted_data fences", async () => {
    const { buildDraftMessages } = await import("../../src/agent/model-drafter.js");
    const facts = await factsWith("Add discounts", {
      "src/Domain/Order.cs": { before: ORDER_BEFORE, after: ORDER_AFTER },
    });
    const plan = planPullRequest(facts, policy);
    const input = String(buildDraftMessages(facts, policy, [], undefined, plan)[1]!.content);
    expect(input).toContain('type: exactly "feat"');
    expect(input).toMatch(
      /<untrusted_data source="digest">\n- src\/Domain\/Order\.cs \[source, csharp\] added: Order\.ApplyDiscount/,
    );
    expect(input).toMatch(
      /<untrusted_data source="diff">\n--- src\/Domain\/Order\.cs\n@@ [^\n]+\n[\s\S]*\+ {4}public void ApplyDiscount/,
    );
  });
});

describe("symbol names that look like file names", () => {
  it("a highlight naming a changed property (Order.Total) passes the path check", async () => {
    const facts = await factsWith("fix(order): round totals", {
      "src/Domain/Order.cs": {
        before: ORDER_BEFORE,
        after: ORDER_BEFORE.replace("public decimal Total { get; set; }", "public decimal Total { get; private set; }"),
      },
    });
    expect(digestHighlights(facts.digest)).toEqual(["Changes `Order.Total`"]);
    const { pr } = assemblePullRequest(facts, draftDeterministically(facts, policy), DEFAULT_TEMPLATE, policy);
    expect(runGate(pr.title, pr.description, facts, policy)).toEqual([]);
  });
});
