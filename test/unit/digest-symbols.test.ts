import { beforeAll, describe, expect, it } from "vitest";
import type { FileTexts } from "../../src/domain/commit.js";
import type { CodeSymbol, FileDigest } from "../../src/domain/digest.js";
import { buildDigest } from "../../src/digest/build-digest.js";
import { loadGrammars, type Grammars } from "../../src/digest/grammars.js";
import { extractKeys } from "../../src/digest/keys.js";
import { CODE_LANGUAGES } from "../../src/digest/languages.js";
import { diffSymbols, extractSymbols, hashText } from "../../src/digest/symbols.js";
import { changeSet, commit, file, makePolicy } from "./builders.js";

const policy = makePolicy();
let grammars: Grammars;

beforeAll(async () => {
  grammars = await loadGrammars(CODE_LANGUAGES);
  expect([...grammars.failures]).toEqual([]);
});

/** The digest of one file changed from `before` to `after` (null: the file did not exist on that side). */
function digestOf(path: string, before: string | null, after: string | null): FileDigest {
  const change = before === null ? "added" : after === null ? "deleted" : "modified";
  const texts = new Map<string, FileTexts>([[path, { before, after }]]);
  const digest = buildDigest({
    changes: changeSet([commit("feat: x")], [file(path, change)]),
    texts,
    policy,
    grammars,
  });
  return digest.files[0]!;
}

function names(list: readonly CodeSymbol[] | undefined): string[] {
  return (list ?? []).map((s) => s.name);
}

describe("C#", () => {
  const before = `namespace Shop.Orders;

public class Order
{
    private decimal _total;
    public decimal Total => _total;

    public void AddLine(string sku, int quantity)
    {
        _total += quantity;
    }

    public class Line { public string Sku { get; set; } }
}

internal interface IAudit { void Record(); }
`;

  it("adding a public method to Order reports the added Order.ApplyDiscount alone, exported", () => {
    const after = before.replace(
      "    public class Line",
      "    public void ApplyDiscount(decimal percent)\n    {\n        _total -= _total * percent;\n    }\n\n    public class Line",
    );
    const f = digestOf("src/Order.cs", before, after);
    expect(f.language).toBe("csharp");
    expect(f.symbols).toEqual({
      added: [{ name: "Order.ApplyDiscount", kind: "method", exported: true }],
      removed: [],
      changed: [],
    });
  });

  it("a changed body is `changed`; whitespace-only edits are no change; private members are not exported", () => {
    const after = before
      .replace("_total += quantity;", "_total += quantity * 2;")
      .replace("public decimal Total => _total;", "public   decimal Total =>\n        _total;")
      .replace("private decimal _total;", "private decimal _total;\n    private int _count;");
    const f = digestOf("src/Order.cs", before, after);
    expect(f.symbols?.changed).toEqual([{ name: "Order.AddLine", kind: "method", exported: true }]);
    expect(f.symbols?.added).toEqual([{ name: "Order._count", kind: "field", exported: false }]);
    expect(f.symbols?.removed).toEqual([]);
  });

  it("nested types are qualified, interface members of an internal interface are not exported", () => {
    const after = before
      .replace("public string Sku { get; set; }", "public string Sku { get; set; } public int Qty { get; set; }")
      .replace("void Record();", "void Record(); void Flush();");
    const f = digestOf("src/Order.cs", before, after);
    expect(f.symbols?.added).toEqual([
      { name: "IAudit.Flush", kind: "method", exported: false },
      { name: "Order.Line.Qty", kind: "field", exported: true },
    ]);
  });

  it("interface members count as public in a public interface", () => {
    const f = digestOf("src/IRepo.cs", "public interface IRepo { }", "public interface IRepo { void Save(); }");
    expect(f.symbols?.added).toEqual([{ name: "IRepo.Save", kind: "method", exported: true }]);
  });

  it("removing a public class lists it in removed_public without listing its members", () => {
    const withController = `${before}\npublic class OrderV1Controller\n{\n    public void Get() { }\n}\n`;
    const texts = new Map<string, FileTexts>([["src/Order.cs", { before: withController, after: before }]]);
    const digest = buildDigest({
      changes: changeSet([commit("refactor: drop v1")], [file("src/Order.cs", "modified")]),
      texts,
      policy,
      grammars,
    });
    expect(digest.files[0]!.symbols?.removed).toEqual([{ name: "OrderV1Controller", kind: "type", exported: true }]);
    expect(digest.removed_public).toEqual(["OrderV1Controller"]);
  });

  it("a deleted file removes every declaration in it", () => {
    const f = digestOf("src/Order.cs", before, null);
    expect(names(f.symbols?.removed)).toEqual(["IAudit", "Order"]);
  });

  it("adding an overload reports the name once as added", () => {
    const a = "public class C { public void Apply(int x) { } }";
    const b = "public class C { public void Apply(int x) { } public void Apply(string s) { } }";
    expect(digestOf("C.cs", a, b).symbols?.added).toEqual([{ name: "C.Apply", kind: "method", exported: true }]);
    expect(digestOf("C.cs", b, a).symbols?.removed).toEqual([{ name: "C.Apply", kind: "method", exported: true }]);
  });
});

