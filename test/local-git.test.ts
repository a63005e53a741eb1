import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ChangeRequest, ChangeSet } from "../src/domain/commit.js";
import { FIXTURE_IDENTITY, createGitRepo, type GitRepo } from "../src/demo/git-fixture.js";
import { createLocalGitSource } from "../src/forges/local-git.js";
import { rejection as failure } from "./helpers.js";

let root: string;
let repoCount = 0;

beforeAll(async () => {
  root = await mkdtemp(path.join(tmpdir(), "local-git-test-"));
});

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

function newRepo(initialBranch?: string): Promise<GitRepo> {
  repoCount += 1;
  return createGitRepo(path.join(root, `repo-${repoCount}`), initialBranch ? { initialBranch } : {});
}

function request(overrides: Partial<ChangeRequest>): ChangeRequest {
  return { repo: "acme/widgets", branch: "main", commit: "", target_branch: "dev", range: "commit", ...overrides };
}

/** The change set with the files' patches taken out; "patches and texts" below checks them. */
async function load(repo: GitRepo, overrides: Partial<ChangeRequest>): Promise<ChangeSet> {
  const set = await createLocalGitSource(repo.path).load(request(overrides));
  return { ...set, files: set.files.map(({ patch: _patch, ...file }) => file) };
}

const lines = (...items: string[]): string => items.map((item) => `${item}\n`).join("");
const numbered = (count: number, prefix = "line"): string =>
  lines(...Array.from({ length: count }, (_, i) => `${prefix} ${i + 1}`));

