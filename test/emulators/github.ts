/**
 * A loopback emulator of the part of GitHub's API that pr-creator uses, for driving the unmodified
 * `@octokit/rest` client (REST and `octokit.graphql`) in tests:
 *
 *   const gh = await startGitHubEmulator();
 *   gh.seedRepo("acme/OrderService", { default_branch: "main", branches: { main: sha1 }, commits: { … } });
 *   const octokit = new Octokit({ auth: "test-token", baseUrl: gh.url });
 *
 * Routes (octokit method → HTTP): repos.get, repos.getBranch, repos.getCommit, repos.compareCommits (also
 * reached by compareCommitsWithBasehead), repos.getContent, repos.createCommitStatus,
 * repos.getCombinedStatusForRef, checks.listForRef, git.getRef / createRef / updateRef / deleteRef,
 * git.createTree, git.getCommit / createCommit, pulls.list / get / create / update / requestReviewers / merge,
 * issues.addLabels, users.getByUsername, and POST /graphql (github-graphql.ts: documents validated against
 * GitHub's schema; enablePullRequestAutoMerge, revertPullRequest and pull request reads). Any other path
 * answers 404 like GitHub does.
 *
 * Files: a seeded file's `content` is its text after that commit; commits made through the git data API keep
 * a tree (github-content.ts), so contents, trees and blob ids are real and a pushed commit's `files` are
 * diffed with line counts and a patch.
 *
 * After a PR opens (github-merge.ts): each check given to setCi becomes a check run on the PR's head
 * (in_progress, then success or failure after its delayMs, judged on the files the PR changes; again when the
 * head moves through git.updateRef). pulls.get computes mergeable / mergeable_state (dirty on conflicting
 * files, blocked by branch protection, unstable while a check is pending or failed, else clean); pulls.merge
 * squashes or merges onto the base and answers GitHub's 405s and 409. Auto-merge, once enabled, merges with
 * its method as soon as the PR is clean, also later; a failed check never merges it.
 *
 * Controls besides seedRepo / addUser / addTeam / inject: setCi(repo, checks), finishCi(), ciSettled(),
 * protect(repo, branch, { requiredApprovals?, requiredChecks? }), approve(repo, prNumber, login),
 * allowAutoMerge(repo, allowed), deleteBranchOnMerge(repo, enabled), fileAt(repo, branch, path),
 * branchHead(repo, branch). close() and reset() cancel running CI.
 *
 * Behaviour copied from GitHub (see /work/shared/reference/forge-api-facts.md and the OpenAPI description in
 * @octokit/openapi): error bodies `{ message, documentation_url, status }` (422s add `errors`), the duplicate
 * PR and title/body length 422s, branch and "No commits between" 422s, per-repo PR numbers from 1, 401 "Bad
 * credentials", the git data API's 422 messages, the merge refusals of branch protection, GraphQL errors
 * `{ data, errors: [{ type, path, locations, message }] }` with HTTP 200 (e.g. "Pull request Pull request is
 * in clean status"), and rate-limit headers on every answer. Response objects carry every property the
 * description marks required (checked by test/emulators/github.test.ts against the dereferenced description).
 *
 * Simplifications: one token and one viewer (`login`, who authors every PR and every API commit); no forks (a
 * head `other:branch` with another owner is an invalid head); only branch refs and blob tree entries; a
 * compare's and a merge's `files` are folded from the per-commit file lists; files seeded without `content`
 * have no text (getContent 404s, merges and CI do not see them); conflicts are per file, not per line;
 * mergeability is computed on every read (GitHub answers null until its background job ran, as the emulator
 * does in pulls.create's answer); rebase merges are not emulated; enabling auto-merge is refused only in
 * clean status (GitHub also refuses "unstable status" when no required check is left to wait for); CI starts
 * on PRs opened and heads moved through the API, not on state changed directly by a test.
 */
