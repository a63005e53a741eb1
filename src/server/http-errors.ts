/**
 * The one error shape of the HTTP API: `{ error, reason, message, issues }`. `error` is the status's reason
 * phrase, `reason` a code from a closed set that clients branch on, `message` one paragraph for people (what
 * was wrong and how to fix it), `issues` one entry per offending field.
 */
import { STATUS_CODES } from "node:http";
import type { z } from "zod";
import { formatZodIssues } from "../domain/errors.js";

export const API_ERROR_REASONS = [
  "invalid_json",
  "invalid_request",
  "invalid_event",
  "unauthorized",
  "not_found",
  "method_not_allowed",
  "not_awaiting_approval",
  "idempotency_key_reused",
  "payload_too_large",
  "unsupported_media_type",
  "queue_full",
  "shutting_down",
  "internal_error",
] as const;
export type ApiErrorReason = (typeof API_ERROR_REASONS)[number];

export interface ApiIssue {
  /** The field, as `context.alert` or `edits[0].path`; `(top level)` for the body itself. */
  path: string;
  message: string;
}

export interface ApiErrorBody {
  error: string;
  reason: ApiErrorReason;
  message: string;
  issues: ApiIssue[];
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly reason: ApiErrorReason,
    message: string,
    readonly issues: ApiIssue[] = [],
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = "ApiError";
  }

  get body(): ApiErrorBody {
    return {
      error: STATUS_CODES[this.status] ?? "Error",
      reason: this.reason,
      message: this.message,
      issues: this.issues,
    };
  }
}

/** The same field names as the CLI's messages (domain/errors.ts), so both front doors say the same thing. */
function pathOf(path: readonly PropertyKey[]): string {
  if (path.length === 0) return "(top level)";
  return path.map((p, i) => (typeof p === "number" ? `[${p}]` : i === 0 ? String(p) : `.${String(p)}`)).join("");
}

/** One issue per zod issue, worded as the CLI words it (`is missing (expected string)`, `expected one of …`). */
export function issuesOf(error: z.ZodError): ApiIssue[] {
  const lines = formatZodIssues(error);
  return error.issues.map((issue, i) => {
    const path = pathOf(issue.path);
    const line = lines[i] ?? issue.message;
    return { path, message: line.startsWith(`${path}: `) ? line.slice(path.length + 2) : line };
  });
}
