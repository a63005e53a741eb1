/**
 * Azure Boards: the emulator's work item routes (what the service refuses), the tracker adapter on the real
 * Azure DevOps forge (states per policy, one comment per moment), and the agent with `tracker: azure-boards`:
 * the PR linked to its work items when created (workItemRefs), the issue's work item moved, a failed run's
 * comment not repeated by a re-run.
 */
import * as azdev from "azure-devops-node-api";
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { createAgent } from "../../src/agent/create-agent.js";
import { SAMPLE_TRACES } from "../../src/demo/sample-repo.js";
import type { CommitCompleted } from "../../src/domain/events.js";
import { PolicySchema } from "../../src/domain/policy.js";
import { createAzureDevOpsForge } from "../../src/forges/azure-devops/index.js";
import type { Forge } from "../../src/forges/forge.js";
import { createInMemoryTraceRegistry } from "../../src/policy/trace-registry.js";
import { azureBoardsTracker, commentHtml, workItemRef } from "../../src/trackers/azure-boards.js";
import type { TrackerUpdate } from "../../src/trackers/tracker.js";
import { workItemsOf } from "../emulators/azure-boards.js";
import { startAzureDevOpsEmulator, type AzureEmulator } from "../emulators/azure-devops.js";
import { seedOrderServiceOnAzure } from "../integration/worlds.js";

const TOKEN = "azdo-boards-secret-pat-77";
const REPO = "OrderService";
const sha = (n: number) => n.toString(16).padStart(40, "c");
const HANDLER = "/src/Application/Handlers/CreateOrderHandler.cs";
const author = { name: "code-committer-agent", email: "cc@agents.local", date: "2025-05-07T19:05:33Z" };

let az: AzureEmulator;
let forge: Forge;
let dir: string;
let branches = 0;

const item = (id: number) => workItemsOf(az.state).get(id)!;

beforeAll(async () => {
  az = await startAzureDevOpsEmulator({ token: TOKEN });
  seedOrderServiceOnAzure(az, REPO, sha);
  az.addIdentity({ displayName: "TechLeadAgent", uniqueName: "techlead@acme.example" });
  az.addIdentity({ displayName: "QA Assistant", uniqueName: "QAAssistantAgent@acme.example" });
  forge = createAzureDevOpsForge({
    orgUrl: az.orgUrl,
    project: az.project,
    token: TOKEN,
    timeoutMs: 2000,
    retry: { max_attempts: 1, backoff: "fixed", base_delay_ms: 1, retryable_status_codes: [503] },
  });
  dir = await mkdtemp(path.join(os.tmpdir(), "pr-creator-boards-"));
});

beforeEach(() => {
  az.addWorkItem({ id: 7, title: "Orders cannot be created" });
  az.addWorkItem({ id: 9, type: "Bug", title: "Totals are wrong", state: "Active" });
});

afterAll(async () => {
  await az.close();
  await rm(dir, { recursive: true, force: true });
});

describe("Azure DevOps emulator: work items", () => {
  it("serves WorkItemTrackingApi's calls and refuses what the service refuses", async () => {
    const wit = await new azdev.WebApi(az.orgUrl, azdev.getPersonalAccessTokenHandler(TOKEN)).getWorkItemTrackingApi();
    const got = await wit.getWorkItem(7, ["System.State"], undefined, undefined, az.project);
    expect(got.fields?.["System.State"]).toBe("New");
    expect(await wit.getWorkItem(404, undefined, undefined, undefined, az.project)).toBeNull();
    const moved = await wit.updateWorkItem(
      {},
      [{ op: 0, path: "/fields/System.State", value: "Active" }],
      7,
      az.project,
    );
    expect(moved.rev).toBe(2);
    await expect(
      wit.updateWorkItem({}, [{ op: 0, path: "/fields/System.State", value: "Doing" }], 7, az.project),
    ).rejects.toThrow(/TF401320/);
    await expect(
      wit.updateWorkItem({}, [{ op: 0, path: "/fields/System.Nope", value: "x" }], 7, az.project),
    ).rejects.toThrow(/TF51535/);
    await wit.addComment({ text: "<p>hello</p>" }, az.project, 7);
    await expect(wit.addComment({ text: " " }, az.project, 7)).rejects.toThrow(/cannot be empty/);
    const list = await wit.getComments(az.project, 7);
    expect(list.comments?.map((c) => c.text)).toEqual(["<p>hello</p>"]);
    // A JSON-patch document must say so.
    const plain = await fetch(`${az.orgUrl}/${az.project}/_apis/wit/workItems/7?api-version=7.1-preview.3`, {
      method: "PATCH",
      headers: {
        authorization: `Basic ${Buffer.from(`:${TOKEN}`).toString("base64")}`,
        "content-type": "application/json",
      },
      body: JSON.stringify([{ op: "add", path: "/fields/System.State", value: "Closed" }]),
    });
    expect(plain.status).toBe(415);
    expect(item(7).state).toBe("Active");
  });
});

