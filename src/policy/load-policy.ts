import { access } from "node:fs/promises";
import path from "node:path";
import { PolicySchema, type Policy } from "../domain/policy.js";
import { loadYamlFile } from "./load-yaml.js";

export const DEFAULT_CONFIG_FILE = "pr-creator.yaml";

export interface LoadedPolicy {
  policy: Policy;
  /** The file it came from, or null for the built-in defaults. */
  source: string | null;
}

async function exists(file: string): Promise<boolean> {
  return access(file).then(
    () => true,
    () => false,
  );
}

/**
 * The policy from `--config FILE`, else `./pr-creator.yaml`, else the built-in defaults (the seeds' policy).
 * Relative paths inside the file (trace registry, template, events file) resolve against the file's folder.
 */
export async function loadPolicy(configFile: string | undefined, cwd: string = process.cwd()): Promise<LoadedPolicy> {
  const candidate = configFile ? path.resolve(cwd, configFile) : path.resolve(cwd, DEFAULT_CONFIG_FILE);
  if (!configFile && !(await exists(candidate))) {
    const defaults = PolicySchema.parse({});
    return { policy: { ...defaults, state_file: path.resolve(cwd, defaults.state_file) }, source: null };
  }
  const policy = await loadYamlFile(candidate, PolicySchema, "config file", {
    missingHint: "Check the path, or leave --config out to use ./pr-creator.yaml or the built-in policy.",
  });
  const dir = path.dirname(candidate);
  const resolve = (p: string | undefined) => (p === undefined ? undefined : path.resolve(dir, p));
  return {
    policy: {
      ...policy,
      trace_registry: resolve(policy.trace_registry),
      state_file: resolve(policy.state_file)!,
      body: { ...policy.body, template_file: resolve(policy.body.template_file) },
      events: { ...policy.events, jsonl_file: resolve(policy.events.jsonl_file) },
    },
    source: candidate,
  };
}
