/**
 * The HTTP front door (`pr-creator serve`): events in, runs out, approvals answered. Fastify parses and limits
 * bodies and closes gracefully; the run registry (runs-store.ts) and queue (runs-queue.ts) bound the work and
 * survive restarts. The routes are described in openapi.ts.
 */
import Fastify, { type FastifyReply, type FastifyRequest } from "fastify";
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import path from "node:path";
import { z } from "zod";
import type { Agent } from "../agent/create-agent.js";
import { threadIdFor } from "../domain/run-result.js";
import { ChangeRequestedSchema, CommitCompletedSchema } from "../domain/events.js";
import { errorText, PrCreatorError } from "../domain/errors.js";
import type { Policy } from "../domain/policy.js";
import { createAuth } from "./http-auth.js";
import { ApiError, issuesOf } from "./http-errors.js";
import { registerServerMetrics, type ServerMetrics } from "./http-metrics.js";
import { openApiDocument } from "./openapi.js";
import { withTraceparent } from "../telemetry/traceparent.js";
import { RunQueue, type DrainReport, type RunService } from "./runs-queue.js";
import { startRunPruner, type RunPruner } from "./runs-retention.js";
import { EVENT_NAMES, openRunStore, type EventName, type RunStore, type StoredRun } from "./runs-store.js";

export type ServerLogger = (level: "info" | "warn" | "error", message: string) => void;

export interface HttpServerOptions {
  /** An agent the caller owns (and closes), or a factory: the server builds that agent in listen() and closes it in close(). */
  agent: Agent | (() => Promise<Agent>);
  server: Policy["server"];
  /** Where the bearer token is read from (default: process.env). */
  env?: Readonly<Record<string, string | undefined>>;
  now?: () => Date;
  logger?: ServerLogger;
  /** The state file for the run registry; default: the agent's policy.state_file. */
  stateFile?: string;
  /** Runs kept elsewhere (the Postgres registry and job queue, src/workers/pg-runs.ts); default: this process's queue on the state file. */
  runs?: (agent: Agent) => Promise<RunService>;
}

export interface HttpServer {
  /** Builds the agent if needed, re-queues runs a previous process left unfinished, and listens; resolves to the address (http://host:port). */
  listen(): Promise<string>;
  /** Refuses new runs (503), waits up to server.drain_timeout_ms for running ones, then stops listening and releases the state file. */
  close(): Promise<DrainReport>;
  readonly address: string | null;
  /** Every registered route, for checking the OpenAPI description against them. */
  readonly routes: ReadonlyArray<{ method: string; url: string }>;
}

/** Routes anyone may call: orchestrators probe them without credentials. */
const PUBLIC_ROUTES = new Set(["/healthz", "/readyz"]);

const VERSION = (
  JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as { version: string }
).version;

const ResumeBodySchema = z.strictObject({
  approve: z.boolean(),
  reason: z
    .string()
    .trim()
    .min(1, "reason must be a non-empty string")
    .max(2000, "reason must be at most 2000 characters")
    .optional(),
  by: z
    .string()
    .trim()
    .min(1, "by must be a non-empty string")
    .max(200, "by must be at most 200 characters")
    .optional(),
});

/** Visible ASCII, as the Idempotency-Key draft's examples; long enough for a UUID or a hash. */
const IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,255}$/;

/** JSON.parse's message without the quoted input it sometimes carries. */
function jsonProblem(error: unknown): string {
  const flat = errorText(error).replace(/\s+/g, " ");
  const quoted = /^(.*?), ".*" is not valid JSON$/.exec(flat);
  return (quoted ? quoted[1]! : flat).slice(0, 200);
}

function parseJsonBody(text: string): unknown {
  if (text.trim() === "") throw new ApiError(400, "invalid_json", "The body is empty; send one JSON object.");
  try {
    // Keys that would reach an object's prototype if someone later merged the body into another object.
    return JSON.parse(text, (key, value: unknown) => {
      if (key === "__proto__")
        throw new ApiError(400, "invalid_json", 'The body uses the key "__proto__", which is not accepted.');
      return value;
    });
  } catch (error) {
    if (error instanceof ApiError) throw error;
    throw new ApiError(400, "invalid_json", `The body is not valid JSON (${jsonProblem(error)}).`);
  }
}

