/**
 * A loopback emulator of the OpenAI Chat Completions API (`POST /v1/chat/completions`, non-streaming) for
 * driving the unmodified `ChatOpenAI` client in tests: point `OPENAI_BASE_URL` at `url` and use any API key.
 *
 * Answers follow a script, one step per request, first in first out; once the script is used up,
 * `fallbackStep` answers every further request (or, without one, a 500 that says the script ran out).
 * Every request body is recorded, parsed, so tests can assert exactly what the model was sent.
 *
 * Structured output: when the request offers tools (LangChain's `function_calling` method sends
 * `tools: [{ type: "function", function: { name, parameters } }]` and `tool_choice: { type: "function",
 * function: { name } }`), `args` and `rawArguments` steps answer with a tool call to the function that
 * `tool_choice` names (else the first tool). Without tools (`json_schema` / `json_mode`), they answer with the
 * arguments as the message content.
 */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

export interface EmulatedUsage {
  prompt_tokens: number;
  completion_tokens: number;
}

export type Step =
  /** Structured arguments (good or bad), serialised to JSON. */
  | { args: Record<string, unknown>; usage?: EmulatedUsage }
  /** Arguments sent verbatim, e.g. malformed JSON. */
  | { rawArguments: string; usage?: EmulatedUsage }
  /** A plain text answer without a tool call. */
  | { content: string; usage?: EmulatedUsage }
  /** An HTTP error with an OpenAI-style error body (or `body` verbatim); `retryAfter` in seconds. */
  | { status: 429 | 500 | 503; retryAfter?: number; body?: unknown }
  /** Waits, then answers with `then` (the client's timeout fires first when `delayMs` exceeds it). */
  | { delayMs: number; then: Step }
  /** Destroys the socket without answering. */
  | { reset: true };

export interface ChatMessage {
  role: string;
  content: string | { type: string; text?: string }[] | null;
  name?: string;
  tool_calls?: { id: string; type: string; function: { name: string; arguments: string } }[];
  tool_call_id?: string;
}

export interface ChatTool {
  type: string;
  function: { name: string; description?: string; parameters?: unknown; strict?: boolean };
}

/** The part of a Chat Completions request the emulator reads; everything else is kept as sent. */
export interface ChatCompletionRequest {
  model: string;
  messages: ChatMessage[];
  tools?: ChatTool[];
  tool_choice?: "none" | "auto" | "required" | { type: "function"; function: { name: string } };
  response_format?: { type: string; json_schema?: { name: string; schema?: unknown; strict?: boolean } };
  temperature?: number;
  stream?: boolean;
  [key: string]: unknown;
}

export interface ExchangeLog {
  method: string;
  path: string;
  authorization: string | undefined;
  /** The HTTP status answered, or "reset" / "aborted" when no answer was sent. */
  outcome: number | "reset" | "aborted";
}

export interface OpenAiChatEmulator {
  /** Base URL including `/v1`, for `OPENAI_BASE_URL`. */
  url: string;
  /** Every parsed request body to /v1/chat/completions, valid or not, in arrival order. */
  requests: ChatCompletionRequest[];
  /** Every HTTP exchange, in arrival order. */
  log: ExchangeLog[];
  /** The usage reported when a step gives none. */
  usage: EmulatedUsage;
  /** Steps not yet consumed. */
  remaining(): number;
  close(): Promise<void>;
}

export interface EmulatorOptions {
  script?: Step[];
  /** Answers every request once the script is used up. */
  fallbackStep?: Step;
  /** Usage reported by answers that do not set their own. Default 321 prompt / 42 completion tokens. */
  usage?: EmulatedUsage;
  /** Model name echoed in answers (default: the requested model). */
  model?: string;
}

export const DEFAULT_USAGE: EmulatedUsage = { prompt_tokens: 321, completion_tokens: 42 };

const ROLES = new Set(["system", "developer", "user", "assistant", "tool", "function"]);

