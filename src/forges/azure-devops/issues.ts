import type { JsonPatchOperation } from "azure-devops-node-api/interfaces/common/VSSInterfaces.js";
import { Operation } from "azure-devops-node-api/interfaces/common/VSSInterfaces.js";
import type { WorkItem } from "azure-devops-node-api/interfaces/WorkItemTrackingInterfaces.js";
import type { ForgeIssues, IssueComment } from "../forge.js";
import type { AzureDevOpsContext } from "./context.js";

/** Comment pages read per work item at most: one with more is not one this agent follows. */
const MAX_PAGES = 10;

/** What typed-rest-client resolves as null (a 404) becomes an error the tracker's caller can classify. */
class WorkItemNotFound extends Error {
  readonly statusCode = 404;
  constructor(id: number) {
    super(`Azure Boards has no work item ${id} (or the token cannot see it).`);
    this.name = "WorkItemNotFound";
  }
}

const tagsOf = (item: WorkItem): string[] =>
  String(item.fields?.["System.Tags"] ?? "")
    .split(";")
    .map((t) => t.trim())
    .filter(Boolean);

/**
 * Azure Boards work items for the tracker adapter (src/trackers/azure-boards.ts) through azure-devops-node-api's
 * WorkItemTrackingApi: the state (System.State) and tags (System.Tags) by JSON-patch, and comments. No retry
 * here (see ForgeIssues): failures reach the tracker's caller with their status code. `repo` is not needed:
 * work items belong to the project.
 */
export function workItemIssues(ctx: AzureDevOpsContext): ForgeIssues {
  const { project } = ctx;
  const read = async (id: number): Promise<WorkItem> => {
    const api = await ctx.workItems();
    const item = await api.getWorkItem(id, ["System.State", "System.Tags"], undefined, undefined, project);
    if (!item) throw new WorkItemNotFound(id);
    return item;
  };
  const patch = async (id: number, document: JsonPatchOperation[]): Promise<void> => {
    const api = await ctx.workItems();
    const updated = await api.updateWorkItem({}, document, id, project);
    if (!updated) throw new WorkItemNotFound(id);
  };
  return {
    async listComments(_repo, issue) {
      const api = await ctx.workItems();
      const comments: IssueComment[] = [];
      let token: string | undefined;
      for (let page = 0; page < MAX_PAGES; page++) {
        const list = await api.getComments(project, issue, 200, token);
        if (!list) throw new WorkItemNotFound(issue);
        comments.push(...(list.comments ?? []).map((c) => ({ id: c.id ?? 0, text: c.text ?? "" })));
        token = list.continuationToken ?? undefined;
        if (!token) break;
      }
      return comments;
    },
    async addComment(_repo, issue, text) {
      const api = await ctx.workItems();
      const added = await api.addComment({ text }, project, issue);
      if (!added) throw new WorkItemNotFound(issue);
    },
    async addLabels(_repo, issue, labels) {
      const tags = tagsOf(await read(issue));
      const missing = labels.filter((l) => !tags.some((t) => t.toLowerCase() === l.toLowerCase()));
      if (missing.length === 0) return;
      await patch(issue, [{ op: Operation.Add, path: "/fields/System.Tags", value: [...tags, ...missing].join("; ") }]);
    },
    async getState(_repo, issue) {
      return String((await read(issue)).fields?.["System.State"] ?? "");
    },
    async setState(_repo, issue, state) {
      await patch(issue, [{ op: Operation.Add, path: "/fields/System.State", value: state }]);
    },
  };
}
