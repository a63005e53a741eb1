import type { ChangedFile } from "../domain/commit.js";
import type { Policy } from "../domain/policy.js";
import { globMatcher } from "./glob.js";
import type { RiskAssessment } from "../domain/pull-request.js";

export type RiskLevel = RiskAssessment["level"];

const RANK: Record<RiskLevel, number> = { low: 0, medium: 1, high: 2 };

export function maxLevel(a: RiskLevel, b: RiskLevel): RiskLevel {
  return RANK[a] >= RANK[b] ? a : b;
}

/** What risk is judged from: facts only — never the model's words. */
export interface RiskInput {
  /** A change request's `change_type`. */
  change_type?: string;
  /** A commit-based PR's conventional type, read from the head commit's subject; null when it has none. */
  commit_type?: string | null;
  files: readonly ChangedFile[];
  /** Changed lines, or null when the source cannot count them. */
  lines: number | null;
}

/** The conventional type a commit subject starts with (`fix(order)!: …` → fix), or null. */
export function conventionalType(subject: string): string | null {
  const m = /^([a-z]+)(\([^)]*\))?!?:\s/.exec(subject.trim());
  return m ? m[1]! : null;
}

/**
 * Low, medium or high from the change type (or the commit's conventional type), path rules and size —
 * the highest level any rule gives wins, and every rule that spoke is a reason.
 */
export function assessRisk(input: RiskInput, policy: Policy): RiskAssessment {
  const rules = policy.risk;
  const found: { level: RiskLevel; reason: string }[] = [];

  if (input.change_type !== undefined) {
    const known = rules.change_types[input.change_type];
    found.push(
      known
        ? { level: known, reason: `change type ${input.change_type} is ${known} risk` }
        : {
            level: rules.unknown_change_type,
            reason: `change type ${input.change_type} is not in the policy's table, so it is ${rules.unknown_change_type} risk`,
          },
    );
  } else if (input.commit_type) {
    const known = rules.commit_types[input.commit_type];
    found.push(
      known
        ? { level: known, reason: `commit type ${input.commit_type} is ${known} risk` }
        : {
            level: rules.unknown_commit_type,
            reason: `commit type ${input.commit_type} is not in the policy's table, so it is ${rules.unknown_commit_type} risk`,
          },
    );
  } else {
    found.push({
      level: rules.unknown_commit_type,
      reason: `the commit has no conventional type, so it is ${rules.unknown_commit_type} risk`,
    });
  }

  for (const rule of rules.paths) {
    const matches = globMatcher(rule.glob);
    const hits = input.files.filter((f) => matches(f.path) || (f.old_path !== undefined && matches(f.old_path)));
    if (hits.length === 0) continue;
    const shown = hits.length === 1 ? hits[0]!.path : `${hits[0]!.path} and ${hits.length - 1} more`;
    found.push({
      level: rule.level,
      reason: `${shown} matches ${rule.glob}${rule.reason ? ` (${rule.reason})` : ""}: ${rule.level} risk`,
    });
  }

  const size = rules.size;
  const n = input.files.length;
  if (n > size.high_files) found.push({ level: "high", reason: `${n} files changed (more than ${size.high_files})` });
  else if (n > size.medium_files)
    found.push({ level: "medium", reason: `${n} files changed (more than ${size.medium_files})` });
  if (input.lines !== null) {
    if (input.lines > size.high_lines)
      found.push({ level: "high", reason: `${input.lines} lines changed (more than ${size.high_lines})` });
    else if (input.lines > size.medium_lines)
      found.push({ level: "medium", reason: `${input.lines} lines changed (more than ${size.medium_lines})` });
  }

  const level = found.reduce<RiskLevel>((acc, f) => maxLevel(acc, f.level), "low");
  return { level, reasons: found.map((f) => f.reason) };
}
