/**
 * Repeated failures raise one PullRequestAlert, through the whole agent and the configured sinks: the JSON-lines
 * file and a signed webhook. The streak lives in the state file, so it spans agents (one per run here).
 */
import { createServer, type Server } from "node:http";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import Database from "better-sqlite3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createAgent } from "../../src/agent/create-agent.js";
import { buildSampleRepo, type SampleRepo } from "../../src/demo/sample-repo.js";
import { PullRequestAlertSchema, type LifecycleEvent } from "../../src/domain/events.js";
import type { Publisher } from "../../src/forges/publisher.js";
import { SIGNATURE_HEADER, verifyWebhookSignature } from "../../src/events/webhook.js";

const SECRET = "alert-secret-value";
let root: string;
let sample: SampleRepo;
let server: Server;
let hookUrl: string;
const received: { event: LifecycleEvent; signed: boolean }[] = [];

beforeAll(async () => {
  root = await mkdtemp(path.join(tmpdir(), "pr-creator-alerts-"));
  sample = await buildSampleRepo(path.join(root, "sample"));
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const body = Buffer.concat(chunks);
      const header = req.headers[SIGNATURE_HEADER];
      received.push({
        event: JSON.parse(body.toString("utf8")) as LifecycleEvent,
        signed: verifyWebhookSignature(body, typeof header === "string" ? header : undefined, SECRET),
      });
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  hookUrl = `http://127.0.0.1:${typeof address === "object" && address ? address.port : 0}/hooks`;
}, 60_000);

afterAll(async () => {
  await new Promise<void>((resolve) => server?.close(() => resolve()));
  if (root) await rm(root, { recursive: true, force: true });
});

const creating: Publisher = {
  kind: "github",
  publish: async () => ({ status: "created", id: 7, url: "https://forge.example/pr/7" }),
};

async function config(name: string, extra = ""): Promise<{ file: string; events: string; state: string }> {
  const dir = path.join(root, name);
  const events = path.join(dir, "events.jsonl");
  const state = path.join(dir, "state.db");
  const file = path.join(root, `${name}.yaml`);
  await writeFile(
    file,
    [
      `state_file: ${JSON.stringify(state)}`,
      "events:",
      `  jsonl_file: ${JSON.stringify(events)}`,
      "  webhooks:",
      `    - url: ${hookUrl}`,
      "      secret_env: ALERT_SECRET",
      "      events: [PullRequestAlert]",
      extra,
    ].join("\n"),
  );
  return { file, events, state };
}

async function run(setup: { file: string }, outcome: "fail" | "succeed", n: number) {
  const agent = await createAgent({
    configFile: setup.file,
    repoPath: sample.dir,
    tracesFile: sample.tracesFile,
    publisher: creating,
    memory: null,
    env: { ALERT_SECRET: SECRET },
    cwd: root,
  });
  try {
    return await agent.handle(
      outcome === "fail" ? { ...sample.event, trace_id: `trace-none-${n}`, issue_id: "BVL-232" } : sample.event,
    );
  } finally {
    await agent.close();
  }
}

const lines = async (file: string): Promise<LifecycleEvent[]> =>
  (await readFile(file, "utf8"))
    .split("\n")
    .filter(Boolean)
    .map((l) => JSON.parse(l) as LifecycleEvent);

describe("alerts for repeated failures", () => {
  it("three failures raise exactly one alert; a success clears the streak; the next streak alerts again", async () => {
    const setup = await config("streaks");
    for (let n = 1; n <= 4; n++) expect((await run(setup, "fail", n)).status).toBe("failed");
    let events = await lines(setup.events);
    expect(events.map((e) => e.event)).toEqual([
      "PullRequestFailed",
      "PullRequestFailed",
      "PullRequestFailed",
      "PullRequestAlert",
      "PullRequestFailed",
    ]);
    const alert = PullRequestAlertSchema.parse(events[3]);
    expect(alert).toMatchObject({ repo: "OrderService", consecutive_failures: 3, issue_id: "BVL-232" });
    expect(alert.failures.map((f) => [f.reason, f.trace_id])).toEqual([
      ["missing_trace", "trace-none-1"],
      ["missing_trace", "trace-none-2"],
      ["missing_trace", "trace-none-3"],
    ]);
    // The webhook got the alert (and only the alert), signed with HMAC-SHA256.
    expect(received).toEqual([{ event: alert, signed: true }]);

    expect((await run(setup, "succeed", 0)).status).toBe("created");
    const db = new Database(setup.state, { readonly: true });
    expect(db.prepare("SELECT count(*) FROM failure_streaks").pluck().get()).toBe(0);
    db.close();
    for (let n = 5; n <= 7; n++) await run(setup, "fail", n);
    events = await lines(setup.events);
    const alerts = events.filter((e) => e.event === "PullRequestAlert");
    expect(alerts).toHaveLength(2);
    expect(PullRequestAlertSchema.parse(alerts[1]).failures.map((f) => f.trace_id)).toEqual([
      "trace-none-5",
      "trace-none-6",
      "trace-none-7",
    ]);
    expect(received).toHaveLength(2);
  });

  it("sends none when alerts.consecutive_failures is 0", async () => {
    const setup = await config("off", "alerts:\n  consecutive_failures: 0\n");
    for (let n = 1; n <= 3; n++) await run(setup, "fail", n);
    expect((await lines(setup.events)).map((e) => e.event)).toEqual(Array(3).fill("PullRequestFailed"));
  });
});
