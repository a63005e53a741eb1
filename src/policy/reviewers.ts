import type { Policy } from "../domain/policy.js";

export interface Reviewer {
  name: string;
  required: boolean;
}

const OPTIONAL = "optional:";

/** Mandatory reviewers first (always required), then the scope's own; `optional:Name` is added but not required. */
export function routeReviewers(componentScope: string, policy: Policy): Reviewer[] {
  const scopeKey = Object.keys(policy.reviewers.by_scope).find((k) => k.toLowerCase() === componentScope.toLowerCase());
  const byScope = scopeKey ? policy.reviewers.by_scope[scopeKey]! : [];
  const all: Reviewer[] = [
    ...policy.reviewers.mandatory.map((name) => ({ name, required: true })),
    ...byScope.map((entry) =>
      entry.startsWith(OPTIONAL)
        ? { name: entry.slice(OPTIONAL.length).trim(), required: false }
        : { name: entry, required: true },
    ),
  ];
  const seen = new Map<string, Reviewer>();
  for (const r of all) {
    const key = r.name.toLowerCase();
    const prior = seen.get(key);
    if (!prior) seen.set(key, r);
    else if (r.required) prior.required = true;
  }
  return [...seen.values()];
}
