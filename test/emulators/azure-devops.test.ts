/**
 * The Azure DevOps emulator driven by the real, unmodified azure-devops-node-api client (v17): discovery,
 * the pull-request round trip, the service's validation rules, auth, every fault kind, and a check of the
 * emulator's JSON against specification/git/7.1/git.json and its httpExamples.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import * as azdev from "azure-devops-node-api";
import type { ICoreApi } from "azure-devops-node-api/CoreApi.js";
import type { IGitApi } from "azure-devops-node-api/GitApi.js";
import { PullRequestAsyncStatus, PullRequestStatus, VersionControlChangeType, type GitPullRequest } from "azure-devops-node-api/interfaces/GitInterfaces.js";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { startAzureDevOpsEmulator, type AzureEmulator, type AzureRoute, type RequestLog } from "./azure-devops.js";
import { loadSwagger, responseSchema, validateAgainst, type SwaggerSchema } from "./azure-swagger.js";

const SPEC_DIR = process.env.AZURE_DEVOPS_SPEC_DIR ?? fileURLToPath(new URL("../specs/", import.meta.url));
const SPEC_FILE = join(SPEC_DIR, "azure-devops-git-7.1.json");
const EXAMPLES = join(SPEC_DIR, "azure-devops-git-7.1-examples");

const SHA = {
  base: "b0".repeat(20),
  feature: "f1".repeat(20),
  abc1: `abc1${"0".repeat(36)}`,
  abc2: `abc1${"1".repeat(36)}`,
};
const REPO = "Widgets";
const RATE_LIMIT_HEADERS = { "Retry-After": "1", "X-RateLimit-Resource": "Core", "X-RateLimit-Delay": "1", "X-RateLimit-Remaining": "0" };
const DESCRIPTION_TOO_LONG = "Invalid argument value.\r\nParameter name: A description for a pull request must not be longer than 4000 characters.";
const TF401179 = "TF401179: An active pull request for the source and target branch already exists.";

/** What typed-rest-client attaches to the Error it throws for a status > 299. */
type ClientError = Error & {
  statusCode?: number;
  result?: Record<string, unknown>;
  responseHeaders?: Record<string, string>;
  rateLimit?: Record<string, number | string>;
  code?: string;
};

async function clientError(promise: Promise<unknown>): Promise<ClientError> {
  try {
    await promise;
  } catch (error) {
    return error as ClientError;
  }
  throw new Error("expected the client call to fail");
}

const author = { name: "Ada Lovelace", email: "ada@acme.example", date: "2024-05-01T10:00:00Z" };

function seed(emu: AzureEmulator): void {
  emu.seedRepo(REPO, {
    branches: { main: SHA.base, "feature/x": SHA.feature, "feature/xyz": SHA.abc1, release: SHA.abc2, "feature/y": SHA.feature },
    commits: {
      [SHA.base]: { message: "Initial commit\n", author, parents: [], changes: [{ path: "/README.md", changeType: "add" }] },
      [SHA.feature]: {
        message: "Add the widget service\n\nAB#123",
        author,
        parents: [SHA.base],
        changes: [
          { path: "src/a.cs", changeType: "add" },
          { path: "/src/b.cs", changeType: "edit" },
          { path: "/src/old.cs", changeType: "delete" },
          { path: "/src/new.cs", changeType: "rename", sourcePath: "/src/was.cs" },
          { path: "/src/moved.cs", changeType: "edit, rename", sourcePath: "/lib/moved.cs" },
          { path: "/src/sub", changeType: "add", isFolder: true },
        ],
      },
      [SHA.abc1]: { message: "One", author, parents: [SHA.base], changes: [] },
      [SHA.abc2]: { message: "Two", author, parents: [SHA.base], changes: [] },
    },
  });
}

interface Client {
  conn: azdev.WebApi;
  git: IGitApi;
  core: ICoreApi;
}

async function connect(emu: AzureEmulator, options: { pat?: string; socketTimeout?: number } = {}): Promise<Client> {
  const conn = new azdev.WebApi(
    emu.orgUrl,
    azdev.getPersonalAccessTokenHandler(options.pat ?? emu.token),
    options.socketTimeout ? { socketTimeout: options.socketTimeout } : undefined,
  );
  return { conn, git: await conn.getGitApi(), core: await conn.getCoreApi() };
}

const newPr = (over: GitPullRequest = {}): GitPullRequest => ({
  sourceRefName: "refs/heads/feature/x",
  targetRefName: "refs/heads/main",
  title: "Add the widget service",
  description: "Implements AB#123.",
  isDraft: false,
  ...over,
});

const lastOf = (emu: AzureEmulator, route: AzureRoute): RequestLog => {
  const hit = emu.requests.filter((r) => r.route === route).at(-1);
  if (!hit) throw new Error(`no ${route} request logged`);
  return hit;
};

