import { stringify } from "yaml";
import type { ChangedFile, CommitInfo } from "../domain/commit.js";
import type { Policy } from "../domain/policy.js";
import type {
  ChecklistItem,
  Draft,
  PrFacts,
  PullRequestSpec,
  RiskAssessment,
  Truncation,
} from "../domain/pull-request.js";
import { computeLabels, lacksTests } from "../policy/labels.js";
import { planMerge, type MergePlan, type PrOrigin } from "../policy/merge-plan.js";
import { assessRisk, conventionalType } from "../policy/risk.js";
import { routeReviewers } from "../policy/reviewers.js";
import { inertText, tableCell, tidyBlankLines, wrapMarkdown } from "./markdown.js";
import { renderTemplate, type TemplateValues } from "./template.js";
import { composeTitle } from "./title.js";

const CHANGE_LABEL: Record<ChangedFile["change"], string> = {
  added: "Added",
  modified: "Modified",
  deleted: "Deleted",
  renamed: "Renamed",
  copied: "Copied",
  type_changed: "Type changed",
};

function cellPath(path: string): string {
  return tableCell(path).replace(/</g, "&lt;");
}

function fileRow(f: ChangedFile, counted: boolean): string {
  const change = f.old_path ? `${CHANGE_LABEL[f.change]} from ${cellPath(f.old_path)}` : CHANGE_LABEL[f.change];
  const lines = f.binary ? "binary" : counted ? `+${f.additions} -${f.deletions}` : "n/a";
  return `| ${cellPath(f.path)} | ${change} | ${lines} |`;
}

export function renderFileTable(
  files: readonly ChangedFile[],
  shown: number,
  maxLength: number,
  counted = true,
): string {
  const rows = [
    "| File | Change | Lines |",
    "|------|--------|-------|",
    ...files.slice(0, shown).map((f) => fileRow(f, counted)),
  ];
  if (shown < files.length) {
    rows.push(`| … and ${files.length - shown} more files | | |`);
    rows.push(
      "",
      `_Table shortened to keep the description within ${maxLength} characters: ${shown} of ${files.length} files shown._`,
    );
  }
  return rows.join("\n");
}

export function renderLinkedCommits(commits: readonly CommitInfo[], shown: number): string {
  // Newest first, so the event's commit leads even when the list is shortened.
  const newestFirst = [...commits].reverse();
  const lines = newestFirst
    .slice(0, shown)
    .map((c) => `- \`${c.short_hash}\` ${inertText(c.subject)} — by ${inertText(c.author.name)}`);
  if (shown < commits.length) lines.push(`- … and ${commits.length - shown} earlier commits`);
  return lines.join("\n");
}

export function computeChecklist(facts: PrFacts, policy: Policy): ChecklistItem[] {
  const { trace, changes } = facts;
  const lines = changes.additions + changes.deletions;
  const yaml =
    facts.change && facts.change.yaml_checked > 0
      ? [
          facts.change.yaml_invalid.length === 0
            ? { label: `Edited YAML files parse (${facts.change.yaml_checked} checked)`, done: true }
            : {
                label: `Edited YAML files parse (${facts.change.yaml_invalid.length} of ${facts.change.yaml_checked} do not: ${facts.change.yaml_invalid.join(", ")})`,
                done: false,
              },
        ]
      : [];
  return [
    { label: `Trace metadata attached (${trace.trace_id}, scope ${trace.component_scope})`, done: true },
    { label: `Blueprint linked (${trace.blueprint_id})`, done: true },
    { label: "Blueprint name and description recorded", done: Boolean(trace.blueprint_name && trace.description) },
    {
      label: "Tests included for changed code",
      done: !lacksTests(changes.files, policy, changes.line_counts !== "unavailable"),
    },
    changes.line_counts === "unavailable"
      ? { label: "Change size checked (line counts unavailable from the commit source)", done: false }
      : {
          label: `Change size within policy (${lines} of ${policy.limits.max_changed_lines} lines)`,
          done: lines <= policy.limits.max_changed_lines,
        },
    ...yaml,
  ];
}

function headCommit(facts: PrFacts): CommitInfo {
  return facts.changes.commits[facts.changes.commits.length - 1]!;
}

