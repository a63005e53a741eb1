/**
 * Change-digest benchmark (not a test): what the digest adds to a run for a realistic 100-file commit.
 *
 *   npm run bench:digest       # a few seconds; writes bench/results-digest.json and prints a table
 *
 * The commit: 44 modified C# and 44 modified TypeScript source files of 100–400 lines (each with one to three
 * edits: a changed statement, an added method, sometimes a removed one), 6 test files, 4 docs, one CI workflow
 * and package-lock.json, with patches and line counts as local git gives them, and texts for the files
 * `pathsToRead` asks for. Measured apart:
 * - the one-time grammar load (C# and TypeScript, including the tree-sitter runtime), cold, then cached;
 * - `buildDigest` p50/p95 over BENCH_ITERATIONS (default 40) runs after 5 warm-ups;
 * - the same without grammars (roles, counts and hunks only), and one bare tree-sitter parse of every before
 *   text per language, to show what parsing costs.
 */
import { writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { ChangeSet, ChangedFile, FileTexts } from "../src/domain/commit.js";
import { PolicySchema } from "../src/domain/policy.js";
import { buildDigest } from "../src/digest/build-digest.js";
import { loadGrammars, NO_GRAMMARS, type Grammars } from "../src/digest/grammars.js";
import { diffTexts } from "../src/digest/hunks.js";
import { pathsToRead } from "../src/digest/index.js";

const here = path.dirname(fileURLToPath(import.meta.url));
const ITERATIONS = Number(process.env.BENCH_ITERATIONS ?? 40);
const WARMUP = 5;
const TARGET_P95_MS = 15;

// ---- A deterministic commit --------------------------------------------------------------------------------

let seed = 0x2545f491;
function random(): number {
  seed ^= seed << 13;
  seed ^= seed >>> 17;
  seed ^= seed << 5;
  return (seed >>> 0) / 2 ** 32;
}
function between(lo: number, hi: number): number {
  return lo + Math.floor(random() * (hi - lo + 1));
}

function csMethod(k: number, m: number): string {
  return `    /// <summary>Computes the total of order lines for rule ${m}.</summary>
    public async Task<decimal> ComputeTotal${m}Async(Guid orderId, CancellationToken ct)
    {
        var order = await _repository.GetAsync(orderId, ct);
        if (order is null)
        {
            throw new InvalidOperationException($"Order {orderId} not found in module ${k}");
        }
        var total = order.Lines.Where(l => l.Quantity > 0).Sum(l => l.Price * l.Quantity);
        _logger.LogInformation("Total for {OrderId} is {Total}", orderId, total);
        return Math.Round(total * ${m}.5m, 2);
    }
`;
}

function csFile(k: number, methods: number): string {
  const body = Array.from({ length: methods }, (_, m) => csMethod(k, m)).join("\n");
  return `using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;

namespace Shop.Orders.Module${k};

public sealed class OrderService${k} : IOrderService${k}
{
    private readonly IRepository _repository;
    private readonly ILogger<OrderService${k}> _logger;

    public OrderService${k}(IRepository repository, ILogger<OrderService${k}> logger)
    {
        _repository = repository;
        _logger = logger;
    }

    public string Name { get; set; } = "module-${k}";

${body}}
`;
}

function tsMethod(k: number, m: number): string {
  return `  /** Totals the order's lines for rule ${m}. */
  async computeTotal${m}(orderId: string, signal?: AbortSignal): Promise<number> {
    const order = await this.repository.get(orderId, { signal });
    if (!order) {
      throw new Error(\`order \${orderId} not found in module ${k}\`);
    }
    const total = order.lines.filter((l) => l.quantity > 0).reduce((s, l) => s + l.price * l.quantity, 0);
    this.logger.info({ orderId, total }, "computed total");
    return Math.round(total * ${m}.5 * 100) / 100;
  }
`;
}

function tsFile(k: number, methods: number): string {
  const body = Array.from({ length: methods }, (_, m) => tsMethod(k, m)).join("\n");
  return `import type { Logger } from "pino";
import type { Repository } from "../repository.js";

export interface OrderLine${k} {
  sku: string;
  price: number;
  quantity: number;
}

export class OrderService${k} {
  constructor(
    private readonly repository: Repository,
    private readonly logger: Logger,
  ) {}

${body}}

export const moduleName${k} = (): string => "module-${k}";
`;
}

/** One to three edits in the middle of a file: a changed statement, an added method, sometimes a removed one. */
function edit(text: string, language: "cs" | "ts", k: number, methods: number): string {
  let out = text;
  const changed = between(0, methods - 1);
  out =
    language === "cs"
      ? out.replace(`Math.Round(total * ${changed}.5m, 2)`, `Math.Round(total * ${changed}.75m, 2)`)
      : out.replace(`Math.round(total * ${changed}.5 * 100)`, `Math.round(total * ${changed}.75 * 100)`);
  if (random() < 0.7) {
    const at = between(0, methods - 1);
    const anchor = language === "cs" ? csMethod(k, at) : tsMethod(k, at);
    const added = (language === "cs" ? csMethod(k, 900 + at) : tsMethod(k, 900 + at)).replace(/900/g, "ApplyDiscount");
    out = out.replace(anchor, `${anchor}\n${added}`);
  }
  if (random() < 0.25) {
    const gone = (changed + 1) % methods;
    out = out.replace(language === "cs" ? csMethod(k, gone) : tsMethod(k, gone), "");
  }
  return out;
}

function patchOf(before: string | null, after: string | null): { patch: string; additions: number; deletions: number } {
  const set = diffTexts(before, after)!;
  const patch = set.hunks.map((h) => `${h.header}\n${h.lines.join("\n")}\n`).join("");
  return { patch, additions: set.additions, deletions: set.deletions };
}

function makeCommit(): { changes: ChangeSet; allTexts: Map<string, FileTexts> } {
  const files: ChangedFile[] = [];
  const allTexts = new Map<string, FileTexts>();
  const add = (filePath: string, before: string | null, after: string | null): void => {
    const { patch, additions, deletions } = patchOf(before, after);
    const change = before === null ? "added" : after === null ? "deleted" : "modified";
    files.push({ path: filePath, change, additions, deletions, binary: false, patch });
    allTexts.set(filePath, { before, after });
  };
  for (let k = 0; k < 44; k++) {
    const methods = between(7, 32);
    const before = csFile(k, methods);
    add(`src/Shop.Orders/Module${k}/OrderService${k}.cs`, before, edit(before, "cs", k, methods));
  }
  for (let k = 0; k < 44; k++) {
    const methods = between(9, 38);
    const before = tsFile(k, methods);
    add(`web/src/orders/module${k}/order-service.ts`, before, edit(before, "ts", k, methods));
  }
  for (let k = 0; k < 3; k++) {
    const before = csFile(100 + k, 8).replace(/OrderService/g, "OrderServiceTests");
    add(`tests/Shop.Orders.Tests/OrderService${k}Tests.cs`, before, edit(before, "cs", 100 + k, 8));
    const tsBefore = tsFile(200 + k, 8).replace(/OrderService/g, "OrderServiceSpec");
    add(`web/src/orders/module${k}/order-service.test.ts`, tsBefore, edit(tsBefore, "ts", 200 + k, 8));
  }
  for (let k = 0; k < 4; k++) {
    const before = Array.from({ length: 60 }, (_, i) => `Paragraph ${i} of the orders guide, part ${k}.`).join("\n\n");
    add(`docs/orders/guide-${k}.md`, before, before.replace("Paragraph 7 ", "Paragraph 7 (revised) "));
  }
  const ci = "name: ci\non:\n  push:\n    branches: [main]\njobs:\n  build:\n    runs-on: ubuntu-latest\n";
  add(".github/workflows/ci.yml", ci, ci.replace("ubuntu-latest", "ubuntu-24.04"));
  const lockEntry = (i: number, v: string) =>
    `    "node_modules/pkg-${i}": {\n      "version": "${v}",\n      "resolved": "https://registry.npmjs.org/pkg-${i}/-/pkg-${i}-${v}.tgz"\n    },`;
  const lockBefore = `{\n  "lockfileVersion": 3,\n  "packages": {\n${Array.from({ length: 400 }, (_, i) => lockEntry(i, "1.0.0")).join("\n")}\n  }\n}\n`;
  add(
    "package-lock.json",
    lockBefore,
    lockBefore.replace(/pkg-(1\d)-1\.0\.0|"1\.0\.0"/g, (m) => m.replace("1.0.0", "1.1.0")),
  );
  const changes: ChangeSet = {
    commits: [],
    base: null,
    range: "commit",
    files,
    additions: files.reduce((s, f) => s + f.additions, 0),
    deletions: files.reduce((s, f) => s + f.deletions, 0),
    line_counts: "exact",
  };
  return { changes, allTexts };
}

// ---- Measuring ---------------------------------------------------------------------------------------------

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

function measure(run: () => void): { p50: number; p95: number; mean: number; max: number } {
  for (let i = 0; i < WARMUP; i++) run();
  const times: number[] = [];
  for (let i = 0; i < ITERATIONS; i++) {
    const start = performance.now();
    run();
    times.push(performance.now() - start);
  }
  times.sort((a, b) => a - b);
  const round = (n: number) => Math.round(n * 100) / 100;
  return {
    p50: round(percentile(times, 50)),
    p95: round(percentile(times, 95)),
    mean: round(times.reduce((s, t) => s + t, 0) / times.length),
    max: round(times.at(-1)!),
  };
}

const loadAtStart = os.loadavg()[0]!;
const policy = PolicySchema.parse({});
const { changes, allTexts } = makeCommit();
const wanted = pathsToRead(changes, policy);
const texts = new Map(wanted.map((p) => [p, allTexts.get(p)!] as const));

const coldStart = performance.now();
const grammars: Grammars = await loadGrammars(["csharp", "typescript"]);
const coldMs = performance.now() - coldStart;
const warmStart = performance.now();
await loadGrammars(["csharp", "typescript"]);
const cachedMs = performance.now() - warmStart;
if (grammars.failures.size > 0) throw new Error(`grammars failed: ${[...grammars.failures.values()].join("; ")}`);

const digest = buildDigest({ changes, texts, policy, grammars });

/** The floor under buildDigest: one full tree-sitter parse of every before text of a language, nothing else. */
function parseOnly(language: "csharp" | "typescript", extension: string): () => void {
  const parser = grammars.parsers.get(language)!;
  const befores = [...texts].filter(([p]) => p.endsWith(extension)).map(([, t]) => t.before ?? "");
  return () => {
    for (const text of befores) parser.parse(text)?.delete();
  };
}
const parseCs = measure(parseOnly("csharp", ".cs"));
const parseTs = measure(parseOnly("typescript", ".ts"));
const full = measure(() => buildDigest({ changes, texts, policy, grammars }));
const noParse = measure(() => buildDigest({ changes, texts, policy, grammars: NO_GRAMMARS }));

const textBytes = [...texts.values()].reduce((s, t) => s + (t.before?.length ?? 0) + (t.after?.length ?? 0), 0);
const lines = changes.files
  .filter((f) => /\.(cs|ts)$/.test(f.path))
  .map((f) => allTexts.get(f.path)!.before?.split("\n").length ?? 0);
const symbols = digest.files.reduce(
  (n, f) => n + (f.symbols ? f.symbols.added.length + f.symbols.removed.length + f.symbols.changed.length : 0),
  0,
);

const results = {
  meta: {
    date: new Date().toISOString(),
    command: "npm run bench:digest",
    node: process.version,
    platform: `${os.type()} ${os.release()} ${os.arch()}`,
    cpus: { count: os.cpus().length, model: os.cpus()[0]?.model ?? "unknown" },
    load_1m_at_start: Math.round(loadAtStart * 100) / 100,
    load_1m_at_end: Math.round(os.loadavg()[0]! * 100) / 100,
    iterations: ITERATIONS,
    warmup: WARMUP,
  },
  commit: {
    files: changes.files.length,
    texts_read: texts.size,
    text_chars_before_and_after: textBytes,
    source_lines_per_file_min_max: [Math.min(...lines), Math.max(...lines)],
    parsed_files: digest.files.filter((f) => f.symbols !== null).length,
    symbol_changes: symbols,
    hunks_quoted: digest.hunks.length,
    hunks_omitted: digest.hunks_omitted,
    removed_public: digest.removed_public.length,
  },
  grammar_load_ms: { cold: Math.round(coldMs * 10) / 10, cached: Math.round(cachedMs * 100) / 100 },
  build_digest_ms: full,
  build_digest_without_grammars_ms: noParse,
  full_parse_of_before_texts_only_ms: { csharp: parseCs, typescript: parseTs },
  target_p95_ms: TARGET_P95_MS,
  meets_target: full.p95 <= TARGET_P95_MS,
};
writeFileSync(path.join(here, "results-digest.json"), `${JSON.stringify(results, null, 2)}\n`);

const row = (name: string, r: { p50: number; p95: number; mean: number; max: number }) =>
  `${name.padEnd(34)} ${String(r.p50).padStart(8)} ${String(r.p95).padStart(8)} ${String(r.mean).padStart(8)} ${String(r.max).padStart(8)}`;
console.log(
  `change digest — ${changes.files.length} files, ${texts.size} texts read, ${results.commit.parsed_files} parsed, ` +
    `${symbols} symbol changes, ${digest.hunks.length} hunks quoted (${digest.hunks_omitted} omitted)`,
);
console.log(
  `grammar load (C# + TypeScript): cold ${results.grammar_load_ms.cold} ms, cached ${results.grammar_load_ms.cached} ms`,
);
console.log(`${"ms".padEnd(34)} ${"p50".padStart(8)} ${"p95".padStart(8)} ${"mean".padStart(8)} ${"max".padStart(8)}`);
console.log(row("buildDigest", full));
console.log(row("buildDigest without grammars", noParse));
console.log(row("only parsing the C# befores", parseCs));
console.log(row("only parsing the TypeScript befores", parseTs));
console.log(`target p95 ≤ ${TARGET_P95_MS} ms: ${results.meets_target ? "met" : "missed"}`);
