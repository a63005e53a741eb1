/**
 * Contents and git data routes of the GitHub emulator (test/emulators/github.ts): repos.getContent, git refs
 * (get, create, update, delete), git.createTree, git.getCommit and git.createCommit. Only branches are refs here
 * (no tags), and only blobs are tree entries (no submodules or symlinks).
 */
import { blobSha, snapshotOf, writeCommit, type Snapshot } from "./github-content.js";
import { ancestors, resolveRef } from "./github-graph.js";
import {
  invalidRequest,
  isObject,
  notFound,
  unprocessable,
  type GitHubRoute,
  type RepoHandler,
} from "./github-http.js";
import type { MergeEngine } from "./github-merge.js";
import {
  renderContentDirectory,
  renderContentFile,
  renderGitCommit,
  renderGitRef,
  renderGitTree,
  timestamp,
  type EmulatorState,
  type Links,
  type RepoRecord,
} from "./github-model.js";

export interface GitRouteContext {
  state: EmulatorState;
  engine: MergeEngine;
  links(): Links;
}

const BLOB_MODES = ["100644", "100755"];
const MODES = [...BLOB_MODES, "040000", "160000", "120000"];
const BOTH_OR_NEITHER = "Must supply either tree.sha or tree.content. Request will be rejected if both are present.";

/** "heads/x" or "refs/heads/x" → "x"; undefined for anything that is not a branch ref. */
const branchOf = (ref: string): string | undefined => /^(?:refs\/)?heads\/(.+)$/.exec(ref)?.[1];

/** A blob's text, looked up among the trees the repository knows. */
function blobText(repo: RepoRecord, sha: string): string | undefined {
  for (const snapshot of repo.trees.values())
    for (const text of snapshot.values()) if (blobSha(text) === sha) return text;
  return undefined;
}

