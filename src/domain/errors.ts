import type { z } from "zod";
import type { FailureReason } from "./reasons.js";
import type { Violation } from "./violations.js";

/**
 * An expected failure with a reason code and a one-paragraph explanation for people: what went wrong,
 * where, and how to fix it. Anything else thrown inside a run is an `internal_error`.
 */
export class PrCreatorError extends Error {
  readonly reason: FailureReason;
  readonly hint: string | undefined;
  readonly violations: Violation[];
  readonly attempts: number;

  constructor(
    reason: FailureReason,
    message: string,
    opts: { hint?: string; violations?: Violation[]; attempts?: number; cause?: unknown } = {},
  ) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = "PrCreatorError";
    this.reason = reason;
    this.hint = opts.hint;
    this.violations = opts.violations ?? [];
    this.attempts = opts.attempts ?? 0;
  }

  /** The message and the hint as one paragraph. */
  get paragraph(): string {
    return this.hint ? `${this.message} ${this.hint}` : this.message;
  }
}

/** The text of anything thrown: an Error's message, else the value as a string. */
export function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function pathOf(path: readonly PropertyKey[]): string {
  if (path.length === 0) return "(top level)";
  return path.map((p, i) => (typeof p === "number" ? `[${p}]` : i === 0 ? String(p) : `.${String(p)}`)).join("");
}

// Zod only puts the offending value on an issue when parsing with `reportInput: true` (see parseExplained);
// without it we say what was expected and leave out what was found rather than guess.
function expectation(issue: z.core.$ZodIssue): string {
  const known = "input" in issue;
  switch (issue.code) {
    case "invalid_type":
      if (!known) return `expected ${issue.expected}`;
      return issue.input === undefined
        ? `is missing (expected ${issue.expected})`
        : `expected ${issue.expected}, got ${describe(issue.input)}`;
    case "unrecognized_keys":
      return `has unknown key${issue.keys.length > 1 ? "s" : ""} ${issue.keys.map((k) => `"${k}"`).join(", ")} (check the spelling)`;
    case "invalid_value": {
      const options = `expected one of ${issue.values.map((v) => JSON.stringify(v)).join(", ")}`;
      if (!known) return options;
      return issue.input === undefined ? `is missing (${options})` : `${options}, got ${describe(issue.input)}`;
    }
    default:
      return issue.message;
  }
}

function describe(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  if (typeof value === "string") return JSON.stringify(value.length > 60 ? `${value.slice(0, 57)}...` : value);
  if (typeof value === "object") return "an object";
  return `${typeof value} ${String(value)}`;
}

/** One line per issue, each naming the field: `title.max_length: expected number, got string "x"`. */
export function formatZodIssues(error: z.ZodError): string[] {
  return error.issues.map((issue) => `${pathOf(issue.path)}: ${expectation(issue)}`);
}

export type Explained<T> = { success: true; data: T } | { success: false; issues: string[] };

/** Parses with the offending values reported, and explains every issue as one line naming its field. */
export function parseExplained<S extends z.ZodType>(schema: S, data: unknown): Explained<z.output<S>> {
  const result = schema.safeParse(data, { reportInput: true });
  return result.success
    ? { success: true, data: result.data }
    : { success: false, issues: formatZodIssues(result.error) };
}