/** The automation block; its commit list shrinks with the Linked Commits list (newest kept) and says how many there are. */
function metadataBlock(facts: PrFacts, commitsShown: number): string {
  const newestFirst = [...facts.changes.commits].reverse();
  const meta = {
    trace_id: facts.trace.trace_id,
    blueprint_id: facts.trace.blueprint_id,
    component_scope: facts.trace.component_scope,
    repo: facts.repo,
    source_branch: facts.source_branch,
    target_branch: facts.target_branch,
    commit_count: facts.changes.commits.length,
    commits: newestFirst.slice(0, commitsShown).map((c) => c.short_hash),
  };
  return "```yaml\n" + stringify(meta, { lineWidth: 0, flowCollectionPadding: false }).trimEnd() + "\n```";
}

function changeContext(facts: PrFacts): string {
  const c = facts.change;
  if (!c) return "";
  const issue = c.issue_id
    ? c.issue_url
      ? `[${inertText(c.issue_id)}](${c.issue_url})`
      : inertText(c.issue_id)
    : null;
  const lines = [
    "## Context",
    "",
    `- Alert: ${inertText(c.alert)}`,
    `- Remediation: ${inertText(c.remediation)}`,
    `- Impact: ${inertText(c.impact)}`,
    ...(c.namespace ? [`- Namespace: ${inertText(c.namespace)}`] : []),
    `- Change: ${inertText(c.change_type)} (${inertText(c.change_id)})`,
    ...(issue ? [`- Issue: ${issue}`] : []),
    ...(c.runbook_url ? [`- Runbook: ${c.runbook_url}`] : []),
  ];
  return lines.join("\n");
}

/** The riskiest conventional type among the PR's commits (merges aside): one `feat` makes a PR of fixes a feature. */
function riskiestCommitType(facts: PrFacts, policy: Policy): string | null {
  const order = { low: 0, medium: 1, high: 2 } as const;
  const levelOf = (t: string | null) =>
    order[t ? (policy.risk.commit_types[t] ?? policy.risk.unknown_commit_type) : policy.risk.unknown_commit_type];
  const types = facts.changes.commits.filter((c) => c.parents.length <= 1).map((c) => conventionalType(c.subject));
  if (types.length === 0) return conventionalType(headCommit(facts).subject);
  return types.reduce((worst, t) => (levelOf(t) > levelOf(worst) ? t : worst));
}

/** The change's risk, judged from facts only (the change type or the commits' conventional types, paths, size). */
export function riskOf(facts: PrFacts, policy: Policy): RiskAssessment {
  const lines = facts.changes.line_counts === "unavailable" ? null : facts.changes.additions + facts.changes.deletions;
  return assessRisk(
    {
      ...(facts.change
        ? { change_type: facts.change.change_type }
        : { commit_type: riskiestCommitType(facts, policy) }),
      files: facts.changes.files,
      lines,
    },
    policy,
  );
}

function values(
  facts: PrFacts,
  draft: Draft,
  title: string,
  policy: Policy,
  filesShown: number,
  commitsShown: number,
  prose: { purpose: string; highlights: string[] },
  plan: Plan,
): TemplateValues {
  const { trace, changes } = facts;
  const head = headCommit(facts);
  const highlights = prose.highlights.map((h) => `- ${h}`).join("\n");
  const checklist = computeChecklist(facts, policy)
    .map((i) => `- [${i.done ? "x" : " "}] ${i.label}`)
    .join("\n");
  const n = changes.files.length;
  return {
    title,
    type: draft.type,
    summary: draft.summary,
    purpose: prose.purpose,
    highlights,
    commit_summary: [prose.purpose, highlights].filter(Boolean).join("\n\n"),
    trace_id: trace.trace_id,
    blueprint_id: trace.blueprint_id,
    blueprint_name: trace.blueprint_name ?? "_not recorded_",
    blueprint_description: trace.description ?? "",
    component_scope: trace.component_scope,
    scope: trace.component_scope,
    repo: facts.repo,
    source_branch: facts.source_branch,
    target_branch: facts.target_branch,
    commit_hash: head.short_hash,
    commit_hash_full: head.hash,
    author: inertText(head.author.name),
    linked_commits: renderLinkedCommits(changes.commits, commitsShown),
    file_table: renderFileTable(
      changes.files,
      filesShown,
      policy.body.max_length,
      changes.line_counts !== "unavailable",
    ),
    change_stats:
      changes.line_counts === "unavailable"
        ? `${n} ${n === 1 ? "file" : "files"} changed (line counts unavailable)`
        : `${n} ${n === 1 ? "file" : "files"} changed, +${changes.additions} -${changes.deletions}`,
    checklist,
    risk_level: plan.risk.level,
    risk_reasons: plan.risk.reasons.map((r) => `- ${inertText(r)}`).join("\n"),
    merge_decision: plan.merge.decision,
    change_context: changeContext(facts),
    metadata_block: metadataBlock(facts, commitsShown),
  };
}

