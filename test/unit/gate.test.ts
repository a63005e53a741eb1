import { describe, expect, it } from "vitest";
import type { Violation } from "../../src/domain/violations.js";
import { assemblePullRequest } from "../../src/render/assemble.js";
import { DEFAULT_TEMPLATE } from "../../src/render/template.js";
import { validateBody, type BodyContext } from "../../src/validate/body.js";
import { validateFaithfulness, type FaithfulnessContext } from "../../src/validate/faithfulness.js";
import { runGate } from "../../src/validate/gate.js";
import { validateSize } from "../../src/validate/limits.js";
import { forbiddenKeywordsIn, validateTitle, type TitleContext } from "../../src/validate/title.js";
import {
  SEED_HANDLER,
  SEED_HASH,
  SEED_TESTS,
  changeSet,
  commit,
  file,
  makeDraft,
  makeFacts,
  makePolicy,
  seedCommit,
  seedFiles,
} from "./builders.js";

const policy = makePolicy();
const titleCtx: TitleContext = { componentScope: "Order", traceId: "trace-ord-8128", policy };
const bodyCtx: BodyContext = { traceId: "trace-ord-8128", componentScope: "Order", policy };

const codes = (vs: Violation[]) => vs.map((v) => v.code);
const SEED_TITLE = "feat(order): implement CreateOrderHandler [trace:ord-8128]";

