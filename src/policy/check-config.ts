/**
 * Checks a config file's text against the policy and says where each problem is: line and column of the
 * offending key or value, and for an unknown key the known one it most likely meant.
 */
import { LineCounter, isMap, isScalar, parseDocument, type Document, type Node } from "yaml";
import { z } from "zod";
import { formatZodIssues } from "../domain/errors.js";
import { PolicySchema, type Policy } from "../domain/policy.js";
import { allKeyPaths, knownKeysAt, policyJsonSchema, type JsonSchemaNode } from "./json-schema.js";

export interface ConfigProblem {
  /** 1-based line and column in the file. */
  line: number;
  column: number;
  /** Dotted path of the key, e.g. `title.max_length`; empty for the whole document. */
  path: string;
  message: string;
  /** For an unknown key: the keys it most likely meant (a sibling, or dotted paths where that name belongs). */
  suggestions?: string[];
}

export type ConfigCheck =
  { ok: true; policy: Policy; doc: Document; lineCounter: LineCounter } | { ok: false; problems: ConfigProblem[] };

/** Edits (insert, delete, substitute, swap two neighbours) from a to b: Damerau–Levenshtein, optimal string alignment. */
export function editDistance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) =>
    Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)),
  );
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let best = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1])
        best = Math.min(best, d[i - 2]![j - 2]! + 1);
      d[i]![j] = best;
    }
  }
  return d[a.length]![b.length]!;
}

/** The candidate closest to `key` when it is close enough to be a typo (case and -/_ ignored), else undefined. */
export function closest(key: string, candidates: readonly string[]): string | undefined {
  const norm = (s: string) => s.toLowerCase().replace(/-/g, "_");
  const limit = Math.max(1, Math.min(3, Math.floor(key.length / 3)));
  let best: { name: string; distance: number } | undefined;
  for (const name of candidates) {
    const distance = editDistance(norm(key), norm(name));
    if (distance <= limit && (!best || distance < best.distance)) best = { name, distance };
  }
  return best?.name;
}

type Path = readonly PropertyKey[];

/** The node at `path`, or the deepest one on the way there that exists. */
function nearestNode(doc: Document, path: Path): Node | null {
  for (let depth = path.length; depth >= 0; depth--) {
    const node = doc.getIn(path.slice(0, depth) as unknown[], true) as Node | undefined;
    if (node && typeof node === "object" && "range" in node && node.range) return node;
  }
  return doc.contents;
}

/** The key node of `key` in the map at `path`. */
function keyNode(doc: Document, path: Path, key: string): Node | null {
  const map = doc.getIn(path as unknown[], true);
  if (!isMap(map)) return null;
  const pair = map.items.find((p) => isScalar(p.key) && String(p.key.value) === key);
  return pair && isScalar(pair.key) ? pair.key : null;
}

const dotted = (path: Path): string =>
  path.map((p, i) => (typeof p === "number" ? `[${p}]` : `${i === 0 ? "" : "."}${String(p)}`)).join("");

/** Suggests keys: a sibling with a similar name, else the same name where it belongs (`max_length` → `title.max_length`). */
function suggest(schema: JsonSchemaNode, everyPath: readonly string[], path: Path, key: string): string[] {
  const sibling = closest(key, knownKeysAt(schema, path as (string | number)[]));
  if (sibling) return [sibling];
  return everyPath.filter((p) => p.split(".").pop()!.replace(/\[\]$/, "") === key).slice(0, 3);
}

/**
 * The problems of a config file's text, each with line and column; or, when there are none, the policy it
 * gives (paths inside still relative, as written) and the parsed document (for where each value came from).
 */
export function checkConfigText(text: string): ConfigCheck {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: true, uniqueKeys: true });
  const at = (node: Node | null | undefined) => {
    const offset = node?.range?.[0] ?? 0;
    const { line, col } = lineCounter.linePos(offset);
    return { line: Math.max(1, line), column: Math.max(1, col) };
  };
  if (doc.errors.length > 0) {
    return {
      ok: false,
      problems: doc.errors.map((error) => ({
        line: error.linePos?.[0].line ?? 1,
        column: error.linePos?.[0].col ?? 1,
        path: "",
        message: `not valid YAML: ${error.message.split("\n")[0]!.replace(/ at line \d+, column \d+:?$/, "")}`,
      })),
    };
  }
  let data: unknown;
  try {
    data = doc.toJS({ maxAliasCount: 100 }) ?? {};
  } catch (error) {
    return {
      ok: false,
      problems: [
        { line: 1, column: 1, path: "", message: `not valid YAML: ${(error as Error).message.split("\n")[0]}` },
      ],
    };
  }
  const parsed = PolicySchema.safeParse(data, { reportInput: true });
  if (parsed.success) return { ok: true, policy: parsed.data, doc, lineCounter };
  const schema = policyJsonSchema();
  const everyPath = allKeyPaths(schema);
  const problems: ConfigProblem[] = [];
  for (const issue of parsed.error.issues) {
    if (issue.code === "unrecognized_keys") {
      for (const key of issue.keys) {
        const suggestions = suggest(schema, everyPath, issue.path, key);
        const meant = suggestions.map((k) => `"${k}"`).join(" or ");
        problems.push({
          ...at(keyNode(doc, issue.path, key) ?? nearestNode(doc, issue.path)),
          path: dotted([...issue.path, key]),
          message: `unknown key "${key}"${meant ? `; did you mean ${meant}?` : " (`pr-creator config schema` lists every key)"}`,
          ...(suggestions.length > 0 ? { suggestions } : {}),
        });
      }
      continue;
    }
    const line = formatZodIssues(new z.ZodError([issue]))[0]!;
    const prefix = `${dotted(issue.path) || "(top level)"}: `;
    problems.push({
      ...at(nearestNode(doc, issue.path)),
      path: dotted(issue.path),
      message: line.startsWith(prefix) ? line.slice(prefix.length) : line,
    });
  }
  problems.sort((a, b) => a.line - b.line || a.column - b.column);
  return { ok: false, problems };
}

/** One problem as compilers print them: `file:line:column: path: message`. */
export function formatProblem(file: string, problem: ConfigProblem): string {
  return `${file}:${problem.line}:${problem.column}: ${problem.path ? `${problem.path}: ` : ""}${problem.message}`;
}
