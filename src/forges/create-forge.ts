import { readFileSync } from "node:fs";
import path from "node:path";
import { PrCreatorError } from "../domain/errors.js";
import { describeSetting } from "../domain/input-names.js";
import { secretValuesFromEnv } from "../logging/run-log.js";
import type { Policy } from "../domain/policy.js";
import { createAzureDevOpsForge, type AzureDevOpsConfig } from "./azure-devops/index.js";
import type { CredentialInfo } from "./forge-errors.js";
import type { Forge } from "./forge.js";
import { createGitHubForge, type GitHubAppAuth } from "./github/index.js";
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

const APP_VARIABLES = [
  "GITHUB_APP_ID",
  "GITHUB_APP_PRIVATE_KEY",
  "GITHUB_APP_PRIVATE_KEY_FILE",
  "GITHUB_APP_INSTALLATION_ID",
] as const;

const badSetting = (message: string, hint: string) => new PrCreatorError("invalid_config", message, { hint });

/** A PEM private key from a variable (where newlines are often written as `\n`) or a file; never echoed. */
function privateKey(env: Env): string {
  const inline = env.GITHUB_APP_PRIVATE_KEY?.trim();
  const file = env.GITHUB_APP_PRIVATE_KEY_FILE?.trim();
  if (inline && file)
    throw badSetting(
      "Both GITHUB_APP_PRIVATE_KEY and GITHUB_APP_PRIVATE_KEY_FILE are set.",
      "Set one of them: the key itself, or the path of its .pem file.",
    );
  let key: string;
  if (file) {
    try {
      key = readFileSync(file, "utf8").trim();
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code ?? "unreadable";
      throw badSetting(
        `GITHUB_APP_PRIVATE_KEY_FILE names ${JSON.stringify(file)}, which cannot be read (${code}).`,
        "Point it at the .pem file GitHub gave when the app's private key was generated.",
      );
    }
  } else key = inline!.replace(/\\n/g, "\n");
  if (!/^-----BEGIN (?:RSA )?PRIVATE KEY-----[\s\S]+-----END (?:RSA )?PRIVATE KEY-----$/.test(key))
    throw badSetting(
      `${file ? "The file GITHUB_APP_PRIVATE_KEY_FILE names" : "GITHUB_APP_PRIVATE_KEY"} does not hold a PEM private key (expected -----BEGIN RSA PRIVATE KEY----- or -----BEGIN PRIVATE KEY-----).`,
      "Use the .pem file GitHub gave for the app, unchanged.",
    );
  return key;
}

/**
 * GitHub credentials, in this order: a GitHub App installation when GITHUB_APP_ID (or another GITHUB_APP_*) is
 * set, else GITHUB_TOKEN, else GH_TOKEN (the GitHub CLI's name). GITHUB_TOKEN wins over GH_TOKEN so a token set
 * for pr-creator is never replaced by one a developer's shell exports for the CLI.
 */
export function gitHubCredentials(
  env: Env,
): { token: string; credential: CredentialInfo } | { app: GitHubAppAuth; credential: CredentialInfo } {
  if (APP_VARIABLES.some((name) => env[name]?.trim())) {
    const absent = [
      ...(env.GITHUB_APP_ID?.trim() ? [] : ["GITHUB_APP_ID"]),
      ...(env.GITHUB_APP_PRIVATE_KEY?.trim() || env.GITHUB_APP_PRIVATE_KEY_FILE?.trim()
        ? []
        : ["GITHUB_APP_PRIVATE_KEY (or GITHUB_APP_PRIVATE_KEY_FILE)"]),
      ...(env.GITHUB_APP_INSTALLATION_ID?.trim() ? [] : ["GITHUB_APP_INSTALLATION_ID"]),
    ];
    if (absent.length > 0) throw missing("github (as a GitHub App)", absent);
    const installation = env.GITHUB_APP_INSTALLATION_ID!.trim();
    if (!/^[1-9]\d*$/.test(installation))
      throw badSetting(
        `GITHUB_APP_INSTALLATION_ID is ${JSON.stringify(installation)}; expected the installation's number.`,
        "Find it in the URL of the app's installation settings (…/settings/installations/NUMBER).",
      );
    const appId = env.GITHUB_APP_ID!.trim();
    if (!/^(?:[1-9]\d*|Iv[0-9A-Za-z.]+)$/.test(appId))
      throw badSetting(
        `GITHUB_APP_ID is ${JSON.stringify(appId)}; expected the app's numeric ID or its client ID (Iv…).`,
        "Copy it from the app's settings page (About: App ID).",
      );
    return {
      app: { appId, privateKey: privateKey(env), installationId: Number(installation) },
      credential: {
        variable: `GITHUB_APP_ID ${appId}, installation ${installation}`,
        kind: "GitHub App installation token",
      },
    };
  }
  for (const variable of ["GITHUB_TOKEN", "GH_TOKEN"] as const) {
    const token = env[variable]?.trim();
    if (token) return { token, credential: { variable, kind: "token" } };
  }
  throw missing("github", [
    "GITHUB_TOKEN (or GH_TOKEN, or a GitHub App: GITHUB_APP_ID, GITHUB_APP_PRIVATE_KEY, GITHUB_APP_INSTALLATION_ID)",
  ]);
}

