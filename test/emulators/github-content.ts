/**
 * File contents for the GitHub emulator (test/emulators/github.ts). Every commit has a snapshot (path → UTF-8
 * text): commits made through the API store theirs as a tree, seeded commits derive theirs from their parent
 * and the `content` of their files. Blob and tree shas are git's own, so they look like GitHub's. Pure
 * functions over the commit graph; no HTTP here.
 */
import { createHash } from "node:crypto";
import type { FileStatus, SeedCommit, SeedFile } from "./github-graph.js";

export type Snapshot = ReadonlyMap<string, string>;

/** The part of a repository record this module reads and writes. */
export interface ContentStore {
  commits: Map<string, SeedCommit>;
  /** Tree sha → snapshot. */
  trees: Map<string, Snapshot>;
}

const EMPTY: Snapshot = new Map();

const sha1 = (...parts: (string | Buffer)[]) => {
  const hash = createHash("sha1");
  for (const part of parts) hash.update(part);
  return hash.digest("hex");
};

/** Git's blob id of a UTF-8 text. */
export function blobSha(text: string): string {
  const body = Buffer.from(text, "utf8");
  return sha1(`blob ${body.length}\0`, body);
}

interface Dir {
  files: Map<string, string>;
  dirs: Map<string, Dir>;
}

const treeIds = new WeakMap<Snapshot, string>();

/** Git's tree id of a snapshot: nested trees, entries in git's order (a directory sorts as "name/"). */
export function treeSha(snapshot: Snapshot): string {
  const known = treeIds.get(snapshot);
  if (known) return known;
  const root: Dir = { files: new Map(), dirs: new Map() };
  for (const [path, text] of snapshot) {
    const parts = path.split("/");
    let dir = root;
    for (const name of parts.slice(0, -1)) {
      let next = dir.dirs.get(name);
      if (!next) dir.dirs.set(name, (next = { files: new Map(), dirs: new Map() }));
      dir = next;
    }
    dir.files.set(parts.at(-1)!, blobSha(text));
  }
  const hash = (dir: Dir): string => {
    const entries = [
      ...[...dir.files].map(([name, id]) => ({ key: name, head: `100644 ${name}\0`, id })),
      ...[...dir.dirs].map(([name, sub]) => ({ key: `${name}/`, head: `40000 ${name}\0`, id: hash(sub) })),
    ].sort((a, b) => Buffer.compare(Buffer.from(a.key), Buffer.from(b.key)));
    const body = Buffer.concat(entries.flatMap((e) => [Buffer.from(e.head), Buffer.from(e.id, "hex")]));
    return sha1(`tree ${body.length}\0`, body);
  };
  const id = hash(root);
  treeIds.set(snapshot, id);
  return id;
}

function applyFiles(base: Snapshot, files: readonly SeedFile[]): Snapshot {
  const next = new Map(base);
  for (const file of files) {
    if (file.status === "removed") {
      next.delete(file.filename);
      continue;
    }
    let text = file.content;
    if (file.status === "renamed" && file.previous_filename !== undefined) {
      text ??= next.get(file.previous_filename);
      next.delete(file.previous_filename);
    }
    if (text !== undefined) next.set(file.filename, text);
  }
  return next;
}

const derived = new WeakMap<SeedCommit, Snapshot>();

/** The files at a commit. A seeded file without `content` has no text, so it is absent here. */
export function snapshotOf(store: ContentStore, sha: string): Snapshot {
  const pending: SeedCommit[] = [];
  let base = EMPTY;
  for (let at: string | undefined = sha; at !== undefined;) {
    const commit = store.commits.get(at);
    if (!commit) throw new Error(`emulator: no commit ${at}`);
    const known = commit.tree !== undefined ? store.trees.get(commit.tree) : derived.get(commit);
    if (commit.tree !== undefined && !known)
      throw new Error(`emulator: commit ${at} names unknown tree ${commit.tree}`);
    if (known) {
      base = known;
      break;
    }
    pending.push(commit);
    at = commit.parents[0];
  }
  for (const commit of pending.reverse()) {
    base = applyFiles(base, commit.files);
    derived.set(commit, base);
  }
  return base;
}

/** A commit's tree id, registered so that later requests (base_tree, git/trees) can name it. */
export function treeOf(store: ContentStore, sha: string): { sha: string; snapshot: Snapshot } {
  const snapshot = snapshotOf(store, sha);
  const id = treeSha(snapshot);
  if (!store.trees.has(id)) store.trees.set(id, snapshot);
  return { sha: id, snapshot };
}

const lines = (text: string | undefined): string[] =>
  text === undefined || text === "" ? [] : text.replace(/\n$/, "").split("\n");

/** Above this many cells the line diff treats the changed middle as replaced wholesale. */
const MAX_CELLS = 4_000_000;

