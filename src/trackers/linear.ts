/**
 * Linear through @linear/sdk. Per update: the PR link is an attachment made with `attachmentLinkURL` (Linear
 * shows a GitHub or Azure DevOps PR URL as a PR link), looked up on the issue by URL first; the issue moves to
 * the policy's state, its name resolved to an id once per team; failures and approvals become one comment
 * each, recognised on a re-run by the reference line they end with.
 */
import type { Issue, LinearClient, WorkflowState } from "@linear/sdk";
import { PrCreatorError, errorText } from "../domain/errors.js";
import type { Policy } from "../domain/policy.js";
import { networkCode } from "../net/retry.js";
import { inertText } from "../render/markdown.js";
import { commentMarker, commentText } from "./forge-comments.js";
import type { TrackedPullRequest, Tracker, TrackerUpdate } from "./tracker.js";

/** A Linear issue key: team key, dash, number (`BVL-232`); a Linear issue URL gives the same key. */
const ISSUE_KEY = /^[A-Za-z][A-Za-z0-9_]{0,9}-\d{1,9}$/;
const ISSUE_URL = /^https:\/\/linear\.app\/[^/]+\/issue\/([A-Za-z][A-Za-z0-9_]{0,9}-\d{1,9})(?:[/?#]|$)/;

/** The Linear issue key `issue_id` names, or null when it is not a Linear issue (`AB#12`, `#42`). */
export function linearIssueKey(issueId: string): string | null {
  const id = issueId.trim();
  if (ISSUE_KEY.test(id)) return id.toUpperCase();
  return ISSUE_URL.exec(id)?.[1]?.toUpperCase() ?? null;
}

function prLabel(pr: TrackedPullRequest): string {
  return `PR ${pr.id} in ${inertText(pr.repo)}`;
}

/** The attachment's title: the PR's number and title, plain text (Linear shows it as is). */
function attachmentTitle(pr: TrackedPullRequest): string {
  const title = pr.title ? `: ${pr.title.replace(/[\r\n]+/g, " ")}` : "";
  return `PR ${pr.id}${title}`.slice(0, 250);
}

/**
 * The comment for an update that gets one, or null: the shared wording, ending with its marker as a visible line
 * (Linear keeps comments as rich text, where a hidden HTML marker may not survive).
 */
export function commentBody(update: TrackerUpdate): string | null {
  const text = commentText(update, { onApproval: true, onFailure: true });
  return text === null ? null : `${text}\n\n_${commentMarker(update)}_`;
}

// The SDK is large (a fifth of the CLI's start-up): it loads on the first update, never for `tracker: none`.
type Sdk = typeof import("@linear/sdk");
let sdk: Sdk | undefined;
const loadSdk = async (): Promise<Sdk> => (sdk ??= await import("@linear/sdk"));

/** Why Linear refused, without the query or its variables (they may hold issue text). */
function refusal(error: unknown): string {
  return sdk && error instanceof sdk.LinearError ? `Linear: ${error.message}` : errorText(error);
}

export interface LinearTrackerOptions {
  apiKey: string;
  apiUrl?: string;
  states: Policy["trackers"]["linear"]["states"];
  comments: Policy["trackers"]["comments"];
}

/** Builds the Linear tracker from the policy and LINEAR_API_KEY / LINEAR_API_URL. */
export function createLinearTracker(policy: Policy, env: Readonly<Record<string, string | undefined>>): Tracker {
  const apiKey = env.LINEAR_API_KEY?.trim();
  if (!apiKey) {
    throw new PrCreatorError("invalid_config", "tracker is linear but LINEAR_API_KEY is not set.", {
      hint: "Set LINEAR_API_KEY to a Linear API key (Settings → Security & access), or set tracker: none.",
    });
  }
  const apiUrl = env.LINEAR_API_URL?.trim() || undefined;
  if (apiUrl !== undefined) {
    let url: URL | null = null;
    try {
      url = new URL(apiUrl);
    } catch {
      url = null;
    }
    const local = url !== null && ["localhost", "127.0.0.1", "[::1]"].includes(url.hostname);
    if (
      url === null ||
      url.username ||
      url.password ||
      !(url.protocol === "https:" || (url.protocol === "http:" && local))
    ) {
      throw new PrCreatorError(
        "invalid_config",
        "LINEAR_API_URL must be an https:// URL without user info (http:// only for localhost).",
        { hint: "Fix or unset LINEAR_API_URL; the key comes only from LINEAR_API_KEY." },
      );
    }
  }
  return linearTracker({
    apiKey,
    apiUrl,
    states: policy.trackers.linear.states,
    comments: policy.trackers.comments,
  });
}

export function linearTracker(options: LinearTrackerOptions): Tracker {
  let connected: Promise<LinearClient> | undefined;
  const connect = (): Promise<LinearClient> =>
    (connected ??= loadSdk().then(
      ({ LinearClient }) =>
        new LinearClient({ apiKey: options.apiKey, ...(options.apiUrl ? { apiUrl: options.apiUrl } : {}) }),
    ));
  // State names resolve once per team and process; a failed lookup is forgotten so the next update asks again.
  const teamStates = new Map<string, Promise<WorkflowState[]>>();

  const statesOf = (teamId: string): Promise<WorkflowState[]> => {
    let states = teamStates.get(teamId);
    if (!states) {
      states = connect()
        .then((client) => client.workflowStates({ filter: { team: { id: { eq: teamId } } }, first: 250 }))
        .then((connection) => connection.nodes);
      teamStates.set(teamId, states);
      states.catch(() => teamStates.delete(teamId));
    }
    return states;
  };

  const fetchIssue = async (key: string): Promise<Issue> => (await connect()).issue(key);

  /** Moves the issue to the state named `name`, unless it is there already (or done, for the review state). */
  const moveTo = async (issue: Issue, name: string, fromDoneToo: boolean): Promise<string | null> => {
    const teamId = issue.teamId;
    if (!teamId) throw new Error(`Linear did not say which team issue ${issue.identifier} belongs to.`);
    const states = await statesOf(teamId);
    const target = states.find((s) => s.name.toLowerCase() === name.toLowerCase());
    if (!target) {
      throw new PrCreatorError(
        "invalid_config",
        `Linear team of ${issue.identifier} has no workflow state "${name}" (it has ${states.map((s) => `"${s.name}"`).join(", ")}).`,
        { hint: "Fix trackers.linear.states in the config." },
      );
    }
    if (issue.stateId === target.id) return null;
    const current = states.find((s) => s.id === issue.stateId);
    // A late "opened" (an outbox re-send, an update after the merge) must not reopen a finished issue.
    if (!fromDoneToo && current && (current.type === "completed" || current.type === "canceled")) return null;
    await (await connect()).updateIssue(issue.id, { stateId: target.id });
    return `moved ${issue.identifier} to ${target.name}`;
  };

  const link = async (issue: Issue, pr: TrackedPullRequest): Promise<string | null> => {
    if (!pr.url) return null;
    const existing = await issue.attachments({ filter: { url: { eq: pr.url } }, first: 1 });
    if (existing.nodes.length > 0) return null;
    await (await connect()).attachmentLinkURL(issue.id, pr.url, { title: attachmentTitle(pr) });
    return `linked ${prLabel(pr)} to ${issue.identifier}`;
  };

  const comment = async (issue: Issue, update: TrackerUpdate): Promise<string | null> => {
    const body = commentBody(update);
    if (body === null) return null;
    const existing = await issue.comments({ filter: { body: { contains: commentMarker(update) } }, first: 1 });
    if (existing.nodes.length > 0) return null;
    await (await connect()).createComment({ issueId: issue.id, body });
    return `commented on ${issue.identifier}`;
  };

  const apply = async (update: TrackerUpdate): Promise<string[]> => {
    const key = linearIssueKey(update.issue_id);
    // An Azure Boards work item or a GitHub issue (`AB#12`, `#42`) is not Linear's: nothing to do, nothing to retry.
    if (!key) return [];
    const issue = await fetchIssue(key);
    const done: (string | null)[] = [];
    switch (update.moment) {
      case "opened":
        done.push(await link(issue, update.pr));
        done.push(await moveTo(issue, options.states.on_review, false));
        break;
      case "awaiting_approval":
        done.push(await link(issue, update.pr));
        if (options.comments.on_approval) done.push(await comment(issue, update));
        break;
      case "merged":
        done.push(await link(issue, update.pr));
        done.push(await moveTo(issue, options.states.on_merged, true));
        break;
      case "problem":
        if (options.comments.on_failure) done.push(await comment(issue, update));
        if (options.states.on_failure) done.push(await moveTo(issue, options.states.on_failure, false));
        break;
    }
    return done.filter((d): d is string => d !== null);
  };

  return {
    kind: "linear",
    async apply(update) {
      try {
        return { actions: await apply(update) };
      } catch (error) {
        if (error instanceof PrCreatorError) throw error;
        throw new Error(refusal(error), { cause: error });
      }
    },
    classify(error) {
      const cause = error instanceof Error && error.cause !== undefined ? error.cause : error;
      if (sdk && cause instanceof sdk.RatelimitedLinearError) {
        return { status: 429, ...(cause.retryAfter !== undefined ? { retryAfterMs: cause.retryAfter * 1000 } : {}) };
      }
      if (sdk && cause instanceof sdk.LinearError) {
        if (cause.status !== undefined && cause.status !== 200) return { status: cause.status };
        const network = networkCode(cause.raw);
        return network ? { network } : {};
      }
      const network = networkCode(cause);
      return network ? { network } : {};
    },
  };
}
