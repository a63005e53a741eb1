/**
 * The change digest's front: which texts to read, and a digest with its parses run on this thread or in a parse
 * pool. The work is in `prepareDigest`/`finishDigest` (pure) and `parseFile`; this module adds the asynchronous
 * steps: loading grammars and waiting for the parses.
 */
import type { ChangeSet, FileTexts } from "../domain/commit.js";
import type { ChangeDigest } from "../domain/digest.js";
import type { Policy } from "../domain/policy.js";
import { finishDigest, prepareDigest, roleRank, type PreparedDigest } from "./build-digest.js";
import { classifier } from "./classify.js";
import type { ParseCache } from "./cache.js";
import { grammarPath, loadGrammars, type GrammarOptions } from "./grammars.js";
import { isCodeLanguage, isKeyLanguage, languageOf, type CodeLanguage } from "./languages.js";
import { errorMessage, parseFile, type ParseJob, type ParseOutcome } from "./parse-file.js";
import type { GrammarRef, ParsePool } from "./parse-pool.js";

export {
  buildDigest,
  earlyParses,
  finishDigest,
  prepareDigest,
  type DigestInput,
  type PreparedDigest,
} from "./build-digest.js";
export { createParseCache, DEFAULT_CACHE_BYTES, type ParseCache } from "./cache.js";
export { classifyFile } from "./classify.js";
export { loadGrammars, NO_GRAMMARS, type Grammars, type GrammarOptions } from "./grammars.js";
export { isCodeLanguage, languageOf, type CodeLanguage } from "./languages.js";
export type { ParseJob, ParseOutcome } from "./parse-file.js";
export { createParsePool, defaultParseWorkers, type ParsePool } from "./parse-pool.js";

/**
 * The changed files whose texts the digest needs, best-ranked roles first, at most `digest.max_parsed_files`:
 * text files that are not lock, generated or vendored, and are either parseable (code, YAML, JSON) or come
 * without a patch or line counts (their hunks and counts are made from the texts).
 */
export function pathsToRead(changes: ChangeSet, policy: Policy): string[] {
  const classify = classifier(policy);
  const countsMissing = changes.line_counts === "unavailable";
  const wanted: { path: string; rank: number; index: number }[] = [];
  changes.files.forEach((file, index) => {
    if (file.binary) return;
    const rank = roleRank(classify(file.path, false));
    if (rank === null) return;
    const language = languageOf(file.path);
    const parseable = isCodeLanguage(language) || isKeyLanguage(language);
    if (parseable || countsMissing || file.patch === undefined) wanted.push({ path: file.path, rank, index });
  });
  return wanted
    .sort((a, b) => a.rank - b.rank || a.index - b.index)
    .slice(0, policy.digest.max_parsed_files)
    .map((w) => w.path);
}

export interface DigestOptions extends GrammarOptions {
  /** Earlier parses to reuse and to add to (see cache.ts), when parsing on this thread. */
  cache?: ParseCache;
  /** Parse in these workers instead of on this thread (each keeps its own cache; `cache` is then unused). */
  pool?: ParsePool;
  /** Parses started in `pool` while the texts were being read, by path: used when the planned job is the same. */
  early?: ReadonlyMap<string, { job: ParseJob; outcome: Promise<ParseOutcome> }>;
}

/** The grammars the given changed files need (text files in a language tree-sitter parses). */
export function languagesOf(changes: ChangeSet, paths: Iterable<string>): Set<CodeLanguage> {
  const wanted = new Set(paths);
  const languages = new Set<CodeLanguage>();
  for (const file of changes.files) {
    const language = languageOf(file.path);
    if (!file.binary && isCodeLanguage(language) && wanted.has(file.path)) languages.add(language);
  }
  return languages;
}

/** Where each language's grammar is, or why it cannot be found. */
export function grammarRefs(
  languages: Iterable<CodeLanguage>,
  options: GrammarOptions = {},
): Map<CodeLanguage, GrammarRef | { failure: string }> {
  const refs = new Map<CodeLanguage, GrammarRef | { failure: string }>();
  for (const language of languages) {
    try {
      refs.set(language, { language, path: grammarPath(language, options) });
    } catch (error) {
      refs.set(language, { failure: errorMessage(error) });
    }
  }
  return refs;
}

const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

/**
 * Runs a prepared digest's parses. In a pool they run in parallel off this thread; here, one file per turn of
 * the event loop, so other work waits for one file's parse at most, never the whole digest's.
 */
export async function runParses(
  prepared: PreparedDigest,
  options: DigestOptions = {},
): Promise<Map<number, ParseOutcome>> {
  const { parses } = prepared;
  const languages = new Set<CodeLanguage>();
  for (const p of parses) if (isCodeLanguage(p.job.language)) languages.add(p.job.language);
  const outcomes = new Map<number, ParseOutcome>();
  const { pool } = options;
  if (pool) {
    const refs = grammarRefs(languages, options);
    await Promise.all(
      parses.map(async (p) => {
        const ref = isCodeLanguage(p.job.language) ? refs.get(p.job.language)! : null;
        if (ref && "failure" in ref) {
          outcomes.set(p.index, { note: `no ${p.job.language} grammar: ${ref.failure}` });
          return;
        }
        // Same language and texts give the same outcome: an early parse of them is this one.
        const early = options.early?.get(p.path);
        const same =
          early?.job.language === p.job.language &&
          early.job.before === p.job.before &&
          early.job.after === p.job.after;
        outcomes.set(p.index, await (same ? early.outcome : pool.parse(p.job, ref, p.path)));
      }),
    );
    return outcomes;
  }
  const grammars = await loadGrammars(languages, options);
  for (const p of parses) {
    outcomes.set(p.index, parseFile(p.job, grammars, options.cache));
    await nextTurn();
  }
  return outcomes;
}

/** Builds the digest, parsing on this thread or in `options.pool`; never rejects on a grammar that fails. */
export async function digestChange(
  changes: ChangeSet,
  texts: ReadonlyMap<string, FileTexts>,
  policy: Policy,
  options: DigestOptions = {},
): Promise<ChangeDigest> {
  const prepared = prepareDigest({ changes, texts, policy });
  return finishDigest(prepared, await runParses(prepared, options));
}
