/**
 * The git side of the Azure DevOps emulator: commits with trees, refs, the items route (file content at a
 * version), pushes (POST …/pushes) and ref updates (POST …/refs).
 *
 * Wire shapes follow GitItem, GitPush and GitRefUpdateResult of specification/git/7.1/git.json and the
 * pushes/refs httpExamples. Anything that moves a ref returns the ref names it moved, so the caller can
 * let the pull requests on them react (azure-flow.ts) without this module knowing about them.
 */
import { randomUUID } from "node:crypto";
import type { Query } from "./azure-handlers.js";
import {
  asObject,
  commitRef,
  errors,
  findBranch,
  identityRef,
  invalidArgument,
  repoApiUrl,
  repository,
  sha1,
  type AzureEmulatorState,
  type EmulatorCommit,
  type EmulatorRepo,
  type SeedChange,
  type SeedChangeType,
  type Tree,
} from "./azure-model.js";
import { blobId, changesBetween, isFolder, itemPath, treeHash } from "./azure-trees.js";

export const ZEROS = "0".repeat(40);
const HEX40 = /^[0-9a-f]{40}$/i;
const EMPTY: Tree = new Map();

const eq = (a: string, b: string) => a.toLowerCase() === b.toLowerCase();

export function headOf(repo: EmulatorRepo, refName: string): string | undefined {
  return findBranch(repo, refName)?.objectId;
}

export function treeAt(repo: EmulatorRepo, commitId: string | undefined): Tree {
  return (commitId && repo.commits.get(commitId.toLowerCase())?.tree) || EMPTY;
}

function gitDate(): string {
  return new Date().toISOString().replace(/\.\d{3}Z$/, "Z");
}

/** A commit made by the service (push, merge, revert), authored by the authenticated identity unless given. */
export function newCommit(
  state: AzureEmulatorState,
  repo: EmulatorRepo,
  input: {
    parents: string[];
    tree: Tree;
    message: string;
    changes?: SeedChange[];
    author?: { name: string; email: string; date: string };
  },
): EmulatorCommit {
  const me = state.authenticatedUser;
  const author = input.author ?? { name: me.displayName, email: me.uniqueName, date: gitDate() };
  const treeId = treeHash(input.tree);
  const commitId = sha1("commit", treeId, ...input.parents, input.message, author.date, randomUUID());
  const commit: EmulatorCommit = {
    message: input.message,
    author,
    committer: author,
    parents: input.parents,
    commitId,
    treeId,
    changes: input.changes ?? changesBetween(treeAt(repo, input.parents[0]), input.tree),
    tree: input.tree,
  };
  repo.commits.set(commitId, commit);
  return commit;
}

/** Points a ref at a commit, or deletes it (null), keeping the stored name's case. Returns the stored name. */
export function setRef(repo: EmulatorRepo, refName: string, objectId: string | null): string {
  const name = findBranch(repo, refName)?.name ?? refName;
  if (objectId === null) repo.branches.delete(name);
  else repo.branches.set(name, objectId);
  return name;
}

/** The nearest common ancestor of two commits, as `git merge-base` (first found breadth-first from `b`). */
export function mergeBase(repo: EmulatorRepo, a: string, b: string): string | undefined {
  const ancestors = new Set<string>();
  const walk = [a];
  while (walk.length > 0) {
    const id = walk.shift()!;
    if (ancestors.has(id)) continue;
    ancestors.add(id);
    walk.push(...(repo.commits.get(id)?.parents ?? []));
  }
  const seen = new Set<string>();
  const queue = [b];
  while (queue.length > 0) {
    const id = queue.shift()!;
    if (ancestors.has(id)) return id;
    if (seen.has(id)) continue;
    seen.add(id);
    queue.push(...(repo.commits.get(id)?.parents ?? []));
  }
  return undefined;
}

// ---------------------------------------------------------------------------------------------------------
// GET …/items?path=…&versionDescriptor.version=…&versionDescriptor.versionType=…&includeContent=…
// ---------------------------------------------------------------------------------------------------------

const VERSION_TYPES = ["branch", "tag", "commit"] as const;
type VersionType = (typeof VERSION_TYPES)[number];

