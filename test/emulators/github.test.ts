/**
 * Drives the unmodified @octokit/rest client (and @octokit/plugin-throttling) against the loopback GitHub
 * emulator in ./github.ts, and checks every answer against the dereferenced OpenAPI description shipped in
 * @octokit/openapi.
 */
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { throttling } from "@octokit/plugin-throttling";
import { Octokit } from "@octokit/rest";
import { afterEach, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
import { githubFaults, startGitHubEmulator, type GitHubEmulator } from "./github.js";
import { loadGitHubDescription, responseSchema, validate, type OpenApiDocument } from "./github-schema.js";

const sha = (name: string) => createHash("sha1").update(name).digest("hex");
const C0 = sha("c0");
const C1 = sha("c1");
const M2 = sha("m2");
const F1 = sha("f1");
const F2 = sha("f2");
const U1 = sha("u1");
const who = (name: string, day: number) => ({
  name,
  email: `${name.toLowerCase()}@acme.test`,
  date: `2024-05-0${day}T10:00:00Z`,
});

const owner = "acme";
const repo = "OrderService";
const R = { owner, repo };

/**
 * main:              C0 ← C1 ← M2          (release/1.0 = M2, stale = C1)
 * feature/checkout:        C1 ← F1 ← F2
 * orphan:            U1 (unrelated history)
 */
function seed(emulator: GitHubEmulator) {
  emulator.addUser("jane", { name: "Jane Doe", email: "jane@acme.test" });
  emulator.addUser("bob");
  emulator.addUser("mallory");
  emulator.addTeam("acme", "payments", ["jane", "bob"]);
  emulator.seedRepo("acme/OrderService", {
    default_branch: "main",
    branches: { main: M2, "feature/checkout": F2, stale: C1, orphan: U1, "release/1.0": M2 },
    commits: {
      [C0]: {
        message: "Initial commit",
        author: who("Ops", 1),
        parents: [],
        files: [{ filename: "README.md", status: "added", additions: 10, deletions: 0 }],
      },
      [C1]: {
        message: "Add app",
        author: who("Ops", 2),
        parents: [C0],
        files: [
          { filename: "src/app.ts", status: "added", additions: 50, deletions: 0 },
          { filename: "src/old.ts", status: "added", additions: 7, deletions: 0 },
        ],
      },
      [M2]: {
        message: "docs: add guide",
        author: who("Ops", 4),
        parents: [C1],
        files: [{ filename: "docs/guide.md", status: "added", additions: 5, deletions: 0 }],
      },
      [F1]: {
        message: "feat(checkout): add cart\n\nRefs: ORD-42",
        author: who("Jane", 3),
        parents: [C1],
        files: [
          {
            filename: "src/checkout.ts",
            status: "added",
            additions: 40,
            deletions: 0,
            patch: "@@ -0,0 +1,40 @@\n+export const cart = [];",
          },
          { filename: "src/app.ts", status: "modified", additions: 3, deletions: 1 },
        ],
      },
      [F2]: {
        message: "refactor: rename old to new",
        author: who("Jane", 5),
        parents: [F1],
        files: [
          { filename: "src/checkout.ts", status: "modified", additions: 5, deletions: 2 },
          { filename: "src/new.ts", status: "renamed", additions: 1, deletions: 1, previous_filename: "src/old.ts" },
        ],
      },
      [U1]: {
        message: "unrelated root",
        author: who("Ops", 1),
        parents: [],
        files: [{ filename: "x.txt", status: "added", additions: 1, deletions: 0 }],
      },
    },
    collaborators: ["jane", "bob"],
    labels: [{ name: "bug", color: "d73a4a", description: "Something isn't working" }],
  });
}

const quiet = { debug: () => {}, info: () => {}, warn: () => {}, error: () => {} };
const client = (auth = "test-token") => new Octokit({ auth, baseUrl: gh.url, log: quiet });

interface HttpErrorLike {
  name: string;
  message: string;
  status: number;
  cause?: unknown;
  response?: { status: number; headers: Record<string, string | undefined>; data: unknown };
}

interface ErrorData {
  message: string;
  documentation_url?: string;
  errors?: { resource?: string; field?: string; code: string; message?: string }[];
}

/** Awaits a promise that must reject with Octokit's RequestError (name "HttpError"). */
async function failure(promise: Promise<unknown>): Promise<HttpErrorLike> {
  try {
    await promise;
  } catch (error) {
    expect((error as Error).name).toBe("HttpError");
    return error as HttpErrorLike;
  }
  throw new Error("expected the request to fail");
}
const dataOf = (error: HttpErrorLike) => error.response?.data as ErrorData;

let gh: GitHubEmulator;
beforeEach(async () => {
  gh = await startGitHubEmulator();
  seed(gh);
});
afterEach(async () => {
  await gh.close();
});

const createPr = (
  overrides: Partial<{ title: string; body: string; head: string; base: string; draft: boolean }> = {},
) =>
  client().rest.pulls.create({
    ...R,
    title: "feat(checkout): add cart",
    body: "Adds the cart.",
    head: "feature/checkout",
    base: "main",
    ...overrides,
  });

describe("repository reads", () => {
  it("repos.get returns the repository, case-insensitively, and 404 for unknown repos", async () => {
    const { data, status } = await client().rest.repos.get({ owner: "ACME", repo: "orderservice" });
    expect(status).toBe(200);
    expect(data).toMatchObject({
      full_name: "acme/OrderService",
      name: "OrderService",
      default_branch: "main",
      private: false,
      owner: { login: "acme", type: "Organization" },
    });

    const error = await failure(client().rest.repos.get({ owner, repo: "Nope" }));
    expect(error.status).toBe(404);
    expect(error.response?.data).toEqual({
      message: "Not Found",
      documentation_url: "https://docs.github.com/rest/repos/repos#get-a-repository",
      status: "404",
    });
    expect(error.message).toBe("Not Found - https://docs.github.com/rest/repos/repos#get-a-repository");
  });

  it("repos.getBranch resolves branch names with slashes and says 'Branch not found' otherwise", async () => {
    const { data } = await client().rest.repos.getBranch({ ...R, branch: "feature/checkout" });
    expect(data).toMatchObject({
      name: "feature/checkout",
      protected: false,
      commit: { sha: F2, commit: { message: "refactor: rename old to new" } },
    });
    expect(gh.requests.at(-1)?.path).toBe("/repos/acme/OrderService/branches/feature%2Fcheckout");

    const error = await failure(client().rest.repos.getBranch({ ...R, branch: "nope" }));
    expect(error.status).toBe(404);
    expect(dataOf(error).message).toBe("Branch not found");
  });

  it("repos.getCommit takes a full sha, a unique abbreviation or a branch, and answers with files and stats", async () => {
    const octokit = client();
    const full = await octokit.rest.repos.getCommit({ ...R, ref: F2 });
    const short = await octokit.rest.repos.getCommit({ ...R, ref: F2.slice(0, 7) });
    const branch = await octokit.rest.repos.getCommit({ ...R, ref: "feature/checkout" });
    expect(short.data.sha).toBe(F2);
    expect(branch.data.sha).toBe(F2);
    expect(full.data).toMatchObject({
      sha: F2,
      commit: { message: "refactor: rename old to new", author: who("Jane", 5) },
      author: { login: "jane" },
      parents: [{ sha: F1 }],
      stats: { additions: 6, deletions: 3, total: 9 },
    });
    expect(full.data.files).toEqual([
      expect.objectContaining({
        filename: "src/checkout.ts",
        status: "modified",
        additions: 5,
        deletions: 2,
        changes: 7,
      }),
      expect.objectContaining({
        filename: "src/new.ts",
        status: "renamed",
        previous_filename: "src/old.ts",
        changes: 2,
      }),
    ]);
    const first = await octokit.rest.repos.getCommit({ ...R, ref: F1 });
    expect(first.data.files?.[0]?.patch).toContain("@@ -0,0 +1,40 @@");
    expect(first.data.author).toMatchObject({ login: "jane" });
    const root = await octokit.rest.repos.getCommit({ ...R, ref: C0 });
    expect(root.data.author).toBeNull(); // ops@acme.test belongs to no user
    expect(root.data.parents).toEqual([]);

    const error = await failure(octokit.rest.repos.getCommit({ ...R, ref: "nope" }));
    expect(error.status).toBe(422);
    expect(dataOf(error).message).toBe("No commit found for SHA: nope");
  });

  it("repos.compareCommitsWithBasehead computes the merge base, commits oldest first and folded files", async () => {
    const octokit = client();
    const { data } = await octokit.rest.repos.compareCommitsWithBasehead({ ...R, basehead: "main...feature/checkout" });
    expect(data).toMatchObject({
      status: "diverged",
      ahead_by: 2,
      behind_by: 1,
      total_commits: 2,
      base_commit: { sha: M2 },
      merge_base_commit: { sha: C1 },
    });
    expect(data.commits.map((c) => c.sha)).toEqual([F1, F2]);
    expect(data.files?.map((f) => [f.filename, f.status, f.additions, f.deletions, f.previous_filename])).toEqual([
      ["src/app.ts", "modified", 3, 1, undefined],
      ["src/checkout.ts", "added", 45, 2, undefined],
      ["src/new.ts", "renamed", 1, 1, "src/old.ts"],
    ]);

    const identical = await octokit.rest.repos.compareCommitsWithBasehead({ ...R, basehead: "main...release/1.0" });
    expect(identical.data).toMatchObject({ status: "identical", ahead_by: 0, behind_by: 0, commits: [] });
    const ahead = await octokit.rest.repos.compareCommitsWithBasehead({ ...R, basehead: `stale...${M2.slice(0, 8)}` });
    expect(ahead.data).toMatchObject({ status: "ahead", ahead_by: 1, merge_base_commit: { sha: C1 } });
    const behind = await octokit.rest.repos.compareCommitsWithBasehead({ ...R, basehead: "acme:main...acme:stale" });
    expect(behind.data).toMatchObject({ status: "behind", ahead_by: 0, behind_by: 1 });

    expect(
      (await failure(octokit.rest.repos.compareCommitsWithBasehead({ ...R, basehead: "main...nope" }))).status,
    ).toBe(404);
    const unrelated = await failure(octokit.rest.repos.compareCommitsWithBasehead({ ...R, basehead: "main...orphan" }));
    expect(unrelated.status).toBe(404);
    expect(dataOf(unrelated).message).toBe("No common ancestor between main and orphan.");
  });

  it("users.getByUsername returns users and organisations, 404 for unknown logins", async () => {
    const octokit = client();
    expect((await octokit.rest.users.getByUsername({ username: "Jane" })).data).toMatchObject({
      login: "jane",
      name: "Jane Doe",
      type: "User",
    });
    expect((await octokit.rest.users.getByUsername({ username: "acme" })).data).toMatchObject({
      login: "acme",
      type: "Organization",
    });
    const error = await failure(octokit.rest.users.getByUsername({ username: "ghost" }));
    expect(error.status).toBe(404);
    expect(dataOf(error).message).toBe("Not Found");
  });
});

describe("pull requests", () => {
  it("pulls.create answers 201 with the pull request, numbering per repository from 1", async () => {
    const created = await createPr({ draft: true });
    expect(created.status).toBe(201);
    expect(created.headers.location).toBe(`${gh.url}/repos/acme/OrderService/pulls/1`);
    expect(created.data).toMatchObject({
      number: 1,
      state: "open",
      title: "feat(checkout): add cart",
      body: "Adds the cart.",
      draft: true,
      html_url: "https://github.com/acme/OrderService/pull/1",
      url: `${gh.url}/repos/acme/OrderService/pulls/1`,
      head: { ref: "feature/checkout", sha: F2, label: "acme:feature/checkout" },
      base: { ref: "main", sha: M2, label: "acme:main" },
      user: { login: "pr-creator-bot" },
      labels: [],
      requested_reviewers: [],
      requested_teams: [],
      mergeable: null,
      merged: false,
      commits: 2,
      additions: 49,
      deletions: 4,
      changed_files: 3,
    });
    expect(typeof created.data.id).toBe("number");
    expect(created.data.node_id).toMatch(/^PR_/);

    const second = await createPr({ head: "release/1.0", base: "stale", title: "release", body: undefined });
    expect(second.data).toMatchObject({ number: 2, body: null, draft: false });

    gh.seedRepo("acme/Billing", {
      branches: { main: C0, topic: C1 },
      commits: {
        [C0]: { message: "a", author: who("Ops", 1), parents: [], files: [] },
        [C1]: { message: "b", author: who("Ops", 2), parents: [C0], files: [] },
      },
    });
    const other = await client().rest.pulls.create({ owner, repo: "Billing", title: "t", head: "topic", base: "main" });
    expect(other.data.number).toBe(1);
    expect(gh.state.repos.get("acme/orderservice")?.pulls).toHaveLength(2);
  });

  it("pulls.list filters by state, head 'owner:branch' and base like GitHub", async () => {
    const octokit = client();
    await createPr();
    await createPr({ head: "release/1.0", base: "stale", title: "release" });
    const numbers = async (params: {
      state?: "open" | "closed" | "all";
      head?: string;
      base?: string;
      direction?: "asc" | "desc";
    }) => (await octokit.rest.pulls.list({ ...R, ...params })).data.map((p) => p.number);

    expect(await numbers({})).toEqual([2, 1]); // newest first by default
    expect(await numbers({ direction: "asc" })).toEqual([1, 2]);
    expect(await numbers({ state: "open", head: "acme:feature/checkout", base: "main" })).toEqual([1]);
    expect(await numbers({ head: "ACME:feature/checkout" })).toEqual([1]);
    expect(await numbers({ head: "someone-else:feature/checkout" })).toEqual([]);
    expect(await numbers({ head: "feature/checkout" })).toEqual([2, 1]); // bare branch: GitHub ignores the filter
    expect(await numbers({ base: "stale" })).toEqual([2]);

    await octokit.rest.pulls.update({ ...R, pull_number: 2, state: "closed" });
    expect(await numbers({ state: "open" })).toEqual([1]);
    expect(await numbers({ state: "closed" })).toEqual([2]);
    expect(await numbers({ state: "all" })).toEqual([2, 1]);
    const list = await octokit.rest.pulls.list({ ...R, head: "acme:feature/checkout" });
    expect(list.data[0]).toMatchObject({
      head: { ref: "feature/checkout", sha: F2 },
      base: { ref: "main" },
      draft: false,
    });
    expect(gh.requests.at(-1)?.path).toBe("/repos/acme/OrderService/pulls?head=acme%3Afeature%2Fcheckout");

    const paged = await octokit.rest.pulls.list({ ...R, state: "all", per_page: 1 });
    expect(paged.data.map((p) => p.number)).toEqual([2]);
    expect(paged.headers.link).toBe(
      `<${gh.url}/repos/acme/OrderService/pulls?state=all&per_page=1&page=2>; rel="next", <${gh.url}/repos/acme/OrderService/pulls?state=all&per_page=1&page=2>; rel="last"`,
    );
    const all = await octokit.paginate(octokit.rest.pulls.list, { ...R, state: "all", per_page: 1 });
    expect(all.map((p) => p.number)).toEqual([2, 1]);
  });

  it("pulls.get and pulls.update read and change title, body, base and state", async () => {
    const octokit = client();
    await createPr();
    expect((await octokit.rest.pulls.get({ ...R, pull_number: 1 })).data).toMatchObject({
      number: 1,
      state: "open",
      title: "feat(checkout): add cart",
    });

    const updated = await octokit.rest.pulls.update({
      ...R,
      pull_number: 1,
      title: "feat(checkout): add the cart",
      body: "New body",
      base: "release/1.0",
    });
    expect(updated.status).toBe(200);
    expect(updated.data).toMatchObject({
      title: "feat(checkout): add the cart",
      body: "New body",
      base: { ref: "release/1.0", sha: M2 },
    });

    const closed = await octokit.rest.pulls.update({ ...R, pull_number: 1, state: "closed" });
    expect(closed.data.state).toBe("closed");
    expect(closed.data.closed_at).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);

    const missing = await failure(octokit.rest.pulls.get({ ...R, pull_number: 99 }));
    expect(missing.status).toBe(404);
    const badBase = await failure(octokit.rest.pulls.update({ ...R, pull_number: 1, base: "nope" }));
    expect(badBase.status).toBe(422);
    expect(dataOf(badBase).errors).toEqual([{ resource: "PullRequest", field: "base", code: "invalid" }]);
  });

  it("enforces GitHub's 256-character title and 65536-character body limits", async () => {
    const title = await failure(createPr({ title: "t".repeat(257) }));
    expect(title.status).toBe(422);
    expect(dataOf(title).message).toBe("Validation Failed");
    expect(dataOf(title).errors).toEqual([
      { resource: "Issue", code: "custom", field: "title", message: "title is too long (maximum is 256 characters)" },
    ]);
    expect(title.message).toBe(
      'Validation Failed: {"resource":"Issue","code":"custom","field":"title","message":"title is too long (maximum is 256 characters)"} - https://docs.github.com/rest/pulls/pulls#create-a-pull-request',
    );

    const body = await failure(createPr({ body: "b".repeat(65537) }));
    expect(dataOf(body).errors).toEqual([
      { resource: "Issue", code: "custom", field: "body", message: "body is too long (maximum is 65536 characters)" },
    ]);
    const both = await failure(createPr({ title: "t".repeat(300), body: "b".repeat(70000) }));
    expect(dataOf(both).errors?.map((e) => e.field)).toEqual(["title", "body"]);
    expect(gh.state.repos.get("acme/orderservice")?.pulls).toHaveLength(0);

    const atLimit = await createPr({ title: "t".repeat(256), body: "b".repeat(65536) });
    expect(atLimit.status).toBe(201);
    const update = await failure(client().rest.pulls.update({ ...R, pull_number: 1, title: "u".repeat(257) }));
    expect(dataOf(update).errors?.[0]?.field).toBe("title");
  });

  it("rejects a second open pull request for the same head and base with GitHub's duplicate message", async () => {
    await createPr();
    const error = await failure(createPr({ title: "again" }));
    expect(error.status).toBe(422);
    expect(error.response?.data).toEqual({
      message: "Validation Failed",
      errors: [
        {
          resource: "PullRequest",
          code: "custom",
          message: "A pull request already exists for acme:feature/checkout.",
        },
      ],
      documentation_url: "https://docs.github.com/rest/pulls/pulls#create-a-pull-request",
      status: "422",
    });
    expect(dataOf(error).errors?.[0]?.message).toBe("A pull request already exists for acme:feature/checkout.");
    // The same head against another base is fine; so is the same pair once the first is closed.
    expect((await createPr({ base: "stale" })).data.number).toBe(2);
    await client().rest.pulls.update({ ...R, pull_number: 1, state: "closed" });
    expect((await createPr({ head: "acme:feature/checkout" })).data.number).toBe(3);
    const reopen = await failure(client().rest.pulls.update({ ...R, pull_number: 1, state: "open" }));
    expect(dataOf(reopen).errors?.[0]?.message).toBe("A pull request already exists for acme:feature/checkout.");
  });

  it("rejects missing branches and ranges without commits", async () => {
    const head = await failure(createPr({ head: "nope" }));
    expect(head.status).toBe(422);
    expect(dataOf(head).errors).toEqual([{ resource: "PullRequest", field: "head", code: "invalid" }]);
    const base = await failure(createPr({ base: "nope" }));
    expect(dataOf(base).errors).toEqual([{ resource: "PullRequest", field: "base", code: "invalid" }]);
    const fork = await failure(createPr({ head: "someone:feature/checkout" }));
    expect(dataOf(fork).errors?.[0]?.field).toBe("head");

    const empty = await failure(createPr({ head: "stale" }));
    expect(empty.status).toBe(422);
    expect(dataOf(empty).errors).toEqual([
      { resource: "PullRequest", code: "custom", message: "No commits between main and stale" },
    ]);
    const same = await failure(createPr({ head: "main" }));
    expect(dataOf(same).errors?.[0]?.message).toBe("No commits between main and main");
    const unrelated = await failure(createPr({ head: "orphan" }));
    expect(dataOf(unrelated).errors?.[0]?.message).toBe(
      "The acme:orphan branch has no history in common with acme:main",
    );
  });

  it("pulls.requestReviewers adds collaborators and teams, and refuses anyone else", async () => {
    const octokit = client();
    await createPr();
    const requested = await octokit.rest.pulls.requestReviewers({
      ...R,
      pull_number: 1,
      reviewers: ["Jane"],
      team_reviewers: ["payments"],
    });
    expect(requested.status).toBe(201);
    expect(requested.data.requested_reviewers?.map((u) => u.login)).toEqual(["jane"]);
    expect(requested.data.requested_teams?.map((t) => t.slug)).toEqual(["payments"]);
    await octokit.rest.pulls.requestReviewers({ ...R, pull_number: 1, reviewers: ["bob", "jane"] });
    const pr = await octokit.rest.pulls.get({ ...R, pull_number: 1 });
    expect(pr.data.requested_reviewers?.map((u) => u.login)).toEqual(["jane", "bob"]);

    const notCollaborator =
      "Reviews may only be requested from collaborators. One or more of the users or teams you specified is not a collaborator of the acme/OrderService repository.";
    for (const attempt of [
      { reviewers: ["ghost"] },
      { reviewers: ["mallory"] },
      { team_reviewers: ["nope"] },
      { reviewers: ["jane"], team_reviewers: ["nope"] },
    ]) {
      const error = await failure(octokit.rest.pulls.requestReviewers({ ...R, pull_number: 1, ...attempt }));
      expect(error.status).toBe(422);
      expect(dataOf(error).message).toBe(notCollaborator);
    }
    const author = await failure(
      octokit.rest.pulls.requestReviewers({ ...R, pull_number: 1, reviewers: ["pr-creator-bot"] }),
    );
    expect(dataOf(author).message).toBe("Review cannot be requested from pull request author.");
    expect(
      (await failure(octokit.rest.pulls.requestReviewers({ ...R, pull_number: 7, reviewers: ["jane"] }))).status,
    ).toBe(404);
  });

  it("issues.addLabels creates missing labels and returns the issue's labels", async () => {
    const octokit = client();
    await createPr();
    const first = await octokit.rest.issues.addLabels({ ...R, issue_number: 1, labels: ["BUG", "team: payments"] });
    expect(first.status).toBe(200);
    expect(first.data.map((l) => [l.name, l.color, l.default, l.description])).toEqual([
      ["bug", "d73a4a", false, "Something isn't working"],
      ["team: payments", "ededed", false, null],
    ]);
    const second = await octokit.rest.issues.addLabels({
      ...R,
      issue_number: 1,
      labels: ["team: payments", "release"],
    });
    expect(second.data.map((l) => l.name)).toEqual(["bug", "team: payments", "release"]);
    expect(new Set(second.data.map((l) => l.id)).size).toBe(3);
    expect((await octokit.rest.pulls.get({ ...R, pull_number: 1 })).data.labels.map((l) => l.name)).toEqual([
      "bug",
      "team: payments",
      "release",
    ]);
    expect((await failure(octokit.rest.issues.addLabels({ ...R, issue_number: 42, labels: ["x"] }))).status).toBe(404);
  });
});

