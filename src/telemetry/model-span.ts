import type { BaseChatModel } from "@langchain/core/language_models/chat_models";
import type { AIMessage, BaseMessage } from "@langchain/core/messages";
import { SpanKind, SpanStatusCode, type Attributes } from "@opentelemetry/api";
import { GEN_AI, ATTR } from "./attributes.js";
import { prCreatorTracer } from "./tracing.js";

/** LangChain's provider names (`ls_provider`) as the GenAI conventions spell them. */
const PROVIDERS: Readonly<Record<string, string>> = { openai: "openai", azure: "azure.ai.openai" };

/** What the model says about itself: provider, model and temperature (LangChain's tracing parameters). */
function requestAttributes(model: BaseChatModel): Attributes {
  const params = model.getLsParams({});
  const provider = params.ls_provider ? (PROVIDERS[params.ls_provider] ?? params.ls_provider) : "unknown";
  const attributes: Attributes = {
    [GEN_AI.operationName]: "chat",
    [GEN_AI.providerName]: provider,
    [GEN_AI.system]: provider,
  };
  if (params.ls_model_name) attributes[GEN_AI.requestModel] = params.ls_model_name;
  if (typeof params.ls_temperature === "number") attributes[GEN_AI.temperature] = params.ls_temperature;
  return attributes;
}

/** Token usage, the model that answered and why it stopped, when the answer says. */
function responseAttributes(raw: BaseMessage | undefined): Attributes {
  const message = raw as AIMessage | undefined;
  const attributes: Attributes = {};
  const usage = message?.usage_metadata;
  if (usage) {
    attributes[GEN_AI.inputTokens] = usage.input_tokens;
    attributes[GEN_AI.outputTokens] = usage.output_tokens;
  }
  const meta = (message?.response_metadata ?? {}) as Record<string, unknown>;
  const finish = meta.finish_reason ?? meta.stop_reason;
  if (typeof finish === "string") attributes[GEN_AI.finishReasons] = [finish];
  const answeredBy = meta.model_name ?? meta.model;
  if (typeof answeredBy === "string") attributes[GEN_AI.responseModel] = answeredBy;
  return attributes;
}

/**
 * One model call as a GenAI client span (`chat <model>`), a child of whatever span is active (the run's).
 * The prompt and the answer are not recorded: they hold repository text.
 */
export async function traceModelCall<T extends { raw?: BaseMessage | undefined }>(
  model: BaseChatModel,
  call: () => Promise<T>,
): Promise<T> {
  const attributes = requestAttributes(model);
  const name = `chat${attributes[GEN_AI.requestModel] ? ` ${String(attributes[GEN_AI.requestModel])}` : ""}`;
  return prCreatorTracer().startActiveSpan(name, { kind: SpanKind.CLIENT, attributes }, async (span) => {
    try {
      const result = await call();
      span.setAttributes(responseAttributes(result.raw));
      return result;
    } catch (error) {
      const type = error instanceof Error ? error.name : "Error";
      span.setAttribute(ATTR.errorType, type);
      span.recordException(error instanceof Error ? error : String(error));
      span.setStatus({ code: SpanStatusCode.ERROR, message: type });
      throw error;
    } finally {
      span.end();
    }
  });
}
