import { mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { directLauncher, shellLauncher, shellQuote, type GitLauncher } from "../../src/forges/git-launcher.js";
import { gitEnv } from "../../src/forges/local-git.js";

let dir: string;
const launchers: GitLauncher[] = [];
const shell = (opts: { shell?: string } = {}) => {
  const launcher = shellLauncher({ env: gitEnv(), ...opts });
  launchers.push(launcher);
  return launcher;
};

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), "git-launcher-"));
});
afterAll(async () => {
  for (const l of launchers) l.close();
  await rm(dir, { recursive: true, force: true });
});

/** A stand-in for git: a script that prints its arguments NUL-separated, writes to stderr and exits with $EXIT_WITH. */
async function echoBinary(): Promise<string> {
  const file = path.join(dir, "fake-git");
  await writeFile(
    file,
    `#!/bin/sh\nfor a in "$@"; do printf '%s\\0' "$a"; done\nprintf 'warning: on stderr\\n' >&2\nexit "\${EXIT_WITH:-0}"\n`,
    { mode: 0o755 },
  );
  return file;
}

describe("shellLauncher: git from long-lived shells", () => {
  it("passes every argument through as one word, however hostile, and returns stdout byte for byte", async () => {
    const binary = await echoBinary();
    const args = ["plain", "it's", "$(touch pwned)", "`id`", "a;b", "two words", "new\nline", "*", "\\", '"', "-", ""];
    const direct = await directLauncher(gitEnv()).run(binary, dir, args);
    const viaShell = await shell().run(binary, dir, args);
    expect(viaShell).toEqual(direct);
    expect(viaShell.stdout.toString("utf8").split("\0").slice(0, -1)).toEqual(args);
    expect(viaShell.stderr).toBe("warning: on stderr\n");
    await expect(import("node:fs/promises").then((fs) => fs.stat(path.join(dir, "pwned")))).rejects.toThrow();
  });

  it("gives real git's output, stderr and exit codes as a direct start does", async () => {
    const launcher = shell();
    const direct = directLauncher(gitEnv());
    for (const args of [["--version"], ["rev-parse", "--git-dir"], ["no-such-command"]]) {
      expect(await launcher.run("git", dir, args)).toEqual(await direct.run("git", dir, args));
    }
    expect((await launcher.run("git", dir, ["rev-parse", "--git-dir"])).code).toBe(128);
  });

  it("runs more commands at once than it has shells, each answer with its own command", async () => {
    const binary = await echoBinary();
    const launcher = shell();
    const answers = await Promise.all(Array.from({ length: 12 }, (_, i) => launcher.run(binary, dir, [`call-${i}`])));
    expect(answers.map((a) => a.stdout.toString("utf8"))).toEqual(Array.from({ length: 12 }, (_, i) => `call-${i}\0`));
  });

  it("rejects a missing binary as a direct start does, and keeps working after", async () => {
    const launcher = shell();
    await expect(launcher.run(path.join(dir, "no-git-here"), dir, ["status"])).rejects.toThrow(/ENOENT/);
    await expect(directLauncher(gitEnv()).run(path.join(dir, "no-git-here"), dir, ["status"])).rejects.toThrow(
      /ENOENT/,
    );
    expect((await launcher.run("git", dir, ["--version"])).code).toBe(0);
  });

  it("starts git directly when there is no shell to start it from", async () => {
    const launcher = shell({ shell: path.join(dir, "no-shell-here") });
    const binary = await echoBinary();
    expect((await launcher.run(binary, dir, ["x"])).stdout.toString("utf8")).toBe("x\0");
    expect((await launcher.run(binary, dir, ["y"])).stdout.toString("utf8")).toBe("y\0");
  });

  it("fails only the command whose shell died, and starts another for the next", async () => {
    const launcher = shell();
    const died = launcher.run("sh", dir, ["-c", "kill -9 $PPID; sleep 1"]);
    await expect(died).rejects.toThrow(/shell running git exited/);
    expect((await launcher.run("git", dir, ["--version"])).code).toBe(0);
  });

  it("quotes so that a POSIX shell reads the word back unchanged", () => {
    expect(shellQuote("it's")).toBe(`'it'\\''s'`);
    expect(shellQuote("")).toBe("''");
  });
});
