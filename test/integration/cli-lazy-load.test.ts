/**
 * What the shipped CLI (the bundle scripts/bundle.mjs writes to dist/cli/) loads: `--help` only commander and
 * the policy's schema, a dry run without a model or forge none of the model, forge, server or exporter
 * libraries. Each command imports its module when it runs (src/cli/build-program.ts), the bundle keeps those
 * imports lazy (one chunk per command), and createAgent loads the model and forge clients only when configured.
 * Counted with a module-loader hook in the CLI's own process: a package counts as loaded when a file of it was,
 * or a bundle chunk holding it (esbuild heads each bundled module with a `// node_modules/<package>/…` line).
 * No timing (speed is bench/'s).
 */
import { spawn } from "node:child_process";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildSampleRepo, type SampleRepo } from "../../src/demo/sample-repo.js";
import { createTelemetry } from "../../src/telemetry/tracing.js";
import { runCli } from "../helpers.js";

const MAIN = fileURLToPath(new URL("../../dist/cli/main.js", import.meta.url));

// Every module the loader is asked for (ESM, and CommonJS imported from ESM), then everything CommonJS required.
const HOOKS = `import { appendFileSync } from "node:fs";
export async function load(url, context, next) {
  appendFileSync(process.env.LOADED_MODULES_FILE, url + "\\n");
  return next(url, context);
}`;
const PRELOAD = (hooks: string) => `import { register, createRequire } from "node:module";
import { appendFileSync } from "node:fs";
register(${JSON.stringify(pathToFileURL(hooks).href)});
const require = createRequire(import.meta.url);
process.on("exit", () => appendFileSync(process.env.LOADED_MODULES_FILE, Object.keys(require.cache).join("\\n")));`;