describe("Azure DevOps emulator × azure-devops-node-api", () => {
  let emu: AzureEmulator;
  let c: Client;

  beforeEach(async () => {
    emu = await startAzureDevOpsEmulator();
    seed(emu);
    c = await connect(emu);
  });
  afterEach(async () => {
    await emu.close();
  });

  it("answers the client's location discovery and routes on the URLs it builds", async () => {
    await c.git.getRepository(REPO, emu.project);
    await c.git.getRefs(REPO, emu.project, "heads/main");
    await c.core.getTeams(emu.project);

    const discovery = emu.requests.filter((r) => r.route === "discovery").map((r) => `${r.method} ${r.path}`);
    expect(discovery).toEqual(["OPTIONS /acme/_apis/Location", "GET /acme/_apis/ResourceAreas", "OPTIONS /acme/_apis/git", "OPTIONS /acme/_apis/core"]);
    expect(emu.requests.every((r) => r.authUser === "PAT" && r.authorized)).toBe(true);
    expect(emu.requests.find((r) => r.path === "/acme/_apis/ResourceAreas")?.apiVersion).toBe("7.2-preview.1");

    const api = emu.requests.filter((r) => r.route !== "discovery").map((r) => [r.route, r.method, r.path + r.query, r.apiVersion]);
    expect(api).toEqual([
      ["getRepository", "GET", "/acme/Factory/_apis/git/repositories/Widgets", "7.2-preview.2"],
      ["getRefs", "GET", "/acme/Factory/_apis/git/repositories/Widgets/refs?filter=heads%2Fmain", "7.2-preview.2"],
      ["getTeams", "GET", "/acme/_apis/projects/Factory/teams", "7.2-preview.3"],
    ]);
    expect(emu.calls()).toBe(3);
    expect(emu.calls("getRefs")).toBe(1);
  });

  it("reads repository, refs, commits and changes", async () => {
    const repo = await c.git.getRepository(REPO, emu.project);
    expect(repo).toMatchObject({ name: REPO, defaultBranch: "refs/heads/main", project: { name: "Factory" } });
    expect(await c.git.getRepository("Nope", emu.project)).toBeNull(); // 404 → null, not an error
    expect(lastOf(emu, "getRepository").status).toBe(404);
    expect(await c.git.getRepository(repo.id!)).toMatchObject({ name: REPO }); // by id, no project

    const refs = await c.git.getRefs(REPO, emu.project, "heads/feature/x");
    expect(refs.map((r) => [r.name, r.objectId])).toEqual([
      ["refs/heads/feature/x", SHA.feature],
      ["refs/heads/feature/xyz", SHA.abc1], // the filter is a prefix
    ]);

    const commit = await c.git.getCommit(SHA.feature, REPO, emu.project);
    expect(commit).toMatchObject({ commitId: SHA.feature, comment: "Add the widget service\n\nAB#123", parents: [SHA.base], author: { name: "Ada Lovelace" } });
    expect(commit.author?.date).toBeInstanceOf(Date); // the client deserializes dates
    expect((await c.git.getCommit(SHA.feature.slice(0, 7), REPO, emu.project)).commitId).toBe(SHA.feature); // abbreviated
    expect((await c.git.getCommit("abc10", REPO, emu.project)).commitId).toBe(SHA.abc1);
    expect((await clientError(c.git.getCommit("abc1", REPO, emu.project))).statusCode).toBe(400); // ambiguous
    expect(await c.git.getCommit("d".repeat(40), REPO, emu.project)).toBeNull();

    const changes = await c.git.getChanges(SHA.feature, REPO, emu.project, 10_000);
    const rows = (changes.changes ?? []).map((ch) => [ch.item?.path, ch.changeType, (ch as { sourceServerItem?: string }).sourceServerItem, (ch.item as { gitObjectType?: string }).gitObjectType]);
    expect(rows).toEqual([
      ["/src/a.cs", VersionControlChangeType.Add, undefined, "blob"],
      ["/src/b.cs", VersionControlChangeType.Edit, undefined, "blob"],
      ["/src/old.cs", VersionControlChangeType.Delete, undefined, "blob"],
      ["/src/new.cs", VersionControlChangeType.Rename, "/src/was.cs", "blob"],
      ["/src/moved.cs", VersionControlChangeType.Edit | VersionControlChangeType.Rename, "/lib/moved.cs", "blob"],
      ["/src/sub", VersionControlChangeType.Add, undefined, "tree"],
    ]);
    expect(changes.changeCounts).toEqual({ Add: 2, Edit: 1, Delete: 1, Rename: 1, "Edit, Rename": 1 });
    const paged = await c.git.getChanges(SHA.feature, REPO, emu.project, 2, 1);
    expect(paged.changes?.map((ch) => ch.item?.path)).toEqual(["/src/b.cs", "/src/old.cs"]);
    expect(lastOf(emu, "getChanges").query).toBe("?top=2&skip=1");
  });

  it("round-trips create → get → list → update → reviewer → label", async () => {
    const ada = emu.addIdentity({ displayName: "Ada Lovelace", uniqueName: "ada@acme.example" });
    const created = await c.git.createPullRequest(
      newPr({ description: "x".repeat(1000), labels: [{ name: "needs-review" }], workItemRefs: [{ id: "123" }], reviewers: [{ id: ada.id, isRequired: true }] }),
      REPO,
      emu.project,
    );
    expect(created).toMatchObject({
      pullRequestId: 1,
      codeReviewId: 1,
      status: PullRequestStatus.Active, // the client maps "active" → 1
      mergeStatus: PullRequestAsyncStatus.Queued,
      sourceRefName: "refs/heads/feature/x",
      targetRefName: "refs/heads/main",
      isDraft: false,
      createdBy: { id: emu.state.authenticatedUser.id },
      repository: { name: REPO, project: { name: "Factory" } },
      lastMergeSourceCommit: { commitId: SHA.feature },
      labels: [{ name: "needs-review", active: true }],
      workItemRefs: [{ id: "123" }],
      reviewers: [{ id: ada.id, displayName: "Ada Lovelace", uniqueName: "ada@acme.example", isRequired: true, vote: 0 }],
    });
    expect(created.creationDate).toBeInstanceOf(Date);
    expect(lastOf(emu, "createPullRequest")).toMatchObject({ status: 201, method: "POST", path: "/acme/Factory/_apis/git/repositories/Widgets/pullRequests" });

    const second = await c.git.createPullRequest(newPr({ targetRefName: "refs/heads/release" }), REPO, emu.project);
    expect(second.pullRequestId).toBe(2);

    const got = await c.git.getPullRequest(REPO, 1, emu.project);
    expect(got).toMatchObject({ pullRequestId: 1, mergeStatus: PullRequestAsyncStatus.Succeeded, description: "x".repeat(1000) });
    expect(got.workItemRefs).toBeUndefined(); // only with includeWorkItemRefs
    expect((await c.git.getPullRequest(REPO, 1, emu.project, undefined, undefined, undefined, undefined, true)).workItemRefs).toEqual([
      { id: "123", url: `${emu.orgUrl}/_apis/wit/workItems/123` },
    ]);
    expect(await c.git.getPullRequest(REPO, 99, emu.project)).toBeNull();

    const listed = await c.git.getPullRequests(REPO, { sourceRefName: "refs/heads/feature/x", targetRefName: "refs/heads/main", status: PullRequestStatus.Active }, emu.project);
    expect(listed.map((p) => p.pullRequestId)).toEqual([1]);
    expect(listed[0]?.description).toBe("x".repeat(400)); // the list call truncates
    expect(lastOf(emu, "getPullRequests").query).toBe(
      "?searchCriteria.sourceRefName=refs%2Fheads%2Ffeature%2Fx&searchCriteria.targetRefName=refs%2Fheads%2Fmain&searchCriteria.status=1",
    );
    expect((await c.git.getPullRequests(REPO, { status: PullRequestStatus.Active }, emu.project)).map((p) => p.pullRequestId)).toEqual([2, 1]);

    const updated = await c.git.updatePullRequest({ title: "Widget service", description: "Short.", isDraft: true }, REPO, 1, emu.project);
    expect(updated).toMatchObject({ title: "Widget service", description: "Short.", isDraft: true });
    expect(lastOf(emu, "updatePullRequest")).toMatchObject({ method: "PATCH", status: 200 });

    const grace = emu.addIdentity({ displayName: "Grace Hopper", uniqueName: "grace@acme.example" });
    const added = await c.git.createPullRequestReviewer({ id: grace.id, isRequired: true, vote: 0 }, REPO, 1, grace.id, emu.project);
    expect(added).toMatchObject({ id: grace.id, displayName: "Grace Hopper", isRequired: true, vote: 0 });
    expect(lastOf(emu, "createReviewer")).toMatchObject({ method: "PUT", path: `/acme/Factory/_apis/git/repositories/Widgets/pullRequests/1/reviewers/${grace.id}` });
    const optional = await c.git.createPullRequestReviewer({ id: grace.id, isRequired: false, vote: 0 }, REPO, 1, grace.id, emu.project);
    expect(optional.isRequired).toBeUndefined(); // the service omits isRequired unless it is true
    const team = await c.git.createPullRequestReviewer({ id: emu.state.defaultTeam.id, vote: 0 }, REPO, 1, emu.state.defaultTeam.id, emu.project);
    expect(team).toMatchObject({ displayName: "[Factory]\\Factory Team", isContainer: true });

    const label = await c.git.createPullRequestLabel({ name: "bug" }, REPO, 1, emu.project);
    const again = await c.git.createPullRequestLabel({ name: "Bug" }, REPO, 1, emu.project);
    expect(again.id).toBe(label.id);
    expect(await c.git.createPullRequestLabel({ name: "BUG" }, REPO, 2, emu.project)).toMatchObject({ id: label.id }); // project-wide tag

    const stored = emu.state.pullRequests[0]!;
    expect(stored.title).toBe("Widget service");
    expect(stored.reviewers.map((r) => [r.displayName, r.isRequired ?? false])).toEqual([
      ["Ada Lovelace", true],
      ["Grace Hopper", false],
      ["[Factory]\\Factory Team", false],
    ]);
    expect(stored.labels.map((l) => l.name)).toEqual(["needs-review", "bug"]);
    expect(emu.state.pullRequests.map((p) => p.pullRequestId)).toEqual([1, 2]);
  });

  it("enforces the 4000-character description limit on create and update", async () => {
    const ok = await c.git.createPullRequest(newPr({ description: "d".repeat(4000) }), REPO, emu.project);
    expect(ok.description).toHaveLength(4000);

    const tooLong = await clientError(c.git.createPullRequest(newPr({ sourceRefName: "refs/heads/feature/y", description: "d".repeat(4001) }), REPO, emu.project));
    expect(tooLong.message).toBe(DESCRIPTION_TOO_LONG);
    expect(tooLong.statusCode).toBe(400);
    expect(tooLong.result).toMatchObject({ typeKey: "InvalidArgumentValueException", message: DESCRIPTION_TOO_LONG });

    const patch = await clientError(c.git.updatePullRequest({ description: "d".repeat(4001) }, REPO, ok.pullRequestId!, emu.project));
    expect([patch.statusCode, patch.message]).toEqual([400, DESCRIPTION_TOO_LONG]);
    expect(emu.state.pullRequests).toHaveLength(1);
  });

  it("answers a duplicate active pull request with the real TF401179 409", async () => {
    await c.git.createPullRequest(newPr(), REPO, emu.project);
    const dup = await clientError(c.git.createPullRequest(newPr({ title: "Again" }), REPO, emu.project));
    expect(dup.message).toBe(TF401179);
    expect(dup.statusCode).toBe(409);
    expect(dup.result).toEqual({
      $id: "1",
      innerException: null,
      message: TF401179,
      typeName: "Microsoft.TeamFoundation.Git.Server.GitPullRequestExistsException, Microsoft.TeamFoundation.Git.Server",
      typeKey: "GitPullRequestExistsException",
      errorCode: 0,
      eventId: 3000,
    });
    expect(dup.responseHeaders?.["content-type"]).toMatch(/^application\/json/);

    // Abandoned, the pair is free again; the ids keep counting.
    const abandoned = await c.git.updatePullRequest({ status: PullRequestStatus.Abandoned }, REPO, 1, emu.project);
    expect(abandoned.status).toBe(PullRequestStatus.Abandoned);
    expect(abandoned.closedDate).toBeInstanceOf(Date);
    expect((await c.git.createPullRequest(newPr(), REPO, emu.project)).pullRequestId).toBe(2);
    expect((await clientError(c.git.updatePullRequest({ status: PullRequestStatus.Active }, REPO, 1, emu.project))).statusCode).toBe(409);
  });

  it("rejects bad pull requests and updates like the service", async () => {
    const missing = await clientError(c.git.createPullRequest(newPr({ sourceRefName: "refs/heads/nope" }), REPO, emu.project));
    expect([missing.statusCode, missing.message]).toEqual([
      400,
      "TF401398: The pull request cannot be activated because the source and/or the target branch no longer exists, or the requested refs are not branches",
    ]);
    expect((await clientError(c.git.createPullRequest(newPr({ sourceRefName: "feature/x" }), REPO, emu.project))).message).toMatch(/^TF401398/);
    expect((await clientError(c.git.createPullRequest(newPr({ targetRefName: undefined }), REPO, emu.project))).statusCode).toBe(400);
    expect((await clientError(c.git.createPullRequest(newPr({ title: "   " }), REPO, emu.project))).statusCode).toBe(400);
    expect((await clientError(c.git.createPullRequest(newPr({ targetRefName: "refs/heads/feature/x" }), REPO, emu.project))).statusCode).toBe(400);
    expect((await clientError(c.git.createPullRequest(newPr({ reviewers: [{ id: "0b7f1c1e-0000-4000-8000-000000000000" }] }), REPO, emu.project))).statusCode).toBe(
      400,
    );
    expect(await c.git.createPullRequest(newPr(), "NoSuchRepo", emu.project)).toBeNull(); // 404 → null even for POST
    expect(emu.state.pullRequests).toHaveLength(0);

    const pr = await c.git.createPullRequest(newPr(), REPO, emu.project);
    expect(pr.pullRequestId).toBe(1); // failed creates use no id
    const forbidden = await clientError(
      c.git.updatePullRequest({ title: "ok", createdBy: { id: "x" }, sourceRefName: "refs/heads/feature/y", reviewers: [] } as GitPullRequest, REPO, 1, emu.project),
    );
    expect(forbidden.statusCode).toBe(400);
    expect(forbidden.message).toContain("createdBy, sourceRefName, reviewers");
    expect(emu.state.pullRequests[0]?.title).toBe("Add the widget service"); // nothing applied
    expect((await clientError(c.git.updatePullRequest({ title: "" }, REPO, 1, emu.project))).statusCode).toBe(400);
    expect((await clientError(c.git.updatePullRequest({ status: PullRequestStatus.Completed }, REPO, 1, emu.project))).statusCode).toBe(400);
    expect((await clientError(c.git.updatePullRequest({ autoCompleteSetBy: { id: "0b7f1c1e-0000-4000-8000-000000000000" } }, REPO, 1, emu.project))).statusCode).toBe(
      400,
    );
    const retargeted = await c.git.updatePullRequest({ targetRefName: "refs/heads/release" }, REPO, 1, emu.project);
    expect(retargeted.targetRefName).toBe("refs/heads/release");
  });

  it("answers 401 with an empty body to a wrong or missing PAT", async () => {
    const wrong = new azdev.WebApi(emu.orgUrl, azdev.getPersonalAccessTokenHandler("wrong-pat"));
    const denied = await clientError(wrong.getGitApi());
    expect([denied.message, denied.statusCode, denied.result]).toEqual(["Failed request: (401)", 401, undefined]);
    expect(emu.requests.at(-1)).toMatchObject({ method: "OPTIONS", path: "/acme/_apis/Location", status: 401, authUser: "PAT", authorized: false });

    const url = `${emu.orgUrl}/Factory/_apis/git/repositories/${REPO}`;
    const anonymous = await fetch(url);
    expect([anonymous.status, await anonymous.text()]).toEqual([401, ""]);
    const anyUser = await fetch(url, { headers: { Authorization: `Basic ${Buffer.from(`someone:${emu.token}`).toString("base64")}` } });
    expect(anyUser.status).toBe(200);
  });

  it("serves teams and members so reviewer names resolve to ids", async () => {
    const ada = emu.addIdentity({ displayName: "Ada Lovelace", uniqueName: "ada@acme.example" });
    const bob = emu.addIdentity({ displayName: "Bob Builder", uniqueName: "bob@acme.example", team: ["Platform", "Factory Team"] });
    const teams = await c.core.getTeams(emu.project);
    expect(teams.map((t) => t.name)).toEqual(["Factory Team", "Platform"]);
    expect(teams[0]).toMatchObject({ id: emu.state.defaultTeam.id, projectId: emu.state.project.id, projectName: "Factory" });

    const members = await c.core.getTeamMembersWithExtendedProperties(teams[0]!.projectId!, teams[0]!.id!);
    expect(members.map((m) => [m.identity?.id, m.identity?.displayName, m.identity?.uniqueName])).toEqual([
      [ada.id, "Ada Lovelace", "ada@acme.example"],
      [bob.id, "Bob Builder", "bob@acme.example"],
    ]);
    expect((await c.core.getTeamMembersWithExtendedProperties(emu.project, "Platform")).map((m) => m.identity?.id)).toEqual([bob.id]);
    expect(lastOf(emu, "getTeamMembers")).toMatchObject({ path: "/acme/_apis/projects/Factory/teams/Platform/members", apiVersion: "7.2-preview.2" });
  });

  it("delivers an injected status fault, rate-limit headers and all, to the client", async () => {
    emu.inject("createPullRequest", { status: 429, headers: RATE_LIMIT_HEADERS });
    const limited = await clientError(c.git.createPullRequest(newPr(), REPO, emu.project));
    expect(limited.statusCode).toBe(429);
    expect(limited.message).toMatch(/^TF400733: The request has been canceled: Request was blocked due to exceeding usage of resource 'Core'/);
    expect(limited.responseHeaders).toMatchObject({ "retry-after": "1", "x-ratelimit-resource": "Core", "x-ratelimit-delay": "1", "x-ratelimit-remaining": "0" });
    expect(limited.rateLimit).toEqual({ resource: "Core", delay: 1, remaining: 0, retryAfter: 1 }); // azure-devops-node-api v17 extra
    expect(emu.state.pullRequests).toHaveLength(0); // a status fault answers before any processing
    expect(emu.calls("createPullRequest")).toBe(1); // the client does not retry 429

    expect((await c.git.createPullRequest(newPr(), REPO, emu.project)).pullRequestId).toBe(1); // one use only

    emu.inject("*", { status: 503, body: "Service Unavailable" }, 2);
    for (let i = 0; i < 2; i++) {
      const unavailable = await clientError(c.git.getRepository(REPO, emu.project));
      expect([unavailable.statusCode, unavailable.message]).toEqual([503, "Service Unavailable"]);
    }
    expect(emu.calls("getRepository")).toBe(2); // GitApi has allowRetries off: no retry of a GET on 503 either
    expect(await c.git.getRepository(REPO, emu.project)).toMatchObject({ name: REPO });
    expect(emu.pendingFaults()).toBe(0);
    expect(emu.requests.filter((r) => r.fault === "status").map((r) => r.status)).toEqual([429, 503, 503]);
  });

  it("never faults discovery", async () => {
    emu.inject("*", { status: 500 }, Infinity);
    const fresh = await connect(emu);
    const failed = await clientError(fresh.git.getRefs(REPO, emu.project, "heads/"));
    expect([failed.statusCode, failed.message]).toEqual([500, "Failed request: (500)"]);
    expect(emu.requests.filter((r) => r.route === "discovery").every((r) => r.status === 200)).toBe(true);
  });

  it("delays, resets and hangs on request", async () => {
    emu.inject("getPullRequests", { delayMs: 300 });
    let t0 = Date.now();
    expect(await c.git.getPullRequests(REPO, { status: PullRequestStatus.Active }, emu.project)).toEqual([]);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(280);

    emu.inject("getCommit", { reset: true });
    const reset = await clientError(c.git.getCommit(SHA.feature, REPO, emu.project));
    expect([reset.code, reset.message]).toEqual(["ECONNRESET", "socket hang up"]);
    expect(lastOf(emu, "getCommit").status).toBe("reset");
    expect((await c.git.getCommit(SHA.feature, REPO, emu.project)).commitId).toBe(SHA.feature);

    // A lost answer to a create that did happen: the retry meets TF401179.
    emu.inject("createPullRequest", { reset: true, applied: true });
    expect((await clientError(c.git.createPullRequest(newPr(), REPO, emu.project))).code).toBe("ECONNRESET");
    expect(emu.state.pullRequests).toHaveLength(1);
    expect((await clientError(c.git.createPullRequest(newPr(), REPO, emu.project))).statusCode).toBe(409);

    const impatient = await connect(emu, { socketTimeout: 250 });
    emu.inject("getPullRequest", { hang: true });
    t0 = Date.now();
    const hung = await clientError(impatient.git.getPullRequest(REPO, 1, emu.project));
    expect(hung.message).toBe("Request timeout: /acme/Factory/_apis/git/repositories/Widgets/pullRequests/1");
    expect(Date.now() - t0).toBeLessThan(2000);
    expect(lastOf(emu, "getPullRequest")).toMatchObject({ status: "hang", fault: "hang" });
  });

  it("adds latencyMs to every non-discovery answer", async () => {
    const slow = await startAzureDevOpsEmulator({ latencyMs: 200, project: "Mill", token: "other-pat" });
    try {
      slow.seedRepo(REPO, { branches: { main: SHA.base }, commits: {} });
      const client = await connect(slow);
      const t0 = Date.now();
      expect(await client.git.getRepository(REPO, "Mill")).toMatchObject({ name: REPO, project: { name: "Mill" } });
      expect(Date.now() - t0).toBeGreaterThanOrEqual(190);
      expect(await client.git.getRepository(REPO, "Factory")).toBeNull(); // unknown project → 404
      const took = (r: RequestLog) => (r.answeredAt ?? Infinity) - r.at;
      const discovery = slow.requests.filter((r) => r.route === "discovery");
      expect(discovery.map((r) => r.path)).toEqual(["/acme/_apis/Location", "/acme/_apis/ResourceAreas", "/acme/_apis/git"]);
      expect(discovery.every((r) => took(r) < 100)).toBe(true); // discovery is not delayed
      expect(slow.requests.filter((r) => r.route !== "discovery").every((r) => took(r) >= 190)).toBe(true);
    } finally {
      await slow.close();
    }
  });

  it("reset() forgets pull requests, faults and the log but keeps repos and people", async () => {
    const ada = emu.addIdentity({ displayName: "Ada", uniqueName: "ada@acme.example" });
    await c.git.createPullRequest(newPr(), REPO, emu.project);
    emu.inject("getRefs", { status: 500 });
    emu.reset();
    expect([emu.requests.length, emu.calls(), emu.pendingFaults(), emu.state.pullRequests.length]).toEqual([0, 0, 0, 0]);
    expect((await c.git.createPullRequest(newPr({ reviewers: [{ id: ada.id }] }), REPO, emu.project)).pullRequestId).toBe(1);
    expect(await c.git.getRefs(REPO, emu.project, "heads/main")).toHaveLength(1);
  });
});