describe("validateTitle", () => {
  it("the seed's title passes", () => {
    expect(validateTitle(SEED_TITLE, titleCtx)).toEqual([]);
  });

  it("title_format: a title of another shape fails, and no further rule runs", () => {
    expect(validateTitle("Implement CreateOrderHandler", titleCtx)).toEqual([
      {
        code: "title_format",
        where: "title",
        message: 'title "Implement CreateOrderHandler" does not follow "<type>(<scope>): <summary> [trace:<id>]"',
      },
    ]);
    expect(codes(validateTitle("feat(order): implement CreateOrderHandler", titleCtx))).toEqual(["title_format"]);
    expect(codes(validateTitle("feat: test [trace:ord-8128]", titleCtx))).toEqual(["title_format"]);
  });

  it("title_too_long: exactly 100 characters passes, 101 fails", () => {
    const at100 = `feat(order): ${"x".repeat(70)} [trace:ord-8128]`;
    const at101 = `feat(order): ${"x".repeat(71)} [trace:ord-8128]`;
    expect(at100.length).toBe(100);
    expect(validateTitle(at100, titleCtx)).toEqual([]);
    expect(validateTitle(at101, titleCtx)).toEqual([
      { code: "title_too_long", where: "title", message: "title is 101 characters; the limit is 100" },
    ]);
  });

  it("title_too_long follows the policy's limit", () => {
    const p = makePolicy({ title: { max_length: 50 } });
    expect(codes(validateTitle(SEED_TITLE, { ...titleCtx, policy: p }))).toEqual(["title_too_long"]);
  });

  it("a malformed, too long title reports both", () => {
    expect(codes(validateTitle("x".repeat(120), titleCtx))).toEqual(["title_too_long", "title_format"]);
  });

  it("title_unknown_type: a type the policy does not list fails", () => {
    expect(validateTitle("wip(order): implement CreateOrderHandler [trace:ord-8128]", titleCtx)).toEqual([
      {
        code: "title_unknown_type",
        where: "title",
        message: `type "wip" is not one of ${policy.title.types.join(", ")}`,
      },
    ]);
    const onlyFeat = makePolicy({ title: { types: ["feat"] } });
    expect(codes(validateTitle("fix(order): a [trace:ord-8128]", { ...titleCtx, policy: onlyFeat }))).toEqual([
      "title_unknown_type",
    ]);
    expect(validateTitle("fix(order): a [trace:ord-8128]", titleCtx)).toEqual([]);
  });

  it("title_scope_mismatch: the scope must be the component scope in lower case", () => {
    expect(validateTitle("feat(billing): implement CreateOrderHandler [trace:ord-8128]", titleCtx)).toEqual([
      {
        code: "title_scope_mismatch",
        where: "title",
        message: 'scope "billing" should be "order" (the component scope in lower case)',
      },
    ]);
    expect(codes(validateTitle("feat(Order): implement CreateOrderHandler [trace:ord-8128]", titleCtx))).toEqual([
      "title_scope_mismatch",
    ]);
    expect(
      validateTitle("feat(order-management): a [trace:ord-8128]", { ...titleCtx, componentScope: "Order Management" }),
    ).toEqual([]);
  });

  it("title_trace_mismatch: the tag must be the trace id without its prefix", () => {
    expect(validateTitle("feat(order): implement CreateOrderHandler [trace:ord-9999]", titleCtx)).toEqual([
      {
        code: "title_trace_mismatch",
        where: "title",
        message: 'trace tag "[trace:ord-9999]" should be "[trace:ord-8128]"',
      },
    ]);
    expect(codes(validateTitle("feat(order): implement CreateOrderHandler [trace:trace-ord-8128]", titleCtx))).toEqual([
      "title_trace_mismatch",
    ]);
  });

  it("title_forbidden_keyword: whole words, case-insensitive", () => {
    expect(validateTitle("feat(order): add Test for handler [trace:ord-8128]", titleCtx)).toEqual([
      { code: "title_forbidden_keyword", where: "title", message: 'summary contains forbidden keyword "test"' },
    ]);
    expect(validateTitle("feat(order): FIXME handler asdf [trace:ord-8128]", titleCtx)).toEqual([
      {
        code: "title_forbidden_keyword",
        where: "title",
        message: 'summary contains forbidden keywords "asdf", "fixme"',
      },
    ]);
    expect(codes(validateTitle("feat(order): test-driven handler [trace:ord-8128]", titleCtx))).toEqual([
      "title_forbidden_keyword",
    ]);
  });

  it("title_forbidden_keyword: words that only contain a keyword pass", () => {
    for (const summary of [
      "add tests",
      "testing the handler",
      "use latest SDK",
      "add CreateOrderHandlerTests",
      "fixmes cleaned",
      "test_helpers",
    ]) {
      expect(validateTitle(`feat(order): ${summary} [trace:ord-8128]`, titleCtx), summary).toEqual([]);
    }
  });

  it("the trace tag and type are not checked for keywords", () => {
    expect(validateTitle("test(order): add coverage [trace:ord-8128]", titleCtx)).toEqual([]);
    expect(validateTitle("feat(order): a [trace:test]", { ...titleCtx, traceId: "trace-test" })).toEqual([]);
  });

  it("reports several rules at once", () => {
    expect(codes(validateTitle("wip(billing): fixme [trace:zzz]", titleCtx))).toEqual([
      "title_unknown_type",
      "title_scope_mismatch",
      "title_trace_mismatch",
      "title_forbidden_keyword",
    ]);
  });
});

describe("forbiddenKeywordsIn", () => {
  it("matches whole words case-insensitively and escapes regex characters", () => {
    expect(forbiddenKeywordsIn("Test and FIXME", ["test", "fixme", "asdf"])).toEqual(["test", "fixme"]);
    expect(forbiddenKeywordsIn("latest testing tests", ["test"])).toEqual([]);
    expect(forbiddenKeywordsIn("use c++ now", ["c++"])).toEqual(["c++"]);
    expect(forbiddenKeywordsIn("use cxx now", ["c.x"])).toEqual([]);
    expect(forbiddenKeywordsIn("Prüfung test", ["prüfung"])).toEqual(["prüfung"]);
    expect(forbiddenKeywordsIn("Vorprüfung", ["prüfung"])).toEqual([]);
  });
});

/** A minimal body that passes every body rule. */
function body(...sections: string[]): string {
  return sections.join("\n");
}
const OK_BODY = body(
  "## Summary",
  "Implements trace-ord-8128 for Order.",
  "## Blueprint",
  "x",
  "## Changed Files",
  "x",
  "## Review Checklist",
  "- [x] done",
);

