import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createAgent } from "../../src/agent/create-agent.js";
import { digestRun, holdDigest, startDigest, takeDigest, type DigestOutcome } from "../../src/agent/digest-change.js";
import type { AgentStateType } from "../../src/agent/state.js";
import type { CommitSource, FileTexts } from "../../src/domain/commit.js";
import { buildDigest } from "../../src/digest/build-digest.js";
import { loadGrammars, type Grammars } from "../../src/digest/grammars.js";
import { createParsePool, digestChange, type ParsePool } from "../../src/digest/index.js";
import { CODE_LANGUAGES } from "../../src/digest/languages.js";
import { buildSampleRepo } from "../../src/demo/sample-repo.js";
import { PolicySchema } from "../../src/domain/policy.js";
import { createLocalGitSource } from "../../src/forges/local-git.js";
import { changedTexts, changeSet, commit, makePolicy } from "./builders.js";

const policy = makePolicy();
let grammars: Grammars;
let pool: ParsePool;

beforeAll(async () => {
  grammars = await loadGrammars(CODE_LANGUAGES);
  pool = createParsePool(2);
});
afterAll(async () => {
  await pool.close();
});

/** A commit of the given files' before and after texts, with patches as a forge gives them. */
function step(paths: Record<string, [string | null, string | null]>) {
  const { files, texts } = changedTexts(paths);
  return { changes: changeSet([commit("feat: x")], files), texts };
}

const members = fc.array(fc.constantFrom("Total", "Cancel", "Apply", "Refund", "Ship"), { maxLength: 5 });
const cs = (names: string[], body: number) =>
  `namespace Shop;\n\npublic class Order\n{\n${names.map((m) => `    public int ${m}() { return ${body}; }\n`).join("\n")}}\n`;
const ts = (names: string[], body: number) =>
  names.map((m) => `export function ${m.toLowerCase()}() {\n  return ${body};\n}\n`).join("\n");
const py = (names: string[], body: number) =>
  names.map((m) => `def ${m.toLowerCase()}():\n    return ${body}\n`).join("\n") || "x = 1\n";
const version = fc.record({ names: members, body: fc.integer({ min: 0, max: 2 }) });

describe("the parse pool", () => {
  it("gives the digest a full read on this thread gives, through a pipeline whose workers keep their trees", async () => {
    // Each commit edits the previous one's afters, so from the second on the workers' caches are warm.
    await fc.assert(
      fc.asyncProperty(fc.array(version, { minLength: 2, maxLength: 4 }), async (versions) => {
        for (let i = 1; i < versions.length; i++) {
          const [a, b] = [versions[i - 1]!, versions[i]!];
          const s = step({
            "src/Order.cs": [cs(a.names, a.body), cs(b.names, b.body)],
            "web/order.ts": [ts(a.names, a.body), ts(b.names, b.body)],
            "tools/order.py": [py(a.names, a.body), py(b.names, b.body)],
            "config/app.yaml": [`total: ${a.body}\n`, `total: ${b.body}\n`],
          });
          const full = buildDigest({ ...s, policy, grammars });
          expect(await digestChange(s.changes, s.texts, policy, { pool })).toEqual(full);
        }
      }),
      { numRuns: 25 },
    );
  });

  it("a grammar that cannot be found leaves its files without symbols, with the reason", async () => {
    const s = step({ "src/Order.cs": [cs(["Total"], 1), cs(["Total", "Apply"], 1)] });
    const digest = await digestChange(s.changes, s.texts, policy, {
      pool,
      locate: () => "/nonexistent/tree-sitter-c-sharp.wasm",
    });
    expect(digest.files[0]!.symbols).toBeNull();
    expect(digest.files[0]!.note).toMatch(/^no csharp grammar: /);
  });

  it("settles every file when the pool closes under it, and a closed pool's next digest starts new workers", async () => {
    const own = createParsePool(1);
    const s = step({ "src/Order.cs": [cs(["Total"], 1), cs(["Total", "Apply"], 1)] });
    const pending = digestChange(s.changes, s.texts, policy, { pool: own });
    await own.close();
    const digest = await pending;
    expect(digest.files[0]!.note).toBe("not parsed: the parse pool closed");
    expect((await digestChange(s.changes, s.texts, policy, { pool: own })).files[0]!.symbols?.added).toEqual([
      { name: "Order.Apply", kind: "method", exported: true },
    ]);
    await own.close();
  });
});

