import { inspect, styleText } from "node:util";
import { escapeControls } from "../domain/input-names.js";
import type { AgentStateType } from "../agent/state.js";
import type { Usage } from "../domain/run-result.js";

type Style = Parameters<typeof styleText>[0];

export interface DebugPrinterOptions {
  write: (text: string) => void;
  color: boolean;
  now?: () => number;
}

const MAX_VALUE = 160;

/** A short, one-line view of a state value; control characters from the event shown as escapes. */
function summarize(value: unknown): string {
  return escapeControls(preview(value));
}

function preview(value: unknown): string {
  if (typeof value === "string")
    return JSON.stringify(value.length > MAX_VALUE ? `${value.slice(0, MAX_VALUE)}…` : value);
  if (Array.isArray(value)) return value.length === 0 ? "[]" : `[${value.length} item${value.length > 1 ? "s" : ""}]`;
  const text = inspect(value, { depth: 1, breakLength: Infinity, maxArrayLength: 5, maxStringLength: 60 });
  return text.length > MAX_VALUE ? `${text.slice(0, MAX_VALUE)}…` : text;
}

/**
 * Prints each node's update as it happens: the node, how long it took, the state keys it wrote, model calls
 * with their tokens, and each draft round's verdict. Colour only when asked for (a terminal, no NO_COLOR).
 * Text that comes from the event or the model (violations, failures, state values) has its control
 * characters escaped before it is painted, so it cannot recolour, move or hide the output.
 */
export function createDebugPrinter(opts: DebugPrinterOptions) {
  const now = opts.now ?? (() => performance.now());
  const paint = (style: Style, text: string) => (opts.color ? styleText(style, text) : text);
  let last = now();

  return (node: string, update: Partial<AgentStateType>) => {
    const t = now();
    const ms = Math.round(t - last);
    last = t;
    if (node === "__interrupt__") {
      opts.write(`${paint("yellow", "⏸ paused for approval")}\n`);
      return;
    }
    const lines = [`${paint(["bold", "cyan"], `▶ ${escapeControls(node)}`)} ${paint("dim", `${ms} ms`)}`];
    const usage = update.usage as Usage | undefined;
    if (usage && usage.model_calls > 0) {
      lines.push(
        `  ${paint("magenta", `model call: ${usage.prompt_tokens} prompt + ${usage.completion_tokens} completion tokens`)}`,
      );
    }
    for (const round of update.rounds ?? []) {
      const verdict =
        round.violations.length === 0
          ? paint("green", "passed")
          : paint("red", `${round.violations.length} violation${round.violations.length > 1 ? "s" : ""}`);
      lines.push(`  round ${round.round} (${round.drafted_by}): ${verdict}`);
      for (const v of round.violations) lines.push(`    ${paint("red", "✖")} ${v.code}: ${escapeControls(v.message)}`);
    }
    if (update.failure)
      lines.push(`  ${paint("red", `failure ${update.failure.reason}`)}: ${escapeControls(update.failure.message)}`);
    for (const [key, value] of Object.entries(update)) {
      if (["usage", "rounds", "failure"].includes(key) || value === undefined) continue;
      lines.push(`  ${paint("dim", `${escapeControls(key)}:`)} ${summarize(value)}`);
    }
    opts.write(`${lines.join("\n")}\n`);
  };
}