describe("validateBody", () => {
  it("a body with every section, the trace id and the scope passes", () => {
    expect(validateBody(OK_BODY, bodyCtx)).toEqual([]);
  });

  it.each([
    ["## Summary", "Summary|Description", 'description has no "Summary" or "Description" section heading'],
    ["## Blueprint", "Blueprint|Related Trace", 'description has no "Blueprint" or "Related Trace" section heading'],
    ["## Changed Files", "Changed Files", 'description has no "Changed Files" section heading'],
    [
      "## Review Checklist",
      "Checklist|Review Checklist",
      'description has no "Checklist" or "Review Checklist" section heading',
    ],
  ])("body_missing_section: without %j", (heading, _section, message) => {
    const without = OK_BODY.replace(`${heading}\n`, "");
    expect(without).not.toContain(heading);
    expect(validateBody(without, bodyCtx)).toEqual([{ code: "body_missing_section", where: "body", message }]);
  });

  it("A|B accepts either name", () => {
    const alt = body(
      "### Description",
      "trace-ord-8128 Order",
      "### Related Trace",
      "### Changed Files",
      "### Checklist",
    );
    expect(validateBody(alt, bodyCtx)).toEqual([]);
  });

  it("any heading level, any case, trailing colon or hashes", () => {
    const mixed = body(
      "# SUMMARY",
      "trace-ord-8128 Order",
      "###### blueprint:",
      "#### Changed Files ##",
      "## Checklist",
    );
    expect(validateBody(mixed, bodyCtx)).toEqual([]);
  });

  it("a heading must be a heading: bold text, '#Summary' and an indented '#' do not count", () => {
    const fake = body(
      "**Summary**",
      "#Summary",
      " ## Summary",
      "trace-ord-8128 Order",
      "## Blueprint",
      "## Changed Files",
      "## Checklist",
    );
    expect(codes(validateBody(fake, bodyCtx))).toEqual(["body_missing_section"]);
  });

  it("headings inside fenced code do not count", () => {
    const fenced = body(
      "```",
      "## Summary",
      "```",
      "trace-ord-8128 Order",
      "## Blueprint",
      "## Changed Files",
      "## Checklist",
    );
    expect(validateBody(fenced, bodyCtx)).toEqual([
      {
        code: "body_missing_section",
        where: "body",
        message: 'description has no "Summary" or "Description" section heading',
      },
    ]);
  });

  it("the heading name must match exactly, not by prefix", () => {
    const near = OK_BODY.replace("## Summary", "## Summary of changes");
    expect(codes(validateBody(near, bodyCtx))).toEqual(["body_missing_section"]);
  });

  it("uses the policy's required sections", () => {
    const p = makePolicy({ body: { required_sections: ["Risk"] } });
    expect(validateBody(OK_BODY, { ...bodyCtx, policy: p })).toEqual([
      { code: "body_missing_section", where: "body", message: 'description has no "Risk" section heading' },
    ]);
    expect(validateBody(`${OK_BODY}\n## Risk`, { ...bodyCtx, policy: p })).toEqual([]);
  });

  it("body_too_long: at the limit passes, one over fails", () => {
    const pad = (n: number) => OK_BODY + "\n" + "x".repeat(n - OK_BODY.length - 1);
    expect(pad(4000).length).toBe(4000);
    expect(validateBody(pad(4000), bodyCtx)).toEqual([]);
    expect(validateBody(pad(4001), bodyCtx)).toEqual([
      { code: "body_too_long", where: "body", message: "description is 4001 characters; the limit is 4000" },
    ]);
  });

  it("body_line_too_long: names the 1-based line; 100 passes, 101 fails", () => {
    const prose = (n: number) => ("word ".repeat(30) + "x".repeat(n)).slice(0, n);
    expect(prose(101).length).toBe(101);
    expect(validateBody(`${OK_BODY}\n${prose(100)}`, bodyCtx)).toEqual([]);
    const lines = OK_BODY.split("\n").length;
    expect(validateBody(`${OK_BODY}\n${prose(101)}`, bodyCtx)).toEqual([
      {
        code: "body_line_too_long",
        where: "body",
        line: lines + 1,
        message: `line ${lines + 1} is 101 characters; the limit is 100`,
      },
    ]);
  });

  it("body_line_too_long: table rows, fenced code and a single long URL are exempt", () => {
    const long = "word ".repeat(40);
    const url = "https://dev.azure.com/acme/OrderService/_git/OrderService/pullrequest/" + "a".repeat(80);
    const exempt = [OK_BODY, `| ${long} | x |`, "```", long, "```", url, `- ${url}`].join("\n");
    expect(validateBody(exempt, bodyCtx)).toEqual([]);
    expect(codes(validateBody(`${OK_BODY}\nsee ${url}`, bodyCtx))).toEqual(["body_line_too_long"]);
  });

  it("body_line_too_long follows the policy's width", () => {
    const p = makePolicy({ body: { max_line_length: 40 } });
    expect(validateBody(`${OK_BODY}\n${"ab ".repeat(14)}`, { ...bodyCtx, policy: p })).toEqual([
      { code: "body_line_too_long", where: "body", line: 9, message: "line 9 is 42 characters; the limit is 40" },
    ]);
  });

  it("body_missing_trace_id", () => {
    const noTrace = OK_BODY.replace("trace-ord-8128", "the trace");
    expect(validateBody(noTrace, bodyCtx)).toEqual([
      {
        code: "body_missing_trace_id",
        where: "body",
        message: "description does not mention the trace id trace-ord-8128",
      },
    ]);
  });

  it("body_missing_scope", () => {
    const noScope = OK_BODY.replace("Order", "the component");
    expect(validateBody(noScope, bodyCtx)).toEqual([
      { code: "body_missing_scope", where: "body", message: "description does not mention the component scope Order" },
    ]);
  });

  it("body_unknown_variable lists each leftover placeholder once", () => {
    expect(validateBody(`${OK_BODY}\n\${nope} \${other} \${nope}`, bodyCtx)).toEqual([
      {
        code: "body_unknown_variable",
        where: "body",
        message: "description still holds placeholders ${nope}, ${other}",
      },
    ]);
    expect(validateBody(`${OK_BODY}\n\${trace_id}`, bodyCtx)).toEqual([
      { code: "body_unknown_variable", where: "body", message: "description still holds placeholder ${trace_id}" },
    ]);
    expect(validateBody(`${OK_BODY}\n$trace_id {{scope}}`, bodyCtx)).toEqual([]);
  });
});

