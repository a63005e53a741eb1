/**
 * Parsing off the main thread: a few worker threads (node:worker_threads), each with the grammars it was asked
 * for and its own parse cache. A file always goes to the same worker (by its path), so a pipeline's next commit
 * finds the tree of its before where it was left. Workers start on first use, hold the process open only while
 * they have work, and one that dies is replaced; its files are noted "not parsed", never a failed run. When no
 * worker can start at all, the pool parses on the main thread instead (see createParsePool).
 */
import { availableParallelism } from "node:os";
import { Worker } from "node:worker_threads";
import { createParseCache, DEFAULT_CACHE_BYTES, type ParseCache } from "./cache.js";
import { loadGrammars, NO_GRAMMARS } from "./grammars.js";
import type { CodeLanguage } from "./languages.js";
import { errorMessage, parseFile, type ParseJob, type ParseOutcome } from "./parse-file.js";

/** The grammar a job needs: a code language's `.wasm` file, resolved on the main thread. */
export interface GrammarRef {
  language: CodeLanguage;
  path: string;
}

/** A message to a worker: a job to parse, or (no job) a grammar to load ahead of the texts. */
export interface ToWorker {
  id: number;
  job: ParseJob | null;
  grammar: GrammarRef | null;
}

/** A worker's answer to one job (they come back in batches). */
export interface FromWorker {
  id: number;
  outcome: ParseOutcome;
}

export interface ParsePool {
  readonly size: number;
  /** Why the workers could not start, when they could not: files are then parsed on this thread. */
  readonly unavailable?: string | null;
  /** Parses one file in the worker `route` (the file's path) maps to. Never rejects. */
  parse(job: ParseJob, grammar: GrammarRef | null, route: string): Promise<ParseOutcome>;
  /** Starts loading grammars in every worker, so the compile overlaps the text read. */
  warm(grammars: readonly GrammarRef[]): void;
  close(): Promise<void>;
}

/**
 * The default pool size: one worker per core but one, at least one, at most 4 — the main thread keeps a core for
 * the runs it serves. On 2 shared cores (load ~3) one worker added 207 / 257 ms (p50 / p95) to a cold run and
 * blocked the event loop 12 ms; two added 236 / 324 ms and blocked it 27 ms.
 */
export function defaultParseWorkers(): number {
  return Math.max(1, Math.min(4, availableParallelism() - 1));
}

/** FNV-1a: a stable, cheap spread of paths over workers. */
function route(key: string, size: number): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) hash = Math.imul(hash ^ key.charCodeAt(i), 0x01000193);
  return (hash >>> 0) % size;
}

/**
 * The worker's module. Running from TypeScript sources (tests, benchmarks) the worker registers tsx itself
 * first: Node 20 does not hand a thread's module hooks on to its workers.
 */
function startWorker(workerData: unknown, entry?: URL): Worker {
  if (entry) return new Worker(entry, { workerData });
  if (!import.meta.url.endsWith(".ts"))
    return new Worker(new URL("./parse-worker.js", import.meta.url), { workerData });
  const source = JSON.stringify(new URL("./parse-worker.ts", import.meta.url).href);
  const boot = `import("tsx/esm/api").then((tsx) => { tsx.register(); return import(${source}); });`;
  return new Worker(boot, { eval: true, workerData });
}

/** Parses on this thread: for a pool whose workers cannot start. */
type Inline = (job: ParseJob, grammar: GrammarRef | null) => Promise<ParseOutcome>;

interface Pending {
  job: ParseJob;
  grammar: GrammarRef | null;
  resolve: (outcome: ParseOutcome) => void;
}

class Slot {
  private worker: Worker | null = null;
  /** Whether the current worker's module loaded (it says so with an empty batch). */
  private ready = false;
  private readonly pending = new Map<number, Pending>();

  constructor(
    private readonly cacheBytes: number,
    private readonly pool: { unavailable: string | null; inline: Inline; entry: URL | undefined },
  ) {}

