/**
 * What happens to pull requests of the Azure DevOps emulator after they are opened: scripted CI served as
 * Build policy evaluations (and an optional "Minimum number of reviewers" policy), posted PR statuses,
 * completion (squash or merge commit onto the target, source branch deleted on request), auto-complete,
 * and reverts (POST/GET …/reverts, run asynchronously like the service).
 *
 * Wire shapes: PolicyEvaluationRecord / PolicyConfiguration of specification/policy/7.1/policy.json;
 * GitPullRequestStatus and GitRevert of specification/git/7.1/git.json and their httpExamples.
 */
import { randomUUID } from "node:crypto";
import { headOf, mergeBase, newCommit, setRef, treeAt } from "./azure-git.js";
import type { Query } from "./azure-handlers.js";
import {
  ApiError,
  asObject,
  commitRef,
  errors,
  findBranch,
  identityRef,
  invalidArgument,
  listOf,
  pullRequestLinks,
  repository,
  reviewerWire,
  sha1,
  type AsyncStatusName,
  type AzureEmulatorState,
  type BuildEvaluation,
  type CiConfig,
  type EmulatorIdentity,
  type EmulatorRepo,
  type GitStatusStateName,
  type PullRequestStatusWire,
  type PullRequestWire,
  type RevertRecord,
} from "./azure-model.js";
import { applyFiles, diffTrees } from "./azure-trees.js";
import { judge, type CiCheckSpec, type CiFiles } from "./ci.js";

/** Policy type ids (the service's well-known ids, read off policy configuration examples). */
const POLICY_TYPES = {
  build: { id: "0609b952-1397-4640-95ec-e00a01b2c241", displayName: "Build" },
  minimumReviewers: { id: "fa4e907d-c16b-4a4c-9dfa-4906e5d171dd", displayName: "Minimum number of reviewers" },
} as const;

const APPROVED = 5;
const eq = (a: string, b: string) => a.toLowerCase() === b.toLowerCase();
const now = () => new Date().toISOString();

function repoOf(state: AzureEmulatorState, pr: PullRequestWire): EmulatorRepo {
  const repo = [...state.repos.values()].find((r) => r.id === pr.repository.id);
  if (!repo) throw new Error(`pull request ${pr.pullRequestId} has no repository`);
  return repo;
}

// ---------------------------------------------------------------------------------------------------------
// Content of a pull request
// ---------------------------------------------------------------------------------------------------------

interface Heads {
  source: string;
  target: string;
  base: string | undefined;
}

function headsOf(repo: EmulatorRepo, pr: PullRequestWire): Heads {
  const source = headOf(repo, pr.sourceRefName) ?? pr.lastMergeSourceCommit.commitId;
  const target = headOf(repo, pr.targetRefName) ?? pr.lastMergeTargetCommit.commitId;
  return { source, target, base: mergeBase(repo, source, target) };
}

/** Every path the PR changes against its target, with its new text (null = deleted), without the leading "/". */
function pullRequestFiles(repo: EmulatorRepo, pr: PullRequestWire): CiFiles {
  const { source, base } = headsOf(repo, pr);
  return new Map([...diffTrees(treeAt(repo, base), treeAt(repo, source))].map(([path, text]) => [path.slice(1), text]));
}

/** The target's tree with the PR's changes on it, and the paths the target changed differently since the base. */
function mergedTree(repo: EmulatorRepo, pr: PullRequestWire) {
  const { source, target, base } = headsOf(repo, pr);
  const baseTree = treeAt(repo, base);
  const targetTree = treeAt(repo, target);
  const delta = diffTrees(baseTree, treeAt(repo, source));
  const conflicts = [...delta]
    .filter(
      ([path, text]) => targetTree.get(path) !== baseTree.get(path) && targetTree.get(path) !== (text ?? undefined),
    )
    .map(([p]) => p);
  return { tree: applyFiles(targetTree, delta), conflicts, source, target };
}

/** mergeStatus and the (not materialized) merge commit for the current heads. */
function refreshMerge(state: AzureEmulatorState, repo: EmulatorRepo, pr: PullRequestWire): void {
  const { conflicts, source, target } = mergedTree(repo, pr);
  pr.mergeStatus = conflicts.length > 0 ? "conflicts" : "succeeded";
  pr.lastMergeCommit = commitRef(state, repo, sha1("merge", source, target));
}

