import { z } from "zod";

/** Reasons caused by the caller's input or policy: the CLI exits 2 for these. */
const REJECTION_REASONS = [
  "invalid_event",
  "invalid_config",
  "missing_trace",
  "trace_violation",
  "branch_policy_violation",
  "forbidden_branch",
  "target_mismatch",
  "pr_too_large",
  "no_changes",
  "commit_not_found",
  "commit_not_on_branch",
  "branch_not_found",
  "repo_not_found",
  "validation_failed",
  "edit_not_applicable",
] as const;

/**
 * The closed set of reasons a run can fail with. Platform errors that survive retries carry their
 * HTTP status (`azure_devops_503`, `github_502`), as in the seed's `azure_devops_500` example.
 */
export const FIXED_REASONS = [
  ...REJECTION_REASONS,
  "pr_already_exists",
  "unauthorized",
  "forbidden",
  "invalid_request",
  "forge_unreachable",
  "internal_error",
] as const;

export type FixedReason = (typeof FIXED_REASONS)[number];
export type PlatformReason = `azure_devops_${number}` | `github_${number}`;
export type FailureReason = FixedReason | PlatformReason;

export const FailureReasonSchema = z.union([
  z.enum(FIXED_REASONS),
  z.templateLiteral(["azure_devops_", z.number().int()]),
  z.templateLiteral(["github_", z.number().int()]),
]);

const REJECTIONS: ReadonlySet<FailureReason> = new Set<FailureReason>(REJECTION_REASONS);

export function isRejection(reason: FailureReason): boolean {
  return REJECTIONS.has(reason);
}
