import { describe, expect, it } from "vitest";
import { PolicySchema } from "../../src/domain/policy.js";
import { createKeyedLock } from "../../src/forges/keyed-lock.js";
import { backoffMs, parseRetryAfter, RetriesExhausted, withRetry, type CallFailure } from "../../src/net/retry.js";

const policy = PolicySchema.parse({}).retry_policy;

function scripted(outcomes: Array<CallFailure | "ok">) {
  let calls = 0;
  const call = async () => {
    const next = outcomes[calls++] ?? "ok";
    if (next === "ok") return `done after ${calls}`;
    throw Object.assign(new Error(`failure ${calls}`), { failure: next });
  };
  return { call, calls: () => calls };
}

const classify = (error: unknown) => (error as { failure: CallFailure }).failure;

function recorder() {
  const waits: number[] = [];
  return { waits, sleep: async (ms: number) => void waits.push(ms) };
}

describe("withRetry (the seed's retry policy)", () => {
  it("500, 500, then success: three attempts with exponential waits from the base delay", async () => {
    const s = scripted([{ status: 500 }, { status: 500 }, "ok"]);
    const r = recorder();
    await expect(withRetry(s.call, policy, classify, { sleep: r.sleep })).resolves.toBe("done after 3");
    expect(r.waits).toEqual([1000, 2000]);
  });

  it("500 three times: gives up after max_attempts with the attempt count", async () => {
    const s = scripted([{ status: 500 }, { status: 500 }, { status: 500 }]);
    const error = await withRetry(s.call, policy, classify, { sleep: recorder().sleep }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RetriesExhausted);
    expect((error as RetriesExhausted).attempts).toBe(3);
    expect((error as RetriesExhausted).failure).toEqual({ status: 500 });
    expect(s.calls()).toBe(3);
  });

  it("401, 404, 409, 422 are not retried", async () => {
    for (const status of [401, 404, 409, 422]) {
      const s = scripted([{ status }]);
      const error = (await withRetry(s.call, policy, classify, { sleep: recorder().sleep }).catch(
        (e: unknown) => e,
      )) as RetriesExhausted;
      expect(error.attempts).toBe(1);
      expect(s.calls()).toBe(1);
    }
  });

  it("waits the longer of the backoff and the server's Retry-After", async () => {
    const s = scripted([{ status: 429, retryAfterMs: 5000 }, { status: 429, retryAfterMs: 10 }, "ok"]);
    const r = recorder();
    await withRetry(s.call, policy, classify, { sleep: r.sleep });
    expect(r.waits).toEqual([5000, 2000]);
  });

  it("does not wait longer than maxDelayMs: a server asking for too long is not retried", async () => {
    const s = scripted([{ status: 429, retryAfterMs: 120_000 }]);
    const error = (await withRetry(s.call, policy, classify, { sleep: recorder().sleep, maxDelayMs: 60_000 }).catch(
      (e: unknown) => e,
    )) as RetriesExhausted;
    expect(error.attempts).toBe(1);
  });

  it("retries network resets and timeouts, not unknown network errors", async () => {
    const s = scripted([{ network: "ECONNRESET" }, { network: "TIMEOUT" }, "ok"]);
    await expect(withRetry(s.call, policy, classify, { sleep: recorder().sleep })).resolves.toBe("done after 3");
    const odd = scripted([{ network: "ENOTSUP" }]);
    expect(
      (
        (await withRetry(odd.call, policy, classify, { sleep: recorder().sleep }).catch(
          (e: unknown) => e,
        )) as RetriesExhausted
      ).attempts,
    ).toBe(1);
  });

  it("follows the configured policy: attempts, fixed backoff and retryable codes", async () => {
    const custom = PolicySchema.parse({
      retry_policy: { max_attempts: 2, backoff: "fixed", base_delay_ms: 50, retryable_status_codes: [504] },
    }).retry_policy;
    const s = scripted([{ status: 504 }, { status: 504 }]);
    const r = recorder();
    expect(
      ((await withRetry(s.call, custom, classify, { sleep: r.sleep }).catch((e: unknown) => e)) as RetriesExhausted)
        .attempts,
    ).toBe(2);
    expect(r.waits).toEqual([50]);
    const notListed = scripted([{ status: 500 }]);
    expect(
      (
        (await withRetry(notListed.call, custom, classify, { sleep: r.sleep }).catch(
          (e: unknown) => e,
        )) as RetriesExhausted
      ).attempts,
    ).toBe(1);
    expect(backoffMs(3, policy)).toBe(4000);
  });

  it("parses Retry-After as seconds or an HTTP date", () => {
    expect(parseRetryAfter("1")).toBe(1000);
    expect(parseRetryAfter("0")).toBe(0);
    expect(parseRetryAfter(new Date(10_000).toUTCString(), 4_000)).toBe(6_000);
    expect(parseRetryAfter("soon")).toBeUndefined();
    expect(parseRetryAfter(undefined)).toBeUndefined();
  });
});

describe("createKeyedLock", () => {
  it("runs work for one key one at a time, in order, and different keys in parallel", async () => {
    const withLock = createKeyedLock();
    const log: string[] = [];
    const task = (key: string, name: string, ms: number) =>
      withLock(key, async () => {
        log.push(`start ${name}`);
        await new Promise((r) => setTimeout(r, ms));
        log.push(`end ${name}`);
        return name;
      });
    const results = await Promise.all([task("a", "a1", 30), task("a", "a2", 1), task("b", "b1", 5)]);
    expect(results).toEqual(["a1", "a2", "b1"]);
    expect(log.indexOf("end a1")).toBeLessThan(log.indexOf("start a2"));
    expect(log.indexOf("start b1")).toBeLessThan(log.indexOf("end a1"));
  });

  it("a failure does not block the next task for the key", async () => {
    const withLock = createKeyedLock();
    const failed = withLock("k", async () => {
      throw new Error("boom");
    });
    await expect(failed).rejects.toThrow("boom");
    await expect(withLock("k", async () => "next")).resolves.toBe("next");
  });
});
