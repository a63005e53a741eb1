/**
 * Routing and request handling of the Azure DevOps emulator's API routes (everything but discovery).
 *
 * Paths are matched case-insensitively on their literal segments, like the service. Both the project-scoped
 * form (`/{org}/{project}/_apis/git/…`, what the client sends when given a project) and the project-less form
 * (`/{org}/_apis/git/…`, repository by GUID, as in the `url` fields) are served.
 */
import { randomUUID } from "node:crypto";
import {
  blockers,
  complete,
  createPullRequestStatus,
  createRevert,
  getPullRequestStatuses,
  getRevert,
  getRevertForRefName,
  policyEvaluations,
  pullRequestOpened,
  refsMoved,
  tryAutoComplete,
} from "./azure-flow.js";
import { createPush, getItem, headOf, updateRefs } from "./azure-git.js";
import {
  EMPTY_GUID,
  GUID,
  asObject,
  clone,
  commitRef,
  errors,
  findBranch,
  findTeam,
  identityRef,
  invalidArgument,
  listOf,
  projectRef,
  pullRequestLinks,
  repository,
  repositoryRef,
  repoApiUrl,
  reviewerWire,
  sha1,
  tagDefinition,
  type AzureEmulatorState,
  type EmulatorCommit,
  type EmulatorIdentity,
  type EmulatorRepo,
  type EmulatorTeam,
  type PullRequestStatusName,
  type PullRequestWire,
  type ReviewerWire,
  type SeedChange,
} from "./azure-model.js";

/** The routes faults and call counts are keyed by. */
export type AzureRoute =
  | "createPullRequest"
  | "getPullRequests"
  | "getPullRequest"
  | "updatePullRequest"
  | "createReviewer"
  | "createLabel"
  | "getCommit"
  | "getChanges"
  | "getRefs"
  | "getRepository"
  | "getTeams"
  | "getTeamMembers"
  | "getItem"
  | "createPush"
  | "updateRefs"
  | "createRevert"
  | "getRevert"
  | "getPullRequestStatuses"
  | "createPullRequestStatus"
  | "getPolicyEvaluations"
  | "readIdentities"
  // Azure Boards (azure-boards.ts), for the tracker:
  | "getWorkItem"
  | "updateWorkItem"
  | "getComments"
  | "addComment"
  // Also served (not in the agent's path, handy for tests):
  | "getRevertForRefName"
  | "getRepositories"
  | "getPullRequestById"
  | "getReviewers"
  | "getLabels"
  | "getTeam"
  | "getProject";

export interface Reply {
  status: number;
  body?: unknown;
}

export interface Matched {
  route: AzureRoute | "unmatched";
  run: (body: unknown) => Reply;
}

/** Case-insensitive view of the query string (ASP.NET binds query parameters case-insensitively). */
export class Query {
  private readonly values = new Map<string, string>();
  constructor(params: URLSearchParams) {
    for (const [k, v] of params) this.values.set(k.toLowerCase(), v);
  }
  get(name: string): string | undefined {
    return this.values.get(name.toLowerCase());
  }
  int(name: string): number | undefined {
    const raw = this.get(name);
    if (raw === undefined || raw === "") return undefined;
    const n = Number(raw);
    if (!Number.isInteger(n) || n < 0) throw invalidArgument(`${name}`);
    return n;
  }
  bool(name: string): boolean | undefined {
    const raw = this.get(name);
    return raw === undefined ? undefined : raw.toLowerCase() === "true";
  }
}

const eq = (a: string, b: string) => a.toLowerCase() === b.toLowerCase();
const ok = (body: unknown, status = 200): Reply => ({ status, body });

/**
 * Finds the route for a path below the organization. Returns undefined when no route has this path (the
 * caller answers 404), or a Matched whose run throws 405 when the path exists but not for this verb.
 */
