/**
 * State records and JSON representations for the GitHub emulator (test/emulators/github.ts).
 * Each `render*` function produces the object GitHub's REST API returns for the named schema of
 * @octokit/openapi's api.github.com description (every required property, with the right type).
 */
import { createHash } from "node:crypto";
import type { CiCheckSpec } from "./ci.js";
import { blobSha, snapshotOf, treeOf, treeSha, type Snapshot } from "./github-content.js";
import { commitsBetween, foldFiles, mergeBase, type SeedCommit, type SeedFile } from "./github-graph.js";

export interface UserRecord {
  login: string;
  id: number;
  node_id: string;
  type: "User" | "Organization" | "Bot";
  name: string | null;
  email: string | null;
  created_at: string;
}

export interface TeamRecord {
  org: string;
  slug: string;
  name: string;
  id: number;
  node_id: string;
  /** Logins of the members. */
  members: string[];
}

export interface LabelRecord {
  id: number;
  node_id: string;
  name: string;
  color: string;
  description: string | null;
  default: boolean;
}

export interface PullRecord {
  number: number;
  id: number;
  node_id: string;
  title: string;
  body: string | null;
  state: "open" | "closed";
  draft: boolean;
  /** Branch names and the tips recorded when the PR was created, updated or closed. */
  head: { ref: string; sha: string };
  base: { ref: string; sha: string };
  /** Login of the author (the token's user). */
  user: string;
  labels: LabelRecord[];
  /** Logins, in request order. */
  requested_reviewers: string[];
  /** Team slugs of the repository owner's organisation, in request order. */
  requested_teams: string[];
  created_at: string;
  updated_at: string;
  closed_at: string | null;
  maintainer_can_modify: boolean;
  merged_at: string | null;
  merge_commit_sha: string | null;
  /** Login of whoever merged it (the token's user, also for auto-merges). */
  merged_by: string | null;
  auto_merge: AutoMergeRecord | null;
  /** Logins that approved, in order. */
  approvals: string[];
}

export interface AutoMergeRecord {
  merge_method: "merge" | "squash" | "rebase";
  commit_title: string | null;
  commit_message: string | null;
  enabled_by: string;
  enabled_at: string;
}

/** A check run as GitHub Actions reports it. */
export interface CheckRunRecord {
  id: number;
  node_id: string;
  name: string;
  head_sha: string;
  status: "queued" | "in_progress" | "completed";
  conclusion: "success" | "failure" | null;
  started_at: string;
  completed_at: string | null;
  /** The run's output title (the failure text when it failed). */
  title: string | null;
}

export interface StatusRecord {
  id: number;
  node_id: string;
  sha: string;
  state: "error" | "failure" | "pending" | "success";
  context: string;
  description: string | null;
  target_url: string | null;
  created_at: string;
  updated_at: string;
  /** Login of the token's user who posted it. */
  creator: string;
}

/** Classic branch protection, reduced to what merges check. */
export interface ProtectionRule {
  requiredApprovals: number;
  /** Check run names or status contexts that must have succeeded. */
  requiredChecks: string[];
}

export interface RepoRecord {
  owner: string;
  name: string;
  full_name: string;
  id: number;
  node_id: string;
  private: boolean;
  description: string | null;
  default_branch: string;
  /** Branch name → tip sha. Tests may move tips directly. */
  branches: Map<string, string>;
  commits: Map<string, SeedCommit>;
  /** When set, only these logins (case-insensitive) can be requested as reviewers. */
  collaborators: string[] | undefined;
  /** Lower-cased name → label. */
  labels: Map<string, LabelRecord>;
  /** Pull requests in creation order; `number` is the index + 1. */
  pulls: PullRecord[];
  created_at: string;
  pushed_at: string;
  /** Tree sha → files (path → text), for every tree handed out or created. */
  trees: Map<string, Snapshot>;
  checkRuns: CheckRunRecord[];
  statuses: StatusRecord[];
  /** The checks CI runs on every PR head (see setCi). */
  ci: CiCheckSpec[];
  /** Branch name → protection. */
  protection: Map<string, ProtectionRule>;
  /** The "Allow auto-merge" setting. */
  allow_auto_merge: boolean;
  /** The "Automatically delete head branches" setting. */
  delete_branch_on_merge: boolean;
}

