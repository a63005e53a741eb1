/**
 * Azure Boards (tracker: azure-boards) through the Azure DevOps forge's connection (WorkItemTrackingApi). The
 * PR is linked to its work items when it is created (workItemRefs; trackers.azure_boards.link_work_items);
 * this adapter moves the issue's work item to the policy's state per moment (read first, written only when it
 * differs) and comments when the PR fails, is blocked or rolled back (and, when asked, when it waits for
 * approval). A comment ends with its reference line; the work item's comments are read first, so a re-run or a
 * re-send writes nothing twice. Comments are HTML: the text is escaped, paragraphs kept.
 */
import { PrCreatorError } from "../domain/errors.js";
import type { Policy } from "../domain/policy.js";
import { classifyAzureError } from "../forges/azure-devops/errors.js";
import type { Forge, ForgeIssues } from "../forges/forge.js";
import { commentMarker, commentText, momentKey } from "./forge-comments.js";
import type { Tracker, TrackerOutcome, TrackerUpdate } from "./tracker.js";

/** `AB#123`, `#123` or `123`; anything else is not a work item. */
export function workItemRef(issueId: string): number | null {
  const m = /^(?:AB#|#)?([1-9][0-9]{0,8})$/i.exec(issueId.trim());
  return m ? Number(m[1]) : null;
}

const escapeHtml = (text: string) =>
  text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");

/** Markdown-ish plain text as the HTML a work item comment holds: escaped, one paragraph per blank-line block. */
export function commentHtml(text: string): string {
  return text
    .split(/\n{2,}/)
    .map((p) => `<p>${escapeHtml(p).replace(/\n/g, "<br>")}</p>`)
    .join("");
}

export interface AzureBoardsOptions {
  issues: ForgeIssues;
  states: Policy["trackers"]["azure_boards"]["states"];
  comments: Policy["trackers"]["comments"];
}

export function azureBoardsTracker(options: AzureBoardsOptions): Tracker {
  const { issues } = options;
  return {
    kind: "azure-boards",
    async apply(update: TrackerUpdate): Promise<TrackerOutcome> {
      const id = workItemRef(update.issue_id);
      if (id === null) return { actions: [`skipped ${update.issue_id}: not a work item (AB#N)`] };
      const repo = update.pr?.repo ?? update.repo ?? "";
      const actions: string[] = [];
      const key = momentKey(update);
      const state = key ? options.states[key] : undefined;
      if (state && issues.setState) {
        const current = await issues.getState(repo, id);
        if (current.toLowerCase() === state.toLowerCase()) actions.push(`work item ${id} already ${current}`);
        else {
          await issues.setState(repo, id, state);
          actions.push(`moved work item ${id} to ${state}`);
        }
      }
      const text = commentText(update, {
        onApproval: options.comments.on_approval,
        onFailure: options.comments.on_failure,
      });
      if (text !== null) {
        const marker = commentMarker(update);
        const existing = await issues.listComments(repo, id);
        if (existing.some((c) => c.text.includes(marker))) actions.push(`comment on work item ${id} already there`);
        else {
          await issues.addComment(repo, id, commentHtml(`${text}\n\n${marker}`));
          actions.push(`commented on work item ${id}`);
        }
      }
      return { actions };
    },
    classify: classifyAzureError,
  };
}

/** The Azure Boards tracker on the configured Azure DevOps forge; invalid_config without one. */
export function createAzureBoardsTracker(policy: Policy, forge: Forge | null | undefined): Tracker {
  if (forge?.kind !== "azure-devops" || !forge.issues) {
    throw new PrCreatorError("invalid_config", "tracker is azure-boards but the forge is not Azure DevOps.", {
      hint: "Set forge: azure-devops (Azure Boards uses the forge's token, with Work Items: Read & write), or choose another tracker.",
    });
  }
  return azureBoardsTracker({
    issues: forge.issues,
    states: policy.trackers.azure_boards.states,
    comments: policy.trackers.comments,
  });
}
