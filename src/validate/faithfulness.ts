import type { ChangeSet } from "../domain/commit.js";
import type { Violation } from "../domain/violations.js";

export interface FaithfulnessContext {
  changes: ChangeSet;
  traceId: string;
  /** The trace id as it appears in title tags (`ord-8128`). */
  traceTag: string;
  /** Other input text that may be quoted: blueprint name and description, linked files, the repo name. */
  knownText?: readonly string[];
}

// A path-like token: segments joined by "/" ending in a file name with an extension, or a bare file name
// with an extension. Tokens inside URLs are skipped before matching.
const PATH_TOKEN = /(?<![\w./-])((?:[\w@+-][\w.@+-]*\/)*[\w@+-][\w.@+-]*\.[A-Za-z][A-Za-z0-9]{0,9})(?![\w/-])/gu;
const HEX_TOKEN = /(?<![\w-])([0-9a-f]{7,64})(?![\w-])/gi;
const TRACE_TOKEN = /(?<![\w-])(trace-[A-Za-z0-9][\w-]*[A-Za-z0-9])|\[trace:([^\]\s]+)\]/g;
const URL = /\b[a-z][a-z0-9+.-]*:\/\/\S+/gi;

// Words that look like file names but are prose: version numbers, abbreviations, domain names.
function isPlausiblePath(token: string): boolean {
  if (/^v?\d+(\.\d+)+$/.test(token)) return false;
  if (/^(e\.g|i\.e|etc|vs)\./i.test(token)) return false;
  if (!token.includes("/") && /\.(com|org|net|io|dev|local)$/i.test(token)) return false;
  return true;
}

function knownText(changes: ChangeSet, extra: readonly string[]): string {
  return [...changes.commits.map((c) => `${c.subject}\n${c.body}`), ...extra].join("\n");
}

/**
 * Nothing in the text may name a file, commit or trace the input does not contain. A path counts as known
 * when it is a changed path, the tail of one (`Handlers/CreateOrderHandler.cs`), or appears in a commit
 * message or other known input; a hash when it abbreviates a commit of the change.
 */
export function validateFaithfulness(text: string, where: "title" | "body", ctx: FaithfulnessContext): Violation[] {
  const out: Violation[] = [];
  const messages = knownText(ctx.changes, ctx.knownText ?? []);
  const paths = ctx.changes.files.flatMap((f) => (f.old_path ? [f.path, f.old_path] : [f.path]));
  const hashes = [...ctx.changes.commits.map((c) => c.hash.toLowerCase()), ...(ctx.changes.base ? [ctx.changes.base.toLowerCase()] : [])];
  const scrubbed = text.replace(URL, " ");
  const reported = new Set<string>();

  for (const m of scrubbed.matchAll(PATH_TOKEN)) {
    const token = m[1]!;
    if (reported.has(token) || !isPlausiblePath(token)) continue;
    const known = paths.some((p) => p === token || p.endsWith(`/${token}`)) || messages.includes(token);
    if (!known) {
      reported.add(token);
      out.push({ code: "unfaithful_path", where, message: `"${token}" is not a file of this change` });
    }
  }
  for (const m of scrubbed.matchAll(HEX_TOKEN)) {
    const token = m[1]!.toLowerCase();
    if (reported.has(token) || !/[0-9]/.test(token) || !/[a-f]/.test(token)) continue;
    if (!hashes.some((h) => h.startsWith(token)) && !messages.toLowerCase().includes(token)) {
      reported.add(token);
      out.push({ code: "unfaithful_commit", where, message: `"${m[1]}" is not a commit of this change` });
    }
  }
  for (const m of scrubbed.matchAll(TRACE_TOKEN)) {
    const full = m[1];
    const tag = m[2];
    const ok = full !== undefined ? full === ctx.traceId : tag === ctx.traceTag;
    const token = m[0];
    if (!ok && !reported.has(token)) {
      reported.add(token);
      out.push({ code: "unfaithful_trace", where, message: `"${token}" names another trace than ${ctx.traceId}` });
    }
  }
  return out;
}
