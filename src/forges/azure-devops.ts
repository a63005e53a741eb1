import * as azdev from "azure-devops-node-api";
import type { ICoreApi } from "azure-devops-node-api/CoreApi.js";
import type { IGitApi } from "azure-devops-node-api/GitApi.js";
import {
  PullRequestStatus,
  VersionControlChangeType,
  type GitPullRequest,
} from "azure-devops-node-api/interfaces/GitInterfaces.js";
import type { IPolicyApi } from "azure-devops-node-api/PolicyApi.js";
import type { ChangedFile, ChangeRequest, ChangeSet, CommitInfo, CommitSource } from "../domain/commit.js";
import { PrCreatorError } from "../domain/errors.js";
import type { ReviewerAssignment } from "../domain/pull-request.js";
import { azureAutomation } from "./azure-devops-automation.js";
import { fromRef, serverMessage, toRef, type AzureContext, type RestError } from "./azure-devops-context.js";
import { azureFiles } from "./azure-devops-files.js";
import { forgeFailure, redact } from "./forge-errors.js";
import {
  PullRequestExistsError,
  type Forge,
  type NewPullRequest,
  type PullRequestPatch,
  type RemotePullRequest,
  type ResolvedReviewer,
} from "./forge.js";
import {
  parseRetryAfter,
  RetriesExhausted,
  withRetry,
  type CallFailure,
  type RetryOptions,
  type RetryPolicy,
} from "./retry.js";
import type { FailureReason } from "../domain/reasons.js";

export interface AzureDevOpsConfig {
  orgUrl: string;
  project: string;
  token: string;
  timeoutMs: number;
  retry: RetryPolicy;
  retryOptions?: RetryOptions;
}

/** A rejection handler that clears a cached promise before passing the error on. */
const forget =
  (clear: () => void) =>
  (error: unknown): never => {
    clear();
    throw error;
  };

function header(error: RestError, name: string): string | undefined {
  const headers = error.responseHeaders ?? {};
  const key = Object.keys(headers).find((k) => k.toLowerCase() === name);
  const value = key === undefined ? undefined : headers[key];
  return Array.isArray(value) ? value[0] : value;
}

/** Retry-After first; else, when the rate limit is used up, the wait until X-RateLimit-Reset. */
export function classifyAzureError(error: unknown): CallFailure {
  const e = (error ?? {}) as RestError;
  if (typeof e.statusCode !== "number") {
    const code = e.code ?? (/timeout/i.test(e.message ?? "") ? "TIMEOUT" : undefined);
    return code ? { network: code } : {};
  }
  const after = parseRetryAfter(header(e, "retry-after"));
  const reset = header(e, "x-ratelimit-reset");
  const exhausted =
    header(e, "x-ratelimit-remaining") === "0" && reset ? Math.max(0, Number(reset) * 1000 - Date.now()) : undefined;
  return { status: e.statusCode, retryAfterMs: after ?? exhausted };
}

const CHANGE: Array<[number, ChangedFile["change"]]> = [
  [VersionControlChangeType.Rename, "renamed"],
  [VersionControlChangeType.Delete, "deleted"],
  [VersionControlChangeType.Add, "added"],
  [VersionControlChangeType.Edit, "modified"],
];

function changeType(value: unknown): ChangedFile["change"] {
  if (typeof value === "number") return CHANGE.find(([flag]) => (value & flag) !== 0)?.[1] ?? "modified";
  const text = String(value ?? "").toLowerCase();
  return text.includes("rename")
    ? "renamed"
    : text.includes("delete")
      ? "deleted"
      : text.includes("add")
        ? "added"
        : "modified";
}

/**
 * Azure DevOps through azure-devops-node-api with a PAT. One connection per forge, so location discovery
 * happens once. Labels, reviewers and work items travel with the create call (one round trip); reviewer
 * names resolve through the project's teams and their members, loaded once. Files and commits live in
 * azure-devops-files.ts, a PR's life after opening (checks, auto-complete, reverts) in azure-devops-automation.ts.
 */