describe("a pool whose workers cannot start", () => {
  it("parses on this thread instead, the same digest, and the run is told why", async () => {
    const broken = createParsePool(1, undefined, new URL("./no-such-parse-worker.js", import.meta.url));
    try {
      const s = step({ "src/Order.cs": [cs(["Total"], 1), cs(["Total", "Apply"], 1)] });
      const source: CommitSource = {
        load: () => Promise.resolve(s.changes),
        readTexts: () => Promise.resolve(s.texts),
      };
      const outcome = await startDigest(source, s.changes, policy, { pool: broken }).outcome;
      expect(outcome.digest).toEqual(buildDigest({ ...s, policy, grammars }));
      expect(broken.unavailable).toMatch(/^failed: /);
      expect(outcome.warnings).toEqual([
        expect.stringMatching(
          /^The parse workers could not start \(failed: .*\); the change digest was parsed on the main thread\.$/,
        ),
      ]);
      // Later digests go straight to this thread.
      expect((await digestChange(s.changes, s.texts, policy, { pool: broken })).files[0]!.symbols).not.toBeNull();
    } finally {
      await broken.close();
    }
  });
});

describe("parsing on the main thread (digest.parse_workers: 0)", () => {
  it("parses one file per turn of the event loop, so other work is not held up for the whole digest", async () => {
    const paths: Record<string, [string, string]> = {};
    for (let i = 0; i < 6; i++) paths[`src/Order${i}.cs`] = [cs(["Total"], i), cs(["Total", "Apply"], i)];
    const s = step(paths);
    let turns = 0;
    let done = false;
    const spin = () => {
      turns++;
      if (!done) setImmediate(spin);
    };
    setImmediate(spin);
    const digest = await digestChange(s.changes, s.texts, policy);
    done = true;
    expect(digest).toEqual(buildDigest({ ...s, policy, grammars }));
    expect(turns).toBeGreaterThanOrEqual(5);
  });
});

