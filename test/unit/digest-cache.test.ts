import fc from "fast-check";
import type { Parser, Tree } from "web-tree-sitter";
import { beforeAll, describe, expect, it } from "vitest";
import { draftDeterministically } from "../../src/agent/deterministic-drafter.js";
import type { Policy } from "../../src/domain/policy.js";
import { buildDigest } from "../../src/digest/build-digest.js";
import { createParseCache, type ParseCache } from "../../src/digest/cache.js";
import { treeEdits } from "../../src/digest/edits.js";
import { loadGrammars, type Grammars } from "../../src/digest/grammars.js";
import { diffTexts } from "../../src/digest/hunks.js";
import { CODE_LANGUAGES, type CodeLanguage } from "../../src/digest/languages.js";
import { exportClauseNames, extractSymbols, type DeclaredSymbol } from "../../src/digest/symbols.js";
import { planPullRequest } from "../../src/policy/plan.js";
import { assemblePullRequest } from "../../src/render/assemble.js";
import { DEFAULT_TEMPLATE } from "../../src/render/template.js";
import { runGate } from "../../src/validate/gate.js";
import { changedTexts, changeSet, commit, makeFacts, makePolicy } from "./builders.js";

const policy = makePolicy();
let grammars: Grammars;

beforeAll(async () => {
  grammars = await loadGrammars(CODE_LANGUAGES);
  expect([...grammars.failures]).toEqual([]);
});

// ---- Files made of members, for edits that move names, visibility and export lists -------------------------

interface Member {
  name: string;
  visible: boolean;
  body: number;
}
interface Source {
  container: string;
  open: boolean;
  members: Member[];
  /** TypeScript: top-level functions listed in an export clause. */
  listed: string[];
}

const member: fc.Arbitrary<Member> = fc.record({
  name: fc.constantFrom("alpha", "beta", "gamma", "delta", "epsilon", "zeta"),
  visible: fc.boolean(),
  body: fc.integer({ min: 0, max: 3 }),
});
const source: fc.Arbitrary<Source> = fc.record({
  container: fc.constantFrom("Order", "Cart", "Invoice"),
  open: fc.boolean(),
  members: fc.array(member, { maxLength: 6 }),
  listed: fc.subarray(["helperA", "helperB"]),
});

const cap = (s: string) => s[0]!.toUpperCase() + s.slice(1);

/** The same members written in each language, with the same kinds of context: a container, visibility, exports. */
function render(language: CodeLanguage, s: Source): string {
  const m = s.members;
  switch (language) {
    case "csharp":
      return `namespace Shop.${s.container}s;\n\n${s.open ? "public" : "internal"} class ${s.container}\n{\n${m
        .map((x) => `    ${x.visible ? "public" : "private"} int ${cap(x.name)}() { return ${x.body}; }\n`)
        .join("\n")}}\n\npublic interface I${s.container} { void Run(); }\n`;
    case "java":
      return `package shop;\n\n${s.open ? "public " : ""}class ${s.container} {\n${m
        .map((x) => `    ${x.visible ? "public" : "private"} int ${x.name}() { return ${x.body}; }\n`)
        .join("\n")}}\n`;
    case "python":
      return `class ${s.open ? "" : "_"}${s.container}:\n    kind = 1\n\n${m
        .map((x) => `    def ${x.visible ? "" : "_"}${x.name}(self):\n        return ${x.body}\n`)
        .join("\n")}\n\ndef helper():\n    return 2\n`;
    case "go":
      return `package shop\n\ntype ${s.open ? s.container : s.container.toLowerCase()} struct {\n\tID int\n}\n\n${m
        .map(
          (x) =>
            `func (o *${s.open ? s.container : s.container.toLowerCase()}) ${x.visible ? cap(x.name) : x.name}() int {\n\treturn ${x.body}\n}\n`,
        )
        .join("\n")}`;
    default:
      return `${s.open ? "export " : ""}class ${s.container} {\n${m
        .map((x) => `  ${x.visible ? "" : "private "}${x.name}(): number {\n    return ${x.body};\n  }\n`)
        .join("\n")}}\n\nfunction helperA() {\n  return 1;\n}\n\nfunction helperB() {\n  return 2;\n}\n${
        s.listed.length > 0 ? `\nexport { ${s.listed.join(", ")} };\n` : ""
      }`;
  }
}

function parse(language: CodeLanguage, text: string, old?: Tree): Tree {
  const tree = grammars.parsers.get(language)!.parse(text, old ?? null);
  if (!tree) throw new Error("no tree");
  return tree;
}

