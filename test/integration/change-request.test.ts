/**
 * Change requests through the whole agent in a dry run against the sample repository: the preview, and
 * every way a request can be refused — each with exactly one PullRequestFailed naming the change's branch.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createAgent } from "../../src/agent/create-agent.js";
import type { RunResult } from "../../src/domain/run-result.js";
import { buildSampleRepo, SAMPLE_PVC, type SampleRepo } from "../../src/demo/sample-repo.js";
import type { LifecycleEvent } from "../../src/domain/events.js";
import { PolicySchema } from "../../src/domain/policy.js";

let root: string;
let sample: SampleRepo;

beforeAll(async () => {
  root = await mkdtemp(path.join(tmpdir(), "pr-creator-change-it-"));
  sample = await buildSampleRepo(path.join(root, "sample"));
}, 60_000);

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

async function run(
  overrides: Record<string, unknown>,
  policy: Record<string, unknown> = {},
): Promise<{ result: RunResult; delivered: LifecycleEvent[] }> {
  const delivered: LifecycleEvent[] = [];
  const agent = await createAgent({
    policy: PolicySchema.parse({ state_file: path.join(root, "state.db"), ...policy }),
    repoPath: sample.dir,
    sinks: [async (e) => void delivered.push(e)],
    memory: null,
    model: null,
    cwd: root,
  });
  try {
    return { result: await agent.handle({ ...sample.changeEvent, ...overrides }), delivered };
  } finally {
    await agent.close();
  }
}

describe("change requests (dry run)", () => {
  it("previews the PR: branch, title, context, risk and the plan to merge after CI; nothing committed", async () => {
    const { result, delivered } = await run({});
    expect(result.status).toBe("previewed");
    expect(result.pr).toMatchObject({
      title: "fix(orders): increase orders-data PVC to 20Gi [trace:pvc-size-4711]",
      source_branch: "agent-sre/pvc-size-4711",
      target_branch: "main",
      auto_complete: true,
      risk: { level: "low", reasons: ["change type pvc-size is low risk"] },
    });
    expect(result.merge).toMatchObject({ status: "previewed", requires: "none" });
    expect(result.pr!.description).toContain("| deploy/orders/pvc.yaml | Modified | +1 -1 |");
    expect(result.warnings).toEqual([
      expect.stringMatching(
        /^Preview: nothing was committed; agent-sre\/pvc-size-4711 and commit [0-9a-f]{7} are what a forge run would create\.$/,
      ),
    ]);
    expect(delivered).toEqual([]);
  });

  it("a medium-risk change type plans a review; a path rule can make it high", async () => {
    const medium = await run({ change_type: "network-policy" });
    expect(medium.result.pr!.risk!.level).toBe("medium");
    expect(medium.result.pr!.auto_complete).toBe(false);
    const high = await run(
      {},
      {
        risk: { paths: [{ glob: "deploy/**", level: "high", reason: "production manifests" }] },
        merge: { senior_reviewers: ["SRE Leads"] },
      },
    );
    expect(high.result.pr!.risk).toEqual({
      level: "high",
      reasons: [
        "change type pvc-size is low risk",
        "deploy/orders/pvc.yaml matches deploy/** (production manifests): high risk",
      ],
    });
    expect(high.result.pr!.labels).toContain("requires-approval");
    expect(high.result.pr!.reviewers).toContainEqual({ name: "SRE Leads", required: true });
  });

  it("an edit the base branch cannot take fails with edit_not_applicable, naming file, key and source", async () => {
    const { result, delivered } = await run({
      edits: [{ path: "deploy/orders/pvc.yaml", set: { "spec.resource.requests.storage": "20Gi" } }],
    });
    expect(result.reason).toBe("edit_not_applicable");
    expect(result.message).toContain(
      'The edit of deploy/orders/pvc.yaml cannot be applied: "spec.resource.requests" is not a mapping or list in the file, so "spec.resource.requests.storage" cannot be set (main was read from the local clone',
    );
    expect(delivered).toEqual([
      expect.objectContaining({
        event: "PullRequestFailed",
        reason: "edit_not_applicable",
        trace_id: "trace-pvc-size-4711",
        branch: "agent-sre/pvc-size-4711",
      }),
    ]);
  });

  it("an edit already on the base branch is no_changes", async () => {
    const { result } = await run({ edits: [{ path: "deploy/orders/pvc.yaml", content: SAMPLE_PVC }] });
    expect(result.reason).toBe("no_changes");
    expect(result.message).toMatch(/^Every edit of change 4711 is already on main/);
  });

  it("a malformed request is invalid_event naming each field; a forbidden base is forbidden_branch", async () => {
    const bad = await run({ change_type: "PVC", edits: [] });
    expect(bad.result.reason).toBe("invalid_event");
    expect(bad.result.message).toContain("change_type must be lower-case words joined by - (e.g. pvc-size)");
    expect(bad.result.message).toContain("edits must list at least one file edit");
    const forbidden = await run({ base_branch: "master" });
    expect(forbidden.result.reason).toBe("forbidden_branch");
    expect(forbidden.result.message).toContain('base branch "master" is forbidden');
  });

  it("edits that produce invalid YAML leave the checklist open, so the PR never merges itself", async () => {
    const { result } = await run({ edits: [{ path: "deploy/orders/pvc.yaml", content: "spec: [unclosed\n" }] });
    expect(result.status).toBe("previewed");
    expect(result.pr!.checklist).toContainEqual({
      label: "Edited YAML files parse (1 of 1 do not: deploy/orders/pvc.yaml)",
      done: false,
    });
    expect(result.pr!.auto_complete).toBe(false);
    expect(result.pr!.merge!.requires).toBe("review");
  });
});
