/**
 * Declarations read from a tree-sitter tree, and the difference between two sets of them. Pure: the caller parses.
 *
 * Only declarations at namespace, module and type level are collected (function bodies are not entered: their
 * locals are no one else's business). Each carries a hash of its text with whitespace runs collapsed, so a
 * reformatted line is no change but an edited body or signature is.
 *
 * A type's hash covers only its head (attributes, modifiers, name, base types: everything before its body), so a
 * type whose members changed is not itself reported changed: adding `ApplyDiscount` to `Order` reports the added
 * `Order.ApplyDiscount` alone. When a whole type is added or removed, its members are not listed one by one.
 */
import type { Node } from "web-tree-sitter";
import type { CodeSymbol, SymbolChanges, SymbolKind } from "../domain/digest.js";
import type { CodeLanguage } from "./languages.js";

/** A declaration as found in one version of a file. */
export interface DeclaredSymbol extends CodeSymbol {
  /** Hash of the declaration's text (a type's head only), whitespace-normalised. */
  hash: string;
  /** Qualified name of the enclosing type (or map key), or null at the top. */
  parent: string | null;
  /**
   * Where the member it was read from starts and ends in the text (UTF-16 offsets): the innermost namespace,
   * module or type member holding it. Lets an incremental extraction copy an untouched member's symbols.
   */
  unit?: readonly [start: number, end: number];
}

/**
 * How to extract an after text's symbols from the before's: members of the after tree that lie outside every
 * changed region, under containers whose heads are unchanged, have the same symbols as their before twins, which
 * are copied instead of read from the tree. The result is the same list a full extraction gives.
 */
export interface ReusePlan {
  /** The before text's symbols (a full extraction). */
  before: readonly DeclaredSymbol[];
  /**
   * The edits that turned the before into the after, in order, in after coordinates (tree-sitter's `Edit`
   * indices): offsets outside them map back to the before by the length they changed.
   */
  edits: readonly { startIndex: number; oldEndIndex: number; newEndIndex: number }[];
  /** Where the after may differ from the before (after offsets, inclusive): the edits and tree-sitter's changed ranges. */
  changed: readonly (readonly [start: number, end: number])[];
  /** TypeScript/JavaScript: names the before's export clauses list (a change there changes other members' export). */
  exportedLocals?: ReadonlySet<string>;
}

/** Declarations per file side are capped: a generated 50,000-member file must not flood the digest. */
export const MAX_SYMBOLS = 2000;

/**
 * Hash of `text[start, end)` with whitespace runs collapsed to one space and leading/trailing ones dropped
 * (cyrb53-style, two 32-bit lanes): no intermediate string is built.
 */
export function hashText(text: string, start = 0, end = text.length): string {
  let h1 = 0xdeadbeef;
  let h2 = 0x41c6ce57;
  let pendingSpace = false;
  let any = false;
  for (let i = start; i < end; i++) {
    const c = text.charCodeAt(i);
    if (c === 32 || c === 9 || c === 10 || c === 13 || c === 12 || c === 11) {
      pendingSpace = any;
      continue;
    }
    if (pendingSpace) {
      h1 = Math.imul(h1 ^ 32, 2654435761);
      h2 = Math.imul(h2 ^ 32, 1597334677);
      pendingSpace = false;
    }
    any = true;
    h1 = Math.imul(h1 ^ c, 2654435761);
    h2 = Math.imul(h2 ^ c, 1597334677);
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507) ^ Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507) ^ Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  return (h2 >>> 0).toString(16).padStart(8, "0") + (h1 >>> 0).toString(16).padStart(8, "0");
}

interface Scope {
  /** Qualified name of the enclosing type, or "" at the top. */
  prefix: string;
  /** Whether what is declared here can be seen from outside (the enclosing type is exported). */
  visible: boolean;
  /** Interface bodies make members public without a modifier (C#, Java). */
  inInterface: boolean;
}

const TOP: Scope = { prefix: "", visible: true, inInterface: false };

function touches(regions: readonly (readonly [number, number])[], start: number, end: number): boolean {
  for (const [from, to] of regions) if (start <= to && from <= end) return true;
  return false;
}

