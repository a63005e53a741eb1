/**
 * Builds real git repositories for tests and the `demo` command. Deterministic and isolated: the machine's
 * system and global git config are ignored, and identities and dates are fixed, so the same sequence of
 * calls gives the same commit hashes everywhere.
 */
import { mkdir, realpath, rename as fsRename, rm, writeFile as fsWriteFile } from "node:fs/promises";
import path from "node:path";
import { gitEnv, runGit } from "../forges/local-git.js";

export interface Identity {
  name: string;
  email: string;
}

export interface FixtureCommitOptions {
  allowEmpty?: boolean;
  author?: Identity;
  /** Author and committer date, any format git accepts (e.g. ISO 8601). */
  date?: string;
  /** Declared message encoding (`i18n.commitEncoding`), e.g. "ISO-8859-1"; pass the message as bytes in that encoding. */
  encoding?: string;
}

export interface GitRepo {
  /** Absolute, symlink-free path of the work tree. */
  readonly path: string;
  /** Writes a file relative to the work tree, creating parent directories. */
  writeFile(rel: string, content: string | Buffer): Promise<void>;
  remove(rel: string): Promise<void>;
  rename(from: string, to: string): Promise<void>;
  /**
   * Stages everything (`git add -A`) and commits; returns the full hash. A Buffer message that is not
   * valid UTF-8 and has no `encoding` is stored as those exact bytes, with no encoding header.
   */
  commit(message: string | Buffer, opts?: FixtureCommitOptions): Promise<string>;
  checkout(branch: string, opts?: { create?: boolean }): Promise<void>;
  /** Merges `branch` into the current branch with a merge commit (`--no-ff`); returns its full hash. */
  merge(branch: string, message: string): Promise<string>;
  /** Runs git in the work tree; returns stdout. Rejects on a non-zero exit. */
  git(...args: string[]): Promise<string>;
}

export const FIXTURE_IDENTITY: Identity = { name: "code-committer-agent", email: "code-committer-agent@agents.local" };

/** Commit N (counting from 0) made through one builder is dated this plus N minutes, unless a date is given. */
export const FIXTURE_START_DATE = Date.parse("2024-01-01T09:00:00Z");

/** Config that would make commits machine-dependent or slow (signing, CRLF, background gc, fsmonitor). */
const FIXED_CONFIG = [
  "commit.gpgsign=false",
  "tag.gpgsign=false",
  "core.autocrlf=false",
  "core.fsmonitor=false",
  "gc.auto=0",
  "maintenance.auto=false",
  "advice.detachedHead=false",
].flatMap((setting) => ["-c", setting]);

const strictUtf8 = new TextDecoder("utf-8", { fatal: true });

function isUtf8(bytes: Buffer): boolean {
  try {
    strictUtf8.decode(bytes);
    return true;
  } catch {
    return false;
  }
}

function isoSeconds(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, "+00:00");
}

