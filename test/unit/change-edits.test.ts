import { describe, expect, it } from "vitest";
import {
  applyEdits,
  changeBranch,
  changeSetFromEdits,
  changeTrace,
  changeTraceId,
} from "../../src/changes/apply-edits.js";
import { editYaml, splitKeyPath } from "../../src/changes/yaml-edit.js";
import { ChangeRequestedSchema, type ChangeRequested } from "../../src/domain/events.js";
import { PrCreatorError } from "../../src/domain/errors.js";
import { commit, makePolicy } from "./builders.js";

const PVC = `# Orders data volume — sized by the SRE team
apiVersion: v1
kind: PersistentVolumeClaim
metadata:
  name: orders-data   # keep in sync with the StatefulSet
  namespace: orders
spec:
  accessModes: [ReadWriteOnce]
  resources:
    requests:
      storage: "10Gi" # grown by hand in 2025
---
# the service
kind: Service
metadata: {name: orders}
`;

function request(overrides: Partial<ChangeRequested> = {}): ChangeRequested {
  return ChangeRequestedSchema.parse({
    event: "ChangeRequested",
    change_id: "4711",
    issue_id: "BVL-232",
    change_type: "pvc-size",
    repo: "gitops",
    base_branch: "main",
    summary: "increase orders-data PVC to 20Gi",
    edits: [
      {
        path: "apps/orders/pvc.yaml",
        set: { "spec.resources.requests.storage": "20Gi" },
        document: { kind: "PersistentVolumeClaim" },
      },
    ],
    context: {
      alert: "PersistentVolumeFillingUp",
      remediation: "Increase PVC size",
      impact: "Single namespace (orders)",
      namespace: "orders",
    },
    agent: "agent-sre",
    timestamp: "2026-01-08T10:00:00Z",
    ...overrides,
  });
}

describe("editYaml", () => {
  it("changes only the value: comments, quoting, layout and the other documents stay byte for byte", () => {
    const out = editYaml(PVC, { "spec.resources.requests.storage": "20Gi" }, { kind: "PersistentVolumeClaim" });
    expect(out).toBe(PVC.replace('storage: "10Gi"', 'storage: "20Gi"'));
  });

  it("selects a document by index or by kind and name", () => {
    expect(editYaml(PVC, { "metadata.name": "orders-v2" }, 1)).toContain("metadata: {name: orders-v2}");
    expect(editYaml(PVC, { "metadata.namespace": "orders-2" }, { name: "orders-data" })).toContain(
      "  namespace: orders-2\n",
    );
  });

  it("adds a new key under an existing mapping, keeping the comments elsewhere", () => {
    const out = editYaml(PVC, { "spec.resources.limits": { storage: "30Gi" } }, 0);
    expect(out).toContain("    limits:\n      storage: 30Gi\n");
    expect(out).toContain("# grown by hand in 2025");
    expect(out).toContain("# keep in sync with the StatefulSet");
    expect(out.endsWith("kind: Service\nmetadata: {name: orders}\n")).toBe(true);
  });

  it("refuses a key whose parent does not exist (a typo), naming it", () => {
    expect(() => editYaml(PVC, { "spec.resource.requests.storage": "20Gi" }, 0)).toThrow(
      '"spec.resource.requests" is not a mapping or list in the file',
    );
  });

  it("asks which document when a multi-document file gets no selector, listing them", () => {
    expect(() => editYaml(PVC, { "metadata.name": "x" })).toThrow(
      /the file has 2 YAML documents \(document 0 \(PersistentVolumeClaim orders-data\), document 1 \(Service orders\)\)/,
    );
    expect(() => editYaml(PVC, { "metadata.name": "x" }, { kind: "Deployment" })).toThrow(/no YAML documents match/);
    expect(() => editYaml(PVC, { "metadata.name": "x" }, 5)).toThrow("document 5 does not exist (the file has 2)");
  });

  it("refuses a file that is not valid YAML", () => {
    expect(() => editYaml("a: [1, 2\nb: c\n", { a: 1 })).toThrow(/not valid YAML/);
  });

  it("splits key paths on dots, with \\. for a literal dot and numbers as list indexes", () => {
    expect(splitKeyPath("spec.containers.0.image")).toEqual(["spec", "containers", 0, "image"]);
    expect(splitKeyPath("metadata.annotations.example\\.com/owner")).toEqual([
      "metadata",
      "annotations",
      "example.com/owner",
    ]);
    expect(() => splitKeyPath("a..b")).toThrow("empty part");
  });
});

