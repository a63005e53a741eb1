import type { FailureReason } from "../domain/reasons.js";
import { withHint } from "./hints.js";
import type { Failure } from "./state.js";

/**
 * A node's terminal failure, as it goes into the state's `failure` key: the reason code, the message with the
 * reason's fix appended (see hints.ts), and how many attempts were made.
 */
export function failure(reason: FailureReason, message: string, attempts = 0): Failure {
  return { reason, message: withHint(reason, message), attempts };
}
