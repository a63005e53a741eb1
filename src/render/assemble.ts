import { stringify } from "yaml";
import type { ChangedFile, CommitInfo } from "../domain/commit.js";
import type { Policy } from "../domain/policy.js";
import type { Draft, PrFacts, PrPlan, PullRequestSpec, Truncation } from "../domain/pull-request.js";
import { issueUrl } from "../policy/issue-refs.js";
import { planPullRequest } from "../policy/plan.js";
import { inertBlock, inertText, tableCell, tidyBlankLines, wrapMarkdown } from "./markdown.js";
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
  return tableCell(inertText(path));
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
    // `watch` and `rollback` read it back (issueIdInBody), so their events name the issue too.
    ...(facts.issue?.issue_id ? { issue_id: facts.issue.issue_id } : {}),
  };
  return "```yaml\n" + stringify(meta, { lineWidth: 0, flowCollectionPadding: false }).trimEnd() + "\n```";
}

/** The issue as the body shows it: linked when the event gave its URL or the policy's url_template makes one. */
function issueLink(id: string, url: string | null): string {
  return url ? `[${inertText(id)}](${url})` : inertText(id);
}

/**
 * The Issue line, unless the change request's Context section already shows that issue, then one
 * `Closes #N` (or `Refs #N`, trackers.github.link) line per GitHub issue, which GitHub links and closes on merge.
 */
function issueLine(facts: PrFacts, policy: Policy): string {
  const id = facts.issue?.issue_id;
  const verb = policy.trackers.github.link === "closes" ? "Closes" : "Refs";
  const github = (facts.issue?.github_issues ?? []).map((n) => `${verb} #${n}`);
  const shown = id && !facts.change?.issue_id && !/^#\d+$/.test(id);
  return [...(shown ? [`Issue: ${issueLink(id, issueUrl(id, policy.issues.url_template))}`] : []), ...github].join(
    "\n\n",
  );
}

function changeContext(facts: PrFacts, policy: Policy): string {
  const c = facts.change;
  if (!c) return "";
  const issue = c.issue_id
    ? issueLink(c.issue_id, c.issue_url ?? issueUrl(c.issue_id, policy.issues.url_template))
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

function values(
  facts: PrFacts,
  draft: Draft,
  title: string,
  policy: Policy,
  filesShown: number,
  commitsShown: number,
  prose: { purpose: string; highlights: string[] },
  plan: PrPlan,
): TemplateValues {
  const { trace, changes } = facts;
  const head = headCommit(facts);
  const highlights = prose.highlights.map((h) => `- ${h}`).join("\n");
  const checklist = plan.checklist.map((i) => `- [${i.done ? "x" : " "}] ${i.label}`).join("\n");
  const n = changes.files.length;
  return {
    title,
    type: plan.type,
    summary: draft.summary,
    purpose: prose.purpose,
    highlights,
    commit_summary: [prose.purpose, highlights].filter(Boolean).join("\n\n"),
    trace_id: trace.trace_id,
    blueprint_id: trace.blueprint_id,
    blueprint_name: trace.blueprint_name ? inertText(trace.blueprint_name) : "_not recorded_",
    blueprint_description: trace.description ? inertBlock(trace.description, policy.prose.allowed_link_hosts) : "",
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
    merge_decision: plan.decision,
    breaking_changes: breakingSection(plan),
    change_context: changeContext(facts, policy),
    issue: issueLine(facts, policy),
    metadata_block: metadataBlock(facts, commitsShown),
  };
}

function shortenProse(text: string, max: number): string {
  if (text.length <= max) return text;
  const cut = text.slice(0, Math.max(0, max - 1));
  const atWord = cut.slice(0, Math.max(cut.lastIndexOf(" "), 0)) || cut;
  return `${atWord}…`;
}

/** Why the change breaks its users, with each BREAKING CHANGE footer quoted; empty when it does not. */
function breakingSection(plan: PrPlan): string {
  if (!plan.breaking) return "";
  const notes = plan.breaking_notes.map((n) => `> ${inertText(n)}`);
  const reasons = plan.breaking_reasons.map((r) => `- ${inertText(r)}`);
  return ["## Breaking changes", "", ...reasons, ...(notes.length ? ["", ...notes.flatMap((n) => [n, ""])] : [])]
    .join("\n")
    .trimEnd();
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
  plan: PrPlan = planPullRequest(facts, policy),
): AssembledPullRequest {
  const title = composeTitle(
    plan.type,
    facts.trace.component_scope,
    draft.summary,
    facts.trace.trace_id,
    policy,
    plan.breaking,
  );
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
      reviewers: plan.reviewers,
      labels: plan.labels,
      is_draft: plan.is_draft,
      auto_complete: plan.auto_merge,
      risk: plan.risk,
      merge: { requires: plan.requires, decision: plan.decision },
      checklist: plan.checklist,
      // Resolved by the plan node; a caller that resolved none leaves the publisher to read AB#N from the body.
      ...(facts.issue
        ? {
            work_items: policy.trackers.azure_boards.link_work_items
              ? facts.issue.work_item_ids.map((id) => String(id))
              : [],
          }
        : {}),
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
