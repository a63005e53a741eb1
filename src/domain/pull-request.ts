import type { z } from "zod";
import type { ChangeSet } from "./commit.js";
import type { ChangeDigest } from "./digest.js";
import type { PullRequestSpecSchema } from "./run-result.js";
import type { TraceRecord } from "./trace.js";

/** The prose of a PR — the only part a model may write. Everything else is computed from facts. */
export interface Draft {
  type: string;
  summary: string;
  purpose: string;
  highlights: string[];
}

export type DraftedBy = "model" | "deterministic" | "fallback";

export interface ReviewerAssignment {
  name: string;
  required: boolean;
}

export interface ChecklistItem {
  label: string;
  done: boolean;
}

export interface RiskAssessment {
  level: "low" | "medium" | "high";
  reasons: string[];
}

/** Why a change request was made (seed WORKFLOW-005: alert, remediation, impact), shown in its PR. */
export interface ChangeContext {
  change_type: string;
  change_id: string;
  issue_id: string | null;
  issue_url: string | null;
  alert: string;
  remediation: string;
  impact: string;
  namespace: string | null;
  runbook_url: string | null;
  /** Edited YAML files that were parsed after the edit, and those that did not parse. */
  yaml_checked: number;
  yaml_invalid: string[];
}

export type IssueSource = "event" | "commits" | "branch" | "trace";

/** The issue a PR is for and the items it links (src/policy/issue-refs.ts resolves them). */
export interface IssueRefs {
  /**
   * The issue, in its canonical form: a key (`BVL-232`), `#12` for a GitHub issue or `AB#123` for a work
   * item; null when nothing names one. Every lifecycle event carries it.
   */
  issue_id: string | null;
  /** Where issue_id came from. */
  source: IssueSource | null;
  /** Azure Boards work items to link (ascending, at most 10). */
  work_item_ids: number[];
  /** GitHub issue numbers to close or reference (ascending, at most 10). */
  github_issues: number[];
}

/** Everything known before drafting: the input the drafter, the renderer and the gate all share. */
export interface PrFacts {
  repo: string;
  source_branch: string;
  target_branch: string;
  trace: TraceRecord;
  changes: ChangeSet;
  /** Present for PRs made from a change request. */
  change?: ChangeContext;
  /** What was read from the change itself; absent when the source could not give the files' texts. */
  digest?: ChangeDigest | null;
  /** The PR's issue and linked items, once the plan node resolved them; the body's Issue line shows them. */
  issue?: IssueRefs | null;
}

/**
 * Every decision about a PR that is not prose, computed once per run from the facts (the plan node):
 * the renderer only renders it and the gate checks the prose against it.
 */
export interface PrPlan {
  /** Conventional type of the title: declared by a commit subject, else inferred from the files. */
  type: string;
  type_reason: string;
  /** The title carries `!`, the PR gets the breaking label and a "Breaking changes" section, and risk is high. */
  breaking: boolean;
  breaking_reasons: string[];
  /** BREAKING CHANGE footers, quoted in the body. */
  breaking_notes: string[];
  risk: RiskAssessment;
  reviewers: ReviewerAssignment[];
  labels: string[];
  checklist: ChecklistItem[];
  is_draft: boolean;
  auto_merge: boolean;
  requires: "none" | "review" | "senior_approval";
  /** One sentence on what happens after CI. */
  decision: string;
}

/** A complete PR as it would be sent to a forge (declared once, as a schema, in run-result.ts). */
export type PullRequestSpec = z.infer<typeof PullRequestSpecSchema>;

export interface Truncation {
  files_shown: number;
  files_total: number;
  commits_shown: number;
  commits_total: number;
  prose_shortened: boolean;
}
