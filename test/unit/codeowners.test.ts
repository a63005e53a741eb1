/**
 * CODEOWNERS parsing and matching as GitHub documents it: gitignore-style patterns, last match wins, a rule
 * without owners unowns its paths, invalid lines skipped and reported.
 */
import { describe, expect, it } from "vitest";
import { codeOwnerReviewers, ownersOf, parseCodeOwners } from "../../src/policy/codeowners.js";

/** GitHub's own example file (docs: "Example of a CODEOWNERS file"), abridged. */
const GITHUB_EXAMPLE = `# This is a comment.
*       @global-owner1 @global-owner2

# Order is important; the last matching pattern takes the most precedence.
*.js    @js-owner #This is an inline comment.

*.go docs@example.com

# Teams can be specified as code owners as well.
*.txt @octo-org/octocats

/build/logs/ @doctocat

docs/*  docs@example.com

apps/ @octocat

/docs/ @doctocat

/scripts/ @doctocat @octocat

**/logs @octocat

/apps/ @octocat
/apps/github @doctocat

/apps/ @octocat
/apps/github
`;

describe("CODEOWNERS matching", () => {
  const co = parseCodeOwners(GITHUB_EXAMPLE);
  const owners = (path: string) => ownersOf(co, path);

  it("parses every rule of GitHub's example, inline comments dropped", () => {
    expect(co.problems).toEqual([]);
    expect(co.rules.find((r) => r.pattern === "*.js")?.owners).toEqual(["@js-owner"]);
  });

  it("the last matching rule wins; * is the default", () => {
    expect(owners("README.md")).toEqual(["@global-owner1", "@global-owner2"]);
    expect(owners("src/deep/app.js")).toEqual(["@js-owner"]);
    expect(owners("cmd/main.go")).toEqual(["docs@example.com"]);
    expect(owners("notes/todo.txt")).toEqual(["@octo-org/octocats"]);
  });

  it("a leading or inner slash anchors at the root; a trailing slash means a folder's contents at any depth otherwise", () => {
    expect(owners("build/logs/today.log")).toEqual(["@octocat"]); // **/logs comes later than /build/logs/
    expect(owners("scripts/deploy.sh")).toEqual(["@doctocat", "@octocat"]);
    expect(owners("tools/scripts/deploy.sh")).toEqual(["@global-owner1", "@global-owner2"]);
    expect(owners("services/apps/web/index.html")).toEqual(["@octocat"]);
  });

  it("docs/* owns the files directly in docs/, not deeper (then /docs/ takes all of docs/)", () => {
    const only = parseCodeOwners("* @all\ndocs/* docs@example.com\n");
    expect(ownersOf(only, "docs/getting-started.md")).toEqual(["docs@example.com"]);
    expect(ownersOf(only, "docs/build-app/troubleshooting.md")).toEqual(["@all"]);
    expect(owners("docs/build-app/troubleshooting.md")).toEqual(["@doctocat"]);
  });

  it("**/logs owns every logs folder at any depth", () => {
    expect(owners("deeply/nested/logs/x.log")).toEqual(["@octocat"]);
    expect(owners("logs/x.log")).toEqual(["@octocat"]);
  });

  it("a rule without owners leaves its paths unowned; a folder pattern owns what is under it", () => {
    expect(owners("apps/github/main.rb")).toEqual([]);
    expect(owners("apps/web/main.rb")).toEqual(["@octocat"]);
  });

  it("matches dotfiles, and is case-sensitive as GitHub is", () => {
    const co2 = parseCodeOwners("/.github/ @infra\n/Src/ @upper\n");
    expect(ownersOf(co2, ".github/workflows/ci.yml")).toEqual(["@infra"]);
    expect(ownersOf(co2, "src/a.ts")).toEqual([]);
  });

  it("skips and reports lines GitHub does not accept: negation, ranges, owners that are not @user, @org/team or e-mail", () => {
    const bad = parseCodeOwners("!*.md @a\n*.[ch] @b\n*.ts owner-without-at\n*.py @ok\n");
    expect(bad.problems).toEqual([
      "line 1: negation (!) is not supported in CODEOWNERS",
      "line 2: character ranges ([ ]) are not supported in CODEOWNERS",
      "line 3: an owner is not @user, @org/team or an e-mail",
    ]);
    expect(bad.rules.map((r) => r.pattern)).toEqual(["*.py"]);
  });

  it("an escaped space is part of the pattern", () => {
    const spaced = parseCodeOwners("/My\\ Docs/ @writer\n");
    expect(ownersOf(spaced, "My Docs/a.md")).toEqual(["@writer"]);
  });
});

describe("codeOwnerReviewers", () => {
  it("gives the owners of every changed path (and a rename's old path) once, in order, as reviewer names", () => {
    const co = parseCodeOwners("* @lead\n/src/Billing/ @acme/billing pay@acme.example\n/src/Order/ @Order-Dev\n");
    const reviewers = codeOwnerReviewers(
      co,
      [
        { path: "src/Order/Handler.cs" },
        { path: "src/Shared/Money.cs", old_path: "src/Billing/Money.cs" },
        { path: "src/Order/Other.cs" },
      ],
      true,
    );
    expect(reviewers).toEqual([
      { name: "Order-Dev", required: true },
      { name: "lead", required: true },
      { name: "acme/billing", required: true },
      { name: "pay@acme.example", required: true },
    ]);
    expect(codeOwnerReviewers(co, [{ path: "README.md" }], false)).toEqual([{ name: "lead", required: false }]);
  });
});