describe("authentication and headers", () => {
  it("answers 401 'Bad credentials' for a wrong token and 'Requires authentication' without one", async () => {
    const wrong = await failure(client("wrong-token").rest.repos.get(R));
    expect(wrong.status).toBe(401);
    expect(dataOf(wrong).message).toBe("Bad credentials");
    const anonymous = await failure(new Octokit({ baseUrl: gh.url, log: quiet }).rest.repos.get(R));
    expect(anonymous.status).toBe(401);
    expect(dataOf(anonymous).message).toBe("Requires authentication");
    expect(gh.requests.map((r) => r.status)).toEqual([401, 401]);
  });

  it("accepts 'token X' (what octokit sends), 'Bearer X', and octokit's 'bearer' for JWT-shaped tokens", async () => {
    await client().rest.repos.get(R);
    const bearer = await fetch(`${gh.url}/repos/acme/OrderService`, {
      headers: { authorization: "Bearer test-token" },
    });
    expect(bearer.status).toBe(200);
    const jwt = await startGitHubEmulator({ token: "aaa.bbb.ccc" });
    try {
      jwt.seedRepo("acme/OrderService", {
        branches: { main: C0 },
        commits: { [C0]: { message: "a", author: who("Ops", 1), parents: [], files: [] } },
      });
      expect((await new Octokit({ auth: "aaa.bbb.ccc", baseUrl: jwt.url, log: quiet }).rest.repos.get(R)).status).toBe(
        200,
      );
    } finally {
      await jwt.close();
    }
  });

  it("puts rate-limit headers and a request id on every answer, errors included", async () => {
    const octokit = client();
    const one = await octokit.rest.repos.get(R);
    const two = await octokit.rest.repos.get(R);
    const error = await failure(octokit.rest.repos.get({ owner, repo: "Nope" }));
    for (const headers of [one.headers, two.headers, error.response!.headers] as Record<string, string | undefined>[]) {
      for (const name of [
        "x-ratelimit-limit",
        "x-ratelimit-remaining",
        "x-ratelimit-reset",
        "x-ratelimit-used",
        "x-ratelimit-resource",
        "x-github-request-id",
      ]) {
        expect(headers[name], name).toBeTruthy();
      }
    }
    expect(one.headers["x-ratelimit-limit"]).toBe("5000");
    expect(Number(one.headers["x-ratelimit-remaining"]) - Number(two.headers["x-ratelimit-remaining"])).toBe(1);
    expect(Number(one.headers["x-ratelimit-reset"])).toBeGreaterThan(Date.now() / 1000);
    expect(one.headers["x-github-request-id"]).not.toBe(two.headers["x-github-request-id"]);
  });
});