export function matchApiRoute(
  state: AzureEmulatorState,
  method: string,
  segs: string[],
  query: Query,
): Matched | undefined {
  const s = (i: number) => segs[i] ?? "";
  const verbs = (table: Partial<Record<string, Matched>>): Matched =>
    table[method] ?? {
      route: "unmatched",
      run: () => {
        throw errors.methodNotAllowed(method);
      },
    };

  // IMS: _apis/identities?searchFilter=General&filterValue=… (on Azure DevOps Services the vssps host; here, as on
  // Azure DevOps Server, the collection URL)
  if (eq(s(0), "_apis") && eq(s(1), "identities") && segs.length === 2) {
    return verbs({ GET: { route: "readIdentities", run: () => ok(readIdentities(state, query)) } });
  }

  // Core: _apis/projects/{projectId}[/teams[/{teamId}[/members]]]
  if (eq(s(0), "_apis") && eq(s(1), "projects") && segs.length >= 3) {
    const projectKey = s(2);
    if (segs.length === 3)
      return verbs({ GET: { route: "getProject", run: () => ok(teamProject(state, projectKey)) } });
    if (!eq(s(3), "teams")) return undefined;
    if (segs.length === 4)
      return verbs({ GET: { route: "getTeams", run: () => ok(getTeams(state, projectKey, query)) } });
    if (segs.length === 5)
      return verbs({
        GET: { route: "getTeam", run: () => ok(webApiTeam(state, requireTeam(state, projectKey, s(4)))) },
      });
    if (segs.length === 6 && eq(s(5), "members")) {
      return verbs({ GET: { route: "getTeamMembers", run: () => ok(getTeamMembers(state, projectKey, s(4), query)) } });
    }
    return undefined;
  }

  // Policy: {project}/_apis/policy/evaluations
  if (eq(s(1), "_apis") && eq(s(2), "policy")) {
    if (!eq(s(3), "evaluations") || segs.length !== 4) return undefined;
    return verbs({
      GET: {
        route: "getPolicyEvaluations",
        run: () => {
          requireProject(state, s(0));
          return ok(policyEvaluations(state, query));
        },
      },
    });
  }

  // Git: [{project}/]_apis/git/…
  let project: string | null;
  let rest: string[];
  if (eq(s(0), "_apis") && eq(s(1), "git")) {
    project = null;
    rest = segs.slice(2);
  } else if (eq(s(1), "_apis") && eq(s(2), "git")) {
    project = s(0);
    rest = segs.slice(3);
  } else {
    return undefined;
  }
  const r = (i: number) => rest[i] ?? "";

  if (eq(r(0), "pullrequests") && rest.length === 2) {
    return verbs({
      GET: { route: "getPullRequestById", run: () => ok(getPullRequestById(state, project, r(1), query)) },
    });
  }
  if (!eq(r(0), "repositories")) return undefined;
  if (rest.length === 1)
    return verbs({ GET: { route: "getRepositories", run: () => ok(getRepositories(state, project)) } });
  const repoKey = r(1);
  const repo = () => requireRepo(state, project, repoKey);
  if (rest.length === 2) return verbs({ GET: { route: "getRepository", run: () => ok(repository(state, repo())) } });

  const sub = r(2).toLowerCase();
  if (sub === "refs") {
    const pathFilter = rest.slice(3).join("/");
    return verbs({
      GET: {
        route: "getRefs",
        run: () => ok(getRefs(state, repo(), query.get("filter") ?? pathFilter, query.get("filterContains"))),
      },
      POST: { route: "updateRefs", run: (body) => moving(state, repo(), updateRefs(state, repo(), body), 200) },
    });
  }
  if (sub === "items")
    return verbs({ GET: { route: "getItem", run: () => ok(getItem(state, repo(), query, rest.slice(3).join("/"))) } });
  if (sub === "pushes" && rest.length === 3)
    return verbs({
      POST: { route: "createPush", run: (body) => moving(state, repo(), createPush(state, repo(), body), 201) },
    });
  if (sub === "reverts" && rest.length === 3) {
    return verbs({
      POST: { route: "createRevert", run: (body) => ok(createRevert(state, repo(), body), 201) },
      GET: { route: "getRevertForRefName", run: () => ok(getRevertForRefName(state, repo(), query.get("refName"))) },
    });
  }
  if (sub === "reverts" && rest.length === 4)
    return verbs({ GET: { route: "getRevert", run: () => ok(getRevert(state, repo(), r(3))) } });
  if (sub === "commits" && rest.length === 4)
    return verbs({ GET: { route: "getCommit", run: () => ok(getCommit(state, repo(), r(3), query)) } });
  if (sub === "commits" && rest.length === 5 && eq(r(4), "changes")) {
    return verbs({ GET: { route: "getChanges", run: () => ok(getChanges(state, repo(), r(3), query)) } });
  }
  if (sub !== "pullrequests") return undefined;
  if (rest.length === 3) {
    return verbs({
      POST: { route: "createPullRequest", run: (body) => ok(createPullRequest(state, repo(), body, query), 201) },
      GET: { route: "getPullRequests", run: () => ok(getPullRequests(state, repo(), query)) },
    });
  }
  const prId = r(3);
  if (rest.length === 4) {
    return verbs({
      GET: { route: "getPullRequest", run: () => ok(getPullRequest(state, repo(), prId, query)) },
      PATCH: { route: "updatePullRequest", run: (body) => ok(updatePullRequest(state, repo(), prId, body)) },
    });
  }
  if (eq(r(4), "reviewers") && rest.length === 5) {
    return verbs({
      GET: { route: "getReviewers", run: () => ok(listOf(clone(requirePullRequest(state, repo(), prId).reviewers))) },
    });
  }
  if (eq(r(4), "reviewers") && rest.length === 6) {
    return verbs({ PUT: { route: "createReviewer", run: (body) => ok(putReviewer(state, repo(), prId, r(5), body)) } });
  }
  if (eq(r(4), "statuses") && rest.length === 5) {
    return verbs({
      POST: {
        route: "createPullRequestStatus",
        run: (body) => ok(createPullRequestStatus(state, repo(), requirePullRequest(state, repo(), prId), body)),
      },
      GET: {
        route: "getPullRequestStatuses",
        run: () => ok(getPullRequestStatuses(state, requirePullRequest(state, repo(), prId))),
      },
    });
  }
  if (eq(r(4), "labels") && rest.length === 5) {
    return verbs({
      POST: { route: "createLabel", run: (body) => ok(createLabel(state, repo(), prId, body)) },
      GET: { route: "getLabels", run: () => ok(listOf(clone(requirePullRequest(state, repo(), prId).labels))) },
    });
  }
  return undefined;
}