describe("validateFaithfulness", () => {
  const renamed = file("src/Application/Handlers/NewName.cs", "renamed", {
    old_path: "src/Application/Handlers/OldName.cs",
  });
  const changes = changeSet(
    [seedCommit({ body: "Moves logic out of src/Legacy/OrderHelper.cs.\nReverts 1a2b3c4d." })],
    [...seedFiles(), renamed],
    { base: "0abc1234ffffffffffffffffffffffffffffffff" },
  );
  const ctx: FaithfulnessContext = {
    changes,
    traceId: "trace-ord-8128",
    traceTag: "ord-8128",
    knownText: ["OrderService.Api", "docs/spec.md"],
  };
  const check = (text: string) => validateFaithfulness(text, "body", ctx);

  it("unfaithful_path: an invented path is caught", () => {
    expect(check("Adds src/Foo/Bar.cs.")).toEqual([
      { code: "unfaithful_path", where: "body", message: '"src/Foo/Bar.cs" is not a file of this change' },
    ]);
    expect(validateFaithfulness("see Bar.cs", "title", ctx)).toEqual([
      { code: "unfaithful_path", where: "title", message: '"Bar.cs" is not a file of this change' },
    ]);
  });

  it("an invented path is reported once", () => {
    expect(codes(check("src/Foo/Bar.cs and src/Foo/Bar.cs"))).toEqual(["unfaithful_path"]);
  });

  it("changed paths, their tails, a rename's old path and paths quoted in known text pass", () => {
    expect(check(`Adds ${SEED_HANDLER} and ${SEED_TESTS}.`)).toEqual([]);
    expect(check("Adds Handlers/CreateOrderHandler.cs and CreateOrderHandler.cs.")).toEqual([]);
    expect(check("Renames src/Application/Handlers/OldName.cs to NewName.cs.")).toEqual([]);
    expect(check("Extracted from src/Legacy/OrderHelper.cs.")).toEqual([]);
    expect(check("Documented in docs/spec.md for OrderService.Api.")).toEqual([]);
  });

  it("a partial tail that does not end at a slash is not a changed file", () => {
    expect(codes(check("OrderHandler.cs"))).toEqual(["unfaithful_path"]);
  });

  it("version numbers, URLs and domain names are not paths", () => {
    expect(check("Requires version 1.2.3 or v2.0.10 of the SDK.")).toEqual([]);
    expect(check("See https://example.org/docs/Foo/Bar.cs and http://x.io/a.js for details.")).toEqual([]);
    expect(check("Hosted at example.com and acme.io.")).toEqual([]);
  });

  // BUG: isPlausiblePath's abbreviation rule /^(e\.g|i\.e|etc|vs)\./ needs a trailing dot, but PATH_TOKEN can
  // never end in a dot (the extension must end with a letter or digit), so "e.g." is tokenised as "e.g" and
  // reported. Any prose that says "e.g." or "i.e." fails the gate.
  it("the abbreviations e.g. and i.e. are not paths", () => {
    expect(check("Validates input, e.g. empty carts, i.e. carts without lines.")).toEqual([]);
  });

  it("unfaithful_commit: an invented hash is caught", () => {
    expect(check("Builds on deadbee1.")).toEqual([
      { code: "unfaithful_commit", where: "body", message: '"deadbee1" is not a commit of this change' },
    ]);
    expect(codes(check("Builds on DEADBEE1 and deadbee1."))).toEqual(["unfaithful_commit"]);
  });

  it("a prefix of a real hash (any case), the base and hashes in known text pass", () => {
    expect(check(`Commit 9fbc871, ${SEED_HASH}, ${SEED_HASH.slice(0, 12).toUpperCase()}.`)).toEqual([]);
    expect(check("Based on 0abc123.")).toEqual([]);
    expect(check("Reverts 1a2b3c4d.")).toEqual([]);
  });

  it("pure-digit and pure-letter words are not hashes; 6-character tokens are too short", () => {
    expect(check("Handles 1234567 orders, a deadbeef cafebabe facade, and abc123.")).toEqual([]);
  });

  it("a hash longer than a real one is not its prefix", () => {
    expect(codes(check(`${SEED_HASH}0`))).toEqual(["unfaithful_commit"]);
  });

  it("unfaithful_trace: other trace ids and tags are caught", () => {
    expect(check("Related to [trace:other-1].")).toEqual([
      { code: "unfaithful_trace", where: "body", message: '"[trace:other-1]" names another trace than trace-ord-8128' },
    ]);
    expect(check("Related to trace-other-1.")).toEqual([
      { code: "unfaithful_trace", where: "body", message: '"trace-other-1" names another trace than trace-ord-8128' },
    ]);
    expect(codes(check("[trace:trace-ord-8128]"))).toEqual(["unfaithful_trace"]);
  });

  it("the right trace id and tag pass", () => {
    expect(check("Implements trace-ord-8128 [trace:ord-8128].")).toEqual([]);
  });

  it("reports each kind once per token, in path, hash, trace order", () => {
    expect(codes(check("trace-zzz-1 deadbee1 src/Foo/Bar.cs trace-zzz-1 deadbee1"))).toEqual([
      "unfaithful_path",
      "unfaithful_commit",
      "unfaithful_trace",
    ]);
  });
});

