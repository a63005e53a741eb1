import { AsyncLocalStorageProviderSingleton, _CONTEXT_VARIABLES_KEY } from "@langchain/core/singletons";

/** Where LangChain keeps a runnable's config in the async context (read by getConfig() and interrupt()). */
const LC_CHILD_KEY = Symbol.for("lc:child_config");
const INSTALLED = Symbol.for("pr-creator:lean-run-context");

type Provider = typeof AsyncLocalStorageProviderSingleton & { [INSTALLED]?: true };
type Store = { tracingEnabled?: boolean; [_CONTEXT_VARIABLES_KEY]?: unknown } | undefined;

/** True when `callbacks` (a handler list or a CallbackManager) holds any handler, e.g. LangSmith's tracer. */
function hasHandlers(callbacks: unknown): boolean {
  if (!callbacks) return false;
  if (Array.isArray(callbacks)) return callbacks.length > 0;
  const handlers = (callbacks as { handlers?: unknown[] }).handlers;
  return !Array.isArray(handlers) || handlers.length > 0;
}

/**
 * LangChain runs every graph step (node, state write, router) inside `runWithConfig`, which builds a LangSmith
 * `RunTree` each time even when nothing traces: a uuid7, ISO dates and env reads, about a third of LangGraph's
 * own CPU time per run. When no callback handler is configured and no tracing run encloses the call, that tree
 * has `tracingEnabled: false` and is read for two things only: the runnable's config (getConfig(), interrupt())
 * and `tracingEnabled` (CallbackManager). This hands the async context a plain object carrying exactly those,
 * plus the context variables LangChain copies forward. With a tracer or any handler, or inside a traced run,
 * LangChain's own code runs unchanged. Installed once per process; further calls do nothing.
 */
export function installLeanRunContext(provider: Provider = AsyncLocalStorageProviderSingleton): void {
  if (provider[INSTALLED]) return;
  const original = provider.runWithConfig.bind(provider);
  provider.runWithConfig = <T>(
    config: { callbacks?: unknown } | undefined,
    callback: () => T,
    avoidRoot?: boolean,
  ): T => {
    const storage = provider.getInstance();
    const previous = storage.getStore() as Store;
    if (avoidRoot || hasHandlers(config?.callbacks) || previous?.tracingEnabled === true) {
      return original(config, callback, avoidRoot);
    }
    const context: Record<string | symbol, unknown> = {
      name: "<runnable_lambda>",
      tracingEnabled: false,
      extra: { [LC_CHILD_KEY]: config },
    };
    if (previous?.[_CONTEXT_VARIABLES_KEY] !== undefined)
      context[_CONTEXT_VARIABLES_KEY] = previous[_CONTEXT_VARIABLES_KEY];
    return storage.run(context, callback);
  };
  provider[INSTALLED] = true;
}
