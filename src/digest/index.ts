/**
 * The change digest's front: which texts to read, and a digest with the grammars it needs loaded. The work is
 * in `buildDigest` (pure); this module adds the one asynchronous step, loading grammars.
 */
import type { ChangeSet, FileTexts } from "../domain/commit.js";
import type { ChangeDigest } from "../domain/digest.js";
import type { Policy } from "../domain/policy.js";
import { buildDigest, roleRank } from "./build-digest.js";
import { classifier } from "./classify.js";
import type { ParseCache } from "./cache.js";
import { loadGrammars, type GrammarOptions } from "./grammars.js";
import { isCodeLanguage, isKeyLanguage, languageOf, type CodeLanguage } from "./languages.js";

export { buildDigest, type DigestInput } from "./build-digest.js";
export { createParseCache, DEFAULT_CACHE_BYTES, type ParseCache } from "./cache.js";
export { classifyFile } from "./classify.js";
export { loadGrammars, NO_GRAMMARS, type Grammars, type GrammarOptions } from "./grammars.js";
export { languageOf, type CodeLanguage } from "./languages.js";

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
  /** Earlier parses to reuse and to add to (see cache.ts); none, every file is parsed from scratch. */
  cache?: ParseCache;
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

/** Loads the grammars the change's files need, then builds the digest; never rejects on a grammar that fails. */
export async function digestChange(
  changes: ChangeSet,
  texts: ReadonlyMap<string, FileTexts>,
  policy: Policy,
  options: DigestOptions = {},
): Promise<ChangeDigest> {
  const grammars = await loadGrammars(languagesOf(changes, texts.keys()), options);
  return buildDigest({ changes, texts, policy, grammars, ...(options.cache ? { cache: options.cache } : {}) });
}
