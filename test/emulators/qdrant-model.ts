/**
 * The Qdrant emulator's state and semantics: collections with one unnamed dense vector, points, payload
 * indexes, collection metadata; filters (must / should / must_not / min_should, match value / any /
 * except, range over numbers and RFC 3339 datetimes, has_id, is_empty, is_null, nested filters) and
 * brute-force scoring (Cosine, Dot, Euclid, Manhattan — Cosine vectors are normalized on write, as Qdrant
 * does, so a retrieved vector is the unit vector).
 *
 * Anything the emulator does not implement raises NotImplementedByEmulator, answered as a 400 that says so,
 * rather than being silently ignored.
 */

export type PointId = number | string;

export interface EmulatedPoint {
  id: PointId;
  vector: number[];
  payload: Record<string, unknown>;
  /** Qdrant's point version: the operation id of the last write. */
  version: number;
}

export type Distance = "Cosine" | "Euclid" | "Dot" | "Manhattan";

export interface EmulatedIndex {
  data_type: string;
  params?: Record<string, unknown>;
}

export interface EmulatedCollection {
  name: string;
  size: number;
  distance: Distance;
  /** Collection metadata (Qdrant >= 1.16); null when none was ever set. */
  metadata: Record<string, unknown> | null;
  points: Map<string, EmulatedPoint>;
  indexes: Map<string, EmulatedIndex>;
  operations: number;
}

/** A client error Qdrant answers with 4xx and `{status: {error}}`. */
export class QdrantApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export class NotImplementedByEmulator extends QdrantApiError {
  constructor(what: string) {
    super(400, `Not implemented by the Qdrant emulator: ${what}`);
  }
}

export function newCollection(
  name: string,
  size: number,
  distance: Distance,
  metadata: Record<string, unknown> | null = null,
): EmulatedCollection {
  return { name, size, distance, metadata, points: new Map(), indexes: new Map(), operations: 0 };
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Qdrant stores UUIDs in canonical lowercase form and integers as unsigned integers. */
export function normalizeId(id: unknown): PointId {
  if (typeof id === "number" && Number.isInteger(id) && id >= 0) return id;
  if (typeof id === "string" && UUID.test(id)) return id.toLowerCase();
  if (typeof id === "string" && /^[0-9a-f]{32}$/i.test(id)) {
    const h = id.toLowerCase();
    return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
  }
  throw new QdrantApiError(
    400,
    `Format error in JSON body: value ${JSON.stringify(id)} is not a valid point ID, valid values are either an unsigned integer or a UUID`,
  );
}

export const idKey = (id: PointId): string =>
  typeof id === "number" ? `n:${String(id).padStart(20, "0")}` : `u:${id}`;

/** Qdrant's id order: integers first (numerically), then UUIDs (by value, i.e. by lowercase hex). */
export function sortedPoints(c: EmulatedCollection): EmulatedPoint[] {
  return [...c.points.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, p]) => p);
}

export function prepareVector(c: EmulatedCollection, vector: unknown): number[] {
  if (!Array.isArray(vector)) {
    if (vector && typeof vector === "object") {
      const names = Object.keys(vector);
      throw new QdrantApiError(400, `Wrong input: Not existing vector name error: ${names.join(", ") || "(empty)"}`);
    }
    throw new NotImplementedByEmulator("vectors other than a dense float array");
  }
  if (vector.some((x) => typeof x !== "number")) throw new NotImplementedByEmulator("multi-vectors");
  const v = vector as number[];
  if (v.length !== c.size)
    throw new QdrantApiError(400, `Wrong input: Vector dimension error: expected dim: ${c.size}, got ${v.length}`);
  if (c.distance !== "Cosine") return [...v];
  const norm = Math.hypot(...v);
  return norm > Number.EPSILON ? v.map((x) => x / norm) : [...v];
}

export function score(c: EmulatedCollection, stored: number[], query: number[]): number {
  let dot = 0;
  let l2 = 0;
  let l1 = 0;
  for (let i = 0; i < stored.length; i++) {
    const a = stored[i] ?? 0;
    const b = query[i] ?? 0;
    dot += a * b;
    l2 += (a - b) ** 2;
    l1 += Math.abs(a - b);
  }
  switch (c.distance) {
    case "Cosine":
    case "Dot":
      return dot;
    case "Euclid":
      return Math.sqrt(l2);
    case "Manhattan":
      return l1;
  }
}

/** Cosine and Dot rank higher scores first; Euclid and Manhattan lower distances first. */
export const higherIsBetter = (c: EmulatedCollection): boolean => c.distance === "Cosine" || c.distance === "Dot";

// ---- payload access -------------------------------------------------------------------------------------

/** The values at a payload key ("a.b", "a[].b"); arrays are flattened, as Qdrant matches any element. */
export function valuesAt(payload: Record<string, unknown>, key: string): unknown[] {
  let current: unknown[] = [payload];
  for (const rawPart of key.split(".")) {
    const flatten = rawPart.endsWith("[]");
    const part = flatten ? rawPart.slice(0, -2) : rawPart;
    const next: unknown[] = [];
    for (const value of current) {
      if (value && typeof value === "object" && !Array.isArray(value) && part in value) {
        const child = (value as Record<string, unknown>)[part];
        if (flatten && Array.isArray(child)) next.push(...(child as unknown[]));
        else next.push(child);
      }
    }
    current = next;
  }
  return current.flatMap((v) => (Array.isArray(v) ? (v as unknown[]) : [v]));
}

// ---- filters --------------------------------------------------------------------------------------------

type Json = Record<string, unknown>;

const asList = (v: unknown): unknown[] => (v === undefined || v === null ? [] : Array.isArray(v) ? v : [v]);

