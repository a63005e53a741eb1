/**
 * OpenAPI 3.1 description of the HTTP API, served at GET /openapi.json. The event bodies and the run result are
 * generated from the domain's zod schemas, so they cannot drift from what the server validates and the agent
 * returns; test/integration/serve.test.ts checks that every route is described and that the answers it gets
 * validate against this document.
 */
import { z } from "zod";
import { ChangeRequestedSchema, CommitCompletedSchema } from "../domain/events.js";
import { RunResultSchema } from "../domain/run-result.js";
import { API_ERROR_REASONS } from "./http-errors.js";
import { RUN_STATUSES } from "./runs-store.js";

type Schema = Record<string, unknown>;

export interface OpenApiDocument {
  openapi: "3.1.0";
  info: { title: string; version: string; description: string };
  servers?: { url: string }[];
  security: Record<string, string[]>[];
  paths: Record<string, Record<string, Schema>>;
  components: {
    schemas: Record<string, Schema>;
    securitySchemes: Record<string, Schema>;
    responses: Record<string, Schema>;
    headers: Record<string, Schema>;
  };
}

const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const json = (schema: Schema) => ({ "application/json": { schema } });
const response = (description: string, schema: Schema, headers?: Schema) => ({
  description,
  content: json(schema),
  ...(headers ? { headers } : {}),
});
const errorResponse = (name: string) => ({ $ref: `#/components/responses/${name}` });

/** A request body describes what the server accepts (input), an answer what it sends (output: closed objects). */
function fromZod(schema: z.ZodType, io: "input" | "output" = "input"): Schema {
  const { $schema: _dialect, ...rest } = z.toJSONSchema(schema, {
    target: "draft-2020-12",
    io,
    unrepresentable: "any",
  }) as Schema;
  return rest;
}

const nullableTime = { type: ["string", "null"], format: "date-time" };

const schemas: Record<string, Schema> = {
  CommitCompleted: {
    ...fromZod(CommitCompletedSchema),
    description: "A finished commit to turn into a PR (README, Events).",
  },
  ChangeRequested: {
    ...fromZod(ChangeRequestedSchema),
    description: "A requested infrastructure change; `change_id` or `issue_id` is required (README, Change requests).",
  },
  Event: {
    oneOf: [ref("CommitCompleted"), ref("ChangeRequested")],
    discriminator: {
      propertyName: "event",
      mapping: {
        CommitCompleted: "#/components/schemas/CommitCompleted",
        ChangeRequested: "#/components/schemas/ChangeRequested",
      },
    },
  },
  RunStatus: { type: "string", enum: [...RUN_STATUSES] },
  Links: {
    type: "object",
    required: ["self"],
    properties: {
      self: { type: "string" },
      resume: { type: "string", description: "Present while the run awaits approval." },
    },
    additionalProperties: false,
  },
  Accepted: {
    type: "object",
    required: ["run_id", "thread_id", "status", "links"],
    properties: {
      run_id: { type: "string" },
      thread_id: { type: "string", description: "The checkpoint thread (one active run per thread)." },
      status: ref("RunStatus"),
      links: ref("Links"),
    },
    additionalProperties: false,
  },
  RunResult: fromZod(RunResultSchema, "output"),
  Run: {
    type: "object",
    required: [
      "run_id",
      "thread_id",
      "event",
      "status",
      "submitted_at",
      "started_at",
      "finished_at",
      "attempts",
      "result",
      "error",
      "links",
    ],
    properties: {
      run_id: { type: "string" },
      thread_id: { type: "string" },
      event: { type: "string", enum: ["CommitCompleted", "ChangeRequested"] },
      status: ref("RunStatus"),
      submitted_at: { type: "string", format: "date-time" },
      started_at: nullableTime,
      finished_at: nullableTime,
      attempts: {
        type: "integer",
        minimum: 0,
        description: "Starts so far: more than one after a restart or a resume.",
      },
      result: {
        oneOf: [ref("RunResult"), { type: "null" }],
        description: "Set once the run is done, failed or awaiting approval.",
      },
      error: {
        oneOf: [
          {
            type: "object",
            required: ["reason", "message"],
            properties: { reason: { type: "string" }, message: { type: "string" } },
            additionalProperties: false,
          },
          { type: "null" },
        ],
        description: "Set when the agent threw instead of answering (then `result` is null).",
      },
      links: ref("Links"),
    },
    additionalProperties: false,
  },
  ResumeRequest: {
    type: "object",
    required: ["approve"],
    properties: {
      approve: {
        type: "boolean",
        description: "true creates the PR despite the violation; false ends the run with PullRequestFailed.",
      },
      reason: { type: "string", minLength: 1, maxLength: 2000 },
      by: { type: "string", minLength: 1, maxLength: 200 },
    },
    additionalProperties: false,
  },
  Error: {
    type: "object",
    required: ["error", "reason", "message", "issues"],
    properties: {
      error: { type: "string", description: "The status's reason phrase." },
      reason: { type: "string", enum: [...API_ERROR_REASONS] },
      message: { type: "string" },
      issues: {
        type: "array",
        items: {
          type: "object",
          required: ["path", "message"],
          properties: { path: { type: "string" }, message: { type: "string" } },
          additionalProperties: false,
        },
      },
    },
    additionalProperties: false,
  },
  Health: {
    type: "object",
    required: ["status"],
    properties: { status: { const: "ok" } },
    additionalProperties: false,
  },
  Ready: {
    type: "object",
    required: ["status", "checks"],
    properties: {
      status: { type: "string", enum: ["ready", "not_ready", "draining"] },
      checks: {
        type: "object",
        required: ["agent", "state_file"],
        properties: { agent: { type: "boolean" }, state_file: { type: "boolean" } },
        additionalProperties: false,
      },
    },
    additionalProperties: false,
  },
};

