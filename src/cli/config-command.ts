/**
 * `pr-creator config schema | validate [file] | print`: the policy's JSON Schema for editors, a check of a
 * config file that points at each problem's line and column, and the effective policy with where each
 * value came from.
 */
import { readFile } from "node:fs/promises";
import path from "node:path";
import type { Command } from "commander";
import { PolicySchema } from "../domain/policy.js";
import { PrCreatorError } from "../domain/errors.js";
import { checkConfigText, formatProblem, type ConfigProblem } from "../policy/check-config.js";
import { explainPolicy, formatExplainedPolicy } from "../policy/explain-config.js";
import { policyJsonSchema } from "../policy/json-schema.js";
import { CONFIG_ENV, findConfigFile, resolvePolicyPaths, type ConfigChoice } from "../policy/load-policy.js";
import { EXIT } from "./exit-codes.js";
import type { Io } from "./run-command.js";

export interface ConfigIo extends Io {
  env?: Readonly<Record<string, string | undefined>>;
}

/** `config schema`: the JSON Schema, as shipped in schema/pr-creator.schema.json. */
export function configSchemaCommand(io: Io): number {
  io.stdout(`${JSON.stringify(policyJsonSchema(), null, 2)}\n`);
  return EXIT.ok;
}

/** How to name a file for people: relative to the working directory when it is below it. */
function shown(file: string, cwd: string): string {
  const relative = path.relative(cwd, file);
  return relative && !relative.startsWith("..") && !path.isAbsolute(relative) ? relative : file;
}

const CHOSEN: Record<ConfigChoice, string> = {
  "--config": "given by --config",
  [CONFIG_ENV]: `named by ${CONFIG_ENV}`,
  "pr-creator.yaml": "found in the working directory",
  "built-in": "no config file",
};

async function readConfig(file: string, chosenBy: ConfigChoice): Promise<string> {
  try {
    return await readFile(file, "utf8");
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new PrCreatorError(
      "invalid_config",
      `The config file ${file} (${CHOSEN[chosenBy]}) ${code === "ENOENT" ? "does not exist" : code === "EISDIR" ? "is a directory" : `cannot be read (${code ?? String(error)})`}.`,
      {
        hint:
          chosenBy === CONFIG_ENV
            ? `Fix the path in ${CONFIG_ENV}, or unset it to use ./pr-creator.yaml or the built-in policy.`
            : "Check the path.",
      },
    );
  }
}

/** Which file to check or print: the argument, else --config, else $PR_CREATOR_CONFIG, else ./pr-creator.yaml. */
async function locate(file: string | undefined, io: ConfigIo) {
  return findConfigFile(file, io.cwd, io.env ?? process.env);
}

/** `config validate [file]`: every problem as `file:line:column: key: message`; exit 0 when valid, 2 when not. */
export async function configValidateCommand(
  file: string | undefined,
  opts: { config?: string; json?: boolean },
  io: ConfigIo,
): Promise<number> {
  const { file: found, chosenBy } = await locate(file ?? opts.config, io);
  if (found === null) {
    throw new PrCreatorError(
      "invalid_config",
      `There is no config file to validate: no argument, no --config, no ${CONFIG_ENV}, and no ./pr-creator.yaml in ${io.cwd}.`,
      {
        hint: "Pass the file: pr-creator config validate path/to/pr-creator.yaml (the built-in policy is always valid).",
      },
    );
  }
  const check = checkConfigText(await readConfig(found, chosenBy));
  const problems: ConfigProblem[] = check.ok ? [] : check.problems;
  const name = shown(found, io.cwd);
  if (opts.json) {
    io.stdout(`${JSON.stringify({ file: found, valid: check.ok, problems }, null, 2)}\n`);
  } else if (check.ok) {
    io.stdout(`${name}: valid\n`);
  } else {
    for (const problem of problems) io.stderr(`${formatProblem(name, problem)}\n`);
    io.stderr(
      `${name}: ${problems.length} problem${problems.length === 1 ? "" : "s"}. \`pr-creator config schema\` describes every key; point your editor at it for completion and checks as you type.\n`,
    );
  }
  return check.ok ? EXIT.ok : EXIT.rejected;
}

/** `config print`: the effective policy (file, environment, defaults) with where each value came from. */
export async function configPrintCommand(opts: { config?: string; json?: boolean }, io: ConfigIo): Promise<number> {
  const env = io.env ?? process.env;
  const { file, chosenBy } = await locate(opts.config, io);
  let input: Parameters<typeof explainPolicy>[0];
  if (file === null) {
    input = { policy: PolicySchema.parse({}), file: null, doc: null, lineCounter: null, env };
  } else {
    const name = shown(file, io.cwd);
    const check = checkConfigText(await readConfig(file, chosenBy));
    if (!check.ok) {
      throw new PrCreatorError(
        "invalid_config",
        `The config file ${name} is invalid:\n${check.problems.map((p) => `  ${formatProblem(name, p)}`).join("\n")}`,
        { hint: `Fix these, then print again; \`pr-creator config validate ${name}\` checks the file alone.` },
      );
    }
    const policy = resolvePolicyPaths(check.policy, file);
    input = { policy, file: name, doc: check.doc, lineCounter: check.lineCounter, env };
  }
  const explained = explainPolicy(input);
  if (opts.json) {
    io.stdout(`${JSON.stringify({ source: file, chosen_by: chosenBy, ...explained }, null, 2)}\n`);
    return EXIT.ok;
  }
  const header =
    file === null
      ? "Effective pr-creator policy: the built-in defaults (no --config, no PR_CREATOR_CONFIG, no ./pr-creator.yaml)."
      : `Effective pr-creator policy from ${shown(file, io.cwd)} (${CHOSEN[chosenBy]}); each value says where it came from.`;
  io.stdout(formatExplainedPolicy(explained, header));
  return EXIT.ok;
}

const CONFIG_HELP = `policy file (default: $${CONFIG_ENV}, else ./pr-creator.yaml if present, else built-in defaults)`;

export function registerConfigCommand(program: Command, deps: { io: Io }): void {
  const { io } = deps;
  const config = program
    .command("config")
    .description("Inspect the policy: its JSON Schema, a check of a config file, the effective settings.");
  config
    .command("schema")
    .description(
      "Print the JSON Schema of pr-creator.yaml (every key with its type, default and description) for editors: the package ships it as schema/pr-creator.schema.json.",
    )
    .action(() => {
      process.exitCode = configSchemaCommand(io);
    });
  config
    .command("validate")
    .description("Check a config file: each problem with its line and column, and the key meant for a misspelt one.")
    .argument("[file]", `the config file (default: --config, $${CONFIG_ENV}, else ./pr-creator.yaml)`)
    .option("-c, --config <file>", CONFIG_HELP)
    .option("--json", "print one JSON object: file, valid, problems")
    .addHelpText("after", "\nExit codes: 0 valid, 2 invalid or missing.")
    .action(async (file: string | undefined, opts: { config?: string; json?: boolean }) => {
      process.exitCode = await configValidateCommand(file, opts, io);
    });
  config
    .command("print")
    .description(
      "Print the effective policy — the config file, environment overrides and defaults — with where each value came from.",
    )
    .option("-c, --config <file>", CONFIG_HELP)
    .option("--json", "print one JSON object: source, policy, origins")
    .action(async (opts: { config?: string; json?: boolean }) => {
      process.exitCode = await configPrintCommand(opts, io);
    });
}
