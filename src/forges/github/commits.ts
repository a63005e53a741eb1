import type { ChangedFile, ChangeRequest, ChangeSet, CommitInfo, CommitSource } from "../../domain/commit.js";
import { changeSetOf } from "../../domain/commit.js";
import { PrCreatorError } from "../../domain/errors.js";
import { mapLimit } from "../../net/limit.js";
import {
  assembleTexts,
  looksBinary,
  planTexts,
  sideKey,
  sidesOf,
  wholeTextFromPatch,
  type ReadText,
  type TextSide,
} from "../texts.js";
import type { GitHubContext, Where } from "./context.js";

/** Text reads in flight at once for readTexts: GitHub asks clients not to flood it with concurrent requests. */
const TEXT_READS = 4;
/** File texts per GraphQL query: one query is one round trip, and its answer stays a few MB at most. */
const TEXTS_PER_QUERY = 50;

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
  return (list ?? []).map((f) => {
    // GitHub sends no patch for binary files; a text change with no lines is not binary.
    const binary =
      f.patch === undefined && f.additions + f.deletions === 0 && f.status !== "removed" && f.status !== "renamed";
    return {
      path: f.filename,
      ...(f.previous_filename ? { old_path: f.previous_filename } : {}),
      change: FILE_STATUS[f.status] ?? "modified",
      additions: f.additions,
      deletions: f.deletions,
      binary,
      // Left out for large diffs: the digest then diffs the files' texts.
      ...(f.patch !== undefined && !binary ? { patch: f.patch } : {}),
    };
  });
}

/** Whether `sha` (a full hash from GitHub) is the event's commit, which may be given abbreviated. */
const isEventCommit = (sha: string, request: ChangeRequest) =>
  request.commit.length >= 7 && sha.toLowerCase().startsWith(request.commit.toLowerCase());

type CommitData = Parameters<typeof commitInfo>[0] & { files?: Parameters<typeof changedFiles>[0] };

/** A change set of GitHub's `files` list, with their line totals. */
const changeSet = (commits: CommitInfo[], base: string | null, range: ChangeSet["range"], list: CommitData["files"]) =>
  changeSetOf(commits, base, range, changedFiles(list));

/** The event's commit alone, against its first parent. */
const oneCommit = (head: CommitData): ChangeSet =>
  changeSet([commitInfo(head)], head.parents[0]?.sha ?? null, "commit", head.files);

/** The branch's commits since the merge base with its target, from a compare. */
const sinceMergeBase = (cmp: {
  commits: CommitData[];
  merge_base_commit: { sha: string };
  files?: CommitData["files"];
}): ChangeSet => changeSet(cmp.commits.map(commitInfo), cmp.merge_base_commit.sha, "merge-base", cmp.files);

/**
 * Commits through the REST API: the event's commit, or the branch compared with its target (merge base), with
 * each file's patch as GitHub gives it. readTexts takes what the patches hold and reads the rest at the base and
 * the head in GraphQL queries (one round trip for up to TEXTS_PER_QUERY sides), else through the contents API.
 */