export interface EmulatorState {
  /** Lower-cased "owner/name" → repository. */
  repos: Map<string, RepoRecord>;
  /** Lower-cased login → user or organisation. */
  users: Map<string, UserRecord>;
  /** Lower-cased "org/slug" → team. */
  teams: Map<string, TeamRecord>;
  /** The login the token belongs to; author of every pull request created. */
  viewer: string;
  /** Next numeric id handed out to a user, repo, team, label or pull request. */
  nextId: number;
}

/** Where links point: `api` is the emulator's base URL, `html` the web UI's (https://github.com). */
export interface Links {
  api: string;
  html: string;
}

export function hex40(...parts: (string | number)[]): string {
  return createHash("sha1").update(parts.join("\u0000")).digest("hex");
}

/** GitHub's timestamp format: ISO 8601 in UTC without milliseconds. */
export function timestamp(date = new Date()): string {
  return date.toISOString().replace(/\.\d{3}Z$/, "Z");
}

export function nodeId(prefix: string, id: number): string {
  return `${prefix}_kwDO${Buffer.from(`emulated:${id}`).toString("base64url")}`;
}

/** Case-insensitive lookup key. */
export const key = (...parts: string[]): string => parts.join("/").toLowerCase();

export function renderSimpleUser(user: UserRecord, links: Links) {
  const api = `${links.api}/users/${user.login}`;
  return {
    login: user.login,
    id: user.id,
    node_id: user.node_id,
    avatar_url: `https://avatars.githubusercontent.com/u/${user.id}?v=4`,
    gravatar_id: "",
    url: api,
    html_url: `${links.html}/${user.login}`,
    followers_url: `${api}/followers`,
    following_url: `${api}/following{/other_user}`,
    gists_url: `${api}/gists{/gist_id}`,
    starred_url: `${api}/starred{/owner}{/repo}`,
    subscriptions_url: `${api}/subscriptions`,
    organizations_url: `${api}/orgs`,
    repos_url: `${api}/repos`,
    events_url: `${api}/events{/privacy}`,
    received_events_url: `${api}/received_events`,
    type: user.type,
    user_view_type: "public",
    site_admin: false,
  };
}

/** The "public-user" schema (GET /users/{username} for someone other than the viewer); it allows no extra properties. */
export function renderPublicUser(user: UserRecord, links: Links) {
  return {
    ...renderSimpleUser(user, links),
    name: user.name,
    company: null,
    blog: "",
    location: null,
    email: user.email,
    hireable: null,
    bio: null,
    twitter_username: null,
    public_repos: 0,
    public_gists: 0,
    followers: 0,
    following: 0,
    created_at: user.created_at,
    updated_at: user.created_at,
  };
}

