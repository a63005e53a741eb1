import { readFile } from "node:fs/promises";
import { parseDocument, type Document } from "yaml";
import type { z } from "zod";
import { PrCreatorError, parseExplained } from "../domain/errors.js";
import type { FailureReason } from "../domain/reasons.js";

async function readText(file: string, what: string, reason: FailureReason, missingHint: string): Promise<string> {
  try {
    return await readFile(file, "utf8");
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const why =
      code === "ENOENT"
        ? "does not exist"
        : code === "EISDIR"
          ? "is a directory"
          : `cannot be read (${code ?? String(error)})`;
    throw new PrCreatorError(reason, `The ${what} ${file} ${why}.`, { hint: missingHint });
  }
}

/** Aliases a file may expand in all; the `yaml` package's own default, named here because the message quotes it. */
export const MAX_YAML_ALIASES = 100;

/**
 * The document as plain data. Anchors and aliases are allowed, but a file whose aliases expand more than
 * MAX_YAML_ALIASES times (an "alias bomb": a few lines that grow to millions of nodes) is refused as invalid.
 */
function toData(doc: Document, file: string, what: string, reason: FailureReason): unknown {
  try {
    return doc.toJS({ maxAliasCount: MAX_YAML_ALIASES }) ?? {};
  } catch (error) {
    // `yaml` throws a ReferenceError for too many aliases (and for an alias to an anchor it has not seen).
    if (!(error instanceof ReferenceError)) throw error;
    const bomb = /alias count/i.test(error.message);
    throw new PrCreatorError(
      reason,
      bomb
        ? `The ${what} ${file} expands YAML aliases more than ${MAX_YAML_ALIASES} times, which is refused as a resource exhaustion attack.`
        : `The ${what} ${file} is not valid YAML: ${error.message.split("\n")[0]}.`,
      {
        hint: bomb
          ? "Write the repeated values out, or use fewer anchors (&name) and aliases (*name)."
          : "Fix the YAML syntax; `yamllint` or an editor with YAML support shows the exact spot.",
      },
    );
  }
}

/**
 * Reads a YAML file and validates it: syntax errors name the line, schema errors name each key with what
 * was expected. An empty file is an empty object.
 */
export async function loadYamlFile<S extends z.ZodType>(
  file: string,
  schema: S,
  what: string,
  opts: { reason?: FailureReason; missingHint?: string } = {},
): Promise<z.output<S>> {
  const reason = opts.reason ?? "invalid_config";
  const text = await readText(file, what, reason, opts.missingHint ?? "Check the path.");
  const doc = parseDocument(text, { prettyErrors: true, uniqueKeys: true });
  if (doc.errors.length > 0) {
    const first = doc.errors[0]!;
    const line = first.linePos?.[0].line;
    throw new PrCreatorError(
      reason,
      `The ${what} ${file} is not valid YAML${line ? ` (line ${line})` : ""}: ${first.message.split("\n")[0]}`,
      {
        hint: "Fix the YAML syntax; `yamllint` or an editor with YAML support shows the exact spot.",
      },
    );
  }
  const data = toData(doc, file, what, reason);
  const parsed = parseExplained(schema, data);
  if (!parsed.success) {
    throw new PrCreatorError(reason, `The ${what} ${file} is invalid: ${parsed.issues.join("; ")}.`, {
      hint: "Fix these keys; the README's configuration reference lists every key, its type and its default.",
    });
  }
  return parsed.data;
}