function describe(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  return typeof value === "string" ? "a string" : typeof value === "object" ? "an object" : `a ${typeof value}`;
}

function requireObject(body: unknown, what: string): Record<string, unknown> {
  if (body === undefined)
    throw new ApiError(
      415,
      "unsupported_media_type",
      `Send ${what} as a JSON body with Content-Type: application/json.`,
    );
  if (typeof body !== "object" || body === null || Array.isArray(body)) {
    throw new ApiError(400, "invalid_request", `The body must be a JSON object (${what}), not ${describe(body)}.`, [
      { path: "(top level)", message: `expected object, got ${describe(body)}` },
    ]);
  }
  return body as Record<string, unknown>;
}

/** Which event the body is, and that its fields are right: field errors name every field, as the CLI does. */
function validateEvent(body: unknown): EventName {
  const event = requireObject(body, "an event");
  const name = event.event;
  const expected = EVENT_NAMES.map((n) => `"${n}"`).join(" or ");
  if (name === undefined) {
    throw new ApiError(400, "invalid_request", `The body has no "event" field; say which event it is (${expected}).`, [
      { path: "event", message: `is missing (expected ${expected})` },
    ]);
  }
  if (!EVENT_NAMES.includes(name as EventName)) {
    const shown = typeof name === "string" ? JSON.stringify(name.slice(0, 60)) : describe(name);
    throw new ApiError(
      400,
      "invalid_request",
      `Unknown event ${shown}: this endpoint accepts ${EVENT_NAMES.join(" and ")}.`,
      [{ path: "event", message: `expected ${expected}, got ${shown}` }],
    );
  }
  const parsed = (name === "CommitCompleted" ? CommitCompletedSchema : ChangeRequestedSchema).safeParse(event, {
    reportInput: true,
  });
  if (!parsed.success) {
    const issues = issuesOf(parsed.error);
    throw new ApiError(
      422,
      "invalid_event",
      `The ${String(name)} event is invalid: ${issues.map((i) => `${i.path}: ${i.message}`).join("; ")}.`,
      issues,
    );
  }
  return name as EventName;
}

function idempotencyKeyOf(request: FastifyRequest): string | null {
  const raw = request.headers["idempotency-key"];
  if (raw === undefined) return null;
  if (typeof raw !== "string" || !IDEMPOTENCY_KEY.test(raw)) {
    throw new ApiError(
      400,
      "invalid_request",
      "The Idempotency-Key header must appear once and hold 1 to 255 visible ASCII characters (a UUID, for example).",
      [{ path: "Idempotency-Key", message: "expected 1 to 255 visible ASCII characters" }],
    );
  }
  return raw;
}

function links(run: StoredRun): { self: string; resume?: string } {
  const self = `/v1/runs/${encodeURIComponent(run.run_id)}`;
  return run.status === "awaiting_approval" ? { self, resume: `${self}/resume` } : { self };
}

function acceptedView(run: StoredRun) {
  return { run_id: run.run_id, thread_id: run.thread_id, status: run.status, links: links(run) };
}

function runView(run: StoredRun) {
  const { run_id, thread_id, event, status, submitted_at, started_at, finished_at, attempts, result, error } = run;
  return {
    run_id,
    thread_id,
    event,
    status,
    submitted_at,
    started_at,
    finished_at,
    attempts,
    result,
    error,
    links: links(run),
  };
}

function queueFull(retryAfterSeconds: number, server: Policy["server"]): ApiError {
  return new ApiError(
    429,
    "queue_full",
    `All ${server.max_concurrent_runs} run slot${server.max_concurrent_runs === 1 ? "" : "s"} and ${server.max_queued} queue place${server.max_queued === 1 ? "" : "s"} are taken; retry after ${retryAfterSeconds} s.`,
    [],
    { "Retry-After": String(retryAfterSeconds) },
  );
}

const shuttingDown = () =>
  new ApiError(
    503,
    "shutting_down",
    "The server is shutting down and accepts no new runs; retry against another instance or once it is back.",
  );