/** Answers a write that moved refs, after the pull requests on them have followed. */
function moving(
  state: AzureEmulatorState,
  repo: EmulatorRepo,
  result: { answer: unknown; moved: string[] },
  status: number,
): Reply {
  refsMoved(state, repo, result.moved);
  return ok(result.answer, status);
}

// ---------------------------------------------------------------------------------------------------------
// Lookups
// ---------------------------------------------------------------------------------------------------------

function requireProject(state: AzureEmulatorState, key: string): void {
  if (!eq(key, state.project.name) && !eq(key, state.project.id)) throw errors.projectNotFound(key);
}

function requireRepo(state: AzureEmulatorState, project: string | null, key: string): EmulatorRepo {
  if (project !== null) requireProject(state, project);
  for (const repo of state.repos.values()) {
    if (eq(repo.id, key)) return repo;
    // A repository name needs the project in the route; the project-less form takes ids only.
    if (project !== null && eq(repo.name, key)) return repo;
  }
  throw errors.repositoryNotFound(key);
}

function requirePullRequest(state: AzureEmulatorState, repo: EmulatorRepo, rawId: string): PullRequestWire {
  const id = Number(rawId);
  if (!Number.isInteger(id) || id <= 0) throw invalidArgument("pullRequestId");
  const pr = state.pullRequests.find((p) => p.pullRequestId === id && p.repository.id === repo.id);
  if (!pr) throw errors.pullRequestNotFound();
  return pr;
}

function requireTeam(state: AzureEmulatorState, projectKey: string, teamKey: string): EmulatorTeam {
  requireProject(state, projectKey);
  const team = findTeam(state, teamKey);
  if (!team) throw errors.teamNotFound(teamKey);
  return team;
}

function requireIdentity(state: AzureEmulatorState, id: unknown): EmulatorIdentity {
  if (typeof id !== "string" || !GUID.test(id)) throw invalidArgument(`The identity id "${String(id)}" is not a GUID.`);
  const identity = state.identities.get(id.toLowerCase());
  if (!identity) throw errors.identityNotFound(id);
  return identity;
}

/** A JSON value that counts as "sent": the client drops undefined; null means "not set" to the service. */
const present = (v: unknown) => v !== undefined && v !== null;

const STATUS_NAMES: PullRequestStatusName[] = ["notSet", "active", "abandoned", "completed", "all"];

/** PullRequestStatus from a query value or body field: the TS enum number (1) or its name ("active"). */
function statusName(raw: unknown, parameter: string): PullRequestStatusName {
  if (typeof raw === "number" || (typeof raw === "string" && /^\d+$/.test(raw))) {
    const name = STATUS_NAMES[Number(raw)];
    if (name) return name;
  } else if (typeof raw === "string") {
    const name = STATUS_NAMES.find((n) => eq(n, raw.trim()));
    if (name) return name;
  }
  throw invalidArgument(parameter);
}

const MERGE_STRATEGIES = ["", "noFastForward", "squash", "rebase", "rebaseMerge"];