describe("local git source: single commit", () => {
  it("reports added and modified files with exact line counts and the commit's metadata", async () => {
    const repo = await newRepo();
    await repo.writeFile("src/a.txt", lines("one", "two", "three"));
    const parent = await repo.commit("Initial commit");
    await repo.writeFile("src/a.txt", lines("one", "TWO", "three", "four", "five"));
    await repo.writeFile("src/b.txt", lines("b1", "b2", "b3", "b4"));
    const hash = await repo.commit("Add b and rework a\n\nLonger explanation.\n\nSecond paragraph.", {
      author: { name: "Ada Lovelace", email: "ada@example.org" },
      date: "2024-03-04T05:06:07+02:00",
    });

    const set = await load(repo, { commit: hash });

    expect(set.range).toBe("commit");
    expect(set.base).toBe(parent);
    expect(set.files).toEqual([
      { path: "src/a.txt", change: "modified", additions: 3, deletions: 1, binary: false },
      { path: "src/b.txt", change: "added", additions: 4, deletions: 0, binary: false },
    ]);
    expect(set.additions).toBe(7);
    expect(set.deletions).toBe(1);
    expect(set.commits).toHaveLength(1);
    const [info] = set.commits;
    expect(info).toEqual({
      hash,
      short_hash: expect.any(String),
      subject: "Add b and rework a",
      body: "Longer explanation.\n\nSecond paragraph.",
      author: { name: "Ada Lovelace", email: "ada@example.org" },
      authored_at: "2024-03-04T05:06:07+02:00",
      parents: [parent],
    });
    expect(info?.short_hash.length).toBeGreaterThanOrEqual(4);
    expect(hash.startsWith(info?.short_hash ?? "-")).toBe(true);
  });

  it("reports a deleted file with its removed lines", async () => {
    const repo = await newRepo();
    await repo.writeFile("keep.txt", lines("k"));
    await repo.writeFile("gone/old.txt", numbered(6));
    await repo.commit("Initial commit");
    await repo.remove("gone/old.txt");
    const hash = await repo.commit("Remove old.txt");

    const set = await load(repo, { commit: hash });

    expect(set.files).toEqual([{ path: "gone/old.txt", change: "deleted", additions: 0, deletions: 6, binary: false }]);
    expect(set.deletions).toBe(6);
  });

  it("detects a rename with edits and keeps the old path", async () => {
    const repo = await newRepo();
    await repo.writeFile("lib/util.ts", numbered(20));
    await repo.commit("Initial commit");
    await repo.rename("lib/util.ts", "src/helpers/util.ts");
    await repo.writeFile("src/helpers/util.ts", numbered(20).replace("line 7\n", "line seven\n"));
    const hash = await repo.commit("Move util");

    const set = await load(repo, { commit: hash });

    expect(set.files).toEqual([
      {
        path: "src/helpers/util.ts",
        old_path: "lib/util.ts",
        change: "renamed",
        additions: 1,
        deletions: 1,
        binary: false,
      },
    ]);
  });

  it("marks binary files and counts no lines for them", async () => {
    const repo = await newRepo();
    await repo.writeFile("img/logo.png", Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x00, 0x01, 0x02, 0x00, 0xff]));
    await repo.writeFile("notes.txt", lines("a"));
    await repo.commit("Initial commit");
    await repo.writeFile("img/logo.png", Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x00, 0x07, 0x08, 0x00, 0xfe, 0x00]));
    await repo.writeFile("img/new.bin", Buffer.from([0x00, 0x00, 0x01]));
    await repo.writeFile("notes.txt", lines("a", "b"));
    const hash = await repo.commit("Update logo");

    const set = await load(repo, { commit: hash });

    expect(set.files).toEqual([
      { path: "img/logo.png", change: "modified", additions: 0, deletions: 0, binary: true },
      { path: "img/new.bin", change: "added", additions: 0, deletions: 0, binary: true },
      { path: "notes.txt", change: "modified", additions: 1, deletions: 0, binary: false },
    ]);
    expect(set.additions).toBe(1);
  });

  it("keeps paths with spaces, unicode and tabs exact", async () => {
    const repo = await newRepo();
    await repo.writeFile("docs/plain.md", numbered(5));
    await repo.commit("Initial commit");
    await repo.writeFile("docs/ünïcode file.md", lines("héllo", "wörld"));
    await repo.writeFile("tab\there.txt", lines("t"));
    await repo.rename("docs/plain.md", "docs/日本語 ファイル.md");
    const hash = await repo.commit("Add unusual paths");

    const set = await load(repo, { commit: hash });

    expect(set.files.map((f) => [f.path, f.old_path, f.change, f.additions])).toEqual([
      ["docs/ünïcode file.md", undefined, "added", 2],
      ["docs/日本語 ファイル.md", "docs/plain.md", "renamed", 0],
      ["tab\there.txt", undefined, "added", 1],
    ]);
  });

  it("diffs a merge commit against its first parent", async () => {
    const repo = await newRepo();
    await repo.writeFile("base.txt", lines("base"));
    await repo.commit("Initial commit");
    await repo.checkout("feature", { create: true });
    await repo.writeFile("feature.txt", numbered(3));
    const featureTip = await repo.commit("Feature work");
    await repo.checkout("main");
    await repo.writeFile("main.txt", numbered(2));
    const mainTip = await repo.commit("Main work");
    const merge = await repo.merge("feature", "Merge feature into main");

    const set = await load(repo, { commit: merge });

    expect(set.range).toBe("commit");
    expect(set.base).toBe(mainTip);
    expect(set.commits.map((c) => [c.hash, c.subject, c.parents])).toEqual([
      [merge, "Merge feature into main", [mainTip, featureTip]],
    ]);
    expect(set.files).toEqual([{ path: "feature.txt", change: "added", additions: 3, deletions: 0, binary: false }]);
  });

  it("diffs a root commit against the empty tree", async () => {
    const repo = await newRepo();
    await repo.writeFile("README.md", numbered(4));
    await repo.writeFile("src/index.ts", numbered(2));
    const hash = await repo.commit("Initial commit");

    const set = await load(repo, { commit: hash });

    expect(set.base).toBeNull();
    expect(set.commits[0]?.parents).toEqual([]);
    expect(set.files).toEqual([
      { path: "README.md", change: "added", additions: 4, deletions: 0, binary: false },
      { path: "src/index.ts", change: "added", additions: 2, deletions: 0, binary: false },
    ]);
    expect(set.additions).toBe(6);
  });

  it("diffs a root commit in a SHA-256 repository against that format's empty tree", async () => {
    repoCount += 1;
    const repo = await createGitRepo(path.join(root, `repo-${repoCount}`), { objectFormat: "sha256" });
    await repo.writeFile("README.md", numbered(3));
    const hash = await repo.commit("Initial commit");

    const set = await load(repo, { commit: hash.slice(0, 10) });

    expect(hash).toMatch(/^[0-9a-f]{64}$/);
    expect(set.commits[0]?.hash).toBe(hash);
    expect(set.base).toBeNull();
    expect(set.files).toEqual([{ path: "README.md", change: "added", additions: 3, deletions: 0, binary: false }]);
  });

  it("refuses to treat the boundary commit of a shallow clone as a root commit", async () => {
    const repo = await newRepo();
    await repo.writeFile("a.txt", numbered(3));
    await repo.commit("Initial commit");
    await repo.writeFile("b.txt", lines("b"));
    const tip = await repo.commit("Add b");
    const clone = path.join(root, `shallow-${repoCount}`);
    await repo.git("clone", "--quiet", "--depth", "1", "--branch", "main", `file://${repo.path}`, clone);
    const source = createLocalGitSource(clone);

    const error = await failure(source.load(request({ commit: tip })));

    expect(error.reason).toBe("commit_not_found");
    expect(error.message).toContain("shallow");
  });

  it("returns no files for an empty commit", async () => {
    const repo = await newRepo();
    await repo.writeFile("a.txt", lines("a"));
    const parent = await repo.commit("Initial commit");
    const hash = await repo.commit("Nothing changed", { allowEmpty: true });

    const set = await load(repo, { commit: hash });

    expect(set.base).toBe(parent);
    expect(set.commits.map((c) => c.hash)).toEqual([hash]);
    expect(set.files).toEqual([]);
    expect(set.additions).toBe(0);
    expect(set.deletions).toBe(0);
  });

  it("resolves an abbreviated hash to the full hash", async () => {
    const repo = await newRepo();
    await repo.writeFile("a.txt", lines("a"));
    const hash = await repo.commit("Initial commit");

    const set = await load(repo, { commit: hash.slice(0, 8) });

    expect(hash).toMatch(/^[0-9a-f]{40}$/);
    expect(set.commits[0]?.hash).toBe(hash);
  });
});

