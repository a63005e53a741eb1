/**
 * The graph's input and output as zod schemas, for LangGraph Studio and the LangGraph API server: with them
 * the server reads the schemas from the compiled graph at run time (`@langchain/langgraph/zod/schema`) instead
 * of type-checking the source in a worker (45 s here, beyond its 30 s limit), and Studio's input form shows the
 * event rather than every internal state key.
 */
import { z } from "zod";
import { ChangeRequestedSchema, CommitCompletedSchema, LifecycleEventSchema } from "../domain/events.js";
import { FailureReasonSchema } from "../domain/reasons.js";
import {
  ApprovalRecordSchema,
  DraftedBySchema,
  DraftRoundSchema,
  EarlierPrSchema,
  MemoryHitSchema,
  MergeOutcomeSchema,
  PullRequestSpecSchema,
  TruncationSchema,
  UsageSchema,
  ViolationSummarySchema,
} from "../domain/run-result.js";

/** The event's JSON Schema as the caller writes it (input side: defaults optional, refinements left to intake). */
const EVENT_JSON_SCHEMA = (() => {
  const { $schema: _dialect, ...schema } = z.toJSONSchema(z.union([CommitCompletedSchema, ChangeRequestedSchema]), {
    io: "input",
    unrepresentable: "any",
  });
  return schema;
})();

/**
 * `{ "input": <event> }`. The value is any JSON on purpose: the intake node validates it and a bad event ends
 * as a failed run (invalid_event, with each field's problem), exactly as from the CLI or HTTP, rather than as
 * an exception at the graph's edge. Its JSON Schema is the event's, so Studio's form offers the event's fields.
 */
export const GraphInputSchema = z.object({
  input: z.unknown().meta({ ...EVENT_JSON_SCHEMA, description: "The event: CommitCompleted or ChangeRequested" }),
});

/** What a run produced: the state keys the run result is made of (src/agent/run.ts). */
export const GraphOutputSchema = z.object({
  pr: PullRequestSpecSchema.nullable().describe("The PR made, updated or previewed"),
  published: z
    .object({
      status: z.enum(["previewed", "created", "updated", "unchanged"]),
      id: z.union([z.number(), z.string()]).nullable(),
      url: z.string().nullable(),
    })
    .nullable()
    .describe("Where the PR lives on the forge; null before publishing"),
  failure: z
    .object({ reason: FailureReasonSchema, message: z.string(), attempts: z.number() })
    .nullable()
    .describe("Why the run failed; null when it did not"),
  violations: z.array(ViolationSummarySchema).describe("What the gate found in the last draft"),
  events: z.array(LifecycleEventSchema).describe("Lifecycle events of the run"),
  merge_outcome: MergeOutcomeSchema.nullable(),
  drafted_by: DraftedBySchema.nullable(),
  truncation: TruncationSchema.nullable(),
  warnings: z.array(z.string()),
  undelivered: z.number(),
  usage: UsageSchema,
  rounds: z.array(DraftRoundSchema),
  approvals: z.array(ApprovalRecordSchema),
  earlier_prs: z.array(EarlierPrSchema),
  recalled: z.array(MemoryHitSchema),
  possible_duplicates: z.array(MemoryHitSchema),
  memory_unavailable: z.string().nullable(),
});

/** The state keys a run's output holds: what the runner may read from a run without a checkpointer. */
export type GraphOutputKey = keyof z.infer<typeof GraphOutputSchema>;
