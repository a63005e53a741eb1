/**
 * Runs accepted by the HTTP server: at most `maxConcurrent` at once and `maxQueued` waiting, one active run
 * per checkpoint thread, every state change written to the run registry first (runs-store.ts) so a restart
 * finds them. The queue itself is in memory; the registry is the truth. This is the zero-config RunService;
 * with a database configured the server uses the Postgres one (src/workers/pg-runs.ts) instead.
 */
import { access, constants } from "node:fs/promises";
import { performance } from "node:perf_hooks";
import type { Agent } from "../agent/create-agent.js";
import type { RunResult } from "../domain/run-result.js";
import type { ApprovalDecision } from "../domain/run-result.js";
import { errorText, PrCreatorError } from "../domain/errors.js";
import type { EventName, RunError, RunStore, ServerRunStatus, StoredRun } from "./runs-store.js";

export interface Submission {
  input: unknown;
  event: EventName;
  threadId: string;
  requestHash: string;
  idempotencyKey: string | null;
}

export type SubmitOutcome =
  | { kind: "accepted"; run: StoredRun }
  | { kind: "existing"; run: StoredRun; matchedBy: "idempotency_key" | "thread" }
  | { kind: "key_reused"; run: StoredRun }
  | { kind: "full"; retryAfterSeconds: number }
  | { kind: "draining" };

export type ResumeOutcome =
  | { kind: "accepted"; run: StoredRun }
  | { kind: "not_found" }
  | { kind: "not_awaiting"; run: StoredRun }
  | { kind: "full"; retryAfterSeconds: number }
  | { kind: "draining" };

export interface DrainReport {
  /** Every run that was running has finished. */
  drained: boolean;
  /** Runs still running when the drain timeout passed (run again on the next start). */
  running: number;
  /** Runs not started; they stay queued in the registry for the next start. */
  queued: number;
}

export interface RunQueueOptions {
  store: RunStore;
  agent: Pick<Agent, "handle" | "resume">;
  maxConcurrent: number;
  maxQueued: number;
  now: () => Date;
  /** A run reached done, failed or awaiting_approval. */
  onSettled?: (status: ServerRunStatus) => void;
  /** The registry could not record an outcome; the run stays queued or running there and runs again on the next start. */
  onStoreError?: (runId: string, error: unknown) => void;
}

/**
 * What the HTTP server needs from the runs behind it: this process's queue, or a shared registry and job queue
 * in Postgres that workers drain. Reads and writes may be asynchronous; the gauges are read synchronously.
 */
export interface RunService {
  /** Runs waiting for a slot. */
  readonly depth: number;
  /** Runs executing now. */
  readonly running: number;
  readonly isDraining: boolean;
  get(runId: string): StoredRun | undefined | Promise<StoredRun | undefined>;
  submit(submission: Submission): SubmitOutcome | Promise<SubmitOutcome>;
  resume(runId: string, decision: ApprovalDecision): ResumeOutcome | Promise<ResumeOutcome>;
  /** Picks up what a previous process left unfinished; resolves to how many runs. */
  recover(): number | Promise<number>;
  drain(timeoutMs: number): Promise<DrainReport>;
  /** After drain: no outcome is written any more; the registry is released. */
  close(): void | Promise<void>;
  /** Whether the registry can record runs now (the state file is writable, the database answers). */
  ready(): Promise<boolean>;
  /**
   * Every run in a registry the whole fleet shares, by status, read when /metrics is scraped: on a front that
   * runs nothing itself, the only view of the work the workers did. Absent for this process's own queue.
   */
  statusCounts?(): Promise<Record<ServerRunStatus, number>>;
}

/** How many recent run durations the Retry-After estimate averages. */
const RECENT_RUNS = 50;

function statusOf(result: RunResult): "done" | "failed" | "awaiting_approval" {
  if (result.status === "failed") return "failed";
  return result.status === "awaiting_approval" ? "awaiting_approval" : "done";
}

function errorOf(error: unknown): RunError {
  if (error instanceof PrCreatorError) return { reason: error.reason, message: error.paragraph };
  return {
    reason: "internal_error",
    message: `The run failed unexpectedly: ${errorText(error)}.`,
  };
}

export class RunQueue implements RunService {
  private readonly waiting: string[] = [];
  private readonly inFlight = new Set<Promise<void>>();
  private readonly durations: number[] = [];
  private draining = false;
  private closed = false;

  constructor(private readonly options: RunQueueOptions) {}

  /** Runs waiting for a slot. */
  get depth(): number {
    return this.waiting.length;
  }

  get running(): number {
    return this.inFlight.size;
  }

  get isDraining(): boolean {
    return this.draining;
  }

  get(runId: string): StoredRun | undefined {
    return this.options.store.get(runId);
  }