// ---------------------------------------------------------------------------------------------------------
// CI as Build policy evaluations
// ---------------------------------------------------------------------------------------------------------

export function setCi(
  state: AzureEmulatorState,
  repo: EmulatorRepo,
  checks: CiCheckSpec[],
  minimumApprovers: number,
): void {
  const previous = state.ci.get(repo.id);
  const configurationIds = previous?.configurationIds ?? new Map<string, number>();
  for (const name of [...checks.map((c) => c.name), ...(minimumApprovers > 0 ? [""] : [])]) {
    if (!configurationIds.has(name)) configurationIds.set(name, ++state.counters.policyConfiguration);
  }
  state.ci.set(repo.id, { checks, minimumApprovers, configurationIds });
}

/** (Re)queues every scripted check of the PR for its current head; an older run's timers do nothing. */
function startCi(state: AzureEmulatorState, repo: EmulatorRepo, pr: PullRequestWire): void {
  const cfg = state.ci.get(repo.id);
  const previous = state.evaluations.get(pr.pullRequestId) ?? [];
  if (!cfg || cfg.checks.length === 0) {
    state.evaluations.delete(pr.pullRequestId);
    return;
  }
  const evaluations = cfg.checks.map((spec) => {
    const ev: BuildEvaluation = previous.find((e) => e.name === spec.name) ?? {
      evaluationId: randomUUID(),
      configurationId: cfg.configurationIds.get(spec.name)!,
      name: spec.name,
      status: "queued",
      startedDate: now(),
      run: 0,
      buildId: 0,
      sourceCommit: "",
      targetCommit: "",
    };
    ev.run += 1;
    ev.status = "queued";
    ev.startedDate = now();
    delete ev.completedDate;
    delete ev.failure;
    ev.buildId = ++state.counters.build;
    ev.sourceCommit = pr.lastMergeSourceCommit.commitId;
    ev.targetCommit = pr.lastMergeTargetCommit.commitId;
    schedule(state, repo, pr, ev, spec);
    return ev;
  });
  state.evaluations.set(pr.pullRequestId, evaluations);
}

/** Queued, then running once an agent picks it up (a third of the way in), then settled after delayMs. */
function schedule(
  state: AzureEmulatorState,
  repo: EmulatorRepo,
  pr: PullRequestWire,
  ev: BuildEvaluation,
  spec: CiCheckSpec,
): void {
  const run = ev.run;
  const current = () => ev.run === run && pr.status === "active";
  const delay = spec.delayMs ?? 0;
  const pickedUp = Math.floor(delay / 3);
  state.scheduler.after(pickedUp, () => {
    if (!current()) return;
    ev.status = "running";
    state.scheduler.after(delay - pickedUp, () => {
      if (!current()) return;
      const verdict = judge(spec, pullRequestFiles(repo, pr));
      ev.status = verdict === "succeeded" ? "approved" : "rejected";
      ev.completedDate = now();
      if (verdict === "failed") ev.failure = spec.failure ?? `${spec.name} failed`;
      tryAutoComplete(state, repo, pr);
    });
  });
}

function approvals(pr: PullRequestWire): number {
  return pr.reviewers.filter((r) => r.vote >= APPROVED).length;
}

function configurationWire(
  state: AzureEmulatorState,
  repo: EmulatorRepo,
  pr: PullRequestWire,
  cfg: CiConfig,
  name: string,
) {
  const id = cfg.configurationIds.get(name)!;
  const type = name === "" ? POLICY_TYPES.minimumReviewers : POLICY_TYPES.build;
  const scope = [{ refName: pr.targetRefName, matchKind: "Exact", repositoryId: repo.id }];
  const url = `${state.orgUrl}/${state.project.id}/_apis/policy/configurations/${id}`;
  const typeUrl = `${state.orgUrl}/${state.project.id}/_apis/policy/types/${type.id}`;
  return {
    createdBy: identityRef(state, state.authenticatedUser),
    createdDate: state.project.lastUpdateTime,
    isEnabled: true,
    isBlocking: true,
    isDeleted: false,
    settings:
      name === ""
        ? {
            minimumApproverCount: cfg.minimumApprovers,
            creatorVoteCounts: false,
            allowDownvotes: false,
            resetOnSourcePush: false,
            scope,
          }
        : {
            buildDefinitionId: id,
            displayName: name,
            manualQueueOnly: false,
            queueOnSourceUpdateOnly: true,
            validDuration: 720,
            scope,
          },
    _links: { self: { href: url }, policyType: { href: typeUrl } },
    revision: 1,
    id,
    type: { id: type.id, url: typeUrl, displayName: type.displayName },
    url,
  };
}