/** A superset of the "repository" and "full-repository" schemas. */
export function renderRepository(repo: RepoRecord, owner: UserRecord, links: Links, viewerCanPush: boolean) {
  const api = `${links.api}/repos/${repo.full_name}`;
  const html = `${links.html}/${repo.full_name}`;
  const openPulls = repo.pulls.filter((p) => p.state === "open").length;
  return {
    id: repo.id,
    node_id: repo.node_id,
    name: repo.name,
    full_name: repo.full_name,
    private: repo.private,
    owner: renderSimpleUser(owner, links),
    html_url: html,
    description: repo.description,
    fork: false,
    url: api,
    archive_url: `${api}/{archive_format}{/ref}`,
    assignees_url: `${api}/assignees{/user}`,
    blobs_url: `${api}/git/blobs{/sha}`,
    branches_url: `${api}/branches{/branch}`,
    collaborators_url: `${api}/collaborators{/collaborator}`,
    comments_url: `${api}/comments{/number}`,
    commits_url: `${api}/commits{/sha}`,
    compare_url: `${api}/compare/{base}...{head}`,
    contents_url: `${api}/contents/{+path}`,
    contributors_url: `${api}/contributors`,
    deployments_url: `${api}/deployments`,
    downloads_url: `${api}/downloads`,
    events_url: `${api}/events`,
    forks_url: `${api}/forks`,
    git_commits_url: `${api}/git/commits{/sha}`,
    git_refs_url: `${api}/git/refs{/sha}`,
    git_tags_url: `${api}/git/tags{/sha}`,
    git_url: `git://github.com/${repo.full_name}.git`,
    issue_comment_url: `${api}/issues/comments{/number}`,
    issue_events_url: `${api}/issues/events{/number}`,
    issues_url: `${api}/issues{/number}`,
    keys_url: `${api}/keys{/key_id}`,
    labels_url: `${api}/labels{/name}`,
    languages_url: `${api}/languages`,
    merges_url: `${api}/merges`,
    milestones_url: `${api}/milestones{/number}`,
    notifications_url: `${api}/notifications{?since,all,participating}`,
    pulls_url: `${api}/pulls{/number}`,
    releases_url: `${api}/releases{/id}`,
    ssh_url: `git@github.com:${repo.full_name}.git`,
    stargazers_url: `${api}/stargazers`,
    statuses_url: `${api}/statuses/{sha}`,
    subscribers_url: `${api}/subscribers`,
    subscription_url: `${api}/subscription`,
    tags_url: `${api}/tags`,
    teams_url: `${api}/teams`,
    trees_url: `${api}/git/trees{/sha}`,
    clone_url: `${html}.git`,
    mirror_url: null,
    hooks_url: `${api}/hooks`,
    svn_url: html,
    homepage: null,
    language: null,
    forks_count: 0,
    stargazers_count: 0,
    watchers_count: 0,
    size: repo.commits.size,
    default_branch: repo.default_branch,
    open_issues_count: openPulls,
    is_template: false,
    topics: [] as string[],
    has_issues: true,
    has_projects: true,
    has_wiki: true,
    has_pages: false,
    has_downloads: true,
    has_discussions: false,
    archived: false,
    disabled: false,
    visibility: repo.private ? "private" : "public",
    pushed_at: repo.pushed_at,
    created_at: repo.created_at,
    updated_at: repo.pushed_at,
    permissions: { admin: false, maintain: false, push: viewerCanPush, triage: viewerCanPush, pull: true },
    allow_forking: true,
    allow_auto_merge: repo.allow_auto_merge,
    delete_branch_on_merge: repo.delete_branch_on_merge,
    web_commit_signoff_required: false,
    license: null,
    forks: 0,
    open_issues: openPulls,
    watchers: 0,
    network_count: 0,
    subscribers_count: 0,
  };
}

export function renderTeam(team: TeamRecord, orgId: number, links: Links) {
  const api = `${links.api}/organizations/${orgId}/team/${team.id}`;
  return {
    id: team.id,
    node_id: team.node_id,
    url: api,
    html_url: `${links.html}/orgs/${team.org}/teams/${team.slug}`,
    name: team.name,
    slug: team.slug,
    description: null,
    privacy: "closed",
    notification_setting: "notifications_enabled",
    permission: "pull",
    members_url: `${api}/members{/member}`,
    repositories_url: `${api}/repos`,
    type: "organization",
    organization_id: orgId,
    // "pull-request-simple" lists requested teams with the "team" schema, which requires `parent`.
    parent: null,
  };
}

/**
 * The "label" schema. `simple` is for labels inside "pull-request-simple" (list, request reviewers), whose
 * schema says `description: string` (not nullable): a null description is rendered as "" there.
 */
export function renderLabel(repo: RepoRecord, label: LabelRecord, links: Links, simple = false) {
  return {
    id: label.id,
    node_id: label.node_id,
    url: `${links.api}/repos/${repo.full_name}/labels/${encodeURIComponent(label.name)}`,
    name: label.name,
    color: label.color,
    default: label.default,
    description: simple ? (label.description ?? "") : label.description,
  };
}

/** The file's blob id at a commit: git's own when its text is known, a stand-in otherwise. */
function blobOf(repo: RepoRecord, sha: string, path: string): string {
  const text = snapshotOf(repo, sha).get(path);
  return text === undefined ? hex40("blob", repo.full_name, sha, path) : blobSha(text);
}

function renderFile(repo: RepoRecord, sha: string, file: SeedFile, links: Links) {
  const path = file.filename.split("/").map(encodeURIComponent).join("/");
  const out: Record<string, unknown> = {
    sha: file.status === "removed" ? null : blobOf(repo, sha, file.filename),
    filename: file.filename,
    status: file.status,
    additions: file.additions,
    deletions: file.deletions,
    changes: file.additions + file.deletions,
    blob_url: `${links.html}/${repo.full_name}/blob/${sha}/${path}`,
    raw_url: `${links.html}/${repo.full_name}/raw/${sha}/${path}`,
    contents_url: `${links.api}/repos/${repo.full_name}/contents/${path}?ref=${sha}`,
  };
  if (file.patch !== undefined) out.patch = file.patch;
  if (file.previous_filename !== undefined) out.previous_filename = file.previous_filename;
  return out;
}