/** completionOptions as stored and echoed: enum numbers sent by TS callers become their names. */
function normalizeCompletionOptions(raw: Record<string, unknown>): Record<string, unknown> {
  const out = { ...raw };
  const strategy = out.mergeStrategy;
  if (typeof strategy === "number") {
    const name = MERGE_STRATEGIES[strategy];
    if (!name) throw invalidArgument("completionOptions.mergeStrategy");
    out.mergeStrategy = name;
  } else if (typeof strategy === "string") {
    const name = MERGE_STRATEGIES.find((n) => n !== "" && eq(n, strategy));
    if (!name) throw invalidArgument("completionOptions.mergeStrategy");
    out.mergeStrategy = name;
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------------
// Core
// ---------------------------------------------------------------------------------------------------------

function webApiTeam(state: AzureEmulatorState, team: EmulatorTeam) {
  return {
    id: team.id,
    name: team.name,
    url: `${state.orgUrl}/_apis/projects/${state.project.id}/teams/${team.id}`,
    description: team.description,
    identityUrl: `${state.orgUrl}/_apis/Identities/${team.id}`,
    projectName: state.project.name,
    projectId: state.project.id,
  };
}

function page<T>(items: T[], query: Query, defaultTop?: number, topName = "$top", skipName = "$skip"): T[] {
  const skip = query.int(skipName) ?? 0;
  const top = query.int(topName) ?? defaultTop;
  return items.slice(skip, top === undefined ? undefined : skip + top);
}

function getTeams(state: AzureEmulatorState, projectKey: string, query: Query) {
  requireProject(state, projectKey);
  const teams = [...state.teams.values()].sort((a, b) => a.name.localeCompare(b.name));
  return listOf(page(teams, query, 100).map((t) => webApiTeam(state, t)));
}

function getTeamMembers(state: AzureEmulatorState, projectKey: string, teamKey: string, query: Query) {
  const team = requireTeam(state, projectKey, teamKey);
  const members = team.members.flatMap((id) => {
    const identity = state.identities.get(id);
    return identity ? [{ identity: identityRef(state, identity), isTeamAdmin: false }] : [];
  });
  return listOf(page(members, query));
}

/**
 * The identity search (specification/ims/7.1, httpExamples/Identities/SearchIdentityByEmail.json and
 * SearchPCVUByName.json for the shape). `General` matches display names, account names and mail; like the people
 * picker it also returns identities whose names start with the value, so callers must pick the exact one.
 * `searchFilter` other than General/AccountName/DisplayName/MailAddress → 400.
 */
function readIdentities(state: AzureEmulatorState, query: Query) {
  const filter = query.get("searchFilter");
  const value = query.get("filterValue");
  if (filter === undefined || value === undefined || value === "")
    throw invalidArgument(filter === undefined ? "searchFilter" : "filterValue");
  if (!["general", "accountname", "displayname", "mailaddress"].includes(filter.toLowerCase()))
    throw invalidArgument("searchFilter");
  const key = value.toLowerCase();
  const teamOf = new Map([...state.teams.values()].map((t) => [t.id, t]));
  const found = [...state.identities.values()].filter((i) => {
    const team = teamOf.get(i.id);
    const names = [i.displayName, team ? team.name : i.uniqueName];
    return names.some((n) => n.toLowerCase().startsWith(key));
  });
  return listOf(
    found.map((i) => {
      const team = teamOf.get(i.id);
      const account = team ? team.name : i.uniqueName;
      const text = (v: string) => ({ $type: "System.String", $value: v });
      return {
        id: i.id,
        descriptor: team
          ? `Microsoft.TeamFoundation.Identity;${i.descriptor}`
          : `Microsoft.IdentityModel.Claims.ClaimsIdentity;${i.uniqueName}`,
        subjectDescriptor: i.descriptor,
        providerDisplayName: i.displayName,
        isActive: true,
        ...(i.isContainer ? { isContainer: true } : {}),
        members: [],
        memberOf: [],
        memberIds: [],
        properties: {
          SchemaClassName: text(i.isContainer ? "Group" : "User"),
          Account: text(account),
          ...(i.isContainer ? {} : { Mail: text(i.uniqueName) }),
        },
        resourceVersion: 2,
        metaTypeId: i.isContainer ? 255 : 0,
      };
    }),
  );
}

function teamProject(state: AzureEmulatorState, projectKey: string) {
  requireProject(state, projectKey);
  const team = state.defaultTeam;
  return {
    ...projectRef(state),
    _links: {
      self: { href: `${state.orgUrl}/_apis/projects/${state.project.id}` },
      collection: { href: `${state.orgUrl}/_apis/projectCollections/${sha1("collection").slice(0, 8)}` },
      web: { href: `${state.orgUrl}/${encodeURIComponent(state.project.name)}` },
    },
    defaultTeam: { id: team.id, name: team.name, url: webApiTeam(state, team).url },
  };
}

// ---------------------------------------------------------------------------------------------------------
// Repositories, refs, commits
// ---------------------------------------------------------------------------------------------------------

function getRepositories(state: AzureEmulatorState, project: string | null) {
  if (project !== null) requireProject(state, project);
  return listOf([...state.repos.values()].map((r) => repository(state, r)));
}

function getRefs(state: AzureEmulatorState, repo: EmulatorRepo, filter: string, filterContains: string | undefined) {
  // The filter is a prefix of the ref name without "refs/" ("heads/feature/x" also matches "heads/feature/xyz").
  const prefix = filter.replace(/^refs\//i, "").toLowerCase();
  const creator = identityRef(state, state.authenticatedUser);
  const value = [...repo.branches.entries()]
    .filter(([name]) => name.slice("refs/".length).toLowerCase().startsWith(prefix))
    .filter(([name]) => filterContains === undefined || name.toLowerCase().includes(filterContains.toLowerCase()))
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([name, objectId]) => ({
      name,
      objectId,
      creator,
      url: `${state.orgUrl}/${state.project.id}/_apis/git/repositories/${repo.id}/refs?filter=${encodeURIComponent(name.slice("refs/".length))}`,
    }));
  return listOf(value);
}

/**
 * The real service wants the full 40-hex id; the emulator also resolves a unique abbreviation (≥ 4 hex),
 * answering 400 when it is ambiguous.
 */
function resolveCommit(repo: EmulatorRepo, rawId: string): EmulatorCommit {
  const id = rawId.toLowerCase();
  if (!/^[0-9a-f]{4,40}$/.test(id)) throw invalidArgument(`commitId "${rawId}" is not a commit id.`);
  const exact = repo.commits.get(id);
  if (exact) return exact;
  const hits = [...repo.commits.values()].filter((c) => c.commitId.startsWith(id));
  if (hits.length > 1) throw invalidArgument(`The abbreviated commit id ${rawId} is ambiguous.`);
  const hit = hits[0];
  if (!hit) throw errors.commitNotFound(rawId, repo.name);
  return hit;
}

const capitalize = (changeType: string) =>
  changeType
    .split(",")
    .map((p) => p.trim())
    .map((p) => p.charAt(0).toUpperCase() + p.slice(1))
    .join(", ");

function normalizePath(path: string): string {
  return path.startsWith("/") ? path : `/${path}`;
}

function changeWire(state: AzureEmulatorState, repo: EmulatorRepo, commit: EmulatorCommit, change: SeedChange) {
  const path = normalizePath(change.path);
  const isDelete = change.changeType === "delete";
  const itemUrl = `${repoApiUrl(state, repo)}/items${encodeURI(path)}?versionType=Commit&version=${commit.commitId}`;
  return {
    item: {
      objectId: sha1("blob", isDelete ? (commit.parents[0] ?? "") : commit.commitId, path),
      ...(change.changeType !== "add"
        ? { originalObjectId: sha1("blob", commit.parents[0] ?? "", change.sourcePath ?? path) }
        : {}),
      gitObjectType: change.isFolder ? "tree" : "blob",
      commitId: commit.commitId,
      path,
      ...(change.isFolder ? { isFolder: true } : {}),
      url: itemUrl,
    },
    changeType: change.changeType,
    ...(change.sourcePath !== undefined ? { sourceServerItem: normalizePath(change.sourcePath) } : {}),
    url: itemUrl,
  };
}

function changeCounts(commit: EmulatorCommit): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const c of commit.changes) {
    const key = capitalize(c.changeType);
    counts[key] = (counts[key] ?? 0) + 1;
  }
  return counts;
}

