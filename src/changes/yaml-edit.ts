import { Document, isCollection, isMap, isScalar, parseAllDocuments, Scalar } from "yaml";

/** Why an edit cannot be applied; the caller adds the file and turns it into a failure. */
export class EditError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "EditError";
  }
}

export type DocumentSelector = number | { kind?: string; name?: string };

/** `a.b.0.c` → ["a", "b", 0, "c"]; `\.` keeps a literal dot (annotation keys such as `example.com/x`). */
export function splitKeyPath(path: string): (string | number)[] {
  const parts: string[] = [];
  let current = "";
  for (let i = 0; i < path.length; i++) {
    const ch = path[i]!;
    if (ch === "\\" && path[i + 1] === ".") {
      current += ".";
      i++;
    } else if (ch === ".") {
      parts.push(current);
      current = "";
    } else current += ch;
  }
  parts.push(current);
  if (parts.some((p) => p === "")) throw new EditError(`key path "${path}" has an empty part`);
  return parts.map((p) => (/^\d+$/.test(p) ? Number(p) : p));
}

function describe(doc: Document, index: number): string {
  const kind = doc.get("kind");
  const name = doc.getIn(["metadata", "name"]);
  return typeof kind === "string"
    ? `document ${index} (${kind}${typeof name === "string" ? ` ${name}` : ""})`
    : `document ${index}`;
}

function pick(docs: Document[], selector: DocumentSelector | undefined): Document {
  if (selector === undefined) {
    if (docs.length === 1) return docs[0]!;
    throw new EditError(
      `the file has ${docs.length} YAML documents (${docs.map(describe).join(", ")}); say which one with "document"`,
    );
  }
  if (typeof selector === "number") {
    const doc = docs[selector];
    if (!doc) throw new EditError(`document ${selector} does not exist (the file has ${docs.length})`);
    return doc;
  }
  const hits = docs.filter(
    (d) =>
      (selector.kind === undefined || d.get("kind") === selector.kind) &&
      (selector.name === undefined || d.getIn(["metadata", "name"]) === selector.name),
  );
  if (hits.length !== 1) {
    throw new EditError(
      `${hits.length === 0 ? "no" : hits.length} YAML documents match ${JSON.stringify(selector)} (the file has ${docs.map((d, i) => describe(d, i)).join(", ")})`,
    );
  }
  return hits[0]!;
}

/** A scalar's new source text in its old style (quotes kept), or null when it would need more than one line. */
function scalarSource(node: Scalar): string | null {
  const bare = new Scalar(node.value);
  if (node.type) bare.type = node.type;
  const alone = new Document();
  alone.contents = bare;
  const text = alone.toString({ lineWidth: 0 }).replace(/\n$/, "");
  return text.includes("\n") ? null : text;
}

/**
 * Sets values in one YAML document through the `yaml` document API. A changed scalar is spliced into the
 * original text at its own position, so the diff is exactly the changed values — comments, quoting, layout
 * and the other documents stay byte for byte. New keys or non-scalar values re-print that one document.
 * Each key's parent must exist (a typo fails rather than adding a stray key); the key itself may be new.
 */
export function editYaml(text: string, set: Readonly<Record<string, unknown>>, selector?: DocumentSelector): string {
  const docs = parseAllDocuments(text) as Document[] | { errors: unknown[] };
  if (!Array.isArray(docs)) throw new EditError("the file is empty or not YAML");
  for (const [i, doc] of docs.entries()) {
    if (doc.errors.length > 0)
      throw new EditError(`the file is not valid YAML (${describe(doc, i)}: ${doc.errors[0]!.message.split("\n")[0]})`);
  }
  if (docs.length === 0) throw new EditError("the file has no YAML document");
  const doc = pick(docs, selector);
  const splices: { start: number; end: number; text: string }[] = [];
  let reprint = false;
  for (const [keyPath, value] of Object.entries(set)) {
    const path = splitKeyPath(keyPath);
    const parentPath = path.slice(0, -1);
    const parent = parentPath.length === 0 ? doc.contents : doc.getIn(parentPath, true);
    if (!isCollection(parent)) {
      throw new EditError(
        `"${parentPath.join(".") || "(document root)"}" is not a mapping or list in the file, so "${keyPath}" cannot be set`,
      );
    }
    const leaf = path[path.length - 1]!;
    if (typeof leaf === "number" && isMap(parent))
      throw new EditError(`"${parentPath.join(".")}" is a mapping; "${leaf}" is not a key in it`);
    const current = doc.getIn(path, true);
    if (isScalar(current) && isScalar(doc.createNode(value)) && current.range) {
      current.value = value;
      const source = scalarSource(current);
      if (source === null) reprint = true;
      else splices.push({ start: current.range[0], end: current.range[1], text: source });
    } else {
      doc.setIn(path, value);
      reprint = true;
    }
  }
  if (reprint) {
    // From the end of the previous document, so this one's leading comments and `---` are replaced, not doubled.
    const index = docs.indexOf(doc);
    const start = index === 0 ? 0 : (docs[index - 1]!.range?.[2] ?? 0);
    return text.slice(0, start) + doc.toString() + text.slice(doc.range?.[2] ?? text.length);
  }
  let out = text;
  for (const s of [...splices].sort((a, b) => b.start - a.start))
    out = out.slice(0, s.start) + s.text + out.slice(s.end);
  return out;
}
