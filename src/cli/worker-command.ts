import type { Command } from "commander";
import { PrCreatorError } from "../domain/errors.js";
import { EXIT } from "./exit-codes.js";
import { configOption } from "./options.js";
import type { Io } from "./run-command.js";
import { firstSignal } from "./first-signal.js";

export interface WorkerCommandOptions {
  concurrency?: string;
  config?: string;
}

export interface WorkerCommandDeps {
  io: Pick<Io, "stderr" | "cwd">;
  /** The database URL, forge and model settings (default: process.env). */
  env?: Readonly<Record<string, string | undefined>>;
  /** Resolves with a name when the worker should drain and stop (default: the first SIGTERM or SIGINT). */
  stopSignal?: () => Promise<string>;
}

const MAX_CONCURRENCY = 256;

function parseConcurrency(text: string | undefined): number {
  if (text === undefined) return 4;
  if (!/^\d{1,3}$/.test(text) || Number(text) < 1 || Number(text) > MAX_CONCURRENCY) {
    throw new PrCreatorError("invalid_request", `--concurrency "${text.slice(0, 20)}" is not a number of runs.`, {
      hint: `Give a whole number from 1 to ${MAX_CONCURRENCY}.`,
    });
  }
  return Number(text);
}

/**
 * `pr-creator worker`: runs the runs `serve` accepted into PostgreSQL until SIGTERM or SIGINT, then finishes
 * or hands back the runs in flight. Resolves to the exit code.
 */
export async function workerCommand(opts: WorkerCommandOptions, deps: WorkerCommandDeps): Promise<number> {
  const concurrency = parseConcurrency(opts.concurrency);
  const { io } = deps;
  const env = deps.env ?? process.env;
  const say = (level: "info" | "warn" | "error", message: string) =>
    io.stderr(`pr-creator worker: ${level === "info" ? "" : `${level}: `}${message}\n`);
  // The agent's and the queue's modules load only for this command.
  const [
    { loadPolicy },
    { createAgent },
    { openDatabase, resolveDatabaseUrl, DATABASE_URL_ENV },
    workers,
    pgCheckpoints,
  ] = await Promise.all([
    import("../policy/load-policy.js"),
    import("../agent/create-agent.js"),
    import("../postgres/database.js"),
    import("../workers/worker.js"),
    import("../workers/pg-checkpoints.js"),
  ]);
  const { policy } = await loadPolicy(opts.config, io.cwd);
  const url = resolveDatabaseUrl(policy, env);
  if (url === null) {
    throw new PrCreatorError(
      "invalid_config",
      "pr-creator worker needs a PostgreSQL database and none is configured.",
      {
        hint: `Set ${DATABASE_URL_ENV} (or database.url in the config) to the database pr-creator serve uses.`,
      },
    );
  }
  const stop = (deps.stopSignal ?? firstSignal)();
  // Each run holds a connection for its PR's lock besides the queue's and the checkpointer's own queries.
  const db = await openDatabase(url, { max: concurrency * 2 + 4, applicationName: "pr-creator worker" });
  try {
    const { migrateRunRegistry } = await import("../workers/pg-runs.js");
    await migrateRunRegistry(db);
    const saver = await pgCheckpoints.openPostgresCheckpoints(db.pool);
    const agent = await createAgent({ policy, cwd: io.cwd, env, checkpointer: saver, database: db });
    try {
      const worker = await workers.startWorker({ db, url, agent, concurrency, log: say });
      say("info", `${worker.poolId} taking runs from ${db.url}, ${concurrency} at a time`);
      const ended = await Promise.race([stop, worker.done.then(() => null)]);
      if (ended === null) {
        say("error", "the job queue stopped on its own");
        return EXIT.failed;
      }
      const timeout = policy.server.drain_timeout_ms;
      say("info", `${ended}: taking no new runs; waiting up to ${timeout} ms for running ones`);
      const report = await worker.stop(timeout);
      say(
        "info",
        `stopped; ${report.drained ? "every running run finished" : `${report.released} run${report.released === 1 ? "" : "s"} handed back to other workers (they continue from their last checkpoint)`}`,
      );
      return EXIT.ok;
    } finally {
      await agent.close();
    }
  } finally {
    await db.close();
  }
}

/** Adds `pr-creator worker` to the program; errors reach the program's handler (PrCreatorError: exit 2). */
export function registerWorkerCommand(program: Command, deps: WorkerCommandDeps): Command {
  return program
    .command("worker")
    .description(
      "Run the runs `pr-creator serve` accepted into PostgreSQL (PR_CREATOR_DATABASE_URL): as many workers on as many machines as needed, one run at a time per PR.",
    )
    .option("--concurrency <n>", "runs at once in this process (default 4)")
    .addOption(configOption())
    .addHelpText(
      "after",
      "\nSIGTERM or SIGINT drains: no new runs, running ones finish (server.drain_timeout_ms), the rest go back to the queue for other workers; a second signal stops at once.\nExit codes: 0 stopped after a signal, 1 the queue failed, 2 bad option or config (including no database).\n\nExample:\n  PR_CREATOR_DATABASE_URL=postgres://pr-creator@db:5432/pr_creator pr-creator worker --concurrency 8 --config pr-creator.yaml",
    )
    .action(async (opts: WorkerCommandOptions) => {
      process.exitCode = await workerCommand(opts, deps);
      // Keep-alive sockets of the forge clients may hold the event loop open; they carry nothing now.
      setTimeout(() => process.exit(), 2000).unref();
    });
}
