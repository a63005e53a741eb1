/**
 * Forge traffic under load, through the real clients against the emulators behind a strict proxy (latency,
 * limited server capacity, a count of what is in flight): one in-flight limit per host shared by every forge in
 * the process, timeouts that start when a request is sent, GitHub's pacing shared across forges, and Azure
 * DevOps location data cached in memory and on disk.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { createAzureDevOpsForge } from "../../src/forges/azure-devops/index.js";
import { clearLocationMemory, LOCATION_CACHE_TTL_MS } from "../../src/forges/azure-devops/locations.js";
import { createGitHubForge } from "../../src/forges/github/index.js";
import { PolicySchema } from "../../src/domain/policy.js";
import { startAzureDevOpsEmulator, type AzureEmulator } from "../emulators/azure-devops.js";
import { startGitHubEmulator, type GitHubEmulator } from "../emulators/github.js";
import { startStrictProxy, type StrictProxy } from "../emulators/strict-proxy.js";

const retry = { ...PolicySchema.parse({}).retry_policy, max_attempts: 1 };
const author = { name: "a", email: "a@b.c", date: "2025-05-07T19:05:33Z" };
const sha = (n: number) => n.toString(16).padStart(40, "c");
const dir = mkdtempSync(path.join(os.tmpdir(), "pr-creator-limits-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let proxies: StrictProxy[] = [];
afterEach(async () => {
  await Promise.all(proxies.map((p) => p.close()));
  proxies = [];
});
const proxy = async (target: string, opts: { latencyMs?: number; capacity?: number } = {}) => {
  const p = await startStrictProxy({ target, ...opts });
  proxies.push(p);
  return p;
};

describe("Azure DevOps", () => {
  let az: AzureEmulator;
  beforeAll(async () => {
    az = await startAzureDevOpsEmulator({ token: "pat" });
    az.seedRepo("OrderService", {
      branches: { main: sha(1) },
      commits: { [sha(1)]: { message: "chore: scaffold", author, parents: [], changes: [] } },
    });
  });
  afterAll(() => az.close());

  const forge = (
    orgUrl: string,
    extra: { timeoutMs?: number; maxInFlightPerHost?: number; locationCacheFile?: string } = {},
  ) => createAzureDevOpsForge({ orgUrl, project: az.project, token: "pat", timeoutMs: 5000, retry, ...extra });

  it("two forges on one host share one in-flight limit", async () => {
    const p = await proxy(az.orgUrl, { latencyMs: 30 });
    const [a, b] = [
      forge(p.url(az.orgUrl), { maxInFlightPerHost: 3 }),
      forge(p.url(az.orgUrl), { maxInFlightPerHost: 3 }),
    ];
    const found = await Promise.all(
      Array.from({ length: 16 }, (_, i) => (i % 2 ? a : b).findOpenPullRequest("OrderService", `f/${i}`, "main")),
    );
    expect(found).toEqual(Array(16).fill(null));
    expect(p.maxInFlight).toBe(3);
  });

  it("a request's timeout starts when it is sent: 10 queued calls on a serialising server all succeed", async () => {
    // Each answer takes 150 ms, one at a time: the last is answered ≈ 1.5 s after the calls, over the 1 s timeout.
    const p = await proxy(az.orgUrl, { latencyMs: 150, capacity: 1 });
    const f = forge(p.url(az.orgUrl), { timeoutMs: 1000, maxInFlightPerHost: 1 });
    const started = Date.now();
    const found = await Promise.all(
      Array.from({ length: 10 }, (_, i) => f.findOpenPullRequest("OrderService", `t/${i}`, "main")),
    );
    expect(found).toEqual(Array(10).fill(null));
    expect(Date.now() - started).toBeGreaterThan(1000);
    expect(p.maxInFlight).toBe(1);
  });

  describe("location data", () => {
    const discovery = (p: StrictProxy) => p.log.filter((r) => r.method === "OPTIONS" || /ResourceAreas/i.test(r.path));

    it("is discovered once, cached on disk, and reused by the next process (miss, then hit)", async () => {
      clearLocationMemory();
      const file = path.join(dir, "miss-hit", "azure-devops-locations.json");
      const p = await proxy(az.orgUrl);
      const orgUrl = p.url(az.orgUrl);
      // Cold: discovery, once, although four reads start together.
      const first = forge(orgUrl, { locationCacheFile: file });
      await Promise.all([0, 1, 2, 3].map((i) => first.findOpenPullRequest("OrderService", `m/${i}`, "main")));
      expect(discovery(p).map((r) => r.method)).toEqual(["OPTIONS", "GET", "OPTIONS"]);
      const saved = JSON.parse(readFileSync(file, "utf8")) as {
        orgs: Record<string, { areas: Record<string, unknown> }>;
      };
      expect(Object.keys(saved.orgs[orgUrl]!.areas)).toEqual(["git"]);

      // Same process, another forge: nothing discovered.
      p.resetCounters();
      await forge(orgUrl).findOpenPullRequest("OrderService", "m/x", "main");
      expect(discovery(p)).toEqual([]);

      // A new process (memory cleared) with the file: nothing discovered either.
      clearLocationMemory();
      p.resetCounters();
      const next = forge(orgUrl, { locationCacheFile: file });
      expect(await next.findOpenPullRequest("OrderService", "m/y", "main")).toBeNull();
      expect(discovery(p)).toEqual([]);
      expect(p.log).toHaveLength(1);
    });

    it("discovers again when the file is older than the TTL, and rewrites it", async () => {
      clearLocationMemory();
      const file = path.join(dir, "stale", "azure-devops-locations.json");
      const p = await proxy(az.orgUrl);
      const orgUrl = p.url(az.orgUrl);
      await forge(orgUrl, { locationCacheFile: file }).findOpenPullRequest("OrderService", "s/1", "main");
      const saved = JSON.parse(readFileSync(file, "utf8")) as { orgs: Record<string, { saved_at: number }> };
      saved.orgs[orgUrl]!.saved_at = Date.now() - LOCATION_CACHE_TTL_MS - 60_000;
      writeFileSync(file, JSON.stringify(saved));

      clearLocationMemory();
      p.resetCounters();
      await forge(orgUrl, { locationCacheFile: file }).findOpenPullRequest("OrderService", "s/2", "main");
      expect(discovery(p).length).toBeGreaterThan(0);
      const rewritten = JSON.parse(readFileSync(file, "utf8")) as { orgs: Record<string, { saved_at: number }> };
      expect(Date.now() - rewritten.orgs[orgUrl]!.saved_at).toBeLessThan(60_000);
    });

    it("falls back to discovery when the cached locations are wrong or the file is garbage", async () => {
      clearLocationMemory();
      const file = path.join(dir, "wrong", "azure-devops-locations.json");
      const p = await proxy(az.orgUrl);
      const orgUrl = p.url(az.orgUrl);
      await forge(orgUrl, { locationCacheFile: file }).findOpenPullRequest("OrderService", "w/1", "main");
      // The git area as cached lacks every resource (as after a service upgrade moved them).
      const saved = JSON.parse(readFileSync(file, "utf8")) as {
        orgs: Record<string, { areas: Record<string, unknown> }>;
      };
      saved.orgs[orgUrl]!.areas.git = {};
      writeFileSync(file, JSON.stringify(saved));
      clearLocationMemory();
      p.resetCounters();
      expect(
        await forge(orgUrl, { locationCacheFile: file }).findOpenPullRequest("OrderService", "w/2", "main"),
      ).toBeNull();
      expect(discovery(p).map((r) => r.method)).toEqual(["OPTIONS"]);

      writeFileSync(file, "not json");
      clearLocationMemory();
      p.resetCounters();
      expect(
        await forge(orgUrl, { locationCacheFile: file }).findOpenPullRequest("OrderService", "w/3", "main"),
      ).toBeNull();
      expect(discovery(p).length).toBeGreaterThan(0);
    });
  });
});

describe("GitHub", () => {
  let gh: GitHubEmulator;
  beforeAll(async () => {
    gh = await startGitHubEmulator({ token: "gh-token" });
    gh.seedRepo("acme/OrderService", {
      default_branch: "main",
      branches: { main: sha(1) },
      commits: { [sha(1)]: { message: "chore: scaffold", author, parents: [], files: [] } },
    });
  });
  afterAll(() => gh.close());

  const forge = (
    apiUrl: string,
    extra: { token?: string; timeoutMs?: number; throttle?: boolean; maxInFlightPerHost?: number } = {},
  ) => createGitHubForge({ token: "gh-token", apiUrl, timeoutMs: 5000, throttle: false, retry, ...extra });

  it("two forges on one host share one in-flight limit", async () => {
    const p = await proxy(gh.url, { latencyMs: 30 });
    const [a, b] = [forge(p.url(gh.url), { maxInFlightPerHost: 2 }), forge(p.url(gh.url), { maxInFlightPerHost: 2 })];
    const found = await Promise.all(
      Array.from({ length: 12 }, (_, i) => (i % 2 ? a : b).findOpenPullRequest("acme/OrderService", `f/${i}`, "main")),
    );
    expect(found).toEqual(Array(12).fill(null));
    expect(p.maxInFlight).toBe(2);
  });

  it("a request's timeout starts when it is sent: 10 queued calls on a serialising server all succeed", async () => {
    const p = await proxy(gh.url, { latencyMs: 150, capacity: 1 });
    const f = forge(p.url(gh.url), { timeoutMs: 1000, maxInFlightPerHost: 1 });
    const started = Date.now();
    const found = await Promise.all(
      Array.from({ length: 10 }, (_, i) => f.findOpenPullRequest("acme/OrderService", `t/${i}`, "main")),
    );
    expect(found).toEqual(Array(10).fill(null));
    expect(Date.now() - started).toBeGreaterThan(1000);
  });

  it("the throttle paces writes across forges with the same host and token, not across tokens", async () => {
    const p = await proxy(gh.url);
    const url = p.url(gh.url);
    const writes = () => p.log.filter((r) => r.method === "POST").map((r) => r.at);
    // Two forges (two agents, or two runs of serve) with the same token: one write a second between them.
    const [a, b] = [forge(url, { throttle: true }), forge(url, { throttle: true })];
    await Promise.allSettled([a.addLabels("acme/OrderService", 1, ["x"]), b.addLabels("acme/OrderService", 1, ["y"])]);
    const [w1, w2] = writes();
    expect(w2! - w1!).toBeGreaterThanOrEqual(900);

    // Another token is another account: its own pacing (two fresh tokens, so neither waits for the writes above).
    p.resetCounters();
    const c = forge(url, { throttle: true, token: "other-token" });
    const d = forge(url, { throttle: true, token: "third-token" });
    const started = Date.now();
    await Promise.allSettled([c.addLabels("acme/OrderService", 1, ["x"]), d.addLabels("acme/OrderService", 1, ["y"])]);
    expect(writes().every((at) => at - started < 900)).toBe(true);
  });
});