function getCommit(state: AzureEmulatorState, repo: EmulatorRepo, rawId: string, query: Query) {
  const commit = resolveCommit(repo, rawId);
  const base = repoApiUrl(state, repo);
  const web = `${state.orgUrl}/${encodeURIComponent(state.project.name)}/_git/${encodeURIComponent(repo.name)}/commit/${commit.commitId}`;
  const changeCount = query.int("changeCount");
  return {
    treeId: commit.treeId,
    commitId: commit.commitId,
    author: commit.author,
    committer: commit.committer ?? commit.author,
    comment: commit.message,
    parents: commit.parents,
    ...(changeCount !== undefined && changeCount > 0
      ? {
          changeCounts: changeCounts(commit),
          changes: commit.changes.slice(0, changeCount).map((c) => changeWire(state, repo, commit, c)),
        }
      : {}),
    push: {
      pushedBy: identityRef(state, state.authenticatedUser),
      pushId: 1,
      date: commit.committer?.date ?? commit.author.date,
    },
    url: `${base}/commits/${commit.commitId}`,
    remoteUrl: web,
    _links: {
      self: { href: `${base}/commits/${commit.commitId}` },
      repository: { href: base },
      changes: { href: `${base}/commits/${commit.commitId}/changes` },
      web: { href: web },
      tree: { href: `${base}/trees/${commit.treeId}` },
    },
  };
}

function getChanges(state: AzureEmulatorState, repo: EmulatorRepo, rawId: string, query: Query) {
  const commit = resolveCommit(repo, rawId);
  const changes = page(commit.changes, query, undefined, "top", "skip");
  return { changeCounts: changeCounts(commit), changes: changes.map((c) => changeWire(state, repo, commit, c)) };
}

// ---------------------------------------------------------------------------------------------------------
// Pull requests
// ---------------------------------------------------------------------------------------------------------

const MAX_DESCRIPTION = 4000;
const LIST_DESCRIPTION = 400;

function findActiveDuplicate(
  state: AzureEmulatorState,
  repo: EmulatorRepo,
  source: string,
  target: string,
  exceptId?: number,
) {
  return state.pullRequests.find(
    (p) =>
      p.repository.id === repo.id &&
      p.status === "active" &&
      p.pullRequestId !== exceptId &&
      eq(p.sourceRefName, source) &&
      eq(p.targetRefName, target),
  );
}

/** Stored object → GET/PATCH/create answer: workItemRefs only on request, labels only when there are some. */
function answerOf(pr: PullRequestWire, opts: { workItemRefs: boolean }): Record<string, unknown> {
  const out = clone(pr) as unknown as Record<string, unknown>;
  if (!opts.workItemRefs || pr.workItemRefs.length === 0) delete out.workItemRefs;
  if (pr.labels.length === 0) delete out.labels;
  return out;
}