export function gitRoutes({ state, engine, links }: GitRouteContext): Partial<Record<GitHubRoute, RepoHandler>> {
  const identity = () => {
    const user = state.users.get(state.viewer.toLowerCase())!;
    return {
      name: user.name ?? user.login,
      email: user.email ?? `${user.id}+${user.login}@users.noreply.github.com`,
      date: timestamp(),
    };
  };

  const getContent: RepoHandler = (repo, path, query) => {
    const ref = query.get("ref") ?? repo.default_branch;
    const resolved = resolveRef(ref, repo.branches, repo.commits);
    if (!("sha" in resolved)) return notFound("repos.getContent", `No commit found for the ref ${ref}`);
    const snapshot = snapshotOf(repo, resolved.sha);
    const text = snapshot.get(path);
    if (text !== undefined) return { status: 200, body: renderContentFile(repo, path, ref, text, links()) };
    if (path === "" || [...snapshot.keys()].some((p) => p.startsWith(`${path}/`)))
      return { status: 200, body: renderContentDirectory(repo, path, ref, snapshot, links()) };
    return notFound("repos.getContent");
  };

  const getRef: RepoHandler = (repo, ref) => {
    const branch = branchOf(ref);
    return branch !== undefined && repo.branches.has(branch)
      ? { status: 200, body: renderGitRef(repo, branch, links()) }
      : notFound("git.getRef");
  };

  const createRef: RepoHandler = (repo, _arg, _query, body) => {
    const route = "git.createRef";
    if (!isObject(body) || typeof body.ref !== "string" || typeof body.sha !== "string")
      return invalidRequest(route, `"ref" and "sha" must be strings.`);
    if (!/^refs\/.+\/.+/.test(body.ref))
      return unprocessable(route, "Reference name must start with 'refs/' and contain at least two slashes");
    const branch = branchOf(body.ref);
    if (branch === undefined) return unprocessable(route, "The emulator only has branch refs (refs/heads/...)");
    if (!repo.commits.has(body.sha)) return unprocessable(route, "Object does not exist");
    if (repo.branches.has(branch)) return unprocessable(route, "Reference already exists");
    engine.moveBranch(repo, branch, body.sha);
    return {
      status: 201,
      body: renderGitRef(repo, branch, links()),
      headers: { location: `${links().api}/repos/${repo.full_name}/git/refs/heads/${branch}` },
    };
  };

  const updateRef: RepoHandler = (repo, ref, _query, body) => {
    const route = "git.updateRef";
    if (!isObject(body) || typeof body.sha !== "string") return invalidRequest(route, `"sha" wasn't supplied.`);
    if (body.force !== undefined && typeof body.force !== "boolean")
      return invalidRequest(route, `For 'properties/force', ${JSON.stringify(body.force)} is not a boolean.`);
    const branch = branchOf(ref);
    const current = branch === undefined ? undefined : repo.branches.get(branch);
    if (branch === undefined || current === undefined) return unprocessable(route, "Reference does not exist");
    if (!repo.commits.has(body.sha)) return unprocessable(route, "Object does not exist");
    if (body.force !== true && !ancestors(body.sha, repo.commits).has(current))
      return unprocessable(route, "Update is not a fast forward");
    engine.moveBranch(repo, branch, body.sha);
    return { status: 200, body: renderGitRef(repo, branch, links()) };
  };

  const deleteRef: RepoHandler = (repo, ref) => {
    const branch = branchOf(ref);
    if (branch === undefined || !engine.deleteBranch(repo, branch))
      return unprocessable("git.deleteRef", "Reference does not exist");
    return { status: 204, body: undefined };
  };

  const createTree: RepoHandler = (repo, _arg, _query, body) => {
    const route = "git.createTree";
    if (!isObject(body) || !Array.isArray(body.tree)) return invalidRequest(route, `"tree" wasn't supplied.`);
    let base: Snapshot = new Map();
    if (body.base_tree !== undefined) {
      const known = typeof body.base_tree === "string" ? repo.trees.get(body.base_tree) : undefined;
      if (!known) return unprocessable(route, "Invalid tree info");
      base = known;
    }
    const next = new Map(base);
    for (const entry of body.tree as unknown[]) {
      if (!isObject(entry) || typeof entry.path !== "string" || entry.path === "" || entry.path.startsWith("/"))
        return invalidRequest(route, "Every tree entry needs a relative path.");
      if (typeof entry.mode !== "string" || !MODES.includes(entry.mode))
        return invalidRequest(
          route,
          `For 'properties/mode', ${JSON.stringify(entry.mode)} is not one of ${JSON.stringify(MODES)}.`,
        );
      if (!BLOB_MODES.includes(entry.mode) || (entry.type !== undefined && entry.type !== "blob"))
        return unprocessable(route, "The emulator only has blob entries");
      const hasSha = typeof entry.sha === "string";
      if (typeof entry.content === "string") {
        if (hasSha) return unprocessable(route, BOTH_OR_NEITHER);
        next.set(entry.path, entry.content);
      } else if (hasSha) {
        const text = blobText(repo, entry.sha as string);
        if (text === undefined) return unprocessable(route, "GitRPC::BadObjectState");
        next.set(entry.path, text);
      } else if (entry.sha === null) {
        // GitHub's answer when asked to delete what the base tree does not have.
        if (!next.delete(entry.path)) return unprocessable(route, "GitRPC::BadObjectState");
      } else return unprocessable(route, BOTH_OR_NEITHER);
    }
    const rendered = renderGitTree(repo, next, links());
    if (!repo.trees.has(rendered.sha)) repo.trees.set(rendered.sha, next);
    return { status: 201, body: rendered };
  };

  const getCommit: RepoHandler = (repo, sha) =>
    repo.commits.has(sha) ? { status: 200, body: renderGitCommit(repo, sha, links()) } : notFound("git.getCommit");

  const createCommit: RepoHandler = (repo, _arg, _query, body) => {
    const route = "git.createCommit";
    if (!isObject(body) || typeof body.message !== "string" || typeof body.tree !== "string")
      return invalidRequest(route, `"message" and "tree" must be strings.`);
    const parents = body.parents ?? [];
    if (!Array.isArray(parents) || !parents.every((p) => typeof p === "string"))
      return invalidRequest(route, "For 'properties/parents', it is not an array of strings.");
    const snapshot = repo.trees.get(body.tree);
    if (!snapshot) return unprocessable(route, "Tree SHA does not exist");
    if (!parents.every((p) => repo.commits.has(p)))
      return unprocessable(route, "Parent SHA does not exist or is not a commit object");
    const who = (value: unknown) =>
      isObject(value) && typeof value.name === "string" && typeof value.email === "string"
        ? { name: value.name, email: value.email, date: typeof value.date === "string" ? value.date : timestamp() }
        : undefined;
    const author = who(body.author) ?? identity();
    const committer = who(body.committer);
    const sha = writeCommit(repo, {
      message: body.message,
      parents,
      snapshot,
      author,
      ...(committer ? { committer } : {}),
    });
    return {
      status: 201,
      body: renderGitCommit(repo, sha, links()),
      headers: { location: `${links().api}/repos/${repo.full_name}/git/commits/${sha}` },
    };
  };

  return {
    "repos.getContent": getContent,
    "git.getRef": getRef,
    "git.createRef": createRef,
    "git.updateRef": updateRef,
    "git.deleteRef": deleteRef,
    "git.createTree": createTree,
    "git.getCommit": getCommit,
    "git.createCommit": createCommit,
  };
}