describe("validateSize", () => {
  const sized = (additions: number, deletions: number) =>
    changeSet([commit("x")], [file("src/a.cs", "modified", { additions, deletions })]);

  it("3000 changed lines pass, 3001 fail", () => {
    expect(validateSize(sized(2000, 1000), policy)).toEqual([]);
    expect(validateSize(sized(2000, 1001), policy)).toEqual([
      {
        code: "pr_too_large",
        where: "commit",
        message: "the change has 3001 changed lines in 1 file; the limit is 3000",
      },
    ]);
    const two = changeSet(
      [commit("x")],
      [file("a.cs", "added", { additions: 3000 }), file("b.cs", "added", { additions: 0, deletions: 1 })],
    );
    expect(validateSize(two, policy)).toEqual([
      {
        code: "pr_too_large",
        where: "commit",
        message: "the change has 3001 changed lines in 2 files; the limit is 3000",
      },
    ]);
  });

  it("follows the policy's limit", () => {
    const p = makePolicy({ limits: { max_changed_lines: 10 } });
    expect(validateSize(sized(10, 0), p)).toEqual([]);
    expect(codes(validateSize(sized(11, 0), p))).toEqual(["pr_too_large"]);
  });
});

describe("runGate", () => {
  const facts = makeFacts();
  const { pr } = assemblePullRequest(facts, makeDraft(), DEFAULT_TEMPLATE, policy);

  it("the seed's assembled PR passes", () => {
    expect(runGate(pr.title, pr.description, facts, policy)).toEqual([]);
  });

  it("combines title, body and faithfulness rules, title first", () => {
    const badTitle = "feat(order): add test for src/Foo/Bar.cs [trace:ord-8128]";
    const badBody = pr.description.replace("## Review Checklist", "## Notes") + "\nSee deadbee1 and trace-zzz-9.\n";
    expect(runGate(badTitle, badBody, facts, policy)).toEqual([
      { code: "title_forbidden_keyword", where: "title", message: 'summary contains forbidden keyword "test"' },
      {
        code: "body_missing_section",
        where: "body",
        message: 'description has no "Checklist" or "Review Checklist" section heading',
      },
      { code: "unfaithful_path", where: "title", message: '"src/Foo/Bar.cs" is not a file of this change' },
      { code: "unfaithful_commit", where: "body", message: '"deadbee1" is not a commit of this change' },
      { code: "unfaithful_trace", where: "body", message: '"trace-zzz-9" names another trace than trace-ord-8128' },
    ]);
  });

  it("the blueprint, its name and description, linked files and the repo count as known text", () => {
    const f = makeFacts({
      repo: "Acme.Orders",
      trace: {
        description: "Replaces legacy/OrderTool.py behaviour.",
        blueprint_name: "Create Order v2.cs",
        linked_files: [SEED_HANDLER, "src/Other/Linked.cs"],
      },
    });
    const text = `${pr.description}\nMentions Acme.Orders, legacy/OrderTool.py, Create Order v2.cs and src/Other/Linked.cs.\n`;
    expect(runGate(pr.title, text, f, policy)).toEqual([]);
  });

  it("each title rule is enforced through the gate", () => {
    expect(codes(runGate("feat(order): implement CreateOrderHandler", pr.description, facts, policy))).toEqual([
      "title_format",
    ]);
    expect(
      codes(runGate("feat(billing): implement CreateOrderHandler [trace:ord-8128]", pr.description, facts, policy)),
    ).toEqual(["title_scope_mismatch"]);
    expect(
      codes(runGate("feat(order): implement CreateOrderHandler [trace:ord-1]", pr.description, facts, policy)),
    ).toEqual(["title_trace_mismatch", "unfaithful_trace"]);
  });

  it("each body rule is enforced through the gate", () => {
    expect(codes(runGate(pr.title, pr.description.replaceAll("trace-ord-8128", "the trace"), facts, policy))).toEqual([
      "body_missing_trace_id",
    ]);
    expect(codes(runGate(pr.title, pr.description + "${nope}\n", facts, policy))).toEqual(["body_unknown_variable"]);
    expect(codes(runGate(pr.title, pr.description + "x".repeat(4000), facts, policy))).toEqual(["body_too_long"]);
  });

  it("uses the policy's trace id prefix for the tag", () => {
    const p = makePolicy({ title: { trace_id_prefix: "" } });
    const f = makeFacts({
      commits: [seedCommit({ subject: "feat(order): implement CreateOrderHandler [trace:trace-ord-8128]" })],
    });
    const assembled = assemblePullRequest(f, makeDraft(), DEFAULT_TEMPLATE, p).pr;
    expect(assembled.title).toBe("feat(order): implement CreateOrderHandler [trace:trace-ord-8128]");
    expect(runGate(assembled.title, assembled.description, f, p)).toEqual([]);
    // Quoting a real commit subject is faithful even when its tag is in another form; checking commit tags
    // against the trace is the trace check's job, not the gate's.
    const seed = assemblePullRequest(facts, makeDraft(), DEFAULT_TEMPLATE, p).pr;
    expect(runGate(seed.title, seed.description, facts, p)).toEqual([]);
    // A tag in the wrong form written by the drafter itself is still caught.
    expect(runGate(seed.title, `${seed.description}\nSee [trace:ord-8128].\n`, facts, p)).toEqual([
      {
        code: "unfaithful_trace",
        where: "body",
        message: '"[trace:ord-8128]" names another trace than trace-ord-8128',
      },
    ]);
  });
});

