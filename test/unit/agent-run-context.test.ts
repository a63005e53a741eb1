/**
 * The lean run context (src/agent/run-context.ts): graph steps without a callback handler get a plain context
 * object instead of LangSmith's RunTree, and everything LangChain reads from that context still works.
 */
import { BaseCallbackHandler } from "@langchain/core/callbacks/base";
import { getContextVariable, setContextVariable } from "@langchain/core/context";
import { AsyncLocalStorageProviderSingleton } from "@langchain/core/singletons";
import { Annotation, Command, END, getConfig, interrupt, MemorySaver, START, StateGraph } from "@langchain/langgraph";
import { RunTree } from "langsmith";
import { describe, expect, it } from "vitest";
import { installLeanRunContext } from "../../src/agent/run-context.js";

const State = Annotation.Root({
  seen: Annotation<string[]>({ reducer: (a, b) => [...a, ...b], default: () => [] }),
  answer: Annotation<string>({ reducer: (_a, b) => b, default: () => "" }),
});

/** What a node sees of its async context. */
function probe(label: string) {
  const store = AsyncLocalStorageProviderSingleton.getInstance().getStore() as unknown;
  const kind = store instanceof RunTree ? "RunTree" : typeof store;
  return `${label}:${kind}:${String((getConfig().configurable as { thread_id?: string } | undefined)?.thread_id)}`;
}

function graph() {
  return new StateGraph(State)
    .addNode("look", async () => ({ seen: [probe("look")] }))
    .addNode("ask", async () => ({ answer: interrupt<string, string>("why?"), seen: [probe("ask")] }))
    .addEdge(START, "look")
    .addEdge("look", "ask")
    .addEdge("ask", END)
    .compile({ checkpointer: new MemorySaver() });
}

class Recorder extends BaseCallbackHandler {
  name = "recorder";
  starts = 0;
  override handleChainStart() {
    this.starts += 1;
  }
}

describe("lean run context", () => {
  installLeanRunContext();

  it("gives untraced steps a plain context, and getConfig() and interrupt/resume still work", async () => {
    const g = graph();
    const config = { configurable: { thread_id: "t1" } };
    await g.invoke({}, config);
    const paused = await g.getState(config);
    expect(paused.tasks.flatMap((t) => t.interrupts).map((i) => i.value)).toEqual(["why?"]);
    const done = await g.invoke(new Command({ resume: "because" }), config);
    expect(done.answer).toBe("because");
    // Without the lean context LangChain would have put a RunTree there.
    expect(done.seen).toEqual(["look:object:t1", "ask:object:t1"]);
  });

  it("leaves LangChain's own path to runs with a callback handler", async () => {
    const recorder = new Recorder();
    const g = graph();
    const done = await g.invoke({}, { configurable: { thread_id: "t2" }, callbacks: [recorder] });
    expect(done.seen).toEqual(["look:RunTree:t2"]);
    expect(recorder.starts).toBeGreaterThan(0);
  });

  it("carries context variables into nested steps", async () => {
    const g = new StateGraph(State)
      .addNode("read", async () => ({ seen: [String(getContextVariable("who"))] }))
      .addEdge(START, "read")
      .addEdge("read", END)
      .compile();
    const seen = await AsyncLocalStorageProviderSingleton.getInstance().run(undefined, async () => {
      setContextVariable("who", "outer");
      return (await g.invoke({})).seen;
    });
    expect(seen).toEqual(["outer"]);
  });

  it("is installed once however often it is called", () => {
    const before = AsyncLocalStorageProviderSingleton.runWithConfig;
    installLeanRunContext();
    expect(AsyncLocalStorageProviderSingleton.runWithConfig).toBe(before);
  });
});