function shortenProse(text: string, max: number): string {
  if (text.length <= max) return text;
  const cut = text.slice(0, Math.max(0, max - 1));
  const atWord = cut.slice(0, Math.max(cut.lastIndexOf(" "), 0)) || cut;
  return `${atWord}…`;
}

interface Plan {
  risk: RiskAssessment;
  merge: MergePlan;
}

export interface AssembledPullRequest {
  pr: PullRequestSpec;
  truncation: Truncation | null;
}

/**
 * Title and body from the template, plus the computed facts (reviewers, labels, draft, auto-complete).
 * When the body would pass the length limit, the file table and the commit list shrink together, then the
 * prose; required sections are never dropped and the body says what was shortened.
 */
export function assemblePullRequest(
  facts: PrFacts,
  draft: Draft,
  template: string,
  policy: Policy,
  origin: PrOrigin = facts.change ? "change" : "commit",
): AssembledPullRequest {
  const title = composeTitle(draft.type, facts.trace.component_scope, draft.summary, facts.trace.trace_id, policy);
  const checklist = computeChecklist(facts, policy);
  const complete = checklist.every((i) => i.done);
  const isDraft = !(facts.trace.blueprint_name && facts.trace.description);
  const risk = riskOf(facts, policy);
  const merge = planMerge(
    risk,
    origin,
    {
      reviewers: routeReviewers(facts.trace.component_scope, policy),
      labels: computeLabels(
        facts.trace.component_scope,
        facts.changes.files,
        policy,
        facts.changes.line_counts !== "unavailable",
      ),
      ready: complete && !isDraft,
    },
    policy,
  );
  const plan: Plan = { risk, merge };
  const max = policy.body.max_length;
  const nFiles = facts.changes.files.length;
  const nCommits = facts.changes.commits.length;
  const render = (fraction: number, prose: { purpose: string; highlights: string[] }) => {
    const files = fraction >= 1 ? nFiles : Math.min(nFiles, Math.max(1, Math.floor(nFiles * fraction)));
    const commits = fraction >= 1 ? nCommits : Math.min(nCommits, Math.max(1, Math.floor(nCommits * fraction)));
    const body = tidyBlankLines(
      wrapMarkdown(
        renderTemplate(template, values(facts, draft, title, policy, files, commits, prose, plan)),
        policy.body.max_line_length,
      ),
    );
    return { body, files, commits };
  };

  const fullProse = { purpose: draft.purpose, highlights: draft.highlights };
  let out = render(1, fullProse);
  let proseShortened = false;
  if (out.body.length > max) {
    // Largest share of list rows that fits: binary search over 1/1000 steps.
    const largestFit = (prose: typeof fullProse) => {
      let lo = 0;
      let hi = 1000;
      while (lo < hi) {
        const mid = Math.ceil((lo + hi) / 2);
        if (render(mid / 1000, prose).body.length <= max) lo = mid;
        else hi = mid - 1;
      }
      return render(lo / 1000, prose);
    };
    out = largestFit(fullProse);
    if (out.body.length > max) {
      // Lists alone cannot make room: shorten the prose, then give the lists back whatever room it freed.
      proseShortened = true;
      const over = render(0, fullProse).body.length - max;
      const purpose = shortenProse(draft.purpose, Math.max(80, draft.purpose.length - over - 20));
      out = largestFit({ purpose, highlights: [] });
    }
  }

  const truncated = out.files < nFiles || out.commits < nCommits || proseShortened;
  return {
    pr: {
      title,
      description: out.body,
      source_branch: facts.source_branch,
      target_branch: facts.target_branch,
      reviewers: merge.reviewers,
      labels: merge.labels,
      is_draft: isDraft,
      auto_complete: merge.auto_merge,
      risk,
      merge: { requires: merge.requires, decision: merge.decision },
      checklist,
    },
    truncation: truncated
      ? {
          files_shown: out.files,
          files_total: nFiles,
          commits_shown: out.commits,
          commits_total: nCommits,
          prose_shortened: proseShortened,
        }
      : null,
  };
}
