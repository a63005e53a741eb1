/**
 * One forge-neutral view of each forge emulator, so the seed's scenarios (workflow-005.test.ts) run the same
 * steps against Azure DevOps and GitHub through the real client libraries.
 */
import { Octokit } from "@octokit/rest";
import * as azdev from "azure-devops-node-api";
import { PullRequestStatus } from "azure-devops-node-api/interfaces/GitInterfaces.js";
import type { CiCheckSpec } from "../emulators/ci.js";
import { startAzureDevOpsEmulator } from "../emulators/azure-devops.js";
import { startGitHubEmulator } from "../emulators/github.js";
import { issuesOf } from "../emulators/github-issues.js";
import { workItemsOf } from "../emulators/azure-boards.js";

export interface PrView {
  reviewers: { name: string; required: boolean }[];
  labels: string[];
  state: "open" | "merged" | "closed";
  auto_merge: boolean;
  source_branch: string;
}

export interface World {
  kind: "azure-devops" | "github";
  /** The repository as events name it. */
  repo: string;
  env: Record<string, string>;
  /** The senior group as the policy names it, and who approves for it. */
  senior: string;
  seniorApprover: string;
  /** Starts over (no PRs, CI scripts, protection or faults) with a main branch holding these files. */
  seed(files: Record<string, string>): void;
  setCi(checks: CiCheckSpec[]): void;
  /** Merges need an approving review (GitHub: branch protection; Azure: required reviewers already do this). */
  requireApproval(): void;
  approve(prId: number, who: string): void;
  /** A person merges through the forge's API; resolves to null when merged, else the forge's refusal. */
  mergeByHand(prId: number): Promise<string | null>;
  pr(prId: number): PrView;
  fileAt(branch: string, path: string): string | undefined;
  branchHead(branch: string): string | undefined;
  /** Requests that wrote a commit or a branch through the forge's API. */
  commitWrites(): number;
  /** Every request answers 503 for the next `times` requests. */
  failNext(times: number): void;
  /** The outage ends: faults not yet used are dropped. */
  recover(): void;
  /** Resolves once every running CI check has settled. */
  ciSettled(): Promise<void>;
  /** The forge's own issue tracker. */
  tracker: "github" | "azure-boards";
  /** Opens issue (GitHub) or work item (Azure Boards) `n`; returns it as an event names it (#n, AB#n). */
  addIssue(n: number): string;
  /** Issue or work item `n` as the forge shows it: comments, and state (Azure Boards) or labels (GitHub). */
  issue(n: number): { comments: string[]; state: string; labels: string[] };
  /** The work items PR `prId` is linked to (Azure Boards); GitHub links issues through the body instead. */
  workItemsOf(prId: number): string[];
  close(): Promise<void>;
}

const author = { name: "Platform", email: "platform@acme.test", date: "2026-01-01T09:00:00Z" };

export async function azureWorld(): Promise<World> {
  const token = "azdo-scenario-secret-pat-5";
  const az = await startAzureDevOpsEmulator({ token });
  const repo = "gitops";
  az.addIdentity({ displayName: "TechLeadAgent", uniqueName: "techlead@acme.test" });
  az.addIdentity({ displayName: "QAAssistantAgent", uniqueName: "qa@acme.test" });
  const leads = az.addTeam("SRE Leads");
  const connection = new azdev.WebApi(az.orgUrl, azdev.getPersonalAccessTokenHandler(token));
  const find = (id: number) => {
    const pr = az.state.pullRequests.find((p) => p.pullRequestId === id);
    if (!pr) throw new Error(`no PR ${id}`);
    return pr;
  };
  return {
    kind: "azure-devops",
    repo,
    env: { AZURE_DEVOPS_TOKEN: token, AZURE_DEVOPS_ORG_URL: az.orgUrl, AZURE_DEVOPS_PROJECT: az.project },
    senior: "SRE Leads",
    seniorApprover: leads.id,
    seed(files) {
      az.reset();
      const base = "0a".repeat(20);
      az.seedRepo(repo, {
        branches: { main: base },
        commits: { [base]: { message: "chore: initial manifests", author, parents: [], files } },
      });
    },
    setCi: (checks) => az.setCi(repo, checks),
    requireApproval: () => undefined,
    approve: (prId, who) => az.vote(repo, prId, who, 10),
    async mergeByHand(prId) {
      const git = await connection.getGitApi();
      const pr = find(prId);
      try {
        await git.updatePullRequest(
          {
            status: PullRequestStatus.Completed,
            lastMergeSourceCommit: { commitId: pr.lastMergeSourceCommit.commitId },
          },
          repo,
          prId,
          az.project,
        );
        return find(prId).status === "completed" ? null : `still ${find(prId).status}`;
      } catch (error) {
        return error instanceof Error ? error.message : String(error);
      }
    },
    pr(prId) {
      const pr = find(prId);
      return {
        reviewers: pr.reviewers.map((r) => ({
          name: r.displayName.replace(/^\[[^\]]+\]\\/, ""),
          required: r.isRequired === true,
        })),
        labels: pr.labels.map((l) => l.name),
        state: pr.status === "completed" ? "merged" : pr.status === "abandoned" ? "closed" : "open",
        auto_merge: pr.autoCompleteSetBy !== undefined,
        source_branch: pr.sourceRefName.replace(/^refs\/heads\//, ""),
      };
    },
    fileAt: (branch, path) => az.fileAt(repo, branch, path),
    branchHead: (branch) => az.branchHead(repo, branch),
    commitWrites: () => az.requests.filter((r) => r.route === "createPush").length,
    failNext: (times) => az.inject("*", { status: 503 }, times),
    recover: () => az.clearFaults(),
    ciSettled: () => az.settled(),
    tracker: "azure-boards",
    addIssue(n) {
      az.addWorkItem({ id: n, title: `Work item ${n}` });
      return `AB#${n}`;
    },
    issue(n) {
      const item = workItemsOf(az.state).get(n)!;
      return { comments: item.comments.map((c) => c.text), state: item.state, labels: item.tags };
    },
    workItemsOf: (prId) => find(prId).workItemRefs.map((r) => r.id),
    close: () => az.close(),
  };
}

