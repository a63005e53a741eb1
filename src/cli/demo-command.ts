import { mkdtemp, mkdir, readdir } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { buildSampleRepo } from "../demo/sample-repo.js";
import { EXIT } from "./exit-codes.js";
import { runCommand, type Io } from "./run-command.js";

/** `pr-creator demo`: builds the sample repository and runs the agent on it, as a first look with no setup. */
export async function demoCommand(opts: { dir?: string; json?: boolean }, io: Io): Promise<number> {
  let root: string;
  if (opts.dir) {
    root = path.resolve(io.cwd, opts.dir);
    await mkdir(root, { recursive: true });
    if ((await readdir(root)).length > 0) {
      const message = `The demo folder ${root} is not empty. Pass --dir with a new or empty folder, or leave it out to use a temporary one.`;
      if (opts.json) io.stdout(`${JSON.stringify({ status: "failed", reason: "invalid_request", message }, null, 2)}\n`);
      else io.stderr(`error: ${message}\n`);
      return EXIT.rejected;
    }
  } else {
    root = await mkdtemp(path.join(os.tmpdir(), "pr-creator-demo-"));
  }
  const sample = await buildSampleRepo(root);
  if (!opts.json) {
    io.stdout(`Sample repository: ${sample.dir} (branch ${sample.event.branch}, commit ${sample.event.commit_hash})\n`);
    io.stdout(`Running: npx pr-creator run ${sample.eventFile} --repo-path ${sample.dir} --traces ${sample.tracesFile}\n\n`);
  }
  return runCommand(sample.eventFile, { repoPath: sample.dir, traces: sample.tracesFile, json: opts.json }, io);
}