function createPullRequest(
  state: AzureEmulatorState,
  repo: EmulatorRepo,
  rawBody: unknown,
  query: Query,
): Record<string, unknown> {
  const body = asObject(rawBody, "gitPullRequestToCreate");
  const source = body.sourceRefName;
  const target = body.targetRefName;
  // Order of checks as in the decompiled controller (facts file): refs, title, description, source == target.
  if (typeof source !== "string" || source.trim() === "" || typeof target !== "string" || target.trim() === "") {
    throw invalidArgument("The source and target refs of a pull request must be specified.");
  }
  if (typeof body.title !== "string" || body.title.trim() === "")
    throw invalidArgument("The title of a pull request must not be empty.");
  const description = body.description === undefined || body.description === null ? "" : String(body.description);
  if (description.length > MAX_DESCRIPTION) throw errors.descriptionTooLong();
  if (eq(source, target)) throw invalidArgument("The source and target refs of a pull request must be different.");
  const sourceBranch = findBranch(repo, source);
  const targetBranch = findBranch(repo, target);
  if (!source.startsWith("refs/heads/") || !target.startsWith("refs/heads/") || !sourceBranch || !targetBranch)
    throw errors.refsNotBranches();
  if (findActiveDuplicate(state, repo, sourceBranch.name, targetBranch.name)) throw errors.pullRequestExists();

  const id = state.nextPullRequestId;
  const reviewers = parseReviewers(state, repo, id, body.reviewers);
  const labels = parseLabels(state, body.labels);
  const workItemRefs = parseWorkItemRefs(state, body.workItemRefs);
  state.nextPullRequestId += 1;

  const createdBy = identityRef(state, state.authenticatedUser);
  const lastMergeSourceCommit = commitRef(state, repo, sourceBranch.objectId);
  const lastMergeTargetCommit = commitRef(state, repo, targetBranch.objectId);
  const pr: PullRequestWire = {
    repository: repositoryRef(state, repo),
    pullRequestId: id,
    codeReviewId: id,
    status: "active",
    createdBy,
    creationDate: new Date().toISOString(),
    title: body.title,
    description,
    sourceRefName: sourceBranch.name,
    targetRefName: targetBranch.name,
    mergeStatus: "queued",
    isDraft: body.isDraft === true,
    mergeId: randomUUID(),
    lastMergeSourceCommit,
    lastMergeTargetCommit,
    reviewers,
    labels,
    workItemRefs,
    ...(present(body.mergeOptions) ? { mergeOptions: asObject(body.mergeOptions, "mergeOptions") } : {}),
    url: `${repoApiUrl(state, repo)}/pullRequests/${id}`,
    _links: {},
    supportsIterations: query.get("supportsIterations")?.toLowerCase() !== "false",
    artifactId: `vstfs:///Git/PullRequestId/${state.project.id}%2f${repo.id}%2f${id}`,
  };
  pr._links = pullRequestLinks(state, repo, pr);
  // The create answer shows the merge still queued (as in the httpExample); the service then merges
  // asynchronously, so later reads see "succeeded" (or "conflicts") and a lastMergeCommit.
  const answer = answerOf(pr, { workItemRefs: true });
  state.pullRequests.push(pr);
  pullRequestOpened(state, repo, pr);
  return answer;
}

function parseReviewers(state: AzureEmulatorState, repo: EmulatorRepo, prId: number, raw: unknown): ReviewerWire[] {
  if (!present(raw)) return [];
  if (!Array.isArray(raw)) throw invalidArgument("reviewers");
  const out: ReviewerWire[] = [];
  for (const item of raw) {
    const r = asObject(item, "reviewers");
    const identity = requireIdentity(state, r.id);
    if (out.some((x) => x.id === identity.id)) continue;
    const wire = reviewerWire(state, repo, prId, identity);
    if (r.isRequired === true) wire.isRequired = true;
    out.push(wire);
  }
  return out;
}

function parseLabels(state: AzureEmulatorState, raw: unknown) {
  if (!present(raw)) return [];
  if (!Array.isArray(raw)) throw invalidArgument("labels");
  const out: ReturnType<typeof tagDefinition>[] = [];
  for (const item of raw) {
    const name = asObject(item, "labels").name;
    if (typeof name !== "string" || name.trim() === "") throw invalidArgument("The label name must not be empty.");
    const tag = tagDefinition(state, name.trim());
    if (!out.some((t) => t.id === tag.id)) out.push(tag);
  }
  return out;
}

function parseWorkItemRefs(state: AzureEmulatorState, raw: unknown) {
  if (!present(raw)) return [];
  if (!Array.isArray(raw)) throw invalidArgument("workItemRefs");
  return raw.map((item) => {
    const id = asObject(item, "workItemRefs").id;
    if ((typeof id !== "string" && typeof id !== "number") || !/^\d+$/.test(String(id)))
      throw invalidArgument("workItemRefs.id");
    return { id: String(id), url: `${state.orgUrl}/_apis/wit/workItems/${id}` };
  });
}

function getPullRequest(state: AzureEmulatorState, repo: EmulatorRepo, rawId: string, query: Query) {
  return answerOf(requirePullRequest(state, repo, rawId), { workItemRefs: query.bool("includeWorkItemRefs") === true });
}

