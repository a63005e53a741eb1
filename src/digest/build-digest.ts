/**
 * The change digest: per file its role, language, line counts and symbol changes, plus the diff hunks that fit
 * the prompt's budget. Synchronous and pure given its inputs (the grammars are loaded by the caller); in two
 * halves around parsing (`prepareDigest`, `finishDigest`) so the parses can run elsewhere meanwhile. Texts,
 * names and patches are untrusted and only ever stored as data. Nothing here throws on odd input: a file that
 * cannot be read, diffed or parsed gets a `note` instead of symbols.
 */
import type { ChangeSet, ChangedFile, FileTexts } from "../domain/commit.js";
import type { ChangeDigest, DigestHunk, FileDigest, FileRole, SymbolChanges } from "../domain/digest.js";
import type { Policy } from "../domain/policy.js";
import { classifier } from "./classify.js";
import type { Grammars } from "./grammars.js";
import type { ParseCache } from "./cache.js";
import { diffTexts, parsePatch, type Hunk, type HunkSet } from "./hunks.js";
import { isCodeLanguage, isKeyLanguage, languageOf } from "./languages.js";
import { parseFile, type ParseJob, type ParseOutcome } from "./parse-file.js";

export interface DigestInput {
  changes: ChangeSet;
  /** Texts by the file's (new) path; files missing here are counted and classified only. */
  texts: ReadonlyMap<string, FileTexts>;
  policy: Policy;
  grammars: Grammars;
  /** Earlier parses by blob: makes the digest faster, never different. */
  cache?: ParseCache;
}

/** Quoting and parsing order by role; roles without a rank are never quoted nor parsed. */
const RANK: Readonly<Record<FileRole, number | null>> = {
  source: 0,
  test: 1,
  docs: 2,
  config: 3,
  ci: 3,
  build: 3,
  other: 3,
  generated: null,
  vendored: null,
  lock: null,
  binary: null,
};

export function roleRank(role: FileRole): number | null {
  return RANK[role];
}

/** About four characters make a token. */
const CHARS_PER_TOKEN = 4;
/** Quoted lines longer than this are cut (minified code would eat the budget in one line). */
const MAX_QUOTED_LINE = 500;
/** Room kept for the marker line of a cut hunk. */
const MARKER_ROOM = 48;

const EMPTY_CHANGES: SymbolChanges = { added: [], removed: [], changed: [] };

export interface Entry {
  file: ChangedFile;
  language: string | null;
  role: FileRole;
  texts: FileTexts | undefined;
  hunks: HunkSet | null;
  counts: { additions: number; deletions: number } | null;
  symbols: SymbolChanges | null;
  note?: string;
}

/** The texts are complete for this kind of change: an added file needs its after, a deleted one its before. */
function textsComplete(file: ChangedFile, texts: FileTexts | undefined): texts is FileTexts {
  if (!texts) return false;
  if (file.change === "added") return texts.after !== null;
  if (file.change === "deleted") return texts.before !== null;
  return texts.before !== null && texts.after !== null;
}

/** The text's UTF-8 size when it is over the limit, else null (cheap for the common, small case). */
function bytesOver(text: string | null, limit: number): number | null {
  // A UTF-16 code unit never takes more than 3 UTF-8 bytes.
  if (text === null || text.length * 3 <= limit) return null;
  const bytes = Buffer.byteLength(text, "utf8");
  return bytes > limit ? bytes : null;
}

function formatBytes(bytes: number): string {
  return bytes >= 1024 * 1024 ? `${(bytes / (1024 * 1024)).toFixed(1)} MB` : `${Math.round(bytes / 1024)} KB`;
}

// ---- Parsing -----------------------------------------------------------------------------------------------

/**
 * The UTF-8 bytes a file costs the parse budget: what is parsed from scratch when nothing is cached (a code
 * file's before, or its after when added; both sides of a YAML or JSON file). The cache is left out on purpose,
 * so the same change gets the same digest whatever ran before it.
 */
function budgetCost(language: string | null, texts: FileTexts): number {
  const bytes = (text: string | null) => (text === null ? 0 : Buffer.byteLength(text, "utf8"));
  if (isKeyLanguage(language)) return bytes(texts.before) + bytes(texts.after);
  return texts.before !== null ? bytes(texts.before) : bytes(texts.after);
}

/** A file the limits let through, with what parsing it needs; `index` is its place in the change. */
export interface PlannedParse {
  index: number;
  path: string;
  job: ParseJob;
}

/**
 * Whether a file can be parsed at all, and if so its job and what it costs the budget; otherwise the entry gets
 * its note (or, for identical sides, empty symbols). The limits on count and budget are the caller's.
 */
