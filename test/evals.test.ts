/**
 * The eval harness in CI: the whole dataset in deterministic and adversarial mode must meet the issue's
 * thresholds, and the run must not pass vacuously (enough cases, every failure reason and shape covered,
 * every bad-draft kind scripted and caught, a broken expectation detected). Model mode runs against scripted
 * fake models: a good one passes, a garbage and a hallucinating one fail. test/evals-ablation.test.ts shows
 * that switching off any gate rule makes some case fail.
 */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { FIXED_REASONS } from "../src/domain/reasons.js";
import { BAD_KINDS } from "../evals/adversarial.js";
import { loadCases } from "../evals/cases.js";
import { MAX_FALLBACK_RATE, runEval, type EvalReport } from "../evals/harness.js";

const TIMEOUT = 240_000;

function expectThresholdsMet(report: EvalReport): void {
  const failed = report.cases.filter((c) => !c.passed).map((c) => `${c.id}: ${c.mismatches.join("; ")}`);
  expect(failed).toEqual([]);
  expect(report.scores.cases).toBeGreaterThanOrEqual(60);
  expect(report.scores.decision_accuracy).toBe(1);
  expect(report.scores.compliance_rate).toBe(1);
  expect(report.scores.faithfulness_violations).toBe(0);
  expect(report.scores.type_accuracy).toBe(1);
  expect(report.scores.risk_accuracy).toBe(1);
  expect(report.scores.symbol_coverage).toBe(1);
  expect(report.scores.type_checked).toBeGreaterThanOrEqual(60);
  expect(report.scores.symbols_expected).toBeGreaterThanOrEqual(15);
  expect(report.scores.shipped).toBeGreaterThanOrEqual(40);
  expect(report.thresholds.every((t) => t.met)).toBe(true);
  expect(report.passed).toBe(true);
}

describe("the eval dataset", () => {
  it("has at least 60 valid cases covering every failure reason a run can meet and every shape the issue lists", async () => {
    const cases = await loadCases();
    expect(cases.length).toBeGreaterThanOrEqual(60);
    const reasons = new Set(cases.map((c) => c.expect.reason).filter(Boolean));
    // internal_error is a bug by definition: no input provokes it on purpose.
    for (const reason of FIXED_REASONS.filter((r) => r !== "internal_error")) expect(reasons, reason).toContain(reason);
    expect([...reasons].some((r) => /^github_\d+$/.test(r!))).toBe(true);
    const categories = new Set(cases.map((c) => c.category));
    for (const category of [
      "seed",
      "change-request",
      "multi-commit",
      "renames-deletes",
      "binary",
      "unicode",
      "large",
      "traces",
      "forbidden-branch",
      "hotfix",
      "duplicates",
      "change-type",
      "non-conventional",
      "breaking",
      "languages",
      "gate-rules",
    ]) {
      expect(categories, category).toContain(category);
    }
    // Every inferred type and every way a change breaks its users has a case that says so.
    const types = new Set(cases.map((c) => c.expect.type).filter(Boolean));
    for (const type of ["docs", "test", "build", "revert", "refactor", "fix", "feat"])
      expect(types, type).toContain(type);
    expect(cases.filter((c) => c.expect.breaking === true).length).toBeGreaterThanOrEqual(5);
    // Each language the digest parses has a case whose highlights must name its symbols.
    const languages = cases.filter((c) => c.category === "languages" && c.expect.highlights_mention.length > 0);
    const sources = languages.flatMap((c) => c.steps.flatMap((s) => ("write" in s ? Object.keys(s.write) : [])));
    for (const ext of [".cs", ".ts", ".py", ".go", ".java"])
      expect(
        sources.some((p) => p.endsWith(ext)),
        ext,
      ).toBe(true);
  });
});

