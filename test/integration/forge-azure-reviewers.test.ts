/**
 * Azure DevOps reviewer resolution through the unmodified azure-devops-node-api client and the emulator: names
 * resolve through the identity search (IMS `_apis/identities`) with the project's teams as a supplement; a
 * lookup that is refused or unavailable, and a name that resolves nowhere, are warnings — the PR is created
 * and the unresolved reviewers are named in the run's warnings and in its PullRequestCreated event.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { createAgent } from "../../src/agent/create-agent.js";
import { SAMPLE_TRACES } from "../../src/demo/sample-repo.js";
import type { CommitCompleted, LifecycleEvent } from "../../src/domain/events.js";
import { PolicySchema } from "../../src/domain/policy.js";
import { identityBaseUrl } from "../../src/forges/azure-devops/pull-requests.js";
import { createInMemoryTraceRegistry } from "../../src/policy/trace-registry.js";
import { startAzureDevOpsEmulator, type AzureEmulator } from "../emulators/azure-devops.js";
import { seedOrderServiceOnAzure } from "./worlds.js";

const TOKEN = "azdo-reviewers-pat-value-7";
const REPO = "OrderService";
const sha = (n: number) => n.toString(16).padStart(40, "c");
const author = { name: "code-committer-agent", email: "cc@agents.local", date: "2025-05-07T19:05:33Z" };

let az: AzureEmulator;
let branchCount = 0;
let techLead: string;
let qa: string;

function policyWith(mandatory: string[]) {
  return PolicySchema.parse({
    forge: "azure-devops",
    retry_policy: { base_delay_ms: 1 },
    forge_timeout_ms: 2000,
    reviewers: { mandatory },
  });
}

function featureBranch(): CommitCompleted {
  const name = `feature/reviewers-${++branchCount}`;
  const commit = sha(2000 + branchCount);
  az.seedRepo(REPO, {
    branches: { [name]: commit },
    commits: {
      [commit]: {
        message: "feat(order): implement CreateOrderHandler [trace:ord-8128]",
        author,
        parents: [sha(2)],
        changes: [{ path: "/src/Application/Handlers/CreateOrderHandler.cs", changeType: "add" }],
      },
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

async function run(event: CommitCompleted, mandatory: string[]) {
  const delivered: LifecycleEvent[] = [];
  const agent = await createAgent({
    policy: policyWith(mandatory),
    env: { AZURE_DEVOPS_TOKEN: TOKEN, AZURE_DEVOPS_ORG_URL: az.orgUrl, AZURE_DEVOPS_PROJECT: az.project },
    traceRegistry: createInMemoryTraceRegistry(SAMPLE_TRACES),
    sinks: [async (e) => void delivered.push(e)],
    model: null,
    memory: null,
  });
  const result = await agent.handle(event);
  await agent.close();
  return { result, delivered };
}

const reviewerIdsOf = (prId: number) =>
  az.state.pullRequests.find((p) => p.pullRequestId === prId)!.reviewers.map((r) => r.id);

beforeAll(async () => {
  az = await startAzureDevOpsEmulator({ token: TOKEN });
  seedOrderServiceOnAzure(az, REPO, sha);
  // Members of no team: only the identity search knows them.
  techLead = az.addIdentity({ displayName: "TechLeadAgent", uniqueName: "techlead@acme.example", team: [] }).id;
  // The identity search also answers "TechLeadAgent Backup" for "TechLeadAgent": only the exact name counts.
  az.addIdentity({ displayName: "TechLeadAgent Backup", uniqueName: "techlead2@acme.example", team: [] });
  // A team member, found by the part of the unique name before "@" through the team directory.
  qa = az.addIdentity({ displayName: "QA Assistant", uniqueName: "QAAssistantAgent@acme.example" }).id;
});

afterEach(() => az.reset());
afterAll(async () => az.close());

describe("Azure DevOps reviewer resolution", () => {
  it("resolves names through the identity search, picking the exact name among its answers", async () => {
    const { result, delivered } = await run(featureBranch(), ["TechLeadAgent", "QAAssistantAgent"]);
    expect(result.status).toBe("created");
    expect(reviewerIdsOf(Number(result.pr!.id)).sort()).toEqual([techLead, qa].sort());
    // The search answers to display names and account names: the team directory is not needed.
    expect(az.calls("readIdentities")).toBe(2);
    expect(az.calls("getTeams")).toBe(0);
    const created = delivered.find((e) => e.event === "PullRequestCreated");
    expect(created).toBeDefined();
    expect(created).not.toHaveProperty("unresolved_reviewers");
    const search = az.requests.find((r) => r.route === "readIdentities")!;
    expect(search.query).toContain("searchFilter=General");
    expect(search.query).toContain("queryMembership=None");
  });

  it("the team directory resolves what the search could not; the refused search is a warning naming its scope", async () => {
    az.inject("readIdentities", { status: 403, body: { message: "TF400813: not authorized" } }, Infinity);
    const { result, delivered } = await run(featureBranch(), ["TechLeadAgent", "QAAssistantAgent"]);
    expect(result.status).toBe("created");
    expect(az.calls("getTeams")).toBe(1);
    expect(reviewerIdsOf(Number(result.pr!.id))).toEqual([qa]);
    const text = result.warnings.join("\n");
    expect(text).toContain("identity search was refused (403): the token lacks the Identity (Read) (vso.identity)");
    // The search that could have found TechLeadAgent was refused: "has no identity" would be a guess.
    expect(text).not.toContain("has no Azure DevOps identity");
    expect(text).toContain('Reviewer "TechLeadAgent" was not added: the look-up above failed.');
    expect(delivered.find((e) => e.event === "PullRequestCreated")).toMatchObject({
      unresolved_reviewers: ["TechLeadAgent"],
    });
  });

  it("a team resolves through the search as the team's identity", async () => {
    const team = az.addTeam("Order Platform");
    const { result } = await run(featureBranch(), ["Order Platform"]);
    expect(result.status).toBe("created");
    expect(reviewerIdsOf(Number(result.pr!.id))).toEqual([team.id]);
    expect(az.calls("getTeams")).toBe(0);
  });

  it("refused lookups are warnings naming the scopes; the PR is created and the event lists who is missing", async () => {
    az.inject(
      "readIdentities",
      { status: 403, body: { message: "Access denied: the token lacks vso.identity" } },
      Infinity,
    );
    az.inject("getTeams", { status: 401 }, Infinity);
    const { result, delivered } = await run(featureBranch(), ["TechLeadAgent", "QAAssistantAgent"]);
    expect(result.status).toBe("created");
    expect(az.state.pullRequests.filter((p) => p.status === "active")).toHaveLength(1);
    const text = result.warnings.join("\n");
    expect(text).toContain("Identity (Read) (vso.identity)");
    expect(text).toContain("Project and Team (Read) (vso.project)");
    expect(text).toContain('Reviewer "TechLeadAgent"');
    expect(text).not.toContain(TOKEN);
    const created = delivered.find((e) => e.event === "PullRequestCreated");
    expect(created).toMatchObject({ unresolved_reviewers: ["TechLeadAgent", "QAAssistantAgent"] });
    expect(delivered.map((e) => e.event)).not.toContain("PullRequestFailed");
  });

  it("an unavailable identity service and a name nobody has leave the known reviewers on the PR", async () => {
    // The identity search answers 404 (typed-rest-client: null), as a server without the IMS area would.
    az.inject("readIdentities", { status: 404 }, Infinity);
    const { result, delivered } = await run(featureBranch(), ["QAAssistantAgent", "Nobody Atall"]);
    expect(result.status).toBe("created");
    expect(reviewerIdsOf(Number(result.pr!.id))).toEqual([qa]);
    expect(result.warnings.join("\n")).toMatch(/identity search failed: .*404/);
    // A 404 from the search leaves it unknown whether "Nobody Atall" exists: no "has no identity" guess.
    expect(result.warnings.join("\n")).toContain('Reviewer "Nobody Atall" was not added: the look-up above failed.');
    expect(result.warnings.join("\n")).not.toContain("has no Azure DevOps identity");
    expect(delivered.find((e) => e.event === "PullRequestCreated")).toMatchObject({
      unresolved_reviewers: ["Nobody Atall"],
    });
  });
});

describe("identityBaseUrl", () => {
  it("is the vssps host on Azure DevOps Services and the collection URL elsewhere", () => {
    expect(identityBaseUrl("https://dev.azure.com/acme")).toBe("https://vssps.dev.azure.com/acme");
    expect(identityBaseUrl("https://acme.visualstudio.com")).toBe("https://acme.vssps.visualstudio.com");
    expect(identityBaseUrl("https://tfs.example.com/tfs/DefaultCollection")).toBe(
      "https://tfs.example.com/tfs/DefaultCollection",
    );
    expect(identityBaseUrl("http://127.0.0.1:8080/acme/")).toBe("http://127.0.0.1:8080/acme");
  });
});