function evaluationWire(
  state: AzureEmulatorState,
  repo: EmulatorRepo,
  pr: PullRequestWire,
  cfg: CiConfig,
  ev: BuildEvaluation,
  artifactId: string,
) {
  return {
    configuration: configurationWire(state, repo, pr, cfg, ev.name),
    artifactId,
    evaluationId: ev.evaluationId,
    startedDate: ev.startedDate,
    ...(ev.completedDate ? { completedDate: ev.completedDate } : {}),
    status: ev.status,
    context: {
      lastMergeCommitId: pr.lastMergeCommit?.commitId,
      lastMergeSourceCommitId: ev.sourceCommit,
      lastMergeTargetCommitId: ev.targetCommit,
      buildId: ev.buildId,
      buildDefinitionId: ev.configurationId,
      buildDefinitionName: ev.name,
      buildIsNotCurrent: false,
      buildStartedUtc: ev.startedDate,
      isExpired: false,
      wasAutoRequeued: false,
      ...(ev.failure
        ? {
            buildOutputPreview: {
              jobName: "Job",
              taskName: ev.name,
              errors: [{ lineNumber: 1, message: ev.failure }],
              lastUpdated: ev.completedDate,
            },
          }
        : {}),
    },
  };
}

/** GET {project}/_apis/policy/evaluations?artifactId=vstfs:///CodeReview/CodeReviewId/{projectId}/{pullRequestId} */
export function policyEvaluations(state: AzureEmulatorState, query: Query) {
  const artifactId = query.get("artifactId");
  const m = /^vstfs:\/\/\/CodeReview\/CodeReviewId\/([^/]+)\/(\d+)$/i.exec(artifactId ?? "");
  if (!artifactId || !m) throw invalidArgument("artifactId");
  const pr = state.pullRequests.find((p) => p.pullRequestId === Number(m[2]));
  if (!pr || !eq(m[1]!, state.project.id)) return listOf([]);
  const repo = repoOf(state, pr);
  const cfg = state.ci.get(repo.id);
  if (!cfg) return listOf([]);
  const records: unknown[] = (state.evaluations.get(pr.pullRequestId) ?? []).map((ev) =>
    evaluationWire(state, repo, pr, cfg, ev, artifactId),
  );
  if (cfg.minimumApprovers > 0) {
    records.push({
      configuration: configurationWire(state, repo, pr, cfg, ""),
      artifactId,
      evaluationId: randomUUID(),
      startedDate: pr.creationDate,
      status: approvals(pr) >= cfg.minimumApprovers ? "approved" : "queued",
    });
  }
  const skip = query.int("$skip") ?? 0;
  const top = query.int("$top");
  return listOf(records.slice(skip, top === undefined ? undefined : skip + top));
}

// ---------------------------------------------------------------------------------------------------------
// Opening, moving heads, completing
// ---------------------------------------------------------------------------------------------------------

export function pullRequestOpened(state: AzureEmulatorState, repo: EmulatorRepo, pr: PullRequestWire): void {
  refreshMerge(state, repo, pr);
  startCi(state, repo, pr);
}

/** Active PRs on moved refs follow them: a new source head re-runs CI; either may unblock auto-complete. */
export function refsMoved(state: AzureEmulatorState, repo: EmulatorRepo, refNames: string[]): void {
  const active = state.pullRequests.filter((p) => p.repository.id === repo.id && p.status === "active");
  for (const pr of active) {
    const sourceMoved = refNames.some((n) => eq(n, pr.sourceRefName));
    const targetMoved = refNames.some((n) => eq(n, pr.targetRefName));
    if (!sourceMoved && !targetMoved) continue;
    const source = headOf(repo, pr.sourceRefName);
    const target = headOf(repo, pr.targetRefName);
    if (source && source !== pr.lastMergeSourceCommit.commitId)
      pr.lastMergeSourceCommit = commitRef(state, repo, source);
    if (target && target !== pr.lastMergeTargetCommit.commitId)
      pr.lastMergeTargetCommit = commitRef(state, repo, target);
    pr._links = pullRequestLinks(state, repo, pr);
    refreshMerge(state, repo, pr);
    if (sourceMoved && source) startCi(state, repo, pr);
    tryAutoComplete(state, repo, pr);
  }
}

