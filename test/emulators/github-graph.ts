/**
 * Commit-graph arithmetic for the GitHub emulator (test/emulators/github.ts): ref resolution, ancestry,
 * merge bases, "commits between" in the order GitHub's compare API lists them, and the files a range changes.
 * Pure functions over the seeded commits; no HTTP here.
 */

export type FileStatus = "added" | "removed" | "modified" | "renamed" | "copied" | "changed" | "unchanged";

export interface SeedFile {
  filename: string;
  status: FileStatus;
  additions: number;
  deletions: number;
  previous_filename?: string;
  /** A unified-diff hunk, returned as `patch` when given. */
  patch?: string;
  /** The file's full text after the commit (not for "removed"); without it the emulator knows no text for the file. */
  content?: string;
}

export interface GitIdentity {
  name: string;
  email: string;
  /** ISO 8601, e.g. "2024-05-01T12:00:00Z". */
  date: string;
}

export interface SeedCommit {
  message: string;
  author: GitIdentity;
  /** Defaults to the author. */
  committer?: GitIdentity;
  /** Parent shas, first parent first; each must be seeded too. */
  parents: string[];
  files: SeedFile[];
  /** The commit's tree (a key of the repository's `trees`) for commits made through the API; seeded commits derive theirs from `files`. */
  tree?: string;
}

export type CommitMap = ReadonlyMap<string, SeedCommit>;

/** The minimum length of an abbreviated sha that `resolveRef` accepts (git's own minimum). */
export const MIN_ABBREV = 4;

export type RefResolution = { sha: string } | { error: "unknown" | "ambiguous" };

/**
 * Resolves a ref the way GitHub's commit endpoints do: a branch name (also `refs/heads/x` or `heads/x`),
 * a full sha, or a unique abbreviated sha of at least MIN_ABBREV characters.
 */
export function resolveRef(ref: string, branches: ReadonlyMap<string, string>, commits: CommitMap): RefResolution {
  const branchName = ref.startsWith("refs/heads/")
    ? ref.slice("refs/heads/".length)
    : ref.startsWith("heads/")
      ? ref.slice("heads/".length)
      : ref;
  const tip = branches.get(branchName);
  if (tip !== undefined) return { sha: tip };
  if (commits.has(ref)) return { sha: ref };
  const lower = ref.toLowerCase();
  if (lower.length >= MIN_ABBREV) {
    const matches = [...commits.keys()].filter((sha) => sha.toLowerCase().startsWith(lower));
    if (matches.length === 1) return { sha: matches[0]! };
    if (matches.length > 1) return { error: "ambiguous" };
  }
  return { error: "unknown" };
}

/** Every commit reachable from `sha`, itself included. */
export function ancestors(sha: string, commits: CommitMap): Set<string> {
  const seen = new Set<string>();
  const stack = [sha];
  while (stack.length > 0) {
    const next = stack.pop()!;
    if (seen.has(next)) continue;
    seen.add(next);
    for (const parent of commits.get(next)?.parents ?? []) stack.push(parent);
  }
  return seen;
}

/**
 * The best common ancestor of `a` and `b` (a common ancestor that no other common ancestor descends from),
 * or undefined when the histories are unrelated. With several best candidates (criss-cross merges) the one
 * with the latest committer date wins, as a stand-in for git's choice.
 */
export function mergeBase(a: string, b: string, commits: CommitMap): string | undefined {
  const fromA = ancestors(a, commits);
  const common = [...ancestors(b, commits)].filter((sha) => fromA.has(sha));
  if (common.length === 0) return undefined;
  const dominated = new Set<string>();
  for (const sha of common) {
    for (const older of ancestors(sha, commits)) if (older !== sha) dominated.add(older);
  }
  const best = common.filter((sha) => !dominated.has(sha));
  best.sort((x, y) => commitTime(y, commits) - commitTime(x, commits));
  return best[0];
}

function commitTime(sha: string, commits: CommitMap): number {
  const commit = commits.get(sha);
  const date = commit?.committer?.date ?? commit?.author.date;
  return date ? Date.parse(date) : 0;
}

/**
 * The commits reachable from `head` but not from `base`, parents before children (ties broken by date,
 * then sha), which is the "oldest first" order of the compare API's `commits`.
 */
