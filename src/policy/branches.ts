import type { Policy } from "../domain/policy.js";
import type { Violation } from "../domain/violations.js";

/** The longest allowed prefix the branch starts with, so `feature/` and `feature/ui/` can map to different targets. */
export function matchPrefix(branch: string, prefixes: readonly string[]): string | undefined {
  return [...prefixes].sort((a, b) => b.length - a.length).find((p) => branch.startsWith(p));
}

/** The forbidden-list entry that bans this branch: an entry ending in `/` bans everything under it. */
export function forbiddenBy(branch: string, forbidden: readonly string[]): string | undefined {
  return forbidden.find((f) => (f.endsWith("/") ? branch.startsWith(f) || branch === f.slice(0, -1) : branch === f));
}

/** Why a name is not a valid git branch name (the rules of `git check-ref-format --branch`), or undefined. */
export function invalidRefNameReason(name: string): string | undefined {
  if (name.startsWith("refs/")) return "give the short branch name, without refs/heads/";
  if (name.startsWith("-")) return "it starts with '-'";
  // Spaces and control characters are checked by code point rather than with a control-character regex.
  if ([...name].some((ch) => ch.charCodeAt(0) <= 0x20 || ch.charCodeAt(0) === 0x7f) || /[~^:?*[\\]/.test(name))
    return "it contains a space, a control character or one of ~ ^ : ? * [ \\";
  if (name.includes("..")) return "it contains '..'";
  if (name.includes("@{")) return "it contains '@{'";
  if (name === "@") return "'@' alone is not a branch";
  if (name.includes("//") || name.startsWith("/") || name.endsWith("/")) return "it has an empty path component";
  if (name.endsWith(".") || name.endsWith(".lock")) return "it ends with '.' or '.lock'";
  if (name.split("/").some((part) => part.startsWith("."))) return "a path component starts with '.'";
  return undefined;
}

export interface BranchDecision {
  /** The target the policy maps the source to, or null when the source is not allowed. */
  target: string | null;
  violations: Violation[];
}

/**
 * Source and target branch rules from the seed: the source must be a valid name with an allowed prefix and
 * not forbidden; the target comes from the prefix map, must not be forbidden, and must equal any target the
 * caller asked for.
 */
export function checkBranches(source: string, requestedTarget: string | undefined, policy: Policy): BranchDecision {
  const rules = policy.branch_rules;
  const violations: Violation[] = [];
  const invalid = invalidRefNameReason(source);
  if (invalid) {
    violations.push({
      code: "branch_invalid_name",
      where: "branch",
      message: `source branch "${source}" is not a valid git branch name: ${invalid}`,
    });
    return { target: null, violations };
  }
  const banned = forbiddenBy(source, rules.forbidden);
  if (banned) {
    violations.push({
      code: "branch_forbidden",
      where: "branch",
      message: `source branch "${source}" is forbidden by branch_rules.forbidden entry "${banned}"`,
    });
    return { target: null, violations };
  }
  const prefix = matchPrefix(source, rules.allowed_prefixes);
  if (!prefix) {
    violations.push({
      code: "branch_prefix_not_allowed",
      where: "branch",
      message: `source branch "${source}" does not start with an allowed prefix (${rules.allowed_prefixes.join(", ")})`,
    });
    return { target: null, violations };
  }
  const target = rules.target_branch_map[prefix]!;
  const targetBanned = forbiddenBy(target, rules.forbidden);
  if (targetBanned) {
    violations.push({
      code: "target_forbidden",
      where: "target",
      message: `target branch "${target}" (for ${prefix}) is forbidden by branch_rules.forbidden entry "${targetBanned}"`,
    });
  }
  if (requestedTarget !== undefined && requestedTarget !== target) {
    violations.push({
      code: "target_mismatch",
      where: "target",
      message: `target branch "${requestedTarget}" was requested but policy maps ${prefix}* to "${target}"`,
    });
  }
  return { target, violations };
}
