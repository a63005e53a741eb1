/**
 * The ApiResourceLocation lists the Azure DevOps emulator answers to the client's location discovery
 * (`OPTIONS {org}/_apis/{area}`).
 *
 * azure-devops-node-api never builds a URL by itself: every generated method calls
 * `vsoClient.getVersioningData(version, area, locationId, routeValues, queryValues)`, which fetches the
 * area's locations once per client instance, looks the location up by id, negotiates the api-version
 * against `releasedVersion` / `maxVersion` / `resourceVersion`, and fills `routeTemplate` (dropping
 * segments whose value is missing, `{*name}` wildcards included). So ids, templates and versions here must
 * match what GitApi.js / CoreApi.js / PolicyApi.js / LocationsApi.js request; a method whose id is not listed fails in the
 * client with "Failed to find api location for area: … id: …", which is what we want for anything the
 * emulator does not serve.
 */

export interface ApiResourceLocation {
  id: string;
  area: string;
  resourceName: string;
  routeTemplate: string;
  resourceVersion: number;
  minVersion: string;
  maxVersion: string;
  releasedVersion: string;
}

/** The newest api-version the emulator serves; the client asks for "7.2-preview.N". */
export const MAX_API_VERSION = "7.2";
/** The newest released (non-preview) version. Anything above needs "-preview". */
export const RELEASED_API_VERSION = "7.1";

function location(
  id: string,
  area: string,
  resourceName: string,
  routeTemplate: string,
  resourceVersion: number,
): ApiResourceLocation {
  return {
    id,
    area,
    resourceName,
    routeTemplate,
    resourceVersion,
    minVersion: "1.0",
    maxVersion: MAX_API_VERSION,
    releasedVersion: RELEASED_API_VERSION,
  };
}

