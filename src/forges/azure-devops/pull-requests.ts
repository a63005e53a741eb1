import { PullRequestStatus, type GitPullRequest } from "azure-devops-node-api/interfaces/GitInterfaces.js";
import { PrCreatorError } from "../../domain/errors.js";
import type { ReviewerAssignment } from "../../domain/pull-request.js";
import { RetriesExhausted } from "../../net/retry.js";
import { PullRequestExistsError, type Forge, type ResolvedReviewer } from "../forge.js";
import { forget, toRef, type AzureDevOpsContext } from "./context.js";
import { serverMessage } from "./errors.js";

export type PullRequests = Pick<
  Forge,
  | "findOpenPullRequest"
  | "createPullRequest"
  | "updatePullRequest"
  | "resolveReviewers"
  | "addReviewers"
  | "listPullRequests"
  | "addLabels"
>;

type Directory = Map<string, { id: string; kind: "user" | "team" }>;

/**
 * Pull requests through the Git API. Labels, reviewers and work items travel with the create call (one round
 * trip); reviewer names resolve through the project's teams and their members, loaded once.
 */
export function pullRequests(ctx: AzureDevOpsContext): PullRequests {
  const { project, call } = ctx;
  let directory: Promise<Directory> | undefined;

  async function loadDirectory(): Promise<Directory> {
    const api = await ctx.core();
    const teams = (await call("list the project's teams", () => api.getTeams(project))) ?? [];
    const entries: Directory = new Map();
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

  return {
    async findOpenPullRequest(repo, source, target) {
      const api = await ctx.git();
      const criteria = { sourceRefName: toRef(source), targetRefName: toRef(target), status: PullRequestStatus.Active };
      const list = await call("list open pull requests", () => api.getPullRequests(repo, criteria, project));
      if (list === null)
        throw ctx.missing(
          "repository",
          repo,
          "repo_not_found",
          "Check the repo in the event and AZURE_DEVOPS_PROJECT.",
        );
      const found = list[0];
      if (!found?.pullRequestId) return null;
      // The list call truncates descriptions; compare against the PR fetched by id.
      const full = await call(`read pull request ${found.pullRequestId}`, () =>
        api.getPullRequest(repo, found.pullRequestId!, project),
      );
      return ctx.remote(repo, full ?? found);
    },

    async createPullRequest(repo, pr) {
      const api = await ctx.git();
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
        const created = await ctx.retry(() => api.createPullRequest(body, repo, project));
        if (!created)
          throw ctx.missing(
            "repository",
            repo,
            "repo_not_found",
            "Check the repo in the event and AZURE_DEVOPS_PROJECT.",
          );
        return ctx.remote(repo, created);
      } catch (error) {
        if (!(error instanceof RetriesExhausted)) throw error;
        const text = serverMessage(error.cause) ?? "";
        if (text.includes("TF401179")) throw new PullRequestExistsError(text);
        if (text.includes("TF401398"))
          throw new PrCreatorError("branch_not_found", `Azure DevOps cannot open the pull request: ${text}`, {
            hint: "Push both branches first.",
            attempts: error.attempts,
          });
        throw ctx.failure("create the pull request", error);
      }
    },

    async updatePullRequest(repo, id, patch) {
      const api = await ctx.git();
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
      const api = await ctx.git();
      await Promise.all(
        reviewers.map((r) =>
          call(`add reviewer ${r.name}`, () =>
            api.createPullRequestReviewer({ id: r.id, isRequired: r.required, vote: 0 }, repo, pr.id, r.id, project),
          ),
        ),
      );
    },

    async listPullRequests(repo, onPage) {
      const api = await ctx.git();
      const found: GitPullRequest[] = [];
      for (let skip = 0; ; skip += 100) {
        const page = await call("list pull requests", () =>
          api.getPullRequests(repo, { status: PullRequestStatus.All }, project, undefined, skip, 100),
        );
        if (page === null)
          throw ctx.missing(
            "repository",
            repo,
            "repo_not_found",
            "Check the repository name and AZURE_DEVOPS_PROJECT.",
          );
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
      return full.map((p, i) => ctx.remote(repo, p ?? found[i]!));
    },

    async addLabels(repo, id, labels) {
      const api = await ctx.git();
      await Promise.all(
        labels.map((name) => call(`add label ${name}`, () => api.createPullRequestLabel({ name }, repo, id, project))),
      );
    },
  };
}
