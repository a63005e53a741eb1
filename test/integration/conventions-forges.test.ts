/**
 * Repository conventions on both forges, through the real clients against the emulators: the forge's PR template
 * (read at the target branch where each forge keeps it) shapes the body with our required sections kept and its
 * text inert, and CODEOWNERS owners of the changed paths become reviewers (users, teams, e-mail addresses).
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { createAgent } from "../../src/agent/create-agent.js";
import { SAMPLE_TRACES } from "../../src/demo/sample-repo.js";
import type { CommitCompleted, LifecycleEvent } from "../../src/domain/events.js";
import { PolicySchema } from "../../src/domain/policy.js";
import { createInMemoryTraceRegistry } from "../../src/policy/trace-registry.js";
import { startAzureDevOpsEmulator, type AzureEmulator } from "../emulators/azure-devops.js";
import { startGitHubEmulator, type GitHubEmulator } from "../emulators/github.js";

const author = { name: "code-committer-agent", email: "cc@agents.local", date: "2025-05-07T19:05:33Z" };
const HANDLER = "src/Application/Handlers/CreateOrderHandler.cs";
const TESTS = "tests/Order/CreateOrderHandlerTests.cs";

/** A GitHub-style template: instructions in comments, a section of its own, a checklist, and hostile bits. */
const TEMPLATE = `<!-- Thanks for the PR! Describe the change below. -->
## Description

Please describe the change.

## Type of change

- [ ] Bug fix
- [ ] New feature

## Checklist

- [ ] I have read CONTRIBUTING.md
- [ ] @security-team has reviewed it
- [ ] Links AB#99 and \${title} stay text
<img src=x onerror=alert(1)>
`;

function policyFor(forge: "github" | "azure-devops", mode: "use" | "append", codeowners: "optional" | "required") {
  return PolicySchema.parse({
    forge,
    ...(forge === "github" ? { github: { throttle: false } } : {}),
    retry_policy: { base_delay_ms: 10 },
    forge_timeout_ms: 5000,
    body: { repo_pr_template: mode },
    reviewers: { codeowners },
  });
}

async function runAgent(policy: ReturnType<typeof policyFor>, env: Record<string, string>, event: CommitCompleted) {
  const delivered: LifecycleEvent[] = [];
  const agent = await createAgent({
    policy,
    env,
    traceRegistry: createInMemoryTraceRegistry(SAMPLE_TRACES),
    sinks: [async (e) => void delivered.push(e)],
    model: null,
    memory: null,
  });
  return { result: await agent.handle(event), delivered };
}

