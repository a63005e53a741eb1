import { execFile, spawnSync } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { resolveLogLevel } from "../../src/logging/run-log.js";
import { runCli } from "../helpers.js";

const MAIN = fileURLToPath(new URL("../../dist/cli/main.js", import.meta.url));
// util-linux `script` gives the CLI a pseudo-terminal, as a person's shell would.
const hasScript = process.platform === "linux" && spawnSync("script", ["--version"]).status === 0;

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), "pr-creator-tty-"));
  // Valid JSON, but not an event: the run fails at intake, after the agent has started (and logged).
  await writeFile(path.join(dir, "event.json"), "{}");
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const JSON_LINE = /^\{"level":"\w+"/m;

/** Runs the CLI on a pseudo-terminal; stdout and stderr arrive together, as on a screen. */
async function onTerminal(args: string[], env: Record<string, string> = {}): Promise<string> {
  const command = [process.execPath, MAIN, ...args].map((a) => `'${a.replaceAll("'", "'\\''")}'`).join(" ");
  const result = await promisify(execFile)("script", ["-qec", command, "/dev/null"], {
    cwd: dir,
    env: { PATH: process.env.PATH ?? "", PR_CREATOR_STATE_DIR: process.env.PR_CREATOR_STATE_DIR, ...env },
  }).catch((error: { stdout: string }) => error);
  return result.stdout.replaceAll("\r\n", "\n");
}

describe("the JSON log on a terminal", () => {
  it("is off unless asked for: by --verbose, PR_CREATOR_LOG_LEVEL or logging.level: debug", () => {
    expect(resolveLogLevel({ configured: "info", env: {}, terminal: true })).toBe("silent");
    expect(resolveLogLevel({ configured: "info", env: {}, terminal: false })).toBe("info");
    expect(resolveLogLevel({ configured: "info", env: { PR_CREATOR_LOG_LEVEL: "info" }, terminal: true })).toBe("info");
    expect(resolveLogLevel({ configured: "info", env: {}, terminal: true, verbose: true })).toBe("debug");
    expect(resolveLogLevel({ configured: "debug", env: {}, terminal: true })).toBe("debug");
  });

  it.skipIf(!hasScript)("a failed run prints only the readable paragraph on a terminal", async () => {
    const screen = await onTerminal(["run", "event.json"]);
    expect(screen).toMatch(/^✖ Rejected: invalid_event\n\nThe event is invalid: /);
    expect(screen).not.toMatch(JSON_LINE);
    // Asked for, the line is there.
    expect(await onTerminal(["run", "event.json"], { PR_CREATOR_LOG_LEVEL: "info" })).toMatch(JSON_LINE);
  });

  it("a failed run still writes the JSON line when stderr is not a terminal (pipes, CI, log collectors)", async () => {
    const result = await runCli(["run", "event.json"], { cwd: dir, env: { PATH: process.env.PATH ?? "" } });
    expect(result.code).toBe(2);
    expect(result.logs).toEqual([expect.objectContaining({ msg: "run finished", reason: "invalid_event" })]);
  });
});
