import type { PrRecord, Scored } from "../memory/store.js";
import { recordKey } from "../memory/store.js";
import { errorText } from "../domain/errors.js";
import type { MemoryHit } from "../domain/run-result.js";

/** The message kept when memory fails, once per run. */
export function memoryWarning(error: unknown): string {
  const why = errorText(error);
  return `Memory is unavailable (${why.slice(0, 300)}); recall and the audit chain were skipped for this run.`;
}

export function hit(s: Scored): MemoryHit {
  return {
    key: recordKey(s.record),
    title: s.record.title,
    url: s.record.url,
    score: Math.round(s.score * 1000) / 1000,
  };
}

/** An earlier PR as the model sees it: its title and prose, labelled with scope and blueprint. */
export function styleExample(r: PrRecord): string {
  return `Title: ${r.title}\nScope: ${r.component_scope}; blueprint: ${r.blueprint_id}\n${r.text}`;
}