describe("local git source: commit messages that are not UTF-8", () => {
  it("decodes latin1 bytes in a commit without an encoding header", async () => {
    const repo = await newRepo();
    await repo.writeFile("a.txt", lines("a"));
    const hash = await repo.commit(Buffer.from("Résumé des changements\n\nCorrigé à la main.\n", "latin1"));
    // The fixture must really have stored latin1 bytes and no encoding header for this test to mean anything.
    const raw = await repo.git("cat-file", "commit", hash);
    expect(raw).not.toMatch(/^encoding /m);
    expect(raw).toContain("R\uFFFDsum\uFFFD des changements");
    expect(await repo.git("rev-parse", "HEAD")).toBe(`${hash}\n`);

    const set = await load(repo, { commit: hash });

    expect(set.commits[0]?.subject).toBe("Résumé des changements");
    expect(set.commits[0]?.body).toBe("Corrigé à la main.");
  });

  it("re-encodes commits that declare an encoding", async () => {
    const repo = await newRepo();
    await repo.writeFile("a.txt", lines("a"));
    const latin1 = await repo.commit(Buffer.from("Résumé\n", "latin1"), { encoding: "ISO-8859-1" });
    await repo.writeFile("a.txt", lines("b"));
    // 0xA4 is "€" in ISO-8859-15 but "¤" in latin1, so only real re-encoding by git gives the right text.
    const latin9 = await repo.commit(Buffer.from([0x50, 0x72, 0x69, 0x78, 0x20, 0x35, 0x20, 0xa4, 0x0a]), {
      encoding: "ISO-8859-15",
    });
    expect(await repo.git("cat-file", "commit", latin1)).toMatch(/^encoding ISO-8859-1$/m);

    const first = await load(repo, { commit: latin1 });
    const second = await load(repo, { commit: latin9 });

    expect(first.commits[0]?.subject).toBe("Résumé");
    expect(second.commits[0]?.subject).toBe("Prix 5 €");
  });
});

