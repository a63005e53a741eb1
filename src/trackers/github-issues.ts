/**
 * GitHub issues (tracker: github) through the GitHub forge's Octokit client. The PR body already names the
 * issues (`Closes #N` or `Refs #N`, trackers.github.link), so GitHub links them and closes them on merge; this
 * adapter adds what the body cannot: a comment when the PR fails, is blocked or rolled back (and, when asked,
 * when it waits for approval) and the policy's labels per moment. A comment ends with a hidden marker
 * (`<!-- pr-creator ref … -->`); the issue's comments are read first, so a re-run or a re-send writes nothing twice.
 */
import { PrCreatorError } from "../domain/errors.js";
import type { Policy } from "../domain/policy.js";
import type { Forge, ForgeIssues } from "../forges/forge.js";
import { classifyGitHubError } from "../forges/github/errors.js";
import { commentMarker, commentText, momentKey } from "./forge-comments.js";
import type { Tracker, TrackerOutcome, TrackerUpdate } from "./tracker.js";

/** `#12` (the PR's repository) or `owner/repo#12`; anything else is not a GitHub issue. */
export function gitHubIssueRef(issueId: string, prRepo: string | null): { repo: string; number: number } | null {
  const m = /^(?:([A-Za-z0-9][A-Za-z0-9-]{0,38}\/[A-Za-z0-9._-]{1,100}))?#([1-9][0-9]{0,8})$/.exec(issueId.trim());
  if (!m) return null;
  const repo = m[1] ?? prRepo;
  return repo ? { repo, number: Number(m[2]) } : null;
}

export interface GitHubIssuesOptions {
  issues: ForgeIssues;
  labels: Policy["trackers"]["github"]["labels"];
  comments: Policy["trackers"]["comments"];
}

export function gitHubIssuesTracker(options: GitHubIssuesOptions): Tracker {
  const { issues } = options;
  return {
    kind: "github",
    async apply(update: TrackerUpdate): Promise<TrackerOutcome> {
      const ref = gitHubIssueRef(update.issue_id, update.pr?.repo ?? update.repo ?? null);
      if (!ref) return { actions: [`skipped ${update.issue_id}: not a GitHub issue (#N or owner/repo#N)`] };
      const actions: string[] = [];
      const key = momentKey(update);
      const labels = key ? options.labels[key] : [];
      if (labels.length > 0) {
        await issues.addLabels(ref.repo, ref.number, labels);
        actions.push(`labelled #${ref.number} ${labels.join(", ")}`);
      }
      const text = commentText(update, {
        onApproval: options.comments.on_approval,
        onFailure: options.comments.on_failure,
      });
      if (text !== null) {
        const marker = `<!-- ${commentMarker(update)} -->`;
        const existing = await issues.listComments(ref.repo, ref.number);
        if (existing.some((c) => c.text.includes(marker))) {
          actions.push(`comment on #${ref.number} already there`);
        } else {
          await issues.addComment(ref.repo, ref.number, `${text}\n\n${marker}`);
          actions.push(`commented on #${ref.number}`);
        }
      }
      return { actions };
    },
    classify: classifyGitHubError,
  };
}

/** The GitHub issues tracker on the configured GitHub forge; invalid_config without one. */
export function createGitHubIssuesTracker(policy: Policy, forge: Forge | null | undefined): Tracker {
  if (forge?.kind !== "github" || !forge.issues) {
    throw new PrCreatorError("invalid_config", "tracker is github but the forge is not GitHub.", {
      hint: "Set forge: github (GitHub issues use the forge's token), or choose another tracker.",
    });
  }
  return gitHubIssuesTracker({
    issues: forge.issues,
    labels: policy.trackers.github.labels,
    comments: policy.trackers.comments,
  });
}