export function createAzureDevOpsForge(cfg: AzureDevOpsConfig): Forge {
  const conn = new azdev.WebApi(cfg.orgUrl.replace(/\/+$/, ""), azdev.getPersonalAccessTokenHandler(cfg.token), {
    socketTimeout: cfg.timeoutMs,
    // One TLS handshake per connection, not per call: every run makes several calls to the same host.
    keepAlive: true,
  });
  let gitApi: Promise<IGitApi> | undefined;
  let coreApi: Promise<ICoreApi> | undefined;
  let policyApi: Promise<IPolicyApi> | undefined;
  let userId: Promise<string> | undefined;
  let directory: Promise<Map<string, { id: string; kind: "user" | "team" }>> | undefined;
  const project = cfg.project;

  const retrying = <T>(fn: () => Promise<T>) => withRetry(fn, cfg.retry, classifyAzureError, cfg.retryOptions);
  const failure = (operation: string, error: RetriesExhausted, notFound?: FailureReason) =>
    forgeFailure("azure_devops", operation, error, {
      secrets: [cfg.token],
      notFound,
      serverMessage: serverMessage(error.cause),
    });

  /** One API call under the retry policy, with failures mapped to reason codes. */
  async function call<T>(operation: string, fn: () => Promise<T>, notFound?: FailureReason): Promise<T> {
    try {
      return await retrying(fn);
    } catch (error) {
      if (!(error instanceof RetriesExhausted)) throw error;
      throw failure(operation, error, notFound);
    }
  }

  /** typed-rest-client resolves a 404 as null; one that throws (a non-JSON answer) is null too. */
  async function find<T>(operation: string, fn: () => Promise<T | null>): Promise<T | null> {
    try {
      return await retrying(fn);
    } catch (error) {
      if (!(error instanceof RetriesExhausted)) throw error;
      if (error.failure.status === 404) return null;
      throw failure(operation, error);
    }
  }

  // Connections are made once; a failed attempt is forgotten so the next run tries again.
  const git = () =>
    (gitApi ??= call("connect to the Git API", () => conn.getGitApi()).catch(forget(() => (gitApi = undefined))));
  const core = () =>
    (coreApi ??= call("connect to the Core API", () => conn.getCoreApi()).catch(forget(() => (coreApi = undefined))));
  const policy = () =>
    (policyApi ??= call("connect to the Policy API", () => conn.getPolicyApi()).catch(
      forget(() => (policyApi = undefined)),
    ));
  /** The token's identity, for autoCompleteSetBy (the service accepts no other). */
  const me = () =>
    (userId ??= call("read the token's identity", () => conn.connect())
      .then((data) => {
        const id = data?.authenticatedUser?.id;
        if (!id)
          throw new PrCreatorError(
            "unauthorized",
            "Azure DevOps did not say which identity the token belongs to (connectionData has no authenticatedUser).",
            { hint: "Check the token." },
          );
        return id;
      })
      .catch(forget(() => (userId = undefined))));

  const missing = (what: string, name: string, reason: FailureReason, hint: string) =>
    new PrCreatorError(reason, `Azure DevOps has no ${what} "${name}" in project ${project}.`, { hint });

  function remote(repo: string, pr: GitPullRequest): RemotePullRequest {
    return {
      id: pr.pullRequestId!,
      url: `${cfg.orgUrl.replace(/\/+$/, "")}/${encodeURIComponent(project)}/_git/${encodeURIComponent(repo)}/pullrequest/${pr.pullRequestId}`,
      title: pr.title ?? "",
      description: pr.description ?? "",
      source_branch: fromRef(pr.sourceRefName),
      target_branch: fromRef(pr.targetRefName),
      is_draft: Boolean(pr.isDraft),
      labels: (pr.labels ?? []).map((l) => l.name ?? "").filter(Boolean),
      reviewer_ids: (pr.reviewers ?? []).map((r) => r.id ?? "").filter(Boolean),
    };
  }

  async function loadDirectory(): Promise<Map<string, { id: string; kind: "user" | "team" }>> {
    const api = await core();
    const teams = (await call("list the project's teams", () => api.getTeams(project))) ?? [];
    const entries = new Map<string, { id: string; kind: "user" | "team" }>();
    const members = await Promise.all(
      teams.map((t) =>
        call(`list the members of team ${t.name}`, () =>
          api.getTeamMembersWithExtendedProperties(t.projectId ?? project, t.id!),
        ),
      ),
    );
    teams.forEach((team, i) => {
      if (team.name && team.id) entries.set(team.name.toLowerCase(), { id: team.id, kind: "team" });
      for (const m of members[i] ?? []) {
        const id = m.identity?.id;
        if (!id) continue;
        for (const name of [m.identity?.displayName, m.identity?.uniqueName, m.identity?.uniqueName?.split("@")[0]]) {
          if (name && !entries.has(name.toLowerCase())) entries.set(name.toLowerCase(), { id, kind: "user" });
        }
      }
    });
    return entries;
  }

  async function commitInfo(repo: string, sha: string): Promise<CommitInfo> {
    const api = await git();
    const c = await call(`read commit ${sha}`, () => api.getCommit(sha, repo, project));
    if (!c?.commitId)
      throw missing(
        "commit",
        sha,
        "commit_not_found",
        "Check the commit hash in the event; Azure DevOps needs the full 40-character hash.",
      );
    const message = c.comment ?? "";
    const [subject = "", ...rest] = message.split("\n");
    return {
      hash: c.commitId,
      short_hash: c.commitId.slice(0, 7),
      subject: subject.trim(),
      body: rest.join("\n").trim(),
      author: { name: c.author?.name ?? "", email: c.author?.email ?? "" },
      authored_at: c.author?.date ? new Date(c.author.date).toISOString() : "",
      parents: c.parents ?? [],
    };
  }

  /** Commits through the REST API: the event's commit and its changes. Azure reports no line counts. */
  const commits: CommitSource = {
    async load(request: ChangeRequest): Promise<ChangeSet> {
      const api = await git();
      // A full hash lets the changes be read alongside the checks; failures are reported repo, branch, commit.
      const full = /^[0-9a-f]{40}$/i.test(request.commit);
      const readChanges = (hash: string) =>
        call(`read the changes of ${hash.slice(0, 7)}`, () => api.getChanges(hash, request.repo, project, 10_000));
      const [repository, refs, info, early] = await Promise.allSettled([
        call(`read repository ${request.repo}`, () => api.getRepository(request.repo, project)),
        call(`read branch ${request.branch}`, () => api.getRefs(request.repo, project, `heads/${request.branch}`)),
        commitInfo(request.repo, request.commit),
        full ? readChanges(request.commit) : Promise.resolve(undefined),
      ]);
      if (repository.status === "rejected") throw repository.reason;
      if (!repository.value)
        throw missing(
          "repository",
          request.repo,
          "repo_not_found",
          "Check the repo in the event and AZURE_DEVOPS_PROJECT.",
        );
      if (refs.status === "rejected") throw refs.reason;
      if (!(refs.value ?? []).some((r) => r.name === toRef(request.branch))) {
        throw missing(
          "branch",
          request.branch,
          "branch_not_found",
          "Push the branch, or check the branch in the event.",
        );
      }
      if (info.status === "rejected") throw info.reason;
      if (early.status === "rejected") throw early.reason;
      const commit = info.value;
      const changes = early.value ?? (await readChanges(commit.hash));
      const files: ChangedFile[] = (changes?.changes ?? [])
        .filter(
          (c) =>
            (c.item as { gitObjectType?: unknown } | undefined)?.gitObjectType !== "tree" &&
            !(c.item as { isFolder?: boolean } | undefined)?.isFolder,
        )
        .map((c) => {
          const change = changeType(c.changeType);
          const path = (c.item?.path ?? "").replace(/^\//, "");
          const source = (c as { sourceServerItem?: string }).sourceServerItem?.replace(/^\//, "");
          return {
            path,
            ...(change === "renamed" && source ? { old_path: source } : {}),
            change,
            additions: 0,
            deletions: 0,
            binary: false,
          };
        });
      return {
        commits: [commit],
        base: commit.parents[0] ?? null,
        range: "commit",
        files,
        additions: 0,
        deletions: 0,
        line_counts: "unavailable",
      };
    },
  };

  const prs: Omit<Forge, keyof ReturnType<typeof azureFiles> | keyof ReturnType<typeof azureAutomation>> = {
    kind: "azure-devops",
    commits,

    async findOpenPullRequest(repo, source, target) {
      const api = await git();
      const criteria = { sourceRefName: toRef(source), targetRefName: toRef(target), status: PullRequestStatus.Active };
      const list = await call("list open pull requests", () => api.getPullRequests(repo, criteria, project));
      if (list === null)
        throw missing("repository", repo, "repo_not_found", "Check the repo in the event and AZURE_DEVOPS_PROJECT.");
      const found = list[0];
      if (!found?.pullRequestId) return null;
      // The list call truncates descriptions; compare against the PR fetched by id.
      const full = await call(`read pull request ${found.pullRequestId}`, () =>
        api.getPullRequest(repo, found.pullRequestId!, project),
      );
      return remote(repo, full ?? found);
    },

    async createPullRequest(repo, pr: NewPullRequest) {
      const api = await git();
      const body: GitPullRequest = {
        sourceRefName: toRef(pr.source_branch),
        targetRefName: toRef(pr.target_branch),
        title: pr.title,
        description: pr.description,
        isDraft: pr.is_draft,
        reviewers: pr.reviewers.map((r) => ({ id: r.id, isRequired: r.required })),
        labels: pr.labels.map((name) => ({ name })),
        workItemRefs: pr.work_items.map((id) => ({ id })),
      };
      try {
        const created = await withRetry(
          () => api.createPullRequest(body, repo, project),
          cfg.retry,
          classifyAzureError,
          cfg.retryOptions,
        );
        if (!created)
          throw missing("repository", repo, "repo_not_found", "Check the repo in the event and AZURE_DEVOPS_PROJECT.");
        return remote(repo, created);
      } catch (error) {
        if (!(error instanceof RetriesExhausted)) throw error;
        const text = serverMessage(error.cause) ?? "";
        if (text.includes("TF401179")) throw new PullRequestExistsError(text);
        if (text.includes("TF401398"))
          throw new PrCreatorError("branch_not_found", `Azure DevOps cannot open the pull request: ${text}`, {
            hint: "Push both branches first.",
            attempts: error.attempts,
          });
        throw forgeFailure("azure_devops", "create the pull request", error, {
          secrets: [cfg.token],
          serverMessage: text,
        });
      }
    },

    async updatePullRequest(repo, id, patch: PullRequestPatch) {
      const api = await git();
      const body: GitPullRequest = {
        ...(patch.title !== undefined ? { title: patch.title } : {}),
        ...(patch.description !== undefined ? { description: patch.description } : {}),
        ...(patch.is_draft !== undefined ? { isDraft: patch.is_draft } : {}),
      };
      await call(`update pull request ${id}`, () => api.updatePullRequest(body, repo, id, project));
    },

    async resolveReviewers(_repo, reviewers: readonly ReviewerAssignment[]) {
      if (reviewers.length === 0) return { resolved: [], unresolved: [] };
      const dir = await (directory ??= loadDirectory().catch(forget(() => (directory = undefined))));
      const resolved: ResolvedReviewer[] = [];
      const unresolved: string[] = [];
      for (const r of reviewers) {
        const hit = dir.get(r.name.toLowerCase());
        if (hit) resolved.push({ name: r.name, required: r.required, id: hit.id, kind: hit.kind });
        else unresolved.push(r.name);
      }
      return { resolved, unresolved };
    },

    async addReviewers(repo, pr, reviewers) {
      const api = await git();
      await Promise.all(
        reviewers.map((r) =>
          call(`add reviewer ${r.name}`, () =>
            api.createPullRequestReviewer({ id: r.id, isRequired: r.required, vote: 0 }, repo, pr.id, r.id, project),
          ),
        ),
      );
    },

    async listPullRequests(repo, onPage) {
      const api = await git();
      const found: GitPullRequest[] = [];
      for (let skip = 0; ; skip += 100) {
        const page = await call("list pull requests", () =>
          api.getPullRequests(repo, { status: PullRequestStatus.All }, project, undefined, skip, 100),
        );
        if (page === null)
          throw missing("repository", repo, "repo_not_found", "Check the repository name and AZURE_DEVOPS_PROJECT.");
        found.push(...page);
        onPage?.(found.length);
        if (page.length < 100) break;
      }
      // The list call truncates descriptions: read each PR by id.
      const full = await Promise.all(
        found.map((p) =>
          call(`read pull request ${p.pullRequestId}`, () => api.getPullRequest(repo, p.pullRequestId!, project)),
        ),
      );
      return full.map((p, i) => remote(repo, p ?? found[i]!));
    },

    async addLabels(repo, id, labels) {
      const api = await git();
      await Promise.all(
        labels.map((name) => call(`add label ${name}`, () => api.createPullRequestLabel({ name }, repo, id, project))),
      );
    },
  };

  const ctx: AzureContext = {
    orgUrl: cfg.orgUrl.replace(/\/+$/, ""),
    project,
    timeoutMs: cfg.timeoutMs,
    git,
    policy,
    userId: me,
    call,
    find,
    retrying,
    failure,
    missing,
    remote,
    redact: (text) => redact(text, [cfg.token]),
  };
  return { ...prs, ...azureFiles(ctx), ...azureAutomation(ctx, prs) };
}
