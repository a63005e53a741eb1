import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import type { ChangedFile, FileTexts } from "../../src/domain/commit.js";
import { digestChange, pathsToRead } from "../../src/digest/index.js";
import { buildDigest } from "../../src/digest/build-digest.js";
import { loadGrammars, type Grammars } from "../../src/digest/grammars.js";
import { CODE_LANGUAGES } from "../../src/digest/languages.js";
import { changeSet, commit, file, makePolicy } from "./builders.js";

const policy = makePolicy();
let grammars: Grammars;

beforeAll(async () => {
  grammars = await loadGrammars(CODE_LANGUAGES);
});

const ORDER_BEFORE = "public class Order\n{\n    public decimal Total() => 1;\n}\n";
const ORDER_AFTER = "public class Order\n{\n    public decimal Total() => 1;\n    public void ApplyDiscount() { }\n}\n";

describe("grammars", () => {
  it("a grammar that fails to load leaves its files without symbols, and the digest still builds", async () => {
    const changes = changeSet(
      [commit("feat: x")],
      [file("src/Order.cs", "modified"), file("src/cart.ts", "modified"), file("config/app.yaml", "modified")],
    );
    const texts = new Map<string, FileTexts>([
      ["src/Order.cs", { before: ORDER_BEFORE, after: ORDER_AFTER }],
      [
        "src/cart.ts",
        { before: "export function a() {}\n", after: "export function a() {}\nexport function b() {}\n" },
      ],
      ["config/app.yaml", { before: "a: 1\n", after: "a: 2\n" }],
    ]);
    const digest = await digestChange(changes, texts, policy, {
      locate: (language) => (language === "csharp" ? "/nonexistent/tree-sitter-c-sharp.wasm" : undefined),
    });
    const [cs, ts, yaml] = digest.files;
    expect(cs!.symbols).toBeNull();
    expect(cs!.note).toMatch(/^no csharp grammar: /);
    expect(ts!.symbols?.added).toEqual([{ name: "b", kind: "function", exported: true }]);
    expect(yaml!.symbols?.changed).toEqual([{ name: "a", kind: "key", exported: false }]);
  });

  it("loads each grammar once per process and reports failures without rejecting", async () => {
    const first = await loadGrammars(["go", "go"]);
    const second = await loadGrammars(["go"]);
    expect(second.parsers.get("go")).toBe(first.parsers.get("go"));
    const bad = await loadGrammars(["java"], { locate: () => "/nonexistent.wasm" });
    expect(bad.parsers.size).toBe(0);
    expect(bad.failures.get("java")).toBeTruthy();
  });
});

describe("parse limits", () => {
  it("parses at most max_parsed_files files, source before tests, and notes the rest", () => {
    const files = [file("tests/OrderTests.cs", "modified"), file("src/Order.cs", "modified")];
    const texts = new Map<string, FileTexts>([
      ["tests/OrderTests.cs", { before: ORDER_BEFORE, after: ORDER_AFTER }],
      ["src/Order.cs", { before: ORDER_BEFORE, after: ORDER_AFTER }],
    ]);
    const digest = buildDigest({
      changes: changeSet([commit("feat: x")], files),
      texts,
      policy: makePolicy({ digest: { max_parsed_files: 1 } }),
      grammars,
    });
    expect(digest.files[1]!.symbols?.added).toHaveLength(1);
    expect(digest.files[0]!.symbols).toBeNull();
    expect(digest.files[0]!.note).toBe("not parsed: over the limit of 1 parsed files");
  });

  it("does not parse a file larger than max_parse_bytes", () => {
    const big = `public class Big {\n${"    // padding padding padding padding\n".repeat(100)}}\n`;
    const digest = buildDigest({
      changes: changeSet([commit("feat: x")], [file("src/Big.cs", "added")]),
      texts: new Map([["src/Big.cs", { before: null, after: big }]]),
      policy: makePolicy({ digest: { max_parse_bytes: 2048 } }),
      grammars,
    });
    expect(digest.files[0]!.symbols).toBeNull();
    expect(digest.files[0]!.note).toBe("not parsed: 4 KB");
  });

  it("explains why a file has no symbols: binary, lock, unknown language, no text", () => {
    const files = [
      file("assets/logo.png", "added", { binary: true }),
      file("yarn.lock", "modified"),
      file("README.md", "modified"),
      file("src/Missing.cs", "modified"),
    ];
    const digest = buildDigest({ changes: changeSet([commit("x")], files), texts: new Map(), policy, grammars });
    expect(digest.files.map((f) => [f.role, f.note])).toEqual([
      ["binary", "binary"],
      ["lock", "lock file, not parsed"],
      ["docs", "no parser for markdown"],
      ["source", "text not available"],
    ]);
  });
});

