import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { PolicySchema } from "../../src/domain/policy.js";
import { createTracker } from "../../src/trackers/create-tracker.js";
import { commentBody, linearIssueKey, linearTracker } from "../../src/trackers/linear.js";
import type { Tracker, TrackerUpdate } from "../../src/trackers/tracker.js";
import { startLinearEmulator, type LinearEmulator } from "../emulators/linear.js";

const KEY = "lin_api_emulated_key_0123456789";
const pr = {
  id: 12,
  repo: "acme/infra",
  branch: "agent-sre/pvc-size-BVL-232",
  url: "https://github.com/acme/infra/pull/12",
  title: "feat(storage): increase PVC",
};
const base = { issue_id: "BVL-232", trace_id: "trace-pvc-1", at: "2026-01-08T10:00:00Z" };
const opened: TrackerUpdate = { moment: "opened", ...base, pr, status: "created" };
const merged: TrackerUpdate = { moment: "merged", ...base, pr, merge_commit: "abc123", auto_merged: true };
const blocked: TrackerUpdate = {
  moment: "problem",
  ...base,
  pr,
  what: "merge_blocked",
  reason: "Auto-merge is blocked: check yaml-lint failed. <img src=x> @everyone [x](https://evil.example)",
  codes: ["yaml-lint"],
  revert: null,
};

let linear: LinearEmulator;
let tracker: Tracker;

beforeEach(async () => {
  linear = await startLinearEmulator({ apiKey: KEY });
  linear.addIssue({ identifier: "BVL-232", state: "Todo" });
  tracker = linearTracker({
    apiKey: KEY,
    apiUrl: linear.url,
    states: { on_review: "In Review", on_merged: "Done" },
    comments: { on_failure: true, on_approval: true },
  });
});

afterEach(async () => {
  expect(linear.violations).toEqual([]);
  await linear.close();
});