/** Why the PR cannot complete now, in the service's terms; empty when it can. */
export function blockers(state: AzureEmulatorState, repo: EmulatorRepo, pr: PullRequestWire): string[] {
  const why: string[] = [];
  if (pr.isDraft) why.push("The pull request is a draft.");
  const { conflicts } = mergedTree(repo, pr);
  if (conflicts.length > 0) why.push(`The merge has conflicts in ${conflicts.join(", ")}.`);
  for (const r of pr.reviewers)
    if (r.isRequired && r.vote < APPROVED) why.push(`${r.displayName} is a required reviewer and has not approved.`);
  for (const ev of state.evaluations.get(pr.pullRequestId) ?? []) {
    if (ev.status !== "approved")
      why.push(
        ev.status === "rejected"
          ? `${ev.name} must succeed: it failed.`
          : `${ev.name} must succeed: it is ${ev.status}.`,
      );
  }
  const min = state.ci.get(repo.id)?.minimumApprovers ?? 0;
  if (approvals(pr) < min) why.push(`At least ${min} reviewer${min > 1 ? "s" : ""} must approve.`);
  return why;
}

/**
 * Merges the PR onto its target (squash: one parent; otherwise a merge commit with the source as second
 * parent), moves the target, deletes the source when completionOptions.deleteSourceBranch, and closes it.
 */
export function complete(
  state: AzureEmulatorState,
  repo: EmulatorRepo,
  pr: PullRequestWire,
  by: EmulatorIdentity,
): void {
  const { tree, source, target } = mergedTree(repo, pr);
  const options = pr.completionOptions ?? {};
  const message =
    typeof options.mergeCommitMessage === "string" && options.mergeCommitMessage !== ""
      ? options.mergeCommitMessage
      : `Merged PR ${pr.pullRequestId}: ${pr.title}`;
  const squash = options.mergeStrategy === "squash" || options.squashMerge === true;
  const commit = newCommit(state, repo, { parents: squash ? [target] : [target, source], tree, message });
  const moved = [setRef(repo, pr.targetRefName, commit.commitId)];
  if (options.deleteSourceBranch === true && findBranch(repo, pr.sourceRefName)) {
    setRef(repo, pr.sourceRefName, null);
    moved.push(pr.sourceRefName);
  }
  const at = now();
  pr.status = "completed";
  pr.mergeStatus = "succeeded";
  pr.closedDate = at;
  pr.closedBy = identityRef(state, by);
  pr.completionQueueTime = at;
  pr.lastMergeSourceCommit = commitRef(state, repo, source);
  pr.lastMergeTargetCommit = commitRef(state, repo, target);
  pr.lastMergeCommit = commitRef(state, repo, commit.commitId);
  pr._links = pullRequestLinks(state, repo, pr);
  refsMoved(state, repo, moved);
}

/** A reviewer's vote (added as an optional reviewer when absent), as the reviewer would cast it in the web UI. */
export function castVote(
  state: AzureEmulatorState,
  repo: EmulatorRepo,
  pr: PullRequestWire,
  identity: EmulatorIdentity,
  vote: number,
): void {
  let reviewer = pr.reviewers.find((r) => r.id === identity.id);
  if (!reviewer) {
    reviewer = reviewerWire(state, repo, pr.pullRequestId, identity);
    pr.reviewers.push(reviewer);
  }
  reviewer.vote = vote;
  tryAutoComplete(state, repo, pr);
}

/** Completes an auto-complete PR as soon as nothing blocks it. */
export function tryAutoComplete(state: AzureEmulatorState, repo: EmulatorRepo, pr: PullRequestWire): void {
  if (pr.status !== "active" || !pr.autoCompleteSetBy || blockers(state, repo, pr).length > 0) return;
  const by = state.identities.get(pr.autoCompleteSetBy.id) ?? state.authenticatedUser;
  complete(state, repo, pr, by);
}

// ---------------------------------------------------------------------------------------------------------
// PR statuses: POST/GET …/pullRequests/{id}/statuses
// ---------------------------------------------------------------------------------------------------------

