/**
 * The "bare" baseline: the same client libraries the agent uses, called directly with the minimal correct
 * calls to open the same PR (same title, description, draft flag, reviewers and labels):
 *
 *   Azure DevOps: getPullRequests (is the pair's PR already open?) ‖ reviewer ids (teams + members, loaded
 *                 once per instance) → one createPullRequest carrying reviewers and labels.
 *   GitHub:       pulls.list (is the pair's PR already open?) → pulls.create → requestReviewers ‖ addLabels.
 *
 * No commit reads, no retries, no validation: a lower bound for what any publisher must send.
 *
 * With `reads: true` ("bare+reads"), it also reads what the PR's description is built from, with the minimal
 * calls, as a lower bound for any client that describes the change it publishes: the commit with its changed
 * files in the first wave (beside the open-PR look-up), then every changed file's text at once — after the
 * commit, and before it (at the first parent, under the old path of a rename) unless the file was added:
 *
 *   Azure DevOps: getPullRequests ‖ getCommit(changeCount) → getItem per side, all at once → createPullRequest.
 *   GitHub:       pulls.list ‖ repos.getCommit → one GraphQL query for every side's blob no patch holds whole
 *                 (none when every file was added or removed) → pulls.create → requestReviewers ‖ addLabels.
 *
 * What it read is not used (it publishes the agent's finished title and description): the reads are there for
 * their round trips.
 */
import * as azdev from "azure-devops-node-api";
import type { IGitApi } from "azure-devops-node-api/GitApi.js";
import {
  GitVersionType,
  PullRequestStatus,
  VersionControlChangeType,
} from "azure-devops-node-api/interfaces/GitInterfaces.js";
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
  /** The event's commit: read, with its files' texts, by the `reads` variant. */
  commit?: string;
}

/** A file's text to read: at which commit, under which path. */
interface Side {
  commit: string;
  path: string;
}

/** The sides a change needs read: after unless deleted, before (at `parent`) unless added or a root commit. */
function sidesOf(
  head: string,
  parent: string | undefined,
  files: Array<{ path: string; old_path?: string; added: boolean; deleted: boolean }>,
): Side[] {
  return files.flatMap((f) => [
    ...(f.deleted ? [] : [{ commit: head, path: f.path }]),
    ...(f.added || !parent ? [] : [{ commit: parent, path: f.old_path ?? f.path }]),
  ]);
}

const commitOf = (pr: BarePr): string => {
  if (!pr.commit) throw new Error("bare: the reads variant needs the event's commit");
  return pr.commit;
};

export interface BarePublisher {
  publish(pr: BarePr): Promise<{ id: number }>;
}

export function createBareAzure(opts: {
  orgUrl: string;
  project: string;
  token: string;
  reads?: boolean;
}): BarePublisher {
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
      const [open, ids, commit] = await Promise.all([
        api.getPullRequests(pr.repo, { sourceRefName, targetRefName, status: PullRequestStatus.Active }, opts.project),
        (directory ??= loadDirectory()),
        opts.reads ? api.getCommit(commitOf(pr), pr.repo, opts.project, 10_000) : undefined,
      ]);
      if (open.length > 0) throw new Error(`bare: ${pr.source_branch} already has PR ${open[0]!.pullRequestId}`);
      if (commit) {
        const files = (commit.changes ?? []).map((c) => {
          // The client turns the change type into its flags enum; an unknown spelling stays a string.
          const flags = typeof c.changeType === "number" ? c.changeType : 0;
          const type = String(c.changeType).toLowerCase();
          return {
            path: c.item?.path ?? "",
            ...(c.sourceServerItem ? { old_path: c.sourceServerItem } : {}),
            added: (flags & VersionControlChangeType.Add) !== 0 || type.includes("add"),
            deleted: (flags & VersionControlChangeType.Delete) !== 0 || type.includes("delete"),
          };
        });
        await Promise.all(
          sidesOf(commit.commitId!, commit.parents?.[0], files).map((side) =>
            api.getItem(
              pr.repo,
              side.path,
              opts.project,
              undefined,
              undefined,
              true,
              undefined,
              undefined,
              {
                version: side.commit,
                versionType: GitVersionType.Commit,
              },
              true,
            ),
          ),
        );
      }
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

export function createBareGitHub(opts: { url: string; token: string; reads?: boolean }): BarePublisher {
  const octokit = new Octokit({
    auth: opts.token,
    baseUrl: opts.url,
    userAgent: "pr-creator-bench",
    log: { debug: () => {}, info: () => {}, warn: () => {}, error: () => {} },
  });
  return {
    async publish(pr) {
      const [owner = "", repo = ""] = pr.repo.split("/");
      const [open, commit] = await Promise.all([
        octokit.pulls.list({
          owner,
          repo,
          state: "open",
          head: `${owner}:${pr.source_branch}`,
          base: pr.target_branch,
          per_page: 10,
        }),
        opts.reads ? octokit.repos.getCommit({ owner, repo, ref: commitOf(pr) }) : undefined,
      ]);
      if (open.data.length > 0) throw new Error(`bare: ${pr.source_branch} already has PR #${open.data[0]!.number}`);
      if (commit) {
        // An added or removed file's patch holds its whole text (one hunk): only the other files are read.
        const files = (commit.data.files ?? [])
          .filter((f) => !(f.patch !== undefined && (f.status === "added" || f.status === "removed")))
          .map((f) => ({
            path: f.filename,
            ...(f.previous_filename ? { old_path: f.previous_filename } : {}),
            added: f.status === "added",
            deleted: f.status === "removed",
          }));
        // Every side in one query: GitHub's fewest calls for many files' texts.
        const sides = sidesOf(commit.data.sha, commit.data.parents[0]?.sha, files);
        if (sides.length > 0)
          await octokit.graphql(
            `query($owner: String!, $name: String!, ${sides.map((_, i) => `$e${i}: String!`).join(", ")}) { repository(owner: $owner, name: $name) { ${sides.map((_, i) => `f${i}: object(expression: $e${i}) { ... on Blob { text } }`).join(" ")} } }`,
            {
              owner,
              name: repo,
              ...Object.fromEntries(sides.map((side, i) => [`e${i}`, `${side.commit}:${side.path}`])),
            },
          );
      }
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
