/**
 * Repository conventions from a local clone in a dry run: the PR template and CODEOWNERS are read at the target
 * branch (dev), not at the PR's own commit, so a change cannot pick its own reviewers or layout.
 */
import { execFileSync } from "node:child_process";
import { mkdtemp, mkdir, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { createAgent } from "../../src/agent/create-agent.js";
import { buildSampleRepo, type SampleRepo } from "../../src/demo/sample-repo.js";
import { PolicySchema } from "../../src/domain/policy.js";

let sample: SampleRepo;

const git = (dir: string, ...args: string[]) =>
  execFileSync("git", ["-C", dir, ...args], {
    env: {
      ...process.env,
      GIT_AUTHOR_NAME: "t",
      GIT_AUTHOR_EMAIL: "t@example.com",
      GIT_COMMITTER_NAME: "t",
      GIT_COMMITTER_EMAIL: "t@example.com",
    },
  }).toString();

async function put(dir: string, file: string, text: string) {
  await mkdir(path.dirname(path.join(dir, file)), { recursive: true });
  await writeFile(path.join(dir, file), text);
}

beforeAll(async () => {
  sample = await buildSampleRepo(await mkdtemp(path.join(tmpdir(), "pr-creator-conventions-")));
  const current = git(sample.dir, "rev-parse", "--abbrev-ref", "HEAD").trim();
  // The target branch gets the conventions after the feature branch left it.
  git(sample.dir, "checkout", "-q", "dev");
  await put(sample.dir, ".github/CODEOWNERS", "* @TechLeadAgent\n/src/Application/ @acme/orders @OrderDev\n");
  await put(sample.dir, ".github/pull_request_template.md", "## Rollout plan\n\n- [ ] Feature flag\n");
  git(sample.dir, "add", "-A");
  git(sample.dir, "commit", "-q", "-m", "chore: conventions");
  git(sample.dir, "checkout", "-q", current);
}, 60_000);

describe("conventions from a local clone (dry run)", () => {
  it("reads CODEOWNERS and the PR template at the target branch (the PR's commit has neither)", async () => {
    const agent = await createAgent({
      repoPath: sample.dir,
      tracesFile: sample.tracesFile,
      memory: null,
      policy: PolicySchema.parse({ body: { repo_pr_template: "append" }, reviewers: { codeowners: "optional" } }),
      env: {},
    });
    const result = await agent.handle(sample.event);
    expect(result.status).toBe("previewed");
    expect(result.pr!.reviewers).toEqual(
      expect.arrayContaining([
        { name: "acme/orders", required: false },
        { name: "OrderDev", required: false },
      ]),
    );
    expect(result.pr!.description).toContain("## Rollout plan");
    expect(result.pr!.description).toContain("- [ ] Feature flag");
  });
});