/** Added and deleted lines between two texts, with one unified-diff hunk spanning the whole file. */
export function diffText(
  before: string | undefined,
  after: string | undefined,
): { additions: number; deletions: number; patch: string } {
  const a = lines(before);
  const b = lines(after);
  let start = 0;
  while (start < a.length && start < b.length && a[start] === b[start]) start++;
  let endA = a.length;
  let endB = b.length;
  while (endA > start && endB > start && a[endA - 1] === b[endB - 1]) {
    endA--;
    endB--;
  }
  const midA = a.slice(start, endA);
  const midB = b.slice(start, endB);
  const ops: string[] = a.slice(0, start).map((l) => ` ${l}`);
  if (midA.length * midB.length > MAX_CELLS) {
    ops.push(...midA.map((l) => `-${l}`), ...midB.map((l) => `+${l}`));
  } else {
    // Longest common subsequence, then a walk that emits deletions before additions like git.
    const w = midB.length + 1;
    const lcs = new Uint32Array((midA.length + 1) * w);
    for (let i = midA.length - 1; i >= 0; i--) {
      for (let j = midB.length - 1; j >= 0; j--) {
        lcs[i * w + j] =
          midA[i] === midB[j] ? lcs[(i + 1) * w + j + 1]! + 1 : Math.max(lcs[(i + 1) * w + j]!, lcs[i * w + j + 1]!);
      }
    }
    let i = 0;
    let j = 0;
    while (i < midA.length || j < midB.length) {
      if (i < midA.length && j < midB.length && midA[i] === midB[j]) {
        ops.push(` ${midA[i++]}`);
        j++;
      } else if (j >= midB.length || (i < midA.length && lcs[(i + 1) * w + j]! >= lcs[i * w + j + 1]!))
        ops.push(`-${midA[i++]}`);
      else ops.push(`+${midB[j++]}`);
    }
  }
  ops.push(...a.slice(endA).map((l) => ` ${l}`));
  const deletions = ops.filter((o) => o.startsWith("-")).length;
  const additions = ops.filter((o) => o.startsWith("+")).length;
  const range = (n: number) => `${n === 0 ? 0 : 1},${n}`;
  return { additions, deletions, patch: [`@@ -${range(a.length)} +${range(b.length)} @@`, ...ops].join("\n") };
}

/** The per-file changes from one snapshot to another, sorted by path (no rename detection). */
export function diffSnapshots(before: Snapshot, after: Snapshot): SeedFile[] {
  const paths = [...new Set([...before.keys(), ...after.keys()])].sort();
  const files: SeedFile[] = [];
  for (const path of paths) {
    const old = before.get(path);
    const now = after.get(path);
    if (old === now) continue;
    const status: FileStatus = old === undefined ? "added" : now === undefined ? "removed" : "modified";
    files.push({ filename: path, status, ...diffText(old, now), ...(now !== undefined ? { content: now } : {}) });
  }
  return files;
}

/** Every path that differs between two snapshots, with its text in `after` (null = deleted). */
export function changedPaths(before: Snapshot, after: Snapshot): Map<string, string | null> {
  const out = new Map<string, string | null>();
  for (const path of [...new Set([...before.keys(), ...after.keys()])].sort()) {
    if (before.get(path) !== after.get(path)) out.set(path, after.get(path) ?? null);
  }
  return out;
}

/**
 * Applies the changes from `base` to `theirs` onto `ours`, file by file: a file changed on one side only takes
 * that side; changed on both to different texts is a conflict. Reverting a commit is the same with
 * base = the commit, theirs = its parent.
 */
export function threeWay(
  base: Snapshot,
  ours: Snapshot,
  theirs: Snapshot,
): { snapshot: Snapshot; conflicts: string[] } {
  const next = new Map(ours);
  const conflicts: string[] = [];
  for (const [path, text] of changedPaths(base, theirs)) {
    const mine = ours.get(path);
    if (mine === base.get(path)) {
      if (text === null) next.delete(path);
      else next.set(path, text);
    } else if (mine !== (text ?? undefined)) conflicts.push(path);
  }
  return { snapshot: next, conflicts };
}

export interface NewCommit {
  message: string;
  parents: string[];
  snapshot: Snapshot;
  author: { name: string; email: string; date: string };
  committer?: { name: string; email: string; date: string };
  /** The commit's file list; by default the diff against the first parent. */
  files?: SeedFile[];
}

let commitSeq = 0;

/** Stores a commit (and its tree) made through the API; returns its sha. */
export function writeCommit(store: ContentStore, commit: NewCommit): string {
  const tree = treeSha(commit.snapshot);
  if (!store.trees.has(tree)) store.trees.set(tree, commit.snapshot);
  const parent = commit.parents[0];
  const files =
    commit.files ?? diffSnapshots(parent === undefined ? EMPTY : snapshotOf(store, parent), commit.snapshot);
  const sha = sha1("commit", tree, commit.parents.join(","), commit.message, commit.author.date, String(++commitSeq));
  store.commits.set(sha, {
    message: commit.message,
    author: commit.author,
    ...(commit.committer ? { committer: commit.committer } : {}),
    parents: commit.parents,
    files,
    tree,
  });
  return sha;
}
