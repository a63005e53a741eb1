import { Console } from "node:console";
import type { Command } from "commander";
import { EXIT } from "./exit-codes.js";
import { configOption, eventsOption, tracesOption } from "./options.js";
import type { Io } from "./run-command.js";

export interface McpCommandOptions {
  config?: string;
  traces?: string;
  repoPath?: string;
  events?: string;
}

export interface McpCommandDeps {
  io: Pick<Io, "stderr" | "cwd">;
}

/**
 * `pr-creator mcp`: serves the MCP tools on stdin/stdout until the client closes stdin or a signal arrives,
 * then lets running tool calls finish and releases the state file. A broken config fails before serving.
 */
export async function mcpCommand(opts: McpCommandOptions, deps: McpCommandDeps): Promise<number> {
  const { io } = deps;
  // Stdout carries the protocol: a stray console.log, ours or a dependency's, would corrupt it.
  globalThis.console = new Console({ stdout: process.stderr, stderr: process.stderr });
  // The MCP SDK loads only for `mcp`, so every other command starts faster.
  const [{ StdioServerTransport }, { openMcpAgents }, { createMcpServer }] = await Promise.all([
    import("@modelcontextprotocol/sdk/server/stdio.js"),
    import("../server/mcp-agents.js"),
    import("../server/mcp.js"),
  ]);
  const agents = await openMcpAgents({
    configFile: opts.config,
    tracesFile: opts.traces,
    repoPath: opts.repoPath,
    eventsFile: opts.events,
    cwd: io.cwd,
  });
  const { server, idle } = createMcpServer(agents);
  server.server.onerror = (error) => io.stderr(`pr-creator mcp: ${error.message}\n`);
  let stop = () => {};
  const stopped = new Promise<void>((resolve) => (stop = resolve));
  const signals = ["SIGINT", "SIGTERM"] as const;
  for (const signal of signals) process.once(signal, stop);
  process.stdin.once("end", stop);
  server.server.onclose = stop;
  try {
    await server.connect(new StdioServerTransport());
    io.stderr(
      `pr-creator mcp: serving on stdio; publishes to ${agents.live.publishesTo}, drafts with ${agents.live.drafter}\n`,
    );
    await stopped;
  } finally {
    for (const signal of signals) process.off(signal, stop);
    process.stdin.off("end", stop);
    await server.close();
    await idle();
    await agents.close();
  }
  return EXIT.ok;
}

/** Adds `pr-creator mcp` to the program; a config error reaches the program's handler (exit 2) before anything is served. */
export function registerMcpCommand(program: Command, deps: McpCommandDeps): Command {
  return program
    .command("mcp")
    .description(
      "Serve the agent as an MCP server on stdio: tools preview_pull_request, create_pull_request, lookup_trace, rollback_pull_request; resource pr-creator://policy.",
    )
    .addOption(configOption())
    .addOption(tracesOption())
    .option(
      "-r, --repo-path <dir>",
      "local git clone to read commits from (default: the current directory, or the forge's API when a forge is configured)",
    )
    .addOption(
      eventsOption(
        "append lifecycle events of created PRs and rollbacks as JSON lines to this file (overrides events.jsonl_file)",
      ),
    )
    .addHelpText(
      "after",
      '\nStdout carries only the protocol; logs go to stderr. Exit codes: 0 stopped (stdin closed or a signal), 2 bad option or config.\n\nExample client entry:\n  { "command": "npx", "args": ["pr-creator", "mcp", "--config", "pr-creator.yaml"] }',
    )
    .action(async (opts: McpCommandOptions) => {
      process.exitCode = await mcpCommand(opts, deps);
    });
}