class Collector {
  readonly symbols: DeclaredSymbol[] = [];
  /** The member being read (see `DeclaredSymbol.unit`). */
  private unit: readonly [number, number] | undefined;
  /** Where in `plan.before` the symbols of a member start, by the member's span ("start:end", before offsets). */
  private readonly firstOfUnit: Map<string, number> | null;
  /** Containers whose head changed: what they hold is read, never copied (names and visibility come from heads). */
  private readonly reread: [number, number][] = [];

  constructor(
    readonly text: string,
    private readonly plan: ReusePlan | null = null,
  ) {
    this.firstOfUnit = plan ? new Map() : null;
    plan?.before.forEach((symbol, index) => {
      const key = symbol.unit ? `${symbol.unit[0]}:${symbol.unit[1]}` : null;
      if (key !== null && !this.firstOfUnit!.has(key)) this.firstOfUnit!.set(key, index);
    });
  }

  get full(): boolean {
    return this.symbols.length >= MAX_SYMBOLS;
  }

  /**
   * The members directly under a node (see `membersOf`), each made the current unit while the caller reads it.
   * With a plan, an untouched member whose before twin is known is not yielded: its symbols are copied.
   */
  *members(node: Node | null): Generator<Node> {
    const outer = this.unit;
    try {
      for (const child of membersOf(node)) {
        const start = child.startIndex;
        const end = child.endIndex;
        if (this.plan && this.copied(start, end)) continue;
        this.unit = [start, end];
        yield child;
      }
    } finally {
      this.unit = outer;
    }
  }

  /** Copies the before symbols of an untouched member at [start, end) of the after; false when it must be read. */
  private copied(start: number, end: number): boolean {
    const plan = this.plan!;
    if (touches(plan.changed, start, end) || touches(this.reread, start, end)) return false;
    let shift = 0;
    for (const edit of plan.edits) {
      if (edit.newEndIndex > start) break;
      shift += edit.newEndIndex - edit.oldEndIndex;
    }
    const from = start - shift;
    const to = end - shift;
    const first = this.firstOfUnit!.get(`${from}:${to}`);
    if (first === undefined) return false;
    // Symbols are collected depth first: the member's own come first, then those of members nested in it.
    const before = plan.before;
    for (let i = first; i < before.length && !this.full; i++) {
      const twin = before[i]!;
      const unit = twin.unit;
      if (!unit || unit[0] < from || unit[1] > to) break;
      this.symbols.push({ ...twin, unit: [unit[0] + shift, unit[1] + shift] });
    }
    return true;
  }

  /** A container whose head is [its start, `headEnd`): when the head changed, everything in it is read. */
  container(node: Node, headEnd: number): void {
    if (this.plan && touches(this.plan.changed, node.startIndex, headEnd)) {
      this.reread.push([node.startIndex, node.endIndex]);
    }
  }

  /** Records a declaration; `headEnd` limits a type's hash to its head. Returns the qualified name. */
  add(scope: Scope, name: string, kind: SymbolKind, exported: boolean, node: Node, headEnd?: number): string {
    const qualified = scope.prefix ? `${scope.prefix}.${name}` : name;
    const start = node.startIndex;
    const end = headEnd ?? node.endIndex;
    if (headEnd !== undefined) this.container(node, headEnd);
    if (!this.full) {
      this.symbols.push({
        name: qualified,
        kind,
        exported: exported && scope.visible,
        hash: hashText(this.text, start, end),
        parent: scope.prefix || null,
        ...(this.unit ? { unit: this.unit } : {}),
      });
    }
    return qualified;
  }
}

function field(node: Node, name: string): Node | null {
  return node.childForFieldName(name);
}

function nameOf(node: Node, fieldName = "name"): string | null {
  const n = node.childForFieldName(fieldName);
  return n ? n.text : null;
}

function namedChildrenOf(node: Node | null): Node[] {
  // One call into WASM for all children (`namedChild(i)` makes one per child).
  return node ? node.namedChildren.filter((child): child is Node => child !== null) : [];
}

/**
 * The declarations directly under a node. Syntax errors wrap what follows them in ERROR nodes; their contents
 * are read as if in place, so one broken method does not hide the rest of the file.
 */
function membersOf(node: Node | null, out: Node[] = []): Node[] {
  for (const child of namedChildrenOf(node)) {
    if (child.type === "ERROR") membersOf(child, out);
    else out.push(child);
  }
  return out;
}

