import { readFileSync } from "node:fs";
import {
  context,
  createContextKey,
  propagation,
  ProxyTracer,
  trace,
  type Attributes,
  type Context,
  type Tracer,
} from "@opentelemetry/api";
import { AsyncLocalStorageContextManager } from "@opentelemetry/context-async-hooks";
import { ExportResultCode, W3CTraceContextPropagator } from "@opentelemetry/core";
import { defaultResource, detectResources, envDetector, resourceFromAttributes } from "@opentelemetry/resources";
import {
  AlwaysOffSampler,
  BatchSpanProcessor,
  SimpleSpanProcessor,
  type SpanExporter,
} from "@opentelemetry/sdk-trace-base";
import { NodeTracerProvider } from "@opentelemetry/sdk-trace-node";
import { ATTR_SERVICE_NAME, ATTR_SERVICE_VERSION } from "@opentelemetry/semantic-conventions";
import { PrCreatorError } from "../domain/errors.js";

/** The seed's span names ("Observability Hooks"). */
export const SPAN = {
  start: "prcreator.start",
  templateResolve: "prcreator.template.resolve",
  titleBodyGenerated: "prcreator.title.body.generated",
  devopsApiRequest: "prcreator.devops.api.request",
  complete: "prcreator.complete",
} as const;

/** The instrumentation scope: the package's name and its real version (read once from package.json). */
export const SCOPE = {
  name: "pr-creator",
  version: (JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as { version: string })
    .version,
} as const;

/** The tracer every span of pr-creator comes from, through the global API: ours when we registered, else the host's. */
export function prCreatorTracer(): Tracer {
  return trace.getTracer(SCOPE.name, SCOPE.version);
}

/**
 * Where spans go: OTLP/HTTP (configured by OTEL_EXPORTER_OTLP_*), an exporter the caller passed, the
 * OpenTelemetry SDK the host application registered before us, or nowhere.
 */
export type ExporterKind = "otlp" | "custom" | "host" | "none";

export interface TelemetryOptions {
  /** service.name when neither OTEL_SERVICE_NAME nor OTEL_RESOURCE_ATTRIBUTES names one (policy `telemetry.service_name`). */
  serviceName: string;
  /** Export here instead (tests pass an InMemorySpanExporter); each span is exported as it ends. */
  exporter?: SpanExporter;
}

export interface Telemetry {
  /** The global API's tracer for the pr-creator scope. */
  readonly tracer: Tracer;
  readonly exporter: ExporterKind;
  /** The OTLP traces URL when exporting by OTLP, else null. */
  readonly endpoint: string | null;
  /** The active context (global context manager): a run's root span inside `withContext`, else the empty context. */
  active(): Context;
  /** Runs `fn` with `ctx` active across every await it makes, so spans started inside nest under it. */
  withContext<T>(ctx: Context, fn: () => T): T;
  /** Exports what is buffered. */
  forceFlush(): Promise<void>;
  /** Flushes, stops exporting and gives the global registration back; spans started afterwards are dropped. */
  shutdown(): Promise<void>;
}

/** The common tags of the run a context belongs to, read by spans that only see the context (forge calls). */
export const RUN_TAGS = createContextKey("pr-creator run tags");

export function runTagsOf(ctx: Context): Attributes {
  return (ctx.getValue(RUN_TAGS) as Attributes | undefined) ?? {};
}

type Env = Readonly<Record<string, string | undefined>>;

const nonEmpty = (value: string | undefined) => (value?.trim() ? value.trim() : undefined);

/** OTLP/HTTP's traces URL as the exporter will derive it: the signal-specific variable as is, else base + /v1/traces. */
function otlpTracesUrl(env: Env): string | null {
  const specific = nonEmpty(env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT);
  const base = nonEmpty(env.OTEL_EXPORTER_OTLP_ENDPOINT);
  const raw = specific ?? (base ? `${base.replace(/\/+$/, "")}/v1/traces` : undefined);
  if (raw === undefined) return null;
  // The exporter only logs a diagnostic for a bad URL and drops every span: refuse it at start-up instead.
  if (!URL.canParse(raw) || !["http:", "https:"].includes(new URL(raw).protocol)) {
    throw new PrCreatorError("invalid_config", `The OTLP endpoint ${JSON.stringify(raw)} is not an http(s) URL.`, {
      hint: "Set OTEL_EXPORTER_OTLP_ENDPOINT to the collector's base URL, e.g. http://localhost:4318, or unset it to export nothing.",
    });
  }
  return raw;
}

/** OTEL_TRACES_EXPORTER: `otlp` (the default) or `none`; pr-creator ships only the OTLP/HTTP exporter. */
function exportsTraces(env: Env): boolean {
  if (nonEmpty(env.OTEL_SDK_DISABLED)?.toLowerCase() === "true") return false;
  const names = (nonEmpty(env.OTEL_TRACES_EXPORTER) ?? "otlp").split(",").map((n) => n.trim().toLowerCase());
  if (names.includes("none")) return false;
  const unsupported = names.filter((n) => n !== "otlp");
  if (unsupported.length > 0) {
    throw new PrCreatorError(
      "invalid_config",
      `OTEL_TRACES_EXPORTER names ${unsupported.join(", ")}, which pr-creator does not ship.`,
      {
        hint: "Set OTEL_TRACES_EXPORTER=otlp (the default) or none, or register your own OpenTelemetry SDK before pr-creator starts.",
      },
    );
  }
  return true;
}