describe("local git source: ranges", () => {
  /** dev: init, shared; feature (off shared): three commits; dev then moves on with a commit the PR must not include. */
  async function featureRepo(): Promise<{ repo: GitRepo; shared: string; feature: string[] }> {
    const repo = await newRepo("dev");
    await repo.writeFile("app.txt", numbered(10));
    await repo.commit("Initial commit");
    await repo.writeFile("shared.txt", lines("shared"));
    const shared = await repo.commit("Shared work");
    await repo.checkout("feature/login", { create: true });
    await repo.writeFile("login.ts", numbered(5));
    const c1 = await repo.commit("Add login");
    await repo.writeFile("login.ts", numbered(5).replace("line 2\n", "line two\n"));
    await repo.writeFile("app.txt", numbered(12));
    const c2 = await repo.commit("Wire login into app");
    await repo.writeFile("docs/login.md", lines("# Login"));
    const c3 = await repo.commit("Document login");
    await repo.checkout("dev");
    await repo.writeFile("dev-only.txt", lines("not in the PR"));
    await repo.commit("Unrelated dev work");
    return { repo, shared, feature: [c1, c2, c3] };
  }

  it("merge-base: lists the branch's commits oldest first and diffs against the merge base", async () => {
    const { repo, shared, feature } = await featureRepo();

    const set = await load(repo, {
      branch: "feature/login",
      commit: feature[2],
      target_branch: "dev",
      range: "merge-base",
    });

    expect(set.range).toBe("merge-base");
    expect(set.base).toBe(shared);
    expect(set.commits.map((c) => c.hash)).toEqual(feature);
    expect(set.commits.map((c) => c.subject)).toEqual(["Add login", "Wire login into app", "Document login"]);
    expect(set.files).toEqual([
      { path: "app.txt", change: "modified", additions: 2, deletions: 0, binary: false },
      { path: "docs/login.md", change: "added", additions: 1, deletions: 0, binary: false },
      { path: "login.ts", change: "added", additions: 5, deletions: 0, binary: false },
    ]);
    expect(set.additions).toBe(8);
  });

  it("merge-base: a commit in the middle of the branch ends the range", async () => {
    const { repo, shared, feature } = await featureRepo();

    const set = await load(repo, {
      branch: "feature/login",
      commit: feature[1],
      target_branch: "dev",
      range: "merge-base",
    });

    expect(set.base).toBe(shared);
    expect(set.commits.map((c) => c.hash)).toEqual(feature.slice(0, 2));
  });

  it("merge-base: falls back to the single commit when the commit is already in the target", async () => {
    const { repo, shared } = await featureRepo();

    const set = await load(repo, { branch: "dev", commit: shared, target_branch: "dev", range: "merge-base" });

    expect(set.range).toBe("commit");
    expect(set.commits.map((c) => c.hash)).toEqual([shared]);
    expect(set.files.map((f) => f.path)).toEqual(["shared.txt"]);
  });

  it("merge-base: a missing target branch is branch_not_found naming the target", async () => {
    const { repo, feature } = await featureRepo();

    const error = await failure(
      load(repo, { branch: "feature/login", commit: feature[2], target_branch: "release", range: "merge-base" }),
    );

    expect(error.reason).toBe("branch_not_found");
    expect(error.message).toContain('"release"');
  });

  it("auto: uses the merge base when the target exists and the commit alone when it does not", async () => {
    const { repo, shared, feature } = await featureRepo();

    const withTarget = await load(repo, {
      branch: "feature/login",
      commit: feature[2],
      target_branch: "dev",
      range: "auto",
    });
    const withoutTarget = await load(repo, {
      branch: "feature/login",
      commit: feature[2],
      target_branch: "release",
      range: "auto",
    });

    expect(withTarget.range).toBe("merge-base");
    expect(withTarget.base).toBe(shared);
    expect(withTarget.commits.map((c) => c.hash)).toEqual(feature);
    expect(withoutTarget.range).toBe("commit");
    expect(withoutTarget.base).toBe(feature[1]);
    expect(withoutTarget.commits.map((c) => c.hash)).toEqual([feature[2]]);
    expect(withoutTarget.files.map((f) => f.path)).toEqual(["docs/login.md"]);
  });

  it("accepts branches that exist only as origin remote-tracking refs", async () => {
    const { repo, shared, feature } = await featureRepo();
    await repo.git("update-ref", "refs/remotes/origin/feature/login", feature[2] ?? "");
    await repo.git("update-ref", "refs/remotes/origin/main", shared);
    await repo.git("branch", "-D", "feature/login");

    const set = await load(repo, { branch: "feature/login", commit: feature[2], target_branch: "main", range: "auto" });

    expect(set.range).toBe("merge-base");
    expect(set.base).toBe(shared);
    expect(set.commits.map((c) => c.hash)).toEqual(feature);
  });
});

describe("local git source: errors", () => {
  let repo: GitRepo;
  let first: string;
  let onFeature: string;

  beforeAll(async () => {
    repo = await newRepo();
    await repo.writeFile("a.txt", lines("a"));
    first = await repo.commit("Initial commit");
    await repo.checkout("feature", { create: true });
    await repo.writeFile("b.txt", lines("b"));
    onFeature = await repo.commit("Feature only");
    await repo.checkout("main");
  });

  it("an unknown commit is commit_not_found naming the hash and the repository", async () => {
    const missing = "0123456789abcdef0123456789abcdef01234567";

    const error = await failure(load(repo, { commit: missing }));

    expect(error.reason).toBe("commit_not_found");
    expect(error.message).toContain(missing);
    expect(error.message).toContain(repo.path);
    expect(error.hint).toBeTruthy();
  });

  it("a path that is not a git repository is repo_not_found", async () => {
    const plain = path.join(root, "plain-directory");
    await mkdir(plain);

    const notRepo = await failure(createLocalGitSource(plain).load(request({ commit: first })));
    const missingDir = await failure(
      createLocalGitSource(path.join(root, "does-not-exist")).load(request({ commit: first })),
    );

    expect(notRepo.reason).toBe("repo_not_found");
    expect(notRepo.message).toContain(plain);
    expect(notRepo.hint).toContain("--repo-path");
    expect(missingDir.reason).toBe("repo_not_found");
  });

  it("a git binary that cannot be started is internal_error", async () => {
    const error = await failure(
      createLocalGitSource(repo.path, { gitBinary: path.join(root, "no-git-here") }).load(request({ commit: first })),
    );

    expect(error.reason).toBe("internal_error");
  });

  it("a missing source branch is branch_not_found", async () => {
    const error = await failure(load(repo, { branch: "no-such-branch", commit: first }));

    expect(error.reason).toBe("branch_not_found");
    expect(error.message).toContain("no-such-branch");
  });

  it("a commit that is not reachable from the branch is commit_not_on_branch", async () => {
    const error = await failure(load(repo, { branch: "main", commit: onFeature }));
    const ok = await load(repo, { branch: "feature", commit: onFeature });

    expect(error.reason).toBe("commit_not_on_branch");
    expect(error.message).toContain(onFeature);
    expect(ok.commits[0]?.hash).toBe(onFeature);
  });

  it("the identity defaults to the fixture's agent identity", async () => {
    const set = await load(repo, { commit: first });

    expect(set.commits[0]?.author).toEqual(FIXTURE_IDENTITY);
  });
});

