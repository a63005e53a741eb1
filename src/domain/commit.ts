/** What a commit source reports about the change a PR is made of. Pure data, no I/O. */

export type ChangeType = "added" | "modified" | "deleted" | "renamed" | "copied" | "type_changed";

export interface ChangedFile {
  /** Path after the change (for deletions, the deleted path). Always `/`-separated, relative to the repo root. */
  path: string;
  /** Path before a rename or copy. */
  old_path?: string;
  change: ChangeType;
  additions: number;
  deletions: number;
  binary: boolean;
  /** The file's unified-diff hunks (from `@@` on) when the source gives them (local git, GitHub); never for binary files. */
  patch?: string;
}

/** A changed file's text before and after the change; null where the file did not exist or is not text. */
export interface FileTexts {
  before: string | null;
  after: string | null;
}

export interface CommitInfo {
  hash: string;
  short_hash: string;
  subject: string;
  /** Message without the subject line, trimmed; empty when there is none. */
  body: string;
  author: { name: string; email: string };
  authored_at: string;
  parents: string[];
}

export interface ChangeSet {
  /** Commits in the PR, oldest first; the event's commit is last. */
  commits: CommitInfo[];
  /** The commit the diff is taken against: the merge base, the first parent, or null for a root commit. */
  base: string | null;
  range: "commit" | "merge-base";
  files: ChangedFile[];
  additions: number;
  deletions: number;
  /** `unavailable` when the source cannot count lines (Azure DevOps' commit API): counts are 0 and the size limit is not checked. */
  line_counts?: "exact" | "unavailable";
}

/** A change set of `files`, its line totals summed from theirs. */
export function changeSetOf(
  commits: CommitInfo[],
  base: string | null,
  range: ChangeSet["range"],
  files: ChangedFile[],
  lineCounts?: ChangeSet["line_counts"],
): ChangeSet {
  return {
    commits,
    base,
    range,
    files,
    additions: files.reduce((sum, f) => sum + f.additions, 0),
    deletions: files.reduce((sum, f) => sum + f.deletions, 0),
    ...(lineCounts ? { line_counts: lineCounts } : {}),
  };
}

export interface ChangeRequest {
  /** Repository name as the event gives it (a local source ignores it; forge sources use it). */
  repo: string;
  branch: string;
  commit: string;
  target_branch: string;
  range: "auto" | "commit" | "merge-base";
  /**
   * True when whatever follows reports a missing source branch itself (a forge's pull-request create does), so a
   * source may skip a read whose only use is to check that the branch exists. A preview creates nothing: false.
   */
  branch_checked_later?: boolean;
}

/** Port: where commits come from. Errors are `PrCreatorError`s with `repo_not_found`, `commit_not_found`, `branch_not_found` or `commit_not_on_branch`. */
export interface CommitSource {
  load(request: ChangeRequest): Promise<ChangeSet>;
  /** A file's text at a commit, or null when the commit has no such file (used for `.pr-template.md`). */
  readFile?(commit: string, path: string): Promise<string | null>;
  /**
   * The texts of some changed files before (at `changes.base`) and after (at the head commit), for the change
   * digest: symbols need whole files, and sources that give no patch or no line counts (Azure DevOps) are
   * diffed from them. Paths missing from the map could not be read; the digest counts them without symbols.
   * `onText`, when given, hears each path's texts as soon as they are read (at most once a path, only for paths
   * the map will hold), so the digest can parse while the rest is read; a source may also never call it.
   */
  readTexts?(
    changes: ChangeSet,
    paths: readonly string[],
    onText?: (path: string, texts: FileTexts) => void,
  ): Promise<Map<string, FileTexts>>;
}