describe("applyEdits and the change set", () => {
  it("applies set, content and delete edits and counts the changed lines exactly", () => {
    const edited = applyEdits(
      [
        { path: "apps/orders/pvc.yaml", set: { "spec.resources.requests.storage": "20Gi" }, document: 0 },
        { path: "apps/orders/NOTES.md", content: "grown\n" },
        { path: "apps/orders/old.yaml", delete: true },
      ],
      new Map([
        ["apps/orders/pvc.yaml", PVC],
        ["apps/orders/old.yaml", "a: 1\nb: 2\n"],
      ]),
    );
    const set = changeSetFromEdits(edited, commit("fix(orders): grow the volume"));
    expect(set.files).toEqual([
      { path: "apps/orders/pvc.yaml", change: "modified", additions: 1, deletions: 1, binary: false },
      { path: "apps/orders/NOTES.md", change: "added", additions: 1, deletions: 0, binary: false },
      { path: "apps/orders/old.yaml", change: "deleted", additions: 0, deletions: 2, binary: false },
    ]);
    expect([set.additions, set.deletions, set.line_counts]).toEqual([2, 3, "exact"]);
  });

  it("fails with edit_not_applicable, naming the file, for edits the base cannot take", () => {
    const reason = (fn: () => unknown) => {
      try {
        fn();
      } catch (error) {
        return error instanceof PrCreatorError ? [error.reason, error.message] : [String(error)];
      }
      return ["no error"];
    };
    expect(reason(() => applyEdits([{ path: "a.yaml", set: { x: 1 } }], new Map()))).toEqual([
      "edit_not_applicable",
      expect.stringContaining("a.yaml cannot be applied: the file does not exist on the base branch"),
    ]);
    expect(reason(() => applyEdits([{ path: "a.json", set: { x: 1 } }], new Map([["a.json", "{}"]])))).toEqual([
      "edit_not_applicable",
      expect.stringContaining('"set" edits YAML files only'),
    ]);
    expect(reason(() => applyEdits([{ path: "gone.yaml", delete: true }], new Map()))).toEqual([
      "edit_not_applicable",
      expect.stringContaining("cannot be deleted"),
    ]);
  });
});

describe("ChangeRequested", () => {
  it("names the seed's branch agent-sre/<type>-<id> and a trace from the request", () => {
    const cr = request();
    expect(changeBranch(cr, makePolicy())).toBe("agent-sre/pvc-size-4711");
    expect(changeBranch(request({ change_id: undefined }), makePolicy())).toBe("agent-sre/pvc-size-BVL-232");
    expect(changeTraceId(cr)).toBe("trace-pvc-size-4711");
    expect(changeTrace(cr)).toMatchObject({
      trace_id: "trace-pvc-size-4711",
      blueprint_id: "change-request/pvc-size",
      component_scope: "orders",
      linked_files: ["apps/orders/pvc.yaml"],
    });
  });

  it("without a namespace, the scope is the innermost folder every edit shares", () => {
    const ctx = { alert: "a", remediation: "r", impact: "i" };
    const edits = (...paths: string[]) => paths.map((path) => ({ path, content: "x: 1\n" }));
    expect(changeTrace(request({ context: ctx, edits: edits("apps/payments/pvc.yaml") })).component_scope).toBe(
      "payments",
    );
    expect(
      changeTrace(request({ context: ctx, edits: edits("apps/a/pvc.yaml", "apps/b/pvc.yaml") })).component_scope,
    ).toBe("apps");
    expect(changeTrace(request({ context: ctx, edits: edits("pvc.yaml", "apps/b/pvc.yaml") })).component_scope).toBe(
      "infrastructure",
    );
    expect(
      changeTrace(request({ context: ctx, component_scope: "Storage", edits: edits("pvc.yaml") })).component_scope,
    ).toBe("Storage");
  });

  it("rejects bad requests precisely", () => {
    const issues = (input: Record<string, unknown>) => {
      const r = ChangeRequestedSchema.safeParse({ ...request(), ...input });
      return r.success ? [] : r.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`);
    };
    expect(issues({ change_id: undefined, issue_id: undefined })).toEqual([
      "change_id: give change_id or issue_id (it names the branch)",
    ]);
    expect(issues({ change_type: "PVC Size" })).toEqual([
      "change_type: change_type must be lower-case words joined by - (e.g. pvc-size)",
    ]);
    expect(issues({ change_id: "a b" })[0]).toMatch(/^change_id: must be 1 to 64 letters/);
    expect(issues({ edits: [] })).toEqual(["edits: edits must list at least one file edit"]);
    expect(
      issues({
        edits: [
          { path: "a", content: "x" },
          { path: "a", delete: true },
        ],
      }),
    ).toEqual(["edits: each path may appear in edits only once"]);
  });
});
