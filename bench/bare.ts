/**
 * The "bare" baseline: the same client libraries the agent uses, called directly with the minimal correct
 * calls to open the same PR (same title, description, draft flag, reviewers and labels):
 *
 *   Azure DevOps: getPullRequests (is the pair's PR already open?) ‖ reviewer ids (teams + members, loaded
 *                 once per instance) → one createPullRequest carrying reviewers and labels.
 *   GitHub:       pulls.list (is the pair's PR already open?) → pulls.create → requestReviewers ‖ addLabels.
 *
 * No commit reads, no retries, no validation: a lower bound for what any publisher must send.
 */
import * as azdev from "azure-devops-node-api";
import type { IGitApi } from "azure-devops-node-api/GitApi.js";
import { PullRequestStatus } from "azure-devops-node-api/interfaces/GitInterfaces.js";
import { Octokit } from "@octokit/rest";

export interface BarePr {
  repo: string;
  source_branch: string;
  target_branch: string;
  title: string;
  description: string;
  is_draft: boolean;
  labels: string[];
  reviewers: { name: string; required: boolean }[];
}

export interface BarePublisher {
  publish(pr: BarePr): Promise<{ id: number }>;
}

export function createBareAzure(opts: { orgUrl: string; project: string; token: string }): BarePublisher {
  const conn = new azdev.WebApi(opts.orgUrl, azdev.getPersonalAccessTokenHandler(opts.token));
  let git: Promise<IGitApi> | undefined;
  let directory: Promise<Map<string, string>> | undefined;

  async function loadDirectory(): Promise<Map<string, string>> {
    const core = await conn.getCoreApi();
    const teams = await core.getTeams(opts.project);
    const members = await Promise.all(
      teams.map((t) => core.getTeamMembersWithExtendedProperties(t.projectId ?? opts.project, t.id!)),
    );
    const ids = new Map<string, string>();
    members.flat().forEach((m) => {
      const id = m.identity?.id;
      if (!id) return;
      for (const name of [m.identity?.displayName, m.identity?.uniqueName, m.identity?.uniqueName?.split("@")[0]])
        if (name) ids.set(name.toLowerCase(), id);
    });
    return ids;
  }

  return {
    async publish(pr) {
      const api = await (git ??= conn.getGitApi());
      const sourceRefName = `refs/heads/${pr.source_branch}`;
      const targetRefName = `refs/heads/${pr.target_branch}`;
      const [open, ids] = await Promise.all([
        api.getPullRequests(pr.repo, { sourceRefName, targetRefName, status: PullRequestStatus.Active }, opts.project),
        (directory ??= loadDirectory()),
      ]);
      if (open.length > 0) throw new Error(`bare: ${pr.source_branch} already has PR ${open[0]!.pullRequestId}`);
      const reviewers = pr.reviewers.map((r) => ({ id: ids.get(r.name.toLowerCase()), isRequired: r.required }));
      if (reviewers.some((r) => !r.id)) throw new Error("bare: a reviewer did not resolve");
      const created = await api.createPullRequest(
        {
          sourceRefName,
          targetRefName,
          title: pr.title,
          description: pr.description,
          isDraft: pr.is_draft,
          reviewers,
          labels: pr.labels.map((name) => ({ name })),
        },
        pr.repo,
        opts.project,
      );
      return { id: created.pullRequestId! };
    },
  };
}

export function createBareGitHub(opts: { url: string; token: string }): BarePublisher {
  const octokit = new Octokit({
    auth: opts.token,
    baseUrl: opts.url,
    userAgent: "pr-creator-bench",
    log: { debug: () => {}, info: () => {}, warn: () => {}, error: () => {} },
  });
  return {
    async publish(pr) {
      const [owner = "", repo = ""] = pr.repo.split("/");
      const open = await octokit.pulls.list({
        owner,
        repo,
        state: "open",
        head: `${owner}:${pr.source_branch}`,
        base: pr.target_branch,
        per_page: 10,
      });
      if (open.data.length > 0) throw new Error(`bare: ${pr.source_branch} already has PR #${open.data[0]!.number}`);
      const created = await octokit.pulls.create({
        owner,
        repo,
        title: pr.title,
        body: pr.description,
        head: pr.source_branch,
        base: pr.target_branch,
        draft: pr.is_draft,
      });
      const number = created.data.number;
      await Promise.all([
        octokit.pulls.requestReviewers({
          owner,
          repo,
          pull_number: number,
          reviewers: pr.reviewers.map((r) => r.name),
        }),
        octokit.issues.addLabels({ owner, repo, issue_number: number, labels: pr.labels }),
      ]);
      return { id: number };
    },
  };
}
