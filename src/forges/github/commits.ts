import type { ChangedFile, ChangeRequest, ChangeSet, CommitInfo, CommitSource } from "../../domain/commit.js";
import { PrCreatorError } from "../../domain/errors.js";
import type { GitHubContext } from "./context.js";

const FILE_STATUS: Record<string, ChangedFile["change"]> = {
  added: "added",
  removed: "deleted",
  modified: "modified",
  renamed: "renamed",
  copied: "copied",
  changed: "type_changed",
  unchanged: "modified",
};

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

function changedFiles(
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

/** Commits through the REST API: the event's commit, or the branch compared with its target (merge base). */
export function commits(ctx: GitHubContext): CommitSource {
  const { octokit, split, timeout, call } = ctx;

  return {
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
        const fs = changedFiles(cmp.files);
        return {
          commits: cmp.commits.map(commitInfo),
          base: cmp.merge_base_commit.sha,
          range: "merge-base",
          files: fs,
          ...totals(fs),
        };
      }
      const fs = changedFiles(head.files);
      return {
        commits: [commitInfo(head)],
        base: head.parents[0]?.sha ?? null,
        range: "commit",
        files: fs,
        ...totals(fs),
      };
    },
  };
}
