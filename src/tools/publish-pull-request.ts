import { tool } from "@langchain/core/tools";
import { z } from "zod";
import type { Publisher, PublishResult } from "../forges/publisher.js";

const RiskSchema = z.object({ level: z.enum(["low", "medium", "high"]), reasons: z.array(z.string()) }).nullable();

export const PublishPullRequestInputSchema = z.object({
  repo: z.string().min(1).describe("Repository name (owner/name on GitHub)"),
  trace_id: z
    .string()
    .min(1)
    .describe("The PR's trace id; an open PR for the same branches is updated only if it carries this trace"),
  pr: z.object({
    title: z.string().min(1),
    description: z.string(),
    source_branch: z.string().min(1),
    target_branch: z.string().min(1),
    reviewers: z.array(z.object({ name: z.string().min(1), required: z.boolean() })),
    labels: z.array(z.string().min(1)),
    is_draft: z.boolean(),
    auto_complete: z.boolean(),
    risk: RiskSchema,
    merge: z.object({ requires: z.enum(["none", "review", "senior_approval"]), decision: z.string() }).optional(),
    checklist: z.array(z.object({ label: z.string(), done: z.boolean() })),
    work_items: z
      .array(z.string().regex(/^[1-9][0-9]*$/))
      .optional()
      .describe("Azure Boards work item ids to link when the PR is created; left out, AB#N in the description"),
  }),
});
export type PublishPullRequestInput = z.infer<typeof PublishPullRequestInputSchema>;

/**
 * Creates (or, with the dry-run publisher, previews) a PR that has already passed the gate. Reviewers and
 * labels travel with it, so one call assigns them too.
 */
export function createPublishPullRequestTool(publisher: Publisher) {
  return tool(
    async (input: PublishPullRequestInput): Promise<PublishResult> => {
      const args = PublishPullRequestInputSchema.parse(input);
      return publisher.publish(args.repo, args.trace_id, args.pr);
    },
    {
      name: "publish_pull_request",
      description: `Publish a gated pull request with its reviewers and labels through the ${publisher.kind} forge. Returns status, PR id and URL.`,
      schema: PublishPullRequestInputSchema,
    },
  );
}
