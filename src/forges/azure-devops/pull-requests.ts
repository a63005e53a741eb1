import { PullRequestStatus, type GitPullRequest } from "azure-devops-node-api/interfaces/GitInterfaces.js";
import { PrCreatorError } from "../../domain/errors.js";
import type { ReviewerAssignment } from "../../domain/pull-request.js";
import { RetriesExhausted } from "../../net/retry.js";
import { PullRequestExistsError, type ForgePullRequests, type ResolvedReviewer } from "../forge.js";
import { forget, toRef, type AzureDevOpsContext } from "./context.js";
import { serverMessage } from "./errors.js";

export type PullRequests = ForgePullRequests;

type Hit = { id: string; kind: "user" | "team" };
type Directory = Map<string, Hit>;

/** One identity as the Identities API (IMS, `_apis/identities`) answers it; only the fields read here. */
interface IdentityWire {
  id?: string;
  providerDisplayName?: string;
  customDisplayName?: string;
  isActive?: boolean;
  isContainer?: boolean;
  properties?: Record<string, { $value?: unknown } | undefined>;
}

/** The scopes reviewer resolution reads with, as the token settings page names them. */
const IDENTITY_SCOPE = "Identity (Read) (vso.identity)";
const DIRECTORY_SCOPE = "Project and Team (Read) (vso.project)";

/**
 * Where the Identities API lives: on Azure DevOps Services a separate host (`vssps.dev.azure.com/{org}`,
 * `{org}.vssps.visualstudio.com`); on Azure DevOps Server (and the emulator) the collection URL itself.
 */
export function identityBaseUrl(orgUrl: string): string {
  const url = new URL(orgUrl);
  if (url.hostname.toLowerCase() === "dev.azure.com") url.hostname = "vssps.dev.azure.com";
  else if (/^[^.]+\.visualstudio\.com$/i.test(url.hostname))
    url.hostname = url.hostname.replace(/\.visualstudio\.com$/i, ".vssps.visualstudio.com");
  return url.toString().replace(/\/+$/, "");
}

/** The names an identity answers to: display names (a group's without its `[scope]\` prefix), account, mail, alias. */
function namesOf(identity: IdentityWire): string[] {
  const prop = (key: string) => {
    const value = identity.properties?.[key]?.$value;
    return typeof value === "string" && value !== "" ? value : undefined;
  };
  const account = prop("Account");
  return [
    identity.customDisplayName,
    identity.providerDisplayName,
    identity.providerDisplayName?.replace(/^\[[^\]]*\]\\/, ""),
    account,
    account?.includes("@") ? account.split("@")[0] : undefined,
    prop("Mail"),
    prop("Alias"),
  ].filter((n): n is string => Boolean(n));
}

/** Why a lookup gave nothing, for a warning: a refusal names the scope the token lacks. */
function lookupProblem(what: string, scope: string, error: unknown): string {
  if (error instanceof PrCreatorError && (error.reason === "unauthorized" || error.reason === "forbidden"))
    return `${what} was refused (${error.reason === "forbidden" ? 403 : 401}): the token lacks the ${scope} scope. ${error.message}`;
  return `${what} failed: ${error instanceof Error ? error.message : String(error)}`;
}

/**
 * Pull requests through the Git API. Labels, reviewers and work items travel with the create call (one round
 * trip). Reviewer names resolve through the identity search (as the web UI's people picker does), with the
 * project's teams and their members as a supplement; a lookup that fails is a warning, never the run's failure.
 */