export async function createGitRepo(
  dir: string,
  opts: { initialBranch?: string; objectFormat?: "sha1" | "sha256" } = {},
): Promise<GitRepo> {
  await mkdir(dir, { recursive: true });
  const root = await realpath(dir);
  let commits = 0;

  const env = (
    author: Identity = FIXTURE_IDENTITY,
    date: string = isoSeconds(FIXTURE_START_DATE + commits * 60_000),
  ): NodeJS.ProcessEnv =>
    gitEnv({
      GIT_CONFIG_GLOBAL: "/dev/null",
      GIT_AUTHOR_NAME: author.name,
      GIT_AUTHOR_EMAIL: author.email,
      GIT_AUTHOR_DATE: date,
      GIT_COMMITTER_NAME: FIXTURE_IDENTITY.name,
      GIT_COMMITTER_EMAIL: FIXTURE_IDENTITY.email,
      GIT_COMMITTER_DATE: date,
    });

  const runBytes = async (args: string[], opts: { env?: NodeJS.ProcessEnv; input?: Buffer } = {}): Promise<Buffer> => {
    const result = await runGit("git", root, [...FIXED_CONFIG, ...args], {
      env: opts.env ?? env(),
      ...(opts.input ? { input: opts.input } : {}),
    });
    if (result.code !== 0) {
      throw new Error(`git ${args.join(" ")} failed in ${root}: ${result.stderr.trim() || `exit code ${result.code}`}`);
    }
    return result.stdout;
  };
  const run = async (args: string[], processEnv?: NodeJS.ProcessEnv): Promise<string> =>
    (await runBytes(args, processEnv ? { env: processEnv } : {})).toString("utf8");

  /** Resolves a work-tree path, refusing anything that escapes the repository. */
  const inside = (rel: string): string => {
    const abs = path.resolve(root, rel);
    if (!abs.startsWith(root + path.sep)) throw new Error(`${rel} is outside the repository ${root}`);
    return abs;
  };

  // An empty template keeps sample hooks and machine-specific templates out of the repository.
  await run([
    "init",
    "--quiet",
    "--template=",
    `--object-format=${opts.objectFormat ?? "sha1"}`,
    "-b",
    opts.initialBranch ?? "main",
  ]);

  const head = async (): Promise<string> => (await run(["rev-parse", "HEAD"])).trim();

  /**
   * `git commit` converts a message that is not valid UTF-8 from latin1 to UTF-8 when no encoding is
   * declared, so a commit holding raw latin1 bytes (as old tools wrote them) has to be written as an
   * object: same headers as HEAD, the given bytes as message, then HEAD moved to it.
   */
  const storeRawMessage = async (message: Buffer): Promise<string> => {
    const old = await head();
    const object = await runBytes(["cat-file", "commit", old]);
    const headerEnd = object.indexOf("\n\n");
    const body = message.at(-1) === 0x0a ? message : Buffer.concat([message, Buffer.from("\n")]);
    const content = Buffer.concat([object.subarray(0, headerEnd + 2), body]);
    const hash = (await runBytes(["hash-object", "-t", "commit", "-w", "--stdin"], { input: content }))
      .toString("utf8")
      .trim();
    await run(["update-ref", "HEAD", hash, old]);
    return hash;
  };

  return {
    path: root,
    async writeFile(rel, content) {
      const abs = inside(rel);
      await mkdir(path.dirname(abs), { recursive: true });
      await fsWriteFile(abs, content);
    },
    async remove(rel) {
      await rm(inside(rel), { recursive: true });
    },
    async rename(from, to) {
      const target = inside(to);
      await mkdir(path.dirname(target), { recursive: true });
      await fsRename(inside(from), target);
    },
    async commit(message, commitOpts = {}) {
      await run(["add", "-A"]);
      // The message goes through a file so it can be arbitrary bytes (non-UTF-8 messages); it lives in
      // .git so `add -A` never picks it up.
      const messageFile = path.join(root, ".git", "FIXTURE_COMMIT_MSG");
      await fsWriteFile(messageFile, message);
      const encoding = commitOpts.encoding === undefined ? [] : ["-c", `i18n.commitEncoding=${commitOpts.encoding}`];
      const args = [...encoding, "commit", "--quiet", "--no-verify", "--cleanup=whitespace", "-F", messageFile];
      if (commitOpts.allowEmpty) args.push("--allow-empty");
      try {
        await run(args, env(commitOpts.author, commitOpts.date));
      } finally {
        await rm(messageFile, { force: true });
      }
      commits += 1;
      if (Buffer.isBuffer(message) && commitOpts.encoding === undefined && !isUtf8(message))
        return storeRawMessage(message);
      return head();
    },
    async checkout(branch, checkoutOpts = {}) {
      await run(checkoutOpts.create ? ["checkout", "--quiet", "-b", branch] : ["checkout", "--quiet", branch]);
    },
    async merge(branch, message) {
      await run(["merge", "--quiet", "--no-ff", "--no-edit", "-m", message, branch]);
      commits += 1;
      return head();
    },
    git: (...args) => run(args),
  };
}
