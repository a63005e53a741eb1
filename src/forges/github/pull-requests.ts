import type { ReviewerAssignment } from "../../domain/pull-request.js";
import { PrCreatorError } from "../../domain/errors.js";
import { RetriesExhausted } from "../../net/retry.js";
import {
  PullRequestExistsError,
  type ForgePullRequests,
  type NewPullRequest,
  type RemotePullRequest,
  type ResolvedReviewer,
} from "../forge.js";
import type { GitHubContext, Pull } from "./context.js";
import { serverMessage, type OctokitError } from "./errors.js";

export type PullRequests = ForgePullRequests;

/** Pull requests through the REST API. Reviewers and labels are separate calls on GitHub; the publisher adds them. */
export function pullRequests(ctx: GitHubContext): PullRequests {
  const { octokit, split, timeout, call } = ctx;
  const logins = new Map<string, Promise<string | null>>();

  return {
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
      return found ? ctx.remote(found as Pull) : null;
    },

    async createPullRequest(repo, pr: NewPullRequest) {
      const where = split(repo);
      let created: Pull;
      try {
        created = (
          await ctx.retry(() =>
            octokit.pulls.create({
              ...where,
              title: pr.title,
              body: pr.description,
              head: pr.source_branch,
              base: pr.target_branch,
              draft: pr.is_draft,
              ...timeout(),
            }),
          )
        ).data;
      } catch (error) {
        if (!(error instanceof RetriesExhausted)) throw error;
        const text = serverMessage(error.cause);
        if (/pull request already exists/i.test(text)) throw new PullRequestExistsError(text, error.attempts);
        const fields = ((error.cause as OctokitError).response?.data?.errors ?? []).map((x) => x.field);
        if (error.failure.status === 422 && (fields.includes("head") || fields.includes("base"))) {
          throw new PrCreatorError("branch_not_found", `GitHub cannot open the pull request: ${text}.`, {
            hint: "Push both branches first.",
            attempts: error.attempts,
          });
        }
        throw ctx.failure("create the pull request", error);
      }
      // Reviewers and labels are separate calls on GitHub; the publisher adds them.
      return ctx.remote(created);
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
      const warnings: string[] = [];
      const failed: string[] = [];
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
          try {
            return { r, id: await login, kind: "user" as const };
          } catch (error) {
            // A look-up GitHub refuses (401/403) or cannot answer is a warning: the PR opens without this reviewer.
            if (!(error instanceof PrCreatorError)) throw error;
            warnings.push(`Reviewer lookup for "${r.name}" failed, so it was not added: ${error.message}`);
            failed.push(r.name);
            return { r, id: null, kind: "user" as const };
          }
        }),
      );
      for (const { r, id, kind } of answers) {
        if (id) resolved.push({ name: r.name, required: r.required, id, kind });
        else unresolved.push(r.name);
      }
      return { resolved, unresolved, warnings, failed };
    },

    async addReviewers(repo: string, pr: RemotePullRequest, reviewers: readonly ResolvedReviewer[]) {
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
    },

    async addLabels(repo, id, labels) {
      if (labels.length === 0) return;
      const where = split(repo);
      await call("add labels", () =>
        octokit.issues.addLabels({ ...where, issue_number: id, labels: [...labels], ...timeout() }),
      );
    },

    async listPullRequests(repo, onPage) {
      const where = split(repo);
      const all: RemotePullRequest[] = [];
      for (let page = 1; ; page++) {
        const res = await call(`list pull requests (page ${page})`, () =>
          octokit.pulls.list({ ...where, state: "all", per_page: 100, page, ...timeout() }),
        );
        all.push(...res.data.map((p) => ctx.remote(p as Pull)));
        onPage?.(all.length);
        if (res.data.length < 100) return all;
      }
    },
  };
}
