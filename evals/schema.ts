/**
 * The eval dataset's shape. Case files (evals/cases/*.yaml) hold `fixtures` (named git histories cases build
 * on), `traces` (the registry for the file's cases) and `cases`. Everything is validated here so a typo in a
 * case fails loudly instead of silently testing nothing.
 */
import { z } from "zod";
import { TraceRecordSchema } from "../src/domain/trace.js";

/** A file's content: text, `{ lines: N }` (N generated lines, for large commits) or `{ binary: N }` (N bytes with NULs). */
export const FileContentSchema = z.union([
  z.string(),
  z.strictObject({ lines: z.number().int().positive(), prefix: z.string().default("line") }),
  z.strictObject({ binary: z.number().int().positive() }),
]);
export type FileContent = z.infer<typeof FileContentSchema>;

/** One step of a git history, applied in order to a fresh repository (initial branch `main`). */
export const StepSchema = z.union([
  /** Create a branch at the current commit and switch to it. */
  z.strictObject({ branch: z.string().min(1) }),
  z.strictObject({ checkout: z.string().min(1) }),
  /**
   * Stage writes, deletes and renames (from → to), then commit with this message. `{hash:REF}` in the message
   * becomes the full hash of REF (a branch, or `HEAD~1`), for `This reverts commit …`.
   */
  z.strictObject({
    commit: z.string().min(1),
    write: z.record(z.string().min(1), FileContentSchema).default({}),
    delete: z.array(z.string().min(1)).default([]),
    rename: z.record(z.string().min(1), z.string().min(1)).default({}),
    /** Many generated files: `{n}` in path and content is replaced by 001, 002, … */
    many: z
      .strictObject({
        path: z.string().includes("{n}"),
        count: z.number().int().positive().max(2000),
        content: z.string(),
      })
      .optional(),
    allow_empty: z.boolean().default(false),
    author: z.string().min(1).optional(),
  }),
  /** Merge a branch into the current one with a merge commit. */
  z.strictObject({ merge: z.string().min(1), message: z.string().min(1) }),
]);
export type Step = z.infer<typeof StepSchema>;

export const FixtureSchema = z.strictObject({
  /** A named fixture of the same file whose steps come first. */
  from: z.string().min(1).optional(),
  steps: z.array(StepSchema).default([]),
});
export type Fixture = z.infer<typeof FixtureSchema>;

/** A GitHub world on the loopback emulator, for forge failures and idempotency: one repo, one feature commit. */
export const GitHubWorldSchema = z.strictObject({
  /** Files of the feature commit (the seed's handler and tests when left out). */
  files: z
    .array(
      z.strictObject({
        filename: z.string().min(1),
        status: z.enum(["added", "modified", "removed"]),
        additions: z.number().int(),
        deletions: z.number().int(),
      }),
    )
    .optional(),
  message: z.string().default("feat(order): implement CreateOrderHandler [trace:ord-8128]"),
  /** Faults for the next requests to a route (see test/emulators/github.ts). */
  faults: z
    .array(
      z.strictObject({
        route: z.string().min(1),
        status: z.number().int().optional(),
        reset: z.literal(true).optional(),
        times: z.number().int().positive().default(1),
      }),
    )
    .default([]),
  /** An open PR for the same branch pair, made by someone else before the run. */
  foreign_pr: z.boolean().default(false),
  /** The agent uses a token the emulator does not accept. */
  bad_token: z.boolean().default(false),
  /** The forge cannot be reached at all (nothing listens at its URL). */
  unreachable: z.boolean().default(false),
});
export type GitHubWorld = z.infer<typeof GitHubWorldSchema>;

const STATUSES = ["previewed", "created", "updated", "unchanged", "failed", "awaiting_approval"] as const;
const LEVELS = ["low", "medium", "high"] as const;