const STATUS_STATES: GitStatusStateName[] = ["notSet", "pending", "succeeded", "failed", "error", "notApplicable"];

export function createPullRequestStatus(
  state: AzureEmulatorState,
  repo: EmulatorRepo,
  pr: PullRequestWire,
  rawBody: unknown,
) {
  const body = asObject(rawBody, "status");
  const raw = body.state;
  const stateName =
    typeof raw === "number" ? STATUS_STATES[raw] : STATUS_STATES.find((s) => typeof raw === "string" && eq(s, raw));
  if (!stateName) throw invalidArgument("status.State");
  const context = body.context as Record<string, unknown> | undefined;
  if (typeof context?.name !== "string" || context.name.trim() === "") throw invalidArgument("status.Context.Name");
  const at = now();
  const status: PullRequestStatusWire = {
    id: ++state.counters.status,
    state: stateName,
    ...(typeof body.description === "string" ? { description: body.description } : {}),
    context: { name: context.name, ...(typeof context.genre === "string" ? { genre: context.genre } : {}) },
    creationDate: at,
    updatedDate: at,
    createdBy: identityRef(state, state.authenticatedUser),
    ...(typeof body.targetUrl === "string" ? { targetUrl: body.targetUrl } : {}),
    ...(typeof body.iterationId === "number" ? { iterationId: body.iterationId } : {}),
  };
  const list = state.statuses.get(pr.pullRequestId) ?? [];
  list.push(status);
  state.statuses.set(pr.pullRequestId, list);
  const self = `${pr.url}/statuses/${status.id}`;
  return { ...structuredClone(status), _links: { self: { href: self }, repository: { href: pr.repository.url } } };
}

export function getPullRequestStatuses(state: AzureEmulatorState, pr: PullRequestWire) {
  return listOf(structuredClone(state.statuses.get(pr.pullRequestId) ?? []));
}

// ---------------------------------------------------------------------------------------------------------
// Reverts: POST …/reverts, GET …/reverts/{id}, GET …/reverts?refName=
// ---------------------------------------------------------------------------------------------------------

const revertNotFound = (what: string) =>
  new ApiError(404, {
    $id: "1",
    innerException: null,
    message: `The revert ${what} was not found.`,
    typeName:
      "Microsoft.TeamFoundation.Git.Server.GitAsyncRefOperationNotFoundException, Microsoft.TeamFoundation.Git.Server",
    typeKey: "GitAsyncRefOperationNotFoundException",
    errorCode: 0,
    eventId: 3000,
  });

function revertWire(state: AzureEmulatorState, repo: EmulatorRepo, r: RevertRecord) {
  const url = `${state.orgUrl}/${state.project.id}/_apis/git/repositories/${repo.id}/reverts/${r.revertId}`;
  return {
    revertId: r.revertId,
    parameters: {
      repository: repository(state, repo),
      source:
        "pullRequestId" in r.source
          ? { pullRequestId: r.source.pullRequestId }
          : { commitList: r.source.commitList.map((id) => commitRef(state, repo, id)) },
      ontoRefName: r.ontoRefName,
      generatedRefName: r.generatedRefName,
    },
    status: r.status,
    ...(r.detailedStatus ? { detailedStatus: structuredClone(r.detailedStatus) } : {}),
    _links: { self: { href: url }, repository: { href: `${state.orgUrl}/_apis/git/repositories/${repo.id}` } },
    url,
  };
}

