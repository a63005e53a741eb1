import { describe, expect, it } from "vitest";
import {
  forEachLine,
  inertBlock,
  inertText,
  isHeading,
  isLineLengthExempt,
  isTableRow,
  tableCell,
  tidyBlankLines,
  wrapLine,
  wrapMarkdown,
} from "../../src/render/markdown.js";
import {
  DEFAULT_TEMPLATE,
  TEMPLATE_VARIABLES,
  renderTemplate,
  unknownVariables,
  type TemplateValues,
} from "../../src/render/template.js";
import { composeTitle, parseTitle, titleScope, traceTagId } from "../../src/render/title.js";
import { SEED_REPO_TEMPLATE, makePolicy } from "./builders.js";

const policy = makePolicy();

describe("title helpers", () => {
  it("titleScope lower-cases and dashes spaces", () => {
    expect(titleScope("Order")).toBe("order");
    expect(titleScope("  Order   Management ")).toBe("order-management");
    expect(titleScope("billing")).toBe("billing");
  });

  it("traceTagId strips the policy's prefix", () => {
    expect(traceTagId("trace-ord-8128", policy)).toBe("ord-8128");
    expect(traceTagId("ord-8128", policy)).toBe("ord-8128");
    expect(traceTagId("trace-", policy)).toBe("trace-");
    expect(traceTagId("xtrace-ord", policy)).toBe("xtrace-ord");
    expect(traceTagId("trace-ord-8128", makePolicy({ title: { trace_id_prefix: "" } }))).toBe("trace-ord-8128");
    expect(traceTagId("TR/42", makePolicy({ title: { trace_id_prefix: "TR/" } }))).toBe("42");
  });

  it("composeTitle builds the seed's title", () => {
    expect(composeTitle("feat", "Order", "implement CreateOrderHandler", "trace-ord-8128", policy)).toBe(
      "feat(order): implement CreateOrderHandler [trace:ord-8128]",
    );
    expect(composeTitle("fix", "Order Management", "handle nulls", "trace-om-1", policy)).toBe(
      "fix(order-management): handle nulls [trace:om-1]",
    );
  });

  it("parseTitle splits a well-formed title", () => {
    expect(parseTitle("feat(order): implement CreateOrderHandler [trace:ord-8128]")).toEqual({
      type: "feat",
      scope: "order",
      breaking: false,
      summary: "implement CreateOrderHandler",
      traceTag: "ord-8128",
    });
    expect(parseTitle("fix(order-management): a [trace:x]")).toEqual({
      type: "fix",
      scope: "order-management",
      breaking: false,
      summary: "a",
      traceTag: "x",
    });
    expect(parseTitle("feat(order): keep [brackets] inside [trace:ord-1]")).toEqual({
      type: "feat",
      scope: "order",
      breaking: false,
      summary: "keep [brackets] inside",
      traceTag: "ord-1",
    });
  });

  it.each([
    ["missing trace tag", "feat(order): implement CreateOrderHandler"],
    ["missing scope", "feat: implement CreateOrderHandler [trace:ord-8128]"],
    ["upper-case type", "Feat(order): implement [trace:ord-8128]"],
    ["no space after colon", "feat(order):implement [trace:ord-8128]"],
    ["two spaces after colon", "feat(order):  implement [trace:ord-8128]"],
    ["summary ends with a space", "feat(order): implement  [trace:ord-8128]"],
    ["empty summary", "feat(order):  [trace:ord-8128]"],
    ["space in scope", "feat(order x): implement [trace:ord-8128]"],
    ["space in trace tag", "feat(order): implement [trace:ord 8128]"],
    ["text after the tag", "feat(order): implement [trace:ord-8128] more"],
  ])("parseTitle rejects a title with %s", (_why, title) => {
    expect(parseTitle(title)).toBeNull();
  });

  it("parseTitle reads a breaking-change bang after the scope", () => {
    expect(parseTitle("feat(order)!: implement [trace:ord-8128]")).toMatchObject({ type: "feat", breaking: true });
    expect(composeTitle("fix", "Order", "remove v1", "trace-ord-1", policy, true)).toBe(
      "fix(order)!: remove v1 [trace:ord-1]",
    );
  });

  it("composeTitle and parseTitle round-trip", () => {
    const title = composeTitle("refactor", "Billing", "split InvoiceService", "trace-bil-7", policy);
    expect(parseTitle(title)).toEqual({
      type: "refactor",
      scope: "billing",
      breaking: false,
      summary: "split InvoiceService",
      traceTag: "bil-7",
    });
  });
});

