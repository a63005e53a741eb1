/**
 * A small validator for the JSON-schema subset that GitHub's OpenAPI description uses, to check the GitHub
 * emulator's answers against @octokit/openapi's dereferenced api.github.com description.
 *
 * Supported: type (a name or a list, including "null"), OpenAPI's `nullable`, properties, required,
 * additionalProperties (false or a schema), items, enum, allOf, and anyOf/oneOf checked loosely (valid when
 * at least one branch is; oneOf's "exactly one" is not enforced), formats date-time, uri and email.
 * Everything else (minLength, pattern, discriminator, …) is ignored.
 */
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";

export interface JsonSchema {
  type?: string | string[];
  nullable?: boolean;
  properties?: Record<string, JsonSchema>;
  required?: string[];
  additionalProperties?: boolean | JsonSchema;
  items?: JsonSchema;
  enum?: unknown[];
  allOf?: JsonSchema[];
  anyOf?: JsonSchema[];
  oneOf?: JsonSchema[];
  format?: string;
}

interface OpenApiResponse {
  content?: Record<string, { schema?: JsonSchema }>;
}

export interface OpenApiDocument {
  paths: Record<string, Record<string, { operationId?: string; responses?: Record<string, OpenApiResponse> }>>;
}

/** Loads node_modules/@octokit/openapi/generated/api.github.com.deref.json (≈73 MB, about half a second). */
export function loadGitHubDescription(): OpenApiDocument {
  const require = createRequire(import.meta.url);
  const file = require.resolve("@octokit/openapi/generated/api.github.com.deref.json");
  return JSON.parse(readFileSync(file, "utf8")) as OpenApiDocument;
}

/**
 * The JSON schema of the answer `status` to `method template` (template as in the description, e.g.
 * "/repos/{owner}/{repo}/pulls"). Error answers the operation does not describe (401, or a 422 described
 * without a body) fall back to the shared "Basic Error" schema (the dereferenced description has no
 * `components`, so it is taken from GET /repos/{owner}/{repo}'s 404); undefined when nothing applies.
 */
export function responseSchema(
  doc: OpenApiDocument,
  method: string,
  template: string,
  status: number,
): JsonSchema | undefined {
  const operation = doc.paths[template]?.[method.toLowerCase()];
  if (!operation) throw new Error(`the description has no ${method} ${template}`);
  const schema = operation.responses?.[String(status)]?.content?.["application/json"]?.schema;
  if (schema) return schema;
  if (status < 400) return undefined;
  return doc.paths["/repos/{owner}/{repo}"]?.get?.responses?.["404"]?.content?.["application/json"]?.schema;
}

const typeOf = (value: unknown): string => (value === null ? "null" : Array.isArray(value) ? "array" : typeof value);

function hasType(value: unknown, type: string): boolean {
  switch (type) {
    case "null":
      return value === null;
    case "integer":
      return typeof value === "number" && Number.isInteger(value);
    case "number":
      return typeof value === "number";
    case "string":
    case "boolean":
      return typeof value === type;
    case "object":
      return typeof value === "object" && value !== null && !Array.isArray(value);
    case "array":
      return Array.isArray(value);
    default:
      return true;
  }
}

function formatError(format: string, value: string): string | undefined {
  if (format === "date-time" && !/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/.test(value))
    return `"${value}" is not a date-time`;
  if (format === "uri" && !URL.canParse(value)) return `"${value}" is not a uri`;
  if (format === "email" && !/^[^@\s]+@[^@\s]+$/.test(value)) return `"${value}" is not an email`;
  return undefined;
}

/** Every way `value` breaks `schema`, as "path: problem" strings; empty when it conforms. */
export function validate(schema: JsonSchema, value: unknown, path = "$"): string[] {
  const types = schema.type === undefined ? [] : Array.isArray(schema.type) ? schema.type : [schema.type];
  if (value === null && (schema.nullable === true || types.includes("null") || schema.enum?.includes(null))) return [];
  const errors: string[] = [];
  if (types.length > 0 && !types.some((t) => hasType(value, t))) {
    return [`${path}: expected ${types.join(" | ")}${schema.nullable ? " | null" : ""}, got ${typeOf(value)}`];
  }
  if (schema.enum && !schema.enum.includes(value))
    errors.push(`${path}: ${JSON.stringify(value)} is not one of ${JSON.stringify(schema.enum)}`);
  if (schema.format && typeof value === "string") {
    const problem = formatError(schema.format, value);
    if (problem) errors.push(`${path}: ${problem}`);
  }
  for (const part of schema.allOf ?? []) errors.push(...validate(part, value, path));
  const branches = schema.anyOf ?? schema.oneOf;
  if (branches && branches.length > 0) {
    const results = branches.map((branch) => validate(branch, value, path));
    if (!results.some((r) => r.length === 0)) {
      const closest = results.reduce((best, r) => (r.length < best.length ? r : best));
      errors.push(`${path}: matches no branch of ${schema.anyOf ? "anyOf" : "oneOf"}; closest: ${closest.join("; ")}`);
    }
  }
  if (hasType(value, "object") && (schema.properties || schema.required || schema.additionalProperties !== undefined)) {
    const object = value as Record<string, unknown>;
    for (const name of schema.required ?? []) {
      if (!Object.hasOwn(object, name)) errors.push(`${path}: missing required property "${name}"`);
    }
    for (const [name, child] of Object.entries(object)) {
      const propertySchema = schema.properties?.[name];
      if (propertySchema) errors.push(...validate(propertySchema, child, `${path}.${name}`));
      else if (schema.additionalProperties === false) errors.push(`${path}: property "${name}" is not allowed`);
      else if (typeof schema.additionalProperties === "object")
        errors.push(...validate(schema.additionalProperties, child, `${path}.${name}`));
    }
  }
  if (Array.isArray(value) && schema.items)
    value.forEach((item, i) => errors.push(...validate(schema.items!, item, `${path}[${i}]`)));
  return errors;
}