/** Fastify's own errors (body limit, media type) in the API's error shape; anything unexpected is a 500 that says no more. */
function toApiError(error: unknown, maxBodyBytes: number, request: FastifyRequest): ApiError {
  if (error instanceof ApiError) return error;
  const { code, statusCode } = (error ?? {}) as { code?: string; statusCode?: number };
  switch (code) {
    case "FST_ERR_CTP_BODY_TOO_LARGE":
      return new ApiError(
        413,
        "payload_too_large",
        `The body is larger than ${maxBodyBytes} bytes (server.max_body_bytes).`,
      );
    case "FST_ERR_CTP_INVALID_MEDIA_TYPE": {
      const type = request.headers["content-type"];
      return new ApiError(
        415,
        "unsupported_media_type",
        `${type ? `Content-Type ${JSON.stringify(type.slice(0, 100))} is not accepted` : "The body has no Content-Type"}; send JSON with Content-Type: application/json.`,
      );
    }
    case "FST_ERR_CTP_INVALID_CONTENT_LENGTH":
      return new ApiError(400, "invalid_request", "The Content-Length header does not match the body.");
  }
  if (typeof statusCode === "number" && statusCode >= 400 && statusCode < 500) {
    return new ApiError(
      statusCode,
      "invalid_request",
      error instanceof Error ? error.message : "The request is invalid.",
    );
  }
  return new ApiError(500, "internal_error", "The server failed unexpectedly; the server's log has the details.");
}