  private start(): Worker {
    const worker = startWorker({ cacheBytes: this.cacheBytes }, this.pool.entry);
    this.ready = false;
    worker.on("message", (batch: FromWorker[]) => {
      this.ready = true;
      for (const answer of batch) this.settle(answer.id, answer.outcome);
    });
    const lost = (why: string) => {
      if (this.worker !== worker) return;
      this.worker = null;
      if (!this.ready) {
        // A worker that never started will not start next time either: parse here from now on.
        this.pool.unavailable ??= why;
        for (const [id, p] of [...this.pending])
          void this.pool.inline(p.job, p.grammar).then((o) => this.settle(id, o));
        return;
      }
      for (const id of [...this.pending.keys()]) this.settle(id, { note: `not parsed: the parse worker ${why}` });
    };
    worker.on("error", (error) => lost(`failed: ${errorMessage(error)}`));
    worker.on("exit", (code) => lost(`exited (${code})`));
    // After the listeners: adding a "message" listener refs the worker again, and a slot that was only warmed
    // (no job, so no unref on settling) kept a finished CLI run alive.
    worker.unref();
    return worker;
  }

  private settle(id: number, outcome: ParseOutcome): void {
    const pending = this.pending.get(id);
    if (!pending) return;
    this.pending.delete(id);
    // Idle workers must not keep a finished CLI run alive.
    if (this.pending.size === 0) this.worker?.unref();
    pending.resolve(outcome);
  }

  send(message: ToWorker): Promise<ParseOutcome> | void {
    const { job, grammar } = message;
    if (this.pool.unavailable !== null) return job ? this.pool.inline(job, grammar) : undefined;
    this.worker ??= this.start();
    if (!job) {
      this.worker.postMessage(message);
      return;
    }
    const worker = this.worker;
    return new Promise((resolve) => {
      if (this.pending.size === 0) worker.ref();
      this.pending.set(message.id, { job, grammar, resolve });
      worker.postMessage(message);
    });
  }

  async close(): Promise<void> {
    const worker = this.worker;
    this.worker = null;
    for (const id of [...this.pending.keys()]) this.settle(id, { note: "not parsed: the parse pool closed" });
    await worker?.terminate();
  }
}

/**
 * A pool of `size` (≥ 1) parse workers, each with a parse cache of `cacheBytes`. Not a share of one bound: a
 * pipeline keeps each commit's after trees until the next commit, and with a share a cold commit between two of
 * a pipeline's evicted them (2 workers × 32 MB: warm digests 4× slower than with 2 × 64 MB, measured). When a
 * worker cannot start at all (its module missing from a bundle, say), the pool parses on this thread instead
 * and says why in `unavailable`. `entry` replaces the worker's module (tests).
 */
export function createParsePool(size: number, cacheBytes = DEFAULT_CACHE_BYTES, entry?: URL): ParsePool {
  let cache: ParseCache | undefined;
  const shared = {
    unavailable: null as string | null,
    entry,
    inline: async (job: ParseJob, grammar: GrammarRef | null) => {
      const grammars = grammar ? await loadGrammars([grammar.language], { locate: () => grammar.path }) : NO_GRAMMARS;
      cache ??= createParseCache(cacheBytes);
      return parseFile(job, grammars, cache);
    },
  };
  const slots = Array.from({ length: size }, () => new Slot(cacheBytes, shared));
  let next = 0;
  return {
    size,
    get unavailable() {
      return shared.unavailable;
    },
    parse(job, grammar, key) {
      return slots[route(key, size)]!.send({ id: next++, job, grammar }) as Promise<ParseOutcome>;
    },
    warm(grammars) {
      for (const slot of slots) for (const grammar of grammars) slot.send({ id: next++, job: null, grammar });
    },
    async close() {
      await Promise.all(slots.map((slot) => slot.close()));
    },
  };
}