const problem = (overrides: Partial<Extract<TrackerUpdate, { moment: "problem" }>> = {}): TrackerUpdate => ({
  moment: "problem",
  issue_id: "AB#7",
  trace_id: "trace-ord-8128",
  repo: REPO,
  at: "2026-01-08T10:00:00Z",
  pr: { id: 3, repo: REPO, branch: "feature/x", url: null, title: "t" },
  what: "merge_blocked",
  reason: "Check build failed. <img src=x onerror=alert(1)>",
  codes: ["build"],
  revert: null,
  ...overrides,
});

describe("the Azure Boards tracker", () => {
  const tracker = () =>
    azureBoardsTracker({
      issues: forge.issues!,
      states: { on_review: "Active", on_merged: "Resolved", on_failure: undefined },
      comments: { on_failure: true, on_approval: false },
    });

  it("moves the work item per policy, once", async () => {
    const opened: TrackerUpdate = {
      moment: "opened",
      issue_id: "AB#7",
      trace_id: null,
      at: "2026-01-08T10:00:00Z",
      pr: problem().pr!,
      status: "created",
    };
    expect((await tracker().apply(opened)).actions).toEqual(["moved work item 7 to Active"]);
    expect((await tracker().apply(opened)).actions).toEqual(["work item 7 already Active"]);
    const merged: TrackerUpdate = { ...opened, moment: "merged", merge_commit: null, auto_merged: true };
    await tracker().apply(merged);
    expect(item(7).state).toBe("Resolved");
    expect(item(7).comments).toEqual([]);
  });

  it("comments once per moment, as escaped HTML ending with its reference", async () => {
    expect((await tracker().apply(problem())).actions).toEqual(["commented on work item 7"]);
    expect((await tracker().apply(problem())).actions).toEqual(["comment on work item 7 already there"]);
    expect(item(7).comments).toHaveLength(1);
    const text = item(7).comments[0]!.text;
    expect(text).toMatch(/^<p>PR 3 in OrderService cannot merge automatically \(`build`\)\.<\/p>/);
    expect(text).not.toMatch(/<img/i);
    expect(text).toMatch(/<p>pr-creator ref [0-9a-f]{16}<\/p>$/);
  });

  it("skips what is not a work item and reports a refusal for the retry policy", async () => {
    expect((await tracker().apply(problem({ issue_id: "BVL-232" }))).actions[0]).toMatch(/^skipped BVL-232/);
    az.inject("getComments", { status: 503 });
    const error = await tracker()
      .apply(problem())
      .then(
        () => null,
        (e: unknown) => e,
      );
    expect(tracker().classify(error)).toMatchObject({ status: 503 });
  });

  it("reads AB#N, #N and N only; HTML stays inert", () => {
    expect(["AB#7", "ab#7", "#7", "7"].map(workItemRef)).toEqual([7, 7, 7, 7]);
    expect(["AB#0", "AB#7x", "BVL-7", "AB# 7", ""].map(workItemRef)).toEqual([null, null, null, null, null]);
    expect(commentHtml('a "b" <c>\n\nd & e')).toBe("<p>a &quot;b&quot; &lt;c&gt;</p><p>d &amp; e</p>");
  });
});