describe("the digest between gather and plan_pr", () => {
  const s = step({ "src/Order.cs": [cs(["Total"], 1), cs(["Total", "Apply"], 1)] });

  it("counts lines from the texts before the parse ends, for a source that gives none", async () => {
    const uncounted = { ...s.changes, line_counts: "unavailable" as const, additions: 0, deletions: 0 };
    let release!: () => void;
    const parsed = new Promise<void>((resolve) => (release = resolve));
    const held: ParsePool = {
      size: 1,
      parse: async (job, grammar, route) => {
        await parsed;
        return pool.parse(job, grammar, route);
      },
      warm: () => {},
      close: () => Promise.resolve(),
    };
    const source: CommitSource = {
      load: () => Promise.resolve(uncounted),
      readTexts: () => Promise.resolve(s.texts),
    };
    const pending = startDigest(source, uncounted, policy, { pool: held });
    const counted = await pending.changes;
    expect([counted.line_counts, counted.additions]).toEqual(["exact", 2]);
    release();
    const outcome = await pending.outcome;
    expect(outcome.changes).toEqual(counted);
    expect(outcome.digest!.files[0]!.symbols?.added).toHaveLength(1);
  });

  it("a source that fails to read gives a warning and no digest, never a rejection", async () => {
    const source: CommitSource = {
      load: () => Promise.resolve(s.changes),
      readTexts: () => Promise.reject(new Error("boom")),
    };
    const pending = startDigest(source, s.changes, policy, { pool });
    expect(await pending.changes).toBe(s.changes);
    const outcome = await pending.outcome;
    expect(outcome.digest).toBeNull();
    expect(outcome.warnings[0]).toMatch(/could not be read for the change digest \(.*boom/);
  });

  it("is held per agent and run, taken once, and only the newest 64 are kept", () => {
    const agent = {};
    const other = {};
    const run = (i: number) =>
      digestRun({
        event: { repo: "acme/shop", branch: "feature/x", commit_hash: "a".repeat(40) },
        started_at: i,
      } as AgentStateType);
    const outcome = (i: number) => Promise.resolve({ warnings: [String(i)] } as unknown as DigestOutcome);
    for (let i = 0; i < 70; i++) holdDigest(agent, run(i), outcome(i));
    expect(takeDigest(other, run(69))).toBeUndefined();
    expect(takeDigest(agent, run(5))).toBeUndefined();
    expect(takeDigest(agent, run(6))).toBeDefined();
    expect(takeDigest(agent, run(6))).toBeUndefined();
    expect(takeDigest(agent, run(69))).toBeDefined();
  });
});

/** A pool that counts the parses it is given, by path, and passes them on. */
function counting(inner: ParsePool): { pool: ParsePool; parsed: string[] } {
  const parsed: string[] = [];
  return {
    parsed,
    pool: {
      size: inner.size,
      parse: (job, grammar, route) => {
        parsed.push(route);
        return inner.parse(job, grammar, route);
      },
      warm: () => {},
      close: () => Promise.resolve(),
    },
  };
}

describe("parsing while the texts are read", () => {
  const s = step({
    "src/Order.cs": [cs(["Total"], 1), cs(["Total", "Apply"], 1)],
    "src/Cart.cs": [cs(["Total"], 2), cs(["Cancel"], 2)],
    "tests/OrderTests.cs": [cs(["Total"], 3), cs(["Total", "Ship"], 3)],
  });
  /** A source that hands each path's texts over as it reads them, in the given order, then the whole map. */
  const streaming = (order: string[]): CommitSource => ({
    load: () => Promise.resolve(s.changes),
    readTexts: (_changes, _paths, onText) => {
      for (const path of order) onText?.(path, s.texts.get(path)!);
      return Promise.resolve(s.texts);
    },
  });

  it("parses each file once, as its texts arrive, and gives the digest a full read gives", async () => {
    const probe = counting(pool);
    const outcome = await startDigest(
      streaming(["src/Cart.cs", "tests/OrderTests.cs", "src/Order.cs"]),
      s.changes,
      policy,
      {
        pool: probe.pool,
      },
    ).outcome;
    expect(outcome.digest).toEqual(buildDigest({ ...s, policy, grammars }));
    // In arrival order, before the digest was prepared: none parsed again.
    expect(probe.parsed).toEqual(["src/Cart.cs", "tests/OrderTests.cs", "src/Order.cs"]);
  });

  it("a file parsed early that the budget then leaves out does not count; the better-ranked one is parsed", async () => {
    const one = Buffer.byteLength(cs(["Total"], 1)) + 10;
    const budgeted = makePolicy({ digest: { parse_budget_bytes: one } });
    const probe = counting(pool);
    // The test file arrives first and takes the early budget; the plan gives it to the first source file.
    const outcome = await startDigest(
      streaming(["tests/OrderTests.cs", "src/Order.cs", "src/Cart.cs"]),
      s.changes,
      budgeted,
      {
        pool: probe.pool,
      },
    ).outcome;
    expect(outcome.digest).toEqual(buildDigest({ ...s, policy: budgeted, grammars }));
    expect(outcome.digest!.files.map((f) => f.symbols !== null)).toEqual([true, false, false]);
    expect(probe.parsed).toEqual(["tests/OrderTests.cs", "src/Order.cs"]);
  });

  it("local git hands each path's texts over as git sends them, the same texts as the map it returns", async () => {
    const dir = mkdtempSync(path.join(tmpdir(), "pr-creator-digest-stream-"));
    try {
      const git = (...args: string[]) => execFileSync("git", args, { cwd: dir, encoding: "utf8" }).trim();
      git("init", "-q", "-b", "main");
      git("config", "user.email", "dev@example.com");
      git("config", "user.name", "dev");
      const write = (side: 0 | 1) => {
        for (const [p, t] of s.texts) {
          mkdirSync(path.dirname(path.join(dir, p)), { recursive: true });
          writeFileSync(path.join(dir, p), side === 0 ? t.before! : t.after!);
        }
      };
      write(0);
      git("add", "-A");
      git("commit", "-qm", "base");
      write(1);
      git("commit", "-qam", "feat: apply");
      const source = createLocalGitSource(dir);
      const changes = await source.load({
        repo: "shop",
        branch: "main",
        commit: git("rev-parse", "HEAD"),
        target_branch: "main",
        range: "commit",
      });
      const heard = new Map<string, FileTexts>();
      const texts = await source.readTexts!(changes, [...s.texts.keys()], (p, t) => {
        expect(heard.has(p)).toBe(false);
        heard.set(p, t);
      });
      expect(Object.fromEntries(heard)).toEqual(Object.fromEntries(s.texts));
      expect([...texts].every(([p, t]) => heard.get(p) === t)).toBe(true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("a run", () => {
  it("reads and digests the change once: plan_pr takes the digest gather started", async () => {
    const root = mkdtempSync(path.join(tmpdir(), "pr-creator-digest-run-"));
    try {
      const sample = await buildSampleRepo(path.join(root, "sample"));
      const git = createLocalGitSource(sample.dir);
      let reads = 0;
      const agent = await createAgent({
        policy: PolicySchema.parse({ state_file: path.join(root, "state.db") }),
        commitSource: {
          load: (request) => git.load(request),
          readTexts: (changes, paths, onText) => {
            reads++;
            return git.readTexts!(changes, paths, onText);
          },
        },
        tracesFile: sample.tracesFile,
        dryRun: true,
        cwd: root,
        sinks: [async () => undefined],
        env: {},
      });
      try {
        const result = await agent.handle(sample.event);
        expect(result.status).toBe("previewed");
        expect(reads).toBe(1);
      } finally {
        await agent.close();
      }
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});