describe("the Linear tracker on the emulator (the SDK's own operations, checked against its schema)", () => {
  it("links the PR as an attachment and moves the issue to In Review; a second time changes nothing", async () => {
    expect((await tracker.apply(opened)).actions).toEqual([
      "linked PR 12 in acme/infra to BVL-232",
      "moved BVL-232 to In Review",
    ]);
    expect(linear.attachments).toMatchObject([{ url: pr.url, title: "PR 12: feat(storage): increase PVC" }]);
    expect(linear.stateOf("BVL-232")).toBe("In Review");
    expect((await tracker.apply({ ...opened, status: "updated" })).actions).toEqual([]);
    expect(linear.attachments).toHaveLength(1);
    // State names were resolved once for the team.
    expect(linear.requests.filter((r) => r.operation === "workflowStates")).toHaveLength(1);
  });

  it("moves a merged PR's issue to Done, and a late 'opened' does not reopen it", async () => {
    await tracker.apply(opened);
    await tracker.apply(merged);
    expect(linear.stateOf("BVL-232")).toBe("Done");
    expect((await tracker.apply(opened)).actions).toEqual([]);
    expect(linear.stateOf("BVL-232")).toBe("Done");
  });

  it("comments once on a blocked merge, with the reason inert; a re-run finds the comment and writes none", async () => {
    expect((await tracker.apply(blocked)).actions).toEqual(["commented on BVL-232"]);
    expect((await tracker.apply(blocked)).actions).toEqual([]);
    expect(linear.comments).toHaveLength(1);
    const body = linear.comments[0]!.body;
    expect(body).toContain("cannot merge automatically (`yaml-lint`)");
    expect(body).not.toContain("<img");
    expect(body).not.toContain("[x](https://evil.example)");
    expect(linear.stateOf("BVL-232")).toBe("Todo");
  });

  it("moves a failed PR's issue to the failure state when the policy names one", async () => {
    const strict = linearTracker({
      apiKey: KEY,
      apiUrl: linear.url,
      states: { on_review: "In Review", on_merged: "Done", on_failure: "In Progress" },
      comments: { on_failure: false, on_approval: true },
    });
    expect((await strict.apply(blocked)).actions).toEqual(["moved BVL-232 to In Progress"]);
    expect(linear.comments).toHaveLength(0);
  });

  it("names who must approve, once", async () => {
    const waiting: TrackerUpdate = {
      moment: "awaiting_approval",
      ...base,
      pr,
      requires: "senior_approval",
      approvers: ["platform-leads", "alice"],
    };
    await tracker.apply(waiting);
    await tracker.apply(waiting);
    expect(linear.comments).toHaveLength(1);
    expect(linear.comments[0]!.body).toContain("waits for a senior approval from platform-leads, alice");
  });

  it("leaves an issue that is not Linear's alone (a work item, a GitHub issue), without an error", async () => {
    expect((await tracker.apply({ ...opened, issue_id: "AB#123" })).actions).toEqual([]);
    expect((await tracker.apply({ ...blocked, issue_id: "#42" })).actions).toEqual([]);
    expect(linear.requests).toEqual([]);
  });

  it("says which state is missing from the team, and what it has", async () => {
    const wrong = linearTracker({
      apiKey: KEY,
      apiUrl: linear.url,
      states: { on_review: "Code Review", on_merged: "Done" },
      comments: { on_failure: true, on_approval: true },
    });
    await expect(wrong.apply(opened)).rejects.toThrow(/no workflow state "Code Review" \(it has "Backlog", "Todo"/);
  });

  it("classifies a down Linear as retryable (503) and a refused key as not, without echoing the key", async () => {
    linear.down();
    const down = await tracker.apply(opened).catch((e: unknown) => e);
    expect(tracker.classify(down)).toEqual({ status: 503 });
    linear.up();
    const refused = linearTracker({
      apiKey: "lin_api_wrong_key_9876543210",
      apiUrl: linear.url,
      states: { on_review: "In Review", on_merged: "Done" },
      comments: { on_failure: true, on_approval: true },
    });
    const error = await refused.apply(opened).catch((e: unknown) => e as Error);
    expect(refused.classify(error)).toEqual({ status: 400 });
    expect(String(error)).not.toContain("lin_api_wrong_key");
  });
});

describe("a Linear that resets connections or rate-limits, under the notifier's retries", () => {
  it("retries a reset and a rate limit (waiting what Retry-After says), then applies the update once", async () => {
    const { createTrackerNotifier } = await import("../../src/trackers/notify.js");
    linear.inject({ reset: true });
    linear.inject({ ratelimited: true, retryAfterS: 2 });
    const waits: number[] = [];
    const notifier = createTrackerNotifier({
      tracker,
      retry: { ...PolicySchema.parse({}).retry_policy, max_attempts: 3, base_delay_ms: 1 },
      stateFile: null,
      sleep: async (ms) => void waits.push(ms),
    });
    expect(await notifier.send([opened])).toEqual([]);
    expect(waits).toEqual([1, 2000]);
    expect(linear.attachments).toHaveLength(1);
    await notifier.close();
  });
});

describe("Linear settings", () => {
  it("reads issue keys and Linear URLs, and nothing else", () => {
    expect(linearIssueKey("BVL-232")).toBe("BVL-232");
    expect(linearIssueKey("https://linear.app/bvlucena/issue/BVL-232/backend-012")).toBe("BVL-232");
    expect(linearIssueKey("AB#123")).toBeNull();
    expect(linearIssueKey("#42")).toBeNull();
  });

  it("needs LINEAR_API_KEY, refuses a URL with user info, and PR_CREATOR_TRACKER wins over the policy", () => {
    const policy = PolicySchema.parse({ tracker: "linear" });
    expect(() => createTracker(policy, {})).toThrow(/LINEAR_API_KEY is not set/);
    expect(() =>
      createTracker(policy, { LINEAR_API_KEY: KEY, LINEAR_API_URL: "https://u:p@api.linear.app/graphql" }),
    ).toThrow(/without user info/);
    expect(createTracker(policy, { LINEAR_API_KEY: KEY })?.kind).toBe("linear");
    expect(createTracker(policy, { LINEAR_API_KEY: KEY, PR_CREATOR_TRACKER: "none" })).toBeNull();
    expect(createTracker(PolicySchema.parse({}), { PR_CREATOR_TRACKER: "linear", LINEAR_API_KEY: KEY })?.kind).toBe(
      "linear",
    );
    expect(() => createTracker(policy, { PR_CREATOR_TRACKER: KEY }, { secrets: [KEY] })).toThrow(
      /configured secret \(not shown\)/,
    );
  });

  it("a failure comment for a run without a PR names the trace", () => {
    const body = commentBody({ ...blocked, pr: null, what: "failed", codes: ["commit_not_found"] });
    expect(body).toMatch(
      /^The pull request for trace trace-pvc-1 could not be created or updated \(`commit_not_found`\)\./,
    );
  });
});

describe("the Linear emulator's checks", () => {
  it("refuses an operation the SDK does not send, a field Linear lacks and a variable of the wrong type", async () => {
    const emu = await startLinearEmulator({ apiKey: KEY });
    const post = (query: string, variables: unknown) =>
      fetch(emu.url, {
        method: "POST",
        headers: { "content-type": "application/json", authorization: KEY },
        body: JSON.stringify({ query, variables }),
      });
    expect((await post("query mine { viewer { id } }", {})).status).toBe(400);
    expect((await post("query issue($id: String!) { issue(id: $id) { id noSuchField } }", { id: "x" })).status).toBe(
      400,
    );
    const { loadLinearSchema } = await import("../emulators/linear-schema.js");
    const commentCreate = loadLinearSchema().operations.get("createComment")!.printed;
    expect((await post(commentCreate, { input: { issueId: "BVL-1", body: 5 } })).status).toBe(400);
    expect((await post(commentCreate, { input: { issueId: "BVL-1", bogus: "x" } })).status).toBe(400);
    expect(emu.violations).toHaveLength(4);
    expect(emu.violations.join("\n")).toMatch(
      /not one of @linear\/sdk's documents[\s\S]*differs[\s\S]*body: expected a string[\s\S]*no field bogus/,
    );
    await emu.close();
  });
});