class InvalidRequest extends Error {
  constructor(
    message: string,
    readonly param: string | null,
  ) {
    super(message);
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Minimal checks against the Chat Completions request shape; throws InvalidRequest naming the parameter. */
function validateRequest(body: unknown): ChatCompletionRequest {
  if (!isObject(body)) throw new InvalidRequest("The request body must be a JSON object.", null);
  if (typeof body.model !== "string" || body.model.trim() === "")
    throw new InvalidRequest("you must provide a model parameter", "model");
  if (!Array.isArray(body.messages) || body.messages.length === 0)
    throw new InvalidRequest("'messages' must be a non-empty array.", "messages");
  body.messages.forEach((m: unknown, i: number) => {
    if (!isObject(m))
      throw new InvalidRequest(`Invalid type for 'messages[${i}]': expected an object.`, `messages[${i}]`);
    if (typeof m.role !== "string" || !ROLES.has(m.role))
      throw new InvalidRequest(`Invalid value for 'messages[${i}].role'.`, `messages[${i}].role`);
    const content = m.content;
    const hasToolCalls = m.role === "assistant" && Array.isArray(m.tool_calls) && m.tool_calls.length > 0;
    const okContent =
      typeof content === "string" ||
      Array.isArray(content) ||
      ((content === null || content === undefined) && hasToolCalls);
    if (!okContent)
      throw new InvalidRequest(
        `Invalid type for 'messages[${i}].content': expected a string or an array of content parts.`,
        `messages[${i}].content`,
      );
  });
  if (body.stream === true) throw new InvalidRequest("This emulator does not stream; send stream: false.", "stream");
  if (body.tools !== undefined) {
    if (!Array.isArray(body.tools)) throw new InvalidRequest("'tools' must be an array.", "tools");
    body.tools.forEach((t: unknown, i: number) => {
      if (
        !isObject(t) ||
        t.type !== "function" ||
        !isObject(t.function) ||
        typeof t.function.name !== "string" ||
        !/^[a-zA-Z0-9_-]{1,64}$/.test(t.function.name)
      ) {
        throw new InvalidRequest(
          `Invalid 'tools[${i}]': expected { type: "function", function: { name } } with a name of letters, digits, _ or -.`,
          `tools[${i}]`,
        );
      }
    });
  }
  const choice = body.tool_choice;
  if (isObject(choice)) {
    const name = isObject(choice.function) ? choice.function.name : undefined;
    const offered = Array.isArray(body.tools) ? (body.tools as ChatTool[]).map((t) => t.function.name) : [];
    if (choice.type !== "function" || typeof name !== "string")
      throw new InvalidRequest(
        "Invalid 'tool_choice': expected { type: \"function\", function: { name } }.",
        "tool_choice",
      );
    if (!offered.includes(name))
      throw new InvalidRequest(`Invalid 'tool_choice': function "${name}" is not in 'tools'.`, "tool_choice");
  } else if (choice !== undefined && !["none", "auto", "required"].includes(choice as string)) {
    throw new InvalidRequest("Invalid value for 'tool_choice'.", "tool_choice");
  }
  return body as ChatCompletionRequest;
}

function errorBody(message: string, type: string, param: string | null = null, code: string | null = null) {
  return { error: { message, type, param, code } };
}

const DEFAULT_ERRORS: Record<number, { message: string; type: string; code: string | null }> = {
  429: { message: "Rate limit reached for requests (emulated).", type: "requests", code: "rate_limit_exceeded" },
  500: {
    message: "The server had an error while processing your request (emulated).",
    type: "server_error",
    code: null,
  },
  503: { message: "The engine is currently overloaded (emulated).", type: "server_error", code: null },
};

let sequence = 0;

export async function startOpenAiChatEmulator(options: EmulatorOptions = {}): Promise<OpenAiChatEmulator> {
  const script = [...(options.script ?? [])];
  const usage = options.usage ?? DEFAULT_USAGE;
  const requests: ChatCompletionRequest[] = [];
  const log: ExchangeLog[] = [];

  const send = (
    res: ServerResponse,
    entry: ExchangeLog,
    status: number,
    body: unknown,
    headers: Record<string, string> = {},
  ) => {
    if (res.destroyed || res.writableEnded) return;
    entry.outcome = status;
    const text = JSON.stringify(body);
    res.writeHead(status, {
      "content-type": "application/json",
      "content-length": String(Buffer.byteLength(text)),
      "x-request-id": `req_emu_${++sequence}`,
      ...headers,
    });
    res.end(text);
  };

  const completion = (
    request: ChatCompletionRequest,
    message: Record<string, unknown>,
    finishReason: string,
    stepUsage: EmulatedUsage | undefined,
  ) => {
    const u = stepUsage ?? usage;
    return {
      id: `chatcmpl-emu${++sequence}`,
      object: "chat.completion",
      created: Math.floor(Date.now() / 1000),
      model: options.model ?? request.model,
      system_fingerprint: "fp_emulator",
      choices: [
        {
          index: 0,
          message: { role: "assistant", refusal: null, ...message },
          logprobs: null,
          finish_reason: finishReason,
        },
      ],
      usage: {
        prompt_tokens: u.prompt_tokens,
        completion_tokens: u.completion_tokens,
        total_tokens: u.prompt_tokens + u.completion_tokens,
      },
    };
  };

  /** A structured answer: a tool call when tools were offered, else the arguments as content. */
  const structured = (request: ChatCompletionRequest, argumentsText: string, stepUsage: EmulatedUsage | undefined) => {
    const choice = request.tool_choice;
    const named = typeof choice === "object" ? choice.function.name : undefined;
    const name = named ?? request.tools?.[0]?.function.name;
    if (!name || choice === "none") return completion(request, { content: argumentsText }, "stop", stepUsage);
    const toolCall = { id: `call_emu${++sequence}`, type: "function", function: { name, arguments: argumentsText } };
    // OpenAI reports "stop" when tool_choice forces a named function, "tool_calls" when the model chose to call one.
    return completion(request, { content: null, tool_calls: [toolCall] }, named ? "stop" : "tool_calls", stepUsage);
  };

  const answer = async (
    step: Step,
    request: ChatCompletionRequest,
    req: IncomingMessage,
    res: ServerResponse,
    entry: ExchangeLog,
  ): Promise<void> => {
    if ("delayMs" in step) {
      await new Promise((resolve) => setTimeout(resolve, step.delayMs));
      if (res.destroyed || req.socket.destroyed) {
        entry.outcome = "aborted";
        return;
      }
      return answer(step.then, request, req, res, entry);
    }
    if ("reset" in step) {
      entry.outcome = "reset";
      req.socket.destroy();
      return;
    }
    if ("status" in step) {
      const preset = DEFAULT_ERRORS[step.status]!;
      const headers: Record<string, string> =
        step.retryAfter === undefined ? {} : { "retry-after": String(step.retryAfter) };
      send(res, entry, step.status, step.body ?? errorBody(preset.message, preset.type, null, preset.code), headers);
      return;
    }
    if ("args" in step) return send(res, entry, 200, structured(request, JSON.stringify(step.args), step.usage));
    if ("rawArguments" in step) return send(res, entry, 200, structured(request, step.rawArguments, step.usage));
    send(res, entry, 200, completion(request, { content: step.content }, "stop", step.usage));
  };

  const server = createServer((req, res) => {
    const entry: ExchangeLog = {
      method: req.method ?? "",
      path: req.url ?? "",
      authorization: req.headers.authorization,
      outcome: "aborted",
    };
    log.push(entry);
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      void (async () => {
        const pathname = new URL(req.url ?? "/", "http://localhost").pathname.replace(/\/+$/, "");
        if (pathname !== "/v1/chat/completions") {
          return send(
            res,
            entry,
            404,
            errorBody(`Unknown request URL: ${req.method} ${pathname}.`, "invalid_request_error", null, "unknown_url"),
          );
        }
        if (req.method !== "POST") {
          return send(
            res,
            entry,
            405,
            errorBody(
              `Method ${req.method} is not allowed on ${pathname}.`,
              "invalid_request_error",
              null,
              "method_not_allowed",
            ),
          );
        }
        if (!/^Bearer \S+/.test(req.headers.authorization ?? "")) {
          return send(
            res,
            entry,
            401,
            errorBody("You didn't provide an API key.", "invalid_request_error", null, "invalid_api_key"),
          );
        }
        let parsed: unknown;
        try {
          parsed = JSON.parse(Buffer.concat(chunks).toString("utf8"));
        } catch {
          return send(
            res,
            entry,
            400,
            errorBody("We could not parse the JSON body of your request.", "invalid_request_error"),
          );
        }
        requests.push(parsed as ChatCompletionRequest);
        let request: ChatCompletionRequest;
        try {
          request = validateRequest(parsed);
        } catch (error) {
          if (!(error instanceof InvalidRequest)) throw error;
          return send(
            res,
            entry,
            400,
            errorBody(error.message, "invalid_request_error", error.param, "invalid_request"),
          );
        }
        const step = script.shift() ?? options.fallbackStep;
        if (!step) {
          return send(
            res,
            entry,
            500,
            errorBody(
              `The emulator's script is used up after ${requests.length - 1} requests and no fallbackStep is set.`,
              "server_error",
            ),
          );
        }
        await answer(step, request, req, res, entry);
      })().catch((error: unknown) => {
        send(
          res,
          entry,
          500,
          errorBody(`Emulator error: ${error instanceof Error ? error.message : String(error)}`, "server_error"),
        );
      });
    });
  });

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}/v1`,
    requests,
    log,
    usage,
    remaining: () => script.length,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      }),
  };
}

/** The text of a message's content (string, or the text parts joined). */
export function messageText(message: ChatMessage | undefined): string {
  if (!message) return "";
  if (typeof message.content === "string") return message.content;
  if (Array.isArray(message.content)) return message.content.map((p) => p.text ?? "").join("");
  return "";
}
