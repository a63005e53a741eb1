/**
 * Lifecycle event delivery: every event to every configured sink, once each, and what a sink did not take
 * kept in the outbox (the state file) for that sink alone until a later flush delivers it.
 *
 * Sinks and their keys (the keys name the sink in the outbox and in messages):
 * - `jsonl:<absolute path>` — events.jsonl_file
 * - `stdout` — events.stdout
 * - `webhook:<url>` — each of events.webhooks
 * - `failure:<url>` — events.failure_webhook (PullRequestFailed and PullRequestMergeBlocked only)
 * - `extra:<index>` — the caller's own sinks. These live only as long as the process (collectors, test
 *   probes), and the index of one run's sink means nothing to the next run's, so their failures are
 *   reported but never kept in the outbox.
 */
import { randomUUID } from "node:crypto";
import { existsSync } from "node:fs";
import path from "node:path";
import { errorText, PrCreatorError } from "../domain/errors.js";
import type { LifecycleEvent } from "../domain/events.js";
import type { Policy } from "../domain/policy.js";
import { openOutbox, outboxStore, type FlushResult, type OutboxStore } from "./outbox.js";
import { createJsonlFileSink, createStdoutSink, type DeliverySink, type EventSink } from "./sinks.js";
import {
  createFailureWebhookSink,
  createWebhookSink,
  displayUrl,
  FAILURE_EVENTS,
  type WebhookDeps,
} from "./webhook.js";

export interface EventDeliveryOptions {
  policy: Policy;
  /** Where the outbox lives; null keeps no outbox. */
  stateFile: string | null;
  /** An outbox elsewhere (the shared database), opened on first use; it replaces the state file's. */
  outbox?: { where: string; open: () => Promise<OutboxStore> };
  /** Where webhook secrets are read from (secret_env). */
  env: Readonly<Record<string, string | undefined>>;
  /** The stdout sink's output, one JSON line with its newline per call; default process.stdout. */
  write?: (line: string) => void;
  extraSinks?: EventSink[];
  fetch?: typeof fetch;
  now?: () => Date;
  /** The wait between webhook attempts (tests make it instant). */
  sleep?: (ms: number) => Promise<void>;
}

export interface EventDelivery {
  /**
   * Delivers one event to every sink. Resolves when all took it; otherwise rejects with an
   * EventDeliveryError naming the sinks that did not, after keeping the event in the outbox for them.
   */
  emit: EventSink;
  /** Re-sends what waits in the outbox; never rejects for a delivery failure. Call it at the start of a run. */
  flush(): Promise<FlushResult>;
  /** Waits for deliveries under way, then releases the state file. */
  close(): Promise<void>;
  /** One line per sink, plus where the outbox is, for people. */
  describe(): string[];
}

/** An event some sinks did not take: `waiting` are those it was kept for, `lost` those it was not. */
export class EventDeliveryError extends Error {
  constructor(
    message: string,
    readonly waiting: string[],
    readonly lost: string[],
  ) {
    super(message);
    this.name = "EventDeliveryError";
  }
}

interface Sink {
  key: string;
  /** The key as messages show it (URLs without user info or query). */
  name: string;
  description: string;
  deliver: DeliverySink;
  /** Whether a failure is kept in the outbox. */
  durable: boolean;
}

function webhookLine(kind: string, url: string, signed: boolean, events: readonly string[] | undefined): string {
  return `${kind} ${displayUrl(url)}${signed ? " (signed)" : ""}${events ? `: ${events.join(", ")}` : ""}`;
}

function buildSinks(options: EventDeliveryOptions): Sink[] {
  const { policy, env } = options;
  const config = policy.events;
  const deps: WebhookDeps = { fetch: options.fetch, sleep: options.sleep, backoff: policy.retry_policy };
  const sinks: Sink[] = [];
  if (config.jsonl_file) {
    const file = path.resolve(config.jsonl_file);
    sinks.push({
      key: `jsonl:${file}`,
      name: `jsonl:${file}`,
      description: `JSON-lines file ${file}`,
      deliver: createJsonlFileSink(file),
      durable: true,
    });
  }
  if (config.stdout) {
    const write = options.write ?? ((line: string) => void process.stdout.write(line));
    sinks.push({
      key: "stdout",
      name: "stdout",
      description: "stdout",
      deliver: createStdoutSink(write),
      durable: true,
    });
  }
  for (const hook of config.webhooks) {
    sinks.push({
      key: `webhook:${hook.url}`,
      name: `webhook:${displayUrl(hook.url)}`,
      description: webhookLine("webhook", hook.url, hook.secret_env !== undefined, hook.events),
      deliver: createWebhookSink(hook, env, deps),
      durable: true,
    });
  }
  if (config.failure_webhook) {
    const hook = config.failure_webhook;
    sinks.push({
      key: `failure:${hook.url}`,
      name: `failure:${displayUrl(hook.url)}`,
      description: webhookLine("failure webhook", hook.url, hook.secret_env !== undefined, FAILURE_EVENTS),
      deliver: createFailureWebhookSink(hook, env, deps),
      durable: true,
    });
  }
  (options.extraSinks ?? []).forEach((sink, index) => {
    sinks.push({
      key: `extra:${index}`,
      name: `extra:${index}`,
      description: `extra sink ${index}`,
      deliver: (event) => sink(event),
      durable: false,
    });
  });
  const seen = new Set<string>();
  for (const sink of sinks) {
    if (seen.has(sink.key)) {
      throw new PrCreatorError(
        "invalid_config",
        `events.webhooks lists ${displayUrl(sink.key.slice("webhook:".length))} more than once.`,
        {
          hint: "Keep one entry per URL; its events list can name several events.",
        },
      );
    }
    seen.add(sink.key);
  }
  return sinks;
}

