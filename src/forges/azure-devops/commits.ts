import {
  GitVersionType,
  VersionControlChangeType,
  type GitCommit,
} from "azure-devops-node-api/interfaces/GitInterfaces.js";
import type { ChangedFile, ChangeRequest, ChangeSet, CommitInfo, CommitSource } from "../../domain/commit.js";
import { PrCreatorError } from "../../domain/errors.js";
import { looksBinary, planTexts, readPlannedTexts, type ReadText, type TextSide } from "../texts.js";
import { itemPath, toRef, type AzureDevOpsContext } from "./context.js";

/** Changes read with the commit, and per page after it when the commit has more. */
const MAX_CHANGES = 1000;

/** Item reads in flight at once for readTexts: enough to overlap round trips without tripping rate limits. */
const TEXT_READS = 4;

const CHANGE: Array<[number, ChangedFile["change"]]> = [
  [VersionControlChangeType.Rename, "renamed"],
  [VersionControlChangeType.Delete, "deleted"],
  [VersionControlChangeType.Add, "added"],
  [VersionControlChangeType.Edit, "modified"],
];

function changeType(value: unknown): ChangedFile["change"] {
  if (typeof value === "number") return CHANGE.find(([flag]) => (value & flag) !== 0)?.[1] ?? "modified";
  const text = String(value ?? "").toLowerCase();
  return text.includes("rename")
    ? "renamed"
    : text.includes("delete")
      ? "deleted"
      : text.includes("add")
        ? "added"
        : "modified";
}

/**
 * Commits through the REST API: the event's commit and its changes. Azure reports no line counts and no patch:
 * readTexts reads the items at the base and the head, and the digest counts lines from them.
 */
export function commits(ctx: AzureDevOpsContext): CommitSource {
  const { project, call } = ctx;

  /**
   * One side's text: undefined when the item is not there or the read failed for good (the path is then left
   * out), null when it is not text (a folder, or content the service or a NUL byte marks as binary).
   */
  async function textAt(repo: string, side: TextSide): Promise<ReadText> {
    try {
      const api = await ctx.git();
      const version = { version: side.commit, versionType: GitVersionType.Commit };
      const item = await ctx.find(`read ${side.path} at ${side.commit.slice(0, 7)}`, () =>
        api.getItem(
          repo,
          itemPath(side.path),
          project,
          undefined,
          undefined,
          true,
          undefined,
          undefined,
          version,
          true,
        ),
      );
      if (!item) return undefined;
      if (item.isFolder || item.contentMetadata?.isBinary) return null;
      const content = item.content ?? "";
      return looksBinary(content) ? null : content;
    } catch (error) {
      if (error instanceof PrCreatorError) return undefined;
      throw error;
    }
  }

  function commitInfo(c: GitCommit): CommitInfo {
    const message = c.comment ?? "";
    const [subject = "", ...rest] = message.split("\n");
    return {
      hash: c.commitId!,
      short_hash: c.commitId!.slice(0, 7),
      subject: subject.trim(),
      body: rest.join("\n").trim(),
      author: { name: c.author?.name ?? "", email: c.author?.email ?? "" },
      authored_at: c.author?.date ? new Date(c.author.date).toISOString() : "",
      parents: c.parents ?? [],
    };
  }

  return {
    async readTexts(changes, paths, onText) {
      const plans = planTexts(changes, paths);
      const repo = ctx.commitRepos.of(changes.commits.at(-1)?.hash);
      if (repo === undefined || plans.length === 0) return new Map();
      return readPlannedTexts(plans, TEXT_READS, (side) => textAt(repo, side), onText);
    },

    async load(request: ChangeRequest): Promise<ChangeSet> {
      const api = await ctx.git();
      // One wave: the commit with its changes ("Commits - Get" with changeCount), and the branch only when nothing
      // after this would report a missing one (a preview): creating the pull request fails with TF401398, which
      // the publisher reports as branch_not_found, so a publishing run saves the call and its round-trip slot.
      // The repository is read only to tell a missing repository from a missing commit or branch.
      const [read, refs] = await Promise.allSettled([
        call(`read commit ${request.commit}`, () => api.getCommit(request.commit, request.repo, project, MAX_CHANGES)),
        request.branch_checked_later
          ? Promise.resolve(undefined)
          : call(`read branch ${request.branch}`, () => api.getRefs(request.repo, project, `heads/${request.branch}`)),
      ]);
      const found = read.status === "fulfilled" && Boolean(read.value?.commitId);
      if (!found || refs.status === "rejected") {
        const repository = await call(`read repository ${request.repo}`, () =>
          api.getRepository(request.repo, project),
        );
        if (!repository)
          throw ctx.missing(
            "repository",
            request.repo,
            "repo_not_found",
            "Check the repo in the event and AZURE_DEVOPS_PROJECT.",
          );
      }
      if (refs.status === "rejected") throw refs.reason;
      if (!request.branch_checked_later && !(refs.value ?? []).some((r) => r.name === toRef(request.branch))) {
        throw ctx.missing(
          "branch",
          request.branch,
          "branch_not_found",
          "Push the branch, or check the branch in the event.",
        );
      }
      if (read.status === "rejected") throw read.reason;
      if (!read.value?.commitId)
        throw ctx.missing(
          "commit",
          request.commit,
          "commit_not_found",
          "Check the commit hash in the event; Azure DevOps needs the full 40-character hash.",
        );
      const commit = commitInfo(read.value);
      let changes = read.value.changes ?? [];
      // changeCounts counts every change; more than came with the commit are read after it, page by page.
      const total = Object.values(read.value.changeCounts ?? {}).reduce((n, count) => n + count, 0);
      while (changes.length < total) {
        const skip = changes.length;
        const page = await call(`read the changes of ${commit.short_hash}`, () =>
          api.getChanges(commit.hash, request.repo, project, MAX_CHANGES, skip),
        );
        if (!page?.changes?.length) break;
        changes = [...changes, ...page.changes];
      }
      const files: ChangedFile[] = changes
        .filter(
          (c) =>
            (c.item as { gitObjectType?: unknown } | undefined)?.gitObjectType !== "tree" &&
            !(c.item as { isFolder?: boolean } | undefined)?.isFolder,
        )
        .map((c) => {
          const change = changeType(c.changeType);
          const path = (c.item?.path ?? "").replace(/^\//, "");
          const source = (c as { sourceServerItem?: string }).sourceServerItem?.replace(/^\//, "");
          return {
            path,
            ...(change === "renamed" && source ? { old_path: source } : {}),
            change,
            additions: 0,
            deletions: 0,
            binary: false,
          };
        });
      ctx.commitRepos.note(commit.hash, request.repo);
      return {
        commits: [commit],
        base: commit.parents[0] ?? null,
        range: "commit",
        files,
        additions: 0,
        deletions: 0,
        line_counts: "unavailable",
      };
    },
  };
}