/** The GitHub account whose email matches a git identity, as GitHub links commits to users. */
function accountFor(email: string, users: ReadonlyMap<string, UserRecord>): UserRecord | undefined {
  const lower = email.toLowerCase();
  for (const user of users.values()) if (user.email?.toLowerCase() === lower) return user;
  return undefined;
}

/** The "commit" schema; `files` and `stats` only with `withFiles` (compare lists commits without them). */
export function renderCommit(repo: RepoRecord, sha: string, state: EmulatorState, links: Links, withFiles: boolean) {
  const commit = repo.commits.get(sha);
  if (!commit) throw new Error(`emulator: commit ${sha} is not seeded in ${repo.full_name}`);
  const api = `${links.api}/repos/${repo.full_name}`;
  const committer = commit.committer ?? commit.author;
  const authorAccount = accountFor(commit.author.email, state.users);
  const committerAccount = accountFor(committer.email, state.users);
  const tree = treeOf(repo, sha).sha;
  const out: Record<string, unknown> = {
    sha,
    node_id: nodeId("C", repo.id) + sha.slice(0, 8),
    commit: {
      author: { ...commit.author },
      committer: { ...committer },
      message: commit.message,
      tree: { sha: tree, url: `${api}/git/trees/${tree}` },
      url: `${api}/git/commits/${sha}`,
      comment_count: 0,
      verification: { verified: false, reason: "unsigned", signature: null, payload: null, verified_at: null },
    },
    url: `${api}/commits/${sha}`,
    html_url: `${links.html}/${repo.full_name}/commit/${sha}`,
    comments_url: `${api}/commits/${sha}/comments`,
    author: authorAccount ? renderSimpleUser(authorAccount, links) : null,
    committer: committerAccount ? renderSimpleUser(committerAccount, links) : null,
    parents: commit.parents.map((parent) => ({
      sha: parent,
      url: `${api}/commits/${parent}`,
      html_url: `${links.html}/${repo.full_name}/commit/${parent}`,
    })),
  };
  if (withFiles) {
    const additions = commit.files.reduce((n, f) => n + f.additions, 0);
    const deletions = commit.files.reduce((n, f) => n + f.deletions, 0);
    out.stats = { total: additions + deletions, additions, deletions };
    out.files = commit.files.map((file) => renderFile(repo, sha, file, links));
  }
  return out;
}

/** The "branch-with-protection" schema. */
export function renderBranch(repo: RepoRecord, name: string, state: EmulatorState, links: Links) {
  const sha = repo.branches.get(name);
  if (sha === undefined) throw new Error(`emulator: no branch ${name}`);
  const api = `${links.api}/repos/${repo.full_name}/branches/${encodeURIComponent(name)}`;
  const rule = repo.protection.get(name);
  const contexts = rule?.requiredChecks ?? [];
  return {
    name,
    commit: renderCommit(repo, sha, state, links, false),
    _links: { self: api, html: `${links.html}/${repo.full_name}/tree/${name}` },
    protected: rule !== undefined,
    protection: {
      enabled: rule !== undefined,
      required_status_checks: {
        enforcement_level: contexts.length > 0 ? "non_admins" : "off",
        contexts,
        checks: contexts.map((context) => ({ context, app_id: null })),
      },
    },
    protection_url: `${api}/protection`,
  };
}

export interface Comparison {
  mergeBase: string;
  ahead: string[];
  behind: string[];
  files: SeedFile[];
}

/** Compares two resolved shas; undefined when they share no history. */
export function compare(repo: RepoRecord, baseSha: string, headSha: string): Comparison | undefined {
  const base = mergeBase(baseSha, headSha, repo.commits);
  if (base === undefined) return undefined;
  const ahead = commitsBetween(baseSha, headSha, repo.commits);
  const behind = commitsBetween(headSha, baseSha, repo.commits);
  return { mergeBase: base, ahead, behind, files: foldFiles(ahead, repo.commits) };
}