function childrenOf(node: Node): Node[] {
  return node.children.filter((child): child is Node => child !== null);
}

// ---- C# ----------------------------------------------------------------------------------------------------

const CS_TYPES = new Set([
  "class_declaration",
  "struct_declaration",
  "interface_declaration",
  "record_declaration",
  "record_struct_declaration",
  "enum_declaration",
]);

function csModifiers(node: Node): Set<string> {
  const out = new Set<string>();
  for (const child of namedChildrenOf(node)) if (child.type === "modifier") out.add(child.text);
  return out;
}

function csMemberPublic(node: Node, scope: Scope): boolean {
  const mods = csModifiers(node);
  return mods.has("public") || (scope.inInterface && !mods.has("private"));
}

function walkCSharp(c: Collector, node: Node, scope: Scope): void {
  for (const child of c.members(node)) {
    if (c.full) return;
    const type = child.type;
    if (type === "namespace_declaration") {
      // The namespace is left out of names: C# code is read by type, and file-scoped namespaces have no body.
      walkCSharp(c, field(child, "body") ?? child, scope);
    } else if (CS_TYPES.has(type)) {
      const name = nameOf(child);
      if (!name) continue;
      const body = field(child, "body");
      const exported = csMemberPublic(child, scope);
      const qualified = c.add(scope, name, "type", exported, child, body?.startIndex);
      if (!body) continue;
      const inner: Scope = {
        prefix: qualified,
        visible: scope.visible && exported,
        inInterface: type === "interface_declaration",
      };
      if (type === "enum_declaration") {
        for (const member of namedChildrenOf(body)) {
          const memberName = member.type === "enum_member_declaration" ? nameOf(member) : null;
          if (memberName) c.add(inner, memberName, "field", true, member);
        }
      } else {
        walkCSharp(c, body, inner);
      }
    } else if (type === "delegate_declaration") {
      const name = nameOf(child);
      if (name) c.add(scope, name, "type", csMemberPublic(child, scope), child);
    } else if (type === "method_declaration" || type === "constructor_declaration") {
      const name = nameOf(child);
      if (name) c.add(scope, name, scope.prefix ? "method" : "function", csMemberPublic(child, scope), child);
    } else if (type === "destructor_declaration") {
      const name = nameOf(child);
      if (name) c.add(scope, `~${name}`, "method", false, child);
    } else if (type === "operator_declaration" || type === "conversion_operator_declaration") {
      const op = field(child, "operator")?.text ?? field(child, "type")?.text ?? "";
      c.add(scope, `operator ${op}`.trim(), "method", csMemberPublic(child, scope), child);
    } else if (type === "indexer_declaration") {
      c.add(scope, "this[]", "method", csMemberPublic(child, scope), child);
    } else if (type === "property_declaration" || type === "event_declaration") {
      const name = nameOf(child);
      if (name) c.add(scope, name, "field", csMemberPublic(child, scope), child);
    } else if (type === "field_declaration" || type === "event_field_declaration") {
      const exported = csMemberPublic(child, scope);
      const declaration = namedChildrenOf(child).find((n) => n.type === "variable_declaration");
      for (const declarator of namedChildrenOf(declaration ?? null)) {
        if (declarator.type !== "variable_declarator") continue;
        const name = nameOf(declarator);
        if (name) c.add(scope, name, "field", exported, child);
      }
    }
  }
}

// ---- Java --------------------------------------------------------------------------------------------------

const JAVA_TYPES = new Set([
  "class_declaration",
  "interface_declaration",
  "enum_declaration",
  "record_declaration",
  "annotation_type_declaration",
]);

function javaModifiers(node: Node): Set<string> {
  const out = new Set<string>();
  const mods = namedChildrenOf(node).find((n) => n.type === "modifiers");
  if (mods) for (const token of childrenOf(mods)) if (!token.isNamed) out.add(token.type);
  return out;
}

function javaMemberPublic(node: Node, scope: Scope): boolean {
  const mods = javaModifiers(node);
  return mods.has("public") || (scope.inInterface && !mods.has("private"));
}

