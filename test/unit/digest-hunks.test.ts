import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { ChangedFile, FileTexts } from "../../src/domain/commit.js";
import { buildDigest } from "../../src/digest/build-digest.js";
import { NO_GRAMMARS } from "../../src/digest/grammars.js";
import { treeEdits } from "../../src/digest/edits.js";
import { diffTexts, parsePatch } from "../../src/digest/hunks.js";
import { changeSet, commit, file, makePolicy } from "./builders.js";

/** A patch of one hunk adding `n` lines of `width` characters. */
function addedLines(n: number, tag: string, width = 20): string {
  const lines = Array.from({ length: n }, (_, i) => `+${`${tag} ${i}`.padEnd(width, ".")}`);
  return `@@ -0,0 +1,${n} @@\n${lines.join("\n")}\n`;
}

function withPatch(path: string, patch: string, opts: Partial<ChangedFile> = {}): ChangedFile {
  return { ...file(path, "modified", opts), patch };
}

describe("parsePatch", () => {
  it("reads hunks and counts added and removed lines, skipping git's file headers", () => {
    const patch = [
      "diff --git a/x.cs b/x.cs",
      "--- a/x.cs",
      "+++ b/x.cs",
      "@@ -1,3 +1,4 @@ class X",
      " a",
      "-b",
      "+b2",
      "+b3",
      " c",
      "@@ -10,2 +11,1 @@",
      "-y",
      " z",
      "\\ No newline at end of file",
    ].join("\n");
    const set = parsePatch(patch);
    expect(set.additions).toBe(2);
    expect(set.deletions).toBe(2);
    expect(set.hunks.map((h) => h.header)).toEqual(["@@ -1,3 +1,4 @@ class X", "@@ -10,2 +11,1 @@"]);
    expect(set.hunks[1]!.lines).toEqual(["-y", " z", "\\ No newline at end of file"]);
  });

  it("uses the header's counts, so content that looks like a header or a file marker stays content", () => {
    const set = parsePatch("@@ -1,1 +1,3 @@\n-old\n+++ not a header\n+@@ -5 +5 @@\n+--- still content\n");
    expect(set.additions).toBe(3);
    expect(set.deletions).toBe(1);
    expect(set.hunks).toHaveLength(1);
  });

  it("handles CRLF patches and single-line headers without counts", () => {
    const set = parsePatch("@@ -1 +1 @@\r\n-a\r\n+b\r\n");
    expect(set.hunks[0]!.lines).toEqual(["-a", "+b"]);
    expect(set).toMatchObject({ additions: 1, deletions: 1 });
  });

  it("gives nothing for garbage and never throws", () => {
    expect(parsePatch("")).toEqual({ hunks: [], additions: 0, deletions: 0 });
    expect(parsePatch("@@ nonsense @@\n+x\n\u0000\uD800")).toEqual({ hunks: [], additions: 0, deletions: 0 });
  });
});

describe("diffTexts", () => {
  it("makes hunks with 3 lines of context and counts them", () => {
    const before = Array.from({ length: 20 }, (_, i) => `line ${i}`).join("\n") + "\n";
    const after = before.replace("line 10\n", "line 10 changed\nline 10b\n");
    const set = diffTexts(before, after)!;
    expect(set).toMatchObject({ additions: 2, deletions: 1 });
    expect(set.hunks).toHaveLength(1);
    expect(set.hunks[0]!.header).toBe("@@ -8,7 +8,8 @@");
    expect(set.hunks[0]!.lines.filter((l) => l.startsWith(" "))).toHaveLength(6);
  });

  it("treats a missing side as empty, identical texts as no change, and CRLF without stray carriage returns", () => {
    expect(diffTexts(null, "a\nb\n")).toMatchObject({ additions: 2, deletions: 0 });
    expect(diffTexts("a\n", null)).toMatchObject({ additions: 0, deletions: 1 });
    expect(diffTexts("same", "same")).toEqual({ hunks: [], additions: 0, deletions: 0 });
    const crlf = diffTexts("a\r\nb\r\n", "a\r\nc\r\n")!;
    expect(crlf.hunks[0]!.lines).toEqual([" a", "-b", "+c"]);
  });
});

