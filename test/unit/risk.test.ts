import { describe, expect, it } from "vitest";
import { planMerge } from "../../src/policy/merge-plan.js";
import { assessRisk, conventionalType } from "../../src/policy/risk.js";
import { file, makePolicy } from "./builders.js";

const policy = makePolicy();
const yaml = [file("apps/orders/pvc.yaml", "modified", { additions: 1, deletions: 1 })];

describe("assessRisk: the seed's change types", () => {
  it.each([
    ["pvc-size", "low"],
    ["resource-limits", "low"],
    ["replica-count", "low"],
    ["network-policy", "medium"],
    ["service-account", "medium"],
    ["cluster-config", "high"],
    ["security-policy", "high"],
  ] as const)("%s is %s", (change_type, level) => {
    expect(assessRisk({ change_type, files: yaml, lines: 2 }, policy)).toEqual({
      level,
      reasons: [`change type ${change_type} is ${level} risk`],
    });
  });

  it("an unknown change type is medium, and says why", () => {
    expect(assessRisk({ change_type: "dns-record", files: yaml, lines: 2 }, policy)).toEqual({
      level: "medium",
      reasons: ["change type dns-record is not in the policy's table, so it is medium risk"],
    });
  });

  it("the policy adds and overrides change types, keeping the rest of the seed's table", () => {
    const p = makePolicy({
      risk: { change_types: { "pvc-size": "medium", "dns-record": "low" }, unknown_change_type: "high" },
    });
    expect(assessRisk({ change_type: "pvc-size", files: yaml, lines: 2 }, p).level).toBe("medium");
    expect(assessRisk({ change_type: "dns-record", files: yaml, lines: 2 }, p).level).toBe("low");
    expect(assessRisk({ change_type: "cluster-config", files: yaml, lines: 2 }, p).level).toBe("high");
    expect(assessRisk({ change_type: "other", files: yaml, lines: 2 }, p).level).toBe("high");
  });
});

describe("assessRisk: commits, paths and size", () => {
  it("reads the conventional type from a commit subject", () => {
    expect(conventionalType("fix(order)!: handle nulls")).toBe("fix");
    expect(conventionalType("docs: readme")).toBe("docs");
    expect(conventionalType("Update README")).toBeNull();
    expect(conventionalType("feat(order) missing colon")).toBeNull();
  });

  it("judges commit PRs by their conventional type; none at all is the unknown level", () => {
    expect(assessRisk({ commit_type: "docs", files: yaml, lines: 2 }, policy).level).toBe("low");
    expect(assessRisk({ commit_type: "feat", files: yaml, lines: 2 }, policy).level).toBe("medium");
    expect(assessRisk({ commit_type: null, files: yaml, lines: 2 }, policy)).toEqual({
      level: "medium",
      reasons: ["the commit has no conventional type, so it is medium risk"],
    });
  });

  it("a path rule raises the level, naming the file, the glob and the reason; the highest level wins", () => {
    const p = makePolicy({
      risk: {
        paths: [
          { glob: "clusters/**", level: "high", reason: "cluster-wide" },
          { glob: "**/*.md", level: "low" },
        ],
      },
    });
    const files = [
      file("clusters/prod/kustomization.yaml", "modified"),
      file("docs/a.md", "modified"),
      file("clusters/prod/b.yaml"),
    ];
    const risk = assessRisk({ change_type: "pvc-size", files, lines: 3 }, p);
    expect(risk.level).toBe("high");
    expect(risk.reasons).toEqual([
      "change type pvc-size is low risk",
      "clusters/prod/kustomization.yaml and 1 more matches clusters/** (cluster-wide): high risk",
      "docs/a.md matches **/*.md: low risk",
    ]);
  });

  it("a rename matches by its old path too", () => {
    const p = makePolicy({ risk: { paths: [{ glob: "secrets/**", level: "high" }] } });
    expect(
      assessRisk(
        {
          change_type: "pvc-size",
          files: [file("public/x.yaml", "renamed", { old_path: "secrets/x.yaml" })],
          lines: 0,
        },
        p,
      ).level,
    ).toBe("high");
  });

  it("size thresholds are strict 'more than' limits, for lines and files", () => {
    const at = (lines: number, n = 1) =>
      assessRisk(
        { change_type: "pvc-size", files: Array.from({ length: n }, (_, i) => file(`f${i}.yaml`)), lines },
        policy,
      ).level;
    expect(at(200)).toBe("low");
    expect(at(201)).toBe("medium");
    expect(at(1000)).toBe("medium");
    expect(at(1001)).toBe("high");
    expect(at(0, 20)).toBe("low");
    expect(at(0, 21)).toBe("medium");
    expect(at(0, 101)).toBe("high");
  });

  it("skips line thresholds when the forge gives no line counts", () => {
    expect(assessRisk({ change_type: "pvc-size", files: yaml, lines: null }, policy)).toEqual({
      level: "low",
      reasons: ["change type pvc-size is low risk"],
    });
  });
});

describe("planMerge", () => {
  const reviewers = [
    { name: "TechLeadAgent", required: true },
    { name: "Helper", required: false },
  ];
  const base = { reviewers, labels: ["traceable"], ready: true };
  const low = { level: "low" as const, reasons: [] };
  const medium = { level: "medium" as const, reasons: [] };
  const high = { level: "high" as const, reasons: [] };

  it("low-risk change requests auto-merge; reviewers are told but not required (they would hold the merge)", () => {
    const plan = planMerge(low, "change", base, policy);
    expect(plan.auto_merge).toBe(true);
    expect(plan.requires).toBe("none");
    expect(plan.reviewers.every((r) => !r.required)).toBe(true);
    expect(plan.decision).toMatch(/merges itself \(squash\) once every CI check passes/);
  });

  it("commit PRs do not auto-merge unless merge.commits is on", () => {
    expect(planMerge(low, "commit", base, policy).auto_merge).toBe(false);
    expect(planMerge(low, "commit", base, makePolicy({ merge: { commits: true } })).auto_merge).toBe(true);
  });

  it("medium needs a review: optional reviewers stay optional, and someone is always required", () => {
    const plan = planMerge(medium, "change", base, policy);
    expect(plan).toMatchObject({ auto_merge: false, requires: "review" });
    expect(plan.reviewers).toEqual(reviewers);
    const none = planMerge(medium, "change", { ...base, reviewers: [{ name: "Helper", required: false }] }, policy);
    expect(none.reviewers).toEqual([{ name: "Helper", required: true }]);
  });

  it("high needs the senior group as required reviewers and the approval label, and never auto-merges", () => {
    const p = makePolicy({
      merge: { senior_reviewers: ["SRE Leads", "helper"], auto_merge_levels: ["low", "medium"] },
    });
    const plan = planMerge(high, "change", base, p);
    expect(plan.auto_merge).toBe(false);
    expect(plan.requires).toBe("senior_approval");
    expect(plan.reviewers).toEqual([
      { name: "TechLeadAgent", required: true },
      { name: "Helper", required: true },
      { name: "SRE Leads", required: true },
    ]);
    expect(plan.labels).toEqual(["traceable", "requires-approval"]);
    expect(plan.decision).toBe("High risk: needs approval from SRE Leads, helper; never merged automatically.");
  });

  it("a draft or an incomplete checklist never auto-merges", () => {
    expect(planMerge(low, "change", { ...base, ready: false }, policy)).toMatchObject({
      auto_merge: false,
      requires: "review",
    });
  });

  it("high risk can never be configured to auto-merge", () => {
    expect(() => makePolicy({ merge: { auto_merge_levels: ["high"] } })).toThrow();
  });
});