describe("pathsToRead", () => {
  it("asks for parseable text files and for files without a patch; never lock, generated, vendored or binary", () => {
    const withPatch = (path: string): ChangedFile => ({ ...file(path, "modified"), patch: "@@ -1 +1 @@\n-a\n+b\n" });
    const files = [
      withPatch("docs/guide.md"),
      file("docs/notes.md", "modified"),
      withPatch("tests/OrderTests.cs"),
      withPatch("src/Order.cs"),
      withPatch("package-lock.json"),
      withPatch("src/Api/Client.g.cs"),
      withPatch("vendor/lib/x.go"),
      file("assets/logo.png", "modified", { binary: true }),
      withPatch("config/app.yaml"),
    ];
    const changes = changeSet([commit("feat: x")], files);
    expect(pathsToRead(changes, policy)).toEqual([
      "src/Order.cs",
      "tests/OrderTests.cs",
      "docs/notes.md",
      "config/app.yaml",
    ]);
    expect(pathsToRead(changes, makePolicy({ digest: { max_parsed_files: 2 } }))).toEqual([
      "src/Order.cs",
      "tests/OrderTests.cs",
    ]);
    const unavailable = { ...changes, line_counts: "unavailable" as const };
    expect(pathsToRead(unavailable, policy)).toContain("docs/guide.md");
  });
});

describe("untrusted and odd input", () => {
  it("handles empty, CRLF, identical, renamed-with-edits and missing-side texts without throwing", () => {
    const files: ChangedFile[] = [
      file("src/Empty.cs", "added"),
      file("src/Crlf.cs", "modified"),
      file("src/Same.cs", "renamed", { old_path: "src/Old.cs" }),
      file("src/Moved.ts", "renamed", { old_path: "src/old.ts" }),
      file("src/Gone.cs", "modified"),
    ];
    const texts = new Map<string, FileTexts>([
      ["src/Empty.cs", { before: null, after: "" }],
      ["src/Crlf.cs", { before: ORDER_BEFORE.replaceAll("\n", "\r\n"), after: ORDER_AFTER.replaceAll("\n", "\r\n") }],
      ["src/Same.cs", { before: ORDER_BEFORE, after: ORDER_BEFORE }],
      ["src/Moved.ts", { before: "export function a() {}\n", after: "export function a() { return 1; }\n" }],
      ["src/Gone.cs", { before: ORDER_BEFORE, after: null }],
    ]);
    const digest = buildDigest({ changes: changeSet([commit("x")], files), texts, policy, grammars });
    const [empty, crlf, same, moved, gone] = digest.files;
    expect(empty!.symbols).toEqual({ added: [], removed: [], changed: [] });
    expect(crlf!.symbols?.added).toEqual([{ name: "Order.ApplyDiscount", kind: "method", exported: true }]);
    expect(same!.symbols).toEqual({ added: [], removed: [], changed: [] });
    expect(moved).toMatchObject({ old_path: "src/old.ts", symbols: { changed: [{ name: "a" }] } });
    expect(gone!.note).toBe("text not available");
  });

  it("never throws on arbitrary texts and patches in any parsed language", () => {
    const paths = ["a.cs", "a.ts", "a.tsx", "a.js", "a.py", "a.go", "a.java", "a.yaml", "a.json", "a.md"];
    const text = fc.oneof(
      fc.string({ maxLength: 300 }),
      fc.string({ unit: "binary", maxLength: 300 }),
      fc.constantFrom("class {", "public class A { void", "{{{{", "def (", "func (", "a: [", '{"a":', "\uD800\u0000"),
    );
    fc.assert(
      fc.property(
        fc.constantFrom(...paths),
        fc.option(text, { nil: null }),
        fc.option(text, { nil: null }),
        fc.option(fc.string({ maxLength: 200 }), { nil: undefined }),
        (path, before, after, patch) => {
          const change = before === null ? "added" : after === null ? "deleted" : "modified";
          const f: ChangedFile = { ...file(path, change), ...(patch !== undefined ? { patch } : {}) };
          const changes = { ...changeSet([commit("x")], [f]), line_counts: "unavailable" as const };
          const digest = buildDigest({ changes, texts: new Map([[path, { before, after }]]), policy, grammars });
          expect(digest.files).toHaveLength(1);
          expect(JSON.parse(JSON.stringify(digest))).toBeTruthy();
        },
      ),
      { numRuns: 300 },
    );
  });

  it("a file of one huge line is parsed and quoted within bounds", () => {
    const huge = `export const data = [${"1,".repeat(200_000)}];\n`;
    const changes = changeSet([commit("x")], [file("src/data.ts", "added")]);
    const digest = buildDigest({
      changes,
      texts: new Map([["src/data.ts", { before: null, after: huge }]]),
      policy,
      grammars,
    });
    expect(digest.files[0]!.symbols?.added).toEqual([{ name: "data", kind: "field", exported: true }]);
    expect(digest.hunks[0]!.text.length).toBeLessThan(1000);
  });
});
