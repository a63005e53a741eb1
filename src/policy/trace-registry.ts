import { TraceRegistryFileSchema, type TraceRecord } from "../domain/trace.js";
import { PrCreatorError } from "../domain/errors.js";
import { quoteValue } from "../domain/input-names.js";
import { loadYamlFile } from "./load-yaml.js";

/** Port: where trace metadata comes from when the event does not carry it. */
export interface TraceRegistry {
  get(traceId: string): Promise<TraceRecord | undefined>;
}

export function createInMemoryTraceRegistry(records: readonly TraceRecord[]): TraceRegistry {
  const byId = new Map(records.map((r) => [r.trace_id, r]));
  return { get: async (id) => byId.get(id) };
}

/** A YAML file holding `traces: [ {trace_id, blueprint_id, ...}, ... ]`. Duplicate ids are a config error. */
export async function loadTraceRegistryFile(file: string): Promise<TraceRegistry> {
  const { traces } = await loadYamlFile(file, TraceRegistryFileSchema, "trace registry", {
    missingHint: "Check --traces or trace_registry in the config; the file holds a `traces:` list (see the README).",
  });
  const seen = new Set<string>();
  for (const [i, t] of traces.entries()) {
    if (seen.has(t.trace_id)) {
      throw new PrCreatorError(
        "invalid_config",
        `The trace registry ${file} lists trace_id ${quoteValue(t.trace_id)} twice (traces[${i}]).`,
        {
          hint: "Each trace id must appear once; merge or remove the duplicate record.",
        },
      );
    }
    seen.add(t.trace_id);
  }
  return createInMemoryTraceRegistry(traces);
}