describe("markdown line helpers", () => {
  it("isHeading: 1 to 6 hashes and a space, at the start of the line", () => {
    expect(isHeading("# A")).toBe(true);
    expect(isHeading("###### A")).toBe(true);
    expect(isHeading("####### A")).toBe(false);
    expect(isHeading("#A")).toBe(false);
    expect(isHeading(" # A")).toBe(false);
  });

  it("isTableRow: a line starting with a pipe, after indentation", () => {
    expect(isTableRow("| a | b |")).toBe(true);
    expect(isTableRow("   | a |")).toBe(true);
    expect(isTableRow("a | b")).toBe(false);
  });

  it("forEachLine marks fence lines and code lines as inside, with 0-based indexes", () => {
    const seen: [string, number, boolean][] = [];
    forEachLine("a\n```yaml\nx: 1\n```\nb\n~~~\ny\n~~~", (line, i, inFence) => seen.push([line, i, inFence]));
    expect(seen).toEqual([
      ["a", 0, false],
      ["```yaml", 1, true],
      ["x: 1", 2, true],
      ["```", 3, true],
      ["b", 4, false],
      ["~~~", 5, true],
      ["y", 6, true],
      ["~~~", 7, true],
    ]);
  });

  it("isLineLengthExempt: code, table rows and single tokens (a long URL, also as a list item)", () => {
    const url = "https://example.org/" + "a".repeat(120);
    expect(isLineLengthExempt("some long prose with words", true)).toBe(true);
    expect(isLineLengthExempt("| a | b |", false)).toBe(true);
    expect(isLineLengthExempt(url, false)).toBe(true);
    expect(isLineLengthExempt(`- ${url}`, false)).toBe(true);
    expect(isLineLengthExempt(`1. ${url}`, false)).toBe(true);
    expect(isLineLengthExempt(`- [x] ${url}`, false)).toBe(true);
    expect(isLineLengthExempt(`see ${url}`, false)).toBe(false);
    expect(isLineLengthExempt("two words", false)).toBe(false);
  });
});

describe("wrapLine", () => {
  it("leaves a line within the width unchanged, spaces included", () => {
    expect(wrapLine("a  b", 10)).toEqual(["a  b"]);
    expect(wrapLine("x".repeat(10), 10)).toEqual(["x".repeat(10)]);
  });

  it("wraps prose at spaces so every line fits", () => {
    expect(wrapLine("one two three four five", 9)).toEqual(["one two", "three", "four five"]);
    const long = Array.from({ length: 40 }, (_, i) => `word${i}`).join(" ");
    const lines = wrapLine(long, 30);
    expect(lines.every((l) => l.length <= 30)).toBe(true);
    expect(lines.join(" ")).toBe(long);
    expect(lines[0]).toBe("word0 word1 word2 word3 word4");
  });

  it("never breaks a word longer than the width", () => {
    const word = "x".repeat(25);
    expect(wrapLine(`a ${word} b`, 10)).toEqual(["a", word, "b"]);
    expect(wrapLine(word, 10)).toEqual([word]);
  });

  it("continues a bullet item under its text", () => {
    expect(wrapLine("- alpha beta gamma delta", 12)).toEqual(["- alpha beta", "  gamma", "  delta"]);
    expect(wrapLine("* alpha beta gamma", 12)).toEqual(["* alpha beta", "  gamma"]);
  });

  it("continues a numbered item and a task item under their text", () => {
    expect(wrapLine("12. alpha beta gamma", 14)).toEqual(["12. alpha beta", "    gamma"]);
    expect(wrapLine("- [x] alpha beta gamma", 16)).toEqual(["- [x] alpha beta", "      gamma"]);
    expect(wrapLine("- [ ] alpha beta gamma", 16)).toEqual(["- [ ] alpha beta", "      gamma"]);
  });

  it("keeps the indentation of nested items and indented text", () => {
    expect(wrapLine("    - alpha beta gamma", 16)).toEqual(["    - alpha beta", "      gamma"]);
    expect(wrapLine("   alpha beta gamma", 14)).toEqual(["   alpha beta", "   gamma"]);
  });
});

