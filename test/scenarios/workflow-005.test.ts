/**
 * The eight test scenarios of seed WORKFLOW-005 (PR generation and automated merging), one test each, run
 * against both forge emulators through the real client libraries. Each step the seed says to verify is an
 * assertion here; where a step names something outside this agent the test checks what the agent hands it:
 * for Flux the merged content on main; for Linear the issue itself, on the Linear emulator (tracker: linear) —
 * the PR linked, its state, and the comments on review, approval, failure and rollback.
 */
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { createAgent, type Agent } from "../../src/agent/create-agent.js";
import type { ChangeRequested, LifecycleEvent } from "../../src/domain/events.js";
import { PolicySchema } from "../../src/domain/policy.js";
import { followPullRequest } from "../../src/merge/follow.js";
import { createLedger, type Ledger } from "../../src/merge/ledger.js";
import { rollback } from "../../src/merge/rollback.js";
import { trackFollow } from "../../src/merge/track.js";
import { openHistory } from "../../src/metrics/history.js";
import { computeReport } from "../../src/metrics/report.js";
import { seedPipeline } from "../emulators/ci.js";
import { startLinearEmulator, type LinearEmulator } from "../emulators/linear.js";
import { runCli } from "../helpers.js";
import { azureWorld, githubWorld, type World } from "./worlds.js";

const PVC = `# Orders database volume. Sized by the SRE team.
apiVersion: v1
kind: PersistentVolumeClaim
metadata:
  name: orders-data
  namespace: orders
spec:
  accessModes:
    - ReadWriteOnce
  resources:
    requests:
      storage: 10Gi # last grown 2025-11
`;

const NETWORK_POLICY = `apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: orders-ingress
  namespace: orders
spec:
  podSelector:
    matchLabels:
      app: orders
  ingress:
    - from:
        - namespaceSelector:
            matchLabels:
              name: storefront # only the storefront may call orders
`;

const CLUSTER = `# Production cluster. Changes here affect every namespace.
apiVersion: cluster.x-k8s.io/v1beta1
kind: MachineDeployment
metadata:
  name: prod-workers
spec:
  replicas: 6
`;

/** Twelve tenants with a volume each, for concurrent changes that do not touch the same file. */
const TENANTS = Array.from({ length: 12 }, (_, i) => `tenant-${i + 1}`);

const FILES = {
  "apps/orders/pvc.yaml": PVC,
  "apps/orders/network-policy.yaml": NETWORK_POLICY,
  "clusters/prod/workers.yaml": CLUSTER,
  ...Object.fromEntries(TENANTS.map((t) => [`apps/${t}/pvc.yaml`, PVC.replace(/orders/g, t)])),
};

const ISSUE_URL = "https://linear.app/bvlucena/issue/BVL-232";
const LINEAR_KEY = "lin_api_scenario_key_13579";

function pvcRequest(id = "4711", storage = "20Gi"): ChangeRequested {
  return {
    event: "ChangeRequested",
    change_id: id,
    issue_id: "BVL-232",
    change_type: "pvc-size",
    repo: "",
    base_branch: "main",
    summary: `increase orders-data PVC to ${storage}`,
    edits: [{ path: "apps/orders/pvc.yaml", set: { "spec.resources.requests.storage": storage } }],
    context: {
      alert: "PersistentVolumeFillingUp: orders-data is 91% full",
      remediation: `Increase the PVC size from 10Gi to ${storage}`,
      impact: "Single namespace (orders); the volume grows online",
      namespace: "orders",
      issue_url: ISSUE_URL,
    },
    agent: "agent-sre",
    timestamp: "2026-01-08T10:00:00Z",
  };
}

function networkRequest(): ChangeRequested {
  return {
    ...pvcRequest("4712"),
    change_type: "network-policy",
    summary: "let the checkout namespace call orders",
    edits: [
      {
        path: "apps/orders/network-policy.yaml",
        set: { "spec.ingress.0.from.0.namespaceSelector.matchLabels.name": "checkout" },
      },
    ],
    context: {
      alert: "CheckoutOrdersTimeouts",
      remediation: "Allow ingress from checkout",
      impact: "Orders accepts traffic from checkout",
      namespace: "orders",
      issue_url: ISSUE_URL,
    },
  };
}