/** The after's symbols read in full, and read with the before's copied where the plan allows. */
function bothWays(language: CodeLanguage, before: string, after: string) {
  const old = parse(language, before);
  const beforeSymbols = extractSymbols(language, old.rootNode, before);
  const exportedLocals = exportClauseNames(language, old.rootNode);
  const hunks = diffTexts(before, after)?.hunks;
  const edits = treeEdits(before, after, hunks);
  for (const edit of edits) old.edit(edit);
  const now = parse(language, after, old);
  const changed: [number, number][] = edits.map((e) => [e.startIndex, e.newEndIndex]);
  for (const r of old.getChangedRanges(now)) changed.push([r.startIndex, r.endIndex]);
  try {
    const full = extractSymbols(language, now.rootNode, after);
    const planned = extractSymbols(language, now.rootNode, after, {
      before: beforeSymbols,
      edits,
      changed,
      ...(exportedLocals ? { exportedLocals } : {}),
    });
    return { full, planned };
  } finally {
    old.delete();
    now.delete();
  }
}

describe("copying untouched members' symbols from the before", () => {
  const languages: CodeLanguage[] = ["csharp", "java", "python", "go", "typescript", "javascript"];

  it("gives the same list as reading the whole after tree, whatever the edit (names, visibility, export lists)", () => {
    fc.assert(
      fc.property(fc.constantFrom(...languages), source, source, (language, a, b) => {
        const { full, planned } = bothWays(language, render(language, a), render(language, b));
        expect(planned).toEqual(full);
      }),
      { numRuns: 150 },
    );
  });

  it("copies rather than reads: an untouched member keeps its before symbol, moved to its after offsets", () => {
    const before = render("csharp", {
      container: "Order",
      open: true,
      members: [
        { name: "alpha", visible: true, body: 1 },
        { name: "beta", visible: true, body: 1 },
      ],
      listed: [],
    });
    const after = before.replace("int Alpha() { return 1; }", "int Alpha() { return 22; }");
    const { full, planned } = bothWays("csharp", before, after);
    expect(planned).toEqual(full);
    const beta = planned.find((s) => s.name === "Order.Beta")!;
    expect(after.slice(beta.unit![0], beta.unit![1])).toBe("public int Beta() { return 1; }");
  });

  it("a renamed container re-reads its members: their names change with it", () => {
    const s: Source = {
      container: "Order",
      open: true,
      members: [{ name: "alpha", visible: true, body: 1 }],
      listed: [],
    };
    for (const language of languages) {
      const { full, planned } = bothWays(language, render(language, s), render(language, { ...s, container: "Cart" }));
      expect(planned).toEqual(full);
      expect(planned.some((x) => x.name.startsWith("Cart."))).toBe(true);
    }
  });
});

// ---- The cache ---------------------------------------------------------------------------------------------

/** Grammars whose parsers count full and incremental parses. */
function counting(): { grammars: Grammars; full: () => number; incremental: () => number } {
  let full = 0;
  let incremental = 0;
  const parsers = new Map<CodeLanguage, Parser>();
  for (const [language, parser] of grammars.parsers) {
    parsers.set(
      language,
      new Proxy(parser, {
        get(target, key, receiver) {
          if (key !== "parse") return Reflect.get(target, key, receiver) as unknown;
          return (text: string, old?: Tree | null) => {
            if (old) incremental++;
            else full++;
            return target.parse(text, old ?? null);
          };
        },
      }),
    );
  }
  return {
    grammars: { ...grammars, parsers },
    full: () => full,
    incremental: () => incremental,
  };
}

const csClass = (methods: string[]) =>
  `namespace Shop;\n\npublic class Order\n{\n${methods.map((m) => `    public int ${m}() { return 1; }\n`).join("\n")}}\n`;

function digest(
  s: ReturnType<typeof changedTexts>,
  options: { cache?: ParseCache; grammars?: Grammars; policy?: Policy } = {},
) {
  return buildDigest({
    changes: changeSet([commit("feat: x")], s.files),
    texts: s.texts,
    policy: options.policy ?? policy,
    grammars: options.grammars ?? grammars,
    ...(options.cache ? { cache: options.cache } : {}),
  });
}

