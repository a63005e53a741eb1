import type { BaseChatModel } from "@langchain/core/language_models/chat_models";
import { AzureChatOpenAI, ChatOpenAI } from "@langchain/openai";
import { PrCreatorError } from "../domain/errors.js";
import { describeSetting } from "../domain/input-names.js";
import type { Policy } from "../domain/policy.js";
import { secretValuesFromEnv } from "../logging/run-log.js";

export type ModelProvider = Policy["model"]["provider"];

export interface ModelChoice {
  provider: Exclude<ModelProvider, "none">;
  model: BaseChatModel;
  /** For people: provider and model, never a key. */
  description: string;
}

type Env = Readonly<Record<string, string | undefined>>;

const PROVIDERS: readonly ModelProvider[] = ["none", "openai", "azure-openai"];

function missing(provider: string, names: string[]): PrCreatorError {
  return new PrCreatorError(
    "invalid_config",
    `The model provider "${provider}" is configured but ${names.join(", ")} ${names.length > 1 ? "are" : "is"} not set.`,
    {
      hint: `Set ${names.length > 1 ? "them" : "it"} in the environment, or set model.provider: none (or PR_CREATOR_MODEL_PROVIDER=none) to draft without a model.`,
    },
  );
}

/** The provider in force: PR_CREATOR_MODEL_PROVIDER wins over the config, so a deployment can switch without editing policy. */
export function resolveProvider(policy: Policy, env: Env): ModelProvider {
  const fromEnv = env.PR_CREATOR_MODEL_PROVIDER?.trim();
  if (!fromEnv) return policy.model.provider;
  if (!PROVIDERS.includes(fromEnv as ModelProvider)) {
    throw new PrCreatorError(
      "invalid_config",
      `${describeSetting("PR_CREATOR_MODEL_PROVIDER", fromEnv, secretValuesFromEnv(env))}; expected one of ${PROVIDERS.join(", ")}.`,
      {
        hint: "Fix or unset the variable.",
      },
    );
  }
  return fromEnv as ModelProvider;
}

/**
 * Builds the chat model from policy and environment, or null when drafting is deterministic. Keys come only
 * from the environment; a configured provider without its key fails here, at start-up, not mid-run.
 * LangChain's caller owns retries (timeouts, 429 with Retry-After, 5xx); nothing else retries model calls.
 */
export function createChatModel(policy: Policy, env: Env = process.env): ModelChoice | null {
  const provider = resolveProvider(policy, env);
  if (provider === "none") return null;
  const m = policy.model;
  const name = env.PR_CREATOR_MODEL?.trim() || m.name;
  const common = { temperature: m.temperature, timeout: m.timeout_ms, maxRetries: m.max_retries };
  if (provider === "openai") {
    const apiKey = env.OPENAI_API_KEY?.trim();
    if (!apiKey) throw missing(provider, ["OPENAI_API_KEY"]);
    const baseURL = env.OPENAI_BASE_URL?.trim() || undefined;
    const model = new ChatOpenAI({ ...common, model: name, apiKey, configuration: baseURL ? { baseURL } : {} });
    return { provider, model, description: `openai ${name}${baseURL ? ` at ${baseURL}` : ""}` };
  }
  const apiKey = env.AZURE_OPENAI_API_KEY?.trim();
  const instance = env.AZURE_OPENAI_API_INSTANCE_NAME?.trim();
  const endpoint = env.AZURE_OPENAI_ENDPOINT?.trim() || env.AZURE_OPENAI_BASE_PATH?.trim();
  const deployment = env.AZURE_OPENAI_API_DEPLOYMENT_NAME?.trim() || env.PR_CREATOR_MODEL?.trim() || m.name;
  const apiVersion = env.AZURE_OPENAI_API_VERSION?.trim();
  const absent = [
    ...(apiKey ? [] : ["AZURE_OPENAI_API_KEY"]),
    ...(instance || endpoint ? [] : ["AZURE_OPENAI_API_INSTANCE_NAME (or AZURE_OPENAI_ENDPOINT)"]),
    ...(apiVersion ? [] : ["AZURE_OPENAI_API_VERSION"]),
  ];
  if (absent.length > 0) throw missing(provider, absent);
  const model = new AzureChatOpenAI({
    ...common,
    azureOpenAIApiKey: apiKey,
    azureOpenAIApiDeploymentName: deployment,
    azureOpenAIApiVersion: apiVersion,
    ...(instance ? { azureOpenAIApiInstanceName: instance } : { azureOpenAIEndpoint: endpoint }),
  });
  return { provider, model, description: `azure-openai deployment ${deployment}` };
}
