/**
 * What was read from the change itself: per file its kind, size, language, role and the symbols it adds,
 * removes and changes, plus the diff hunks that fit the prompt's budget. Pure data, no I/O; built by
 * `src/digest/` from a ChangeSet and the files' texts before and after.
 */
import type { ChangeType } from "./commit.js";

/** What a file is for, which decides how it is shown: source is quoted first, generated and lock files never. */
export type FileRole =
  "source" | "test" | "docs" | "ci" | "build" | "config" | "generated" | "vendored" | "lock" | "binary" | "other";

export type SymbolKind = "type" | "function" | "method" | "field" | "key";

/** A named declaration found by a parser (tree-sitter for code, the YAML/JSON parser for keys). */
export interface CodeSymbol {
  /** Qualified with its enclosing types or namespace where the language has them: `Order.ApplyDiscount`. */
  name: string;
  kind: SymbolKind;
  /** Public / exported / capitalised (Go) / not underscore-prefixed (Python), per the language's rule. */
  exported: boolean;
}

export interface SymbolChanges {
  added: CodeSymbol[];
  removed: CodeSymbol[];
  /** Present before and after with a different body or signature. */
  changed: CodeSymbol[];
}

/** One hunk of a unified diff, as quoted to the model. */
export interface DigestHunk {
  path: string;
  /** The `@@ -a,b +c,d @@ …` line and the lines under it, as the diff gives them. */
  text: string;
}

export interface FileDigest {
  path: string;
  old_path?: string;
  change: ChangeType;
  additions: number;
  deletions: number;
  binary: boolean;
  /** `csharp`, `typescript`, `python`, `go`, `java`, `yaml`, `json`, … or null when unknown. */
  language: string | null;
  role: FileRole;
  /** Null when the file was not parsed (unknown language, too large, binary, over the parse limit). */
  symbols: SymbolChanges | null;
  /** Why the file has no symbols, when it has none: "binary", "not parsed: 812 KB", … */
  note?: string;
}

export interface ChangeDigest {
  files: FileDigest[];
  /** Totals over files, after line counts were filled in from the texts where the source gave none. */
  additions: number;
  deletions: number;
  /** Exact when every file's counts are known (from the source, a patch or a diff of both texts). */
  line_counts: "exact" | "unavailable";
  /** Hunks chosen for the prompt: source before tests before docs; generated, vendored and lock files never. */
  hunks: DigestHunk[];
  /** Hunks left out to keep within `digest.hunk_budget_tokens`. */
  hunks_omitted: number;
  /** Every exported symbol removed by the change, qualified: the evidence for a breaking change. */
  removed_public: string[];
}
