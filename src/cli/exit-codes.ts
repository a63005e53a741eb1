import type { RunResult } from "../domain/run-result.js";
import { isRejection } from "../domain/reasons.js";

export const EXIT = { ok: 0, failed: 1, rejected: 2, awaitingApproval: 3 } as const;

/** A lost event makes an otherwise successful run exit 1: downstream agents did not hear of it. */
export function exitCodeFor(result: RunResult): number {
  if (result.status === "awaiting_approval") return EXIT.awaitingApproval;
  if (result.status !== "failed") return result.undelivered > 0 ? EXIT.failed : EXIT.ok;
  return result.reason && isRejection(result.reason) ? EXIT.rejected : EXIT.failed;
}
