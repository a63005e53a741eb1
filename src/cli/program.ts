import { CommanderError } from "commander";
import { PrCreatorError } from "../domain/errors.js";
import { escapeControls } from "../domain/input-names.js";
import { stripUrlCredentials } from "../domain/url-credentials.js";
import { buildProgram } from "./build-program.js";
import { EXIT } from "./exit-codes.js";
import type { Io } from "./run-command.js";

async function readStdin(): Promise<string> {
  if (process.stdin.isTTY) {
    throw new PrCreatorError("invalid_event", "No event on standard input.", {
      hint: "Pipe a CommitCompleted event in (cat event.json | pr-creator run -), or pass a file path.",
    });
  }
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}

const io: Io = {
  stdout: (t) => process.stdout.write(t),
  stderr: (t) => process.stderr.write(t),
  readStdin,
  cwd: process.cwd(),
};

let debug = process.env.PR_CREATOR_DEBUG === "1";
/** Whether the command that failed was asked for --json: then stdout still gets exactly one JSON object. */
let json = false;

/**
 * An error no command turned into its own output: one `error:` line on stderr (control characters from the
 * input escaped) or, under --json, `{status: "failed", reason, message}` on stdout. Returns the exit code.
 */
function reportError(error: unknown): number {
  if (error instanceof CommanderError) return error.exitCode === 0 ? EXIT.ok : EXIT.rejected;
  const known = error instanceof PrCreatorError;
  const message = stripUrlCredentials(
    known
      ? error.paragraph
      : `unexpected failure: ${error instanceof Error ? error.message : String(error)}. Run with --debug for the stack trace and report it.`,
  );
  if (json) {
    const reason = known ? error.reason : "internal_error";
    process.stdout.write(`${JSON.stringify({ status: "failed", reason, message }, null, 2)}\n`);
  } else process.stderr.write(`error: ${escapeControls(message)}\n`);
  if (!known && debug && error instanceof Error)
    process.stderr.write(`${escapeControls(stripUrlCredentials(String(error.stack)), "\n")}\n`);
  return known ? EXIT.rejected : EXIT.failed;
}

try {
  await buildProgram(io, {
    beforeAction: (flags) => {
      debug ||= flags.debug;
      json = flags.json;
    },
  }).parseAsync(process.argv);
} catch (error) {
  process.exitCode = reportError(error);
}
