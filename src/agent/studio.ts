/**
 * Entry point for LangGraph Studio / `langgraph dev` (see langgraph.json): the agent's graph built from the
 * same configuration the CLI uses. Settings come from the environment because Studio passes no flags:
 * PR_CREATOR_CONFIG, PR_CREATOR_TRACES, PR_CREATOR_REPO_PATH, plus the model variables. Invoke it with
 * `{ "input": <CommitCompleted or ChangeRequested event> }`. The graph declares its input and output schemas
 * in zod (graph-io.ts), so the server reads them from the graph at once and Studio's form shows the event.
 */
import { createAgent } from "./create-agent.js";

const agent = await createAgent({
  configFile: process.env.PR_CREATOR_CONFIG,
  tracesFile: process.env.PR_CREATOR_TRACES,
  repoPath: process.env.PR_CREATOR_REPO_PATH,
});

export const graph = agent.graph;
