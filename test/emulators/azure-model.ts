/**
 * In-memory state of the Azure DevOps emulator and the wire shapes built from it.
 *
 * Wire objects follow the definitions of specification/git/7.1/git.json (GitPullRequest, IdentityRefWithVote,
 * WebApiTagDefinition, GitRepository, GitRef, GitCommit, GitCommitChanges) and the 7.1 httpExamples; the Core
 * shapes (WebApiTeam, TeamMember, TeamProject) follow CoreInterfaces.d.ts / VSSInterfaces.d.ts of the client,
 * since the git specification does not define them.
 */
import { createHash, randomUUID } from "node:crypto";
import { applyFiles, changesBetween, treeHash } from "./azure-trees.js";
import type { CiCheckSpec } from "./ci.js";

// ---------------------------------------------------------------------------------------------------------
// Seeds (what tests pass in)
// ---------------------------------------------------------------------------------------------------------

export type SeedChangeType = "add" | "edit" | "delete" | "rename" | "edit, rename";

export interface SeedChange {
  /** Repository path, with or without the leading "/". */
  path: string;
  changeType: SeedChangeType;
  /** The old path of a rename. */
  sourcePath?: string;
  /** A folder entry (the real service lists added folders as `gitObjectType: "tree"`, `isFolder: true`). */
  isFolder?: boolean;
}

export interface SeedCommit {
  message: string;
  author: { name: string; email: string; date: string };
  /** Defaults to the author. */
  committer?: { name: string; email: string; date: string };
  parents: string[];
  /** What the changes routes list. Defaults to the adds, edits and deletes `files` makes against the first parent. */
  changes?: SeedChange[];
  /** File texts this commit sets on top of its first parent's tree (path → text, null deletes). Without it the tree is the parent's. */
  files?: Record<string, string | null>;
}

export interface RepoSeed {
  /** Branch name ("main", "feature/x" or "refs/heads/main") → full 40-hex commit id. */
  branches: Record<string, string>;
  /** Full 40-hex commit id → commit. */
  commits: Record<string, SeedCommit>;
  /** Defaults to "main" when seeded, else the first branch. */
  defaultBranch?: string;
}

export interface IdentityInput {
  displayName: string;
  uniqueName: string;
  /** Team name(s) to join; created when missing. Defaults to the project's default team ("{project} Team"). */
  team?: string | string[];
  /** A fixed id instead of a generated GUID. */
  id?: string;
}

// ---------------------------------------------------------------------------------------------------------
// State
// ---------------------------------------------------------------------------------------------------------

export interface EmulatorIdentity {
  id: string;
  displayName: string;
  uniqueName: string;
  descriptor: string;
  isContainer: boolean;
}

export interface EmulatorTeam {
  id: string;
  name: string;
  description: string;
  /** Identity ids of the members, in the order they joined. */
  members: string[];
  /** The team's own identity (teams are reviewers by this id, which equals the team id). */
  identity: EmulatorIdentity;
}

/** Repository path ("/deploy/app.yaml") → file text. */
export type Tree = ReadonlyMap<string, string>;

export interface EmulatorCommit extends Omit<SeedCommit, "files"> {
  commitId: string;
  treeId: string;
  changes: SeedChange[];
  /** Every file at this commit. */
  tree: Tree;
}

export interface EmulatorRepo {
  id: string;
  name: string;
  /** Full ref name ("refs/heads/main"). */
  defaultBranch: string;
  /** Full ref name → commit id. */
  branches: Map<string, string>;
  /** Lower-case commit id → commit. */
  commits: Map<string, EmulatorCommit>;
}

export interface EmulatorProject {
  id: string;
  name: string;
  description: string;
  revision: number;
  lastUpdateTime: string;
}

export interface TagDefinition {
  id: string;
  name: string;
  active: boolean;
  url: string;
}

export interface IdentityRefWire {
  displayName: string;
  url: string;
  _links: { avatar: { href: string } };
  id: string;
  uniqueName: string;
  imageUrl: string;
  descriptor: string;
  isContainer?: boolean;
}

