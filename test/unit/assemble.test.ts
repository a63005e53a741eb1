import { describe, expect, it } from "vitest";
import { draftDeterministically } from "../../src/agent/deterministic-drafter.js";
import type { PrFacts } from "../../src/domain/pull-request.js";
import { computeChecklist } from "../../src/policy/plan.js";
import { assemblePullRequest, renderFileTable, renderLinkedCommits } from "../../src/render/assemble.js";
import { DEFAULT_TEMPLATE } from "../../src/render/template.js";
import { validateBody } from "../../src/validate/body.js";
import { runGate } from "../../src/validate/gate.js";
import {
  SEED_HANDLER,
  SEED_REPO_TEMPLATE,
  SEED_TESTS,
  commit,
  file,
  makeDraft,
  makeFacts,
  makePolicy,
  seedCommit,
  seedFiles,
} from "./builders.js";

const policy = makePolicy();

function assembleDeterministic(facts: PrFacts, template = DEFAULT_TEMPLATE, p = policy) {
  return assemblePullRequest(facts, draftDeterministically(facts, p), template, p);
}

function headings(body: string): string[] {
  return body.split("\n").filter((l) => /^#{1,6} /.test(l));
}

/** The text of a `## name` section, without its heading. */
function section(body: string, name: string): string {
  const start = body.indexOf(`## ${name}\n`);
  if (start < 0) throw new Error(`no section ${name}`);
  const rest = body.slice(start + name.length + 4);
  const end = rest.search(/^## /m);
  return (end < 0 ? rest : rest.slice(0, end)).trim();
}

const SEED_BODY = `## Summary

Implement CreateOrderHandler, as defined in blueprint \`usecase-create-order\` (Create Order).

## Risk

Risk level: **medium**. Medium risk: needs an approving review before a person merges it (by policy,
PRs from commits do not merge themselves).

- commit type feat is medium risk

## Blueprint

- Blueprint ID: usecase-create-order
- Blueprint Name: Create Order
- Component Scope: Order
- Trace ID: trace-ord-8128

Customers place an order from a validated cart; the order is persisted.

## Changed Files

2 files changed, +72 -0

| File | Change | Lines |
|------|--------|-------|
| src/Application/Handlers/CreateOrderHandler.cs | Added | +42 -0 |
| tests/Order/CreateOrderHandlerTests.cs | Added | +30 -0 |

## Linked Commits

- \`9fbc871\` feat(order): implement CreateOrderHandler [trace:ord-8128] — by code-committer-agent

## Review Checklist

- [x] Trace metadata attached (trace-ord-8128, scope Order)
- [x] Blueprint linked (usecase-create-order)
- [x] Blueprint name and description recorded
- [x] Tests included for changed code
- [x] Change size within policy (72 of 3000 lines)

## Metadata

\`\`\`yaml
trace_id: trace-ord-8128
blueprint_id: usecase-create-order
component_scope: Order
repo: OrderService
source_branch: feature/order-handler
target_branch: dev
commit_count: 1
commits:
  - 9fbc871
\`\`\`
`;

describe("assemblePullRequest: the seed's worked example", () => {
  const facts = makeFacts();
  const { pr, truncation } = assembleDeterministic(facts);

  it("has the seed's exact title", () => {
    expect(pr.title).toBe("feat(order): implement CreateOrderHandler [trace:ord-8128]");
  });

  it("keeps the branches", () => {
    expect(pr.source_branch).toBe("feature/order-handler");
    expect(pr.target_branch).toBe("dev");
  });

  it("requires TechLeadAgent and QAAssistantAgent", () => {
    expect(pr.reviewers).toEqual([
      { name: "TechLeadAgent", required: true },
      { name: "QAAssistantAgent", required: true },
    ]);
  });

  it("has exactly the seed's labels", () => {
    expect(pr.labels).toEqual(["domain:order", "traceable", "generated-by:AI"]);
  });

  it("renders the full body", () => {
    expect(pr.description).toBe(SEED_BODY);
  });

  it("has the Summary, Blueprint, Changed Files, Linked Commits and Review Checklist sections", () => {
    expect(headings(pr.description)).toEqual([
      "## Summary",
      "## Risk",
      "## Blueprint",
      "## Changed Files",
      "## Linked Commits",
      "## Review Checklist",
      "## Metadata",
    ]);
  });

  it("passes the gate with zero violations", () => {
    expect(runGate(pr.title, pr.description, facts, policy)).toEqual([]);
  });

  it("is ready for review, medium risk (feat), not auto-merged by default, and not truncated", () => {
    expect(pr.is_draft).toBe(false);
    expect(pr.auto_complete).toBe(false);
    expect(pr.risk).toEqual({ level: "medium", reasons: ["commit type feat is medium risk"] });
    expect(pr.merge?.requires).toBe("review");
    expect(truncation).toBeNull();
    expect(pr.checklist.every((i) => i.done)).toBe(true);
  });
});

describe("assemblePullRequest: the seed's .pr-template.md", () => {
  const facts = makeFacts();
  const { pr } = assembleDeterministic(facts, SEED_REPO_TEMPLATE);

  it("renders exactly", () => {
    expect(pr.description).toBe(`### Description
Implement CreateOrderHandler, as defined in blueprint \`usecase-create-order\` (Create Order).

### Related Trace
- Trace ID: trace-ord-8128
- Blueprint: Create Order
- Scope: Order

### Changed Files
| File | Change | Lines |
|------|--------|-------|
| src/Application/Handlers/CreateOrderHandler.cs | Added | +42 -0 |
| tests/Order/CreateOrderHandlerTests.cs | Added | +30 -0 |

### Checklist
- [x] Code builds
- [x] Blueprint linked
- [ ] Tests attached
`);
  });

  it("passes the gate with the default required sections", () => {
    expect(policy.body.required_sections).toEqual([
      "Summary|Description",
      "Blueprint|Related Trace",
      "Changed Files",
      "Checklist|Review Checklist",
    ]);
    expect(runGate(pr.title, pr.description, facts, policy)).toEqual([]);
  });

  it("${commit_summary} is the purpose and the highlights", () => {
    const f = makeFacts({ commits: [seedCommit({ body: "- validates the cart\n- publishes OrderCreated" })] });
    const out = assembleDeterministic(f, SEED_REPO_TEMPLATE).pr.description;
    expect(out).toContain(
      "### Description\nImplement CreateOrderHandler, as defined in blueprint `usecase-create-order` (Create Order).\n\n- validates the cart\n- publishes OrderCreated\n\n### Related Trace",
    );
    expect(runGate(assembleDeterministic(f, SEED_REPO_TEMPLATE).pr.title, out, f, policy)).toEqual([]);
  });

  it("a template without a required section fails the gate", () => {
    const noChecklist = SEED_REPO_TEMPLATE.slice(0, SEED_REPO_TEMPLATE.indexOf("### Checklist"));
    const out = assembleDeterministic(facts, noChecklist).pr;
    expect(runGate(out.title, out.description, facts, policy)).toEqual([
      {
        code: "body_missing_section",
        where: "body",
        message: 'description has no "Checklist" or "Review Checklist" section heading',
      },
    ]);
  });
});

describe("assemblePullRequest: template values", () => {
  it("fills every variable", () => {
    const facts = makeFacts({
      commits: [
        commit("chore: earlier", { hash: "1111111aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa" }),
        seedCommit({ author: { name: "Ada @ada", email: "a@x" } }),
      ],
    });
    const draft = makeDraft({ highlights: ["one", "two"] });
    const template = [
      "## Summary",
      "title=${title}",
      "type=${type} summary=${summary}",
      "trace=${trace_id} bp=${blueprint_id} name=${blueprint_name}",
      "scope=${component_scope}/${scope} repo=${repo}",
      "branches=${source_branch}->${target_branch}",
      "hash=${commit_hash} full=${commit_hash_full} author=${author}",
      "stats=${change_stats}",
      "## Blueprint",
      "## Changed Files",
      "## Checklist",
      "${highlights}",
      "${linked_commits}",
    ].join("\n");
    const { pr } = assemblePullRequest(facts, draft, template, policy);
    expect(pr.description).toBe(
      [
        "## Summary",
        "title=feat(order): implement CreateOrderHandler [trace:ord-8128]",
        "type=feat summary=implement CreateOrderHandler",
        "trace=trace-ord-8128 bp=usecase-create-order name=Create Order",
        "scope=Order/Order repo=OrderService",
        "branches=feature/order-handler->dev",
        "hash=9fbc871 full=9fbc871e4b2a6c3d5f708192a3b4c5d6e7f80912 author=Ada `@ada`",
        "stats=2 files changed, +72 -0",
        "## Blueprint",
        "## Changed Files",
        "## Checklist",
        "- one",
        "- two",
        "- `9fbc871` feat(order): implement CreateOrderHandler [trace:ord-8128] — by Ada `@ada`",
        "- `1111111` chore: earlier — by code-committer-agent",
        "",
      ].join("\n"),
    );
  });

  it("says 1 file for a single file", () => {
    const facts = makeFacts({ files: [file(SEED_HANDLER, "modified", { additions: 3, deletions: 2 })] });
    expect(assemblePullRequest(facts, makeDraft(), "${change_stats}", policy).pr.description).toBe(
      "1 file changed, +3 -2\n",
    );
  });

  it("a missing blueprint name reads _not recorded_ and a missing description leaves no hole", () => {
    const facts = makeFacts({ trace: { blueprint_name: undefined, description: undefined } });
    const { pr } = assembleDeterministic(facts);
    expect(section(pr.description, "Blueprint")).toBe(
      "- Blueprint ID: usecase-create-order\n- Blueprint Name: _not recorded_\n- Component Scope: Order\n- Trace ID: trace-ord-8128",
    );
    expect(pr.description).not.toMatch(/\n{3,}/);
    expect(runGate(pr.title, pr.description, facts, policy)).toEqual([]);
  });

  it("wraps long highlights under their bullet", () => {
    const long =
      "The handler validates every cart line against the catalogue and rejects carts whose total is not positive.";
    const facts = makeFacts();
    const { pr } = assemblePullRequest(facts, makeDraft({ highlights: [long] }), DEFAULT_TEMPLATE, policy);
    expect(section(pr.description, "Summary").split("\n").slice(2)).toEqual([
      "- The handler validates every cart line against the catalogue and rejects carts whose total is not",
      "  positive.",
    ]);
    expect(validateBody(pr.description, { traceId: "trace-ord-8128", componentScope: "Order", policy })).toEqual([]);
  });
});

describe("renderFileTable", () => {
  it("shows change kinds, renames, binaries and escapes cells", () => {
    const files = [
      file("src/A.cs", "modified", { additions: 5, deletions: 1 }),
      file("src/New.cs", "renamed", { old_path: "src/Old|Name.cs", additions: 0, deletions: 0 }),
      file("assets/logo.png", "added", { binary: true }),
      file("src/<script>.cs", "deleted", { additions: 0, deletions: 9 }),
      file("src/Copy.cs", "copied", { old_path: "src/A.cs" }),
      file("bin/run", "type_changed", { additions: 1, deletions: 1 }),
    ];
    expect(renderFileTable(files, files.length, 4000)).toBe(
      [
        "| File | Change | Lines |",
        "|------|--------|-------|",
        "| src/A.cs | Modified | +5 -1 |",
        "| src/New.cs | Renamed from src/Old\\|Name.cs | +0 -0 |",
        "| assets/logo.png | Added | binary |",
        "| src/&lt;script>.cs | Deleted | +0 -9 |",
        "| src/Copy.cs | Copied from src/A.cs | +10 -0 |",
        "| bin/run | Type changed | +1 -1 |",
      ].join("\n"),
    );
  });

  it("says how many files are shown when shortened", () => {
    const files = [file("a.cs"), file("b.cs"), file("c.cs")];
    expect(renderFileTable(files, 1, 4000)).toBe(
      [
        "| File | Change | Lines |",
        "|------|--------|-------|",
        "| a.cs | Added | +10 -0 |",
        "| … and 2 more files | | |",
        "",
        "_Table shortened to keep the description within 4000 characters: 1 of 3 files shown._",
      ].join("\n"),
    );
  });
});

describe("renderLinkedCommits", () => {
  const commits = [
    commit("first", { short_hash: "aaaaaa1" }),
    commit("second", { short_hash: "aaaaaa2" }),
    commit("third <b>bold</b> @x", { short_hash: "aaaaaa3" }),
  ];

  it("lists newest first with inert subjects", () => {
    expect(renderLinkedCommits(commits, 3)).toBe(
      [
        "- `aaaaaa3` third &lt;b>bold&lt;/b> `@x` — by code-committer-agent",
        "- `aaaaaa2` second — by code-committer-agent",
        "- `aaaaaa1` first — by code-committer-agent",
      ].join("\n"),
    );
  });

  it("keeps the newest when shortened and counts the rest", () => {
    expect(renderLinkedCommits(commits, 1)).toBe(
      ["- `aaaaaa3` third &lt;b>bold&lt;/b> `@x` — by code-committer-agent", "- … and 2 earlier commits"].join("\n"),
    );
  });
});

describe("computeChecklist", () => {
  it("the seed's checklist is complete", () => {
    expect(computeChecklist(makeFacts(), policy)).toEqual([
      { label: "Trace metadata attached (trace-ord-8128, scope Order)", done: true },
      { label: "Blueprint linked (usecase-create-order)", done: true },
      { label: "Blueprint name and description recorded", done: true },
      { label: "Tests included for changed code", done: true },
      { label: "Change size within policy (72 of 3000 lines)", done: true },
    ]);
  });

  it("marks missing blueprint details, missing tests and an oversized change", () => {
    const facts = makeFacts({
      trace: { description: undefined },
      files: [file(SEED_HANDLER, "modified", { additions: 2999, deletions: 2 })],
    });
    expect(computeChecklist(facts, policy).map((i) => [i.label, i.done])).toEqual([
      ["Trace metadata attached (trace-ord-8128, scope Order)", true],
      ["Blueprint linked (usecase-create-order)", true],
      ["Blueprint name and description recorded", false],
      ["Tests included for changed code", false],
      ["Change size within policy (3001 of 3000 lines)", false],
    ]);
  });
});

describe("assemblePullRequest: risk of commit PRs", () => {
  it("takes the riskiest conventional type among the commits, not only the head's", () => {
    const facts = makeFacts({ commits: [commit("feat(order): add totals"), commit("chore(order): tidy usings")] });
    expect(assembleDeterministic(facts).pr.risk).toEqual({
      level: "medium",
      reasons: ["commit type feat is medium risk"],
    });
    const docsOnly = makeFacts({ commits: [commit("docs: readme"), commit("test(order): more cases")] });
    expect(assembleDeterministic(docsOnly).pr.risk!.level).toBe("low");
  });
});

describe("assemblePullRequest: draft and auto-merge", () => {
  // The seed commit is a feat (medium risk) made by a commit event: both must be allowed to auto-merge.
  const autoPolicy = makePolicy({ merge: { commits: true, auto_merge_levels: ["low", "medium"] } });

  it("is a draft when the blueprint name is missing", () => {
    expect(assembleDeterministic(makeFacts({ trace: { blueprint_name: undefined } })).pr.is_draft).toBe(true);
  });

  it("is a draft when the description is missing", () => {
    expect(assembleDeterministic(makeFacts({ trace: { description: undefined } })).pr.is_draft).toBe(true);
  });

  it("is not a draft with both", () => {
    expect(assembleDeterministic(makeFacts()).pr.is_draft).toBe(false);
  });

  it("auto-merges only when the policy asks and the checklist is complete", () => {
    expect(assembleDeterministic(makeFacts(), DEFAULT_TEMPLATE, autoPolicy).pr.auto_complete).toBe(true);
    expect(assembleDeterministic(makeFacts(), DEFAULT_TEMPLATE, policy).pr.auto_complete).toBe(false);
  });

  it("does not auto-merge with tests missing, a draft, or an oversized change", () => {
    expect(
      assembleDeterministic(makeFacts({ files: [file(SEED_HANDLER)] }), DEFAULT_TEMPLATE, autoPolicy).pr.auto_complete,
    ).toBe(false);
    expect(
      assembleDeterministic(makeFacts({ trace: { description: undefined } }), DEFAULT_TEMPLATE, autoPolicy).pr
        .auto_complete,
    ).toBe(false);
    const big = makeFacts({
      files: [file(SEED_HANDLER, "added", { additions: 3000 }), file(SEED_TESTS, "added", { additions: 1 })],
    });
    expect(assembleDeterministic(big, DEFAULT_TEMPLATE, autoPolicy).pr.auto_complete).toBe(false);
  });

  it("adds requires-tests and leaves the checklist item open when tests are missing", () => {
    const { pr } = assembleDeterministic(makeFacts({ files: [file(SEED_HANDLER)] }));
    expect(pr.labels).toEqual(["domain:order", "traceable", "generated-by:AI", "requires-tests"]);
    expect(pr.description).toContain("- [ ] Tests included for changed code");
  });

  it("routes scope reviewers from the policy", () => {
    const p = makePolicy({ reviewers: { by_scope: { Order: ["optional:DomainExpert"] } } });
    expect(assembleDeterministic(makeFacts(), DEFAULT_TEMPLATE, p).pr.reviewers).toEqual([
      { name: "TechLeadAgent", required: true },
      { name: "QAAssistantAgent", required: true },
      { name: "DomainExpert", required: false },
    ]);
  });
});

describe("assemblePullRequest: truncation", () => {
  const requiredSections = (body: string) =>
    validateBody(body, { traceId: "trace-ord-8128", componentScope: "Order", policy }).filter(
      (v) => v.code === "body_missing_section",
    );

  it("2,000 changed files with long paths: shortened table within the limit, sections kept, gate passes", () => {
    const files = Array.from({ length: 2000 }, (_, i) =>
      file(
        `src/Application/Order/Handlers/Generated/Module${i}/CreateOrderHandlerVariant${i}WithAVeryLongDescriptiveName.cs`,
        "modified",
        { additions: 1 },
      ),
    );
    const facts = makeFacts({ files: [...files, file(SEED_TESTS)] });
    const { pr, truncation } = assembleDeterministic(facts);
    expect(pr.description.length).toBeLessThanOrEqual(4000);
    expect(pr.description.length).toBeGreaterThan(3000);
    expect(truncation).not.toBeNull();
    const shown = truncation!.files_shown;
    expect(truncation).toEqual({
      files_shown: shown,
      files_total: 2001,
      commits_shown: 1,
      commits_total: 1,
      prose_shortened: false,
    });
    expect(shown).toBeGreaterThan(5);
    expect(shown).toBeLessThan(60);
    expect(pr.description).toContain(`| … and ${2001 - shown} more files | | |`);
    expect(pr.description).toContain(
      `_Table shortened to keep the description within 4000 characters: ${shown} of 2001 files shown._`,
    );
    expect(pr.description.split("\n").filter((l) => l.startsWith("| src/Application/Order/"))).toHaveLength(shown);
    expect(requiredSections(pr.description)).toEqual([]);
    expect(headings(pr.description)).toEqual([
      "## Summary",
      "## Risk",
      "## Blueprint",
      "## Changed Files",
      "## Linked Commits",
      "## Review Checklist",
      "## Metadata",
    ]);
    expect(runGate(pr.title, pr.description, facts, policy)).toEqual([]);
  });

  it("shows as many files as fit: one more row would pass the limit", () => {
    const files = Array.from({ length: 300 }, (_, i) =>
      file(`src/Order/Generated/File${i}.cs`, "modified", { additions: 1 }),
    );
    const facts = makeFacts({ files });
    const { pr, truncation } = assembleDeterministic(facts);
    expect(pr.description.length).toBeLessThanOrEqual(4000);
    const row = `| src/Order/Generated/File${truncation!.files_shown}.cs | Modified | +1 -0 |\n`.length;
    expect(pr.description.length + row).toBeGreaterThan(4000 - 20);
  });

  it("honours a smaller body limit", () => {
    const p = makePolicy({ body: { max_length: 2500 } });
    const files = Array.from({ length: 200 }, (_, i) => file(`src/Order/F${i}.cs`, "modified", { additions: 1 }));
    const facts = makeFacts({ files });
    const { pr, truncation } = assembleDeterministic(facts, DEFAULT_TEMPLATE, p);
    expect(pr.description.length).toBeLessThanOrEqual(2500);
    expect(pr.description).toContain(`within 2500 characters: ${truncation!.files_shown} of 200 files shown._`);
    expect(runGate(pr.title, pr.description, facts, p)).toEqual([]);
  });

  it("500 commits: the commit list shrinks newest-first (template without the metadata block)", () => {
    const commits = Array.from({ length: 500 }, (_, i) =>
      commit(`feat(order): step ${i + 1} of the order handler [trace:ord-8128]`),
    );
    const facts = makeFacts({ commits });
    const template = DEFAULT_TEMPLATE.slice(0, DEFAULT_TEMPLATE.indexOf("## Metadata"));
    const { pr, truncation } = assembleDeterministic(facts, template);
    expect(pr.description.length).toBeLessThanOrEqual(4000);
    const shown = truncation!.commits_shown;
    expect(shown).toBeGreaterThan(5);
    expect(shown).toBeLessThan(500);
    expect(truncation!.commits_total).toBe(500);
    const listed = section(pr.description, "Linked Commits").split("\n");
    expect(listed).toHaveLength(shown + 1);
    expect(listed[0]).toBe(
      `- \`${commits[499]!.short_hash}\` feat(order): step 500 of the order handler [trace:ord-8128] — by code-committer-agent`,
    );
    expect(listed[shown]).toBe(`- … and ${500 - shown} earlier commits`);
    expect(requiredSections(pr.description)).toEqual([]);
    expect(runGate(pr.title, pr.description, facts, policy)).toEqual([]);
  });

  // BUG (src/render/assemble.ts, metadataBlock): the ${metadata_block} lists every commit's short hash and is
  // never shortened, so with the default template a PR of more than ~200 commits cannot fit: with 500 commits
  // the description is ~7,150 characters after every other part was shrunk (files 1 of 2, commits 1 of 500,
  // prose shortened), and runGate reports body_too_long.
  it("500 commits with the default template stay within body.max_length", () => {
    const commits = Array.from({ length: 500 }, (_, i) =>
      commit(`feat(order): step ${i + 1} of the order handler [trace:ord-8128]`),
    );
    const facts = makeFacts({ commits });
    const { pr } = assembleDeterministic(facts);
    expect(pr.description.length).toBeLessThanOrEqual(4000);
    expect(runGate(pr.title, pr.description, facts, policy)).toEqual([]);
  });

  it("a 6,000-character purpose is shortened at a word with an ellipsis, within the limit", () => {
    const purpose = Array.from({ length: 1200 }, (_, i) => `word${i % 10}`)
      .join(" ")
      .slice(0, 6000);
    expect(purpose.length).toBe(6000);
    const facts = makeFacts();
    const { pr, truncation } = assemblePullRequest(
      facts,
      makeDraft({ purpose, highlights: ["first highlight", "second highlight"] }),
      DEFAULT_TEMPLATE,
      policy,
    );
    expect(pr.description.length).toBeLessThanOrEqual(4000);
    expect(truncation?.prose_shortened).toBe(true);
    const summary = section(pr.description, "Summary").split("\n").join(" ");
    expect(summary.endsWith("…")).toBe(true);
    const kept = summary.slice(0, -1);
    expect(purpose.startsWith(kept)).toBe(true);
    expect(purpose[kept.length]).toBe(" ");
    expect(kept.length).toBeGreaterThan(1000);
    expect(kept.length).toBeLessThan(6000);
    expect(pr.description).not.toContain("first highlight");
    // The room the shortened prose freed goes back to the lists: both files are listed again.
    expect(truncation?.files_shown).toBe(2);
    expect(requiredSections(pr.description)).toEqual([]);
    expect(runGate(pr.title, pr.description, facts, policy)).toEqual([]);
  });

  it("a body within the limit is not shortened", () => {
    const facts = makeFacts({ files: Array.from({ length: 10 }, (_, i) => file(`src/Order/F${i}.cs`)) });
    const { pr, truncation } = assembleDeterministic(facts);
    expect(truncation).toBeNull();
    expect(pr.description).not.toContain("Table shortened");
  });
});

// The gate must accept a PR assembled purely from facts by the deterministic drafter (its fallback promise:
// "it must always pass the gate"). These inputs are legitimate but the faithfulness check rejects text the
// renderer itself produced from them.
describe("BUG: the gate rejects text rendered from legitimate facts (src/validate/faithfulness.ts)", () => {
  const gate = (facts: PrFacts) => {
    const { pr } = assembleDeterministic(facts);
    return runGate(pr.title, pr.description, facts, policy);
  };

  it("control: the seed passes", () => {
    expect(gate(makeFacts())).toEqual([]);
  });

  // PATH_TOKEN cannot cross the space, so it sees "Guide.md", which is neither a changed path nor a "/"-tail of one.
  it('a changed file with a space in its name (docs/Order Guide.md) → unfaithful_path "Guide.md"', () => {
    expect(gate(makeFacts({ files: [...seedFiles(), file("docs/Order Guide.md")] }))).toEqual([]);
  });

  // \w is ASCII-only, so the token starts after "ß": "e.cs".
  it('a changed file with a non-ASCII name (src/Order/Straße.cs) → unfaithful_path "e.cs"', () => {
    expect(gate(makeFacts({ files: [...seedFiles(), file("src/Order/Straße.cs")] }))).toEqual([]);
  });

  // TRACE_TOKEN matches "trace-logging" inside the file table; paths are never consulted for traces.
  it('a changed file named trace-*.ts (src/Order/trace-logging.ts) → unfaithful_trace "trace-logging"', () => {
    expect(
      gate(
        makeFacts({
          files: [...seedFiles(), file("src/Order/trace-logging.ts"), file("src/Order/trace-logging.test.ts")],
        }),
      ),
    ).toEqual([]);
  });

  // The metadata block prints "source_branch: feature/trace-logging".
  it('a source branch feature/trace-logging → unfaithful_trace "trace-logging"', () => {
    expect(gate(makeFacts({ source_branch: "feature/trace-logging" }))).toEqual([]);
  });

  // Linked Commits prints "— by john.doe"; author names are not part of the known text.
  it('a commit author named john.doe → unfaithful_path "john.doe"', () => {
    expect(
      gate(makeFacts({ commits: [seedCommit({ author: { name: "john.doe", email: "john@example.org" } })] })),
    ).toEqual([]);
  });
});