function getPullRequestById(state: AzureEmulatorState, project: string | null, rawId: string, query: Query) {
  if (project !== null) requireProject(state, project);
  const pr = state.pullRequests.find((p) => String(p.pullRequestId) === rawId);
  if (!pr) throw errors.pullRequestNotFound();
  return answerOf(pr, { workItemRefs: query.bool("includeWorkItemRefs") === true });
}

function getPullRequests(state: AzureEmulatorState, repo: EmulatorRepo, query: Query) {
  const c = (name: string) => query.get(`searchCriteria.${name}`);
  const rawStatus = c("status");
  let status = rawStatus === undefined ? "active" : statusName(rawStatus, "searchCriteria.status");
  if (status === "notSet") status = "active";
  const source = c("sourceRefName");
  const target = c("targetRefName");
  const creatorId = c("creatorId");
  const reviewerId = c("reviewerId");
  const matches = state.pullRequests
    .filter((p) => p.repository.id === repo.id)
    .filter((p) => status === "all" || p.status === status)
    .filter((p) => source === undefined || eq(p.sourceRefName, source))
    .filter((p) => target === undefined || eq(p.targetRefName, target))
    .filter((p) => creatorId === undefined || eq(p.createdBy.id, creatorId))
    .filter((p) => reviewerId === undefined || p.reviewers.some((r) => eq(r.id, reviewerId)))
    .sort((a, b) => b.pullRequestId - a.pullRequestId);
  const top = Math.min(query.int("$top") ?? 101, 1000);
  const value = page(matches, query, top).map((p) => {
    // The list call leaves out links, the artifact id and work items, and cuts descriptions to 400 characters.
    const item = answerOf(p, { workItemRefs: false });
    delete item._links;
    delete item.artifactId;
    item.description = p.description.slice(0, LIST_DESCRIPTION);
    return item;
  });
  return listOf(value);
}

/** Fields a PATCH must not carry (facts file: decompiled GitPullRequestsController, "InvalidPullRequestUpdate"). */
const FORBIDDEN_UPDATE_FIELDS = [
  "creationDate",
  "closedDate",
  "createdBy",
  "lastMergeCommit",
  "lastMergeTargetCommit",
  "mergeId",
  "pullRequestId",
  "repository",
  "sourceRefName",
  "reviewers",
  "lastMergeSourceCommit",
];

function updatePullRequest(state: AzureEmulatorState, repo: EmulatorRepo, rawId: string, rawBody: unknown) {
  const pr = requirePullRequest(state, repo, rawId);
  const body = asObject(rawBody, "gitPullRequestToUpdate");
  const newStatus = present(body.status) ? statusName(body.status, "status") : undefined;
  const forbidden = FORBIDDEN_UPDATE_FIELDS.filter(
    (f) => present(body[f]) && !(f === "lastMergeSourceCommit" && newStatus === "completed"),
  );
  if (forbidden.length > 0)
    throw invalidArgument(`Invalid pull request update. These properties cannot be updated: ${forbidden.join(", ")}.`);

  // Validate everything before changing anything.
  if (present(body.title) && (typeof body.title !== "string" || body.title.trim() === ""))
    throw invalidArgument("The title of a pull request must not be empty.");
  if (present(body.description) && String(body.description).length > MAX_DESCRIPTION) throw errors.descriptionTooLong();
  let retarget: { name: string; objectId: string } | undefined;
  if (present(body.targetRefName)) {
    const target = String(body.targetRefName);
    retarget = target.startsWith("refs/heads/") ? findBranch(repo, target) : undefined;
    if (!retarget) throw errors.refsNotBranches();
    if (eq(retarget.name, pr.sourceRefName))
      throw invalidArgument("The source and target refs of a pull request must be different.");
  }
  let completionOptions: Record<string, unknown> | undefined;
  if (present(body.completionOptions)) {
    completionOptions = normalizeCompletionOptions(asObject(body.completionOptions, "completionOptions"));
    if (JSON.stringify(completionOptions).length > MAX_DESCRIPTION) throw invalidArgument("completionOptions");
  }
  let autoCompleteSetBy: EmulatorIdentity | null | undefined;
  if (present(body.autoCompleteSetBy)) {
    const setBy = asObject(body.autoCompleteSetBy, "autoCompleteSetBy").id;
    if (typeof setBy !== "string" || !GUID.test(setBy)) throw invalidArgument("autoCompleteSetBy.id");
    if (eq(setBy, EMPTY_GUID)) autoCompleteSetBy = null;
    else if (eq(setBy, state.authenticatedUser.id)) autoCompleteSetBy = state.authenticatedUser;
    else
      throw invalidArgument(
        "autoCompleteSetBy.id must be the id of the caller (or the empty GUID to cancel auto-complete).",
      );
    if (autoCompleteSetBy && (completionOptions ?? pr.completionOptions)?.bypassPolicy === true) {
      throw invalidArgument("Policies cannot be bypassed when auto-complete is set.");
    }
  }
  if (newStatus !== undefined && newStatus !== pr.status) {
    if (newStatus === "notSet" || newStatus === "all") throw invalidArgument("status");
    if (pr.status === "completed") throw invalidArgument("A completed pull request cannot change status.");
    if (
      newStatus === "active" &&
      findActiveDuplicate(state, repo, pr.sourceRefName, retarget?.name ?? pr.targetRefName, pr.pullRequestId)
    ) {
      throw errors.pullRequestExists();
    }
    if (newStatus === "completed") {
      if (pr.status !== "active") throw invalidArgument("Only an active pull request can be completed.");
      const commitId = present(body.lastMergeSourceCommit)
        ? asObject(body.lastMergeSourceCommit, "lastMergeSourceCommit").commitId
        : undefined;
      if (typeof commitId !== "string" || commitId.length !== 40)
        throw invalidArgument(
          "lastMergeSourceCommit: the commit id of the source branch head is required to complete.",
        );
      const head = headOf(repo, pr.sourceRefName) ?? pr.lastMergeSourceCommit.commitId;
      if (commitId.toLowerCase() !== head) throw errors.sourceMoved(commitId, head);
      const why = blockers(state, repo, pr);
      if (why.length > 0) throw errors.policiesNotSatisfied(why);
    }
  }
  if (
    retarget &&
    pr.status === "active" &&
    findActiveDuplicate(state, repo, pr.sourceRefName, retarget.name, pr.pullRequestId)
  ) {
    throw errors.pullRequestExists();
  }

  if (typeof body.title === "string") pr.title = body.title;
  if (present(body.description)) pr.description = String(body.description);
  if (typeof body.isDraft === "boolean") pr.isDraft = body.isDraft;
  if (retarget) {
    pr.targetRefName = retarget.name;
    pr.lastMergeTargetCommit = commitRef(state, repo, retarget.objectId);
  }
  if (completionOptions) pr.completionOptions = completionOptions;
  if (present(body.mergeOptions)) pr.mergeOptions = asObject(body.mergeOptions, "mergeOptions");
  if (autoCompleteSetBy === null) delete pr.autoCompleteSetBy;
  else if (autoCompleteSetBy) pr.autoCompleteSetBy = identityRef(state, autoCompleteSetBy);
  if (newStatus === "completed" && pr.status !== "completed") {
    complete(state, repo, pr, state.authenticatedUser);
  } else if (newStatus !== undefined && newStatus !== pr.status) {
    if (newStatus === "active") {
      delete pr.closedDate;
      delete pr.closedBy;
    } else {
      pr.closedDate = new Date().toISOString();
      pr.closedBy = identityRef(state, state.authenticatedUser);
    }
    pr.status = newStatus;
  }
  if (retarget && pr.status === "active") pullRequestOpened(state, repo, pr);
  // The service completes asynchronously; completing within the answer lets callers see "merged at once".
  if (autoCompleteSetBy) tryAutoComplete(state, repo, pr);
  return answerOf(pr, { workItemRefs: false });
}

