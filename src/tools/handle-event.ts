import { tool } from "@langchain/core/tools";
import { z } from "zod";
import {
  MergeOutcomeSchema,
  RiskLevelSchema,
  RunPullRequestSchema,
  RunResultSchema,
  type RunResult,
} from "../domain/run-result.js";

export const HandleEventInputSchema = z.object({
  event: z
    .record(z.string(), z.unknown())
    .describe(
      'A CommitCompleted event {"event":"CommitCompleted","trace_id","commit_hash","repo","branch","agent","timestamp"} or a ChangeRequested event (see the README)',
    ),
});
export type HandleEventInput = z.infer<typeof HandleEventInputSchema>;

/**
 * What the calling model sees: the outcome in a few fields of the run result, not the whole body. The PR's
 * risk is its level and the merge outcome its message.
 */
export const HandleEventOutputSchema = RunResultSchema.pick({ status: true, violations: true }).extend({
  reason: RunResultSchema.shape.reason.unwrap().nullable(),
  message: RunResultSchema.shape.message.unwrap().nullable(),
  pr: RunPullRequestSchema.pick({ id: true, url: true, title: true, source_branch: true, target_branch: true })
    .extend({ risk: RiskLevelSchema.nullable() })
    .nullable(),
  merge: MergeOutcomeSchema.shape.message.nullable().describe("What happens (or happened) about merging"),
});
export type HandleEventOutput = z.infer<typeof HandleEventOutputSchema>;

/**
 * The whole agent as one tool: an upstream LLM agent binds it and hands over an event. The event is
 * validated by the agent itself, so a malformed one comes back as `failed` with the field named.
 */
export function createHandleEventTool(agent: { handle(event: unknown): Promise<RunResult>; publishesTo: string }) {
  return tool(
    async (input: HandleEventInput): Promise<HandleEventOutput> => {
      const { event } = HandleEventInputSchema.parse(input);
      const result = await agent.handle(event);
      return {
        status: result.status,
        reason: result.reason ?? null,
        message: result.message ?? null,
        pr: result.pr
          ? {
              id: result.pr.id,
              url: result.pr.url,
              title: result.pr.title,
              source_branch: result.pr.source_branch,
              target_branch: result.pr.target_branch,
              risk: result.pr.risk?.level ?? null,
            }
          : null,
        merge: result.merge?.message ?? null,
        violations: result.violations,
      };
    },
    {
      name: "create_pull_request_from_event",
      description: `Turn a CommitCompleted or ChangeRequested event into a traceable, policy-checked pull request on ${agent.publishesTo} (a preview with dry-run). Returns the status, PR id/URL, risk and what happens after CI, or the failure reason and message.`,
      schema: HandleEventInputSchema,
    },
  );
}
