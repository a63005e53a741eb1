import { access } from "node:fs/promises";
import path from "node:path";
import { PolicySchema, type Policy } from "../domain/policy.js";
import { loadYamlFile } from "./load-yaml.js";

export const DEFAULT_CONFIG_FILE = "pr-creator.yaml";

/** The environment variable naming the config file when no --config is given (LangGraph Studio reads it too). */
export const CONFIG_ENV = "PR_CREATOR_CONFIG";

/** How the config file was chosen: --config, PR_CREATOR_CONFIG, ./pr-creator.yaml, or none (built-in defaults). */
export type ConfigChoice = "--config" | typeof CONFIG_ENV | typeof DEFAULT_CONFIG_FILE | "built-in";

export interface LoadedPolicy {
  policy: Policy;
  /** The file it came from, or null for the built-in defaults. */
  source: string | null;
  /** What chose that file. */
  chosenBy: ConfigChoice;
}

async function exists(file: string): Promise<boolean> {
  return access(file).then(
    () => true,
    () => false,
  );
}

/**
 * The config file to read: `--config FILE`, else $PR_CREATOR_CONFIG, else `./pr-creator.yaml` when it exists,
 * else none (null). A file named by the flag or the variable must exist; only the implicit one may be absent.
 */
export async function findConfigFile(
  configFile: string | undefined,
  cwd: string = process.cwd(),
  env: Readonly<Record<string, string | undefined>> = process.env,
): Promise<{ file: string | null; chosenBy: ConfigChoice }> {
  if (configFile) return { file: path.resolve(cwd, configFile), chosenBy: "--config" };
  const fromEnv = env[CONFIG_ENV]?.trim();
  if (fromEnv) return { file: path.resolve(cwd, fromEnv), chosenBy: CONFIG_ENV };
  const implicit = path.resolve(cwd, DEFAULT_CONFIG_FILE);
  return (await exists(implicit))
    ? { file: implicit, chosenBy: DEFAULT_CONFIG_FILE }
    : { file: null, chosenBy: "built-in" };
}

/** Paths inside a config file (trace registry, template, events file, state file) resolve against its folder. */
export function resolvePolicyPaths(policy: Policy, configFile: string): Policy {
  const dir = path.dirname(configFile);
  const resolve = (p: string | undefined) => (p === undefined ? undefined : path.resolve(dir, p));
  return {
    ...policy,
    trace_registry: resolve(policy.trace_registry),
    state_file: resolve(policy.state_file)!,
    body: { ...policy.body, template_file: resolve(policy.body.template_file) },
    events: { ...policy.events, jsonl_file: resolve(policy.events.jsonl_file) },
    prompts: { ...policy.prompts, dir: resolve(policy.prompts.dir) },
  };
}

/**
 * The policy from `--config FILE`, else $PR_CREATOR_CONFIG, else `./pr-creator.yaml`, else the built-in
 * defaults (the seeds' policy). Relative paths inside the file (trace registry, template, events file, state
 * file) resolve against the file's folder. Without a `state_file` the state lives in the user's state
 * folder (see defaultStateLocation), never in the working directory.
 */
export async function loadPolicy(
  configFile: string | undefined,
  cwd: string = process.cwd(),
  env: Readonly<Record<string, string | undefined>> = process.env,
): Promise<LoadedPolicy> {
  const { file, chosenBy } = await findConfigFile(configFile, cwd, env);
  if (file === null) return { policy: PolicySchema.parse({}), source: null, chosenBy };
  const policy = await loadYamlFile(file, PolicySchema, "config file", {
    missingHint:
      chosenBy === CONFIG_ENV
        ? `${CONFIG_ENV} names it: fix the path in ${CONFIG_ENV}, or unset it to use ./pr-creator.yaml or the built-in policy.`
        : "Check the path, or leave --config out to use ./pr-creator.yaml or the built-in policy.",
  });
  return { policy: resolvePolicyPaths(policy, file), source: file, chosenBy };
}
