/**
 * Which way imports run (DESIGN.md): no import cycle under src/, and the pure layers (domain, policy, render,
 * validate, changes) import nothing outside themselves. The graph is read from the sources' relative import
 * lines, type-only and dynamic imports included.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync, mkdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, posix, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const SRC = resolve(dirname(fileURLToPath(import.meta.url)), "../../src");

/** Module (path under src/, without extension) → the modules it imports. */
type Graph = Map<string, Set<string>>;

const FROM = /\b(?:import|export)\b[^;]*?\bfrom\s*["'](\.{1,2}\/[^"']+)["']/g;
const BARE = /\bimport\s*\(?\s*["'](\.{1,2}\/[^"']+)["']/g;

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return entry.name.endsWith(".ts") && !entry.name.endsWith(".d.ts") ? [path] : [];
  });
}

const moduleOf = (path: string) => path.replace(/\.(?:[cm]?[jt]s)$/, "");

/** The relative imports of one file's text (comments dropped, so prose that says "import … from" is no edge). */
function importsOf(text: string): string[] {
  const code = text.replace(/\/\*[\s\S]*?\*\//g, "").replace(/^\s*\/\/.*$/gm, "");
  return [...code.matchAll(FROM), ...code.matchAll(BARE)].map((m) => m[1]!);
}

function importGraph(root: string): Graph {
  const graph: Graph = new Map();
  for (const file of sourceFiles(root)) {
    const from = moduleOf(relative(root, file).split("\\").join("/"));
    const targets = new Set(
      importsOf(readFileSync(file, "utf8")).map((spec) =>
        moduleOf(posix.normalize(posix.join(posix.dirname(from), spec))),
      ),
    );
    graph.set(from, targets);
  }
  return graph;
}

/** Cycles found walking the graph depth-first (at least one per tangle), each as its modules, the first repeated at the end. */
function cyclesOf(graph: Graph): string[][] {
  const cycles: string[][] = [];
  const seen = new Set<string>();
  const state = new Map<string, "open" | "done">();
  const stack: string[] = [];
  const visit = (node: string) => {
    state.set(node, "open");
    stack.push(node);
    for (const next of graph.get(node) ?? []) {
      if (state.get(next) === "open") {
        const cycle = [...stack.slice(stack.indexOf(next)), next];
        const key = [...cycle.slice(0, -1)].sort().join(" ");
        if (!seen.has(key)) cycles.push(cycle);
        seen.add(key);
      } else if (!state.has(next) && graph.has(next)) visit(next);
    }
    stack.pop();
    state.set(node, "done");
  };
  for (const node of [...graph.keys()].sort()) if (!state.has(node)) visit(node);
  return cycles;
}

/** The layers that import nothing outside themselves, and which layers each may import. */
const PURE_LAYERS = ["domain", "policy", "render", "validate", "changes"];
const PURE: Record<string, readonly string[]> = {
  domain: ["domain"],
  ...Object.fromEntries(PURE_LAYERS.slice(1).map((layer) => [layer, PURE_LAYERS])),
};

const layerOf = (module: string) => module.split("/")[0]!;

/** Arrows that break the layering, as "from → to". */
function forbiddenArrows(graph: Graph, rules: Record<string, readonly string[]> = PURE): string[] {
  const arrows: string[] = [];
  for (const [from, targets] of graph) {
    const allowed = rules[layerOf(from)];
    if (!allowed) continue;
    for (const to of targets) if (!allowed.includes(layerOf(to))) arrows.push(`${from} → ${to}`);
  }
  return arrows.sort();
}

const graphOf = (edges: Record<string, string[]>): Graph =>
  new Map(Object.entries(edges).map(([from, to]) => [from, new Set(to)]));

describe("import graph of src/", () => {
  const graph = importGraph(SRC);

  it("reads every module and its relative imports", () => {
    expect(graph.size).toBeGreaterThan(50);
    expect(graph.get("index")).toContain("agent/create-agent");
  });

  it("has no cycle", () => {
    expect(cyclesOf(graph).map((c) => c.join(" → "))).toEqual([]);
  });

  it("keeps domain, policy, render, validate and changes free of everything above them", () => {
    expect(forbiddenArrows(graph)).toEqual([]);
  });

  it("keeps observers, tools, memory, merge, the forges and trackers off the graph, and the server and tools off the CLI", () => {
    const rules: Record<string, readonly string[]> = {
      ...Object.fromEntries(
        ["logging", "telemetry", "events", "tools", "merge", "metrics", "memory", "forges", "trackers"].map((l) => [
          l,
          ["agent"],
        ]),
      ),
      server: ["cli"],
      tools: ["agent", "cli", "server"],
    };
    const offending = [...graph].flatMap(([from, targets]) =>
      [...targets].filter((to) => rules[layerOf(from)]?.includes(layerOf(to))).map((to) => `${from} → ${to}`),
    );
    expect(offending).toEqual([]);
  });
});

describe("the checks themselves", () => {
  it("parse single-line, multi-line, type-only, re-export, side-effect and dynamic imports, not comments", () => {
    const text = [
      'import { a } from "./a.js";',
      'import type {\n  B,\n  C,\n} from "../b/c.js";',
      'export { d } from "./d.js";',
      'import "./e.js";',
      'const f = await import("../f.js");',
      'import { z } from "zod";',
      '/** import { g } from "./g.js"; */',
      '// import { h } from "./h.js";',
    ].join("\n");
    expect(importsOf(text).sort()).toEqual(["../b/c.js", "../f.js", "./a.js", "./d.js", "./e.js"]);
  });

  it("find a cycle and a forbidden arrow in a synthetic graph", () => {
    const bad = graphOf({
      "agent/run": ["logging/run-log", "domain/run-result"],
      "logging/run-log": ["agent/run"],
      "domain/run-result": ["merge/outcome"],
      "render/summary": ["domain/run-result"],
    });
    expect(cyclesOf(bad)).toEqual([["agent/run", "logging/run-log", "agent/run"]]);
    expect(forbiddenArrows(bad)).toEqual(["domain/run-result → merge/outcome"]);
    expect(cyclesOf(graphOf({ a: ["b"], b: ["c"], c: [] }))).toEqual([]);
  });

  it("catch a cycle planted in a copy of files on disk", () => {
    const root = mkdtempSync(join(tmpdir(), "import-graph-"));
    try {
      mkdirSync(join(root, "agent"));
      mkdirSync(join(root, "domain"));
      writeFileSync(join(root, "agent", "run.ts"), 'import type { X } from "../domain/x.js";\nexport type Y = X;\n');
      writeFileSync(join(root, "domain", "x.ts"), 'import type { Y } from "../agent/run.js";\nexport type X = Y;\n');
      const planted = importGraph(root);
      expect(cyclesOf(planted).map((c) => c.join(" → "))).toEqual(["agent/run → domain/x → agent/run"]);
      expect(forbiddenArrows(planted)).toEqual(["domain/x → agent/run"]);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});
