import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";

export interface GitResult {
  code: number;
  stdout: Buffer;
  stderr: string;
}

/** Starts git commands. Never rejects on a non-zero exit; rejects only when git cannot be started. */
export interface GitLauncher {
  run(binary: string, cwd: string, args: readonly string[]): Promise<GitResult>;
  /** Ends the launcher's long-lived processes; a later run starts them again. */
  close(): void;
}

/** Starts each command from this process, in `env`: what every platform can do. */
export function directLauncher(env: NodeJS.ProcessEnv): GitLauncher {
  return {
    run: (binary, cwd, args) => spawnGit(binary, cwd, args, { env }),
    close: () => undefined,
  };
}

/** One git process started from this process, with `input` on its stdin when given. */
export function spawnGit(
  binary: string,
  cwd: string,
  args: readonly string[],
  opts: { env: NodeJS.ProcessEnv; input?: Buffer },
): Promise<GitResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(binary, args, {
      cwd,
      env: opts.env,
      stdio: [opts.input === undefined ? "ignore" : "pipe", "pipe", "pipe"],
      windowsHide: true,
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout?.on("data", (chunk: Buffer) => out.push(chunk));
    child.stderr?.on("data", (chunk: Buffer) => err.push(chunk));
    child.on("error", reject);
    child.on("close", (code, signal) => {
      resolve({
        code: code ?? (signal ? 128 : 1),
        stdout: Buffer.concat(out),
        stderr: Buffer.concat(err).toString("utf8"),
      });
    });
    if (child.stdin) {
      // git may exit before reading all input; that is reported through the exit code, not EPIPE.
      child.stdin.on("error", () => undefined);
      child.stdin.end(opts.input);
    }
  });
}

