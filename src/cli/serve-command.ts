import type { Command } from "commander";
import { PrCreatorError } from "../domain/errors.js";
import type { Policy } from "../domain/policy.js";
import type { RunService } from "../server/runs-queue.js";
import { EXIT } from "./exit-codes.js";
import { configOption } from "./options.js";
import type { Io } from "./run-command.js";
import { firstSignal } from "./first-signal.js";

export interface ServeCommandOptions {
  port?: string;
  host?: string;
  config?: string;
}

export interface ServeCommandDeps {
  io: Pick<Io, "stderr" | "cwd">;
  /** The bearer token, forge and model settings (default: process.env). */
  env?: Readonly<Record<string, string | undefined>>;
  /** Resolves with a name when the server should drain and stop (default: the first SIGTERM or SIGINT). */
  stopSignal?: () => Promise<string>;
}

function parsePort(text: string): number {
  if (!/^\d{1,5}$/.test(text) || Number(text) > 65_535) {
    throw new PrCreatorError("invalid_request", `--port "${text}" is not a port number.`, {
      hint: "Give a whole number from 0 to 65535 (0 picks a free port).",
    });
  }
  return Number(text);
}

/** The shared run registry and job queue in PostgreSQL, for a stateless front any number of replicas can run. */
async function postgresRuns(url: string, policy: Policy, server: Policy["server"]): Promise<RunService> {
  const [{ openDatabase }, { migrateRunRegistry, pgRunService }, { queueNameOf, runKeyOf }] = await Promise.all([
    import("../postgres/database.js"),
    import("../workers/pg-runs.js"),
    import("../workers/run-key.js"),
  ]);
  const db = await openDatabase(url, { applicationName: "pr-creator serve" });
  try {
    await migrateRunRegistry(db);
  } catch (error) {
    await db.close();
    throw error;
  }
  return pgRunService({
    db,
    queueNameOf: (input) => queueNameOf(runKeyOf(input, policy)),
    maxQueued: server.max_queued,
    now: () => new Date(),
    ownsDatabase: true,
  });
}

/** `pr-creator serve`: the HTTP API until SIGTERM or SIGINT, then a graceful drain. Resolves to the exit code. */
export async function serveCommand(opts: ServeCommandOptions, deps: ServeCommandDeps): Promise<number> {
  const port = opts.port === undefined ? undefined : parsePort(opts.port);
  if (opts.host !== undefined && opts.host.trim() === "")
    throw new PrCreatorError("invalid_request", "--host is empty.", {
      hint: "Give a host name or address such as 127.0.0.1.",
    });
  const { io } = deps;
  const env = deps.env ?? process.env;
  // The agent's modules load when the command runs, not when the program is built (pr-creator --help).
  const [{ loadPolicy }, { createAgent }] = await Promise.all([
    import("../policy/load-policy.js"),
    import("../agent/create-agent.js"),
  ]);
  const { policy } = await loadPolicy(opts.config, io.cwd);
  const server = {
    ...policy.server,
    ...(port === undefined ? {} : { port }),
    ...(opts.host === undefined ? {} : { host: opts.host.trim() }),
  };
  const { resolveDatabaseUrl } = await import("../postgres/database.js");
  const databaseUrl = resolveDatabaseUrl(policy, env);
  const stop = (deps.stopSignal ?? firstSignal)();
  // Fastify and the OpenAPI validator load only for `serve`, so every other command starts faster.
  const { createHttpServer } = await import("../server/http.js");
  const http = createHttpServer({
    agent: () => createAgent({ policy, cwd: io.cwd, env }),
    server,
    env,
    // With a database this process only accepts and answers: `pr-creator worker` processes run the runs.
    ...(databaseUrl === null ? {} : { runs: () => postgresRuns(databaseUrl, policy, server) }),
    logger: (level, message) => io.stderr(`pr-creator serve: ${level === "info" ? "" : `${level}: `}${message}\n`),
  });
  await http.listen();
  const signal = await stop;
  io.stderr(
    `pr-creator serve: ${signal}: accepting no new runs; waiting up to ${server.drain_timeout_ms} ms for running ones\n`,
  );
  const report = await http.close();
  const left = report.queued + report.running;
  io.stderr(
    `pr-creator serve: stopped; ${report.drained ? "every running run finished" : `${report.running} run${report.running === 1 ? "" : "s"} still running (cut off)`}${left > 0 ? `; ${left} run${left === 1 ? "" : "s"} will continue on the next start` : ""}\n`,
  );
  return EXIT.ok;
}

/** Adds `pr-creator serve` to the program; errors reach the program's handler (PrCreatorError: exit 2). */
export function registerServeCommand(program: Command, deps: ServeCommandDeps): Command {
  return program
    .command("serve")
    .description(
      "Serve the HTTP API: POST /v1/events, GET /v1/runs/:id, POST /v1/runs/:id/resume, /healthz, /readyz, /metrics, /openapi.json.",
    )
    .option("-p, --port <n>", "port to listen on (default: server.port, 8080; 0 picks a free one)")
    .option(
      "--host <host>",
      "address to listen on (default: server.host, 127.0.0.1); other than loopback needs the token variable (server.token_env) set",
    )
    .addOption(configOption())
    .addHelpText(
      "after",
      "\nSIGTERM or SIGINT drains: no new runs, running ones finish (server.drain_timeout_ms), queued ones continue on the next start; a second signal stops at once.\nExit codes: 0 stopped after a signal, 2 bad option or config (including a non-loopback host without a token).\n\nExample:\n  PR_CREATOR_API_TOKEN=$(openssl rand -hex 32) pr-creator serve --host 0.0.0.0 --port 8080 --config pr-creator.yaml",
    )
    .action(async (opts: ServeCommandOptions) => {
      process.exitCode = await serveCommand(opts, deps);
      // Keep-alive sockets of the forge clients may hold the event loop open after the drain; they carry nothing now.
      setTimeout(() => process.exit(), 2000).unref();
    });
}
