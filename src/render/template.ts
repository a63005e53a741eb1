/**
 * PR body templates: Markdown with `${name}` placeholders, as in the seed's `.pr-template.md`. Rendering is
 * plain substitution — no expressions, no code — so a repository's template cannot run anything.
 */

export const TEMPLATE_VARIABLES = {
  title: "the full PR title",
  type: "the conventional type (feat, fix, ...)",
  summary: "the title's summary",
  purpose: "one paragraph: what the change does and why",
  highlights: "bullet list of notable points (may be empty)",
  commit_summary: "purpose and highlights together (the seed's variable)",
  trace_id: "the trace id, e.g. trace-ord-8128",
  blueprint_id: "the blueprint id",
  blueprint_name: "the blueprint's name",
  blueprint_description: "the blueprint's description (may be empty)",
  component_scope: "the component scope, e.g. Order",
  scope: "same as component_scope",
  repo: "the repository name",
  source_branch: "the source branch",
  target_branch: "the target branch",
  commit_hash: "the event's commit, abbreviated",
  commit_hash_full: "the event's commit, full hash",
  author: "the event commit's author name",
  linked_commits: "bullet list of the PR's commits",
  file_table: "Markdown table of changed files",
  change_stats: "e.g. 2 files changed, +120 -4",
  checklist: "the review checklist as task-list items",
  risk_level: "low, medium or high",
  risk_reasons: "bullet list of why the change has that risk",
  merge_decision: "what happens after CI: auto-merge, review or senior approval",
  breaking_changes:
    "for breaking changes: a Breaking changes section with the reasons and the BREAKING CHANGE footers (empty otherwise)",
  change_context:
    "for change requests: a Context section with alert, remediation, impact and issue link (empty otherwise)",
  issue:
    "the Issue line linking the tracked issue, when the event, a commit, the branch or the trace names one and no Context section shows it (empty otherwise)",
  metadata_block: "fenced YAML block with the trace metadata, for automation",
} as const;

export type TemplateVariable = keyof typeof TEMPLATE_VARIABLES;
export type TemplateValues = Record<TemplateVariable, string>;

const PLACEHOLDER = /\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g;

export function unknownVariables(template: string): string[] {
  const names = [...template.matchAll(PLACEHOLDER)].map((m) => m[1]!);
  return [...new Set(names.filter((n) => !Object.hasOwn(TEMPLATE_VARIABLES, n)))];
}

export function renderTemplate(template: string, values: TemplateValues): string {
  // Own keys only: `${toString}` must not reach Object.prototype.
  return template.replace(PLACEHOLDER, (whole, name: string) =>
    Object.hasOwn(values, name) ? values[name as TemplateVariable] : whole,
  );
}

/** The built-in body: the seed's "Output Expectations" layout plus the metadata block its system prompt asks for. */
export const DEFAULT_TEMPLATE = `## Summary

\${purpose}

\${highlights}

\${issue}

\${change_context}

\${breaking_changes}

## Risk

Risk level: **\${risk_level}**. \${merge_decision}

\${risk_reasons}

## Blueprint

- Blueprint ID: \${blueprint_id}
- Blueprint Name: \${blueprint_name}
- Component Scope: \${component_scope}
- Trace ID: \${trace_id}

\${blueprint_description}

## Changed Files

\${change_stats}

\${file_table}

## Linked Commits

\${linked_commits}

## Review Checklist

\${checklist}

## Metadata

\${metadata_block}
`;