const responses: Record<string, Schema> = {
  BadRequest: response(
    "The body is not JSON, not an object, or names no known event (reason invalid_json or invalid_request).",
    ref("Error"),
  ),
  Unauthorized: response("Missing or wrong bearer token (reason unauthorized).", ref("Error"), {
    "WWW-Authenticate": { schema: { type: "string" } },
  }),
  NotFound: response("No run with this id (reason not_found).", ref("Error")),
  PayloadTooLarge: response("The body is larger than server.max_body_bytes (reason payload_too_large).", ref("Error")),
  UnsupportedMediaType: response("The body is not application/json (reason unsupported_media_type).", ref("Error")),
  Unprocessable: response(
    "A field is missing or invalid, one issue per field (reason invalid_event or invalid_request), or an Idempotency-Key was reused with another body (idempotency_key_reused).",
    ref("Error"),
  ),
  TooManyRequests: response(
    "Every run slot and queue place is taken (reason queue_full); retry after Retry-After seconds.",
    ref("Error"),
    { "Retry-After": { $ref: "#/components/headers/RetryAfter" } },
  ),
  ShuttingDown: response("The server is draining for shutdown (reason shutting_down).", ref("Error")),
  Other: response("Any other error: 405 method_not_allowed (with Allow), 500 internal_error.", ref("Error")),
};

const authErrors = { "401": errorResponse("Unauthorized"), default: errorResponse("Other") };

