import { readFile } from "node:fs/promises";
import path from "node:path";
import { createAgent } from "../agent/create-agent.js";
import { buildFailedEvent } from "../agent/failed-event.js";
import type { RunResult } from "../domain/run-result.js";
import { NO_USAGE } from "../agent/state.js";
import { PrCreatorError } from "../domain/errors.js";
import { escapeControls } from "../domain/input-names.js";
import { stripUrlCredentials } from "../domain/url-credentials.js";
import type { LifecycleEvent } from "../domain/events.js";
import { createJsonlFileSink, emitAll } from "../events/sinks.js";
import { createDebugPrinter } from "./debug-printer.js";
import { exitCodeFor } from "./exit-codes.js";
import { formatHuman } from "../render/run-summary.js";

export interface RunCommandOptions {
  config?: string;
  traces?: string;
  repoPath?: string;
  events?: string;
  dryRun?: boolean;
  json?: boolean;
  watch?: boolean;
  verbose?: boolean;
}

export interface Io {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  readStdin: () => Promise<string>;
  cwd: string;
  /** Stderr is a terminal (default: process.stderr.isTTY): no JSON log lines there unless asked for. */
  terminal?: boolean;
}

/** Whether a person reads `io`'s stderr. */
export const onTerminal = (io: Io): boolean => io.terminal ?? Boolean(process.stderr.isTTY);

// Editors on Windows save UTF-8 with a byte order mark; JSON.parse would refuse it.
const withoutBom = (text: string): string => (text.charCodeAt(0) === 0xfeff ? text.slice(1) : text);

async function readEventText(source: string, io: Io): Promise<string> {
  if (source === "-") return withoutBom(await io.readStdin());
  try {
    return withoutBom(await readFile(source, "utf8"));
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new PrCreatorError(
      "invalid_event",
      `The event file ${source} ${code === "ENOENT" ? "does not exist" : `cannot be read (${code ?? String(error)})`}.`,
      {
        hint: "Pass the path of a JSON file holding a CommitCompleted event, or - to read it from standard input.",
      },
    );
  }
}

/** JSON.parse's message without the quoted input it sometimes carries (which may span lines); the token it names may be a control character. */
function jsonProblem(error: Error): string {
  const flat = error.message.replace(/\s+/g, " ");
  const quoted = /^(.*?), ".*" is not valid JSON$/.exec(flat);
  return escapeControls((quoted ? quoted[1]! : flat).slice(0, 200));
}

function parseJson(text: string, source: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    const where = source === "-" ? "standard input" : source;
    throw new PrCreatorError(
      "invalid_event",
      `The event in ${where} is not valid JSON (${jsonProblem(error as Error)}).`,
      {
        hint: "Send one JSON object such as the README's CommitCompleted example.",
      },
    );
  }
}

/**
 * A failure before the graph could run (unreadable event, bad config): still one result, and one
 * `PullRequestFailed` when the input was readable — delivered to `--events` when given, since the config
 * that names other sinks may be the very thing that is broken.
 */
async function earlyFailure(
  error: PrCreatorError,
  input: unknown | undefined,
  eventsFile: string | undefined,
): Promise<RunResult> {
  const message = stripUrlCredentials(error.paragraph);
  const events: LifecycleEvent[] =
    input === undefined
      ? []
      : [buildFailedEvent(input, { reason: error.reason, message, attempts: 0 }, error.violations, new Date())];
  const warnings = eventsFile ? await emitAll(createJsonlFileSink(eventsFile), events) : [];
  return {
    status: "failed",
    reason: error.reason,
    message,
    pr: null,
    violations: error.violations,
    events,
    merge: null,
    drafted_by: null,
    truncation: null,
    warnings,
    undelivered: warnings.length,
    usage: NO_USAGE,
    rounds: [],
    approvals: [],
    memory: { earlier_prs: [], recalled: [], possible_duplicates: [], unavailable: null },
  };
}

function agentOptions(opts: RunCommandOptions, io: Io) {
  return {
    configFile: opts.config,
    tracesFile: opts.traces,
    repoPath: opts.repoPath,
    eventsFile: opts.events,
    dryRun: opts.dryRun,
    watch: opts.watch ?? false,
    verbose: opts.verbose ?? false,
    terminal: onTerminal(io),
    cwd: io.cwd,
    defaultParseWorkers: 0,
    // Under --json stdout holds exactly one object, so events.stdout lines go to stderr instead.
    writeEvent: opts.json ? io.stderr : io.stdout,
  };
}

/** Prints a result the way every command does and returns its exit code. */
export function report(result: RunResult, json: boolean | undefined, io: Io): number {
  if (json) io.stdout(`${JSON.stringify(result, null, 2)}\n`);
  else if (result.status === "failed") io.stderr(formatHuman(result));
  else io.stdout(formatHuman(result));
  for (const warning of result.warnings) io.stderr(`warning: ${escapeControls(warning)}\n`);
  return exitCodeFor(result);
}

/** `pr-creator run <event.json | ->`: one event in, one PR (preview) or one failure out. Returns the exit code. */
export async function runCommand(source: string, opts: RunCommandOptions, io: Io): Promise<number> {
  let input: unknown | undefined;
  let result: RunResult;
  try {
    input = parseJson(await readEventText(source, io), source);
    const agent = await createAgent(agentOptions(opts, io));
    try {
      result = await agent.handle(input);
    } finally {
      await agent.close();
    }
  } catch (error) {
    if (!(error instanceof PrCreatorError)) throw error;
    result = await earlyFailure(
      error,
      input,
      opts.events === undefined ? undefined : path.resolve(io.cwd, opts.events),
    );
  }
  return report(result, opts.json, io);
}

/** `pr-creator debug <event>`: the run command, printing every node's update to stderr as it happens. */
export async function debugCommand(
  source: string,
  opts: RunCommandOptions,
  io: Io & { color: boolean },
): Promise<number> {
  const input = parseJson(await readEventText(source, io), source);
  const agent = await createAgent(agentOptions(opts, io));
  io.stderr(`drafter: ${agent.drafter}; policy: ${agent.policySource ?? "built-in"}\n`);
  try {
    const result = await agent.handle(input, { onUpdate: createDebugPrinter({ write: io.stderr, color: io.color }) });
    return report(result, opts.json, io);
  } finally {
    await agent.close();
  }
}

export interface ResumeCommandOptions extends RunCommandOptions {
  approve?: boolean;
  reject?: boolean;
  reason?: string;
  by?: string;
}

/** `pr-creator resume <thread> --approve | --reject`: a person's answer to a paused run. */
export async function resumeCommand(threadId: string, opts: ResumeCommandOptions, io: Io): Promise<number> {
  if (Boolean(opts.approve) === Boolean(opts.reject)) {
    throw new PrCreatorError("invalid_request", "Say either --approve or --reject.", {
      hint: 'Example: pr-creator resume <thread> --reject --reason "wrong trace".',
    });
  }
  const agent = await createAgent(agentOptions(opts, io));
  try {
    const by = opts.by ?? process.env.USER ?? undefined;
    const result = await agent.resume(threadId, {
      approved: Boolean(opts.approve),
      ...(opts.reason ? { reason: opts.reason } : {}),
      ...(by ? { by } : {}),
    });
    return report(result, opts.json, io);
  } finally {
    await agent.close();
  }
}