function clusterRequest(): ChangeRequested {
  return {
    ...pvcRequest("4713"),
    change_type: "cluster-config",
    summary: "scale production workers to 9",
    edits: [{ path: "clusters/prod/workers.yaml", set: { "spec.replicas": 9 } }],
    context: {
      alert: "ClusterCPUSaturated",
      remediation: "Add three worker nodes",
      impact: "Every namespace in prod",
      issue_url: ISSUE_URL,
    },
  };
}

interface Harness {
  world: World;
  /** Linear, where issue BVL-232 follows each PR (tracker: linear). */
  linear: LinearEmulator;
  dir: string;
  stateFile: string;
  ledger: Ledger;
  events: LifecycleEvent[];
  agent(opts?: { watch?: boolean }): Promise<Agent>;
  handle(request: ChangeRequested, opts?: { watch?: boolean }): ReturnType<Agent["handle"]>;
}

describe.each([
  ["Azure DevOps", azureWorld],
  ["GitHub", githubWorld],
] as const)("WORKFLOW-005 on %s", (_name, makeWorld) => {
  let h: Harness;
  const agents: Agent[] = [];

  beforeAll(async () => {
    const world = await makeWorld();
    const dir = await mkdtemp(path.join(os.tmpdir(), "pr-creator-wf005-"));
    h = {
      world,
      linear: await startLinearEmulator({ apiKey: LINEAR_KEY }),
      dir,
      stateFile: "",
      ledger: createLedger(null),
      events: [],
      agent: async () => Promise.reject(new Error("unset")),
      handle: async () => Promise.reject(new Error("unset")),
    };
  });

  beforeEach(async () => {
    h.world.seed(FILES);
    h.world.setCi(seedPipeline({ delayMs: 30 }));
    await h.linear.close();
    h.linear = await startLinearEmulator({ apiKey: LINEAR_KEY });
    h.linear.addIssue({ identifier: "BVL-232", state: "Todo" });
    h.stateFile = path.join(await mkdtemp(path.join(h.dir, "run-")), "state.db");
    h.ledger = createLedger(h.stateFile);
    h.events = [];
    const policy = PolicySchema.parse({
      forge: h.world.kind,
      tracker: "linear",
      retry_policy: { base_delay_ms: 10 },
      forge_timeout_ms: 5000,
      state_file: h.stateFile,
      // The emulator has no rate limit to pace for; GitHub's write pacing (1 s) would only slow the tests.
      github: { throttle: false },
      merge: { senior_reviewers: [h.world.senior], poll_interval_ms: 20, watch_timeout_ms: 15_000 },
    });
    h.agent = async (opts = {}) => {
      const agent = await createAgent({
        policy,
        env: { ...h.world.env, LINEAR_API_KEY: LINEAR_KEY, LINEAR_API_URL: h.linear.url },
        model: null,
        ledger: h.ledger,
        watch: opts.watch ?? false,
        sinks: [async (e) => void h.events.push(e)],
        cwd: h.dir,
      });
      agents.push(agent);
      return agent;
    };
    h.handle = async (request, opts) => (await h.agent(opts)).handle({ ...request, repo: h.world.repo });
  });

  afterEach(async () => {
    await Promise.all(agents.splice(0).map((a) => a.close()));
    await h.ledger.close();
    // Every request to Linear was one of the SDK's operations, fitting Linear's types.
    expect(h.linear.violations).toEqual([]);
  });

  afterAll(async () => {
    await h.linear.close();
    await h.world.close();
    await rm(h.dir, { recursive: true, force: true });
  });

  /** A person's merge, observed by the agent the way `pr-creator watch` does. */
  async function watchManualMerge(agent: Agent, prId: number, risk: "medium" | "high") {
    const followed = await followPullRequest(agent.forge!, h.world.repo, prId, { poll_ms: 20, timeout_ms: 5000 });
    return trackFollow(
      { ledger: agent.ledger, emit: agent.emit, now: () => new Date() },
      {
        repo: h.world.repo,
        trace_id: "trace-x",
        pr_id: prId,
        branch: followed.pr.source_branch,
        issue_id: "BVL-232",
        risk,
        auto: false,
      },
      followed,
    );
  }

  it("Scenario 1: Low-Risk PR Generation and Auto-Merge", async () => {
    const writesBefore = h.world.commitWrites();
    const result = await h.handle(pvcRequest(), { watch: true });

    // 1–3: branch agent-sre/pvc-size-<id> created with one commit holding exactly the edit, comments kept.
    expect(result.status).toBe("created");
    expect(result.pr!.source_branch).toBe("agent-sre/pvc-size-4711");
    expect(h.world.commitWrites() - writesBefore).toBe(1);
    // 4: description with the context; 5: low risk.
    expect(result.pr!.description).toContain("- Alert: PersistentVolumeFillingUp: orders-data is 91% full");
    expect(result.pr!.risk).toEqual({ level: "low", reasons: ["change type pvc-size is low risk"] });
    // 6–7: CI ran and passed, then the PR merged itself (squash) and the branch is gone.
    expect(result.merge).toMatchObject({ status: "merged", requires: "none", failed_checks: [] });
    expect(result.merge!.checks.map((c) => [c.name, c.state]).sort()).toEqual([
      ["dry-run-apply", "succeeded"],
      ["security-scan", "succeeded"],
      ["yaml-validation", "succeeded"],
    ]);
    expect(result.merge!.ci_ms).not.toBeNull();
    const id = Number(result.pr!.id);
    expect(h.world.pr(id).state).toBe("merged");
    expect(h.world.branchHead("agent-sre/pvc-size-4711")).toBeUndefined();
    // 8: main holds the change — what Flux applies — with every comment and the layout kept.
    expect(h.world.fileAt("main", "apps/orders/pvc.yaml")).toBe(PVC.replace("storage: 10Gi #", "storage: 20Gi #"));
    // 9: the issue tracker hears of the PR and of its merge, with the issue id.
    expect(h.events.map((e) => e.event)).toEqual([
      "PullRequestCreated",
      "PullRequestReadyForReview",
      "PullRequestMerged",
    ]);
    expect(h.events[2]).toMatchObject({ pr_id: id, issue_id: "BVL-232", auto_merged: true, risk: "low" });
    // …and the Linear issue itself: the PR linked (one attachment) and the merge status (Done).
    expect(h.linear.attachments).toEqual([expect.objectContaining({ url: result.pr!.url })]);
    expect(h.linear.stateOf("BVL-232")).toBe("Done");
    // Metrics recorded: generation, CI and merge.
    const history = await openHistory(h.stateFile).list();
    expect(history.map((e) => e.kind)).toEqual(["generation", "ci", "merge"]);
    expect(await h.ledger.metrics.render()).toMatch(/prcreator_auto_merges_total\{result="merged"\} 1/);
  });

  it("Scenario 2: Medium-Risk PR Generation (Requires Review)", async () => {
    h.world.requireApproval();
    const result = await h.handle(networkRequest());
    expect(result.status).toBe("created");
    const id = Number(result.pr!.id);
    expect(result.pr!.risk!.level).toBe("medium");
    // Requires review, never auto-merged; reviewers notified (on the PR) and required.
    expect(result.pr!.auto_complete).toBe(false);
    expect(result.merge).toMatchObject({ status: "not_requested", requires: "review" });
    const pr = h.world.pr(id);
    expect(pr.auto_merge).toBe(false);
    expect(pr.reviewers).toEqual(
      expect.arrayContaining([
        { name: "TechLeadAgent", required: true },
        { name: "QAAssistantAgent", required: true },
      ]),
    );
    // CI passes, but the PR is not mergeable before a human review; merged by hand after it.
    await h.world.ciSettled();
    expect(await h.world.mergeByHand(id)).toMatch(/review|approv|reviewer/i);
    expect(h.world.pr(id).state).toBe("open");
    // 8: the Linear issue shows the review status: in review, linked, and who must review.
    expect(h.linear.stateOf("BVL-232")).toBe("In Review");
    expect(h.linear.attachments).toEqual([expect.objectContaining({ url: result.pr!.url })]);
    expect(h.linear.comments.map((c) => c.body)).toEqual([
      expect.stringMatching(
        /waits for an approving review from (TechLeadAgent, QAAssistantAgent|QAAssistantAgent, TechLeadAgent)/,
      ),
    ]);
    h.world.approve(id, "TechLeadAgent");
    h.world.approve(id, "QAAssistantAgent");
    expect(await h.world.mergeByHand(id)).toBeNull();
    const agent = await h.agent();
    const tracked = await watchManualMerge(agent, id, "medium");
    expect(h.linear.stateOf("BVL-232")).toBe("Done");
    // The issue tracker hears the review outcome: merged by a person.
    expect(tracked.events).toEqual([
      expect.objectContaining({ event: "PullRequestMerged", auto_merged: false, issue_id: "BVL-232", risk: "medium" }),
    ]);
    expect(h.world.fileAt("main", "apps/orders/network-policy.yaml")).toContain(
      "name: checkout # only the storefront may call orders",
    );
  });

  it("Scenario 3: High-Risk PR Generation (Requires Approval)", async () => {
    h.world.requireApproval();
    const result = await h.handle(clusterRequest());
    expect(result.status).toBe("created");
    const id = Number(result.pr!.id);
    expect(result.pr!.risk!.level).toBe("high");
    expect(result.merge).toMatchObject({ status: "not_requested", requires: "senior_approval" });
    expect(result.merge!.message).toBe(`High risk: needs approval from ${h.world.senior}; never merged automatically.`);
    const pr = h.world.pr(id);
    expect(pr.labels).toContain("requires-approval");
    expect(pr.auto_merge).toBe(false);
    expect(pr.reviewers).toContainEqual({ name: h.world.senior, required: true });
    // Blocked until the senior approval arrives (the other reviewers' approvals are not enough on Azure).
    await h.world.ciSettled();
    if (h.world.kind === "azure-devops") {
      h.world.approve(id, "TechLeadAgent");
      h.world.approve(id, "QAAssistantAgent");
    }
    expect(await h.world.mergeByHand(id)).toMatch(/review|approv|reviewer/i);
    expect(h.world.pr(id).state).toBe("open");
    h.world.approve(id, h.world.seniorApprover);
    expect(await h.world.mergeByHand(id)).toBeNull();
    // 8: the Linear issue shows the approval status: waiting for the senior approvers, then Done once merged.
    expect(h.linear.comments).toHaveLength(1);
    expect(h.linear.comments[0]!.body).toContain(`waits for a senior approval from`);
    expect(h.linear.comments[0]!.body).toContain(h.world.senior);
    expect(h.linear.stateOf("BVL-232")).toBe("In Review");
    const tracked = await watchManualMerge(await h.agent(), id, "high");
    expect(h.linear.stateOf("BVL-232")).toBe("Done");
    expect(tracked.events[0]).toMatchObject({
      event: "PullRequestMerged",
      auto_merged: false,
      risk: "high",
      issue_id: "BVL-232",
    });
    expect(h.world.fileAt("main", "clusters/prod/workers.yaml")).toBe(CLUSTER.replace("replicas: 6", "replicas: 9"));
  });

  it("Scenario 4: PR CI/CD Validation", async () => {
    // Passing pipeline: YAML validation, dry-run apply and security scan all pass; ready, then merged.
    const ok = await h.handle(pvcRequest("4801", "25Gi"), { watch: true });
    expect(ok.merge!.status).toBe("merged");
    expect(ok.merge!.checks.every((c) => c.state === "succeeded")).toBe(true);

    // A failing dry-run apply blocks auto-merge and says why.
    h.world.setCi(seedPipeline({ delayMs: 30, dryRun: "failed" }));
    const bad = await h.handle(pvcRequest("4802", "30Gi"), { watch: true });
    expect(bad.status).toBe("created");
    expect(bad.merge).toMatchObject({ status: "blocked", failed_checks: ["dry-run-apply"] });
    expect(bad.merge!.message).toMatch(/^Auto-merge is blocked: check dry-run-apply failed/);
    const id = Number(bad.pr!.id);
    expect(h.world.pr(id).state).toBe("open");
    expect(h.world.fileAt("main", "apps/orders/pvc.yaml")).toContain("storage: 25Gi");
    expect(h.events.filter((e) => e.event === "PullRequestMergeBlocked")).toEqual([
      expect.objectContaining({ pr_id: id, failed_checks: ["dry-run-apply"] }),
    ]);
    const history = await openHistory(h.stateFile).list();
    expect(history.filter((e) => e.kind === "ci").map((e) => (e.kind === "ci" ? e.result : ""))).toEqual([
      "succeeded",
      "failed",
    ]);
  });

  it("Scenario 5: PR Rollback Capability", async () => {
    const merged = await h.handle(pvcRequest("4901", "40Gi"), { watch: true });
    expect(merged.merge!.status).toBe("merged");
    expect(h.world.fileAt("main", "apps/orders/pvc.yaml")).toContain("storage: 40Gi");

    // The change causes trouble: roll it back by trace, from memory.
    const agent = await h.agent({ watch: true });
    const result = await rollback(
      {
        forge: agent.forge!,
        policy: agent.policy,
        memory: agent.memory,
        ledger: agent.ledger,
        emit: agent.emit,
        now: () => new Date(),
        watch: true,
      },
      { trace_id: "trace-pvc-size-4901", reason: "pods crash-loop after the resize" },
    );
    expect(result.status).toBe("merged");
    expect(result.original.id).toBe(Number(merged.pr!.id));
    expect(result.revert!.target_branch).toBe("main");
    const revert = h.world.pr(result.revert!.id);
    expect(revert.state).toBe("merged");
    expect(revert.labels).toEqual(expect.arrayContaining(["rollback", "traceable"]));
    // Restored: main has the file exactly as before the change.
    expect(h.world.fileAt("main", "apps/orders/pvc.yaml")).toBe(PVC);
    expect(h.events.map((e) => e.event)).toContain("PullRequestRollbackCreated");
    // The Linear issue says it was rolled back, by which PR and why.
    expect(h.linear.comments.map((c) => c.body)).toEqual([
      expect.stringMatching(
        /was rolled back by \[PR \d+ in [^\]]+\]\(http[^)]+\)\.\n\npods crash-loop after the resize/,
      ),
    ]);
    // Rollback metrics recorded, and memory knows the revert PR under the same trace.
    const history = await openHistory(h.stateFile).list();
    expect(history.filter((e) => e.kind === "rollback")).toEqual([
      expect.objectContaining({ result: "merged", revert_pr_id: String(result.revert!.id) }),
    ]);
    expect(await agent.ledger.metrics.render()).toMatch(/prcreator_rollbacks_total\{result="merged"\} 1/);
    const chain = await agent.memory!.chain("trace-pvc-size-4901");
    expect(chain.map((r) => r.pr_id)).toEqual([merged.pr!.id!.toString(), String(result.revert!.id)]);
  });

  it("Scenario 6: PR Templates and Standards", async () => {
    const result = await h.handle(pvcRequest("5001", "22Gi"));
    const body = result.pr!.description;
    // Template: every section in order, title in the policy's format, and no gate violation.
    expect([...body.matchAll(/^## (.+)$/gm)].map((m) => m[1])).toEqual([
      "Summary",
      "Context",
      "Risk",
      "Blueprint",
      "Changed Files",
      "Linked Commits",
      "Review Checklist",
      "Metadata",
    ]);
    expect(result.pr!.title).toBe("fix(orders): increase orders-data PVC to 22Gi [trace:pvc-size-5001]");
    expect(result.violations).toEqual([]);
    expect(result.rounds.at(-1)!.violations).toEqual([]);
    // Required context and the issue link.
    for (const line of [
      "- Alert: PersistentVolumeFillingUp",
      "- Remediation: Increase the PVC size",
      "- Impact: Single namespace (orders)",
      `- Issue: [BVL-232](${ISSUE_URL})`,
    ]) {
      expect(body).toContain(line);
    }
    // …and the link goes both ways: the Linear issue links the PR.
    expect(h.linear.attachments.map((a) => a.url)).toEqual([result.pr!.url]);
    // Test results: the checks run before CI (edited YAML parses, size, trace) as a ticked checklist.
    expect(body).toContain("- [x] Edited YAML files parse (1 checked)");
    expect(result.pr!.checklist.every((i) => i.done)).toBe(true);
    // Clear and actionable: what happens next is stated.
    expect(body).toContain("Risk level: **low**. Low risk: merges itself (squash) once every CI check passes.");
    expect(body.split("\n").every((l) => l.length <= 100 || l.startsWith("|"))).toBe(true);
  });

  it("Scenario 7: PR Performance and Scalability", async () => {
    const request = (tenant: string, i: number): ChangeRequested => ({
      ...pvcRequest(String(6000 + i), "20Gi"),
      summary: `increase ${tenant} PVC to 20Gi`,
      edits: [{ path: `apps/${tenant}/pvc.yaml`, set: { "spec.resources.requests.storage": "20Gi" } }],
      context: {
        alert: `PersistentVolumeFillingUp: ${tenant}`,
        remediation: "Increase the PVC size to 20Gi",
        impact: `Single namespace (${tenant})`,
        namespace: tenant,
      },
      repo: h.world.repo,
    });
    const agent = await h.agent({ watch: true });
    // Twelve changes at once, plus the first one delivered a second time while it is still running.
    const events = [...TENANTS.map(request), request(TENANTS[0]!, 0)];
    const results = await Promise.all(events.map((e) => agent.handle(e)));
    expect(results.map((r) => r.status).filter((s) => s === "failed")).toEqual([]);
    // No races in git operations: twelve branches, twelve PRs — the duplicate delivery found the same one.
    const prIds = new Set(results.map((r) => r.pr!.id));
    expect(prIds.size).toBe(12);
    expect(new Set(results.map((r) => r.pr!.source_branch)).size).toBe(12);
    // CI handled the load: every PR merged after its checks, and main holds every change.
    for (const id of prIds) expect(h.world.pr(Number(id)).state).toBe("merged");
    for (const t of TENANTS)
      expect(h.world.fileAt("main", `apps/${t}/pvc.yaml`)).toContain("storage: 20Gi # last grown 2025-11");
    // Creation and merge times are recorded per PR for the p95 figures (speed itself is measured in bench/).
    const report = computeReport(await openHistory(h.stateFile).list(), { now: new Date() });
    expect(report.figures.generation_time_p95.sample).toBe(13);
    expect(report.figures.generation_success_rate.value).toBe(1);
    expect(report.figures.merge_time_after_ci_p95.sample).toBeGreaterThanOrEqual(12);
  });

  it("Scenario 8: PR Failure Handling", async () => {
    // The repository is unavailable: every call fails with 503 for longer than the retries last.
    h.world.failNext(50);
    const failed = await h.handle(pvcRequest("7001", "21Gi"));
    expect(failed.status, failed.message).toBe("failed");
    expect(failed.reason).toBe(h.world.kind === "azure-devops" ? "azure_devops_503" : "github_503");
    // Logged with context, and the failure event names trace, repo and branch (for the issue tracker).
    expect(failed.message).toMatch(/re-runs are safe|send the event again/);
    expect(failed.message).toMatch(/by hand/);
    const event = h.events.find((e) => e.event === "PullRequestFailed" && e.trace_id === "trace-pvc-size-7001");
    expect(event).toMatchObject({
      trace_id: "trace-pvc-size-7001",
      repo: h.world.repo,
      branch: "agent-sre/pvc-size-7001",
      attempts: 3,
    });
    // 7: the Linear issue is updated with the failure status: one comment saying what happened and why.
    expect(h.linear.comments).toHaveLength(1);
    expect(h.linear.comments[0]!.body).toMatch(/could not be created or updated \(`(azure_devops|github)_503`\)/);
    // Alerts can fire on the failure counter.
    expect(await h.ledger.metrics.render()).toMatch(/prcreator_prs_generated_total\{status="failed"\} 1/);
    // The repository recovers: the same event now makes the PR (retry logic works end to end).
    h.world.recover();
    const recovered = await h.handle(pvcRequest("7001", "21Gi"));
    expect(recovered.status).toBe("created");
    expect(recovered.pr!.source_branch).toBe("agent-sre/pvc-size-7001");
    // The recovered PR is linked on the issue; the failure comment is not repeated.
    expect(h.linear.attachments).toEqual([expect.objectContaining({ url: recovered.pr!.url })]);
    expect(h.linear.comments).toHaveLength(1);
    const history = await openHistory(h.stateFile).list();
    expect(
      history.filter((e) => e.kind === "generation").map((e) => (e.kind === "generation" ? e.status : "")),
    ).toEqual(["failed", "created"]);
  });

  it("report shows the figures of these runs next to the seed's targets", async () => {
    await h.handle(pvcRequest("8001", "26Gi"), { watch: true });
    const out = await runCli(["report", "--json", "--config", await writeConfig(h.dir, h.stateFile)], { cwd: h.dir });
    expect(out.code).toBe(0);
    const report = JSON.parse(out.stdout) as {
      figures: Record<string, { value: number | null; target: unknown; met: boolean | null }>;
    };
    expect(report.figures.generation_success_rate!.value).toBe(1);
    expect(report.figures.auto_merge_success_rate!.value).toBe(1);
    expect(report.figures.generation_time_p95!.met).toBe(true);
  });
});

