import { createHash } from "node:crypto";
import { diffLines } from "diff";
import { parseAllDocuments } from "yaml";
import type { ChangedFile, ChangeSet, CommitInfo } from "../domain/commit.js";
import { changeSetOf } from "../domain/commit.js";
import { PrCreatorError } from "../domain/errors.js";
import type { ChangeRequested, FileEdit } from "../domain/events.js";
import type { Policy } from "../domain/policy.js";
import type { TraceRecord } from "../domain/trace.js";
import { editYaml, EditError } from "./yaml-edit.js";

/** A file of a change request: its text on the base branch and after the edit (null = absent). */
export interface EditedFile {
  path: string;
  before: string | null;
  after: string | null;
}

export function changeId(event: ChangeRequested): string {
  return (event.change_id ?? event.issue_id)!;
}

/** The seed's branch name: `agent-sre/<type>-<id>`. */
export function changeBranch(event: ChangeRequested, policy: Policy): string {
  return `${policy.change_requests.branch_prefix}${event.change_type}-${changeId(event)}`;
}

export function changeTraceId(event: ChangeRequested): string {
  return event.trace_id ?? `trace-${event.change_type}-${changeId(event)}`;
}

function fail(path: string, detail: string): PrCreatorError {
  return new PrCreatorError("edit_not_applicable", `The edit of ${path} cannot be applied: ${detail}.`);
}

/** Applies each edit to the file's text on the base branch. Pure: the caller reads the files. */
export function applyEdits(edits: readonly FileEdit[], before: ReadonlyMap<string, string | null>): EditedFile[] {
  return edits.map((edit) => {
    const old = before.get(edit.path) ?? null;
    if ("delete" in edit) {
      if (old === null) throw fail(edit.path, "the file does not exist on the base branch, so it cannot be deleted");
      return { path: edit.path, before: old, after: null };
    }
    if ("content" in edit) return { path: edit.path, before: old, after: edit.content };
    if (old === null)
      throw fail(
        edit.path,
        'the file does not exist on the base branch; send its whole text with "content" to create it',
      );
    if (!/\.ya?ml$/i.test(edit.path))
      throw fail(edit.path, '"set" edits YAML files only (.yaml or .yml); send the whole text with "content"');
    try {
      return { path: edit.path, before: old, after: editYaml(old, edit.set, edit.document) };
    } catch (error) {
      if (error instanceof EditError) throw fail(edit.path, error.message);
      throw error;
    }
  });
}

function lineCounts(before: string | null, after: string | null): { additions: number; deletions: number } {
  let additions = 0;
  let deletions = 0;
  for (const part of diffLines(before ?? "", after ?? "")) {
    if (part.added) additions += part.count ?? 0;
    else if (part.removed) deletions += part.count ?? 0;
  }
  return { additions, deletions };
}

/** The change set the rest of the flow works on, built from what was committed — exact line counts included. */
export function changeSetFromEdits(files: readonly EditedFile[], commit: CommitInfo): ChangeSet {
  const changed: ChangedFile[] = files
    .filter((f) => f.before !== f.after)
    .map((f) => ({
      path: f.path,
      change: f.before === null ? "added" : f.after === null ? "deleted" : "modified",
      ...lineCounts(f.before, f.after),
      binary: false,
    }));
  return changeSetOf([commit], commit.parents[0] ?? null, "commit", changed, "exact");
}

/** The commit message: the title-style subject, then the context people need in `git log`. */
export function changeCommitMessage(
  event: ChangeRequested,
  policy: Policy,
  scope: string,
): { subject: string; body: string } {
  const subject = `${policy.change_requests.commit_type}(${scope.toLowerCase()}): ${event.summary}`;
  const lines = [
    `Alert: ${event.context.alert}`,
    `Remediation: ${event.context.remediation}`,
    `Impact: ${event.context.impact}`,
  ];
  if (event.issue_id) lines.push(`Issue: ${event.issue_id}`);
  return { subject, body: lines.join("\n") };
}

/** A stand-in hash for a preview that commits nothing: derived from the edits, so re-runs agree. */
export function previewHash(files: readonly EditedFile[], base: string): string {
  const h = createHash("sha1").update(base);
  for (const f of files) h.update(`\0${f.path}\0${f.after ?? "\u0000deleted"}`);
  return h.digest("hex");
}

/**
 * The trace of a change request: the registry's or the event's record when there is one, else one built
 * from the request itself (scope = the namespace, else the innermost folder every edit shares).
 */
export function changeTrace(event: ChangeRequested): TraceRecord {
  if (event.trace) return event.trace;
  const scope =
    event.component_scope ??
    event.context.namespace ??
    sharedFolder(event.edits.map((e) => e.path)) ??
    "infrastructure";
  return {
    trace_id: changeTraceId(event),
    blueprint_id: event.blueprint_id ?? `change-request/${event.change_type}`,
    blueprint_name: `Change request: ${event.change_type}`,
    component_scope: scope,
    description: event.context.remediation,
    linked_files: event.edits.map((e) => e.path),
    scope_paths: [],
  };
}

/** Parses every edited YAML file as it will be committed: a check the PR reports before CI runs. */
export function checkYaml(files: readonly EditedFile[]): { checked: number; invalid: string[] } {
  const yaml = files.filter((f) => f.after !== null && f.before !== f.after && /\.ya?ml$/i.test(f.path));
  const invalid = yaml
    .filter((f) => parseAllDocuments(f.after!).some((doc) => "errors" in doc && doc.errors.length > 0))
    .map((f) => f.path);
  return { checked: yaml.length, invalid };
}

/** `apps/orders/pvc.yaml` + `apps/orders/svc.yaml` → `orders`; null when the edits share no folder. */
function sharedFolder(paths: readonly string[]): string | null {
  const dirs = paths.map((p) => p.split("/").filter(Boolean).slice(0, -1));
  const shared: string[] = [];
  for (let i = 0; dirs.every((d) => i < d.length && d[i] === dirs[0]![i]); i++) shared.push(dirs[0]![i]!);
  return shared.at(-1) ?? null;
}
