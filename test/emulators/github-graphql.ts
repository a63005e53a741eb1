/**
 * POST /graphql for the GitHub emulator (test/emulators/github.ts). Every document is parsed and validated
 * with graphql-js against GitHub's published schema (@octokit/graphql-schema), then executed against the
 * emulator's state. Answered: the mutations enablePullRequestAutoMerge and revertPullRequest, and the reads
 * viewer, repository(owner, name) { pullRequest(number), object(expression: "<rev>:<path>") } (a Blob with its
 * text, a Tree, or null) and node(id) for pull requests. Objects carry the
 * fields listed in `pullNode`, `repositoryNode` and `userNode`; asking for a non-null field not listed there is
 * an error in the answer. Errors look like GitHub's: `{ data, errors: [{ type, path, locations, message }] }`,
 * with HTTP 200.
 */
import { readFileSync } from "node:fs";
import {
  buildClientSchema,
  execute,
  GraphQLError,
  parse,
  validate,
  type GraphQLSchema,
  type IntrospectionQuery,
} from "graphql";
import { blobSha, snapshotOf } from "./github-content.js";
import { resolveRef } from "./github-graph.js";
import { isObject, type Answer } from "./github-http.js";
import type { MergeEngine } from "./github-merge.js";
import {
  pullTips,
  type EmulatorState,
  type Links,
  type PullRecord,
  type RepoRecord,
  type UserRecord,
} from "./github-model.js";

let schema: GraphQLSchema | undefined;

/** GitHub's schema, built once per process (about half a second). */
export function githubGraphQLSchema(): GraphQLSchema {
  if (!schema) {
    const file = new URL("./schema.json", import.meta.resolve("@octokit/graphql-schema"));
    schema = buildClientSchema(JSON.parse(readFileSync(file, "utf8")) as IntrospectionQuery);
  }
  return schema;
}

export interface GraphQLContext {
  state: EmulatorState;
  engine: MergeEngine;
  links: Links;
}

/** A GitHub-typed error (NOT_FOUND, UNPROCESSABLE, ...), reported with the field's path. */
const failure = (type: string, message: string) => new GraphQLError(message, { extensions: { type } });

interface Input {
  pullRequestId: string;
  clientMutationId?: string | null;
}

interface AutoMergeInput extends Input {
  mergeMethod?: "MERGE" | "SQUASH" | "REBASE" | null;
  commitHeadline?: string | null;
  commitBody?: string | null;
  expectedHeadOid?: string | null;
}

interface RevertInput extends Input {
  title?: string | null;
  body?: string | null;
  draft?: boolean | null;
}