describe("the parse cache", () => {
  const v1 = csClass(["Total", "Cancel"]);
  const v2 = csClass(["Total", "Cancel", "ApplyDiscount"]);
  const v3 = csClass(["Total", "ApplyDiscount"]).replace(
    "ApplyDiscount() { return 1; }",
    "ApplyDiscount() { return 2; }",
  );
  const ts1 = "export function a() {}\n";
  const ts2 = "export function a() {}\nexport function b() {}\n";
  const ts3 = "export function b() {}\n";
  const first = changedTexts({ "src/Order.cs": [v1, v2], "web/cart.ts": [ts1, ts2] });
  const second = changedTexts({ "src/Order.cs": [v2, v3], "web/cart.ts": [ts2, ts3] });

  it("a pipeline's next commit gives the same digest with the cache, its befores not parsed again", () => {
    const cache = createParseCache();
    const probe = counting();
    expect(digest(first, { cache, grammars: probe.grammars })).toEqual(digest(first));
    // Cold: each before parsed in full, each after incrementally from it.
    expect([probe.full(), probe.incremental()]).toEqual([2, 2]);
    const warm = digest(second, { cache, grammars: probe.grammars });
    expect(warm).toEqual(digest(second));
    expect(warm.files[0]!.symbols).toEqual({
      added: [],
      removed: [{ name: "Order.Cancel", kind: "method", exported: true }],
      changed: [{ name: "Order.ApplyDiscount", kind: "method", exported: true }],
    });
    // Warm: the befores are the cached afters; only the new afters are parsed, incrementally.
    expect([probe.full(), probe.incremental()]).toEqual([2, 4]);
    // The same commit again: both sides cached, nothing parsed.
    expect(digest(second, { cache, grammars: probe.grammars })).toEqual(warm);
    expect([probe.full(), probe.incremental()]).toEqual([2, 4]);
  });

  it("grammars without ids (no way to key a parse) are not cached", () => {
    const cache = createParseCache();
    const { ids: _ids, ...anonymous } = grammars;
    digest(first, { cache, grammars: anonymous });
    expect(cache.bytes).toBe(0);
  });

  it("stays within its byte bound, deleting the trees it evicts", () => {
    const deleted: string[] = [];
    const tree = (id: string) => ({ delete: () => deleted.push(id) }) as unknown as Tree;
    const symbols: DeclaredSymbol[] = [];
    const cache = createParseCache(1000);
    cache.set("a", { symbols, tree: tree("a") }, 30);
    cache.set("b", { symbols, tree: tree("b") }, 30);
    expect(cache.get("a")).toBeDefined();
    cache.set("c", { symbols, tree: tree("c") }, 30);
    // 16 bytes per character with a tree: "b", the least recently used, goes.
    expect(deleted).toEqual(["b"]);
    expect(cache.bytes).toBeLessThanOrEqual(1000);
    cache.set("huge", { symbols, tree: tree("huge") }, 10_000);
    expect(deleted).toEqual(["b", "huge"]);
    expect(cache.get("huge")).toBeUndefined();
    cache.set("a", { symbols, tree: tree("a2") }, 30);
    expect(deleted).toEqual(["b", "huge", "a2"]);
    cache.clear();
    expect(deleted.sort()).toEqual(["a", "a2", "b", "c", "huge"]);
    expect(cache.bytes).toBe(0);
  });
});

// ---- The parse budget --------------------------------------------------------------------------------------

describe("digest.parse_budget_bytes", () => {
  const big = csClass(Array.from({ length: 40 }, (_, i) => `Method${i}`));
  const bigAfter = csClass([...Array.from({ length: 40 }, (_, i) => `Method${i}`), "Extra"]);
  const small = csClass(["Total"]);
  const smallAfter = csClass(["Total", "ApplyDiscount"]);
  const commitWith = () =>
    changedTexts({
      "src/Big.cs": [big, bigAfter],
      "src/Small.cs": [small, smallAfter],
      "tests/SmallTests.cs": [small, smallAfter],
    });

  it("lists a file over what is left with its line counts, marked, and goes on with the smaller ones", () => {
    const budget = Buffer.byteLength(small) * 2 + 10;
    const d = digest(commitWith(), { policy: makePolicy({ digest: { parse_budget_bytes: budget } }) });
    const [bigFile, smallFile, testFile] = d.files;
    expect(bigFile!.symbols).toBeNull();
    expect(bigFile!.note).toMatch(/^not parsed \(budget\): \d+ KB over the \d+ KB left of digest\.parse_budget_bytes$/);
    expect([bigFile!.additions, bigFile!.deletions]).toEqual([2, 0]);
    expect(smallFile!.symbols?.added).toEqual([{ name: "Order.ApplyDiscount", kind: "method", exported: true }]);
    expect(testFile!.symbols?.added).toHaveLength(1);
    // The hunks are still quoted: only parsing is budgeted.
    expect(d.hunks.map((h) => h.path)).toContain("src/Big.cs");
  });

  it("a cached parse still counts, so the digest does not depend on what ran before", () => {
    const budgeted = makePolicy({ digest: { parse_budget_bytes: Buffer.byteLength(small) * 2 + 10 } });
    const cache = createParseCache();
    digest(commitWith(), { cache });
    expect(digest(commitWith(), { cache, policy: budgeted })).toEqual(digest(commitWith(), { policy: budgeted }));
  });

  it("0 parses nothing; the drafter and the gate still make a valid PR from the counts and names", () => {
    const s = commitWith();
    const budgetPolicy = makePolicy({ digest: { parse_budget_bytes: 0 }, merge: { commits: true } });
    const d = digest(s, { policy: budgetPolicy });
    expect(d.files.every((f) => f.symbols === null && f.note?.startsWith("not parsed (budget)"))).toBe(true);
    const base = makeFacts({ commits: [commit("feat(order): discounts")], files: s.files });
    const facts = { ...base, digest: d };
    const plan = planPullRequest(facts, budgetPolicy);
    const { pr } = assemblePullRequest(
      facts,
      draftDeterministically(facts, budgetPolicy, plan),
      DEFAULT_TEMPLATE,
      budgetPolicy,
      plan,
    );
    expect(pr.title).toMatch(/^feat\(order\): /);
    expect(runGate(pr.title, pr.description, facts, budgetPolicy)).toEqual([]);
  });
});
