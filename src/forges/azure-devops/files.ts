import {
  GitVersionType,
  ItemContentType,
  VersionControlChangeType,
  type GitChange,
  type GitPush,
  type GitVersionDescriptor,
} from "azure-devops-node-api/interfaces/GitInterfaces.js";
import { PrCreatorError } from "../../domain/errors.js";
import { RetriesExhausted } from "../../net/retry.js";
import type { BranchCommit, FileChange, Forge, PushedCommit } from "../forge.js";
import { itemPath, toRef, type AzureDevOpsContext } from "./context.js";
import { serverMessage } from "./errors.js";

const ZEROS = "0".repeat(40);

/** A plan for one push: where the branch is now, what it starts from, and what must change. */
interface Plan {
  /** The branch's head, or undefined when the branch does not exist yet. */
  head: string | undefined;
  /** The commit the new commit goes on: the head, or the base branch's head for a new branch. */
  from: string;
  changes: GitChange[];
}

/**
 * Files through the Git API: reading one at a branch, and committing several as one push (POST /pushes)
 * that creates the branch from its base when missing. Re-running a commit that is already there writes
 * nothing; a push that loses a race (409 TF401028) is planned again from the new head once.
 */
export function files(ctx: AzureDevOpsContext): Pick<Forge, "readFile" | "commitFiles"> {
  const project = ctx.project;

  async function contentAt(repo: string, path: string, version: GitVersionDescriptor): Promise<string | null> {
    const api = await ctx.git();
    const item = await ctx.find(`read ${path} at ${version.version}`, () =>
      api.getItem(repo, itemPath(path), project, undefined, undefined, undefined, undefined, undefined, version, true),
    );
    if (!item || item.isFolder) return null;
    return item.content ?? "";
  }

  async function headOf(repo: string, branch: string): Promise<string | undefined> {
    const api = await ctx.git();
    const refs = await ctx.call(`read branch ${branch}`, () => api.getRefs(repo, project, `heads/${branch}`));
    if (refs === null)
      throw ctx.missing("repository", repo, "repo_not_found", "Check the repository name and AZURE_DEVOPS_PROJECT.");
    // The filter is a prefix: pick the exact ref.
    return refs.find((r) => r.name?.toLowerCase() === toRef(branch).toLowerCase())?.objectId;
  }

  async function plan(repo: string, commit: BranchCommit): Promise<Plan> {
    const [head, baseHead] = await Promise.all([headOf(repo, commit.branch), headOf(repo, commit.base_branch)]);
    const from = head ?? baseHead;
    if (!from) {
      throw new PrCreatorError(
        "branch_not_found",
        `Azure DevOps has neither branch "${commit.branch}" nor its base "${commit.base_branch}" in ${repo}.`,
        {
          hint: "Check base_branch: the branch is created from it.",
        },
      );
    }
    // The last entry for a path wins; the service refuses two changes to one path in a commit.
    const files = [...new Map(commit.files.map((f) => [itemPath(f.path), f.content])).entries()];
    const at: GitVersionDescriptor = { version: from, versionType: GitVersionType.Commit };
    const current = await Promise.all(files.map(([path]) => contentAt(repo, path, at)));
    const changes = files.flatMap(([path, content], i): GitChange[] => change(path, current[i] ?? null, content));
    return { head, from, changes };
  }

  async function firstParent(repo: string, sha: string): Promise<string> {
    const api = await ctx.git();
    const c = await ctx.call(`read commit ${sha.slice(0, 7)}`, () => api.getCommit(sha, repo, project));
    return c?.parents?.[0] ?? sha;
  }

  /** Pushes the plan; a stale head comes back as "stale" so the caller can plan again. */
  async function push(repo: string, commit: BranchCommit, p: Plan): Promise<PushedCommit | "stale"> {
    const api = await ctx.git();
    const operation = `push ${p.changes.length} file${p.changes.length === 1 ? "" : "s"} to ${commit.branch}`;
    const body: GitPush = {
      refUpdates: [{ name: toRef(commit.branch), oldObjectId: p.head ?? ZEROS }],
      commits: [{ comment: commit.message, parents: [p.from], changes: p.changes }],
    };
    try {
      const pushed = await ctx.retry(() => api.createPush(body, repo, project));
      const sha = pushed?.refUpdates?.[0]?.newObjectId ?? pushed?.commits?.at(-1)?.commitId;
      if (!sha)
        throw ctx.missing("repository", repo, "repo_not_found", "Check the repository name and AZURE_DEVOPS_PROJECT.");
      return { sha, parent: p.from, unchanged: false };
    } catch (error) {
      if (!(error instanceof RetriesExhausted)) throw error;
      if (error.failure.status === 409 && serverMessage(error.cause)?.includes("TF401028")) return "stale";
      throw ctx.failure(operation, error);
    }
  }

  /** A branch whose base already holds the files: created at the base's head, with no commit. */
  async function createAt(repo: string, branch: string, sha: string): Promise<PushedCommit | "stale"> {
    const api = await ctx.git();
    const results = await ctx.call(`create branch ${branch}`, () =>
      api.updateRefs([{ name: toRef(branch), oldObjectId: ZEROS, newObjectId: sha }], repo, project),
    );
    return results?.[0]?.success ? { sha, parent: sha, unchanged: false } : "stale";
  }

  return {
    async readFile(repo, branch, path) {
      return contentAt(repo, path, { version: branch, versionType: GitVersionType.Branch });
    },

    async commitFiles(repo, commit) {
      const pushed = await commitOnce(repo, commit);
      ctx.commitRepos.note(pushed.sha, repo);
      return pushed;
    },
  };

  /** Plans and pushes; a push that lost a race is planned again from the new head, once. */
  async function commitOnce(repo: string, commit: BranchCommit): Promise<PushedCommit> {
    for (let attempt = 1; ; attempt++) {
      const p = await plan(repo, commit);
      let outcome: PushedCommit | "stale";
      if (p.changes.length > 0) outcome = await push(repo, commit, p);
      else if (p.head) return { sha: p.head, parent: await firstParent(repo, p.head), unchanged: true };
      else outcome = await createAt(repo, commit.branch, p.from);
      if (outcome !== "stale") return outcome;
      if (attempt >= 2) {
        throw new PrCreatorError(
          "azure_devops_409",
          `Azure DevOps: branch ${commit.branch} of ${repo} kept moving while the commit was pushed (TF401028, twice).`,
          {
            hint: "Another writer is updating the branch; run again when it is quiet.",
            attempts: attempt,
          },
        );
      }
    }
  }
}

/** The change that turns `current` (null = absent) into `wanted`, or none when they already agree. */
function change(path: string, current: string | null, wanted: FileChange["content"]): GitChange[] {
  if (current === wanted) return [];
  if (wanted === null) return [{ changeType: VersionControlChangeType.Delete, item: { path } }];
  return [
    {
      changeType: current === null ? VersionControlChangeType.Add : VersionControlChangeType.Edit,
      item: { path },
      newContent: { content: wanted, contentType: ItemContentType.RawText },
    },
  ];
}
