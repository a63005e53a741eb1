/**
 * Every operation a forge names in its calls has a row in that forge's permission table, so a 401 or 403 on it
 * names what the token needs, not only the general list. A new call without a row fails here.
 */
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { AZURE_SCOPES } from "../../src/forges/azure-devops/errors.js";
import { GITHUB_PERMISSIONS } from "../../src/forges/github/errors.js";

/** The operation texts passed to call/find/failure/graphql (or kept in `operation`) in a folder, `${…}` as "x". */
function operations(folder: string): string[] {
  const dir = path.join("src", "forges", folder);
  const found = new Set<string>();
  for (const file of readdirSync(dir).filter((f) => f.endsWith(".ts"))) {
    const text = readFileSync(path.join(dir, file), "utf8");
    for (const m of text.matchAll(
      /\b(?:call|find|failure|graphql|const operation =)(?:<[^>(]*>)?\(?\s*(["`])((?:(?!\1)[\s\S])*?)\1/g,
    ))
      found.add(m[2]!.replace(/\$\{[^}]*\}/g, "x"));
  }
  return [...found].sort();
}

describe("permission tables", () => {
  it("GitHub: every operation has a row", () => {
    const ops = operations("github");
    expect(ops.length).toBeGreaterThan(15);
    expect(ops.filter((op) => !GITHUB_PERMISSIONS.some(([pattern]) => pattern.test(op)))).toEqual([]);
  });

  it("Azure DevOps: every operation has a row", () => {
    const ops = operations("azure-devops");
    expect(ops.length).toBeGreaterThan(15);
    expect(ops.filter((op) => !AZURE_SCOPES.some(([pattern]) => pattern.test(op)))).toEqual([]);
  });
});
