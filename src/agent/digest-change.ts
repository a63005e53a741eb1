import type { ChangeSet, CommitSource, FileTexts } from "../domain/commit.js";
import type { ChangeDigest } from "../domain/digest.js";
import type { Policy } from "../domain/policy.js";
import {
  createParseCache,
  createParsePool,
  defaultParseWorkers,
  earlyParses,
  finishDigest,
  grammarRefs,
  isCodeLanguage,
  languagesOf,
  loadGrammars,
  pathsToRead,
  prepareDigest,
  runParses,
  type DigestOptions,
  type ParseCache,
  type ParseJob,
  type ParseOutcome,
  type ParsePool,
} from "../digest/index.js";
import { errorText } from "../domain/errors.js";
import type { AgentStateType } from "./state.js";

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
const processPools = new Map<number, ParsePool>();

/**
 * Where the digest parses: one pool of workers per process (or, with `digest.parse_workers: 0`, this thread and
 * one cache per process), like the grammars: a long-running agent digests commit after commit of the same
 * repositories, and each commit's before texts are mostly the previous one's after texts.
 */
function parsing(policy: Policy): Pick<DigestOptions, "cache" | "pool"> {
  const workers = policy.digest.parse_workers ?? defaultParseWorkers();
  if (workers === 0) {
    processCache ??= createParseCache();
    return { cache: processCache };
  }
  let pool = processPools.get(workers);
  if (!pool) {
    pool = createParsePool(workers);
    processPools.set(workers, pool);
  }
  return { pool };
}

export interface PendingDigest {
  /**
   * The change with line counts, once the texts are read and diffed — before any parse. Sources that give
   * counts have them already; for those that do not (Azure DevOps) the size limits wait for this, not the parse.
   */
  changes: Promise<ChangeSet>;
  /** The whole digest. Never rejects: a source that cannot give texts leaves a warning and no digest. */
  outcome: Promise<DigestOutcome>;
}

/**
 * Starts reading the changed files' texts and digesting them, and returns at once, so the run goes on while the
 * texts are read and parsed (in the parse pool, off this thread). A source that cannot give texts, or fails to,
 * leaves the PR to be drafted from names and messages: a warning, never a failed run.
 */
export function startDigest(
  source: CommitSource,
  changes: ChangeSet,
  policy: Policy,
  options: Pick<DigestOptions, "cache" | "pool"> = parsing(policy),
): PendingDigest {
  const paths = pathsToRead(changes, policy);
  // Compiling a grammar's WASM takes tens of milliseconds once per process (per worker): start it beside the read.
  const languages = languagesOf(changes, paths);
  const refs = grammarRefs(languages);
  if (options.pool) {
    options.pool.warm([...refs.values()].flatMap((ref) => ("path" in ref ? [ref] : [])));
  } else {
    void loadGrammars(languages);
  }
  // With a pool, each file is parsed as soon as its texts arrive, while the rest are still being read.
  const early = new Map<string, { job: ParseJob; outcome: Promise<ParseOutcome> }>();
  const pool = options.pool;
  let onText: ((path: string, texts: FileTexts) => void) | undefined;
  if (pool) {
    const jobOf = earlyParses(changes, policy);
    onText = (path, texts) => {
      const job = jobOf(path, texts);
      const ref = job && isCodeLanguage(job.language) ? refs.get(job.language) : null;
      if (!job || (ref && !("path" in ref))) return;
      early.set(path, { job, outcome: pool.parse(job, ref ?? null, path) });
    };
  }
  const prepared = (async () => {
    const texts = source.readTexts && paths.length > 0 ? await source.readTexts(changes, paths, onText) : new Map();
    return prepareDigest({ changes, texts, policy });
  })();
  const outcome = prepared
    .then(async (p): Promise<DigestOutcome> => {
      const digest = finishDigest(p, await runParses(p, { ...options, early }));
      const unavailable = options.pool?.unavailable;
      const warnings = unavailable
        ? [
            `The parse workers could not start (${unavailable.slice(0, 200)}); the change digest was parsed on the main thread.`,
          ]
        : [];
      return { digest, changes: withDigestCounts(changes, digest), warnings };
    })
    .catch((error: unknown) => {
      const why = errorText(error);
      return {
        digest: null,
        changes,
        warnings: [
          `The changed files could not be read for the change digest (${why.slice(0, 300)}); the PR is drafted from file names and commit messages.`,
        ],
      };
    });
  const counted =
    changes.line_counts !== "unavailable"
      ? Promise.resolve(changes)
      : prepared.then(
          // Counts come from the hunks, which need no parse.
          (p) => withDigestCounts(changes, finishDigest(p, new Map())),
          () => changes,
        );
  return { changes: counted, outcome };
}

/** Reads the changed files' texts and builds the digest (see startDigest). */
export function readDigest(
  source: CommitSource,
  changes: ChangeSet,
  policy: Policy,
  options?: Pick<DigestOptions, "cache" | "pool">,
): Promise<DigestOutcome> {
  return startDigest(source, changes, policy, options).outcome;
}

/** Digests started by `gather` and not yet taken by `plan_pr`, per agent, by run. */
const held = new WeakMap<object, Map<string, Promise<DigestOutcome>>>();
/** A run that fails between gather and plan never takes its digest: keep only the newest few. */
const MAX_HELD = 64;

/** Which run a state belongs to: its commit and when it began (a run keeps both from gather to plan_pr). */
export function digestRun(state: AgentStateType): string {
  const event = state.event!;
  return [event.repo, event.branch, event.commit_hash, state.started_at ?? ""].join("\u0000");
}

/** Keeps a started digest for the same run's `plan_pr` (see takeDigest). */
export function holdDigest(owner: object, run: string, outcome: Promise<DigestOutcome>): void {
  let runs = held.get(owner);
  if (!runs) {
    runs = new Map();
    held.set(owner, runs);
  }
  runs.delete(run);
  runs.set(run, outcome);
  for (const oldest of runs.keys()) {
    if (runs.size <= MAX_HELD) break;
    runs.delete(oldest);
  }
}

/**
 * The digest `gather` started for this run, once; undefined when there is none here (the run was resumed from
 * a checkpoint in another process, or after this one restarted): the caller then reads it again.
 */
export function takeDigest(owner: object, run: string): Promise<DigestOutcome> | undefined {
  const runs = held.get(owner);
  const outcome = runs?.get(run);
  runs?.delete(run);
  return outcome;
}
