import { describe, expect, it } from "vitest";
import { checkTrace, type TraceCheckInput } from "../../src/policy/trace-check.js";
import { SEED_HANDLER, SEED_SUBJECT, SEED_TESTS, makePolicy, seedTrace } from "./builders.js";

const policy = makePolicy();

function input(overrides: Partial<TraceCheckInput> = {}): TraceCheckInput {
  return {
    trace_id: "trace-ord-8128",
    blueprint_id: "usecase-create-order",
    record: seedTrace(),
    record_source: "the trace registry traces.yaml",
    changed_files: [SEED_HANDLER, SEED_TESTS],
    commit_messages: [SEED_SUBJECT],
    ...overrides,
  };
}

describe("checkTrace", () => {
  it("the seed's change is traceable", () => {
    expect(checkTrace(input(), policy)).toEqual({ status: "traceable", violations: [], outside_files: [] });
  });

  it("the blueprint may be left out of the event", () => {
    expect(checkTrace(input({ blueprint_id: undefined }), policy).status).toBe("traceable");
  });

  it("an unknown trace is missing_trace, naming where it was looked up", () => {
    expect(checkTrace(input({ record: undefined }), policy)).toEqual({
      status: "missing_trace",
      violations: [
        {
          code: "trace_unknown",
          where: "trace",
          message: 'trace id "trace-ord-8128" is not in the trace registry traces.yaml',
        },
      ],
      outside_files: [],
    });
  });

  it("a blueprint that is not the trace's is a violation", () => {
    expect(checkTrace(input({ blueprint_id: "usecase-cancel-order" }), policy)).toEqual({
      status: "trace_violation",
      violations: [
        {
          code: "trace_blueprint_mismatch",
          where: "trace",
          message:
            'the event names blueprint "usecase-cancel-order" but trace trace-ord-8128 belongs to blueprint "usecase-create-order"',
        },
      ],
      outside_files: [],
    });
  });

  it("a record for another trace id is a violation", () => {
    const result = checkTrace(
      input({ trace_id: "trace-ord-9000", commit_messages: ["feat(order): x [trace:ord-9000]"] }),
      policy,
    );
    expect(result.status).toBe("trace_violation");
    expect(result.violations).toEqual([
      {
        code: "trace_id_mismatch",
        where: "trace",
        message: 'the event\'s trace metadata is for "trace-ord-8128" but the event\'s trace_id is "trace-ord-9000"',
      },
    ]);
  });

  it("a commit tagged [trace:xyz-1] contradicts the trace", () => {
    const result = checkTrace(input({ commit_messages: [SEED_SUBJECT, "fix(order): tweak [trace:xyz-1]"] }), policy);
    expect(result.status).toBe("trace_violation");
    expect(result.violations).toEqual([
      {
        code: "trace_commit_mismatch",
        where: "commit",
        message: "the commits reference another trace ([trace:xyz-1]) than trace-ord-8128",
      },
    ]);
  });

  it("a commit naming trace-xyz-1 contradicts the trace", () => {
    const result = checkTrace(
      input({ commit_messages: ["feat(order): implement handler\n\nPart of trace-xyz-1."] }),
      policy,
    );
    expect(result.violations).toEqual([
      {
        code: "trace_commit_mismatch",
        where: "commit",
        message: "the commits reference another trace (trace-xyz-1) than trace-ord-8128",
      },
    ]);
  });

  it("lists each foreign reference once across commits", () => {
    const result = checkTrace(
      input({ commit_messages: ["a [trace:xyz-1] trace-abc-2", "b [trace:xyz-1]", "c trace-abc-2"] }),
      policy,
    );
    expect(result.violations.map((v) => v.message)).toEqual([
      "the commits reference another trace ([trace:xyz-1], trace-abc-2) than trace-ord-8128",
    ]);
  });

  it("the trace's own tag and id, in either form, are fine", () => {
    const messages = [
      "feat(order): x [trace:ord-8128]",
      "fix(order): y [trace:trace-ord-8128]",
      "see trace-ord-8128.",
      "no tag at all",
    ];
    expect(checkTrace(input({ commit_messages: messages }), policy).violations).toEqual([]);
  });

  it("trace words inside other words are not references", () => {
    expect(
      checkTrace(input({ commit_messages: ["feat(order): add stacktrace-ord-1 helper", "retrace-x1"] }), policy)
        .violations,
    ).toEqual([]);
  });

  it("files outside the component scope are a violation and are returned", () => {
    const result = checkTrace(input({ changed_files: [SEED_HANDLER, "src/Billing/Invoice.cs"] }), policy);
    expect(result).toEqual({
      status: "trace_violation",
      violations: [
        {
          code: "trace_files_outside_scope",
          where: "commit",
          message: "1 changed file is outside component scope Order: src/Billing/Invoice.cs",
        },
      ],
      outside_files: ["src/Billing/Invoice.cs"],
    });
  });

  it("docs, scope paths and name matches are not outside", () => {
    const record = seedTrace({ scope_paths: ["src/Shared/**"] });
    const result = checkTrace(
      input({ record, changed_files: ["README.md", "src/Shared/Money.cs", "src/Domain/Order.cs", SEED_HANDLER] }),
      policy,
    );
    expect(result).toEqual({ status: "traceable", violations: [], outside_files: [] });
  });

  it("lists the first 10 outside files and counts the rest", () => {
    const outside = Array.from({ length: 13 }, (_, i) => `src/Billing/F${i + 1}.cs`);
    const result = checkTrace(input({ changed_files: [SEED_HANDLER, ...outside] }), policy);
    expect(result.outside_files).toEqual(outside);
    expect(result.violations).toEqual([
      {
        code: "trace_files_outside_scope",
        where: "commit",
        message: `13 changed files are outside component scope Order: ${outside.slice(0, 10).join(", ")} and 3 more`,
      },
    ]);
  });

  it("exactly 10 outside files are all listed", () => {
    const outside = Array.from({ length: 10 }, (_, i) => `lib/F${i}.cs`);
    const [violation] = checkTrace(input({ changed_files: outside }), policy).violations;
    expect(violation!.message).toBe(`10 changed files are outside component scope Order: ${outside.join(", ")}`);
  });

  it("reports every kind of violation together, in order", () => {
    const result = checkTrace(
      input({
        trace_id: "trace-ord-1",
        blueprint_id: "bp-x",
        commit_messages: ["x [trace:zzz-9]"],
        changed_files: ["lib/Other.cs"],
      }),
      policy,
    );
    expect(result.status).toBe("trace_violation");
    expect(result.violations.map((v) => v.code)).toEqual([
      "trace_id_mismatch",
      "trace_blueprint_mismatch",
      "trace_commit_mismatch",
      "trace_files_outside_scope",
    ]);
  });

  it("uses the policy's trace id prefix to recognise the trace's own tag", () => {
    const p = makePolicy({ title: { trace_id_prefix: "" } });
    expect(checkTrace(input({ commit_messages: ["x [trace:ord-8128]"] }), p).violations.map((v) => v.message)).toEqual([
      "the commits reference another trace ([trace:ord-8128]) than trace-ord-8128",
    ]);
    expect(checkTrace(input({ commit_messages: ["x [trace:trace-ord-8128]"] }), p).violations).toEqual([]);
  });
});
