/**
 * The `pr-creator` command tree: every command, its options and help. Building it has no side effect, so the
 * help can be read without running anything; program.ts parses the command line with it and reports errors.
 * A command's module is imported by its action, when that command runs: the agent's modules (LangGraph, the
 * forge clients, SQLite, the model stack) take most of a second to load, which `--help` should not pay. The
 * `register…` modules below keep their own heavy imports inside their actions.
 */
import { readFileSync } from "node:fs";
import { Command, Option } from "commander";
import { registerConfigCommand } from "./config-command.js";
import { registerMcpCommand } from "./mcp-command.js";
import { configOption, eventArgument, eventsOption, jsonOption, tracesOption } from "./options.js";
import { registerReportCommand } from "./report-command.js";
import { registerServeCommand } from "./serve-command.js";
import { registerWorkerCommand } from "./worker-command.js";
import type { Io } from "./run-command.js";

const pkg = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as { version: string };

export interface ProgramHooks {
  /** Before a command's action: whether --debug (the program's) and --json (the command's) were given. */
  beforeAction?: (flags: { debug: boolean; json: boolean }) => void;
}

const RESULT_JSON_HELP = "print exactly one JSON object with the result on stdout";

/**
 * The options `run`, `debug` and `resume` share. `run` documents each at length (it is the command people
 * read first); the others keep the short forms, in their own order.
 */
function runOptions(cmd: Command, detailed: boolean): Command {
  const repoPath = new Option(
    "-r, --repo-path <dir>",
    detailed
      ? "local git clone to read the commit from (default: the current directory, or the forge's API when a forge is configured)"
      : "local git clone to read the commit from",
  );
  const dryRun = new Option(
    "--dry-run",
    detailed
      ? "preview only; never write to a forge, whatever forge is configured"
      : "preview only; never write to a forge",
  );
  const verbose = new Option(
    "-v, --verbose",
    detailed
      ? "log every node as a JSON line on stderr (debug level), besides the one line per run"
      : "log every node as a JSON line on stderr (debug level)",
  );
  cmd.addOption(configOption()).addOption(tracesOption()).addOption(repoPath);
  if (detailed) cmd.addOption(eventsOption()).addOption(dryRun);
  else cmd.addOption(dryRun).addOption(eventsOption());
  cmd.addOption(jsonOption(RESULT_JSON_HELP));
  if (detailed)
    cmd.option(
      "-w, --watch",
      "after publishing an auto-merging PR, follow its checks and merge to the end (merge.watch_timeout_ms)",
    );
  return cmd.addOption(verbose);
}