describe("agent with tracker: azure-boards", () => {
  function branch(message: string, name = `feature/order-${++branches}`): CommitCompleted {
    const commit = sha(1000 + ++branches);
    az.seedRepo(REPO, {
      branches: { [name]: commit },
      commits: {
        [commit]: { message, author, parents: [sha(2)], changes: [{ path: HANDLER, changeType: "add" }] },
      },
    });
    return {
      event: "CommitCompleted",
      trace_id: "trace-ord-8128",
      commit_hash: commit,
      repo: REPO,
      branch: name,
      agent: "code-committer-agent",
      timestamp: "2025-05-07T19:05:33Z",
    };
  }

  async function run(event: unknown, state: string) {
    const agent = await createAgent({
      policy: PolicySchema.parse({
        forge: "azure-devops",
        tracker: "azure-boards",
        retry_policy: { base_delay_ms: 10 },
        forge_timeout_ms: 2000,
        merge: { auto_merge_levels: [] },
        state_file: path.join(dir, state),
        trackers: { azure_boards: { states: { on_review: "Active" } } },
      }),
      env: { AZURE_DEVOPS_TOKEN: TOKEN, AZURE_DEVOPS_ORG_URL: az.orgUrl, AZURE_DEVOPS_PROJECT: az.project },
      traceRegistry: createInMemoryTraceRegistry(SAMPLE_TRACES),
      model: null,
      memory: null,
      cwd: dir,
    });
    try {
      return await agent.handle(event);
    } finally {
      await agent.close();
    }
  }

  it("links the PR to the event's and the commits' work items and moves the issue's work item", async () => {
    const event = {
      ...branch("feat(order): implement CreateOrderHandler [trace:ord-8128]\n\nAB#9"),
      work_item_ids: [7],
    };
    const result = await run(event, "a.db");
    expect(result.status).toBe("created");
    expect(result.events[0]).toMatchObject({ event: "PullRequestCreated", issue_id: "AB#7" });
    const pr = az.state.pullRequests.find((p) => p.pullRequestId === result.pr!.id)!;
    expect(pr.workItemRefs.map((r) => r.id)).toEqual(["7", "9"]);
    expect(item(7).state).toBe("Active");
    expect(result.warnings.filter((w) => !w.includes("no line counts"))).toEqual([]);
  });

  it("links nothing when link_work_items is off", async () => {
    const agent = await createAgent({
      policy: PolicySchema.parse({
        forge: "azure-devops",
        retry_policy: { base_delay_ms: 10 },
        state_file: path.join(dir, "c.db"),
        trackers: { azure_boards: { link_work_items: false } },
      }),
      env: { AZURE_DEVOPS_TOKEN: TOKEN, AZURE_DEVOPS_ORG_URL: az.orgUrl, AZURE_DEVOPS_PROJECT: az.project },
      traceRegistry: createInMemoryTraceRegistry(SAMPLE_TRACES),
      model: null,
      memory: null,
      cwd: dir,
    });
    const result = await agent.handle({ ...branch("feat(order): x [trace:ord-8128]\n\nAB#9"), work_item_ids: [7] });
    await agent.close();
    const pr = az.state.pullRequests.find((p) => p.pullRequestId === result.pr!.id)!;
    expect(pr.workItemRefs).toEqual([]);
  });

  it("comments once on the work item of a failed run, not again when it fails the same way", async () => {
    const event = { ...branch("feat(order): x [trace:ord-8128]"), trace_id: "trace-none-1", issue_id: "AB#9" };
    expect((await run(event, "b.db")).status).toBe("failed");
    expect(item(9).comments).toHaveLength(1);
    expect(item(9).comments[0]!.text).toMatch(/could not be created or updated \(`missing_trace`\)/);
    await run(event, "b.db");
    expect(item(9).comments).toHaveLength(1);
  });
});