export interface ReviewerWire extends IdentityRefWire {
  reviewerUrl: string;
  vote: number;
  hasDeclined: boolean;
  isFlagged: boolean;
  /** Present only when true, as on the wire. */
  isRequired?: boolean;
}

export interface CommitRefWire {
  commitId: string;
  url: string;
  author?: { name: string; email: string; date: string };
  committer?: { name: string; email: string; date: string };
  comment?: string;
}

export interface RepositoryRefWire {
  id: string;
  name: string;
  url: string;
  project: ProjectRefWire;
  remoteUrl: string;
}

export interface ProjectRefWire {
  id: string;
  name: string;
  description: string;
  url: string;
  state: "wellFormed";
  revision: number;
  visibility: "private";
  lastUpdateTime: string;
}

export type PullRequestStatusName = "notSet" | "active" | "abandoned" | "completed" | "all";
export type MergeStatusName = "notSet" | "queued" | "conflicts" | "succeeded" | "rejectedByPolicy" | "failure";

/** A pull request exactly as the emulator serializes it (the stored object carries every field). */
export interface PullRequestWire {
  repository: RepositoryRefWire;
  pullRequestId: number;
  codeReviewId: number;
  status: PullRequestStatusName;
  createdBy: IdentityRefWire;
  creationDate: string;
  closedDate?: string;
  closedBy?: IdentityRefWire;
  completionQueueTime?: string;
  title: string;
  description: string;
  sourceRefName: string;
  targetRefName: string;
  mergeStatus: MergeStatusName;
  isDraft: boolean;
  mergeId: string;
  lastMergeSourceCommit: CommitRefWire;
  lastMergeTargetCommit: CommitRefWire;
  lastMergeCommit?: CommitRefWire;
  reviewers: ReviewerWire[];
  labels: TagDefinition[];
  workItemRefs: { id: string; url: string }[];
  completionOptions?: Record<string, unknown>;
  autoCompleteSetBy?: IdentityRefWire;
  mergeOptions?: Record<string, unknown>;
  url: string;
  _links: Record<string, { href: string }>;
  supportsIterations: boolean;
  artifactId: string;
}

/** Runs work later on the emulator's clock; close() and reset() cancel what has not run. */
export interface Scheduler {
  after(ms: number, run: () => void): void;
}

export type EvaluationStatus = "queued" | "running" | "approved" | "rejected" | "notApplicable" | "broken";

/** One CI check of one pull request, served as a Build policy evaluation. */
export interface BuildEvaluation {
  evaluationId: string;
  configurationId: number;
  /** The check's name: the build policy's displayName. */
  name: string;
  status: EvaluationStatus;
  startedDate: string;
  completedDate?: string;
  /** Bumped when the head moves; a timer of an older run does nothing. */
  run: number;
  buildId: number;
  /** Why it was rejected (the check's `failure`). */
  failure?: string;
  sourceCommit: string;
  targetCommit: string;
}

/** What setCi scripted for a repository. */
export interface CiConfig {
  checks: CiCheckSpec[];
  /** A "Minimum number of reviewers" policy when > 0. */
  minimumApprovers: number;
  /** Policy configuration id per check name (and "" for the reviewer policy), stable across PRs. */
  configurationIds: Map<string, number>;
}

export type GitStatusStateName = "notSet" | "pending" | "succeeded" | "failed" | "error" | "notApplicable";

/** GitPullRequestStatus as stored (and listed). */
export interface PullRequestStatusWire {
  id: number;
  state: GitStatusStateName;
  description?: string;
  context: { name: string; genre?: string };
  creationDate: string;
  updatedDate: string;
  createdBy: IdentityRefWire;
  targetUrl?: string;
  iterationId?: number;
}

/** GitAsyncOperationStatus names; the client maps them to 1..5. */
export type AsyncStatusName = "queued" | "inProgress" | "completed" | "failed" | "abandoned";

export interface RevertRecord {
  revertId: number;
  repoId: string;
  generatedRefName: string;
  ontoRefName: string;
  source: { pullRequestId: number } | { commitList: string[] };
  status: AsyncStatusName;
  detailedStatus?: { conflict?: boolean; failureMessage?: string; progress?: number; status?: string };
}

