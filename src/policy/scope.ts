import type { Policy } from "../domain/policy.js";
import { globMatcher } from "./glob.js";
import type { TraceRecord } from "../domain/trace.js";

/** Lower-case words of a path or name: `src/CreateOrderHandler.cs` → src, create, order, handler, cs. */
export function words(text: string): string[] {
  return text
    .replace(/([a-z0-9])([A-Z])/g, "$1 $2")
    .replace(/([A-Z]+)([A-Z][a-z])/g, "$1 $2")
    .split(/[^A-Za-z0-9]+/)
    .filter(Boolean)
    .map((w) => w.toLowerCase());
}

/** The same word, allowing a plural on the haystack side: `Orders/` belongs to scope `Order`. */
function sameWord(candidate: string, word: string): boolean {
  return candidate === word || candidate === `${word}s` || candidate === `${word}es`;
}

function containsRun(haystack: readonly string[], needle: readonly string[]): boolean {
  if (needle.length === 0) return false;
  for (let i = 0; i + needle.length <= haystack.length; i++) {
    if (needle.every((w, j) => sameWord(haystack[i + j]!, w))) return true;
  }
  return false;
}

export type ScopeFit = "linked" | "scope_path" | "always" | "name" | "outside";

/**
 * Decides whether changed files belong to the trace: a linked file, a match of the trace's scope paths or the
 * policy's always-in-scope globs, or (when enabled) a path naming the component scope as a word. The globs are
 * compiled once, so a 10,000-file change costs one compile.
 */
export function createScopeMatcher(trace: TraceRecord, policy: Policy): (file: string) => ScopeFit {
  const linked = new Set(trace.linked_files);
  const inScopePaths = trace.scope_paths.length > 0 ? globMatcher(trace.scope_paths) : () => false;
  const always = policy.trace.always_in_scope.length > 0 ? globMatcher(policy.trace.always_in_scope) : () => false;
  const scopeWords = words(trace.component_scope);
  return (file) => {
    if (linked.has(file)) return "linked";
    if (inScopePaths(file)) return "scope_path";
    if (always(file)) return "always";
    if (policy.trace.match_scope_in_path && containsRun(words(file), scopeWords)) return "name";
    return "outside";
  };
}

export function scopeFit(file: string, trace: TraceRecord, policy: Policy): ScopeFit {
  return createScopeMatcher(trace, policy)(file);
}