/** The expected outcome. A PR that ships must state every decision the issue lists; a failure its reason. */
export const ExpectSchema = z
  .strictObject({
    status: z.enum(STATUSES),
    reason: z.string().min(1).optional(),
    target_branch: z.string().min(1).optional(),
    source_branch: z.string().min(1).optional(),
    /** Required reviewers by name; optional ones as `optional:Name`. Order matters. */
    reviewers: z.array(z.string().min(1)).optional(),
    /** The exact set of labels. */
    labels: z.array(z.string().min(1)).optional(),
    draft: z.boolean().optional(),
    risk: z.enum(LEVELS).optional(),
    /** The PR's conventional type (else read from a title pattern that starts with a literal type). */
    type: z
      .string()
      .regex(/^[a-z]+$/)
      .optional(),
    /** The PR is marked breaking: `!` after the title's scope. */
    breaking: z.boolean().optional(),
    /** Symbols (names the change digest reads from the code) the Summary's highlights must name. */
    highlights_mention: z.array(z.string().min(1)).default([]),
    auto_complete: z.boolean().optional(),
    /** A regular expression the whole title must match. */
    title: z.string().min(1).optional(),
    /** Violation codes the result must carry (failures). */
    violations: z.array(z.string().min(1)).default([]),
    /** Text the description must contain. */
    body_contains: z.array(z.string().min(1)).default([]),
    /** Text the description must not contain (e.g. an injection from a commit message, verbatim). */
    body_excludes: z.array(z.string().min(1)).default([]),
    /** The file table was shortened to fit the body limit. */
    truncated: z.boolean().optional(),
    /** Memory flagged the PR as a possible duplicate of an earlier one. */
    duplicate: z.boolean().optional(),
    /** How many earlier PRs memory knew for the trace. */
    earlier_prs: z.number().int().nonnegative().optional(),
  })
  .superRefine((e, ctx) => {
    const ships = e.status !== "failed" && e.status !== "awaiting_approval";
    if (ships) {
      for (const key of ["target_branch", "reviewers", "labels", "draft", "risk", "title"] as const) {
        if (e[key] === undefined)
          ctx.addIssue({ code: "custom", path: [key], message: `a case whose PR ships must expect ${key}` });
      }
    } else if (!e.reason)
      ctx.addIssue({ code: "custom", path: ["reason"], message: "a failing case must expect a reason" });
  });
export type Expect = z.infer<typeof ExpectSchema>;

export const CaseSchema = z
  .strictObject({
    id: z.string().regex(/^[a-z0-9][a-z0-9-]*$/, "ids are lower-case words joined by -"),
    category: z.string().min(1),
    description: z.string().min(1),
    /** commit (CommitCompleted against the fixture), change (ChangeRequested against the fixture's main) or github (the emulator). */
    kind: z.enum(["commit", "change", "github"]).default("commit"),
    fixture: FixtureSchema.optional(),
    github: GitHubWorldSchema.optional(),
    /** Fields merged over the default event; `commit_hash` defaults to the short hash of `commit` (a ref, default the branch). */
    event: z.record(z.string(), z.unknown()).default({}),
    /** Event fields to drop after merging (to make an event invalid). */
    omit: z.array(z.string()).default([]),
    /** The ref whose short hash becomes commit_hash. */
    commit: z.string().min(1).optional(),
    /** Replaces the file's trace registry for this case. */
    traces: z.array(TraceRecordSchema).optional(),
    /** Merged over the PolicySchema defaults. */
    policy: z.record(z.string(), z.unknown()).default({}),
    /** Events handled before the case's own, with memory on (duplicates, re-runs); each merged over the default event. */
    before: z
      .array(
        z.strictObject({ event: z.record(z.string(), z.unknown()).default({}), commit: z.string().min(1).optional() }),
      )
      .default([]),
    expect: ExpectSchema,
  })
  .superRefine((c, ctx) => {
    if (c.kind === "github" && !c.github)
      ctx.addIssue({ code: "custom", path: ["github"], message: "a github case needs a github world" });
    if (c.kind !== "github" && !c.fixture)
      ctx.addIssue({ code: "custom", path: ["fixture"], message: "a commit or change case needs a fixture" });
  });
export type EvalCase = z.infer<typeof CaseSchema>;

export const CaseFileSchema = z.strictObject({
  fixtures: z.record(z.string(), FixtureSchema).default({}),
  traces: z.array(TraceRecordSchema).default([]),
  cases: z.array(CaseSchema).min(1),
});
export type CaseFile = z.infer<typeof CaseFileSchema>;