describe("Java", () => {
  it("public methods are exported, package-private ones are not, interface methods are", () => {
    const before =
      "package shop;\npublic class Order {\n  public int total() { return 1; }\n}\npublic interface Repo { }\n";
    const after =
      "package shop;\npublic class Order {\n  public int total() { return 2; }\n  public void applyDiscount(int p) { }\n" +
      "  void recompute() { }\n  public Order() { }\n}\npublic interface Repo { void save(Order o); }\n";
    const f = digestOf("src/main/java/shop/Order.java", before, after);
    expect(f.symbols).toEqual({
      added: [
        { name: "Order.Order", kind: "method", exported: true },
        { name: "Order.applyDiscount", kind: "method", exported: true },
        { name: "Order.recompute", kind: "method", exported: false },
        { name: "Repo.save", kind: "method", exported: true },
      ],
      removed: [],
      changed: [{ name: "Order.total", kind: "method", exported: true }],
    });
  });
});

describe("Python", () => {
  it("underscore names are not exported; methods are qualified by their class", () => {
    const before = "class Order:\n    def total(self):\n        return 1\n";
    const after =
      "import math\n\nclass Order:\n    def total(self):\n        return 2\n\n    def __init__(self):\n        pass\n\n" +
      "def _helper(x):\n    return x\n\n@cache\ndef price(x):\n    return x\n";
    const f = digestOf("app/order.py", before, after);
    expect(f.symbols).toEqual({
      added: [
        { name: "Order.__init__", kind: "method", exported: true },
        { name: "_helper", kind: "function", exported: false },
        { name: "price", kind: "function", exported: true },
      ],
      removed: [],
      changed: [{ name: "Order.total", kind: "method", exported: true }],
    });
  });
});

describe("Go", () => {
  it("capitalised names are exported; methods are Receiver.Method; struct fields are members", () => {
    const before = "package orders\n\ntype Order struct {\n\tID int\n}\n\nfunc New() *Order { return &Order{} }\n";
    const after =
      "package orders\n\ntype Order struct {\n\tID    int\n\tnotes string\n}\n\nfunc New() *Order { return &Order{} }\n\n" +
      "func helper() int { return 1 }\n\nfunc (o *Order) ApplyDiscount(p int) { o.ID -= p }\n";
    const f = digestOf("orders/order.go", before, after);
    expect(f.symbols).toEqual({
      added: [
        { name: "Order.ApplyDiscount", kind: "method", exported: true },
        { name: "Order.notes", kind: "field", exported: false },
        { name: "helper", kind: "function", exported: false },
      ],
      removed: [],
      changed: [],
    });
  });
});

