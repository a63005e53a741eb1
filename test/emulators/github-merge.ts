/**
 * What happens to a pull request in the GitHub emulator once it is open: CI check runs (scripted with ci.ts),
 * commit statuses, branch protection, mergeability, merges (squash or merge commit), auto-merge and reverts.
 * Shared by the REST handlers, the GraphQL mutations and the emulator's controls.
 */
import { judge } from "./ci.js";
import { changedPaths, snapshotOf, threeWay, writeCommit, type Snapshot } from "./github-content.js";
import { mergeBase, type SeedFile } from "./github-graph.js";
import {
  compare,
  latestStatuses,
  nodeId,
  pullTips,
  timestamp,
  type CheckRunRecord,
  type EmulatorState,
  type PullRecord,
  type RepoRecord,
} from "./github-model.js";

/** GitHub's mergeable_state values that the emulator computes. */
export type MergeState = "clean" | "dirty" | "blocked" | "unstable" | "draft";

/** One check run or commit status (latest per name) on a commit. */
export interface Signal {
  name: string;
  state: "pending" | "succeeded" | "failed";
}

export interface MergeOptions {
  method: "merge" | "squash";
  title?: string | null;
  message?: string | null;
}

export interface AutoMergeRequest {
  method: "merge" | "squash";
  title: string | null;
  message: string | null;
  expectedHeadOid: string | null;
}

export interface NewPull {
  head: string;
  base: string;
  title: string;
  body: string | null;
  draft: boolean;
}

export interface MergeEngineDeps {
  state: EmulatorState;
  newId(): number;
  /** A timer that the emulator's close() and reset() cancel. */
  schedule(ms: number, run: () => void): void;
}

export type MergeEngine = ReturnType<typeof createMergeEngine>;

/** A revert's file list: the merge's files the other way round. */
const invert = (files: readonly SeedFile[]): SeedFile[] =>
  files.map(({ patch: _patch, content: _content, ...file }) => {
    const out: SeedFile = {
      ...file,
      status: file.status === "added" ? "removed" : file.status === "removed" ? "added" : file.status,
      additions: file.deletions,
      deletions: file.additions,
    };
    if (file.status === "renamed" && file.previous_filename !== undefined) {
      out.filename = file.previous_filename;
      out.previous_filename = file.filename;
    }
    return out;
  });

