import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { expect } from "vitest";
import { PrCreatorError } from "../src/domain/errors.js";

/** Awaits a promise that must reject with an instance of `type`, and returns that error. */
export async function rejectedWith<E extends Error>(
  promise: Promise<unknown>,
  type: abstract new (...args: never[]) => E,
): Promise<E> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(type);
    return error as E;
  }
  throw new Error("expected the promise to reject");
}

/** Awaits a promise that must reject with a PrCreatorError, and returns that error. */
export function rejection(promise: Promise<unknown>): Promise<PrCreatorError> {
  return rejectedWith(promise, PrCreatorError);
}

/** Calls `build`, which must throw a PrCreatorError with reason invalid_config, and returns that error. */
export function configError(build: () => unknown): PrCreatorError {
  try {
    build();
  } catch (error) {
    expect(error).toBeInstanceOf(PrCreatorError);
    expect((error as PrCreatorError).reason).toBe("invalid_config");
    return error as PrCreatorError;
  }
  throw new Error("expected a PrCreatorError");
}

export interface CliResult {
  code: number | null;
  stdout: string;
  /** What people read on stderr: everything but the structured log lines. */
  stderr: string;
  /** The structured (pino) log lines the run wrote to stderr, parsed. */
  logs: Record<string, unknown>[];
}

const LOG_LINE = /^\{"level":"\w+","time":/;

function splitLogs(stderr: string): { stderr: string; logs: Record<string, unknown>[] } {
  const lines = stderr.split("\n");
  return {
    stderr: lines.filter((l) => !LOG_LINE.test(l)).join("\n"),
    logs: lines.filter((l) => LOG_LINE.test(l)).map((l) => JSON.parse(l) as Record<string, unknown>),
  };
}

const MAIN = fileURLToPath(new URL("../dist/cli/main.js", import.meta.url));

/**
 * Runs the built CLI (test/global-setup.ts builds dist/) as a child process with CI=true and no TTY.
 * `env` replaces the inherited environment's extra variables when given (PR_CREATOR_STATE_DIR is kept unless
 * `env` sets it); stdin gets `input`, else nothing.
 */
export function runCli(
  args: string[],
  opts: { cwd: string; env?: NodeJS.ProcessEnv; input?: string },
): Promise<CliResult> {
  const env: NodeJS.ProcessEnv = {
    // The test's own state folder (test/setup-state-dir.ts), unless `env` names one.
    PR_CREATOR_STATE_DIR: process.env.PR_CREATOR_STATE_DIR,
    ...(opts.env ?? process.env),
    CI: "true",
    NO_COLOR: "1",
  };
  delete env.PR_CREATOR_DEBUG;
  delete env.PR_CREATOR_LOG_LEVEL;
  if (!opts.env) delete env.PR_CREATOR_CONFIG;
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [MAIN, ...args], {
      cwd: opts.cwd,
      env,
      stdio: [opts.input === undefined ? "ignore" : "pipe", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout?.setEncoding("utf8").on("data", (chunk: string) => (stdout += chunk));
    child.stderr?.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stdout, ...splitLogs(stderr) }));
    child.stdin?.end(opts.input);
  });
}
