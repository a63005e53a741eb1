import type { ForgeIssues, IssueComment } from "../forge.js";
import type { GitHubContext } from "./context.js";

/** Comments read per issue at most (10 pages of 100): an issue with more is not one this agent follows. */
const MAX_PAGES = 10;

/**
 * GitHub issues for the tracker adapter (src/trackers/github-issues.ts): comments and labels through the
 * issues REST API. No retry here (see ForgeIssues): a failure reaches the tracker's caller as Octokit's
 * RequestError, with its status and headers for the retry policy.
 */
export function issues(ctx: GitHubContext): ForgeIssues {
  const { octokit } = ctx;
  return {
    async listComments(repo, issue) {
      const where = ctx.split(repo);
      const comments: IssueComment[] = [];
      for (let page = 1; page <= MAX_PAGES; page++) {
        const { data } = await octokit.rest.issues.listComments({
          ...where,
          issue_number: issue,
          per_page: 100,
          page,
        });
        comments.push(...data.map((c) => ({ id: c.id, text: c.body ?? "" })));
        if (data.length < 100) break;
      }
      return comments;
    },
    async addComment(repo, issue, text) {
      await octokit.rest.issues.createComment({ ...ctx.split(repo), issue_number: issue, body: text });
    },
    async addLabels(repo, issue, labels) {
      if (labels.length === 0) return;
      await octokit.rest.issues.addLabels({ ...ctx.split(repo), issue_number: issue, labels: [...labels] });
    },
    async getState(repo, issue) {
      const { data } = await octokit.rest.issues.get({ ...ctx.split(repo), issue_number: issue });
      return data.state;
    },
  };
}