export function commitsBetween(base: string, head: string, commits: CommitMap): string[] {
  const exclude = ancestors(base, commits);
  const wanted = new Set([...ancestors(head, commits)].filter((sha) => !exclude.has(sha)));
  const ordered: string[] = [];
  const done = new Set<string>();
  const remaining = [...wanted].sort((x, y) => commitTime(x, commits) - commitTime(y, commits) || x.localeCompare(y));
  while (ordered.length < wanted.size) {
    const ready = remaining.find(
      (sha) => !done.has(sha) && (commits.get(sha)?.parents ?? []).every((p) => !wanted.has(p) || done.has(p)),
    );
    if (ready === undefined) break; // a cycle in the seed; seedRepo rejects those
    done.add(ready);
    ordered.push(ready);
  }
  return ordered;
}

/** True when following parents from any commit leads back to itself. */
export function hasCycle(commits: CommitMap): boolean {
  const state = new Map<string, 1 | 2>();
  const visit = (start: string): boolean => {
    const stack: { sha: string; next: number }[] = [{ sha: start, next: 0 }];
    state.set(start, 1);
    while (stack.length > 0) {
      const top = stack[stack.length - 1]!;
      const parents = commits.get(top.sha)?.parents ?? [];
      if (top.next >= parents.length) {
        state.set(top.sha, 2);
        stack.pop();
        continue;
      }
      const parent = parents[top.next++]!;
      const seen = state.get(parent);
      if (seen === 1) return true;
      if (seen === undefined) {
        state.set(parent, 1);
        stack.push({ sha: parent, next: 0 });
      }
    }
    return false;
  };
  for (const sha of commits.keys()) if (!state.has(sha) && visit(sha)) return true;
  return false;
}

export interface RangeFile extends SeedFile {
  /** How many commits of the range touched the file; `patch` is only kept when exactly one did. */
  touches: number;
}

/**
 * The net file changes of a sequence of commits (oldest first), folded per path: added-then-modified stays
 * added, added-then-removed disappears, removed-then-added becomes modified, renames follow the file and keep
 * the original `previous_filename`; line counts are summed. An approximation of the real diff that needs no
 * file contents.
 */
export function foldFiles(shas: readonly string[], commits: CommitMap): SeedFile[] {
  const byPath = new Map<string, RangeFile>();
  for (const sha of shas) {
    for (const file of commits.get(sha)?.files ?? []) {
      if (file.status === "renamed" && file.previous_filename !== undefined && byPath.has(file.previous_filename)) {
        const earlier = byPath.get(file.previous_filename)!;
        byPath.delete(file.previous_filename);
        const status: FileStatus = earlier.status === "added" ? "added" : "renamed";
        const moved: RangeFile = {
          filename: file.filename,
          status,
          additions: earlier.additions + file.additions,
          deletions: earlier.deletions + file.deletions,
          touches: earlier.touches + 1,
        };
        if (status === "renamed") moved.previous_filename = earlier.previous_filename ?? earlier.filename;
        byPath.set(file.filename, moved);
        continue;
      }
      const earlier = byPath.get(file.filename);
      if (!earlier) {
        byPath.set(file.filename, { ...file, touches: 1 });
        continue;
      }
      let status: FileStatus | undefined = earlier.status;
      if (earlier.status === "added" && file.status === "removed") status = undefined;
      else if (earlier.status === "removed" && file.status === "added") status = "modified";
      else if (file.status === "removed") status = "removed";
      if (status === undefined) {
        byPath.delete(file.filename);
        continue;
      }
      const merged: RangeFile = {
        filename: file.filename,
        status,
        additions: earlier.additions + file.additions,
        deletions: earlier.deletions + file.deletions,
        touches: earlier.touches + 1,
      };
      if (status === "renamed" && earlier.previous_filename !== undefined)
        merged.previous_filename = earlier.previous_filename;
      byPath.set(file.filename, merged);
    }
  }
  return [...byPath.values()]
    .sort((x, y) => x.filename.localeCompare(y.filename))
    .map(({ touches, ...file }) => {
      if (touches !== 1) delete file.patch;
      return file;
    });
}