const paths: OpenApiDocument["paths"] = {
  "/v1/events": {
    post: {
      operationId: "submitEvent",
      summary: "Submit a CommitCompleted or ChangeRequested event; the run happens in the background.",
      parameters: [
        {
          name: "Idempotency-Key",
          in: "header",
          required: false,
          description:
            "1 to 255 visible ASCII characters. The same key with the same body answers the original run (200); with another body, 422.",
          schema: { type: "string", minLength: 1, maxLength: 255 },
        },
      ],
      requestBody: { required: true, content: json(ref("Event")) },
      responses: {
        "200": response(
          "A run for the same event (same checkpoint thread) is queued, running or awaiting approval, or the Idempotency-Key was seen: its run.",
          ref("Accepted"),
        ),
        "202": response("Accepted: a new run, queued.", ref("Accepted"), { Location: { schema: { type: "string" } } }),
        "400": errorResponse("BadRequest"),
        "413": errorResponse("PayloadTooLarge"),
        "415": errorResponse("UnsupportedMediaType"),
        "422": errorResponse("Unprocessable"),
        "429": errorResponse("TooManyRequests"),
        "503": errorResponse("ShuttingDown"),
        ...authErrors,
      },
    },
  },
  "/v1/runs/{id}": {
    get: {
      operationId: "getRun",
      summary: "A run's status and, once finished or paused, the agent's result.",
      parameters: [{ name: "id", in: "path", required: true, schema: { type: "string" } }],
      responses: { "200": response("The run.", ref("Run")), "404": errorResponse("NotFound"), ...authErrors },
    },
  },
  "/v1/runs/{id}/resume": {
    post: {
      operationId: "resumeRun",
      summary: "Answer a run awaiting approval: approve continues it, reject ends it with PullRequestFailed.",
      parameters: [{ name: "id", in: "path", required: true, schema: { type: "string" } }],
      requestBody: { required: true, content: json(ref("ResumeRequest")) },
      responses: {
        "202": response("The decision is queued; the run continues under the same id.", ref("Accepted"), {
          Location: { schema: { type: "string" } },
        }),
        "400": errorResponse("BadRequest"),
        "404": errorResponse("NotFound"),
        "409": response("The run is not awaiting approval (reason not_awaiting_approval).", ref("Error")),
        "413": errorResponse("PayloadTooLarge"),
        "415": errorResponse("UnsupportedMediaType"),
        "422": errorResponse("Unprocessable"),
        "429": errorResponse("TooManyRequests"),
        "503": errorResponse("ShuttingDown"),
        ...authErrors,
      },
    },
  },
  "/healthz": {
    get: {
      operationId: "health",
      summary: "The process is up.",
      security: [],
      responses: { "200": response("Up.", ref("Health")) },
    },
  },
  "/readyz": {
    get: {
      operationId: "ready",
      summary: "Ready for events: the agent is built, the state file is writable and the server is not draining.",
      security: [],
      responses: {
        "200": response("Ready.", ref("Ready")),
        "503": response("Not ready, or draining for shutdown.", ref("Ready")),
      },
    },
  },
  "/metrics": {
    get: {
      operationId: "metrics",
      summary: "Prometheus metrics: the agent's (prcreator_*) and the server's (prcreator_http_*, prcreator_server_*).",
      responses: {
        "200": { description: "Prometheus text format.", content: { "text/plain": { schema: { type: "string" } } } },
        ...authErrors,
      },
    },
  },
  "/openapi.json": {
    get: {
      operationId: "openapi",
      summary: "This document.",
      responses: { "200": response("OpenAPI 3.1.", { type: "object" }), ...authErrors },
    },
  },
};

export function openApiDocument(version: string): OpenApiDocument {
  return {
    openapi: "3.1.0",
    info: {
      title: "pr-creator",
      version,
      description:
        "HTTP front door of pr-creator (`pr-creator serve`): submit events, follow runs, answer approvals. Every route but /healthz and /readyz needs `Authorization: Bearer <token>` when the token variable (server.token_env) is set; without it the server listens on loopback only. Errors share one shape (Error).",
    },
    security: [{ bearer: [] }],
    paths,
    components: {
      schemas,
      securitySchemes: {
        bearer: {
          type: "http",
          scheme: "bearer",
          description: "The token from the environment variable named by server.token_env.",
        },
      },
      responses,
      headers: {
        RetryAfter: {
          description: "Seconds to wait, estimated from recent run durations; at least 1.",
          schema: { type: "integer", minimum: 1 },
        },
      },
    },
  };
}
