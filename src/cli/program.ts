import { readFileSync } from "node:fs";
import { Command, CommanderError } from "commander";
import { PrCreatorError } from "../domain/errors.js";
import { demoCommand } from "./demo-command.js";
import { EXIT } from "./exit-codes.js";
import { memoryImportCommand, memorySearchCommand, traceCommand } from "./memory-commands.js";
import { rollbackCommand, watchCommand } from "./merge-commands.js";
import { registerMcpCommand } from "./mcp-command.js";
import { registerReportCommand } from "./report-command.js";
import { registerServeCommand } from "./serve-command.js";
import { debugCommand, resumeCommand, runCommand, type Io } from "./run-command.js";

const pkg = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as { version: string };

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

function program(): Command {
  const cli = new Command("pr-creator")
    .description(
      "Turn a finished commit, or a requested infrastructure change, into a traceable, policy-compliant pull request — then merge it when safe, roll it back, and report.",
    )
    .version(pkg.version, "-V, --version")
    .option("--debug", "print stack traces for unexpected errors")
    .showHelpAfterError("(run with --help for usage)")
    .exitOverride()
    .hook("preAction", (cmd) => {
      debug ||= Boolean(cmd.opts().debug);
    });

  cli
    .command("run")
    .description(
      "Handle one CommitCompleted or ChangeRequested event: validate it, draft the PR, gate it, publish (preview) it and, when its risk allows, set it to merge after CI.",
    )
    .argument("<event>", "path of a JSON file holding the event, or - for standard input")
    .option("-c, --config <file>", "policy file (default: ./pr-creator.yaml if present, else built-in defaults)")
    .option("-t, --traces <file>", "trace registry YAML (overrides trace_registry in the config)")
    .option(
      "-r, --repo-path <dir>",
      "local git clone to read the commit from (default: the current directory, or the forge's API when a forge is configured)",
    )
    .option("-e, --events <file>", "append lifecycle events as JSON lines to this file (overrides events.jsonl_file)")
    .option("--dry-run", "preview only; never write to a forge, whatever forge is configured")
    .option("--json", "print exactly one JSON object with the result on stdout")
    .option(
      "-w, --watch",
      "after publishing an auto-merging PR, follow its checks and merge to the end (merge.watch_timeout_ms)",
    )
    .option("-v, --verbose", "log every node as a JSON line on stderr (debug level), besides the one line per run")
    .addHelpText(
      "after",
      "\nExit codes: 0 success, 2 rejected by input, policy or trace checks, 1 other failure, 3 awaiting approval.\n\nExample:\n  pr-creator run event.json --repo-path ../OrderService --traces traces.yaml",
    )
    .action(async (event: string, opts) => {
      process.exitCode = await runCommand(event, opts, io);
    });

  const withRunOptions = (cmd: Command) =>
    cmd
      .option("-c, --config <file>", "policy file (default: ./pr-creator.yaml if present, else built-in defaults)")
      .option("-t, --traces <file>", "trace registry YAML (overrides trace_registry in the config)")
      .option("-r, --repo-path <dir>", "local git clone to read the commit from")
      .option("--dry-run", "preview only; never write to a forge")
      .option("-e, --events <file>", "append lifecycle events as JSON lines to this file (overrides events.jsonl_file)")
      .option("--json", "print exactly one JSON object with the result on stdout")
      .option("-v, --verbose", "log every node as a JSON line on stderr (debug level)");

  withRunOptions(
    cli
      .command("debug")
      .description(
        "Run an event like `run`, printing every node's update (timing, state written, model calls, violations) to stderr.",
      )
      .argument("<event>", "path of a JSON file holding the event, or - for standard input"),
  ).action(async (event: string, opts) => {
    const color = Boolean(process.stderr.isTTY) && !process.env.NO_COLOR;
    process.exitCode = await debugCommand(event, opts, { ...io, color });
  });

  withRunOptions(
    cli
      .command("resume")
      .description(
        "Answer a run that is waiting for approval (exit code 3): continue it or end it with PullRequestFailed. Pass the same --config as the paused run (it names the state file).",
      )
      .argument("<thread>", "the thread id the paused run printed")
      .option("--approve", "create the pull request despite the violation")
      .option("--reject", "end the run with PullRequestFailed")
      .option("--reason <text>", "why; recorded with the decision and, on rejection, in the failure event")
      .option("--by <name>", "who decides (default: $USER)"),
  ).action(async (thread: string, opts) => {
    process.exitCode = await resumeCommand(thread, opts, io);
  });

  cli
    .command("trace")
    .description("Print the audit chain of a trace from memory: its PRs, commits and branches, oldest first.")
    .argument("<trace_id>", "e.g. trace-ord-8128")
    .option("-c, --config <file>", "policy file (names the state file or the Qdrant collection)")
    .option("--json", "print one JSON object")
    .action(async (traceId: string, opts) => {
      process.exitCode = await traceCommand(traceId, opts, io);
    });

  const memory = cli.command("memory").description("Search and fill the long-term memory of pull requests.");
  memory
    .command("search")
    .description("Earlier PRs most like a text (same embedder as recall).")
    .argument("<text>", "what to look for")
    .option("-s, --scope <scope>", "only this component scope")
    .option("--repo <repo>", "only this repository")
    .option("-k, --k <n>", "how many results (default 5)")
    .option("-c, --config <file>", "policy file")
    .option("--json", "print one JSON object")
    .action(async (text: string, opts) => {
      process.exitCode = await memorySearchCommand(text, opts, io);
    });
  memory
    .command("import")
    .description("Backfill memory from the configured forge's existing PRs that name a trace (repeatable).")
    .argument("<repo>", "repository name (owner/name on GitHub)")
    .option("-t, --traces <file>", "trace registry, to resolve PRs that carry only a [trace:…] title tag")
    .option("-c, --config <file>", "policy file (forge and memory settings)")
    .option("--json", "print a JSON summary")
    .action(async (repo: string, opts) => {
      process.exitCode = await memoryImportCommand(repo, opts, {
        ...io,
        progress: Boolean(process.stderr.isTTY) && !opts.json,
      });
    });

  cli
    .command("watch")
    .description(
      "Follow a PR's checks and merge to the end with a live status line; records CI and merge times for `report`.",
    )
    .argument("<pr>", "the PR id (number)")
    .requiredOption(
      "--repo <name>",
      "repository of the PR (owner/name or name on GitHub, the repository name on Azure DevOps)",
    )
    .option("-c, --config <file>", "policy file (forge, state file, merge.watch_timeout_ms, merge.poll_interval_ms)")
    .option("-e, --events <file>", "append PullRequestMerged / PullRequestMergeBlocked events to this file")
    .option("--timeout <seconds>", "give up after this long (default: merge.watch_timeout_ms)")
    .option("--interval <seconds>", "poll this often (default: merge.poll_interval_ms)")
    .option("--json", "print one JSON object with the outcome")
    .addHelpText(
      "after",
      "\nExit codes: 0 merged, 1 a check failed or the PR was closed, 3 still open when the timeout passed.",
    )
    .action(async (pr: string, opts) => {
      process.exitCode = await watchCommand(pr, opts, { ...io, live: Boolean(process.stderr.isTTY) && !opts.json });
    });

  cli
    .command("rollback")
    .description(
      "Open a PR that reverts a merged PR (Azure reverts API, GitHub revertPullRequest); it auto-merges under policy.",
    )
    .option("--pr <id>", "the merged PR to roll back (with --repo)")
    .option("--repo <name>", "repository of --pr")
    .option("--trace <trace_id>", "roll back the trace's latest PR, found in memory")
    .option("--reason <text>", "why; goes into the revert PR, the history and the event")
    .option("-w, --watch", "follow the revert PR until it merges")
    .option("-c, --config <file>", "policy file (forge, memory, rollback and merge settings)")
    .option("-e, --events <file>", "append the PullRequestRollbackCreated event to this file")
    .option("--json", "print one JSON object with the result")
    .addHelpText(
      "after",
      "\nExit codes: 0 revert PR opened (or merged), 2 bad request (not merged, unknown PR or trace), 1 forge failure or a check blocked it.",
    )
    .action(async (opts) => {
      process.exitCode = await rollbackCommand(opts, io);
    });

  registerReportCommand(cli, { io });
  registerMcpCommand(cli, { io });
  registerServeCommand(cli, { io });

  cli
    .command("demo")
    .description("Build a sample order-service repository with a feature branch and run the agent on it.")
    .option("-d, --dir <dir>", "build the sample here (a new or empty folder) instead of a temporary folder")
    .option("--json", "print the run's result as one JSON object")
    .action(async (opts) => {
      process.exitCode = await demoCommand(opts, io);
    });
  return cli;
}

try {
  await program().parseAsync(process.argv);
} catch (error) {
  if (error instanceof CommanderError) {
    process.exitCode = error.exitCode === 0 ? EXIT.ok : EXIT.rejected;
  } else if (error instanceof PrCreatorError) {
    process.stderr.write(`error: ${error.paragraph}\n`);
    process.exitCode = EXIT.rejected;
  } else {
    const detail = error instanceof Error ? error.message : String(error);
    process.stderr.write(`error: unexpected failure: ${detail}. Run with --debug for the stack trace and report it.\n`);
    if (debug && error instanceof Error) process.stderr.write(`${error.stack}\n`);
    process.exitCode = EXIT.failed;
  }
}
