import type { ChangeSet } from "./commit.js";
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

/** Everything known before drafting: the input the drafter, the renderer and the gate all share. */
export interface PrFacts {
  repo: string;
  source_branch: string;
  target_branch: string;
  trace: TraceRecord;
  changes: ChangeSet;
}

/** A complete PR as it would be sent to a forge. */
export interface PullRequestSpec {
  title: string;
  description: string;
  source_branch: string;
  target_branch: string;
  reviewers: ReviewerAssignment[];
  labels: string[];
  is_draft: boolean;
  auto_complete: boolean;
  /** Filled by risk assessment; null while no risk policy has assessed the change. */
  risk: RiskAssessment | null;
  checklist: ChecklistItem[];
}

export interface Truncation {
  files_shown: number;
  files_total: number;
  commits_shown: number;
  commits_total: number;
  prose_shortened: boolean;
}
