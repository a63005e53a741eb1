/** Unified-diff hunks: read from a patch the source gave, or made by diffing the two texts. Pure. */
import { structuredPatch } from "diff";

export interface Hunk {
  /** The `@@ -a,b +c,d @@ …` line. */
  header: string;
  /** The lines under the header, each with its ` `, `+`, `-` or `\` prefix, without line endings. */
  lines: string[];
}

export interface HunkSet {
  hunks: Hunk[];
  additions: number;
  deletions: number;
}

const HUNK_HEADER = /^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@/;

/** Diffs whose edit script is longer than this give up: the Myers diff is quadratic in the worst case. */
const MAX_EDIT_LENGTH = 2_000;

function withoutCr(line: string): string {
  return line.endsWith("\r") ? line.slice(0, -1) : line;
}

function tally(hunks: Hunk[]): HunkSet {
  let additions = 0;
  let deletions = 0;
  for (const hunk of hunks) {
    for (const line of hunk.lines) {
      if (line.startsWith("+")) additions++;
      else if (line.startsWith("-")) deletions++;
    }
  }
  return { hunks, additions, deletions };
}

/**
 * Reads the hunks of one file's unified diff. Lines before the first `@@` (git's file headers) are skipped. A hunk
 * ends when its header's line counts are used up, so an added line that reads `++x` or `@@` is still content.
 */
export function parsePatch(patch: string): HunkSet {
  const hunks: Hunk[] = [];
  const lines = patch.split("\n");
  let current: Hunk | null = null;
  let oldLeft = 0;
  let newLeft = 0;
  for (let i = 0; i < lines.length; i++) {
    const line = withoutCr(lines[i]!);
    if (current && (oldLeft > 0 || newLeft > 0)) {
      const tag = line[0];
      if (tag === "+") newLeft--;
      else if (tag === "-") oldLeft--;
      else if (tag === " " || line === "") {
        // Some tools strip the space from empty context lines.
        oldLeft--;
        newLeft--;
        if (line === "") {
          current.lines.push(" ");
          continue;
        }
      } else if (tag !== "\\") {
        current = null;
      }
      if (current) {
        current.lines.push(line);
        continue;
      }
    }
    if (current && line.startsWith("\\")) {
      current.lines.push(line);
      continue;
    }
    const header = HUNK_HEADER.exec(line);
    if (header) {
      current = { header: line, lines: [] };
      hunks.push(current);
      oldLeft = header[2] === undefined ? 1 : Number(header[2]);
      newLeft = header[4] === undefined ? 1 : Number(header[4]);
      continue;
    }
    current = null;
  }
  return tally(hunks);
}

/**
 * Diffs two texts line by line (3 lines of context) into hunks; null when the edit is too large to diff cheaply.
 * A missing side (added or deleted file) is the empty text.
 */
export function diffTexts(before: string | null, after: string | null): HunkSet | null {
  const a = before ?? "";
  const b = after ?? "";
  if (a === b) return { hunks: [], additions: 0, deletions: 0 };
  const patch = structuredPatch("a", "b", a, b, undefined, undefined, {
    context: 3,
    maxEditLength: MAX_EDIT_LENGTH,
  });
  if (!patch) return null;
  return tally(
    patch.hunks.map((h) => ({
      header: `@@ -${h.oldStart},${h.oldLines} +${h.newStart},${h.newLines} @@`,
      lines: h.lines.map(withoutCr),
    })),
  );
}
