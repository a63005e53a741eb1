/**
 * What every tracker (Linear, GitHub issues, Azure Boards) writes on an issue, and how it recognises it on a
 * re-run. Pure. Outside text (PR titles, repository names, failure paragraphs) is made inert.
 */
import { createHash } from "node:crypto";
import { inertText } from "../render/markdown.js";
import { updateKey, type TrackedPullRequest, type TrackerUpdate } from "./tracker.js";

/** The comment's marker: stable per issue, PR and moment (updateKey), so a re-run finds the comment it wrote. */
export function commentMarker(update: TrackerUpdate): string {
  return `pr-creator ref ${createHash("sha256").update(updateKey(update)).digest("hex").slice(0, 16)}`;
}

function prLink(pr: TrackedPullRequest): string {
  const label = `PR ${pr.id} in ${inertText(pr.repo)}`;
  return pr.url ? `[${label}](${pr.url})` : label;
}

/** The comment's words for an update that gets one (a problem; approval when asked), or null. */
export function commentText(
  update: TrackerUpdate,
  options: { onApproval: boolean; onFailure: boolean },
): string | null {
  if (update.moment === "awaiting_approval") {
    if (!options.onApproval) return null;
    const who = update.approvers.length > 0 ? update.approvers.map((a) => inertText(a)).join(", ") : null;
    const need = update.requires === "senior_approval" ? "a senior approval" : "an approving review";
    return `${prLink(update.pr)} waits for ${need}${who ? ` from ${who}` : " (the policy names nobody)"}; it is not merged automatically.`;
  }
  if (update.moment !== "problem" || !options.onFailure) return null;
  const subject = update.pr
    ? prLink(update.pr)
    : `The pull request for trace ${inertText(update.trace_id ?? "unknown")}`;
  const what =
    update.what === "failed"
      ? `${subject} could not be created or updated`
      : update.what === "merge_blocked"
        ? `${subject} cannot merge automatically`
        : `${subject} was rolled back${update.revert ? ` by ${prLink(update.revert)}` : ""}`;
  const codes =
    update.codes.length > 0 ? ` (${update.codes.map((c) => `\`${c.replace(/`/g, "'")}\``).join(", ")})` : "";
  return `${what}${codes}.\n\n${inertText(update.reason)}`;
}

/** Which of the policy's per-moment settings an update falls under. */
export function momentKey(update: TrackerUpdate): "on_review" | "on_merged" | "on_failure" | null {
  switch (update.moment) {
    case "opened":
      return "on_review";
    case "merged":
      return "on_merged";
    case "problem":
      return "on_failure";
    default:
      return null;
  }
}