describe("npm run eval", () => {
  it(
    "deterministic: every decision right, every shipped PR compliant and faithful, no model involved",
    async () => {
      const report = await runEval({ mode: "deterministic" });
      expectThresholdsMet(report);
      expect(report.scores.model_calls_per_pr).toBe(0);
      expect(report.cases.filter((c) => c.shipped).every((c) => c.drafted_by === "deterministic")).toBe(true);
    },
    TIMEOUT,
  );

  it(
    "adversarial: every bad draft of every kind is caught, every good one passes, and nothing bad ships",
    async () => {
      const report = await runEval({ mode: "adversarial" });
      expectThresholdsMet(report);
      const s = report.scores;
      expect(s.bad_drafts).toBeGreaterThanOrEqual(60);
      expect(s.gate_recall).toBe(1);
      expect(s.good_drafts).toBeGreaterThanOrEqual(20);
      expect(s.gate_precision).toBe(1);
      // Each kind was scripted and caught with the violation code that names its defect.
      expect(report.by_kind.map((k) => k.kind).sort()).toEqual([...BAD_KINDS].sort());
      for (const k of report.by_kind) {
        expect(k.drafts, k.kind).toBeGreaterThanOrEqual(5);
        expect(k.named, k.kind).toBe(k.drafts);
      }
      // Both endings of the repair loop happen: the model's repaired draft ships, and the fallback takes over.
      const shipped = report.cases.filter((c) => c.shipped);
      expect(shipped.some((c) => c.drafted_by === "model")).toBe(true);
      expect(shipped.some((c) => c.fallback)).toBe(true);
      expect(s.model_calls_per_pr).toBeGreaterThan(1);
      expect(s.tokens_per_pr).toBeGreaterThan(0);
    },
    TIMEOUT,
  );

  // A subset across the categories (shipped, failed before drafting, breaking, symbols, change requests, forge).
  const MODEL_SUBSET = [
    "seed-create-order",
    "seed-bugfix-to-dev",
    "cr-pvc-size-low",
    "type-docs-only",
    "type-build-csproj",
    "breaking-footer",
    "lang-typescript-add-function",
    "lang-java-remove-public-method",
    "fail-missing-trace",
    "gh-create",
  ];

  it(
    "model mode with a good fake model: every threshold met, no fallbacks",
    async () => {
      const report = await runEval({ mode: "model", fake: "good", ids: MODEL_SUBSET });
      expect(report.cases.filter((c) => !c.passed).map((c) => `${c.id}: ${c.mismatches.join("; ")}`)).toEqual([]);
      expect(report.thresholds.map((t) => t.metric)).toContain("fallback rate");
      expect(report.thresholds.filter((t) => !t.met)).toEqual([]);
      expect(report.passed).toBe(true);
      expect(report.scores.fallback_rate!).toBeLessThanOrEqual(MAX_FALLBACK_RATE);
      expect(report.scores.symbols_expected).toBeGreaterThan(0);
      const drafted = report.cases.filter((c) => c.drafted_by !== null);
      expect(drafted.length).toBeGreaterThanOrEqual(7);
      expect(drafted.every((c) => c.drafted_by === "model")).toBe(true);
    },
    TIMEOUT,
  );

  it(
    "model mode with a garbage or a hallucinating fake model fails: every PR the fallback writes is the model's failure",
    async () => {
      for (const fake of ["garbage", "hallucinating"] as const) {
        const report = await runEval({ mode: "model", fake, ids: MODEL_SUBSET });
        expect(report.passed, fake).toBe(false);
        const failed = report.thresholds.filter((t) => !t.met).map((t) => t.metric);
        expect(failed, fake).toEqual(expect.arrayContaining(["decision accuracy", "fallback rate"]));
        expect(report.scores.fallback_rate, fake).toBe(1);
        for (const c of report.cases.filter((r) => r.drafted_by !== null)) {
          expect(c.fallback, `${fake} ${c.id}`).toBe(true);
          expect(c.mismatches.join("; "), `${fake} ${c.id}`).toMatch(/drafted by the fallback/);
        }
        // Nothing it invented shipped: the fallback drafter wrote every PR.
        expect(report.scores.faithfulness_violations, fake).toBe(0);
      }
    },
    TIMEOUT,
  );

  it(
    "a hallucinating model whose inventions the gate no longer catches ships unfaithful PRs, and the eval says so",
    async () => {
      const report = await runEval({
        mode: "model",
        fake: "hallucinating",
        ids: ["seed-create-order", "lang-typescript-add-function"],
        disabledRules: ["unfaithful_path", "unfaithful_identifier"],
      });
      expect(report.passed).toBe(false);
      expect(report.scores.faithfulness_violations).toBeGreaterThan(0);
      for (const c of report.cases) {
        expect(c.drafted_by, c.id).toBe("model");
        expect(c.faithfulness_violations.join("; "), c.id).toMatch(/OrderTotalsReconciler|LegacyPricingAdapter/);
      }
    },
    TIMEOUT,
  );

  it("model mode without a configured model is skipped with a reason", async () => {
    const report = await runEval({ mode: "model", env: {} });
    expect(report.skipped).toMatch(/no model is configured/);
    expect(report.cases).toEqual([]);
  });

  it(
    "a wrong expectation fails the run",
    async () => {
      const dir = await mkdtemp(path.join(tmpdir(), "pr-creator-eval-test-"));
      try {
        const wrong = [
          "cases:",
          "  - id: wrong-target",
          "    category: seed",
          "    description: Expects main where policy says dev.",
          "    fixture:",
          "      steps:",
          "        - commit: 'chore: scaffold'",
          "          write: { README.md: '# x' }",
          "        - branch: dev",
          "        - branch: feature/x",
          "        - commit: 'docs(order): add notes [trace:ord-8128]'",
          "          write: { docs/Order/notes.md: '# Notes' }",
          "    traces: [{ trace_id: trace-ord-8128, blueprint_id: b, blueprint_name: B, description: D, component_scope: Order }]",
          "    expect: { status: previewed, target_branch: main, reviewers: [TechLeadAgent, QAAssistantAgent], labels: [domain:order, traceable, generated-by:AI], draft: false, risk: low, title: 'docs.*' }",
        ].join("\n");
        await writeFile(path.join(dir, "wrong.yaml"), wrong);
        const report = await runEval({ mode: "deterministic", casesDir: dir });
        expect(report.passed).toBe(false);
        expect(report.scores.decision_accuracy).toBe(0);
        expect(report.cases[0]!.mismatches).toEqual(['target_branch: expected "main", got "dev"']);
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    },
    TIMEOUT,
  );
});
