import { describe, expect, it } from "vitest";
import type { PrPlan } from "../../src/domain/pull-request.js";
import { planPullRequest } from "../../src/policy/plan.js";
import { validateAgainstPlan } from "../../src/validate/contradictions.js";
import { factsCorpus, identifiersIn, knownIdentifiers, validateIdentifiers } from "../../src/validate/identifiers.js";
import { commit, file, makeDraft, makeFacts, makePolicy } from "./builders.js";

const policy = makePolicy();

describe("identifiers named in prose", () => {
  it("finds code spans, CamelCase, lowerCamel, snake_case, SCREAMING_SNAKE and dotted names", () => {
    expect(
      identifiersIn(
        "Adds `Order.ApplyDiscount()` and ApplyDiscount, calls applyDiscount via max_total and MAX_TOTAL in OrderService.Create.",
      ).sort(),
    ).toEqual(
      ["MAX_TOTAL", "Order.ApplyDiscount", "OrderService.Create", "ApplyDiscount", "applyDiscount", "max_total"].sort(),
    );
  });

  it("leaves prose words, products, versions, abbreviations and file names alone", () => {
    expect(
      identifiersIn("Uses GitHub and TypeScript, e.g. version 1.2.3 of Node.js, see README.md and api.example.com"),
    ).toEqual([]);
  });

  it("accepts names from the change, its messages and the trace, and flags made-up ones", () => {
    const facts = makeFacts({
      commits: [commit("feat(order): add discounts", { body: "Adds ApplyDiscount to Order." })],
      files: [file("src/Order.cs", "modified")],
    });
    const known = knownIdentifiers(factsCorpus(facts));
    expect(
      validateIdentifiers(makeDraft({ purpose: "Adds `Order.ApplyDiscount` for CreateOrderHandler." }), known),
    ).toEqual([]);
    const bad = validateIdentifiers(
      makeDraft({ highlights: ["Adds `RefundPolicy.Evaluate` and PaymentGateway"] }),
      known,
    );
    expect(bad.map((v) => v.code)).toEqual(["unfaithful_identifier", "unfaithful_identifier"]);
    expect(bad[0]!.message).toContain("RefundPolicy.Evaluate");
  });

  it("a digest's symbols and hunks make names known", () => {
    const facts = {
      ...makeFacts({ commits: [commit("feat(order): discounts")], files: [file("src/Order.cs", "modified")] }),
      digest: {
        files: [
          {
            path: "src/Order.cs",
            change: "modified" as const,
            additions: 3,
            deletions: 0,
            binary: false,
            language: "csharp",
            role: "source" as const,
            symbols: {
              added: [{ name: "Order.ApplyDiscount", kind: "method" as const, exported: true }],
              removed: [],
              changed: [],
            },
          },
        ],
        additions: 3,
        deletions: 0,
        line_counts: "exact" as const,
        hunks: [{ path: "src/Order.cs", text: "@@ -1 +1,3 @@\n+  private decimal discount_rate;" }],
        hunks_omitted: 0,
        removed_public: [],
      },
    };
    const known = knownIdentifiers(factsCorpus(facts));
    expect(
      validateIdentifiers(makeDraft({ purpose: "Adds `Order.ApplyDiscount` using discount_rate." }), known),
    ).toEqual([]);
  });
});

describe("prose that contradicts the plan", () => {
  const facts = makeFacts();
  const plan: PrPlan = planPullRequest(facts, policy);

  it("the seed's plan is medium risk, not auto-merged, to dev", () => {
    expect([plan.type, plan.risk.level, plan.auto_merge, facts.target_branch]).toEqual([
      "feat",
      "medium",
      false,
      "dev",
    ]);
  });

  it("accepts prose that agrees", () => {
    expect(validateAgainstPlan(makeDraft({ purpose: "A medium-risk change that lands in dev." }), plan, "dev")).toEqual(
      [],
    );
  });

  it("flags another type, risk level, auto-merge and target branch", () => {
    const v = validateAgainstPlan(
      makeDraft({ type: "docs", purpose: "Low risk: it automerges into main once CI passes." }),
      plan,
      "dev",
    );
    expect(v.map((x) => x.code)).toEqual([
      "contradicts_fact",
      "contradicts_fact",
      "contradicts_fact",
      "contradicts_fact",
    ]);
    expect(v.map((x) => x.message).join("\n")).toMatch(
      /computed type "feat"[\s\S]*risk level medium[\s\S]*merge plan[\s\S]*targets dev/,
    );
  });
});
