import { register as globalRegistry, Registry } from "prom-client";
import { describe, expect, it } from "vitest";
import { CI_VALIDATION_BUCKETS, createMetrics, GENERATION_BUCKETS, MERGE_BUCKETS } from "../../src/metrics/metrics.js";
import { AUTO_MERGE_RESULTS, GATE_RESULTS, GENERATION_STATUSES, ROLLBACK_RESULTS } from "../../src/metrics/outcomes.js";

/** The samples of a Prometheus text exposition, keyed `name{labels}` exactly as rendered. */
function samples(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split("\n")) {
    if (line === "" || line.startsWith("#")) continue;
    const cut = line.lastIndexOf(" ");
    out.set(line.slice(0, cut), Number(line.slice(cut + 1)));
  }
  return out;
}

async function read(metrics: ReturnType<typeof createMetrics>, key: string): Promise<number | undefined> {
  return samples(await metrics.render()).get(key);
}

/** The `le` bounds rendered for a histogram, in order, without +Inf. */
function bounds(text: string, name: string): number[] {
  return [...text.matchAll(new RegExp(`^${name}_bucket\\{le="([^"]+)"\\}`, "gm"))]
    .map((m) => m[1]!)
    .filter((le) => le !== "+Inf")
    .map(Number);
}

describe("createMetrics", () => {
  it("declares every instrument with its type, and starts every known label value at 0", async () => {
    const text = await createMetrics().render();
    const types = Object.fromEntries([...text.matchAll(/^# TYPE (\S+) (\S+)$/gm)].map((m) => [m[1], m[2]]));
    expect(types).toEqual({
      prcreator_prs_generated_total: "counter",
      prcreator_generation_seconds: "histogram",
      prcreator_ci_validation_seconds: "histogram",
      prcreator_merge_seconds: "histogram",
      prcreator_auto_merges_total: "counter",
      prcreator_rollbacks_total: "counter",
      prcreator_gate_checks_total: "counter",
      prcreator_model_calls_total: "counter",
      prcreator_fallbacks_total: "counter",
    });
    const s = samples(text);
    for (const status of GENERATION_STATUSES)
      expect(s.get(`prcreator_prs_generated_total{status="${status}"}`)).toBe(0);
    for (const result of AUTO_MERGE_RESULTS) expect(s.get(`prcreator_auto_merges_total{result="${result}"}`)).toBe(0);
    for (const result of ROLLBACK_RESULTS) expect(s.get(`prcreator_rollbacks_total{result="${result}"}`)).toBe(0);
    for (const result of GATE_RESULTS) expect(s.get(`prcreator_gate_checks_total{result="${result}"}`)).toBe(0);
    expect(s.get("prcreator_model_calls_total")).toBe(0);
    expect(s.get("prcreator_fallbacks_total")).toBe(0);
    expect(s.get("prcreator_generation_seconds_count")).toBe(0);
  });

  it("renders the bucket bounds around the seed's targets", async () => {
    const text = await createMetrics().render();
    expect(bounds(text, "prcreator_generation_seconds")).toEqual([...GENERATION_BUCKETS]);
    expect(bounds(text, "prcreator_ci_validation_seconds")).toEqual([...CI_VALIDATION_BUCKETS]);
    expect(bounds(text, "prcreator_merge_seconds")).toEqual([...MERGE_BUCKETS]);
    expect(GENERATION_BUCKETS[0]).toBe(0.05);
    expect(GENERATION_BUCKETS).toContain(30);
    expect(GENERATION_BUCKETS.at(-1)).toBe(60);
    expect(CI_VALIDATION_BUCKETS).toContain(300);
    expect(CI_VALIDATION_BUCKETS.at(-1)).toBe(900);
    expect(MERGE_BUCKETS).toContain(60);
    expect(MERGE_BUCKETS.at(-1)).toBe(300);
  });

  it("generated() counts the status and observes the duration in the generation histogram", async () => {
    const metrics = createMetrics();
    metrics.generated("created", 12.5);
    metrics.generated("failed", 0.04);
    metrics.generated("created", 75);
    const s = samples(await metrics.render());
    expect(s.get('prcreator_prs_generated_total{status="created"}')).toBe(2);
    expect(s.get('prcreator_prs_generated_total{status="failed"}')).toBe(1);
    expect(s.get('prcreator_prs_generated_total{status="updated"}')).toBe(0);
    expect(s.get('prcreator_generation_seconds_bucket{le="0.05"}')).toBe(1);
    expect(s.get('prcreator_generation_seconds_bucket{le="10"}')).toBe(1);
    expect(s.get('prcreator_generation_seconds_bucket{le="15"}')).toBe(2);
    expect(s.get('prcreator_generation_seconds_bucket{le="60"}')).toBe(2);
    expect(s.get('prcreator_generation_seconds_bucket{le="+Inf"}')).toBe(3);
    expect(s.get("prcreator_generation_seconds_count")).toBe(3);
    expect(s.get("prcreator_generation_seconds_sum")).toBeCloseTo(87.54, 10);
    // The other histograms are separate instruments.
    expect(s.get("prcreator_ci_validation_seconds_count")).toBe(0);
    expect(s.get("prcreator_merge_seconds_count")).toBe(0);
  });

  it("ciValidated() and merged() observe their own histograms, a value on a bound falling in that bucket", async () => {
    const metrics = createMetrics();
    metrics.ciValidated(300);
    metrics.ciValidated(301);
    metrics.merged(60);
    const s = samples(await metrics.render());
    expect(s.get('prcreator_ci_validation_seconds_bucket{le="240"}')).toBe(0);
    expect(s.get('prcreator_ci_validation_seconds_bucket{le="300"}')).toBe(1);
    expect(s.get('prcreator_ci_validation_seconds_bucket{le="450"}')).toBe(2);
    expect(s.get("prcreator_ci_validation_seconds_sum")).toBe(601);
    expect(s.get('prcreator_merge_seconds_bucket{le="45"}')).toBe(0);
    expect(s.get('prcreator_merge_seconds_bucket{le="60"}')).toBe(1);
    expect(s.get("prcreator_merge_seconds_count")).toBe(1);
    expect(s.get("prcreator_generation_seconds_count")).toBe(0);
  });

  it("autoMerge(), rollback(), gateCheck(), modelCall() and fallback() count under their labels", async () => {
    const metrics = createMetrics();
    metrics.autoMerge("enabled");
    metrics.autoMerge("merged");
    metrics.autoMerge("merged");
    metrics.autoMerge("blocked");
    metrics.rollback("failed");
    metrics.gateCheck("failed");
    metrics.gateCheck("passed");
    metrics.gateCheck("passed");
    metrics.modelCall();
    metrics.modelCall(3);
    metrics.fallback();
    const s = samples(await metrics.render());
    expect(s.get('prcreator_auto_merges_total{result="enabled"}')).toBe(1);
    expect(s.get('prcreator_auto_merges_total{result="merged"}')).toBe(2);
    expect(s.get('prcreator_auto_merges_total{result="blocked"}')).toBe(1);
    expect(s.get('prcreator_auto_merges_total{result="failed"}')).toBe(0);
    expect(s.get('prcreator_rollbacks_total{result="failed"}')).toBe(1);
    expect(s.get('prcreator_rollbacks_total{result="created"}')).toBe(0);
    expect(s.get('prcreator_gate_checks_total{result="passed"}')).toBe(2);
    expect(s.get('prcreator_gate_checks_total{result="failed"}')).toBe(1);
    expect(s.get("prcreator_model_calls_total")).toBe(4);
    expect(s.get("prcreator_fallbacks_total")).toBe(1);
  });

  it("refuses a negative or non-finite duration and a bad call count, recording nothing", async () => {
    const metrics = createMetrics();
    expect(() => metrics.generated("created", -1)).toThrow(RangeError);
    expect(() => metrics.generated("created", Number.NaN)).toThrow(/finite number of seconds/);
    expect(() => metrics.ciValidated(Number.POSITIVE_INFINITY)).toThrow(RangeError);
    expect(() => metrics.merged(-0.5)).toThrow(RangeError);
    expect(() => metrics.modelCall(1.5)).toThrow(/whole number/);
    const s = samples(await metrics.render());
    expect(s.get('prcreator_prs_generated_total{status="created"}')).toBe(0);
    expect(s.get("prcreator_generation_seconds_count")).toBe(0);
    expect(s.get("prcreator_ci_validation_seconds_count")).toBe(0);
    expect(s.get("prcreator_merge_seconds_count")).toBe(0);
    expect(s.get("prcreator_model_calls_total")).toBe(0);
  });

  it("keeps each agent's counts in its own registry and leaves the global registry alone", async () => {
    const a = createMetrics();
    const b = createMetrics();
    a.fallback();
    expect(await read(a, "prcreator_fallbacks_total")).toBe(1);
    expect(await read(b, "prcreator_fallbacks_total")).toBe(0);
    expect(await globalRegistry.metrics()).not.toContain("prcreator_");
  });

  it("uses the registry it is given, once", async () => {
    const registry = new Registry();
    const metrics = createMetrics(registry);
    expect(metrics.registry).toBe(registry);
    metrics.gateCheck("passed");
    expect(samples(await registry.metrics()).get('prcreator_gate_checks_total{result="passed"}')).toBe(1);
    expect(metrics.contentType).toBe(registry.contentType);
    expect(metrics.contentType).toMatch(/^text\/plain; version=0\.0\.4/);
    expect(() => createMetrics(registry)).toThrow(/already been registered/);
  });

  it("exposes the instruments for what the helpers do not cover", async () => {
    const metrics = createMetrics();
    metrics.instruments.prsGenerated.inc({ status: "updated" }, 2);
    expect(await read(metrics, 'prcreator_prs_generated_total{status="updated"}')).toBe(2);
  });
});
