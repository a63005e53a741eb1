/**
 * npm run eval [-- --mode deterministic|adversarial|model] [--fake good|garbage|hallucinating] [--filter TEXT]
 *              [--concurrency N] [--no-write]
 * Exit codes: 0 thresholds met (or model mode skipped), 1 below a threshold, 2 bad arguments or dataset.
 */
import { parseArgs } from "node:util";
import { FAKE_MODELS, type FakeModel } from "./adversarial.js";
import { MODES, runEval, type Mode } from "./harness.js";
import { writeReports } from "./report.js";

async function main(): Promise<number> {
  let args;
  try {
    args = parseArgs({
      options: {
        mode: { type: "string", default: "deterministic" },
        filter: { type: "string" },
        fake: { type: "string" },
        concurrency: { type: "string", default: "2" },
        "no-write": { type: "boolean", default: false },
      },
      strict: true,
    }).values;
  } catch (error) {
    console.error(error instanceof Error ? error.message : String(error));
    return 2;
  }
  const mode = args.mode as Mode;
  const concurrency = Number(args.concurrency);
  if (!MODES.includes(mode)) {
    console.error(`--mode must be one of ${MODES.join(", ")}, not ${JSON.stringify(args.mode)}`);
    return 2;
  }
  const fake = args.fake as FakeModel | undefined;
  if (fake !== undefined && (mode !== "model" || !FAKE_MODELS.includes(fake))) {
    console.error(`--fake needs --mode model and one of ${FAKE_MODELS.join(", ")}, not ${JSON.stringify(args.fake)}`);
    return 2;
  }
  if (!Number.isInteger(concurrency) || concurrency < 1) {
    console.error("--concurrency must be a positive whole number");
    return 2;
  }
  const report = await runEval({
    mode,
    concurrency,
    ...(args.filter ? { filter: args.filter } : {}),
    ...(fake ? { fake } : {}),
    onCase: (c) =>
      console.error(
        `${c.passed ? "pass" : "FAIL"} ${c.id} (${c.ms} ms)${c.passed ? "" : `: ${c.mismatches.join("; ")}`}`,
      ),
  });
  if (report.skipped) {
    console.log(`eval ${mode}: skipped — ${report.skipped}.`);
    return 0;
  }
  if (report.cases.length === 0) {
    console.error(`no case matches --filter ${JSON.stringify(args.filter)}`);
    return 2;
  }
  // A fake model's run says nothing about a real model: it never replaces the report's model entry.
  if (!args["no-write"] && !fake) {
    const files = await writeReports(report);
    console.error(`wrote ${files.join(", ")}`);
  }
  const s = report.scores;
  const pct = (v: number | null) => (v === null ? "n/a" : `${(v * 100).toFixed(1)}%`);
  console.log(
    `eval ${mode}${fake ? ` (fake ${fake})` : ""}: ${s.passed}/${s.cases} cases, decision accuracy ${pct(s.decision_accuracy)}, ` +
      `type ${pct(s.type_accuracy)}, risk ${pct(s.risk_accuracy)}, symbols ${pct(s.symbol_coverage)}, compliance ${pct(s.compliance_rate)}, ` +
      `faithfulness violations ${s.faithfulness_violations}, gate recall ${pct(s.gate_recall)}, precision ${pct(s.gate_precision)}, ` +
      `fallbacks ${pct(s.fallback_rate)}, ${(report.duration_ms / 1000).toFixed(1)} s`,
  );
  for (const t of report.thresholds.filter((t) => !t.met)) console.log(`below threshold: ${t.metric} (${t.threshold})`);
  return report.passed ? 0 : 1;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    console.error(error instanceof Error ? error.message : String(error));
    process.exitCode = 2;
  },
);
