import { describe, expect, it } from "vitest";
import type { PullRequestSpec } from "../../src/domain/pull-request.js";
import {
  PullRequestExistsError,
  type Forge,
  type NewPullRequest,
  type RemotePullRequest,
} from "../../src/forges/forge.js";
import { createForgePublisher, workItemsIn } from "../../src/forges/forge-publisher.js";

/** An in-memory forge that behaves like the real ones: one open PR per branch pair, conflicts on duplicates. */
function fakeForge(opts: { createDelayMs?: number; knownUsers?: string[] } = {}) {
  const prs: RemotePullRequest[] = [];
  const calls: string[] = [];
  const load = { inFlight: 0, max: 0 };
  const known = new Set((opts.knownUsers ?? ["TechLeadAgent", "QAAssistantAgent"]).map((u) => u.toLowerCase()));
  const forge: Forge = {
    kind: "azure-devops",
    commits: { load: async () => Promise.reject(new Error("unused")) },
    readFile: async () => Promise.reject(new Error("unused")),
    commitFiles: async () => Promise.reject(new Error("unused")),
    getPullRequest: async () => Promise.reject(new Error("unused")),
    getChecks: async () => Promise.reject(new Error("unused")),
    enableAutoMerge: async () => Promise.reject(new Error("unused")),
    revertPullRequest: async () => Promise.reject(new Error("unused")),
    async findOpenPullRequest(_repo, source, target) {
      calls.push("find");
      const pr = prs.find((p) => p.source_branch === source && p.target_branch === target);
      return pr ? structuredClone(pr) : null;
    },
    async createPullRequest(_repo, pr: NewPullRequest) {
      calls.push("create");
      load.inFlight += 1;
      load.max = Math.max(load.max, load.inFlight);
      await new Promise((r) => setTimeout(r, opts.createDelayMs ?? 0));
      load.inFlight -= 1;
      if (prs.some((p) => p.source_branch === pr.source_branch && p.target_branch === pr.target_branch))
        throw new PullRequestExistsError("TF401179");
      const made: RemotePullRequest = {
        id: prs.length + 1,
        url: `https://forge/pr/${prs.length + 1}`,
        title: pr.title,
        description: pr.description,
        source_branch: pr.source_branch,
        target_branch: pr.target_branch,
        is_draft: pr.is_draft,
        labels: [...pr.labels],
        reviewer_ids: pr.reviewers.map((r) => r.id),
      };
      prs.push(made);
      return made;
    },
    async updatePullRequest(_repo, id, patch) {
      calls.push(`update ${Object.keys(patch).join(",")}`);
      const pr = prs.find((p) => p.id === id)!;
      if (patch.title !== undefined) pr.title = patch.title;
      if (patch.description !== undefined) pr.description = patch.description;
      if (patch.is_draft !== undefined) pr.is_draft = patch.is_draft;
    },
    async resolveReviewers(_repo, reviewers) {
      const resolved = reviewers
        .filter((r) => known.has(r.name.toLowerCase()))
        .map((r) => ({ ...r, id: `id-${r.name.toLowerCase()}`, kind: "user" as const }));
      return { resolved, unresolved: reviewers.filter((r) => !known.has(r.name.toLowerCase())).map((r) => r.name) };
    },
    async addReviewers(_repo, pr, reviewers) {
      calls.push(`reviewers ${reviewers.map((r) => r.name).join(",")}`);
      prs.find((p) => p.id === pr.id)!.reviewer_ids.push(...reviewers.map((r) => r.id));
    },
    async addLabels(_repo, id, labels) {
      calls.push(`labels ${labels.join(",")}`);
      prs.find((p) => p.id === id)!.labels.push(...labels);
    },
    listPullRequests: async () => structuredClone(prs),
  };
  return { forge, prs, calls, load };
}

function spec(overrides: Partial<PullRequestSpec> = {}): PullRequestSpec {
  return {
    title: "feat(order): implement CreateOrderHandler [trace:ord-8128]",
    description: "## Summary\n\ntrace_id: trace-ord-8128\n",
    source_branch: "feature/order-handler",
    target_branch: "dev",
    reviewers: [
      { name: "TechLeadAgent", required: true },
      { name: "QAAssistantAgent", required: true },
    ],
    labels: ["domain:order", "traceable", "generated-by:AI"],
    is_draft: false,
    auto_complete: false,
    risk: null,
    checklist: [],
    ...overrides,
  };
}

const TRACE = "trace-ord-8128";