export interface AzureEmulatorState {
  orgUrl: string;
  project: EmulatorProject;
  /** The identity the accepted PAT belongs to (createdBy of every pull request; the only valid autoCompleteSetBy). */
  authenticatedUser: EmulatorIdentity;
  /** The project's default team ("{project} Team"). */
  defaultTeam: EmulatorTeam;
  /** Keyed by the name given to seedRepo. */
  repos: Map<string, EmulatorRepo>;
  /** Every pull request, full stored objects, by ascending id. */
  pullRequests: PullRequestWire[];
  /** Users and team identities by id. */
  identities: Map<string, EmulatorIdentity>;
  /** Teams by id. */
  teams: Map<string, EmulatorTeam>;
  /** Project-wide tag definitions by lower-case name (labels share ids across pull requests, as tags do). */
  tags: Map<string, TagDefinition>;
  /** The id the next pull request gets (starts at 1). */
  nextPullRequestId: number;
  scheduler: Scheduler;
  /** Scripted CI by repository id. */
  ci: Map<string, CiConfig>;
  /** Build evaluations by pull request id. */
  evaluations: Map<number, BuildEvaluation[]>;
  /** Posted statuses by pull request id, oldest first. */
  statuses: Map<number, PullRequestStatusWire[]>;
  reverts: RevertRecord[];
  /** The last id handed out per kind. */
  counters: { push: number; status: number; revert: number; build: number; policyConfiguration: number };
}

// ---------------------------------------------------------------------------------------------------------
// Errors
// ---------------------------------------------------------------------------------------------------------

/** The JSON error body Azure DevOps returns: {$id, innerException, message, typeName, typeKey, errorCode, eventId}. */
export interface AzureErrorBody {
  $id: "1";
  innerException: null;
  message: string;
  typeName: string;
  typeKey: string;
  errorCode: number;
  eventId: number;
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly body: AzureErrorBody | null,
  ) {
    super(body?.message ?? `HTTP ${status}`);
  }
}

function errorBody(message: string, typeName: string, typeKey: string, eventId = 3000): AzureErrorBody {
  return { $id: "1", innerException: null, message, typeName, typeKey, errorCode: 0, eventId };
}

const GIT_SERVER = "Microsoft.TeamFoundation.Git.Server";
const SC_WEBSERVER = "Microsoft.TeamFoundation.SourceControl.WebServer";

/** InvalidArgumentValueException, the 400 the git controllers throw for bad input. */
export function invalidArgument(parameter: string): ApiError {
  return new ApiError(
    400,
    errorBody(
      `Invalid argument value.\r\nParameter name: ${parameter}`,
      `${SC_WEBSERVER}.InvalidArgumentValueException, ${SC_WEBSERVER}`,
      "InvalidArgumentValueException",
      0,
    ),
  );
}

/** A JSON object from a request body, else 400 naming the parameter. */
export function asObject(value: unknown, parameter: string): Record<string, unknown> {
  if (value === null || typeof value !== "object" || Array.isArray(value)) throw invalidArgument(parameter);
  return value as Record<string, unknown>;
}

