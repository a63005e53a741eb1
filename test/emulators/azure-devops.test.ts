/**
 * The Azure DevOps emulator driven by the real, unmodified azure-devops-node-api client (v17): discovery,
 * the pull-request round trip, the service's validation rules, auth, every fault kind, file content,
 * pushes, CI as policy evaluations, completion and auto-complete, reverts, and a check of the emulator's
 * JSON against specification/git/7.1/git.json (and policy 7.1) and their httpExamples.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import * as azdev from "azure-devops-node-api";
import type { ICoreApi } from "azure-devops-node-api/CoreApi.js";
import type { IGitApi } from "azure-devops-node-api/GitApi.js";
import {
  GitAsyncOperationStatus,
  GitAsyncRefOperationFailureStatus,
  GitObjectType,
  GitRefUpdateStatus,
  GitStatusState,
  GitVersionType,
  ItemContentType,
  PullRequestAsyncStatus,
  PullRequestStatus,
  VersionControlChangeType,
  type GitChange,
  type GitPullRequest,
} from "azure-devops-node-api/interfaces/GitInterfaces.js";
import { PolicyEvaluationStatus } from "azure-devops-node-api/interfaces/PolicyInterfaces.js";
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
const RATE_LIMIT_HEADERS = {
  "Retry-After": "1",
  "X-RateLimit-Resource": "Core",
  "X-RateLimit-Delay": "1",
  "X-RateLimit-Remaining": "0",
};
const DESCRIPTION_TOO_LONG =
  "Invalid argument value.\r\nParameter name: A description for a pull request must not be longer than 4000 characters.";
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
    branches: {
      main: SHA.base,
      "feature/x": SHA.feature,
      "feature/xyz": SHA.abc1,
      release: SHA.abc2,
      "feature/y": SHA.feature,
    },
    commits: {
      [SHA.base]: {
        message: "Initial commit\n",
        author,
        parents: [],
        changes: [{ path: "/README.md", changeType: "add" }],
        files: { "README.md": "# Widgets\n" },
      },
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
    expect(discovery).toEqual([
      "OPTIONS /acme/_apis/Location",
      "GET /acme/_apis/ResourceAreas",
      "OPTIONS /acme/_apis/git",
      "OPTIONS /acme/_apis/core",
    ]);
    expect(emu.requests.every((r) => r.authUser === "PAT" && r.authorized)).toBe(true);
    expect(emu.requests.find((r) => r.path === "/acme/_apis/ResourceAreas")?.apiVersion).toBe("7.2-preview.1");

    const api = emu.requests
      .filter((r) => r.route !== "discovery")
      .map((r) => [r.route, r.method, r.path + r.query, r.apiVersion]);
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
    expect(commit).toMatchObject({
      commitId: SHA.feature,
      comment: "Add the widget service\n\nAB#123",
      parents: [SHA.base],
      author: { name: "Ada Lovelace" },
    });
    expect(commit.author?.date).toBeInstanceOf(Date); // the client deserializes dates
    expect((await c.git.getCommit(SHA.feature.slice(0, 7), REPO, emu.project)).commitId).toBe(SHA.feature); // abbreviated
    expect((await c.git.getCommit("abc10", REPO, emu.project)).commitId).toBe(SHA.abc1);
    expect((await clientError(c.git.getCommit("abc1", REPO, emu.project))).statusCode).toBe(400); // ambiguous
    expect(await c.git.getCommit("d".repeat(40), REPO, emu.project)).toBeNull();

    const changes = await c.git.getChanges(SHA.feature, REPO, emu.project, 10_000);
    const rows = (changes.changes ?? []).map((ch) => [
      ch.item?.path,
      ch.changeType,
      (ch as { sourceServerItem?: string }).sourceServerItem,
      (ch.item as { gitObjectType?: string }).gitObjectType,
    ]);
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
      newPr({
        description: "x".repeat(1000),
        labels: [{ name: "needs-review" }],
        workItemRefs: [{ id: "123" }],
        reviewers: [{ id: ada.id, isRequired: true }],
      }),
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
      reviewers: [
        { id: ada.id, displayName: "Ada Lovelace", uniqueName: "ada@acme.example", isRequired: true, vote: 0 },
      ],
    });
    expect(created.creationDate).toBeInstanceOf(Date);
    expect(lastOf(emu, "createPullRequest")).toMatchObject({
      status: 201,
      method: "POST",
      path: "/acme/Factory/_apis/git/repositories/Widgets/pullRequests",
    });

    const second = await c.git.createPullRequest(newPr({ targetRefName: "refs/heads/release" }), REPO, emu.project);
    expect(second.pullRequestId).toBe(2);

    const got = await c.git.getPullRequest(REPO, 1, emu.project);
    expect(got).toMatchObject({
      pullRequestId: 1,
      mergeStatus: PullRequestAsyncStatus.Succeeded,
      description: "x".repeat(1000),
    });
    expect(got.workItemRefs).toBeUndefined(); // only with includeWorkItemRefs
    expect(
      (await c.git.getPullRequest(REPO, 1, emu.project, undefined, undefined, undefined, undefined, true)).workItemRefs,
    ).toEqual([{ id: "123", url: `${emu.orgUrl}/_apis/wit/workItems/123` }]);
    expect(await c.git.getPullRequest(REPO, 99, emu.project)).toBeNull();

    const listed = await c.git.getPullRequests(
      REPO,
      { sourceRefName: "refs/heads/feature/x", targetRefName: "refs/heads/main", status: PullRequestStatus.Active },
      emu.project,
    );
    expect(listed.map((p) => p.pullRequestId)).toEqual([1]);
    expect(listed[0]?.description).toBe("x".repeat(400)); // the list call truncates
    expect(lastOf(emu, "getPullRequests").query).toBe(
      "?searchCriteria.sourceRefName=refs%2Fheads%2Ffeature%2Fx&searchCriteria.targetRefName=refs%2Fheads%2Fmain&searchCriteria.status=1",
    );
    expect(
      (await c.git.getPullRequests(REPO, { status: PullRequestStatus.Active }, emu.project)).map(
        (p) => p.pullRequestId,
      ),
    ).toEqual([2, 1]);

    const updated = await c.git.updatePullRequest(
      { title: "Widget service", description: "Short.", isDraft: true },
      REPO,
      1,
      emu.project,
    );
    expect(updated).toMatchObject({ title: "Widget service", description: "Short.", isDraft: true });
    expect(lastOf(emu, "updatePullRequest")).toMatchObject({ method: "PATCH", status: 200 });

    const grace = emu.addIdentity({ displayName: "Grace Hopper", uniqueName: "grace@acme.example" });
    const added = await c.git.createPullRequestReviewer(
      { id: grace.id, isRequired: true, vote: 0 },
      REPO,
      1,
      grace.id,
      emu.project,
    );
    expect(added).toMatchObject({ id: grace.id, displayName: "Grace Hopper", isRequired: true, vote: 0 });
    expect(lastOf(emu, "createReviewer")).toMatchObject({
      method: "PUT",
      path: `/acme/Factory/_apis/git/repositories/Widgets/pullRequests/1/reviewers/${grace.id}`,
    });
    const optional = await c.git.createPullRequestReviewer(
      { id: grace.id, isRequired: false, vote: 0 },
      REPO,
      1,
      grace.id,
      emu.project,
    );
    expect(optional.isRequired).toBeUndefined(); // the service omits isRequired unless it is true
    const team = await c.git.createPullRequestReviewer(
      { id: emu.state.defaultTeam.id, vote: 0 },
      REPO,
      1,
      emu.state.defaultTeam.id,
      emu.project,
    );
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

    const tooLong = await clientError(
      c.git.createPullRequest(
        newPr({ sourceRefName: "refs/heads/feature/y", description: "d".repeat(4001) }),
        REPO,
        emu.project,
      ),
    );
    expect(tooLong.message).toBe(DESCRIPTION_TOO_LONG);
    expect(tooLong.statusCode).toBe(400);
    expect(tooLong.result).toMatchObject({ typeKey: "InvalidArgumentValueException", message: DESCRIPTION_TOO_LONG });

    const patch = await clientError(
      c.git.updatePullRequest({ description: "d".repeat(4001) }, REPO, ok.pullRequestId!, emu.project),
    );
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
      typeName:
        "Microsoft.TeamFoundation.Git.Server.GitPullRequestExistsException, Microsoft.TeamFoundation.Git.Server",
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
    expect(
      (await clientError(c.git.updatePullRequest({ status: PullRequestStatus.Active }, REPO, 1, emu.project)))
        .statusCode,
    ).toBe(409);
  });

  it("rejects bad pull requests and updates like the service", async () => {
    const missing = await clientError(
      c.git.createPullRequest(newPr({ sourceRefName: "refs/heads/nope" }), REPO, emu.project),
    );
    expect([missing.statusCode, missing.message]).toEqual([
      400,
      "TF401398: The pull request cannot be activated because the source and/or the target branch no longer exists, or the requested refs are not branches",
    ]);
    expect(
      (await clientError(c.git.createPullRequest(newPr({ sourceRefName: "feature/x" }), REPO, emu.project))).message,
    ).toMatch(/^TF401398/);
    expect(
      (await clientError(c.git.createPullRequest(newPr({ targetRefName: undefined }), REPO, emu.project))).statusCode,
    ).toBe(400);
    expect((await clientError(c.git.createPullRequest(newPr({ title: "   " }), REPO, emu.project))).statusCode).toBe(
      400,
    );
    expect(
      (await clientError(c.git.createPullRequest(newPr({ targetRefName: "refs/heads/feature/x" }), REPO, emu.project)))
        .statusCode,
    ).toBe(400);
    expect(
      (
        await clientError(
          c.git.createPullRequest(
            newPr({ reviewers: [{ id: "0b7f1c1e-0000-4000-8000-000000000000" }] }),
            REPO,
            emu.project,
          ),
        )
      ).statusCode,
    ).toBe(400);
    expect(await c.git.createPullRequest(newPr(), "NoSuchRepo", emu.project)).toBeNull(); // 404 → null even for POST
    expect(emu.state.pullRequests).toHaveLength(0);

    const pr = await c.git.createPullRequest(newPr(), REPO, emu.project);
    expect(pr.pullRequestId).toBe(1); // failed creates use no id
    const forbidden = await clientError(
      c.git.updatePullRequest(
        { title: "ok", createdBy: { id: "x" }, sourceRefName: "refs/heads/feature/y", reviewers: [] } as GitPullRequest,
        REPO,
        1,
        emu.project,
      ),
    );
    expect(forbidden.statusCode).toBe(400);
    expect(forbidden.message).toContain("createdBy, sourceRefName, reviewers");
    expect(emu.state.pullRequests[0]?.title).toBe("Add the widget service"); // nothing applied
    expect((await clientError(c.git.updatePullRequest({ title: "" }, REPO, 1, emu.project))).statusCode).toBe(400);
    expect(
      (await clientError(c.git.updatePullRequest({ status: PullRequestStatus.Completed }, REPO, 1, emu.project)))
        .statusCode,
    ).toBe(400);
    expect(
      (
        await clientError(
          c.git.updatePullRequest(
            { autoCompleteSetBy: { id: "0b7f1c1e-0000-4000-8000-000000000000" } },
            REPO,
            1,
            emu.project,
          ),
        )
      ).statusCode,
    ).toBe(400);
    const retargeted = await c.git.updatePullRequest({ targetRefName: "refs/heads/release" }, REPO, 1, emu.project);
    expect(retargeted.targetRefName).toBe("refs/heads/release");
  });

  it("answers 401 with an empty body to a wrong or missing PAT", async () => {
    const wrong = new azdev.WebApi(emu.orgUrl, azdev.getPersonalAccessTokenHandler("wrong-pat"));
    const denied = await clientError(wrong.getGitApi());
    expect([denied.message, denied.statusCode, denied.result]).toEqual(["Failed request: (401)", 401, undefined]);
    expect(emu.requests.at(-1)).toMatchObject({
      method: "OPTIONS",
      path: "/acme/_apis/Location",
      status: 401,
      authUser: "PAT",
      authorized: false,
    });

    const url = `${emu.orgUrl}/Factory/_apis/git/repositories/${REPO}`;
    const anonymous = await fetch(url);
    expect([anonymous.status, await anonymous.text()]).toEqual([401, ""]);
    const anyUser = await fetch(url, {
      headers: { Authorization: `Basic ${Buffer.from(`someone:${emu.token}`).toString("base64")}` },
    });
    expect(anyUser.status).toBe(200);
  });

  it("serves teams and members so reviewer names resolve to ids", async () => {
    const ada = emu.addIdentity({ displayName: "Ada Lovelace", uniqueName: "ada@acme.example" });
    const bob = emu.addIdentity({
      displayName: "Bob Builder",
      uniqueName: "bob@acme.example",
      team: ["Platform", "Factory Team"],
    });
    const teams = await c.core.getTeams(emu.project);
    expect(teams.map((t) => t.name)).toEqual(["Factory Team", "Platform"]);
    expect(teams[0]).toMatchObject({
      id: emu.state.defaultTeam.id,
      projectId: emu.state.project.id,
      projectName: "Factory",
    });

    const members = await c.core.getTeamMembersWithExtendedProperties(teams[0]!.projectId!, teams[0]!.id!);
    expect(members.map((m) => [m.identity?.id, m.identity?.displayName, m.identity?.uniqueName])).toEqual([
      [ada.id, "Ada Lovelace", "ada@acme.example"],
      [bob.id, "Bob Builder", "bob@acme.example"],
    ]);
    expect(
      (await c.core.getTeamMembersWithExtendedProperties(emu.project, "Platform")).map((m) => m.identity?.id),
    ).toEqual([bob.id]);
    expect(lastOf(emu, "getTeamMembers")).toMatchObject({
      path: "/acme/_apis/projects/Factory/teams/Platform/members",
      apiVersion: "7.2-preview.2",
    });
  });

  it("delivers an injected status fault, rate-limit headers and all, to the client", async () => {
    emu.inject("createPullRequest", { status: 429, headers: RATE_LIMIT_HEADERS });
    const limited = await clientError(c.git.createPullRequest(newPr(), REPO, emu.project));
    expect(limited.statusCode).toBe(429);
    expect(limited.message).toMatch(
      /^TF400733: The request has been canceled: Request was blocked due to exceeding usage of resource 'Core'/,
    );
    expect(limited.responseHeaders).toMatchObject({
      "retry-after": "1",
      "x-ratelimit-resource": "Core",
      "x-ratelimit-delay": "1",
      "x-ratelimit-remaining": "0",
    });
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
      expect(discovery.map((r) => r.path)).toEqual([
        "/acme/_apis/Location",
        "/acme/_apis/ResourceAreas",
        "/acme/_apis/git",
      ]);
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
    expect([emu.requests.length, emu.calls(), emu.pendingFaults(), emu.state.pullRequests.length]).toEqual([
      0, 0, 0, 0,
    ]);
    expect(
      (await c.git.createPullRequest(newPr({ reviewers: [{ id: ada.id }] }), REPO, emu.project)).pullRequestId,
    ).toBe(1);
    expect(await c.git.getRefs(REPO, emu.project, "heads/main")).toHaveLength(1);
  });
});

// -------------------------------------------------------------------------------------------------------------
// Content, pushes, CI, completion, reverts
// -------------------------------------------------------------------------------------------------------------

const OPS = "Ops";
const OPS_BASE = "c0".repeat(20);
const ZEROS = "0".repeat(40);
const EMPTY_GUID = "00000000-0000-0000-0000-000000000000";
const add = (path: string, content: string): GitChange => ({
  changeType: VersionControlChangeType.Add,
  item: { path },
  newContent: { content, contentType: ItemContentType.RawText },
});
const edit = (path: string, content: string): GitChange => ({
  changeType: VersionControlChangeType.Edit,
  item: { path },
  newContent: { content, contentType: ItemContentType.RawText },
});
const del = (path: string): GitChange => ({ changeType: VersionControlChangeType.Delete, item: { path } });

describe("Azure DevOps emulator: content, pushes, checks, completion and reverts", () => {
  let emu: AzureEmulator;
  let c: Client;

  beforeEach(async () => {
    emu = await startAzureDevOpsEmulator();
    seed(emu);
    emu.seedRepo(OPS, {
      branches: { main: OPS_BASE },
      commits: {
        [OPS_BASE]: {
          message: "init",
          author,
          parents: [],
          files: { "app.yaml": "replicas: 1\n", "docs/README.md": "# Ops\n" },
        },
      },
    });
    c = await connect(emu);
  });
  afterEach(async () => {
    await emu.close();
  });

  const head = (branch: string) => emu.branchHead(OPS, branch)!;
  const push = (branch: string, oldObjectId: string, changes: GitChange[], parents?: string[]) =>
    c.git.createPush(
      {
        refUpdates: [{ name: `refs/heads/${branch}`, oldObjectId }],
        commits: [{ comment: `change ${branch}`, changes, ...(parents ? { parents } : {}) }],
      },
      OPS,
      emu.project,
    );
  /** A branch off main holding `changes`, and a PR from it to main. */
  async function branchAndPr(branch: string, changes: GitChange[], over: GitPullRequest = {}) {
    await push(branch, ZEROS, changes, [head("main")]);
    return c.git.createPullRequest(
      {
        sourceRefName: `refs/heads/${branch}`,
        targetRefName: "refs/heads/main",
        title: `PR ${branch}`,
        description: "d",
        ...over,
      },
      OPS,
      emu.project,
    );
  }
  const complete = (id: number, commitId: string) =>
    c.git.updatePullRequest(
      { status: PullRequestStatus.Completed, lastMergeSourceCommit: { commitId } },
      OPS,
      id,
      emu.project,
    );
  const autoComplete = (
    id: number,
    options: GitPullRequest["completionOptions"] = { mergeStrategy: 2, deleteSourceBranch: true },
  ) =>
    c.git.updatePullRequest(
      { autoCompleteSetBy: { id: emu.state.authenticatedUser.id }, completionOptions: options },
      OPS,
      id,
      emu.project,
    );
  const artifact = (id: number) => `vstfs:///CodeReview/CodeReviewId/${emu.state.project.id}/${id}`;
  const atBranch = (version: string) => ({ version, versionType: GitVersionType.Branch });
  const item = (path: string, version = atBranch("main"), includeContent = true) =>
    c.git.getItem(
      OPS,
      path,
      emu.project,
      undefined,
      undefined,
      undefined,
      undefined,
      undefined,
      version,
      includeContent,
    );

  it("seeds file contents, derives the changes of a commit from them, and keeps content-less seeds working", async () => {
    const next = "c1".repeat(20);
    emu.seedRepo(OPS, {
      branches: { next },
      commits: {
        [next]: {
          message: "next",
          author,
          parents: [OPS_BASE],
          files: { "app.yaml": "replicas: 2\n", "docs/README.md": null },
        },
      },
    });
    const rows = (await c.git.getChanges(next, OPS, emu.project)).changes?.map((ch) => [ch.item?.path, ch.changeType]);
    expect(rows).toEqual([
      ["/app.yaml", VersionControlChangeType.Edit],
      ["/docs/README.md", VersionControlChangeType.Delete],
    ]);
    expect([
      emu.fileAt(OPS, "next", "app.yaml"),
      emu.fileAt(OPS, "next", "/docs/README.md"),
      emu.fileAt(OPS, "main", "docs/README.md"),
    ]).toEqual(["replicas: 2\n", undefined, "# Ops\n"]);
    expect(emu.fileAt(REPO, "feature/x", "src/a.cs")).toBeUndefined(); // changes without files: no content
    expect(emu.fileAt(REPO, "feature/x", "README.md")).toBe("# Widgets\n"); // inherited from the parent
    expect(emu.fileAt(OPS, "nope", "app.yaml")).toBeUndefined();
  });

  it("serves an item's content at a branch or commit, folders, and Azure's 404s", async () => {
    expect(await item("/app.yaml")).toMatchObject({
      path: "/app.yaml",
      content: "replicas: 1\n",
      commitId: OPS_BASE,
      gitObjectType: GitObjectType.Blob,
    });
    expect((await item("app.yaml", atBranch("main"), false)).content).toBeUndefined(); // content only on request
    expect((await item("/app.yaml", { version: OPS_BASE, versionType: GitVersionType.Commit })).content).toBe(
      "replicas: 1\n",
    );
    expect(await item("/docs")).toMatchObject({ isFolder: true, gitObjectType: GitObjectType.Tree });

    expect(await item("/missing.yaml")).toBeNull();
    expect(lastOf(emu, "getItem")).toMatchObject({
      status: 404,
      response: {
        message: `TF401174: The item '/missing.yaml' could not be found in the repository 'Ops' at the version specified by '<Branch: main >' (resolved to commit ${OPS_BASE}).`,
        typeKey: "GitItemNotFoundException",
      },
    });
    expect(await item("/app.yaml", atBranch("nope"))).toBeNull();
    expect(lastOf(emu, "getItem").response).toMatchObject({
      message:
        "TF401175:The version descriptor <Branch: nope > could not be resolved to a version in the repository Ops",
      typeKey: "GitUnresolvableToCommitException",
    });
  });

  it("describes an item's content (FileContentMetadata) only when includeContentMetadata is asked for", async () => {
    const at = { version: OPS_BASE, versionType: GitVersionType.Commit };
    const withMetadata = await c.git.getItem(
      OPS,
      "/app.yaml",
      emu.project,
      undefined,
      undefined,
      true,
      undefined,
      undefined,
      at,
      true,
    );
    const without = await item("/app.yaml", at);

    expect(withMetadata.contentMetadata).toEqual({
      fileName: "app.yaml",
      extension: "yaml",
      isBinary: false,
      isImage: false,
      encoding: 65001,
      contentType: "text/plain",
    });
    expect(withMetadata.content).toBe("replicas: 1\n");
    expect(without.contentMetadata).toBeUndefined();
  });

  it("pushes a new branch from zeros and later commits, readable through the commit and changes routes", async () => {
    const created = await push("feature/a", ZEROS, [add("/new.txt", "hi")], [OPS_BASE]);
    const first = created.commits![0]!.commitId!;
    expect(lastOf(emu, "createPush")).toMatchObject({
      status: 201,
      method: "POST",
      path: "/acme/Factory/_apis/git/repositories/Ops/pushes",
      apiVersion: "7.2-preview.3",
    });
    expect(created.refUpdates).toEqual([
      {
        repositoryId: emu.state.repos.get(OPS)!.id,
        name: "refs/heads/feature/a",
        oldObjectId: ZEROS,
        newObjectId: first,
      },
    ]);
    expect(created.pushedBy?.id).toBe(emu.state.authenticatedUser.id);
    expect([
      head("feature/a"),
      emu.fileAt(OPS, "feature/a", "new.txt"),
      emu.fileAt(OPS, "feature/a", "app.yaml"),
    ]).toEqual([first, "hi", "replicas: 1\n"]);
    expect(await c.git.getCommit(first, OPS, emu.project)).toMatchObject({
      commitId: first,
      parents: [OPS_BASE],
      comment: "change feature/a",
    });

    const b64: GitChange = {
      changeType: VersionControlChangeType.Add,
      item: { path: "/b64.txt" },
      newContent: { content: Buffer.from("décodé").toString("base64"), contentType: ItemContentType.Base64Encoded },
    };
    const rename: GitChange & { sourceServerItem: string } = {
      changeType: VersionControlChangeType.Rename,
      item: { path: "/moved.txt" },
      sourceServerItem: "/new.txt",
    };
    const second = (
      await push("feature/a", first, [edit("/app.yaml", "replicas: 2\n"), del("/docs/README.md"), rename, b64])
    ).commits![0]!.commitId!;
    const changes = await c.git.getChanges(second, OPS, emu.project);
    expect(
      changes.changes?.map((ch) => [
        ch.item?.path,
        ch.changeType,
        (ch as { sourceServerItem?: string }).sourceServerItem,
      ]),
    ).toEqual([
      ["/app.yaml", VersionControlChangeType.Edit, undefined],
      ["/docs/README.md", VersionControlChangeType.Delete, undefined],
      ["/moved.txt", VersionControlChangeType.Rename, "/new.txt"],
      ["/b64.txt", VersionControlChangeType.Add, undefined],
    ]);
    expect([
      emu.fileAt(OPS, "feature/a", "moved.txt"),
      emu.fileAt(OPS, "feature/a", "new.txt"),
      emu.fileAt(OPS, "feature/a", "b64.txt"),
    ]).toEqual(["hi", undefined, "décodé"]);

    // Several commits in one push chain onto each other.
    const chained = await c.git.createPush(
      {
        refUpdates: [{ name: "refs/heads/feature/a", oldObjectId: second }],
        commits: [
          { comment: "one", changes: [add("/1.txt", "1")] },
          { comment: "two", changes: [add("/2.txt", "2")] },
        ],
      },
      OPS,
      emu.project,
    );
    const [one, two] = chained.commits!.map((x) => x.commitId!);
    expect(chained.commits!.map((x) => x.parents)).toEqual([[second], [one]]);
    expect(head("feature/a")).toBe(two);
  });

  it("refuses a stale push with the real TF401028 409 and bad pushes with 400, changing nothing", async () => {
    const stale = await clientError(push("main", SHA.base, [add("/x.txt", "x")]));
    expect(stale.statusCode).toBe(409);
    expect(stale.result).toEqual({
      $id: "1",
      innerException: null,
      message:
        "TF401028: The reference 'refs/heads/main' has already been updated by another client, so you cannot update it. Please try again.",
      typeName: "Microsoft.TeamFoundation.Git.Server.GitReferenceStaleException, Microsoft.TeamFoundation.Git.Server",
      typeKey: "GitReferenceStaleException",
      errorCode: 0,
      eventId: 3000,
    });
    expect((await clientError(push("main", ZEROS, [add("/x.txt", "x")]))).statusCode).toBe(409); // the branch exists
    expect((await clientError(push("fresh", OPS_BASE, [add("/x.txt", "x")]))).statusCode).toBe(409); // the branch does not
    const commits = emu.state.repos.get(OPS)!.commits.size;
    for (const bad of [
      [edit("/missing.txt", "x")],
      [add("/app.yaml", "dup")],
      [add("/ok.txt", "ok"), del("/missing.txt")],
      [],
    ]) {
      const error = await clientError(push("main", OPS_BASE, bad));
      expect([error.statusCode, error.result?.typeKey]).toEqual([400, "InvalidArgumentValueException"]);
    }
    const twoRefs = await clientError(
      c.git.createPush(
        {
          refUpdates: [
            { name: "refs/heads/main", oldObjectId: OPS_BASE },
            { name: "refs/heads/b", oldObjectId: ZEROS },
          ],
          commits: [{ comment: "x", changes: [add("/x", "x")] }],
        },
        OPS,
        emu.project,
      ),
    );
    expect(twoRefs.statusCode).toBe(400);
    expect([head("main"), emu.state.repos.get(OPS)!.commits.size, emu.fileAt(OPS, "main", "ok.txt")]).toEqual([
      OPS_BASE,
      commits,
      undefined,
    ]);
  });

  it("creates, moves and deletes refs one by one, reporting stale and unknown commits", async () => {
    const results = await c.git.updateRefs(
      [
        { name: "refs/heads/b1", oldObjectId: ZEROS, newObjectId: OPS_BASE },
        { name: "refs/heads/main", oldObjectId: SHA.base, newObjectId: OPS_BASE },
        { name: "refs/heads/b2", oldObjectId: ZEROS, newObjectId: "d".repeat(40) },
      ],
      OPS,
      emu.project,
    );
    expect(results.map((r) => [r.name, r.success, r.updateStatus])).toEqual([
      ["refs/heads/b1", true, GitRefUpdateStatus.Succeeded],
      ["refs/heads/main", false, GitRefUpdateStatus.StaleOldObjectId],
      ["refs/heads/b2", false, GitRefUpdateStatus.UnresolvableToCommit],
    ]);
    expect(lastOf(emu, "updateRefs")).toMatchObject({
      status: 200,
      method: "POST",
      path: "/acme/Factory/_apis/git/repositories/Ops/refs",
    });
    expect([head("b1"), emu.branchHead(OPS, "b2")]).toEqual([OPS_BASE, undefined]);
    const [deleted] = await c.git.updateRefs(
      [{ name: "refs/heads/b1", oldObjectId: OPS_BASE, newObjectId: ZEROS }],
      OPS,
      emu.project,
    );
    expect([deleted?.success, emu.branchHead(OPS, "b1")]).toEqual([true, undefined]);
  });

  it("keeps PR statuses as history", async () => {
    const pr = await branchAndPr("s", [add("/s.txt", "s")]);
    const posted = await c.git.createPullRequestStatus(
      {
        state: GitStatusState.Pending,
        description: "running",
        context: { genre: "qa", name: "cov" },
        targetUrl: "https://ci/1",
      },
      OPS,
      pr.pullRequestId!,
      emu.project,
    );
    expect(posted).toMatchObject({
      id: 1,
      state: GitStatusState.Pending,
      context: { genre: "qa", name: "cov" },
      createdBy: { id: emu.state.authenticatedUser.id },
    });
    expect(posted.creationDate).toBeInstanceOf(Date);
    await c.git.createPullRequestStatus(
      { state: GitStatusState.Succeeded, context: { name: "cov", genre: "qa" } },
      OPS,
      pr.pullRequestId!,
      emu.project,
    );
    expect(
      (await c.git.getPullRequestStatuses(OPS, pr.pullRequestId!, emu.project)).map((x) => [x.id, x.state]),
    ).toEqual([
      [1, GitStatusState.Pending],
      [2, GitStatusState.Succeeded],
    ]);
    expect(
      (
        await clientError(
          c.git.createPullRequestStatus({ state: GitStatusState.Failed }, OPS, pr.pullRequestId!, emu.project),
        )
      ).statusCode,
    ).toBe(400);
    expect(await c.git.getPullRequestStatuses(OPS, 99, emu.project)).toBeNull();
  });

  it("serves scripted CI as Build policy evaluations through PolicyApi, re-run when the source moves", async () => {
    const seen: Array<[string, string | null][]> = [];
    emu.setCi(OPS, [
      {
        name: "lint",
        delayMs: 600,
        failure: "replicas must be > 0",
        verdict: (files) => {
          seen.push([...files]);
          return files.get("app.yaml")?.includes("replicas: 0") ? "failed" : "succeeded";
        },
      },
    ]);
    const pr = await branchAndPr("ci", [edit("/app.yaml", "replicas: 3\n"), del("/docs/README.md")]);
    const id = pr.pullRequestId!;
    const policy = await c.conn.getPolicyApi();
    const read = async () => (await policy.getPolicyEvaluations(emu.project, artifact(id)))[0]!;
    const states: PolicyEvaluationStatus[] = [];
    for (let i = 0; i < 400 && states.at(-1) !== PolicyEvaluationStatus.Approved; i++) {
      const status = (await read()).status!;
      if (states.at(-1) !== status) states.push(status);
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    expect(states).toEqual([
      PolicyEvaluationStatus.Queued,
      PolicyEvaluationStatus.Running,
      PolicyEvaluationStatus.Approved,
    ]);
    expect(emu.requests.some((r) => r.method === "OPTIONS" && r.path === "/acme/_apis/policy")).toBe(true);
    expect(lastOf(emu, "getPolicyEvaluations")).toMatchObject({
      path: "/acme/Factory/_apis/policy/evaluations",
      apiVersion: "7.2-preview.1",
    });
    expect(seen).toEqual([
      [
        ["app.yaml", "replicas: 3\n"],
        ["docs/README.md", null],
      ],
    ]);
    const approved = await read();
    expect(approved).toMatchObject({
      artifactId: artifact(id),
      configuration: {
        isBlocking: true,
        type: { id: "0609b952-1397-4640-95ec-e00a01b2c241", displayName: "Build" },
        settings: { displayName: "lint" },
      },
    });
    expect(approved.completedDate).toBeInstanceOf(Date);

    await push("ci", head("ci"), [edit("/app.yaml", "replicas: 0\n")]);
    const requeued = await read();
    expect([
      requeued.status,
      requeued.evaluationId,
      (requeued.context as { lastMergeSourceCommitId: string }).lastMergeSourceCommitId,
    ]).toEqual([PolicyEvaluationStatus.Queued, approved.evaluationId, head("ci")]);
    await emu.settled();
    const rejected = await read();
    expect(rejected.status).toBe(PolicyEvaluationStatus.Rejected);
    expect(
      (rejected.context as { buildOutputPreview: { errors: { message: string }[] } }).buildOutputPreview.errors[0]
        ?.message,
    ).toBe("replicas must be > 0");

    expect(await policy.getPolicyEvaluations(emu.project, artifact(99))).toEqual([]);
    expect(
      (await clientError(policy.getPolicyEvaluations(emu.project, "vstfs:///Git/PullRequestId/1"))).statusCode,
    ).toBe(400);
  });

  it("adds a Minimum number of reviewers policy on request, approved by votes", async () => {
    emu.setCi(OPS, [], { minimumApprovers: 1 });
    const pr = await branchAndPr("rv", [add("/r.txt", "r")]);
    const policy = await c.conn.getPolicyApi();
    const read = async () =>
      (await policy.getPolicyEvaluations(emu.project, artifact(pr.pullRequestId!))).map((e) => [
        e.configuration?.type?.displayName,
        e.status,
      ]);
    expect(await read()).toEqual([["Minimum number of reviewers", PolicyEvaluationStatus.Queued]]);
    const ada = emu.addIdentity({ displayName: "Ada Lovelace", uniqueName: "ada@acme.example" });
    emu.vote(OPS, pr.pullRequestId!, "ada@acme.example", 10);
    expect(await read()).toEqual([["Minimum number of reviewers", PolicyEvaluationStatus.Approved]]);
    expect(emu.state.pullRequests[0]?.reviewers.map((r) => [r.id, r.vote, r.isRequired])).toEqual([
      [ada.id, 10, undefined],
    ]);
  });

  it("auto-completes once builds pass and required reviewers approve: squash onto main, source deleted", async () => {
    const grace = emu.addIdentity({ displayName: "Grace Hopper", uniqueName: "grace@acme.example" });
    emu.setCi(OPS, [{ name: "build", delayMs: 30, verdict: "succeeded" }]);
    const pr = await branchAndPr("auto", [edit("/app.yaml", "replicas: 4\n")], {
      reviewers: [{ id: grace.id, isRequired: true }],
    });
    const id = pr.pullRequestId!;
    const source = head("auto");
    const set = await autoComplete(id, {
      mergeStrategy: 2,
      deleteSourceBranch: true,
      mergeCommitMessage: "Scale to 4\n\nMore pods.",
    });
    expect(set).toMatchObject({
      status: PullRequestStatus.Active,
      autoCompleteSetBy: { id: emu.state.authenticatedUser.id },
      completionOptions: { mergeStrategy: 2, deleteSourceBranch: true },
    });
    await emu.settled();
    expect(emu.state.pullRequests[0]?.status).toBe("active"); // Grace has not voted
    emu.vote(OPS, id, grace.id, 5);
    const done = await c.git.getPullRequest(OPS, id, emu.project);
    const main = head("main");
    expect(done).toMatchObject({
      status: PullRequestStatus.Completed,
      lastMergeCommit: { commitId: main },
      lastMergeSourceCommit: { commitId: source },
      closedBy: { id: emu.state.authenticatedUser.id },
    });
    const squash = emu.state.repos.get(OPS)!.commits.get(main)!;
    expect([squash.parents, squash.message, squash.changes]).toEqual([
      [OPS_BASE],
      "Scale to 4\n\nMore pods.",
      [{ path: "/app.yaml", changeType: "edit" }],
    ]);
    expect([emu.fileAt(OPS, "main", "app.yaml"), emu.branchHead(OPS, "auto")]).toEqual(["replicas: 4\n", undefined]);
  });

  it("never auto-completes past a rejected check; the empty GUID cancels auto-complete", async () => {
    emu.setCi(OPS, [{ name: "build", verdict: "failed", failure: "compile error" }]);
    const pr = await branchAndPr("bad", [add("/x.txt", "x")]);
    await autoComplete(pr.pullRequestId!);
    await emu.settled();
    expect(emu.state.pullRequests[0]).toMatchObject({
      status: "active",
      autoCompleteSetBy: { id: emu.state.authenticatedUser.id },
    });
    expect(head("main")).toBe(OPS_BASE);
    const cancelled = await c.git.updatePullRequest(
      { autoCompleteSetBy: { id: EMPTY_GUID } },
      OPS,
      pr.pullRequestId!,
      emu.project,
    );
    expect(cancelled.autoCompleteSetBy).toBeUndefined();
    const other = await clientError(
      c.git.updatePullRequest(
        { autoCompleteSetBy: { id: emu.addIdentity({ displayName: "X", uniqueName: "x@x" }).id } },
        OPS,
        pr.pullRequestId!,
        emu.project,
      ),
    );
    expect([other.statusCode, other.result?.typeKey]).toEqual([400, "InvalidArgumentValueException"]);
  });

  it("refuses manual completion while a policy or reviewer blocks, or when the source moved; merges otherwise", async () => {
    emu.setCi(OPS, [{ name: "build", delayMs: 5000, verdict: "succeeded" }]);
    const pending = await branchAndPr("p", [add("/p.txt", "p")]);
    const blocked = await clientError(complete(pending.pullRequestId!, head("p")));
    expect([blocked.statusCode, blocked.result?.typeKey, blocked.message]).toEqual([
      409,
      "GitPullRequestPolicyNotSatisfiedException",
      "This pull request requires an explicit override to bypass policies that aren't currently passing. build must succeed: it is queued.",
    ]);
    const moved = await clientError(complete(pending.pullRequestId!, OPS_BASE));
    expect([moved.statusCode, moved.result?.typeKey]).toEqual([409, "GitPullRequestStaleException"]);

    emu.setCi(OPS, []);
    const grace = emu.addIdentity({ displayName: "Grace Hopper", uniqueName: "grace@acme.example" });
    const reviewed = await branchAndPr("r", [add("/r.txt", "r")], { reviewers: [{ id: grace.id, isRequired: true }] });
    expect((await clientError(complete(reviewed.pullRequestId!, head("r")))).message).toContain(
      "Grace Hopper is a required reviewer and has not approved.",
    );
    emu.vote(OPS, reviewed.pullRequestId!, "Grace Hopper", 10);
    const merged = await complete(reviewed.pullRequestId!, head("r"));
    expect(merged.status).toBe(PullRequestStatus.Completed);
    const mergeCommit = emu.state.repos.get(OPS)!.commits.get(head("main"))!;
    expect([mergeCommit.parents, mergeCommit.message]).toEqual([
      [OPS_BASE, head("r")],
      `Merged PR ${reviewed.pullRequestId}: PR r`,
    ]); // no fast-forward by default
    expect(emu.fileAt(OPS, "main", "r.txt")).toBe("r");
  });

  it("reports conflicts when the target changed the same file differently", async () => {
    const first = await branchAndPr("one", [edit("/app.yaml", "replicas: 2\n")]);
    const second = await branchAndPr("two", [edit("/app.yaml", "replicas: 5\n")]);
    await complete(first.pullRequestId!, head("one"));
    const got = await c.git.getPullRequest(OPS, second.pullRequestId!, emu.project);
    expect([got.mergeStatus, got.lastMergeTargetCommit?.commitId]).toEqual([
      PullRequestAsyncStatus.Conflicts,
      head("main"),
    ]);
    expect((await clientError(complete(second.pullRequestId!, head("two")))).message).toContain(
      "The merge has conflicts in /app.yaml.",
    );
  });

  it("reverts a completed PR asynchronously into a new branch, restoring what it changed", async () => {
    const pr = await branchAndPr("feat", [
      edit("/app.yaml", "replicas: 9\n"),
      add("/extra.txt", "x"),
      del("/docs/README.md"),
    ]);
    await autoComplete(pr.pullRequestId!);
    const merged = head("main");
    const repoId = emu.state.repos.get(OPS)!.id;
    const params = {
      generatedRefName: "refs/heads/revert-feat",
      ontoRefName: "refs/heads/main",
      repository: { id: repoId },
      source: { pullRequestId: pr.pullRequestId! },
    };
    const started = await c.git.createRevert(params, emu.project, repoId);
    expect(started).toMatchObject({
      revertId: 1,
      status: GitAsyncOperationStatus.Queued,
      parameters: { generatedRefName: "refs/heads/revert-feat", source: { pullRequestId: pr.pullRequestId } },
    });
    expect(lastOf(emu, "createRevert")).toMatchObject({
      status: 201,
      path: `/acme/Factory/_apis/git/repositories/${repoId}/reverts`,
    });
    await emu.settled();
    const done = await c.git.getRevert(emu.project, 1, repoId);
    expect([done.status, done.detailedStatus?.progress]).toEqual([GitAsyncOperationStatus.Completed, 1]);
    expect((await c.git.getRevertForRefName(emu.project, repoId, "refs/heads/revert-feat")).revertId).toBe(1);
    expect([
      emu.fileAt(OPS, "revert-feat", "app.yaml"),
      emu.fileAt(OPS, "revert-feat", "extra.txt"),
      emu.fileAt(OPS, "revert-feat", "docs/README.md"),
    ]).toEqual(["replicas: 1\n", undefined, "# Ops\n"]);
    const revertCommit = emu.state.repos.get(OPS)!.commits.get(head("revert-feat"))!;
    expect([revertCommit.parents, revertCommit.message]).toEqual([
      [merged],
      `Revert "Merged PR ${pr.pullRequestId}: PR feat"\n\nThis reverts commit ${merged}.`,
    ]);

    const again = await c.git.createRevert(params, emu.project, repoId);
    await emu.settled();
    expect((await c.git.getRevert(emu.project, again.revertId!, repoId)).detailedStatus).toMatchObject({
      status: GitAsyncRefOperationFailureStatus.RefNameConflict,
    });
    expect(await c.git.getRevert(emu.project, 99, repoId)).toBeNull();
  });

  it("fails a conflicting revert and refuses to revert an active PR", async () => {
    const active = await branchAndPr("act", [add("/a.txt", "a")]);
    const repoId = emu.state.repos.get(OPS)!.id;
    const refused = await clientError(
      c.git.createRevert(
        {
          generatedRefName: "refs/heads/r1",
          ontoRefName: "refs/heads/main",
          repository: { id: repoId },
          source: { pullRequestId: active.pullRequestId! },
        },
        emu.project,
        repoId,
      ),
    );
    expect(refused.statusCode).toBe(400);

    const changed = (await push("main", OPS_BASE, [edit("/app.yaml", "replicas: 2\n")])).commits![0]!.commitId!;
    await push("main", changed, [edit("/app.yaml", "replicas: 3\n")]);
    const conflicting = await c.git.createRevert(
      {
        generatedRefName: "refs/heads/r2",
        ontoRefName: "refs/heads/main",
        repository: { id: repoId },
        source: { commitList: [{ commitId: changed }] },
      },
      emu.project,
      repoId,
    );
    await emu.settled();
    const failed = await c.git.getRevert(emu.project, conflicting.revertId!, repoId);
    expect([failed.status, failed.detailedStatus?.conflict, failed.detailedStatus?.failureMessage]).toEqual([
      GitAsyncOperationStatus.Failed,
      true,
      "The revert conflicts with later changes to /app.yaml.",
    ]);
    expect(emu.branchHead(OPS, "r2")).toBeUndefined();
  });

  it("reset() drops CI scripts and pending background work", async () => {
    emu.setCi(OPS, [{ name: "slow", delayMs: 60_000, verdict: "succeeded" }]);
    await branchAndPr("slow", [add("/s.txt", "s")]);
    emu.reset();
    await emu.settled(50);
    expect([emu.state.ci.size, emu.state.evaluations.size]).toEqual([0, 0]);
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
  createPush: ["post", `${GIT}/pushes`],
  updateRefs: ["post", `${GIT}/refs`],
  createRevert: ["post", `${GIT}/reverts`],
  getRevert: ["get", `${GIT}/reverts/{revertId}`],
  getRevertForRefName: ["get", `${GIT}/reverts`],
  createPullRequestStatus: ["post", `${GIT}/pullRequests/{pullRequestId}/statuses`],
  getPullRequestStatuses: ["get", `${GIT}/pullRequests/{pullRequestId}/statuses`],
};
/** The spec's GET …/items entry describes the list form; one item asked for by path answers a GitItem. */
const ITEM_ROUTES: Partial<Record<AzureRoute, SwaggerSchema>> = { getItem: { $ref: "#/definitions/GitItem" } };
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
  TeamMember: {
    type: "object",
    properties: { identity: { $ref: "#/definitions/IdentityRef" }, isTeamAdmin: { type: "boolean" } },
  },
};
const CORE_ROUTES: Partial<Record<AzureRoute, SwaggerSchema>> = {
  getTeams: { type: "array", items: { $ref: "#/definitions/WebApiTeam" } },
  getTeamMembers: { type: "array", items: { $ref: "#/definitions/TeamMember" } },
};
/**
 * PolicyEvaluationRecord as specification/policy/7.1/policy.json (MicrosoftDocs/vsts-rest-api-specs, not
 * vendored) declares it; PolicyConfiguration and its parents are in the git specification too. Its
 * `context` is a JObject, written here as the git specification writes JObject members.
 */
const POLICY_DEFINITIONS: Record<string, SwaggerSchema> = {
  PolicyEvaluationRecord: {
    type: "object",
    properties: {
      _links: { $ref: "#/definitions/ReferenceLinks" },
      artifactId: { type: "string" },
      completedDate: { type: "string", format: "date-time" },
      configuration: { $ref: "#/definitions/PolicyConfiguration" },
      context: { type: "string", format: "JObject" },
      evaluationId: { type: "string", format: "uuid" },
      startedDate: { type: "string", format: "date-time" },
      status: { enum: ["queued", "running", "approved", "rejected", "notApplicable", "broken"] },
    },
  },
};
const POLICY_ROUTES: Partial<Record<AzureRoute, SwaggerSchema>> = {
  getPolicyEvaluations: { type: "array", items: { $ref: "#/definitions/PolicyEvaluationRecord" } },
};

function example(dir: string, file: string): Record<string, unknown> {
  const doc = JSON.parse(readFileSync(join(EXAMPLES, dir, file), "utf8").replace(/^\uFEFF/, "")) as {
    responses: Record<string, { body: Record<string, unknown> }>;
  };
  const first = Object.values(doc.responses)[0];
  if (!first) throw new Error(`${file} has no response`);
  return first.body;
}

const keys = (v: unknown) => Object.keys(v as Record<string, unknown>).sort();
const missingFrom = (ours: unknown, theirs: unknown) => keys(theirs).filter((k) => !keys(ours).includes(k));
/** As missingFrom, minus what the example shows as null: the emulator leaves unset members out. */
const missingSet = (ours: unknown, theirs: unknown) =>
  missingFrom(ours, theirs).filter((k) => (theirs as Record<string, unknown>)[k] !== null);

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
      newPr({
        targetRefName: "refs/heads/release",
        labels: [{ name: "x" }],
        workItemRefs: [{ id: "7" }],
        reviewers: [{ id: ada.id, isRequired: true }],
      }),
      REPO,
      emu.project,
    );
    await c.git.createPullRequestReviewer(
      { id: emu.state.defaultTeam.id, vote: 0 },
      REPO,
      1,
      emu.state.defaultTeam.id,
      emu.project,
    );
    await c.git.createPullRequestLabel({ name: "bug" }, REPO, 1, emu.project);
    await c.git.getPullRequest(REPO, 2, emu.project, undefined, undefined, undefined, undefined, true);
    await c.git.updatePullRequest(
      {
        title: "t",
        completionOptions: { mergeStrategy: 2, deleteSourceBranch: true },
        autoCompleteSetBy: { id: emu.state.authenticatedUser.id },
      },
      REPO,
      1,
      emu.project,
    );
    await c.git.updatePullRequest({ status: PullRequestStatus.Abandoned }, REPO, 2, emu.project);
    await c.git.updatePullRequest(
      { status: PullRequestStatus.Completed, lastMergeSourceCommit: { commitId: SHA.feature } },
      REPO,
      1,
      emu.project,
    );
    await c.git.getPullRequest(REPO, 1, emu.project);
    await c.git.getPullRequests(REPO, { status: PullRequestStatus.All }, emu.project);
    const teams = await c.core.getTeams(emu.project);
    await c.core.getTeamMembersWithExtendedProperties(emu.project, teams[0]!.id!);

    // Content, pushes, statuses, CI and reverts.
    await c.git.getItem(
      REPO,
      "/README.md",
      emu.project,
      undefined,
      undefined,
      undefined,
      undefined,
      undefined,
      { version: "main", versionType: GitVersionType.Branch },
      true,
    );
    await c.git.createPush(
      {
        refUpdates: [{ name: "refs/heads/topic", oldObjectId: ZEROS }],
        commits: [{ comment: "c", parents: [SHA.base], changes: [add("/x.txt", "x")] }],
      },
      REPO,
      emu.project,
    );
    await c.git.updateRefs(
      [{ name: "refs/heads/topic2", oldObjectId: ZEROS, newObjectId: SHA.base }],
      REPO,
      emu.project,
    );
    await c.git.createPullRequestStatus(
      {
        state: GitStatusState.Succeeded,
        description: "ok",
        context: { name: "ci", genre: "g" },
        targetUrl: "https://ci.example/1",
      },
      REPO,
      2,
      emu.project,
    );
    await c.git.getPullRequestStatuses(REPO, 2, emu.project);
    emu.setCi(REPO, [{ name: "build", verdict: "failed", failure: "boom" }], { minimumApprovers: 1 });
    const topic = await c.git.createPullRequest(newPr({ sourceRefName: "refs/heads/topic" }), REPO, emu.project);
    await emu.settled();
    await (
      await c.conn.getPolicyApi()
    ).getPolicyEvaluations(
      emu.project,
      `vstfs:///CodeReview/CodeReviewId/${emu.state.project.id}/${topic.pullRequestId}`,
    );
    const repoId = emu.state.repos.get(REPO)!.id;
    const revert = await c.git.createRevert(
      {
        generatedRefName: "refs/heads/revert-1",
        ontoRefName: "refs/heads/main",
        repository: { id: repoId },
        source: { pullRequestId: 1 },
      },
      emu.project,
      repoId,
    );
    await emu.settled();
    await c.git.getRevert(emu.project, revert.revertId!, repoId);
    await c.git.getRevertForRefName(emu.project, repoId, "refs/heads/revert-1");
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
      const schema = specRoute
        ? responseSchema(spec, specRoute[0], specRoute[1])
        : (CORE_ROUTES[route] ?? ITEM_ROUTES[route] ?? POLICY_ROUTES[route]);
      expect(schema, `schema for ${route}`).toBeDefined();
      const opts = { generic: "GitItem", extraDefinitions: { ...CORE_DEFINITIONS, ...POLICY_DEFINITIONS } };
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
    expect([...served].sort()).toEqual(
      [
        ...Object.keys(SPEC_ROUTES),
        ...Object.keys(CORE_ROUTES),
        ...Object.keys(ITEM_ROUTES),
        ...Object.keys(POLICY_ROUTES),
      ].sort(),
    );
  });

  it("the validator itself rejects what it should", () => {
    const spec = loadSwagger(SPEC_FILE);
    expect(validateAgainst(spec, { pullRequestId: 1, status: "active" }, "GitPullRequest")).toEqual([]);
    expect(validateAgainst(spec, { pullRequestId: "1" }, "GitPullRequest")).toEqual([
      '$.pullRequestId: expected an integer, got "1"',
    ]);
    expect(validateAgainst(spec, { status: "open" }, "GitPullRequest")).toEqual([
      '$.status: "open" is not in notSet|active|abandoned|completed|all',
    ]);
    expect(validateAgainst(spec, { creationDate: "yesterday" }, "GitPullRequest")).toEqual([
      '$.creationDate: "yesterday" is not a date-time',
    ]);
    expect(validateAgainst(spec, { reviewers: [{ vote: 0, karma: 1 }] }, "GitPullRequest")).toEqual([
      "$.reviewers[0].karma: not declared by the definition",
    ]);
    expect(validateAgainst(spec, { reviewers: [{ displayName: "x", id: "y" }] }, "GitPullRequest")).toEqual([]); // allOf IdentityRef → GraphSubjectBase
    expect(validateAgainst(spec, { _links: { self: { href: "u" } } }, "GitPullRequest")).toEqual([]);
    expect(
      validateAgainst(
        spec,
        { changeCounts: { Add: 1 }, changes: [{ changeType: "edit, rename", item: { path: "/a", bogus: 1 } }] },
        "GitCommitChanges",
        { generic: "GitItem" },
      ),
    ).toEqual(["$.changes[0].item.bogus: not declared by the definition"]);
    expect(validateAgainst(spec, { settings: { anything: [1] } }, "PolicyConfiguration")).toEqual([]);
    expect(validateAgainst(spec, { settings: "x" }, "PolicyConfiguration")).toEqual([
      '$.settings: expected a JSON object, got "x"',
    ]);
  });

  it("has the shape of the httpExamples", async () => {
    const { plainCreate } = await exercise();

    // POST pullRequests: the example's top-level keys, plus isDraft (newer than the example's api-version 3.0).
    const create = example("pullRequests", "POST__git_repositories__repositoryId__pullRequests.json");
    expect(keys(plainCreate)).toEqual([...keys(create), "isDraft"].sort());
    const ours = plainCreate as Record<string, unknown>;
    for (const nested of ["repository", "createdBy", "lastMergeSourceCommit", "_links"])
      expect(missingFrom(ours[nested], create[nested]), nested).toEqual([]);
    expect(
      missingFrom(
        (ours.repository as Record<string, unknown>).project,
        (create.repository as Record<string, unknown>).project,
      ),
    ).toEqual([]);
    const exampleReviewer = (create.reviewers as unknown[])[0];
    const pr2 = emu.state.pullRequests[1]!;
    expect(missingFrom(pr2.reviewers[0], exampleReviewer)).toEqual([]);

    const get = example("pullRequests", "GET__git_repositories__repositoryId__pullRequests__pullRequestId_.json");
    expect(missingFrom(lastOf(emu, "getPullRequest").response, get)).toEqual([]);
    const listItem = (
      example("pullRequests", "GET__git_repositories__repositoryId__pullRequests.json").value as unknown[]
    )[0];
    const ourList = (lastOf(emu, "getPullRequests").response as { value: Record<string, unknown>[] }).value;
    expect(missingFrom(ourList[0], listItem)).toEqual([]);
    expect(ourList.every((p) => !("_links" in p) && !("artifactId" in p))).toBe(true);

    const reviewer = example(
      "pullRequestReviewers",
      "PUT__git_repositories__repositoryId__pullRequests__pullRequestId__reviewers__additionalReviewerId_.json",
    );
    expect(missingFrom(lastOf(emu, "createReviewer").response, reviewer)).toEqual([]);
    const ref = (example("refs", "GET__git_repositories__repositoryId__refs_heads.json").value as unknown[])[0];
    expect(missingFrom((lastOf(emu, "getRefs").response as { value: unknown[] }).value[0], ref)).toEqual([]);
    const commit = example("commits", "GET__git_repositories__repositoryId__commits__commitId_.json");
    const ourCommit = emu.requests.find((r) => r.route === "getCommit")?.response;
    expect(missingFrom(ourCommit, commit)).toEqual([]);
    expect(
      missingFrom(
        lastOf(emu, "getCommit").response,
        example("commits", "GET__git_repositories__repositoryId__commits__commitId__changeCount-10.json"),
      ),
    ).toEqual([]);
    const changes = example(
      "changes",
      "GET__git_repositories__repositoryId__commits__commitId__changes_top-_top__skip-_skip_.json",
    );
    const ourChanges = lastOf(emu, "getChanges").response as { changes: { item: unknown }[] };
    expect(keys(ourChanges)).toEqual(keys(changes));
    const [fileItem, folderItem] = (changes.changes as { item: unknown }[]).map((ch) => ch.item);
    expect(missingFrom(ourChanges.changes[0]?.item, fileItem)).toEqual([]);
    expect(missingFrom(ourChanges.changes[5]?.item, folderItem)).toEqual([]);

    // Pushes: the example's keys, except the commits' treeId, which GitCommitRef does not declare.
    const pushExample = example("pushes", "POST__git_repositories__tempRepoId__pushes.json");
    const ourPush = lastOf(emu, "createPush").response as Record<string, unknown[]>;
    expect(missingFrom(ourPush, pushExample)).toEqual([]);
    expect(missingFrom(ourPush.commits![0], (pushExample.commits as unknown[])[0])).toEqual(["treeId"]);
    expect(missingFrom(ourPush.refUpdates![0], (pushExample.refUpdates as unknown[])[0])).toEqual([]);
    expect(missingFrom(ourPush._links, pushExample._links)).toEqual([]);
    const refExample = (example("refs", "POST__git_repositories__repositoryId__refs.json").value as unknown[])[0];
    expect(missingFrom((lastOf(emu, "updateRefs").response as { value: unknown[] }).value[0], refExample)).toEqual([]);
    const revertExample = example("reverts", "CreateRevert.json");
    const ourRevert = lastOf(emu, "createRevert").response as Record<string, unknown>;
    expect(missingSet(ourRevert, revertExample)).toEqual([]);
    expect(missingFrom(ourRevert.parameters, revertExample.parameters)).toEqual([]);
    expect(missingSet(lastOf(emu, "getRevertForRefName").response, example("reverts", "GetRevert.json"))).toEqual([]);
    expect(
      missingFrom(
        lastOf(emu, "createPullRequestStatus").response,
        example("pullRequestStatuses", "POST_git_pullRequestStatuses_status.json"),
      ),
    ).toEqual([]);
    const statusItem = (
      example("pullRequestStatuses", "GET_git_pullRequestStatuses_statuses.json").value as unknown[]
    )[0];
    expect(
      missingFrom((lastOf(emu, "getPullRequestStatuses").response as { value: unknown[] }).value[0], statusItem),
    ).toEqual([]);
  });
});
