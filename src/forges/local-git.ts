/**
 * `CommitSource` backed by a local clone, read with the real `git` binary.
 *
 * Every command runs without a shell, with stdout collected as raw bytes (no max-buffer limit), and with
 * flags that pin the output format so a user's config (colour, external diff, textconv, diff algorithm,
 * signatures, log encoding) cannot change what we parse.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { readFile, stat } from "node:fs/promises";
import path from "node:path";
import type {
  ChangeRequest,
  ChangeSet,
  ChangeType,
  ChangedFile,
  CommitInfo,
  CommitSource,
  FileTexts,
} from "../domain/commit.js";
import { changeSetOf } from "../domain/commit.js";
import { PrCreatorError } from "../domain/errors.js";
import { assembleTexts, looksBinary, planTexts, sideKey, sidesOf } from "./texts.js";
import { directLauncher, shellLauncher, spawnGit, type GitLauncher, type GitResult } from "./git-launcher.js";

export type { GitResult } from "./git-launcher.js";

/**
 * Variables a parent git process exports (hooks, `rebase -x`) that would point our commands at another
 * repository, index or config. A test suite run from a pre-commit hook would otherwise write to the
 * outer repository's index.
 */
const INHERITED_GIT_VARS = [
  "GIT_DIR",
  "GIT_WORK_TREE",
  "GIT_INDEX_FILE",
  "GIT_OBJECT_DIRECTORY",
  "GIT_ALTERNATE_OBJECT_DIRECTORIES",
  "GIT_COMMON_DIR",
  "GIT_NAMESPACE",
  "GIT_PREFIX",
  "GIT_QUARANTINE_PATH",
  "GIT_CONFIG_PARAMETERS",
  "GIT_CONFIG_COUNT",
  "GIT_EXTERNAL_DIFF",
  "GIT_DIFF_OPTS",
];

/** The environment for a git command: inherited variables minus the ones above, plus `overrides`. */
export function gitEnv(overrides: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const name of INHERITED_GIT_VARS) delete env[name];
  return {
    ...env,
    // System config is ignored; the user's global config is kept because safe.directory may live there.
    GIT_CONFIG_NOSYSTEM: "1",
    // English messages, so stderr is predictable in error texts.
    LC_ALL: "C",
    // Reads must not take the index lock (concurrent runs, read-only checkouts).
    GIT_OPTIONAL_LOCKS: "0",
    GIT_TERMINAL_PROMPT: "0",
    ...overrides,
  };
}

/** Runs git once. Never rejects on a non-zero exit; rejects only when the binary cannot be started. */
export function runGit(
  binary: string,
  cwd: string,
  args: readonly string[],
  opts: { env?: NodeJS.ProcessEnv; input?: Buffer } = {},
): Promise<GitResult> {
  return spawnGit(binary, cwd, [...QUOTE_PATH, ...args], {
    env: opts.env ?? gitEnv(),
    ...(opts.input === undefined ? {} : { input: opts.input }),
  });
}

/** Paths in git's output as they are (UTF-8), not C-quoted. */
const QUOTE_PATH = ["-c", "core.quotePath=false"];

function firstLine(text: string): string {
  return (
    text
      .split("\n")
      .find((line) => line.trim() !== "")
      ?.trim() ?? ""
  );
}

type Git = (args: string[], opts?: { ok?: number[]; input?: Buffer }) => Promise<GitResult>;

/** Commands without input go through `launcher` (long-lived shells, see git-launcher.ts); with input, straight. */
function makeGit(repoPath: string, binary: string, launcher: GitLauncher): Git {
  return async (args, opts = {}) => {
    let result: GitResult;
    try {
      result =
        opts.input === undefined
          ? await launcher.run(binary, repoPath, [...QUOTE_PATH, ...args])
          : await runGit(binary, repoPath, args, { input: opts.input });
    } catch (error) {
      throw new PrCreatorError(
        "internal_error",
        `could not run ${binary}: ${error instanceof Error ? error.message : String(error)}`,
        {
          hint: "Install git or pass the path of the git binary.",
          cause: error,
        },
      );
    }
    if (!(opts.ok ?? [0]).includes(result.code)) {
      const why = firstLine(result.stderr) || `exit code ${result.code}`;
      throw new PrCreatorError("internal_error", `git ${args.join(" ")} failed: ${why}`);
    }
    return result;
  };
}

const text = (result: GitResult): string => result.stdout.toString("utf8").trim();

/** One object as `git cat-file --batch` answers a name: its id, type and content, or null when missing. */
interface BatchObject {
  oid: string;
  type: string;
  content: Buffer;
}

/** Reads objects by name (`<rev>`, `<rev>:<path>`) through one long-lived `git cat-file --batch`. */
interface CatFile {
  /** The answers, in order; null for a name git reports missing or ambiguous. Names must not hold a newline. */
  read(names: readonly string[]): Promise<(BatchObject | null)[]>;
  /** Like `read`, one answer per name, each settling as soon as git has sent it. */
  readEach(names: readonly string[]): Promise<BatchObject | null>[];
  /** Ends the process; the next read starts a new one. */
  reset(): void;
}

/** An idle batch process ends after this long; the next PR starts a new one. */
const BATCH_IDLE_MS = 60_000;

