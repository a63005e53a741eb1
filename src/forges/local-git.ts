/**
 * `CommitSource` backed by a local clone, read with the real `git` binary.
 *
 * Every command runs without a shell, with stdout collected as raw bytes (no max-buffer limit), and with
 * flags that pin the output format so a user's config (colour, external diff, textconv, diff algorithm,
 * signatures, log encoding) cannot change what we parse.
 */
import { spawn } from "node:child_process";
import { readFile, stat } from "node:fs/promises";
import path from "node:path";
import type { ChangeRequest, ChangeSet, ChangeType, ChangedFile, CommitInfo, CommitSource } from "../domain/commit.js";
import { PrCreatorError } from "../domain/errors.js";

export interface GitResult {
  code: number;
  stdout: Buffer;
  stderr: string;
}

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
  return new Promise((resolve, reject) => {
    const child = spawn(binary, ["-c", "core.quotePath=false", ...args], {
      cwd,
      env: opts.env ?? gitEnv(),
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

function firstLine(text: string): string {
  return (
    text
      .split("\n")
      .find((line) => line.trim() !== "")
      ?.trim() ?? ""
  );
}

type Git = (args: string[], opts?: { ok?: number[]; input?: Buffer }) => Promise<GitResult>;

function makeGit(repoPath: string, binary: string): Git {
  return async (args, opts = {}) => {
    let result: GitResult;
    try {
      result = await runGit(binary, repoPath, args, opts.input === undefined ? {} : { input: opts.input });
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

async function assertRepository(git: Git, repoPath: string): Promise<void> {
  const hint = { hint: "Pass --repo-path pointing at a clone of the repository that contains the commit." };
  const info = await stat(repoPath).catch(() => undefined);
  if (!info?.isDirectory()) {
    throw new PrCreatorError(
      "repo_not_found",
      `${repoPath} is not a git repository (the directory does not exist).`,
      hint,
    );
  }
  const result = await git(["rev-parse", "--git-dir"], { ok: [0, 128, 129, 1] });
  if (result.code !== 0) {
    // Keep git's reason: "dubious ownership" needs a different fix than a plain directory.
    const why = firstLine(result.stderr).replace(/^fatal:\s*/, "");
    throw new PrCreatorError("repo_not_found", `${repoPath} is not a git repository (git: ${why}).`, hint);
  }
}

async function resolveCommit(git: Git, repoPath: string, commit: string): Promise<string> {
  const hint = {
    hint: "Fetch the branch that contains the commit (a shallow clone may not have it) or check the hash in the event.",
  };
  // A leading "-" would be read as an option.
  if (commit === "" || commit.startsWith("-")) {
    throw new PrCreatorError("commit_not_found", `Commit "${commit}" is not a valid commit hash.`, hint);
  }
  const result = await git(["rev-parse", "--verify", "--quiet", `${commit}^{commit}`], { ok: [0, 1, 128] });
  if (result.code !== 0) {
    const ambiguous = /ambiguous/i.test(result.stderr) ? " (the abbreviated hash is ambiguous; use a longer one)" : "";
    throw new PrCreatorError("commit_not_found", `Commit ${commit} was not found in ${repoPath}${ambiguous}.`, hint);
  }
  return text(result);
}

/** Existing refs for a branch name, local first: `refs/heads/<b>`, then `refs/remotes/origin/<b>`. */
async function branchRefs(git: Git, branch: string): Promise<string[]> {
  const name = branch.replace(/^refs\/heads\//, "");
  if (name === "") return [];
  const candidates = [`refs/heads/${name}`, `refs/remotes/origin/${name}`];
  // show-ref --verify takes the argument as a literal ref name, so branch names cannot inject revision syntax.
  const found = await Promise.all(
    candidates.map((ref) => git(["show-ref", "--verify", "--quiet", ref], { ok: [0, 1, 128] })),
  );
  return candidates.filter((_, i) => found[i]?.code === 0);
}

async function isAncestor(git: Git, commit: string, ref: string): Promise<boolean> {
  const result = await git(["merge-base", "--is-ancestor", commit, ref], { ok: [0, 1] });
  return result.code === 0;
}

/** The empty tree's id in this repository's hash format (SHA-1 or SHA-256); git knows it without storing it. */
async function emptyTree(git: Git): Promise<string> {
  return text(await git(["hash-object", "-t", "tree", "--stdin"], { input: Buffer.alloc(0) }));
}

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

async function commitInfos(git: Git, hashes: string[]): Promise<CommitInfo[]> {
  const result = await git(
    [
      // Re-encode commits that declare an encoding (e.g. ISO-8859-1) to UTF-8.
      "-c",
      "i18n.logOutputEncoding=UTF-8",
      "log",
      "-z",
      "--no-walk=unsorted",
      "--no-show-signature",
      "--no-use-mailmap",
      `--format=${LOG_FORMAT}`,
      // Hashes on stdin: a long merge-base range must not hit the command-line length limit.
      "--stdin",
    ],
    { input: Buffer.from(hashes.map((h) => `${h}\n`).join("")) },
  );
  // -z terminates each record with NUL. A message containing NUL would split a record; the count check catches it.
  const records = splitBuffer(result.stdout, 0).filter((record) => record.length > 0);
  if (records.length !== hashes.length) {
    throw new PrCreatorError(
      "internal_error",
      `git log returned ${records.length} commits for ${hashes.length} requested.`,
    );
  }
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

/**
 * Parses `git diff --raw --numstat -z` output: all raw entries (`:modes shas STATUS\0path\0[newpath\0]`)
 * first, then one numstat entry per file in the same order (`adds\tdels\tpath\0`, or
 * `adds\tdels\t\0old\0new\0` for renames and copies; `-\t-` for binary files).
 */
function parseRawNumstat(output: Buffer): ChangedFile[] {
  const tokens = splitBuffer(output, 0);
  if (tokens.at(-1)?.length === 0) tokens.pop();
  let i = 0;
  const next = (): string => {
    const token = tokens[i++];
    if (token === undefined) throw new PrCreatorError("internal_error", "git diff output ended early.");
    return decodeText(token);
  };

  const raw: { change: ChangeType; path: string; old_path?: string }[] = [];
  while (i < tokens.length && tokens[i]?.[0] === 0x3a /* ":" */) {
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

  return raw.map((entry) => {
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
}

async function changedFiles(git: Git, from: string, to: string): Promise<ChangedFile[]> {
  const result = await git([
    "diff",
    "--raw",
    "--numstat",
    "-z",
    "-M",
    "--no-color",
    "--no-ext-diff",
    "--no-textconv",
    "--no-relative",
    // Line counts depend on the algorithm; pin git's default so diff.algorithm cannot change them.
    "--diff-algorithm=myers",
    from,
    to,
    "--",
  ]);
  return parseRawNumstat(result.stdout);
}

function changeSet(
  commits: CommitInfo[],
  base: string | null,
  range: ChangeSet["range"],
  files: ChangedFile[],
): ChangeSet {
  return {
    commits,
    base,
    range,
    files,
    additions: files.reduce((sum, f) => sum + f.additions, 0),
    deletions: files.reduce((sum, f) => sum + f.deletions, 0),
  };
}

/** True when `commit` is a boundary of a shallow clone: git shows it without parents although it has some. */
async function isShallowBoundary(git: Git, repoPath: string, commit: string): Promise<boolean> {
  const shallowFile = text(await git(["rev-parse", "--git-path", "shallow"]));
  const content = await readFile(path.resolve(repoPath, shallowFile), "utf8").catch(() => "");
  return content.split("\n").includes(commit);
}

async function singleCommit(git: Git, repoPath: string, commit: string): Promise<ChangeSet> {
  const [info] = await commitInfos(git, [commit]);
  if (!info) throw new PrCreatorError("internal_error", `git log returned nothing for ${commit}.`);
  // Diffing a shallow boundary against the empty tree would report the whole repository as added.
  if (info.parents.length === 0 && (await isShallowBoundary(git, repoPath, commit))) {
    throw new PrCreatorError(
      "commit_not_found",
      `The parent of commit ${commit} is not in ${repoPath}: the clone is shallow.`,
      {
        hint: "Fetch more history (git fetch --deepen=1, or fetch-depth: 0 in CI) so the commit's parent is available.",
      },
    );
  }
  // Merge commits are diffed against their first parent: the change the merge brought into the branch.
  const base = info.parents[0] ?? null;
  const files = await changedFiles(git, base ?? (await emptyTree(git)), commit);
  return changeSet([info], base, "commit", files);
}

async function mergeBaseRange(git: Git, repoPath: string, commit: string, targetRef: string): Promise<ChangeSet> {
  const mergeBase = await git(["merge-base", targetRef, commit], { ok: [0, 1] });
  // Exit 1: unrelated histories. There is no meaningful base, so the commit alone is the change.
  if (mergeBase.code !== 0) return singleCommit(git, repoPath, commit);
  const base = text(mergeBase);
  const hashes = text(await git(["rev-list", "--reverse", "--topo-order", `${base}..${commit}`]))
    .split("\n")
    .filter((h) => h !== "");
  // The commit is already in the target branch: fall back to what the commit itself changed.
  if (hashes.length === 0) return singleCommit(git, repoPath, commit);
  const [commits, files] = await Promise.all([commitInfos(git, hashes), changedFiles(git, base, commit)]);
  return changeSet(commits, base, "merge-base", files);
}

async function load(git: Git, repoPath: string, request: ChangeRequest): Promise<ChangeSet> {
  await assertRepository(git, repoPath);
  const commit = await resolveCommit(git, repoPath, request.commit);

  const sourceRefs = await branchRefs(git, request.branch);
  if (sourceRefs.length === 0) {
    throw new PrCreatorError(
      "branch_not_found",
      `Branch "${request.branch}" was not found in ${repoPath} (neither locally nor on origin).`,
      {
        hint: "Fetch the branch (git fetch origin <branch>) or check the branch name in the event.",
      },
    );
  }
  // A stale local branch must not hide a commit that origin/<branch> already has, so any of the refs will do.
  const onBranch = await Promise.all(sourceRefs.map((ref) => isAncestor(git, commit, ref)));
  if (!onBranch.includes(true)) {
    throw new PrCreatorError(
      "commit_not_on_branch",
      `Commit ${commit} is not on branch "${request.branch}" in ${repoPath}.`,
      {
        hint: "Check that the event names the branch the commit was pushed to, and fetch that branch.",
      },
    );
  }

  if (request.range === "commit") return singleCommit(git, repoPath, commit);
  const [targetRef] = await branchRefs(git, request.target_branch);
  if (targetRef === undefined) {
    if (request.range === "auto") return singleCommit(git, repoPath, commit);
    throw new PrCreatorError(
      "branch_not_found",
      `Target branch "${request.target_branch}" was not found in ${repoPath} (neither locally nor on origin).`,
      { hint: 'Fetch the target branch (git fetch origin <branch>) or use range "commit".' },
    );
  }
  return mergeBaseRange(git, repoPath, commit, targetRef);
}

export function createLocalGitSource(repoPath: string, opts: { gitBinary?: string } = {}): CommitSource {
  const git = makeGit(repoPath, opts.gitBinary ?? "git");
  return {
    load: (request) => load(git, repoPath, request),
    readFile: (commit, file) => readFileAt(git, commit, file),
  };
}

/** A file's text at a commit, or null when the commit's tree has no such file. */
async function readFileAt(git: Git, commit: string, file: string): Promise<string | null> {
  // `--end-of-options` and the `commit:path` form keep a hostile path from being read as an option.
  const result = await git(["cat-file", "blob", "--end-of-options", `${commit}:${file}`], { ok: [0, 128] });
  return result.code === 0 ? decodeText(result.stdout) : null;
}