function putReviewer(
  state: AzureEmulatorState,
  repo: EmulatorRepo,
  rawPrId: string,
  reviewerId: string,
  rawBody: unknown,
) {
  const pr = requirePullRequest(state, repo, rawPrId);
  const body = present(rawBody) ? asObject(rawBody, "reviewer") : {};
  const identity = requireIdentity(state, reviewerId);
  const vote = body.vote;
  if (present(vote) && (typeof vote !== "number" || ![-10, -5, 0, 5, 10].includes(vote))) throw invalidArgument("vote");
  let reviewer = pr.reviewers.find((r) => r.id === identity.id);
  // Votes belong to the voter: someone else may be added with no vote, not vote for them. [emulator wording]
  if (typeof vote === "number" && vote !== (reviewer?.vote ?? 0) && identity.id !== state.authenticatedUser.id) {
    throw invalidArgument("A vote can only be cast by the reviewer themself.");
  }
  if (!reviewer) {
    reviewer = reviewerWire(state, repo, pr.pullRequestId, identity);
    pr.reviewers.push(reviewer);
  }
  if (typeof vote === "number") reviewer.vote = vote;
  if (typeof body.isRequired === "boolean") {
    if (body.isRequired) reviewer.isRequired = true;
    else delete reviewer.isRequired;
  }
  if (typeof body.isFlagged === "boolean") reviewer.isFlagged = body.isFlagged;
  if (typeof body.hasDeclined === "boolean") reviewer.hasDeclined = body.hasDeclined;
  const answer = clone(reviewer);
  tryAutoComplete(state, repo, pr);
  return answer;
}

function createLabel(state: AzureEmulatorState, repo: EmulatorRepo, rawPrId: string, rawBody: unknown) {
  const pr = requirePullRequest(state, repo, rawPrId);
  const name = asObject(rawBody, "label").name;
  if (typeof name !== "string" || name.trim() === "") throw invalidArgument("The label name must not be empty.");
  // Labels are de-duplicated case-insensitively: adding "Bug" to a PR labelled "bug" answers the existing label.
  const existing = pr.labels.find((l) => eq(l.name, name.trim()));
  if (existing) return clone(existing);
  const tag = tagDefinition(state, name.trim());
  pr.labels.push(tag);
  return clone(tag);
}
