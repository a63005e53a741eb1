/**
 * A loopback emulator of the Azure DevOps REST API (Git pull requests, refs, commits, items, pushes,
 * reverts, PR statuses; Policy evaluations; Core teams; the identity search), for driving the UNMODIFIED azure-devops-node-api
 * client in tests:
 *
 *   const emu = await startAzureDevOpsEmulator();
 *   const conn = new azdev.WebApi(emu.orgUrl, azdev.getPersonalAccessTokenHandler("test-pat"));
 *   const git = await conn.getGitApi();
 *
 * What the client does first, and the emulator answers (never faulted, never delayed by `latencyMs`):
 *   1. OPTIONS {org}/_apis/Location        → ApiResourceLocations of the Location area
 *   2. GET     {org}/_apis/ResourceAreas    → {count: 0, value: []}, so every area's base URL stays the org URL
 *   3. OPTIONS {org}/_apis/git | core | policy → the locations of that area (once per client instance)
 *   (GET {org}/_apis/connectionData when WebApi.connect() is called.)
 * Then every call goes to the URL the client builds from the location's routeTemplate; the api-version
 * travels in `Accept: application/json;api-version=7.2-preview.N` (a `?api-version=` query is accepted too).
 *
 * Auth: the PAT handler sends `Authorization: Basic base64("PAT:" + token)` and `X-TFS-FedAuthRedirect:
 * Suppress`; any user name is accepted, the password must be the token. Anything else → 401 with an empty
 * body, which the client turns into Error("Failed request: (401)") with statusCode 401.
 *
 * Behaviour worth knowing (see azure-handlers.ts): 404 bodies are real-looking but the client resolves 404 as
 * `null` for every verb; create answers 201; the list call truncates descriptions to 400 characters and leaves
 * out _links/artifactId; reviewers carry `isRequired` only when true; labels and workItemRefs appear only
 * when there are some (workItemRefs on GET only with includeWorkItemRefs=true).
 *
 * Content: every commit holds its files (seed them with SeedCommit.files). Pushes change trees (409 TF401028
 * when oldObjectId is not the head); completing a PR merges its changes onto the target (squash or merge
 * commit), moves the target and deletes the source on deleteSourceBranch; reverts restore the content the
 * reverted commit changed. Items are served as JSON (getItem), content only with includeContent=true.
 *
 * Controls beyond seeding and faults:
 *   setCi(repo, checks, { minimumApprovers })  every PR of `repo` opened (or whose source moves by a push or
 *       ref update) from then on gets each check (ci.ts) as a Build policy evaluation: queued, running a third
 *       of the way in, then approved/rejected after delayMs by judge(spec, files changed vs the target, without
 *       the leading "/"). minimumApprovers > 0 adds a "Minimum number of reviewers" policy. setCi(repo, [])
 *       stops scripting CI for new runs.
 *   vote(repo, prId, reviewer, vote)  the reviewer (id, display name or unique name) votes 10/5/0/-5/-10,
 *       joining the PR as an optional reviewer if needed.
 *   fileAt(repo, branch, path) / branchHead(repo, branch)  what a branch holds now (undefined when missing).
 *   settled()  resolves once no CI, auto-complete or revert work is pending.
 * Auto-complete (PATCH autoCompleteSetBy = the authenticated identity) completes the PR as soon as no
 * blocker is left — draft, conflicts, a required reviewer below 5, a build evaluation not approved, too few
 * approvals — at once within the PATCH when nothing blocks, else when the last blocker clears. A rejected
 * check leaves it active with the evaluation saying why. Manual completion (PATCH status completed) is
 * refused with 409 while anything blocks or when lastMergeSourceCommit is not the source head. Reverts
 * run asynchronously: queued → inProgress → completed/failed over two ticks. Branch moves made by
 * seedRepo or by writing `state` directly do not trigger CI or auto-complete.
 */
import { randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { castVote, setCi as setCiOf } from "./azure-flow.js";
import { headOf } from "./azure-git.js";
import { addWorkItem, matchWorkItemRoute, type WorkItemRecord, type WorkItemType } from "./azure-boards.js";
import { Query, matchApiRoute, type AzureRoute, type Reply } from "./azure-handlers.js";
import { MAX_API_VERSION, RELEASED_API_VERSION, areaLocations, parseApiVersion } from "./azure-locations.js";
import {
  ApiError,
  addIdentity as addIdentityTo,
  addTeam as addTeamTo,
  createState,
  listOf,
  seedRepo as seedRepoInto,
  toRefName,
  type AzureEmulatorState,
  type AzureErrorBody,
  type EmulatorIdentity,
  type EmulatorRepo,
  type EmulatorTeam,
  type IdentityInput,
  type RepoSeed,
  type Scheduler,
} from "./azure-model.js";
import { itemPath } from "./azure-trees.js";
import type { CiCheckSpec } from "./ci.js";

export type { AzureRoute } from "./azure-handlers.js";
export type {
  AzureEmulatorState,
  AzureErrorBody,
  EmulatorIdentity,
  EmulatorRepo,
  EmulatorTeam,
  IdentityInput,
  PullRequestWire,
  RepoSeed,
  SeedChange,
  SeedCommit,
} from "./azure-model.js";

export interface AzureEmulatorOptions {
  /** Delay before every non-discovery answer, in ms (benchmarks). */
  latencyMs?: number;
  /** The one project. Default "Factory"; its default team is "{project} Team". */
  project?: string;
  /** The accepted PAT. Default "test-pat". */
  token?: string;
  /**
   * Tokens accepted as `Authorization: Bearer` (a pipeline's System.AccessToken, a Microsoft Entra ID token), as
   * azure-devops-node-api's getBearerHandler sends them. Default none: bearer credentials are refused.
   */
  bearerTokens?: readonly string[];
  /** The organization path segment of orgUrl. Default "acme". */
  org?: string;
}

export type FaultRoute = AzureRoute | "*";

export type Fault =
  /**
   * Answer this status with `body` (JSON unless a string; default: a TF400733 body for 429, else empty) and
   * `headers` — before any processing, or with `after`, once the request has taken effect (a write made, its
   * answer lost).
   */
  | { status: number; body?: unknown; headers?: Record<string, string>; after?: boolean }
  /** Wait, then answer normally. */
  | { delayMs: number }
  /**
   * Hold the request until `until` settles, then answer normally: for tests that must act while a request is
   * in flight, without racing a timer. `onHeld` is called when the request arrives and is held.
   */
  | { until: Promise<unknown>; onHeld?: () => void }
  /** Never answer (the client's socketTimeout fires). With `applied`, the request takes effect first. */
  | { hang: true; applied?: boolean }
  /** Destroy the socket without answering (client: ECONNRESET "socket hang up"). With `applied` (or `after`), the request takes effect first. */
  | { reset: true; applied?: boolean; after?: boolean };

export interface RequestLog {
  method: string;
  /** Path without the query string, as sent (still percent-encoded). */
  path: string;
  /** The query string including "?", or "". */
  query: string;
  route: AzureRoute | "discovery" | "unmatched";
  /** HTTP status answered, or "hang" / "reset" when no answer was sent. */
  status: number | "hang" | "reset";
  /** Date.now() when the request arrived. */
  at: number;
  /** Date.now() when the answer was sent (absent for hang/reset). */
  answeredAt?: number;
  /** The api-version the request carried (Accept header or query). */
  apiVersion?: string;
  authorized: boolean;
  /** The user-name half of a Basic Authorization header (the PAT handler sends "PAT"). */
  authUser?: string;
  /** Which injected fault handled it, if any. */
  fault?: "status" | "delay" | "held" | "hang" | "reset";
  /** The parsed JSON request body (or the raw text when it is not JSON). */
  body?: unknown;
  /** The JSON body answered (what the client received before deserialization). */
  response?: unknown;
}

export interface AzureEmulator {
  /** e.g. http://127.0.0.1:PORT/acme — pass to `new WebApi(orgUrl, …)`. */
  orgUrl: string;
  project: string;
  token: string;
  /** Live state, for assertions and direct manipulation (e.g. deleting a branch). */
  state: AzureEmulatorState;
  /** Creates a repository in the project, or merges more branches/commits into it. */
  seedRepo(name: string, seed: RepoSeed): EmulatorRepo;
  /** Adds (or replaces) an Azure Boards work item of the project (Agile process states; default New). */
  addWorkItem(item: { id: number; type?: WorkItemType; title?: string; state?: string }): WorkItemRecord;
  /** Registers a user (GUID id) as a member of `team` (default: the project's default team). */
  addIdentity(input: IdentityInput): EmulatorIdentity;
  /** Creates a team (its identity can be a reviewer). Returns the existing team of that name if any. */
  addTeam(name: string, description?: string): EmulatorTeam;
  /** The next `times` (default 1; Infinity allowed) calls of `route` ("*": any non-discovery route) meet `fault`. */
  inject(route: FaultRoute, fault: Fault, times?: number): void;
  /** Injected fault uses not yet consumed. */
  pendingFaults(): number;
  /** Drops every fault not yet used (the service "recovers"). */
  clearFaults(): void;
  /** Every request, discovery included, in arrival order. */
  requests: RequestLog[];
  /** Non-discovery calls of `route`; without a route (or "*"), all non-discovery calls. */
  calls(route?: FaultRoute): number;
  /** Scripts CI for the repository's pull requests (see the header). */
  setCi(repo: string, checks: CiCheckSpec[], options?: { minimumApprovers?: number }): void;
  /** Casts `reviewer`'s vote (10 approve, 5 approve with suggestions, 0, -5 wait, -10 reject) on a pull request. */
  vote(repo: string, prId: number, reviewer: string, vote: -10 | -5 | 0 | 5 | 10): void;
  /** The text of `path` on `branch` now, or undefined when the branch or the file is missing. */
  fileAt(repo: string, branch: string, path: string): string | undefined;
  /** The commit `branch` points at, or undefined when it does not exist. */
  branchHead(repo: string, branch: string): string | undefined;
  /** Resolves once no background work (CI, auto-complete, reverts) is pending; rejects after timeoutMs. */
  settled(timeoutMs?: number): Promise<void>;
  /** Forgets pull requests, labels, CI scripts, statuses, reverts, pending background work, faults and the request log; PR ids restart at 1. Repos, identities and teams stay. */
  reset(): void;
  close(): Promise<void>;
}

const eq = (a: string | undefined, b: string) => a !== undefined && a.toLowerCase() === b.toLowerCase();

function apiVersionOf(req: IncomingMessage, url: URL): string | undefined {
  const fromQuery = url.searchParams.get("api-version");
  if (fromQuery) return fromQuery;
  const accept = req.headers.accept ?? "";
  return /api-version=([^;,\s]+)/i.exec(accept)?.[1];
}

/**
 * The version checks of the service. Message texts are from memory of the real service [uncertain];
 * the client always sends a valid "7.2-preview.N" so only hand-made requests meet these.
 */
function checkApiVersion(method: string, raw: string | undefined): ApiError | undefined {
  const fail = (message: string, typeKey: string) =>
    new ApiError(400, {
      $id: "1",
      innerException: null,
      message,
      typeName: `Microsoft.VisualStudio.Services.WebApi.${typeKey}, Microsoft.VisualStudio.Services.WebApi`,
      typeKey,
      errorCode: 0,
      eventId: 3000,
    });
  if (raw === undefined) {
    if (method === "GET") return undefined;
    return fail(
      `No api-version was supplied for the ${method} request. The version must be supplied either as part of the Accept header (e.g. "application/json; api-version=1.0") or as a query parameter (e.g. "?api-version=1.0").`,
      "VssVersionNotSpecifiedException",
    );
  }
  const v = parseApiVersion(raw);
  if (!v) return fail(`The api-version '${raw}' is not valid.`, "VssInvalidApiVersionException");
  if (v.version > Number(MAX_API_VERSION)) {
    return fail(
      `The requested REST API version of ${raw} is out of range for this server. The latest REST API version this server supports is ${MAX_API_VERSION}.`,
      "VssVersionOutOfRangeException",
    );
  }
  if (v.version > Number(RELEASED_API_VERSION) && !v.preview) {
    return fail(
      `The requested version "${raw}" of the resource is under preview. The -preview flag must be supplied in the api-version for such requests. For example: "${raw}-preview"`,
      "VssInvalidPreviewVersionException",
    );
  }
  return undefined;
}

/** [uncertain] typeName/typeKey; message shape from learn.microsoft.com rate-limits page. */
function rateLimitBody(resource: string): AzureErrorBody {
  return {
    $id: "1",
    innerException: null,
    message: `TF400733: The request has been canceled: Request was blocked due to exceeding usage of resource '${resource}' in namespace 'User'.`,
    typeName:
      "Microsoft.TeamFoundation.Framework.Server.RequestBlockedException, Microsoft.TeamFoundation.Framework.Server",
    typeKey: "RequestBlockedException",
    errorCode: 0,
    eventId: 3000,
  };
}

interface QueuedFault {
  route: FaultRoute;
  fault: Fault;
  remaining: number;
}

export async function startAzureDevOpsEmulator(opts: AzureEmulatorOptions = {}): Promise<AzureEmulator> {
  const projectName = opts.project ?? "Factory";
  const token = opts.token ?? "test-pat";
  const org = opts.org ?? "acme";
  const latencyMs = opts.latencyMs ?? 0;

  const requests: RequestLog[] = [];
  let faults: QueuedFault[] = [];
  const timers = new Set<NodeJS.Timeout>();
  // Background work (CI, auto-complete, reverts) apart from request timers, so reset() can drop it alone.
  const background = new Set<NodeJS.Timeout>();
  /** Whoever waits in settled() for the background work to end. */
  const idleWaiters: Array<() => void> = [];
  const releaseIfIdle = () => {
    if (background.size === 0) for (const wake of idleWaiters.splice(0)) wake();
  };
  let closed = false;
  const scheduler: Scheduler = {
    after(ms, run) {
      if (closed) return;
      const t = setTimeout(() => {
        background.delete(t);
        try {
          if (!closed) run();
        } catch (error) {
          console.error("azure emulator: background work failed", error);
        } finally {
          // Work that schedules more work (CI, then auto-complete) keeps the emulator busy.
          releaseIfIdle();
        }
      }, ms);
      background.add(t);
    },
  };
  // Filled in once the port is known; state URLs are built from it.
  let state: AzureEmulatorState = undefined as unknown as AzureEmulatorState;

  const sleep = (ms: number) =>
    ms <= 0
      ? Promise.resolve()
      : new Promise<void>((resolve) => {
          const t = setTimeout(() => {
            timers.delete(t);
            resolve();
          }, ms);
          timers.add(t);
        });

  function takeFault(route: AzureRoute | "unmatched"): Fault | undefined {
    if (route === "unmatched") return undefined;
    const queued = faults.find((f) => f.remaining > 0 && (f.route === "*" || f.route === route));
    if (!queued) return undefined;
    queued.remaining -= 1;
    if (queued.remaining <= 0) faults = faults.filter((f) => f !== queued);
    return queued.fault;
  }

  /** Basic credentials: any user name, the token as password; or a bearer token the options accept. */
  function credentials(header: string | undefined): { user?: string; ok: boolean } {
    const bearer = /^Bearer\s+(\S+)$/i.exec(header ?? "");
    if (bearer?.[1]) return { ok: (opts.bearerTokens ?? []).includes(bearer[1]) };
    const m = /^Basic\s+(\S+)$/i.exec(header ?? "");
    if (!m?.[1]) return { ok: false };
    const decoded = Buffer.from(m[1], "base64").toString("utf8");
    const colon = decoded.indexOf(":");
    if (colon < 0) return { ok: false };
    return { user: decoded.slice(0, colon), ok: decoded.slice(colon + 1) === token };
  }

  function send(
    res: ServerResponse,
    entry: RequestLog,
    status: number,
    body: unknown,
    headers: Record<string, string> = {},
  ): void {
    entry.status = status;
    entry.answeredAt = Date.now();
    if (res.destroyed || res.writableEnded) return;
    const text = body === undefined || body === null ? "" : typeof body === "string" ? body : JSON.stringify(body);
    if (body !== undefined && body !== null && typeof body !== "string") entry.response = body;
    const out: Record<string, string> = {
      ActivityId: randomUUID(),
      "X-TFS-Session": randomUUID(),
      "X-VSS-E2EID": randomUUID(),
      "Content-Length": String(Buffer.byteLength(text)),
    };
    if (text !== "") {
      out["Content-Type"] =
        typeof body === "string"
          ? "text/plain; charset=utf-8"
          : `application/json; charset=utf-8${entry.apiVersion ? `; api-version=${entry.apiVersion}` : ""}`;
    }
    res.writeHead(status, { ...out, ...headers });
    res.end(text);
  }

  function sendUnauthorized(res: ServerResponse, entry: RequestLog): void {
    send(res, entry, 401, undefined, {
      "WWW-Authenticate":
        'Bearer authorization_uri=https://login.microsoftonline.com/common, Basic realm="https://dev.azure.com/", TFS-Federated',
      "X-TFS-ProcessId": randomUUID(),
    });
  }

  function discovery(method: string, rest: string[]): (() => Reply) | undefined {
    if (!eq(rest[0], "_apis")) return undefined;
    if (method === "OPTIONS" && rest.length === 2)
      return () => ({ status: 200, body: listOf(areaLocations(rest[1] ?? "")) });
    if (method === "GET" && rest.length === 2 && eq(rest[1], "ResourceAreas"))
      return () => ({ status: 200, body: listOf([]) });
    if (method === "GET" && rest.length === 3 && eq(rest[1], "ResourceAreas")) return () => ({ status: 404 });
    if (method === "GET" && rest.length === 2 && eq(rest[1], "connectionData")) {
      return () => {
        const me = state.authenticatedUser;
        const user = {
          id: me.id,
          descriptor: `Microsoft.IdentityModel.Claims.ClaimsIdentity;${me.uniqueName}`,
          subjectDescriptor: me.descriptor,
          providerDisplayName: me.displayName,
          isActive: true,
          properties: { Account: { $type: "System.String", $value: me.uniqueName } },
          resourceVersion: 2,
          metaTypeId: 0,
        };
        return {
          status: 200,
          body: {
            authenticatedUser: user,
            authorizedUser: user,
            instanceId: state.project.id,
            deploymentId: state.project.id,
            deploymentType: "hosted",
            locationServiceData: {
              serviceOwner: "00025394-6065-48ca-87d9-7f5672854ef7",
              defaultAccessMappingMoniker: "PublicAccessMapping",
              lastChangeId: 1,
              lastChangeId64: 1,
            },
          },
        };
      };
    }
    return undefined;
  }

  function run(matched: { run: (body: unknown) => Reply }, body: unknown): Reply {
    try {
      return matched.run(body);
    } catch (error) {
      if (error instanceof ApiError) return { status: error.status, body: error.body };
      const message = error instanceof Error ? error.message : String(error);
      return {
        status: 500,
        body: {
          $id: "1",
          innerException: null,
          message: `emulator bug: ${message}`,
          typeName: "Emulator",
          typeKey: "Emulator",
          errorCode: 0,
          eventId: 0,
        },
      };
    }
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const method = (req.method ?? "GET").toUpperCase();
    const url = new URL(req.url ?? "/", "http://emulator");
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const raw = Buffer.concat(chunks).toString("utf8");
    let body: unknown;
    if (raw !== "") {
      try {
        body = JSON.parse(raw);
      } catch {
        body = raw;
      }
    }
    const creds = credentials(req.headers.authorization);
    const entry: RequestLog = {
      method,
      path: url.pathname,
      query: url.search,
      route: "unmatched",
      status: 0,
      at: Date.now(),
      authorized: creds.ok,
      ...(creds.user !== undefined ? { authUser: creds.user } : {}),
      ...(apiVersionOf(req, url) !== undefined ? { apiVersion: apiVersionOf(req, url) } : {}),
      ...(body !== undefined ? { body } : {}),
    };
    requests.push(entry);

    let segs: string[];
    try {
      segs = url.pathname.split("/").filter(Boolean).map(decodeURIComponent);
    } catch {
      segs = [];
    }
    const rest = eq(segs[0], org) ? segs.slice(1) : undefined;

    const discovered = rest && discovery(method, rest);
    if (discovered) {
      entry.route = "discovery";
      if (!entry.authorized) return sendUnauthorized(res, entry);
      const reply = discovered();
      return send(res, entry, reply.status, reply.body);
    }

    const query = new Query(url.searchParams);
    const matched = rest
      ? (matchWorkItemRoute(state, method, rest, query, req.headers["content-type"]) ??
        matchApiRoute(state, method, rest, query))
      : undefined;
    if (matched) entry.route = matched.route;
    if (!entry.authorized) {
      await sleep(latencyMs);
      return sendUnauthorized(res, entry);
    }
    if (!matched) {
      await sleep(latencyMs);
      // The service answers unknown routes with a 404 page; the client turns any 404 into null.
      return send(res, entry, 404, {
        $id: "1",
        innerException: null,
        message: `emulator: no route for ${method} ${url.pathname}`,
        typeName: "Emulator",
        typeKey: "NoRoute",
        errorCode: 0,
        eventId: 0,
      });
    }

    const fault = takeFault(matched.route);
    if (fault && "status" in fault && fault.after) {
      entry.fault = "status";
      await sleep(latencyMs);
      if (closed) return;
      run(matched, body);
      return send(res, entry, fault.status, fault.body, fault.headers ?? {});
    }
    if (fault && "status" in fault) {
      entry.fault = "status";
      await sleep(latencyMs);
      const headers = fault.headers ?? {};
      const resource = Object.entries(headers).find(([k]) => k.toLowerCase() === "x-ratelimit-resource")?.[1] ?? "Core";
      const faultBody =
        fault.body !== undefined ? fault.body : fault.status === 429 ? rateLimitBody(resource) : undefined;
      return send(res, entry, fault.status, faultBody, headers);
    }
    if (fault && "delayMs" in fault) {
      entry.fault = "delay";
      await sleep(fault.delayMs);
    }
    if (fault && "until" in fault) {
      entry.fault = "held";
      fault.onHeld?.();
      await fault.until;
    }
    if (fault && ("hang" in fault || "reset" in fault)) {
      const kind = "hang" in fault ? "hang" : "reset";
      entry.fault = kind;
      entry.status = kind;
      if (fault.applied || ("after" in fault && fault.after)) run(matched, body);
      if (kind === "reset") req.socket.destroy();
      // A hung request stays open until the client gives up or close() ends every connection.
      return;
    }

    const versionError = checkApiVersion(method, entry.apiVersion);
    await sleep(latencyMs);
    if (closed) return;
    if (versionError) return send(res, entry, versionError.status, versionError.body);
    const reply = run(matched, body);
    send(res, entry, reply.status, reply.body);
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      if (!res.headersSent && !res.destroyed) {
        res.writeHead(500, { "Content-Type": "text/plain" });
        res.end(`emulator bug: ${error instanceof Error ? error.message : String(error)}`);
      }
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const orgUrl = `http://127.0.0.1:${port}/${org}`;
  state = createState(orgUrl, projectName, scheduler);

  const isApiCall = (r: RequestLog) => r.route !== "discovery";
  const repoNamed = (name: string): EmulatorRepo => {
    const repo = state.repos.get(name);
    if (!repo) throw new Error(`no repository "${name}" was seeded`);
    return repo;
  };

  return {
    orgUrl,
    project: projectName,
    token,
    get state() {
      return state;
    },
    seedRepo: (name, seed) => seedRepoInto(state, name, seed),
    addWorkItem: (item) => addWorkItem(state, item),
    addIdentity: (input) => addIdentityTo(state, input),
    addTeam: (name, description) => addTeamTo(state, name, description),
    inject(route, fault, times = 1) {
      if (!(times >= 1)) throw new Error(`inject: times must be ≥ 1, got ${times}`);
      faults.push({ route, fault, remaining: times });
    },
    pendingFaults: () => faults.reduce((n, f) => n + f.remaining, 0),
    clearFaults: () => {
      faults = [];
    },
    requests,
    calls(route) {
      return requests.filter((r) => isApiCall(r) && (route === undefined || route === "*" || r.route === route)).length;
    },
    setCi(repo, checks, options = {}) {
      setCiOf(state, repoNamed(repo), checks, options.minimumApprovers ?? 0);
    },
    vote(repo, prId, reviewer, vote) {
      const r = repoNamed(repo);
      const pr = state.pullRequests.find((p) => p.pullRequestId === prId && p.repository.id === r.id);
      if (!pr) throw new Error(`vote: no pull request ${prId} in ${repo}`);
      const key = reviewer.toLowerCase();
      const identity = [...state.identities.values()].find(
        (i) => i.id === key || i.displayName.toLowerCase() === key || i.uniqueName.toLowerCase() === key,
      );
      if (!identity) throw new Error(`vote: no identity "${reviewer}"`);
      castVote(state, r, pr, identity, vote);
    },
    fileAt(repo, branch, path) {
      const r = repoNamed(repo);
      const head = headOf(r, toRefName(branch));
      return head === undefined ? undefined : r.commits.get(head)?.tree.get(itemPath(path));
    },
    branchHead: (repo, branch) => headOf(repoNamed(repo), toRefName(branch)),
    settled(timeoutMs = 10_000) {
      if (background.size === 0) return Promise.resolve();
      return new Promise<void>((resolve, reject) => {
        const wake = () => {
          clearTimeout(bound);
          resolve();
        };
        const bound = setTimeout(() => {
          idleWaiters.splice(idleWaiters.indexOf(wake), 1);
          reject(new Error(`settled: background work still pending after ${timeoutMs} ms`));
        }, timeoutMs);
        idleWaiters.push(wake);
      });
    },
    reset() {
      for (const t of background) clearTimeout(t);
      background.clear();
      releaseIfIdle();
      state.pullRequests.length = 0;
      state.tags.clear();
      state.nextPullRequestId = 1;
      state.ci.clear();
      state.evaluations.clear();
      state.statuses.clear();
      state.reverts.length = 0;
      faults = [];
      requests.length = 0;
    },
    async close() {
      closed = true;
      for (const t of [...timers, ...background]) clearTimeout(t);
      timers.clear();
      background.clear();
      releaseIfIdle();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
