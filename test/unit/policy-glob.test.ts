/** Compiled globs are reused across runs (src/policy/glob.ts), match as picomatch with dot files, and stay bounded. */
import { describe, expect, it } from "vitest";
import { globMatcher } from "../../src/policy/glob.js";

describe("globMatcher", () => {
  it("matches like picomatch with dot files, for one glob or a list", () => {
    expect(globMatcher("docs/**")("docs/.vuepress/config.md")).toBe(true);
    expect(globMatcher(["**/*.md", "docs/**"])("src/a.ts")).toBe(false);
    expect(globMatcher(["**/*.md", "docs/**"])(".github/README.md")).toBe(true);
  });

  it("compiles a glob list once and hands the same matcher to every caller", () => {
    const first = globMatcher(["src/**/*.ts", "lib/**"]);
    expect(globMatcher(["src/**/*.ts", "lib/**"])).toBe(first);
    expect(globMatcher(["lib/**", "src/**/*.ts"])).not.toBe(first);
    expect(globMatcher("src/**/*.ts")).not.toBe(first);
  });

  it("drops the oldest compile once 512 lists are kept", () => {
    const oldest = globMatcher(["bounded/0/**"]);
    for (let i = 1; i <= 600; i++) globMatcher([`bounded/${i}/**`]);
    expect(globMatcher(["bounded/0/**"])).not.toBe(oldest);
    expect(globMatcher(["bounded/600/**"])).toBe(globMatcher(["bounded/600/**"]));
  });
});
