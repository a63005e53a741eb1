import type { ChangedFile } from "../domain/commit.js";
import type { Policy } from "../domain/policy.js";
import { globMatcher } from "./glob.js";

/**
 * Code changed but no test changed: the seed's `requires-tests` trigger. Deleted files count for neither, nor
 * does a pure rename (no line changed) — when the source counts lines at all (`countsKnown`).
 */
export function lacksTests(files: readonly ChangedFile[], policy: Policy, countsKnown = true): boolean {
  const rule = policy.labels.requires_tests;
  const isTest = globMatcher(rule.test_globs);
  const isCode = globMatcher(rule.code_globs);
  const pureRename = (f: ChangedFile) =>
    countsKnown && f.change === "renamed" && f.additions === 0 && f.deletions === 0;
  const live = files.filter((f) => f.change !== "deleted" && !pureRename(f));
  const testChanged = live.some((f) => isTest(f.path));
  const codeChanged = live.some((f) => isCode(f.path) && !isTest(f.path));
  return codeChanged && !testChanged;
}

export function domainLabel(componentScope: string, policy: Policy): string | undefined {
  if (policy.labels.domain === "") return undefined;
  return policy.labels.domain.replaceAll("<scope>", componentScope.toLowerCase().replace(/\s+/g, "-"));
}

export function computeLabels(
  componentScope: string,
  files: readonly ChangedFile[],
  policy: Policy,
  countsKnown = true,
): string[] {
  const labels = [domainLabel(componentScope, policy), ...policy.labels.always];
  if (policy.labels.requires_tests.enabled && lacksTests(files, policy, countsKnown))
    labels.push(policy.labels.requires_tests.label);
  return [...new Set(labels.filter((l): l is string => l !== undefined))];
}
