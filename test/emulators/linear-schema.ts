/**
 * Linear's API as @linear/sdk ships it, read once for the Linear emulator:
 * - the operations: every GraphQL document the SDK can send (`new TypedDocumentString(`…`)` in dist/index.mjs),
 *   parsed with `graphql` and kept by operation name;
 * - the schema: the SDK's generated TypeScript declarations of every GraphQL type (dist/index-*.d.mts: object
 *   and input types as `type X = { field?: Maybe<…> }`, enums as `declare enum`, unions as `type X = A | B`),
 *   read into a table of types → fields → (named type, list, nullable).
 * The emulator checks each request against both: the operation must be one of the SDK's documents, each
 * field it selects must exist on its type, and its variables must match their declared types (input objects
 * field by field: no unknown field, no missing required one, enum values from the enum).
 */
import { readdirSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { Kind, parse, print, type DocumentNode, type OperationDefinitionNode, type TypeNode } from "graphql";

export interface FieldType {
  /** Scalar name (String, DateTime, …) or type name. */
  name: string;
  list: boolean;
  nullable: boolean;
  /** For lists: whether items may be null. */
  itemNullable: boolean;
}

export interface LinearSchema {
  /** Object and input types: field → type. Input types have no `__typename`. */
  types: Map<string, Map<string, FieldType>>;
  inputTypes: Set<string>;
  enums: Map<string, string[]>;
  unions: Map<string, string[]>;
  scalars: Set<string>;
  /** Operation name → the SDK's document. */
  operations: Map<string, { document: DocumentNode; printed: string }>;
}

const sdkDist = (): string => {
  const require = createRequire(import.meta.url);
  // The package exports only its entry points; its folder comes from the resolved entry.
  return path.dirname(require.resolve("@linear/sdk"));
};

function parseFieldType(text: string): FieldType {
  let t = text.trim();
  let nullable = false;
  const unwrap = (wrapper: string): boolean => {
    if (t.startsWith(`${wrapper}<`) && t.endsWith(">")) {
      t = t.slice(wrapper.length + 1, -1).trim();
      return true;
    }
    return false;
  };
  if (unwrap("InputMaybe") || unwrap("Maybe")) nullable = true;
  let list = false;
  let itemNullable = false;
  if (unwrap("Array")) {
    list = true;
    if (unwrap("Maybe") || unwrap("InputMaybe")) itemNullable = true;
  }
  const scalar = /^Scalars\["(\w+)"\]$/.exec(t);
  return { name: scalar ? scalar[1]! : t, list, nullable, itemNullable };
}

let cached: LinearSchema | undefined;

/** Reads the SDK's documents and type declarations (once per process). */
export function loadLinearSchema(): LinearSchema {
  if (cached) return cached;
  const dist = sdkDist();
  const dts = readdirSync(dist).find((f) => /^index-.*\.d\.mts$/.test(f));
  if (!dts) throw new Error(`@linear/sdk in ${dist} ships no index-*.d.mts declarations`);
  const declarations = readFileSync(path.join(dist, dts), "utf8");

  const types = new Map<string, Map<string, FieldType>>();
  const inputTypes = new Set<string>();
  for (const m of declarations.matchAll(/^type (\w+) = (?:[\w ]+ & )?\{\n([\s\S]*?)\n\};$/gm)) {
    const fields = new Map<string, FieldType>();
    let object = false;
    for (const line of m[2]!.split("\n")) {
      const f = /^ {2}(\w+)(\?)?: (.+);$/.exec(line);
      if (!f) continue;
      if (f[1] === "__typename") {
        object = true;
        continue;
      }
      const type = parseFieldType(f[3]!);
      fields.set(f[1]!, { ...type, nullable: type.nullable || f[2] === "?" });
    }
    types.set(m[1]!, fields);
    if (!object) inputTypes.add(m[1]!);
  }
  const enums = new Map<string, string[]>();
  for (const m of declarations.matchAll(/^declare enum (\w+) \{\n([\s\S]*?)\n\}$/gm)) {
    enums.set(
      m[1]!,
      [...m[2]!.matchAll(/= "([^"]+)"/g)].map((v) => v[1]!),
    );
  }
  const unions = new Map<string, string[]>();
  for (const m of declarations.matchAll(/^type (\w+) = (\w+(?: \| \w+)+);$/gm)) {
    unions.set(m[1]!, m[2]!.split(" | "));
  }
  const scalarBlock = /^type Scalars = \{\n([\s\S]*?)\n\};$/m.exec(declarations);
  const scalars = new Set([...(scalarBlock?.[1] ?? "").matchAll(/^ {2}(\w+): /gm)].map((s) => s[1]!));

  const operations = new Map<string, { document: DocumentNode; printed: string }>();
  const code = readFileSync(path.join(dist, "index.mjs"), "utf8");
  for (const m of code.matchAll(/new TypedDocumentString\(`([\s\S]*?)`/g)) {
    const document = parse(m[1]!);
    const operation = document.definitions.find(
      (d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION,
    );
    if (operation?.name) operations.set(operation.name.value, { document, printed: print(document) });
  }
  cached = { types, inputTypes, enums, unions, scalars, operations };
  return cached;
}

/** A variable's declared type, as the FieldType the input checker walks. */
export function typeOfNode(node: TypeNode): FieldType {
  const nonNull = node.kind === Kind.NON_NULL_TYPE;
  const inner = nonNull ? node.type : node;
  if (inner.kind === Kind.LIST_TYPE) {
    const item = typeOfNode(inner.type);
    return { name: item.name, list: true, nullable: !nonNull, itemNullable: item.nullable };
  }
  return {
    name: (inner as { name: { value: string } }).name.value,
    list: false,
    nullable: !nonNull,
    itemNullable: false,
  };
}

/** Problems with `value` as a `type` input (empty when it fits), each with its path. */
export function inputProblems(schema: LinearSchema, type: FieldType, value: unknown, at: string): string[] {
  if (value === null || value === undefined) return type.nullable ? [] : [`${at}: a value is required`];
  if (type.list) {
    if (!Array.isArray(value)) return [`${at}: expected a list`];
    return value.flatMap((item, i) =>
      inputProblems(schema, { ...type, list: false, nullable: type.itemNullable }, item, `${at}[${i}]`),
    );
  }
  const scalar = (ok: boolean, what: string) => (ok ? [] : [`${at}: expected ${what}, got ${JSON.stringify(value)}`]);
  switch (type.name) {
    case "String":
    case "ID":
    case "DateTime":
    case "DateTimeOrDuration":
    case "TimelessDate":
    case "TimelessDateOrDuration":
    case "UUID":
      return scalar(typeof value === "string", "a string");
    case "Int":
      return scalar(Number.isInteger(value), "an integer");
    case "Float":
      return scalar(typeof value === "number", "a number");
    case "Boolean":
      return scalar(typeof value === "boolean", "a boolean");
    case "JSON":
    case "JSONObject":
    case "Duration":
      return [];
  }
  const values = schema.enums.get(type.name);
  if (values) return scalar(typeof value === "string" && values.includes(value), `one of ${type.name}`);
  const fields = schema.types.get(type.name);
  if (!fields || !schema.inputTypes.has(type.name)) return [`${at}: ${type.name} is not an input type`];
  if (typeof value !== "object" || Array.isArray(value)) return [`${at}: expected a ${type.name} object`];
  const problems: string[] = [];
  for (const [key, v] of Object.entries(value)) {
    const field = fields.get(key);
    if (!field) problems.push(`${at}.${key}: ${type.name} has no field ${key}`);
    else problems.push(...inputProblems(schema, field, v, `${at}.${key}`));
  }
  for (const [key, field] of fields) {
    if (!field.nullable && !(key in value)) problems.push(`${at}.${key}: required by ${type.name}`);
  }
  return problems;
}
