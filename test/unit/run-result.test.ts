/**
 * The run result's schema (src/domain/run-result.ts) is the one declaration of the result. The types it still
 * has to agree with (the graph's state, the PR spec, the merge outcome, the forge's check runs, the lifecycle
 * events) are checked here at compile time (npm run typecheck), and its projections at run time.
 */
import { describe, expect, expectTypeOf, it } from "vitest";
import { z } from "zod";
import { AGENT_NAME, type LifecycleEvent } from "../../src/domain/events.js";
import type { DraftedBy, PullRequestSpec, RiskAssessment, Truncation } from "../../src/domain/pull-request.js";
import {
  ApprovalDecisionSchema,
  ApprovalRecordSchema,
  ApprovalRequestSchema,
  CheckRunSchema,
  DraftedBySchema,
  DraftRoundSchema,
  LifecycleEventSchema,
  MemoryHitSchema,
  MergeOutcomeSchema,
  PullRequestSpecSchema,
  RiskAssessmentSchema,
  RunResultSchema,
  TruncationSchema,
  UsageSchema,
  type ApprovalDecision,
  type ApprovalRecord,
  type ApprovalRequest as NodeApprovalRequest,
  type DraftRound,
  type MemoryHit,
  type MergeOutcome,
  type RunResult,
  type Usage,
} from "../../src/domain/run-result.js";
import type { CheckRun } from "../../src/forges/forge.js";
import { RunOutputSchema, runOutput } from "../../src/server/mcp-output.js";
import { openApiDocument } from "../../src/server/openapi.js";
import { createHandleEventTool, HandleEventOutputSchema } from "../../src/tools/handle-event.js";

describe("the run result's schema", () => {
  it("agrees with every type still declared elsewhere", () => {
    expectTypeOf<z.infer<typeof PullRequestSpecSchema>>().toEqualTypeOf<PullRequestSpec>();
    expectTypeOf<z.infer<typeof RiskAssessmentSchema>>().toEqualTypeOf<RiskAssessment>();
    expectTypeOf<z.infer<typeof TruncationSchema>>().toEqualTypeOf<Truncation>();
    expectTypeOf<z.infer<typeof DraftedBySchema>>().toEqualTypeOf<DraftedBy>();
    expectTypeOf<z.infer<typeof LifecycleEventSchema>>().toEqualTypeOf<LifecycleEvent>();
    expectTypeOf<z.infer<typeof UsageSchema>>().toEqualTypeOf<Usage>();
    expectTypeOf<z.infer<typeof MemoryHitSchema>>().toEqualTypeOf<MemoryHit>();
    expectTypeOf<z.infer<typeof DraftRoundSchema>>().toEqualTypeOf<DraftRound>();
    expectTypeOf<z.infer<typeof ApprovalDecisionSchema>>().toEqualTypeOf<ApprovalDecision>();
    expectTypeOf<z.infer<typeof ApprovalRecordSchema>>().toEqualTypeOf<ApprovalRecord>();
    expectTypeOf<z.infer<typeof ApprovalRequestSchema>>().toEqualTypeOf<NodeApprovalRequest>();
    expectTypeOf<z.infer<typeof CheckRunSchema>>().toEqualTypeOf<CheckRun>();
    expectTypeOf<z.infer<typeof MergeOutcomeSchema>>().toEqualTypeOf<MergeOutcome>();
  });

  const result: RunResult = {
    status: "created",
    pr: {
      id: 12,
      url: "https://example.test/pr/12",
      title: "feat(order): implement CreateOrderHandler [trace:ord-8128]",
      description: "## Summary\n",
      source_branch: "feature/order-handler",
      target_branch: "dev",
      reviewers: [{ name: "TechLeadAgent", required: true }],
      labels: ["traceable"],
      is_draft: false,
      auto_complete: false,
      risk: { level: "medium", reasons: ["commit type feat is medium risk"] },
      merge: { requires: "review", decision: "Medium risk: needs an approving review." },
      checklist: [{ label: "Tests included for changed code", done: true }],
    },
    violations: [],
    events: [
      {
        event: "PullRequestCreated",
        pr_id: 12,
        repo: "OrderService",
        branch: "feature/order-handler",
        trace_id: "trace-ord-8128",
        blueprint_id: "usecase-create-order",
        component_scope: "order",
        commit_hash: "a1b2c3d",
        issue_id: null,
        created_by: AGENT_NAME,
        timestamp: "2025-01-01T00:00:00Z",
      },
    ],
    drafted_by: "deterministic",
    truncation: null,
    warnings: [],
    undelivered: 0,
    usage: { model_calls: 0, prompt_tokens: 0, completion_tokens: 0, repairs: 0, fallbacks: 0 },
    rounds: [{ round: 1, drafted_by: "deterministic", violations: [] }],
    approvals: [],
    memory: {
      earlier_prs: [],
      recalled: [],
      possible_duplicates: [{ key: "k", title: "feat(order): an earlier one", url: null, score: 0.97 }],
      unavailable: null,
    },
    merge: {
      requires: "review",
      status: "not_requested",
      message: "A person merges it after review.",
      failed_checks: [],
      checks: [],
      merge_commit: null,
      ci_ms: null,
      merge_ms: null,
    },
  };

  it("parses a result unchanged", () => {
    expect(RunResultSchema.parse(result)).toEqual(result);
  });

  it("names the merge plan `merge` everywhere: the result, the MCP output and the OpenAPI description", () => {
    const out = RunOutputSchema.parse(runOutput(result));
    expect(out.pr?.merge).toEqual(result.pr!.merge);
    expect(out).toMatchObject({ reason: null, message: null, approval: null });
    expect(out.possible_duplicates).toEqual([{ title: "feat(order): an earlier one", url: null, score: 0.97 }]);
    expect(Object.keys(out).sort()).not.toContain("usage");

    const described = openApiDocument("0.0.0").components.schemas.RunResult as {
      properties: Record<string, { anyOf?: { properties?: Record<string, unknown> }[] }>;
    };
    expect(Object.keys(described.properties).sort()).toEqual(Object.keys(RunResultSchema.shape).sort());
    expect(Object.keys(described.properties.pr!.anyOf![0]!.properties!)).toContain("merge");
  });

  it("gives the LangChain tool the outcome in a few fields, as its output schema says", async () => {
    const tool = createHandleEventTool({ handle: async () => result, publishesTo: "dry-run" });
    const out = HandleEventOutputSchema.strict().parse(await tool.invoke({ event: {} }));
    expect(out).toEqual({
      status: "created",
      reason: null,
      message: null,
      pr: {
        id: 12,
        url: "https://example.test/pr/12",
        title: result.pr!.title,
        source_branch: "feature/order-handler",
        target_branch: "dev",
        risk: "medium",
      },
      merge: "A person merges it after review.",
      violations: [],
    });
  });
});
