import { createContextKey, ROOT_CONTEXT, type Attributes, type Context, type Tracer } from "@opentelemetry/api";
import { AsyncLocalStorageContextManager } from "@opentelemetry/context-async-hooks";
import { OTLPTraceExporter } from "@opentelemetry/exporter-trace-otlp-http";
import { resourceFromAttributes } from "@opentelemetry/resources";
import {
  AlwaysOffSampler,
  BasicTracerProvider,
  BatchSpanProcessor,
  SimpleSpanProcessor,
  type SpanExporter,
} from "@opentelemetry/sdk-trace-base";
import { ATTR_SERVICE_NAME } from "@opentelemetry/semantic-conventions";
import { PrCreatorError } from "../domain/errors.js";

/** The seed's span names ("Observability Hooks"). */
export const SPAN = {
  start: "prcreator.start",
  templateResolve: "prcreator.template.resolve",
  titleBodyGenerated: "prcreator.title.body.generated",
  devopsApiRequest: "prcreator.devops.api.request",
  complete: "prcreator.complete",
} as const;

/** Where spans go: OTLP/HTTP (from the environment), an exporter the caller passed, or nowhere. */
export type ExporterKind = "otlp" | "custom" | "none";

export interface TelemetryOptions {
  /** OpenTelemetry service.name (policy `telemetry.service_name`). */
  serviceName: string;
  /**
   * Where the OTLP endpoint and headers are read (OTEL_EXPORTER_OTLP_[TRACES_]ENDPOINT / _HEADERS, OTEL_SDK_DISABLED,
   * OTEL_TRACES_EXPORTER=none); default process.env. The exporter's other settings (timeout, certificates) come from process.env.
   */
  env?: Readonly<Record<string, string | undefined>>;
  /** Export here instead (tests pass an InMemorySpanExporter); each span is exported as it ends. */
  exporter?: SpanExporter;
}

export interface Telemetry {
  readonly tracer: Tracer;
  readonly exporter: ExporterKind;
  /** The OTLP traces URL when exporting by OTLP, else null. */
  readonly endpoint: string | null;
  /** The context of the current async flow: a run's root span inside `withContext`, else the empty context. */
  active(): Context;
  /** Runs `fn` with `ctx` active across every await it makes (AsyncLocalStorage), so spans started inside nest under it. */
  withContext<T>(ctx: Context, fn: () => T): T;
  /** Exports what is buffered. */
  forceFlush(): Promise<void>;
  /** Flushes and stops exporting; spans started afterwards are dropped. */
  shutdown(): Promise<void>;
}

/** The common tags of the run a context belongs to, read by spans that only see the context (forge calls). */
export const RUN_TAGS = createContextKey("pr-creator run tags");

export function runTagsOf(ctx: Context): Attributes {
  return (ctx.getValue(RUN_TAGS) as Attributes | undefined) ?? {};
}

const nonEmpty = (value: string | undefined) => (value?.trim() ? value.trim() : undefined);

/** OTLP/HTTP's traces URL: the signal-specific variable as is, else the base endpoint plus /v1/traces (OTLP spec). */
function otlpTracesUrl(env: Readonly<Record<string, string | undefined>>): string | null {
  const specific = nonEmpty(env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT);
  const base = nonEmpty(env.OTEL_EXPORTER_OTLP_ENDPOINT);
  const raw = specific ?? (base ? `${base.replace(/\/+$/, "")}/v1/traces` : undefined);
  if (raw === undefined) return null;
  if (!URL.canParse(raw) || !["http:", "https:"].includes(new URL(raw).protocol)) {
    throw new PrCreatorError("invalid_config", `The OTLP endpoint ${JSON.stringify(raw)} is not an http(s) URL.`, {
      hint: "Set OTEL_EXPORTER_OTLP_ENDPOINT to the collector's base URL, e.g. http://localhost:4318, or unset it to export nothing.",
    });
  }
  return raw;
}

function decoded(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

/** `k1=v1,k2=v2` with URL-encoded values (OTLP exporter spec); signal-specific headers win. */
function otlpHeaders(env: Readonly<Record<string, string | undefined>>): Record<string, string> {
  const parse = (raw: string | undefined) =>
    (raw ?? "")
      .split(",")
      .map((pair) => pair.split("="))
      .filter((kv) => kv.length >= 2 && kv[0]!.trim() !== "")
      .map(([key, ...value]) => [key!.trim(), decoded(value.join("=").trim())] as const);
  return Object.fromEntries([
    ...parse(env.OTEL_EXPORTER_OTLP_HEADERS),
    ...parse(env.OTEL_EXPORTER_OTLP_TRACES_HEADERS),
  ]);
}

/**
 * A tracer provider owned by this object, not the global one, so tests and several agents in one process
 * keep their spans apart. Likewise its own AsyncLocalStorage context manager: `withContext` and `active`
 * are the only way in, and nothing else can overwrite them.
 */
export function createTelemetry(options: TelemetryOptions): Telemetry {
  const env = options.env ?? process.env;
  const disabled =
    nonEmpty(env.OTEL_SDK_DISABLED)?.toLowerCase() === "true" ||
    nonEmpty(env.OTEL_TRACES_EXPORTER)?.toLowerCase() === "none";
  const endpoint = options.exporter || disabled ? null : otlpTracesUrl(env);
  const exporter: ExporterKind = options.exporter ? "custom" : endpoint ? "otlp" : "none";

  const resource = resourceFromAttributes({ [ATTR_SERVICE_NAME]: options.serviceName });
  const provider =
    exporter === "custom"
      ? new BasicTracerProvider({ resource, spanProcessors: [new SimpleSpanProcessor(options.exporter!)] })
      : exporter === "otlp"
        ? new BasicTracerProvider({
            resource,
            spanProcessors: [
              new BatchSpanProcessor(new OTLPTraceExporter({ url: endpoint!, headers: otlpHeaders(env) })),
            ],
          })
        : // Nothing listens: every span is a non-recording stub that still carries ids for context propagation.
          new BasicTracerProvider({ resource, sampler: new AlwaysOffSampler() });
  const contextManager = new AsyncLocalStorageContextManager().enable();

  return {
    tracer: provider.getTracer("pr-creator"),
    exporter,
    endpoint,
    active: () => contextManager.active() ?? ROOT_CONTEXT,
    withContext: (ctx, fn) => contextManager.with(ctx, fn),
    forceFlush: () => provider.forceFlush(),
    async shutdown() {
      await provider.shutdown();
      contextManager.disable();
    },
  };
}