/** The "commit-comparison" schema for `base...head` (the given spellings are echoed in the URLs). */
export function renderComparison(
  repo: RepoRecord,
  spelled: { base: string; head: string },
  shas: { base: string; head: string },
  cmp: Comparison,
  state: EmulatorState,
  links: Links,
) {
  const range = `${spelled.base}...${spelled.head}`;
  const status =
    cmp.ahead.length === 0 && cmp.behind.length === 0
      ? "identical"
      : cmp.behind.length === 0
        ? "ahead"
        : cmp.ahead.length === 0
          ? "behind"
          : "diverged";
  return {
    url: `${links.api}/repos/${repo.full_name}/compare/${range}`,
    html_url: `${links.html}/${repo.full_name}/compare/${range}`,
    permalink_url: `${links.html}/${repo.full_name}/compare/${repo.owner}:${shas.base.slice(0, 7)}...${repo.owner}:${shas.head.slice(0, 7)}`,
    diff_url: `${links.html}/${repo.full_name}/compare/${range}.diff`,
    patch_url: `${links.html}/${repo.full_name}/compare/${range}.patch`,
    base_commit: renderCommit(repo, shas.base, state, links, false),
    merge_base_commit: renderCommit(repo, cmp.mergeBase, state, links, false),
    status,
    ahead_by: cmp.ahead.length,
    behind_by: cmp.behind.length,
    total_commits: cmp.ahead.length,
    commits: cmp.ahead.map((sha) => renderCommit(repo, sha, state, links, false)),
    files: cmp.files.map((file) => renderFile(repo, shas.head, file, links)),
  };
}

/** The current head/base tips of a PR: live branch tips while open, the recorded ones once closed or deleted. */
export function pullTips(repo: RepoRecord, pr: PullRecord): { head: string; base: string } {
  if (pr.state !== "open") return { head: pr.head.sha, base: pr.base.sha };
  return { head: repo.branches.get(pr.head.ref) ?? pr.head.sha, base: repo.branches.get(pr.base.ref) ?? pr.base.sha };
}

/**
 * The "pull-request" schema (`full`) or "pull-request-simple" (list and request-reviewers answers).
 * Without `mergeability` it is reported as GitHub does right after creation and once closed:
 * `mergeable: null`, `mergeable_state: "unknown"`.
 */
export function renderPull(
  repo: RepoRecord,
  pr: PullRecord,
  state: EmulatorState,
  links: Links,
  full: boolean,
  mergeability?: { mergeable: boolean; state: string },
) {
  const owner = state.users.get(repo.owner.toLowerCase());
  const author = state.users.get(pr.user.toLowerCase());
  if (!owner || !author) throw new Error("emulator: PR owner or author is not a known user");
  const api = `${links.api}/repos/${repo.full_name}`;
  const html = `${links.html}/${repo.full_name}/pull/${pr.number}`;
  const tips = pullTips(repo, pr);
  const repoJson = renderRepository(repo, owner, links, false);
  const ownerJson = renderSimpleUser(owner, links);
  const orgId = owner.id;
  const reviewers = pr.requested_reviewers
    .map((login) => state.users.get(login.toLowerCase()))
    .filter((u): u is UserRecord => u !== undefined);
  const teams = pr.requested_teams
    .map((slug) => state.teams.get(key(repo.owner, slug)))
    .filter((t): t is TeamRecord => t !== undefined);
  const association =
    repo.owner.toLowerCase() === author.login.toLowerCase()
      ? "OWNER"
      : repo.collaborators?.some((c) => c.toLowerCase() === author.login.toLowerCase())
        ? "COLLABORATOR"
        : "NONE";
  const out: Record<string, unknown> = {
    url: `${api}/pulls/${pr.number}`,
    id: pr.id,
    node_id: pr.node_id,
    html_url: html,
    diff_url: `${html}.diff`,
    patch_url: `${html}.patch`,
    issue_url: `${api}/issues/${pr.number}`,
    number: pr.number,
    state: pr.state,
    locked: false,
    title: pr.title,
    user: renderSimpleUser(author, links),
    body: pr.body,
    created_at: pr.created_at,
    updated_at: pr.updated_at,
    closed_at: pr.closed_at,
    merged_at: pr.merged_at,
    merge_commit_sha: pr.merge_commit_sha,
    assignee: null,
    assignees: [] as unknown[],
    requested_reviewers: reviewers.map((u) => renderSimpleUser(u, links)),
    requested_teams: teams.map((t) => renderTeam(t, orgId, links)),
    labels: pr.labels.map((label) => renderLabel(repo, label, links, !full)),
    milestone: null,
    draft: pr.draft,
    commits_url: `${api}/pulls/${pr.number}/commits`,
    review_comments_url: `${api}/pulls/${pr.number}/comments`,
    review_comment_url: `${api}/pulls/comments{/number}`,
    comments_url: `${api}/issues/${pr.number}/comments`,
    statuses_url: `${api}/statuses/${tips.head}`,
    head: { label: `${repo.owner}:${pr.head.ref}`, ref: pr.head.ref, sha: tips.head, user: ownerJson, repo: repoJson },
    base: { label: `${repo.owner}:${pr.base.ref}`, ref: pr.base.ref, sha: tips.base, user: ownerJson, repo: repoJson },
    _links: {
      self: { href: `${api}/pulls/${pr.number}` },
      html: { href: html },
      issue: { href: `${api}/issues/${pr.number}` },
      comments: { href: `${api}/issues/${pr.number}/comments` },
      review_comments: { href: `${api}/pulls/${pr.number}/comments` },
      review_comment: { href: `${api}/pulls/comments{/number}` },
      commits: { href: `${api}/pulls/${pr.number}/commits` },
      statuses: { href: `${api}/statuses/${tips.head}` },
    },
    author_association: association,
    auto_merge: pr.auto_merge && {
      enabled_by: renderSimpleUser(state.users.get(pr.auto_merge.enabled_by.toLowerCase())!, links),
      merge_method: pr.auto_merge.merge_method,
      commit_title: pr.auto_merge.commit_title ?? "",
      commit_message: pr.auto_merge.commit_message ?? "",
    },
    active_lock_reason: null,
  };
  if (full) {
    const cmp = compare(repo, tips.base, tips.head);
    const files = cmp?.files ?? [];
    const merger = pr.merged_by === null ? undefined : state.users.get(pr.merged_by.toLowerCase());
    Object.assign(out, {
      merged: pr.merged_at !== null,
      mergeable: mergeability?.mergeable ?? null,
      rebaseable: mergeability?.mergeable ?? null,
      mergeable_state: mergeability?.state ?? "unknown",
      merged_by: merger ? renderSimpleUser(merger, links) : null,
      comments: 0,
      review_comments: 0,
      maintainer_can_modify: pr.maintainer_can_modify,
      commits: cmp?.ahead.length ?? 0,
      additions: files.reduce((n, f) => n + f.additions, 0),
      deletions: files.reduce((n, f) => n + f.deletions, 0),
      changed_files: files.length,
    });
  }
  return out;
}

