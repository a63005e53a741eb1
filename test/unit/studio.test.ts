/**
 * LangGraph Studio / `langgraphjs dev`: the API server's `/assistants/:id/schemas` first asks the compiled
 * graph for zod-declared schemas (`@langchain/langgraph/zod/schema`, what @langchain/langgraph-api's
 * getRuntimeGraphSchema calls) and only when it finds none type-checks the source in a worker, which took
 * 45.8 s here (over its 30 s limit). These tests extract the schemas the runtime way from the graph
 * langgraph.json names, and check the input is the event, not the internal state.
 */
import { readFileSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import {
  getConfigTypeSchema,
  getInputTypeSchema,
  getOutputTypeSchema,
  getUpdateTypeSchema,
} from "@langchain/langgraph/zod/schema";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { GraphOutputSchema } from "../../src/agent/graph-io.js";
import { AgentState } from "../../src/agent/state.js";
import { ChangeRequestedSchema, CommitCompletedSchema } from "../../src/domain/events.js";

interface JsonSchema {
  properties?: Record<string, JsonSchema>;
  anyOf?: JsonSchema[];
  required?: string[];
}

const config = JSON.parse(readFileSync(new URL("../../langgraph.json", import.meta.url), "utf8")) as {
  graphs: Record<string, string>;
};

let dir: string;
let graph: Parameters<typeof getInputTypeSchema>[0];

beforeAll(async () => {
  // Studio passes no flags: the graph module reads its settings from the environment, as in `langgraphjs dev`.
  dir = await mkdtemp(path.join(tmpdir(), "pr-creator-studio-"));
  await writeFile(path.join(dir, "pr-creator.yaml"), `state_file: ${JSON.stringify(path.join(dir, "state.db"))}\n`);
  vi.stubEnv("PR_CREATOR_CONFIG", path.join(dir, "pr-creator.yaml"));
  vi.stubEnv("PR_CREATOR_MODEL_PROVIDER", "none");
  const [file, symbol] = config.graphs.pr_creator!.split(":");
  const studio = (await import(new URL(`../../${file}`, import.meta.url).href)) as Record<string, unknown>;
  graph = studio[symbol!];
}, 60_000);

afterAll(async () => {
  vi.unstubAllEnvs();
  await rm(dir, { recursive: true, force: true });
});

describe("the graph's schemas, as the LangGraph API server reads them", () => {
  it("are declared on the compiled graph, so the server never falls back to the source type-checker", () => {
    const found = {
      state: getUpdateTypeSchema(graph),
      input: getInputTypeSchema(graph),
      output: getOutputTypeSchema(graph),
      config: getConfigTypeSchema(graph),
    };
    // getRuntimeGraphSchema answers with these unless every one is missing.
    expect(found.input).toBeDefined();
    expect(found.output).toBeDefined();
  });

  it("takes the event as input: { input: CommitCompleted | ChangeRequested }, none of the internal state keys", () => {
    const input = getInputTypeSchema(graph) as JsonSchema;
    expect(Object.keys(input.properties!)).toEqual(["input"]);
    const [commit, change] = input.properties!.input!.anyOf!;
    expect(Object.keys(commit!.properties!).sort()).toEqual(Object.keys(CommitCompletedSchema.shape).sort());
    expect(Object.keys(change!.properties!).sort()).toEqual(Object.keys(ChangeRequestedSchema.shape).sort());
    expect(commit!.required).toEqual(expect.arrayContaining(["event", "trace_id", "commit_hash", "repo", "branch"]));
    expect(Object.keys(AgentState.spec).length).toBeGreaterThan(30);
  });

  it("returns what the run result is made of, not the working state", () => {
    const output = getOutputTypeSchema(graph) as JsonSchema;
    expect(Object.keys(output.properties!).sort()).toEqual(Object.keys(GraphOutputSchema.shape).sort());
    for (const internal of ["input", "digest", "last_answer", "repair_feedback", "paused_at", "plan"])
      expect(output.properties).not.toHaveProperty(internal);
  });
});

describe("running the graph as Studio does", () => {
  it("turns an invalid event into a failed run with the field's problem, not an error at the graph's edge", async () => {
    const run = graph as { invoke: (input: unknown) => Promise<Record<string, unknown>> };
    const output = await run.invoke({ input: { event: "CommitCompleted", trace_id: "trace-1" } });
    expect(output.failure).toMatchObject({ reason: "invalid_event" });
    expect(String((output.failure as { message: string }).message)).toContain("commit_hash");
    expect(Object.keys(output).every((key) => key in GraphOutputSchema.shape)).toBe(true);
  });
});