describe("fault injection", () => {
  it("a status fault reaches the client with its headers, once", async () => {
    gh.inject("repos.get", githubFaults.tooManyRequests(1));
    const error = await failure(client().rest.repos.get(R));
    expect(error.status).toBe(429);
    expect(error.response?.headers["retry-after"]).toBe("1");
    expect(error.response?.headers["x-ratelimit-limit"]).toBe("5000");
    expect(error.message).toBe("Too Many Requests - https://docs.github.com/rest/repos/repos#get-a-repository");
    expect((await client().rest.repos.get(R)).status).toBe(200);
    expect(gh.calls("repos.get")).toBe(2);
    expect(gh.requests.map((r) => r.status)).toEqual([429, 200]);
  });

  it("rate-limit presets look like GitHub's primary and secondary limits", async () => {
    gh.inject("pulls.create", githubFaults.primaryRateLimit(30));
    const primary = await failure(createPr());
    expect(primary.status).toBe(403);
    expect(primary.response?.headers["x-ratelimit-remaining"]).toBe("0");
    expect(Number(primary.response?.headers["x-ratelimit-reset"]) - Date.now() / 1000).toBeGreaterThan(25);
    expect(dataOf(primary).message).toMatch(/^API rate limit exceeded/);

    gh.inject("pulls.create", githubFaults.secondaryRateLimit(5));
    const secondary = await failure(createPr());
    expect(secondary.status).toBe(403);
    expect(secondary.response?.headers["retry-after"]).toBe("5");
    expect(secondary.message).toMatch(
      /^You have exceeded a secondary rate limit\. Please wait a few minutes before you try again\. - https:/,
    );

    gh.inject("pulls.create", { status: 503, body: { message: "custom outage" }, headers: { "X-Custom": "yes" } });
    const custom = await failure(createPr());
    expect(custom.response?.data).toEqual({ message: "custom outage" });
    expect(custom.response?.headers["x-custom"]).toBe("yes");
    expect((await createPr()).status).toBe(201);
  });

  it("faults count down per route, and '*' matches any route", async () => {
    const octokit = client();
    gh.inject("*", { status: 502 }, 2);
    gh.inject("users.getByUsername", { status: 500 });
    expect((await failure(octokit.rest.repos.get(R))).status).toBe(502);
    expect((await failure(octokit.rest.users.getByUsername({ username: "jane" }))).status).toBe(502);
    expect((await failure(octokit.rest.users.getByUsername({ username: "jane" }))).status).toBe(500);
    expect((await octokit.rest.users.getByUsername({ username: "jane" })).status).toBe(200);
    expect(gh.calls("users.getByUsername")).toBe(3);
    expect(gh.calls()).toBe(4);
  });

  it("delayMs and latencyMs slow answers down", async () => {
    gh.inject("repos.getBranch", { delayMs: 250 });
    const started = Date.now();
    expect((await client().rest.repos.getBranch({ ...R, branch: "main" })).status).toBe(200);
    expect(Date.now() - started).toBeGreaterThanOrEqual(240);

    const slow = await startGitHubEmulator({ latencyMs: 150 });
    try {
      slow.seedRepo("acme/OrderService", {
        branches: { main: C0 },
        commits: { [C0]: { message: "a", author: who("Ops", 1), parents: [], files: [] } },
      });
      const t0 = Date.now();
      await new Octokit({ auth: "test-token", baseUrl: slow.url, log: quiet }).rest.repos.get(R);
      expect(Date.now() - t0).toBeGreaterThanOrEqual(140);
    } finally {
      await slow.close();
    }
  });

  it("reset destroys the connection: octokit reports status 500 'other side closed'", async () => {
    gh.inject("pulls.list", { reset: true });
    const error = await failure(client().rest.pulls.list(R));
    expect(error.status).toBe(500);
    expect(error.message).toBe("other side closed");
    expect(error.response).toBeUndefined();
    expect(String(error.cause)).toBe("TypeError: fetch failed");
    expect(gh.requests.at(-1)?.status).toBe("reset");
    expect((await client().rest.pulls.list(R)).status).toBe(200);
  });

  it("hang never answers: a request signal times out, surfacing as status 500", async () => {
    gh.inject("pulls.get", { hang: true });
    await createPr();
    const started = Date.now();
    const error = await failure(
      client().rest.pulls.get({ ...R, pull_number: 1, request: { signal: AbortSignal.timeout(200) } }),
    );
    expect(Date.now() - started).toBeGreaterThanOrEqual(190);
    expect(error.status).toBe(500);
    expect(error.message).toBe("The operation was aborted due to timeout");
    expect((error.cause as Error).name).toBe("TimeoutError");
    expect(gh.requests.find((r) => r.route === "pulls.get")?.status).toBe("hang");
    expect((await client().rest.pulls.get({ ...R, pull_number: 1 })).status).toBe(200);
  });

  it("seedRepo rejects seeds that are not a consistent history", () => {
    const commit = (parents: string[]) => ({ message: "m", author: who("Ops", 1), parents, files: [] });
    expect(() => gh.seedRepo("no-slash", { branches: { main: C0 }, commits: { [C0]: commit([]) } })).toThrow(
      /owner\/name/,
    );
    expect(() => gh.seedRepo("acme/x", { branches: { main: C1 }, commits: { [C1]: commit([C0]) } })).toThrow(
      /unseeded parent/,
    );
    expect(() => gh.seedRepo("acme/x", { branches: { main: C1 }, commits: { [C0]: commit([]) } })).toThrow(/unseeded/);
    expect(() =>
      gh.seedRepo("acme/x", { default_branch: "trunk", branches: { main: C0 }, commits: { [C0]: commit([]) } }),
    ).toThrow(/default branch/);
    expect(() =>
      gh.seedRepo("acme/x", { branches: { main: C0 }, commits: { [C0]: commit([C1]), [C1]: commit([C0]) } }),
    ).toThrow(/cycle/);
  });

  it("reset() forgets state, faults and the request log", async () => {
    await createPr();
    gh.inject("*", { status: 500 }, 5);
    gh.reset();
    expect(gh.requests).toEqual([]);
    expect(gh.state.repos.size).toBe(0);
    expect((await failure(client().rest.repos.get(R))).status).toBe(404);
    seed(gh);
    expect((await createPr()).data.number).toBe(1);
  });
});

