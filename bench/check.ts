/**
 * The gross-regression check CI may run after `npm run bench -- --quick`: ratios to the bare client measured in
 * the same run, and counts, never absolute times (the machine's speed and load would decide those). Exits 1
 * naming each figure past its bound; the bounds sit well beyond the targets, so only a real regression trips them.
 *
 *   npm run bench:check      # reads bench/results/index.json
 */
import { readFile } from "node:fs/promises";
import path from "node:path";
import { RESULTS_DIR } from "./readme.js";
import { FORGE_NAME } from "./forge-harness.js";
import { FORGES, type Results } from "./summary.js";

/** Bounds far past the targets (agent ÷ bare ≤ 1.2 at 50 ms): a run on a machine loaded 7× its cores measured 3.8. */
export const BOUNDS = {
  /** Agent ÷ bare, p50 end-to-end at 50 ms, c = 1. */
  e2e_ratio: 4,
  /** Forge calls per PR, agent ÷ bare. */
  calls_ratio: 4,
  /** CPU ms per PR at 0 ms, agent ÷ bare. */
  cpu_ratio: 30,
} as const;

export function problems(r: Results): string[] {
  const out: string[] = [];
  for (const forge of FORGES) {
    const f = r.forges[forge];
    const name = FORGE_NAME[forge];
    if (f.end_to_end.p50_agent_over_bare > BOUNDS.e2e_ratio)
      out.push(`${name}: p50 agent ÷ bare ${f.end_to_end.p50_agent_over_bare} > ${BOUNDS.e2e_ratio}`);
    if (f.calls_per_pr.agent_over_bare > BOUNDS.calls_ratio)
      out.push(`${name}: forge calls per PR agent ÷ bare ${f.calls_per_pr.agent_over_bare} > ${BOUNDS.calls_ratio}`);
    const cpu = f.overhead.agent.cpu_ms_per_pr / Math.max(f.overhead.bare.cpu_ms_per_pr, 0.1);
    if (cpu > BOUNDS.cpu_ratio) out.push(`${name}: CPU per PR agent ÷ bare ${cpu.toFixed(1)} > ${BOUNDS.cpu_ratio}`);
    for (const t of f.throughput) {
      if (t.agent.errors > 0) out.push(`${name}: ${t.agent.errors} errors at c = ${t.concurrency}`);
      if (t.agent.duplicates > 0) out.push(`${name}: ${t.agent.duplicates} duplicate PRs at c = ${t.concurrency}`);
    }
  }
  return out;
}

if (process.argv[1] && path.resolve(process.argv[1]).endsWith(path.join("bench", "check.ts"))) {
  const results = JSON.parse(await readFile(path.join(RESULTS_DIR, "index.json"), "utf8")) as Results;
  const found = problems(results);
  for (const p of found) console.error(`bench:check: ${p}`);
  console.log(
    found.length === 0
      ? `bench:check: no gross regression (results of ${results.date}, load ${results.machine.load_1m_at_start})`
      : "",
  );
  process.exitCode = found.length === 0 ? 0 : 1;
}
