/**
 * Loading tree-sitter grammars: the one I/O part of the digest. The runtime is initialised once per process and
 * each grammar is loaded once and kept with one reusable Parser, so a digest costs no WASM compilation after the
 * first. A grammar that fails to load is reported, never thrown: its files are digested without symbols.
 */
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { Language, Parser } from "web-tree-sitter";
import type { CodeLanguage } from "./languages.js";

/** Parsers ready to use, by language, and why the others are missing. */
export interface Grammars {
  parsers: ReadonlyMap<CodeLanguage, Parser>;
  failures: ReadonlyMap<CodeLanguage, string>;
  /** Which grammar each parser runs (file and package version): part of a parse cache key; none, no caching. */
  ids?: ReadonlyMap<CodeLanguage, string>;
}

export interface GrammarOptions {
  /** Where a language's `.wasm` grammar lives; undefined (or no function) means the `@vscode/tree-sitter-wasm` one. */
  locate?: (language: CodeLanguage) => string | undefined;
}

const WASM_FILE: Readonly<Record<CodeLanguage, string>> = {
  csharp: "tree-sitter-c-sharp.wasm",
  typescript: "tree-sitter-typescript.wasm",
  tsx: "tree-sitter-tsx.wasm",
  javascript: "tree-sitter-javascript.wasm",
  python: "tree-sitter-python.wasm",
  go: "tree-sitter-go.wasm",
  java: "tree-sitter-java.wasm",
};

export const NO_GRAMMARS: Grammars = { parsers: new Map(), failures: new Map() };

let runtime: Promise<void> | undefined;
/** Keyed by the grammar's file path, so a custom location never shadows the packaged one. */
const loaded = new Map<string, Promise<Parser>>();

/** Where the grammar of `language` is read from: the caller's `locate`, else the packaged one. */
export function grammarPath(language: CodeLanguage, options: GrammarOptions = {}): string {
  return options.locate?.(language) ?? packagedGrammar(language);
}

function packagedGrammar(language: CodeLanguage): string {
  // The package has no `exports` map, so its package.json resolves and the grammars sit beside it.
  const pkg = createRequire(import.meta.url).resolve("@vscode/tree-sitter-wasm/package.json");
  return join(dirname(pkg), "wasm", WASM_FILE[language]);
}

let packagedVersion: string | undefined;

/** The grammar package's and the runtime's versions: a cached parse is only as good as both. */
function versions(): string {
  if (packagedVersion === undefined) {
    const require = createRequire(import.meta.url);
    // Both packages keep package.json at their root, beside the entry a bare specifier resolves to.
    const read = (entry: string): string => {
      try {
        const file = join(dirname(require.resolve(entry)), "package.json");
        return (JSON.parse(readFileSync(file, "utf8")) as { version?: string }).version ?? "?";
      } catch {
        return "?";
      }
    };
    packagedVersion = `tree-sitter-wasm@${read("@vscode/tree-sitter-wasm/package.json")} web-tree-sitter@${read("web-tree-sitter")}`;
  }
  return packagedVersion;
}

function initRuntime(): Promise<void> {
  runtime ??= Parser.init().catch((error: unknown) => {
    runtime = undefined;
    throw error;
  });
  return runtime;
}

function loadParser(path: string): Promise<Parser> {
  let pending = loaded.get(path);
  if (!pending) {
    pending = initRuntime()
      .then(() => Language.load(path))
      .then((language) => {
        const parser = new Parser();
        parser.setLanguage(language);
        return parser;
      });
    // A failed load is retried by the next digest rather than remembered: the cause may be passing.
    pending.catch(() => loaded.delete(path));
    loaded.set(path, pending);
  }
  return pending;
}

function reason(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  return text.length > 200 ? `${text.slice(0, 200)}…` : text;
}

/** Loads the grammars of the given languages (cached per process); never rejects. */
export async function loadGrammars(languages: Iterable<CodeLanguage>, options: GrammarOptions = {}): Promise<Grammars> {
  const wanted = [...new Set(languages)];
  const parsers = new Map<CodeLanguage, Parser>();
  const failures = new Map<CodeLanguage, string>();
  const ids = new Map<CodeLanguage, string>();
  await Promise.all(
    wanted.map(async (language) => {
      try {
        const path = grammarPath(language, options);
        parsers.set(language, await loadParser(path));
        ids.set(language, `${language} ${path} ${versions()}`);
      } catch (error) {
        failures.set(language, reason(error));
      }
    }),
  );
  return { parsers, failures, ids };
}