/**
 * Takes the answer for the oldest request from the front of a long-lived command's output: the answer and how many
 * bytes it used, or null while it is not all there yet.
 */
type TakeAnswer<T> = (buffer: Buffer) => { value: T; used: number } | null;

/**
 * A git command kept running between PRs, fed requests on stdin and answering them in order on stdout (`cat-file
 * --batch`, `diff-tree --stdin`). Started on first use from this process; it never holds the event loop open (its
 * pipes are unreferenced while nothing waits on it) and ends after BATCH_IDLE_MS idle. A crash or an exit fails
 * only the requests in flight; the next request starts a new process.
 */
function longLivedGit(repoPath: string, binary: string, args: readonly string[], name: string) {
  let child: ChildProcess | null = null;
  let buffer: Buffer = Buffer.alloc(0);
  let idle: NodeJS.Timeout | undefined;
  const waiting: { take: TakeAnswer<unknown>; resolve: (v: unknown) => void; reject: (e: Error) => void }[] = [];

  const pipes = () => [child?.stdin, child?.stdout, child?.stderr] as ({ ref?(): void; unref?(): void } | null)[];
  const hold = (on: boolean) => {
    for (const pipe of pipes()) (on ? pipe?.ref : pipe?.unref)?.call(pipe);
    clearTimeout(idle);
    if (!on) idle = setTimeout(() => reset(), BATCH_IDLE_MS).unref();
  };

  const fail = (error: Error) => {
    for (const w of waiting.splice(0)) w.reject(error);
  };

  const drain = () => {
    while (waiting.length > 0) {
      const answer = waiting[0]!.take(buffer);
      if (!answer) return;
      buffer = buffer.subarray(answer.used);
      waiting.shift()!.resolve(answer.value);
    }
    hold(false);
  };

  const start = (): ChildProcess => {
    const proc = spawn(binary, [...QUOTE_PATH, ...args], {
      cwd: repoPath,
      env: gitEnv(),
      stdio: ["pipe", "pipe", "pipe"],
      windowsHide: true,
    });
    let stderr = "";
    proc.stdout!.on("data", (chunk: Buffer) => {
      buffer = buffer.length === 0 ? chunk : Buffer.concat([buffer, chunk]);
      drain();
    });
    proc.stderr!.on("data", (chunk: Buffer) => (stderr = (stderr + chunk.toString("utf8")).slice(-4096)));
    proc.stdin!.on("error", () => undefined);
    const gone = (why: string) => {
      if (child !== proc) return;
      child = null;
      buffer = Buffer.alloc(0);
      fail(new PrCreatorError("internal_error", `git ${name} ${why}`));
    };
    proc.on("error", (error) => gone(`could not run ${binary}: ${error.message}`));
    proc.on("close", (code) => gone(`exited (${firstLine(stderr) || `exit code ${code}`})`));
    proc.unref();
    return proc;
  };

  function reset(): void {
    const proc = child;
    child = null;
    buffer = Buffer.alloc(0);
    clearTimeout(idle);
    fail(new PrCreatorError("internal_error", `git ${name} was restarted.`));
    proc?.stdin?.end();
  }

  return {
    /** Writes `input` and waits for one answer per `takes` entry, each settling as soon as git has sent it. */
    ask<T>(input: string, takes: readonly TakeAnswer<T>[]): Promise<T>[] {
      child ??= start();
      hold(true);
      const answers = takes.map(
        (take) =>
          new Promise<T>((resolve, reject) => waiting.push({ take, resolve: resolve as (v: unknown) => void, reject })),
      );
      child.stdin!.write(input);
      return answers;
    },
    reset,
  };
}

/** One `cat-file --batch` answer: `<oid> <type> <size>\n<content>\n`, or `<name> missing\n` (null). */
const batchObject: TakeAnswer<BatchObject | null> = (buffer) => {
  const end = buffer.indexOf(0x0a);
  if (end === -1) return null;
  const header = buffer.subarray(0, end).toString("utf8");
  const [, oid, type, size] = /^(\S+) (\S+) (\d+)$/.exec(header) ?? [];
  if (oid === undefined || type === undefined || size === undefined) return { value: null, used: end + 1 };
  const length = Number(size);
  if (buffer.length < end + 1 + length + 1) return null;
  const content = Buffer.from(buffer.subarray(end + 1, end + 1 + length));
  return { value: { oid, type, content }, used: end + 1 + length + 1 };
};

/**
 * A `git cat-file --batch` started on first use and kept for the following PRs: resolving the commit and the
 * branch refs and reading blobs cost no process per PR.
 */
function createCatFile(repoPath: string, binary: string): CatFile {
  const git = longLivedGit(repoPath, binary, ["cat-file", "--batch"], "cat-file --batch");
  return {
    readEach(names) {
      if (names.length === 0) return [];
      return git.ask(
        names.map((n) => `${n}\n`).join(""),
        names.map(() => batchObject),
      );
    },
    read(names) {
      return Promise.all(this.readEach(names));
    },
    reset: git.reset,
  };
}

/** What one `git rev-parse` tells about the repository and the event's commit. */
interface Located {
  /** The full hash, or undefined when the commit could not be resolved. */
  commit?: string;
  parents: string[];
  /** The shallow file's path when the clone is shallow. */
  shallowFile?: string;
  /** git's complaint when the commit could not be resolved. */
  stderr: string;
}

