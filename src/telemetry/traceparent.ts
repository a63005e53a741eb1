import { TraceparentSchema } from "../domain/events.js";

/**
 * The event an HTTP request carries, with the request's W3C `traceparent` header copied into its optional
 * `traceparent` field, so the queued run (possibly run later, by another process) joins the caller's trace.
 * The event's own field wins; a header that is not a valid traceparent is ignored, as W3C asks.
 */
export function withTraceparent(body: unknown, header: string | string[] | undefined): unknown {
  if (typeof body !== "object" || body === null || Array.isArray(body) || "traceparent" in body) return body;
  const parsed = TraceparentSchema.safeParse(typeof header === "string" ? header.trim() : undefined);
  return parsed.success ? { ...body, traceparent: parsed.data } : body;
}
