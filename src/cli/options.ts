/**
 * The options and arguments several commands share, written once: the same flags, the same help text.
 * Each factory returns a fresh commander Option (one Option belongs to one command); a command whose help
 * says something more specific passes its own description. Also the checks of option values commands share.
 */
import { Argument, Option } from "commander";
import { PrCreatorError } from "../domain/errors.js";
import { repoNameProblem, type RepoForge } from "../domain/input-names.js";

export const DEFAULT_CONFIG_HELP = "policy file (default: ./pr-creator.yaml if present, else built-in defaults)";

export const configOption = (description = DEFAULT_CONFIG_HELP) => new Option("-c, --config <file>", description);

export const tracesOption = (description = "trace registry YAML (overrides trace_registry in the config)") =>
  new Option("-t, --traces <file>", description);

export const eventsOption = (
  description = "append lifecycle events as JSON lines to this file (overrides events.jsonl_file)",
) => new Option("-e, --events <file>", description);

export const jsonOption = (description = "print one JSON object") => new Option("--json", description);

export const eventArgument = () =>
  new Argument("<event>", "path of a JSON file holding the event, or - for standard input");

/**
 * Refuses a repository name given on the command line (`what`: the option or argument, as the message names
 * it) that cannot name a repository on `forge`, or on any forge before the forge is known.
 */
export function checkRepoName(repo: string, what: string, forge?: RepoForge): void {
  const problem = repoNameProblem(repo, forge);
  if (problem) throw new PrCreatorError("invalid_request", `${what} ${problem}.`);
}
