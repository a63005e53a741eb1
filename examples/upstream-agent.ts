/**
 * An upstream agent that uses pr-creator two ways (README: "Library"):
 *   1. its compiled LangGraph graph as a subgraph: the upstream graph commits, then runs pr-creator's graph
 *      on the CommitCompleted event inside one of its own nodes;
 *   2. its typed tool bound to a tool-calling model: a ToolNode runs the model's
 *      `create_pull_request_from_event` call.
 *
 * Run it on the embedded defaults (a sample repository, dry run):  npx tsx examples/upstream-agent.ts
 */
import { mkdtemp } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { AIMessage, type BaseMessage } from "@langchain/core/messages";
import { Annotation, END, START, StateGraph } from "@langchain/langgraph";
import { ToolNode } from "@langchain/langgraph/prebuilt";
import {
  createAgent,
  createHandleEventTool,
  type Agent,
  type ChangeRequested,
  type CommitCompleted,
} from "../src/index.js";
import { buildSampleRepo } from "../src/demo/sample-repo.js";

const UpstreamState = Annotation.Root({
  /** What the upstream agent produced: a finished commit (or a requested change). */
  commit: Annotation<CommitCompleted | ChangeRequested | null>({ reducer: (_a, b) => b, default: () => null }),
  /** What pr-creator made of it. */
  pr: Annotation<{ status: string; id: number | string | null; url: string | null; title: string | null } | null>({
    reducer: (_a, b) => b,
    default: () => null,
  }),
});

/** 1. pr-creator's compiled graph inside an upstream graph. */
export function buildUpstreamGraph(prCreator: Agent, commit: () => Promise<CommitCompleted | ChangeRequested>) {
  return new StateGraph(UpstreamState)
    .addNode("make_commit", async () => ({ commit: await commit() }))
    .addNode("open_pr", async (state) => {
      // The subgraph takes the event as `input` and ends with what it published (or why it failed).
      const out = await prCreator.graph.invoke({ input: state.commit });
      return {
        pr: {
          status: out.failure ? "failed" : (out.published?.status ?? "failed"),
          id: out.published?.id ?? null,
          url: out.published?.url ?? null,
          title: out.pr?.title ?? null,
        },
      };
    })
    .addEdge(START, "make_commit")
    .addEdge("make_commit", "open_pr")
    .addEdge("open_pr", END)
    .compile();
}

/** 2. The typed tool, run by LangGraph's ToolNode from a model's tool call. */
export async function runToolCall(prCreator: Agent, event: unknown): Promise<unknown> {
  const tools = new ToolNode([createHandleEventTool(prCreator)]);
  // What a tool-calling model (bound with `model.bindTools([tool])`) answers when it wants a PR.
  const call = new AIMessage({
    content: "",
    tool_calls: [{ id: "call-1", name: "create_pull_request_from_event", args: { event } }],
  });
  const { messages } = (await tools.invoke({ messages: [call] })) as { messages: BaseMessage[] };
  return JSON.parse(String(messages[0]!.content));
}

async function main(): Promise<void> {
  const root = await mkdtemp(path.join(os.tmpdir(), "pr-creator-upstream-"));
  const sample = await buildSampleRepo(root);
  const prCreator = await createAgent({
    repoPath: sample.dir,
    tracesFile: sample.tracesFile,
    cwd: root,
    forge: null,
    memory: null,
  });
  try {
    const upstream = buildUpstreamGraph(prCreator, async () => sample.event);
    const { pr } = await upstream.invoke({});
    console.log("subgraph:", pr);
    console.log("tool:", await runToolCall(prCreator, sample.secondEvent));
  } finally {
    await prCreator.close();
  }
}

if (process.argv[1] && import.meta.url === new URL(`file://${path.resolve(process.argv[1])}`).href) await main();