const REPO_HINT = { hint: "Pass --repo-path pointing at a clone of the repository that contains the commit." };
const COMMIT_HINT = {
  hint: "Fetch the branch that contains the commit (a shallow clone may not have it) or check the hash in the event.",
};

/** A commit-ish rev-parse may read as one revision: no option (leading "-") and no range (".."). */
const usableCommit = (commit: string) => commit !== "" && !commit.startsWith("-") && !commit.includes("..");

/**
 * One process checks the repository, resolves the commit with its parents and says whether the clone is
 * shallow: `rev-parse --git-dir --is-shallow-repository --git-path shallow C^{commit} C^@ --`. Outside a
 * repository git prints nothing and exits 128; an unknown commit still prints the first three lines.
 */
async function locate(git: Git, repoPath: string, commit: string): Promise<Located> {
  const revs = usableCommit(commit) ? [`${commit}^{commit}`, `${commit}^@`, "--"] : [];
  const result = await git(["rev-parse", "--git-dir", "--is-shallow-repository", "--git-path", "shallow", ...revs], {
    ok: [0, 1, 128, 129],
  });
  const lines = result.stdout.toString("utf8").split("\n");
  if (lines.length < 4 || lines[0] === "") {
    // Keep git's reason: "dubious ownership" needs a different fix than a plain directory.
    const why = firstLine(result.stderr).replace(/^fatal:\s*/, "") || `exit code ${result.code}`;
    throw new PrCreatorError("repo_not_found", `${repoPath} is not a git repository (git: ${why}).`, REPO_HINT);
  }
  const [, shallow, shallowFile = "", hash, ...rest] = lines;
  const located: Located = {
    parents: [],
    stderr: result.stderr,
    ...(shallow === "true" ? { shallowFile: path.resolve(repoPath, shallowFile) } : {}),
  };
  if (result.code !== 0 || revs.length === 0 || !hash || hash === "--") return located;
  return { ...located, commit: hash, parents: rest.filter((line) => line !== "" && line !== "--") };
}

function commitNotFound(repoPath: string, commit: string, stderr: string): PrCreatorError {
  if (!usableCommit(commit) && !commit.includes("..")) {
    return new PrCreatorError("commit_not_found", `Commit "${commit}" is not a valid commit hash.`, COMMIT_HINT);
  }
  const ambiguous = /ambiguous/i.test(stderr) ? " (the abbreviated hash is ambiguous; use a longer one)" : "";
  return new PrCreatorError(
    "commit_not_found",
    `Commit ${commit} was not found in ${repoPath}${ambiguous}.`,
    COMMIT_HINT,
  );
}

