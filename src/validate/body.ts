import type { Policy } from "../domain/policy.js";
import type { Violation } from "../domain/violations.js";
import { forEachLine, isHeading, isLineLengthExempt } from "../render/markdown.js";

export interface BodyContext {
  traceId: string;
  componentScope: string;
  policy: Policy;
}

function headings(body: string): string[] {
  const out: string[] = [];
  forEachLine(body, (line, _i, inFence) => {
    if (!inFence && isHeading(line))
      out.push(
        line
          .replace(/^#+\s*/, "")
          .replace(/[:\s#]+$/, "")
          .trim()
          .toLowerCase(),
      );
  });
  return out;
}

/** The scope as a word of its own: "OrderService" does not name scope "Order". */
function mentionsWord(text: string, word: string): boolean {
  const escaped = word.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  return new RegExp(`(?<![\\p{L}\\p{N}_])${escaped}(?![\\p{L}\\p{N}_])`, "u").test(text);
}

export function validateBody(body: string, ctx: BodyContext): Violation[] {
  const { policy } = ctx;
  const out: Violation[] = [];
  if (body.length > policy.body.max_length) {
    out.push({
      code: "body_too_long",
      where: "body",
      message: `description is ${body.length} characters; the limit is ${policy.body.max_length}`,
    });
  }
  const present = headings(body);
  for (const section of policy.body.required_sections) {
    const names = section.split("|").map((s) => s.trim().toLowerCase());
    if (!names.some((n) => present.includes(n))) {
      out.push({
        code: "body_missing_section",
        where: "body",
        message: `description has no "${section.split("|").join('" or "')}" section heading`,
      });
    }
  }
  if (!body.includes(ctx.traceId))
    out.push({
      code: "body_missing_trace_id",
      where: "body",
      message: `description does not mention the trace id ${ctx.traceId}`,
    });
  if (!mentionsWord(body, ctx.componentScope)) {
    out.push({
      code: "body_missing_scope",
      where: "body",
      message: `description does not mention the component scope ${ctx.componentScope}`,
    });
  }
  const leftover = body.match(/\$\{[A-Za-z_][A-Za-z0-9_]*\}/g);
  if (leftover)
    out.push({
      code: "body_unknown_variable",
      where: "body",
      message: `description still holds placeholder${leftover.length > 1 ? "s" : ""} ${[...new Set(leftover)].join(", ")}`,
    });
  const max = policy.body.max_line_length;
  forEachLine(body, (line, i, inFence) => {
    if (line.length > max && !isLineLengthExempt(line, inFence)) {
      out.push({
        code: "body_line_too_long",
        where: "body",
        line: i + 1,
        message: `line ${i + 1} is ${line.length} characters; the limit is ${max}`,
      });
    }
  });
  return out;
}