function candidate(entry: Entry, maxBytes: number): { job: ParseJob; cost: number } | null {
  const { language, role, texts, file } = entry;
  if (role === "binary") entry.note = "binary";
  else if (roleRank(role) === null) entry.note = `${role} file, not parsed`;
  else if (!isCodeLanguage(language) && !isKeyLanguage(language)) {
    entry.note = language ? `no parser for ${language}` : "unknown language";
  } else if (!textsComplete(file, texts)) entry.note = "text not available";
  else if (texts.before === texts.after) entry.symbols = EMPTY_CHANGES;
  else {
    const over = bytesOver(texts.before, maxBytes) ?? bytesOver(texts.after, maxBytes);
    if (over !== null) entry.note = `not parsed: ${formatBytes(over)}`;
    else {
      const hunks = entry.hunks?.hunks;
      const job: ParseJob = { language, before: texts.before, after: texts.after, ...(hunks ? { hunks } : {}) };
      return { job, cost: budgetCost(language, texts) };
    }
  }
  return null;
}

/**
 * Decides what the limits let through, best-ranked roles first, and notes why every other file gets no
 * symbols; the files to parse come back in rank order.
 */
function planParses(entries: readonly Entry[], policy: Policy): PlannedParse[] {
  const { max_parsed_files: maxFiles, max_parse_bytes: maxBytes, parse_budget_bytes: budget } = policy.digest;
  const planned: PlannedParse[] = [];
  let spent = 0;
  for (const { entry, index } of byRank(entries)) {
    const c = candidate(entry, maxBytes);
    if (!c) continue;
    if (planned.length >= maxFiles) entry.note = `not parsed: over the limit of ${maxFiles} parsed files`;
    // A file over what is left is skipped, not the end: smaller ones after it may still fit.
    else if (spent + c.cost > budget) {
      entry.note = `not parsed (budget): ${formatBytes(c.cost)} over the ${formatBytes(budget - spent)} left of digest.parse_budget_bytes`;
    } else {
      spent += c.cost;
      planned.push({ index, path: entry.file.path, job: c.job });
    }
  }
  return planned;
}

/**
 * For parsing while the texts are still being read: given one file's texts, the parse `prepareDigest` will
 * plan for it when its texts are the same — or null when it may not (wrong kind of file, too large, or the
 * limits spent by the files seen so far). Files seen first take the budget: a later, better-ranked file may
 * still be planned instead, and then parsed when the digest is prepared.
 */
export function earlyParses(changes: ChangeSet, policy: Policy): (path: string, texts: FileTexts) => ParseJob | null {
  const { max_parsed_files: maxFiles, max_parse_bytes: maxBytes, parse_budget_bytes: budget } = policy.digest;
  const classify = classifier(policy);
  const byPath = new Map(changes.files.map((f) => [f.path, f]));
  let spent = 0;
  let count = 0;
  return (path, texts) => {
    const file = byPath.get(path);
    if (!file || count >= maxFiles) return null;
    const c = candidate(entryOf(file, texts, policy, classify, changes.line_counts !== "unavailable"), maxBytes);
    if (!c || spent + c.cost > budget) return null;
    spent += c.cost;
    count++;
    return c.job;
  };
}

// ---- Hunks -------------------------------------------------------------------------------------------------

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

/** A quotable line: lone surrogates and NULs replaced, overlong lines cut. */
function quoteLine(line: string): string {
  const cut = line.length > MAX_QUOTED_LINE ? `${line.slice(0, MAX_QUOTED_LINE)}…` : line;
  return cut.replace(LONE_SURROGATE, "\uFFFD").replaceAll("\u0000", "\uFFFD");
}

function byRank(entries: readonly Entry[]): { entry: Entry; index: number }[] {
  // Stable: within a rank the commit's own order holds.
  return entries
    .map((entry, index) => ({ entry, index, rank: roleRank(entry.role) ?? 99 }))
    .sort((a, b) => a.rank - b.rank || a.index - b.index);
}

/**
 * Whole hunks in rank order while they fit the budget; the first one that does not fit is cut to what is left
 * (with a marker line saying how many lines were left out), and every later one is omitted and counted.
 */
function chooseHunks(entries: readonly Entry[], budgetTokens: number): { hunks: DigestHunk[]; omitted: number } {
  let left = budgetTokens * CHARS_PER_TOKEN;
  const hunks: DigestHunk[] = [];
  let omitted = 0;
  let full = false;
  for (const { entry } of byRank(entries)) {
    if (roleRank(entry.role) === null || !entry.hunks) continue;
    for (const hunk of entry.hunks.hunks) {
      if (full) {
        omitted++;
        continue;
      }
      const quoted = quoteHunk(hunk, left);
      if (quoted === null) {
        omitted++;
        full = true;
        continue;
      }
      hunks.push({ path: entry.file.path, text: quoted.text });
      left -= quoted.text.length + 1;
      if (quoted.cut) full = true;
    }
  }
  return { hunks, omitted };
}

function quoteHunk(hunk: Hunk, room: number): { text: string; cut: boolean } | null {
  const header = quoteLine(hunk.header);
  const lines = hunk.lines.map(quoteLine);
  const whole = lines.length === 0 ? header : `${header}\n${lines.join("\n")}`;
  if (whole.length <= room) return { text: whole, cut: false };
  let used = header.length;
  let kept = 0;
  while (kept < lines.length && used + 1 + lines[kept]!.length + MARKER_ROOM <= room) {
    used += 1 + lines[kept]!.length;
    kept++;
  }
  if (kept === 0) return null;
  const marker = `\\ ${lines.length - kept} more lines of this hunk left out`;
  return { text: [header, ...lines.slice(0, kept), marker].join("\n"), cut: true };
}