function walkJava(c: Collector, node: Node, scope: Scope): void {
  for (const child of c.members(node)) {
    if (c.full) return;
    const type = child.type;
    if (JAVA_TYPES.has(type)) {
      const name = nameOf(child);
      if (!name) continue;
      const body = field(child, "body");
      const exported = javaMemberPublic(child, scope);
      const qualified = c.add(scope, name, "type", exported, child, body?.startIndex);
      if (!body) continue;
      const inner: Scope = {
        prefix: qualified,
        visible: scope.visible && exported,
        inInterface: type === "interface_declaration" || type === "annotation_type_declaration",
      };
      walkJava(c, body, inner);
    } else if (type === "enum_constant") {
      const name = nameOf(child);
      if (name) c.add(scope, name, "field", true, child);
    } else if (type === "enum_body_declarations") {
      walkJava(c, child, scope);
    } else if (
      type === "method_declaration" ||
      type === "constructor_declaration" ||
      type === "compact_constructor_declaration" ||
      type === "annotation_type_element_declaration"
    ) {
      const name = nameOf(child);
      if (name) c.add(scope, name, "method", javaMemberPublic(child, scope), child);
    } else if (type === "field_declaration" || type === "constant_declaration") {
      const exported = javaMemberPublic(child, scope);
      for (const declarator of namedChildrenOf(child)) {
        if (declarator.type !== "variable_declarator") continue;
        const name = nameOf(declarator);
        if (name) c.add(scope, name, "field", exported, child);
      }
    }
  }
}

// ---- Python ------------------------------------------------------------------------------------------------

function pythonPublic(name: string): boolean {
  // Dunder methods (`__init__`, `__eq__`) are the class's protocol, not private helpers.
  return !name.startsWith("_") || (name.length > 4 && name.startsWith("__") && name.endsWith("__"));
}

function walkPython(c: Collector, node: Node, scope: Scope): void {
  for (const child of c.members(node)) {
    if (c.full) return;
    // A decorator belongs to what it decorates: its text is hashed with it.
    const definition = child.type === "decorated_definition" ? field(child, "definition") : child;
    if (!definition) continue;
    if (definition.type === "class_definition") {
      const name = nameOf(definition);
      if (!name) continue;
      const body = field(definition, "body");
      const exported = pythonPublic(name);
      const qualified = c.add(scope, name, "type", exported, child, body?.startIndex);
      if (body) walkPython(c, body, { prefix: qualified, visible: scope.visible && exported, inInterface: false });
    } else if (definition.type === "function_definition") {
      const name = nameOf(definition);
      if (name) c.add(scope, name, scope.prefix ? "method" : "function", pythonPublic(name), child);
    }
  }
}

// ---- Go ----------------------------------------------------------------------------------------------------

function goPublic(name: string): boolean {
  return /^\p{Lu}/u.test(name);
}

/** The receiver's type name: `(o *Order)`, `(o Order[T])` → `Order`. */
function goReceiver(method: Node): string | null {
  const receiver = field(method, "receiver");
  const parameter = namedChildrenOf(receiver).find((n) => n.type === "parameter_declaration");
  let type = parameter ? field(parameter, "type") : null;
  while (type && type.type !== "type_identifier") {
    type = type.type === "pointer_type" ? (type.namedChild(0) ?? null) : field(type, "type");
  }
  return type ? type.text : null;
}

function goTypeMembers(c: Collector, typeNode: Node, scope: Scope): void {
  if (typeNode.type === "struct_type") {
    const list = namedChildrenOf(typeNode).find((n) => n.type === "field_declaration_list");
    for (const decl of namedChildrenOf(list ?? null)) {
      if (decl.type !== "field_declaration") continue;
      const names = childrenOf(decl).filter((n) => n.type === "field_identifier");
      if (names.length === 0) {
        // An embedded type is a field named after the type.
        const embedded = field(decl, "type")?.text.replace(/^\*/, "").split(".").pop();
        if (embedded) c.add(scope, embedded, "field", goPublic(embedded), decl);
      }
      for (const n of names) c.add(scope, n.text, "field", goPublic(n.text), decl);
    }
  } else if (typeNode.type === "interface_type") {
    for (const elem of namedChildrenOf(typeNode)) {
      const name = elem.type === "method_elem" || elem.type === "method_spec" ? nameOf(elem) : null;
      if (name) c.add(scope, name, "method", goPublic(name), elem);
    }
  }
}

