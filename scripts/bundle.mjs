/**
 * Bundles the `pr-creator` executable (src/cli/main.ts) into dist/cli/ with esbuild: a few dozen files instead
 * of the ~1,100 modules a dry run loaded from dist/ and node_modules, whose compilation and file I/O were most of
 * its cold start (Node 20 has no module compile cache). The library entry (dist/index.js) stays tsc's output.
 *
 * - Code splitting keeps each command's `import()` lazy: `--help` loads the program's chunk, a dry run the agent's.
 * - The chunks sit in dist/cli/, two folders below the package root like every tsc-built module, so the reads
 *   relative to `import.meta.url` (package.json, src/prompts) find the same files.
 * - CommonJS dependencies are bundled too; they get a real `require` (for Node's built-ins) from the banner.
 *
 * Usage: node scripts/bundle.mjs [--outdir <dir>]   (default dist/cli; npm run build runs it after tsc)
 */
import { randomUUID } from "node:crypto";
import { mkdir, readdir, readFile, rename, rm, stat, writeFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import * as esbuild from "esbuild";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");

/**
 * Packages left to node_modules, each because bundling would break it:
 * - better-sqlite3, sqlite-vec: native addons (a .node / .so file found beside the package);
 * - web-tree-sitter, @vscode/tree-sitter-wasm: WASM files read from beside their own modules;
 * - azure-devops-node-api: reads its own package.json through `__dirname` for its user agent;
 * - graphile-worker: its config loader (cosmiconfig, import-fresh) resolves files relative to its own modules
 *   and may load `typescript`; it only runs in `worker` and `serve` with PostgreSQL, where start-up is not paid
 *   per command;
 * - pg: graphile-worker takes our pools, so both use node_modules' one copy.
 * Marking a package external covers its subpaths too.
 */
export const EXTERNAL = [
  "better-sqlite3",
  "sqlite-vec",
  "web-tree-sitter",
  "@vscode/tree-sitter-wasm",
  "azure-devops-node-api",
  "graphile-worker",
  "pg",
];

/** `new URL("…", import.meta.url)`: a file our code finds relative to its own module (static part only). */
const RELATIVE_URL = /new URL\(\s*["'`](\.{1,2}\/[^"'`$]*)[^)]*?,\s*import\.meta\.url\s*\)/g;

async function* sources(dir) {
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const file = path.join(dir, entry.name);
    if (entry.isDirectory()) yield* sources(file);
    else if (entry.name.endsWith(".ts") && !entry.name.endsWith(".d.ts")) yield file;
  }
}

/**
 * The bundle's entry points: the executable, and every module our code starts by URL beside itself (a worker
 * thread's `new URL("./parse-worker.js", import.meta.url)`), built under the same name so that URL still finds it.
 * Any other URL relative to a module must resolve the same from dist/cli/ as from the module's own folder in
 * dist/ (package.json, src/prompts): one that would not fails the build here rather than the CLI at run time.
 */
async function entryPoints(root) {
  const entries = { main: "src/cli/main.ts" };
  const problems = [];
  for await (const file of sources(path.join(root, "src"))) {
    const text = await readFile(file, "utf8");
    const rel = path.relative(path.join(root, "src"), file);
    for (const [, url] of text.matchAll(RELATIVE_URL)) {
      const sibling = /^\.\/([\w-]+)\.js$/.exec(url);
      if (sibling) {
        const name = sibling[1];
        const source = path.join(path.dirname(file), `${name}.ts`);
        if (entries[name] && entries[name] !== path.relative(root, source))
          problems.push(`${rel}: ${url} has the same name as ${entries[name]}`);
        else entries[name] = path.relative(root, source);
        continue;
      }
      // A `.ts` URL is for running from the sources (tsx), never from dist/.
      if (url.endsWith(".ts")) continue;
      const built = path.join(root, "dist", path.dirname(rel));
      if (path.resolve(built, url) !== path.resolve(root, "dist", "cli", url))
        problems.push(`${rel}: new URL("${url}", import.meta.url) would point elsewhere from dist/cli/`);
    }
  }
  if (problems.length > 0) throw new Error(`cannot bundle the CLI:\n${problems.join("\n")}`);
  return entries;
}

/** Files of an earlier build younger than this stay: a CLI started before the rebuild still imports its chunks. */
const STALE_GRACE_MS = 10 * 60_000;

/**
 * Builds the bundle into `outdir`. Each file is written under a temporary name and renamed into place (a CLI
 * starting meanwhile never reads half a file); files an earlier build left are removed once STALE_GRACE_MS old.
 * Returns the files written, relative to `outdir`.
 */
export async function bundleCli({ outdir = path.join(ROOT, "dist", "cli") } = {}) {
  const result = await esbuild.build({
    absWorkingDir: ROOT,
    entryPoints: await entryPoints(ROOT),
    outdir,
    write: false,
    bundle: true,
    splitting: true,
    format: "esm",
    platform: "node",
    target: "node20",
    // Packages without an `exports` map: their ES module build (`module`) first, which tree-shakes.
    mainFields: ["module", "main"],
    external: EXTERNAL,
    banner: {
      // After main.ts's `#!/usr/bin/env node`, which esbuild keeps first.
      js: [
        'import { createRequire as __prcCreateRequire } from "node:module";',
        "const require = __prcCreateRequire(import.meta.url);",
      ].join("\n"),
    },
    // Not minified: a stack trace's file and line lead to readable code, each module under a `// path` comment.
    legalComments: "none",
    logLevel: "warning",
  });
  await mkdir(outdir, { recursive: true });
  const written = new Set();
  for (const file of result.outputFiles) {
    const name = path.relative(outdir, file.path);
    written.add(name);
    const same = await readFile(file.path).then(
      (old) => Buffer.compare(old, file.contents) === 0,
      () => false,
    );
    if (same) continue;
    const temp = `${file.path}.${randomUUID()}.tmp`;
    await writeFile(temp, file.contents, { mode: name === "main.js" ? 0o755 : 0o644 });
    await rename(temp, file.path);
  }
  const now = Date.now();
  for (const name of await readdir(outdir)) {
    if (written.has(name)) continue;
    const file = path.join(outdir, name);
    const { mtimeMs } = await stat(file);
    if (now - mtimeMs > STALE_GRACE_MS) await rm(file, { recursive: true, force: true });
  }
  return [...written];
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const at = process.argv.indexOf("--outdir");
  const outdir = at > 0 ? path.resolve(process.argv[at + 1] ?? "") : undefined;
  const files = await bundleCli(outdir ? { outdir } : {});
  console.log(`bundled the CLI into ${files.length} files in ${path.relative(process.cwd(), outdir ?? "dist/cli")}`);
}