describe("with @octokit/plugin-throttling", () => {
  const Throttled = Octokit.plugin(throttling);
  let sequence = 0;
  const throttled = (
    onRateLimit: (...args: unknown[]) => boolean,
    onSecondaryRateLimit: (...args: unknown[]) => boolean,
    extra: { retryAfterBaseValue?: number } = {},
  ) =>
    new Throttled({
      auth: "test-token",
      baseUrl: gh.url,
      log: quiet,
      throttle: { id: `emulator-test-${++sequence}`, onRateLimit, onSecondaryRateLimit, ...extra },
    });

  it("a primary limit (x-ratelimit-remaining 0) goes to onRateLimit with seconds until reset + 1", async () => {
    const onRateLimit = vi.fn(() => false);
    const onSecondaryRateLimit = vi.fn(() => false);
    gh.inject("repos.get", githubFaults.primaryRateLimit(30));
    const error = await failure(throttled(onRateLimit, onSecondaryRateLimit).rest.repos.get(R));
    expect(error.status).toBe(403);
    expect(onSecondaryRateLimit).not.toHaveBeenCalled();
    expect(onRateLimit).toHaveBeenCalledTimes(1);
    const [retryAfter, options, , retryCount] = onRateLimit.mock.calls[0] as unknown as [
      number,
      { method: string; url: string },
      unknown,
      number,
    ];
    expect(retryAfter).toBeGreaterThanOrEqual(30);
    expect(retryAfter).toBeLessThanOrEqual(32);
    expect(options).toMatchObject({ method: "GET", url: "/repos/{owner}/{repo}" });
    expect(retryCount).toBe(0);
    expect(gh.calls("repos.get")).toBe(1);
  });

  it("a secondary limit (message) goes to onSecondaryRateLimit with retry-after, on 403 and 429", async () => {
    const onRateLimit = vi.fn(() => false);
    const onSecondaryRateLimit = vi.fn(() => false);
    const octokit = throttled(onRateLimit, onSecondaryRateLimit);
    gh.inject("repos.get", githubFaults.secondaryRateLimit(7));
    expect((await failure(octokit.rest.repos.get(R))).status).toBe(403);
    gh.inject("repos.get", githubFaults.secondaryRateLimit(9, 429));
    expect((await failure(octokit.rest.repos.get(R))).status).toBe(429);
    expect(onSecondaryRateLimit.mock.calls.map((c) => (c as unknown[])[0])).toEqual([7, 9]);
    expect(onRateLimit).not.toHaveBeenCalled();
  });

  it("a bare 429 with retry-after reaches neither handler", async () => {
    const onRateLimit = vi.fn(() => false);
    const onSecondaryRateLimit = vi.fn(() => false);
    gh.inject("repos.get", githubFaults.tooManyRequests(1));
    const error = await failure(throttled(onRateLimit, onSecondaryRateLimit).rest.repos.get(R));
    expect(error.status).toBe(429);
    expect(onRateLimit).not.toHaveBeenCalled();
    expect(onSecondaryRateLimit).not.toHaveBeenCalled();
  });

  it("a handler returning true retries after the computed wait", async () => {
    const onRateLimit = vi.fn(() => true);
    gh.inject("repos.get", githubFaults.primaryRateLimit(0));
    const { status } = await throttled(onRateLimit, () => false, { retryAfterBaseValue: 10 }).rest.repos.get(R);
    expect(status).toBe(200);
    expect(onRateLimit).toHaveBeenCalledTimes(1);
    expect(gh.requests.map((r) => r.status)).toEqual([403, 200]);
  });
});

describe("conformance with GitHub's OpenAPI description", () => {
  let description: OpenApiDocument;
  beforeAll(() => {
    description = loadGitHubDescription();
  });

  it("every answer, success or error, matches its operation's response schema", async () => {
    const seen: { method: string; template: string; status: number; data: unknown }[] = [];
    const recording = (auth?: string) => {
      const octokit = auth === undefined ? client() : client(auth);
      octokit.hook.after("request", (response, options) => {
        seen.push({ method: options.method, template: options.url, status: response.status, data: response.data });
      });
      octokit.hook.error("request", (error, options) => {
        const response = (error as HttpErrorLike).response;
        if (response)
          seen.push({ method: options.method, template: options.url, status: response.status, data: response.data });
        throw error;
      });
      return octokit;
    };
    const octokit = recording();
    const attempt = (p: Promise<unknown>) => p.catch(() => undefined);

    await octokit.rest.repos.get(R);
    await attempt(octokit.rest.repos.get({ owner, repo: "Nope" }));
    await octokit.rest.repos.getBranch({ ...R, branch: "feature/checkout" });
    await attempt(octokit.rest.repos.getBranch({ ...R, branch: "nope" }));
    await octokit.rest.repos.getCommit({ ...R, ref: F1 });
    await octokit.rest.repos.getCommit({ ...R, ref: C0 });
    await attempt(octokit.rest.repos.getCommit({ ...R, ref: "nope" }));
    await octokit.rest.repos.compareCommitsWithBasehead({ ...R, basehead: "main...feature/checkout" });
    await attempt(octokit.rest.repos.compareCommitsWithBasehead({ ...R, basehead: "main...nope" }));
    await octokit.rest.users.getByUsername({ username: "jane" });
    await octokit.rest.users.getByUsername({ username: "acme" });
    await attempt(octokit.rest.users.getByUsername({ username: "ghost" }));
    await octokit.rest.pulls.create({
      ...R,
      title: "t",
      body: "b",
      head: "feature/checkout",
      base: "main",
      draft: true,
    });
    await attempt(octokit.rest.pulls.create({ ...R, title: "t", head: "feature/checkout", base: "main" }));
    await attempt(octokit.rest.pulls.create({ ...R, title: "t".repeat(300), head: "feature/checkout", base: "stale" }));
    await octokit.rest.pulls.requestReviewers({
      ...R,
      pull_number: 1,
      reviewers: ["jane"],
      team_reviewers: ["payments"],
    });
    await attempt(octokit.rest.pulls.requestReviewers({ ...R, pull_number: 1, reviewers: ["ghost"] }));
    await octokit.rest.issues.addLabels({ ...R, issue_number: 1, labels: ["bug", "new-label"] });
    await attempt(octokit.rest.issues.addLabels({ ...R, issue_number: 9, labels: ["bug"] }));
    await octokit.rest.pulls.list({ ...R, state: "open", head: "acme:feature/checkout", base: "main" });
    await octokit.rest.pulls.get({ ...R, pull_number: 1 });
    await attempt(octokit.rest.pulls.get({ ...R, pull_number: 9 }));
    await octokit.rest.pulls.update({ ...R, pull_number: 1, title: "t2", state: "closed" });
    await attempt(octokit.rest.pulls.update({ ...R, pull_number: 1, base: "nope" }));
    await attempt(recording("wrong").rest.repos.get(R));

    const problems: string[] = [];
    for (const answer of seen) {
      const schema = responseSchema(description, answer.method, answer.template, answer.status);
      if (!schema) {
        problems.push(`${answer.method} ${answer.template} ${answer.status}: no schema in the description`);
        continue;
      }
      problems.push(
        ...validate(schema, answer.data).map((p) => `${answer.method} ${answer.template} ${answer.status} ${p}`),
      );
    }
    expect(problems).toEqual([]);
    expect(seen).toHaveLength(25);
    expect([...new Set(seen.map((a) => `${a.method} ${a.template} ${a.status}`))].sort()).toEqual([
      "GET /repos/{owner}/{repo} 200",
      "GET /repos/{owner}/{repo} 401",
      "GET /repos/{owner}/{repo} 404",
      "GET /repos/{owner}/{repo}/branches/{branch} 200",
      "GET /repos/{owner}/{repo}/branches/{branch} 404",
      "GET /repos/{owner}/{repo}/commits/{ref} 200",
      "GET /repos/{owner}/{repo}/commits/{ref} 422",
      "GET /repos/{owner}/{repo}/compare/{basehead} 200",
      "GET /repos/{owner}/{repo}/compare/{basehead} 404",
      "GET /repos/{owner}/{repo}/pulls 200",
      "GET /repos/{owner}/{repo}/pulls/{pull_number} 200",
      "GET /repos/{owner}/{repo}/pulls/{pull_number} 404",
      "GET /users/{username} 200",
      "GET /users/{username} 404",
      "PATCH /repos/{owner}/{repo}/pulls/{pull_number} 200",
      "PATCH /repos/{owner}/{repo}/pulls/{pull_number} 422",
      "POST /repos/{owner}/{repo}/issues/{issue_number}/labels 200",
      "POST /repos/{owner}/{repo}/issues/{issue_number}/labels 404",
      "POST /repos/{owner}/{repo}/pulls 201",
      "POST /repos/{owner}/{repo}/pulls 422",
      "POST /repos/{owner}/{repo}/pulls/{pull_number}/requested_reviewers 201",
      "POST /repos/{owner}/{repo}/pulls/{pull_number}/requested_reviewers 422",
    ]);
  });

  it("the validator catches missing required properties and wrong types", async () => {
    const { data } = await client().rest.repos.getCommit({ ...R, ref: F1 });
    const schema = responseSchema(description, "GET", "/repos/{owner}/{repo}/commits/{ref}", 200)!;
    expect(validate(schema, data)).toEqual([]);
    const broken = structuredClone(data) as Record<string, unknown>;
    delete broken.node_id;
    (broken.commit as Record<string, unknown>).comment_count = "0";
    (broken.files as Record<string, unknown>[])[0]!.status = "edited";
    expect(validate(schema, broken)).toEqual([
      '$: missing required property "node_id"',
      "$.commit.comment_count: expected integer, got string",
      '$.files[0].status: "edited" is not one of ["added","removed","modified","renamed","copied","changed","unchanged"]',
    ]);
    const user = responseSchema(description, "GET", "/users/{username}", 200)!;
    expect(validate(user, { login: "x" })[0]).toMatch(/matches no branch of oneOf/);
  });
});

// ---- contents, git data, CI, merges and GraphQL -------------------------------------------------------

const D = { owner: "acme", repo: "Deployments" };
const APP = "replicas: 2\nimage: registry.acme.test/app:1.0\n";
const OLD = "kind: ConfigMap\nmetadata:\n  name: old\n";
const D0 = sha("d0");
const D1 = sha("d1");

