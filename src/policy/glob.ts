import picomatch from "picomatch";

export type PathMatcher = (path: string) => boolean;

/** Compiled globs kept per process: a policy's and its traces' patterns repeat run after run. */
const compiled = new Map<string, PathMatcher>();
/** Enough for every glob list of a policy and many traces; beyond it the oldest compile is dropped. */
const MAX_COMPILED = 512;

/**
 * `picomatch(globs, { dot: true })`, compiled once per distinct glob list: compiling costs more than matching a
 * whole change (a few hundred KB and a fraction of a millisecond per list), and every run of a long-lived agent
 * asks for the same lists. Bounded, oldest first out, so traces with their own scope paths cannot grow it without end.
 */
export function globMatcher(globs: string | readonly string[]): PathMatcher {
  const key = typeof globs === "string" ? globs : JSON.stringify(globs);
  const hit = compiled.get(key);
  if (hit) return hit;
  const matcher = picomatch(typeof globs === "string" ? globs : [...globs], { dot: true });
  if (compiled.size >= MAX_COMPILED) compiled.delete(compiled.keys().next().value!);
  compiled.set(key, matcher);
  return matcher;
}
