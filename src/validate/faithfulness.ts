import type { ChangeSet } from "../domain/commit.js";
import type { Violation } from "../domain/violations.js";
import { TRACE_ID_PATTERN } from "../policy/trace-ids.js";

export interface FaithfulnessContext {
  changes: ChangeSet;
  traceId: string;
  /** The trace id as it appears in title tags (`ord-8128`). */
  traceTag: string;
  /** Other input that may be quoted: blueprint name and description, linked files, repo, branches, authors. */
  knownText?: readonly string[];
}

// A path-like token: segments joined by "/" ending in a file name with an extension, or a bare file name
// with an extension. Letters are Unicode letters, so `Straße.cs` is one token.
const PATH_TOKEN =
  /(?<![\p{L}\p{N}_./@+-])((?:[\p{L}\p{N}_@+-][\p{L}\p{N}_.@+-]*\/)*[\p{L}\p{N}_@+-][\p{L}\p{N}_.@+-]*\.\p{L}[\p{L}\p{N}]{0,9})(?![\p{L}\p{N}_/-])/gu;
const HEX_TOKEN = /(?<![\w-])([0-9a-f]{7,64})(?![\w-])/gi;
const TRACE_TAG = /\[trace:([^\]\s]+)\]/g;
const URL = /\b[a-z][a-z0-9+.-]*:\/\/\S+/gi;

// Words that look like file names but are prose: versions, abbreviations, domains, technology names.
const NOT_PATHS = [
  /^v?\d+(\.\d+)+$/,
  /^(e\.g|i\.e|etc|vs|cf|a\.k\.a)$/i,
  /^[^/]+\.(com|org|net|io|dev|local)$/i,
  /^(node|vue|next|nuxt|react|express|three|d3|chart|moment|ember|backbone|angular|alpine|solid|svelte|deno|bun)\.js$/i,
];

function isPlausiblePath(token: string): boolean {
  return !NOT_PATHS.some((re) => re.test(token));
}

/** Removes every occurrence of the known strings, longest first, so a known path with spaces is not half-read. */
function scrub(text: string, known: readonly string[]): string {
  let out = text;
  for (const k of [...new Set(known)].filter((k) => k.length >= 3).sort((a, b) => b.length - a.length))
    out = out.split(k).join(" ");
  return out;
}

/**
 * Nothing in the text may name a file, commit or trace the input does not contain. Known input (changed
 * paths, commit messages, branch and author names, trace metadata) is removed first; whatever path-, hash- or
 * trace-shaped token remains must be the tail of a changed path, appear in the known input, or abbreviate a
 * commit of the change.
 */
export function validateFaithfulness(text: string, where: "title" | "body", ctx: FaithfulnessContext): Violation[] {
  const out: Violation[] = [];
  const paths = ctx.changes.files.flatMap((f) => (f.old_path ? [f.path, f.old_path] : [f.path]));
  const hashes = [
    ...ctx.changes.commits.map((c) => c.hash.toLowerCase()),
    ...(ctx.changes.base ? [ctx.changes.base.toLowerCase()] : []),
  ];
  const known = [
    ...paths,
    ...ctx.changes.commits.flatMap((c) => [c.subject, ...c.body.split("\n"), c.author.name]),
    ...(ctx.knownText ?? []),
  ];
  const knownTokens = new Set([...known.join("\n").matchAll(PATH_TOKEN)].map((m) => m[1]!));
  const scrubbed = scrub(text.replace(URL, " "), known);
  const reported = new Set<string>();
  const report = (token: string, violation: Violation) => {
    if (reported.has(token)) return;
    reported.add(token);
    out.push(violation);
  };

  for (const m of scrubbed.matchAll(PATH_TOKEN)) {
    const token = m[1]!;
    if (!isPlausiblePath(token) || paths.some((p) => p === token || p.endsWith(`/${token}`)) || knownTokens.has(token))
      continue;
    report(token, { code: "unfaithful_path", where, message: `"${token}" is not a file of this change` });
  }
  for (const m of scrubbed.matchAll(HEX_TOKEN)) {
    const token = m[1]!.toLowerCase();
    if (!/[0-9]/.test(token) || !/[a-f]/.test(token) || hashes.some((h) => h.startsWith(token))) continue;
    report(token, { code: "unfaithful_commit", where, message: `"${m[1]}" is not a commit of this change` });
  }
  for (const m of scrubbed.matchAll(TRACE_ID_PATTERN)) {
    if (m[0] !== ctx.traceId)
      report(m[0], { code: "unfaithful_trace", where, message: `"${m[0]}" names another trace than ${ctx.traceId}` });
  }
  for (const m of scrubbed.matchAll(TRACE_TAG)) {
    if (m[1] !== ctx.traceTag)
      report(m[0], { code: "unfaithful_trace", where, message: `"${m[0]}" names another trace than ${ctx.traceId}` });
  }
  return out;
}