/** Checks what can be checked at once (the PR, the commits); the rest is found out while it runs. */
export function createRevert(state: AzureEmulatorState, repo: EmulatorRepo, rawBody: unknown) {
  const body = asObject(rawBody, "revertToCreate");
  const { generatedRefName, ontoRefName } = body;
  if (typeof generatedRefName !== "string" || !/^refs\/heads\/./.test(generatedRefName))
    throw invalidArgument("generatedRefName");
  if (typeof ontoRefName !== "string" || !/^refs\/heads\/./.test(ontoRefName)) throw invalidArgument("ontoRefName");
  const source = (body.source ?? {}) as Record<string, unknown>;
  let parsed: RevertRecord["source"];
  if (typeof source.pullRequestId === "number") {
    const pr = state.pullRequests.find((p) => p.pullRequestId === source.pullRequestId && p.repository.id === repo.id);
    if (!pr) throw errors.pullRequestNotFound();
    if (pr.status !== "completed")
      throw invalidArgument(
        `Pull request ${pr.pullRequestId} is ${pr.status}; only a completed pull request can be reverted.`,
      );
    parsed = { pullRequestId: pr.pullRequestId };
  } else if (Array.isArray(source.commitList) && source.commitList.length > 0) {
    const ids = source.commitList.map((c) =>
      String((c as { commitId?: unknown } | null)?.commitId ?? "").toLowerCase(),
    );
    const unknown = ids.find((id) => !repo.commits.has(id));
    if (unknown !== undefined) throw errors.commitNotFound(unknown, repo.name);
    parsed = { commitList: ids };
  } else {
    throw invalidArgument("source: give pullRequestId or commitList.");
  }
  const record: RevertRecord = {
    revertId: ++state.counters.revert,
    repoId: repo.id,
    generatedRefName,
    ontoRefName,
    source: parsed,
    status: "queued",
  };
  state.reverts.push(record);
  state.scheduler.after(0, () => {
    record.status = "inProgress";
    state.scheduler.after(0, () => runRevert(state, repo, record));
  });
  return revertWire(state, repo, record);
}

function fail(
  record: RevertRecord,
  status: AsyncStatusName,
  detailedStatus: NonNullable<RevertRecord["detailedStatus"]>,
): void {
  record.status = status;
  record.detailedStatus = detailedStatus;
}

/** Undoes the commits on top of the onto branch into a new branch; a path changed since is a conflict. */
function runRevert(state: AzureEmulatorState, repo: EmulatorRepo, record: RevertRecord): void {
  const onto = headOf(repo, record.ontoRefName);
  if (!onto)
    return fail(record, "failed", {
      status: "targetBranchDeleted",
      failureMessage: `The branch ${record.ontoRefName} no longer exists.`,
    });
  if (findBranch(repo, record.generatedRefName)) {
    return fail(record, "failed", {
      status: "refNameConflict",
      failureMessage: `The branch ${record.generatedRefName} already exists.`,
    });
  }
  const source = record.source;
  // A PR is undone by reverting what its completion put on the target: its squash or merge commit.
  const ids =
    "pullRequestId" in source
      ? [state.pullRequests.find((p) => p.pullRequestId === source.pullRequestId)?.lastMergeCommit?.commitId ?? ""]
      : source.commitList;
  const tree = new Map(treeAt(repo, onto));
  const conflicts: string[] = [];
  const subjects: string[] = [];
  for (const id of [...ids].reverse()) {
    const commit = repo.commits.get(id);
    if (!commit) return fail(record, "failed", { status: "other", failureMessage: `The commit ${id} was not found.` });
    subjects.push(commit.message.split("\n")[0] ?? "");
    const before = treeAt(repo, commit.parents[0]);
    for (const [path, after] of diffTrees(before, commit.tree)) {
      if (tree.get(path) !== (after ?? undefined)) {
        conflicts.push(path);
        continue;
      }
      const text = before.get(path);
      if (text === undefined) tree.delete(path);
      else tree.set(path, text);
    }
  }
  if (conflicts.length > 0) {
    return fail(record, "failed", {
      conflict: true,
      status: "other",
      failureMessage: `The revert conflicts with later changes to ${conflicts.join(", ")}.`,
    });
  }
  const message = `Revert "${subjects.join('", "')}"\n\nThis reverts ${ids.length > 1 ? "commits" : "commit"} ${ids.join(", ")}.`;
  const commit = newCommit(state, repo, { parents: [onto], tree, message });
  const moved = setRef(repo, record.generatedRefName, commit.commitId);
  record.status = "completed";
  record.detailedStatus = { progress: 1 };
  refsMoved(state, repo, [moved]);
}

export function getRevert(state: AzureEmulatorState, repo: EmulatorRepo, rawId: string) {
  const record = state.reverts.find((r) => r.repoId === repo.id && String(r.revertId) === rawId);
  if (!record) throw revertNotFound(rawId);
  return revertWire(state, repo, record);
}

export function getRevertForRefName(state: AzureEmulatorState, repo: EmulatorRepo, refName: string | undefined) {
  if (!refName) throw invalidArgument("refName");
  const record = state.reverts.filter((r) => r.repoId === repo.id && eq(r.generatedRefName, refName)).at(-1);
  if (!record) throw revertNotFound(`for ${refName}`);
  return revertWire(state, repo, record);
}