const headings = (body: string) => [...body.matchAll(/^#{1,6} (.+)$/gm)].map((m) => m[1]);

describe("GitHub: PR template and CODEOWNERS", () => {
  const TOKEN = "ghp_conventionsToken000111";
  const REPO = "acme/OrderService";
  const sha = (n: number) => n.toString(16).padStart(40, "e");
  let gh: GitHubEmulator;
  let n = 0;

  const CODEOWNERS = `# Owners
* @TechLeadAgent
/src/Application/ @acme/order-team @OrderDev
/docs/ @DocsWriter
/tests/ not-an-owner
`;

  function seed(files: { filename: string; content: string }[]) {
    gh.seedRepo(REPO, {
      default_branch: "main",
      branches: { main: sha(1), dev: sha(2) },
      commits: {
        [sha(1)]: {
          message: "chore: scaffold",
          author,
          parents: [],
          files: [{ filename: "README.md", status: "added", additions: 1, deletions: 0, content: "# Orders\n" }],
        },
        [sha(2)]: {
          message: "chore: conventions",
          author,
          parents: [sha(1)],
          files: files.map((f) => ({ ...f, status: "added" as const, additions: 1, deletions: 0 })),
        },
      },
    });
    for (const login of ["TechLeadAgent", "QAAssistantAgent", "OrderDev", "DocsWriter"]) gh.addUser(login);
    gh.addTeam("acme", "order-team", ["OrderDev"]);
  }

  function featureBranch(): CommitCompleted {
    const repo = gh.state.repos.get(REPO.toLowerCase())!;
    const commit = sha(7000 + ++n);
    repo.commits.set(commit, {
      message: "feat(order): implement CreateOrderHandler [trace:ord-8128]",
      author,
      parents: [sha(2)],
      files: [
        { filename: HANDLER, status: "added", additions: 12, deletions: 0 },
        { filename: TESTS, status: "added", additions: 14, deletions: 0 },
      ],
    });
    const branch = `feature/conventions-${n}`;
    repo.branches.set(branch, commit);
    return {
      event: "CommitCompleted",
      trace_id: "trace-ord-8128",
      commit_hash: commit,
      repo: REPO,
      branch,
      agent: "code-committer-agent",
      timestamp: "2025-05-07T19:05:33Z",
    };
  }

  const env = () => ({ GITHUB_TOKEN: TOKEN, GITHUB_API_URL: gh.url });
  const pull = (id: unknown) => gh.state.repos.get(REPO.toLowerCase())!.pulls.find((p) => p.number === id)!;

  beforeAll(async () => {
    gh = await startGitHubEmulator({ token: TOKEN });
  });
  afterEach(() => gh.reset());
  afterAll(async () => {
    await gh.close();
  });

  it("use: the template's layout with our sections in place, its text inert; CODEOWNERS users and teams requested", async () => {
    seed([
      { filename: ".github/pull_request_template.md", content: TEMPLATE },
      { filename: "docs/pull_request_template.md", content: "## Not this one\n" },
      { filename: ".github/CODEOWNERS", content: CODEOWNERS },
    ]);
    const { result } = await runAgent(policyFor("github", "use", "required"), env(), featureBranch());
    expect(result.status).toBe("created");
    const body = result.pr!.description;
    // The template's order (Description → ours, its own section, Checklist → ours), then our other sections.
    expect(headings(body)).toEqual([
      "Summary",
      "Type of change",
      "Review Checklist",
      "Risk",
      "Blueprint",
      "Changed Files",
      "Linked Commits",
      "Metadata",
    ]);
    expect(body).not.toContain("Not this one");
    expect(body).toContain("- [ ] Bug fix");
    expect(body).toContain("- [ ] I have read CONTRIBUTING.md");
    // Inert: no ping, no placeholder, no work-item link, no HTML, no instructions in comments.
    expect(body).toContain("`@security-team`");
    expect(body).not.toMatch(/(^|[^`])@security-team/);
    expect(body).toContain("&#36;{title}");
    expect(body).toContain("AB\\#99");
    expect(body).not.toContain("<img");
    expect(body).not.toContain("Thanks for the PR");
    expect(body).not.toContain("Please describe the change.");

    const pr = pull(result.pr!.id);
    expect(pr.requested_reviewers.map((l) => l.toLowerCase()).sort()).toEqual([
      "orderdev",
      "qaassistantagent",
      "techleadagent",
    ]);
    expect(pr.requested_teams).toEqual(["order-team"]);
    expect(result.warnings).toEqual([
      expect.stringMatching(/^\.github\/CODEOWNERS: 1 line\(s\) skipped, as GitHub skips them: line 5: an owner is/),
    ]);
    // Read at the target branch, through the contents API.
    const reads = gh.requests.filter((r) => r.route === "repos.getContent").map((r) => r.path);
    expect(reads).toContain("/repos/acme/OrderService/contents/.github%2FCODEOWNERS?ref=dev");
  });

  it("append: our body first, the template's own sections after; owners of untouched paths are not asked", async () => {
    seed([
      { filename: "PULL_REQUEST_TEMPLATE.md", content: TEMPLATE },
      { filename: "CODEOWNERS", content: CODEOWNERS },
    ]);
    const { result } = await runAgent(policyFor("github", "append", "optional"), env(), featureBranch());
    expect(result.status).toBe("created");
    expect(headings(result.pr!.description)).toEqual([
      "Summary",
      "Risk",
      "Blueprint",
      "Changed Files",
      "Linked Commits",
      "Review Checklist",
      "Metadata",
      "Type of change",
    ]);
    const names = result.pr!.reviewers.map((r) => `${r.name}:${r.required}`);
    expect(names).toEqual(expect.arrayContaining(["acme/order-team:false", "OrderDev:false"]));
    expect(names.some((n) => n.startsWith("DocsWriter"))).toBe(false);
  });

  it("without the keys (the default) nothing is read and nothing changes", async () => {
    seed([
      { filename: ".github/pull_request_template.md", content: TEMPLATE },
      { filename: ".github/CODEOWNERS", content: CODEOWNERS },
    ]);
    const policy = PolicySchema.parse({ forge: "github", github: { throttle: false }, forge_timeout_ms: 5000 });
    const { result } = await runAgent(policy, env(), featureBranch());
    expect(result.status).toBe("created");
    // The digest reads the changed files; nothing else is read.
    expect(gh.requests.filter((r) => r.route === "repos.getContent" && /CODEOWNERS|template/i.test(r.path))).toEqual(
      [],
    );
    expect(headings(result.pr!.description)).not.toContain("Type of change");
    expect(result.pr!.reviewers.map((r) => r.name)).toEqual(["TechLeadAgent", "QAAssistantAgent"]);
  });

  it("a refused read of the conventions is a warning; the PR still opens", async () => {
    seed([{ filename: ".github/CODEOWNERS", content: CODEOWNERS }]);
    gh.inject("repos.getContent", { status: 403, body: { message: "Resource not accessible by integration" } }, 3);
    const { result } = await runAgent(policyFor("github", "use", "required"), env(), featureBranch());
    expect(result.status).toBe("created");
    expect(result.warnings.some((w) => /could not be read at .*403.*Contents: read/.test(w))).toBe(true);
  });
});

describe("Azure DevOps: PR template and CODEOWNERS", () => {
  const PAT = "azdo-conventions-pat-000111";
  const REPO = "OrderService";
  const sha = (n: number) => n.toString(16).padStart(40, "f");
  let az: AzureEmulator;
  let n = 0;

  function seed(files: Record<string, string>) {
    az.seedRepo(REPO, {
      branches: { main: sha(1), dev: sha(2) },
      commits: {
        [sha(1)]: { message: "chore: scaffold", author, parents: [], files: { "/README.md": "# Orders\n" } },
        [sha(2)]: { message: "chore: conventions", author, parents: [sha(1)], files },
      },
    });
    az.addIdentity({ displayName: "TechLeadAgent", uniqueName: "techlead@acme.example" });
    az.addIdentity({ displayName: "QA Assistant", uniqueName: "QAAssistantAgent@acme.example" });
    az.addIdentity({ displayName: "Order Dev", uniqueName: "order.dev@acme.example", team: "Orders" });
  }

  function featureBranch(): CommitCompleted {
    const commit = sha(8000 + ++n);
    const branch = `feature/conventions-${n}`;
    az.seedRepo(REPO, {
      branches: { [branch]: commit },
      commits: {
        [commit]: {
          message: "feat(order): implement CreateOrderHandler [trace:ord-8128]",
          author,
          parents: [sha(2)],
          changes: [
            { path: `/${HANDLER}`, changeType: "add" },
            { path: `/${TESTS}`, changeType: "add" },
          ],
        },
      },
    });
    return {
      event: "CommitCompleted",
      trace_id: "trace-ord-8128",
      commit_hash: commit,
      repo: REPO,
      branch,
      agent: "code-committer-agent",
      timestamp: "2025-05-07T19:05:33Z",
    };
  }

  const env = () => ({ AZURE_DEVOPS_TOKEN: PAT, AZURE_DEVOPS_ORG_URL: az.orgUrl, AZURE_DEVOPS_PROJECT: az.project });

  beforeAll(async () => {
    az = await startAzureDevOpsEmulator({ token: PAT });
  });
  afterEach(() => az.reset());
  afterAll(async () => {
    await az.close();
  });

  it("a branch template wins over .azuredevops/; CODEOWNERS e-mails resolve to identities, required or optional", async () => {
    seed({
      "/.azuredevops/pull_request_template/branches/dev.md": TEMPLATE,
      "/.azuredevops/pull_request_template.md": "## Not this one\n",
      "/docs/CODEOWNERS": "* techlead@acme.example\n/src/ order.dev@acme.example @acme/Orders\n",
    });
    const { result } = await runAgent(policyFor("azure-devops", "use", "optional"), env(), featureBranch());
    expect(result.status).toBe("created");
    expect(result.pr!.description).toContain("## Type of change");
    expect(result.pr!.description).not.toContain("Not this one");
    const pr = az.state.pullRequests.find((p) => p.pullRequestId === result.pr!.id)!;
    expect(pr.reviewers.map((r) => [r.displayName, Boolean(r.isRequired)]).sort()).toEqual([
      ["Order Dev", false],
      ["QA Assistant", true],
      ["TechLeadAgent", true],
      [`[${az.project}]\\Orders`, false],
    ]);
    // AB#99 in the template links no work item.
    expect(az.state.pullRequests.find((p) => p.pullRequestId === result.pr!.id)?.workItemRefs ?? []).toEqual([]);
  });

  it("the folder order is .azuredevops, .vsts, docs, root", async () => {
    seed({
      "/.vsts/pull_request_template.md": "## From vsts\n\n- [ ] vsts item\n",
      "/docs/pull_request_template.md": "## From docs\n",
      "/pull_request_template.md": "## From root\n",
    });
    const { result } = await runAgent(policyFor("azure-devops", "append", "required"), env(), featureBranch());
    expect(result.status).toBe("created");
    expect(headings(result.pr!.description).at(-1)).toBe("From vsts");
    expect(result.pr!.description).not.toMatch(/From (docs|root)/);
  });
});
