import { SpanKind, SpanStatusCode, type Attributes } from "@opentelemetry/api";
import type { ChangeSet, CommitSource, FileTexts } from "../domain/commit.js";
import { PrCreatorError } from "../domain/errors.js";
import { PullRequestExistsError, type Forge } from "../forges/forge.js";
import { ATTR, VCS_PROVIDER } from "./attributes.js";
import { runTagsOf, SPAN, type Telemetry } from "./tracing.js";

function errorTypeOf(error: unknown): string {
  if (error instanceof PrCreatorError) return error.reason;
  if (error instanceof PullRequestExistsError) return "pr_already_exists";
  return "internal_error";
}

/**
 * The same forge, with every call in a prcreator.devops.api.request span. The parent is the context active
 * when the call is made (`telemetry.active()`): inside `RunTrace.within` that is the run's prcreator.start,
 * so concurrent runs on one forge keep their spans apart; outside any run the call starts its own trace.
 */
export function traceForge(forge: Forge, telemetry: Pick<Telemetry, "tracer" | "active">): Forge {
  async function call<T>(
    operation: string,
    repo: string | null,
    prId: number | null,
    fn: () => Promise<T>,
    idOf?: (result: T) => number,
  ): Promise<T> {
    const parent = telemetry.active();
    const attributes: Attributes = {
      ...runTagsOf(parent),
      [ATTR.vcsProvider]: VCS_PROVIDER[forge.kind],
      [ATTR.operation]: operation,
    };
    if (repo !== null) attributes[ATTR.repository] = repo;
    if (prId !== null) attributes[ATTR.changeId] = String(prId);
    const span = telemetry.tracer.startSpan(SPAN.devopsApiRequest, { kind: SpanKind.CLIENT, attributes }, parent);
    const started = performance.now();
    try {
      const result = await fn();
      span.setAttribute(ATTR.status, "success");
      if (idOf) span.setAttribute(ATTR.changeId, String(idOf(result)));
      return result;
    } catch (error) {
      const type = errorTypeOf(error);
      span.setAttributes({ [ATTR.status]: "failed", [ATTR.errorType]: type });
      span.recordException(error instanceof Error ? error : String(error));
      span.setStatus({ code: SpanStatusCode.ERROR, message: type });
      throw error;
    } finally {
      span.setAttribute(ATTR.durationMs, Math.round(performance.now() - started));
      span.end();
    }
  }

  const source = forge.commits;
  const commits: CommitSource = {
    load: (request) => call("commits.load", request.repo, null, () => source.load(request)),
    // readFile names no repository: the run's tag says which.
    ...(source.readFile
      ? {
          readFile: (commit: string, path: string) =>
            call("commits.readFile", null, null, () => source.readFile!(commit, path)),
        }
      : {}),
    // Like readFile, readTexts names no repository: the run's tag says which.
    ...(source.readTexts
      ? {
          readTexts: (
            changes: ChangeSet,
            paths: readonly string[],
            onText?: (path: string, texts: FileTexts) => void,
          ) => call("commits.readTexts", null, null, () => source.readTexts!(changes, paths, onText)),
        }
      : {}),
  };

  return {
    kind: forge.kind,
    // The trackers call these outside a forge request of the run: they pass through as they are.
    ...(forge.issues ? { issues: forge.issues } : {}),
    commits,
    findOpenPullRequest: (repo, sourceBranch, target) =>
      call("findOpenPullRequest", repo, null, () => forge.findOpenPullRequest(repo, sourceBranch, target)),
    createPullRequest: (repo, pr) =>
      call(
        "createPullRequest",
        repo,
        null,
        () => forge.createPullRequest(repo, pr),
        (created) => created.id,
      ),
    updatePullRequest: (repo, id, patch) =>
      call("updatePullRequest", repo, id, () => forge.updatePullRequest(repo, id, patch)),
    resolveReviewers: (repo, reviewers) =>
      call("resolveReviewers", repo, null, () => forge.resolveReviewers(repo, reviewers)),
    addReviewers: (repo, pr, reviewers) =>
      call("addReviewers", repo, pr.id, () => forge.addReviewers(repo, pr, reviewers)),
    addLabels: (repo, id, labels) => call("addLabels", repo, id, () => forge.addLabels(repo, id, labels)),
    listPullRequests: (repo, onPage) =>
      call("listPullRequests", repo, null, () => forge.listPullRequests(repo, onPage)),
    readFile: (repo, branch, path) => call("readFile", repo, null, () => forge.readFile(repo, branch, path)),
    commitFiles: (repo, commit) => call("commitFiles", repo, null, () => forge.commitFiles(repo, commit)),
    getPullRequest: (repo, id) => call("getPullRequest", repo, id, () => forge.getPullRequest(repo, id)),
    getChecks: (repo, id) => call("getChecks", repo, id, () => forge.getChecks(repo, id)),
    enableAutoMerge: (repo, id, options) =>
      call("enableAutoMerge", repo, id, () => forge.enableAutoMerge(repo, id, options)),
    revertPullRequest: (repo, request) =>
      call("revertPullRequest", repo, request.pr_id, () => forge.revertPullRequest(repo, request)),
  };
}