let dir: string;
let preload: string;
let sample: SampleRepo;
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), "pr-creator-lazy-"));
  await writeFile(path.join(dir, "hooks.mjs"), HOOKS);
  preload = path.join(dir, "preload.mjs");
  await writeFile(preload, PRELOAD(path.join(dir, "hooks.mjs")));
  sample = await buildSampleRepo(path.join(dir, "sample"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const PACKAGE = /node_modules\/((?:@[^/]+\/)?[^/]+)\//;
const BUNDLED_PACKAGE = /^\/\/ node_modules\/((?:@[^/]+\/)?[^/]+)\//gm;
const BUNDLE = path.dirname(MAIN);

interface Loaded {
  code: number | null;
  /** Every package loaded, bundled or not. */
  packages: Set<string>;
  /** The packages loaded from node_modules rather than from the bundle. */
  unbundled: Set<string>;
  /** The packages loaded from the bundle's chunks. */
  bundled: Set<string>;
  /** The bundle's files loaded, relative to dist/cli/. */
  chunks: Set<string>;
}

/** What the CLI loaded for `args`, with its exit code. */
async function packagesLoaded(args: string[], name: string): Promise<Loaded> {
  const list = path.join(dir, `${name}.txt`);
  await writeFile(list, "");
  const cwd = await mkdtemp(path.join(dir, "cwd-"));
  const code = await new Promise<number | null>((resolve, reject) => {
    const child = spawn(process.execPath, ["--import", pathToFileURL(preload).href, MAIN, ...args], {
      cwd,
      // No model keys, no forge tokens, no OTLP endpoint: what a model-less dry run sees.
      env: { PATH: process.env.PATH ?? "", HOME: cwd, LOADED_MODULES_FILE: list },
      stdio: "ignore",
    });
    child.on("error", reject);
    child.on("close", resolve);
  });
  const files = new Set(
    (await readFile(list, "utf8"))
      .split("\n")
      .filter((entry) => entry !== "")
      .map((entry) => (entry.startsWith("file:") ? fileURLToPath(entry) : entry)),
  );
  const unbundled = new Set([...files].flatMap((file) => PACKAGE.exec(file)?.[1] ?? []));
  const chunks = new Set([...files].filter((file) => path.dirname(file) === BUNDLE).map((f) => path.basename(f)));
  const bundled = new Set<string>();
  for (const chunk of chunks)
    for (const [, pkg] of (await readFile(path.join(BUNDLE, chunk), "utf8")).matchAll(BUNDLED_PACKAGE))
      bundled.add(pkg!);
  return { code, packages: new Set([...unbundled, ...bundled]), unbundled, bundled, chunks };
}

const MODEL = ["@langchain/openai", "openai"];
const FORGES = ["@octokit/rest", "@octokit/core", "azure-devops-node-api", "typed-rest-client"];
const SERVERS = ["fastify", "@modelcontextprotocol/sdk", "@qdrant/js-client-rest", "undici"];
const EXPORTER = ["@opentelemetry/exporter-trace-otlp-http", "@opentelemetry/sdk-metrics"];

describe("the CLI loads what a command uses", () => {
  it("--help loads commander, not the agent, its clients or its storage", async () => {
    const { code, packages } = await packagesLoaded(["--help"], "help");
    expect(code).toBe(0);
    expect(packages).toContain("commander");
    const agent = ["@langchain/core", "@langchain/langgraph", "langsmith", "better-sqlite3", "web-tree-sitter"];
    for (const heavy of [...agent, ...MODEL, ...FORGES, ...SERVERS, ...EXPORTER, "@opentelemetry/api"])
      expect(packages, heavy).not.toContain(heavy);
  });

  it("a dry run without a model or forge loads neither, nor a server, Qdrant or the OTLP exporter", async () => {
    const args = ["run", sample.eventFile, "--repo-path", sample.dir, "--traces", sample.tracesFile, "--dry-run"];
    const { code, packages } = await packagesLoaded([...args, "--json"], "dry-run");
    expect(code).toBe(0);
    // The agent itself did run.
    expect(packages).toContain("@langchain/langgraph");
    for (const heavy of [...MODEL, ...FORGES, ...SERVERS, ...EXPORTER]) expect(packages, heavy).not.toContain(heavy);
  });
});

describe("the shipped CLI is the bundle", () => {
  it("a dry run loads the agent from the bundle's chunks, and no package both from them and from node_modules", async () => {
    const args = ["run", sample.eventFile, "--repo-path", sample.dir, "--traces", sample.tracesFile, "--dry-run"];
    const { code, bundled, unbundled, chunks } = await packagesLoaded([...args, "--json"], "bundle");
    expect(code).toBe(0);
    expect(chunks).toContain("main.js");
    for (const pkg of ["@langchain/langgraph", "@langchain/core", "zod", "commander"]) {
      expect(bundled, pkg).toContain(pkg);
      expect(unbundled, pkg).not.toContain(pkg);
    }
    // Two copies of a package (one bundled, one an external's dependency) would split its state and classes.
    expect([...unbundled].filter((pkg) => bundled.has(pkg))).toEqual([]);
    // What stays in node_modules: the native SQLite addons and the WASM parser (scripts/bundle.mjs, EXTERNAL).
    expect(unbundled).toContain("better-sqlite3");
    // One run parses on the main thread unless the policy asks for workers: a worker's start costs more than it saves.
    expect(chunks).not.toContain("parse-worker.js");
  });

  it("the digest parses in the bundled parse worker: the summary names the C# symbols the commit adds", async () => {
    const cwd = await mkdtemp(path.join(dir, "cwd-"));
    // A worker whatever the default (which may parse on the main thread), so the bundled worker is what parses.
    await writeFile(path.join(cwd, "pr-creator.yaml"), "digest:\n  parse_workers: 1\n");
    const args = ["run", sample.eventFile, "--repo-path", sample.dir, "--traces", sample.tracesFile, "--dry-run"];
    const { code, stdout } = await runCli([...args, "--config", "pr-creator.yaml", "--json"], { cwd });
    expect(code).toBe(0);
    const { pr, warnings } = JSON.parse(stdout) as { pr: { description: string }; warnings: string[] };
    // Without the worker (dist/cli/parse-worker.js) the pool falls back to the main thread and says so.
    expect(warnings.filter((w) => /parse workers/.test(w))).toEqual([]);
    expect(pr.description).toContain("- Adds `CreateOrderHandler`");
    expect(pr.description).toContain("- Adds tests in `CreateOrderHandlerTests`");
  });
});

describe("the OTLP exporter, loaded with the first spans", () => {
  it("still sends the spans to the collector, and flushes them on shutdown", async () => {
    const bodies: { url: string; bytes: number }[] = [];
    const collector = createServer((req, res) => {
      let bytes = 0;
      req.on("data", (chunk: Buffer) => (bytes += chunk.length));
      req.on("end", () => {
        bodies.push({ url: req.url ?? "", bytes });
        res.writeHead(200, { "content-type": "application/json" }).end("{}");
      });
    });
    await new Promise<void>((resolve) => collector.listen(0, "127.0.0.1", resolve));
    const saved = { ...process.env };
    process.env.OTEL_EXPORTER_OTLP_ENDPOINT = `http://127.0.0.1:${(collector.address() as AddressInfo).port}`;
    delete process.env.OTEL_SDK_DISABLED;
    delete process.env.OTEL_TRACES_EXPORTER;
    try {
      const telemetry = createTelemetry({ serviceName: "pr-creator-test" });
      expect(telemetry.exporter).toBe("otlp");
      telemetry.tracer.startSpan("lazy-exporter-span").end();
      await telemetry.shutdown();
      expect(bodies.length).toBeGreaterThan(0);
      expect(bodies[0]!.url).toBe("/v1/traces");
      expect(bodies[0]!.bytes).toBeGreaterThan(0);
    } finally {
      process.env = saved;
      await new Promise<void>((resolve) => collector.close(() => resolve()));
    }
  });
});
