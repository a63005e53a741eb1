import { describe, expect, it } from "vitest";
import { mapLimit } from "../../src/net/limit.js";

const tick = () => new Promise<void>((resolve) => setTimeout(resolve, 1));

describe("mapLimit", () => {
  it("keeps the items' order and never has more than `limit` calls in flight", async () => {
    let inFlight = 0;
    let most = 0;
    const result = await mapLimit([5, 1, 4, 2, 3, 0, 6], 3, async (n) => {
      inFlight += 1;
      most = Math.max(most, inFlight);
      for (let i = 0; i < n; i += 1) await tick();
      inFlight -= 1;
      return n * 10;
    });

    expect(result).toEqual([50, 10, 40, 20, 30, 0, 60]);
    expect(most).toBe(3);
  });

  it("starts nothing new after a rejection and passes the first one on", async () => {
    const started: number[] = [];
    const run = mapLimit([1, 2, 3, 4, 5], 2, async (n) => {
      started.push(n);
      await tick();
      if (n === 2) throw new Error("two failed");
      return n;
    });

    await expect(run).rejects.toThrow("two failed");
    expect(started).toEqual([1, 2, 3]);
    expect(await mapLimit([], 4, async () => 1)).toEqual([]);
  });
});