export const errors = {
  /** Exact body from the facts file (scala-steward-org/scala-steward#3543). */
  descriptionTooLong: () =>
    invalidArgument("A description for a pull request must not be longer than 4000 characters."),
  /** Exact body from the facts file (shayki5/azure-devops-create-pr-task#31). */
  pullRequestExists: () =>
    new ApiError(
      409,
      errorBody(
        "TF401179: An active pull request for the source and target branch already exists.",
        `${GIT_SERVER}.GitPullRequestExistsException, ${GIT_SERVER}`,
        "GitPullRequestExistsException",
      ),
    ),
  /** Message verbatim (mburumaxwell/paklo#1365, renovatebot/renovate#6846); typeName/typeKey are the emulator's guess. */
  refsNotBranches: () =>
    new ApiError(
      400,
      errorBody(
        "TF401398: The pull request cannot be activated because the source and/or the target branch no longer exists, or the requested refs are not branches",
        `${GIT_SERVER}.GitPullRequestCannotBeActivated, ${GIT_SERVER}`,
        "GitPullRequestCannotBeActivated",
      ),
    ),
  /** Body as recorded in an XSOAR AzureDevOps test fixture (demisto/content). */
  pullRequestNotFound: () =>
    new ApiError(
      404,
      errorBody(
        "TF401180: The requested pull request was not found.",
        `${GIT_SERVER}.GitPullRequestNotFoundException, ${GIT_SERVER}`,
        "GitPullRequestNotFoundException",
      ),
    ),
  repositoryNotFound: (name: string) =>
    new ApiError(
      404,
      errorBody(
        `TF401019: The Git repository with name or identifier ${name} does not exist or you do not have permissions for the operation you are attempting.`,
        `${GIT_SERVER}.GitRepositoryNotFoundException, ${GIT_SERVER}`,
        "GitRepositoryNotFoundException",
      ),
    ),
  projectNotFound: (name: string) =>
    new ApiError(
      404,
      errorBody(
        `TF200016: The following project does not exist: ${name}. Verify that the name of the project is correct and that the project exists on the specified Azure DevOps Server.`,
        "Microsoft.TeamFoundation.Core.WebApi.ProjectDoesNotExistWithNameException, Microsoft.TeamFoundation.Core.WebApi",
        "ProjectDoesNotExistWithNameException",
        0,
      ),
    ),
  /** [uncertain] message of the real service for an unknown commit. */
  commitNotFound: (id: string, repo: string) =>
    new ApiError(
      404,
      errorBody(
        `TF401175:The version descriptor <Commit: ${id}> could not be resolved to a version in the repository ${repo}`,
        `${GIT_SERVER}.GitUnresolvableToCommitException, ${GIT_SERVER}`,
        "GitUnresolvableToCommitException",
      ),
    ),
  /** A branch or tag that does not resolve, for the items route. Shape as commitNotFound. */
  versionNotFound: (descriptor: string, repo: string) =>
    new ApiError(
      404,
      errorBody(
        `TF401175:The version descriptor ${descriptor} could not be resolved to a version in the repository ${repo}`,
        `${GIT_SERVER}.GitUnresolvableToCommitException, ${GIT_SERVER}`,
        "GitUnresolvableToCommitException",
      ),
    ),
  /** [uncertain] message of the real service for a path missing at a version. */
  itemNotFound: (path: string, repo: string, descriptor: string, commitId: string) =>
    new ApiError(
      404,
      errorBody(
        `TF401174: The item '${path}' could not be found in the repository '${repo}' at the version specified by '${descriptor}' (resolved to commit ${commitId}).`,
        `${GIT_SERVER}.GitItemNotFoundException, ${GIT_SERVER}`,
        "GitItemNotFoundException",
      ),
    ),
  /** Message and typeKey from the facts file (stale push). */
  staleRef: (refName: string) =>
    new ApiError(
      409,
      errorBody(
        `TF401028: The reference '${refName}' has already been updated by another client, so you cannot update it. Please try again.`,
        `${GIT_SERVER}.GitReferenceStaleException, ${GIT_SERVER}`,
        "GitReferenceStaleException",
      ),
    ),
  /**
   * Completing past unmet policies. The first sentence is the service's (azure-devops-cli-extension#548);
   * status, typeName and typeKey are the emulator's guess.
   */
  policiesNotSatisfied: (why: string[]) =>
    new ApiError(
      409,
      errorBody(
        `This pull request requires an explicit override to bypass policies that aren't currently passing. ${why.join(" ")}`,
        `${GIT_SERVER}.GitPullRequestPolicyNotSatisfiedException, ${GIT_SERVER}`,
        "GitPullRequestPolicyNotSatisfiedException",
      ),
    ),
  /** [emulator wording] Completing with a lastMergeSourceCommit that is no longer the source head. */
  sourceMoved: (expected: string, head: string) =>
    new ApiError(
      409,
      errorBody(
        `The source branch has moved: lastMergeSourceCommit is ${expected} but the branch is at ${head}. Read the pull request again.`,
        `${GIT_SERVER}.GitPullRequestStaleException, ${GIT_SERVER}`,
        "GitPullRequestStaleException",
      ),
    ),
  /** [emulator wording] */
  teamNotFound: (team: string) =>
    new ApiError(
      404,
      errorBody(
        `The team with id ${team} does not exist.`,
        "Microsoft.TeamFoundation.Core.WebApi.TeamNotFoundException, Microsoft.TeamFoundation.Core.WebApi",
        "TeamNotFoundException",
        0,
      ),
    ),
  /** [emulator wording] An identity id the emulator does not know. */
  identityNotFound: (id: string) => invalidArgument(`The identity ${id} could not be found.`),
  /** ASP.NET Web API's answer to a verb a route does not take. */
  methodNotAllowed: (method: string) =>
    new ApiError(
      405,
      errorBody(
        `The requested resource does not support http method '${method}'.`,
        "System.Web.Http.HttpResponseException, System.Web.Http",
        "HttpResponseException",
        0,
      ),
    ),
};