/** The "git-ref" schema for a branch. */
export function renderGitRef(repo: RepoRecord, branch: string, links: Links) {
  const sha = repo.branches.get(branch);
  if (sha === undefined) throw new Error(`emulator: no branch ${branch}`);
  const ref = `refs/heads/${branch}`;
  return {
    ref,
    node_id: `REF_${Buffer.from(`${repo.id}:${ref}`).toString("base64url")}`,
    url: `${links.api}/repos/${repo.full_name}/git/${ref}`,
    object: { type: "commit", sha, url: `${links.api}/repos/${repo.full_name}/git/commits/${sha}` },
  };
}

/** The "git-commit" schema. */
export function renderGitCommit(repo: RepoRecord, sha: string, links: Links) {
  const commit = repo.commits.get(sha);
  if (!commit) throw new Error(`emulator: no commit ${sha}`);
  const api = `${links.api}/repos/${repo.full_name}/git`;
  const tree = treeOf(repo, sha).sha;
  return {
    sha,
    node_id: nodeId("C", repo.id) + sha.slice(0, 8),
    url: `${api}/commits/${sha}`,
    html_url: `${links.html}/${repo.full_name}/commit/${sha}`,
    author: { ...commit.author },
    committer: { ...(commit.committer ?? commit.author) },
    message: commit.message,
    tree: { sha: tree, url: `${api}/trees/${tree}` },
    parents: commit.parents.map((parent) => ({
      sha: parent,
      url: `${api}/commits/${parent}`,
      html_url: `${links.html}/${repo.full_name}/commit/${parent}`,
    })),
    verification: { verified: false, reason: "unsigned", signature: null, payload: null, verified_at: null },
  };
}