import { createPublicKey, randomBytes, verify as cryptoVerify } from "node:crypto";
import { createServer, STATUS_CODES, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { CiCheckSpec } from "./ci.js";
import { checkRoutes } from "./github-checks.js";
import { addIssue, issueRoutes, issuesOf, type IssueRecord } from "./github-issues.js";
import { snapshotOf } from "./github-content.js";
import { gitRoutes } from "./github-git.js";
import { hasCycle, resolveRef, type SeedCommit } from "./github-graph.js";
import { answerGraphQL } from "./github-graphql.js";
import {
  DOCS,
  errorBody,
  invalidRequest,
  isObject,
  notFound,
  validationFailed,
  type Answer,
  type GitHubRoute,
} from "./github-http.js";
import { createMergeEngine } from "./github-merge.js";
import {
  compare,
  hex40,
  key,
  nodeId,
  pullTips,
  renderBranch,
  renderCommit,
  renderComparison,
  renderLabel,
  renderPublicUser,
  renderPull,
  renderRepository,
  timestamp,
  type EmulatorState,
  type LabelRecord,
  type Links,
  type PullRecord,
  type RepoRecord,
  type TeamRecord,
  type UserRecord,
} from "./github-model.js";

export type { CiCheckSpec } from "./ci.js";
export type { FileStatus, GitIdentity, SeedCommit, SeedFile } from "./github-graph.js";
export type { GitHubRoute } from "./github-http.js";
export type { EmulatorState, LabelRecord, PullRecord, RepoRecord, TeamRecord, UserRecord } from "./github-model.js";

export type FaultRoute = GitHubRoute | "*";

export type Fault =
  /**
   * Answer with this status instead; `body` defaults to `{ message, documentation_url }`; `headers` override the
   * usual ones. With `after`, the request is carried out first (a write made, its answer lost).
   */
  | { status: number; body?: unknown; headers?: Record<string, string>; after?: boolean }
  /** Wait, then answer normally (on top of `latencyMs`). */
  | { delayMs: number }
  /** Never answer; the connection stays open until the client gives up or the emulator closes. */
  | { hang: true }
  /** Destroy the connection without answering; with `after`, once the request has been carried out. */
  | { reset: true; after?: boolean };

export interface RequestLogEntry {
  method: string;
  /** Path and query string as sent, e.g. "/repos/acme/OrderService/pulls?state=open&head=acme%3Afeature". */
  path: string;
  route: GitHubRoute | "unknown";
  /** The status answered; "reset" / "hang" for those faults, "aborted" when the client left first, null while pending. */
  status: number | "reset" | "hang" | "aborted" | null;
  /** Date.now() on arrival. */
  at: number;
  /** The parsed JSON request body, when there was one. */
  body?: unknown;
}

export interface RepoSeed {
  /** Must name one of `branches`. Default "main". */
  default_branch?: string;
  /** Branch name → tip sha (a key of `commits`). */
  branches: Record<string, string>;
  /** Sha → commit. Parents must be seeded too. */
  commits: Record<string, SeedCommit>;
  /** When given, only these logins can be requested as reviewers; otherwise any user added with addUser. */
  collaborators?: string[];
  private?: boolean;
  description?: string;
  /** Labels that exist before the test (addLabels creates missing ones with color "ededed"). */
  labels?: { name: string; color?: string; description?: string }[];
  /** The "Allow auto-merge" setting. Default true (GitHub's own default is false). */
  allow_auto_merge?: boolean;
  /** The "Automatically delete head branches" setting. Default false, as on GitHub. */
  delete_branch_on_merge?: boolean;
}

export interface GitHubEmulatorOptions {
  /** Delay before every answer, in ms. */
  latencyMs?: number;
  /** The only accepted token (`Authorization: token X` or `Bearer X`). Default "test-token". */
  token?: string;
  /** The login the token belongs to, author of created PRs. Default "pr-creator-bot". */
  login?: string;
  /**
   * A GitHub App: `POST /app/installations/{installationId}/access_tokens` with the app's JWT (RS256, signed
   * with the private key matching `publicKey`, `iss` the app id, at most 10 minutes long) answers an installation
   * token, which every other route then accepts besides `token`.
   */
  app?: { id: number | string; publicKey: string; installationId: number };
}

export interface GitHubEmulator {
  /** Base URL for `new Octokit({ baseUrl })`, e.g. "http://127.0.0.1:41234" (no trailing slash, no /api/v3). */
  url: string;
  /** The live state; tests may read it or change it (e.g. move a branch tip). */
  state: EmulatorState;
  /** Creates (or replaces) a repository; its owner becomes an organisation unless already added as a user. */
  seedRepo(fullName: string, seed: RepoSeed): RepoRecord;
  addUser(login: string, profile?: { name?: string; email?: string; type?: UserRecord["type"] }): UserRecord;
  /** Creates a team of `org` (an organisation, created when missing); unknown members are added as users. */
  addTeam(org: string, slug: string, members?: string[]): TeamRecord;
  /** Applies `fault` to the next `times` requests matching `route` ("*" = any), in injection order. */
  inject(route: FaultRoute, fault: Fault, times?: number): void;
  /** Drops every fault not yet used (the service "recovers"). */
  clearFaults(): void;
  /** Injected fault uses not yet consumed. */
  pendingFaults(): number;
  /** Every request, in arrival order. */
  requests: RequestLogEntry[];
  /** How many requests reached `route` (all requests without one). */
  calls(route?: FaultRoute): number;
  /** CI for every PR of the repository opened (or whose head moves through the API) from now on; [] = none. */
  setCi(fullName: string, checks: readonly CiCheckSpec[]): void;
  /** Resolves once no CI check is running (auto-merges they trigger have happened by then). */
  ciSettled(): Promise<void>;
  /** Settles every running check now instead of after its delayMs, for tests that must not race CI. */
  finishCi(): void;
  /** Classic branch protection for merges into `branch`: approvals (not the author's) and checks that must pass. */
  protect(fullName: string, branch: string, rule: { requiredApprovals?: number; requiredChecks?: string[] }): void;
  /** An approving review on PR `prNumber` by `login` (added as a user when unknown). */
  approve(fullName: string, prNumber: number, login: string): void;
  /** The repository's "Allow auto-merge" setting (default true). */
  allowAutoMerge(fullName: string, allowed: boolean): void;
  /** The repository's "Automatically delete head branches" setting (default false). */
  deleteBranchOnMerge(fullName: string, enabled: boolean): void;
  /** A file's text at a branch's tip; undefined when absent or seeded without content. */
  fileAt(fullName: string, branch: string, path: string): string | undefined;
  branchHead(fullName: string, branch: string): string | undefined;
  /** Installation tokens issued to the app so far, oldest first. */
  installationTokens: string[];
  /** The decoded payload of each app JWT the emulator accepted, oldest first. */
  appJwts: Record<string, unknown>[];
  /** Adds issue `number` (one no PR of the repository has) to a seeded repository, for the GitHub issues tracker. */
  addIssue(fullName: string, number: number, title?: string): IssueRecord;
  /** Forgets repos, users, teams, PRs, faults, running CI, the request log and rate-limit use. */
  reset(): void;
  close(): Promise<void>;
}

/** Fault presets shaped like GitHub's real rate-limit and outage answers. */
export const githubFaults = {
  /** Primary limit exhausted: 403 (or 429) with x-ratelimit-remaining 0 and a reset `resetInSeconds` from now. */
  primaryRateLimit(resetInSeconds = 60, status: 403 | 429 = 403): Fault {
    return {
      status,
      headers: {
        "x-ratelimit-remaining": "0",
        "x-ratelimit-reset": String(Math.floor(Date.now() / 1000) + resetInSeconds),
      },
      body: {
        message:
          "API rate limit exceeded for user ID 1. If you reach out to GitHub Support for help, please include the request ID EMULATED.",
        documentation_url: "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api",
        status: String(status),
      },
    };
  },
  /** Secondary (abuse) limit: 403 (or 429) with retry-after and GitHub's message. */
  secondaryRateLimit(retryAfterSeconds = 60, status: 403 | 429 = 403): Fault {
    return {
      status,
      headers: { "retry-after": String(retryAfterSeconds) },
      body: {
        message: "You have exceeded a secondary rate limit. Please wait a few minutes before you try again.",
        documentation_url:
          "https://docs.github.com/free-pro-team@latest/rest/overview/rate-limits-for-the-rest-api#about-secondary-rate-limits",
        status: String(status),
      },
    };
  },
  /** A bare 429 with retry-after (no rate-limit wording, remaining not 0). */
  tooManyRequests(retryAfterSeconds = 1): Fault {
    return { status: 429, headers: { "retry-after": String(retryAfterSeconds) } };
  },
  serverError(status: 500 | 502 | 503 | 504 = 502): Fault {
    return { status };
  },
};

/** GitHub's limits, counted in characters (code points), as Ruby's String#length does. */
export const TITLE_MAX = 256;
export const BODY_MAX = 65536;
const LABEL_NAME_MAX = 50;
const RATE_LIMIT = 5000;

interface Matched {
  route: GitHubRoute;
  owner: string;
  repo: string;
  /** Branch, ref, basehead, pull/issue number or username, by route. */
  arg: string;
}

const chars = (s: string): number => [...s].length;

/** Maps method + path to a route; undefined for anything not emulated. */
function match(method: string, segments: string[]): Matched | undefined {
  const [first, owner, repo, kind, ...rest] = segments;
  if (first === "users" && segments.length === 2 && method === "GET")
    return { route: "users.getByUsername", owner: "", repo: "", arg: owner! };
  if (first === "app" && owner === "installations" && kind === "access_tokens" && segments.length === 4)
    return method === "POST"
      ? { route: "apps.createInstallationAccessToken", owner: "", repo: "", arg: repo ?? "" }
      : undefined;
  if (first === "graphql" && segments.length === 1 && method === "POST")
    return { route: "graphql", owner: "", repo: "", arg: "" };
  if (first !== "repos" || owner === undefined || repo === undefined) return undefined;
  const base = { owner, repo };
  if (kind === undefined) return method === "GET" ? { route: "repos.get", ...base, arg: "" } : undefined;
  const tail = rest.join("/");
  if (kind === "contents" && method === "GET") return { route: "repos.getContent", ...base, arg: tail };
  if (kind === "statuses" && rest.length === 1 && method === "POST")
    return { route: "repos.createCommitStatus", ...base, arg: tail };
  if (kind === "git") return matchGit(method, rest, base);
  if (kind === "commits" && rest.length === 2 && method === "GET") {
    if (rest[1] === "status") return { route: "repos.getCombinedStatusForRef", ...base, arg: rest[0]! };
    if (rest[1] === "check-runs") return { route: "checks.listForRef", ...base, arg: rest[0]! };
  }
  if (method === "GET" && rest.length > 0) {
    if (kind === "branches") return { route: "repos.getBranch", ...base, arg: tail };
    if (kind === "commits") return { route: "repos.getCommit", ...base, arg: tail };
    if (kind === "compare") return { route: "repos.compareCommits", ...base, arg: tail };
  }
  if (kind === "pulls") {
    if (rest.length === 0 && method === "GET") return { route: "pulls.list", ...base, arg: "" };
    if (rest.length === 0 && method === "POST") return { route: "pulls.create", ...base, arg: "" };
    const [number, sub] = rest;
    if (number === undefined || !/^\d+$/.test(number)) return undefined;
    if (rest.length === 1 && method === "GET") return { route: "pulls.get", ...base, arg: number };
    if (rest.length === 1 && method === "PATCH") return { route: "pulls.update", ...base, arg: number };
    if (rest.length === 2 && sub === "requested_reviewers" && method === "POST")
      return { route: "pulls.requestReviewers", ...base, arg: number };
    if (rest.length === 2 && sub === "merge" && method === "PUT") return { route: "pulls.merge", ...base, arg: number };
  }
  if (kind === "issues" && rest.length === 2 && rest[1] === "labels" && method === "POST" && /^\d+$/.test(rest[0]!)) {
    return { route: "issues.addLabels", ...base, arg: rest[0]! };
  }
  if (kind === "issues" && rest.length >= 1 && /^\d+$/.test(rest[0]!)) {
    if (rest.length === 1 && method === "GET") return { route: "issues.get", ...base, arg: rest[0]! };
    if (rest.length === 2 && rest[1] === "comments" && method === "GET")
      return { route: "issues.listComments", ...base, arg: rest[0]! };
    if (rest.length === 2 && rest[1] === "comments" && method === "POST")
      return { route: "issues.createComment", ...base, arg: rest[0]! };
  }
  return undefined;
}

/** Routes under /repos/{owner}/{repo}/git/. */
function matchGit(method: string, rest: string[], base: { owner: string; repo: string }): Matched | undefined {
  const [kind, ...more] = rest;
  const arg = more.join("/");
  if (kind === "ref" && more.length > 0 && method === "GET") return { route: "git.getRef", ...base, arg };
  if (kind === "refs" && more.length === 0 && method === "POST") return { route: "git.createRef", ...base, arg };
  if (kind === "refs" && more.length > 0 && method === "PATCH") return { route: "git.updateRef", ...base, arg };
  if (kind === "refs" && more.length > 0 && method === "DELETE") return { route: "git.deleteRef", ...base, arg };
  if (kind === "trees" && more.length === 0 && method === "POST") return { route: "git.createTree", ...base, arg };
  if (kind === "commits" && more.length === 0 && method === "POST") return { route: "git.createCommit", ...base, arg };
  if (kind === "commits" && more.length === 1 && method === "GET") return { route: "git.getCommit", ...base, arg };
  return undefined;
}

export async function startGitHubEmulator(opts: GitHubEmulatorOptions = {}): Promise<GitHubEmulator> {
  const token = opts.token ?? "test-token";
  const latencyMs = opts.latencyMs ?? 0;
  const viewerLogin = opts.login ?? "pr-creator-bot";
  const state: EmulatorState = {
    repos: new Map(),
    users: new Map(),
    teams: new Map(),
    viewer: viewerLogin,
    nextId: 1000,
  };
  const requests: RequestLogEntry[] = [];
  const faults: { route: FaultRoute; fault: Fault; left: number }[] = [];
  const timers = new Set<NodeJS.Timeout>();
  /** CI timers, kept apart so that reset() cancels them without cutting requests in flight. */
  const ciTimers = new Map<NodeJS.Timeout, () => void>();
  let links: Links = { api: "", html: "https://github.com" };
  let used = 0;
  let windowStart = Math.floor(Date.now() / 1000);
  let requestSeq = 0;

  const newId = () => state.nextId++;
  const engine = createMergeEngine({
    state,
    newId,
    schedule(ms, run) {
      const timer = setTimeout(() => {
        ciTimers.delete(timer);
        run();
      }, ms);
      ciTimers.set(timer, run);
    },
  });
  const extraRoutes = {
    ...gitRoutes({ state, engine, links: () => links }),
    ...checkRoutes({ state, engine, newId, links: () => links }),
    ...issueRoutes({ state, newId, links: () => links }),
  };
  const stopCi = () => {
    for (const timer of ciTimers.keys()) clearTimeout(timer);
    ciTimers.clear();
    engine.clear();
  };

  const addUser: GitHubEmulator["addUser"] = (login, profile = {}) => {
    const existing = state.users.get(login.toLowerCase());
    if (existing) {
      if (profile.name !== undefined) existing.name = profile.name;
      if (profile.email !== undefined) existing.email = profile.email;
      if (profile.type !== undefined) existing.type = profile.type;
      return existing;
    }
    const id = newId();
    const user: UserRecord = {
      login,
      id,
      node_id: nodeId(profile.type === "Organization" ? "O" : "U", id),
      type: profile.type ?? "User",
      name: profile.name ?? null,
      email: profile.email ?? null,
      created_at: "2020-01-01T00:00:00Z",
    };
    state.users.set(login.toLowerCase(), user);
    return user;
  };

  const repoNamed = (fullName: string): RepoRecord => {
    const repo = state.repos.get(key(fullName));
    if (!repo) throw new Error(`emulator: no repository ${fullName}`);
    return repo;
  };

  const ensureOrg = (login: string) => state.users.get(login.toLowerCase()) ?? addUser(login, { type: "Organization" });

  const seedRepo: GitHubEmulator["seedRepo"] = (fullName, seed) => {
    const parts = fullName.split("/");
    if (parts.length !== 2 || !parts[0] || !parts[1]) throw new Error(`seedRepo: "${fullName}" is not "owner/name"`);
    const commits = new Map(Object.entries(seed.commits));
    for (const [sha, commit] of commits) {
      for (const parent of commit.parents)
        if (!commits.has(parent)) throw new Error(`seedRepo ${fullName}: commit ${sha} has unseeded parent ${parent}`);
      for (const file of commit.files) {
        if (file.status === "removed" && file.content !== undefined)
          throw new Error(`seedRepo ${fullName}: commit ${sha} removes ${file.filename} but gives it content`);
      }
    }
    if (hasCycle(commits)) throw new Error(`seedRepo ${fullName}: the parent graph has a cycle`);
    const branches = new Map(Object.entries(seed.branches));
    for (const [name, sha] of branches)
      if (!commits.has(sha)) throw new Error(`seedRepo ${fullName}: branch ${name} points at unseeded ${sha}`);
    const defaultBranch = seed.default_branch ?? "main";
    if (!branches.has(defaultBranch))
      throw new Error(`seedRepo ${fullName}: default branch ${defaultBranch} is not in branches`);
    const owner = ensureOrg(parts[0]);
    const id = newId();
    const labels = new Map<string, LabelRecord>();
    for (const label of seed.labels ?? []) {
      const labelId = newId();
      labels.set(label.name.toLowerCase(), {
        id: labelId,
        node_id: nodeId("LA", labelId),
        name: label.name,
        color: label.color ?? "ededed",
        description: label.description ?? null,
        default: false,
      });
    }
    const dates = [...commits.values()]
      .map((c) => Date.parse((c.committer ?? c.author).date))
      .filter((n) => !Number.isNaN(n));
    const repo: RepoRecord = {
      owner: owner.login,
      name: parts[1],
      full_name: `${owner.login}/${parts[1]}`,
      id,
      node_id: nodeId("R", id),
      private: seed.private ?? false,
      description: seed.description ?? null,
      default_branch: defaultBranch,
      branches,
      commits,
      collaborators: seed.collaborators ? [...seed.collaborators] : undefined,
      labels,
      pulls: [],
      created_at: "2020-01-01T00:00:00Z",
      pushed_at: dates.length > 0 ? timestamp(new Date(Math.max(...dates))) : "2020-01-01T00:00:00Z",
      trees: new Map(),
      checkRuns: [],
      statuses: [],
      ci: [],
      protection: new Map(),
      allow_auto_merge: seed.allow_auto_merge ?? true,
      delete_branch_on_merge: seed.delete_branch_on_merge ?? false,
    };
    state.repos.set(key(fullName), repo);
    return repo;
  };

  const addTeam: GitHubEmulator["addTeam"] = (org, slug, members = []) => {
    const orgUser = ensureOrg(org);
    for (const member of members) if (!state.users.has(member.toLowerCase())) addUser(member);
    const id = newId();
    const team: TeamRecord = {
      org: orgUser.login,
      slug,
      name: slug,
      id,
      node_id: nodeId("T", id),
      members: [...members],
    };
    state.teams.set(key(org, slug), team);
    return team;
  };

  const reset = () => {
    stopCi();
    state.repos.clear();
    state.users.clear();
    state.teams.clear();
    state.nextId = 1000;
    faults.length = 0;
    requests.length = 0;
    used = 0;
    windowStart = Math.floor(Date.now() / 1000);
    addUser(viewerLogin);
  };
  addUser(viewerLogin);

  const sleep = (ms: number) =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        timers.delete(timer);
        resolve();
      }, ms);
      timers.add(timer);
    });

  const takeFault = (route: GitHubRoute | "unknown"): Fault | undefined => {
    const index = faults.findIndex((f) => f.route === "*" || f.route === route);
    if (index < 0) return undefined;
    const entry = faults[index]!;
    entry.left -= 1;
    if (entry.left <= 0) faults.splice(index, 1);
    return entry.fault;
  };

  const standardHeaders = (): Record<string, string> => {
    const now = Math.floor(Date.now() / 1000);
    if (now >= windowStart + 3600) {
      windowStart = now;
      used = 0;
    }
    return {
      "content-type": "application/json; charset=utf-8",
      "x-github-api-version-selected": "2022-11-28",
      "x-github-media-type": "github.v3; format=json",
      "x-github-request-id": `E${(++requestSeq).toString(16).toUpperCase().padStart(4, "0")}:${process.pid.toString(16).toUpperCase()}:${hex40("req", requestSeq).slice(0, 12).toUpperCase()}`,
      "x-ratelimit-limit": String(RATE_LIMIT),
      "x-ratelimit-remaining": String(Math.max(RATE_LIMIT - used, 0)),
      "x-ratelimit-reset": String(windowStart + 3600),
      "x-ratelimit-used": String(used),
      "x-ratelimit-resource": "core",
    };
  };

  const send = (res: ServerResponse, entry: RequestLogEntry, answer: Answer) => {
    if (res.destroyed || res.writableEnded) {
      entry.status = "aborted";
      return;
    }
    entry.status = answer.status;
    const text = answer.body === undefined ? "" : JSON.stringify(answer.body);
    const headers: Record<string, string> = { ...standardHeaders(), "content-length": String(Buffer.byteLength(text)) };
    for (const [name, value] of Object.entries(answer.headers ?? {})) headers[name.toLowerCase()] = value;
    res.writeHead(answer.status, headers);
    res.end(text);
  };

  // ---- handlers -------------------------------------------------------------------------------------

  const findRepo = (m: Matched) => state.repos.get(key(m.owner, m.repo));
  const findPull = (repo: RepoRecord, number: string) => repo.pulls[Number(number) - 1];

  /** Type checks for string/boolean body fields, as GitHub's schema validation reports them. */
  const checkTypes = (
    route: GitHubRoute,
    body: Record<string, unknown>,
    strings: string[],
    booleans: string[],
    nullable: string[] = [],
  ): Answer | undefined => {
    for (const field of strings) {
      const v = body[field];
      if (v === undefined || (v === null && nullable.includes(field))) continue;
      if (typeof v !== "string")
        return invalidRequest(route, `For 'properties/${field}', ${JSON.stringify(v)} is not a string.`);
    }
    for (const field of booleans) {
      const v = body[field];
      if (v !== undefined && typeof v !== "boolean")
        return invalidRequest(route, `For 'properties/${field}', ${JSON.stringify(v)} is not a boolean.`);
    }
    return undefined;
  };

  const lengthErrors = (title: unknown, body: unknown) => {
    const errors: Record<string, string>[] = [];
    if (typeof title === "string" && chars(title) > TITLE_MAX) {
      errors.push({
        resource: "Issue",
        code: "custom",
        field: "title",
        message: `title is too long (maximum is ${TITLE_MAX} characters)`,
      });
    }
    if (typeof body === "string" && chars(body) > BODY_MAX) {
      errors.push({
        resource: "Issue",
        code: "custom",
        field: "body",
        message: `body is too long (maximum is ${BODY_MAX} characters)`,
      });
    }
    return errors;
  };

  const duplicateOf = (repo: RepoRecord, headRef: string, baseRef: string, except?: PullRecord) =>
    repo.pulls.find((p) => p !== except && p.state === "open" && p.head.ref === headRef && p.base.ref === baseRef);

  const duplicateAnswer = (route: GitHubRoute, repo: RepoRecord, headRef: string) =>
    validationFailed(route, [
      {
        resource: "PullRequest",
        code: "custom",
        message: `A pull request already exists for ${repo.owner}:${headRef}.`,
      },
    ]);

  const createPull = (m: Matched, repo: RepoRecord, body: unknown): Answer => {
    const route = m.route;
    if (!isObject(body)) return invalidRequest(route, "Body should be a JSON object.");
    const typeError = checkTypes(
      route,
      body,
      ["title", "head", "base", "body", "head_repo"],
      ["draft", "maintainer_can_modify"],
      ["body"],
    );
    if (typeError) return typeError;
    if (body.head === undefined) return invalidRequest(route, `"head" wasn't supplied.`);
    if (body.base === undefined) return invalidRequest(route, `"base" wasn't supplied.`);
    const title = body.title as string | undefined;
    if (title === undefined || title.trim() === "")
      return validationFailed(route, [{ resource: "PullRequest", code: "missing_field", field: "title" }]);
    const headSpelled = body.head as string;
    const baseRef = body.base as string;
    const colon = headSpelled.indexOf(":");
    const headOwner = colon >= 0 ? headSpelled.slice(0, colon) : repo.owner;
    const headRef = colon >= 0 ? headSpelled.slice(colon + 1) : headSpelled;
    const errors: Record<string, string>[] = [];
    if (headOwner.toLowerCase() !== repo.owner.toLowerCase() || !repo.branches.has(headRef))
      errors.push({ resource: "PullRequest", field: "head", code: "invalid" });
    if (!repo.branches.has(baseRef)) errors.push({ resource: "PullRequest", field: "base", code: "invalid" });
    errors.push(...lengthErrors(title, body.body));
    if (errors.length > 0) return validationFailed(route, errors);
    if (duplicateOf(repo, headRef, baseRef)) return duplicateAnswer(route, repo, headRef);
    const cmp = compare(repo, repo.branches.get(baseRef)!, repo.branches.get(headRef)!);
    if (!cmp) {
      return validationFailed(route, [
        {
          resource: "PullRequest",
          code: "custom",
          message: `The ${repo.owner}:${headRef} branch has no history in common with ${repo.owner}:${baseRef}`,
        },
      ]);
    }
    if (cmp.ahead.length === 0)
      return validationFailed(route, [
        { resource: "PullRequest", code: "custom", message: `No commits between ${baseRef} and ${headSpelled}` },
      ]);
    const pr = engine.open(repo, {
      head: headRef,
      base: baseRef,
      title,
      body: typeof body.body === "string" ? body.body : null,
      draft: body.draft === true,
    });
    return {
      status: 201,
      body: renderPull(repo, pr, state, links, true),
      headers: { location: `${links.api}/repos/${repo.full_name}/pulls/${pr.number}` },
    };
  };

  const updatePull = (m: Matched, repo: RepoRecord, pr: PullRecord, body: unknown): Answer => {
    const route = m.route;
    if (!isObject(body)) return invalidRequest(route, "Body should be a JSON object.");
    const typeError = checkTypes(route, body, ["title", "body", "state", "base"], ["maintainer_can_modify"], ["body"]);
    if (typeError) return typeError;
    if (body.state !== undefined && body.state !== "open" && body.state !== "closed") {
      return invalidRequest(
        route,
        `For 'properties/state', ${JSON.stringify(body.state)} is not one of ["open", "closed"].`,
      );
    }
    const errors: Record<string, string>[] = [];
    const baseRef = (body.base as string | undefined) ?? pr.base.ref;
    if (body.base !== undefined && !repo.branches.has(baseRef))
      errors.push({ resource: "PullRequest", field: "base", code: "invalid" });
    errors.push(...lengthErrors(body.title, body.body));
    if (errors.length > 0) return validationFailed(route, errors);
    const nextState = (body.state as PullRecord["state"] | undefined) ?? pr.state;
    if (nextState === "open") {
      if (pr.state === "closed" && !repo.branches.has(pr.head.ref))
        return validationFailed(route, [{ resource: "PullRequest", field: "head", code: "invalid" }]);
      if (duplicateOf(repo, pr.head.ref, baseRef, pr)) return duplicateAnswer(route, repo, pr.head.ref);
    }
    const tips = pullTips(repo, pr);
    if (typeof body.title === "string") pr.title = body.title;
    if (body.body !== undefined) pr.body = typeof body.body === "string" ? body.body : null;
    if (typeof body.maintainer_can_modify === "boolean") pr.maintainer_can_modify = body.maintainer_can_modify;
    pr.head.sha = tips.head;
    pr.base = { ref: baseRef, sha: repo.branches.get(baseRef) ?? tips.base };
    if (nextState !== pr.state) {
      pr.state = nextState;
      pr.closed_at = nextState === "closed" ? timestamp() : null;
    }
    pr.updated_at = timestamp();
    return { status: 200, body: renderPull(repo, pr, state, links, true, engine.mergeability(repo, pr)) };
  };

  const requestReviewers = (m: Matched, repo: RepoRecord, pr: PullRecord, body: unknown): Answer => {
    const route = m.route;
    if (!isObject(body)) return invalidRequest(route, "Body should be a JSON object.");
    const reviewers = body.reviewers ?? [];
    const teamSlugs = body.team_reviewers ?? [];
    if (!Array.isArray(reviewers) || !reviewers.every((r) => typeof r === "string"))
      return invalidRequest(route, "For 'properties/reviewers', it is not an array of strings.");
    if (!Array.isArray(teamSlugs) || !teamSlugs.every((r) => typeof r === "string"))
      return invalidRequest(route, "For 'properties/team_reviewers', it is not an array of strings.");
    if (body.reviewers === undefined && body.team_reviewers === undefined)
      return invalidRequest(route, `No subschema in "anyOf" matched.`);
    const notCollaborator = errorBody(
      `Reviews may only be requested from collaborators. One or more of the users or teams you specified is not a collaborator of the ${repo.full_name} repository.`,
      DOCS[route],
      422,
    );
    if (reviewers.some((login) => login.toLowerCase() === pr.user.toLowerCase()))
      return errorBody("Review cannot be requested from pull request author.", DOCS[route], 422);
    const users: UserRecord[] = [];
    for (const login of reviewers) {
      const user = state.users.get(login.toLowerCase());
      if (!user || user.type === "Organization") return notCollaborator;
      const isOwner = user.login.toLowerCase() === repo.owner.toLowerCase();
      if (
        repo.collaborators &&
        !isOwner &&
        !repo.collaborators.some((c) => c.toLowerCase() === user.login.toLowerCase())
      )
        return notCollaborator;
      users.push(user);
    }
    const teams: TeamRecord[] = [];
    for (const slug of teamSlugs) {
      const team = state.teams.get(key(repo.owner, slug));
      if (!team) return notCollaborator;
      teams.push(team);
    }
    for (const user of users)
      if (!pr.requested_reviewers.some((l) => l.toLowerCase() === user.login.toLowerCase()))
        pr.requested_reviewers.push(user.login);
    for (const team of teams)
      if (!pr.requested_teams.some((s) => s.toLowerCase() === team.slug.toLowerCase()))
        pr.requested_teams.push(team.slug);
    pr.updated_at = timestamp();
    return { status: 201, body: renderPull(repo, pr, state, links, false) };
  };

  // On a PR or an issue: both keep their labels and update time.
  const addLabels = (
    m: Matched,
    repo: RepoRecord,
    pr: { labels: LabelRecord[]; updated_at: string },
    body: unknown,
  ): Answer => {
    const route = m.route;
    const raw: unknown = Array.isArray(body) ? body : isObject(body) ? body.labels : undefined;
    if (!Array.isArray(raw) || raw.length === 0)
      return invalidRequest(
        route,
        `For 'properties/labels', ${JSON.stringify(raw ?? null)} should be a non-empty array.`,
      );
    const names: string[] = [];
    for (const item of raw) {
      const name =
        typeof item === "string" ? item : isObject(item) && typeof item.name === "string" ? item.name : undefined;
      if (name === undefined)
        return invalidRequest(route, `For 'items', ${JSON.stringify(item)} is not a string or an object with a name.`);
      if (name.trim() === "") return validationFailed(route, [{ resource: "Label", code: "invalid", field: "name" }]);
      if (chars(name) > LABEL_NAME_MAX)
        return validationFailed(route, [
          {
            resource: "Label",
            code: "custom",
            field: "name",
            message: `name is too long (maximum is ${LABEL_NAME_MAX} characters)`,
          },
        ]);
      names.push(name);
    }
    for (const name of names) {
      let label = repo.labels.get(name.toLowerCase());
      if (!label) {
        const id = newId();
        label = { id, node_id: nodeId("LA", id), name, color: "ededed", description: null, default: false };
        repo.labels.set(name.toLowerCase(), label);
      }
      if (!pr.labels.includes(label)) pr.labels.push(label);
    }
    pr.updated_at = timestamp();
    return { status: 200, body: pr.labels.map((label) => renderLabel(repo, label, links)) };
  };

  const listPulls = (m: Matched, repo: RepoRecord, query: URLSearchParams, path: string): Answer => {
    const route = m.route;
    const stateFilter = query.get("state") ?? "open";
    if (!["open", "closed", "all"].includes(stateFilter))
      return invalidRequest(route, `For 'state', "${stateFilter}" is not one of ["open", "closed", "all"].`);
    let pulls = repo.pulls.filter((p) => stateFilter === "all" || p.state === stateFilter);
    const head = query.get("head");
    // GitHub filters on head only in the documented "user:ref-name" form; a bare branch name is ignored.
    if (head !== null && head.includes(":")) {
      const colon = head.indexOf(":");
      const owner = head.slice(0, colon).toLowerCase();
      const ref = head.slice(colon + 1);
      pulls = pulls.filter((p) => repo.owner.toLowerCase() === owner && p.head.ref === ref);
    }
    const base = query.get("base");
    if (base !== null) pulls = pulls.filter((p) => p.base.ref === base);
    const sort = query.get("sort") ?? "created";
    const direction = query.get("direction") ?? (sort === "created" ? "desc" : "asc");
    const field = sort === "updated" ? "updated_at" : "created_at";
    pulls = [...pulls].sort((a, b) => a[field].localeCompare(b[field]) || a.number - b.number);
    if (direction === "desc") pulls.reverse();
    const perPage = Math.min(Math.max(Number(query.get("per_page") ?? 30) || 30, 1), 100);
    const page = Math.max(Number(query.get("page") ?? 1) || 1, 1);
    const last = Math.max(Math.ceil(pulls.length / perPage), 1);
    const headers: Record<string, string> = {};
    if (last > 1) {
      const pageUrl = (n: number) => {
        const q = new URLSearchParams(query);
        q.set("per_page", String(perPage));
        q.set("page", String(n));
        return `<${links.api}${path}?${q.toString()}>`;
      };
      const rels: string[] = [];
      if (page > 1) rels.push(`${pageUrl(page - 1)}; rel="prev"`);
      if (page < last) rels.push(`${pageUrl(page + 1)}; rel="next"`, `${pageUrl(last)}; rel="last"`);
      if (page > 1) rels.push(`${pageUrl(1)}; rel="first"`);
      headers.link = rels.join(", ");
    }
    const slice = pulls.slice((page - 1) * perPage, page * perPage);
    return { status: 200, body: slice.map((p) => renderPull(repo, p, state, links, false)), headers };
  };

  const compareCommits = (m: Matched, repo: RepoRecord): Answer => {
    const route = m.route;
    const at = m.arg.indexOf("...");
    if (at < 0) return notFound(route);
    const strip = (spec: string) => {
      const colon = spec.indexOf(":");
      if (colon < 0) return spec;
      return spec.slice(0, colon).toLowerCase() === repo.owner.toLowerCase() ? spec.slice(colon + 1) : undefined;
    };
    const spelled = { base: m.arg.slice(0, at), head: m.arg.slice(at + 3) };
    const baseRef = strip(spelled.base);
    const headRef = strip(spelled.head);
    if (baseRef === undefined || headRef === undefined) return notFound(route);
    const base = resolveRef(baseRef, repo.branches, repo.commits);
    const head = resolveRef(headRef, repo.branches, repo.commits);
    if (!("sha" in base) || !("sha" in head)) return notFound(route);
    const cmp = compare(repo, base.sha, head.sha);
    if (!cmp) return notFound(route, `No common ancestor between ${spelled.base} and ${spelled.head}.`);
    return {
      status: 200,
      body: renderComparison(repo, spelled, { base: base.sha, head: head.sha }, cmp, state, links),
    };
  };

  const handle = (m: Matched, query: URLSearchParams, path: string, body: unknown): Answer | Promise<Answer> => {
    if (m.route === "graphql") return answerGraphQL(body, { state, engine, links });
    if (m.route === "apps.createInstallationAccessToken") {
      if (String(opts.app?.installationId) !== m.arg) return notFound(m.route);
      const issued = `ghs_${randomBytes(18).toString("hex")}`;
      installationTokens.push(issued);
      return {
        status: 201,
        body: {
          token: issued,
          expires_at: new Date(Date.now() + 3_600_000).toISOString().replace(/\.\d{3}Z$/, "Z"),
          permissions: { contents: "write", pull_requests: "write", issues: "write", checks: "read", metadata: "read" },
          repository_selection: "all",
        },
      };
    }
    if (m.route === "users.getByUsername") {
      const user = state.users.get(m.arg.toLowerCase());
      return user ? { status: 200, body: renderPublicUser(user, links) } : notFound(m.route);
    }
    const repo = findRepo(m);
    if (!repo) return notFound(m.route);
    const extra = extraRoutes[m.route];
    if (extra) return extra(repo, m.arg, query, body);
    switch (m.route) {
      case "repos.get":
        return { status: 200, body: renderRepository(repo, state.users.get(repo.owner.toLowerCase())!, links, true) };
      case "repos.getBranch":
        return repo.branches.has(m.arg)
          ? { status: 200, body: renderBranch(repo, m.arg, state, links) }
          : notFound(m.route, "Branch not found");
      case "repos.getCommit": {
        const resolved = resolveRef(m.arg, repo.branches, repo.commits);
        if (!("sha" in resolved)) return errorBody(`No commit found for SHA: ${m.arg}`, DOCS[m.route], 422);
        return { status: 200, body: renderCommit(repo, resolved.sha, state, links, true) };
      }
      case "repos.compareCommits":
        return compareCommits(m, repo);
      case "pulls.list":
        return listPulls(m, repo, query, path);
      case "pulls.create":
        return createPull(m, repo, body);
      default: {
        const pr = findPull(repo, m.arg);
        if (!pr) {
          const issue = m.route === "issues.addLabels" ? issuesOf(repo).get(Number(m.arg)) : undefined;
          return issue ? addLabels(m, repo, issue, body) : notFound(m.route);
        }
        if (m.route === "pulls.get")
          return { status: 200, body: renderPull(repo, pr, state, links, true, engine.mergeability(repo, pr)) };
        if (m.route === "pulls.update") return updatePull(m, repo, pr, body);
        if (m.route === "pulls.requestReviewers") return requestReviewers(m, repo, pr, body);
        return addLabels(m, repo, pr, body);
      }
    }
  };

  const installationTokens: string[] = [];
  const appJwts: Record<string, unknown>[] = [];

  /** GitHub's checks of an app JWT: RS256, signed by the app's key, issued by the app, not expired, ≤ 10 minutes. */
  const jwtError = (jwt: string): string | undefined => {
    const app = opts.app;
    if (!app) return "A JSON web token could not be decoded";
    const parts = jwt.split(".");
    if (parts.length !== 3) return "A JSON web token could not be decoded";
    const [head, body, signature] = parts as [string, string, string];
    let header: { alg?: string };
    let payload: { iss?: unknown; iat?: unknown; exp?: unknown };
    try {
      header = JSON.parse(Buffer.from(head, "base64url").toString("utf8")) as typeof header;
      payload = JSON.parse(Buffer.from(body, "base64url").toString("utf8")) as typeof payload;
    } catch {
      return "A JSON web token could not be decoded";
    }
    if (header.alg !== "RS256") return "A JSON web token could not be decoded";
    const signed = cryptoVerify(
      "sha256",
      Buffer.from(`${head}.${body}`),
      createPublicKey(app.publicKey),
      Buffer.from(signature, "base64url"),
    );
    if (!signed) return "A JSON web token could not be decoded";
    const now = Math.floor(Date.now() / 1000);
    if (String(payload.iss) !== String(app.id)) return "Integration not found";
    if (typeof payload.exp !== "number" || typeof payload.iat !== "number")
      return "A JSON web token could not be decoded";
    if (payload.exp <= now)
      return "'Expiration time' claim ('exp') must be a numeric value representing the future time";
    if (payload.exp - now > 600) return "'Expiration time' claim ('exp') is too far in the future";
    if (payload.iat > now + 60) return "'Issued at' claim ('iat') must be an Integer representing the time in the past";
    appJwts.push(payload as Record<string, unknown>);
    return undefined;
  };

  const authError = (req: IncomingMessage, route: GitHubRoute | "unknown"): Answer | undefined => {
    const header = req.headers.authorization;
    if (header === undefined) return errorBody("Requires authentication", "https://docs.github.com/rest", 401);
    const found = /^(?:token|bearer)\s+(\S+)\s*$/i.exec(header);
    if (route === "apps.createInstallationAccessToken") {
      const problem = found && /^bearer/i.test(header) ? jwtError(found[1]!) : "A JSON web token could not be decoded";
      return problem ? errorBody(problem, DOCS[route], 401) : undefined;
    }
    if (!found || (found[1] !== token && !installationTokens.includes(found[1]!)))
      return errorBody("Bad credentials", "https://docs.github.com/rest", 401);
    return undefined;
  };

  const serve = async (req: IncomingMessage, res: ServerResponse, entry: RequestLogEntry, rawBody: string) => {
    const url = new URL(req.url ?? "/", "http://emulator.invalid");
    let matched: Matched | undefined;
    try {
      const segments = url.pathname
        .split("/")
        .filter((s) => s !== "")
        .map((s) => decodeURIComponent(s));
      matched = match(req.method ?? "GET", segments);
    } catch {
      matched = undefined;
    }
    entry.route = matched?.route ?? "unknown";
    let body: unknown;
    let badJson = false;
    if (rawBody.trim() !== "") {
      try {
        body = JSON.parse(rawBody);
        entry.body = body;
      } catch {
        badJson = true;
      }
    }
    if (latencyMs > 0) await sleep(latencyMs);
    const fault = takeFault(entry.route);
    if (fault && "hang" in fault) {
      entry.status = "hang";
      return;
    }
    if (fault && "reset" in fault && !fault.after) {
      entry.status = "reset";
      req.socket.destroy();
      return;
    }
    if (fault && "delayMs" in fault) await sleep(fault.delayMs);
    if (res.destroyed) {
      entry.status = "aborted";
      return;
    }
    const unauthorized = authError(req, entry.route);
    if (unauthorized) return send(res, entry, unauthorized);
    used += 1;
    if (fault && ("status" in fault || "reset" in fault) && fault.after && matched && !badJson) {
      // The write happens; only its answer is lost.
      await handle(matched, url.searchParams, url.pathname, body);
      if ("reset" in fault) {
        entry.status = "reset";
        req.socket.destroy();
        return;
      }
    }
    if (fault && "status" in fault) {
      const doc = matched ? DOCS[matched.route] : "https://docs.github.com/rest";
      const faultBody =
        fault.body !== undefined
          ? fault.body
          : { message: STATUS_CODES[fault.status] ?? "Error", documentation_url: doc, status: String(fault.status) };
      return send(res, entry, {
        status: fault.status,
        body: faultBody,
        ...(fault.headers ? { headers: fault.headers } : {}),
      });
    }
    if (!matched) return send(res, entry, errorBody("Not Found", "https://docs.github.com/rest", 404));
    if (badJson) return send(res, entry, errorBody("Problems parsing JSON", DOCS[matched.route], 400));
    send(res, entry, await handle(matched, url.searchParams, url.pathname, body));
  };

  const server = createServer((req, res) => {
    const entry: RequestLogEntry = {
      method: req.method ?? "",
      path: req.url ?? "",
      route: "unknown",
      status: null,
      at: Date.now(),
    };
    requests.push(entry);
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      serve(req, res, entry, Buffer.concat(chunks).toString("utf8")).catch((error: unknown) => {
        send(res, entry, {
          status: 500,
          body: {
            message: `Emulator error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`,
          },
        });
      });
    });
  });

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const url = `http://127.0.0.1:${port}`;
  links = { api: url, html: "https://github.com" };

  return {
    url,
    state,
    seedRepo,
    addUser,
    addTeam,
    inject(route, fault, times = 1) {
      if (times > 0) faults.push({ route, fault, left: times });
    },
    clearFaults() {
      faults.splice(0);
    },
    pendingFaults: () => faults.reduce((n, f) => n + f.left, 0),
    requests,
    installationTokens,
    appJwts,
    calls: (route) => requests.filter((r) => route === undefined || route === "*" || r.route === route).length,
    setCi(fullName, checks) {
      repoNamed(fullName).ci = [...checks];
    },
    ciSettled: () => engine.settled(),
    finishCi() {
      const due = [...ciTimers];
      ciTimers.clear();
      for (const [timer, run] of due) {
        clearTimeout(timer);
        run();
      }
    },
    protect(fullName, branch, rule) {
      const repo = repoNamed(fullName);
      if (!repo.branches.has(branch)) throw new Error(`protect: ${fullName} has no branch ${branch}`);
      repo.protection.set(branch, {
        requiredApprovals: rule.requiredApprovals ?? 0,
        requiredChecks: [...(rule.requiredChecks ?? [])],
      });
      engine.sweep(repo);
    },
    approve(fullName, prNumber, login) {
      const repo = repoNamed(fullName);
      const pr = repo.pulls[prNumber - 1];
      if (!pr) throw new Error(`approve: ${fullName} has no pull request #${prNumber}`);
      if (login.toLowerCase() === pr.user.toLowerCase())
        throw new Error("approve: GitHub does not let authors approve their own pull requests");
      if (!state.users.has(login.toLowerCase())) addUser(login);
      if (!pr.approvals.some((l) => l.toLowerCase() === login.toLowerCase())) pr.approvals.push(login);
      engine.sweep(repo);
    },
    allowAutoMerge(fullName, allowed) {
      repoNamed(fullName).allow_auto_merge = allowed;
    },
    deleteBranchOnMerge(fullName, enabled) {
      repoNamed(fullName).delete_branch_on_merge = enabled;
    },
    addIssue(fullName, number, title = `Issue ${number}`) {
      return addIssue(repoNamed(fullName), newId(), number, title);
    },
    fileAt(fullName, branch, path) {
      const repo = repoNamed(fullName);
      const sha = repo.branches.get(branch);
      if (sha === undefined) throw new Error(`fileAt: ${fullName} has no branch ${branch}`);
      return snapshotOf(repo, sha).get(path);
    },
    branchHead: (fullName, branch) => repoNamed(fullName).branches.get(branch),
    reset,
    close: () =>
      new Promise<void>((resolve, reject) => {
        stopCi();
        for (const timer of timers) clearTimeout(timer);
        timers.clear();
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      }),
  };
}
