/**
 * The commits bench/digest.ts digests, all deterministic:
 * - `worstCommit()`: the 2 MB worst case — 44 C# and 44 TypeScript files of 100–440 lines (about 12 KB each),
 *   every one edited, plus tests, docs, CI and a lock file (the benchmark's original commit, unchanged);
 * - `realisticRepo()` + `nextCommit()`: a 100-file commit as large commits usually are — small edits (one to three
 *   hunks) to files of typical size, drawn from a log-normal with this repository's own TypeScript sizes (median
 *   5.8 KB, 90th percentile 20 KB), two large files (~100 KB), a few added and one deleted file, tests, docs,
 *   config, CI and a lock file. `nextCommit` edits the previous commit's after texts, as a pipeline's commits do.
 */
import type { ChangeSet, ChangedFile, FileTexts } from "../src/domain/commit.js";
import { diffTexts } from "../src/digest/hunks.js";

export interface BenchCommit {
  changes: ChangeSet;
  /** Every changed file's texts (the digest reads those `pathsToRead` asks for). */
  texts: Map<string, FileTexts>;
}

/** xorshift32: the same numbers on every machine. */
export class Random {
  constructor(private seed: number) {}
  next(): number {
    this.seed ^= this.seed << 13;
    this.seed ^= this.seed >>> 17;
    this.seed ^= this.seed << 5;
    return (this.seed >>> 0) / 2 ** 32;
  }
  between(lo: number, hi: number): number {
    return lo + Math.floor(this.next() * (hi - lo + 1));
  }
  /** A standard normal draw (Box–Muller). */
  normal(): number {
    const u = Math.max(this.next(), 1e-12);
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * this.next());
  }
}

// ---- File texts --------------------------------------------------------------------------------------------

export function csMethod(k: number, m: number | string): string {
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
        return Math.Round(total * ${typeof m === "number" ? m : 1}.5m, 2);
    }