describe("buildDigest: hunks within the budget", () => {
  it("quotes source before tests before docs, never a lock file, and counts what it left out", () => {
    const files = [
      withPatch("docs/guide.md", addedLines(5, "doc")),
      withPatch("package-lock.json", addedLines(5, "lock")),
      withPatch("tests/OrderTests.cs", addedLines(5, "test")),
      withPatch("src/Order.cs", addedLines(5, "src")),
      withPatch("src/Api/appsettings.json", addedLines(5, "cfg")),
    ];
    const changes = changeSet([commit("feat: x")], files);
    const roomy = buildDigest({ changes, texts: new Map(), policy: makePolicy(), grammars: NO_GRAMMARS });
    expect(roomy.hunks.map((h) => h.path)).toEqual([
      "src/Order.cs",
      "tests/OrderTests.cs",
      "docs/guide.md",
      "src/Api/appsettings.json",
    ]);
    expect(roomy.hunks_omitted).toBe(0);
    expect(roomy.files.map((f) => f.path)).toContain("package-lock.json");

    // Each hunk is 125 characters: 90 tokens (360 characters) hold two whole hunks and part of a third.
    const tight = buildDigest({
      changes,
      texts: new Map(),
      policy: makePolicy({ digest: { hunk_budget_tokens: 90 } }),
      grammars: NO_GRAMMARS,
    });
    expect(tight.hunks.map((h) => h.path)).toEqual(["src/Order.cs", "tests/OrderTests.cs", "docs/guide.md"]);
    expect(tight.hunks[2]!.text).toMatch(/^\\ \d+ more lines of this hunk left out$/m);
    expect(tight.hunks_omitted).toBe(1);
    expect(tight.hunks.reduce((n, h) => n + h.text.length + 1, 0)).toBeLessThanOrEqual(360);
  });

  it("a zero budget quotes nothing and counts every quotable hunk as omitted", () => {
    const changes = changeSet(
      [commit("feat: x")],
      [
        withPatch("src/a.ts", `${addedLines(2, "a")}@@ -9,0 +12,1 @@\n+z\n`),
        withPatch("yarn.lock", addedLines(3, "l")),
      ],
    );
    const digest = buildDigest({
      changes,
      texts: new Map(),
      policy: makePolicy({ digest: { hunk_budget_tokens: 0 } }),
      grammars: NO_GRAMMARS,
    });
    expect(digest.hunks).toEqual([]);
    expect(digest.hunks_omitted).toBe(2);
  });

  it("cuts overlong lines when quoting, and replaces lone surrogates", () => {
    const long = "x".repeat(5000);
    const changes = changeSet(
      [commit("feat: x")],
      [withPatch("src/min.ts", `@@ -0,0 +1,2 @@\n+${long}\n+bad \uD800 end\n`)],
    );
    const digest = buildDigest({ changes, texts: new Map(), policy: makePolicy(), grammars: NO_GRAMMARS });
    const text = digest.hunks[0]!.text;
    expect(text.length).toBeLessThan(700);
    expect(text).toContain("bad \uFFFD end");
  });
});

