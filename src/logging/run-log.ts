import { pino, type DestinationStream, type Logger } from "pino";
import { PrCreatorError } from "../domain/errors.js";
import { AGENT_NAME } from "../domain/events.js";
import type { DraftedBy } from "../domain/pull-request.js";
import type { RunResult, RunStatus } from "../domain/run-result.js";
import type { NodeStep, RunOutcome, SeedStatus } from "../telemetry/run-trace.js";
import { describeSetting } from "../domain/input-names.js";
import { stripUrlCredentials, urlCredentials } from "../domain/url-credentials.js";
import { redactKeys, scrubber } from "./redact.js";

export type { Logger } from "pino";

export const LOG_LEVELS = ["silent", "error", "warn", "info", "debug"] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export interface LoggerOptions {
  level: LogLevel;
  /** Default: stderr, written synchronously so the last line survives the CLI's exit (stdout is the CLI's JSON). */
  destination?: DestinationStream;
  /** Values scrubbed from every line wherever they appear (tokens, keys): see secretValuesFromEnv. */
  secrets?: readonly string[];
}

/**
 * A pino logger writing one JSON object per line: `level` as a name, `time` in ISO 8601, no pid/hostname.
 * Values under secret-looking keys are redacted at any depth, and the given secret values are scrubbed
 * from the finished line, message and error stacks included; so is the user info of every URL in it.
 */
export function createLogger(options: LoggerOptions): Logger {
  const redactObject = (object: Record<string, unknown>) => redactKeys(object) as Record<string, unknown>;
  const scrub = scrubber(options.secrets ?? []);
  return pino(
    {
      level: options.level,
      base: null,
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }), bindings: redactObject, log: redactObject },
      hooks: { streamWrite: (line) => stripUrlCredentials(scrub(line)) },
    },
    options.destination ?? pino.destination({ fd: 2, sync: true }),
  );
}

/**
 * --verbose beats PR_CREATOR_LOG_LEVEL, which beats the config's `logging.level`. On a terminal (`terminal`:
 * stderr is a TTY) JSON lines are for machines, not people: the log is off unless asked for by --verbose,
 * PR_CREATOR_LOG_LEVEL, or `logging.level: debug`.
 */
export function resolveLogLevel(options: {
  configured: LogLevel;
  env?: Readonly<Record<string, string | undefined>>;
  verbose?: boolean;
  terminal?: boolean;
}): LogLevel {
  if (options.verbose) return "debug";
  const raw = (options.env ?? process.env).PR_CREATOR_LOG_LEVEL?.trim();
  const fromEnv = raw?.toLowerCase();
  if (!fromEnv) return options.terminal && options.configured !== "debug" ? "silent" : options.configured;
  if (!(LOG_LEVELS as readonly string[]).includes(fromEnv)) {
    throw new PrCreatorError(
      "invalid_config",
      `${describeSetting("PR_CREATOR_LOG_LEVEL", raw!, secretValuesFromEnv({ ...process.env, ...options.env }))}, which is not a log level.`,
      {
        hint: `Use one of ${LOG_LEVELS.join(", ")}, or unset it to use logging.level from the config.`,
      },
    );
  }
  return fromEnv as LogLevel;
}

const SECRET_ENV = /(TOKEN|SECRET|PASSWORD|API_KEY|PRIVATE_KEY|_PAT)$/;

/**
 * The values of secret-looking variables (GITHUB_TOKEN, OPENAI_API_KEY, …), of the named ones (e.g. a
 * webhook's secret_env), and the user info of URLs in any variable.
 */
export function secretValuesFromEnv(
  env: Readonly<Record<string, string | undefined>>,
  names: readonly string[] = [],
): string[] {
  const wanted = (name: string) => SECRET_ENV.test(name) || names.includes(name);
  const values = Object.entries(env)
    .filter(([name, value]) => wanted(name) && value !== undefined && value.trim() !== "")
    .map(([, value]) => value!.trim());
  // A password in any variable's URL (GITHUB_API_URL=https://user:password@host) is a secret too.
  const inUrls = Object.values(env).flatMap((value) => (value ? urlCredentials(value) : []));
  return [...new Set([...values, ...inUrls])];
}

/** The seed's per-run log fields, in the seed's order, then extras that are left out when unknown. */
export interface RunLogLine {
  agent: typeof AGENT_NAME;
  execution_id: string;
  trace_id: string | null;
  repo: string | null;
  branch: string | null;
  status: SeedStatus;
  pr_id: number | string | null;
  duration_ms: number;
  /** When the run ended, ISO 8601 to the second as in the seed. */
  timestamp: string;
  outcome: RunStatus;
  /** The failure reason, or why a paused run waits. */
  reason?: string;
  component_scope?: string;
  otel_trace_id?: string;
  pr_url?: string;
  drafted_by?: DraftedBy;
  rounds?: number;
  usage?: RunResult["usage"];
  risk?: "low" | "medium" | "high";
  merge?: NonNullable<RunResult["merge"]>["status"];
  warnings?: number;
  undelivered?: number;
}

/**
 * The run's log line from its traced outcome (so the line and the spans agree on status, pr_id and
 * duration) and, when the runner returned one, its result. `result` is null when the runner threw.
 */
export function runLogLine(result: RunResult | null, outcome: RunOutcome): RunLogLine {
  const line: RunLogLine = {
    agent: AGENT_NAME,
    execution_id: outcome.execution_id,
    trace_id: outcome.trace_id,
    repo: outcome.repo,
    branch: outcome.branch,
    status: outcome.status,
    pr_id: outcome.pr_id,
    duration_ms: outcome.duration_ms,
    timestamp: new Date(outcome.finished_at).toISOString().replace(/\.\d{3}Z$/, "Z"),
    outcome: outcome.outcome,
  };
  const reason = outcome.error_type ?? result?.reason;
  if (reason) line.reason = reason;
  if (outcome.component_scope) line.component_scope = outcome.component_scope;
  if (outcome.otel_trace_id) line.otel_trace_id = outcome.otel_trace_id;
  if (!result) return line;
  if (result.pr?.url) line.pr_url = result.pr.url;
  if (result.drafted_by) line.drafted_by = result.drafted_by;
  if (result.rounds.length > 0) line.rounds = result.rounds.length;
  line.usage = result.usage;
  if (result.pr?.risk) line.risk = result.pr.risk.level;
  if (result.merge) line.merge = result.merge.status;
  if (result.warnings.length > 0) line.warnings = result.warnings.length;
  if (result.undelivered > 0) line.undelivered = result.undelivered;
  return line;
}

/** Writes the run's one info line and returns it. */
export function logRun(logger: Logger, result: RunResult | null, outcome: RunOutcome): RunLogLine {
  const line = runLogLine(result, outcome);
  logger.info(line, "run finished");
  return line;
}

/** One debug line per node (the CLI's --verbose); nothing is built below debug. */
export function logNode(logger: Logger, step: NodeStep): void {
  if (!logger.isLevelEnabled("debug")) return;
  const { failure, ...fields } = step;
  logger.debug(failure ? { ...fields, failure } : fields, "node finished");
}