describe("TypeScript and JavaScript", () => {
  const before = `import { x } from "./x.js";

export class Order {
  private secret = 1;
  total(): number {
    return 1;
  }
}

export interface Line { sku: string }
`;

  it("export decides: a non-exported function is not exported, private members are not, exported arrows are", () => {
    const after = `${before.replace("return 1;", "return 2;")}
function helper(): void {}
export const applyDiscount = (o: Order, p: number): number => o.total() * p;
export type Sku = string;
export enum Status { Open, Closed }
class Hidden { run() {} }
`.replace("private secret = 1;", "private secret = 1;\n  #cache = 2;\n  protected audit(): void {}");
    const f = digestOf("src/order.ts", before, after);
    expect(f.language).toBe("typescript");
    expect(f.symbols).toEqual({
      added: [
        { name: "Hidden", kind: "type", exported: false },
        { name: "Order.#cache", kind: "field", exported: false },
        { name: "Order.audit", kind: "method", exported: true },
        { name: "Sku", kind: "type", exported: true },
        { name: "Status", kind: "type", exported: true },
        { name: "applyDiscount", kind: "function", exported: true },
        { name: "helper", kind: "function", exported: false },
      ],
      removed: [],
      changed: [{ name: "Order.total", kind: "method", exported: true }],
    });
  });

  it("names listed in an export clause and export default count as exported", () => {
    const after = `${before}\nfunction util() {}\nconst shared = () => 1;\nexport { util, shared as sharedAlias };\nexport default function main() {}\n`;
    const f = digestOf("src/order.mts", before, after);
    expect(f.symbols?.added).toEqual([
      { name: "main", kind: "function", exported: true },
      { name: "shared", kind: "function", exported: true },
      { name: "util", kind: "function", exported: true },
    ]);
  });

  it("removing an exported interface is a removed public symbol", () => {
    const digest = buildDigest({
      changes: changeSet([commit("refactor: x")], [file("src/order.ts", "modified")]),
      texts: new Map([
        ["src/order.ts", { before, after: before.replace("export interface Line { sku: string }", "") }],
      ]),
      policy,
      grammars,
    });
    expect(digest.removed_public).toEqual(["Line"]);
  });

  it("TSX components and JavaScript classes are read with their own grammars", () => {
    const tsx = digestOf("src/App.tsx", null, "export function App() {\n  return <div className='a'>hi</div>;\n}\n");
    expect(tsx.language).toBe("tsx");
    expect(tsx.symbols?.added).toEqual([{ name: "App", kind: "function", exported: true }]);
    const js = digestOf(
      "lib/cart.js",
      "export class Cart { add() {} }\n",
      "export class Cart { add() {} #drop() {} clear() {} }\n",
    );
    expect(js.symbols?.added).toEqual([
      { name: "Cart.#drop", kind: "method", exported: false },
      { name: "Cart.clear", kind: "method", exported: true },
    ]);
  });
});

describe("syntax errors and incremental parsing", () => {
  it("keeps what parses around a syntax error", () => {
    const after =
      "public class A {\n  public void Ok() { }\n  public void Broken( { \n}\npublic class B { public void Fine() { } }\n";
    const f = digestOf("A.cs", null, after);
    expect(f.symbols).not.toBeNull();
    expect(names(f.symbols?.added)).toEqual(expect.arrayContaining(["B", "Ok"]));
  });

  it("the incremental reparse of the after text gives the same symbols as a fresh parse", () => {
    const lines = Array.from({ length: 60 }, (_, i) => `  public int M${i}(int a) { return a + ${i}; }`);
    const before = `public class Big {\n${lines.join("\n")}\n}\n`;
    const edited = [...lines];
    edited[40] = edited[40]!.replace("a + 40", "a * 40");
    edited.splice(10, 3, "  public int Inserted() { return 0; }");
    const after = `// header é\npublic class Big {\n${edited.join("\n")}\n}\n`;
    const parser = grammars.parsers.get("csharp")!;
    const fresh = (text: string) => {
      const tree = parser.parse(text)!;
      try {
        return extractSymbols("csharp", tree.rootNode, text);
      } finally {
        tree.delete();
      }
    };
    const expected = diffSymbols(fresh(before), fresh(after));
    expect(digestOf("Big.cs", before, after).symbols).toEqual(expected);
    // A patch that does not describe the texts (it is untrusted) must not mislead the incremental parse.
    const lying = { ...file("Big.cs", "modified"), patch: "@@ -3,1 +3,1 @@\n-x\n+y\n" };
    const texts = new Map<string, FileTexts>([["Big.cs", { before, after }]]);
    const digest = buildDigest({ changes: changeSet([commit("x")], [lying]), texts, policy, grammars });
    expect(digest.files[0]!.symbols).toEqual(expected);
    expect(names(expected.added)).toEqual(["Big.Inserted"]);
    expect(names(expected.removed)).toEqual(["Big.M10", "Big.M11", "Big.M12"]);
    expect(names(expected.changed)).toEqual(["Big.M40"]);
  });
});

