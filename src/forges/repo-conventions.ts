/**
 * Finds a repository's PR template and CODEOWNERS where each forge looks for them, and reads them at the PR's
 * target branch: through the forge when there is one, else from the local clone. Nothing read here decides
 * anything by itself: the texts go to the renderer (inert) and to the CODEOWNERS matcher.
 */
import type { CommitSource } from "../domain/commit.js";
import type { RepoConventions, RepoFile } from "../domain/conventions.js";
import { errorText } from "../domain/errors.js";
import type { Forge } from "./forge.js";

/** GitHub's order for CODEOWNERS (it uses the first it finds); repositories on Azure DevOps keep theirs there too. */
export const CODEOWNERS_PATHS: readonly string[] = [".github/CODEOWNERS", "CODEOWNERS", "docs/CODEOWNERS"];

/**
 * Where each forge takes its default PR template from, in its order. GitHub: `.github/`, the root, `docs/`
 * (names case-insensitive: both spellings GitHub shows are tried). Azure DevOps: a template for the target branch
 * (`.azuredevops/pull_request_template/branches/<branch>.md`), then `.azuredevops/`, `.vsts/`, `docs/`, the root,
 * `.md` before `.txt`. GitHub's `PULL_REQUEST_TEMPLATE/` folder holds templates chosen by hand (`?template=`), never
 * a default, so it is not read.
 */
export function prTemplatePaths(forge: "github" | "azure-devops", targetBranch: string): string[] {
  if (forge === "github")
    return [".github", "", "docs"].flatMap((dir) =>
      ["pull_request_template.md", "PULL_REQUEST_TEMPLATE.md"].map((name) => (dir ? `${dir}/${name}` : name)),
    );
  const branchFile = targetBranch.replace(/\//g, "%");
  return [
    `.azuredevops/pull_request_template/branches/${branchFile}.md`,
    ...[".azuredevops", ".vsts", "docs", ""].flatMap((dir) =>
      ["pull_request_template.md", "pull_request_template.txt"].map((name) => (dir ? `${dir}/${name}` : name)),
    ),
  ];
}

export interface ConventionsRequest {
  forge: Forge | null;
  commitSource: CommitSource;
  /** The forge kind whose locations to try; for a dry run, the configured one (both when it is dry-run). */
  kind: "github" | "azure-devops" | "dry-run";
  repo: string;
  targetBranch: string;
  /** Read from the local clone when there is no forge: the target branch, its remote-tracking branch, then this. */
  fallbackRev: string | null;
  want: { prTemplate: boolean; codeowners: boolean };
}

/**
 * The first of `paths` that exists (read together; the first in order wins), or null. A read that fails is a
 * warning, never the run's failure: a run without the template or CODEOWNERS is still a good run.
 */
async function firstOf(
  read: (path: string) => Promise<string | null>,
  paths: readonly string[],
  what: string,
  warnings: string[],
): Promise<RepoFile | null> {
  const texts = await Promise.all(
    paths.map((path) =>
      read(path).catch((error: unknown) => {
        warnings.push(`The repository's ${what} could not be read at ${path}: ${errorText(error)}`);
        return null;
      }),
    ),
  );
  const index = texts.findIndex((t) => t !== null && t.trim() !== "");
  return index === -1 ? null : { path: paths[index]!, text: texts[index]! };
}

/** Reads what the policy asks for; warnings say what could not be read. */
export async function readRepoConventions(
  request: ConventionsRequest,
): Promise<{ conventions: RepoConventions; warnings: string[] }> {
  const warnings: string[] = [];
  const read = reader(request);
  const templatePaths =
    request.kind === "dry-run"
      ? [
          ...new Set([
            ...prTemplatePaths("github", request.targetBranch),
            ...prTemplatePaths("azure-devops", request.targetBranch),
          ]),
        ]
      : prTemplatePaths(request.kind, request.targetBranch);
  const [prTemplate, codeowners] = await Promise.all([
    request.want.prTemplate && read ? firstOf(read, templatePaths, "PR template", warnings) : null,
    request.want.codeowners && read ? firstOf(read, CODEOWNERS_PATHS, "CODEOWNERS", warnings) : null,
  ]);
  return { conventions: { pr_template: prTemplate, codeowners }, warnings };
}

function reader(request: ConventionsRequest): ((path: string) => Promise<string | null>) | null {
  const { forge, commitSource, repo, targetBranch } = request;
  if (forge) return (path) => forge.readFile(repo, targetBranch, path);
  const readFile = commitSource.readFile?.bind(commitSource);
  if (!readFile) return null;
  // A clone may have the target only as a remote-tracking branch; the change's base is on the target's history.
  const revs = [targetBranch, `origin/${targetBranch}`, ...(request.fallbackRev ? [request.fallbackRev] : [])];
  return async (path) => {
    for (const rev of revs) {
      const text = await readFile(rev, path);
      if (text !== null) return text;
    }
    return null;
  };
}