// -------------------------------------------------------------------------------------------------------------
// Spec conformance
// -------------------------------------------------------------------------------------------------------------

const GIT = "/{organization}/{project}/_apis/git/repositories/{repositoryId}";
const SPEC_ROUTES: Partial<Record<AzureRoute, [method: string, path: string]>> = {
  getRepository: ["get", GIT],
  getRefs: ["get", `${GIT}/refs`],
  getCommit: ["get", `${GIT}/commits/{commitId}`],
  getChanges: ["get", `${GIT}/commits/{commitId}/changes`],
  createPullRequest: ["post", `${GIT}/pullrequests`],
  getPullRequests: ["get", `${GIT}/pullrequests`],
  getPullRequest: ["get", `${GIT}/pullrequests/{pullRequestId}`],
  updatePullRequest: ["patch", `${GIT}/pullrequests/{pullRequestId}`],
  createReviewer: ["put", `${GIT}/pullRequests/{pullRequestId}/reviewers/{reviewerId}`],
  createLabel: ["post", `${GIT}/pullRequests/{pullRequestId}/labels`],
};
/** The git specification has no Core types; these follow CoreInterfaces.d.ts / VSSInterfaces.d.ts of the client. */
const CORE_DEFINITIONS: Record<string, SwaggerSchema> = {
  WebApiTeam: {
    type: "object",
    properties: {
      id: { type: "string", format: "uuid" },
      name: { type: "string" },
      url: { type: "string" },
      description: { type: "string" },
      identityUrl: { type: "string" },
      projectName: { type: "string" },
      projectId: { type: "string", format: "uuid" },
      identity: { type: "object" },
    },
  },
  TeamMember: { type: "object", properties: { identity: { $ref: "#/definitions/IdentityRef" }, isTeamAdmin: { type: "boolean" } } },
};
const CORE_ROUTES: Partial<Record<AzureRoute, SwaggerSchema>> = {
  getTeams: { type: "array", items: { $ref: "#/definitions/WebApiTeam" } },
  getTeamMembers: { type: "array", items: { $ref: "#/definitions/TeamMember" } },
};

