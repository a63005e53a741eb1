import { throttling } from "@octokit/plugin-throttling";
import { Octokit } from "@octokit/rest";
import type { ChangedFile, ChangeRequest, ChangeSet, CommitInfo, CommitSource } from "../domain/commit.js";
import { PrCreatorError } from "../domain/errors.js";
import type { FailureReason } from "../domain/reasons.js";
import type { ReviewerAssignment } from "../domain/pull-request.js";
import { forgeFailure } from "./forge-errors.js";
import {
  PullRequestExistsError,
  type Forge,
  type NewPullRequest,
  type RemotePullRequest,
  type ResolvedReviewer,
} from "./forge.js";
import { createGitHubAutomation, type Pull } from "./github-automation.js";
import { classifyGitHubError, serverMessage, type OctokitError } from "./github-errors.js";
import { RetriesExhausted, withRetry, type RetryOptions, type RetryPolicy } from "./retry.js";

export interface GitHubConfig {
  token: string;
  /** API root; https://api.github.com, or https://HOST/api/v3 for GitHub Enterprise Server. */
  apiUrl: string;
  /** Owner for bare repository names. */
  owner?: string;
  timeoutMs: number;
  /** GitHub's recommended pacing (one write a second, ten requests at a time). */
  throttle: boolean;
  retry: RetryPolicy;
  retryOptions?: RetryOptions;
}

const ThrottledOctokit = Octokit.plugin(throttling);

const FILE_STATUS: Record<string, ChangedFile["change"]> = {
  added: "added",
  removed: "deleted",
  modified: "modified",
  renamed: "renamed",
  copied: "copied",
  changed: "type_changed",
  unchanged: "modified",
};

/**
 * GitHub through @octokit/rest. Our retry policy is the only retry layer (the retry plugin is not loaded);
 * the throttling plugin paces requests and recognises rate limits but never retries itself.
 */
