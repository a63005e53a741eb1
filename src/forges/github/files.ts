import { PrCreatorError } from "../../domain/errors.js";
import { RetriesExhausted } from "../../net/retry.js";
import type { BranchCommit, Forge, PushedCommit } from "../forge.js";
import type { GitHubContext, Where } from "./context.js";
import { serverMessage, type OctokitError } from "./errors.js";

/** A missing file answers 404 "Not Found"; a missing ref answers 404 "No commit found for the ref …". */
const isMissingFile = (error: unknown) =>
  (error as OctokitError).status === 404 && !/no commit found/i.test(serverMessage(error));

/**
 * Files through the contents and git data APIs: reading one at a ref, and committing several as one commit
 * (tree, commit, ref) that creates the branch from its base when missing. A commit that is already there writes
 * nothing; a ref update that loses a race is redone from the new head once.
 */
export function files(ctx: GitHubContext): Pick<Forge, "readFile" | "commitFiles"> {
  const { octokit } = ctx;

  async function readAt(where: Where, ref: string, path: string): Promise<string | null> {
    const operation = `read ${path} at ${ref}`;
    const data = await ctx.call(
      operation,
      () =>
        octokit.repos.getContent({ ...where, path, ref, ...ctx.timeout() }).then(
          (r) => r.data,
          (error: unknown) => (isMissingFile(error) ? null : Promise.reject(error)),
        ),
      "branch_not_found",
    );
    if (data === null) return null;
    if (Array.isArray(data) || data.type !== "file") {
      throw new PrCreatorError(
        "invalid_request",
        `${path} at ${ref} in ${where.owner}/${where.repo} is a ${Array.isArray(data) ? "directory" : data.type}, not a file.`,
        { hint: "Name a file, not a folder." },
      );
    }
    // GitHub leaves `content` empty (encoding "none") for files over 1 MB.
    if (!("encoding" in data) || data.encoding !== "base64") {
      throw new PrCreatorError(
        "invalid_request",
        `${path} at ${ref} in ${where.owner}/${where.repo} is too large for the contents API (encoding "${"encoding" in data ? data.encoding : "?"}").`,
        { hint: "Keep files the agent edits under 1 MB." },
      );
    }
    return Buffer.from(data.content, "base64").toString("utf8");
  }

  /** A branch's tip, or null when the branch does not exist. */
  function branchTip(where: Where, branch: string): Promise<string | null> {
    return ctx.call(`read branch ${branch}`, () =>
      octokit.git.getRef({ ...where, ref: `heads/${branch}`, ...ctx.timeout() }).then(
        (r) => r.data.object.sha,
        (error: OctokitError) => (error.status === 404 ? null : Promise.reject(error)),
      ),
    );
  }

  async function pushFiles(repo: string, commit: BranchCommit, raceRetried: boolean): Promise<PushedCommit> {
    const where = ctx.split(repo);
    const head = await branchTip(where, commit.branch);
    const start = head ?? (await branchTip(where, commit.base_branch));
    if (start === null) {
      throw new PrCreatorError(
        "branch_not_found",
        `Neither "${commit.branch}" nor its base "${commit.base_branch}" exists in ${repo}.`,
        { hint: "Check the base branch name." },
      );
    }
    const [startCommit, current] = await Promise.all([
      ctx.call(`read commit ${start}`, () => octokit.git.getCommit({ ...where, commit_sha: start, ...ctx.timeout() })),
      Promise.all(commit.files.map((f) => readAt(where, start, f.path))),
    ]);
    const changed = commit.files.filter((f, i) => current[i] !== f.content);
    if (head !== null && changed.length === 0)
      return { sha: head, parent: startCommit.data.parents[0]?.sha ?? head, unchanged: true };
    const tree =
      changed.length === 0
        ? startCommit.data.tree.sha
        : (
            await ctx.call("create a tree", () =>
              octokit.git.createTree({
                ...where,
                base_tree: startCommit.data.tree.sha,
                tree: changed.map((f) =>
                  f.content === null
                    ? { path: f.path, mode: "100644" as const, type: "blob" as const, sha: null }
                    : { path: f.path, mode: "100644" as const, type: "blob" as const, content: f.content },
                ),
                ...ctx.timeout(),
              }),
            )
          ).data.sha;
    const created = (
      await ctx.call("create a commit", () =>
        octokit.git.createCommit({ ...where, message: commit.message, tree, parents: [start], ...ctx.timeout() }),
      )
    ).data.sha;
    const operation = head === null ? `create branch ${commit.branch}` : `move branch ${commit.branch}`;
    try {
      await ctx.retry<unknown>(() =>
        head === null
          ? octokit.git.createRef({ ...where, ref: `refs/heads/${commit.branch}`, sha: created, ...ctx.timeout() })
          : octokit.git.updateRef({
              ...where,
              ref: `heads/${commit.branch}`,
              sha: created,
              force: false,
              ...ctx.timeout(),
            }),
      );
    } catch (error) {
      if (!(error instanceof RetriesExhausted)) throw error;
      // Someone else wrote the branch between our read and our write: read again and redo, once.
      const race =
        error.failure.status === 422 && /not a fast forward|reference already exists/i.test(serverMessage(error.cause));
      if (race && !raceRetried) return pushFiles(repo, commit, true);
      throw ctx.failure(operation, error);
    }
    return { sha: created, parent: start, unchanged: false };
  }

  return {
    async readFile(repo, branch, path) {
      return readAt(ctx.split(repo), branch, path);
    },

    async commitFiles(repo, commit) {
      const pushed = await pushFiles(repo, commit, false);
      ctx.commitRepos.note(pushed.sha, repo);
      return pushed;
    },
  };
}
