/**
 * A small validator for the Swagger 2.0 subset the Azure DevOps specifications use, to check the emulator's
 * JSON against specification/git/7.1/git.json.
 *
 * Supported: $ref (#/definitions/…), allOf (properties merge), type object/array/string/integer/number/
 * boolean, properties, items, additionalProperties, enum (flags enums serialize as "edit, rename", so a
 * comma-separated list of members is accepted), format date-time / uuid.
 *
 * Strictness: unknown extra properties are NOT allowed — every property a value carries must be declared
 * by its definition (or by additionalProperties). Two departures from the letter of the spec, both because
 * the spec describes the server's C# classes rather than the wire:
 *   - ReferenceLinks (`_links`) is declared as {links: {…}}, but the service serializes the dictionary
 *     itself: {"self": {"href": "…"}, …} (every httpExample shows this). `_links` is checked as such a map.
 *   - Change.item is `{type: "string", format: "T"}`, the generic parameter of Change<T>; on the wire it is
 *     the item object. Callers name the definition T stands for (GitItem for git changes); without one it
 *     is not checked.
 *   - `{type: "string", format: "JObject"}` (PolicyConfiguration.settings) is a Newtonsoft JObject: on the
 *     wire any JSON object, so only its being an object is checked.
 */
import { readFileSync } from "node:fs";

export interface SwaggerSchema {
  type?: string;
  format?: string;
  $ref?: string;
  allOf?: SwaggerSchema[];
  properties?: Record<string, SwaggerSchema>;
  additionalProperties?: SwaggerSchema | boolean;
  items?: SwaggerSchema;
  enum?: string[];
  description?: string;
}

export interface SwaggerSpec {
  swagger: string;
  paths: Record<
    string,
    Record<string, { operationId?: string; responses?: Record<string, { schema?: SwaggerSchema }> }>
  >;
  definitions: Record<string, SwaggerSchema>;
}

/** Reads a specification file; the Azure DevOps ones start with a UTF-8 BOM. */
export function loadSwagger(file: string): SwaggerSpec {
  return JSON.parse(readFileSync(file, "utf8").replace(/^\uFEFF/, "")) as SwaggerSpec;
}

export interface ValidateOptions {
  /** The definition the generic parameter T (format "T") stands for. */
  generic?: string;
  /** Definitions the specification lacks (e.g. Core types), consulted after the spec's own. */
  extraDefinitions?: Record<string, SwaggerSchema>;
}

const DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Validates `value` against a schema or a definition name; returns the problems found (empty = valid). */
export function validateAgainst(
  spec: SwaggerSpec,
  value: unknown,
  schema: SwaggerSchema | string,
  opts: ValidateOptions = {},
): string[] {
  const problems: string[] = [];
  const root = typeof schema === "string" ? { $ref: `#/definitions/${schema}` } : schema;
  const definition = (ref: string): [string, SwaggerSchema | undefined] => {
    const name = ref.replace(/^#\/definitions\//, "");
    return [name, spec.definitions[name] ?? opts.extraDefinitions?.[name]];
  };

  /** Properties and additionalProperties declared by a schema and everything it inherits through allOf. */
  function declared(
    s: SwaggerSchema,
    props: Map<string, SwaggerSchema>,
    extra: { schema?: SwaggerSchema | true },
  ): void {
    if (s.$ref) {
      const [name, def] = definition(s.$ref);
      if (!def) throw new Error(`unknown definition ${name}`);
      return declared(def, props, extra);
    }
    for (const parent of s.allOf ?? []) declared(parent, props, extra);
    for (const [k, v] of Object.entries(s.properties ?? {})) props.set(k, v);
    if (s.additionalProperties === true) extra.schema = true;
    else if (s.additionalProperties) extra.schema = s.additionalProperties;
  }

  function check(v: unknown, s: SwaggerSchema, path: string): void {
    if (s.$ref) {
      const [name, def] = definition(s.$ref);
      if (name === "ReferenceLinks") return checkLinks(v, path);
      if (!def) return void problems.push(`${path}: unknown definition ${name}`);
      return check(v, def, path);
    }
    if (s.format === "T") {
      if (opts.generic) check(v, { $ref: `#/definitions/${opts.generic}` }, path);
      return;
    }
    if (s.format === "JObject") {
      if (v === null || typeof v !== "object" || Array.isArray(v))
        problems.push(`${path}: expected a JSON object, got ${JSON.stringify(v)}`);
      return;
    }
    if (s.enum) {
      if (typeof v !== "string")
        return void problems.push(`${path}: expected one of ${s.enum.join("|")}, got ${JSON.stringify(v)}`);
      const parts = v.split(",").map((p) => p.trim());
      const bad = parts.filter((p) => !s.enum!.includes(p));
      if (bad.length > 0) problems.push(`${path}: ${JSON.stringify(v)} is not in ${s.enum.join("|")}`);
      return;
    }
    const isObjectSchema =
      s.type === "object" ||
      s.allOf !== undefined ||
      s.properties !== undefined ||
      s.additionalProperties !== undefined;
    if (isObjectSchema) {
      if (v === null || typeof v !== "object" || Array.isArray(v))
        return void problems.push(`${path}: expected an object, got ${JSON.stringify(v)}`);
      const props = new Map<string, SwaggerSchema>();
      const extra: { schema?: SwaggerSchema | true } = {};
      declared(s, props, extra);
      for (const [k, child] of Object.entries(v as Record<string, unknown>)) {
        const childSchema = props.get(k) ?? (extra.schema === true ? {} : extra.schema);
        if (!childSchema) problems.push(`${path}.${k}: not declared by the definition`);
        else check(child, childSchema, `${path}.${k}`);
      }
      return;
    }
    switch (s.type) {
      case "array":
        if (!Array.isArray(v)) return void problems.push(`${path}: expected an array, got ${JSON.stringify(v)}`);
        v.forEach((item, i) => check(item, s.items ?? {}, `${path}[${i}]`));
        return;
      case "string":
        if (typeof v !== "string") return void problems.push(`${path}: expected a string, got ${JSON.stringify(v)}`);
        if (s.format === "date-time" && !DATE_TIME.test(v))
          problems.push(`${path}: ${JSON.stringify(v)} is not a date-time`);
        if (s.format === "uuid" && !UUID.test(v)) problems.push(`${path}: ${JSON.stringify(v)} is not a uuid`);
        return;
      case "integer":
        if (!Number.isInteger(v)) problems.push(`${path}: expected an integer, got ${JSON.stringify(v)}`);
        return;
      case "number":
        if (typeof v !== "number") problems.push(`${path}: expected a number, got ${JSON.stringify(v)}`);
        return;
      case "boolean":
        if (typeof v !== "boolean") problems.push(`${path}: expected a boolean, got ${JSON.stringify(v)}`);
        return;
      default:
        return; // no constraint
    }
  }

  function checkLinks(v: unknown, path: string): void {
    if (v === null || typeof v !== "object" || Array.isArray(v))
      return void problems.push(`${path}: expected a links map`);
    for (const [k, link] of Object.entries(v as Record<string, unknown>)) {
      const href = (link as { href?: unknown } | null)?.href;
      if (typeof href !== "string" || Object.keys(link as object).length !== 1)
        problems.push(`${path}.${k}: expected {href: string}, got ${JSON.stringify(link)}`);
    }
  }

  check(value, root, "$");
  return problems;
}

/** The 200/201 response schema of an operation, by HTTP method and path template. */
export function responseSchema(spec: SwaggerSpec, method: string, path: string): SwaggerSchema | undefined {
  const op = spec.paths[path]?.[method.toLowerCase()];
  return op?.responses?.["200"]?.schema ?? op?.responses?.["201"]?.schema;
}
