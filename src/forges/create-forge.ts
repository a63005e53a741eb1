import path from "node:path";
import { PrCreatorError } from "../domain/errors.js";
import { describeSetting } from "../domain/input-names.js";
import { secretValuesFromEnv } from "../logging/run-log.js";
import type { Policy } from "../domain/policy.js";
import { createAzureDevOpsForge } from "./azure-devops/index.js";
import type { Forge } from "./forge.js";
import { createGitHubForge } from "./github/index.js";
import type { RetryOptions } from "../net/retry.js";

type Env = Readonly<Record<string, string | undefined>>;
export type ForgeKind = Policy["forge"];

const KINDS: readonly ForgeKind[] = ["dry-run", "azure-devops", "github"];

/** The forge in force: PR_CREATOR_FORGE wins over the config. */
export function resolveForgeKind(policy: Policy, env: Env): ForgeKind {
  const fromEnv = env.PR_CREATOR_FORGE?.trim();
  if (!fromEnv) return policy.forge;
  if (!KINDS.includes(fromEnv as ForgeKind)) {
    throw new PrCreatorError(
      "invalid_config",
      `${describeSetting("PR_CREATOR_FORGE", fromEnv, secretValuesFromEnv(env))}; expected one of ${KINDS.join(", ")}.`,
      { hint: "Fix or unset the variable." },
    );
  }
  return fromEnv as ForgeKind;
}

function missing(kind: string, names: string[]): PrCreatorError {
  return new PrCreatorError(
    "invalid_config",
    `The forge "${kind}" is configured but ${names.join(", ")} ${names.length > 1 ? "are" : "is"} not set.`,
    {
      hint: "Set them in the environment (tokens only ever come from the environment), or use forge: dry-run to preview.",
    },
  );
}

/** Where Azure DevOps location data is kept between runs: next to the state file (none for an in-memory one). */
export function locationCacheFileFor(stateFile: string): string | undefined {
  return stateFile === ":memory:" ? undefined : path.join(path.dirname(stateFile), "azure-devops-locations.json");
}

/**
 * Requests in flight per forge host in this process: PR_CREATOR_MAX_IN_FLIGHT_PER_HOST, else the default of
 * src/net/limit.ts.
 */
function maxInFlight(env: Env): number | undefined {
  const raw = env.PR_CREATOR_MAX_IN_FLIGHT_PER_HOST?.trim();
  if (!raw) return undefined;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1) {
    throw new PrCreatorError(
      "invalid_config",
      `PR_CREATOR_MAX_IN_FLIGHT_PER_HOST is "${raw}"; expected a positive integer.`,
      {
        hint: "Fix or unset the variable.",
      },
    );
  }
  return n;
}

/**
 * Builds the configured forge, or null for dry-run. Checks every required setting at start-up. `stateFile`
 * (resolved) places the Azure DevOps location cache next to it.
 */
export function createForge(
  policy: Policy,
  env: Env = process.env,
  retryOptions?: RetryOptions,
  stateFile?: string,
): Forge | null {
  const kind = resolveForgeKind(policy, env);
  if (kind === "dry-run") return null;
  const max = maxInFlight(env);
  const common = {
    timeoutMs: policy.forge_timeout_ms,
    retry: policy.retry_policy,
    ...(retryOptions ? { retryOptions } : {}),
    ...(max ? { maxInFlightPerHost: max } : {}),
  };
  if (kind === "azure-devops") {
    const orgUrl = env.AZURE_DEVOPS_ORG_URL?.trim() || policy.azure_devops.org_url;
    const project = env.AZURE_DEVOPS_PROJECT?.trim() || policy.azure_devops.project;
    const token = env.AZURE_DEVOPS_TOKEN?.trim();
    const absent = [
      ...(orgUrl ? [] : ["AZURE_DEVOPS_ORG_URL (or azure_devops.org_url)"]),
      ...(project ? [] : ["AZURE_DEVOPS_PROJECT (or azure_devops.project)"]),
      ...(token ? [] : ["AZURE_DEVOPS_TOKEN"]),
    ];
    if (absent.length > 0) throw missing(kind, absent);
    const locationCacheFile = stateFile === undefined ? undefined : locationCacheFileFor(stateFile);
    return createAzureDevOpsForge({
      orgUrl: orgUrl!,
      project: project!,
      token: token!,
      ...common,
      ...(locationCacheFile ? { locationCacheFile } : {}),
    });
  }
  const token = env.GITHUB_TOKEN?.trim();
  if (!token) throw missing(kind, ["GITHUB_TOKEN"]);
  const owner = env.GITHUB_OWNER?.trim() || policy.github.owner;
  return createGitHubForge({
    token,
    apiUrl: env.GITHUB_API_URL?.trim() || policy.github.api_url,
    ...(owner ? { owner } : {}),
    throttle: policy.github.throttle,
    ...common,
  });
}
