/**
 * Azure Boards for the Azure DevOps emulator: the work item and comment routes azure-devops-node-api's
 * WorkItemTrackingApi calls (getWorkItem, updateWorkItem, getComments, addComment; locations in
 * azure-locations.ts), with the service's request validation: JSON-patch documents only as
 * `application/json-patch+json`, known operations and fields, states of the work item type's workflow (the
 * Agile process), a comment's text required. Work items live beside the emulator's state; tests add them with
 * `addWorkItem`.
 */
import { ApiError, type AzureEmulatorState } from "./azure-model.js";
import type { Matched, Query, Reply } from "./azure-handlers.js";

export type WorkItemType = "User Story" | "Bug" | "Task";

/** The Agile process's workflow states per type. */
export const AGILE_STATES: Record<WorkItemType, readonly string[]> = {
  "User Story": ["New", "Active", "Resolved", "Closed", "Removed"],
  Bug: ["New", "Active", "Resolved", "Closed"],
  Task: ["New", "Active", "Closed", "Removed"],
};

export interface WorkItemComment {
  id: number;
  text: string;
  createdDate: string;
}

export interface WorkItemRecord {
  id: number;
  rev: number;
  type: WorkItemType;
  title: string;
  state: string;
  tags: string[];
  comments: WorkItemComment[];
}

const ITEMS = new WeakMap<AzureEmulatorState, Map<number, WorkItemRecord>>();

export function workItemsOf(state: AzureEmulatorState): Map<number, WorkItemRecord> {
  let items = ITEMS.get(state);
  if (!items) ITEMS.set(state, (items = new Map()));
  return items;
}

export function addWorkItem(
  state: AzureEmulatorState,
  item: { id: number; type?: WorkItemType; title?: string; state?: string },
): WorkItemRecord {
  const record: WorkItemRecord = {
    id: item.id,
    rev: 1,
    type: item.type ?? "User Story",
    title: item.title ?? `Work item ${item.id}`,
    state: item.state ?? "New",
    tags: [],
    comments: [],
  };
  workItemsOf(state).set(item.id, record);
  return record;
}

const WIT = "Microsoft.TeamFoundation.WorkItemTracking.Server";
const error = (status: number, message: string, typeKey: string): ApiError =>
  new ApiError(status, {
    $id: "1",
    innerException: null,
    message,
    typeName: `${WIT}.${typeKey}, ${WIT}`,
    typeKey,
    errorCode: 0,
    eventId: 3200,
  });

const notFound = (id: string) =>
  error(
    404,
    `TF401232: Work item ${id} does not exist, or you do not have permissions to read it.`,
    "WorkItemUnauthorizedAccessException",
  );

// The service reads an operation by name or by the number of its enum (azure-devops-node-api sends Operation.Add as 0).
const OPS = ["add", "remove", "replace", "move", "copy", "test"];
const opName = (op: unknown): string | undefined =>
  typeof op === "string"
    ? OPS.find((o) => o === op.toLowerCase())
    : typeof op === "number" && Number.isInteger(op)
      ? OPS[op]
      : undefined;
const FIELDS: Record<string, keyof WorkItemRecord> = {
  "System.State": "state",
  "System.Tags": "tags",
  "System.Title": "title",
};

function fieldsOf(item: WorkItemRecord): Record<string, unknown> {
  return {
    "System.Id": item.id,
    "System.WorkItemType": item.type,
    "System.Title": item.title,
    "System.State": item.state,
    ...(item.tags.length > 0 ? { "System.Tags": item.tags.join("; ") } : {}),
  };
}

const eq = (a: string | undefined, b: string) => a !== undefined && a.toLowerCase() === b.toLowerCase();

/**
 * The work item routes under `{project}/_apis/wit/workItems/{id}[/comments]`, or undefined for any other path.
 * `contentType` is the request's Content-Type (JSON-patch documents must say so).
 */