// ---------------------------------------------------------------------------------------------------------
// State construction and seeding
// ---------------------------------------------------------------------------------------------------------

const HEX40 = /^[0-9a-f]{40}$/i;
export const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
export const EMPTY_GUID = "00000000-0000-0000-0000-000000000000";

export function sha1(...parts: string[]): string {
  return createHash("sha1").update(parts.join("\0")).digest("hex");
}

function descriptor(kind: "aad" | "vssgp", id: string): string {
  return `${kind}.${Buffer.from(id).toString("base64url")}`;
}

export function createState(orgUrl: string, projectName: string, scheduler: Scheduler): AzureEmulatorState {
  const project: EmulatorProject = {
    id: randomUUID(),
    name: projectName,
    description: `${projectName} (Azure DevOps emulator)`,
    revision: 1,
    lastUpdateTime: new Date().toISOString(),
  };
  const authenticatedUserId = randomUUID();
  const authenticatedUser: EmulatorIdentity = {
    id: authenticatedUserId,
    displayName: "PR Creator Service",
    uniqueName: "pr-creator@acme.example",
    descriptor: descriptor("aad", authenticatedUserId),
    isContainer: false,
  };
  const state: AzureEmulatorState = {
    orgUrl,
    project,
    authenticatedUser,
    defaultTeam: undefined as unknown as EmulatorTeam,
    repos: new Map(),
    pullRequests: [],
    identities: new Map([[authenticatedUser.id, authenticatedUser]]),
    teams: new Map(),
    tags: new Map(),
    nextPullRequestId: 1,
    scheduler,
    ci: new Map(),
    evaluations: new Map(),
    statuses: new Map(),
    reverts: [],
    counters: { push: 0, status: 0, revert: 0, build: 0, policyConfiguration: 0 },
  };
  state.defaultTeam = addTeam(state, `${projectName} Team`, `The default project team.`);
  return state;
}

export function addTeam(state: AzureEmulatorState, name: string, description = ""): EmulatorTeam {
  const existing = findTeam(state, name);
  if (existing) return existing;
  const id = randomUUID();
  const identity: EmulatorIdentity = {
    id,
    displayName: `[${state.project.name}]\\${name}`,
    uniqueName: `vstfs:///Classification/TeamProject/${state.project.id}\\${name}`,
    descriptor: descriptor("vssgp", id),
    isContainer: true,
  };
  const team: EmulatorTeam = { id, name, description, members: [], identity };
  state.teams.set(id, team);
  state.identities.set(id, identity);
  return team;
}

export function findTeam(state: AzureEmulatorState, idOrName: string): EmulatorTeam | undefined {
  const key = idOrName.toLowerCase();
  for (const team of state.teams.values()) if (team.id === key || team.name.toLowerCase() === key) return team;
  return undefined;
}

export function addIdentity(state: AzureEmulatorState, input: IdentityInput): EmulatorIdentity {
  const id = (input.id ?? randomUUID()).toLowerCase();
  if (!GUID.test(id)) throw new Error(`addIdentity: id must be a GUID, got ${id}`);
  const identity: EmulatorIdentity = state.identities.get(id) ?? {
    id,
    displayName: input.displayName,
    uniqueName: input.uniqueName,
    descriptor: descriptor("aad", id),
    isContainer: false,
  };
  state.identities.set(id, identity);
  const teams =
    input.team === undefined ? [state.defaultTeam.name] : Array.isArray(input.team) ? input.team : [input.team];
  for (const name of teams) {
    const team = addTeam(state, name);
    if (!team.members.includes(id)) team.members.push(id);
  }
  return identity;
}

