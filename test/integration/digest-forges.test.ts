/**
 * The change digest through each forge's API, end to end: Azure DevOps gives no line counts, so they come
 * from the files' texts — the size policy is checked and ReadyForReview fires; GitHub's patch and contents
 * give the symbols the highlights name, and a removed public class makes the PR breaking.
 */
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createAgent } from "../../src/agent/create-agent.js";
import { SAMPLE_TRACES } from "../../src/demo/sample-repo.js";
import type { LifecycleEvent } from "../../src/domain/events.js";
import { PolicySchema } from "../../src/domain/policy.js";
import { createInMemoryTraceRegistry } from "../../src/policy/trace-registry.js";
import { startAzureDevOpsEmulator, type AzureEmulator } from "../emulators/azure-devops.js";
import { startGitHubEmulator, type GitHubEmulator } from "../emulators/github.js";

const sha = (n: number) => n.toString(16).padStart(40, "c");
const author = { name: "code-committer-agent", email: "cc@agents.local", date: "2025-05-07T19:05:33Z" };
const ORDER_V1 = "namespace Shop;\npublic class Order\n{\n    public decimal Total { get; set; }\n}\n";
const ORDER_V2 =
  "namespace Shop;\npublic class Order\n{\n    public decimal Total { get; set; }\n    public void ApplyDiscount(decimal r) { Total -= Total * r; }\n}\n";
const TESTS = "public class OrderTests\n{\n    public void Discounts() { }\n}\n";
const V1_CONTROLLER = 'namespace Shop.Api;\npublic class OrderV1Controller\n{\n    public string Get() => "v1";\n}\n';

let az: AzureEmulator;
let gh: GitHubEmulator;
let dir: string;

beforeAll(async () => {
  [az, gh] = await Promise.all([
    startAzureDevOpsEmulator({ token: "azdo-digest-pat" }),
    startGitHubEmulator({ token: "ghp_digestToken" }),
  ]);
  dir = await mkdtemp(path.join(tmpdir(), "pr-creator-digest-forges-"));
});

afterAll(async () => {
  await Promise.all([az.close(), gh.close()]);
});

async function run(forge: "azure-devops" | "github", event: unknown) {
  const delivered: LifecycleEvent[] = [];
  const env =
    forge === "azure-devops"
      ? { AZURE_DEVOPS_TOKEN: "azdo-digest-pat", AZURE_DEVOPS_ORG_URL: az.orgUrl, AZURE_DEVOPS_PROJECT: az.project }
      : { GITHUB_TOKEN: "ghp_digestToken", GITHUB_API_URL: gh.url };
  const agent = await createAgent({
    policy: PolicySchema.parse({
      forge,
      github: { throttle: false },
      retry_policy: { base_delay_ms: 10 },
      state_file: path.join(dir, `${forge}.db`),
    }),
    env,
    cwd: dir,
    traceRegistry: createInMemoryTraceRegistry(SAMPLE_TRACES),
    sinks: [async (e) => void delivered.push(e)],
    model: null,
    memory: null,
  });
  const result = await agent.handle(event);
  await agent.close();
  return { result, names: delivered.map((e) => e.event) };
}

const event = (repo: string, branch: string, commit: string) => ({
  event: "CommitCompleted",
  trace_id: "trace-ord-8128",
  commit_hash: commit,
  repo,
  branch,
  agent: "code-committer-agent",
  timestamp: "2025-05-07T19:05:33Z",
});

describe("Azure DevOps: line counts and symbols from the files' texts", () => {
  it("counts lines the commit API does not give, checks the size policy and announces ReadyForReview", async () => {
    az.seedRepo("Shop", {
      branches: { main: sha(1), dev: sha(1), "feature/order-discount": sha(2) },
      commits: {
        [sha(1)]: { message: "chore: start", author, parents: [], files: { "src/Domain/Order.cs": ORDER_V1 } },
        [sha(2)]: {
          message: "feat(order): apply discounts [trace:ord-8128]",
          author,
          parents: [sha(1)],
          files: { "src/Domain/Order.cs": ORDER_V2, "tests/Order/OrderTests.cs": TESTS },
          changes: [
            { path: "/src/Domain/Order.cs", changeType: "edit" },
            { path: "/tests/Order/OrderTests.cs", changeType: "add" },
          ],
        },
      },
    });
    const { result, names } = await run("azure-devops", event("Shop", "feature/order-discount", sha(2)));
    expect(result.status).toBe("created");
    expect(result.warnings.join("\n")).not.toMatch(/line counts/);
    const body = result.pr!.description;
    expect(body).toContain("| src/Domain/Order.cs | Modified | +1 -0 |");
    expect(body).toContain("2 files changed, +5 -0");
    expect(body).toContain("- [x] Change size within policy (5 of 3000 lines)");
    expect(body).toContain("- Adds `Order.ApplyDiscount`");
    expect(names).toEqual(["PullRequestCreated", "PullRequestReadyForReview"]);
  });
});

describe("GitHub: symbols from the patch and contents", () => {
  it("a removed public controller makes the PR breaking: bang, label, high risk, a Breaking changes section", async () => {
    const repo = "acme/Shop";
    gh.seedRepo(repo, {
      default_branch: "main",
      branches: { main: sha(11), dev: sha(11), "feature/drop-v1": sha(12) },
      commits: {
        [sha(11)]: {
          message: "chore: start",
          author,
          parents: [],
          files: [
            {
              filename: "src/Api/OrderV1Controller.cs",
              status: "added",
              additions: 5,
              deletions: 0,
              content: V1_CONTROLLER,
            },
          ],
        },
        [sha(12)]: {
          message: "fix(order): retire the v1 endpoint [trace:ord-8128]",
          author,
          parents: [sha(11)],
          files: [
            {
              filename: "src/Api/OrderV1Controller.cs",
              status: "removed",
              additions: 0,
              deletions: 5,
              patch:
                "@@ -1,5 +0,0 @@\n" +
                V1_CONTROLLER.trimEnd()
                  .split("\n")
                  .map((l) => `-${l}`)
                  .join("\n"),
            },
          ],
        },
      },
    });
    gh.addUser("TechLeadAgent");
    gh.addUser("QAAssistantAgent");
    const { result } = await run("github", event(repo, "feature/drop-v1", sha(12)));
    expect(result.status).toBe("created");
    expect(result.pr!.title).toBe("fix(order)!: retire the v1 endpoint [trace:ord-8128]");
    expect(result.pr!.labels).toContain("breaking-change");
    expect(result.pr!.risk?.level).toBe("high");
    expect(result.pr!.auto_complete).toBe(false);
    expect(result.pr!.description).toContain("## Breaking changes");
    expect(result.pr!.description).toContain("public API removed: OrderV1Controller");
    expect(result.pr!.description).toContain("- Removes public `OrderV1Controller`");
  });
});