/** The refs a branch name may live at, local first: `refs/heads/<b>`, then `refs/remotes/origin/<b>`. */
function candidateRefs(branch: string): string[] {
  const name = branch.replace(/^refs\/heads\//, "");
  return name === "" ? [] : [`refs/heads/${name}`, `refs/remotes/origin/${name}`];
}

/**
 * Which of `refs` exist (or, with `contains`, which contain that commit), in one `for-each-ref`. Patterns match
 * by prefix, so names are compared exactly; a name cannot inject revision syntax, since nothing is resolved.
 */
async function existingRefs(git: Git, refs: readonly string[], contains?: string): Promise<Set<string>> {
  if (refs.length === 0) return new Set();
  const result = await git(
    ["for-each-ref", "--format=%(refname)", ...(contains === undefined ? [] : ["--contains", contains]), ...refs],
    { ok: [0, 1, 128, 129] },
  );
  if (result.code !== 0) return new Set();
  const wanted = new Set(refs);
  return new Set(
    result.stdout
      .toString("utf8")
      .split("\n")
      .filter((ref) => wanted.has(ref)),
  );
}

/** The empty tree's id in the repository's hash format, told apart by the length of its commit ids. */
const emptyTree = (hash: string) =>
  hash.length === 64
    ? "6ef19b41225c5369f1c104d45d8d85efa9b057b53b14b4b9b939dd74decc5321"
    : "4b825dc642cb6eb9a060e54bf8d69288fbee4904";

function splitBuffer(buffer: Buffer, separator: number): Buffer[] {
  const parts: Buffer[] = [];
  let start = 0;
  for (let i = buffer.indexOf(separator, start); i !== -1; i = buffer.indexOf(separator, start)) {
    parts.push(buffer.subarray(start, i));
    start = i + 1;
  }
  parts.push(buffer.subarray(start));
  return parts;
}

const strictUtf8 = new TextDecoder("utf-8", { fatal: true });
const utf8 = new TextDecoder("utf-8");

/** Commits without an encoding header may hold latin1 bytes; git passes those through unchanged. */
function decodeText(bytes: Buffer): string {
  try {
    return strictUtf8.decode(bytes);
  } catch {
    return bytes.toString("latin1");
  }
}

const FIELD = 0x1f;
const LOG_FORMAT = ["%H", "%h", "%P", "%an", "%ae", "%aI", "%B"].join("%x1f");
const LOG_ARGS = [
  // Re-encode commits that declare an encoding (e.g. ISO-8859-1) to UTF-8.
  "-c",
  "i18n.logOutputEncoding=UTF-8",
  "log",
  "-z",
  "--no-show-signature",
  "--no-use-mailmap",
  `--format=${LOG_FORMAT}`,
];

/** The commits of `base..commit`, oldest first (topological), in one `git log`. */
async function rangeInfos(git: Git, base: string, commit: string): Promise<CommitInfo[]> {
  const result = await git([...LOG_ARGS, "--reverse", "--topo-order", `${base}..${commit}`, "--"]);
  return parseLog(result.stdout);
}

/** One commit's log entry, in one `git log` (no stdin, so it starts from the launcher's shells). */
async function commitInfo(git: Git, hash: string): Promise<CommitInfo> {
  const infos = parseLog((await git([...LOG_ARGS, "--no-walk", hash, "--"])).stdout);
  // A message containing NUL would split the record; the count check catches it.
  if (infos.length !== 1) {
    throw new PrCreatorError("internal_error", `git log returned ${infos.length} commits for ${hash}.`);
  }
  return infos[0]!;
}

/** -z terminates each record with NUL. */
function parseLog(output: Buffer): CommitInfo[] {
  const records = splitBuffer(output, 0).filter((record) => record.length > 0);
  return records.map((record) => {
    const [hash, shortHash, parents, name, email, date, message = ""] = splitFields(record, 6).map((f) =>
      decodeText(f),
    );
    const newline = message.indexOf("\n");
    const subject = (newline === -1 ? message : message.slice(0, newline)).trim();
    const body = newline === -1 ? "" : message.slice(newline + 1).trim();
    return {
      hash: hash ?? "",
      short_hash: shortHash ?? "",
      subject,
      body,
      author: { name: name ?? "", email: email ?? "" },
      authored_at: date ?? "",
      parents: (parents ?? "").split(" ").filter((p) => p !== ""),
    };
  });
}

/** The first `count` FIELD-separated fields, then the rest as one (the message may itself contain FIELD). */
function splitFields(record: Buffer, count: number): Buffer[] {
  const fields: Buffer[] = [];
  let start = 0;
  for (let n = 0; n < count; n += 1) {
    const end = record.indexOf(FIELD, start);
    if (end === -1) break;
    fields.push(record.subarray(start, end));
    start = end + 1;
  }
  fields.push(record.subarray(start));
  return fields;
}

const CHANGE_TYPES: Record<string, ChangeType> = {
  A: "added",
  M: "modified",
  D: "deleted",
  R: "renamed",
  C: "copied",
  T: "type_changed",
};

/** A file's patch is left out above this size; the digest then diffs the file's texts, as for GitHub's large diffs. */
export const MAX_PATCH_BYTES = 256 * 1024;

/**
 * Parses `git diff --raw --numstat --patch -z` output: all raw entries (`:modes shas STATUS\0path\0[newpath\0]`)
 * first, then one numstat entry per file in the same order (`adds\tdels\tpath\0`, or `adds\tdels\t\0old\0new\0`
 * for renames and copies; `-\t-` for binary files), then a NUL and the patch text, one `diff --git` section per
 * file in the same order (two for a type change). The patch may hold NUL bytes, so tokens are cut one by one.
 */
function parseDiff(output: Buffer): ChangedFile[] {
  let offset = 0;
  const next = (): string => {
    const end = output.indexOf(0, offset);
    if (end === -1) throw new PrCreatorError("internal_error", "git diff output ended early.");
    const token = output.subarray(offset, end);
    offset = end + 1;
    return decodeText(token);
  };

  const raw: { change: ChangeType; path: string; old_path?: string }[] = [];
  while (offset < output.length && output[offset] === 0x3a /* ":" */) {
    const meta = next();
    const letter = meta.split(" ").at(-1)?.charAt(0) ?? "";
    const change = CHANGE_TYPES[letter];
    if (!change) throw new PrCreatorError("internal_error", `git diff reported an unexpected status "${letter}".`);
    if (change === "renamed" || change === "copied") {
      const oldPath = next();
      raw.push({ change, old_path: oldPath, path: next() });
    } else {
      raw.push({ change, path: next() });
    }
  }

  const files = raw.map((entry): ChangedFile => {
    // Split at the first two tabs only: paths may contain tabs (String#split with a limit drops the rest).
    const line = next();
    const tab1 = line.indexOf("\t");
    const tab2 = line.indexOf("\t", tab1 + 1);
    if (tab1 === -1 || tab2 === -1)
      throw new PrCreatorError("internal_error", `git diff --numstat printed an unexpected line for "${entry.path}".`);
    const adds = line.slice(0, tab1);
    const dels = line.slice(tab1 + 1, tab2);
    const inlinePath = line.slice(tab2 + 1);
    // Renames and copies leave the path empty and put both paths in the next two tokens.
    const [oldPath, path] =
      inlinePath === "" && entry.old_path !== undefined ? [next(), next()] : [entry.old_path, inlinePath];
    if (path !== entry.path || oldPath !== entry.old_path) {
      throw new PrCreatorError("internal_error", `git diff --numstat and --raw disagree about "${entry.path}".`);
    }
    const binary = adds === "-" && dels === "-";
    return {
      ...entry,
      additions: binary ? 0 : Number(adds),
      deletions: binary ? 0 : Number(dels),
      binary,
    };
  });

  // The NUL between the numstat and the patch.
  if (output[offset] === 0) offset += 1;
  attachPatches(files, output.subarray(offset));
  return files;
}

const DIFF_HEADER = Buffer.from("diff --git ");
const HUNK = Buffer.from("\n@@ ");

/** Cuts the patch text into its `diff --git` sections and gives each text file its hunks (from `@@` on). */
function attachPatches(files: ChangedFile[], patch: Buffer): void {
  const starts: number[] = [];
  for (let at = patch.indexOf(DIFF_HEADER); at !== -1; at = patch.indexOf(DIFF_HEADER, at + 1)) {
    if (at === 0 || patch[at - 1] === 0x0a) starts.push(at);
  }
  // A type change is shown as a deletion and an addition; anything else unexpected means no patches at all.
  const expected = files.reduce((n, f) => n + (f.change === "type_changed" ? 2 : 1), 0);
  if (starts.length !== expected) return;
  let section = 0;
  for (const file of files) {
    const count = file.change === "type_changed" ? 2 : 1;
    const from = starts[section]!;
    const to = starts[section + count] ?? patch.length;
    section += count;
    if (file.binary || file.change === "type_changed") continue;
    const body = patch.subarray(from, to);
    const hunk = body.indexOf(HUNK);
    if (hunk === -1 || to - from > MAX_PATCH_BYTES) continue;
    const hunks = utf8.decode(body.subarray(hunk + 1));
    file.patch = hunks.endsWith("\n") ? hunks.slice(0, -1) : hunks;
  }
}

const DIFF_ARGS = [
  // Empty context lines keep their leading space, so every hunk line starts with " ", "+", "-" or "\\".
  "-c",
  "diff.suppressBlankEmpty=false",
  "diff",
  "--raw",
  "--numstat",
  "--patch",
  "-z",
  "-M",
  "-U3",
  "--inter-hunk-context=0",
  "--submodule=short",
  "--no-color",
  "--no-ext-diff",
  "--no-textconv",
  "--no-relative",
  // Line counts depend on the algorithm; pin git's default so diff.algorithm cannot change them.
  "--diff-algorithm=myers",
];

async function changedFiles(git: Git, from: string, to: string): Promise<ChangedFile[]> {
  return parseDiff((await git([...DIFF_ARGS, from, to, "--"])).stdout);
}

/** The diff from the merge base of `target` and `commit` to `commit` (`target...commit`); null when there is none. */
async function branchChanges(git: Git, target: string, commit: string): Promise<ChangedFile[] | null> {
  const result = await git([...DIFF_ARGS, `${target}...${commit}`, "--"], { ok: [0, 128] });
  return result.code === 0 ? parseDiff(result.stdout) : null;
}

/**
 * A commit's log entry and its diff against one base, for the PRs whose range is one commit on top of its base (the
 * usual case): read through one long-lived `git diff-tree --stdin`, so such a PR starts no git process. Each
 * request is `<commit> <base>` (the commit compared with that base only) and a random line that diff-tree echoes
 * back once the diff is out; the log entry ends with NUL and a token of this process, so no commit message can pass
 * for the diff. Same options as `git diff` (DIFF_ARGS: the output is byte for byte the same) and `git log`
 * (LOG_FORMAT). Null when the process cannot answer: the caller then runs `log` and `diff` as before.
 */
interface DiffTree {
  read(commit: string, base: string): Promise<{ info: CommitInfo; files: ChangedFile[] } | null>;
}

function createDiffTree(repoPath: string, binary: string): DiffTree {
  const headerEnd = randomBytes(12).toString("hex");
  const args = [
    "-c",
    "i18n.logOutputEncoding=UTF-8",
    ...DIFF_ARGS.slice(0, 2),
    "diff-tree",
    "--stdin",
    "-r",
    "--always",
    // Abbreviated names as `git diff` and `git log` print them (diff-tree prints full ones by default).
    "--abbrev",
    ...DIFF_ARGS.slice(3),
    `--pretty=format:${LOG_FORMAT}%x00${headerEnd}%x00`,
  ];
  const git = longLivedGit(repoPath, binary, args, "diff-tree --stdin");
  return {
    async read(commit, base) {
      // A line diff-tree cannot read as objects is echoed back: after the diff, it marks the end of the answer.
      const token = Buffer.from(`${randomBytes(16).toString("hex")}\n`);
      const untilToken: TakeAnswer<Buffer> = (buffer) => {
        const at = buffer.indexOf(token);
        return at === -1 ? null : { value: Buffer.from(buffer.subarray(0, at)), used: at + token.length };
      };
      const [answer] = git.ask(`${commit} ${base}\n${token.toString("latin1")}`, [untilToken]);
      const output = await answer!.catch(() => null);
      if (!output) return null;
      const marker = output.indexOf(Buffer.from(`\0${headerEnd}\0`));
      if (marker === -1) return null;
      const [info] = parseLog(output.subarray(0, marker));
      // diff-tree puts a newline between the log entry and the diff.
      let diff = output.subarray(marker + headerEnd.length + 2);
      if (diff[0] === 0x0a) diff = diff.subarray(1);
      if (!info || info.hash !== commit) return null;
      try {
        return { info, files: parseDiff(diff) };
      } catch {
        // Output this reader does not understand: log and diff read the commit instead.
        return null;
      }
    },
  };
}

/** True when `commit` is a boundary of a shallow clone: git shows it without parents although it has some. */
async function isShallowBoundary(located: Located, commit: string): Promise<boolean> {
  if (located.shallowFile === undefined) return false;
  const content = await readFile(located.shallowFile, "utf8").catch(() => "");
  return content.split("\n").includes(commit);
}

/** The commit alone: its log entry and its diff against the first parent, read side by side. */
async function singleCommit(repo: Repository, located: Located, commit: string): Promise<ChangeSet> {
  const { git, repoPath } = repo;
  // Diffing a shallow boundary against the empty tree would report the whole repository as added.
  if (located.parents.length === 0 && (await isShallowBoundary(located, commit))) {
    throw new PrCreatorError(
      "commit_not_found",
      `The parent of commit ${commit} is not in ${repoPath}: the clone is shallow.`,
      {
        hint: "Fetch more history (git fetch --deepen=1, or fetch-depth: 0 in CI) so the commit's parent is available.",
      },
    );
  }
  // Merge commits are diffed against their first parent: the change the merge brought into the branch.
  const base = located.parents[0] ?? null;
  const fast = located.parents.length === 1 ? await repo.diffTree.read(commit, base!) : null;
  if (fast) return changeSetOf([fast.info], base, "commit", fast.files);
  const [info, files] = await Promise.all([
    commitInfo(git, commit),
    changedFiles(git, base ?? emptyTree(commit), commit),
  ]);
  return changeSetOf([info], base, "commit", files);
}

/** The range's commits and base from one `git log --boundary <target>..<commit>`: ">" marks a commit of the range, "-" a boundary. */
async function rangeWithBoundary(
  git: Git,
  target: string,
  commit: string,
): Promise<{ commits: CommitInfo[]; boundary: string[] }> {
  const result = await git([
    // LOG_ARGS with the boundary mark before the fields (its last element is the format).
    ...LOG_ARGS.slice(0, -1),
    `--format=%m%x1f${LOG_FORMAT}`,
    "--boundary",
    "--reverse",
    "--topo-order",
    `${target}..${commit}`,
    "--",
  ]);
  const commits: CommitInfo[] = [];
  const boundary: string[] = [];
  for (const record of splitBuffer(result.stdout, 0)) {
    if (record.length < 2) continue;
    const [info] = parseLog(record.subarray(2));
    if (!info) continue;
    if (record[0] === 0x2d /* "-" */) boundary.push(info.hash);
    else commits.push(info);
  }
  return { commits, boundary };
}

/**
 * The branch's change since it left the target: in two git processes side by side, the range's commits with
 * its boundary (`log --boundary target..commit`) and the diff from the merge base (`diff target...commit`).
 * A single boundary commit is the merge base: every common ancestor is reached through it. Several (the
 * target was merged into the branch, criss-cross merges) take the exact way: merge-base, then log and diff.
 */
async function mergeBaseRange(repo: Repository, located: Located, commit: string, target: string): Promise<ChangeSet> {
  const { git } = repo;
  // One commit on top of the target's tip (the usual branch): the range is that commit, its base the tip.
  if (located.parents.length === 1 && located.parents[0] === target) {
    const fast = await repo.diffTree.read(commit, target);
    if (fast) return changeSetOf([fast.info], target, "merge-base", fast.files);
  }
  const [range, diff] = await Promise.all([
    rangeWithBoundary(git, target, commit),
    // Unrelated histories have no merge base: git exits 128, and the commit alone is the change.
    branchChanges(git, target, commit),
  ]);
  // No commit of its own: the commit is already in the target. No boundary: unrelated histories.
  if (range.commits.length === 0 || range.boundary.length === 0 || diff === null)
    return singleCommit(repo, located, commit);
  if (range.boundary.length === 1) return changeSetOf(range.commits, range.boundary[0]!, "merge-base", diff);
  const mergeBase = await git(["merge-base", target, commit], { ok: [0, 1] });
  if (mergeBase.code !== 0) return singleCommit(repo, located, commit);
  const base = text(mergeBase);
  if (base === commit) return singleCommit(repo, located, commit);
  const [commits, files] = await Promise.all([rangeInfos(git, base, commit), changedFiles(git, base, commit)]);
  if (commits.length === 0) return singleCommit(repo, located, commit);
  return changeSetOf(commits, base, "merge-base", files);
}

/** What one source keeps between PRs: the repository's shallow file, checked once, and the batch reader. */
interface Repository {
  git: Git;
  catFile: CatFile;
  diffTree: DiffTree;
  repoPath: string;
  /** Where the shallow file would be (it exists only in a shallow clone); rejects outside a repository. */
  shallowFile: () => Promise<string>;
}

/** Checks the repository and finds its shallow file in one `rev-parse`, once per source while it succeeds. */
function shallowFileOnce(git: Git, repoPath: string): () => Promise<string> {
  let found: Promise<string> | undefined;
  const check = async () => {
    const result = await git(["rev-parse", "--git-dir", "--git-path", "shallow"], { ok: [0, 128, 129] });
    const [gitDir = "", shallow = ""] = result.stdout.toString("utf8").split("\n");
    if (result.code !== 0 || gitDir === "" || shallow === "") {
      // Keep git's reason: "dubious ownership" needs a different fix than a plain directory.
      const why = firstLine(result.stderr).replace(/^fatal:\s*/, "") || `exit code ${result.code}`;
      throw new PrCreatorError("repo_not_found", `${repoPath} is not a git repository (git: ${why}).`, REPO_HINT);
    }
    return path.resolve(repoPath, shallow);
  };
  return () =>
    (found ??= check().catch((error: unknown) => {
      found = undefined;
      throw error;
    }));
}

/** A name `git check-ref-format` allows, so it can be sent to cat-file as a revision (no `:`, `^`, `~`, `..`, `@{`). */
const plainRef = (ref: string) => !/[\0-\x20\x7f~^:?*[\\]|\.\.|@\{|\/\.|\.lock$|\/$/.test(ref);

/** The parents a raw commit object names (its `parent` header lines). */
function parentsOf(content: Buffer): string[] {
  const headerEnd = content.indexOf("\n\n");
  const header = content.subarray(0, headerEnd === -1 ? content.length : headerEnd).toString("latin1");
  return header
    .split("\n")
    .filter((line) => line.startsWith("parent "))
    .map((line) => line.slice(7));
}

/**
 * Where the commit and the branch refs are, through the batch reader: no process. A commit it cannot find is
 * looked up again with `rev-parse` before it is called missing (a long-lived reader can miss an abbreviated
 * hash of an object written after it started), and so are source branches it cannot find.
 */
async function resolve(
  repo: Repository,
  commitArg: string | undefined,
  refs: readonly string[],
): Promise<{ located: Located; oids: Map<string, string> }> {
  const asked = refs.filter(plainRef);
  const commitName = commitArg !== undefined && !commitArg.includes("\n") ? [`${commitArg}^{commit}`] : [];
  // First (a cached answer after the first PR): outside a repository, repo_not_found rather than cat-file's failure.
  const shallowFile = await repo.shallowFile();
  const answers = await repo.catFile.read([...commitName, ...asked]);
  const shallow = (await stat(shallowFile).catch(() => undefined))?.isFile() ? { shallowFile } : {};
  const oids = new Map<string, string>();
  asked.forEach((ref, i) => {
    const answer = answers[commitName.length + i];
    if (answer) oids.set(ref, answer.oid);
  });
  const found = commitName.length > 0 ? answers[0] : null;
  if (found?.type === "commit") {
    const located: Located = { commit: found.oid, parents: parentsOf(found.content), stderr: "", ...shallow };
    // A shallow clone's boundary commit names parents it does not have; git shows it without any.
    if (await isShallowBoundary(located, found.oid)) located.parents = [];
    return { located, oids };
  }
  const located = await locate(repo.git, repo.repoPath, commitArg ?? "");
  if (located.commit !== undefined) repo.catFile.reset();
  return { located, oids };
}

/**
 * Loads the change in at most two git processes per PR once the source is warm: the commit and the branch
 * refs are resolved through the long-lived `cat-file --batch`; one commit on its base is read through the
 * long-lived `diff-tree --stdin` (no process), any other range by `log` and `diff` side by side. The first PR of a
 * source also checks the repository (`rev-parse`) and starts the readers; a commit that is not at its branch's
 * tip costs a `for-each-ref --contains`.
 */
async function load(repo: Repository, request: ChangeRequest): Promise<ChangeSet> {
  const { git, repoPath } = repo;
  const sourceRefs = candidateRefs(request.branch);
  const targetRefs = request.range === "commit" ? [] : candidateRefs(request.target_branch);
  const commitArg = usableCommit(request.commit) ? request.commit : undefined;
  // Checked before any process starts: git cannot be started in a directory that does not exist.
  const info = await stat(repoPath).catch(() => undefined);
  if (!info?.isDirectory()) {
    throw new PrCreatorError(
      "repo_not_found",
      `${repoPath} is not a git repository (the directory does not exist).`,
      REPO_HINT,
    );
  }
  const { located, oids } = await resolve(repo, commitArg, [...sourceRefs, ...targetRefs]);
  const commit = located.commit;
  if (commit === undefined) throw commitNotFound(repoPath, request.commit, located.stderr);

  let sources = sourceRefs.filter((ref) => oids.has(ref));
  if (sources.length === 0) {
    repo.catFile.reset();
    sources = [...(await existingRefs(git, sourceRefs))];
  }
  if (sources.length === 0) {
    throw new PrCreatorError(
      "branch_not_found",
      `Branch "${request.branch}" was not found in ${repoPath} (neither locally nor on origin).`,
      {
        hint: "Fetch the branch (git fetch origin <branch>) or check the branch name in the event.",
      },
    );
  }
  // A stale local branch must not hide a commit that origin/<branch> already has, so any of the refs will do.
  const onBranch =
    sources.some((ref) => oids.get(ref) === commit) || (await existingRefs(git, sources, commit)).size > 0;
  if (!onBranch) {
    throw new PrCreatorError(
      "commit_not_on_branch",
      `Commit ${commit} is not on branch "${request.branch}" in ${repoPath}.`,
      {
        hint: "Check that the event names the branch the commit was pushed to, and fetch that branch.",
      },
    );
  }

  if (request.range === "commit") return singleCommit(repo, located, commit);
  const targetRef = targetRefs.find((ref) => oids.has(ref));
  if (targetRef === undefined) {
    if (request.range === "auto") return singleCommit(repo, located, commit);
    throw new PrCreatorError(
      "branch_not_found",
      `Target branch "${request.target_branch}" was not found in ${repoPath} (neither locally nor on origin).`,
      { hint: 'Fetch the target branch (git fetch origin <branch>) or use range "commit".' },
    );
  }
  // The target's id as read just now: a ref that moves during the run cannot change the range half-way.
  return mergeBaseRange(repo, located, commit, oids.get(targetRef)!);
}

export function createLocalGitSource(
  repoPath: string,
  opts: {
    gitBinary?: string;
    /** How git commands start: from long-lived shells (default), or each from this process ("direct"). */
    launch?: "shell" | "direct";
    /** One commit on its base through a long-lived `git diff-tree --stdin` (default); false: `log` and `diff`. */
    diffTree?: boolean;
  } = {},
): CommitSource {
  const binary = opts.gitBinary ?? "git";
  const env = gitEnv();
  const git = makeGit(repoPath, binary, opts.launch === "direct" ? directLauncher(env) : shellLauncher({ env }));
  const repo: Repository = {
    git,
    catFile: createCatFile(repoPath, binary),
    diffTree: opts.diffTree === false ? { read: async () => null } : createDiffTree(repoPath, binary),
    repoPath,
    shallowFile: shallowFileOnce(git, repoPath),
  };
  return {
    load: (request) => load(repo, request),
    readFile: (commit, file) => readFileAt(repo, commit, file),
    readTexts: (changes, paths, onText) => readTexts(repo, changes, paths, onText),
  };
}

/** A file's text at a commit, or null when the commit's tree has no such file. */
async function readFileAt(repo: Repository, commit: string, file: string): Promise<string | null> {
  // The `commit:path` form keeps a hostile path from being read as an option or a revision range.
  const [blob] = (await readBlobs(repo, [`${commit}:${file}`])).values();
  return blob === undefined || blob === "absent" || blob === "other" ? null : decodeText(blob);
}

/** What a blob read gave: its bytes, `absent` (no such file at that commit), or `other` (a folder, a submodule). */
type Blob = Buffer | "absent" | "other";

/**
 * Reads many `<rev>:<path>` objects through the source's long-lived `git cat-file --batch`. Names holding a
 * newline cannot be sent on a line; they are read one by one (rare).
 */
async function readBlobs(repo: Repository, names: readonly string[]): Promise<Map<string, Blob>> {
  const blobs = new Map<string, Blob>();
  const lined = [...new Set(names)].filter((name) => !name.includes("\n"));
  const answers = await repo.catFile.read(lined);
  lined.forEach((name, i) => {
    const answer = answers[i];
    // "<name> missing", "<name> ambiguous": no such object.
    blobs.set(name, !answer ? "absent" : answer.type === "blob" ? answer.content : "other");
  });
  for (const name of names.filter((n) => n.includes("\n"))) {
    const result = await repo.git(["cat-file", "blob", "--end-of-options", name], { ok: [0, 128] });
    blobs.set(name, result.code === 0 ? result.stdout : "absent");
  }
  return blobs;
}

/**
 * The texts of changed files before (at `changes.base`) and after (at the head commit), all read through one
 * `cat-file --batch` (see planTexts and assembleTexts for which sides are read and when a path is left out);
 * each path's texts go to `onText` as soon as git has sent both its sides. Content with NUL bytes is not text
 * (null); text is decoded as UTF-8.
 */
async function readTexts(
  repo: Repository,
  changes: ChangeSet,
  paths: readonly string[],
  onText?: (path: string, texts: FileTexts) => void,
): Promise<Map<string, FileTexts>> {
  const plans = planTexts(changes, paths);
  const names = [...sidesOf(plans).keys()];
  const lined = names.filter((name) => !name.includes("\n"));
  const answers = repo.catFile.readEach(lined);
  const blobs = new Map<string, Promise<Blob>>(
    // "<name> missing", "<name> ambiguous": no such object.
    lined.map((name, i) => [name, answers[i]!.then((a) => (!a ? "absent" : a.type === "blob" ? a.content : "other"))]),
  );
  // Names holding a newline cannot be sent on a line: read one by one (rare).
  for (const name of names.filter((n) => n.includes("\n")))
    blobs.set(
      name,
      readBlobs(repo, [name]).then((b) => b.get(name)!),
    );
  const read = await Promise.all(
    plans.map(async (plan) => {
      const sides = [plan.before, plan.after].flatMap((side) => (side ? [sideKey(side)] : []));
      const got = new Map(await Promise.all(sides.map(async (key) => [key, await blobs.get(key)!] as const)));
      const texts = assembleTexts([plan], (side) => {
        const blob = got.get(sideKey(side));
        if (blob === undefined || blob === "absent") return undefined;
        return blob === "other" || looksBinary(blob) ? null : utf8.decode(blob);
      }).get(plan.path);
      if (texts) onText?.(plan.path, texts);
      return [plan.path, texts] as const;
    }),
  );
  return new Map(read.flatMap(([path, texts]) => (texts ? [[path, texts] as const] : [])));
}
