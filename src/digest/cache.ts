/**
 * What parsing a file version gave, kept by the version's git blob id and the grammar that parsed it: its
 * declarations and, for the newest versions, its tree. In a pipeline a commit's before texts are the previous
 * commit's after texts, so their symbols come from here and the after is re-parsed incrementally from the
 * cached tree instead of parsing the before in full. An LRU bounded by an estimate of the memory held; trees
 * live in WASM memory, outside the garbage collector, so an evicted tree is deleted.
 */
import { createHash } from "node:crypto";
import type { Tree } from "web-tree-sitter";
import type { DeclaredSymbol } from "./symbols.js";

export interface ParsedVersion {
  symbols: readonly DeclaredSymbol[];
  /** The version's tree, owned by the cache: callers use `tree.copy()`, never edit or delete it. */
  tree: Tree | null;
}

export interface ParseCache {
  get(key: string): ParsedVersion | undefined;
  /** Stores `value` (taking ownership of its tree); `chars` is the text's length, for the memory estimate. */
  set(key: string, value: ParsedVersion, chars: number): void;
  /** Estimated bytes held. */
  readonly bytes: number;
  clear(): void;
}

/**
 * Bytes held per character of text: the text itself (UTF-16, kept by the tree for `node.text`) and the tree
 * (tree-sitter's nodes run at roughly one per 3–4 characters of code, a few dozen bytes each).
 */
const BYTES_PER_CHAR_WITH_TREE = 16;
/** Declarations only: a few per line, each a short name and a 16-character hash. */
const BYTES_PER_CHAR_SYMBOLS_ONLY = 1;

/** The default bound: about 4 MB of code with trees, far more as symbols only. */
export const DEFAULT_CACHE_BYTES = 64 * 1024 * 1024;

/** The git blob id of a text (its UTF-8 bytes), so sources that know blob ids could key by them directly. */
export function blobId(text: string): string {
  return createHash("sha1")
    .update(`blob ${Buffer.byteLength(text, "utf8")}\0`)
    .update(text, "utf8")
    .digest("hex");
}

/** The cache key of a text parsed with the grammar identified by `grammar` (language, file, version). */
export function versionKey(grammar: string, text: string): string {
  return `${grammar}\u0000${blobId(text)}`;
}

export function createParseCache(maxBytes = DEFAULT_CACHE_BYTES): ParseCache {
  const entries = new Map<string, { value: ParsedVersion; bytes: number }>();
  let held = 0;

  const drop = (key: string): void => {
    const entry = entries.get(key);
    if (!entry) return;
    entries.delete(key);
    held -= entry.bytes;
    entry.value.tree?.delete();
  };

  return {
    get(key) {
      const entry = entries.get(key);
      if (!entry) return undefined;
      // Map order is insertion order: re-inserting makes this the most recently used.
      entries.delete(key);
      entries.set(key, entry);
      return entry.value;
    },
    set(key, value, chars) {
      const existing = entries.get(key);
      if (existing) {
        // The same text parsed again: keep the first tree, unless only the new value has one.
        if (existing.value.tree || !value.tree) {
          if (value.tree && value.tree !== existing.value.tree) value.tree.delete();
          entries.delete(key);
          entries.set(key, existing);
          return;
        }
        drop(key);
      }
      const bytes = chars * (value.tree ? BYTES_PER_CHAR_WITH_TREE : BYTES_PER_CHAR_SYMBOLS_ONLY);
      if (bytes > maxBytes) {
        value.tree?.delete();
        return;
      }
      entries.set(key, { value, bytes });
      held += bytes;
      for (const oldest of entries.keys()) {
        if (held <= maxBytes) break;
        drop(oldest);
      }
    },
    get bytes() {
      return held;
    },
    clear() {
      for (const key of [...entries.keys()]) drop(key);
    },
  };
}
