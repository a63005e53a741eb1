import type { Command } from "commander";
import { existsSync } from "node:fs";
import path from "node:path";
import { z } from "zod";
import { PrCreatorError } from "../domain/errors.js";
import type { History } from "../metrics/history.js";
import { computeReport, formatReport } from "../metrics/report.js";
import { loadPolicy } from "../policy/load-policy.js";
import { openSharedState } from "../postgres/shared-state.js";
import { checkStateFilePath } from "../state/state-db.js";
import { EXIT } from "./exit-codes.js";
import { configOption, jsonOption } from "./options.js";
import type { Io } from "./run-command.js";

export interface ReportCommandOptions {
  since?: string;
  repo?: string;
  json?: boolean;
  config?: string;
}

export interface ReportCommandDeps {
  io: Pick<Io, "stdout" | "cwd">;
  /** The end of the period and the anchor of relative --since spans (default: the clock). */
  now?: () => Date;
  /** Where PR_CREATOR_DATABASE_URL is read (default: process.env). */
  env?: Readonly<Record<string, string | undefined>>;
}

const SPAN_MS = { m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 } as const;
// At most 6 digits: 999999w is some 19 000 years, well within the range of Date.
const SPAN = /^(\d{1,6})([mhdw])$/;
const Day = z.iso.date();
const DateTimeWithZone = z.iso.datetime({ offset: true });

/** A span back from `now`, a day as midnight UTC, or a time with a zone; null for anything else (2026-02-30 too). */
function moment(text: string, now: Date): Date | null {
  const span = SPAN.exec(text);
  if (span) return new Date(now.getTime() - Number(span[1]) * SPAN_MS[span[2] as keyof typeof SPAN_MS]);
  if (Day.safeParse(text).success) return new Date(`${text}T00:00:00Z`);
  return DateTimeWithZone.safeParse(text).success ? new Date(text) : null;
}

/**
 * The start of the report's period from `--since`: a day (YYYY-MM-DD, midnight UTC), an ISO 8601 time with
 * a zone, or a span back from `now` (90m, 12h, 7d, 4w). A time without a zone is refused rather than guessed.
 */
export function parseSince(text: string, now: Date): Date {
  const since = moment(text, now);
  if (since === null) {
    throw new PrCreatorError("invalid_request", `--since "${text}" is not a date or a span.`, {
      hint: "Use YYYY-MM-DD (midnight UTC), an ISO 8601 time with a zone such as 2026-01-08T09:30:00Z or 2026-01-08T10:30:00+01:00, or a span back from now such as 90m, 12h, 7d or 4w.",
    });
  }
  if (since.getTime() > now.getTime()) {
    throw new PrCreatorError(
      "invalid_request",
      `--since ${text} is in the future (${since.toISOString()}, now is ${now.toISOString()}).`,
      {
        hint: "Give the start of the period to report on.",
      },
    );
  }
  return since;
}

/** The history in the state file, which must exist: opening would create an empty one and report on it. */
async function stateFileHistory(stateFile: string): Promise<History> {
  await checkStateFilePath(stateFile);
  if (!existsSync(stateFile)) {
    throw new PrCreatorError(
      "invalid_config",
      `The state file ${stateFile} does not exist, so no PR history has been recorded there.`,
      {
        hint: "Pass the --config the agent runs with: its state_file holds the history.",
      },
    );
  }
  // SQLite loads when a report is made, not when the program is built (pr-creator --help).
  const { openHistory } = await import("../metrics/history.js");
  return openHistory(stateFile);
}

/** `pr-creator report`: the PR history (the state file, or the shared database) measured against the success-metric targets. */
export async function reportCommand(opts: ReportCommandOptions, deps: ReportCommandDeps): Promise<number> {
  const now = (deps.now ?? (() => new Date()))();
  // Options first: a bad --since is reported before any file is touched.
  const since = opts.since === undefined ? undefined : parseSince(opts.since, now);
  const { policy } = await loadPolicy(opts.config, deps.io.cwd);
  const stateFile = path.resolve(deps.io.cwd, policy.state_file);
  // With a database the history of every worker is there, and the state file is not read.
  const shared = await openSharedState(policy, deps.env ?? process.env, stateFile);
  const source = shared.history;
  let history: History;
  try {
    history = typeof source === "object" && source !== null ? await source.open() : await stateFileHistory(stateFile);
  } catch (error) {
    await shared.close();
    throw error;
  }
  const entries = await history.list({ since, repo: opts.repo }).finally(async () => {
    await history.close();
    await shared.close();
  });
  const report = computeReport(entries, { since, now, repo: opts.repo });
  deps.io.stdout(opts.json ? `${JSON.stringify(report, null, 2)}\n` : formatReport(report));
  return EXIT.ok;
}

/** Adds `pr-creator report` to the program; errors reach the program's handler (PrCreatorError: exit 2). */
export function registerReportCommand(program: Command, deps: ReportCommandDeps): Command {
  return program
    .command("report")
    .description(
      "Measure the recorded PR history against the success-metric targets (generation, CI, merge, rollback, template compliance).",
    )
    .option(
      "--since <date>",
      "only history from then on: YYYY-MM-DD (UTC), an ISO 8601 time with a zone, or a span such as 7d, 12h, 90m, 4w",
    )
    .option("--repo <name>", "only this repository")
    .addOption(jsonOption("print the report as one JSON object"))
    .addOption(
      configOption("policy file (names the state file; default: ./pr-creator.yaml if present, else built-in defaults)"),
    )
    .addHelpText(
      "after",
      "\nExit codes: 0 report printed, 2 bad option, config or state file.\n\nExample:\n  pr-creator report --since 7d --repo OrderService",
    )
    .action(async (opts: ReportCommandOptions) => {
      process.exitCode = await reportCommand(opts, deps);
    });
}