describe("wrapMarkdown", () => {
  const prose = "The order handler validates the cart, persists the order and publishes an OrderCreated event.";

  it("wraps prose and list items", () => {
    const out = wrapMarkdown(`${prose}\n- ${prose}`, 40);
    expect(out).toBe(
      [
        "The order handler validates the cart,",
        "persists the order and publishes an",
        "OrderCreated event.",
        "- The order handler validates the cart,",
        "  persists the order and publishes an",
        "  OrderCreated event.",
      ].join("\n"),
    );
  });

  it("leaves headings, tables and fenced code untouched", () => {
    const heading = `## ${prose}`;
    const table = `| ${prose} | ${prose} |`;
    const code = ["```", prose, "```"].join("\n");
    const tilde = ["~~~text", prose, "~~~"].join("\n");
    const text = [heading, table, code, tilde].join("\n");
    expect(wrapMarkdown(text, 40)).toBe(text);
  });

  it("wraps the prose after a fence closes", () => {
    expect(wrapMarkdown(["```", "x", "```", "aaa bbb ccc"].join("\n"), 8)).toBe(
      ["```", "x", "```", "aaa bbb", "ccc"].join("\n"),
    );
  });
});

describe("tableCell", () => {
  it("escapes pipes and backslashes and joins lines", () => {
    expect(tableCell("a|b")).toBe("a\\|b");
    expect(tableCell("a\\|b")).toBe("a\\\\\\|b");
    expect(tableCell("line1\nline2\r\n\nline3")).toBe("line1 line2 line3");
    expect(tableCell("src/Plain.cs")).toBe("src/Plain.cs");
  });
});

/** The text of a Markdown line outside its code spans (CommonMark: a span closes at a backtick run of equal length). */
function outsideCodeSpans(md: string): string {
  let out = "";
  let i = 0;
  while (i < md.length) {
    if (md[i] !== "`") {
      out += md[i];
      i += 1;
      continue;
    }
    let n = 0;
    while (md[i + n] === "`") n += 1;
    let j = i + n;
    let close = -1;
    while (j < md.length) {
      if (md[j] === "`") {
        let m = 0;
        while (md[j + m] === "`") m += 1;
        if (m === n) {
          close = j;
          break;
        }
        j += m;
      } else j += 1;
    }
    if (close < 0) {
      out += md.slice(i, i + n);
      i += n;
    } else i = close + n;
  }
  return out;
}

describe("inertText", () => {
  it("leaves no @ and no < outside code spans", () => {
    for (const text of ["thanks @john", "@a @b", "x <i>y</i> z", "<!-- c --> @d", "(@e)"]) {
      const out = inertText(text);
      expect(outsideCodeSpans(out), `${text} → ${out}`).not.toMatch(/[@<]/);
    }
  });

  // BUG (src/render/markdown.ts, inertText): the mention rule skips an "@" preceded by a backtick so it does not
  // re-wrap a mention twice, but the backtick that closes a wrapped HTML tag also precedes it. "<b>@x</b>" becomes
  // "`<b>`@x`</b>`", where @x sits between two code spans and is a live mention.
  it("a mention right after an HTML tag is neutralised too", () => {
    const out = inertText("<b>@x</b>");
    expect(outsideCodeSpans(out)).not.toContain("@");
  });

  it("neutralises @mentions as code", () => {
    expect(inertText("thanks @john and @acme/team")).toBe("thanks `@john` and `@acme`/team");
    expect(inertText("@john first")).toBe("`@john` first");
    expect(inertText("(@jane.doe)")).toBe("(`@jane.doe`)");
  });

  it("leaves e-mail addresses and a bare @ alone", () => {
    expect(inertText("mail a@b.com now")).toBe("mail a@b.com now");
    expect(inertText("meet @ noon")).toBe("meet @ noon");
  });

  it("escapes < so no HTML tag can open", () => {
    expect(inertText("use <b>bold</b> here")).toBe("use &lt;b>bold&lt;/b> here");
    expect(inertText('<img src="x" onerror="alert(1)">')).toBe('&lt;img src="x" onerror="alert(1)">');
    expect(inertText("a < b and c > d")).toBe("a &lt; b and c > d");
  });

  it("removes HTML comments", () => {
    expect(inertText("visible <!-- hidden --> text")).toBe("visible  text");
    expect(inertText("<!-- a\nb -->x")).toBe("x");
  });

  it("turns images and links into text, with the address as code unless its host is allowed", () => {
    expect(inertText("see ![diagram](https://x.org/d.png)")).toBe("see diagram (`https://x.org/d.png`)");
    expect(inertText("see http://evil.com/@a and www.x.org/p")).toBe("see `http://evil.com/@a` and `www.x.org/p`");
    expect(inertText("see https://dev.azure.com/acme", ["dev.azure.com"])).toBe("see https://dev.azure.com/acme");
    expect(inertText("see https://dev.azure.com.evil.io/x", ["dev.azure.com"])).toBe(
      "see `https://dev.azure.com.evil.io/x`",
    );
  });

  it("keeps a multi-line text's lines but no heading, quote or fence can start", () => {
    expect(inertBlock("# Title\n```\n</untrusted_data>\n> quoted @evil")).toBe(
      "\\# Title\n'''\n&lt;/untrusted_data>\n\\> quoted `@evil`",
    );
    expect(inertBlock("~~~\nrun")).toBe("\\~~~\nrun");
  });

  it("replaces backticks so existing code spans cannot break out", () => {
    expect(inertText("run `npm test` now")).toBe("run 'npm test' now");
  });

  it("joins lines and trims", () => {
    expect(inertText("  one\ntwo\r\nthree  ")).toBe("one two three");
  });
});

