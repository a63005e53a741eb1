/**
 * The policy as a JSON Schema (draft 2020-12) for editors and other tools: generated from the zod schema, so
 * it cannot drift from what pr-creator accepts. It describes the YAML as written (zod's input side): every key
 * is optional and carries its default and description. The package ships it as schema/pr-creator.schema.json.
 */
import { z } from "zod";
import { PolicySchema } from "../domain/policy.js";

export const POLICY_SCHEMA_ID = "https://unpkg.com/pr-creator/schema/pr-creator.schema.json";

export interface JsonSchemaNode {
  type?: string | string[];
  description?: string;
  default?: unknown;
  properties?: Record<string, JsonSchemaNode>;
  items?: JsonSchemaNode;
  additionalProperties?: boolean | JsonSchemaNode;
  [key: string]: unknown;
}

/** The policy's JSON Schema. The same on every machine: the state file's default, which depends on the user, is left out. */
export function policyJsonSchema(): JsonSchemaNode {
  const generated = z.toJSONSchema(PolicySchema, { io: "input", unrepresentable: "any" }) as JsonSchemaNode;
  const { $schema, ...rest } = generated;
  const properties = { ...rest.properties };
  const { default: _userSpecific, ...stateFile } = properties.state_file!;
  properties.state_file = stateFile;
  return {
    $schema,
    $id: POLICY_SCHEMA_ID,
    title: "pr-creator policy (pr-creator.yaml)",
    description:
      "The policy of pr-creator, the agent that turns a commit into a pull request. Every key is optional; left out, it takes the default shown.",
    ...rest,
    properties,
  };
}

/** The keys an object at `path` in the policy may have (record entries are free: none are listed for them). */
export function knownKeysAt(schema: JsonSchemaNode, path: readonly (string | number)[]): string[] {
  let node: JsonSchemaNode | undefined = schema;
  for (const part of path) {
    if (!node) return [];
    if (typeof part === "number") node = node.items;
    else
      node =
        node.properties?.[part] ??
        (typeof node.additionalProperties === "object" ? node.additionalProperties : undefined);
  }
  return Object.keys(node?.properties ?? {});
}

/** Every dotted key path of the schema's objects, e.g. `title.max_length` (array items as `webhooks[]`). */
export function allKeyPaths(schema: JsonSchemaNode, prefix = ""): string[] {
  const out: string[] = [];
  for (const [key, child] of Object.entries(schema.properties ?? {})) {
    const here = prefix ? `${prefix}.${key}` : key;
    out.push(here, ...allKeyPaths(child, here));
    if (child.items) out.push(...allKeyPaths(child.items, `${here}[]`));
  }
  return out;
}