describe("local git source: large commits", () => {
  it("reports every file of a 10,000-file commit", async () => {
    const repo = await newRepo();
    await repo.writeFile("README.md", lines("big"));
    await repo.commit("Initial commit");
    const count = 10_000;
    let expectedAdditions = 0;
    // Plain fs writes in batches; the fixture's commit stages them with `git add -A`.
    for (let dir = 0; dir < 100; dir += 1) await mkdir(path.join(repo.path, "gen", `d${dir}`), { recursive: true });
    for (let start = 0; start < count; start += 500) {
      const batch = Array.from({ length: Math.min(500, count - start) }, (_, k) => start + k);
      await Promise.all(
        batch.map((i) => {
          const lineCount = (i % 7) + 1;
          expectedAdditions += lineCount;
          return writeFile(path.join(repo.path, "gen", `d${i % 100}`, `file ${i}.txt`), numbered(lineCount, `f${i}`));
        }),
      );
    }
    const hash = await repo.commit("Generate 10,000 files");

    const set = await load(repo, { commit: hash });

    expect(set.files).toHaveLength(count);
    expect(new Set(set.files.map((f) => f.path)).size).toBe(count);
    expect(set.files.every((f) => f.change === "added" && !f.binary && f.deletions === 0)).toBe(true);
    expect(set.additions).toBe(expectedAdditions);
    expect(set.files.find((f) => f.path === "gen/d42/file 9942.txt")?.additions).toBe((9942 % 7) + 1);
  }, 60_000);
});

describe("local git source: reading files at a commit", () => {
  it("returns a file's text as it was at the commit, and null for a missing file or a directory", async () => {
    const repo = await newRepo();
    await repo.writeFile(".pr-template.md", "## Summary\nfirst ${trace_id}\n");
    await repo.writeFile("docs/guide.md", "guide\n");
    const first = await repo.commit("Add template");
    await repo.writeFile(".pr-template.md", "## Summary\nsecond\n");
    const second = await repo.commit("Change template");
    const source = createLocalGitSource(repo.path);

    expect(await source.readFile!(first, ".pr-template.md")).toBe("## Summary\nfirst ${trace_id}\n");
    expect(await source.readFile!(second, ".pr-template.md")).toBe("## Summary\nsecond\n");
    expect(await source.readFile!(second, "missing.md")).toBeNull();
    expect(await source.readFile!(second, "docs")).toBeNull();
    expect(await source.readFile!(second, "--help")).toBeNull();
  });
});