export function pullRequests(ctx: AzureDevOpsContext): PullRequests {
  const { project, call } = ctx;
  let directory: Promise<Directory> | undefined;
  const identities = new Map<string, Promise<{ hit: Hit | null; note?: string }>>();

  async function loadDirectory(): Promise<Directory> {
    const api = await ctx.core();
    const teams = await call("list the project's teams", () => api.getTeams(project));
    if (teams === null)
      throw new Error(`Azure DevOps has no team directory for project ${project} (404); check AZURE_DEVOPS_PROJECT.`);
    const entries: Directory = new Map();
    const members = await Promise.all(
      teams.map((t) =>
        call(`list the members of team ${t.name}`, () =>
          api.getTeamMembersWithExtendedProperties(t.projectId ?? project, t.id!),
        ),
      ),
    );
    teams.forEach((team, i) => {
      if (team.name && team.id) entries.set(team.name.toLowerCase(), { id: team.id, kind: "team" });
      for (const m of members[i] ?? []) {
        const id = m.identity?.id;
        if (!id) continue;
        for (const name of [m.identity?.displayName, m.identity?.uniqueName, m.identity?.uniqueName?.split("@")[0]]) {
          if (name && !entries.has(name.toLowerCase())) entries.set(name.toLowerCase(), { id, kind: "user" });
        }
      }
    });
    return entries;
  }

  /**
   * The identity search (`searchFilter=General`) for one name; only identities that answer to exactly that name
   * count. Several distinct ones are ambiguous unless one is a group of this project.
   */
  async function searchIdentity(name: string): Promise<{ hit: Hit | null; note?: string }> {
    const api = await ctx.core();
    const query = new URLSearchParams({
      searchFilter: "General",
      filterValue: name,
      queryMembership: "None",
      "api-version": "7.1",
    });
    const url = `${identityBaseUrl(ctx.orgUrl)}/_apis/identities?${query.toString()}`;
    const res = await call(`search the identity "${name}"`, () =>
      api.rest.get<{ value?: IdentityWire[] } | IdentityWire[]>(url),
    );
    if (res.result === null) throw new Error(`the Identities API answered ${res.statusCode} at ${url}`);
    const list = Array.isArray(res.result) ? res.result : (res.result.value ?? []);
    const key = name.toLowerCase();
    const exact = new Map<string, IdentityWire>();
    for (const identity of list) {
      if (!identity.id || identity.isActive === false) continue;
      if (namesOf(identity).some((n) => n.toLowerCase() === key)) exact.set(identity.id, identity);
    }
    let found = [...exact.values()];
    if (found.length > 1) {
      const ours = found.filter((i) => i.isContainer && i.providerDisplayName?.startsWith(`[${project}]\\`));
      if (ours.length === 1) found = ours;
    }
    if (found.length === 1) return { hit: { id: found[0]!.id!, kind: found[0]!.isContainer ? "team" : "user" } };
    if (found.length === 0) return { hit: null };
    const which = found.map((i) => i.providerDisplayName ?? i.id).join(", ");
    return { hit: null, note: `Reviewer "${name}" matches ${found.length} identities (${which}).` };
  }

  return {
    async findOpenPullRequest(repo, source, target) {
      const api = await ctx.git();
      const criteria = { sourceRefName: toRef(source), targetRefName: toRef(target), status: PullRequestStatus.Active };
      const list = await call("list open pull requests", () => api.getPullRequests(repo, criteria, project));
      if (list === null)
        throw ctx.missing(
          "repository",
          repo,
          "repo_not_found",
          "Check the repo in the event and AZURE_DEVOPS_PROJECT.",
        );
      const found = list[0];
      if (!found?.pullRequestId) return null;
      // The list call truncates descriptions; compare against the PR fetched by id.
      const full = await call(`read pull request ${found.pullRequestId}`, () =>
        api.getPullRequest(repo, found.pullRequestId!, project),
      );
      return ctx.remote(repo, full ?? found);
    },

    async createPullRequest(repo, pr) {
      const api = await ctx.git();
      const body: GitPullRequest = {
        sourceRefName: toRef(pr.source_branch),
        targetRefName: toRef(pr.target_branch),
        title: pr.title,
        description: pr.description,
        isDraft: pr.is_draft,
        reviewers: pr.reviewers.map((r) => ({ id: r.id, isRequired: r.required })),
        labels: pr.labels.map((name) => ({ name })),
        workItemRefs: pr.work_items.map((id) => ({ id })),
      };
      try {
        const created = await ctx.retry(() => api.createPullRequest(body, repo, project));
        if (!created)
          throw ctx.missing(
            "repository",
            repo,
            "repo_not_found",
            "Check the repo in the event and AZURE_DEVOPS_PROJECT.",
          );
        return ctx.remote(repo, created);
      } catch (error) {
        if (!(error instanceof RetriesExhausted)) throw error;
        const text = serverMessage(error.cause) ?? "";
        if (text.includes("TF401179")) throw new PullRequestExistsError(text, error.attempts);
        if (text.includes("TF401398"))
          throw new PrCreatorError("branch_not_found", `Azure DevOps cannot open the pull request: ${text}`, {
            hint: "Push both branches first.",
            attempts: error.attempts,
          });
        throw ctx.failure("create the pull request", error);
      }
    },

    async updatePullRequest(repo, id, patch) {
      const api = await ctx.git();
      const body: GitPullRequest = {
        ...(patch.title !== undefined ? { title: patch.title } : {}),
        ...(patch.description !== undefined ? { description: patch.description } : {}),
        ...(patch.is_draft !== undefined ? { isDraft: patch.is_draft } : {}),
      };
      await call(`update pull request ${id}`, () => api.updatePullRequest(body, repo, id, project));
    },

    async resolveReviewers(_repo, reviewers: readonly ReviewerAssignment[]) {
      if (reviewers.length === 0) return { resolved: [], unresolved: [], warnings: [] };
      const warnings = new Set<string>();
      const hits = new Map<string, Hit>();
      // Names a look-up could not settle (search refused or unreachable): "no identity" would be a guess.
      const unsettled = new Set<string>();
      const names = [...new Set(reviewers.map((r) => r.name.toLowerCase()))];
      // 1. The identity search, one query per name (answers kept for this forge's life; failures forgotten).
      await Promise.all(
        names.map(async (name) => {
          let search = identities.get(name);
          if (!search) {
            search = searchIdentity(reviewers.find((r) => r.name.toLowerCase() === name)!.name);
            identities.set(name, search);
            search.catch(() => identities.delete(name));
          }
          try {
            const { hit, note } = await search;
            if (hit) hits.set(name, hit);
            else if (note) warnings.add(note);
          } catch (error) {
            unsettled.add(name);
            warnings.add(ctx.redact(lookupProblem("Reviewer lookup: the identity search", IDENTITY_SCOPE, error)));
          }
        }),
      );
      // 2. The project's teams and their members, for names the search did not settle.
      if (names.some((n) => !hits.has(n))) {
        try {
          const dir = await (directory ??= loadDirectory().catch(forget(() => (directory = undefined))));
          // `org/team` (a CODEOWNERS team, as GitHub writes it) names the project's team `team`.
          const inDirectory = (name: string) => dir.get(name) ?? dir.get(name.slice(name.lastIndexOf("/") + 1));
          for (const name of names) if (!hits.has(name) && inDirectory(name)) hits.set(name, inDirectory(name)!);
        } catch (error) {
          for (const name of names) if (!hits.has(name)) unsettled.add(name);
          warnings.add(
            ctx.redact(lookupProblem("Reviewer lookup: the project's team directory", DIRECTORY_SCOPE, error)),
          );
        }
      }
      const resolved: ResolvedReviewer[] = [];
      const unresolved: string[] = [];
      for (const r of reviewers) {
        const hit = hits.get(r.name.toLowerCase());
        if (hit) resolved.push({ name: r.name, required: r.required, id: hit.id, kind: hit.kind });
        else unresolved.push(r.name);
      }
      const failed = unresolved.filter((name) => unsettled.has(name.toLowerCase()));
      return { resolved, unresolved, warnings: [...warnings], failed };
    },

    async addReviewers(repo, pr, reviewers) {
      const api = await ctx.git();
      await Promise.all(
        reviewers.map((r) =>
          call(`add reviewer ${r.name}`, () =>
            api.createPullRequestReviewer({ id: r.id, isRequired: r.required, vote: 0 }, repo, pr.id, r.id, project),
          ),
        ),
      );
    },

    async listPullRequests(repo, onPage) {
      const api = await ctx.git();
      const found: GitPullRequest[] = [];
      for (let skip = 0; ; skip += 100) {
        const page = await call("list pull requests", () =>
          api.getPullRequests(repo, { status: PullRequestStatus.All }, project, undefined, skip, 100),
        );
        if (page === null)
          throw ctx.missing(
            "repository",
            repo,
            "repo_not_found",
            "Check the repository name and AZURE_DEVOPS_PROJECT.",
          );
        found.push(...page);
        onPage?.(found.length);
        if (page.length < 100) break;
      }
      // The list call truncates descriptions: read each PR by id.
      const full = await Promise.all(
        found.map((p) =>
          call(`read pull request ${p.pullRequestId}`, () => api.getPullRequest(repo, p.pullRequestId!, project)),
        ),
      );
      return full.map((p, i) => ctx.remote(repo, p ?? found[i]!));
    },

    async addLabels(repo, id, labels) {
      const api = await ctx.git();
      await Promise.all(
        labels.map((name) => call(`add label ${name}`, () => api.createPullRequestLabel({ name }, repo, id, project))),
      );
    },
  };
}