/**
 * Azure DevOps credentials, in this order: AZURE_DEVOPS_TOKEN (a PAT, Basic auth), AZURE_DEVOPS_BEARER_TOKEN (a
 * Microsoft Entra ID access token), SYSTEM_ACCESSTOKEN (a pipeline's System.AccessToken); the last two are sent
 * as `Authorization: Bearer`. Undefined when none is set.
 */
export function azureCredentials(
  env: Env,
): (Pick<AzureDevOpsConfig, "token" | "scheme"> & { credential: CredentialInfo }) | undefined {
  const pat = env.AZURE_DEVOPS_TOKEN?.trim();
  if (pat)
    return { token: pat, scheme: "pat", credential: { variable: "AZURE_DEVOPS_TOKEN", kind: "personal access token" } };
  const entra = env.AZURE_DEVOPS_BEARER_TOKEN?.trim();
  if (entra)
    return {
      token: entra,
      scheme: "bearer",
      credential: { variable: "AZURE_DEVOPS_BEARER_TOKEN", kind: "Microsoft Entra ID token" },
    };
  const pipeline = env.SYSTEM_ACCESSTOKEN?.trim();
  if (pipeline)
    return {
      token: pipeline,
      scheme: "bearer",
      credential: { variable: "SYSTEM_ACCESSTOKEN", kind: "pipeline access token (System.AccessToken)" },
    };
  return undefined;
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
    // In a pipeline, SYSTEM_COLLECTIONURI and SYSTEM_TEAMPROJECT name the pipeline's own organisation and project.
    const orgUrl = env.AZURE_DEVOPS_ORG_URL?.trim() || policy.azure_devops.org_url || env.SYSTEM_COLLECTIONURI?.trim();
    const project = env.AZURE_DEVOPS_PROJECT?.trim() || policy.azure_devops.project || env.SYSTEM_TEAMPROJECT?.trim();
    const auth = azureCredentials(env);
    const absent = [
      ...(orgUrl ? [] : ["AZURE_DEVOPS_ORG_URL (or azure_devops.org_url)"]),
      ...(project ? [] : ["AZURE_DEVOPS_PROJECT (or azure_devops.project)"]),
      ...(auth ? [] : ["AZURE_DEVOPS_TOKEN (or AZURE_DEVOPS_BEARER_TOKEN, or SYSTEM_ACCESSTOKEN in a pipeline)"]),
    ];
    if (absent.length > 0) throw missing(kind, absent);
    const locationCacheFile = stateFile === undefined ? undefined : locationCacheFileFor(stateFile);
    return createAzureDevOpsForge({
      orgUrl: orgUrl!,
      project: project!,
      ...auth!,
      ...common,
      ...(locationCacheFile ? { locationCacheFile } : {}),
    });
  }
  const auth = gitHubCredentials(env);
  const owner = env.GITHUB_OWNER?.trim() || policy.github.owner;
  return createGitHubForge({
    ...auth,
    apiUrl: env.GITHUB_API_URL?.trim() || policy.github.api_url,
    ...(owner ? { owner } : {}),
    throttle: policy.github.throttle,
    ...common,
  });
}