describe("local git source: patches and texts for the change digest", () => {
  it("gives each text file its hunks from @@ on, and none to binary files, pure renames or empty files", async () => {
    const repo = await newRepo();
    await repo.writeFile("src/a.txt", lines("one", "two", "three"));
    await repo.writeFile("lib/util.ts", numbered(20));
    await repo.writeFile("same.txt", numbered(5));
    await repo.writeFile("img/logo.png", Buffer.from([0x89, 0x50, 0x00, 0x01]));
    await repo.commit("Initial commit");
    await repo.writeFile("src/a.txt", lines("one", "TWO", "three"));
    await repo.rename("lib/util.ts", "src/util.ts");
    await repo.writeFile("src/util.ts", numbered(20).replace("line 7\n", "line seven\n"));
    await repo.rename("same.txt", "moved/same.txt");
    await repo.writeFile("img/logo.png", Buffer.from([0x89, 0x50, 0x00, 0x02]));
    await repo.writeFile("empty.txt", "");
    await repo.writeFile("with tab\tand ü.txt", lines("x"));
    const hash = await repo.commit("Edit, move, add");

    const set = await createLocalGitSource(repo.path).load(request({ commit: hash }));
    const patch = (p: string) => set.files.find((f) => f.path === p)?.patch;

    expect(patch("src/a.txt")).toBe("@@ -1,3 +1,3 @@\n one\n-two\n+TWO\n three");
    expect(patch("src/util.ts")).toBe(
      "@@ -4,7 +4,7 @@ line 3\n line 4\n line 5\n line 6\n-line 7\n+line seven\n line 8\n line 9\n line 10",
    );
    expect(patch("with tab\tand ü.txt")).toBe("@@ -0,0 +1 @@\n+x");
    expect(patch("moved/same.txt")).toBeUndefined();
    expect(patch("img/logo.png")).toBeUndefined();
    expect(patch("empty.txt")).toBeUndefined();
    expect(set.files.find((f) => f.path === "moved/same.txt")?.change).toBe("renamed");
  });

  it("keeps a file's missing final newline in its patch, and patches a root commit and a deletion", async () => {
    const repo = await newRepo();
    await repo.writeFile("a.txt", "no newline");
    await repo.writeFile("gone.txt", lines("bye"));
    const root = await repo.commit("Initial commit");
    await repo.remove("gone.txt");
    const next = await repo.commit("Remove gone");
    const source = createLocalGitSource(repo.path);

    const first = await source.load(request({ commit: root }));
    const second = await source.load(request({ commit: next }));

    expect(first.files.find((f) => f.path === "a.txt")?.patch).toBe(
      "@@ -0,0 +1 @@\n+no newline\n\\ No newline at end of file",
    );
    expect(second.files).toEqual([
      { path: "gone.txt", change: "deleted", additions: 0, deletions: 1, binary: false, patch: "@@ -1 +0,0 @@\n-bye" },
    ]);
  });

  it("reads texts at the base and the head: null on the side where a file is absent, binary files skipped", async () => {
    const repo = await newRepo();
    await repo.writeFile("lib/util.ts", numbered(3));
    await repo.writeFile("gone.txt", lines("old"));
    await repo.writeFile("keep.txt", lines("keep"));
    await repo.writeFile("logo.png", Buffer.from([0x89, 0x50, 0x00, 0x01]));
    await repo.writeFile("name with space .txt", lines("before"));
    const base = await repo.commit("Initial commit");
    await repo.rename("lib/util.ts", "src/util.ts");
    await repo.writeFile("src/util.ts", numbered(3).replace("line 2", "line two"));
    await repo.remove("gone.txt");
    await repo.writeFile("new.txt", lines("fresh", "ünïcode"));
    await repo.writeFile("logo.png", Buffer.from([0x89, 0x50, 0x00, 0x02]));
    await repo.writeFile("name with space .txt", lines("after"));
    const head = await repo.commit("Move util, drop gone, add new");
    const source = createLocalGitSource(repo.path);
    const set = await source.load(request({ commit: head }));

    const texts = await source.readTexts!(set, [
      "src/util.ts",
      "gone.txt",
      "new.txt",
      "logo.png",
      "name with space .txt",
      "keep.txt",
      "never/was.txt",
    ]);

    expect(set.base).toBe(base);
    expect(Object.fromEntries(texts)).toEqual({
      "src/util.ts": { before: numbered(3), after: numbered(3).replace("line 2", "line two") },
      "gone.txt": { before: lines("old"), after: null },
      "new.txt": { before: null, after: lines("fresh", "ünïcode") },
      "logo.png": { before: null, after: null },
      "name with space .txt": { before: lines("before"), after: lines("after") },
      // Not in the change: read on both sides all the same.
      "keep.txt": { before: lines("keep"), after: lines("keep") },
    });
  });

  it("reads a root commit's texts with nothing before, and a merge-base range's at the merge base", async () => {
    const repo = await newRepo("dev");
    await repo.writeFile("app.txt", lines("v1"));
    const root = await repo.commit("Initial commit");
    await repo.checkout("feature", { create: true });
    await repo.writeFile("app.txt", lines("v2"));
    await repo.commit("Second");
    await repo.writeFile("app.txt", lines("v3"));
    const tip = await repo.commit("Third");
    const source = createLocalGitSource(repo.path);

    const rootSet = await source.load(request({ branch: "dev", commit: root }));
    const range = await source.load(request({ branch: "feature", commit: tip, range: "merge-base" }));

    expect(rootSet.base).toBeNull();
    expect(Object.fromEntries(await source.readTexts!(rootSet, ["app.txt"]))).toEqual({
      "app.txt": { before: null, after: lines("v1") },
    });
    expect(range.base).toBe(root);
    expect(Object.fromEntries(await source.readTexts!(range, ["app.txt"]))).toEqual({
      "app.txt": { before: lines("v1"), after: lines("v3") },
    });
    expect((await source.readTexts!(range, [])).size).toBe(0);
  });

  it("reads texts in a SHA-256 repository", async () => {
    repoCount += 1;
    const sha = await createGitRepo(path.join(root, `repo-${repoCount}`), { objectFormat: "sha256" });
    await sha.writeFile("a.txt", lines("a"));
    const head = await sha.commit("Initial commit");
    await sha.writeFile("a.txt", lines("a", "b"));
    const next = await sha.commit("Second");
    const source = createLocalGitSource(sha.path);

    const set = await source.load(request({ commit: next }));

    expect(set.base).toBe(head);
    expect(head).toHaveLength(64);
    expect(set.files[0]?.patch).toBe("@@ -1 +1,2 @@\n a\n+b");
    expect(Object.fromEntries(await source.readTexts!(set, ["a.txt"]))).toEqual({
      "a.txt": { before: lines("a"), after: lines("a", "b") },
    });
  });
});