/** acme/Deployments with file contents: D0 adds three files, D1 (main) edits app.yaml. */
function seedDeployments() {
  gh.seedRepo("acme/Deployments", {
    branches: { main: D1 },
    commits: {
      [D0]: {
        message: "chore: initial manifests",
        author: who("Ops", 1),
        parents: [],
        files: [
          { filename: "README.md", status: "added", additions: 1, deletions: 0, content: "# Deployments\n" },
          {
            filename: "k8s/app.yaml",
            status: "added",
            additions: 2,
            deletions: 0,
            content: "replicas: 1\nimage: registry.acme.test/app:1.0\n",
          },
          { filename: "k8s/old.yaml", status: "added", additions: 3, deletions: 0, content: OLD },
        ],
      },
      [D1]: {
        message: "chore: two replicas",
        author: who("Ops", 2),
        parents: [D0],
        files: [{ filename: "k8s/app.yaml", status: "modified", additions: 1, deletions: 1, content: APP }],
      },
    },
  });
}

/** Commits `files` (null = delete) on `branch` through the git data API, creating it from `from` when missing. */
async function push(
  branch: string,
  files: Record<string, string | null>,
  message = `change ${branch}`,
  from = "main",
): Promise<string> {
  const git = client().rest.git;
  const exists = gh.branchHead("acme/Deployments", branch) !== undefined;
  const parent = (await git.getRef({ ...D, ref: `heads/${exists ? branch : from}` })).data.object.sha;
  const base = (await git.getCommit({ ...D, commit_sha: parent })).data.tree.sha;
  const entries = Object.entries(files).map(([path, content]) =>
    content === null
      ? { path, mode: "100644" as const, type: "blob" as const, sha: null }
      : { path, mode: "100644" as const, type: "blob" as const, content },
  );
  const tree = (await git.createTree({ ...D, base_tree: base, tree: entries })).data.sha;
  const commit = (await git.createCommit({ ...D, message, tree, parents: [parent] })).data.sha;
  if (exists) await git.updateRef({ ...D, ref: `heads/${branch}`, sha: commit });
  else await git.createRef({ ...D, ref: `refs/heads/${branch}`, sha: commit });
  return commit;
}

const openPr = (head: string, title = `PR from ${head}`) =>
  client()
    .rest.pulls.create({ ...D, title, head, base: "main" })
    .then((r) => r.data);