describe("forge publisher", () => {
  it("creates when no PR is open, then reports unchanged, then updated only what differs", async () => {
    const f = fakeForge();
    const publisher = createForgePublisher(f.forge);
    expect(await publisher.publish("OrderService", TRACE, spec())).toEqual({
      status: "created",
      id: 1,
      url: "https://forge/pr/1",
      warnings: [],
    });
    expect(f.calls).toEqual(["find", "create"]);
    f.calls.length = 0;
    expect((await publisher.publish("OrderService", TRACE, spec())).status).toBe("unchanged");
    expect(f.calls).toEqual(["find"]);
    f.calls.length = 0;
    const changed = spec({
      description: "## Summary\n\nnew text trace_id: trace-ord-8128\n",
      labels: ["domain:order", "traceable", "generated-by:AI", "requires-tests"],
    });
    expect((await publisher.publish("OrderService", TRACE, changed)).status).toBe("updated");
    expect(f.calls.sort()).toEqual(["find", "labels requires-tests", "update description"]);
    expect(f.prs).toHaveLength(1);
    expect(f.prs[0]!.description).toBe(changed.description);
  });

  it("a duplicate conflict on create (someone else was faster) takes the update path, never a second PR", async () => {
    const f = fakeForge();
    const publisher = createForgePublisher(f.forge);
    const realFind = f.forge.findOpenPullRequest;
    let first = true;
    f.forge.findOpenPullRequest = async (...args) => {
      if (first) {
        first = false;
        // The other process creates the PR right after our lookup.
        await f.forge.createPullRequest("OrderService", {
          ...spec(),
          title: "older title [trace:ord-8128]",
          reviewers: [],
          work_items: [],
        });
        return null;
      }
      return realFind(...args);
    };
    const result = await publisher.publish("OrderService", TRACE, spec());
    expect(result.status).toBe("updated");
    expect(f.prs).toHaveLength(1);
    expect(f.prs[0]!.title).toBe(spec().title);
    expect(f.prs[0]!.reviewer_ids).toEqual(["id-techleadagent", "id-qaassistantagent"]);
  });

  it("never takes over an open PR of another trace: pr_already_exists", async () => {
    const f = fakeForge();
    await f.forge.createPullRequest("OrderService", {
      ...spec(),
      description: "made by a person",
      reviewers: [],
      work_items: [],
    });
    const error = await createForgePublisher(f.forge)
      .publish("OrderService", TRACE, spec())
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ reason: "pr_already_exists" });
    expect((error as Error).message).toContain("https://forge/pr/1");
    expect(f.prs[0]!.description).toBe("made by a person");
  });

  it("reports reviewers it cannot resolve instead of dropping them silently", async () => {
    const f = fakeForge({ knownUsers: ["TechLeadAgent"] });
    const result = await createForgePublisher(f.forge).publish("OrderService", TRACE, spec());
    expect(result.warnings).toEqual(['Reviewer "QAAssistantAgent" has no Azure DevOps identity and was not added.']);
    expect(f.prs[0]!.reviewer_ids).toEqual(["id-techleadagent"]);
  });

  it("10 concurrent events for one branch pair make exactly one PR; different pairs run in parallel", async () => {
    const f = fakeForge({ createDelayMs: 20 });
    const publisher = createForgePublisher(f.forge);
    const same = await Promise.all(Array.from({ length: 10 }, () => publisher.publish("OrderService", TRACE, spec())));
    expect(same.filter((r) => r.status === "created")).toHaveLength(1);
    expect(same.filter((r) => r.status === "unchanged")).toHaveLength(9);
    expect(f.prs).toHaveLength(1);
    expect(f.load.max).toBe(1);
    const different = await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        publisher.publish("OrderService", TRACE, spec({ source_branch: `feature/b${i}` })),
      ),
    );
    expect(different.every((r) => r.status === "created")).toBe(true);
    expect(f.prs).toHaveLength(11);
    // Different pairs were in flight together, not queued behind one lock.
    expect(f.load.max).toBeGreaterThan(1);
  });

  it("links Azure Boards work items named in the description", () => {
    expect(workItemsIn("- `abc1234` fix totals AB#101 and AB#7, again AB#101; not AB#x")).toEqual(["101", "7"]);
  });
});

describe("forge publisher: look-ups started early", () => {
  const pair = { source_branch: "feature/order-handler", target_branch: "dev" };

  it("publish uses the early open-PR look-up instead of making its own", async () => {
    const f = fakeForge();
    const publisher = createForgePublisher(f.forge);
    publisher.prefetch!("OrderService", pair, spec().reviewers);
    publisher.prefetch!("OrderService", pair);
    expect(f.calls).toEqual(["find"]);
    expect((await publisher.publish("OrderService", TRACE, spec())).status).toBe("created");
    expect(f.calls).toEqual(["find", "create"]);
  });

  it("an early look-up is used once: the next publish looks again and sees the PR", async () => {
    const f = fakeForge();
    const publisher = createForgePublisher(f.forge);
    publisher.prefetch!("OrderService", pair);
    await publisher.publish("OrderService", TRACE, spec());
    expect((await publisher.publish("OrderService", TRACE, spec())).status).toBe("unchanged");
    expect(f.calls).toEqual(["find", "create", "find"]);
  });

  it("a failed early look-up is made again by publish, and never surfaces as an unhandled rejection", async () => {
    const f = fakeForge();
    let failures = 1;
    const flaky = {
      ...f.forge,
      async findOpenPullRequest(repo: string, source: string, target: string) {
        if (failures-- > 0) throw new Error("socket hang up");
        return f.forge.findOpenPullRequest(repo, source, target);
      },
    };
    const publisher = createForgePublisher(flaky);
    publisher.prefetch!("OrderService", pair);
    expect((await publisher.publish("OrderService", TRACE, spec())).status).toBe("created");
    expect(f.calls).toEqual(["find", "create"]);
  });

  it("a look-up for another pair or other reviewers is not taken for this one", async () => {
    const f = fakeForge();
    const publisher = createForgePublisher(f.forge);
    publisher.prefetch!("OrderService", { source_branch: "feature/other", target_branch: "dev" }, [
      { name: "TechLeadAgent", required: false },
    ]);
    await publisher.publish("OrderService", TRACE, spec());
    expect(f.calls).toEqual(["find", "find", "create"]);
  });
});