/** `/v1/runs/:id` → a matcher for concrete paths, to tell 405 (known path, other method) from 404. */
function matcherOf(url: string): RegExp {
  const pattern = url
    .split("/")
    .map((part) => (part.startsWith(":") ? "[^/]+" : part.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")))
    .join("/");
  return new RegExp(`^${pattern}$`);
}

/** The usual reasons a port cannot be taken, as a configuration problem with a fix. */
function listenError(error: unknown, server: Policy["server"]): unknown {
  const code = (error as { code?: unknown } | null)?.code;
  const where = `${server.host}:${server.port}`;
  const problems: Record<string, string> = {
    EADDRINUSE: `${where} is already in use`,
    EACCES: `listening on ${where} is not permitted`,
    EADDRNOTAVAIL: `${server.host} is not an address of this machine`,
    ENOTFOUND: `the host ${server.host} cannot be resolved`,
  };
  if (typeof code !== "string" || !(code in problems)) return error;
  return new PrCreatorError("invalid_config", `The server cannot listen: ${problems[code]}.`, {
    hint: "Choose another --port or --host (server.port, server.host).",
    cause: error,
  });
}

interface Context {
  agent: Agent;
  store: RunStore | undefined;
  queue: RunService;
  metrics: ServerMetrics;
  /** Deletes long-finished runs from the state file; with a database the workers prune instead. */
  pruner?: RunPruner;
}

export function createHttpServer(options: HttpServerOptions): HttpServer {
  const { server } = options;
  const now = options.now ?? (() => new Date());
  const log: ServerLogger = options.logger ?? (() => undefined);
  // Before anything listens: a server that would be open to the network without a token never starts.
  const auth = createAuth(server, options.env ?? process.env);
  const routes: { method: string; url: string }[] = [];
  let ctx: Context | undefined;
  let ownedAgent: Agent | undefined;
  let address: string | null = null;
  let closing: Promise<DrainReport> | undefined;

  const app = Fastify({ logger: false, bodyLimit: server.max_body_bytes });
  app.addHook("onRoute", (route) => {
    for (const method of [route.method].flat()) routes.push({ method, url: route.url });
  });

  // Only JSON: without a parser for other types Fastify answers 415 for them.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser("application/json", { parseAs: "string" }, (_request, body, done) => {
    try {
      done(null, parseJsonBody(body as string));
    } catch (error) {
      done(error as Error, undefined);
    }
  });

  app.addHook("onRequest", async (request) => {
    if (request.routeOptions.url !== undefined && PUBLIC_ROUTES.has(request.routeOptions.url)) return;
    const check = auth.check(request.headers.authorization);
    if (check === "ok") return;
    const challenge =
      check === "missing" ? 'Bearer realm="pr-creator"' : 'Bearer realm="pr-creator", error="invalid_token"';
    throw new ApiError(
      401,
      "unauthorized",
      check === "missing"
        ? "This route needs a bearer token: send Authorization: Bearer <token>."
        : "The bearer token is wrong, or the Authorization header is not of the form Bearer <token>.",
      [],
      { "WWW-Authenticate": challenge },
    );
  });

  app.addHook("onResponse", async (request, reply) => {
    ctx?.metrics.request(
      request.method,
      request.routeOptions.url ?? "unmatched",
      reply.statusCode,
      reply.elapsedTime / 1000,
    );
  });

  app.setErrorHandler((error, request, reply) => {
    const api = toApiError(error, server.max_body_bytes, request);
    if (api.status >= 500)
      log(
        "error",
        `${request.method} ${request.routeOptions.url ?? request.url.split("?")[0]} failed: ${errorText(error)}`,
      );
    return reply.code(api.status).headers(api.headers).send(api.body);
  });

  app.setNotFoundHandler((request, reply) => {
    const pathname = request.url.split("?")[0]!;
    const allowed = [...new Set(routes.filter((r) => matcherOf(r.url).test(pathname)).map((r) => r.method))];
    const error =
      allowed.length > 0
        ? new ApiError(
            405,
            "method_not_allowed",
            `${request.method} is not allowed on ${pathname.slice(0, 200)}; use ${allowed.join(" or ")}.`,
            [],
            { Allow: allowed.join(", ") },
          )
        : new ApiError(
            404,
            "not_found",
            `There is no route ${request.method} ${pathname.slice(0, 200)}; GET /openapi.json lists the routes.`,
          );
    return reply.code(error.status).headers(error.headers).send(error.body);
  });

  const context = (): Context => {
    if (!ctx) throw new ApiError(503, "shutting_down", "The server is not started.");
    return ctx;
  };
  const send = (reply: FastifyReply, status: number, run: StoredRun) => {
    if (status === 202) reply.header("Location", links(run).self);
    return reply.code(status).send(acceptedView(run));
  };

  app.post("/v1/events", async (request, reply) => {
    const { queue } = context();
    const event = validateEvent(request.body);
    const idempotencyKey = idempotencyKeyOf(request);
    const outcome = await queue.submit({
      // The caller's W3C traceparent header travels with the queued event, so the run joins its trace.
      input: withTraceparent(request.body, request.headers.traceparent),
      event,
      threadId: threadIdFor(request.body),
      requestHash: createHash("sha256").update(JSON.stringify(request.body)).digest("hex"),
      idempotencyKey,
    });
    switch (outcome.kind) {
      case "accepted":
        return send(reply, 202, outcome.run);
      case "existing":
        return send(reply, 200, outcome.run);
      case "key_reused":
        throw new ApiError(
          422,
          "idempotency_key_reused",
          `The Idempotency-Key was already used for run ${outcome.run.run_id} with a different body; use a new key for a different event.`,
          [{ path: "Idempotency-Key", message: "already used with a different body" }],
        );
      case "full":
        throw queueFull(outcome.retryAfterSeconds, server);
      case "draining":
        throw shuttingDown();
    }
  });

  app.get<{ Params: { id: string } }>("/v1/runs/:id", async (request) => {
    const run = await context().queue.get(request.params.id);
    if (!run)
      throw new ApiError(
        404,
        "not_found",
        `No run ${JSON.stringify(request.params.id.slice(0, 100))} exists; run ids come from POST /v1/events.`,
      );
    return runView(run);
  });

  app.post<{ Params: { id: string } }>("/v1/runs/:id/resume", async (request, reply) => {
    const { queue } = context();
    const parsed = ResumeBodySchema.safeParse(requireObject(request.body, 'a decision such as {"approve": true}'), {
      reportInput: true,
    });
    if (!parsed.success) {
      const issues = issuesOf(parsed.error);
      throw new ApiError(
        422,
        "invalid_request",
        `The decision is invalid: ${issues.map((i) => `${i.path}: ${i.message}`).join("; ")}.`,
        issues,
      );
    }
    const { approve, reason, by } = parsed.data;
    const outcome = await queue.resume(request.params.id, {
      approved: approve,
      ...(reason ? { reason } : {}),
      ...(by ? { by } : {}),
    });
    switch (outcome.kind) {
      case "accepted":
        return send(reply, 202, outcome.run);
      case "not_found":
        throw new ApiError(
          404,
          "not_found",
          `No run ${JSON.stringify(request.params.id.slice(0, 100))} exists; run ids come from POST /v1/events.`,
        );
      case "not_awaiting":
        throw new ApiError(
          409,
          "not_awaiting_approval",
          `Run ${outcome.run.run_id} is ${outcome.run.status}, not awaiting approval; only a paused run can be resumed.`,
        );
      case "full":
        throw queueFull(outcome.retryAfterSeconds, server);
      case "draining":
        throw shuttingDown();
    }
  });

  app.get("/healthz", async () => ({ status: "ok" as const }));

  app.get("/readyz", async (_request, reply) => {
    const stateFile = ctx ? await ctx.queue.ready() : false;
    const checks = { agent: ctx !== undefined, state_file: stateFile };
    const status = ctx?.queue.isDraining ? "draining" : checks.agent && checks.state_file ? "ready" : "not_ready";
    return reply.code(status === "ready" ? 200 : 503).send({ status, checks });
  });

  app.get("/metrics", async (_request, reply) => {
    const { metrics } = context().agent.ledger;
    return reply.type(metrics.contentType).send(await metrics.render());
  });

  const prunerFor = (store: RunStore): RunPruner => {
    const keepDays = server.keep_finished_runs_days;
    return startRunPruner({
      store,
      keepDays,
      now,
      onPruned: (deleted) =>
        log("info", `Deleted ${deleted} run${deleted === 1 ? "" : "s"} finished over ${keepDays} days ago.`),
      onError: (error) => log("warn", `Deleting long-finished runs failed (${errorText(error)}); trying again later.`),
    });
  };

  const document = openApiDocument(VERSION);
  app.get("/openapi.json", async () => document);

  return {
    get address() {
      return address;
    },
    routes,
    async listen() {
      if (ctx) throw new Error("The server is already listening.");
      const agent = typeof options.agent === "function" ? (ownedAgent = await options.agent()) : options.agent;
      let store: RunStore | undefined;
      let queue: RunService | undefined;
      try {
        if (options.runs) queue = await options.runs(agent);
        else store = openRunStore(options.stateFile ?? path.resolve(agent.policy.state_file));
        queue ??= new RunQueue({
          store: store!,
          agent,
          maxConcurrent: server.max_concurrent_runs,
          maxQueued: server.max_queued,
          now,
          onSettled: (status) => ctx?.metrics.runSettled(status),
          onStoreError: (runId, error) =>
            log(
              "error",
              `The outcome of run ${runId} could not be recorded (${errorText(error)}); it runs again on the next start.`,
            ),
        });
        const service = queue;
        const metrics = registerServerMetrics(agent.ledger.metrics.registry, {
          queueDepth: () => service.depth,
          inFlight: () => service.running,
          ...(service.statusCounts ? { registry: () => service.statusCounts!() } : {}),
        });
        ctx = { agent, store, queue: service, metrics };
        address = await app.listen({ host: server.host, port: server.port }).catch((error: unknown) => {
          throw listenError(error, server);
        });
        const recovered = await service.recover();
        log(
          "info",
          `listening on ${address}; ${auth.description}${recovered > 0 ? `; ${recovered} unfinished run${recovered === 1 ? "" : "s"} from before the restart queued again` : ""}`,
        );
        if (store) ctx.pruner = prunerFor(store);
        return address;
      } catch (error) {
        ctx = undefined;
        await queue?.close();
        store?.close();
        await ownedAgent?.close();
        throw error;
      }
    },
    close() {
      closing ??= (async () => {
        const report = ctx ? await ctx.queue.drain(server.drain_timeout_ms) : { drained: true, running: 0, queued: 0 };
        await ctx?.queue.close();
        await app.close();
        await ctx?.pruner?.stop();
        ctx?.store?.close();
        await ownedAgent?.close();
        address = null;
        return report;
      })();
      return closing;
    },
  };
}