/** The whole command tree, with `io` for the commands' output. */
export function buildProgram(io: Io, hooks: ProgramHooks = {}): Command {
  const cli = new Command("pr-creator")
    .description(
      "Turn a finished commit, or a requested infrastructure change, into a traceable, policy-compliant pull request — then merge it when safe, roll it back, and report.",
    )
    .version(pkg.version, "-V, --version")
    .option("--debug", "print stack traces for unexpected errors")
    .showHelpAfterError("(run with --help for usage)")
    .exitOverride()
    .hook("preAction", (cmd, action) => {
      hooks.beforeAction?.({ debug: Boolean(cmd.opts().debug), json: Boolean(action.opts().json) });
    });

  runOptions(
    cli
      .command("run")
      .description(
        "Handle one CommitCompleted or ChangeRequested event: validate it, draft the PR, gate it, publish (preview) it and, when its risk allows, set it to merge after CI.",
      )
      .addArgument(eventArgument()),
    true,
  )
    .addHelpText(
      "after",
      "\nExit codes: 0 success, 2 rejected by input, policy or trace checks, 1 other failure, 3 awaiting approval.\n\nExample:\n  pr-creator run event.json --repo-path ../OrderService --traces traces.yaml",
    )
    .action(async (event: string, opts) => {
      const { runCommand } = await import("./run-command.js");
      process.exitCode = await runCommand(event, opts, io);
    });

  runOptions(
    cli
      .command("debug")
      .description(
        "Run an event like `run`, printing every node's update (timing, state written, model calls, violations) to stderr.",
      )
      .addArgument(eventArgument()),
    false,
  ).action(async (event: string, opts) => {
    const color = Boolean(process.stderr.isTTY) && !process.env.NO_COLOR;
    const { debugCommand } = await import("./run-command.js");
    process.exitCode = await debugCommand(event, opts, { ...io, color });
  });

  runOptions(
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
    false,
  ).action(async (thread: string, opts) => {
    const { resumeCommand } = await import("./run-command.js");
    process.exitCode = await resumeCommand(thread, opts, io);
  });

  cli
    .command("trace")
    .description("Print the audit chain of a trace from memory: its PRs, commits and branches, oldest first.")
    .argument("<trace_id>", "e.g. trace-ord-8128")
    .addOption(configOption("policy file (names the state file or the Qdrant collection)"))
    .addOption(jsonOption())
    .action(async (traceId: string, opts) => {
      const { traceCommand } = await import("./memory-commands.js");
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
    .addOption(configOption("policy file"))
    .addOption(jsonOption())
    .action(async (text: string, opts) => {
      const { memorySearchCommand } = await import("./memory-commands.js");
      process.exitCode = await memorySearchCommand(text, opts, io);
    });
  memory
    .command("import")
    .description("Backfill memory from the configured forge's existing PRs that name a trace (repeatable).")
    .argument("<repo>", "repository name (owner/name on GitHub)")
    .addOption(tracesOption("trace registry, to resolve PRs that carry only a [trace:…] title tag"))
    .addOption(configOption("policy file (forge and memory settings)"))
    .addOption(jsonOption("print a JSON summary"))
    .action(async (repo: string, opts) => {
      const { memoryImportCommand } = await import("./memory-commands.js");
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
    .addOption(configOption("policy file (forge, state file, merge.watch_timeout_ms, merge.poll_interval_ms)"))
    .addOption(eventsOption("append PullRequestMerged / PullRequestMergeBlocked events to this file"))
    .option("--timeout <seconds>", "give up after this long (default: merge.watch_timeout_ms)")
    .option("--interval <seconds>", "poll this often (default: merge.poll_interval_ms)")
    .addOption(jsonOption("print one JSON object with the outcome"))
    .addHelpText(
      "after",
      "\nExit codes: 0 merged, 1 a check failed or the PR was closed, 3 still open when the timeout passed.",
    )
    .action(async (pr: string, opts) => {
      const { watchCommand } = await import("./merge-commands.js");
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
    .addOption(configOption("policy file (forge, memory, rollback and merge settings)"))
    .addOption(eventsOption("append the PullRequestRollbackCreated event to this file"))
    .addOption(jsonOption("print one JSON object with the result"))
    .addHelpText(
      "after",
      "\nExit codes: 0 revert PR opened (or merged), 2 bad request (not merged, unknown PR or trace), 1 forge failure or a check blocked it.",
    )
    .action(async (opts) => {
      const { rollbackCommand } = await import("./merge-commands.js");
      process.exitCode = await rollbackCommand(opts, io);
    });

  registerReportCommand(cli, { io });
  registerMcpCommand(cli, { io });
  registerServeCommand(cli, { io });
  registerWorkerCommand(cli, { io });

  cli
    .command("demo")
    .description("Build a sample order-service repository with a feature branch and run the agent on it.")
    .option("-d, --dir <dir>", "build the sample here (a new or empty folder) instead of a temporary folder")
    .addOption(jsonOption("print the run's result as one JSON object"))
    .action(async (opts) => {
      const { demoCommand } = await import("./demo-command.js");
      process.exitCode = await demoCommand(opts, io);
    });
  registerConfigCommand(cli, { io });
  return cli;
}
