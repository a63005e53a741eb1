import { escapeControls } from "../domain/input-names.js";
import type { RunResult } from "../domain/run-result.js";

const STATUS_LINE: Record<RunResult["status"], string> = {
  previewed: "PR preview (dry run: nothing was sent to a forge)",
  created: "PR created",
  updated: "PR updated",
  unchanged: "PR already up to date",
  failed: "Rejected",
  awaiting_approval: "Waiting for approval",
};

function rule(title: string): string {
  return `── ${title} ${"─".repeat(Math.max(0, 72 - title.length))}`;
}

/**
 * The human view of a run: a readable PR preview, or the failure paragraph and its violations. Text from
 * events is made harmless for a terminal (every front door prints this view: CLI, MCP): the failure paragraph
 * and violations have every control character escaped, so each stays one line or paragraph; the rest all but
 * newlines and tabs.
 */
export function formatHuman(result: RunResult): string {
  const safe: RunResult = {
    ...result,
    ...(result.message === undefined ? {} : { message: escapeControls(result.message) }),
    violations: result.violations.map((v) => ({ ...v, message: escapeControls(v.message) })),
  };
  return escapeControls(layout(safe), "\n\t");
}

function layout(result: RunResult): string {
  const lines: string[] = [];
  if (result.status === "failed") {
    lines.push(`✖ ${STATUS_LINE.failed}: ${result.reason}`, "", result.message ?? "");
    if (result.violations.length > 0) {
      lines.push("", "Violations:");
      for (const v of result.violations) lines.push(`  - ${v.code}: ${v.message}`);
    }
    return lines.join("\n") + "\n";
  }
  if (result.status === "awaiting_approval") {
    lines.push(`⏸ ${STATUS_LINE.awaiting_approval}: ${result.reason ?? ""}`, "", result.message ?? "");
    if (result.violations.length > 0) {
      lines.push("", "Violations:");
      for (const v of result.violations) lines.push(`  - ${v.code}: ${v.message}`);
    }
    return lines.join("\n") + "\n";
  }
  const pr = result.pr!;
  lines.push(`✔ ${STATUS_LINE[result.status]}${pr.url ? ` ${pr.url}` : ""}`, "");
  lines.push(`  Title      ${pr.title}`);
  lines.push(`  Branches   ${pr.source_branch} → ${pr.target_branch}`);
  lines.push(
    `  Reviewers  ${pr.reviewers.map((r) => `${r.name}${r.required ? " (required)" : " (optional)"}`).join(", ")}`,
  );
  lines.push(`  Labels     ${pr.labels.join(", ")}`);
  lines.push(
    `  State      ${pr.is_draft ? "draft (blueprint context incomplete)" : "ready for review"}; auto-merge ${pr.auto_complete ? "on" : "off"}`,
  );
  if (pr.risk) lines.push(`  Risk       ${pr.risk.level}: ${pr.risk.reasons.join("; ")}`);
  if (result.merge) lines.push(`  Merge      ${result.merge.message}`);
  const u = result.usage;
  const modelNote =
    u.model_calls > 0
      ? ` (${u.model_calls} model call${u.model_calls > 1 ? "s" : ""}, ${u.prompt_tokens}+${u.completion_tokens} tokens, ${u.repairs} repair${u.repairs === 1 ? "" : "s"})`
      : "";
  lines.push(`  Drafted by ${result.drafted_by}${modelNote}`);
  for (const a of result.approvals)
    lines.push(`  Approved   ${a.failure_reason}${a.by ? ` by ${a.by}` : ""}${a.reason ? `: ${a.reason}` : ""}`);
  if (result.truncation) {
    const t = result.truncation;
    lines.push(
      `  Shortened  description kept within the limit: ${t.files_shown}/${t.files_total} files, ${t.commits_shown}/${t.commits_total} commits listed`,
    );
  }
  for (const r of result.memory.recalled) lines.push(`  Recalled   ${r.title} (similarity ${r.score.toFixed(2)})`);
  for (const d of result.memory.possible_duplicates)
    lines.push(`  Duplicate? ${d.title}${d.url ? ` ${d.url}` : ""} (similarity ${d.score.toFixed(2)})`);
  if (result.memory.unavailable) lines.push(`  Memory     ${result.memory.unavailable}`);
  if (result.events.length > 0) lines.push(`  Events     ${result.events.map((e) => e.event).join(", ")}`);
  lines.push("", rule("description"), pr.description.trimEnd(), rule("end"));
  return lines.join("\n") + "\n";
}
