/**
 * The eval harness in CI: the whole dataset in deterministic and adversarial mode must meet the issue's
 * thresholds, and the run must not pass vacuously (enough cases, every failure reason and shape covered,
 * every bad-draft kind scripted and caught, a broken expectation detected).
 */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { FIXED_REASONS } from "../src/domain/reasons.js";
import { BAD_KINDS } from "../evals/adversarial.js";
import { loadCases } from "../evals/cases.js";
import { runEval, type EvalReport } from "../evals/harness.js";

const TIMEOUT = 240_000;

function expectThresholdsMet(report: EvalReport): void {
  const failed = report.cases.filter((c) => !c.passed).map((c) => `${c.id}: ${c.mismatches.join("; ")}`);
  expect(failed).toEqual([]);
  expect(report.scores.cases).toBeGreaterThanOrEqual(60);
  expect(report.scores.decision_accuracy).toBe(1);
  expect(report.scores.compliance_rate).toBe(1);
  expect(report.scores.faithfulness_violations).toBe(0);
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
    ]) {
      expect(categories, category).toContain(category);
    }
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
