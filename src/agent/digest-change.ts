import type { ChangeSet, CommitSource } from "../domain/commit.js";
import type { ChangeDigest } from "../domain/digest.js";
import type { Policy } from "../domain/policy.js";
import {
  createParseCache,
  digestChange,
  languagesOf,
  loadGrammars,
  pathsToRead,
  type ParseCache,
} from "../digest/index.js";
import { errorText } from "../domain/errors.js";

export interface DigestOutcome {
  digest: ChangeDigest | null;
  /** The change with line counts filled in from the digest when the source had none (Azure DevOps). */
  changes: ChangeSet;
  warnings: string[];
}

/** Counts per file from the digest, so the size policy and ReadyForReview work where the source gives none. */
function withDigestCounts(changes: ChangeSet, digest: ChangeDigest): ChangeSet {
  if (changes.line_counts !== "unavailable" || digest.line_counts !== "exact") return changes;
  const byPath = new Map(digest.files.map((f) => [f.path, f]));
  return {
    ...changes,
    files: changes.files.map((f) => {
      const d = byPath.get(f.path);
      return d ? { ...f, additions: d.additions, deletions: d.deletions } : f;
    }),
    additions: digest.additions,
    deletions: digest.deletions,
    line_counts: "exact",
  };
}

let processCache: ParseCache | undefined;

/**
 * One parse cache per process, like the grammars: a long-running agent digests commit after commit of the same
 * repositories, and each commit's before texts are mostly the previous one's after texts.
 */
function sharedCache(): ParseCache {
  processCache ??= createParseCache();
  return processCache;
}

/**
 * Reads the changed files' texts and builds the digest. A source that cannot give texts, or fails to, leaves
 * the PR to be drafted from names and messages: a warning, never a failed run.
 */
export async function readDigest(
  source: CommitSource,
  changes: ChangeSet,
  policy: Policy,
  cache: ParseCache = sharedCache(),
): Promise<DigestOutcome> {
  try {
    const paths = pathsToRead(changes, policy);
    // Compiling a grammar's WASM takes tens of milliseconds once per process: start it beside the text read.
    void loadGrammars(languagesOf(changes, paths));
    const texts = source.readTexts && paths.length > 0 ? await source.readTexts(changes, paths) : new Map();
    const digest = await digestChange(changes, texts, policy, { cache });
    return { digest, changes: withDigestCounts(changes, digest), warnings: [] };
  } catch (error) {
    const why = errorText(error);
    return {
      digest: null,
      changes,
      warnings: [
        `The changed files could not be read for the change digest (${why.slice(0, 300)}); the PR is drafted from file names and commit messages.`,
      ],
    };
  }
}
