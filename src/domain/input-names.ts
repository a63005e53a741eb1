/**
 * Rules for the names an event hands to a forge — repository names and the file paths of a change request —
 * and safe ways to show a rejected value to people. Pure: no I/O, nothing of ours imported.
 */

/**
 * Characters that would move or hide text on a terminal: C0/C1 controls and DEL (Cc), lone surrogates (Cs),
 * zero-width, line-separator and bidi characters. The zero-width joiner stays (emoji are built with it).
 */
const UNSAFE = /[\p{Cc}\p{Cs}\u200b\u200c\u200e\u200f\u2028\u2029\u202a-\u202e\u2060-\u2069\ufeff]/gu;

function codeEscape(ch: string): string {
  const code = ch.charCodeAt(0);
  return code < 0x100 ? `\\x${code.toString(16).padStart(2, "0")}` : `\\u${code.toString(16).padStart(4, "0")}`;
}

/**
 * Shows terminal control characters as escapes (ESC as `\x1b`, RLO as `\u202e`) so text from an event cannot
 * recolour, move or hide what a terminal prints. `keep` lists characters left as they are (e.g. "\n").
 */
export function escapeControls(text: string, keep = ""): string {
  return text.replace(UNSAFE, (ch) => (keep.includes(ch) ? ch : codeEscape(ch)));
}

/** A value from an event, quoted for a message: at most `max` characters, control characters escaped, `"` and `\` escaped. */
export function quoteValue(value: string, max = 60): string {
  const cut = [...value].length > max ? `${[...value].slice(0, max - 3).join("")}...` : value;
  return `"${escapeControls(cut.replace(/\\/g, "\\\\").replace(/"/g, '\\"'))}"`;
}

// Shorter "secrets" would match ordinary words (the log scrubber uses the same floor).
const MIN_SECRET_LENGTH = 4;
const SETTING_SHOWN_MAX = 16;

/**
 * How a message names a setting whose value was refused (an environment variable such as PR_CREATOR_FORGE):
 * `NAME is "value"` with at most a short, escaped prefix of the value — or, when the value equals, contains
 * or is part of one of `secrets` (a token pasted into the wrong variable), no value at all.
 */
export function describeSetting(name: string, value: string, secrets: readonly string[]): string {
  const v = value.trim();
  const isSecret = secrets.some(
    (secret) =>
      secret.length >= MIN_SECRET_LENGTH &&
      (v.includes(secret) || (v.length >= MIN_SECRET_LENGTH && secret.includes(v))),
  );
  return isSecret
    ? `${name} holds the value of a configured secret (not shown)`
    : `${name} is ${quoteValue(v, SETTING_SHOWN_MAX)}`;
}

// Controls, format characters (zero-width, bidi), lone surrogates and line/paragraph separators: never part of a name.
const INVISIBLE = /[\p{Cc}\p{Cf}\p{Cs}\p{Zl}\p{Zp}]/u;

function invisibleIn(value: string): string | null {
  const bad = INVISIBLE.exec(value)?.[0];
  return bad === undefined ? null : codeEscape(bad);
}

export const EDIT_PATH_MAX = 1024;
const SEGMENT_MAX = 255;
const PATH_EXPECTED =
  'expected a path from the repository root with "/" between folders, such as deploy/orders/pvc.yaml';

/**
 * Why `path` may not be an edit's file path, or null when it may: one sentence naming the value, what was
 * expected and what to do. A path must stay inside the repository's working tree: relative, no `.`, `..` or
 * empty segments, no backslashes, no `.git` folder, no control or invisible characters.
 */
