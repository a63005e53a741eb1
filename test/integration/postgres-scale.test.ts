/**
 * Issue 14's burst, scaled down to fit CI but built the same way (bench/scale.ts runs the full 1,000 events
 * over 50 branches): events over many branches through two `serve` replicas into 4 worker processes against
 * the GitHub emulator at 50 ms a request, one worker killed with -9 midway. Nothing is lost, no PR is made
 * twice, each PR is announced once, and one PR's runs never overlap and keep their order.
 */
import { afterAll, beforeAll, expect, it } from "vitest";
import { createTestDatabase, describePostgres, type TestDatabase } from "../postgres.js";
import { runLoad } from "./postgres-load.js";

describePostgres("a burst over many PRs with a worker killed midway", () => {
  let test: TestDatabase;
  beforeAll(async () => {
    test = await createTestDatabase("scale");
  });
  afterAll(async () => {
    await test?.drop();
  });

  it("loses no run, makes and announces each PR once, and keeps each PR's runs serial and in order", async () => {
    const report = await runLoad({
      databaseUrl: test.url,
      events: 120,
      branches: 12,
      workers: 4,
      concurrency: 3,
      latencyMs: 50,
      killAt: 0.5,
      boundMs: 150_000,
    });
    expect(report).toMatchObject({
      accepted: 120,
      done: 120,
      lost: 0,
      failed: [],
      prs: 12,
      duplicatePrs: 0,
      creates: 12,
      prsNotAnnouncedOnce: 0,
      overlaps: 0,
      reordered: 0,
    });
    // The killed worker had runs in flight (3 at a time); they ran again on the others.
    expect(report.restarted).toBeGreaterThan(0);
  }, 240_000);
});
