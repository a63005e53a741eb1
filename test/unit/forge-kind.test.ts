import { describe, expect, it } from "vitest";
import { resolveForgeKind } from "../../src/forges/create-forge.js";
import { makePolicy } from "./builders.js";

describe("resolveForgeKind", () => {
  const policy = makePolicy();

  it("takes PR_CREATOR_FORGE over the config", () => {
    expect(resolveForgeKind(policy, { PR_CREATOR_FORGE: "github" })).toBe("github");
    expect(resolveForgeKind(policy, {})).toBe("dry-run");
  });

  it("never echoes a token pasted into PR_CREATOR_FORGE, and escapes what it shows", () => {
    const token = "ghp_pastedIntoTheWrongVariable";
    expect(() => resolveForgeKind(policy, { PR_CREATOR_FORGE: token, GITHUB_TOKEN: token })).toThrow(
      /^PR_CREATOR_FORGE holds the value of a configured secret \(not shown\); expected one of/,
    );
    expect(() => resolveForgeKind(policy, { PR_CREATOR_FORGE: "git\u001bhub" })).toThrow(/"git\\x1bhub"/);
  });
});