/** What real git says a set of files' tree id is. */
function gitTreeOf(files: Record<string, string>): string {
  const dir = mkdtempSync(path.join(tmpdir(), "gh-tree-"));
  try {
    execFileSync("git", ["init", "-q"], { cwd: dir });
    for (const [name, text] of Object.entries(files)) {
      mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
      writeFileSync(path.join(dir, name), text);
    }
    execFileSync("git", ["add", "-A"], { cwd: dir });
    return execFileSync("git", ["write-tree"], { cwd: dir, encoding: "utf8" }).trim();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe("file contents and the git data API", () => {
  beforeEach(seedDeployments);

  it("repos.getContent returns a file's base64 text at a ref with git's blob id, lists directories, and 404s like GitHub", async () => {
    const octokit = client();
    const { data } = await octokit.rest.repos.getContent({ ...D, path: "k8s/app.yaml" });
    if (Array.isArray(data) || data.type !== "file") throw new Error("expected a file");
    expect(data).toMatchObject({
      type: "file",
      encoding: "base64",
      name: "app.yaml",
      path: "k8s/app.yaml",
      size: Buffer.byteLength(APP),
    });
    // 47 bytes are 64 base64 characters, wrapped at 60 like GitHub's.
    expect(data.content.split("\n").map((line) => line.length)).toEqual([60, 4, 0]);
    expect(Buffer.from(data.content, "base64").toString("utf8")).toBe(APP);
    expect(data.sha).toBe(execFileSync("git", ["hash-object", "--stdin"], { input: APP, encoding: "utf8" }).trim());

    const older = await octokit.rest.repos.getContent({ ...D, path: "k8s/app.yaml", ref: D0 });
    expect(Buffer.from((older.data as { content: string }).content, "base64").toString()).toBe(
      "replicas: 1\nimage: registry.acme.test/app:1.0\n",
    );

    const dir = await octokit.rest.repos.getContent({ ...D, path: "k8s" });
    expect((dir.data as { name: string; type: string; path: string }[]).map((e) => [e.name, e.type, e.path])).toEqual([
      ["app.yaml", "file", "k8s/app.yaml"],
      ["old.yaml", "file", "k8s/old.yaml"],
    ]);
    const root = await octokit.rest.repos.getContent({ ...D, path: "" });
    expect((root.data as { name: string; type: string }[]).map((e) => [e.name, e.type])).toEqual([
      ["k8s", "dir"],
      ["README.md", "file"],
    ]);

    const missing = await failure(octokit.rest.repos.getContent({ ...D, path: "k8s/nope.yaml" }));
    expect(missing.status).toBe(404);
    expect(dataOf(missing).message).toBe("Not Found");
    const badRef = await failure(octokit.rest.repos.getContent({ ...D, path: "README.md", ref: "nope" }));
    expect(badRef.status).toBe(404);
    expect(dataOf(badRef).message).toBe("No commit found for the ref nope");
    // Files seeded without content have no text to serve.
    expect((await failure(octokit.rest.repos.getContent({ ...R, path: "README.md" }))).status).toBe(404);
  });

  it("tree ids are git's own: the empty tree, and a tree written by git for the same files", async () => {
    const octokit = client();
    expect((await octokit.rest.git.getCommit({ ...R, commit_sha: C0 })).data.tree.sha).toBe(
      "4b825dc642cb6eb9a060e54bf8d69288fbee4904",
    );
    const files = { "README.md": "# Deployments\n", "k8s/app.yaml": APP, "k8s/old.yaml": OLD };
    expect((await octokit.rest.git.getCommit({ ...D, commit_sha: D1 })).data.tree.sha).toBe(gitTreeOf(files));
  });

  it("git refs: get, create, fast-forward or forced update, delete", async () => {
    const git = client().rest.git;
    expect((await git.getRef({ ...D, ref: "heads/main" })).data).toMatchObject({
      ref: "refs/heads/main",
      object: { type: "commit", sha: D1 },
    });
    expect((await failure(git.getRef({ ...D, ref: "heads/nope" }))).status).toBe(404);

    const created = await git.createRef({ ...D, ref: "refs/heads/topic", sha: D0 });
    expect(created.status).toBe(201);
    expect(created.data).toMatchObject({ ref: "refs/heads/topic", object: { sha: D0 } });
    for (const [body, message] of [
      [{ ref: "refs/heads/topic", sha: D0 }, "Reference already exists"],
      [{ ref: "refs/heads/other", sha: "f".repeat(40) }, "Object does not exist"],
      [{ ref: "heads/other", sha: D0 }, "Reference name must start with 'refs/' and contain at least two slashes"],
    ] as const) {
      const error = await failure(git.createRef({ ...D, ...body }));
      expect([error.status, dataOf(error).message]).toEqual([422, message]);
    }

    expect((await git.updateRef({ ...D, ref: "heads/topic", sha: D1 })).data.object.sha).toBe(D1);
    const backwards = await failure(git.updateRef({ ...D, ref: "heads/topic", sha: D0 }));
    expect([backwards.status, dataOf(backwards).message]).toEqual([422, "Update is not a fast forward"]);
    expect((await git.updateRef({ ...D, ref: "heads/topic", sha: D0, force: true })).data.object.sha).toBe(D0);
    const ghost = await failure(git.updateRef({ ...D, ref: "heads/ghost", sha: D0 }));
    expect(dataOf(ghost).message).toBe("Reference does not exist");

    expect((await git.deleteRef({ ...D, ref: "heads/topic" })).status).toBe(204);
    expect(gh.branchHead("acme/Deployments", "topic")).toBeUndefined();
    const again = await failure(git.deleteRef({ ...D, ref: "heads/topic" }));
    expect([again.status, dataOf(again).message]).toEqual([422, "Reference does not exist"]);
  });

  it("deleting a PR's head branch closes the PR, as on GitHub", async () => {
    await push("feature/x", { "k8s/app.yaml": "replicas: 3\n" });
    const pr = await openPr("feature/x");
    await client().rest.git.deleteRef({ ...D, ref: "heads/feature/x" });
    expect((await client().rest.pulls.get({ ...D, pull_number: pr.number })).data).toMatchObject({
      state: "closed",
      merged: false,
    });
  });

  it("a commit made with createTree and createCommit reads back through getCommit and compare with files and line counts", async () => {
    const octokit = client();
    const tip = await push(
      "feature/x",
      { "k8s/app.yaml": APP.replace("replicas: 2", "replicas: 3"), "k8s/old.yaml": null, "docs/run.md": "Run it.\n" },
      "feat: scale, tidy, document",
    );
    const tree = gh.requests.find((r) => r.route === "git.createTree" && r.status === 201);
    expect(tree).toBeDefined();
    const commit = (await octokit.rest.repos.getCommit({ ...D, ref: tip })).data;
    expect(commit.commit.message).toBe("feat: scale, tidy, document");
    expect(commit.commit.author).toMatchObject({ name: "pr-creator-bot" });
    expect(commit.stats).toEqual({ additions: 2, deletions: 4, total: 6 });
    expect(commit.files?.map((f) => [f.filename, f.status, f.additions, f.deletions])).toEqual([
      ["docs/run.md", "added", 1, 0],
      ["k8s/app.yaml", "modified", 1, 1],
      ["k8s/old.yaml", "removed", 0, 3],
    ]);
    expect(commit.files?.[1]?.patch).toBe(
      "@@ -1,2 +1,2 @@\n-replicas: 2\n+replicas: 3\n image: registry.acme.test/app:1.0",
    );
    const cmp = (await octokit.rest.repos.compareCommitsWithBasehead({ ...D, basehead: "main...feature/x" })).data;
    expect(cmp).toMatchObject({ status: "ahead", ahead_by: 1, merge_base_commit: { sha: D1 } });
    expect(cmp.files?.map((f) => f.filename)).toEqual(["docs/run.md", "k8s/app.yaml", "k8s/old.yaml"]);
    expect(gh.fileAt("acme/Deployments", "feature/x", "docs/run.md")).toBe("Run it.\n");
    expect(gh.fileAt("acme/Deployments", "main", "k8s/old.yaml")).toBe(OLD);

    // A tree entry may also name an existing blob by its sha.
    const blob = (await octokit.rest.repos.getContent({ ...D, path: "k8s/old.yaml" })).data as { sha: string };
    const base = (await octokit.rest.git.getCommit({ ...D, commit_sha: tip })).data.tree.sha;
    const restored = await octokit.rest.git.createTree({
      ...D,
      base_tree: base,
      tree: [{ path: "k8s/old.yaml", mode: "100644", type: "blob", sha: blob.sha }],
    });
    expect(restored.status).toBe(201);
    expect(restored.data.tree.map((e) => [e.path, e.type])).toEqual([
      ["docs", "tree"],
      ["k8s", "tree"],
      ["README.md", "blob"],
    ]);
    expect(restored.data.sha).toBe(
      gitTreeOf({
        "README.md": "# Deployments\n",
        "k8s/app.yaml": APP.replace("replicas: 2", "replicas: 3"),
        "k8s/old.yaml": OLD,
        "docs/run.md": "Run it.\n",
      }),
    );
  });

  it("tree and commit requests GitHub refuses are refused with its words", async () => {
    const git = client().rest.git;
    const base = (await git.getCommit({ ...D, commit_sha: D1 })).data.tree.sha;
    const cases: [Promise<unknown>, string][] = [
      [
        git.createTree({
          ...D,
          base_tree: base,
          tree: [{ path: "nope.txt", mode: "100644", type: "blob", sha: null }],
        }),
        "GitRPC::BadObjectState",
      ],
      [
        git.createTree({
          ...D,
          base_tree: base,
          tree: [{ path: "a.txt", mode: "100644", type: "blob", sha: "f".repeat(40) }],
        }),
        "GitRPC::BadObjectState",
      ],
      [
        git.createTree({
          ...D,
          base_tree: base,
          tree: [{ path: "a.txt", mode: "100644", type: "blob", content: "a", sha: "f".repeat(40) }],
        }),
        "Must supply either tree.sha or tree.content. Request will be rejected if both are present.",
      ],
      [
        git.createTree({
          ...D,
          base_tree: "f".repeat(40),
          tree: [{ path: "a.txt", mode: "100644", type: "blob", content: "a" }],
        }),
        "Invalid tree info",
      ],
      [git.createCommit({ ...D, message: "m", tree: "f".repeat(40), parents: [D1] }), "Tree SHA does not exist"],
      [
        git.createCommit({ ...D, message: "m", tree: base, parents: ["f".repeat(40)] }),
        "Parent SHA does not exist or is not a commit object",
      ],
    ];
    for (const [call, message] of cases) {
      const error = await failure(call);
      expect([error.status, dataOf(error).message]).toEqual([422, message]);
    }
    expect((await failure(git.getCommit({ ...D, commit_sha: "f".repeat(40) }))).status).toBe(404);
    expect(() =>
      gh.seedRepo("acme/x", {
        branches: { main: C0 },
        commits: {
          [C0]: {
            message: "m",
            author: who("Ops", 1),
            parents: [],
            files: [{ filename: "a", status: "removed", additions: 0, deletions: 1, content: "a" }],
          },
        },
      }),
    ).toThrow(/removes a but gives it content/);
  });
});

describe("commit statuses and check runs", () => {
  beforeEach(seedDeployments);
  const RUNNING = 60_000;

  it("setCi runs every check on a new PR's head and judges the files the PR changes", async () => {
    const seen: Map<string, string | null>[] = [];
    gh.setCi("acme/Deployments", [
      {
        name: "lint",
        delayMs: RUNNING,
        verdict: (files) => (
          seen.push(new Map(files)),
          files.get("k8s/app.yaml")?.includes("replicas: 3") ? "succeeded" : "failed"
        ),
      },
      { name: "unit", delayMs: RUNNING, verdict: "failed", failure: "2 tests failed" },
    ]);
    const head = await push("feature/x", { "k8s/app.yaml": "replicas: 3\n", "k8s/old.yaml": null });
    expect(gh.state.repos.get("acme/deployments")?.checkRuns).toEqual([]); // a push alone starts nothing
    await openPr("feature/x");
    const checks = client().rest.checks;
    const running = (await checks.listForRef({ ...D, ref: head })).data;
    expect(running.total_count).toBe(2);
    expect(running.check_runs.map((r) => [r.name, r.status, r.conclusion, r.head_sha, r.app?.slug])).toEqual([
      ["unit", "in_progress", null, head, "github-actions"],
      ["lint", "in_progress", null, head, "github-actions"],
    ]);
    expect(running.check_runs[0]?.pull_requests.map((p) => p.number)).toEqual([1]);

    gh.finishCi();
    const done = (await checks.listForRef({ ...D, ref: "feature/x" })).data.check_runs;
    expect(done.map((r) => [r.name, r.status, r.conclusion, r.output.title])).toEqual([
      ["unit", "completed", "failure", "2 tests failed"],
      ["lint", "completed", "success", null],
    ]);
    expect(seen).toEqual([
      new Map<string, string | null>([
        ["k8s/app.yaml", "replicas: 3\n"],
        ["k8s/old.yaml", null],
      ]),
    ]);

    // A new head runs CI again; the old head keeps its runs.
    const next = await push("feature/x", { "k8s/app.yaml": "replicas: 2\n" });
    expect((await checks.listForRef({ ...D, ref: next })).data.check_runs.map((r) => r.status)).toEqual([
      "in_progress",
      "in_progress",
    ]);
    expect(
      (await checks.listForRef({ ...D, ref: head, check_name: "lint" })).data.check_runs.map((r) => r.conclusion),
    ).toEqual(["success"]);
    const settled = gh.ciSettled();
    gh.finishCi();
    await settled;
    expect(
      (await checks.listForRef({ ...D, ref: next, check_name: "lint" })).data.check_runs.map((r) => r.conclusion),
    ).toEqual(["failure"]);
    expect((await failure(checks.listForRef({ ...D, ref: "nope" }))).status).toBe(422);
  });

  it("ciSettled resolves when the last check completes on its own", async () => {
    gh.setCi("acme/Deployments", [{ name: "quick", delayMs: 30, verdict: "succeeded" }]);
    await push("feature/x", { "a.txt": "a" });
    await openPr("feature/x");
    await gh.ciSettled();
    expect(gh.state.repos.get("acme/deployments")?.checkRuns.map((r) => r.conclusion)).toEqual(["success"]);
  });

  it("commit statuses: latest per context, combined failure > pending > success, pending when there are none", async () => {
    const repos = client().rest.repos;
    const combined = async () => (await repos.getCombinedStatusForRef({ ...D, ref: "main" })).data;
    expect(await combined()).toMatchObject({ state: "pending", total_count: 0, statuses: [], sha: D1 });
    const created = await repos.createCommitStatus({
      ...D,
      sha: D1,
      state: "pending",
      context: "deploy",
      description: "Deploying",
      target_url: "https://ci.acme.test/1",
    });
    expect(created.status).toBe(201);
    expect(created.data).toMatchObject({
      state: "pending",
      context: "deploy",
      description: "Deploying",
      creator: { login: "pr-creator-bot" },
    });
    await repos.createCommitStatus({ ...D, sha: D1, state: "success", context: "lint" });
    expect(await combined()).toMatchObject({ state: "pending", total_count: 2 });
    await repos.createCommitStatus({ ...D, sha: D1, state: "success", context: "deploy" });
    expect(await combined()).toMatchObject({ state: "success", total_count: 2 });
    await repos.createCommitStatus({ ...D, sha: D1, state: "error", context: "lint" });
    const failed = await combined();
    expect(failed.state).toBe("failure");
    expect(failed.statuses.map((s) => [s.context, s.state])).toEqual([
      ["lint", "error"],
      ["deploy", "success"],
    ]);
    const badState = await failure(repos.createCommitStatus({ ...D, sha: D1, state: "done" as "success" }));
    expect(badState.status).toBe(422);
    const badSha = await failure(repos.createCommitStatus({ ...D, sha: "f".repeat(40), state: "success" }));
    expect(dataOf(badSha).message).toBe(`No commit found for SHA: ${"f".repeat(40)}`);
  });
});

describe("merging", () => {
  beforeEach(seedDeployments);

  it("pulls.merge squashes the PR's changes onto the base; the PR reads as merged", async () => {
    await push("feature/x", { "k8s/app.yaml": "replicas: 3\n", "k8s/old.yaml": null }, "feat: three replicas");
    await push("feature/x", { "docs/run.md": "Run.\n" }, "docs: run");
    const pr = await openPr("feature/x", "feat: scale");
    const pulls = client().rest.pulls;
    expect((await pulls.get({ ...D, pull_number: 1 })).data).toMatchObject({
      mergeable: true,
      mergeable_state: "clean",
      merged: false,
      commits: 2,
    });
    const merged = await pulls.merge({ ...D, pull_number: 1, merge_method: "squash", sha: pr.head.sha });
    expect(merged.data).toEqual({
      sha: gh.branchHead("acme/Deployments", "main"),
      merged: true,
      message: "Pull Request successfully merged",
    });
    const commit = (await client().rest.git.getCommit({ ...D, commit_sha: merged.data.sha })).data;
    expect(commit.parents.map((p) => p.sha)).toEqual([D1]);
    expect(commit.message).toBe("feat: scale (#1)\n\n* feat: three replicas\n\n* docs: run");
    expect(gh.fileAt("acme/Deployments", "main", "k8s/app.yaml")).toBe("replicas: 3\n");
    expect(gh.fileAt("acme/Deployments", "main", "k8s/old.yaml")).toBeUndefined();
    expect(gh.fileAt("acme/Deployments", "main", "docs/run.md")).toBe("Run.\n");
    const after = (await pulls.get({ ...D, pull_number: 1 })).data;
    expect(after).toMatchObject({
      state: "closed",
      merged: true,
      merge_commit_sha: merged.data.sha,
      merged_by: { login: "pr-creator-bot" },
      mergeable: null,
      mergeable_state: "unknown",
    });
    expect(after.merged_at).toBe(after.closed_at);
    const again = await failure(pulls.merge({ ...D, pull_number: 1 }));
    expect([again.status, dataOf(again).message]).toEqual([405, "Pull Request is not mergeable"]);
  });

  it("merge_method merge makes a two-parent merge commit; a stale sha is 409; rebase is not emulated (405)", async () => {
    await push("feature/x", { "a.txt": "a\n" });
    const pr = await openPr("feature/x", "feat: a");
    const pulls = client().rest.pulls;
    const stale = await failure(pulls.merge({ ...D, pull_number: 1, sha: D1 }));
    expect([stale.status, dataOf(stale).message]).toEqual([
      409,
      "Head branch was modified. Review and try the merge again.",
    ]);
    const rebase = await failure(pulls.merge({ ...D, pull_number: 1, merge_method: "rebase" }));
    expect([rebase.status, dataOf(rebase).message]).toEqual([405, "Rebase merges are not allowed on this repository."]);
    const merged = await pulls.merge({ ...D, pull_number: 1 });
    const commit = (await client().rest.git.getCommit({ ...D, commit_sha: merged.data.sha })).data;
    expect(commit.parents.map((p) => p.sha)).toEqual([D1, pr.head.sha]);
    expect(commit.message).toBe("Merge pull request #1 from acme/feature/x\n\nfeat: a");
  });

  it("the same file changed on both sides makes the PR dirty and unmergeable", async () => {
    await push("feature/x", { "k8s/app.yaml": "replicas: 3\n" });
    await openPr("feature/x");
    await push("main", { "k8s/app.yaml": "replicas: 5\n" });
    const pulls = client().rest.pulls;
    expect((await pulls.get({ ...D, pull_number: 1 })).data).toMatchObject({
      mergeable: false,
      mergeable_state: "dirty",
    });
    const error = await failure(pulls.merge({ ...D, pull_number: 1 }));
    expect([error.status, dataOf(error).message]).toEqual([405, "Pull Request is not mergeable"]);
    // Changes to different files merge cleanly.
    await push("feature/y", { "b.txt": "b\n" }, "b", "main");
    await push("main", { "c.txt": "c\n" });
    await openPr("feature/y");
    expect((await pulls.get({ ...D, pull_number: 2 })).data).toMatchObject({
      mergeable: true,
      mergeable_state: "clean",
    });
  });

  it("branch protection answers 405 in GitHub's words until approvals and required checks are in", async () => {
    gh.protect("acme/Deployments", "main", { requiredApprovals: 2, requiredChecks: ["ci"] });
    const branch = (await client().rest.repos.getBranch({ ...D, branch: "main" })).data;
    expect(branch).toMatchObject({
      protected: true,
      protection: { enabled: true, required_status_checks: { contexts: ["ci"] } },
    });
    const head = await push("feature/x", { "a.txt": "a\n" });
    await openPr("feature/x");
    const pulls = client().rest.pulls;
    const refused = async () => {
      const error = await failure(pulls.merge({ ...D, pull_number: 1 }));
      expect(error.status).toBe(405);
      expect(dataOf(error).documentation_url).toBe("https://docs.github.com/articles/about-protected-branches");
      return dataOf(error).message;
    };
    expect((await pulls.get({ ...D, pull_number: 1 })).data.mergeable_state).toBe("blocked");
    expect(await refused()).toBe("At least 2 approving reviews is required by reviewers with write access.");
    expect(() => gh.approve("acme/Deployments", 1, "pr-creator-bot")).toThrow(/authors/);
    gh.approve("acme/Deployments", 1, "jane");
    gh.approve("acme/Deployments", 1, "jane");
    expect(await refused()).toBe("At least 2 approving reviews is required by reviewers with write access.");
    gh.approve("acme/Deployments", 1, "bob");
    expect(await refused()).toBe('Required status check "ci" is expected.');
    await client().rest.repos.createCommitStatus({ ...D, sha: head, state: "failure", context: "ci" });
    expect(await refused()).toBe('Required status check "ci" is failing.');
    await client().rest.repos.createCommitStatus({ ...D, sha: head, state: "success", context: "ci" });
    expect((await pulls.get({ ...D, pull_number: 1 })).data.mergeable_state).toBe("clean");
    expect((await pulls.merge({ ...D, pull_number: 1 })).data.merged).toBe(true);
  });
});

describe("GraphQL", () => {
  beforeEach(seedDeployments);
  const ENABLE = `mutation($id: ID!, $method: PullRequestMergeMethod, $head: GitObjectID) {
    enablePullRequestAutoMerge(input: { pullRequestId: $id, mergeMethod: $method, commitHeadline: "Scale (#1)", commitBody: "Three replicas.", expectedHeadOid: $head }) {
      pullRequest { number autoMergeRequest { mergeMethod commitHeadline enabledBy { login } } }
    }
  }`;
  const post = async (query: string, variables: Record<string, unknown> = {}) => {
    const res = await fetch(`${gh.url}/graphql`, {
      method: "POST",
      headers: { authorization: "token test-token", "content-type": "application/json" },
      body: JSON.stringify({ query, variables }),
    });
    expect(res.status).toBe(200);
    return (await res.json()) as {
      data?: Record<string, unknown> | null;
      errors?: { type?: string; path?: unknown[]; message: string }[];
    };
  };

  it("validates every document against GitHub's schema and answers errors without data", async () => {
    const unknownField = await post(`{ repository(owner: "acme", name: "Deployments") { nope } }`);
    expect(unknownField).toEqual({
      errors: [
        {
          locations: [{ line: 1, column: 52 }],
          message: 'Cannot query field "nope" on type "Repository". Did you mean "name"?',
        },
      ],
    });
    const syntax = await post("{ repository(owner: ");
    expect(syntax.data).toBeUndefined();
    expect(syntax.errors?.[0]?.message).toMatch(/^Syntax Error/);
    const missingInput = await post(
      `mutation { enablePullRequestAutoMerge(input: { mergeMethod: SQUASH }) { clientMutationId } }`,
    );
    expect(missingInput.errors?.map((e) => e.message)).toEqual([
      'Field "EnablePullRequestAutoMergeInput.pullRequestId" of required type "ID!" was not provided.',
    ]);
    const badEnum = await post(
      `mutation { enablePullRequestAutoMerge(input: { pullRequestId: "x", mergeMethod: FAST }) { clientMutationId } }`,
    );
    expect(badEnum.errors?.[0]?.message).toContain('Value "FAST" does not exist in "PullRequestMergeMethod" enum.');
    expect(gh.calls("graphql")).toBe(4);
    const viaOctokit = await client()
      .graphql(`{ viewer { login } }`)
      .catch((error: Error) => error);
    expect(viaOctokit).toEqual({ viewer: { login: "pr-creator-bot" } });
    const rejected = await client()
      .graphql(`{ viewer { nope } }`)
      .catch((error: Error) => error);
    expect((rejected as Error).name).toBe("GraphqlResponseError");
  });

  it("reads pull requests by repository and number, or by node id", async () => {
    await push("feature/x", { "a.txt": "a\n" });
    const pr = await openPr("feature/x", "feat: a");
    const byNumber = await client().graphql<{ repository: { pullRequest: Record<string, unknown> } }>(
      `query($owner: String!, $name: String!) { repository(owner: $owner, name: $name) { autoMergeAllowed pullRequest(number: 1) { id number title state merged headRefName baseRefName headRefOid mergeable mergeStateStatus isDraft autoMergeRequest { enabledAt } } } }`,
      { owner: "acme", name: "Deployments" },
    );
    expect(byNumber.repository).toEqual({
      autoMergeAllowed: true,
      pullRequest: {
        id: pr.node_id,
        number: 1,
        title: "feat: a",
        state: "OPEN",
        merged: false,
        headRefName: "feature/x",
        baseRefName: "main",
        headRefOid: pr.head.sha,
        mergeable: "MERGEABLE",
        mergeStateStatus: "CLEAN",
        isDraft: false,
        autoMergeRequest: null,
      },
    });
    const byId = await post(`query($id: ID!) { node(id: $id) { ... on PullRequest { number url } } }`, {
      id: pr.node_id,
    });
    expect(byId).toEqual({ data: { node: { number: 1, url: "https://github.com/acme/Deployments/pull/1" } } });
    const missing = await post(
      `{ repository(owner: "acme", name: "Deployments") { pullRequest(number: 9) { number } } }`,
    );
    expect(missing.errors).toEqual([
      expect.objectContaining({
        type: "NOT_FOUND",
        path: ["repository", "pullRequest"],
        message: "Could not resolve to a PullRequest with the number of 9.",
      }),
    ]);
  });

  it("enablePullRequestAutoMerge refuses like GitHub: clean status, not allowed, moved head, unknown id", async () => {
    await push("feature/x", { "a.txt": "a\n" });
    const pr = await openPr("feature/x");
    const clean = await post(ENABLE, { id: pr.node_id, method: "SQUASH" });
    expect(clean).toEqual({
      data: { enablePullRequestAutoMerge: null },
      errors: [
        {
          type: "UNPROCESSABLE",
          path: ["enablePullRequestAutoMerge"],
          locations: [{ line: 2, column: 5 }],
          message: "Pull request Pull request is in clean status",
        },
      ],
    });
    gh.setCi("acme/Deployments", [{ name: "ci", delayMs: 60_000, verdict: "succeeded" }]);
    await push("feature/x", { "a.txt": "a2\n" });
    const moved = await post(ENABLE, { id: pr.node_id, method: "SQUASH", head: pr.head.sha });
    expect(moved.errors?.map((e) => [e.type, e.message])).toEqual([
      ["UNPROCESSABLE", "Head sha didn't match expected head sha"],
    ]);
    gh.allowAutoMerge("acme/Deployments", false);
    const off = await post(ENABLE, { id: pr.node_id, method: "SQUASH" });
    expect(off.errors?.map((e) => e.message)).toEqual(["Pull request Auto merge is not allowed for this repository"]);
    const unknown = await post(ENABLE, { id: "PR_nope" });
    expect(unknown.errors?.map((e) => [e.type, e.message])).toEqual([
      ["NOT_FOUND", "Could not resolve to a node with the global id of 'PR_nope'"],
    ]);
    expect((await client().rest.pulls.get({ ...D, pull_number: 1 })).data.auto_merge).toBeNull();
  });

  it("auto-merge waits for CI, then merges with the method given; a failed check holds it until a fix passes", async () => {
    gh.setCi("acme/Deployments", [
      {
        name: "ci",
        delayMs: 60_000,
        verdict: (files) => (files.get("k8s/app.yaml")?.includes("broken") ? "failed" : "succeeded"),
      },
    ]);
    const head = await push("feature/x", { "k8s/app.yaml": "replicas: 3\n" });
    const pr = await openPr("feature/x", "feat: scale");
    const enabled = await post(ENABLE, { id: pr.node_id, method: "SQUASH", head });
    expect(enabled).toEqual({
      data: {
        enablePullRequestAutoMerge: {
          pullRequest: {
            number: 1,
            autoMergeRequest: {
              mergeMethod: "SQUASH",
              commitHeadline: "Scale (#1)",
              enabledBy: { login: "pr-creator-bot" },
            },
          },
        },
      },
    });
    const rest = (await client().rest.pulls.get({ ...D, pull_number: 1 })).data;
    expect(rest).toMatchObject({
      state: "open",
      mergeable_state: "unstable",
      auto_merge: {
        merge_method: "squash",
        commit_title: "Scale (#1)",
        commit_message: "Three replicas.",
        enabled_by: { login: "pr-creator-bot" },
      },
    });
    gh.finishCi();
    const merged = (await client().rest.pulls.get({ ...D, pull_number: 1 })).data;
    expect(merged).toMatchObject({
      merged: true,
      auto_merge: null,
      merge_commit_sha: gh.branchHead("acme/Deployments", "main"),
    });
    const commit = (await client().rest.git.getCommit({ ...D, commit_sha: merged.merge_commit_sha! })).data;
    expect([commit.message, commit.parents.length]).toEqual(["Scale (#1)\n\nThree replicas.", 1]);
    expect(gh.fileAt("acme/Deployments", "main", "k8s/app.yaml")).toBe("replicas: 3\n");

    await push("feature/y", { "k8s/app.yaml": "broken\n" }, "break", "main");
    const second = await openPr("feature/y");
    await post(ENABLE, { id: second.node_id, method: "MERGE" });
    gh.finishCi();
    expect((await client().rest.pulls.get({ ...D, pull_number: 2 })).data).toMatchObject({
      state: "open",
      merged: false,
      mergeable_state: "unstable",
      auto_merge: { merge_method: "merge" },
    });
    const fixed = await push("feature/y", { "k8s/app.yaml": "replicas: 4\n" }, "fix");
    expect((await client().rest.pulls.get({ ...D, pull_number: 2 })).data.state).toBe("open");
    gh.finishCi();
    const late = (await client().rest.pulls.get({ ...D, pull_number: 2 })).data;
    expect(late).toMatchObject({ merged: true });
    expect(
      (await client().rest.git.getCommit({ ...D, commit_sha: late.merge_commit_sha! })).data.parents.map((p) => p.sha),
    ).toEqual([merged.merge_commit_sha, fixed]);
  });

  it("revertPullRequest opens a PR undoing a merge; merging it restores the files", async () => {
    await push("feature/x", { "k8s/app.yaml": "replicas: 3\n", "k8s/old.yaml": null, "new.txt": "new\n" }, "feat: x");
    const pr = await openPr("feature/x", "feat: x");
    const REVERT = `mutation($id: ID!, $title: String) { revertPullRequest(input: { pullRequestId: $id, title: $title }) { pullRequest { number state } revertPullRequest { number title body headRefName baseRefName isDraft } } }`;
    const early = await post(REVERT, { id: pr.node_id });
    expect(early.errors?.map((e) => [e.type, e.message])).toEqual([["UNPROCESSABLE", "Pull request is not merged"]]);
    await client().rest.pulls.merge({ ...D, pull_number: 1, merge_method: "squash" });

    const reverted = await post(REVERT, { id: pr.node_id });
    expect(reverted).toEqual({
      data: {
        revertPullRequest: {
          pullRequest: { number: 1, state: "MERGED" },
          revertPullRequest: {
            number: 2,
            title: 'Revert "feat: x"',
            body: "Reverts acme/Deployments#1",
            headRefName: "revert-1-feature/x",
            baseRefName: "main",
            isDraft: false,
          },
        },
      },
    });
    const cmp = (await client().rest.repos.compareCommitsWithBasehead({ ...D, basehead: "main...revert-1-feature/x" }))
      .data;
    expect(cmp.files?.map((f) => [f.filename, f.status])).toEqual([
      ["k8s/app.yaml", "modified"],
      ["k8s/old.yaml", "added"],
      ["new.txt", "removed"],
    ]);
    await client().rest.pulls.merge({ ...D, pull_number: 2, merge_method: "squash" });
    expect(gh.fileAt("acme/Deployments", "main", "k8s/app.yaml")).toBe(APP);
    expect(gh.fileAt("acme/Deployments", "main", "k8s/old.yaml")).toBe(OLD);
    expect(gh.fileAt("acme/Deployments", "main", "new.txt")).toBeUndefined();

    const second = await post(REVERT, { id: pr.node_id, title: "Undo x again" });
    expect(second.data?.revertPullRequest).toMatchObject({
      revertPullRequest: { headRefName: "revert-1-feature/x-1", title: "Undo x again" },
    });
  });
});

describe("conformance of the contents, git, CI and merge routes", () => {
  let description: OpenApiDocument;
  beforeAll(() => {
    description = loadGitHubDescription();
  });
  beforeEach(seedDeployments);

  it("every answer with a body matches its operation's response schema", async () => {
    const seen: { method: string; template: string; status: number; data: unknown }[] = [];
    const octokit = client();
    octokit.hook.after("request", (response, options) => {
      seen.push({ method: options.method, template: options.url, status: response.status, data: response.data });
    });
    octokit.hook.error("request", (error, options) => {
      const response = (error as HttpErrorLike).response;
      if (response)
        seen.push({ method: options.method, template: options.url, status: response.status, data: response.data });
      throw error;
    });
    const attempt = (p: Promise<unknown>) => p.catch(() => undefined);
    const { git, repos, pulls, checks } = octokit.rest;

    gh.setCi("acme/Deployments", [{ name: "ci", delayMs: 60_000, verdict: "succeeded" }]);
    await repos.getContent({ ...D, path: "k8s/app.yaml" });
    await repos.getContent({ ...D, path: "k8s" });
    await attempt(repos.getContent({ ...D, path: "nope" }));
    await git.getRef({ ...D, ref: "heads/main" });
    await attempt(git.getRef({ ...D, ref: "heads/nope" }));
    const base = (await git.getCommit({ ...D, commit_sha: D1 })).data.tree.sha;
    await attempt(git.getCommit({ ...D, commit_sha: "f".repeat(40) }));
    const tree = (
      await git.createTree({
        ...D,
        base_tree: base,
        tree: [{ path: "k8s/app.yaml", mode: "100644", type: "blob", content: "replicas: 3\n" }],
      })
    ).data.sha;
    await attempt(
      git.createTree({ ...D, base_tree: base, tree: [{ path: "nope", mode: "100644", type: "blob", sha: null }] }),
    );
    const commit = (await git.createCommit({ ...D, message: "m", tree, parents: [D1] })).data.sha;
    await attempt(git.createCommit({ ...D, message: "m", tree: "f".repeat(40), parents: [D1] }));
    await git.createRef({ ...D, ref: "refs/heads/feature/x", sha: D1 });
    await attempt(git.createRef({ ...D, ref: "refs/heads/feature/x", sha: D1 }));
    await git.updateRef({ ...D, ref: "heads/feature/x", sha: commit });
    await attempt(git.updateRef({ ...D, ref: "heads/feature/x", sha: D0 }));
    await attempt(git.deleteRef({ ...D, ref: "heads/nope" }));
    const pr = (await pulls.create({ ...D, title: "t", head: "feature/x", base: "main" })).data;
    await checks.listForRef({ ...D, ref: commit });
    await repos.createCommitStatus({ ...D, sha: commit, state: "success", context: "lint" });
    await repos.getCombinedStatusForRef({ ...D, ref: commit });
    await attempt(repos.getCombinedStatusForRef({ ...D, ref: "nope" }));
    await octokit.graphql(
      `mutation($id: ID!) { enablePullRequestAutoMerge(input: { pullRequestId: $id, mergeMethod: SQUASH }) { clientMutationId } }`,
      { id: pr.node_id },
    );
    await pulls.get({ ...D, pull_number: 1 });
    await attempt(pulls.merge({ ...D, pull_number: 1, sha: D1 }));
    gh.protect("acme/Deployments", "main", { requiredApprovals: 1 });
    await attempt(pulls.merge({ ...D, pull_number: 1 }));
    gh.protect("acme/Deployments", "main", {});
    await pulls.merge({ ...D, pull_number: 1, merge_method: "squash" });
    await pulls.get({ ...D, pull_number: 1 });
    await pulls.list({ ...D, state: "all" });
    await git.deleteRef({ ...D, ref: "heads/feature/x" });

    const problems: string[] = [];
    for (const answer of seen.filter(
      (a) => a.status !== 204 && a.template !== "POST /graphql" && a.template !== "/graphql",
    )) {
      const schema = responseSchema(description, answer.method, answer.template, answer.status);
      if (!schema) {
        problems.push(`${answer.method} ${answer.template} ${answer.status}: no schema in the description`);
        continue;
      }
      problems.push(
        ...validate(schema, answer.data).map((p) => `${answer.method} ${answer.template} ${answer.status} ${p}`),
      );
    }
    expect(problems).toEqual([]);
    expect([...new Set(seen.map((a) => `${a.method} ${a.template} ${a.status}`))].sort()).toEqual([
      "DELETE /repos/{owner}/{repo}/git/refs/{ref} 204",
      "DELETE /repos/{owner}/{repo}/git/refs/{ref} 422",
      "GET /repos/{owner}/{repo}/commits/{ref}/check-runs 200",
      "GET /repos/{owner}/{repo}/commits/{ref}/status 200",
      "GET /repos/{owner}/{repo}/commits/{ref}/status 404",
      "GET /repos/{owner}/{repo}/contents/{path} 200",
      "GET /repos/{owner}/{repo}/contents/{path} 404",
      "GET /repos/{owner}/{repo}/git/commits/{commit_sha} 200",
      "GET /repos/{owner}/{repo}/git/commits/{commit_sha} 404",
      "GET /repos/{owner}/{repo}/git/ref/{ref} 200",
      "GET /repos/{owner}/{repo}/git/ref/{ref} 404",
      "GET /repos/{owner}/{repo}/pulls 200",
      "GET /repos/{owner}/{repo}/pulls/{pull_number} 200",
      "PATCH /repos/{owner}/{repo}/git/refs/{ref} 200",
      "PATCH /repos/{owner}/{repo}/git/refs/{ref} 422",
      "POST /graphql 200",
      "POST /repos/{owner}/{repo}/git/commits 201",
      "POST /repos/{owner}/{repo}/git/commits 422",
      "POST /repos/{owner}/{repo}/git/refs 201",
      "POST /repos/{owner}/{repo}/git/refs 422",
      "POST /repos/{owner}/{repo}/git/trees 201",
      "POST /repos/{owner}/{repo}/git/trees 422",
      "POST /repos/{owner}/{repo}/pulls 201",
      "POST /repos/{owner}/{repo}/statuses/{sha} 201",
      "PUT /repos/{owner}/{repo}/pulls/{pull_number}/merge 200",
      "PUT /repos/{owner}/{repo}/pulls/{pull_number}/merge 405",
      "PUT /repos/{owner}/{repo}/pulls/{pull_number}/merge 409",
    ]);
  });
});
