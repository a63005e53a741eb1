/**
 * One file's symbol changes: the unit of parsing work, the same whether it runs on the main thread or in a parse
 * worker (parse-pool.ts). Synchronous given a loaded grammar; nothing here throws on odd input: a file that
 * cannot be parsed gets a `note` instead of symbols.
 */
import type { SymbolChanges } from "../domain/digest.js";
import type { Parser, Tree } from "web-tree-sitter";
import { versionKey, type ParseCache, type ParsedVersion } from "./cache.js";
import { treeEdits } from "./edits.js";
import type { Grammars } from "./grammars.js";
import type { Hunk } from "./hunks.js";
import { extractKeys, KeyParseError } from "./keys.js";
import { isKeyLanguage, type CodeLanguage, type KeyLanguage } from "./languages.js";
import { diffSymbols, exportClauseNames, extractSymbols, type DeclaredSymbol, type ReusePlan } from "./symbols.js";

/** What parsing one file needs: plain data, so it can be posted to a worker. */
export interface ParseJob {
  language: CodeLanguage | KeyLanguage;
  before: string | null;
  after: string | null;
  /** The change's hunks, for precise tree edits (the after is re-parsed incrementally from the before's tree). */
  hunks?: readonly Hunk[];
}

/** A file's symbol changes, or why it has none. */
export type ParseOutcome = { symbols: SymbolChanges } | { note: string };

export function errorMessage(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  return text.length > 160 ? `${text.slice(0, 160)}…` : text;
}

function parseOrFail(parser: Parser, text: string, old?: Tree): Tree {
  const tree = parser.parse(text, old ?? null);
  if (!tree) throw new Error("the parser gave no tree");
  return tree;
}

/** Where a text's earlier parse is kept, or null when nothing is cached for this grammar. */
interface CacheSlot {
  cache: ParseCache;
  grammar: string;
}

/**
 * Symbols of both sides; syntax errors still give a tree whose well-formed parts are read. A side whose text was
 * parsed before comes from the cache; the after is parsed incrementally from the before's tree (the cached one
 * when there is one), and kept with its tree, since the next commit's before is usually this after.
 */
function codeSymbols(
  parser: Parser,
  language: CodeLanguage,
  before: string | null,
  after: string | null,
  hunks: readonly Hunk[] | undefined,
  slot: CacheSlot | null,
): [readonly DeclaredSymbol[], readonly DeclaredSymbol[]] {
  const lookup = (text: string | null): { key: string | null; hit: ParsedVersion | undefined } => {
    if (text === null || !slot) return { key: null, hit: undefined };
    const key = versionKey(slot.grammar, text);
    return { key, hit: slot.cache.get(key) };
  };
  const b = lookup(before);
  const a = lookup(after);
  let old: Tree | null = null;
  let now: Tree | null = null;
  let cachedNow = false;
  try {
    let beforeSymbols: readonly DeclaredSymbol[] = b.hit?.symbols ?? [];
    let afterSymbols: readonly DeclaredSymbol[] = a.hit?.symbols ?? [];
    const parseAfter = after !== null && !a.hit;
    if (before !== null && (!b.hit || (parseAfter && !b.hit.tree))) {
      old = parseOrFail(parser, before);
      if (!b.hit) {
        beforeSymbols = extractSymbols(language, old.rootNode, before);
        // The before's tree is edited into the after's below: only its symbols are kept.
        if (b.key) slot!.cache.set(b.key, { symbols: beforeSymbols, tree: null }, before.length);
      }
    } else if (parseAfter && b.hit?.tree) {
      old = b.hit.tree.copy();
    }
    if (parseAfter) {
      let plan: ReusePlan | null = null;
      if (old && before !== null) {
        // Read before the edits below shift the old tree's offsets away from its text.
        const exportedLocals = exportClauseNames(language, old.rootNode);
        const edits = treeEdits(before, after, hunks);
        // tree-sitter reuses every subtree of the before that no edit touches.
        for (const edit of edits) old.edit(edit);
        now = parseOrFail(parser, after, old);
        const changed: [number, number][] = edits.map((e) => [e.startIndex, e.newEndIndex]);
        for (const range of old.getChangedRanges(now)) changed.push([range.startIndex, range.endIndex]);
        plan = { before: beforeSymbols, edits, changed, ...(exportedLocals ? { exportedLocals } : {}) };
      } else {
        now = parseOrFail(parser, after);
      }
      afterSymbols = extractSymbols(language, now.rootNode, after, plan);
      if (a.key) {
        slot!.cache.set(a.key, { symbols: afterSymbols, tree: now }, after.length);
        cachedNow = true;
      }
    }
    return [beforeSymbols, afterSymbols];
  } finally {
    // Trees live in WASM memory, outside the garbage collector; the cache owns the ones it keeps.
    old?.delete();
    if (!cachedNow) now?.delete();
  }
}

/** Parses one file with the grammars given (a code file's grammar must be among them to get symbols). */
export function parseFile(job: ParseJob, grammars: Grammars, cache?: ParseCache): ParseOutcome {
  const { language, before, after } = job;
  try {
    if (isKeyLanguage(language)) {
      const side = (text: string | null): DeclaredSymbol[] => (text === null ? [] : extractKeys(language, text));
      return { symbols: diffSymbols(side(before), side(after)) };
    }
    const parser = grammars.parsers.get(language);
    if (!parser) {
      const failure = grammars.failures.get(language);
      return { note: failure ? `no ${language} grammar: ${failure}` : `no ${language} grammar loaded` };
    }
    const grammar = grammars.ids?.get(language);
    const slot = cache && grammar ? { cache, grammar } : null;
    const [b, a] = codeSymbols(parser, language, before, after, job.hunks, slot);
    return { symbols: diffSymbols(b, a) };
  } catch (error) {
    return { note: error instanceof KeyParseError ? error.message : `not parsed: ${errorMessage(error)}` };
  }
}