export function matchesFilter(point: EmulatedPoint, filter: unknown): boolean {
  if (filter === undefined || filter === null) return true;
  const f = filter as Json;
  const must = asList(f.must);
  const mustNot = asList(f.must_not);
  const should = asList(f.should);
  if (!must.every((c) => matchesCondition(point, c))) return false;
  if (mustNot.some((c) => matchesCondition(point, c))) return false;
  if (should.length > 0 && !should.some((c) => matchesCondition(point, c))) return false;
  if (f.min_should !== undefined && f.min_should !== null) {
    const ms = f.min_should as Json;
    const hits = asList(ms.conditions).filter((c) => matchesCondition(point, c)).length;
    if (hits < Number(ms.min_count)) return false;
  }
  return true;
}

function matchesCondition(point: EmulatedPoint, condition: unknown): boolean {
  const c = condition as Json;
  if ("has_id" in c) {
    const ids = asList(c.has_id).map((id) => idKey(normalizeId(id)));
    return ids.includes(idKey(point.id));
  }
  if ("key" in c && typeof c.key === "string") return matchesField(point, c);
  if ("is_empty" in c) {
    const key = (c.is_empty as Json).key as string;
    return valuesAt(point.payload, key).filter((v) => v !== null).length === 0;
  }
  if ("is_null" in c) {
    const key = (c.is_null as Json).key as string;
    const values = valuesAt(point.payload, key);
    return values.length > 0 && values.every((v) => v === null);
  }
  if ("nested" in c) throw new NotImplementedByEmulator("nested conditions");
  if ("has_vector" in c) return c.has_vector === "";
  if ("slice" in c) throw new NotImplementedByEmulator("slice conditions");
  // Otherwise it is a nested Filter.
  return matchesFilter(point, c);
}

function matchesField(point: EmulatedPoint, c: Json): boolean {
  const key = c.key as string;
  const values = valuesAt(point.payload, key).filter((v) => v !== null);
  let checked = false;
  let ok = true;
  if (c.match !== undefined && c.match !== null) {
    checked = true;
    ok &&= matchesMatch(values, c.match as Json);
  }
  if (c.range !== undefined && c.range !== null) {
    checked = true;
    ok &&= values.some((v) => inRange(v, c.range as Json));
  }
  if (c.values_count !== undefined && c.values_count !== null) {
    checked = true;
    ok &&= inRange(values.length, c.values_count as Json);
  }
  if (c.is_empty === true || c.is_empty === false) {
    checked = true;
    ok &&= (values.length === 0) === c.is_empty;
  }
  if (c.is_null === true || c.is_null === false) {
    checked = true;
    const raw = valuesAt(point.payload, key);
    ok &&= (raw.length > 0 && raw.every((v) => v === null)) === c.is_null;
  }
  for (const geo of ["geo_bounding_box", "geo_radius", "geo_polygon"]) {
    if (c[geo] !== undefined && c[geo] !== null) throw new NotImplementedByEmulator(`${geo} conditions`);
  }
  if (!checked) throw new QdrantApiError(400, `Bad request: field condition on "${key}" has no condition`);
  return ok;
}

function matchesMatch(values: unknown[], m: Json): boolean {
  if ("value" in m) return values.some((v) => v === m.value);
  if ("any" in m) return values.some((v) => asList(m.any).includes(v));
  if ("except" in m) return values.length === 0 || values.some((v) => !asList(m.except).includes(v));
  throw new NotImplementedByEmulator(`match ${Object.keys(m).join(", ")} (full-text matching)`);
}

function inRange(v: unknown, r: Json): boolean {
  const datetime = ["gt", "gte", "lt", "lte"].some((k) => typeof r[k] === "string");
  const toNumber = (x: unknown): number => (datetime ? Date.parse(String(x)) : typeof x === "number" ? x : NaN);
  const x = toNumber(v);
  if (Number.isNaN(x)) return false;
  const bound = (k: string) => (r[k] === undefined || r[k] === null ? undefined : toNumber(r[k]));
  const gt = bound("gt");
  const gte = bound("gte");
  const lt = bound("lt");
  const lte = bound("lte");
  return (
    (gt === undefined || x > gt) &&
    (gte === undefined || x >= gte) &&
    (lt === undefined || x < lt) &&
    (lte === undefined || x <= lte)
  );
}

// ---- payload and vector selection -----------------------------------------------------------------------

export function selectPayload(
  payload: Record<string, unknown>,
  withPayload: unknown,
): Record<string, unknown> | undefined {
  if (withPayload === undefined || withPayload === null || withPayload === false) return undefined;
  if (withPayload === true) return structuredClone(payload);
  if (Array.isArray(withPayload)) {
    return Object.fromEntries(
      Object.entries(payload)
        .filter(([k]) => (withPayload as string[]).includes(k))
        .map(([k, v]) => [k, structuredClone(v)]),
    );
  }
  const selector = withPayload as Json;
  if (Array.isArray(selector.include)) return selectPayload(payload, selector.include);
  if (Array.isArray(selector.exclude)) {
    return Object.fromEntries(
      Object.entries(payload)
        .filter(([k]) => !(selector.exclude as string[]).includes(k))
        .map(([k, v]) => [k, structuredClone(v)]),
    );
  }
  throw new NotImplementedByEmulator("this payload selector");
}

export function selectVector(vector: number[], withVector: unknown): number[] | undefined {
  if (withVector === true) return [...vector];
  if (Array.isArray(withVector) && (withVector as string[]).includes("")) return [...vector];
  return undefined;
}

/** The point count per indexed field, for CollectionInfo.payload_schema. */
export function indexedPoints(c: EmulatedCollection, field: string): number {
  let n = 0;
  for (const p of c.points.values()) if (valuesAt(p.payload, field).some((v) => v !== null)) n++;
  return n;
}