/** Where a struct's or interface's member list starts, so the type's hash covers its head only. */
function goBodyStart(typeNode: Node | null): number | undefined {
  if (!typeNode) return undefined;
  if (typeNode.type === "struct_type") {
    return namedChildrenOf(typeNode).find((n) => n.type === "field_declaration_list")?.startIndex;
  }
  if (typeNode.type === "interface_type") return childrenOf(typeNode).find((n) => n.type === "{")?.startIndex;
  return undefined;
}

function walkGo(c: Collector, root: Node): void {
  for (const child of c.members(root)) {
    if (c.full) return;
    if (child.type === "type_declaration") {
      for (const spec of namedChildrenOf(child)) {
        if (spec.type !== "type_spec" && spec.type !== "type_alias") continue;
        const name = nameOf(spec);
        if (!name) continue;
        const typeNode = field(spec, "type");
        const qualified = c.add(TOP, name, "type", goPublic(name), spec, goBodyStart(typeNode));
        if (typeNode && spec.type === "type_spec") {
          goTypeMembers(c, typeNode, { prefix: qualified, visible: goPublic(name), inInterface: false });
        }
      }
    } else if (child.type === "function_declaration") {
      const name = nameOf(child);
      if (name) c.add(TOP, name, "function", goPublic(name), child);
    } else if (child.type === "method_declaration") {
      const name = nameOf(child);
      const receiver = goReceiver(child);
      if (!name) continue;
      // Go's rule is per identifier: an exported method is callable even on an unexported type (via interfaces).
      const scope: Scope = receiver ? { prefix: receiver, visible: true, inInterface: false } : TOP;
      c.add(scope, name, "method", goPublic(name), child);
    }
  }
}

// ---- TypeScript / JavaScript -------------------------------------------------------------------------------

const TS_CLASSES = new Set(["class_declaration", "abstract_class_declaration", "class"]);
const TS_FUNCTIONS = new Set(["function_declaration", "generator_function_declaration", "function_signature"]);
const TS_FUNCTION_VALUES = new Set(["arrow_function", "function_expression", "function", "generator_function"]);

/** Names a module exports through `export { a, b as c }` or `export default a` rather than at the declaration. */
function tsExportedLocals(root: Node): Set<string> {
  const names = new Set<string>();
  for (const child of namedChildrenOf(root)) {
    if (child.type !== "export_statement" || field(child, "source") || field(child, "declaration")) continue;
    const value = field(child, "value");
    if (value?.type === "identifier") names.add(value.text);
    const clause = namedChildrenOf(child).find((n) => n.type === "export_clause");
    for (const spec of namedChildrenOf(clause ?? null)) {
      const name = spec.type === "export_specifier" ? nameOf(spec) : null;
      if (name) names.add(name);
    }
  }
  return names;
}

function tsMemberPrivate(member: Node, name: string): boolean {
  if (name.startsWith("#")) return true;
  return namedChildrenOf(member).some((n) => n.type === "accessibility_modifier" && n.text === "private");
}

function walkTsClassBody(c: Collector, body: Node, scope: Scope): void {
  for (const member of c.members(body)) {
    if (c.full) return;
    const type = member.type;
    const isMethod =
      type === "method_definition" || type === "method_signature" || type === "abstract_method_signature";
    const isField = type === "public_field_definition" || type === "field_definition" || type === "property_signature";
    if (!isMethod && !isField) continue;
    const name = nameOf(member) ?? nameOf(member, "property");
    if (!name) continue;
    c.add(scope, name, isMethod ? "method" : "field", !tsMemberPrivate(member, name), member);
  }
}

const TS_ENUM_MEMBERS = new Set(["property_identifier", "string", "enum_assignment"]);

/** Whether a declared name is exported: by an `export` on the statement, or listed in an export clause. */
type ExportRule = (name: string) => boolean;
const ALWAYS: ExportRule = () => true;