  /** Queues what a previous process left queued or running, oldest first (even beyond maxQueued: they were accepted), and starts them. */
  recover(): number {
    const left = this.options.store.unfinished();
    for (const run of left) this.waiting.push(run.run_id);
    this.pump();
    return left.length;
  }

  submit(submission: Submission): SubmitOutcome {
    if (this.draining) return { kind: "draining" };
    const { store } = this.options;
    if (submission.idempotencyKey !== null) {
      const keyed = store.byIdempotencyKey(submission.idempotencyKey);
      if (keyed)
        return keyed.request_hash === submission.requestHash
          ? { kind: "existing", run: keyed, matchedBy: "idempotency_key" }
          : { kind: "key_reused", run: keyed };
    }
    const active = store.activeForThread(submission.threadId);
    if (active) return { kind: "existing", run: active, matchedBy: "thread" };
    if (!this.hasRoom()) return { kind: "full", retryAfterSeconds: this.retryAfterSeconds() };
    const run = store.insert({
      run_id: `run_${crypto.randomUUID()}`,
      thread_id: submission.threadId,
      event: submission.event,
      input: submission.input,
      request_hash: submission.requestHash,
      idempotency_key: submission.idempotencyKey,
      submitted_at: this.options.now().toISOString(),
    });
    this.waiting.push(run.run_id);
    this.pump();
    return { kind: "accepted", run };
  }

  /** Queues a person's answer to a paused run; the run keeps its id. */
  resume(runId: string, decision: ApprovalDecision): ResumeOutcome {
    if (this.draining) return { kind: "draining" };
    const { store } = this.options;
    const run = store.get(runId);
    if (!run) return { kind: "not_found" };
    if (run.status !== "awaiting_approval") return { kind: "not_awaiting", run };
    if (!this.hasRoom()) return { kind: "full", retryAfterSeconds: this.retryAfterSeconds() };
    store.requeueWithDecision(runId, decision);
    this.waiting.push(runId);
    const queued = store.get(runId)!;
    this.pump();
    return { kind: "accepted", run: queued };
  }

  /** Stops starting runs and waits up to `timeoutMs` for the running ones; queued runs stay in the registry. */
  async drain(timeoutMs: number): Promise<DrainReport> {
    this.draining = true;
    if (this.inFlight.size > 0) {
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<void>((resolve) => (timer = setTimeout(resolve, timeoutMs)));
      await Promise.race([Promise.allSettled([...this.inFlight]), timeout]);
      clearTimeout(timer);
    }
    return { drained: this.inFlight.size === 0, running: this.inFlight.size, queued: this.waiting.length };
  }

  /** After drain: outcomes of runs still going are no longer written (the registry keeps them running, so they run again). */
  close(): void {
    this.draining = true;
    this.closed = true;
  }

  ready(): Promise<boolean> {
    return access(this.options.store.file, constants.W_OK).then(
      () => true,
      () => false,
    );
  }

  /**
   * Seconds until a slot is likely to free: with every slot busy and the queue full, one run ends about every
   * (mean run time ÷ slots). At least 1; 1 before any run has finished.
   */
  retryAfterSeconds(): number {
    if (this.durations.length === 0) return 1;
    const mean = this.durations.reduce((a, b) => a + b, 0) / this.durations.length;
    return Math.max(1, Math.ceil(mean / 1000 / this.options.maxConcurrent));
  }

  private hasRoom(): boolean {
    return this.inFlight.size + this.waiting.length < this.options.maxConcurrent + this.options.maxQueued;
  }

  private pump(): void {
    while (!this.draining && this.inFlight.size < this.options.maxConcurrent && this.waiting.length > 0) {
      const runId = this.waiting.shift()!;
      const run = this.options.store.get(runId);
      if (!run || (run.status !== "queued" && run.status !== "running")) continue;
      this.options.store.markRunning(runId, this.options.now().toISOString());
      const execution = this.execute(run).finally(() => {
        this.inFlight.delete(execution);
        this.pump();
      });
      this.inFlight.add(execution);
    }
  }

  private async execute(run: StoredRun): Promise<void> {
    const { agent, store } = this.options;
    const started = performance.now();
    let outcome: { status: "done" | "failed" | "awaiting_approval"; result: RunResult | null; error: RunError | null };
    try {
      const result = run.decision ? await agent.resume(run.thread_id, run.decision) : await agent.handle(run.input);
      outcome = { status: statusOf(result), result, error: null };
    } catch (error) {
      outcome = { status: "failed", result: null, error: errorOf(error) };
    }
    this.durations.push(performance.now() - started);
    if (this.durations.length > RECENT_RUNS) this.durations.shift();
    if (this.closed) return;
    try {
      store.finish(run.run_id, { ...outcome, at: this.options.now().toISOString() });
    } catch (error) {
      this.options.onStoreError?.(run.run_id, error);
      return;
    }
    this.options.onSettled?.(outcome.status);
  }
}