/**
 * The OTLP/HTTP exporter, imported with the first batch of spans: it brings the OTLP transformer and the
 * metrics SDK (some 120 modules), which a process that never exports (a CLI run) should not load.
 */
function deferredOtlpExporter(): SpanExporter {
  let exporter: Promise<SpanExporter> | undefined;
  const load = () =>
    (exporter ??= import("@opentelemetry/exporter-trace-otlp-http").then((m) => new m.OTLPTraceExporter()));
  return {
    export(spans, done) {
      load().then(
        (e) => e.export(spans, done),
        (error: unknown) =>
          done({ code: ExportResultCode.FAILED, error: error instanceof Error ? error : new Error(String(error)) }),
      );
    },
    shutdown: async () => {
      await (await exporter)?.shutdown();
    },
    forceFlush: async () => {
      await (await exporter)?.forceFlush?.();
    },
  };
}

/**
 * OpenTelemetry set up the standard way: a NodeTracerProvider registered as the global tracer provider, with
 * an AsyncLocalStorage context manager and the W3C trace-context propagator. The SDK reads its own settings
 * from the environment: OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES (they win over `serviceName`),
 * OTEL_EXPORTER_OTLP_* (endpoint, headers, timeout, compression), OTEL_TRACES_SAMPLER[_ARG], OTEL_BSP_*.
 * When the host application registered its own SDK first, pr-creator's spans go there and this object only
 * reads the global API. Agents of one process share the provider; the last to shut down stops it and gives
 * the global registration back.
 */
export function createTelemetry(options: TelemetryOptions): Telemetry {
  // Another agent of this process set the provider up: share it, so closing one agent leaves the other's spans.
  if (registered) return share(registered);
  // Without a registered provider the global API hands out proxy tracers: then the provider is ours to set up.
  if (!(trace.getTracer(SCOPE.name) instanceof ProxyTracer)) return hostTelemetry();
  const env: Env = process.env;
  const endpoint = options.exporter || !exportsTraces(env) ? null : otlpTracesUrl(env);
  const exporter: ExporterKind = options.exporter ? "custom" : endpoint ? "otlp" : "none";

  const resource = defaultResource()
    .merge(resourceFromAttributes({ [ATTR_SERVICE_NAME]: options.serviceName, [ATTR_SERVICE_VERSION]: SCOPE.version }))
    .merge(detectResources({ detectors: [envDetector] }));
  const processor =
    exporter === "custom"
      ? new SimpleSpanProcessor(options.exporter!)
      : exporter === "otlp"
        ? new BatchSpanProcessor(deferredOtlpExporter())
        : null;
  const provider = new NodeTracerProvider({
    resource,
    spanProcessors: processor ? [processor] : [],
    // Nothing listens: every span is a non-recording stub that still carries ids for context propagation.
    ...(processor ? {} : { sampler: new AlwaysOffSampler() }),
  });
  trace.setGlobalTracerProvider(provider);
  let contextManager: AsyncLocalStorageContextManager | null = new AsyncLocalStorageContextManager().enable();
  if (!context.setGlobalContextManager(contextManager)) {
    // The host registered a context manager but no tracer provider: its context manager serves.
    contextManager.disable();
    contextManager = null;
  }
  propagation.setGlobalPropagator(new W3CTraceContextPropagator());

  const own: Registration = {
    users: 0,
    exporter,
    endpoint,
    flush: () => provider.forceFlush(),
    async stop() {
      await provider.shutdown();
      trace.disable();
      propagation.disable();
      if (contextManager) {
        context.disable();
        contextManager.disable();
      }
    },
  };
  registered = own;
  return share(own);
}

/** The provider this module registered globally, and how many telemetry objects use it. */
interface Registration {
  users: number;
  exporter: ExporterKind;
  endpoint: string | null;
  flush(): Promise<void>;
  stop(): Promise<void>;
}

let registered: Registration | null = null;

/** One user's handle on the registered provider: the last one to shut down stops it and unregisters. */
function share(registration: Registration): Telemetry {
  registration.users += 1;
  let released = false;
  return {
    // Looked up on each use: after the provider is replaced, spans follow the new one.
    get tracer() {
      return prCreatorTracer();
    },
    exporter: registration.exporter,
    endpoint: registration.endpoint,
    active: () => context.active(),
    withContext: (ctx, fn) => context.with(ctx, fn),
    forceFlush: () => registration.flush(),
    async shutdown() {
      // Once per handle: a second call must not release another user's share.
      if (released) return;
      released = true;
      registration.users -= 1;
      if (registration.users > 0) return;
      if (registered === registration) registered = null;
      await registration.stop();
    },
  };
}

/** The host application registered its own SDK: spans go where it sends them. */
function hostTelemetry(): Telemetry {
  return {
    get tracer() {
      return prCreatorTracer();
    },
    exporter: "host",
    endpoint: null,
    active: () => context.active(),
    withContext: (ctx, fn) => context.with(ctx, fn),
    forceFlush: async () => {},
    shutdown: async () => {},
  };
}