function walkTsDeclaration(
  c: Collector,
  decl: Node,
  scope: Scope,
  exportedName: ExportRule,
  hashNode: Node,
  fallbackName?: string,
): void {
  const type = decl.type;
  if (TS_CLASSES.has(type) || type === "interface_declaration" || type === "enum_declaration") {
    const name = nameOf(decl) ?? fallbackName;
    if (!name) return;
    const body = field(decl, "body");
    const exported = exportedName(name);
    const qualified = c.add(scope, name, "type", exported, hashNode, body?.startIndex);
    if (!body) return;
    const inner: Scope = { prefix: qualified, visible: scope.visible && exported, inInterface: false };
    if (type === "enum_declaration") {
      for (const member of namedChildrenOf(body)) {
        if (!TS_ENUM_MEMBERS.has(member.type)) continue;
        const memberName = member.type === "enum_assignment" ? nameOf(member) : member.text;
        if (memberName) c.add(inner, memberName, "field", true, member);
      }
    } else {
      walkTsClassBody(c, body, inner);
    }
  } else if (type === "type_alias_declaration") {
    const name = nameOf(decl);
    if (name) c.add(scope, name, "type", exportedName(name), hashNode);
  } else if (TS_FUNCTIONS.has(type) || (fallbackName && TS_FUNCTION_VALUES.has(type))) {
    const name = nameOf(decl) ?? fallbackName;
    if (name) c.add(scope, name, "function", exportedName(name), hashNode);
  } else if (type === "lexical_declaration" || type === "variable_declaration") {
    for (const declarator of namedChildrenOf(decl)) {
      if (declarator.type !== "variable_declarator") continue;
      const name = nameOf(declarator);
      const value = field(declarator, "value");
      if (!name) continue;
      const exported = exportedName(name);
      if (value && TS_FUNCTION_VALUES.has(value.type)) c.add(scope, name, "function", exported, declarator);
      // Other values only matter when exported: a module's private constants are its own business.
      else if (exported) c.add(scope, name, "field", exported, declarator);
    }
  } else if (type === "internal_module" || type === "module") {
    const name = nameOf(decl);
    const body = field(decl, "body");
    if (!name || !body) return;
    // A namespace is no symbol, but its name is in its members' names.
    c.container(decl, body.startIndex);
    const prefix = scope.prefix ? `${scope.prefix}.${name}` : name;
    walkTs(c, body, { prefix, visible: scope.visible && exportedName(name), inInterface: false }, new Set());
  } else if (type === "ambient_declaration") {
    // `declare …`: what it declares is exported only when the statement is.
    for (const inner of namedChildrenOf(decl)) walkTsDeclaration(c, inner, scope, exportedName, inner);
  }
}

function walkTs(c: Collector, node: Node, scope: Scope, exportedLocals: ReadonlySet<string>): void {
  const listed: ExportRule = (name) => exportedLocals.has(name);
  for (const child of c.members(node)) {
    if (c.full) return;
    if (child.type === "export_statement") {
      const declaration = field(child, "declaration");
      const value = field(child, "value");
      if (declaration) walkTsDeclaration(c, declaration, scope, ALWAYS, child);
      else if (value) walkTsDeclaration(c, value, scope, ALWAYS, child, "default");
      continue;
    }
    if (child.type === "expression_statement") {
      // Namespaces parse as expression statements wrapping `internal_module` in some grammar versions.
      const inner = child.namedChild(0);
      if (inner?.type === "internal_module") walkTsDeclaration(c, inner, scope, listed, child);
      continue;
    }
    walkTsDeclaration(c, child, scope, listed, child);
  }
}

/**
 * The declarations of one parsed file, in source order. With a plan (the after side of an incremental parse),
 * untouched members' symbols are copied from the before's: the same list, read from far fewer nodes.
 */
export function extractSymbols(
  language: CodeLanguage,
  root: Node,
  text: string,
  plan: ReusePlan | null = null,
): DeclaredSymbol[] {
  const isTs = language === "typescript" || language === "tsx" || language === "javascript";
  const exportedLocals = isTs ? tsExportedLocals(root) : null;
  // A changed export clause changes members it does not touch: no copying then.
  // A capped before list would leave copies short.
  const usable =
    plan && plan.before.length < MAX_SYMBOLS && (!exportedLocals || sameSet(exportedLocals, plan.exportedLocals))
      ? plan
      : null;
  const c = new Collector(text, usable);
  switch (language) {
    case "csharp":
      walkCSharp(c, root, TOP);
      break;
    case "java":
      walkJava(c, root, TOP);
      break;
    case "python":
      walkPython(c, root, TOP);
      break;
    case "go":
      walkGo(c, root);
      break;
    case "typescript":
    case "tsx":
    case "javascript":
      walkTs(c, root, TOP, exportedLocals!);
      break;
  }
  return c.symbols;
}