interface OutboxSource {
  where: string;
  open: () => Promise<OutboxStore>;
  /** False when nothing was ever kept there (no state file yet), so a flush need not create it. */
  exists: () => boolean;
}

/** The outbox in use: none when `events.outbox` is off; else the one given (the database), else the state file's. */
function outboxSource(options: EventDeliveryOptions): OutboxSource | null {
  if (!options.policy.events.outbox) return null;
  if (options.outbox) return { ...options.outbox, exists: () => true };
  const file = options.stateFile;
  if (file === null) return null;
  return {
    where: file,
    open: async () => outboxStore(openOutbox(file, { now: options.now })),
    exists: () => existsSync(file),
  };
}

/**
 * Builds the sinks of `policy.events` plus `extraSinks`. Throws a PrCreatorError (invalid_config) at once for
 * a webhook whose secret variable is unset, a non-HTTP URL, an unknown event name or a URL listed twice.
 * The state file is opened only when an event has to be kept or the outbox is flushed.
 */
export function createEventDelivery(options: EventDeliveryOptions): EventDelivery {
  const sinks = buildSinks(options);
  const source = outboxSource(options);
  const durable = new Map(sinks.filter((s) => s.durable).map((s) => [s.key, s.deliver]));
  let outbox: Promise<OutboxStore> | undefined;
  let closed = false;
  const inFlight = new Set<Promise<unknown>>();

  const openBox = (from: OutboxSource): Promise<OutboxStore> =>
    (outbox ??= from.open().catch((error: unknown) => {
      outbox = undefined;
      throw error;
    }));

  /** Runs `work` so that close() waits for it. */
  const track = <T>(work: () => Promise<T>): Promise<T> => {
    if (closed) return Promise.reject(new Error("The event delivery is closed."));
    const promise = work();
    inFlight.add(promise);
    void promise.catch(() => undefined).finally(() => inFlight.delete(promise));
    return promise;
  };

  const emitOne = async (event: LifecycleEvent): Promise<void> => {
    const results = await Promise.all(
      sinks.map(async (sink) => {
        const deliveryId = randomUUID();
        try {
          await sink.deliver(event, deliveryId);
          return null;
        } catch (error) {
          return { sink, deliveryId, problem: errorText(error) };
        }
      }),
    );
    const failures = results.filter((r) => r !== null);
    if (failures.length === 0) return;

    const waiting: string[] = [];
    const lost: string[] = [];
    let notKept: string | undefined;
    for (const failure of failures) {
      if (!failure.sink.durable || source === null) {
        lost.push(failure.sink.name);
        continue;
      }
      try {
        await (
          await openBox(source)
        ).add({
          sink: failure.sink.key,
          event,
          deliveryId: failure.deliveryId,
          error: failure.problem,
        });
        waiting.push(failure.sink.name);
      } catch (error) {
        notKept = errorText(error);
        lost.push(failure.sink.name);
      }
    }

    const parts = [
      `${event.event} was not delivered to ${failures.map((f) => f.sink.name).join(", ")} (${failures.map((f) => f.problem).join("; ")})`,
    ];
    if (waiting.length > 0)
      parts.push(
        `it waits in the outbox in ${source?.where} for ${waiting.join(", ")} and is sent again by the next run`,
      );
    if (lost.length > 0) {
      const why =
        notKept !== undefined
          ? `the outbox could not be written: ${notKept}`
          : source === null
            ? "the outbox is off"
            : "sinks given by the caller are not kept";
      parts.push(`it is not kept for ${lost.join(", ")} (${why})`);
    }
    throw new EventDeliveryError(parts.join("; "), waiting, lost);
  };

  return {
    emit: (event) => track(() => emitOne(event)),

    flush: () =>
      track(async () => {
        // No state file yet means nothing was ever kept: do not create one just to look.
        if (source === null || (outbox === undefined && !source.exists())) return { sent: 0, waiting: 0 };
        return (await openBox(source)).flush(durable);
      }),

    async close() {
      closed = true;
      await Promise.allSettled([...inFlight]);
      await (await outbox?.catch(() => undefined))?.close();
    },

    describe() {
      const lines = sinks.map((s) => s.description);
      lines.push(source === null ? "outbox: off" : `outbox: ${source.where}`);
      return lines;
    },
  };
}
