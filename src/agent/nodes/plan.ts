import { readRepoConventions } from "../../forges/repo-conventions.js";
import { codeOwnerReviewers, parseCodeOwners } from "../../policy/codeowners.js";
import { planPullRequest } from "../../policy/plan.js";
import type { AgentDeps } from "../deps.js";
import { digestRun, readDigest, takeDigest } from "../digest-change.js";
import { factsOf } from "../facts.js";
import { issueOf } from "../issue.js";
import type { AgentStateType, AgentUpdate } from "../state.js";

/**
 * Decides everything about the PR that is not prose — type, breaking change, risk, reviewers, labels,
 * checklist, draft state and merge plan — once, from the facts read so far. The drafter is told the type,
 * the renderer renders the plan, and the gate holds the prose to it.
 */
/**
 * The repository's PR template and CODEOWNERS, read at the target branch when the policy asks for them, and the
 * reviewers CODEOWNERS gives the changed paths. What cannot be read, and CODEOWNERS lines GitHub would skip, are
 * warnings: a run without them is still a good run.
 */
async function conventionsOf(deps: AgentDeps, facts: ReturnType<typeof factsOf>) {
  const { body, reviewers } = deps.policy;
  const want = { prTemplate: body.repo_pr_template !== "ignore", codeowners: reviewers.codeowners !== "off" };
  if (!want.prTemplate && !want.codeowners) return { conventions: null, codeOwners: [], warnings: [] };
  const read = await readRepoConventions({
    forge: deps.forge,
    commitSource: deps.commitSource,
    kind: deps.forge?.kind ?? "dry-run",
    repo: facts.repo,
    targetBranch: facts.target_branch,
    fallbackRev: facts.changes.base,
    want,
  });
  const warnings = [...read.warnings];
  const file = read.conventions.codeowners;
  if (!file) return { conventions: read.conventions, codeOwners: [], warnings };
  const parsed = parseCodeOwners(file.text);
  if (parsed.problems.length > 0)
    warnings.push(
      `${file.path}: ${parsed.problems.length} line(s) skipped, as GitHub skips them: ${parsed.problems.join("; ")}.`,
    );
  const codeOwners = codeOwnerReviewers(parsed, facts.changes.files, reviewers.codeowners === "required");
  return { conventions: read.conventions, codeOwners, warnings };
}

export function makePlan(deps: AgentDeps) {
  return async function plan(state: AgentStateType): Promise<AgentUpdate> {
    const issue = issueOf(state, deps);
    // The digest gather started (read again when this run was resumed elsewhere), beside the conventions read.
    const digestRead = takeDigest(deps, digestRun(state)) ?? readDigest(deps.commitSource, state.changes!, deps.policy);
    const [read, { conventions, codeOwners, warnings }] = await Promise.all([
      digestRead,
      conventionsOf(deps, { ...factsOf(state), issue }),
    ]);
    const facts = { ...factsOf({ ...state, changes: read.changes, digest: read.digest }), issue };
    const plan = planPullRequest(facts, deps.policy, undefined, codeOwners);
    // Resolving reviewers' identities can overlap with drafting; publish picks the result up.
    deps.publisher.prefetch?.(
      facts.repo,
      { source_branch: facts.source_branch, target_branch: facts.target_branch },
      plan.reviewers,
    );
    return {
      plan,
      issue,
      conventions,
      changes: read.changes,
      digest: read.digest,
      warnings: [...read.warnings, ...warnings],
    };
  };
}
