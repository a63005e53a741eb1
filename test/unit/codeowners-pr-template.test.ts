/**
 * The forge's PR template combined with our body template (src/render/repo-template.ts): its layout or its sections
 * carried over, our required sections always kept, its text inert, its size bounded — and the assembled body passes
 * the gate. Also CODEOWNERS owners in the plan (src/policy/plan.ts).
 */
import { describe, expect, it } from "vitest";
import { draftDeterministically } from "../../src/agent/deterministic-drafter.js";
import { codeOwnerReviewers, parseCodeOwners } from "../../src/policy/codeowners.js";
import { planPullRequest } from "../../src/policy/plan.js";
import { assemblePullRequest } from "../../src/render/assemble.js";
import { mergeRepoTemplate, type RepoTemplateOptions } from "../../src/render/repo-template.js";
import { DEFAULT_TEMPLATE } from "../../src/render/template.js";
import { runGate } from "../../src/validate/gate.js";
import { makeFacts, makePolicy } from "./builders.js";

const policy = makePolicy();
const aliases = policy.body.required_sections.map((s) => s.split("|"));
const options = (mode: RepoTemplateOptions["mode"], maxChars = 1000): RepoTemplateOptions => ({
  mode,
  aliases,
  maxChars,
});
const headings = (text: string) => [...text.matchAll(/^#{1,6} (.+)$/gm)].map((m) => m[1]);

const OURS = "## Summary\n\n${purpose}\n\n## Changed Files\n\n${file_table}\n\n## Review Checklist\n\n${checklist}\n";

const THEIRS = `<!-- Fill this in -->
Intro line from the repository.

## Description
Say what changed.

## Screenshots
If UI changed, add screenshots.

\`\`\`
## not a heading, inside a fence
\`\`\`

## Checklist
- [ ] Docs updated
  - [ ] nested item
`;

describe("mergeRepoTemplate", () => {
  it("use: the template's order, ours in place of the sections both have (by alias), the rest of ours after", () => {
    const merged = mergeRepoTemplate(OURS, THEIRS, options("use"));
    expect(headings(merged)).toEqual(["Summary", "Screenshots", "Review Checklist", "Changed Files"]);
    expect(merged).toContain("Intro line from the repository.");
    expect(merged).toContain("If UI changed, add screenshots.");
    // Ours replaces the template's instructions; its task items join our checklist.
    expect(merged).not.toContain("Say what changed.");
    expect(merged).toMatch(/## Review Checklist\n\n\$\{checklist\}\n\n- \[ \] Docs updated\n {2}- \[ \] nested item/);
    // Comments and fenced blocks are instructions, not content.
    expect(merged).not.toContain("Fill this in");
    expect(merged).not.toContain("not a heading");
  });

  it("append: ours first, then only the template's own sections", () => {
    const merged = mergeRepoTemplate(OURS, THEIRS, options("append"));
    expect(headings(merged)).toEqual(["Summary", "Changed Files", "Review Checklist", "Screenshots"]);
    expect(merged.indexOf("Intro line")).toBeGreaterThan(merged.indexOf("## Review Checklist"));
  });

  it("makes the template's text inert: no placeholder, ping, link, image, HTML or work-item link survives", () => {
    const hostile =
      "## Notes\n${purpose} cc @octocat, see [docs](https://evil.example/x) ![img](https://evil.example/i.png)\n" +
      "<script>alert(1)</script> Fixes AB#42\n> quote\n---\n";
    const merged = mergeRepoTemplate(OURS, hostile, options("append"));
    const notes = merged.slice(merged.indexOf("## Notes"));
    expect(notes).not.toContain("${purpose}");
    expect(notes).toContain("&#36;{purpose}");
    expect(notes).toContain("`@octocat`");
    expect(notes).not.toContain("](https://");
    expect(notes).toContain("`https://evil.example/x`");
    expect(notes).not.toContain("<script");
    expect(notes).not.toMatch(/\bAB#42/);
    expect(notes).toContain("\\> quote");
    expect(notes).toContain("\\---");
  });

  it("a heading of the template cannot inject a placeholder either", () => {
    const merged = mergeRepoTemplate(OURS, "## ${title} <b>x</b>\ntext\n", options("append"));
    expect(headings(merged).at(-1)).toBe("&#36;{title} &lt;b>x&lt;/b>");
  });

  it("keeps the template within its budget and says when parts were left out", () => {
    const long = Array.from({ length: 20 }, (_, i) => `## Extra ${i}\n${"words ".repeat(30)}`).join("\n");
    const merged = mergeRepoTemplate(OURS, long, options("append", 600));
    const extras = headings(merged).filter((h) => h!.startsWith("Extra"));
    expect(extras.length).toBeGreaterThan(0);
    expect(extras.length).toBeLessThan(20);
    expect(merged).toContain("Parts of the repository's PR template were left out");
    expect(headings(merged).slice(0, 3)).toEqual(["Summary", "Changed Files", "Review Checklist"]);
  });

  it("the default body merged with a template that has none of our sections still passes the gate", () => {
    const facts = makeFacts();
    const template = mergeRepoTemplate(
      DEFAULT_TEMPLATE,
      "## What\n- [ ] I read CONTRIBUTING.md\n\n## Why\nExplain. See docs/STYLE.md\n",
      options("use"),
    );
    const plan = planPullRequest(facts, policy);
    const { pr } = assemblePullRequest(facts, draftDeterministically(facts, policy, plan), template, policy, plan);
    expect(headings(pr.description)).toEqual(expect.arrayContaining(["What", "Why", "Summary", "Changed Files"]));
    const quoted = ["## What\n- [ ] I read CONTRIBUTING.md\n\n## Why\nExplain. See docs/STYLE.md\n"];
    expect(runGate(pr.title, pr.description, facts, policy, quoted)).toEqual([]);
    // Without the template as quoted input, the files it names would be claims about the change.
    expect(runGate(pr.title, pr.description, facts, policy).map((v) => v.code)).toContain("unfaithful_path");
  });
});

describe("CODEOWNERS in the plan", () => {
  it("owners join the policy's reviewers; a name already listed becomes required if either says so", () => {
    const facts = makeFacts();
    const owners = codeOwnerReviewers(
      parseCodeOwners("* @techleadagent\n/src/ @acme/orders\n"),
      facts.changes.files,
      false,
    );
    const plan = planPullRequest(facts, policy, undefined, [...owners, { name: "QAAssistantAgent", required: true }]);
    expect(plan.reviewers).toEqual([
      { name: "TechLeadAgent", required: true },
      { name: "QAAssistantAgent", required: true },
      { name: "acme/orders", required: false },
    ]);
  });
});