async function writeConfig(dir: string, stateFile: string): Promise<string> {
  const { writeFile } = await import("node:fs/promises");
  const file = path.join(path.dirname(stateFile), "report.yaml");
  await writeFile(file, `state_file: ${JSON.stringify(stateFile)}\n`);
  void dir;
  return file;
}

/**
 * Scenarios 1 and 8 with the forge's own tracker instead of Linear: GitHub issues (tracker: github) and Azure
 * Boards work items (tracker: azure-boards). The issue is the change request's `#N` / `AB#N`.
 */
describe.each([
  ["Azure DevOps", azureWorld],
  ["GitHub", githubWorld],
] as const)("WORKFLOW-005 with the forge's own tracker on %s", (_name, makeWorld) => {
  let world: World;
  let dir: string;
  const agents: Agent[] = [];

  beforeAll(async () => {
    world = await makeWorld();
    dir = await mkdtemp(path.join(os.tmpdir(), "pr-creator-wf005-forge-tracker-"));
  });

  beforeEach(() => {
    world.seed(FILES);
    world.setCi(seedPipeline({ delayMs: 30 }));
  });

  afterEach(async () => {
    await Promise.all(agents.splice(0).map((a) => a.close()));
  });

  afterAll(async () => {
    await world.close();
    await rm(dir, { recursive: true, force: true });
  });

  async function handle(request: ChangeRequested, stateFile: string, opts: { watch?: boolean } = {}) {
    const agent = await createAgent({
      policy: PolicySchema.parse({
        forge: world.kind,
        tracker: world.tracker,
        retry_policy: { base_delay_ms: 10 },
        forge_timeout_ms: 5000,
        state_file: stateFile,
        github: { throttle: false },
        merge: { senior_reviewers: [world.senior], poll_interval_ms: 20, watch_timeout_ms: 15_000 },
        trackers: {
          github: { labels: { on_review: ["in-review"], on_merged: ["pr-merged"] } },
          azure_boards: { states: { on_review: "Active", on_merged: "Resolved" } },
        },
      }),
      env: world.env,
      model: null,
      watch: opts.watch ?? false,
      cwd: dir,
    });
    agents.push(agent);
    return agent.handle({ ...request, repo: world.repo });
  }

  it("Scenario 1: the PR names its issue, is linked to it, and the issue follows it to the merge", async () => {
    const issue = world.addIssue(41);
    const stateFile = path.join(await mkdtemp(path.join(dir, "run-")), "state.db");
    const result = await handle({ ...pvcRequest("4811"), issue_id: issue }, stateFile, { watch: true });
    expect(result.status).toBe("created");
    expect(result.merge!.status).toBe("merged");
    expect(result.events.map((e) => [e.event, e.issue_id])).toEqual([
      ["PullRequestCreated", issue],
      ["PullRequestReadyForReview", issue],
      ["PullRequestMerged", issue],
    ]);
    const id = Number(result.pr!.id);
    if (world.kind === "github") {
      // GitHub links (and on merge closes) the issue the body names; the labels follow the PR.
      expect(result.pr!.description).toMatch(/^Closes #41$/m);
      expect(world.issue(41).labels).toEqual(["in-review", "pr-merged"]);
    } else {
      // Azure Boards: the PR was created linked to the work item, which moved to Active, then Resolved.
      expect(world.workItemsOf(id)).toEqual(["41"]);
      expect(world.issue(41).state).toBe("Resolved");
    }
    expect(world.issue(41).comments).toEqual([]);
  });

  it("Scenario 8: a failure comments once, even when the forge (and its tracker) was down during it", async () => {
    const issue = world.addIssue(42);
    const stateFile = path.join(await mkdtemp(path.join(dir, "run-")), "state.db");
    world.failNext(50);
    const failed = await handle({ ...pvcRequest("7101", "21Gi"), issue_id: issue }, stateFile);
    expect(failed.status).toBe("failed");
    expect(failed.events[0]).toMatchObject({ event: "PullRequestFailed", issue_id: issue });
    // The tracker was down too: its update waits in the tracker outbox, with a warning.
    expect(failed.warnings.join("\n")).toMatch(/tracker outbox/);
    expect(world.issue(42).comments).toEqual([]);
    world.recover();
    const recovered = await handle({ ...pvcRequest("7101", "21Gi"), issue_id: issue }, stateFile);
    expect(recovered.status).toBe("created");
    // The next run sent the failure comment before its own update, and only once.
    expect(world.issue(42).comments).toHaveLength(1);
    expect(world.issue(42).comments[0]).toMatch(/could not be created or updated \(`(azure_devops|github)_503`\)/);
  });
});