export function commits(ctx: GitHubContext): CommitSource {
  const { octokit, split, timeout, call } = ctx;

  /**
   * One side's text: undefined when the file is not there or the read failed for good (the path is then left
   * out), null when it is not text (a folder, a submodule, binary content), and undefined too for files over
   * 1 MB, whose content the contents API leaves empty.
   */
  async function textAt(where: Where, side: TextSide): Promise<ReadText> {
    try {
      const { data } = await call(`read ${side.path} at ${side.commit.slice(0, 7)}`, () =>
        octokit.repos.getContent({ ...where, path: side.path, ref: side.commit, ...timeout() }),
      );
      if (Array.isArray(data) || data.type !== "file") return null;
      if (!("encoding" in data) || data.encoding !== "base64") return undefined;
      const bytes = Buffer.from(data.content, "base64");
      return looksBinary(bytes) ? null : bytes.toString("utf8");
    } catch (error) {
      if (error instanceof PrCreatorError) return undefined;
      throw error;
    }
  }

  /**
   * Many sides' texts in one GraphQL query (`object(expression: "<commit>:<path>")` per side): one round trip
   * where the contents API takes one call per side. Per side as textAt has it: the text, null when it is not
   * text (a folder, a submodule, binary), undefined when absent or truncated. Undefined as a whole when the query
   * failed; textAt then reads side by side.
   */
  async function textsByQuery(where: Where, sides: readonly TextSide[]): Promise<ReadText[] | undefined> {
    const fields = sides
      .map((_, i) => `f${i}: object(expression: $e${i}) { ... on Blob { text isBinary isTruncated } }`)
      .join(" ");
    const query = `query ReadTexts($owner: String!, $name: String!, ${sides.map((_, i) => `$e${i}: String!`).join(", ")}) { repository(owner: $owner, name: $name) { ${fields} } }`;
    const variables = Object.fromEntries(sides.map((side, i) => [`e${i}`, `${side.commit}:${side.path}`]));
    type Blob = { text?: string | null; isBinary?: boolean | null; isTruncated?: boolean } | null;
    try {
      const data = await call(`read ${sides.length} file texts`, () =>
        octokit.graphql<{ repository: Record<string, Blob> | null }>(query, {
          owner: where.owner,
          name: where.repo,
          ...variables,
          ...timeout(),
        }),
      );
      return sides.map((_, i): ReadText => {
        const blob = data.repository?.[`f${i}`];
        if (!blob) return undefined;
        // A tree or a submodule answers without the Blob fields.
        if (blob.isBinary === undefined || blob.isBinary) return null;
        if (blob.isTruncated || typeof blob.text !== "string") return undefined;
        return looksBinary(blob.text) ? null : blob.text;
      });
    } catch (error) {
      if (error instanceof PrCreatorError) return undefined;
      throw error;
    }
  }

  /**
   * Every side's text: in queries of TEXTS_PER_QUERY sides, else (a failed query) through the contents API. With
   * github.throttle on, through the contents API only: the throttle spaces GraphQL requests a second apart, like
   * writes, which would delay the PR's create by as much, while it lets reads run ten at a time.
   */
  async function textsOf(where: Where, sides: readonly TextSide[]): Promise<ReadText[]> {
    if (ctx.throttled) return mapLimit(sides, TEXT_READS, (side) => textAt(where, side));
    const parts = Array.from({ length: Math.ceil(sides.length / TEXTS_PER_QUERY) }, (_, i) =>
      sides.slice(i * TEXTS_PER_QUERY, (i + 1) * TEXTS_PER_QUERY),
    );
    const answers = await mapLimit(parts, TEXT_READS, async (part) => {
      const read = await textsByQuery(where, part);
      return read ?? (await mapLimit(part, TEXT_READS, (side) => textAt(where, side)));
    });
    return answers.flat();
  }

  return {
    async readTexts(changes, paths) {
      const plans = planTexts(changes, paths);
      const repo = ctx.commitRepos.of(changes.commits.at(-1)?.hash);
      if (repo === undefined || plans.length === 0) return new Map();
      const where = split(repo);
      // An added or deleted file's patch is its whole text: only what no patch gives is read.
      const byKey = new Map<string, ReadText>();
      const files = new Map(changes.files.map((f) => [f.path, f]));
      for (const plan of plans) {
        const file = files.get(plan.path);
        if (!file?.patch) continue;
        const side = file.change === "added" ? plan.after : file.change === "deleted" ? plan.before : null;
        const text = side && wholeTextFromPatch(file.patch, file.change === "added" ? "after" : "before");
        if (side && text !== undefined) byKey.set(sideKey(side), text);
      }
      const sides = [...sidesOf(plans).values()].filter((side) => !byKey.has(sideKey(side)));
      const read = await textsOf(where, sides);
      sides.forEach((side, i) => byKey.set(sideKey(side), read[i]));
      return assembleTexts(plans, (side) => byKey.get(sideKey(side)));
    },

    async load(request: ChangeRequest): Promise<ChangeSet> {
      const set = (await loadFast(request)) ?? (await loadChecked(request));
      ctx.commitRepos.note(set.commits.at(-1)?.hash, request.repo);
      return set;
    },
  };

  /**
   * The usual case in one call (two for `range: commit`): the event's commit is its branch's head. A compare of
   * the target with the branch then gives the commits and files since the merge base and proves the commit is on
   * the branch; for a single commit, the commit read and the branch read together do. Anything else — a 404 or
   * 422, a branch that moved on, a branch with nothing over its target, a truncated compare — is undefined, and
   * loadChecked reads and reports it as before.
   */
  async function loadFast(request: ChangeRequest): Promise<ChangeSet | undefined> {
    const where = split(request.repo);
    const quiet = <T>(what: string, fn: () => Promise<T>): Promise<T | undefined> =>
      call(what, fn, "repo_not_found", [404, 422]).catch((error: unknown) => {
        if (error instanceof PrCreatorError && error.reason === "repo_not_found") return undefined;
        throw error;
      });
    if (request.range === "commit") {
      const [commitRead, branchRead] = await Promise.all([
        quiet(`read commit ${request.commit}`, () =>
          octokit.repos.getCommit({ ...where, ref: request.commit, ...timeout() }),
        ),
        quiet(`read branch ${request.branch}`, () =>
          octokit.repos.getBranch({ ...where, branch: request.branch, ...timeout() }),
        ),
      ]);
      const head = commitRead?.data;
      if (!head || !branchRead || branchRead.data.commit.sha !== head.sha || !isEventCommit(head.sha, request))
        return undefined;
      return oneCommit(head);
    }
    const cmp = (
      await quiet("compare the branch with its target", () =>
        octokit.repos.compareCommitsWithBasehead({
          ...where,
          basehead: `${request.target_branch}...${request.branch}`,
          ...timeout(),
        }),
      )
    )?.data;
    const last = cmp?.commits.at(-1);
    if (!cmp || !last || cmp.total_commits !== cmp.commits.length || !isEventCommit(last.sha, request))
      return undefined;
    return sinceMergeBase(cmp);
  }

  async function loadChecked(request: ChangeRequest): Promise<ChangeSet> {
    const where = split(request.repo);
    const wantsRange = request.range !== "commit";
    const compare = (basehead: string, what: string) =>
      call(what, () => octokit.repos.compareCommitsWithBasehead({ ...where, basehead, ...timeout() })).then(
        (r) => r.data,
      );
    // One wave of reads, all keyed by the event's own names; failures are reported in a fixed order
    // (repo, branch, commit), and a missing target shows as the target compare's 404. Only after loadFast
    // found something unusual: a name that does not exist, or a commit that is not its branch's head.
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
    const head = (commitRead as PromiseFulfilledResult<Awaited<ReturnType<typeof octokit.repos.getCommit>>>).value.data;
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
      return sinceMergeBase(cmp);
    }
    return oneCommit(head);
  }
}
