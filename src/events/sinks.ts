import { appendFile, mkdir } from "node:fs/promises";
import path from "node:path";
import type { LifecycleEvent } from "../domain/events.js";
import { errorText } from "../domain/errors.js";

export type EventSink = (event: LifecycleEvent) => Promise<void>;

/**
 * A sink as the delivery layer calls it: with the id of this delivery, which stays the same when the
 * outbox sends the event again, so a receiver can drop a copy it already has. Every EventSink is one.
 */
export type DeliverySink = (event: LifecycleEvent, deliveryId: string) => Promise<void>;

/** Writes each event as one JSON line; `write` gets the line with its trailing newline. */
export function createStdoutSink(write: (line: string) => void): EventSink {
  return async (event) => {
    write(`${JSON.stringify(event)}\n`);
  };
}

/** Appends each event as one JSON line; the folder is created on first use. */
export function createJsonlFileSink(file: string): EventSink {
  return async (event) => {
    try {
      await mkdir(path.dirname(file), { recursive: true });
      await appendFile(file, `${JSON.stringify(event)}\n`, "utf8");
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code ?? String(error);
      throw new Error(`could not append ${event.event} to the events file ${file} (${code})`, { cause: error });
    }
  };
}

/** Emits and turns a delivery failure into a warning: the run's outcome stands and the caller still gets the event. */
export async function emitAll(emit: EventSink, events: readonly LifecycleEvent[]): Promise<string[]> {
  const warnings: string[] = [];
  for (const event of events) {
    try {
      await emit(event);
    } catch (error) {
      warnings.push(`Event delivery failed: ${errorText(error)}.`);
    }
  }
  return warnings;
}
