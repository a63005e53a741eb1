/**
 * The conventional type of a change and whether it breaks its users, read from the commits and the files
 * they change — never from a model. A subject that declares a type wins; otherwise the files decide
 * (revert, docs, test, ci, build, rename), then fix words, then `feat`.
 */
import type { ChangeSet, CommitInfo } from "../domain/commit.js";
import type { ChangeDigest } from "../domain/digest.js";
import type { Policy } from "../domain/policy.js";
import { globMatcher } from "./glob.js";

export interface ConventionalSubject {
  type: string;
  scope: string | null;
  breaking: boolean;
  description: string;
}

const CONVENTIONAL = /^([A-Za-z]+)(?:\(([^()]*)\))?(!)?:\s*(\S.*)$/;

/** `fix(order)!: remove v1` → { type: "fix", scope: "order", breaking: true, description: "remove v1" }, or null. */
export function parseConventional(subject: string): ConventionalSubject | null {
  const m = CONVENTIONAL.exec(subject.trim());
  if (!m) return null;
  return { type: m[1]!.toLowerCase(), scope: m[2] ?? null, breaking: m[3] === "!", description: m[4]!.trim() };
}

/** The texts of `BREAKING CHANGE:` / `BREAKING-CHANGE:` footers, with their continuation lines. */
export function breakingFooters(body: string): string[] {
  const lines = body.replace(/\r\n?/g, "\n").split("\n");
  const out: string[] = [];
  for (let i = 0; i < lines.length; i++) {
    const m = /^BREAKING[ -]CHANGE:\s*(.*)$/.exec(lines[i]!);
    if (!m) continue;
    const text = [m[1]!.trim()];
    // A footer runs until a blank line or the next `Token: value` trailer.
    while (i + 1 < lines.length && lines[i + 1]!.trim() !== "" && !/^[A-Za-z][\w-]*(: | #)/.test(lines[i + 1]!)) {
      text.push(lines[++i]!.trim());
    }
    const joined = text.filter(Boolean).join(" ");
    if (joined) out.push(joined);
  }
  return out;
}

/** `Revert "feat: x"` or a body saying "This reverts commit <sha>". */
export function isRevertCommit(commit: CommitInfo): boolean {
  return /^revert\b[\s:"]/i.test(commit.subject.trim()) || /^This reverts commit [0-9a-f]{7,}/im.test(commit.body);
}

const UPSTREAM_REF = /\s*\((?:[\w.-]+\/[\w.-]+)?#\d+\)/g;

/** Removes upstream references like `(#591)` or `(org/repo#12)` from a subject; returns them separately. */
export function splitUpstreamRefs(subject: string): { text: string; refs: string[] } {
  const refs = [...subject.matchAll(UPSTREAM_REF)].map((m) => m[0].trim().slice(1, -1));
  return {
    text: subject
      .replace(UPSTREAM_REF, "")
      .replace(/\s{2,}/g, " ")
      .trim(),
    refs,
  };
}

export interface ChangeKind {
  type: string;
  /** How the type was found, for the plan's reasons and the debugger. */
  type_reason: string;
  breaking: boolean;
  /** Why it is breaking: `!` in a subject, each footer's text, each removed public symbol. */
  breaking_reasons: string[];
  /** The footers' texts, quoted in the body's "Breaking changes" section. */
  breaking_notes: string[];
  /** Conventional types the commits declare (merges aside), newest first. */
  declared: string[];
}

// When commits disagree, the PR takes the most significant type.
const TYPE_RANK = ["feat", "fix", "perf", "refactor", "revert", "build", "ci", "docs", "test", "style", "chore"];
const rankOf = (t: string) => (TYPE_RANK.includes(t) ? TYPE_RANK.indexOf(t) : TYPE_RANK.length);

function onlyFiles(paths: readonly string[], globs: readonly string[]): boolean {
  if (paths.length === 0 || globs.length === 0) return false;
  const match = globMatcher(globs);
  return paths.every((p) => match(p));
}

function startsWithFixWord(subject: string, words: readonly string[]): boolean {
  const s = subject.trim().toLowerCase();
  const bracket = /^\[([^\]]+)\]/.exec(s);
  const first = (bracket ? bracket[1]! : s).split(/[^\p{L}\p{N}]+/u).filter(Boolean)[0] ?? "";
  return words.some((w) => w.toLowerCase() === first);
}

/** The type inferred from what changed, for commits whose subjects declare none. */
export function inferType(changes: ChangeSet, policy: Policy, sourceBranch: string): { type: string; reason: string } {
  const rules = policy.types;
  const commits = changes.commits.filter((c) => c.parents.length <= 1);
  const head = commits[commits.length - 1] ?? changes.commits[changes.commits.length - 1]!;
  const paths = changes.files.flatMap((f) => (f.old_path && f.change !== "renamed" ? [f.path, f.old_path] : [f.path]));
  if (commits.length > 0 && commits.every(isRevertCommit))
    return { type: "revert", reason: "the commit reverts another" };
  if (onlyFiles(paths, rules.docs_globs)) return { type: "docs", reason: "only documentation files changed" };
  if (onlyFiles(paths, policy.labels.requires_tests.test_globs))
    return { type: "test", reason: "only test files changed" };
  if (onlyFiles(paths, rules.ci_globs)) return { type: "ci", reason: "only CI files changed" };
  if (onlyFiles(paths, rules.build_globs))
    return { type: "build", reason: "only dependency manifests or lock files changed" };
  const countsKnown = changes.line_counts !== "unavailable";
  if (
    changes.files.length > 0 &&
    countsKnown &&
    changes.files.every((f) => f.change === "renamed" && f.additions === 0 && f.deletions === 0)
  )
    return { type: "refactor", reason: "files were only renamed" };
  if (startsWithFixWord(head.subject, rules.fix_words) || /^(bugfix|hotfix)\//.test(sourceBranch))
    return { type: "fix", reason: "the subject or branch names a fix" };
  return { type: "feat", reason: "no rule gave a narrower type" };
}

/**
 * The PR's type and breaking-ness. A declared type must be one of `title.types`; the most significant
 * declared type wins (a `feat` among fixes makes a feature). Breaking: a `!`, a footer, or a removed
 * public symbol in the digest.
 */
export function classifyChange(
  changes: ChangeSet,
  policy: Policy,
  sourceBranch: string,
  digest?: ChangeDigest | null,
): ChangeKind {
  const commits = changes.commits.filter((c) => c.parents.length <= 1);
  const newestFirst = [...commits].reverse();
  const parsed = newestFirst.map((c) => ({ commit: c, conv: parseConventional(c.subject) }));
  const declared = parsed
    .map((p) => p.conv?.type)
    .filter((t): t is string => t !== undefined && policy.title.types.includes(t));
  const winning = [...declared].sort((a, b) => rankOf(a) - rankOf(b))[0];
  const inferred = winning === undefined && policy.types.infer ? inferType(changes, policy, sourceBranch) : null;
  const type = winning ?? inferred?.type ?? (policy.title.types.includes("feat") ? "feat" : policy.title.types[0]!);
  const type_reason = winning
    ? `the commit subject declares ${winning}`
    : (inferred?.reason ?? "no commit declares a type and inference is off");

  const breaking_reasons: string[] = [];
  const breaking_notes: string[] = [];
  for (const { commit, conv } of parsed) {
    if (conv?.breaking) breaking_reasons.push(`commit ${commit.short_hash} marks itself breaking (!)`);
    for (const note of breakingFooters(commit.body)) {
      breaking_notes.push(note);
      breaking_reasons.push(`commit ${commit.short_hash} has a BREAKING CHANGE footer`);
    }
  }
  const removed = digest?.removed_public ?? [];
  if (removed.length > 0) {
    const shown = removed.slice(0, 5).join(", ");
    breaking_reasons.push(`public API removed: ${shown}${removed.length > 5 ? ` and ${removed.length - 5} more` : ""}`);
  }
  const validType = policy.title.types.includes(type) ? type : policy.title.types[0]!;
  return {
    type: validType,
    type_reason,
    breaking: breaking_reasons.length > 0,
    breaking_reasons: [...new Set(breaking_reasons)],
    breaking_notes: [...new Set(breaking_notes)],
    declared,
  };
}
