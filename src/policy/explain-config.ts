/**
 * The effective policy and where each value came from: the config file (with its line), an environment
 * variable that overrides the file, or the default. For `pr-creator config print`.
 */
import { Document, isMap, isNode, isScalar, isSeq, type LineCounter, type Node } from "yaml";
import type { Policy } from "../domain/policy.js";
import { defaultStateLocation } from "../domain/state-location.js";

/** Environment variables that win over a policy key, as the forge, model, memory and logging factories read them. */
export const ENV_OVERRIDES: readonly { path: string; env: string; lowerCase?: boolean }[] = [
  { path: "forge", env: "PR_CREATOR_FORGE" },
  { path: "azure_devops.org_url", env: "AZURE_DEVOPS_ORG_URL" },
  { path: "azure_devops.project", env: "AZURE_DEVOPS_PROJECT" },
  { path: "github.api_url", env: "GITHUB_API_URL" },
  { path: "github.owner", env: "GITHUB_OWNER" },
  { path: "model.provider", env: "PR_CREATOR_MODEL_PROVIDER" },
  { path: "model.name", env: "PR_CREATOR_MODEL" },
  { path: "memory.qdrant.url", env: "QDRANT_URL" },
  { path: "logging.level", env: "PR_CREATOR_LOG_LEVEL", lowerCase: true },
];

export interface ExplainedPolicy {
  /** The policy in force: the file's values, environment overrides, defaults. */
  policy: Policy;
  /** For every leaf (dotted path, record entries included): "file.yaml:12", "env NAME" or "default …". */
  origins: Record<string, string>;
}

const isPlainObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === "object" && value !== null && !Array.isArray(value);

/** A URL's user info is a secret: it is shown as `***`. */
function withoutUserInfo(value: string): string {
  if (!URL.canParse(value)) return value;
  const url = new URL(value);
  if (!url.username && !url.password) return value;
  url.username = "***";
  url.password = "";
  return url.toString();
}

function setIn(target: Record<string, unknown>, path: readonly string[], value: unknown): Record<string, unknown> {
  const [head, ...rest] = path;
  const here = target[head!];
  return {
    ...target,
    [head!]: rest.length === 0 ? value : setIn(isPlainObject(here) ? here : {}, rest, value),
  };
}

/**
 * Explains `policy` (already read from `doc`, paths resolved) under `env`. `file` is how the config file
 * is named in origins (null: the built-in policy, no file).
 */
export function explainPolicy(input: {
  policy: Policy;
  file: string | null;
  doc: Document | null;
  lineCounter: LineCounter | null;
  env: Readonly<Record<string, string | undefined>>;
}): ExplainedPolicy {
  let effective = input.policy as unknown as Record<string, unknown>;
  const fromEnv = new Map<string, string>();
  for (const o of ENV_OVERRIDES) {
    const raw = input.env[o.env]?.trim();
    if (!raw) continue;
    const value = o.lowerCase ? raw.toLowerCase() : raw;
    effective = setIn(effective, o.path.split("."), o.path.endsWith("url") ? withoutUserInfo(value) : value);
    fromEnv.set(o.path, `env ${o.env}`);
  }
  const stateDefault = defaultStateLocation({ env: input.env });
  // The schema's default followed this process's environment; the explanation follows `env`.
  if (!input.doc?.hasIn(["state_file"])) effective = { ...effective, state_file: stateDefault.file };
  const inFile = (path: readonly string[]): string | null => {
    if (!input.doc || !input.file) return null;
    const node = input.doc.getIn(path, true) as Node | undefined;
    if (!node || typeof node !== "object" || !node.range) return input.doc.hasIn(path) ? input.file : null;
    const { line } = input.lineCounter?.linePos(node.range[0]) ?? { line: 0 };
    return line > 0 ? `${input.file}:${line}` : input.file;
  };
  const origins: Record<string, string> = {};
  const walk = (value: unknown, path: string[]) => {
    if (isPlainObject(value) && Object.keys(value).length > 0) {
      for (const [key, child] of Object.entries(value)) walk(child, [...path, key]);
      return;
    }
    if (value === undefined) return;
    const dotted = path.join(".");
    origins[dotted] =
      fromEnv.get(dotted) ??
      inFile(path) ??
      (dotted === "state_file"
        ? `default (${stateDefault.from === "platform default" ? "the platform's state folder" : `from ${stateDefault.from}`})`
        : "default");
  };
  walk(effective, []);
  return { policy: effective as unknown as Policy, origins };
}

/** The explained policy as YAML, each value followed by a comment saying where it came from. */
export function formatExplainedPolicy(explained: ExplainedPolicy, header: string): string {
  const doc = new Document(explained.policy);
  const annotate = (node: unknown, path: string[]) => {
    if (!isMap(node)) return;
    for (const pair of node.items) {
      if (!isScalar(pair.key)) continue;
      const here = [...path, String(pair.key.value)];
      const origin = explained.origins[here.join(".")];
      if (origin === undefined) {
        annotate(pair.value, here);
        continue;
      }
      // Leaves: scalars, lists and empty maps, on one line with the origin as a trailing comment.
      if (isSeq(pair.value) || isMap(pair.value)) pair.value.flow = true;
      if (isNode(pair.value)) pair.value.comment = ` ${origin}`;
    }
  };
  annotate(doc.contents, []);
  doc.commentBefore = ` ${header}`;
  return doc.toString({ lineWidth: 0 });
}