/** The "git-tree" schema, listing the top level as GitHub does without `recursive`. */
export function renderGitTree(repo: RepoRecord, snapshot: Snapshot, links: Links) {
  const api = `${links.api}/repos/${repo.full_name}/git`;
  const sha = treeSha(snapshot);
  const dirs = new Map<string, Map<string, string>>();
  const entries: { path: string; mode: string; type: string; sha: string; size?: number; url: string }[] = [];
  for (const [path, text] of [...snapshot].sort(([a], [b]) => a.localeCompare(b))) {
    const slash = path.indexOf("/");
    if (slash < 0) {
      const blob = blobSha(text);
      entries.push({
        path,
        mode: "100644",
        type: "blob",
        sha: blob,
        size: Buffer.byteLength(text),
        url: `${api}/blobs/${blob}`,
      });
      continue;
    }
    const dir = path.slice(0, slash);
    if (!dirs.has(dir)) dirs.set(dir, new Map());
    dirs.get(dir)!.set(path.slice(slash + 1), text);
  }
  for (const [path, files] of dirs) {
    const sub = treeSha(files);
    if (!repo.trees.has(sub)) repo.trees.set(sub, files);
    entries.push({ path, mode: "040000", type: "tree", sha: sub, url: `${api}/trees/${sub}` });
  }
  entries.sort((a, b) => a.path.localeCompare(b.path));
  return { sha, url: `${api}/trees/${sha}`, truncated: false, tree: entries };
}

/** GitHub wraps base64 content at 60 characters. */
const wrap = (base64: string) => (base64.match(/.{1,60}/g) ?? []).join("\n") + (base64.length > 0 ? "\n" : "");

function contentLinks(repo: RepoRecord, path: string, ref: string, type: "file" | "dir", sha: string, links: Links) {
  const encoded = path.split("/").map(encodeURIComponent).join("/");
  const self = `${links.api}/repos/${repo.full_name}/contents/${encoded}?ref=${encodeURIComponent(ref)}`;
  const git = `${links.api}/repos/${repo.full_name}/git/${type === "file" ? "blobs" : "trees"}/${sha}`;
  const html = `${links.html}/${repo.full_name}/${type === "file" ? "blob" : "tree"}/${ref}/${encoded}`;
  return { url: self, git_url: git, html_url: html, _links: { self, git, html } };
}

/** The "content-file" schema; `ref` is echoed as the caller spelled it. */
export function renderContentFile(repo: RepoRecord, path: string, ref: string, text: string, links: Links) {
  const sha = blobSha(text);
  const bytes = Buffer.from(text, "utf8");
  return {
    type: "file",
    encoding: "base64",
    size: bytes.length,
    name: path.split("/").at(-1)!,
    path,
    content: wrap(bytes.toString("base64")),
    sha,
    download_url: `https://raw.githubusercontent.com/${repo.full_name}/${ref}/${path}`,
    ...contentLinks(repo, path, ref, "file", sha, links),
  };
}

/** The "content-directory" schema: the entries directly under `dir` ("" = the root). */
export function renderContentDirectory(repo: RepoRecord, dir: string, ref: string, snapshot: Snapshot, links: Links) {
  const prefix = dir === "" ? "" : `${dir}/`;
  const files = new Map<string, string>();
  const dirs = new Map<string, Map<string, string>>();
  for (const [path, text] of snapshot) {
    if (!path.startsWith(prefix)) continue;
    const rest = path.slice(prefix.length);
    const slash = rest.indexOf("/");
    if (slash < 0) files.set(rest, text);
    else {
      const name = rest.slice(0, slash);
      if (!dirs.has(name)) dirs.set(name, new Map());
      dirs.get(name)!.set(rest.slice(slash + 1), text);
    }
  }
  const entries = [
    ...[...files].map(([name, text]) => {
      const sha = blobSha(text);
      return {
        type: "file",
        size: Buffer.byteLength(text),
        name,
        path: prefix + name,
        sha,
        download_url: `https://raw.githubusercontent.com/${repo.full_name}/${ref}/${prefix}${name}`,
        ...contentLinks(repo, prefix + name, ref, "file", sha, links),
      };
    }),
    ...[...dirs].map(([name, sub]) => {
      const sha = treeSha(sub);
      return {
        type: "dir",
        size: 0,
        name,
        path: prefix + name,
        sha,
        download_url: null,
        ...contentLinks(repo, prefix + name, ref, "dir", sha, links),
      };
    }),
  ];
  return entries.sort((a, b) => a.name.localeCompare(b.name));
}

/** GitHub Actions, the app behind every emulated check run. */
const ACTIONS_OWNER: UserRecord = {
  login: "github",
  id: 9919,
  node_id: "MDEyOk9yZ2FuaXphdGlvbjk5MTk=",
  type: "Organization",
  name: "GitHub",
  email: null,
  created_at: "2008-05-11T04:37:31Z",
};

