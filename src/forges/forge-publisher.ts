import { PrCreatorError } from "../domain/errors.js";
import type { PullRequestSpec } from "../domain/pull-request.js";
import type { Forge, RemotePullRequest, ResolvedReviewer } from "./forge.js";
import { PullRequestExistsError } from "./forge.js";
import { createKeyedLock } from "./keyed-lock.js";
import type { Publisher, PublishResult } from "./publisher.js";

const FORGE_NAMES: Record<Forge["kind"], string> = { "azure-devops": "Azure DevOps", github: "GitHub" };

/** Azure Boards links in commit text (`AB#123`) become work items of the PR. */
export function workItemsIn(text: string): string[] {
  return [...new Set([...text.matchAll(/\bAB#(\d+)\b/g)].map((m) => m[1]!))];
}

/**
 * How a forge refuses a reviewer request on a PR that exists: invalid (not a collaborator), not found (a user or
 * team the token cannot see; GitHub answers 404) or forbidden. Outages are still failures: a re-run adds them.
 */
const REVIEWER_REFUSALS: ReadonlySet<string> = new Set(["invalid_request", "repo_not_found", "forbidden"]);

const pairKey = (repo: string, source: string, target: string) => `pr\u0000${repo}\u0000${source}\u0000${target}`;
const reviewersKey = (repo: string, reviewers: readonly { name: string; required: boolean }[]) =>
  `rv\u0000${repo}\u0000${reviewers.map((r) => `${r.name}:${r.required}`).join("\u0001")}`;

/** How long an early look-up stays good: long enough for a run's drafting, short enough not to act on old news. */
const EARLY_TTL_MS = 30_000;

/**
 * Look-ups started before they are needed. Each is used at most once; a failed or old one is made again,
 * so an early start can only save a round trip, never change an outcome.
 */
function createEarlyLookups() {
  const started = new Map<string, { at: number; result: Promise<unknown> }>();
  return {
    /** Starts `lookup` unless a fresh one for `key` is already under way or waiting to be used. */
    start(key: string, lookup: () => Promise<unknown>): void {
      const now = Date.now();
      // Runs that failed before publishing leave their look-ups behind; a long-lived server drops them.
      for (const [k, e] of started) if (now - e.at > EARLY_TTL_MS) started.delete(k);
      if (started.has(key)) return;
      let result: Promise<unknown>;
      try {
        result = lookup();
      } catch {
        return;
      }
      // Nobody may be waiting yet: a failure must not surface as an unhandled rejection.
      result.catch(() => undefined);
      started.set(key, { at: now, result });
    },
    async take<T>(key: string, lookup: () => Promise<T>): Promise<T> {
      const entry = started.get(key);
      started.delete(key);
      if (!entry || Date.now() - entry.at > EARLY_TTL_MS) return lookup();
      try {
        return (await entry.result) as T;
      } catch {
        return lookup();
      }
    },
  };
}

/** An open PR is ours when its description carries our trace metadata for the same trace. */
function isOurs(existing: RemotePullRequest, traceId: string): boolean {
  return existing.description.includes(`trace_id: ${traceId}`) || existing.description.includes(traceId);
}

/**
 * Publishes through a forge, idempotently: the open PR of the same source and target is looked up first
 * (and again after a duplicate conflict), then updated only where it differs. Work for one branch pair is
 * serialised in this process; different pairs run in parallel.
 */
export function createForgePublisher(forge: Forge): Publisher {
  const withLock = createKeyedLock();
  const early = createEarlyLookups();

  /**
   * Brings an open PR in line with the spec: title, description and draft where they differ, labels and
   * reviewers it lacks (never removing what people added). Returns whether anything was sent. A reviewer the
   * forge refuses (not a collaborator, a 404 or 403 on the request) is a warning and joins `refused`, not a
   * failure: the PR itself is fine.
   */
  async function reconcile(
    repo: string,
    existing: RemotePullRequest,
    pr: PullRequestSpec,
    reviewers: ResolvedReviewer[],
    warnings: string[],
    refused: string[],
  ): Promise<boolean> {
    const patch = {
      ...(existing.title !== pr.title ? { title: pr.title } : {}),
      ...(existing.description !== pr.description ? { description: pr.description } : {}),
      ...(forge.kind === "azure-devops" && existing.is_draft !== pr.is_draft ? { is_draft: pr.is_draft } : {}),
    };
    const have = new Set(existing.labels.map((l) => l.toLowerCase()));
    const labels = pr.labels.filter((l) => !have.has(l.toLowerCase()));
    const newReviewers = reviewers.filter((r) => !existing.reviewer_ids.includes(r.id));
    if (Object.keys(patch).length === 0 && labels.length === 0 && newReviewers.length === 0) return false;
    const addReviewers = async () => {
      try {
        await forge.addReviewers(repo, existing, newReviewers);
      } catch (error) {
        if (!(error instanceof PrCreatorError) || !REVIEWER_REFUSALS.has(error.reason)) throw error;
        refused.push(...newReviewers.map((r) => r.name));
        warnings.push(`Reviewers ${newReviewers.map((r) => r.name).join(", ")} could not be added: ${error.message}`);
      }
    };
    await Promise.all([
      Object.keys(patch).length > 0 ? forge.updatePullRequest(repo, existing.id, patch) : undefined,
      labels.length > 0 ? forge.addLabels(repo, existing.id, labels) : undefined,
      newReviewers.length > 0 ? addReviewers() : undefined,
    ]);
    return true;
  }

  return {
    kind: forge.kind,
    prefetch(repo, pair, reviewers) {
      early.start(pairKey(repo, pair.source_branch, pair.target_branch), () =>
        forge.findOpenPullRequest(repo, pair.source_branch, pair.target_branch),
      );
      if (reviewers) early.start(reviewersKey(repo, reviewers), () => forge.resolveReviewers(repo, reviewers));
    },
    publish: (repo, traceId, pr) =>
      withLock(pairKey(repo, pr.source_branch, pr.target_branch), async () => {
        const [existingFirst, names] = await Promise.all([
          early.take(pairKey(repo, pr.source_branch, pr.target_branch), () =>
            forge.findOpenPullRequest(repo, pr.source_branch, pr.target_branch),
          ),
          early.take(reviewersKey(repo, pr.reviewers), () => forge.resolveReviewers(repo, pr.reviewers)),
        ]);
        const failed = new Set(names.failed ?? []);
        const lookupWarnings = names.warnings ?? [];
        const warnings = [
          ...lookupWarnings,
          ...names.unresolved.flatMap((n) => {
            if (!failed.has(n))
              return [`Reviewer "${n}" has no ${FORGE_NAMES[forge.kind]} identity and was not added.`];
            // A failed look-up: whether the reviewer exists is unknown; say they were left out unless the failure says so.
            return lookupWarnings.some((w) => w.includes(`"${n}"`) && w.includes("not added"))
              ? []
              : [`Reviewer "${n}" was not added: the look-up above failed.`];
          }),
        ];
        const refused: string[] = [];
        const result = (status: PublishResult["status"], pull: RemotePullRequest): PublishResult => ({
          status,
          id: pull.id,
          url: pull.url,
          warnings,
          ...(names.unresolved.length + refused.length > 0
            ? { unresolved_reviewers: [...new Set([...names.unresolved, ...refused])] }
            : {}),
        });
        let existing = existingFirst;
        let conflictAttempts: number | undefined;
        if (!existing) {
          try {
            const created = await forge.createPullRequest(repo, {
              title: pr.title,
              description: pr.description,
              source_branch: pr.source_branch,
              target_branch: pr.target_branch,
              is_draft: pr.is_draft,
              labels: pr.labels,
              reviewers: names.resolved,
              work_items: pr.work_items ?? workItemsIn(pr.description),
            });
            // Forges that cannot take labels and reviewers with the create call get them now.
            await reconcile(repo, created, pr, names.resolved, warnings, refused);
            return result("created", created);
          } catch (error) {
            if (!(error instanceof PullRequestExistsError)) throw error;
            // Another process created it between our lookup and our create: take the update path.
            conflictAttempts = error.attempts;
            existing = await forge.findOpenPullRequest(repo, pr.source_branch, pr.target_branch);
            if (!existing) {
              throw new PrCreatorError(
                "pr_already_exists",
                `The forge reports a pull request from ${pr.source_branch} to ${pr.target_branch} already exists, but it cannot be found open.`,
                {
                  hint: "Check the repository's pull requests; a closing or abandoned PR may still block this pair.",
                  attempts: error.attempts,
                },
              );
            }
          }
        }
        if (!isOurs(existing, traceId)) {
          throw new PrCreatorError(
            "pr_already_exists",
            `An open pull request from ${pr.source_branch} to ${pr.target_branch} already exists (${existing.url}) and was not created for ${traceId}.`,
            {
              hint: "Close it or let its owner merge it; pr-creator never takes over a pull request it did not create.",
              // The lookup that found it (or the create that met it) was answered: at least one call.
              attempts: conflictAttempts ?? 1,
            },
          );
        }
        const changed = await reconcile(repo, existing, pr, names.resolved, warnings, refused);
        return result(changed ? "updated" : "unchanged", existing);
      }),
  };
}
