/** Loads and validates the dataset: every YAML file in evals/cases, ids unique across files. */
import { readdir, readFile } from "node:fs/promises";
import path from "node:path";
import { parse } from "yaml";
import { formatZodIssues } from "../src/domain/errors.js";
import type { TraceRecord } from "../src/domain/trace.js";
import { stepsOf } from "./fixture.js";
import { CaseFileSchema, type EvalCase, type Step } from "./schema.js";

export const CASES_DIR = path.join(import.meta.dirname, "cases");

/** A case with its file's context resolved: the full fixture steps and the trace registry. */
export interface LoadedCase extends EvalCase {
  file: string;
  steps: Step[];
  registry: TraceRecord[];
}

export async function loadCases(dir: string = CASES_DIR): Promise<LoadedCase[]> {
  const files = (await readdir(dir)).filter((f) => /\.ya?ml$/.test(f)).sort();
  const out: LoadedCase[] = [];
  const seen = new Map<string, string>();
  for (const file of files) {
    const raw: unknown = parse(await readFile(path.join(dir, file), "utf8"));
    const checked = CaseFileSchema.safeParse(raw);
    if (!checked.success) throw new Error(`${file}: ${formatZodIssues(checked.error).join("; ")}`);
    const { fixtures, traces, cases } = checked.data;
    for (const c of cases) {
      const earlier = seen.get(c.id);
      if (earlier) throw new Error(`${file}: case id ${c.id} is also used in ${earlier}`);
      seen.set(c.id, file);
      out.push({ ...c, file, steps: c.fixture ? stepsOf(c.fixture, fixtures) : [], registry: c.traces ?? traces });
    }
  }
  return out;
}
