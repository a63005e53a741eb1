import { emptyCheckpoint } from "@langchain/langgraph";
import Database from "better-sqlite3";
import { Command } from "commander";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { openCheckpoints } from "../../src/agent/checkpoints.js";
import { registerReportCommand, reportCommand, parseSince } from "../../src/cli/report-command.js";
import { PrCreatorError } from "../../src/domain/errors.js";
import { createSqliteStore } from "../../src/memory/sqlite-store.js";
import { openHistory, openHistoryOn, type HistoryEntryInput } from "../../src/metrics/history.js";
import type { Report } from "../../src/metrics/report.js";
import { rejection } from "../helpers.js";
import { record, TEST_EMBEDDER } from "../memory/contract.js";

const dir = mkdtempSync(path.join(os.tmpdir(), "pr-creator-history-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let count = 0;
/** A state file in a folder that does not exist yet, so opening also creates the folder. */
const newFile = () => path.join(dir, `case-${++count}`, "nested", "state.db");

function generation(o: Partial<Extract<HistoryEntryInput, { kind: "generation" }>> = {}): HistoryEntryInput {
  return {
    kind: "generation",
    at: "2026-01-08T09:00:00.000Z",
    repo: "OrderService",
    trace_id: "trace-ord-8128",
    pr_id: "101",
    status: "created",
    reason: null,
    risk: "low",
    duration_ms: 4200,
    compliant: true,
    drafted_by: "model",
    ...o,
  };
}

const tables = (file: string): string[] => {
  const db = new Database(file, { readonly: true });
  try {
    return db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").pluck().all() as string[];
  } finally {
    db.close();
  }
};

describe("openHistory on a state file", () => {
  it("stores every kind of entry and lists them oldest first, `at` in UTC", async () => {
    const history = openHistory(newFile());
    const entries: HistoryEntryInput[] = [
      {
        kind: "merge",
        at: new Date("2026-01-08T09:20:00Z"),
        repo: "OrderService",
        trace_id: "trace-ord-8128",
        pr_id: "101",
        risk: "low",
        auto: true,
        result: "merged",
        after_ci_ms: 9000,
        reason: null,
      },
      generation({ at: "2026-01-08T10:00:00+01:00" }),
      {
        kind: "ci",
        at: "2026-01-08T09:10:00Z",
        repo: "OrderService",
        trace_id: "trace-ord-8128",
        pr_id: "101",
        result: "failed",
        duration_ms: 120_000,
        failed_checks: ["build", "lint"],
      },
      {
        kind: "rollback",
        at: "2026-01-08T09:30:00.000Z",
        repo: "OrderService",
        trace_id: "trace-ord-8128",
        pr_id: "101",
        revert_pr_id: null,
        result: "failed",
        reason: "revert conflicts",
      },
    ];
    for (const e of entries) await history.append(e);
    const listed = await history.list();
    expect(listed.map((e) => [e.kind, e.at])).toEqual([
      ["generation", "2026-01-08T09:00:00.000Z"],
      ["ci", "2026-01-08T09:10:00.000Z"],
      ["merge", "2026-01-08T09:20:00.000Z"],
      ["rollback", "2026-01-08T09:30:00.000Z"],
    ]);
    expect(listed[1]).toEqual({ ...entries[2], at: "2026-01-08T09:10:00.000Z" });
    expect(listed[3]).toEqual({ ...entries[3] });
    await history.close();
  });

  it("keeps the order of appends for entries at the same moment", async () => {
    const history = openHistory(newFile());
    for (const id of ["3", "1", "2"]) await history.append(generation({ pr_id: id }));
    expect((await history.list()).map((e) => e.pr_id)).toEqual(["3", "1", "2"]);
    await history.close();
  });

  it("filters by since (inclusive) and by repository", async () => {
    const history = openHistory(newFile());
    await history.append(generation({ at: "2026-01-01T00:00:00Z", pr_id: "1" }));
    await history.append(generation({ at: "2026-01-05T00:00:00Z", pr_id: "2" }));
    await history.append(generation({ at: "2026-01-06T00:00:00Z", pr_id: "3", repo: "Billing" }));
    await history.append(generation({ at: "2026-01-07T00:00:00Z", pr_id: "4" }));
    const ids = async (q: Parameters<typeof history.list>[0]) => (await history.list(q)).map((e) => e.pr_id);
    expect(await ids({ since: new Date("2026-01-05T00:00:00Z") })).toEqual(["2", "3", "4"]);
    expect(await ids({ since: new Date("2026-01-05T00:00:00.001Z") })).toEqual(["3", "4"]);
    expect(await ids({ repo: "OrderService" })).toEqual(["1", "2", "4"]);
    expect(await ids({ repo: "Billing", since: new Date("2026-01-06T00:00:01Z") })).toEqual([]);
    expect(await ids({ repo: "orderservice" })).toEqual([]);
    await expect(history.list({ since: new Date("nope") })).rejects.toThrow(RangeError);
    await history.close();
  });

  it("refuses an invalid entry, naming each bad field, and stores nothing", async () => {
    const history = openHistory(newFile());
    const bad = async (entry: unknown) => (await rejection(history.append(entry as HistoryEntryInput))).message;
    expect(await bad(generation({ status: "failed" }))).toMatch(
      /\(generation\) is invalid: reason: is required when status is failed/,
    );
    expect(await bad(generation({ reason: "internal_error" }))).toMatch(/reason: .*must be null otherwise/);
    expect(await bad(generation({ reason: "azure_devops_503", status: "failed", duration_ms: -1 }))).toMatch(
      /duration_ms: /,
    );
    expect(await bad(generation({ at: "2026-01-08T09:00:00" }))).toMatch(
      /^The PR history entry \(generation\) is invalid: at: /,
    );
    expect(await bad({ ...generation(), extra: 1 })).toMatch(/unknown key "extra"/);
    expect(await bad({ ...generation(), kind: "deploy" })).toMatch(/kind: /);
    expect(
      await bad({
        kind: "ci",
        at: new Date(),
        repo: "",
        trace_id: "t",
        pr_id: "1",
        result: "passed",
        duration_ms: 1,
        failed_checks: [],
      }),
    ).toMatch(/repo: .*result: expected one of "succeeded", "failed", got "passed"/);
    const error = await rejection(history.append({ kind: "merge" } as HistoryEntryInput));
    expect(error.reason).toBe("invalid_request");
    expect(await history.list()).toEqual([]);
    // A failed generation with its reason is fine.
    await history.append(
      generation({
        status: "failed",
        pr_id: null,
        reason: "azure_devops_503",
        compliant: false,
        drafted_by: null,
        risk: null,
      }),
    );
    expect(await history.list()).toHaveLength(1);
    await history.close();
  });

  it("keeps the entries when the file is closed and opened again", async () => {
    const file = newFile();
    const first = openHistory(file);
    await first.append(generation({ pr_id: "1" }));
    await first.close();
    await expect(first.list()).rejects.toThrow(/closed/);
    const again = openHistory(file);
    await again.append(generation({ pr_id: "2" }));
    expect((await again.list()).map((e) => e.pr_id)).toEqual(["1", "2"]);
    await again.close();
    expect(tables(file)).toEqual(expect.arrayContaining(["pr_history", "pr_history_schema_version"]));
  });

  it("shares the state file with the checkpoints and the memory, touching only its own tables", async () => {
    const file = newFile();
    const checkpoints = await openCheckpoints(file);
    const config = { configurable: { thread_id: "run-1", checkpoint_ns: "" } };
    const checkpoint = emptyCheckpoint();
    await checkpoints.saver.put(config, checkpoint, { source: "input", step: -1, parents: {} });
    const store = createSqliteStore(file);
    await store.init(TEST_EMBEDDER);
    await store.upsert(record(), [1, 0, 0, 0]);
    const before = tables(file);

    // All three connections open at once, each writing and reading.
    const history = openHistory(file);
    await history.append(generation());
    await checkpoints.saver.put(
      config,
      { ...emptyCheckpoint(), id: `${checkpoint.id}-2` },
      { source: "loop", step: 0, parents: {} },
    );
    await store.upsert(record({ title: "again" }), [0, 1, 0, 0]);
    await history.append(generation({ pr_id: "102" }));
    expect((await checkpoints.saver.getTuple(config))?.checkpoint.id).toBe(`${checkpoint.id}-2`);
    expect((await store.byTrace("trace-ord-8128"))[0]?.title).toBe("again");
    expect(await history.list()).toHaveLength(2);
    checkpoints.close();
    await store.close();
    await history.close();

    const added = tables(file).filter((t) => !before.includes(t));
    expect(added.sort()).toEqual(["pr_history", "pr_history_announcements", "pr_history_schema_version"]);
    const db = new Database(file, { readonly: true });
    expect(db.pragma("journal_mode", { simple: true })).toBe("wal");
    expect(db.pragma("user_version", { simple: true })).toBe(0);
    db.close();
  });

  it("works on a connection it is given and leaves closing it to the caller", async () => {
    const file = newFile();
    mkdirSync(path.dirname(file), { recursive: true });
    const db = new Database(file);
    const history = openHistoryOn({ db });
    await history.append(generation());
    await history.close();
    expect(db.open).toBe(true);
    expect(db.prepare("SELECT count(*) FROM pr_history").pluck().get()).toBe(1);
    db.close();
  });

  it("runs in memory", async () => {
    const history = openHistory(":memory:");
    await history.append(generation());
    expect(await history.list()).toHaveLength(1);
    await history.close();
  });

  it("says clearly when the file is not a database", async () => {
    const file = newFile();
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(file, "these are not the tables you are looking for\n".repeat(200));
    let error: unknown;
    try {
      openHistory(file);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(PrCreatorError);
    expect((error as PrCreatorError).reason).toBe("invalid_config");
    expect((error as PrCreatorError).message).toBe(
      `The file ${file} is not a valid state file (file is not a database); move it aside or point state_file elsewhere.`,
    );
  });

  it("says clearly when the file cannot be opened", () => {
    const folder = path.dirname(newFile());
    mkdirSync(folder, { recursive: true });
    expect(() => openHistory(folder)).toThrow(
      expect.objectContaining({
        reason: "invalid_config",
        message: expect.stringContaining(`The state file ${folder} cannot be opened for the PR history`),
      }),
    );
  });

  it("refuses a ledger newer than this pr-creator", async () => {
    const file = newFile();
    await openHistory(file).close();
    const db = new Database(file);
    db.prepare("INSERT INTO pr_history_schema_version (version, applied_at) VALUES (99, 'later')").run();
    db.close();
    expect(() => openHistory(file)).toThrow(
      expect.objectContaining({
        reason: "invalid_config",
        message: expect.stringMatching(/schema version 99, newer than this pr-creator knows \(2\)/),
      }),
    );
  });

  it("names a row that was edited into something invalid", async () => {
    const file = newFile();
    const history = openHistory(file);
    await history.append(generation());
    const db = new Database(file);
    db.prepare('UPDATE pr_history SET entry = \'{"kind":"generation"\'').run();
    db.close();
    const error = await rejection(history.list());
    expect(error.message).toMatch(/^Row 1 of pr_history in .* is not a valid entry \(not JSON: /);
    await history.close();
  });

  it("takes interleaved appends from two agents in one process", async () => {
    const file = newFile();
    const a = openHistory(file);
    const b = openHistory(file);
    await Promise.all(Array.from({ length: 200 }, (_, i) => (i % 2 ? a : b).append(generation({ pr_id: String(i) }))));
    const ids = (await a.list()).map((e) => Number(e.pr_id));
    expect(ids).toEqual(Array.from({ length: 200 }, (_, i) => i));
    await a.close();
    await b.close();
  });

  it("appends 10 000 entries and lists them quickly through the index on at", async () => {
    const file = newFile();
    const history = openHistory(file);
    const start = Date.parse("2026-01-01T00:00:00Z");
    const began = performance.now();
    for (let i = 0; i < 10_000; i++) {
      await history.append(
        generation({
          at: new Date(start + i * 60_000),
          pr_id: String(i),
          repo: i % 4 === 0 ? "Billing" : "OrderService",
        }),
      );
    }
    const appending = performance.now() - began;
    const listed = performance.now();
    const all = await history.list();
    const listing = performance.now() - listed;
    expect(all).toHaveLength(10_000);
    expect(all[9_999]?.pr_id).toBe("9999");
    expect(await history.list({ since: new Date(start + 9_000 * 60_000) })).toHaveLength(1_000);
    expect(await history.list({ repo: "Billing" })).toHaveLength(2_500);
    // Generous bounds for a slow CI machine: about 1 ms an append, a list well under a second.
    expect(appending).toBeLessThan(10_000);
    expect(listing).toBeLessThan(2_000);
    await history.close();

    const db = new Database(file, { readonly: true });
    const plan = (sql: string, ...args: unknown[]) =>
      (db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all(...args) as Array<{ detail: string }>)
        .map((r) => r.detail)
        .join("; ");
    expect(plan("SELECT id, entry FROM pr_history WHERE at_ms >= ? ORDER BY at_ms, id", 0)).toMatch(
      /USING INDEX pr_history_at/,
    );
    expect(
      plan("SELECT id, entry FROM pr_history WHERE repo = ? AND at_ms >= ? ORDER BY at_ms, id", "Billing", 0),
    ).toMatch(/USING INDEX pr_history_repo_at/);
    db.close();
  });
});

describe("pr-creator report", () => {
  const NOW = new Date("2026-01-08T12:00:00Z");

  /** A folder with a config naming its state file, and a ledger holding `entries`. */
  async function project(entries: HistoryEntryInput[]): Promise<string> {
    const root = path.dirname(newFile());
    mkdirSync(root, { recursive: true });
    writeFileSync(path.join(root, "pr-creator.yaml"), "state_file: data/state.db\n");
    const history = openHistory(path.join(root, "data", "state.db"));
    for (const e of entries) await history.append(e);
    await history.close();
    return root;
  }

  function io(cwd: string) {
    let out = "";
    return { io: { cwd, stdout: (t: string) => void (out += t) }, now: () => NOW, out: () => out };
  }

  const ledger: HistoryEntryInput[] = [
    generation({ at: "2025-12-01T00:00:00Z", status: "failed", pr_id: null, reason: "internal_error" }),
    generation({ at: "2026-01-07T00:00:00Z", pr_id: "1", duration_ms: 12_000 }),
    generation({ at: "2026-01-07T01:00:00Z", pr_id: "2", repo: "Billing", status: "failed", reason: "github_502" }),
    {
      kind: "merge",
      at: "2026-01-07T02:00:00Z",
      repo: "OrderService",
      trace_id: "trace-ord-8128",
      pr_id: "1",
      risk: "low",
      auto: true,
      result: "merged",
      after_ci_ms: 20_000,
      reason: null,
    },
  ];

  it("prints the table for the period and repository asked, from the config's state file", async () => {
    const root = await project(ledger);
    const t = io(root);
    expect(await reportCommand({ since: "2026-01-02", repo: "OrderService" }, t)).toBe(0);
    expect(t.out()).toMatch(
      /^PR history of OrderService, since 2026-01-02T00:00:00.000Z until 2026-01-08T12:00:00.000Z: 2 entries$/m,
    );
    expect(t.out()).toMatch(/^PR generation success rate\s+100\.0%\s+1 of 1\s+> 95%\s+met$/m);
    expect(t.out()).toMatch(/^Merge time after CI p95\s+20\.0 s\s+1\s+< 60 s\s+met$/m);
  });

  it("prints the report object with --json, relative spans counting back from now", async () => {
    const root = await project(ledger);
    const t = io(root);
    await reportCommand({ since: "7d", json: true, config: "pr-creator.yaml" }, t);
    const report = JSON.parse(t.out()) as Report;
    expect(report.since).toBe("2026-01-01T12:00:00.000Z");
    expect(report.repo).toBeNull();
    expect(report.entries).toBe(3);
    expect(report.figures.generation_success_rate).toMatchObject({ value: 0.5, count: 1, sample: 2, met: false });
    expect(report.figures.rollback_success_rate).toMatchObject({ value: null, met: null });
  });

  it("is registered on a program as `report` with its options", async () => {
    const root = await project(ledger);
    const t = io(root);
    const program = new Command("pr-creator").exitOverride();
    registerReportCommand(program, t);
    await program.parseAsync([
      "node",
      "pr-creator",
      "report",
      "--json",
      "--repo",
      "Billing",
      "--config",
      path.join(root, "pr-creator.yaml"),
    ]);
    expect(JSON.parse(t.out())).toMatchObject({
      repo: "Billing",
      entries: 1,
      figures: { generation_success_rate: { value: 0 } },
    });
    expect(process.exitCode).toBe(0);
    process.exitCode = undefined;
  });

  it("rejects a bad --since precisely, before reading anything (main exits 2 on a PrCreatorError)", async () => {
    const program = new Command("pr-creator").exitOverride();
    const t = io(path.join(dir, "nowhere"));
    registerReportCommand(program, t);
    const error = await rejection(program.parseAsync(["node", "pr-creator", "report", "--since", "last tuesday"]));
    expect(error.reason).toBe("invalid_request");
    expect(error.paragraph).toBe(
      '--since "last tuesday" is not a date or a span. Use YYYY-MM-DD (midnight UTC), an ISO 8601 time with a zone such as 2026-01-08T09:30:00Z or 2026-01-08T10:30:00+01:00, or a span back from now such as 90m, 12h, 7d or 4w.',
    );
    expect(t.out()).toBe("");
    for (const bad of ["2026-02-30", "2026-01-08T09:30:00", "2026-1-8", "7y", "-7d", "1234567d"]) {
      expect(() => parseSince(bad, NOW), bad).toThrow(/is not a date or a span/);
    }
    expect(() => parseSince("2026-01-09", NOW)).toThrow(
      "--since 2026-01-09 is in the future (2026-01-09T00:00:00.000Z, now is 2026-01-08T12:00:00.000Z).",
    );
    expect(parseSince("2026-01-08T10:30:00+01:00", NOW).toISOString()).toBe("2026-01-08T09:30:00.000Z");
    expect(parseSince("90m", NOW).toISOString()).toBe("2026-01-08T10:30:00.000Z");
    expect(parseSince("2024-02-29", NOW).toISOString()).toBe("2024-02-29T00:00:00.000Z");
  });

  it("says so when the state file does not exist, without creating it", async () => {
    const root = path.dirname(newFile());
    mkdirSync(root, { recursive: true });
    writeFileSync(path.join(root, "pr-creator.yaml"), "state_file: missing/state.db\n");
    const error = await rejection(reportCommand({}, io(root)));
    expect(error.reason).toBe("invalid_config");
    expect(error.message).toBe(
      `The state file ${path.join(root, "missing", "state.db")} does not exist, so no PR history has been recorded there.`,
    );
    expect(() => new Database(path.join(root, "missing", "state.db"), { fileMustExist: true })).toThrow();
  });
});