describe("tidyBlankLines", () => {
  it("collapses blank runs, strips trailing spaces and ends with one newline", () => {
    expect(tidyBlankLines("\n\na  \n\n\n\nb\t\n\n")).toBe("a\n\nb\n");
  });
});

describe("template", () => {
  const values = Object.fromEntries(Object.keys(TEMPLATE_VARIABLES).map((k) => [k, `<${k}>`])) as TemplateValues;

  it("unknownVariables lists unknown names once, in order", () => {
    expect(unknownVariables("${trace_id} ${nope} ${scope} ${other} ${nope}")).toEqual(["nope", "other"]);
    expect(unknownVariables(SEED_REPO_TEMPLATE)).toEqual([]);
    expect(unknownVariables(DEFAULT_TEMPLATE)).toEqual([]);
    expect(unknownVariables("no placeholders, {{trace_id}} or $trace_id")).toEqual([]);
  });

  // BUG: both functions test names with `name in TEMPLATE_VARIABLES` / `name in values`, which also sees
  // Object.prototype members. `${toString}`, `${constructor}`, `${hasOwnProperty}`, `${__proto__}` pass the
  // repository-template check in agent/nodes/gate.ts and then render as JavaScript source:
  // renderTemplate("${toString}", values) === "function toString() { [native code] }".
  it("Object.prototype names are unknown variables", () => {
    expect(unknownVariables("${toString} ${constructor} ${__proto__}")).toEqual([
      "toString",
      "constructor",
      "__proto__",
    ]);
  });

  it("Object.prototype names are left as placeholders, not rendered as function source", () => {
    expect(renderTemplate("A ${toString} B ${constructor}", values)).toBe("A ${toString} B ${constructor}");
  });

  it("renderTemplate substitutes every known variable, including repeats", () => {
    expect(renderTemplate("${trace_id} / ${component_scope} / ${trace_id}", values)).toBe(
      "<trace_id> / <component_scope> / <trace_id>",
    );
  });

  it("renderTemplate leaves unknown placeholders as they are", () => {
    expect(renderTemplate("${trace_id} ${nope}", values)).toBe("<trace_id> ${nope}");
  });

  it("renderTemplate does not interpret replacement patterns in values", () => {
    const tricky = { ...values, summary: "$& $1 $$ ${trace_id}" };
    expect(renderTemplate("[${summary}]", tricky)).toBe("[$& $1 $$ ${trace_id}]");
  });

  it("the seed's .pr-template.md renders with every placeholder filled", () => {
    const out = renderTemplate(SEED_REPO_TEMPLATE, values);
    expect(out).toBe(`### Description
<commit_summary>

### Related Trace
- Trace ID: <trace_id>
- Blueprint: <blueprint_name>
- Scope: <component_scope>

### Changed Files
<file_table>

### Checklist
- [x] Code builds
- [x] Blueprint linked
- [ ] Tests attached
`);
  });

  it("the default template uses only known variables and has the seed's sections", () => {
    const out = renderTemplate(DEFAULT_TEMPLATE, values);
    expect(out).not.toMatch(/\$\{/);
    expect(out.split("\n").filter((l) => l.startsWith("## "))).toEqual([
      "## Summary",
      "## Risk",
      "## Blueprint",
      "## Changed Files",
      "## Linked Commits",
      "## Review Checklist",
      "## Metadata",
    ]);
  });
});