/** Quotes one word for a POSIX shell: nothing in it is expanded (a `'` closes, escapes and reopens the quote). */
export const shellQuote = (word: string): string => `'${word.replaceAll("'", `'\\''`)}'`;

/** Shells kept per launcher: the commands a PR runs side by side (log and diff) each get one. */
const SHELLS = 3;
/** An idle shell ends after this long; the next command starts a new one. */
const SHELL_IDLE_MS = 60_000;

/** A long-lived `sh` that runs one command at a time, each answer framed by a random token. */
interface Shell {
  busy: boolean;
  run(binary: string, cwd: string, args: readonly string[]): Promise<GitResult>;
  end(): void;
}

/**
 * Starts git from a few long-lived POSIX shells instead of from this process. On Linux, Node starts a process by
 * forking itself first, and a fork costs in proportion to the memory the process has touched: about 1 ms from a
 * fresh node, 5–10 ms of blocked event loop from an agent of 150 MB, for every git command. A shell is a few
 * hundred kilobytes, so forking it is nearly free. Each command is written to a shell as one line — every word
 * single-quoted, git's stdin from /dev/null so it cannot read the commands that follow — and its answer is told
 * apart by a random token printed after git exits, on stdout with the exit code and on stderr. A shell that dies
 * fails only the command it ran; the next command starts another. Where there is no `sh` (Windows, or a start
 * that fails), commands are started directly.
 */
export function shellLauncher(opts: { env: NodeJS.ProcessEnv; shell?: string }): GitLauncher {
  const shellPath = opts.shell ?? "/bin/sh";
  const shells: Shell[] = [];
  const queue: Array<() => void> = [];
  let unusable = process.platform === "win32";

  const release = (shell: Shell) => {
    shell.busy = false;
    queue.shift()?.();
  };

  const acquire = async (): Promise<Shell> => {
    for (;;) {
      const free = shells.find((s) => !s.busy);
      if (free) {
        free.busy = true;
        return free;
      }
      if (shells.length < SHELLS) {
        const shell = startShell(shellPath, opts.env, () => {
          const at = shells.indexOf(shell);
          if (at !== -1) shells.splice(at, 1);
        });
        shell.busy = true;
        shells.push(shell);
        return shell;
      }
      await new Promise<void>((resolve) => queue.push(resolve));
    }
  };

  return {
    async run(binary, cwd, args) {
      if (unusable) return spawnGit(binary, cwd, args, { env: opts.env });
      const shell = await acquire();
      let result: GitResult;
      try {
        result = await shell.run(binary, cwd, args);
      } catch (error) {
        if (!(error instanceof ShellUnavailable)) throw error;
        // No shell here (or it cannot start): every command from now on is started directly.
        unusable = true;
        return spawnGit(binary, cwd, args, { env: opts.env });
      } finally {
        release(shell);
      }
      // The shell's "command not found": as a direct start would, reject (the binary is missing, git said nothing).
      if (result.code === 127 && result.stdout.length === 0 && /not found/i.test(result.stderr))
        throw Object.assign(new Error(`spawn ${binary} ENOENT (${result.stderr.trim()})`), { code: "ENOENT" });
      return result;
    },
    close() {
      for (const shell of shells.splice(0)) shell.end();
    },
  };
}

/** The shell could not be started at all: fall back to starting git directly. */
class ShellUnavailable extends Error {}

function startShell(shellPath: string, env: NodeJS.ProcessEnv, gone: () => void): Shell {
  let child: ChildProcess | null = null;
  let started = false;
  let idle: NodeJS.Timeout | undefined;
  let out: Buffer = Buffer.alloc(0);
  let err: Buffer = Buffer.alloc(0);
  let pending: { token: string; resolve: (r: GitResult) => void; reject: (e: Error) => void } | undefined;

  const hold = (on: boolean) => {
    for (const pipe of [child?.stdin, child?.stdout, child?.stderr] as ({ ref?(): void; unref?(): void } | null)[])
      (on ? pipe?.ref : pipe?.unref)?.call(pipe);
    clearTimeout(idle);
    if (!on) idle = setTimeout(() => shell.end(), SHELL_IDLE_MS).unref();
  };

  /** Settles the pending command once both its stdout frame (`\n<token> <code>\n`) and stderr frame are in. */
  const settle = () => {
    if (!pending) return;
    const marker = Buffer.from(`\n${pending.token} `);
    const at = out.indexOf(marker);
    if (at === -1) return;
    const end = out.indexOf(0x0a, at + marker.length);
    if (end === -1) return;
    const errMarker = Buffer.from(`${pending.token}\n`);
    const errAt = err.indexOf(errMarker);
    if (errAt === -1) return;
    const code = Number(out.subarray(at + marker.length, end).toString("latin1"));
    const result: GitResult = {
      code: Number.isInteger(code) ? code : 1,
      stdout: Buffer.from(out.subarray(0, at)),
      stderr: err.subarray(0, errAt).toString("utf8"),
    };
    out = out.subarray(end + 1);
    err = err.subarray(errAt + errMarker.length);
    const done = pending;
    pending = undefined;
    hold(false);
    done.resolve(result);
  };

  const fail = (error: Error) => {
    const done = pending;
    pending = undefined;
    done?.reject(error);
  };

  const start = (): ChildProcess => {
    const proc = spawn(shellPath, [], { env, stdio: ["pipe", "pipe", "pipe"], windowsHide: true });
    proc.stdout!.on("data", (chunk: Buffer) => {
      out = out.length === 0 ? chunk : Buffer.concat([out, chunk]);
      settle();
    });
    proc.stderr!.on("data", (chunk: Buffer) => {
      err = err.length === 0 ? chunk : Buffer.concat([err, chunk]);
      settle();
    });
    proc.stdin!.on("error", () => undefined);
    proc.on("spawn", () => (started = true));
    // Only the shell in use counts: one ended on purpose (idle, close) has already been let go.
    proc.on("error", (error) => {
      if (child !== proc) return;
      child = null;
      fail(started ? error : new ShellUnavailable(error.message));
      gone();
    });
    // "exit", not "close": a command the dead shell started may hold its pipes open long after.
    proc.on("exit", (code) => {
      if (child !== proc) return;
      child = null;
      fail(new Error(`the shell running git exited (${code ?? "signal"})`));
      gone();
    });
    // The process never holds the event loop open by itself: only a command in flight does (its pipes, hold()).
    proc.unref();
    return proc;
  };

  const shell: Shell = {
    busy: false,
    run(binary, cwd, args) {
      return new Promise<GitResult>((resolve, reject) => {
        child ??= start();
        hold(true);
        const token = randomBytes(16).toString("hex");
        pending = { token, resolve, reject };
        // cd first: a directory that is gone fails this command (git's exit code 128 semantics are kept by git).
        const command = [binary, ...args].map(shellQuote).join(" ");
        child.stdin!.write(
          `cd ${shellQuote(cwd)} && ${command} </dev/null; printf '\\n%s %s\\n' ${token} "$?"; printf '%s\\n' ${token} >&2\n`,
        );
      });
    },
    end() {
      clearTimeout(idle);
      const proc = child;
      child = null;
      out = Buffer.alloc(0);
      err = Buffer.alloc(0);
      fail(new Error("the shell running git was closed"));
      proc?.stdin?.end();
    },
  };
  return shell;
}