export function createMergeEngine(deps: MergeEngineDeps) {
  const { state, newId } = deps;
  let running = 0;
  let waiters: (() => void)[] = [];

  const viewer = () => state.users.get(state.viewer.toLowerCase())!;
  const identity = () => {
    const user = viewer();
    return {
      name: user.name ?? user.login,
      email: user.email ?? `${user.id}+${user.login}@users.noreply.github.com`,
      date: timestamp(),
    };
  };

  function signals(repo: RepoRecord, sha: string): Signal[] {
    const runs = new Map<string, CheckRunRecord>();
    for (const run of repo.checkRuns) if (run.head_sha === sha) runs.set(run.name, run);
    const out: Signal[] = [...runs.values()].map((run) => ({
      name: run.name,
      state: run.status !== "completed" ? "pending" : run.conclusion === "success" ? "succeeded" : "failed",
    }));
    for (const status of latestStatuses(repo, sha)) {
      out.push({
        name: status.context,
        state: status.state === "pending" ? "pending" : status.state === "success" ? "succeeded" : "failed",
      });
    }
    return out;
  }

  /** Why branch protection refuses the merge, in the words of GitHub's 405s; empty when it allows it. */
  function protectionGaps(repo: RepoRecord, pr: PullRecord): string[] {
    const rule = repo.protection.get(pr.base.ref);
    if (!rule) return [];
    const gaps: string[] = [];
    const approvals = pr.approvals.filter((login) => login.toLowerCase() !== pr.user.toLowerCase()).length;
    const needed = rule.requiredApprovals;
    if (approvals < needed)
      gaps.push(
        `At least ${needed} approving ${needed === 1 ? "review" : "reviews"} is required by reviewers with write access.`,
      );
    const found = signals(repo, pullTips(repo, pr).head);
    for (const name of rule.requiredChecks) {
      const named = found.filter((s) => s.name === name);
      if (named.some((s) => s.state === "failed")) gaps.push(`Required status check "${name}" is failing.`);
      else if (named.length === 0 || named.some((s) => s.state === "pending"))
        gaps.push(`Required status check "${name}" is expected.`);
    }
    return gaps;
  }

  /** The base's files with the PR's changes applied, and the paths both sides changed differently. */
  function mergeResult(repo: RepoRecord, pr: PullRecord): { snapshot: Snapshot; conflicts: string[] } {
    const tips = pullTips(repo, pr);
    const base = mergeBase(tips.base, tips.head, repo.commits);
    if (base === undefined) return { snapshot: snapshotOf(repo, tips.base), conflicts: ["(no common history)"] };
    return threeWay(snapshotOf(repo, base), snapshotOf(repo, tips.base), snapshotOf(repo, tips.head));
  }

  function mergeState(repo: RepoRecord, pr: PullRecord): MergeState {
    if (pr.draft) return "draft";
    if (mergeResult(repo, pr).conflicts.length > 0) return "dirty";
    if (protectionGaps(repo, pr).length > 0) return "blocked";
    if (signals(repo, pullTips(repo, pr).head).some((s) => s.state !== "succeeded")) return "unstable";
    return "clean";
  }

  /** Starts every CI check of the repository on the PR's head (once per head and check name). */
  function startCi(repo: RepoRecord, pr: PullRecord): void {
    if (repo.ci.length === 0) return;
    const tips = pullTips(repo, pr);
    const base = mergeBase(tips.base, tips.head, repo.commits);
    const files = changedPaths(base === undefined ? new Map() : snapshotOf(repo, base), snapshotOf(repo, tips.head));
    for (const spec of repo.ci) {
      if (repo.checkRuns.some((r) => r.head_sha === tips.head && r.name === spec.name)) continue;
      const id = newId();
      const run: CheckRunRecord = {
        id,
        node_id: nodeId("CR", id),
        name: spec.name,
        head_sha: tips.head,
        status: "in_progress",
        conclusion: null,
        started_at: timestamp(),
        completed_at: null,
        title: null,
      };
      repo.checkRuns.push(run);
      running += 1;
      deps.schedule(spec.delayMs ?? 0, () => {
        const verdict = judge(spec, files);
        run.status = "completed";
        run.conclusion = verdict === "succeeded" ? "success" : "failure";
        run.completed_at = timestamp();
        run.title = verdict === "failed" ? (spec.failure ?? `${spec.name} failed`) : null;
        running -= 1;
        sweep(repo);
        if (running === 0) release();
      });
    }
  }

  function release(): void {
    const waiting = waiters;
    waiters = [];
    for (const resolve of waiting) resolve();
  }

  function open(repo: RepoRecord, fields: NewPull): PullRecord {
    const id = newId();
    const now = timestamp();
    const pr: PullRecord = {
      number: repo.pulls.length + 1,
      id,
      node_id: nodeId("PR", id),
      title: fields.title,
      body: fields.body,
      state: "open",
      draft: fields.draft,
      head: { ref: fields.head, sha: repo.branches.get(fields.head)! },
      base: { ref: fields.base, sha: repo.branches.get(fields.base)! },
      user: viewer().login,
      labels: [],
      requested_reviewers: [],
      requested_teams: [],
      created_at: now,
      updated_at: now,
      closed_at: null,
      maintainer_can_modify: false,
      merged_at: null,
      merge_commit_sha: null,
      merged_by: null,
      auto_merge: null,
      approvals: [],
    };
    repo.pulls.push(pr);
    startCi(repo, pr);
    return pr;
  }

  /** Deletes a branch; open PRs from it close, as on GitHub. False when there was no such branch. */
  function deleteBranch(repo: RepoRecord, name: string): boolean {
    if (!repo.branches.has(name)) return false;
    for (const pr of repo.pulls) {
      if (pr.state !== "open" || pr.head.ref !== name) continue;
      const tips = pullTips(repo, pr);
      pr.head.sha = tips.head;
      pr.base.sha = tips.base;
      pr.state = "closed";
      pr.closed_at = pr.updated_at = timestamp();
    }
    repo.branches.delete(name);
    return true;
  }

  /** Points a branch at a commit; PRs from it run CI on their new head. */
  function moveBranch(repo: RepoRecord, name: string, sha: string): void {
    repo.branches.set(name, sha);
    repo.pushed_at = timestamp();
    for (const pr of repo.pulls) {
      if (pr.state !== "open" || pr.head.ref !== name) continue;
      pr.head.sha = sha;
      startCi(repo, pr);
    }
    sweep(repo);
  }

  /** Merges without asking whether it may (callers check `refusal` first); returns the new commit on the base. */
  function merge(repo: RepoRecord, pr: PullRecord, opts: MergeOptions): string {
    const tips = pullTips(repo, pr);
    const { snapshot } = mergeResult(repo, pr);
    const cmp = compare(repo, tips.base, tips.head);
    const squash = opts.method === "squash";
    const title =
      opts.title ||
      (squash ? `${pr.title} (#${pr.number})` : `Merge pull request #${pr.number} from ${repo.owner}/${pr.head.ref}`);
    const body =
      opts.message ??
      (squash ? (cmp?.ahead ?? []).map((sha) => `* ${repo.commits.get(sha)!.message}`).join("\n\n") : pr.title);
    const sha = writeCommit(repo, {
      message: body ? `${title}\n\n${body}` : title,
      parents: squash ? [tips.base] : [tips.base, tips.head],
      snapshot,
      author: identity(),
      committer: { name: "GitHub", email: "noreply@github.com", date: timestamp() },
      files: cmp?.files ?? [],
    });
    const now = timestamp();
    pr.head.sha = tips.head;
    pr.base.sha = tips.base;
    pr.state = "closed";
    pr.closed_at = pr.updated_at = pr.merged_at = now;
    pr.merge_commit_sha = sha;
    pr.merged_by = viewer().login;
    pr.auto_merge = null;
    repo.branches.set(pr.base.ref, sha);
    repo.pushed_at = now;
    if (repo.delete_branch_on_merge) deleteBranch(repo, pr.head.ref);
    return sha;
  }

  /** Merges every PR with auto-merge enabled that has become clean. */
  function sweep(repo: RepoRecord): void {
    for (const pr of repo.pulls) {
      if (pr.state !== "open" || !pr.auto_merge || mergeState(repo, pr) !== "clean") continue;
      merge(repo, pr, {
        method: pr.auto_merge.merge_method === "squash" ? "squash" : "merge",
        title: pr.auto_merge.commit_title,
        message: pr.auto_merge.commit_message,
      });
    }
  }

  return {
    signals,
    mergeState,
    startCi,
    open,
    deleteBranch,
    moveBranch,
    merge,
    sweep,

    /** What pulls.get reports; undefined (GitHub's null / "unknown") once the PR is closed. */
    mergeability(repo: RepoRecord, pr: PullRecord): { mergeable: boolean; state: MergeState } | undefined {
      if (pr.state !== "open") return undefined;
      const mergeStateNow = mergeState(repo, pr);
      return { mergeable: mergeStateNow !== "dirty", state: mergeStateNow };
    },

    /** pulls.merge's 405 message, or undefined when the PR may be merged now. */
    refusal(repo: RepoRecord, pr: PullRecord): string | undefined {
      if (pr.state !== "open" || pr.draft || mergeResult(repo, pr).conflicts.length > 0)
        return "Pull Request is not mergeable";
      return protectionGaps(repo, pr)[0];
    },

    /** enablePullRequestAutoMerge: GitHub's refusal message, or undefined once enabled. */
    enableAutoMerge(repo: RepoRecord, pr: PullRecord, request: AutoMergeRequest): string | undefined {
      if (!repo.allow_auto_merge) return "Pull request Auto merge is not allowed for this repository";
      if (pr.merged_at !== null) return "Pull request is already merged";
      if (pr.state !== "open") return "Pull request is closed";
      if (request.expectedHeadOid !== null && request.expectedHeadOid !== pullTips(repo, pr).head)
        return "Head sha didn't match expected head sha";
      if (mergeState(repo, pr) === "clean") return "Pull request Pull request is in clean status";
      pr.auto_merge = {
        merge_method: request.method,
        commit_title: request.title,
        commit_message: request.message,
        enabled_by: viewer().login,
        enabled_at: timestamp(),
      };
      pr.updated_at = timestamp();
      return undefined;
    },

    /**
     * revertPullRequest: a `revert-<number>-<head>` branch off the base's current tip with one commit undoing the
     * merge, and a PR from it into the same base. A string is GitHub's refusal.
     */
    revert(
      repo: RepoRecord,
      pr: PullRecord,
      fields: { title: string | null; body: string | null; draft: boolean },
    ): PullRecord | string {
      if (pr.merge_commit_sha === null) return "Pull request is not merged";
      const merged = repo.commits.get(pr.merge_commit_sha)!;
      const current = repo.branches.get(pr.base.ref);
      if (current === undefined) return `Base branch ${pr.base.ref} does not exist`;
      const parent = merged.parents[0]!;
      const { snapshot, conflicts } = threeWay(
        snapshotOf(repo, pr.merge_commit_sha),
        snapshotOf(repo, current),
        snapshotOf(repo, parent),
      );
      if (conflicts.length > 0)
        return `Pull request could not be reverted automatically: ${conflicts.join(", ")} changed since the merge`;
      let branch = `revert-${pr.number}-${pr.head.ref}`;
      for (let n = 1; repo.branches.has(branch); n++) branch = `revert-${pr.number}-${pr.head.ref}-${n}`;
      const subject = merged.message.split("\n")[0];
      const sha = writeCommit(repo, {
        message: `Revert "${subject}"\n\nThis reverts commit ${pr.merge_commit_sha}.`,
        parents: [current],
        snapshot,
        author: identity(),
        files: invert(merged.files),
      });
      repo.branches.set(branch, sha);
      return open(repo, {
        head: branch,
        base: pr.base.ref,
        title: fields.title ?? `Revert "${pr.title}"`,
        body: fields.body ?? `Reverts ${repo.full_name}#${pr.number}`,
        draft: fields.draft,
      });
    },

    /** Resolves once no CI check is running. */
    settled(): Promise<void> {
      return running === 0 ? Promise.resolve() : new Promise((resolve) => waiters.push(resolve));
    },

    /** Forgets running checks (their timers were cancelled) and releases whoever waits for them. */
    clear(): void {
      running = 0;
      release();
    },
  };
}
