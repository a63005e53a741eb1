/**
 * GitHub issues for the emulator: issues.get, issues.listComments, issues.createComment (answers shaped as
 * @octokit/openapi's `issue` and `issue-comment` schemas; github.test.ts checks them), and the issue side of
 * issues.addLabels. Issues live beside the repository's PRs; tests add them with `addIssue` at numbers no PR
 * uses (GitHub numbers both in one sequence; the emulator numbers PRs from 1).
 */
import {
  renderLabel,
  renderSimpleUser,
  nodeId,
  timestamp,
  type EmulatorState,
  type LabelRecord,
  type Links,
  type RepoRecord,
} from "./github-model.js";
import { invalidRequest, isObject, notFound, type Answer, type GitHubRoute, type RepoHandler } from "./github-http.js";

export interface IssueCommentRecord {
  id: number;
  body: string;
  author: string;
  created_at: string;
}

export interface IssueRecord {
  id: number;
  number: number;
  title: string;
  state: "open" | "closed";
  labels: LabelRecord[];
  comments: IssueCommentRecord[];
  created_at: string;
  updated_at: string;
}

const ISSUES = new WeakMap<RepoRecord, Map<number, IssueRecord>>();

/** The repository's issues by number (empty for a repository without any). */
export function issuesOf(repo: RepoRecord): Map<number, IssueRecord> {
  let issues = ISSUES.get(repo);
  if (!issues) ISSUES.set(repo, (issues = new Map()));
  return issues;
}

/** GitHub's limit on a comment body, in characters. */
export const COMMENT_MAX = 65536;

interface IssueRouteContext {
  state: EmulatorState;
  newId: () => number;
  links: () => Links;
}

export function issueRoutes({ state, newId, links }: IssueRouteContext): Partial<Record<GitHubRoute, RepoHandler>> {
  const author = (login: string) => {
    const user = state.users.get(login.toLowerCase());
    if (!user) throw new Error(`emulator: unknown user ${login}`);
    return renderSimpleUser(user, links());
  };
  const api = (repo: RepoRecord) => `${links().api}/repos/${repo.full_name}`;
  const html = (repo: RepoRecord) => `${links().html}/${repo.full_name}`;

  const renderComment = (repo: RepoRecord, issue: IssueRecord, c: IssueCommentRecord) => ({
    id: c.id,
    node_id: nodeId("IC", c.id),
    url: `${api(repo)}/issues/comments/${c.id}`,
    html_url: `${html(repo)}/issues/${issue.number}#issuecomment-${c.id}`,
    body: c.body,
    user: author(c.author),
    created_at: c.created_at,
    updated_at: c.created_at,
    issue_url: `${api(repo)}/issues/${issue.number}`,
    author_association: "MEMBER",
  });

  const renderIssue = (repo: RepoRecord, issue: IssueRecord) => ({
    id: issue.id,
    node_id: nodeId("I", issue.id),
    url: `${api(repo)}/issues/${issue.number}`,
    repository_url: api(repo),
    labels_url: `${api(repo)}/issues/${issue.number}/labels{/name}`,
    comments_url: `${api(repo)}/issues/${issue.number}/comments`,
    events_url: `${api(repo)}/issues/${issue.number}/events`,
    html_url: `${html(repo)}/issues/${issue.number}`,
    number: issue.number,
    state: issue.state,
    title: issue.title,
    body: null,
    user: author(state.viewer),
    labels: issue.labels.map((l) => renderLabel(repo, l, links())),
    assignee: null,
    assignees: [],
    milestone: null,
    locked: false,
    comments: issue.comments.length,
    closed_at: null,
    created_at: issue.created_at,
    updated_at: issue.updated_at,
    author_association: "MEMBER",
  });

  const find = (repo: RepoRecord, arg: string) => issuesOf(repo).get(Number(arg));

  return {
    "issues.get": (repo, arg) => {
      const issue = find(repo, arg);
      return issue ? { status: 200, body: renderIssue(repo, issue) } : notFound("issues.get");
    },
    "issues.listComments": (repo, arg, query) => {
      const issue = find(repo, arg);
      if (!issue) return notFound("issues.listComments");
      const perPage = Math.min(Math.max(Number(query.get("per_page") ?? 30) || 30, 1), 100);
      const page = Math.max(Number(query.get("page") ?? 1) || 1, 1);
      const slice = issue.comments.slice((page - 1) * perPage, page * perPage);
      return { status: 200, body: slice.map((c) => renderComment(repo, issue, c)) };
    },
    "issues.createComment": (repo, arg, _query, body): Answer => {
      const issue = find(repo, arg);
      if (!issue) return notFound("issues.createComment");
      if (!isObject(body) || typeof body.body !== "string")
        return invalidRequest(
          "issues.createComment",
          `For 'properties/body', ${JSON.stringify(isObject(body) ? (body.body ?? null) : null)} is not a string.`,
        );
      if ([...body.body].length > COMMENT_MAX)
        return invalidRequest("issues.createComment", `Body is too long (maximum is ${COMMENT_MAX} characters)`);
      const comment = { id: newId(), body: body.body, author: state.viewer, created_at: timestamp() };
      issue.comments.push(comment);
      issue.updated_at = comment.created_at;
      return {
        status: 201,
        body: renderComment(repo, issue, comment),
        headers: { location: `${api(repo)}/issues/comments/${comment.id}` },
      };
    },
  };
}

/** Adds (or replaces) issue `number` of the repository. */
export function addIssue(repo: RepoRecord, id: number, number: number, title: string): IssueRecord {
  if (repo.pulls.length >= number) throw new Error(`emulator: #${number} is a pull request of ${repo.full_name}`);
  const now = timestamp();
  const issue: IssueRecord = {
    id,
    number,
    title,
    state: "open",
    labels: [],
    comments: [],
    created_at: now,
    updated_at: now,
  };
  issuesOf(repo).set(number, issue);
  return issue;
}
