/**
 * HEAVY (about 30–60 s, most of it `npm install` and a full type-check): packs pr-creator as npm would publish
 * it, installs the tarball into an empty folder, and uses it there the three ways consumers do — the CLI, a
 * library import, and TypeScript with `skipLibCheck: false` (which fails when the declarations name types from
 * a devDependency, such as better-sqlite3's). It also checks what the tarball holds: the JSON Schema, LICENSE,
 * CHANGELOG, and source maps that carry their sources (src/ is not shipped).
 *
 * It packs a clean build of its own (dist/ may hold files of deleted sources), made in a staging copy of the
 * package; packages come from npm's cache first (--prefer-offline).
 */
import { execFile } from "node:child_process";
import { cp, mkdir, mkdtemp, readFile, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const run = promisify(execFile);
const project = path.resolve(import.meta.dirname, "../..");
const npm = process.platform === "win32" ? "npm.cmd" : "npm";
let root: string;
let consumer: string;
let files: string[];

beforeAll(async () => {
  root = await mkdtemp(path.join(tmpdir(), "pr-creator-pack-"));
  consumer = path.join(root, "consumer");
  await mkdir(consumer);
  // A staging copy of the package with a clean build: what `npm publish` (whose `prepare` cleans and builds) ships.
  const staging = path.join(root, "staging");
  const pkg = JSON.parse(await readFile(path.join(project, "package.json"), "utf8")) as { files: string[] };
  for (const entry of [...pkg.files.filter((f) => f !== "dist"), "package.json"])
    await cp(path.join(project, entry), path.join(staging, entry), { recursive: true });
  const tsc = path.join(project, "node_modules", "typescript", "bin", "tsc");
  // Type errors alone still emit (as in the global setup); the checks below see what was built.
  await run(process.execPath, [tsc, "-p", "tsconfig.build.json", "--outDir", path.join(staging, "dist")], {
    cwd: project,
  }).catch((error: { stdout?: string }) => {
    if (!/error TS\d+/.test(error.stdout ?? "")) throw error;
  });
  // The executable is the bundle, as `npm run build` makes it.
  const bundle = path.join(project, "scripts", "bundle.mjs");
  await run(process.execPath, [bundle, "--outdir", path.join(staging, "dist", "cli")], { cwd: project });
  // --ignore-scripts: `prepare` would build again, in the staging copy that has no sources.
  const packed = await run(npm, ["pack", "--ignore-scripts", "--json", "--pack-destination", root], {
    cwd: staging,
    maxBuffer: 64 * 1024 * 1024,
  });
  const [info] = JSON.parse(packed.stdout) as [{ filename: string; files: { path: string }[] }];
  files = info.files.map((f) => f.path);
  await writeFile(
    path.join(consumer, "package.json"),
    JSON.stringify({ name: "consumer", private: true, type: "module" }),
  );
  // No install scripts: better-sqlite3's native build is not needed to import the library or type-check.
  await run(
    npm,
    [
      "install",
      "--prefer-offline",
      "--ignore-scripts",
      "--no-audit",
      "--no-fund",
      "--loglevel=error",
      path.join(root, info.filename),
      "@types/node@20",
    ],
    { cwd: consumer, maxBuffer: 64 * 1024 * 1024 },
  );
}, 180_000);

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

describe("the published package (heavy: npm pack + install + tsc)", () => {
  it("holds the build, the prompts, the JSON Schema, LICENSE and CHANGELOG, and no TypeScript sources besides the prompts'", () => {
    expect(files).toEqual(
      expect.arrayContaining([
        "dist/index.js",
        "dist/index.d.ts",
        "dist/cli/main.js",
        "schema/pr-creator.schema.json",
        "LICENSE",
        "CHANGELOG.md",
        "README.md",
      ]),
    );
    expect(files.filter((f) => f.startsWith("src/") && !f.startsWith("src/prompts/"))).toEqual([]);
  });

  it("has source maps that carry their sources, since src/ is not shipped", async () => {
    const dist = path.join(consumer, "node_modules", "pr-creator", "dist");
    const maps = (await readdir(dist, { recursive: true })).filter((f) => f.endsWith(".js.map"));
    expect(maps.length).toBeGreaterThan(50);
    const lacking: string[] = [];
    for (const map of maps) {
      const { sources, sourcesContent } = JSON.parse(await readFile(path.join(dist, map), "utf8")) as {
        sources: string[];
        sourcesContent?: (string | null)[];
      };
      if (sources.some((_, i) => typeof sourcesContent?.[i] !== "string")) lacking.push(map);
    }
    expect(lacking).toEqual([]);
  });

  it("runs the CLI from the installed tarball: --version, --help and the shipped schema", async () => {
    const bin = path.join(consumer, "node_modules", "pr-creator", "dist", "cli", "main.js");
    const pkg = JSON.parse(await readFile(path.join(project, "package.json"), "utf8")) as { version: string };
    expect((await run(process.execPath, [bin, "--version"], { cwd: consumer })).stdout).toBe(`${pkg.version}\n`);
    // The bin npm linked, as a user runs it.
    const help = await run(path.join(consumer, "node_modules", ".bin", "pr-creator"), ["--help"], { cwd: consumer });
    expect(help.stdout).toMatch(/^Usage: pr-creator \[options\] \[command\]/);
    expect(help.stdout).toContain(`run [options] <event>`);
    const schema = await run(process.execPath, [bin, "config", "schema"], {
      cwd: consumer,
      env: { ...process.env, PR_CREATOR_LOG_LEVEL: "silent" },
      maxBuffer: 16 * 1024 * 1024,
    });
    const shipped = path.join(consumer, "node_modules", "pr-creator", "schema", "pr-creator.schema.json");
    expect(schema.stdout).toBe(await readFile(shipped, "utf8"));
  });

  it("imports as a library", async () => {
    const probe = await run(
      process.execPath,
      [
        "--input-type=module",
        "-e",
        "const m = await import('pr-creator'); console.log(typeof m.createAgent, typeof m.PolicySchema.parse, typeof m.loadPolicy);",
      ],
      { cwd: consumer },
    );
    expect(probe.stdout).toBe("function function function\n");
  });

  it("type-checks in a consumer with skipLibCheck: false", async () => {
    await writeFile(
      path.join(consumer, "tsconfig.json"),
      JSON.stringify({
        compilerOptions: {
          module: "NodeNext",
          moduleResolution: "NodeNext",
          target: "ES2022",
          strict: true,
          skipLibCheck: false,
          noEmit: true,
          types: ["node"],
        },
        files: ["index.ts"],
      }),
    );
    await writeFile(
      path.join(consumer, "index.ts"),
      [
        'import { createAgent, PolicySchema, type RunResult } from "pr-creator";',
        "const policy = PolicySchema.parse({ title: { max_length: 80 } });",
        'export async function preview(event: unknown): Promise<RunResult["status"]> {',
        "  const agent = await createAgent({ policy, model: null, forge: null });",
        "  try {",
        "    return (await agent.handle(event)).status;",
        "  } finally {",
        "    await agent.close();",
        "  }",
        "}",
        "",
      ].join("\n"),
    );
    const tsc = path.join(project, "node_modules", "typescript", "bin", "tsc");
    const result = await run(process.execPath, [tsc, "-p", "."], { cwd: consumer }).catch(
      (error: { stdout: string; code: number }) => error,
    );
    expect(result.stdout).toBe("");
  }, 120_000);
});
