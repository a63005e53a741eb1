/**
 * CI and merge routes of the GitHub emulator (test/emulators/github.ts): commit statuses (create, combined),
 * check runs for a ref, and pulls.merge with GitHub's 405/409 refusals.
 */
import { resolveRef } from "./github-graph.js";
import {
  DOCS,
  errorBody,
  invalidRequest,
  isObject,
  notFound,
  unprocessable,
  type GitHubRoute,
  type RepoHandler,
} from "./github-http.js";
import type { MergeEngine } from "./github-merge.js";
import {
  nodeId,
  pullTips,
  renderCheckRun,
  renderCombinedStatus,
  renderStatus,
  timestamp,
  type EmulatorState,
  type Links,
  type StatusRecord,
} from "./github-model.js";

export interface CheckRouteContext {
  state: EmulatorState;
  engine: MergeEngine;
  newId(): number;
  links(): Links;
}

const STATES: StatusRecord["state"][] = ["error", "failure", "pending", "success"];
const METHODS = ["merge", "squash", "rebase"];
const PROTECTED = "https://docs.github.com/articles/about-protected-branches";

export function checkRoutes({
  state,
  engine,
  newId,
  links,
}: CheckRouteContext): Partial<Record<GitHubRoute, RepoHandler>> {
  const createCommitStatus: RepoHandler = (repo, sha, _query, body) => {
    const route = "repos.createCommitStatus";
    if (!isObject(body)) return invalidRequest(route, "Body should be a JSON object.");
    if (!STATES.includes(body.state as StatusRecord["state"]))
      return invalidRequest(
        route,
        `For 'properties/state', ${JSON.stringify(body.state)} is not one of ${JSON.stringify(STATES)}.`,
      );
    for (const field of ["target_url", "description", "context"]) {
      const value = body[field];
      if (value !== undefined && value !== null && typeof value !== "string")
        return invalidRequest(route, `For 'properties/${field}', ${JSON.stringify(value)} is not a string.`);
    }
    if (!repo.commits.has(sha)) return unprocessable(route, `No commit found for SHA: ${sha}`);
    const id = newId();
    const now = timestamp();
    const status: StatusRecord = {
      id,
      node_id: nodeId("SC", id),
      sha,
      state: body.state as StatusRecord["state"],
      context: (body.context as string | undefined) ?? "default",
      description: (body.description as string | undefined) ?? null,
      target_url: (body.target_url as string | undefined) ?? null,
      created_at: now,
      updated_at: now,
      creator: state.viewer,
    };
    repo.statuses.push(status);
    engine.sweep(repo);
    return { status: 201, body: renderStatus(repo, status, state, links()) };
  };

  const getCombinedStatus: RepoHandler = (repo, ref) => {
    const resolved = resolveRef(ref, repo.branches, repo.commits);
    if (!("sha" in resolved)) return notFound("repos.getCombinedStatusForRef", `No commit found for SHA: ${ref}`);
    return { status: 200, body: renderCombinedStatus(repo, resolved.sha, state, links()) };
  };

  const listCheckRuns: RepoHandler = (repo, ref, query) => {
    const route = "checks.listForRef";
    const resolved = resolveRef(ref, repo.branches, repo.commits);
    if (!("sha" in resolved)) return unprocessable(route, `No commit found for SHA: ${ref}`);
    const filter = query.get("filter") ?? "latest";
    if (filter !== "latest" && filter !== "all")
      return invalidRequest(route, `For 'filter', "${filter}" is not one of ["latest", "all"].`);
    let runs = repo.checkRuns.filter((r) => r.head_sha === resolved.sha);
    if (filter === "latest") runs = runs.filter((r) => !runs.some((other) => other.name === r.name && other.id > r.id));
    const name = query.get("check_name");
    if (name !== null) runs = runs.filter((r) => r.name === name);
    const status = query.get("status");
    if (status !== null) runs = runs.filter((r) => r.status === status);
    runs = [...runs].sort((a, b) => b.id - a.id);
    const perPage = Math.min(Math.max(Number(query.get("per_page") ?? 30) || 30, 1), 100);
    const page = Math.max(Number(query.get("page") ?? 1) || 1, 1);
    return {
      status: 200,
      body: {
        total_count: runs.length,
        check_runs: runs.slice((page - 1) * perPage, page * perPage).map((r) => renderCheckRun(repo, r, links())),
      },
    };
  };

  const mergePull: RepoHandler = (repo, number, _query, body) => {
    const route = "pulls.merge";
    const pr = repo.pulls[Number(number) - 1];
    if (!pr) return notFound(route);
    const input = body ?? {};
    if (!isObject(input)) return invalidRequest(route, "Body should be a JSON object.");
    for (const field of ["commit_title", "commit_message", "sha"]) {
      if (input[field] !== undefined && typeof input[field] !== "string")
        return invalidRequest(route, `For 'properties/${field}', ${JSON.stringify(input[field])} is not a string.`);
    }
    const method = (input.merge_method as string | undefined) ?? "merge";
    if (!METHODS.includes(method))
      return invalidRequest(
        route,
        `For 'properties/merge_method', ${JSON.stringify(method)} is not one of ${JSON.stringify(METHODS)}.`,
      );
    if (method === "rebase") return errorBody("Rebase merges are not allowed on this repository.", DOCS[route], 405);
    if (pr.state !== "open") return errorBody("Pull Request is not mergeable", DOCS[route], 405);
    if (typeof input.sha === "string" && input.sha !== pullTips(repo, pr).head)
      return errorBody("Head branch was modified. Review and try the merge again.", DOCS[route], 409);
    const refusal = engine.refusal(repo, pr);
    if (refusal) return errorBody(refusal, refusal === "Pull Request is not mergeable" ? DOCS[route] : PROTECTED, 405);
    const sha = engine.merge(repo, pr, {
      method: method as "merge" | "squash",
      title: (input.commit_title as string | undefined) ?? null,
      message: (input.commit_message as string | undefined) ?? null,
    });
    return { status: 200, body: { sha, merged: true, message: "Pull Request successfully merged" } };
  };

  return {
    "repos.createCommitStatus": createCommitStatus,
    "repos.getCombinedStatusForRef": getCombinedStatus,
    "checks.listForRef": listCheckRuns,
    "pulls.merge": mergePull,
  };
}