function rootValue({ state, engine, links }: GraphQLContext) {
  const userNode = (user: UserRecord) => ({
    __typename: user.type === "Bot" ? "Bot" : "User",
    id: user.node_id,
    login: user.login,
    name: user.name,
    url: `${links.html}/${user.login}`,
    resourcePath: `/${user.login}`,
    avatarUrl: `https://avatars.githubusercontent.com/u/${user.id}?v=4`,
  });
  const user = (login: string) => userNode(state.users.get(login.toLowerCase())!);

  const repositoryNode = (repo: RepoRecord) => ({
    __typename: "Repository",
    id: repo.node_id,
    name: repo.name,
    nameWithOwner: repo.full_name,
    url: `${links.html}/${repo.full_name}`,
    autoMergeAllowed: repo.allow_auto_merge,
    deleteBranchOnMerge: repo.delete_branch_on_merge,
    pullRequest: ({ number }: { number: number }) => {
      const pr = repo.pulls[number - 1];
      if (!pr) throw failure("NOT_FOUND", `Could not resolve to a PullRequest with the number of ${number}.`);
      return pullNode(repo, pr);
    },
    // `object(expression: "<rev>:<path>")`: a file is a Blob, a folder a Tree; anything that does not resolve is
    // null, as on GitHub. Objects by oid, and commits by a bare rev, are not emulated (null).
    object: ({ expression }: { expression?: string | null }) => {
      const colon = expression?.indexOf(":") ?? -1;
      if (!expression || colon < 0) return null;
      const resolved = resolveRef(expression.slice(0, colon), repo.branches, repo.commits);
      if (!("sha" in resolved)) return null;
      const path = expression.slice(colon + 1).replace(/^\/+|\/+$/g, "");
      const snapshot = snapshotOf(repo, resolved.sha);
      const text = snapshot.get(path);
      if (text === undefined) {
        const folder = path === "" || [...snapshot.keys()].some((p) => p.startsWith(`${path}/`));
        return folder ? { __typename: "Tree", id: `tree:${resolved.sha}:${path}` } : null;
      }
      const oid = blobSha(text);
      const isBinary = text.slice(0, 8000).includes("\0");
      return {
        __typename: "Blob",
        id: `blob:${oid}`,
        oid,
        abbreviatedOid: oid.slice(0, 7),
        byteSize: Buffer.byteLength(text),
        isBinary,
        isTruncated: false,
        text: isBinary ? null : text,
        commitResourcePath: `/${repo.full_name}/commit/${resolved.sha}`,
        commitUrl: `${links.html}/${repo.full_name}/commit/${resolved.sha}`,
      };
    },
  });

  const pullNode = (repo: RepoRecord, pr: PullRecord): Record<string, unknown> => {
    const tips = pullTips(repo, pr);
    const merge = engine.mergeability(repo, pr);
    const html = `${links.html}/${repo.full_name}/pull/${pr.number}`;
    const commit = pr.merge_commit_sha === null ? undefined : repo.commits.get(pr.merge_commit_sha);
    return {
      __typename: "PullRequest",
      id: pr.node_id,
      number: pr.number,
      title: pr.title,
      body: pr.body ?? "",
      url: html,
      permalink: html,
      state: pr.merged_at !== null ? "MERGED" : pr.state === "open" ? "OPEN" : "CLOSED",
      closed: pr.state !== "open",
      closedAt: pr.closed_at,
      merged: pr.merged_at !== null,
      mergedAt: pr.merged_at,
      isDraft: pr.draft,
      createdAt: pr.created_at,
      updatedAt: pr.updated_at,
      headRefName: pr.head.ref,
      baseRefName: pr.base.ref,
      headRefOid: tips.head,
      baseRefOid: tips.base,
      mergeable: merge === undefined ? "UNKNOWN" : merge.mergeable ? "MERGEABLE" : "CONFLICTING",
      mergeStateStatus: merge === undefined ? "UNKNOWN" : merge.state.toUpperCase(),
      author: () => user(pr.user),
      repository: () => repositoryNode(repo),
      mergeCommit: commit && {
        __typename: "Commit",
        oid: pr.merge_commit_sha,
        abbreviatedOid: pr.merge_commit_sha!.slice(0, 7),
        message: commit.message,
        url: `${links.html}/${repo.full_name}/commit/${pr.merge_commit_sha}`,
      },
      autoMergeRequest: pr.auto_merge && {
        enabledAt: pr.auto_merge.enabled_at,
        enabledBy: () => user(pr.auto_merge!.enabled_by),
        mergeMethod: pr.auto_merge.merge_method.toUpperCase(),
        commitHeadline: pr.auto_merge.commit_title,
        commitBody: pr.auto_merge.commit_message,
        authorEmail: null,
        pullRequest: () => pullNode(repo, pr),
      },
    };
  };

  const findPull = (id: string): { repo: RepoRecord; pr: PullRecord } => {
    for (const repo of state.repos.values()) {
      const pr = repo.pulls.find((p) => p.node_id === id);
      if (pr) return { repo, pr };
    }
    throw failure("NOT_FOUND", `Could not resolve to a node with the global id of '${id}'`);
  };

  return {
    viewer: () => user(state.viewer),
    repository: ({ owner, name }: { owner: string; name: string }) => {
      const repo = state.repos.get(`${owner}/${name}`.toLowerCase());
      if (!repo) throw failure("NOT_FOUND", `Could not resolve to a Repository with the name '${owner}/${name}'.`);
      return repositoryNode(repo);
    },
    node: ({ id }: { id: string }) => {
      const { repo, pr } = findPull(id);
      return pullNode(repo, pr);
    },
    enablePullRequestAutoMerge: ({ input }: { input: AutoMergeInput }) => {
      const { repo, pr } = findPull(input.pullRequestId);
      const method = input.mergeMethod ?? "MERGE";
      if (method === "REBASE") throw failure("UNPROCESSABLE", "The emulator does not emulate rebase merges");
      const refusal = engine.enableAutoMerge(repo, pr, {
        method: method === "SQUASH" ? "squash" : "merge",
        title: input.commitHeadline ?? null,
        message: input.commitBody ?? null,
        expectedHeadOid: input.expectedHeadOid ?? null,
      });
      if (refusal) throw failure("UNPROCESSABLE", refusal);
      return {
        clientMutationId: input.clientMutationId ?? null,
        actor: user(state.viewer),
        pullRequest: pullNode(repo, pr),
      };
    },
    revertPullRequest: ({ input }: { input: RevertInput }) => {
      const { repo, pr } = findPull(input.pullRequestId);
      const revert = engine.revert(repo, pr, {
        title: input.title ?? null,
        body: input.body ?? null,
        draft: input.draft ?? false,
      });
      if (typeof revert === "string") throw failure("UNPROCESSABLE", revert);
      return {
        clientMutationId: input.clientMutationId ?? null,
        pullRequest: pullNode(repo, pr),
        revertPullRequest: pullNode(repo, revert),
      };
    },
  };
}

const shape = (error: GraphQLError) => ({
  ...(typeof error.extensions.type === "string" ? { type: error.extensions.type } : {}),
  ...(error.path ? { path: error.path } : {}),
  ...(error.locations ? { locations: error.locations } : {}),
  message: error.message,
});

/** Answers one POST /graphql body. Like GitHub, every outcome is HTTP 200; problems are in `errors`. */
export async function answerGraphQL(body: unknown, context: GraphQLContext): Promise<Answer> {
  if (!isObject(body) || typeof body.query !== "string") {
    return {
      status: 200,
      body: { errors: [{ message: "A query attribute must be specified and must be a string." }] },
    };
  }
  const variables = body.variables === undefined || body.variables === null ? {} : body.variables;
  if (!isObject(variables)) return { status: 200, body: { errors: [{ message: "Variables must be an object." }] } };
  const schemaNow = githubGraphQLSchema();
  let document;
  try {
    document = parse(body.query);
  } catch (error) {
    return { status: 200, body: { errors: [shape(error as GraphQLError)] } };
  }
  const invalid = validate(schemaNow, document);
  if (invalid.length > 0) return { status: 200, body: { errors: invalid.map(shape) } };
  const result = await execute({
    schema: schemaNow,
    document,
    rootValue: rootValue(context),
    variableValues: variables,
    operationName: typeof body.operationName === "string" ? body.operationName : null,
  });
  const out: Record<string, unknown> = {};
  if (result.data !== undefined) out.data = result.data;
  if (result.errors) out.errors = result.errors.map(shape);
  return { status: 200, body: out };
}
