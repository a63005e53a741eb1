import {
  applyEdits,
  checkYaml,
  changeCommitMessage,
  changeId,
  changeSetFromEdits,
  changeTrace,
  changeTraceId,
  previewHash,
  type EditedFile,
} from "../../changes/apply-edits.js";
import type { CommitInfo } from "../../domain/commit.js";
import { PrCreatorError } from "../../domain/errors.js";
import type { ChangeRequested, CommitCompleted } from "../../domain/events.js";
import type { AgentDeps } from "../deps.js";
import type { AgentStateType, AgentUpdate } from "../state.js";

/** Reads each edited file as it is on the base branch: through the forge, else a local clone. */
async function readBase(deps: AgentDeps, cr: ChangeRequested): Promise<Map<string, string | null>> {
  // Reading is safe even in a dry run; only the commit is left out.
  const forge = deps.forge;
  const local = deps.commitSource.readFile?.bind(deps.commitSource);
  const needsText = cr.edits.some((e) => !("content" in e));
  if (!forge && !local && needsText) {
    throw new PrCreatorError(
      "edit_not_applicable",
      "The change request edits files in place, but there is no forge and no local clone to read them from.",
      {
        hint: "Configure a forge, or run with --repo-path pointing at a clone that has the base branch.",
      },
    );
  }
  const texts = await Promise.all(
    cr.edits.map(async (e) => {
      if (forge) return forge.readFile(cr.repo, cr.base_branch, e.path);
      return local ? local(cr.base_branch, e.path) : null;
    }),
  );
  return new Map(cr.edits.map((e, i) => [e.path, texts[i]!]));
}

/** Says where the base files were read, so "the file does not exist" points at the right place. */
function withSource<T>(deps: AgentDeps, cr: ChangeRequested, apply: () => T): T {
  try {
    return apply();
  } catch (error) {
    if (!(error instanceof PrCreatorError) || error.reason !== "edit_not_applicable") throw error;
    const where = deps.forge
      ? `${cr.repo} on ${deps.forge.kind}`
      : "the local clone (--repo-path, default the working directory)";
    throw new PrCreatorError(
      "edit_not_applicable",
      `${error.message.replace(/\.$/, "")} (${cr.base_branch} was read from ${where}).`,
    );
  }
}

/**
 * Turns a change request into a commit: applies the edits to the base branch's files, commits them on
 * `agent-sre/<type>-<id>` through the forge (a preview commits nothing), and hands the rest of the flow a
 * commit event and its change set — exactly what it would get from a person's commit.
 */
export function makeApplyChange(deps: AgentDeps) {
  return async function applyChange(state: AgentStateType): Promise<AgentUpdate> {
    const cr = state.change_request!;
    const branch = state.change_branch!;
    const before = await readBase(deps, cr);
    const edited: EditedFile[] = withSource(deps, cr, () => applyEdits(cr.edits, before));
    if (edited.every((f) => f.before === f.after)) {
      throw new PrCreatorError(
        "no_changes",
        `Every edit of change ${changeId(cr)} is already on ${cr.base_branch}; there is nothing to change.`,
        {
          hint: "The remediation may have been applied already; check the base branch.",
        },
      );
    }
    const trace = changeTrace(cr);
    const message = changeCommitMessage(cr, deps.policy, trace.component_scope);
    const forge = deps.publisher.kind === "dry-run" ? null : deps.forge;
    const files = edited.filter((f) => f.before !== f.after).map((f) => ({ path: f.path, content: f.after }));
    const pushed = forge
      ? await forge.commitFiles(cr.repo, {
          branch,
          base_branch: cr.base_branch,
          message: `${message.subject}\n\n${message.body}`,
          files,
        })
      : { sha: previewHash(edited, cr.base_branch), parent: cr.base_branch, unchanged: false };
    const commit: CommitInfo = {
      hash: pushed.sha,
      short_hash: pushed.sha.slice(0, 7),
      subject: message.subject,
      body: message.body,
      author: { name: cr.agent, email: `${cr.agent}@agents.local` },
      authored_at: cr.timestamp,
      parents: [pushed.parent],
    };
    const event: CommitCompleted = {
      event: "CommitCompleted",
      trace_id: changeTraceId(cr),
      commit_hash: pushed.sha,
      repo: cr.repo,
      branch,
      agent: cr.agent,
      timestamp: cr.timestamp,
      target_branch: cr.base_branch,
      ...(cr.blueprint_id ? { blueprint_id: cr.blueprint_id } : {}),
      // With a trace id the registry answers for the trace; without one the request describes itself.
      ...(cr.trace || !cr.trace_id ? { trace } : {}),
    };
    const warnings = forge
      ? []
      : [
          `Preview: nothing was committed; ${branch} and commit ${commit.short_hash} are what a forge run would create.`,
        ];
    return { event, changes: changeSetFromEdits(edited, commit), change_yaml: checkYaml(edited), warnings };
  };
}