export function createGitHubForge(cfg: GitHubConfig): Forge {
  const octokit = new ThrottledOctokit({
    auth: cfg.token,
    baseUrl: cfg.apiUrl.replace(/\/+$/, ""),
    userAgent: "pr-creator",
    // Octokit logs failed requests to the console by itself; failures reach people through our errors only.
    log: { debug: () => {}, info: () => {}, warn: () => {}, error: () => {} },
    throttle: {
      enabled: cfg.throttle,
      onRateLimit: () => false,
      onSecondaryRateLimit: () => false,
    },
  });
  const logins = new Map<string, Promise<string | null>>();

  function split(repo: string): { owner: string; repo: string } {
    const [a, b] = repo.split("/");
    if (b) return { owner: a!, repo: b };
    if (!cfg.owner) {
      throw new PrCreatorError("invalid_event", `The repository "${repo}" has no owner.`, {
        hint: "Send owner/name in the event's repo, or set github.owner in the config (or GITHUB_OWNER).",
      });
    }
    return { owner: cfg.owner, repo };
  }

  const timeout = () => ({ request: { signal: AbortSignal.timeout(cfg.timeoutMs) } });

  const attempt = <T>(fn: () => Promise<T>): Promise<T> =>
    withRetry(fn, cfg.retry, classifyGitHubError, cfg.retryOptions);
  const fail = (operation: string, error: RetriesExhausted, notFound?: FailureReason, notFoundStatuses?: number[]) =>
    forgeFailure("github", operation, error, {
      secrets: [cfg.token],
      notFound,
      notFoundStatuses,
      serverMessage: serverMessage(error.cause),
    });

  async function call<T>(
    operation: string,
    fn: () => Promise<T>,
    notFound?: FailureReason,
    notFoundStatuses?: number[],
  ): Promise<T> {
    try {
      return await attempt(fn);
    } catch (error) {
      if (!(error instanceof RetriesExhausted)) throw error;
      throw fail(operation, error, notFound, notFoundStatuses);
    }
  }

  function remote(pr: Pull): RemotePullRequest {
    return {
      id: pr.number,
      url: pr.html_url,
      title: pr.title,
      description: pr.body ?? "",
      source_branch: pr.head.ref,
      target_branch: pr.base.ref,
      is_draft: Boolean(pr.draft),
      labels: pr.labels.map((l) => l.name ?? "").filter(Boolean),
      reviewer_ids: [
        ...(pr.requested_reviewers ?? []).map((u) => u.login.toLowerCase()),
        ...(pr.requested_teams ?? []).map((t) => `team:${t.slug.toLowerCase()}`),
      ],
    };
  }

  function commitInfo(c: {
    sha: string;
    commit: { message: string; author: { name?: string; email?: string; date?: string } | null };
    parents: { sha: string }[];
  }): CommitInfo {
    const [subject = "", ...rest] = c.commit.message.split("\n");
    return {
      hash: c.sha,
      short_hash: c.sha.slice(0, 7),
      subject: subject.trim(),
      body: rest.join("\n").trim(),
      author: { name: c.commit.author?.name ?? "", email: c.commit.author?.email ?? "" },
      authored_at: c.commit.author?.date ?? "",
      parents: c.parents.map((p) => p.sha),
    };
  }

  function files(
    list:
      | {
          filename: string;
          status: string;
          additions: number;
          deletions: number;
          previous_filename?: string;
          patch?: string;
        }[]
      | undefined,
  ): ChangedFile[] {
    return (list ?? []).map((f) => ({
      path: f.filename,
      ...(f.previous_filename ? { old_path: f.previous_filename } : {}),
      change: FILE_STATUS[f.status] ?? "modified",
      additions: f.additions,
      deletions: f.deletions,
      // GitHub sends no patch for binary files; a text change with no lines is not binary.
      binary:
        f.patch === undefined && f.additions + f.deletions === 0 && f.status !== "removed" && f.status !== "renamed",
    }));
  }

  const totals = (fs: ChangedFile[]) => ({
    additions: fs.reduce((n, f) => n + f.additions, 0),
    deletions: fs.reduce((n, f) => n + f.deletions, 0),
  });

  async function addReviewers(
    repo: string,
    pr: RemotePullRequest,
    reviewers: readonly ResolvedReviewer[],
  ): Promise<void> {
    const missing = reviewers.filter((r) => !pr.reviewer_ids.includes(r.id));
    if (missing.length === 0) return;
    const where = split(repo);
    const users = missing.filter((r) => r.kind === "user").map((r) => r.id);
    const teams = missing.filter((r) => r.kind === "team").map((r) => r.id.replace(/^team:/, ""));
    await call("request reviewers", () =>
      octokit.pulls.requestReviewers({
        ...where,
        pull_number: pr.id,
        reviewers: users,
        team_reviewers: teams,
        ...timeout(),
      }),
    );
  }

  async function addLabels(repo: string, id: number, labels: readonly string[]): Promise<void> {
    if (labels.length === 0) return;
    const where = split(repo);
    await call("add labels", () =>
      octokit.issues.addLabels({ ...where, issue_number: id, labels: [...labels], ...timeout() }),
    );
  }

  const commits: CommitSource = {
    async load(request: ChangeRequest): Promise<ChangeSet> {
      const where = split(request.repo);
      const wantsRange = request.range !== "commit";
      const compare = (basehead: string, what: string) =>
        call(what, () => octokit.repos.compareCommitsWithBasehead({ ...where, basehead, ...timeout() })).then(
          (r) => r.data,
        );
      // One wave of reads, all keyed by the event's own names; failures are reported in a fixed order
      // (repo, branch, commit), and a missing target shows as the target compare's 404.
      const [repoRead, branchRead, commitRead, onBranchRead, cmpRead] = await Promise.allSettled([
        call(`read repository ${request.repo}`, () => octokit.repos.get({ ...where, ...timeout() })),
        call(
          `read branch ${request.branch}`,
          () => octokit.repos.getBranch({ ...where, branch: request.branch, ...timeout() }),
          "branch_not_found",
        ),
        call(
          `read commit ${request.commit}`,
          () => octokit.repos.getCommit({ ...where, ref: request.commit, ...timeout() }),
          "commit_not_found",
          [404, 422],
        ),
        compare(`${request.branch}...${request.commit}`, "compare the commit with its branch"),
        wantsRange
          ? compare(`${request.target_branch}...${request.commit}`, "compare the branch with its target")
          : Promise.resolve(undefined),
      ]);
      for (const read of [repoRead, branchRead, commitRead, onBranchRead])
        if (read.status === "rejected") throw read.reason;
      const head = (commitRead as PromiseFulfilledResult<Awaited<ReturnType<typeof octokit.repos.getCommit>>>).value
        .data;
      const onBranch = (onBranchRead as PromiseFulfilledResult<Awaited<ReturnType<typeof compare>>>).value;
      let cmp: Awaited<ReturnType<typeof compare>> | undefined;
      if (cmpRead.status === "fulfilled") cmp = cmpRead.value;
      else if (cmpRead.reason instanceof PrCreatorError && cmpRead.reason.reason === "repo_not_found") {
        // The target branch does not exist (the repository does: it was read above).
        if (request.range === "merge-base") {
          throw new PrCreatorError(
            "branch_not_found",
            `Target branch "${request.target_branch}" does not exist in ${request.repo}.`,
            { hint: "Create the target branch or use pr.commit_range: commit." },
          );
        }
      } else throw cmpRead.reason;
      if (onBranch.status !== "identical" && onBranch.status !== "behind") {
        throw new PrCreatorError(
          "commit_not_on_branch",
          `Commit ${head.sha} is not on branch "${request.branch}" of ${request.repo}.`,
          { hint: "Check the branch in the event." },
        );
      }
      if (cmp && cmp.commits.length > 0) {
        const fs = files(cmp.files);
        return {
          commits: cmp.commits.map(commitInfo),
          base: cmp.merge_base_commit.sha,
          range: "merge-base",
          files: fs,
          ...totals(fs),
        };
      }
      const fs = files(head.files);
      return {
        commits: [commitInfo(head)],
        base: head.parents[0]?.sha ?? null,
        range: "commit",
        files: fs,
        ...totals(fs),
      };
    },
  };

  const automation = createGitHubAutomation({
    octokit,
    secrets: [cfg.token],
    split,
    timeout,
    call,
    attempt,
    fail,
    remote,
  });

  return {
    kind: "github",
    commits,
    ...automation,

    async findOpenPullRequest(repo, source, target) {
      const where = split(repo);
      const list = await call("list open pull requests", () =>
        octokit.pulls.list({
          ...where,
          state: "open",
          head: `${where.owner}:${source}`,
          base: target,
          per_page: 10,
          ...timeout(),
        }),
      );
      const found = list.data[0];
      return found ? remote(found as Pull) : null;
    },

    async createPullRequest(repo, pr: NewPullRequest) {
      const where = split(repo);
      let created: Pull;
      try {
        created = (
          await withRetry(
            () =>
              octokit.pulls.create({
                ...where,
                title: pr.title,
                body: pr.description,
                head: pr.source_branch,
                base: pr.target_branch,
                draft: pr.is_draft,
                ...timeout(),
              }),
            cfg.retry,
            classifyGitHubError,
            cfg.retryOptions,
          )
        ).data;
      } catch (error) {
        if (!(error instanceof RetriesExhausted)) throw error;
        const text = serverMessage(error.cause);
        if (/pull request already exists/i.test(text)) throw new PullRequestExistsError(text);
        const fields = ((error.cause as OctokitError).response?.data?.errors ?? []).map((x) => x.field);
        if (error.failure.status === 422 && (fields.includes("head") || fields.includes("base"))) {
          throw new PrCreatorError("branch_not_found", `GitHub cannot open the pull request: ${text}.`, {
            hint: "Push both branches first.",
            attempts: error.attempts,
          });
        }
        throw forgeFailure("github", "create the pull request", error, { secrets: [cfg.token], serverMessage: text });
      }
      // Reviewers and labels are separate calls on GitHub; the publisher adds them.
      return remote(created);
    },

    async updatePullRequest(repo, id, patch) {
      const where = split(repo);
      // Draft state changes only through GraphQL on GitHub; title and body are what the REST update carries.
      if (patch.title === undefined && patch.description === undefined) return;
      await call(`update pull request #${id}`, () =>
        octokit.pulls.update({
          ...where,
          pull_number: id,
          ...(patch.title !== undefined ? { title: patch.title } : {}),
          ...(patch.description !== undefined ? { body: patch.description } : {}),
          ...timeout(),
        }),
      );
    },

    async resolveReviewers(_repo, reviewers: readonly ReviewerAssignment[]) {
      const resolved: ResolvedReviewer[] = [];
      const unresolved: string[] = [];
      const answers = await Promise.all(
        reviewers.map(async (r) => {
          const team = /^(?:team:|[^/]+\/)(.+)$/.exec(r.name);
          if (team) return { r, id: `team:${team[1]!.toLowerCase()}`, kind: "team" as const };
          const key = r.name.toLowerCase();
          let login = logins.get(key);
          if (!login) {
            const lookup = () =>
              octokit.users.getByUsername({ username: r.name, ...timeout() }).then(
                (res) => res.data.login.toLowerCase(),
                (error: OctokitError) => (error.status === 404 ? null : Promise.reject(error)),
              );
            login = call(`look up user ${r.name}`, lookup);
            logins.set(key, login);
            login.catch(() => logins.delete(key));
          }
          return { r, id: await login, kind: "user" as const };
        }),
      );
      for (const { r, id, kind } of answers) {
        if (id) resolved.push({ name: r.name, required: r.required, id, kind });
        else unresolved.push(r.name);
      }
      return { resolved, unresolved };
    },

    addReviewers,
    addLabels,

    async listPullRequests(repo, onPage) {
      const where = split(repo);
      const all: RemotePullRequest[] = [];
      for (let page = 1; ; page++) {
        const res = await call(`list pull requests (page ${page})`, () =>
          octokit.pulls.list({ ...where, state: "all", per_page: 100, page, ...timeout() }),
        );
        all.push(...res.data.map((p) => remote(p as Pull)));
        onPage?.(all.length);
        if (res.data.length < 100) return all;
      }
    },
  };
}