export function matchWorkItemRoute(
  state: AzureEmulatorState,
  method: string,
  segs: string[],
  query: Query,
  contentType: string | undefined,
): Matched | undefined {
  if (!(eq(segs[1], "_apis") && eq(segs[2], "wit") && eq(segs[3], "workItems"))) return undefined;
  const [project, , , , rawId, sub] = segs;
  if (segs.length < 5 || segs.length > 6 || (sub !== undefined && !eq(sub, "comments"))) return undefined;
  const url = (id: number) => `${state.orgUrl}/${state.project.id}/_apis/wit/workItems/${id}`;
  const item = (): WorkItemRecord => {
    if (!eq(project, state.project.name) && !eq(project, state.project.id))
      throw error(404, `TF200016: The following project does not exist: ${project}.`, "ProjectDoesNotExistException");
    const found = /^\d+$/.test(rawId ?? "") ? workItemsOf(state).get(Number(rawId)) : undefined;
    if (!found) throw notFound(rawId ?? "");
    return found;
  };
  const wire = (w: WorkItemRecord) => ({ id: w.id, rev: w.rev, fields: fieldsOf(w), url: url(w.id) });
  const comment = (w: WorkItemRecord, c: WorkItemComment) => ({
    workItemId: w.id,
    id: c.id,
    version: 1,
    text: c.text,
    createdBy: { id: state.authenticatedUser.id, displayName: state.authenticatedUser.displayName },
    createdDate: c.createdDate,
    url: `${url(w.id)}/comments/${c.id}`,
  });
  const ok = (body: unknown): Reply => ({ status: 200, body });

  if (sub === undefined) {
    const table: Record<string, Matched> = {
      GET: { route: "getWorkItem", run: () => ok(wire(item())) },
      PATCH: {
        route: "updateWorkItem",
        run: (body) => {
          const target = item();
          if (!/^application\/json-patch\+json\b/i.test(contentType ?? ""))
            throw error(
              415,
              `The request indicated a Content-Type of "${contentType ?? ""}" for method type "PATCH" which is not supported. Valid content types for this method are: application/json-patch+json.`,
              "VssRequestContentTypeNotSupportedException",
            );
          if (!Array.isArray(body) || body.length === 0)
            throw error(
              400,
              "You must pass a valid patch document in the body of the request.",
              "VssPropertyValidationException",
            );
          const next = { ...target, tags: [...target.tags] };
          for (const op of body as unknown[]) {
            const o = (op ?? {}) as { op?: unknown; path?: unknown; value?: unknown };
            if (opName(o.op) === undefined || typeof o.path !== "string")
              throw error(
                400,
                "You must pass a valid patch document in the body of the request.",
                "VssPropertyValidationException",
              );
            if (!["add", "replace"].includes(opName(o.op)!))
              throw error(
                400,
                `emulator: only add and replace are served, not ${opName(o.op)}.`,
                "VssPropertyValidationException",
              );
            const field = /^\/fields\/(.+)$/.exec(o.path)?.[1];
            const key = field === undefined ? undefined : FIELDS[field];
            if (key === undefined)
              throw error(400, `TF51535: Cannot find field ${field ?? o.path}.`, "WorkItemFieldInvalidException");
            if (typeof o.value !== "string")
              throw error(400, `The value of ${field} must be a string.`, "WorkItemFieldInvalidException");
            if (key === "state") {
              if (!AGILE_STATES[target.type].includes(o.value))
                throw error(
                  400,
                  `TF401320: Rule Error for field State. Error code: Required, InvalidListValue, HasValues, LimitedToValues, AllowsOldValue, InvalidEmpty.`,
                  "RuleValidationException",
                );
              next.state = o.value;
            } else if (key === "tags") {
              next.tags = o.value
                .split(";")
                .map((t) => t.trim())
                .filter(Boolean);
            } else next.title = o.value;
          }
          Object.assign(target, next, { rev: target.rev + 1 });
          return ok(wire(target));
        },
      },
    };
    return table[method] ?? methodNotAllowed(method);
  }
  const table: Record<string, Matched> = {
    GET: {
      route: "getComments",
      run: () => {
        const target = item();
        const top = Math.min(Math.max(Number(query.get("$top") ?? 200) || 200, 1), 200);
        const start = Number(query.get("continuationToken") ?? 0) || 0;
        const page = target.comments.slice(start, start + top);
        const more = start + top < target.comments.length;
        return ok({
          totalCount: target.comments.length,
          count: page.length,
          comments: page.map((c) => comment(target, c)),
          ...(more ? { continuationToken: String(start + top) } : {}),
          url: `${url(target.id)}/comments`,
        });
      },
    },
    POST: {
      route: "addComment",
      run: (body) => {
        const target = item();
        const text = (body as { text?: unknown } | null)?.text;
        if (typeof text !== "string" || text.trim() === "")
          throw error(400, "The comment text cannot be empty.", "WorkItemCommentInvalidException");
        const c = { id: target.comments.length + 1, text, createdDate: new Date().toISOString() };
        target.comments.push(c);
        return ok(comment(target, c));
      },
    },
  };
  return table[method] ?? methodNotAllowed(method);
}

function methodNotAllowed(method: string): Matched {
  return {
    route: "unmatched",
    run: () => {
      throw new ApiError(405, {
        $id: "1",
        innerException: null,
        message: `The requested resource does not support http method '${method}'.`,
        typeName: "System.Web.Http.HttpResponseException",
        typeKey: "HttpResponseException",
        errorCode: 0,
        eventId: 0,
      });
    },
  };
}
