/**
 * Azure DevOps credentials against the emulator through azure-devops-node-api: a PAT (Basic), a Microsoft Entra ID
 * token or a pipeline's System.AccessToken (Bearer, through getBearerHandler), their precedence, the pipeline's
 * own organisation and project, and 401/403 messages naming the variable and the scope the operation needs.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { createAgent } from "../../src/agent/create-agent.js";
import { SAMPLE_TRACES } from "../../src/demo/sample-repo.js";
import type { CommitCompleted, LifecycleEvent } from "../../src/domain/events.js";
import { PolicySchema } from "../../src/domain/policy.js";
import { tokenHandler } from "../../src/forges/azure-devops/index.js";
import { azureCredentials, createForge } from "../../src/forges/create-forge.js";
import { createInMemoryTraceRegistry } from "../../src/policy/trace-registry.js";
import { startAzureDevOpsEmulator, type AzureEmulator } from "../emulators/azure-devops.js";
import { seedOrderServiceOnAzure } from "./worlds.js";

const PAT = "azdo-auth-test-pat-000111";
const PIPELINE = "eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9.pipeline-system-access-token.sig";
const ENTRA = "eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9.entra-id-token.sig";
const REPO = "OrderService";
const sha = (n: number) => n.toString(16).padStart(40, "d");
const author = { name: "code-committer-agent", email: "cc@agents.local", date: "2025-05-07T19:05:33Z" };

let az: AzureEmulator;
let branchCount = 0;

const policy = PolicySchema.parse({
  forge: "azure-devops",
  retry_policy: { base_delay_ms: 10 },
  forge_timeout_ms: 5000,
});

const where = () => ({ AZURE_DEVOPS_ORG_URL: az.orgUrl, AZURE_DEVOPS_PROJECT: az.project });

function featureBranch(): CommitCompleted {
  const name = `feature/auth-${++branchCount}`;
  const commit = sha(3000 + branchCount);
  az.seedRepo(REPO, {
    branches: { [name]: commit },
    commits: {
      [commit]: {
        message: "feat(order): implement CreateOrderHandler [trace:ord-8128]",
        author,
        parents: [sha(2)],
        changes: [
          { path: "/src/Application/Handlers/CreateOrderHandler.cs", changeType: "add" },
          { path: "/tests/Order/CreateOrderHandlerTests.cs", changeType: "add" },
        ],
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

async function run(env: Record<string, string>) {
  const delivered: LifecycleEvent[] = [];
  const agent = await createAgent({
    policy,
    env,
    traceRegistry: createInMemoryTraceRegistry(SAMPLE_TRACES),
    sinks: [async (e) => void delivered.push(e)],
    model: null,
    memory: null,
  });
  return { result: await agent.handle(featureBranch()), delivered };
}

beforeAll(async () => {
  az = await startAzureDevOpsEmulator({ token: PAT, bearerTokens: [PIPELINE, ENTRA] });
  seedOrderServiceOnAzure(az, REPO, sha);
  az.addIdentity({ displayName: "TechLeadAgent", uniqueName: "techlead@acme.example" });
  az.addIdentity({ displayName: "QA Assistant", uniqueName: "QAAssistantAgent@acme.example" });
});

afterEach(() => {
  az.reset();
});

afterAll(async () => {
  await az.close();
});

describe("Azure DevOps bearer tokens", () => {
  it("a pipeline's SYSTEM_ACCESSTOKEN is sent as Bearer; the organisation and project come from the pipeline's variables", async () => {
    const { result } = await run({
      SYSTEM_ACCESSTOKEN: PIPELINE,
      SYSTEM_COLLECTIONURI: `${az.orgUrl}/`,
      SYSTEM_TEAMPROJECT: az.project,
    });
    expect(result.status).toBe("created");
    // Basic credentials carry a user name; none came, and every request was accepted.
    expect(az.requests.filter((r) => r.authUser !== undefined)).toEqual([]);
    expect(az.requests.every((r) => r.authorized)).toBe(true);
  });

  it("AZURE_DEVOPS_BEARER_TOKEN (Entra ID) is sent as Bearer", async () => {
    const { result } = await run({ ...where(), AZURE_DEVOPS_BEARER_TOKEN: ENTRA });
    expect(result.status).toBe("created");
    expect(az.requests.filter((r) => r.authUser !== undefined)).toEqual([]);
  });

  it("precedence: AZURE_DEVOPS_TOKEN, then AZURE_DEVOPS_BEARER_TOKEN, then SYSTEM_ACCESSTOKEN", async () => {
    expect(azureCredentials({ AZURE_DEVOPS_TOKEN: PAT, AZURE_DEVOPS_BEARER_TOKEN: ENTRA })).toMatchObject({
      scheme: "pat",
      credential: { variable: "AZURE_DEVOPS_TOKEN" },
    });
    expect(azureCredentials({ AZURE_DEVOPS_BEARER_TOKEN: ENTRA, SYSTEM_ACCESSTOKEN: PIPELINE })).toMatchObject({
      scheme: "bearer",
      credential: { variable: "AZURE_DEVOPS_BEARER_TOKEN" },
    });
    expect(azureCredentials({ SYSTEM_ACCESSTOKEN: PIPELINE })).toMatchObject({
      scheme: "bearer",
      credential: { variable: "SYSTEM_ACCESSTOKEN" },
    });
    expect(azureCredentials({})).toBeUndefined();
    // The PAT wins: it goes as Basic with a user name, even with a (refused) bearer token beside it.
    const { result } = await run({ ...where(), AZURE_DEVOPS_TOKEN: PAT, SYSTEM_ACCESSTOKEN: "not-accepted" });
    expect(result.status).toBe("created");
    expect(az.requests.every((r) => r.authUser !== undefined)).toBe(true);
  });

  it("no credential names all three variables", () => {
    expect(() => createForge(policy, where())).toThrow(
      /AZURE_DEVOPS_TOKEN \(or AZURE_DEVOPS_BEARER_TOKEN, or SYSTEM_ACCESSTOKEN in a pipeline\)/,
    );
  });
});

describe("where the token is sent", () => {
  it("to the organisation's host and its identity host (vssps) only, as Basic for a PAT and Bearer otherwise", () => {
    const sent = (handler: ReturnType<typeof tokenHandler>, host: string) => {
      const options = { host, headers: {} as Record<string, string> };
      handler.prepareRequest(options);
      return options.headers.Authorization;
    };
    for (const org of ["https://dev.azure.com/acme", "https://acme.visualstudio.com"]) {
      const bearer = tokenHandler(org, ENTRA, "bearer");
      const identityHost = new URL(org).hostname.startsWith("dev.")
        ? "vssps.dev.azure.com"
        : "acme.vssps.visualstudio.com";
      expect(sent(bearer, new URL(org).hostname)).toBe(`Bearer ${ENTRA}`);
      expect(sent(bearer, identityHost)).toBe(`Bearer ${ENTRA}`);
      expect(sent(bearer, "login.example.net")).toBeUndefined();
    }
    const pat = tokenHandler("https://dev.azure.com/acme", PAT);
    expect(sent(pat, "vssps.dev.azure.com")).toBe(`Basic ${Buffer.from(`PAT:${PAT}`).toString("base64")}`);
    expect(sent(pat, "elsewhere.example")).toBeUndefined();
  });
});

describe("Azure DevOps 401 and 403 messages", () => {
  it("a refused bearer token is unauthorized, naming SYSTEM_ACCESSTOKEN; the token appears nowhere", async () => {
    const expired = "eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9.expired.sig";
    const { result, delivered } = await run({ ...where(), SYSTEM_ACCESSTOKEN: expired });
    expect(result.status).toBe("failed");
    expect(result.reason).toBe("unauthorized");
    expect(result.message).toContain(
      "The pipeline access token (System.AccessToken) from SYSTEM_ACCESSTOKEN was not accepted",
    );
    expect(result.message).toContain("Set a valid pipeline access token (System.AccessToken) in SYSTEM_ACCESSTOKEN");
    expect(JSON.stringify({ result, delivered })).not.toContain(expired);
  });

  it("a 403 on create names AZURE_DEVOPS_TOKEN and vso.code_write", async () => {
    az.inject("createPullRequest", {
      status: 403,
      body: {
        message: "TF401027: You need the Git 'PullRequestContribute' permission to perform this action.",
        typeKey: "GitNeedsPermissionException",
      },
    });
    const { result } = await run({ ...where(), AZURE_DEVOPS_TOKEN: PAT });
    expect(result.reason).toBe("forbidden");
    expect(result.message).toContain("TF401027");
    expect(result.message).toContain(
      "The personal access token from AZURE_DEVOPS_TOKEN was accepted but is not allowed to do this.",
    );
    expect(result.message).toContain("This operation needs Code (Read & write) (vso.code_write).");
    expect(JSON.stringify(result)).not.toContain(PAT);
  });

  it("a refused identity search is a warning naming the variable and vso.identity; the PR still opens", async () => {
    az.inject("readIdentities", { status: 403, body: { message: "Access denied." } }, 10);
    const { result } = await run({ ...where(), AZURE_DEVOPS_BEARER_TOKEN: ENTRA });
    expect(result.status).toBe("created");
    const refused = result.warnings.filter((w) => w.includes("identity search was refused (403)"));
    expect(refused.length).toBeGreaterThan(0);
    expect(refused[0]).toContain("Microsoft Entra ID token from AZURE_DEVOPS_BEARER_TOKEN");
    expect(refused[0]).toContain("Identity (Read) (vso.identity)");
  });
});
