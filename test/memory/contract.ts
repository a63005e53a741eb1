/**
 * One contract for every MemoryStore: run it against each adapter (describeMemoryContract("sqlite", factory)).
 * `fresh()` returns a store on new, empty storage; `reopen()` a new handle on the storage of the last
 * `fresh()` (as a later process would open it). The suite calls init() itself.
 */
import { afterEach, describe, expect, it } from "vitest";
import {
  MemoryMismatchError,
  recordKey,
  type EmbedderIdentity,
  type MemoryStore,
  type PrRecord,
} from "../../src/memory/store.js";

export const TEST_EMBEDDER: EmbedderIdentity = { name: "test-embedder", version: "1", dimensions: 4 };

export function record(overrides: Partial<PrRecord> = {}): PrRecord {
  return {
    repo: "OrderService",
    pr_id: "1",
    url: "https://forge/pr/1",
    forge: "azure-devops",
    status: "created",
    trace_id: "trace-ord-8128",
    blueprint_id: "usecase-create-order",
    component_scope: "Order",
    commit_hash: "9fbc871",
    source_branch: "feature/order-handler",
    target_branch: "dev",
    title: "feat(order): implement CreateOrderHandler [trace:ord-8128]",
    text: "implement CreateOrderHandler",
    created_at: "2025-05-07T20:00:00.000Z",
    updated_at: "2025-05-07T20:00:00.000Z",
    ...overrides,
  };
}

const unit = (v: number[]) => {
  const n = Math.hypot(...v);
  return v.map((x) => x / n);
};

export interface StoreFactory {
  fresh(): Promise<MemoryStore>;
  reopen(): Promise<MemoryStore>;
}

