/**
 * Child process for bench/forges.ts: hosts one forge emulator (test/emulators) outside the measured
 * processes, so their CPU time and RSS are the client's alone and the emulator gets its own core.
 * Answers `HostOp` messages over the fork IPC channel.
 */
import { startAzureDevOpsEmulator, type AzureEmulator } from "../test/emulators/azure-devops.js";
import { startGitHubEmulator, type GitHubEmulator } from "../test/emulators/github.js";
import { startStrictProxy, type StrictProxy } from "../test/emulators/strict-proxy.js";
import { HANDLER as HANDLER_TEXT, HANDLER_TESTS as TESTS_TEXT } from "../src/demo/sample-repo.js";
import { REPOS, TOKENS, type Branch, type ForgeKind, type HostOp, type LoggedCall, type PrCheck } from "./shared.js";

const author = { name: "code-committer-agent", email: "cc@agents.local", date: "2025-05-07T19:05:33Z" };
const COMMIT_MESSAGE = "feat(order): implement CreateOrderHandler [trace:ord-8128]";
const HANDLER = "src/Application/Handlers/CreateOrderHandler.cs";
const TESTS = "tests/Order/CreateOrderHandlerTests.cs";
const base = (n: number) => n.toString(16).padStart(40, "c");
const lines = (text: string) => text.replace(/\n$/, "").split("\n");
/**
 * An added file as GitHub lists it in a commit: its line count, its text, and the one-hunk patch GitHub sends
 * for a text file of this size (so, as on GitHub, an added file's text comes with the commit).
 */
const added = (filename: string, text: string) => ({
  filename,
  status: "added" as const,
  additions: lines(text).length,
  deletions: 0,
  content: text,
  patch: `@@ -0,0 +1,${lines(text).length} @@\n${lines(text)
    .map((line) => `+${line}`)
    .join("\n")}`,
});
/** A distinct, valid 40-hex commit id per (seed tag, index). */
const branchSha = (tag: number, i: number) => `${tag.toString(16).padStart(8, "d")}${i.toString(16).padStart(32, "e")}`;

let emu: { forge: "azure-devops"; az: AzureEmulator } | { forge: "github"; gh: GitHubEmulator } | undefined;
/** The strict proxy in front of the emulator, when started with a capacity. */
let proxy: StrictProxy | undefined;

function current() {
  if (!emu) throw new Error("no emulator started");
  return emu;
}

function seedBase(): void {
  const e = current();
  if (e.forge === "azure-devops") {
    e.az.seedRepo(REPOS[e.forge], {
      branches: { main: base(1), dev: base(2) },
      commits: {
        [base(1)]: {
          message: "chore: scaffold",
          author,
          parents: [],
          changes: [{ path: "/README.md", changeType: "add" }],
        },
        [base(2)]: {
          message: "feat(order): add OrderId [trace:ord-8128]",
          author,
          parents: [base(1)],
          changes: [{ path: "/src/Domain/OrderId.cs", changeType: "add" }],
        },
      },
    });
    return;
  }
  e.gh.seedRepo(REPOS[e.forge], {
    default_branch: "main",
    branches: { main: base(1), dev: base(2) },
    commits: {
      [base(1)]: {
        message: "chore: scaffold",
        author,
        parents: [],
        files: [{ filename: "README.md", status: "added", additions: 3, deletions: 0 }],
      },
      [base(2)]: {
        message: "feat(order): add OrderId [trace:ord-8128]",
        author,
        parents: [base(1)],
        files: [{ filename: "src/Domain/OrderId.cs", status: "added", additions: 4, deletions: 0 }],
      },
    },
  });
  e.gh.addUser("TechLeadAgent");
  e.gh.addUser("QAAssistantAgent");
}

async function start(forge: ForgeKind, latencyMs: number): Promise<{ url: string; project?: string }> {
  if (emu) throw new Error("an emulator is already running");
  if (forge === "azure-devops") {
    const az = await startAzureDevOpsEmulator({ token: TOKENS[forge], latencyMs });
    emu = { forge, az };
    az.addIdentity({ displayName: "TechLeadAgent", uniqueName: "techlead@acme.example" });
    az.addIdentity({ displayName: "QA Assistant", uniqueName: "QAAssistantAgent@acme.example" });
    seedBase();
    return { url: az.orgUrl, project: az.project };
  }
  const gh = await startGitHubEmulator({ token: TOKENS[forge], latencyMs });
  emu = { forge, gh };
  seedBase();
  return { url: gh.url };
}

