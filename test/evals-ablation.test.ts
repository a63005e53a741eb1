/**
 * Evals that can fail: switch off one gate rule at a time (`createAgent({ disabledRules })`) and some eval case
 * must fail — an expectation, the independent template check or the faithfulness check — so no rule is
 * decoration the evals cannot see. Rules a model's prose breaks are probed with an adversarial bad draft made
 * for them (evals/adversarial.ts); rules that guard against a template or a policy with a deterministic case
 * (evals/cases/09-gate-rules.yaml). Each probe runs one case, so the whole file stays cheap.
 */
import { describe, expect, it } from "vitest";
import type { BadKind } from "../evals/adversarial.js";
import { caseFailed, runEval, type CaseResult } from "../evals/harness.js";
import { VIOLATION_CODES, type ViolationCode } from "../src/domain/violations.js";

type Probe =
  { mode: "deterministic"; id: string } | { mode: "adversarial"; id: string; kind: BadKind; variant?: number };

const SEED = "seed-create-order";
const bad = (kind: BadKind, variant = 0): Probe => ({ mode: "adversarial", id: SEED, kind, variant });
const det = (id: string): Probe => ({ mode: "deterministic", id });

/** Every rule the gate applies to a drafted PR, and the probe that must fail without it. */
const PROBES: Partial<Record<ViolationCode, Probe>> = {
  title_format: bad("malformed_title"),
  title_too_long: bad("over_long", 1),
  title_forbidden_keyword: bad("forbidden_keyword"),
  title_unknown_type: det("gate-change-type-not-allowed"),
  body_missing_section: det("fail-validation-template-sections"),
  body_too_long: det("gate-template-over-body-limit"),
  body_line_too_long: det("gate-template-long-heading"),
  body_missing_trace_id: det("gate-template-without-trace-id"),
  body_missing_scope: det("gate-template-without-scope"),
  body_unknown_variable: bad("template_leak"),
  unfaithful_path: bad("invented_file"),
  unfaithful_commit: bad("invented_hash"),
  unfaithful_trace: bad("wrong_trace"),
  unfaithful_identifier: bad("invented_identifier"),
  contradicts_fact: bad("contradiction"),
  prose_mention: bad("injected_mention"),
  prose_html: bad("raw_html", 0),
  prose_html_comment: bad("raw_html", 1),
  prose_image: bad("raw_html", 2),
  prose_link: bad("disallowed_link"),
  prose_filler: bad("filler"),
  prose_tone: bad("tone"),
  prose_shape: bad("markdown_structure"),
};

/** Gate rules no input can break: the title and the rule are built by the same function. */
const UNREACHABLE: Partial<Record<ViolationCode, string>> = {
  title_scope_mismatch: "the title's scope and the rule's both come from titleScope(component_scope)",
  title_trace_mismatch: "the title's tag and the rule's both come from traceTagId(trace_id)",
};

/** Codes that are not gate rules on a drafted PR, so disabledRules does not reach them. */
const NOT_GATE_RULES: readonly ViolationCode[] = [
  "branch_invalid_name",
  "branch_prefix_not_allowed",
  "branch_forbidden",
  "target_forbidden",
  "target_mismatch",
  "pr_too_large",
  "trace_unknown",
  "trace_id_mismatch",
  "trace_blueprint_mismatch",
  "trace_commit_mismatch",
  "trace_files_outside_scope",
  "no_changes",
  // An answer that cannot be read has no prose to ship; the gate passes its violation on unfiltered.
  "draft_unparseable",
];

async function probe(p: Probe, disabled: readonly ViolationCode[]): Promise<CaseResult> {
  const report = await runEval({
    mode: p.mode,
    ids: [p.id],
    concurrency: 1,
    disabledRules: disabled,
    ...(p.mode === "adversarial" ? { forced: { kinds: [p.kind], variant: p.variant ?? 0 } } : {}),
  });
  expect(report.cases).toHaveLength(1);
  return report.cases[0]!;
}

/** Runs `work` over the items, `limit` at a time. */
async function inBatches<T, R>(items: readonly T[], limit: number, work: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = [];
  for (let i = 0; i < items.length; i += limit) out.push(...(await Promise.all(items.slice(i, i + limit).map(work))));
  return out;
}

describe("eval ablation: every gate rule is one the evals notice", () => {
  it("classifies every violation code: probed, unreachable, or not a gate rule", () => {
    for (const code of VIOLATION_CODES) {
      const places = [code in PROBES, code in UNREACHABLE, NOT_GATE_RULES.includes(code)].filter(Boolean);
      expect(places.length, code).toBe(1);
    }
  });

  const entries = Object.entries(PROBES) as [ViolationCode, Probe][];

  it("with every rule on, every probe passes: its bad draft is caught and repaired, or its case fails as expected", async () => {
    // Deterministic probes are ordinary dataset cases (run by test/evals.test.ts); the scripted ones are new here.
    const scripted = entries.filter(([, p]) => p.mode === "adversarial");
    const results = await inBatches(scripted, 3, async ([code, p]) => ({ code, result: await probe(p, []) }));
    for (const { code, result } of results) {
      expect(caseFailed(result), `${code}: ${JSON.stringify(result.mismatches)}`).toBe(false);
      expect(
        result.drafts.map((d) => d.rejected),
        code,
      ).toEqual([true, false]);
      expect(result.drafted_by, code).toBe("model");
    }
  }, 120_000);

  it("switching off any one gate rule makes its probe case fail", async () => {
    const results = await inBatches(entries, 3, async ([code, p]) => ({ code, p, result: await probe(p, [code]) }));
    const unnoticed = results
      .filter(({ result }) => !caseFailed(result))
      .map(({ code, p }) => `${code} (${p.mode} ${p.id}${p.mode === "adversarial" ? ` ${p.kind}` : ""})`);
    expect(unnoticed).toEqual([]);
    // The failure is the defect the rule guards against, not a harness error.
    for (const { code, result } of results) expect(result.status, code).not.toBe("error");
  }, 180_000);
});