export function toRefName(branch: string): string {
  return branch.startsWith("refs/") ? branch : `refs/heads/${branch}`;
}

/**
 * Creates the repository, or merges more branches and commits into an existing one. Commits are stored
 * parents first, so each tree builds on its first parent's; seed a parent before (or with) its children,
 * since one not known yet counts as an empty tree.
 */
export function seedRepo(state: AzureEmulatorState, name: string, seed: RepoSeed): EmulatorRepo {
  let repo = state.repos.get(name);
  if (!repo) {
    repo = { id: randomUUID(), name, defaultBranch: "", branches: new Map(), commits: new Map() };
    state.repos.set(name, repo);
  }
  const pending = new Map<string, SeedCommit>();
  for (const [sha, commit] of Object.entries(seed.commits)) {
    if (!HEX40.test(sha)) throw new Error(`seedRepo(${name}): commit ids must be full 40-hex SHA-1s, got "${sha}"`);
    for (const parent of commit.parents) {
      if (!HEX40.test(parent))
        throw new Error(`seedRepo(${name}): parent ids must be full 40-hex SHA-1s, got "${parent}"`);
    }
    pending.set(sha.toLowerCase(), commit);
  }
  while (pending.size > 0) {
    const ready = [...pending].find(([, c]) => !pending.has(c.parents[0]?.toLowerCase() ?? ""));
    if (!ready) throw new Error(`seedRepo(${name}): the commits' first parents form a cycle`);
    const [sha, commit] = ready;
    pending.delete(sha);
    const parentTree = repo.commits.get(commit.parents[0]?.toLowerCase() ?? "")?.tree ?? new Map<string, string>();
    const tree = commit.files ? applyFiles(parentTree, Object.entries(commit.files)) : new Map(parentTree);
    const { files: _files, ...rest } = commit;
    repo.commits.set(sha, {
      ...rest,
      parents: commit.parents.map((p) => p.toLowerCase()),
      commitId: sha,
      treeId: commit.files ? treeHash(tree) : sha1("tree", sha),
      changes: commit.changes ?? changesBetween(parentTree, tree),
      tree,
    });
  }
  for (const [branch, sha] of Object.entries(seed.branches)) {
    if (!HEX40.test(sha))
      throw new Error(`seedRepo(${name}): branch ${branch} must point at a full 40-hex SHA-1, got "${sha}"`);
    repo.branches.set(toRefName(branch), sha.toLowerCase());
  }
  if (seed.defaultBranch) repo.defaultBranch = toRefName(seed.defaultBranch);
  if (!repo.defaultBranch)
    repo.defaultBranch = repo.branches.has("refs/heads/main")
      ? "refs/heads/main"
      : ([...repo.branches.keys()][0] ?? "refs/heads/main");
  return repo;
}

/** Branch lookup, case-insensitive like the service. Returns the stored ref name and its commit. */
export function findBranch(repo: EmulatorRepo, refName: string): { name: string; objectId: string } | undefined {
  const key = refName.toLowerCase();
  for (const [name, objectId] of repo.branches) if (name.toLowerCase() === key) return { name, objectId };
  return undefined;
}

// ---------------------------------------------------------------------------------------------------------
// Wire builders
// ---------------------------------------------------------------------------------------------------------

export function identityRef(state: AzureEmulatorState, identity: EmulatorIdentity): IdentityRefWire {
  const imageUrl = `${state.orgUrl}/_api/_common/identityImage?id=${identity.id}`;
  return {
    displayName: identity.displayName,
    url: `${state.orgUrl}/_apis/Identities/${identity.id}`,
    _links: { avatar: { href: `${state.orgUrl}/_apis/GraphProfile/MemberAvatars/${identity.descriptor}` } },
    id: identity.id,
    uniqueName: identity.uniqueName,
    imageUrl,
    descriptor: identity.descriptor,
    ...(identity.isContainer ? { isContainer: true } : {}),
  };
}