describe("buildDigest: line counts", () => {
  it("keeps the source's counts when it has them", () => {
    const changes = changeSet([commit("feat: x")], [withPatch("src/a.ts", addedLines(3, "a"), { additions: 7 })]);
    const digest = buildDigest({ changes, texts: new Map(), policy: makePolicy(), grammars: NO_GRAMMARS });
    expect(digest.files[0]).toMatchObject({ additions: 7, deletions: 0 });
    expect(digest.line_counts).toBe("exact");
  });

  it("counts from the patch, then from the texts, when the source could not count (exact when every file got counts)", () => {
    const files = [
      withPatch("src/a.ts", `@@ -1,2 +1,2 @@\n-x\n-y\n+z\n+w\n`, { additions: 0, deletions: 0 }),
      file("src/b.cs", "modified", { additions: 0, deletions: 0 }),
      file("docs/c.md", "added", { additions: 0, deletions: 0 }),
      file("assets/logo.png", "modified", { additions: 0, deletions: 0, binary: true }),
    ];
    const changes = { ...changeSet([commit("feat: x")], files), line_counts: "unavailable" as const };
    const texts = new Map<string, FileTexts>([
      ["src/b.cs", { before: "class B {}\n", after: "class B {}\nclass C {}\nclass D {}\n" }],
      ["docs/c.md", { before: null, after: "# Title\n\ntext\n" }],
    ]);
    const digest = buildDigest({ changes, texts, policy: makePolicy(), grammars: NO_GRAMMARS });
    expect(digest.files.map((f) => [f.path, f.additions, f.deletions])).toEqual([
      ["src/a.ts", 2, 2],
      ["src/b.cs", 2, 0],
      ["docs/c.md", 3, 0],
      ["assets/logo.png", 0, 0],
    ]);
    expect(digest).toMatchObject({ additions: 7, deletions: 2, line_counts: "exact" });
  });

  it("stays unavailable when a file has neither a patch nor both texts", () => {
    const files = [file("src/a.ts", "modified", { additions: 0 }), file("src/b.ts", "modified", { additions: 0 })];
    const changes = { ...changeSet([commit("feat: x")], files), line_counts: "unavailable" as const };
    const texts = new Map<string, FileTexts>([["src/a.ts", { before: "a\n", after: "b\n" }]]);
    const digest = buildDigest({ changes, texts, policy: makePolicy(), grammars: NO_GRAMMARS });
    expect(digest.files[0]).toMatchObject({ additions: 1, deletions: 1 });
    expect(digest.line_counts).toBe("unavailable");
  });
});

describe("treeEdits", () => {
  /** Applies the edits as tree-sitter would see them, checking every position against the text at that moment. */
  function replay(before: string, after: string, edits: ReturnType<typeof treeEdits>): string {
    const point = (text: string, index: number) => {
      const head = text.slice(0, index);
      return { row: head.split("\n").length - 1, column: index - (head.lastIndexOf("\n") + 1) };
    };
    let text = before;
    for (const e of edits) {
      expect(e.startPosition).toEqual(point(text, e.startIndex));
      expect(e.oldEndPosition).toEqual(point(text, e.oldEndIndex));
      text = text.slice(0, e.startIndex) + after.slice(e.startIndex, e.newEndIndex) + text.slice(e.oldEndIndex);
      expect(e.newEndPosition).toEqual(point(text, e.newEndIndex));
    }
    return text;
  }

  const lineArb = fc.constantFrom("a", "b", "c", "{", "}", "", "  x = 1;", "é\uD83D\uDE00", "z\r");
  it("turns the before text into the after text, one edit per run of changed lines, from the hunks", () => {
    fc.assert(
      fc.property(
        fc.array(lineArb, { maxLength: 30 }),
        fc.array(lineArb, { maxLength: 30 }),
        fc.boolean(),
        (a, b, nl) => {
          const before = a.join("\n") + (nl ? "\n" : "");
          const after = b.join("\n") + (nl ? "" : "\n");
          const hunks = diffTexts(before, after)!.hunks;
          const edits = treeEdits(before, after, hunks);
          expect(replay(before, after, edits)).toBe(after);
        },
      ),
      { numRuns: 400 },
    );
  });

  it("falls back to one spanning edit when the hunks do not describe the texts", () => {
    const before = "one\ntwo\nthree\nfour\n";
    const after = "one\n2\nthree\n4\n";
    const precise = treeEdits(before, after, diffTexts(before, after)!.hunks);
    expect(precise).toHaveLength(2);
    const lying = parsePatch("@@ -1,1 +1,1 @@\n-zero\n+0\n").hunks;
    const fallback = treeEdits(before, after, lying);
    expect(fallback).toHaveLength(1);
    expect(replay(before, after, fallback)).toBe(after);
    expect(treeEdits(before, before, lying)).toEqual([]);
  });
});