/** GitVersionType as the client sends it (the TS enum number) or by name. */
function versionType(raw: string | undefined): VersionType {
  if (raw === undefined || raw === "") return "branch";
  const byNumber = /^\d+$/.test(raw) ? VERSION_TYPES[Number(raw)] : undefined;
  const type = byNumber ?? VERSION_TYPES.find((t) => eq(t, raw));
  if (!type) throw invalidArgument("versionDescriptor.versionType");
  return type;
}

function resolveVersion(
  repo: EmulatorRepo,
  query: Query,
): { commit: EmulatorCommit; descriptor: string; type: VersionType; version: string } {
  const type = versionType(query.get("versionDescriptor.versionType"));
  const version =
    query.get("versionDescriptor.version") ||
    (type === "branch" ? repo.defaultBranch.replace(/^refs\/heads\//, "") : "");
  const label = type.charAt(0).toUpperCase() + type.slice(1);
  const descriptor = `<${label}: ${version} >`;
  const id =
    type === "commit" ? version.toLowerCase() : headOf(repo, `refs/${type === "branch" ? "heads" : "tags"}/${version}`);
  const commit = id ? repo.commits.get(id) : undefined;
  if (!commit) throw errors.versionNotFound(descriptor, repo.name);
  return { commit, descriptor, type, version };
}

export function getItem(state: AzureEmulatorState, repo: EmulatorRepo, query: Query, pathFromRoute: string) {
  const raw = query.get("path") ?? pathFromRoute;
  if (!raw) throw invalidArgument("path");
  const path = itemPath(raw);
  const { commit, descriptor, type, version } = resolveVersion(repo, query);
  const url = `${repoApiUrl(state, repo)}/items${encodeURI(path)}?versionType=${type.charAt(0).toUpperCase()}${type.slice(1)}&version=${encodeURIComponent(version)}`;
  const text = commit.tree.get(path);
  if (text === undefined) {
    if (path !== "/" && !isFolder(commit.tree, path))
      throw errors.itemNotFound(path, repo.name, descriptor, commit.commitId);
    return {
      objectId: sha1("tree", commit.treeId, path),
      gitObjectType: "tree",
      commitId: commit.commitId,
      path,
      isFolder: true,
      url,
    };
  }
  return {
    objectId: blobId(text),
    gitObjectType: "blob",
    commitId: commit.commitId,
    path,
    ...(query.bool("includeContentMetadata") === true ? { contentMetadata: contentMetadata(path, text) } : {}),
    ...(query.bool("includeContent") === true ? { content: text } : {}),
    url,
  };
}

/**
 * FileContentMetadata (GitItem.contentMetadata) for includeContentMetadata=true. Seeded texts are UTF-8
 * (code page 65001); a text holding NUL is what the emulator takes for binary content.
 */
function contentMetadata(path: string, text: string) {
  const fileName = path.split("/").at(-1) ?? "";
  const dot = fileName.lastIndexOf(".");
  const extension = dot > 0 ? fileName.slice(dot + 1) : "";
  const isBinary = text.includes("\0");
  const isImage = /^(png|jpe?g|gif|bmp|ico|svg)$/i.test(extension);
  return {
    fileName,
    extension,
    isBinary,
    isImage,
    ...(isBinary ? { contentType: "application/octet-stream" } : { encoding: 65001, contentType: "text/plain" }),
  };
}

// ---------------------------------------------------------------------------------------------------------
// POST …/pushes
// ---------------------------------------------------------------------------------------------------------

/** VersionControlChangeType flags (Add 1, Edit 2, Rename 8, Delete 16) or their names. */
function changeTypeOf(raw: unknown): SeedChangeType {
  const byNumber: Record<number, SeedChangeType> = {
    1: "add",
    2: "edit",
    8: "rename",
    10: "edit, rename",
    16: "delete",
  };
  if (typeof raw === "number" && byNumber[raw]) return byNumber[raw];
  if (typeof raw === "string") {
    const name = raw
      .split(",")
      .map((p) => p.trim().toLowerCase())
      .sort()
      .join(", ");
    if (["add", "edit", "rename", "delete", "edit, rename"].includes(name)) return name as SeedChangeType;
  }
  throw invalidArgument(`changeType ${JSON.stringify(raw)} is not supported.`);
}

/** ItemContent: rawText (0) or base64Encoded (1); contentType defaults to rawText. */
function contentOf(raw: unknown, path: string): string {
  const c = asObject(raw, `newContent of ${path}`);
  if (typeof c.content !== "string") throw invalidArgument(`newContent.content of ${path}`);
  const type = c.contentType === undefined || c.contentType === null ? "rawtext" : String(c.contentType).toLowerCase();
  if (type === "0" || type === "rawtext") return c.content;
  if (type === "1" || type === "base64encoded") return Buffer.from(c.content, "base64").toString("utf8");
  throw invalidArgument(`newContent.contentType of ${path}`);
}

/** Applies one commit's changes to a tree; the errors are [emulator wording]. */
function applyChanges(tree: Map<string, string>, rawChanges: unknown): SeedChange[] {
  if (!Array.isArray(rawChanges) || rawChanges.length === 0)
    throw invalidArgument("Each commit of a push must carry at least one change.");
  return rawChanges.map((raw) => {
    const change = asObject(raw, "changes");
    const type = changeTypeOf(change.changeType);
    const rawPath = asObject(change.item, "changes.item").path;
    if (typeof rawPath !== "string" || rawPath.trim() === "" || rawPath.trim() === "/")
      throw invalidArgument("changes.item.path");
    const path = itemPath(rawPath.trim());
    if (type === "add") {
      if (tree.has(path)) throw invalidArgument(`The path '${path}' already exists; use changeType edit.`);
      tree.set(path, contentOf(change.newContent, path));
      return { path, changeType: type };
    }
    if (type === "edit") {
      if (!tree.has(path)) throw invalidArgument(`The path '${path}' does not exist; use changeType add.`);
      tree.set(path, contentOf(change.newContent, path));
      return { path, changeType: type };
    }
    if (type === "delete") {
      if (!tree.delete(path)) throw invalidArgument(`The path '${path}' does not exist and cannot be deleted.`);
      return { path, changeType: type };
    }
    const from = typeof change.sourceServerItem === "string" ? itemPath(change.sourceServerItem) : "";
    const text = tree.get(from);
    if (text === undefined) throw invalidArgument(`The rename source '${from}' does not exist.`);
    if (tree.has(path)) throw invalidArgument(`The rename target '${path}' already exists.`);
    tree.delete(from);
    tree.set(path, type === "edit, rename" ? contentOf(change.newContent, path) : text);
    return { path, changeType: type, sourcePath: from };
  });
}

function gitUser(raw: unknown): { name: string; email: string; date: string } | undefined {
  if (raw === null || typeof raw !== "object") return undefined;
  const u = raw as Record<string, unknown>;
  if (typeof u.name !== "string" || typeof u.email !== "string") return undefined;
  return { name: u.name, email: u.email, date: typeof u.date === "string" ? u.date : gitDate() };
}

/**
 * One push: exactly one ref update ([emulator] limit) whose oldObjectId must be the ref's current head
 * (40 zeros: the ref must not exist yet), else 409 TF401028; then the commits in order, each on the
 * previous one (or on `parents` when given).
 */
export function createPush(
  state: AzureEmulatorState,
  repo: EmulatorRepo,
  rawBody: unknown,
): { answer: Record<string, unknown>; moved: string[] } {
  const body = asObject(rawBody, "push");
  const updates = body.refUpdates;
  if (!Array.isArray(updates) || updates.length !== 1) throw invalidArgument("A push must update exactly one ref.");
  const update = asObject(updates[0], "refUpdates");
  const name = update.name;
  if (typeof name !== "string" || !/^refs\/heads\/./.test(name))
    throw invalidArgument("refUpdates.name must be a branch (refs/heads/…).");
  const oldObjectId = typeof update.oldObjectId === "string" ? update.oldObjectId.toLowerCase() : "";
  if (!HEX40.test(oldObjectId))
    throw invalidArgument("refUpdates.oldObjectId must be a full commit id (40 zeros for a new branch).");
  const rawCommits = body.commits;
  if (!Array.isArray(rawCommits) || rawCommits.length === 0)
    throw invalidArgument("A push must carry at least one commit.");

  const current = findBranch(repo, name);
  if ((current?.objectId ?? ZEROS) !== oldObjectId) throw errors.staleRef(current?.name ?? name);

  // Validate and build every commit before storing any, so a bad push changes nothing. A parent given as
  // a number is the index of an earlier commit of this push.
  const planned: Array<{
    parents: Array<string | number>;
    tree: Map<string, string>;
    message: string;
    changes: SeedChange[];
    author?: { name: string; email: string; date: string };
  }> = [];
  let previous: string | number | undefined = oldObjectId === ZEROS ? undefined : oldObjectId;
  let previousTree = treeAt(repo, oldObjectId === ZEROS ? undefined : oldObjectId);
  for (const raw of rawCommits) {
    const c = asObject(raw, "commits");
    let parents: Array<string | number>;
    let baseTree: Tree;
    if (Array.isArray(c.parents) && c.parents.length > 0) {
      parents = c.parents.map((p) => String(p).toLowerCase());
      const unknown = parents.find((p) => !repo.commits.has(String(p)));
      if (unknown !== undefined) throw errors.commitNotFound(String(unknown), repo.name);
      baseTree = treeAt(repo, String(parents[0]));
    } else {
      parents = previous === undefined ? [] : [previous];
      baseTree = previousTree;
    }
    const tree = new Map(baseTree);
    const changes = applyChanges(tree, c.changes);
    const author = gitUser(c.author);
    planned.push({
      parents,
      tree,
      message: typeof c.comment === "string" ? c.comment : "",
      changes,
      ...(author ? { author } : {}),
    });
    previous = planned.length - 1;
    previousTree = tree;
  }
  const created: EmulatorCommit[] = [];
  for (const p of planned) {
    const parents = p.parents.map((x) => (typeof x === "number" ? created[x]!.commitId : x));
    created.push(newCommit(state, repo, { ...p, parents }));
  }
  const head = created.at(-1)!.commitId;
  const refName = setRef(repo, name, head);

  state.counters.push += 1;
  const pushId = state.counters.push;
  const base = repoApiUrl(state, repo);
  const pusher = identityRef(state, state.authenticatedUser);
  return {
    moved: [refName],
    answer: {
      // GitCommitRef, which (unlike the 2.0-era httpExamples) declares no treeId.
      commits: created.map((c) => ({
        commitId: c.commitId,
        author: c.author,
        committer: c.committer ?? c.author,
        comment: c.message,
        parents: c.parents,
        url: commitRef(state, repo, c.commitId).url,
      })),
      refUpdates: [{ repositoryId: repo.id, name: refName, oldObjectId, newObjectId: head }],
      repository: repository(state, repo),
      pushedBy: pusher,
      pushId,
      date: new Date().toISOString(),
      url: `${base}/pushes/${pushId}`,
      _links: {
        self: { href: `${base}/pushes/${pushId}` },
        repository: { href: base },
        commits: { href: `${base}/pushes/${pushId}/commits` },
        pusher: { href: pusher.url },
        refs: { href: `${base}/refs/${refName}` },
      },
    },
  };
}

// ---------------------------------------------------------------------------------------------------------
// POST …/refs
// ---------------------------------------------------------------------------------------------------------

/**
 * Ref creation (oldObjectId zeros), moves and deletion (newObjectId zeros), each judged on its own and
 * answered with its updateStatus, as the service does for a batch.
 */
export function updateRefs(
  state: AzureEmulatorState,
  repo: EmulatorRepo,
  rawBody: unknown,
): { answer: { count: number; value: unknown[] }; moved: string[] } {
  if (!Array.isArray(rawBody) || rawBody.length === 0) throw invalidArgument("refUpdates");
  const moved: string[] = [];
  const value = rawBody.map((raw) => {
    const u = asObject(raw, "refUpdates");
    const name = typeof u.name === "string" ? u.name : "";
    const oldObjectId = typeof u.oldObjectId === "string" ? u.oldObjectId.toLowerCase() : "";
    const newObjectId = typeof u.newObjectId === "string" ? u.newObjectId.toLowerCase() : "";
    const result = (updateStatus: string) => ({
      repositoryId: repo.id,
      name,
      oldObjectId,
      newObjectId,
      isLocked: false,
      updateStatus,
      success: updateStatus === "succeeded",
    });
    if (!/^refs\/(heads|tags)\/./.test(name) || !HEX40.test(oldObjectId) || !HEX40.test(newObjectId))
      return result("invalidRefName");
    if (newObjectId !== ZEROS && !repo.commits.has(newObjectId)) return result("unresolvableToCommit");
    if ((findBranch(repo, name)?.objectId ?? ZEROS) !== oldObjectId) return result("staleOldObjectId");
    moved.push(setRef(repo, name, newObjectId === ZEROS ? null : newObjectId));
    return result("succeeded");
  });
  return { answer: { count: value.length, value }, moved };
}