describe("local git source: git processes per PR", () => {
  /** A git that logs each call's arguments before running the real one. */
  async function loggingGit(): Promise<{ binary: string; calls: () => Promise<string[]> }> {
    const dir = await mkdtemp(path.join(root, "git-log-"));
    const log = path.join(dir, "calls.log");
    const binary = path.join(dir, "git");
    await writeFile(log, "");
    await writeFile(binary, `#!/bin/sh\nprintf '%s\\n' "$*" >> '${log}'\nexec git "$@"\n`);
    await chmod(binary, 0o755);
    return {
      binary,
      calls: async () => (await readFile(log, "utf8")).split("\n").filter((line) => line !== ""),
    };
  }

  /** The git command of each logged call (its first word that is not an option or a config value). */
  const commandsOf = (calls: string[]) =>
    calls.map((call) => call.split(" ").find((w) => /^[a-z][a-z-]+$/.test(w) && w !== "core.quotePath=false"));

  it("a PR costs at most two git processes once the source is warm, none for one commit on its base; one cat-file --batch and one diff-tree --stdin serve every PR", async () => {
    const repo = await newRepo("dev");
    await repo.writeFile("app.txt", numbered(10));
    await repo.commit("Initial commit");
    await repo.checkout("feature/x", { create: true });
    await repo.writeFile("app.txt", numbered(12));
    await repo.commit("One");
    await repo.writeFile("b.txt", lines("b"));
    await repo.remove("app.txt");
    const tip = await repo.commit("Two");
    await repo.checkout("feature/y", { create: true });
    await repo.writeFile("c.txt", lines("c"));
    const other = await repo.commit("Three");
    await repo.checkout("dev");
    await repo.checkout("feature/z", { create: true });
    await repo.writeFile("z.txt", lines("z"));
    const onDev = await repo.commit("Four");

    const logged = await loggingGit();
    const source = createLocalGitSource(repo.path, { gitBinary: logged.binary });
    const pr = async (branch: string, commit: string, range: ChangeRequest["range"]) => {
      const before = (await logged.calls()).length;
      const set = await source.load(request({ branch, commit, target_branch: "dev", range }));
      await source.readTexts!(
        set,
        set.files.map((f) => f.path),
      );
      return { set, commands: commandsOf((await logged.calls()).slice(before)).sort() };
    };

    // The first PR also checks the repository and starts the batch reader; two commits: log and diff.
    const first = await pr("feature/x", tip, "auto");
    expect(first.set.range).toBe("merge-base");
    expect(first.set.commits.map((c) => c.subject)).toEqual(["One", "Two"]);
    expect(first.commands).toEqual(["cat-file", "diff", "log", "rev-parse"]);
    // A commit whose base is not its parent (feature/y left dev two commits ago): log and diff.
    expect((await pr("feature/y", other, "merge-base")).commands).toEqual(["diff", "log"]);
    // One commit against its parent: the first such PR starts diff-tree --stdin, later ones start nothing.
    expect((await pr("feature/x", tip, "commit")).commands).toEqual(["diff-tree"]);
    expect((await pr("feature/y", other, "commit")).commands).toEqual([]);
    const z = await pr("feature/z", onDev, "auto");
    expect(z.commands).toEqual([]);
    expect([z.set.range, z.set.base, z.set.commits.map((c) => c.subject), z.set.files.map((f) => f.path)]).toEqual([
      "merge-base",
      (await repo.git("rev-parse", "dev")).trim(),
      ["Four"],
      ["z.txt"],
    ]);
    expect((await pr("feature/y", other, "auto")).commands).toEqual(["diff", "log"]);
    const all = commandsOf(await logged.calls());
    expect([all.filter((c) => c === "cat-file"), all.filter((c) => c === "diff-tree")]).toEqual([
      ["cat-file"],
      ["diff-tree"],
    ]);
  });

  it("reads a commit on its base through diff-tree exactly as log and diff read it", async () => {
    const repo = await newRepo("dev");
    await repo.writeFile("app.txt", numbered(40));
    await repo.writeFile("old-name.txt", lines("rename me, please, I am long enough to be recognised"));
    await repo.writeFile("gone.txt", lines("gone"));
    await repo.writeFile("bin.dat", Buffer.from([0, 1, 2, 3, 0, 255]));
    await repo.commit("Initial commit");
    await repo.checkout("feature/x", { create: true });
    await repo.writeFile("app.txt", numbered(41).replace("line 7", "line seven"));
    await repo.rename("old-name.txt", "new-name.txt");
    await repo.writeFile("bin.dat", Buffer.from([9, 0, 9]));
    await repo.writeFile("ünïcode path.txt", lines("u"));
    await repo.remove("gone.txt");
    // A message that looks like the diff that follows it must stay the message.
    const commits = [await repo.commit("feat: many kinds of change\n\nBody line\n\n:000000 100644 0000000 c650488 A")];
    commits.push(await repo.commit("chore: empty", { allowEmpty: true }));
    await repo.writeFile("latin.txt", lines("l"));
    commits.push(await repo.commit(Buffer.from("fix: caf\xe9 cr\xe8me\n", "latin1"), { encoding: "ISO-8859-1" }));
    await repo.writeFile("latin.txt", lines("m"));
    commits.push(await repo.commit(Buffer.from("fix: na\xefve bytes\n", "latin1")));
    const fast = createLocalGitSource(repo.path);
    const slow = createLocalGitSource(repo.path, { diffTree: false });
    for (const commit of commits) {
      const ask = request({ branch: "feature/x", commit, target_branch: "dev", range: "commit" });
      expect(await fast.load(ask), commit).toEqual(await slow.load(ask));
    }
    // The first commit on dev's tip, through the merge-base range.
    await repo.checkout("dev");
    await repo.checkout("feature/y", { create: true });
    await repo.writeFile("app.txt", numbered(39));
    const onDev = await repo.commit("feat: on dev's tip");
    const ask = request({ branch: "feature/y", commit: onDev, target_branch: "dev", range: "auto" });
    expect(await fast.load(ask)).toEqual(await slow.load(ask));
    expect((await fast.load(ask)).range).toBe("merge-base");
  });

  it("a commit behind its branch's tip costs one more process, to check that the branch holds it", async () => {
    const repo = await newRepo("dev");
    await repo.writeFile("app.txt", numbered(10));
    await repo.commit("Initial commit");
    await repo.checkout("feature/x", { create: true });
    await repo.writeFile("app.txt", numbered(12));
    const middle = await repo.commit("One");
    await repo.writeFile("b.txt", lines("b"));
    await repo.commit("Two");
    const logged = await loggingGit();
    const source = createLocalGitSource(repo.path, { gitBinary: logged.binary });
    await source.load(request({ branch: "feature/x", commit: middle, target_branch: "dev", range: "commit" }));
    const before = (await logged.calls()).length;

    const set = await source.load(
      request({ branch: "feature/x", commit: middle, target_branch: "dev", range: "auto" }),
    );

    expect(set.commits.map((c) => c.subject)).toEqual(["One"]);
    // One commit on dev: diff-tree --stdin (started by the first load) serves it.
    expect(commandsOf((await logged.calls()).slice(before)).sort()).toEqual(["for-each-ref"]);
  });

  it("sees commits and branches made after its batch reader started", async () => {
    const repo = await newRepo("dev");
    await repo.writeFile("app.txt", numbered(10));
    await repo.commit("Initial commit");
    await repo.checkout("feature/x", { create: true });
    await repo.writeFile("app.txt", numbered(11));
    const one = await repo.commit("One");
    const source = createLocalGitSource(repo.path);
    await source.load(request({ branch: "feature/x", commit: one, range: "commit" }));
    await repo.checkout("feature/later", { create: true });
    await repo.writeFile("late.txt", lines("late"));
    const late = await repo.commit("Late");

    const set = await source.load(request({ branch: "feature/later", commit: late.slice(0, 7), range: "merge-base" }));

    expect(set.commits.map((c) => c.hash)).toEqual([one, late]);
    expect(set.files.map((f) => f.path).sort()).toEqual(["app.txt", "late.txt"]);
  });
});