/** The "check-run" schema. */
export function renderCheckRun(repo: RepoRecord, run: CheckRunRecord, links: Links) {
  const html = `${links.html}/${repo.full_name}/actions/runs/${run.id}/job/${run.id}`;
  return {
    id: run.id,
    head_sha: run.head_sha,
    node_id: run.node_id,
    external_id: String(run.id),
    url: `${links.api}/repos/${repo.full_name}/check-runs/${run.id}`,
    html_url: html,
    details_url: html,
    status: run.status,
    conclusion: run.conclusion,
    started_at: run.started_at,
    completed_at: run.completed_at,
    output: {
      title: run.title,
      summary: run.title,
      text: null,
      annotations_count: 0,
      annotations_url: `${links.api}/repos/${repo.full_name}/check-runs/${run.id}/annotations`,
    },
    name: run.name,
    check_suite: { id: run.id + 1_000_000 },
    app: {
      id: 15368,
      slug: "github-actions",
      node_id: "MDM6QXBwMTUzNjg=",
      owner: renderSimpleUser(ACTIONS_OWNER, links),
      name: "GitHub Actions",
      description: "Automate your workflow from idea to production",
      external_url: "https://help.github.com/en/actions",
      html_url: "https://github.com/apps/github-actions",
      created_at: "2018-07-30T09:30:17Z",
      updated_at: "2019-12-10T19:04:12Z",
      permissions: { checks: "write", contents: "write", metadata: "read", pull_requests: "write", statuses: "write" },
      events: ["check_run", "pull_request", "push"],
    },
    pull_requests: repo.pulls
      .filter((p) => p.state === "open" && pullTips(repo, p).head === run.head_sha)
      .map((p) => ({
        id: p.id,
        number: p.number,
        url: `${links.api}/repos/${repo.full_name}/pulls/${p.number}`,
        head: {
          ref: p.head.ref,
          sha: pullTips(repo, p).head,
          repo: { id: repo.id, url: `${links.api}/repos/${repo.full_name}`, name: repo.name },
        },
        base: {
          ref: p.base.ref,
          sha: pullTips(repo, p).base,
          repo: { id: repo.id, url: `${links.api}/repos/${repo.full_name}`, name: repo.name },
        },
      })),
  };
}

/** The "status" schema (POST statuses) and the items of a combined status. */
export function renderStatus(repo: RepoRecord, status: StatusRecord, state: EmulatorState, links: Links) {
  const creator = state.users.get(status.creator.toLowerCase());
  return {
    url: `${links.api}/repos/${repo.full_name}/statuses/${status.sha}`,
    avatar_url: creator ? `https://avatars.githubusercontent.com/u/${creator.id}?v=4` : null,
    id: status.id,
    node_id: status.node_id,
    state: status.state,
    description: status.description,
    target_url: status.target_url,
    context: status.context,
    created_at: status.created_at,
    updated_at: status.updated_at,
    creator: creator ? renderSimpleUser(creator, links) : null,
  };
}

/** The latest status per context on a commit, newest first. */
export function latestStatuses(repo: RepoRecord, sha: string): StatusRecord[] {
  const latest = new Map<string, StatusRecord>();
  for (const status of repo.statuses) if (status.sha === sha) latest.set(status.context, status);
  return [...latest.values()].sort((a, b) => b.id - a.id);
}

/** The "combined-commit-status" schema: failure if any failed or errored, pending if any pending or none at all. */
export function renderCombinedStatus(repo: RepoRecord, sha: string, state: EmulatorState, links: Links) {
  const statuses = latestStatuses(repo, sha);
  const combined = statuses.some((s) => s.state === "failure" || s.state === "error")
    ? "failure"
    : statuses.length === 0 || statuses.some((s) => s.state === "pending")
      ? "pending"
      : "success";
  const owner = state.users.get(repo.owner.toLowerCase())!;
  return {
    state: combined,
    statuses: statuses.map((s) => ({ ...renderStatus(repo, s, state, links), required: false })),
    sha,
    total_count: statuses.length,
    repository: renderRepository(repo, owner, links, false),
    commit_url: `${links.api}/repos/${repo.full_name}/commits/${sha}`,
    url: `${links.api}/repos/${repo.full_name}/commits/${sha}/status`,
  };
}
