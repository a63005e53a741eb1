import { z } from "zod";

/**
 * Blueprint metadata a trace id resolves to (seed: "Trace Metadata" and "Blueprint and Trace Knowledge").
 * Strict: a misspelt `linked_file` would otherwise silently narrow the scope.
 */
export const TraceRecordSchema = z.strictObject({
  trace_id: z.string().trim().min(1, "trace_id must be a non-empty string"),
  blueprint_id: z.string().trim().min(1, "blueprint_id must be a non-empty string"),
  blueprint_name: z.string().trim().min(1).optional(),
  component_scope: z.string().trim().min(1, "component_scope must be a non-empty string"),
  description: z.string().trim().min(1).optional(),
  linked_files: z.array(z.string().min(1)).default([]),
  /** Globs of paths that belong to this trace's scope, beyond its linked files. */
  scope_paths: z.array(z.string().min(1)).default([]),
  /** The issue the trace was opened for (a key such as BVL-232); a PR with no other issue links it. */
  issue_id: z
    .string()
    .trim()
    .regex(/^[A-Za-z][A-Za-z0-9]{0,9}-[1-9][0-9]{0,8}$/, "issue_id must be an issue key such as BVL-232")
    .optional(),
});
export type TraceRecord = z.infer<typeof TraceRecordSchema>;

export const TraceRegistryFileSchema = z.object({
  traces: z.array(TraceRecordSchema),
});
