/**
 * The edits that turn a file's before text into its after text, in the form tree-sitter takes them, so the after
 * is parsed incrementally from the before's tree. Precise edits (one per run of changed lines) let tree-sitter
 * reuse everything between the changes; one edit spanning from the first change to the last would make it
 * reparse all of that span. Pure.
 */
import type { Edit, Point } from "web-tree-sitter";
import type { Hunk } from "./hunks.js";

const HUNK_HEADER = /^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@/;

/** A run of changed lines: old lines [oldStart, oldEnd) became new lines [newStart, newEnd), 0-based. */
interface LineRun {
  oldStart: number;
  oldEnd: number;
  newStart: number;
  newEnd: number;
}

function lineRuns(hunks: readonly Hunk[]): LineRun[] | null {
  const runs: LineRun[] = [];
  for (const hunk of hunks) {
    const header = HUNK_HEADER.exec(hunk.header);
    if (!header) return null;
    // In a unified diff an empty side names the line *after which* the change sits.
    let o = header[2] === "0" ? Number(header[1]) : Number(header[1]) - 1;
    let n = header[4] === "0" ? Number(header[3]) : Number(header[3]) - 1;
    let run: LineRun | null = null;
    for (const line of hunk.lines) {
      const tag = line[0];
      if (tag === "-" || tag === "+") {
        run ??= { oldStart: o, oldEnd: o, newStart: n, newEnd: n };
        if (tag === "-") run.oldEnd = ++o;
        else run.newEnd = ++n;
      } else if (tag === " ") {
        if (run) runs.push(run);
        run = null;
        o++;
        n++;
      }
    }
    if (run) runs.push(run);
  }
  return runs;
}

/** Offsets where each line starts (after a text's final newline, an empty last line starts). */
function lineStarts(text: string): number[] {
  const starts = [0];
  for (let nl = text.indexOf("\n"); nl !== -1; nl = text.indexOf("\n", nl + 1)) starts.push(nl + 1);
  return starts;
}

/** Where a line starts; a line past the last one starts at the end of the text. */
function offsetOfLine(starts: readonly number[], line: number, length: number): number {
  return line < starts.length ? starts[line]! : length;
}

/** Where `segment` ends when it starts at `from`. */
function extent(from: Point, segment: string): Point {
  const last = segment.lastIndexOf("\n");
  if (last === -1) return { row: from.row, column: from.column + segment.length };
  let rows = 0;
  for (let nl = segment.indexOf("\n"); nl !== -1; nl = segment.indexOf("\n", nl + 1)) rows++;
  return { row: from.row + rows, column: segment.length - last - 1 };
}

function pointAt(starts: readonly number[], index: number): Point {
  // Binary search for the line holding `index`.
  let lo = 0;
  let hi = starts.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (starts[mid]! <= index) lo = mid;
    else hi = mid - 1;
  }
  return { row: lo, column: index - starts[lo]! };
}

/** One edit from the common prefix to the common suffix: always right, however the texts differ. */
function spanningEdit(before: string, after: string): Edit[] {
  const shorter = Math.min(before.length, after.length);
  let start = 0;
  while (start < shorter && before.charCodeAt(start) === after.charCodeAt(start)) start++;
  let tail = 0;
  while (
    tail < shorter - start &&
    before.charCodeAt(before.length - 1 - tail) === after.charCodeAt(after.length - 1 - tail)
  ) {
    tail++;
  }
  const startPosition = pointAt(lineStarts(before), start);
  return [
    {
      startIndex: start,
      oldEndIndex: before.length - tail,
      newEndIndex: after.length - tail,
      startPosition,
      oldEndPosition: extent(startPosition, before.slice(start, before.length - tail)),
      newEndPosition: extent(startPosition, after.slice(start, after.length - tail)),
    },
  ];
}

/**
 * Edits to apply in order to the before text's tree. Built from the hunks when they describe these very texts
 * (every unchanged stretch between them is checked equal on both sides: a patch is untrusted and may not match
 * the texts read); otherwise one spanning edit. Indices and columns are UTF-16 code units, as web-tree-sitter
 * takes them.
 */
export function treeEdits(before: string, after: string, hunks: readonly Hunk[] | undefined): Edit[] {
  if (before === after) return [];
  const runs = hunks && hunks.length > 0 ? lineRuns(hunks) : null;
  if (!runs || runs.length === 0) return spanningEdit(before, after);
  const oldStarts = lineStarts(before);
  const newStarts = lineStarts(after);
  const edits: Edit[] = [];
  let oldPrev = 0;
  let newPrev = 0;
  for (const run of runs) {
    const oldStart = offsetOfLine(oldStarts, run.oldStart, before.length);
    const oldEnd = offsetOfLine(oldStarts, run.oldEnd, before.length);
    const newStart = offsetOfLine(newStarts, run.newStart, after.length);
    const newEnd = offsetOfLine(newStarts, run.newEnd, after.length);
    if (oldStart < oldPrev || newStart < newPrev || oldEnd < oldStart || newEnd < newStart) {
      return spanningEdit(before, after);
    }
    if (before.slice(oldPrev, oldStart) !== after.slice(newPrev, newStart)) return spanningEdit(before, after);
    // Earlier edits already made the text before this point read as the after text: positions are the after's.
    const startPosition = pointAt(newStarts, newStart);
    edits.push({
      startIndex: newStart,
      oldEndIndex: newStart + (oldEnd - oldStart),
      newEndIndex: newEnd,
      startPosition,
      oldEndPosition: extent(startPosition, before.slice(oldStart, oldEnd)),
      newEndPosition: pointAt(newStarts, newEnd),
    });
    oldPrev = oldEnd;
    newPrev = newEnd;
  }
  if (before.slice(oldPrev) !== after.slice(newPrev)) return spanningEdit(before, after);
  return edits;
}