export function describeMemoryContract(name: string, factory: StoreFactory): void {
  describe(`memory contract: ${name}`, () => {
    let store: MemoryStore | undefined;
    const open = async (embedder = TEST_EMBEDDER) => {
      store = await factory.fresh();
      await store.init(embedder);
      return store;
    };
    afterEach(async () => {
      await store?.close();
      store = undefined;
    });

    it("upsert is idempotent by repo and PR id, keeping the first created_at", async () => {
      const s = await open();
      await s.upsert(record(), unit([1, 0, 0, 0]));
      await s.upsert(
        record({
          status: "updated",
          commit_hash: "abc1234",
          updated_at: "2025-05-08T10:00:00.000Z",
          created_at: "2025-05-08T10:00:00.000Z",
        }),
        unit([1, 0, 0, 0]),
      );
      const chain = await s.byTrace("trace-ord-8128");
      expect(chain).toHaveLength(1);
      expect(chain[0]).toEqual(
        record({ status: "updated", commit_hash: "abc1234", updated_at: "2025-05-08T10:00:00.000Z" }),
      );
    });

    it("byTrace returns the whole chain oldest first, and nothing of other traces", async () => {
      const s = await open();
      await s.upsert(
        record({ pr_id: "2", created_at: "2025-05-09T00:00:00.000Z", updated_at: "2025-05-09T00:00:00.000Z" }),
        unit([1, 0, 0, 0]),
      );
      await s.upsert(record({ pr_id: "1" }), unit([0, 1, 0, 0]));
      await s.upsert(record({ pr_id: "3", trace_id: "trace-pay-2201" }), unit([0, 0, 1, 0]));
      expect((await s.byTrace("trace-ord-8128")).map((r) => r.pr_id)).toEqual(["1", "2"]);
      expect(await s.byTrace("trace-none-1")).toEqual([]);
    });

    it("previews are keyed by branch pair and have a null PR id", async () => {
      const s = await open();
      const preview = record({ pr_id: null, url: null, forge: "dry-run", status: "previewed" });
      await s.upsert(preview, unit([1, 0, 0, 0]));
      await s.upsert({ ...preview, commit_hash: "def5678" }, unit([1, 0, 0, 0]));
      const chain = await s.byTrace("trace-ord-8128");
      expect(chain).toEqual([{ ...preview, commit_hash: "def5678" }]);
      expect(recordKey(preview)).toBe("OrderService#preview:feature/order-handler->dev");
    });

    it("similar returns the nearest first with cosine scores, honouring k", async () => {
      const s = await open();
      await s.upsert(record({ pr_id: "1", title: "a" }), unit([1, 0, 0, 0]));
      await s.upsert(record({ pr_id: "2", title: "b" }), unit([1, 1, 0, 0]));
      await s.upsert(record({ pr_id: "3", title: "c" }), unit([0, 0, 1, 0]));
      const hits = await s.similar({ vector: unit([1, 0.1, 0, 0]), k: 2 });
      expect(hits.map((h) => h.record.title)).toEqual(["a", "b"]);
      expect(hits[0]!.score).toBeCloseTo(0.995, 2);
      expect(hits[1]!.score).toBeCloseTo(0.777, 2);
    });

    it("similar filters by repo, scope and blueprint, and can exclude one record", async () => {
      const s = await open();
      await s.upsert(record({ pr_id: "1", component_scope: "Order" }), unit([1, 0, 0, 0]));
      await s.upsert(
        record({ pr_id: "2", component_scope: "Billing", blueprint_id: "usecase-capture-payment" }),
        unit([1, 0, 0, 0]),
      );
      await s.upsert(record({ pr_id: "3", repo: "BillingService", component_scope: "Order" }), unit([1, 0, 0, 0]));
      const v = unit([1, 0, 0, 0]);
      expect(
        (await s.similar({ vector: v, k: 5, component_scope: "Order" })).map((h) => h.record.pr_id).sort(),
      ).toEqual(["1", "3"]);
      expect((await s.similar({ vector: v, k: 5, repo: "OrderService" })).map((h) => h.record.pr_id).sort()).toEqual([
        "1",
        "2",
      ]);
      expect(
        (await s.similar({ vector: v, k: 5, blueprint_id: "usecase-capture-payment" })).map((h) => h.record.pr_id),
      ).toEqual(["2"]);
      expect(
        (await s.similar({ vector: v, k: 5, repo: "OrderService", exclude_key: "OrderService#1" })).map(
          (h) => h.record.pr_id,
        ),
      ).toEqual(["2"]);
    });

    it("history lists newest first, since a date, up to a limit", async () => {
      const s = await open();
      for (let i = 1; i <= 4; i++) {
        const at = `2025-05-0${i}T00:00:00.000Z`;
        await s.upsert(record({ pr_id: String(i), created_at: at, updated_at: at }), unit([1, i, 0, 0]));
      }
      expect((await s.history()).map((r) => r.pr_id)).toEqual(["4", "3", "2", "1"]);
      expect((await s.history({ since: new Date("2025-05-02T00:00:00.000Z") })).map((r) => r.pr_id)).toEqual([
        "4",
        "3",
        "2",
      ]);
      expect((await s.history({ limit: 1 })).map((r) => r.pr_id)).toEqual(["4"]);
    });

    it("refuses vectors of another embedder or size, naming both", async () => {
      const s = await open();
      await s.upsert(record(), unit([1, 0, 0, 0]));
      await s.close();
      store = await factory.reopen();
      const other = { name: "other-embedder", version: "2", dimensions: 8 };
      const error = await store.init(other).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(MemoryMismatchError);
      expect((error as Error).message).toContain("test-embedder");
      expect((error as Error).message).toContain("other-embedder");
    });

    it("a reopened store with the same embedder keeps its records", async () => {
      const s = await open();
      await s.upsert(record(), unit([1, 0, 0, 0]));
      await s.close();
      store = await factory.reopen();
      await store.init(TEST_EMBEDDER);
      expect(await store.byTrace("trace-ord-8128")).toEqual([record()]);
    });

    it("rejects a vector of the wrong length on upsert", async () => {
      const s = await open();
      await expect(s.upsert(record(), [1, 0, 0])).rejects.toThrow(/4/);
    });

    it("handles unicode and quotes in every text field", async () => {
      const s = await open();
      const r = record({
        title: `feat(order): "quoted" 'single' — ünïcode ✓`,
        text: "Ünïcode\nmulti-line; DROP TABLE x; --",
        component_scope: "Örder",
      });
      await s.upsert(r, unit([1, 0, 0, 0]));
      expect(await s.byTrace(r.trace_id)).toEqual([r]);
      expect((await s.similar({ vector: unit([1, 0, 0, 0]), k: 1, component_scope: "Örder" }))[0]?.record).toEqual(r);
    });
  });
}
