/**
 * CODEOWNERS, as GitHub reads it: one rule a line (`pattern owner…`), `#` comments, gitignore-style patterns, and
 * the last matching rule wins (a rule without owners leaves its paths unowned). Pure: the file's text comes in,
 * owners go out. The text is untrusted: it only ever names reviewers, never changes any other decision.
 */
import picomatch from "picomatch";
import type { ChangedFile } from "../domain/commit.js";
import type { ReviewerAssignment } from "../domain/pull-request.js";

export interface CodeOwnersRule {
  /** The pattern as written. */
  pattern: string;
  /** Owners as written: `@user`, `@org/team` or an e-mail address; empty: the paths have no owner. */
  owners: string[];
  /** 1-based line number, for messages. */
  line: number;
  matches: (path: string) => boolean;
}

export interface CodeOwners {
  rules: CodeOwnersRule[];
  /** Lines skipped as invalid (GitHub skips them too), each with its line number and why. */
  problems: string[];
}

const USER = /^@[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})$/;
const TEAM = /^@[A-Za-z0-9][A-Za-z0-9-]*\/[A-Za-z0-9][A-Za-z0-9._-]*$/;
const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

/** Splits a line on whitespace not escaped by a backslash (`a\ b` is one pattern). */
function tokens(line: string): string[] {
  return (line.match(/(?:\\.|\S)+/g) ?? []).map((t) => t.replace(/\\(.)/g, "$1"));
}

/**
 * A gitignore-style pattern as a matcher of `/`-separated, root-relative paths: a leading `/` or a `/` inside
 * anchors it at the root, otherwise it matches at any depth; a trailing `/` matches only a folder's contents;
 * a pattern that names a folder matches everything under it. `*` stops at `/`, `**` does not. Case-sensitive.
 */
export function patternMatcher(pattern: string): ((path: string) => boolean) | string {
  if (pattern.startsWith("!")) return "negation (!) is not supported in CODEOWNERS";
  if (/[[\]]/.test(pattern)) return "character ranges ([ ]) are not supported in CODEOWNERS";
  const folderOnly = pattern.endsWith("/");
  let body = pattern.replace(/\/+$/, "");
  const anchored = body.startsWith("/") || body.includes("/");
  body = body.replace(/^\/+/, "");
  if (body === "") return "an empty pattern";
  const glob = anchored || body.startsWith("**") ? body : `**/${body}`;
  const options = { dot: true, nocase: false };
  const itself = picomatch(glob, options);
  const under = picomatch(`${glob}/**`, options);
  // GitHub departs from gitignore here: `docs/*` owns the files directly in docs/, not those in its subfolders.
  const starLast = /(?:^|\/)\*$/.test(body);
  if (folderOnly) return (path) => under(path);
  return starLast ? (path) => itself(path) : (path) => itself(path) || under(path);
}

/** Reads a CODEOWNERS file. Invalid lines are skipped and reported, as GitHub does. */
export function parseCodeOwners(text: string): CodeOwners {
  const rules: CodeOwnersRule[] = [];
  const problems: string[] = [];
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = i + 1;
    const trimmed = raw.trim();
    if (trimmed === "" || trimmed.startsWith("#")) return;
    const parts = tokens(trimmed);
    const end = parts.findIndex((t, k) => k > 0 && t.startsWith("#"));
    const [pattern, ...owners] = end === -1 ? parts : parts.slice(0, end);
    const matches = patternMatcher(pattern!);
    if (typeof matches === "string") {
      problems.push(`line ${line}: ${matches}`);
      return;
    }
    const bad = owners.filter((o) => !USER.test(o) && !TEAM.test(o) && !EMAIL.test(o));
    if (bad.length > 0) {
      problems.push(
        `line ${line}: ${bad.length === 1 ? "an owner is" : "owners are"} not @user, @org/team or an e-mail`,
      );
      return;
    }
    rules.push({ pattern: pattern!, owners, line, matches });
  });
  return { rules, problems };
}

/** The owners of one path: those of the last rule that matches it (none when that rule lists none). */
export function ownersOf(codeOwners: CodeOwners, path: string): string[] {
  for (let i = codeOwners.rules.length - 1; i >= 0; i--) {
    const rule = codeOwners.rules[i]!;
    if (rule.matches(path)) return rule.owners;
  }
  return [];
}

/** An owner as a reviewer name the forges resolve: `@user` → `user`, `@org/team` → `org/team`, an e-mail as is. */
export function reviewerName(owner: string): string {
  return owner.startsWith("@") ? owner.slice(1) : owner;
}

/**
 * The reviewers CODEOWNERS gives a change: the owners of every changed path (and of a renamed file's old path),
 * in the order they first appear, required or not as the policy says.
 */
export function codeOwnerReviewers(
  codeOwners: CodeOwners,
  files: readonly Pick<ChangedFile, "path" | "old_path">[],
  required: boolean,
): ReviewerAssignment[] {
  const seen = new Map<string, ReviewerAssignment>();
  for (const file of files) {
    for (const path of [file.path, ...(file.old_path ? [file.old_path] : [])]) {
      for (const owner of ownersOf(codeOwners, path)) {
        const name = reviewerName(owner);
        if (!seen.has(name.toLowerCase())) seen.set(name.toLowerCase(), { name, required });
      }
    }
  }
  return [...seen.values()];
}