export function editPathProblem(path: string): string | null {
  const shown = quoteValue(path);
  const invisible = invisibleIn(path);
  if (invisible)
    return `${shown} contains the control or invisible character ${invisible}; ${PATH_EXPECTED}; remove the character`;
  if (path.length > EDIT_PATH_MAX)
    return `${shown} is ${path.length} characters long; expected at most ${EDIT_PATH_MAX}; shorten the path`;
  if (/^([\\/]|[A-Za-z]:)/.test(path))
    return `${shown} is an absolute path; ${PATH_EXPECTED}; drop the leading "${/^[A-Za-z]:/.test(path) ? path.slice(0, 2) : path[0]}"`;
  if (path.includes("\\")) return `${shown} contains a backslash; ${PATH_EXPECTED}; use "/" between folders`;
  const segments = path.split("/");
  if (segments.some((s) => s === ""))
    return `${shown} has an empty segment ("//" or a trailing "/"); ${PATH_EXPECTED}; name one file, without doubled or trailing slashes`;
  if (segments.some((s) => s === "." || s === ".."))
    return `${shown} has a "${segments.find((s) => s === "." || s === "..")}" segment; ${PATH_EXPECTED}, without "." or ".." segments; write the path from the repository root`;
  // Git itself refuses .git in any case, and the variants Windows and macOS file systems read as .git.
  if (segments.some((s) => /^\.git[. ]*$/i.test(s) || /^git~1$/i.test(s)))
    return `${shown} points into the .git folder, which holds git's own data; ${PATH_EXPECTED}; edit only files of the repository's content`;
  const long = segments.find((s) => s.length > SEGMENT_MAX);
  if (long)
    return `${shown} has a segment of ${long.length} characters; expected at most ${SEGMENT_MAX} per folder or file name; shorten it`;
  return null;
}

export type RepoForge = "github" | "azure-devops";

const GITHUB_PART = /^[A-Za-z0-9._-]{1,100}$/;
const GITHUB_EXPECTED = 'expected "name" or "owner/name" made of letters, digits, ".", "_" and "-" (not "." or "..")';
// Azure DevOps refuses these printable characters in a repository name.
const AZURE_FORBIDDEN = /[\\/:*?"<>|;#${},+=[\]]/;
export const AZURE_REPO_MAX = 64;
const AZURE_EXPECTED = `expected one repository name of at most ${AZURE_REPO_MAX} characters, without "/" or any of \\ : * ? " < > | ; # $ { } , + = [ ], not starting with "_" or "." and not ending with "."`;

function githubProblem(repo: string): string | null {
  const parts = repo.split("/");
  if (parts.length > 2) return `has ${parts.length - 1} slashes`;
  const bad = parts.find((p) => !GITHUB_PART.test(p) || p === "." || p === "..");
  if (bad === undefined) return null;
  if (bad === "") return "has an empty owner or name";
  if (bad === "." || bad === "..") return `has a "${bad}" part`;
  if (bad.length > 100) return "has a part longer than 100 characters";
  return `contains ${quoteValue([...bad].find((c) => !/[A-Za-z0-9._-]/.test(c)) ?? bad)}`;
}

function azureProblem(repo: string): string | null {
  const forbidden = AZURE_FORBIDDEN.exec(repo)?.[0];
  if (forbidden) return `contains ${quoteValue(forbidden)}`;
  if (repo.length > AZURE_REPO_MAX) return `is ${repo.length} characters long`;
  if (repo.startsWith("_") || repo.startsWith(".")) return `starts with "${repo[0]}"`;
  if (repo.endsWith(".")) return 'ends with "."';
  return null;
}

/**
 * Why `repo` cannot name a repository, or null when it can. With a forge, that forge's rules (GitHub:
 * `name` or `owner/name`; Azure DevOps: one name); without one, a name either forge could accept — so no
 * `..`, no control characters and at most one `/`.
 */
export function repoNameProblem(repo: string, forge?: RepoForge): string | null {
  const shown = quoteValue(repo);
  const invisible = invisibleIn(repo);
  if (invisible)
    return `${shown} contains the control or invisible character ${invisible}; expected a repository name of printable characters; send the repository's name as the forge shows it`;
  const github = githubProblem(repo);
  const azure = azureProblem(repo);
  if (forge === "github" && github)
    return `${shown} is not a GitHub repository name: it ${github}; ${GITHUB_EXPECTED}; send the repository as GitHub shows it`;
  if (forge === "azure-devops" && azure)
    return `${shown} is not an Azure DevOps repository name: it ${azure}; ${AZURE_EXPECTED}; send the repository's name as Azure DevOps shows it (the project comes from the config)`;
  if (forge === undefined && github && azure)
    return `${shown} is not a repository name: as a GitHub name it ${github}, as an Azure DevOps name it ${azure}; ${GITHUB_EXPECTED} on GitHub, or one name without "/" on Azure DevOps; send the repository's name as the forge shows it`;
  return null;
}