describe("hashText", () => {
  it("ignores whitespace runs but not other characters", () => {
    expect(hashText("a  b\n\tc ")).toBe(hashText(" a b c"));
    expect(hashText("a b c")).not.toBe(hashText("a b d"));
    expect(hashText("ab")).not.toBe(hashText("a b"));
  });
});

describe("YAML and JSON keys", () => {
  it("reports keys as dotted paths: added, removed and changed by value; a new map stands for its keys", () => {
    const before = `name: ci
on:
  push:
    branches: [main]
jobs:
  build:
    runs-on: ubuntu-latest
    timeout-minutes: 10
`;
    const after = `name: ci
on:
  push:
    branches: [main, release]
jobs:
  build:
    runs-on: windows-latest
  lint:
    runs-on: ubuntu-latest
    steps: []
`;
    const f = digestOf("config/app.yaml", before, after);
    expect(f.language).toBe("yaml");
    expect(f.symbols).toEqual({
      added: [{ name: "jobs.lint", kind: "key", exported: false }],
      removed: [{ name: "jobs.build.timeout-minutes", kind: "key", exported: false }],
      changed: [
        { name: "jobs.build.runs-on", kind: "key", exported: false },
        { name: "on.push.branches", kind: "key", exported: false },
      ],
    });
  });

  it("JSON keys with dots are quoted; removed keys never count as removed public symbols", () => {
    const before = '{ "scripts": { "test": "vitest", "a.b": "x" }, "version": "1.0.0" }';
    const after = '{ "scripts": { "test": "vitest run" }, "version": "1.0.0" }';
    const changes = changeSet([commit("build: x")], [file("tools/settings.json", "modified")]);
    const digest = buildDigest({
      changes,
      texts: new Map([["tools/settings.json", { before, after }]]),
      policy,
      grammars,
    });
    expect(digest.files[0]!.symbols).toEqual({
      added: [],
      removed: [{ name: 'scripts["a.b"]', kind: "key", exported: false }],
      changed: [{ name: "scripts.test", kind: "key", exported: false }],
    });
    expect(digest.removed_public).toEqual([]);
  });

  it("invalid YAML leaves the file without symbols and says why", () => {
    const f = digestOf("config/app.yml", "a: 1\n", "a: [1\nb: :\n  - x\n");
    expect(f.symbols).toBeNull();
    expect(f.note).toMatch(/invalid YAML/);
  });

  it("bounds the keys it reads and the depth it enters", () => {
    const wide = Object.fromEntries(Array.from({ length: 2000 }, (_, i) => [`k${i}`, i]));
    expect(extractKeys("json", JSON.stringify(wide))).toHaveLength(500);
    let deep: unknown = 1;
    for (let i = 0; i < 50; i++) deep = { d: deep };
    const keys = extractKeys("json", JSON.stringify(deep));
    expect(keys).toHaveLength(8);
    expect(keys.at(-1)!.name).toBe("d.d.d.d.d.d.d.d");
  });

  it("a YAML alias bomb does not expand without bound", () => {
    const bomb = ["a: &a [x, x, x, x, x, x, x, x, x]"];
    for (let i = 0; i < 12; i++)
      bomb.push(
        `${"b".repeat(i + 1)}: &${"b".repeat(i + 1)} [${Array(9)
          .fill(i === 0 ? "*a" : `*${"b".repeat(i)}`)
          .join(", ")}]`,
      );
    const f = digestOf("bomb.yaml", "a: 1\n", `${bomb.join("\n")}\n`);
    expect(f.symbols).toBeNull();
    expect(f.note).toMatch(/invalid YAML/);
  });
});