function sameSet(a: ReadonlySet<string>, b: ReadonlySet<string> | undefined): boolean {
  if (!b || a.size !== b.size) return false;
  for (const x of a) if (!b.has(x)) return false;
  return true;
}

/** The names a TypeScript/JavaScript module's export clauses list (for `ReusePlan.exportedLocals`). */
export function exportClauseNames(language: CodeLanguage, root: Node): ReadonlySet<string> | undefined {
  return language === "typescript" || language === "tsx" || language === "javascript"
    ? tsExportedLocals(root)
    : undefined;
}

// ---- Differences -------------------------------------------------------------------------------------------

interface Group {
  kind: SymbolKind;
  name: string;
  parent: string | null;
  entries: { hash: string; exported: boolean }[];
}

function groupByName(symbols: readonly DeclaredSymbol[]): Map<string, Group> {
  const groups = new Map<string, Group>();
  for (const s of symbols) {
    const key = `${s.kind}\u0000${s.name}`;
    let group = groups.get(key);
    if (!group) {
      group = { kind: s.kind, name: s.name, parent: s.parent, entries: [] };
      groups.set(key, group);
    }
    group.entries.push({ hash: s.hash, exported: s.exported });
  }
  return groups;
}

/** Entries of `from` whose hash has no partner in `to` (each partner used once, so overloads pair up). */
function unmatched(from: Group["entries"], to: Group["entries"]): Group["entries"] {
  const left = new Map<string, number>();
  for (const e of to) left.set(e.hash, (left.get(e.hash) ?? 0) + 1);
  return from.filter((e) => {
    const n = left.get(e.hash) ?? 0;
    if (n === 0) return true;
    left.set(e.hash, n - 1);
    return false;
  });
}

function byName(a: CodeSymbol, b: CodeSymbol): number {
  return a.name < b.name ? -1 : a.name > b.name ? 1 : a.kind < b.kind ? -1 : a.kind > b.kind ? 1 : 0;
}

/**
 * What changed between two versions' declarations. Overloads (same name and kind) are compared as a multiset
 * of hashes: one more of them is `added`, one fewer `removed`, a differing one `changed`. Members of a type (or
 * keys of a map) that was added or removed as a whole are left out: the type stands for them.
 */
export function diffSymbols(before: readonly DeclaredSymbol[], after: readonly DeclaredSymbol[]): SymbolChanges {
  const old = groupByName(before);
  const now = groupByName(after);
  const added: (CodeSymbol & { parent: string | null })[] = [];
  const removed: (CodeSymbol & { parent: string | null })[] = [];
  const changed: CodeSymbol[] = [];
  for (const [key, b] of old) {
    const a = now.get(key);
    if (!a) {
      removed.push({ name: b.name, kind: b.kind, exported: b.entries.some((e) => e.exported), parent: b.parent });
      continue;
    }
    const gone = unmatched(b.entries, a.entries);
    const fresh = unmatched(a.entries, b.entries);
    if (gone.length === 0 && fresh.length === 0) continue;
    if (gone.length === 0) {
      added.push({ name: a.name, kind: a.kind, exported: fresh.some((e) => e.exported), parent: a.parent });
    } else if (fresh.length === 0) {
      removed.push({ name: b.name, kind: b.kind, exported: gone.some((e) => e.exported), parent: b.parent });
    } else {
      changed.push({ name: a.name, kind: a.kind, exported: fresh.some((e) => e.exported) });
    }
  }
  for (const [key, a] of now) {
    if (old.has(key)) continue;
    added.push({ name: a.name, kind: a.kind, exported: a.entries.some((e) => e.exported), parent: a.parent });
  }
  return {
    added: wholeOnly(added).sort(byName),
    removed: wholeOnly(removed).sort(byName),
    changed: changed.sort(byName),
  };
}

/** Drops entries whose enclosing type or key is itself in the list (an added class's members). */
function wholeOnly(list: (CodeSymbol & { parent: string | null })[]): CodeSymbol[] {
  const containers = new Set(list.filter((s) => s.kind === "type" || s.kind === "key").map((s) => s.name));
  return list
    .filter((s) => s.parent === null || !containers.has(s.parent))
    .map(({ name, kind, exported }) => ({ name, kind, exported }));
}