`;
}

export function csFile(k: number, methods: number): string {
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

export function tsMethod(k: number, m: number | string): string {
  return `  /** Totals the order's lines for rule ${m}. */
  async computeTotal${m}(orderId: string, signal?: AbortSignal): Promise<number> {
    const order = await this.repository.get(orderId, { signal });
    if (!order) {
      throw new Error(\`order \${orderId} not found in module ${k}\`);
    }
    const total = order.lines.filter((l) => l.quantity > 0).reduce((s, l) => s + l.price * l.quantity, 0);
    this.logger.info({ orderId, total }, "computed total");
    return Math.round(total * ${typeof m === "number" ? m : 1}.5 * 100) / 100;
  }
`;
}

export function tsFile(k: number, methods: number): string {
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

function docsFile(k: number, paragraphs: number): string {
  return Array.from({ length: paragraphs }, (_, i) => `Paragraph ${i} of the orders guide, part ${k}.`).join("\n\n");
}

const CI = "name: ci\non:\n  push:\n    branches: [main]\njobs:\n  build:\n    runs-on: ubuntu-latest\n";

function lockFile(entries: number, version: (i: number) => string): string {
  const entry = (i: number) =>
    `    "node_modules/pkg-${i}": {\n      "version": "${version(i)}",\n      "resolved": "https://registry.npmjs.org/pkg-${i}/-/pkg-${i}-${version(i)}.tgz"\n    },`;
  return `{\n  "lockfileVersion": 3,\n  "packages": {\n${Array.from({ length: entries }, (_, i) => entry(i)).join("\n")}\n  }\n}\n`;
}

// ---- Commits -----------------------------------------------------------------------------------------------

function toCommit(sides: [path: string, before: string | null, after: string | null][]): BenchCommit {
  const files: ChangedFile[] = [];
  const texts = new Map<string, FileTexts>();
  for (const [path, before, after] of sides) {
    const set = diffTexts(before, after);
    const patch = set ? set.hunks.map((h) => `${h.header}\n${h.lines.join("\n")}\n`).join("") : undefined;
    const change = before === null ? "added" : after === null ? "deleted" : "modified";
    files.push({
      path,
      change,
      additions: set?.additions ?? 0,
      deletions: set?.deletions ?? 0,
      binary: false,
      ...(patch !== undefined ? { patch } : {}),
    });
    texts.set(path, { before, after });
  }
  const changes: ChangeSet = {
    commits: [],
    base: null,
    range: "commit",
    files,
    additions: files.reduce((s, f) => s + f.additions, 0),
    deletions: files.reduce((s, f) => s + f.deletions, 0),
    line_counts: "exact",
  };
  return { changes, texts };
}

/** The benchmark's original commit: ~1 MB of code on each side, every file edited. */
export function worstCommit(): BenchCommit {
  const rnd = new Random(0x2545f491);
  /** One to three edits in the middle of a file: a changed statement, an added method, sometimes a removed one. */
  const edit = (text: string, language: "cs" | "ts", k: number, methods: number): string => {
    let out = text;
    const changed = rnd.between(0, methods - 1);
    out =
      language === "cs"
        ? out.replace(`Math.Round(total * ${changed}.5m, 2)`, `Math.Round(total * ${changed}.75m, 2)`)
        : out.replace(`Math.round(total * ${changed}.5 * 100)`, `Math.round(total * ${changed}.75 * 100)`);
    if (rnd.next() < 0.7) {
      const at = rnd.between(0, methods - 1);
      const anchor = language === "cs" ? csMethod(k, at) : tsMethod(k, at);
      const added = (language === "cs" ? csMethod(k, 900 + at) : tsMethod(k, 900 + at)).replace(
        /900/g,
        "ApplyDiscount",
      );
      out = out.replace(anchor, `${anchor}\n${added}`);
    }
    if (rnd.next() < 0.25) {
      const gone = (changed + 1) % methods;
      out = out.replace(language === "cs" ? csMethod(k, gone) : tsMethod(k, gone), "");
    }
    return out;
  };
  const sides: [string, string | null, string | null][] = [];
  for (let k = 0; k < 44; k++) {
    const methods = rnd.between(7, 32);
    const before = csFile(k, methods);
    sides.push([`src/Shop.Orders/Module${k}/OrderService${k}.cs`, before, edit(before, "cs", k, methods)]);
  }
  for (let k = 0; k < 44; k++) {
    const methods = rnd.between(9, 38);
    const before = tsFile(k, methods);
    sides.push([`web/src/orders/module${k}/order-service.ts`, before, edit(before, "ts", k, methods)]);
  }
  for (let k = 0; k < 3; k++) {
    const before = csFile(100 + k, 8).replace(/OrderService/g, "OrderServiceTests");
    sides.push([`tests/Shop.Orders.Tests/OrderService${k}Tests.cs`, before, edit(before, "cs", 100 + k, 8)]);
    const tsBefore = tsFile(200 + k, 8).replace(/OrderService/g, "OrderServiceSpec");
    sides.push([`web/src/orders/module${k}/order-service.test.ts`, tsBefore, edit(tsBefore, "ts", 200 + k, 8)]);
  }
  for (let k = 0; k < 4; k++) {
    const before = docsFile(k, 60);
    sides.push([`docs/orders/guide-${k}.md`, before, before.replace("Paragraph 7 ", "Paragraph 7 (revised) ")]);
  }
  sides.push([".github/workflows/ci.yml", CI, CI.replace("ubuntu-latest", "ubuntu-24.04")]);
  const lockBefore = lockFile(400, () => "1.0.0");
  sides.push([
    "package-lock.json",
    lockBefore,
    lockBefore.replace(/pkg-(1\d)-1\.0\.0|"1\.0\.0"/g, (m) => m.replace("1.0.0", "1.1.0")),
  ]);
  return toCommit(sides);
}

/** A repository state: path → text (null: the file does not exist). */
export type Repo = Map<string, string | null>;

const CS_METHOD_CHARS = csMethod(10, 10).length + 1;
const TS_METHOD_CHARS = tsMethod(10, 10).length + 1;

/** Methods that make a file of about `bytes`. */
function methodsFor(bytes: number, perMethod: number): number {
  return Math.max(1, Math.round((bytes - 600) / perMethod));
}

/** A file size drawn from the log-normal of this repository's TypeScript files, clamped to 0.8–60 KB. */
function typicalSize(rnd: Random): number {
  const median = 5800;
  const sigma = Math.log(20_000 / median) / 1.2816;
  return Math.min(60_000, Math.max(800, Math.round(median * Math.exp(sigma * rnd.normal()))));
}

/**
 * The files a realistic 100-file commit touches, at their state before it: 78 source files (half C#, half
 * TypeScript; two of them ~100 KB), 10 tests, 5 docs, 2 config, CI, a lock file; plus 3 paths the commit adds.
 */
export function realisticRepo(seed: number): Repo {
  const rnd = new Random(seed);
  const repo: Repo = new Map();
  for (let k = 0; k < 78; k++) {
    const cs = k % 2 === 0;
    const bytes = k < 2 ? 100_000 : typicalSize(rnd);
    repo.set(
      cs ? `src/Shop.Orders/Module${k}/OrderService${k}.cs` : `web/src/orders/module${k}/order-service.ts`,
      cs ? csFile(k, methodsFor(bytes, CS_METHOD_CHARS)) : tsFile(k, methodsFor(bytes, TS_METHOD_CHARS)),
    );
  }
  for (let k = 0; k < 10; k++) {
    const bytes = typicalSize(rnd);
    if (k % 2 === 0) {
      const text = csFile(100 + k, methodsFor(bytes, CS_METHOD_CHARS)).replace(/OrderService/g, "OrderServiceTests");
      repo.set(`tests/Shop.Orders.Tests/OrderService${k}Tests.cs`, text);
    } else {
      const text = tsFile(200 + k, methodsFor(bytes, TS_METHOD_CHARS)).replace(/OrderService/g, "OrderServiceSpec");
      repo.set(`web/src/orders/module${k}/order-service.test.ts`, text);
    }
  }
  for (let k = 0; k < 5; k++) repo.set(`docs/orders/guide-${k}.md`, docsFile(k, rnd.between(10, 60)));
  repo.set(
    "src/Shop.Orders/appsettings.json",
    '{\n  "Orders": {\n    "PageSize": 50,\n    "Currency": "EUR"\n  }\n}\n',
  );
  repo.set("deploy/compose.yml", "services:\n  orders:\n    image: shop/orders:1.0.0\n    ports: ['8080:8080']\n");
  repo.set(".github/workflows/ci.yml", CI);
  repo.set(
    "package-lock.json",
    lockFile(400, () => "1.0.0"),
  );
  for (let k = 0; k < 3; k++) repo.set(`src/Shop.Orders/New/OrderPolicy${seed % 1000}x${k}.cs`, null);
  return repo;
}

/** A small edit to one file, `step` making it unique: one statement changed, a method added or removed. */
function evolve(path: string, text: string, step: number, rnd: Random): string {
  if (path.endsWith(".md")) return text.replace(/Paragraph (\d+) /, (_, n: string) => `Paragraph ${n} (rev ${step}) `);
  if (path.endsWith(".json") && path.includes("lock")) {
    const at = rnd.between(0, 399);
    return text.replace(new RegExp(`pkg-${at}-[\\d.]+\\.tgz`), `pkg-${at}-1.${step}.0.tgz`);
  }
  if (path.endsWith(".json")) return text.replace(/"PageSize": \d+/, `"PageSize": ${50 + step}`);
  if (path.endsWith(".yml")) return text.replace(/(image: shop\/orders:|runs-on: ubuntu-)[\w.-]+/, `$1${step}.0`);
  const cs = path.endsWith(".cs");
  const lines = text.split("\n");
  const returns = lines.flatMap((l, i) => (/^\s+return Math\./.test(l) ? [i] : []));
  if (returns.length > 0) {
    const i = returns[rnd.between(0, returns.length - 1)]!;
    lines[i] = lines[i]!.replace(/\* [\d.]+/, `* ${step}.${rnd.between(1, 9)}`);
  }
  const ends = lines.flatMap((l, i) => (l === (cs ? "    }" : "  }") && lines[i + 1] === "" ? [i] : []));
  if (ends.length > 1 && rnd.next() < 0.3) {
    const at = ends[rnd.between(0, ends.length - 1)]!;
    const name = `ApplyDiscount${step}x${rnd.between(0, 999)}`;
    lines.splice(at + 1, 0, "", ...(cs ? csMethod(step, name) : tsMethod(step, name)).trimEnd().split("\n"));
  } else if (ends.length > 2 && rnd.next() < 0.15) {
    // Drop a method: from the line after one method's end through the next one's end.
    const k = rnd.between(0, ends.length - 2);
    lines.splice(ends[k]! + 1, ends[k + 1]! - ends[k]!);
  }
  return lines.join("\n");
}

/**
 * The next commit on `repo`: every existing file edited a little, the absent paths added, one file deleted on
 * the first step. Returns the commit and the repository after it (whose texts the following commit edits).
 */
export function nextCommit(repo: Repo, step: number): { commit: BenchCommit; after: Repo } {
  const rnd = new Random(0x9e3779b9 ^ (step * 2654435761));
  const after: Repo = new Map();
  const sides: [string, string | null, string | null][] = [];
  let deleted = false;
  for (const [path, before] of repo) {
    if (before === null) {
      const text = csFile(300 + step, methodsFor(typicalSize(rnd), CS_METHOD_CHARS)).replace(
        /OrderService/g,
        "OrderPolicy",
      );
      sides.push([path, null, text]);
      after.set(path, text);
    } else if (!deleted && step === 0 && path.startsWith("tests/")) {
      deleted = true;
      sides.push([path, before, null]);
    } else {
      const text = evolve(path, before, step, rnd);
      sides.push([path, before, text]);
      after.set(path, text);
    }
  }
  return { commit: toCommit(sides), after };
}