function example(dir: string, file: string): Record<string, unknown> {
  const doc = JSON.parse(readFileSync(join(EXAMPLES, dir, file), "utf8").replace(/^\uFEFF/, "")) as { responses: Record<string, { body: Record<string, unknown> }> };
  const first = Object.values(doc.responses)[0];
  if (!first) throw new Error(`${file} has no response`);
  return first.body;
}

const keys = (v: unknown) => Object.keys(v as Record<string, unknown>).sort();
const missingFrom = (ours: unknown, theirs: unknown) => keys(theirs).filter((k) => !keys(ours).includes(k));

describe("Azure DevOps emulator responses against git 7.1 (spec and httpExamples)", () => {
  let emu: AzureEmulator;
  let c: Client;

  beforeEach(async () => {
    emu = await startAzureDevOpsEmulator();
    seed(emu);
    c = await connect(emu);
  });
  afterEach(async () => {
    await emu.close();
  });

  /** Drives every route, including the optional parts of a pull request (labels, reviewers, closing, auto-complete). */
  async function exercise(): Promise<{ plainCreate: unknown }> {
    const ada = emu.addIdentity({ displayName: "Ada Lovelace", uniqueName: "ada@acme.example" });
    await c.git.getRepository(REPO, emu.project);
    await c.git.getRefs(REPO, emu.project, "heads/");
    await c.git.getCommit(SHA.feature, REPO, emu.project);
    await c.git.getCommit(SHA.feature, REPO, emu.project, 3);
    await c.git.getChanges(SHA.feature, REPO, emu.project);
    await c.git.createPullRequest(newPr(), REPO, emu.project);
    const plainCreate = lastOf(emu, "createPullRequest").response;
    await c.git.createPullRequest(
      newPr({ targetRefName: "refs/heads/release", labels: [{ name: "x" }], workItemRefs: [{ id: "7" }], reviewers: [{ id: ada.id, isRequired: true }] }),
      REPO,
      emu.project,
    );
    await c.git.createPullRequestReviewer({ id: emu.state.defaultTeam.id, vote: 0 }, REPO, 1, emu.state.defaultTeam.id, emu.project);
    await c.git.createPullRequestLabel({ name: "bug" }, REPO, 1, emu.project);
    await c.git.getPullRequest(REPO, 2, emu.project, undefined, undefined, undefined, undefined, true);
    await c.git.updatePullRequest(
      { title: "t", completionOptions: { mergeStrategy: 2, deleteSourceBranch: true }, autoCompleteSetBy: { id: emu.state.authenticatedUser.id } },
      REPO,
      1,
      emu.project,
    );
    await c.git.updatePullRequest({ status: PullRequestStatus.Abandoned }, REPO, 2, emu.project);
    await c.git.updatePullRequest({ status: PullRequestStatus.Completed, lastMergeSourceCommit: { commitId: SHA.feature } }, REPO, 1, emu.project);
    await c.git.getPullRequest(REPO, 1, emu.project);
    await c.git.getPullRequests(REPO, { status: PullRequestStatus.All }, emu.project);
    const teams = await c.core.getTeams(emu.project);
    await c.core.getTeamMembersWithExtendedProperties(emu.project, teams[0]!.id!);
    return { plainCreate };
  }

  it("every route's JSON validates against its definition, with no undeclared property", async () => {
    const spec = loadSwagger(SPEC_FILE);
    await exercise();
    const served = new Set<string>();
    for (const entry of emu.requests) {
      if (entry.route === "discovery" || typeof entry.status !== "number" || entry.status >= 300) continue;
      const route = entry.route as AzureRoute;
      const specRoute = SPEC_ROUTES[route];
      const schema = specRoute ? responseSchema(spec, specRoute[0], specRoute[1]) : CORE_ROUTES[route];
      expect(schema, `schema for ${route}`).toBeDefined();
      const opts = { generic: "GitItem", extraDefinitions: CORE_DEFINITIONS };
      let problems: string[];
      if (schema!.type === "array") {
        // Collections travel as {count, value}.
        const wrapped = entry.response as { count: number; value: unknown[] };
        expect(keys(wrapped)).toEqual(["count", "value"]);
        expect(wrapped.count).toBe(wrapped.value.length);
        problems = validateAgainst(spec, wrapped.value, schema!, opts);
      } else {
        problems = validateAgainst(spec, entry.response, schema!, opts);
      }
      expect(problems, `${entry.method} ${entry.path}`).toEqual([]);
      served.add(route);
    }
    expect([...served].sort()).toEqual([...Object.keys(SPEC_ROUTES), ...Object.keys(CORE_ROUTES)].sort());
  });

  it("the validator itself rejects what it should", () => {
    const spec = loadSwagger(SPEC_FILE);
    expect(validateAgainst(spec, { pullRequestId: 1, status: "active" }, "GitPullRequest")).toEqual([]);
    expect(validateAgainst(spec, { pullRequestId: "1" }, "GitPullRequest")).toEqual(["$.pullRequestId: expected an integer, got \"1\""]);
    expect(validateAgainst(spec, { status: "open" }, "GitPullRequest")).toEqual(["$.status: \"open\" is not in notSet|active|abandoned|completed|all"]);
    expect(validateAgainst(spec, { creationDate: "yesterday" }, "GitPullRequest")).toEqual(["$.creationDate: \"yesterday\" is not a date-time"]);
    expect(validateAgainst(spec, { reviewers: [{ vote: 0, karma: 1 }] }, "GitPullRequest")).toEqual(["$.reviewers[0].karma: not declared by the definition"]);
    expect(validateAgainst(spec, { reviewers: [{ displayName: "x", id: "y" }] }, "GitPullRequest")).toEqual([]); // allOf IdentityRef → GraphSubjectBase
    expect(validateAgainst(spec, { _links: { self: { href: "u" } } }, "GitPullRequest")).toEqual([]);
    expect(validateAgainst(spec, { changeCounts: { Add: 1 }, changes: [{ changeType: "edit, rename", item: { path: "/a", bogus: 1 } }] }, "GitCommitChanges", { generic: "GitItem" })).toEqual([
      "$.changes[0].item.bogus: not declared by the definition",
    ]);
  });

  it("has the shape of the httpExamples", async () => {
    const { plainCreate } = await exercise();

    // POST pullRequests: the example's top-level keys, plus isDraft (newer than the example's api-version 3.0).
    const create = example("pullRequests", "POST__git_repositories__repositoryId__pullRequests.json");
    expect(keys(plainCreate)).toEqual([...keys(create), "isDraft"].sort());
    const ours = plainCreate as Record<string, unknown>;
    for (const nested of ["repository", "createdBy", "lastMergeSourceCommit", "_links"]) expect(missingFrom(ours[nested], create[nested]), nested).toEqual([]);
    expect(missingFrom((ours.repository as Record<string, unknown>).project, (create.repository as Record<string, unknown>).project)).toEqual([]);
    const exampleReviewer = (create.reviewers as unknown[])[0];
    const pr2 = emu.state.pullRequests[1]!;
    expect(missingFrom(pr2.reviewers[0], exampleReviewer)).toEqual([]);

    const get = example("pullRequests", "GET__git_repositories__repositoryId__pullRequests__pullRequestId_.json");
    expect(missingFrom(lastOf(emu, "getPullRequest").response, get)).toEqual([]);
    const listItem = (example("pullRequests", "GET__git_repositories__repositoryId__pullRequests.json").value as unknown[])[0];
    const ourList = (lastOf(emu, "getPullRequests").response as { value: Record<string, unknown>[] }).value;
    expect(missingFrom(ourList[0], listItem)).toEqual([]);
    expect(ourList.every((p) => !("_links" in p) && !("artifactId" in p))).toBe(true);

    const reviewer = example("pullRequestReviewers", "PUT__git_repositories__repositoryId__pullRequests__pullRequestId__reviewers__additionalReviewerId_.json");
    expect(missingFrom(lastOf(emu, "createReviewer").response, reviewer)).toEqual([]);
    const ref = (example("refs", "GET__git_repositories__repositoryId__refs_heads.json").value as unknown[])[0];
    expect(missingFrom((lastOf(emu, "getRefs").response as { value: unknown[] }).value[0], ref)).toEqual([]);
    const commit = example("commits", "GET__git_repositories__repositoryId__commits__commitId_.json");
    const ourCommit = emu.requests.find((r) => r.route === "getCommit")?.response;
    expect(missingFrom(ourCommit, commit)).toEqual([]);
    expect(missingFrom(lastOf(emu, "getCommit").response, example("commits", "GET__git_repositories__repositoryId__commits__commitId__changeCount-10.json"))).toEqual([]);
    const changes = example("changes", "GET__git_repositories__repositoryId__commits__commitId__changes_top-_top__skip-_skip_.json");
    const ourChanges = lastOf(emu, "getChanges").response as { changes: { item: unknown }[] };
    expect(keys(ourChanges)).toEqual(keys(changes));
    const [fileItem, folderItem] = (changes.changes as { item: unknown }[]).map((ch) => ch.item);
    expect(missingFrom(ourChanges.changes[0]?.item, fileItem)).toEqual([]);
    expect(missingFrom(ourChanges.changes[5]?.item, folderItem)).toEqual([]);
  });
});
