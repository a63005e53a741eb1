/** Every rule the gate and the policy checks enforce. `where` says which part of the PR broke it. */
export const VIOLATION_CODES = [
  "title_format",
  "title_too_long",
  "title_forbidden_keyword",
  "title_unknown_type",
  "title_scope_mismatch",
  "title_trace_mismatch",
  "body_missing_section",
  "body_too_long",
  "body_line_too_long",
  "body_missing_trace_id",
  "body_missing_scope",
  "body_unknown_variable",
  "unfaithful_path",
  "unfaithful_commit",
  "unfaithful_trace",
  "unfaithful_identifier",
  "contradicts_fact",
  "branch_invalid_name",
  "branch_prefix_not_allowed",
  "branch_forbidden",
  "target_forbidden",
  "target_mismatch",
  "pr_too_large",
  "trace_unknown",
  "trace_id_mismatch",
  "trace_blueprint_mismatch",
  "trace_commit_mismatch",
  "trace_files_outside_scope",
  "no_changes",
  "draft_unparseable",
  "prose_mention",
  "prose_html",
  "prose_html_comment",
  "prose_image",
  "prose_link",
  "prose_filler",
  "prose_tone",
  "prose_shape",
] as const;

export type ViolationCode = (typeof VIOLATION_CODES)[number];
export type ViolationWhere =
  "title" | "body" | "branch" | "target" | "commit" | "trace" | "summary" | "purpose" | "highlights" | "draft";

export interface Violation {
  code: ViolationCode;
  message: string;
  where: ViolationWhere;
  /** 1-based line of the body, when the violation is on one line. */
  line?: number;
}
