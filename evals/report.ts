/**
 * evals/report.json keeps the latest run of each mode (a run replaces only its own mode's entry), and
 * report.md and report.svg are rendered from all the modes it holds, so one file shows deterministic and
 * adversarial side by side.
 */
import { readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import type { EvalReport, Mode } from "./harness.js";

export const REPORT_DIR = import.meta.dirname;

export interface ReportFile {
  generated_at: string;
  runs: Partial<Record<Mode, EvalReport>>;
}

const pct = (v: number | null) => (v === null ? "n/a" : `${(v * 100).toFixed(1)}%`);
const num = (v: number) => (Number.isInteger(v) ? String(v) : v.toFixed(2));

function runSection(r: EvalReport): string {
  const lines: string[] = [`## ${r.mode}`, ""];
  if (r.skipped) return [...lines, `Skipped: ${r.skipped}.`, ""].join("\n");
  const s = r.scores;
  lines.push(
    `${s.cases} cases${r.filter ? ` (filter "${r.filter}")` : ""}, drafter: ${r.drafter}, ${(r.duration_ms / 1000).toFixed(1)} s, ${r.started_at}. ` +
      `**${r.passed ? "All thresholds met" : "Below threshold"}.**`,
    "",
    "| score | value | threshold | status |",
    "|---|---|---|---|",
  );
  const counts: Record<string, string> = {
    "type accuracy": ` (${s.type_checked} cases)`,
    "risk accuracy": ` (${s.risk_checked} cases)`,
    "symbol coverage": ` (${s.symbols_named} of ${s.symbols_expected} symbols)`,
  };
  for (const t of r.thresholds)
    lines.push(
      `| ${t.metric} | ${t.metric.startsWith("faithfulness") ? String(t.value) : pct(t.value)}${counts[t.metric] ?? ""} | ${t.threshold} | ${t.met ? "met" : "**missed**"} |`,
    );
  lines.push(
    `| gate precision (good drafts passed) | ${pct(s.gate_precision)} (${s.good_drafts_passed} of ${s.good_drafts}) | - | - |`,
    `| bad drafts caught | ${s.bad_drafts_caught} of ${s.bad_drafts} | - | - |`,
    `| PRs shipped (compliance sample) | ${s.shipped} | - | - |`,
    `| repairs per PR | ${num(s.repairs_per_pr)} | - | - |`,
    `| fallbacks per PR | ${num(s.fallbacks_per_pr)} | - | - |`,
    ...(r.mode === "model" ? [] : [`| fallback rate | ${pct(s.fallback_rate)} | - | - |`]),
    `| model calls per PR | ${num(s.model_calls_per_pr)} | - | - |`,
    `| tokens per PR | ${num(s.tokens_per_pr)} | - | - |`,
    "",
    "| category | cases | passed |",
    "|---|---|---|",
    ...r.by_category.map((c) => `| ${c.category} | ${c.cases} | ${c.passed} |`),
    "",
  );
  if (r.by_kind.length > 0) {
    lines.push(
      "| bad draft kind | drafts | caught | caught with the defect's own code |",
      "|---|---|---|---|",
      ...r.by_kind.map((k) => `| ${k.kind} | ${k.drafts} | ${k.caught} | ${k.named} |`),
      "",
    );
  }
  const misjudged = (c: EvalReport["cases"][number]) =>
    c.drafts.filter((d) => d.graded && d.rejected === (d.kind === "good"));
  const failures = r.cases.filter(
    (c) => !c.passed || c.compliant === false || c.faithfulness_violations.length > 0 || misjudged(c).length > 0,
  );
  lines.push("### Failures", "");
  if (failures.length === 0) lines.push("None.", "");
  for (const c of failures) {
    const problems = [
      ...c.mismatches,
      ...c.compliance_problems.map((p) => `compliance: ${p}`),
      ...c.faithfulness_violations.map((p) => `faithfulness: ${p}`),
      ...misjudged(c).map(
        (d) => `${d.kind} draft ${d.rejected ? "rejected" : "passed"} (${d.codes.join(", ") || "no violations"})`,
      ),
    ];
    lines.push(`- **${c.id}** (${c.category}): ${problems.join("; ")}`);
  }
  lines.push("");
  return lines.join("\n");
}

export function renderMarkdown(file: ReportFile): string {
  const runs = Object.values(file.runs);
  return [
    "# Eval report",
    "",
    `Written by \`npm run eval\` (see [README.md](README.md)); latest run per mode, updated ${file.generated_at}. Chart: [report.svg](report.svg).`,
    "",
    ...runs.map(runSection),
  ].join("\n");
}

const esc = (t: string) => t.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");

/** Horizontal bars, one group per mode: the percentage scores against their 100% threshold. */
export function renderSvg(file: ReportFile): string {
  const runs = Object.values(file.runs).filter((r) => !r.skipped);
  const metrics: { label: string; value: (r: EvalReport) => number | null }[] = [
    { label: "decision accuracy", value: (r) => r.scores.decision_accuracy },
    { label: "type accuracy", value: (r) => r.scores.type_accuracy },
    { label: "risk accuracy", value: (r) => r.scores.risk_accuracy },
    { label: "symbol coverage", value: (r) => r.scores.symbol_coverage },
    { label: "compliance", value: (r) => r.scores.compliance_rate },
    { label: "gate recall", value: (r) => r.scores.gate_recall },
    { label: "gate precision", value: (r) => r.scores.gate_precision },
    {
      label: "faithful PRs",
      value: (r) =>
        r.scores.shipped === 0
          ? null
          : r.cases.filter((c) => c.shipped && c.faithfulness_violations.length === 0).length / r.scores.shipped,
    },
  ];
  const barW = 360;
  const rowH = 22;
  const left = 170;
  const rows: string[] = [];
  let y = 40;
  for (const r of runs) {
    rows.push(
      `<text x="10" y="${y}" font-weight="bold">${esc(r.mode)} — ${r.scores.cases} cases, ${(r.duration_ms / 1000).toFixed(1)} s</text>`,
    );
    y += 12;
    for (const m of metrics) {
      const v = m.value(r);
      const w = v === null ? 0 : Math.round(v * barW);
      const colour = v === null ? "#bbb" : v === 1 ? "#2e7d32" : "#c62828";
      rows.push(
        `<text x="10" y="${y + 15}">${esc(m.label)}</text>`,
        `<rect x="${left}" y="${y + 3}" width="${barW}" height="${rowH - 8}" fill="#eee"/>`,
        `<rect x="${left}" y="${y + 3}" width="${w}" height="${rowH - 8}" fill="${colour}"/>`,
        `<text x="${left + barW + 8}" y="${y + 15}">${v === null ? "n/a" : `${(v * 100).toFixed(1)}%`}</text>`,
      );
      y += rowH;
    }
    y += 16;
  }
  const height = y + 10;
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="620" height="${height}" font-family="sans-serif" font-size="12">`,
    `<rect width="620" height="${height}" fill="#fff"/>`,
    `<text x="10" y="20" font-size="14" font-weight="bold">pr-creator evals (threshold 100%)</text>`,
    `<line x1="${left + barW}" y1="28" x2="${left + barW}" y2="${height - 10}" stroke="#555" stroke-dasharray="3,3"/>`,
    ...rows,
    "</svg>",
    "",
  ].join("\n");
}

/** Merges this run into report.json (replacing its mode) and rewrites report.md and report.svg. */
export async function writeReports(report: EvalReport, dir: string = REPORT_DIR): Promise<string[]> {
  const jsonFile = path.join(dir, "report.json");
  const previous = await readFile(jsonFile, "utf8").then(
    (t) => JSON.parse(t) as ReportFile,
    () => null,
  );
  const file: ReportFile = {
    generated_at: new Date().toISOString(),
    runs: { ...(previous?.runs ?? {}), [report.mode]: report },
  };
  const targets = [jsonFile, path.join(dir, "report.md"), path.join(dir, "report.svg")];
  await writeFile(targets[0]!, `${JSON.stringify(file, null, 2)}\n`);
  await writeFile(targets[1]!, renderMarkdown(file));
  await writeFile(targets[2]!, renderSvg(file));
  return targets;
}
