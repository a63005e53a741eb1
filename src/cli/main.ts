#!/usr/bin/env node
/**
 * The `pr-creator` executable. `--version` is answered before the program's modules load; everything else goes
 * to the full program.
 */
import { readFileSync } from "node:fs";
import { setFlagsFromString } from "node:v8";

const args = process.argv.slice(2);
if (args.length === 1 && (args[0] === "--version" || args[0] === "-V")) {
  const pkg = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as { version: string };
  process.stdout.write(`${pkg.version}\n`);
} else {
  // The digest's tree-sitter grammars (WASM, up to 5 MB) run on V8's baseline compiler only, in this process and
  // its parse workers. Tiering their huge lexers up to TurboFan cost ~150 ms of CPU per dry run (a small file's
  // parse 78 → 19 ms without it) and did not pay off even over a 2 MB parse (1.23 → 1.05 s).
  setFlagsFromString("--liftoff-only");
  // zod compiles a parser per object schema on its first parse (new Function): a run parses dozens of schemas once
  // each (policy, event, traces, results), so compiling cost more than it saved (the policy's first parse 18–48 →
  // 4 ms). It must be set before any schema is built, hence before the program's modules load.
  (await import("zod")).config({ jitless: true });
  await import("./program.js");
}
