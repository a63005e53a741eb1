import type { ChangeSet, FileTexts } from "../domain/commit.js";
import { mapLimit } from "../net/limit.js";

/** One side of a file to read: the commit and the path the file had there. */
export interface TextSide {
  commit: string;
  path: string;
}

/** How to read one requested path's texts; a null side is known to be absent (or, for binary files, skipped). */
export interface TextPlan {
  path: string;
  /** Whether the change lists the path; an unlisted one is read on both sides and dropped when neither has it. */
  listed: boolean;
  before: TextSide | null;
  after: TextSide | null;
}

/**
 * The reads `readTexts` needs, the same for every source: before at `changes.base` (under the old path of a
 * rename or copy), after at the head commit; nothing before an added file or a root commit, nothing after a
 * deleted file, nothing at all for a binary one. Duplicate paths are read once.
 */
export function planTexts(changes: ChangeSet, paths: readonly string[]): TextPlan[] {
  const head = changes.commits.at(-1)?.hash;
  if (head === undefined) return [];
  const byPath = new Map(changes.files.map((f) => [f.path, f]));
  return [...new Set(paths)].map((path) => {
    const changed = byPath.get(path);
    if (changed?.binary) return { path, listed: true, before: null, after: null };
    const before =
      changes.base === null || changed?.change === "added"
        ? null
        : { commit: changes.base, path: changed?.old_path ?? path };
    const after = changed?.change === "deleted" ? null : { commit: head, path };
    return { path, listed: changed !== undefined, before, after };
  });
}

/**
 * A side's text as a source read it: the text, null when it is not text (binary, a folder, a submodule), or
 * undefined when it could not be read (absent where the change says it exists, or a failed call).
 */
export type ReadText = string | null | undefined;

/**
 * The texts map from the plans and what was read for each planned side. A listed path is left out when a side
 * it should have could not be read; an unlisted one when neither side could.
 */
export function assembleTexts(
  plans: readonly TextPlan[],
  textOf: (side: TextSide) => ReadText,
): Map<string, FileTexts> {
  const texts = new Map<string, FileTexts>();
  for (const plan of plans) {
    const before = plan.before === null ? null : textOf(plan.before);
    const after = plan.after === null ? null : textOf(plan.after);
    const unreadable = plan.listed
      ? before === undefined || after === undefined
      : before === undefined && after === undefined;
    if (unreadable) continue;
    texts.set(plan.path, { before: before ?? null, after: after ?? null });
  }
  return texts;
}

/** Git's own test for binary content: a NUL byte in the first 8000 bytes (or characters). */
export function looksBinary(content: Buffer | string): boolean {
  return typeof content === "string" ? content.slice(0, 8000).includes("\0") : content.subarray(0, 8000).includes(0);
}

/** The distinct sides of some plans, each once, keyed as `commit:path`. */
export function sidesOf(plans: readonly TextPlan[]): Map<string, TextSide> {
  const sides = new Map<string, TextSide>();
  for (const plan of plans) for (const side of [plan.before, plan.after]) if (side) sides.set(sideKey(side), side);
  return sides;
}

export const sideKey = (side: TextSide) => `${side.commit}:${side.path}`;

/**
 * Reads every side the plans need, at most `limit` at a time, and assembles the texts as assembleTexts does.
 * Each path's texts go to `onText` as soon as its last side is in, so the digest parses while the rest is read
 * (a path with no side to read, a binary one, goes first). A read that rejects rejects the whole.
 */
export async function readPlannedTexts(
  plans: readonly TextPlan[],
  limit: number,
  read: (side: TextSide) => Promise<ReadText>,
  onText?: (path: string, texts: FileTexts) => void,
): Promise<Map<string, FileTexts>> {
  const got = new Map<string, ReadText>();
  const textOf = (side: TextSide) => got.get(sideKey(side));
  const left = new Map<TextPlan, number>();
  const needing = new Map<string, TextPlan[]>();
  for (const plan of plans) {
    const keys = new Set([plan.before, plan.after].flatMap((side) => (side ? [sideKey(side)] : [])));
    left.set(plan, keys.size);
    for (const key of keys) needing.set(key, [...(needing.get(key) ?? []), plan]);
  }
  const heard = (plan: TextPlan) => {
    const texts = assembleTexts([plan], textOf).get(plan.path);
    if (texts) onText?.(plan.path, texts);
  };
  if (onText) for (const plan of plans) if (left.get(plan) === 0) heard(plan);
  await mapLimit([...sidesOf(plans).values()], limit, async (side) => {
    const key = sideKey(side);
    got.set(key, await read(side));
    if (!onText) return;
    for (const plan of needing.get(key) ?? []) {
      const remaining = left.get(plan)! - 1;
      left.set(plan, remaining);
      if (remaining === 0) heard(plan);
    }
  });
  return assembleTexts(plans, textOf);
}

/**
 * The whole text of an added file (`after`) or a deleted one (`before`) from its patch, when the patch is one
 * hunk covering the file (`@@ -0,0 +1,N @@` of N added lines, or `@@ -1,N +0,0 @@` of N removed ones), so a
 * source that sends patches (GitHub) need not read it again. Undefined when the patch is not that.
 */
export function wholeTextFromPatch(patch: string, side: "before" | "after"): string | undefined {
  const [header = "", ...lines] = patch.split("\n");
  const hunk = side === "after" ? /^@@ -0,0 \+1(?:,(\d+))? @@/.exec(header) : /^@@ -1(?:,(\d+))? \+0,0 @@/.exec(header);
  if (!hunk) return undefined;
  const count = hunk[1] === undefined ? 1 : Number(hunk[1]);
  const mark = side === "after" ? "+" : "-";
  const noNewline = lines.at(-1) === "\\ No newline at end of file";
  const body = noNewline ? lines.slice(0, -1) : lines;
  // A trailing newline after the last line leaves an empty element; it is not a line of the file.
  if (body.at(-1) === "") body.pop();
  if (count === 0 || body.length !== count || !body.every((l) => l.startsWith(mark))) return undefined;
  return body.map((l) => l.slice(1)).join("\n") + (noNewline ? "" : "\n");
}
