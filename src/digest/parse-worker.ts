/**
 * A parse worker (see parse-pool.ts): loads the grammars it is asked for, once, keeps its own parse cache, and
 * answers each file's parse. Runs off the main thread so a digest never blocks the event loop of a busy server.
 */
import { parentPort, workerData } from "node:worker_threads";
import { createParseCache } from "./cache.js";
import { loadGrammars, NO_GRAMMARS } from "./grammars.js";
import type { CodeLanguage } from "./languages.js";
import { parseFile } from "./parse-file.js";
import type { FromWorker, ToWorker } from "./parse-pool.js";

const port = parentPort;
if (!port) throw new Error("parse-worker.js runs as a worker thread only");
const cache = createParseCache((workerData as { cacheBytes: number }).cacheBytes);

async function grammarsFor(grammar: { language: CodeLanguage; path: string } | null) {
  return grammar ? loadGrammars([grammar.language], { locate: () => grammar.path }) : NO_GRAMMARS;
}

/**
 * Answers go back in batches, one message per turn of this thread's event loop: a digest's ~100 files would
 * otherwise cost ~100 postMessage calls (~6 ms of a warm digest's ~60, measured).
 */
let outbox: FromWorker[] = [];
function flush(): void {
  const batch = outbox;
  outbox = [];
  port!.postMessage(batch);
}

port.on("message", (message: ToWorker) => {
  void grammarsFor(message.grammar).then((grammars) => {
    // A warm-up only loads the grammar; a job is answered whatever happens (parseFile never throws).
    if (!message.job) return;
    if (outbox.length === 0) setImmediate(flush);
    outbox.push({ id: message.id, outcome: parseFile(message.job, grammars, cache) });
  });
});

// Loaded: an empty batch tells the pool this worker can start (one that cannot makes the pool parse itself).
port.postMessage([]);
