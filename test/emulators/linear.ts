/**
 * A loopback emulator of Linear's GraphQL API, for driving the UNMODIFIED @linear/sdk in tests:
 *
 *   const linear = await startLinearEmulator({ apiKey: "lin_api_test" });
 *   linear.addIssue({ identifier: "BVL-232", state: "Todo" });
 *   new LinearClient({ apiKey: "lin_api_test", apiUrl: linear.url });
 *
 * Every request is checked against what the SDK ships (see linear-schema.ts): the operation must be one of
 * the SDK's own documents, every field it selects must exist on its type, and its variables must fit their
 * declared types. A request that does not is answered 400 with a GRAPHQL_VALIDATION_FAILED error, as Linear
 * does, and listed in `violations` (a test should assert there are none).
 *
 * Implemented root fields: `issue(id)` (by id or identifier), `workflowStates(filter: {team: {id: {eq}}})`,
 * `attachmentLinkURL(issueId, url, title)` (one attachment per issue and URL: a second call updates it, as
 * Linear documents), `issueUpdate(id, input: {stateId})`, `commentCreate(input: {issueId, body})`, and on an
 * issue `attachments(filter: {url: {eq}})` and `comments(filter: {body: {contains}})`. Any other operation of
 * the SDK is answered with an error naming it. Fields the emulator keeps no value for are answered as Linear's
 * schema types them: null when nullable, else an empty list, false, 0, "" or a default object.
 *
 * Auth: `Authorization: <apiKey>` (Linear's personal keys go without "Bearer"), else 400 AUTHENTICATION_ERROR.
 * Not found: `Entity not found: Issue` (INVALID_INPUT, userError). Faults: `inject(fault, times)` — `{status}`,
 * `{reset: true}` (the socket is destroyed), `{ratelimited: true, retryAfterS}` (Linear's rate limit: 400 with a
 * RATELIMITED error and Retry-After) — and `down()` / `up()`: while down every request gets 503.
 */
import { randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import {
  Kind,
  parse,
  print,
  type DocumentNode,
  type FragmentDefinitionNode,
  type OperationDefinitionNode,
  type SelectionSetNode,
  type ValueNode,
} from "graphql";
import { inputProblems, loadLinearSchema, typeOfNode, type FieldType, type LinearSchema } from "./linear-schema.js";

export interface EmulatedState {
  id: string;
  name: string;
  type: "triage" | "backlog" | "unstarted" | "started" | "completed" | "canceled";
  teamId: string;
}

export interface EmulatedAttachment {
  id: string;
  issueId: string;
  url: string;
  title: string;
  createdAt: string;
}

export interface EmulatedComment {
  id: string;
  issueId: string;
  body: string;
  createdAt: string;
}

export interface EmulatedIssue {
  id: string;
  identifier: string;
  title: string;
  teamId: string;
  stateId: string;
}

export interface LinearRequest {
  operation: string;
  variables: Record<string, unknown>;
  status: number;
}

type Fault = { status: number } | { reset: true } | { ratelimited: true; retryAfterS: number };

export interface LinearEmulator {
  url: string;
  issues: Map<string, EmulatedIssue>;
  states: EmulatedState[];
  attachments: EmulatedAttachment[];
  comments: EmulatedComment[];
  requests: LinearRequest[];
  /** Requests that did not fit the SDK's documents or Linear's types (emulator or client bugs). */
  violations: string[];
  /** Adds an issue to team BVL (states Backlog, Todo, In Progress, In Review, Done, Canceled). */
  addIssue(issue: { identifier: string; title?: string; state?: string }): EmulatedIssue;
  /** The state name an issue is in. */
  stateOf(identifier: string): string;
  inject(fault: Fault, times?: number): void;
  down(): void;
  up(): void;
  close(): Promise<void>;
}

const DEFAULT_STATES: Array<[string, EmulatedState["type"]]> = [
  ["Backlog", "backlog"],
  ["Todo", "unstarted"],
  ["In Progress", "started"],
  ["In Review", "started"],
  ["Done", "completed"],
  ["Canceled", "canceled"],
];

class GraphQLFailure extends Error {
  constructor(
    message: string,
    readonly extensions: Record<string, unknown>,
    readonly status = 200,
  ) {
    super(message);
  }
}

const notFound = (what: string) =>
  new GraphQLFailure(`Entity not found: ${what}`, {
    type: "invalid input",
    code: "INVALID_INPUT",
    userError: true,
    userPresentableMessage: `Could not find referenced ${what}.`,
  });

type Obj = Record<string, unknown> & { __typename: string };

/** The value Linear's schema gives a field nobody set: null when nullable, else the type's zero value. */
function zero(schema: LinearSchema, type: FieldType): unknown {
  if (type.nullable) return null;
  if (type.list) return [];
  switch (type.name) {
    case "String":
    case "ID":
      return "";
    case "Int":
    case "Float":
      return 0;
    case "Boolean":
      return false;
    case "DateTime":
    case "TimelessDate":
      return "1970-01-01T00:00:00.000Z";
    case "JSON":
    case "JSONObject":
      return {};
  }
  const values = schema.enums.get(type.name);
  if (values) return values[0];
  return { __typename: type.name };
}

export async function startLinearEmulator(options: { apiKey: string }): Promise<LinearEmulator> {
  const schema = loadLinearSchema();
  const teamId = randomUUID();
  const states: EmulatedState[] = DEFAULT_STATES.map(([name, type]) => ({ id: randomUUID(), name, type, teamId }));
  const issues = new Map<string, EmulatedIssue>();
  const attachments: EmulatedAttachment[] = [];
  const comments: EmulatedComment[] = [];
  const requests: LinearRequest[] = [];
  const violations: string[] = [];
  const faults: Fault[] = [];
  let isDown = false;
  let syncId = 1000;

  const findIssue = (id: unknown): EmulatedIssue => {
    const key = String(id);
    const issue = issues.get(key) ?? [...issues.values()].find((i) => i.identifier === key.toUpperCase());
    if (!issue) throw notFound("Issue");
    return issue;
  };

  const connection = (typename: string, nodes: Obj[]): Obj => ({
    __typename: typename,
    nodes,
    pageInfo: {
      __typename: "PageInfo",
      hasNextPage: false,
      hasPreviousPage: false,
      startCursor: null,
      endCursor: null,
    },
  });

  const stateObj = (s: EmulatedState): Obj => ({
    __typename: "WorkflowState",
    id: s.id,
    name: s.name,
    type: s.type,
    team: { __typename: "Team", id: s.teamId },
    color: "#000000",
    position: DEFAULT_STATES.findIndex(([n]) => n === s.name),
  });

  const attachmentObj = (a: EmulatedAttachment): Obj => ({
    __typename: "Attachment",
    id: a.id,
    url: a.url,
    title: a.title,
    issue: { __typename: "Issue", id: a.issueId },
    createdAt: a.createdAt,
    updatedAt: a.createdAt,
  });

  const commentObj = (c: EmulatedComment): Obj => ({
    __typename: "Comment",
    id: c.id,
    body: c.body,
    issue: { __typename: "Issue", id: c.issueId },
    createdAt: c.createdAt,
    updatedAt: c.createdAt,
  });

  const issueObj = (issue: EmulatedIssue): Obj => ({
    __typename: "Issue",
    id: issue.id,
    identifier: issue.identifier,
    title: issue.title,
    number: Number(issue.identifier.split("-")[1]),
    url: `https://linear.app/emulated/issue/${issue.identifier.toLowerCase()}`,
    team: { __typename: "Team", id: issue.teamId },
    state: { __typename: "WorkflowState", id: issue.stateId },
    sharedAccess: { __typename: "IssueSharedAccess" },
    attachments: (args: Record<string, unknown>) => {
      const eq = (args.filter as { url?: { eq?: string } } | undefined)?.url?.eq;
      return connection(
        "AttachmentConnection",
        attachments.filter((a) => a.issueId === issue.id && (eq === undefined || a.url === eq)).map(attachmentObj),
      );
    },
    comments: (args: Record<string, unknown>) => {
      const contains = (args.filter as { body?: { contains?: string } } | undefined)?.body?.contains;
      return connection(
        "CommentConnection",
        comments
          .filter((c) => c.issueId === issue.id && (contains === undefined || c.body.includes(contains)))
          .map(commentObj),
      );
    },
  });

  const payload = (typename: string, extra: Record<string, unknown>): Obj => ({
    __typename: typename,
    success: true,
    lastSyncId: ++syncId,
    ...extra,
  });

  const root: Record<string, (args: Record<string, unknown>) => Obj> = {
    issue: (args) => issueObj(findIssue(args.id)),
    workflowStates: (args) => {
      const team = (args.filter as { team?: { id?: { eq?: string } } } | undefined)?.team?.id?.eq;
      return connection(
        "WorkflowStateConnection",
        states.filter((s) => team === undefined || s.teamId === team).map(stateObj),
      );
    },
    attachmentLinkURL: (args) => {
      const issue = findIssue(args.issueId);
      const url = String(args.url);
      let attachment = attachments.find((a) => a.issueId === issue.id && a.url === url);
      if (attachment) attachment.title = String(args.title ?? attachment.title);
      else {
        attachment = {
          id: randomUUID(),
          issueId: issue.id,
          url,
          title: String(args.title ?? url),
          createdAt: new Date().toISOString(),
        };
        attachments.push(attachment);
      }
      return payload("AttachmentPayload", { attachment: attachmentObj(attachment) });
    },
    issueUpdate: (args) => {
      const issue = findIssue(args.id);
      const input = args.input as { stateId?: string };
      if (input.stateId !== undefined) {
        const state = states.find((s) => s.id === input.stateId && s.teamId === issue.teamId);
        if (!state) throw notFound("WorkflowState");
        issue.stateId = state.id;
      }
      return payload("IssuePayload", { issue: issueObj(issue) });
    },
    commentCreate: (args) => {
      const input = args.input as { issueId?: string; body?: string };
      const issue = findIssue(input.issueId);
      const comment = {
        id: randomUUID(),
        issueId: issue.id,
        body: String(input.body ?? ""),
        createdAt: new Date().toISOString(),
      };
      comments.push(comment);
      return payload("CommentPayload", { comment: commentObj(comment) });
    },
  };

  const argValue = (node: ValueNode, variables: Record<string, unknown>): unknown => {
    switch (node.kind) {
      case Kind.VARIABLE:
        return variables[node.name.value];
      case Kind.NULL:
        return null;
      case Kind.INT:
        return Number(node.value);
      case Kind.FLOAT:
        return Number(node.value);
      case Kind.STRING:
      case Kind.ENUM:
        return node.value;
      case Kind.BOOLEAN:
        return node.value;
      case Kind.LIST:
        return node.values.map((v) => argValue(v, variables));
      case Kind.OBJECT:
        return Object.fromEntries(node.fields.map((f) => [f.name.value, argValue(f.value, variables)]));
    }
  };

  /** Shapes `value` of `typename` by the selection set, checking each field against the schema. */
  const shape = (
    value: Obj,
    typename: string,
    selection: SelectionSetNode,
    fragments: Map<string, FragmentDefinitionNode>,
    variables: Record<string, unknown>,
    at: string,
  ): Record<string, unknown> => {
    const actual = value.__typename ?? typename;
    const fields = schema.types.get(actual);
    if (!fields)
      throw new GraphQLFailure(`Unknown type ${actual} at ${at}`, { code: "GRAPHQL_VALIDATION_FAILED" }, 400);
    const out: Record<string, unknown> = {};
    const applies = (condition: string | undefined) =>
      condition === undefined || condition === actual || (schema.unions.get(condition)?.includes(actual) ?? false);
    for (const sel of selection.selections) {
      if (sel.kind === Kind.FRAGMENT_SPREAD) {
        const fragment = fragments.get(sel.name.value);
        if (!fragment)
          throw new GraphQLFailure(`Unknown fragment ${sel.name.value}`, { code: "GRAPHQL_VALIDATION_FAILED" }, 400);
        if (applies(fragment.typeCondition.name.value))
          Object.assign(out, shape(value, actual, fragment.selectionSet, fragments, variables, at));
        continue;
      }
      if (sel.kind === Kind.INLINE_FRAGMENT) {
        if (applies(sel.typeCondition?.name.value))
          Object.assign(out, shape(value, actual, sel.selectionSet, fragments, variables, at));
        continue;
      }
      const name = sel.name.value;
      const key = sel.alias?.value ?? name;
      if (name === "__typename") {
        out[key] = actual;
        continue;
      }
      const type = fields.get(name);
      if (!type) {
        throw new GraphQLFailure(
          `Cannot query field "${name}" on type "${actual}".`,
          { code: "GRAPHQL_VALIDATION_FAILED" },
          400,
        );
      }
      const args = Object.fromEntries((sel.arguments ?? []).map((a) => [a.name.value, argValue(a.value, variables)]));
      const raw = value[name];
      let v: unknown = typeof raw === "function" ? (raw as (a: Record<string, unknown>) => unknown)(args) : raw;
      if (v === undefined) v = zero(schema, type);
      if (v === null || !sel.selectionSet) {
        out[key] = v;
        continue;
      }
      const child = (item: unknown) =>
        shape(
          item as Obj,
          (item as Obj).__typename ?? type.name,
          sel.selectionSet!,
          fragments,
          variables,
          `${at}.${key}`,
        );
      out[key] = Array.isArray(v) ? v.map(child) : child(v);
    }
    return out;
  };

  const execute = (
    query: string,
    variables: Record<string, unknown>,
  ): { name: string; data: Record<string, unknown> } => {
    let document: DocumentNode;
    try {
      document = parse(query);
    } catch (error) {
      throw new GraphQLFailure(`Syntax Error: ${(error as Error).message}`, { code: "GRAPHQL_PARSE_FAILED" }, 400);
    }
    const operation = document.definitions.find(
      (d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION,
    );
    const name = operation?.name?.value ?? "(anonymous)";
    const shipped = schema.operations.get(name);
    const invalid = (message: string) =>
      new GraphQLFailure(message, { code: "GRAPHQL_VALIDATION_FAILED", type: "graphql error" }, 400);
    if (!operation || !shipped) throw invalid(`Operation ${name} is not one of @linear/sdk's documents.`);
    if (print(document) !== shipped.printed) throw invalid(`Operation ${name} differs from @linear/sdk's document.`);
    const declared = new Map(
      (operation.variableDefinitions ?? []).map((d) => [d.variable.name.value, typeOfNode(d.type)]),
    );
    const problems: string[] = [];
    for (const key of Object.keys(variables)) if (!declared.has(key)) problems.push(`$${key}: not declared by ${name}`);
    for (const [key, type] of declared) problems.push(...inputProblems(schema, type, variables[key], `$${key}`));
    if (problems.length > 0) throw invalid(`Variable problems in ${name}: ${problems.join("; ")}`);
    const fragments = new Map(
      document.definitions
        .filter((d): d is FragmentDefinitionNode => d.kind === Kind.FRAGMENT_DEFINITION)
        .map((f) => [f.name.value, f]),
    );
    const rootType = operation.operation === "mutation" ? "Mutation" : "Query";
    const rootFields = schema.types.get(rootType)!;
    const data: Record<string, unknown> = {};
    for (const sel of operation.selectionSet.selections) {
      if (sel.kind !== Kind.FIELD) throw invalid(`Unexpected ${sel.kind} at the root of ${name}`);
      const field = sel.name.value;
      const type = rootFields.get(field);
      if (!type) throw invalid(`Cannot query field "${field}" on type "${rootType}".`);
      const resolve = root[field];
      if (!resolve)
        throw new GraphQLFailure(
          `The Linear emulator does not implement ${rootType}.${field}.`,
          { code: "INTERNAL_SERVER_ERROR" },
          400,
        );
      const args = Object.fromEntries((sel.arguments ?? []).map((a) => [a.name.value, argValue(a.value, variables)]));
      const value = resolve(args);
      data[sel.alias?.value ?? field] = sel.selectionSet
        ? shape(value, type.name, sel.selectionSet, fragments, variables, field)
        : value;
    }
    return { name, data };
  };

  const send = (res: ServerResponse, status: number, body: unknown) => {
    res.writeHead(status, { "content-type": "application/json; charset=utf-8" });
    res.end(JSON.stringify(body));
  };

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const fault = faults.shift();
    if (fault && "reset" in fault) {
      req.socket.destroy();
      return;
    }
    let body: { query?: unknown; variables?: unknown };
    try {
      body = JSON.parse(Buffer.concat(chunks).toString("utf8")) as typeof body;
    } catch {
      body = {};
    }
    const variables = (body.variables ?? {}) as Record<string, unknown>;
    const record = (operation: string, status: number) => requests.push({ operation, variables, status });
    if (fault && "ratelimited" in fault) {
      record("(ratelimited)", 400);
      res.writeHead(400, {
        "content-type": "application/json; charset=utf-8",
        "retry-after": String(fault.retryAfterS),
      });
      res.end(
        JSON.stringify({
          errors: [
            {
              message: "Rate limit exceeded",
              extensions: { type: "ratelimited", code: "RATELIMITED", userError: true },
            },
          ],
        }),
      );
      return;
    }
    if (isDown || fault) {
      const status = fault && "status" in fault ? fault.status : 503;
      record("(fault)", status);
      send(res, status, { errors: [{ message: "Service Unavailable", extensions: { type: "internal error" } }] });
      return;
    }
    if (req.method !== "POST" || req.headers.authorization !== options.apiKey) {
      record("(unauthenticated)", 400);
      send(res, 400, {
        errors: [
          {
            message: "Authentication required, not authenticated",
            extensions: { type: "authentication error", code: "AUTHENTICATION_ERROR", userError: true },
          },
        ],
      });
      return;
    }
    try {
      const { name, data } = execute(String(body.query ?? ""), variables);
      record(name, 200);
      send(res, 200, { data });
    } catch (error) {
      if (!(error instanceof GraphQLFailure)) throw error;
      if (error.status === 400) violations.push(error.message);
      record("(error)", error.status);
      send(res, error.status, { errors: [{ message: error.message, extensions: error.extensions }], data: null });
    }
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => send(res, 500, { errors: [{ message: String(error) }] }));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}/graphql`,
    issues,
    states,
    attachments,
    comments,
    requests,
    violations,
    addIssue({ identifier, title, state }) {
      const initial = states.find((s) => s.name === (state ?? "Todo"));
      if (!initial) throw new Error(`no state ${state}`);
      const issue = {
        id: randomUUID(),
        identifier,
        title: title ?? `Issue ${identifier}`,
        teamId,
        stateId: initial.id,
      };
      issues.set(issue.id, issue);
      return issue;
    },
    stateOf(identifier) {
      const issue = findIssue(identifier);
      return states.find((s) => s.id === issue.stateId)!.name;
    },
    inject(fault, times = 1) {
      for (let i = 0; i < times; i++) faults.push(fault);
    },
    down() {
      isDown = true;
    },
    up() {
      isDown = false;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
