import { appendFile, mkdir } from "node:fs/promises";
import path from "node:path";
import type { LifecycleEvent } from "../domain/events.js";

export type EventSink = (event: LifecycleEvent) => Promise<void>;

/** Appends each event as one JSON line; the folder is created on first use. */
export function createJsonlFileSink(file: string): EventSink {
  let ready: Promise<unknown> | undefined;
  return async (event) => {
    ready ??= mkdir(path.dirname(file), { recursive: true });
    await ready;
    await appendFile(file, `${JSON.stringify(event)}\n`, "utf8");
  };
}

export function fanOut(sinks: readonly EventSink[]): EventSink {
  return async (event) => {
    for (const sink of sinks) await sink(event);
  };
}