/** Location ids and requested versions read from GitApi.js / CoreApi.js / PolicyApi.js / LocationsApi.js (v17.0.1). */
const AREAS: Record<string, ApiResourceLocation[]> = {
  location: [
    // LocationsApi.getResourceAreas / getResourceArea: "7.2-preview.1". The real service answers
    // "_apis/{resource}/{areaId}" (azure-devops-cli-extension#990 log).
    location("e81700f7-3be2-46de-8624-2eb35882fcaa", "Location", "ResourceAreas", "_apis/{resource}/{areaId}", 1),
    // LocationsApi.getConnectionData: "7.2-preview.1".
    location("00d9565f-ed9c-4a06-9a50-00e7896ccab4", "Location", "ConnectionData", "_apis/{resource}", 1),
  ],
  git: [
    // getRepository / getRepositories: "7.2-preview.2".
    location(
      "225f7195-f9c7-4d14-ab28-a83f7ff77e1f",
      "git",
      "repositories",
      "{project}/_apis/{area}/{resource}/{repositoryId}",
      2,
    ),
    // getRefs: "7.2-preview.2" (filter travels as a query parameter; the wildcard segment is dropped).
    location(
      "2d874a60-a811-4f62-9c9f-963a6ea0a55b",
      "git",
      "refs",
      "{project}/_apis/{area}/repositories/{repositoryId}/{resource}/{*filter}",
      2,
    ),
    // getCommit: "7.2-preview.2".
    location(
      "c2570c3b-5b3f-41b8-98bf-5407bfde8d58",
      "git",
      "commits",
      "{project}/_apis/{area}/repositories/{repositoryId}/{resource}/{commitId}",
      2,
    ),
    // getChanges: "7.2-preview.1".
    location(
      "5bf884f5-3e07-42e9-afb8-1b872267bf16",
      "git",
      "changes",
      "{project}/_apis/{area}/repositories/{repositoryId}/commits/{commitId}/{resource}",
      1,
    ),
    // createPullRequest / getPullRequest / getPullRequests / updatePullRequest: "7.2-preview.2".
    location(
      "9946fd70-0d40-406e-b686-b4744cbbcc37",
      "git",
      "pullRequests",
      "{project}/_apis/{area}/repositories/{repositoryId}/{resource}/{pullRequestId}",
      2,
    ),
    // getPullRequestById: "7.2-preview.2".
    location(
      "01a46dea-7d46-4d40-bc84-319e7c260d99",
      "git",
      "pullRequests",
      "{project}/_apis/{area}/{resource}/{pullRequestId}",
      2,
    ),
    // createPullRequestReviewer / getPullRequestReviewers: "7.2-preview.1".
    location(
      "4b6702c7-aa35-4b89-9c96-b9abf6d3e540",
      "git",
      "pullRequestReviewers",
      "{project}/_apis/{area}/repositories/{repositoryId}/pullRequests/{pullRequestId}/reviewers/{reviewerId}",
      1,
    ),
    // getItem (path and version travel as query parameters, so the wildcard segment is dropped): "7.2-preview.1".
    location(
      "fb93c0db-47ed-4a31-8c20-47552878fb44",
      "git",
      "items",
      "{project}/_apis/{area}/repositories/{repositoryId}/{resource}/{*path}",
      1,
    ),
    // createPush: "7.2-preview.3".
    location(
      "ea98d07b-3c87-4971-8ede-a613694ffb55",
      "git",
      "pushes",
      "{project}/_apis/{area}/repositories/{repositoryId}/{resource}/{pushId}",
      3,
    ),
    // createRevert / getRevert / getRevertForRefName: "7.2-preview.2".
    location(
      "bc866058-5449-4715-9cf1-a510b6ff193c",
      "git",
      "reverts",
      "{project}/_apis/{area}/repositories/{repositoryId}/{resource}/{revertId}",
      2,
    ),
    // createPullRequestStatus / getPullRequestStatuses: "7.2-preview.2".
    location(
      "b5f6bb4f-8d1e-4d79-8d11-4c9172c99c35",
      "git",
      "pullRequestStatuses",
      "{project}/_apis/{area}/repositories/{repositoryId}/pullRequests/{pullRequestId}/statuses/{statusId}",
      2,
    ),
    // createPullRequestLabel / getPullRequestLabels: "7.2-preview.1".
    location(
      "f22387e3-984e-4c52-9c6d-fbb8f14c812d",
      "git",
      "pullRequestLabels",
      "{project}/_apis/{area}/repositories/{repositoryId}/pullRequests/{pullRequestId}/labels/{labelIdOrName}",
      1,
    ),
  ],
  wit: [
    // WorkItemTrackingApi.getWorkItem / updateWorkItem: "7.1-preview.3" (the service: "{project}/_apis/{area}/{resource}/{id}").
    location("72c7ddf8-2cdc-4f60-90cd-ab71c14a399b", "wit", "workItems", "{project}/_apis/{area}/{resource}/{id}", 3),
    // getComments / addComment: "7.1-preview.3".
    location(
      "608aac0a-32e1-4493-a863-b9cf4566d257",
      "wit",
      "comments",
      "{project}/_apis/{area}/workItems/{workItemId}/{resource}/{commentId}",
      3,
    ),
  ],
  policy: [
    // PolicyApi.getPolicyEvaluations: "7.2-preview.1".
    location("c23ddff5-229c-4d04-a80b-0fdce9f360c8", "policy", "evaluations", "{project}/_apis/{area}/{resource}", 1),
  ],
  core: [
    // getTeams / getTeam: "7.2-preview.3".
    location(
      "d30a3dd1-f8ba-442a-b86a-bd0c0c383e59",
      "core",
      "teams",
      "_apis/projects/{projectId}/{resource}/{*teamId}",
      3,
    ),
    // getTeamMembersWithExtendedProperties: "7.2-preview.2".
    location(
      "294c494c-2600-4d7e-b76c-3dd50c3c95be",
      "core",
      "members",
      "_apis/projects/{projectId}/teams/{teamId}/{resource}",
      2,
    ),
    // getProject: "7.2-preview.4".
    location("603fe2ac-9723-48b9-88ad-09305aa6c6e1", "core", "projects", "_apis/{resource}/{*projectId}", 4),
  ],
};

/** The locations of one area (case-insensitive), or an empty list for an area the emulator does not serve. */
export function areaLocations(area: string): ApiResourceLocation[] {
  return AREAS[area.toLowerCase()] ?? [];
}

/** Every area the emulator serves, for documentation and tests. */
export const SERVED_AREAS = Object.keys(AREAS);

export interface ParsedApiVersion {
  raw: string;
  version: number;
  preview: boolean;
}

/** Reads "7.2-preview.2" / "7.1" / "7.2-preview". Returns null for anything else. */
export function parseApiVersion(raw: string): ParsedApiVersion | null {
  const m = /^(\d+\.\d+)(-preview(\.\d+)?)?$/i.exec(raw.trim());
  if (!m || m[1] === undefined) return null;
  return { raw, version: Number(m[1]), preview: m[2] !== undefined };
}