export function projectRef(state: AzureEmulatorState): ProjectRefWire {
  const p = state.project;
  return {
    id: p.id,
    name: p.name,
    description: p.description,
    url: `${state.orgUrl}/_apis/projects/${p.id}`,
    state: "wellFormed",
    revision: p.revision,
    visibility: "private",
    lastUpdateTime: p.lastUpdateTime,
  };
}

export function repoApiUrl(state: AzureEmulatorState, repo: EmulatorRepo): string {
  return `${state.orgUrl}/_apis/git/repositories/${repo.id}`;
}

export function repositoryRef(state: AzureEmulatorState, repo: EmulatorRepo): RepositoryRefWire {
  return {
    id: repo.id,
    name: repo.name,
    url: repoApiUrl(state, repo),
    project: projectRef(state),
    remoteUrl: `${state.orgUrl}/${encodeURIComponent(state.project.name)}/_git/${encodeURIComponent(repo.name)}`,
  };
}

/** GitRepository as GET …/repositories/{id} returns it. */
export function repository(state: AzureEmulatorState, repo: EmulatorRepo): Record<string, unknown> {
  const host = new URL(state.orgUrl);
  const org = host.pathname.replace(/^\/+|\/+$/g, "");
  const web = `${state.orgUrl}/${encodeURIComponent(state.project.name)}/_git/${encodeURIComponent(repo.name)}`;
  return {
    id: repo.id,
    name: repo.name,
    url: repoApiUrl(state, repo),
    project: projectRef(state),
    defaultBranch: repo.defaultBranch,
    size: 1024 * repo.commits.size,
    remoteUrl: web,
    sshUrl: `git@ssh.${host.hostname}:v3/${org}/${encodeURIComponent(state.project.name)}/${encodeURIComponent(repo.name)}`,
    webUrl: web,
    isDisabled: false,
    isInMaintenance: false,
  };
}

export function commitRef(state: AzureEmulatorState, repo: EmulatorRepo, commitId: string): CommitRefWire {
  return { commitId, url: `${repoApiUrl(state, repo)}/commits/${commitId}` };
}

export function reviewerWire(
  state: AzureEmulatorState,
  repo: EmulatorRepo,
  prId: number,
  identity: EmulatorIdentity,
): ReviewerWire {
  return {
    reviewerUrl: `${repoApiUrl(state, repo)}/pullRequests/${prId}/reviewers/${identity.id}`,
    vote: 0,
    hasDeclined: false,
    isFlagged: false,
    ...identityRef(state, identity),
  };
}

export function pullRequestLinks(
  state: AzureEmulatorState,
  repo: EmulatorRepo,
  pr: Pick<PullRequestWire, "pullRequestId" | "lastMergeSourceCommit" | "lastMergeTargetCommit" | "createdBy">,
) {
  const base = repoApiUrl(state, repo);
  const self = `${base}/pullRequests/${pr.pullRequestId}`;
  return {
    self: { href: self },
    repository: { href: base },
    workItems: { href: `${self}/workitems` },
    sourceBranch: { href: `${base}/refs` },
    targetBranch: { href: `${base}/refs` },
    statuses: { href: `${self}/statuses` },
    sourceCommit: { href: `${base}/commits/${pr.lastMergeSourceCommit.commitId}` },
    targetCommit: { href: `${base}/commits/${pr.lastMergeTargetCommit.commitId}` },
    createdBy: { href: pr.createdBy.url },
    iterations: { href: `${self}/iterations` },
  };
}

export function tagDefinition(state: AzureEmulatorState, name: string): TagDefinition {
  const key = name.toLowerCase();
  let tag = state.tags.get(key);
  if (!tag) {
    const id = randomUUID();
    tag = { id, name, active: true, url: `${state.orgUrl}/_apis/tagging/scopes/${state.project.id}/tags/${id}` };
    state.tags.set(key, tag);
  }
  return tag;
}

/** Deep copy through JSON, so responses never alias stored state. */
export function clone<T>(value: T): T {
  return JSON.parse(JSON.stringify(value)) as T;
}

export function listOf<T>(value: T[]): { count: number; value: T[] } {
  return { count: value.length, value };
}
