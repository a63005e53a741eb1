/**
 * Keys of YAML and JSON files as dotted paths (`jobs.build.runs-on`), read with real parsers, so a config change
 * reads as "key changed" rather than as lines. Pure.
 *
 * A map's own hash is constant: only its leaves (scalars and lists, compared by value) change, and a map added
 * or removed as a whole stands for its keys (see `diffSymbols`). Lists are leaves: indexing their items would
 * report every later item as changed when one is inserted.
 */
import { parseAllDocuments } from "yaml";
import type { KeyLanguage } from "./languages.js";
import { hashText, type DeclaredSymbol } from "./symbols.js";

/** Bounds for untrusted input: keys per file side and how deep maps are entered. */
export const MAX_KEYS = 500;
export const MAX_KEY_DEPTH = 8;

const MAP_HASH = "map";

/** Why a text could not be read as its language. */
export class KeyParseError extends Error {}

function segment(key: string): string {
  // Keys that would make the path ambiguous are quoted: `scripts["a.b"]`.
  return key === "" || /[.[\]\s"]/.test(key) ? `[${JSON.stringify(key)}]` : key;
}

function join(prefix: string, key: string): string {
  const part = segment(key);
  return prefix === "" || part.startsWith("[") ? `${prefix}${part}` : `${prefix}.${part}`;
}

function isMap(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value) && !(value instanceof Date);
}

function serialise(value: unknown): string {
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    // Cycles (YAML anchors can make them) or BigInts: their text form still compares.
    return String(value);
  }
}

function walk(value: Record<string, unknown>, prefix: string, depth: number, out: DeclaredSymbol[]): void {
  for (const key of Object.keys(value)) {
    if (out.length >= MAX_KEYS) return;
    const child = value[key];
    const name = join(prefix, key);
    const nested = isMap(child) && depth + 1 < MAX_KEY_DEPTH;
    const hash = nested ? MAP_HASH : hashText(serialise(child));
    out.push({ name, kind: "key", exported: false, hash, parent: prefix === "" ? null : prefix });
    if (nested) walk(child, name, depth + 1, out);
  }
}

/** The keys of a YAML or JSON text; throws `KeyParseError` when the text is not valid. Keys are never `exported`. */
export function extractKeys(language: KeyLanguage, text: string): DeclaredSymbol[] {
  const body = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  const roots: unknown[] = [];
  if (language === "json") {
    if (body.trim() === "") return [];
    try {
      roots.push(JSON.parse(body));
    } catch (error) {
      throw new KeyParseError(`invalid JSON: ${(error as Error).message.slice(0, 120)}`);
    }
  } else {
    // Alias expansion is capped by the parser (maxAliasCount), which defuses "billion laughs" documents.
    for (const doc of parseAllDocuments(body, { prettyErrors: false })) {
      if (doc.errors.length > 0) throw new KeyParseError(`invalid YAML: ${doc.errors[0]!.message.slice(0, 120)}`);
      try {
        roots.push(doc.toJS({ maxAliasCount: 100 }));
      } catch (error) {
        throw new KeyParseError(`invalid YAML: ${(error as Error).message.slice(0, 120)}`);
      }
    }
  }
  const out: DeclaredSymbol[] = [];
  roots.forEach((root, index) => {
    // Several YAML documents in one file (Kubernetes manifests) are told apart by their index.
    const prefix = roots.length > 1 ? `[${index}]` : "";
    if (isMap(root)) walk(root, prefix, 0, out);
  });
  return out;
}