/** `count` feature branches `feature/bench-<tag>-<i>`, each with its own commit off dev. */
function seed(tag: number, count: number): Branch[] {
  const e = current();
  const out = Array.from({ length: count }, (_, i) => ({
    branch: `feature/bench-${tag}-${i}`,
    commit: branchSha(tag, i),
  }));
  if (e.forge === "azure-devops") {
    e.az.seedRepo(REPOS[e.forge], {
      branches: Object.fromEntries(out.map((b) => [b.branch, b.commit])),
      commits: Object.fromEntries(
        out.map((b) => [
          b.commit,
          {
            message: COMMIT_MESSAGE,
            author,
            parents: [base(2)],
            files: { [HANDLER]: HANDLER_TEXT, [TESTS]: TESTS_TEXT },
          },
        ]),
      ),
    });
  } else {
    const repo = e.gh.state.repos.get(REPOS[e.forge].toLowerCase())!;
    for (const b of out) {
      repo.commits.set(b.commit, {
        message: COMMIT_MESSAGE,
        author,
        parents: [base(2)],
        files: [added(HANDLER, HANDLER_TEXT), added(TESTS, TESTS_TEXT)],
      });
      repo.branches.set(b.branch, b.commit);
    }
  }
  return out;
}

function log(): LoggedCall[] {
  const e = current();
  if (e.forge === "azure-devops") {
    return e.az.requests.map((r) => ({
      route: r.route,
      method: r.method,
      at: r.at,
      status: r.status,
      ...(r.route === "discovery" ? { path: r.path } : {}),
    }));
  }
  return e.gh.requests.map((r) => ({ route: r.route, method: r.method, at: r.at, status: r.status }));
}

function check(reviewers: number, labels: string[], branches: string[]): PrCheck {
  const e = current();
  const wanted = new Set(branches);
  const all =
    e.forge === "azure-devops"
      ? e.az.state.pullRequests.map((p) => ({
          branch: p.sourceRefName.replace(/^refs\/heads\//, ""),
          reviewers: p.reviewers.length,
          labels: p.labels.map((l) => l.name),
        }))
      : e.gh.state.repos.get(REPOS[e.forge].toLowerCase())!.pulls.map((p) => ({
          branch: p.head.ref,
          reviewers: p.requested_reviewers.length + p.requested_teams.length,
          labels: p.labels.map((l) => l.name),
        }));
  const prs = all.filter((p) => wanted.has(p.branch));
  const histogram: Record<string, number> = {};
  for (const p of prs) for (const l of p.labels) histogram[l] = (histogram[l] ?? 0) + 1;
  return {
    prs: prs.length,
    complete: prs.filter((p) => p.reviewers === reviewers && labels.every((l) => p.labels.includes(l))).length,
    duplicates: prs.length - new Set(prs.map((p) => p.branch)).size,
    missing: branches.filter((b) => !prs.some((p) => p.branch === b)).length,
    reviewerCounts: [...new Set(prs.map((p) => p.reviewers))],
    labels: histogram,
  };
}

async function answer(msg: HostOp): Promise<unknown> {
  switch (msg.op) {
    case "start": {
      if (msg.capacity === undefined) return start(msg.forge, msg.latencyMs);
      const started = await start(msg.forge, 0);
      proxy = await startStrictProxy({ target: started.url, latencyMs: msg.latencyMs, capacity: msg.capacity });
      return { ...started, url: proxy.url(started.url) };
    }
    case "seed":
      return seed(msg.tag, msg.count);
    case "reset": {
      // Forgets PRs and the request log (GitHub: everything, so the base repo is seeded again).
      const e = current();
      if (e.forge === "azure-devops") e.az.reset();
      else e.gh.reset();
      seedBase();
      return null;
    }
    case "clearLog": {
      const e = current();
      (e.forge === "azure-devops" ? e.az.requests : e.gh.requests).length = 0;
      return null;
    }
    case "log":
      return log();
    case "check":
      return check(msg.reviewers, msg.labels, msg.branches);
    case "stop": {
      const e = emu;
      emu = undefined;
      await proxy?.close();
      proxy = undefined;
      if (e) await (e.forge === "azure-devops" ? e.az.close() : e.gh.close());
      return null;
    }
  }
}

if (process.send) {
  process.on("message", (raw: { id: number; msg: HostOp }) => {
    answer(raw.msg).then(
      (result) => process.send!({ id: raw.id, result }),
      (error: unknown) =>
        process.send!({ id: raw.id, error: error instanceof Error ? (error.stack ?? error.message) : String(error) }),
    );
  });
  process.on("disconnect", () => process.exit(0));
}
