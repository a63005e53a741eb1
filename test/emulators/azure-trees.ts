/**
 * File trees of the Azure DevOps emulator: every commit holds its whole tree (path → text), so pushes,
 * squash merges and reverts are computed on content rather than scripted. Paths are stored the way the
 * service prints item paths: with a leading "/".
 */
import { createHash } from "node:crypto";
import type { SeedChange, Tree } from "./azure-model.js";

const sha1 = (...parts: string[]) => createHash("sha1").update(parts.join("\0")).digest("hex");

export function itemPath(path: string): string {
  return path.startsWith("/") ? path : `/${path}`;
}

/** The tree's id: a hash of its sorted entries, so equal trees share it as in git. */
export function treeHash(tree: Tree): string {
  return sha1("tree", ...[...tree.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).flat());
}

export function blobId(text: string): string {
  return sha1("blob", text);
}

/** `base` with `files` applied (null deletes). */
export function applyFiles(base: Tree, files: Iterable<[string, string | null]>): Map<string, string> {
  const out = new Map(base);
  for (const [path, text] of files) {
    if (text === null) out.delete(itemPath(path));
    else out.set(itemPath(path), text);
  }
  return out;
}

/** Every path whose text differs between the trees, with its text in `to` (null = gone), in path order. */
export function diffTrees(from: Tree, to: Tree): Map<string, string | null> {
  const paths = [...new Set([...from.keys(), ...to.keys()])].sort();
  const out = new Map<string, string | null>();
  for (const path of paths) if (from.get(path) !== to.get(path)) out.set(path, to.get(path) ?? null);
  return out;
}

/** The add/edit/delete entries the changes routes list for a move from one tree to another. */
export function changesBetween(from: Tree, to: Tree): SeedChange[] {
  return [...diffTrees(from, to)].map(([path, text]) => ({
    path,
    changeType: text === null ? "delete" : from.has(path) ? "edit" : "add",
  }));
}

/** True when `path` names a folder of the tree (some file lives below it). */
export function isFolder(tree: Tree, path: string): boolean {
  const prefix = path === "/" ? "/" : `${path.replace(/\/+$/, "")}/`;
  for (const key of tree.keys()) if (key.startsWith(prefix)) return true;
  return false;
}