export async function githubWorld(): Promise<World> {
  const token = "ghp_scenarioSecretToken0005";
  const gh = await startGitHubEmulator({ token });
  const repo = "acme/gitops";
  const people = () => {
    gh.addUser("TechLeadAgent");
    gh.addUser("QAAssistantAgent");
    gh.addUser("lead-ana");
    gh.addTeam("acme", "sre-leads", ["lead-ana"]);
  };
  const octokit = new Octokit({
    auth: token,
    baseUrl: gh.url,
    log: { debug: () => {}, info: () => {}, warn: () => {}, error: () => {} },
  });
  const [owner, name] = repo.split("/") as [string, string];
  const find = (n: number) => {
    const pr = gh.state.repos.get(repo.toLowerCase())!.pulls.find((p) => p.number === n);
    if (!pr) throw new Error(`no PR ${n}`);
    return pr;
  };
  return {
    kind: "github",
    repo,
    env: { GITHUB_TOKEN: token, GITHUB_API_URL: gh.url },
    senior: "acme/sre-leads",
    seniorApprover: "lead-ana",
    seed(files) {
      gh.reset();
      people();
      const base = "0b".repeat(20);
      gh.seedRepo(repo, {
        branches: { main: base },
        commits: {
          [base]: {
            message: "chore: initial manifests",
            author,
            parents: [],
            files: Object.entries(files).map(([filename, content]) => ({
              filename,
              status: "added" as const,
              additions: content.split("\n").length - 1,
              deletions: 0,
              content,
            })),
          },
        },
      });
      gh.deleteBranchOnMerge(repo, true);
    },
    setCi: (checks) => gh.setCi(repo, checks),
    requireApproval: () => gh.protect(repo, "main", { requiredApprovals: 1 }),
    approve: (prId, who) => gh.approve(repo, prId, who),
    async mergeByHand(prId) {
      try {
        await octokit.pulls.merge({ owner, repo: name, pull_number: prId, merge_method: "squash" });
        return null;
      } catch (error) {
        return error instanceof Error ? error.message : String(error);
      }
    },
    pr(prId) {
      const pr = find(prId);
      // GitHub has no per-PR required reviewers: branch protection on main is what makes a review required.
      const required = (gh.state.repos.get(repo.toLowerCase())!.protection.get("main")?.requiredApprovals ?? 0) > 0;
      return {
        reviewers: [...pr.requested_reviewers, ...pr.requested_teams.map((t) => `acme/${t}`)].map((n) => ({
          name: n,
          required,
        })),
        labels: pr.labels.map((l) => l.name),
        state: pr.merged_at ? "merged" : pr.state === "closed" ? "closed" : "open",
        auto_merge: pr.auto_merge !== null,
        source_branch: pr.head.ref,
      };
    },
    fileAt: (branch, path) => gh.fileAt(repo, branch, path),
    branchHead: (branch) => gh.branchHead(repo, branch),
    commitWrites: () => gh.requests.filter((r) => r.route === "git.createCommit").length,
    failNext: (times) => gh.inject("*", { status: 503 }, times),
    recover: () => gh.clearFaults(),
    ciSettled: () => gh.ciSettled(),
    tracker: "github",
    addIssue(n) {
      gh.addIssue(repo, n);
      return `#${n}`;
    },
    issue(n) {
      const issue = issuesOf(gh.state.repos.get(repo.toLowerCase())!).get(n)!;
      return {
        comments: issue.comments.map((c) => c.body),
        state: issue.state,
        labels: issue.labels.map((l) => l.name),
      };
    },
    workItemsOf: () => [],
    close: () => gh.close(),
  };
}
