/**
 * Route names and GitHub-shaped answers shared by the GitHub emulator's handlers (test/emulators/github*.ts).
 */
import type { RepoRecord } from "./github-model.js";

/** Emulated routes, named after the octokit method that calls them ("graphql" is POST /graphql). */
export type GitHubRoute =
  | "pulls.create"
  | "pulls.list"
  | "pulls.get"
  | "pulls.update"
  | "pulls.requestReviewers"
  | "pulls.merge"
  | "issues.addLabels"
  | "issues.get"
  | "issues.listComments"
  | "issues.createComment"
  | "repos.get"
  | "repos.getBranch"
  | "repos.getCommit"
  | "repos.compareCommits"
  | "repos.getContent"
  | "repos.getCombinedStatusForRef"
  | "repos.createCommitStatus"
  | "checks.listForRef"
  | "git.getRef"
  | "git.createRef"
  | "git.updateRef"
  | "git.deleteRef"
  | "git.createTree"
  | "git.getCommit"
  | "git.createCommit"
  | "users.getByUsername"
  | "apps.createInstallationAccessToken"
  | "graphql";

export const DOCS: Record<GitHubRoute, string> = {
  "repos.get": "https://docs.github.com/rest/repos/repos#get-a-repository",
  "repos.getBranch": "https://docs.github.com/rest/branches/branches#get-a-branch",
  "repos.getCommit": "https://docs.github.com/rest/commits/commits#get-a-commit",
  "repos.compareCommits": "https://docs.github.com/rest/commits/commits#compare-two-commits",
  "repos.getContent": "https://docs.github.com/rest/repos/contents#get-repository-content",
  "repos.getCombinedStatusForRef":
    "https://docs.github.com/rest/commits/statuses#get-the-combined-status-for-a-specific-reference",
  "repos.createCommitStatus": "https://docs.github.com/rest/commits/statuses#create-a-commit-status",
  "checks.listForRef": "https://docs.github.com/rest/checks/runs#list-check-runs-for-a-git-reference",
  "pulls.list": "https://docs.github.com/rest/pulls/pulls#list-pull-requests",
  "pulls.get": "https://docs.github.com/rest/pulls/pulls#get-a-pull-request",
  "pulls.create": "https://docs.github.com/rest/pulls/pulls#create-a-pull-request",
  "pulls.update": "https://docs.github.com/rest/pulls/pulls#update-a-pull-request",
  "pulls.requestReviewers": "https://docs.github.com/rest/pulls/review-requests#request-reviewers-for-a-pull-request",
  "pulls.merge": "https://docs.github.com/rest/pulls/pulls#merge-a-pull-request",
  "issues.addLabels": "https://docs.github.com/rest/issues/labels#add-labels-to-an-issue",
  "issues.get": "https://docs.github.com/rest/issues/issues#get-an-issue",
  "issues.listComments": "https://docs.github.com/rest/issues/comments#list-issue-comments",
  "issues.createComment": "https://docs.github.com/rest/issues/comments#create-an-issue-comment",
  "git.getRef": "https://docs.github.com/rest/git/refs#get-a-reference",
  "git.createRef": "https://docs.github.com/rest/git/refs#create-a-reference",
  "git.updateRef": "https://docs.github.com/rest/git/refs#update-a-reference",
  "git.deleteRef": "https://docs.github.com/rest/git/refs#delete-a-reference",
  "git.createTree": "https://docs.github.com/rest/git/trees#create-a-tree",
  "git.getCommit": "https://docs.github.com/rest/git/commits#get-a-commit-object",
  "git.createCommit": "https://docs.github.com/rest/git/commits#create-a-commit",
  "users.getByUsername": "https://docs.github.com/rest/users/users#get-a-user",
  "apps.createInstallationAccessToken":
    "https://docs.github.com/rest/apps/apps#create-an-installation-access-token-for-an-app",
  graphql: "https://docs.github.com/graphql",
};

export interface Answer {
  status: number;
  body: unknown;
  headers?: Record<string, string>;
}

export const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);

export function errorBody(message: string, documentationUrl: string, status: number, errors?: unknown[]): Answer {
  const body: Record<string, unknown> = { message };
  if (errors) body.errors = errors;
  body.documentation_url = documentationUrl;
  body.status = String(status);
  return { status, body };
}

export const notFound = (route: GitHubRoute, message = "Not Found"): Answer => errorBody(message, DOCS[route], 404);
export const validationFailed = (route: GitHubRoute, errors: unknown[]): Answer =>
  errorBody("Validation Failed", DOCS[route], 422, errors);
/** GitHub's answer when the body breaks the operation's JSON schema. */
export const invalidRequest = (route: GitHubRoute, detail: string): Answer =>
  errorBody(`Invalid request.\n\n${detail}`, DOCS[route], 422);
/** A 422 with a bare message, as the git data API answers. */
export const unprocessable = (route: GitHubRoute, message: string): Answer => errorBody(message, DOCS[route], 422);

/** A route handler that works on one repository; `arg` is the path's tail (ref, sha, path or PR number). */
export type RepoHandler = (repo: RepoRecord, arg: string, query: URLSearchParams, body: unknown) => Answer;