// ---- The digest --------------------------------------------------------------------------------------------

/** A file's role, language, hunks and counts. */
function entryOf(
  file: ChangedFile,
  fileTexts: FileTexts | undefined,
  policy: Policy,
  classify: ReturnType<typeof classifier>,
  sourceCounts: boolean,
): Entry {
  const role = classify(file.path, file.binary, fileTexts?.after ?? fileTexts?.before);
  const entry: Entry = {
    file,
    language: languageOf(file.path),
    role,
    texts: fileTexts,
    hunks: null,
    counts: file.binary || sourceCounts ? { additions: file.additions, deletions: file.deletions } : null,
    symbols: null,
  };
  // Quotable files get their hunks even with no budget, so that what was left out is counted.
  const wantHunks = roleRank(role) !== null;
  if (!file.binary && (wantHunks || !entry.counts)) {
    // The source's patch is the truth; only without one are the texts diffed (Azure DevOps gives neither).
    if (file.patch !== undefined) entry.hunks = parsePatch(file.patch);
    else if (textsComplete(file, fileTexts)) {
      const limit = policy.digest.max_parse_bytes;
      // Texts too large to parse are too large to diff cheaply too.
      if (bytesOver(fileTexts.before, limit) === null && bytesOver(fileTexts.after, limit) === null) {
        entry.hunks = diffTexts(fileTexts.before, fileTexts.after);
      }
    }
    if (!entry.counts && entry.hunks) {
      entry.counts = { additions: entry.hunks.additions, deletions: entry.hunks.deletions };
    }
  }
  return entry;
}

/**
 * A digest's first half, on the main thread and cheap: roles, hunks and line counts per file, and which files the
 * limits let through to be parsed (`parses`). `finishDigest` adds what parsing gave.
 */
export interface PreparedDigest {
  readonly entries: readonly Entry[];
  readonly parses: readonly PlannedParse[];
  readonly hunkBudgetTokens: number;
}

/** Classifies, diffs and counts every file, and plans the parses the limits allow. */
export function prepareDigest(input: Omit<DigestInput, "grammars" | "cache">): PreparedDigest {
  const { changes, texts, policy } = input;
  const classify = classifier(policy);
  const sourceCounts = changes.line_counts !== "unavailable";

  const entries = changes.files.map((file) => entryOf(file, texts.get(file.path), policy, classify, sourceCounts));

  const parses = planParses(entries, policy);
  return { entries, parses, hunkBudgetTokens: policy.digest.hunk_budget_tokens };
}

/** The digest from a prepared one and what parsing gave, by the file's index (a missing one: "not parsed"). */
export function finishDigest(prepared: PreparedDigest, outcomes: ReadonlyMap<number, ParseOutcome>): ChangeDigest {
  const parsed = new Set(prepared.parses.map((p) => p.index));
  const entries = prepared.entries.map((e, index): Entry => {
    if (!parsed.has(index)) return e;
    const outcome = outcomes.get(index) ?? { note: "not parsed" };
    return "symbols" in outcome ? { ...e, symbols: outcome.symbols } : { ...e, symbols: null, note: outcome.note };
  });
  const { hunks, omitted } = chooseHunks(entries, prepared.hunkBudgetTokens);

  const files: FileDigest[] = entries.map((e) => ({
    path: e.file.path,
    ...(e.file.old_path !== undefined ? { old_path: e.file.old_path } : {}),
    change: e.file.change,
    additions: e.counts?.additions ?? 0,
    deletions: e.counts?.deletions ?? 0,
    binary: e.file.binary,
    language: e.language,
    role: e.role,
    symbols: e.symbols,
    ...(e.symbols === null && e.note !== undefined ? { note: e.note } : {}),
  }));

  const removedPublic = new Set<string>();
  for (const e of entries) {
    for (const s of e.symbols?.removed ?? []) if (s.exported && s.kind !== "key") removedPublic.add(s.name);
  }

  return {
    files,
    additions: files.reduce((sum, f) => sum + f.additions, 0),
    deletions: files.reduce((sum, f) => sum + f.deletions, 0),
    line_counts: entries.every((e) => e.counts !== null) ? "exact" : "unavailable",
    hunks,
    hunks_omitted: omitted,
    removed_public: [...removedPublic].sort(),
  };
}

/** Builds the digest of a change from its files, their texts and the policy's limits, parsing on this thread. */
export function buildDigest(input: DigestInput): ChangeDigest {
  const { grammars, cache } = input;
  const prepared = prepareDigest(input);
  const outcomes = new Map(prepared.parses.map((p) => [p.index, parseFile(p.job, grammars, cache)] as const));
  return finishDigest(prepared, outcomes);
}