describe("gate details", () => {
  const bodyCtx: BodyContext = { traceId: "trace-ord-8128", componentScope: "Order", policy };
  const sections = "## Summary\nx\n## Blueprint\ntrace-ord-8128 Order\n## Changed Files\nx\n## Checklist\nx\n";

  it("the component scope must appear as a word of its own", () => {
    const withoutScope = sections.replace("trace-ord-8128 Order", "trace-ord-8128 OrderService");
    expect(validateBody(withoutScope, bodyCtx).map((v) => v.code)).toEqual(["body_missing_scope"]);
    expect(validateBody(sections, bodyCtx)).toEqual([]);
  });

  it("a fence closes only with the same character: a ~~~ line inside ``` does not end the code block", () => {
    const long = "y ".repeat(80);
    const body = `${sections}\`\`\`\n~~~\n## Checklist-looking line inside code\n${long}\n\`\`\`\n`;
    expect(validateBody(body, bodyCtx)).toEqual([]);
    const unclosedTilde = `${sections}~~~~\ncode\n~~~\n${long}\n~~~~\n`;
    expect(validateBody(unclosedTilde, bodyCtx)).toEqual([]);
    const afterFence = `${sections}\`\`\`\ncode\n\`\`\`\n${long}\n`;
    expect(validateBody(afterFence, bodyCtx).map((v) => v.code)).toEqual(["body_line_too_long"]);
  });

  it("technology names are not file names, but an invented bare file is", () => {
    const ctx: FaithfulnessContext = {
      changes: changeSet([seedCommit()], seedFiles()),
      traceId: "trace-ord-8128",
      traceTag: "ord-8128",
    };
    expect(validateFaithfulness("Runs on node.js and ASP.NET, like vue.js apps.", "body", ctx)).toEqual([]);
    expect(validateFaithfulness("Updates main.js.", "body", ctx).map((v) => v.code)).toEqual(["unfaithful_path"]);
  });

  it("trace-shaped words without a digit are prose, not trace ids", () => {
    const ctx: FaithfulnessContext = {
      changes: changeSet([seedCommit()], seedFiles()),
      traceId: "trace-ord-8128",
      traceTag: "ord-8128",
    };
    expect(validateFaithfulness("Improves trace-logging and trace-check.", "body", ctx)).toEqual([]);
    expect(validateFaithfulness("See trace-ord-9999.", "body", ctx).map((v) => v.code)).toEqual(["unfaithful_trace"]);
  });
});
