#!/usr/bin/env node
/**
 * The `pr-creator` executable. `--version` is answered before the agent's modules load (they take over a
 * second to import); everything else goes to the full program.
 */
import { readFileSync } from "node:fs";

const args = process.argv.slice(2);
if (args.length === 1 && (args[0] === "--version" || args[0] === "-V")) {
  const pkg = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as { version: string };
  process.stdout.write(`${pkg.version}\n`);
} else {
  await import("./program.js");
}
