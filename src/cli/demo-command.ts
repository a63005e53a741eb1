import { mkdtemp, mkdir, readdir, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { createAgent } from "../agent/create-agent.js";
import type { RunResult } from "../domain/run-result.js";
import { buildSampleRepo } from "../demo/sample-repo.js";
import { EXIT, exitCodeFor } from "./exit-codes.js";
import { formatHuman } from "../render/run-summary.js";
import { onTerminal, type Io } from "./run-command.js";

const DEMO_CONFIG = `# The demo's own policy: the defaults, with memory in this folder.
state_file: .pr-creator/state.db
trace_registry: traces.yaml
# The one JSON log line per run is for pipelines; the demo prints the previews instead (info turns it back on).
logging:
  level: warn
`;

/**
 * `pr-creator demo`: builds the sample repository and runs the agent on two related changes, so the second
 * PR is drafted with the first recalled from memory, then on an SRE change request (grow a PVC: low risk,
 * auto-merge after CI) — a first look with no set-up.
 */
export async function demoCommand(opts: { dir?: string; json?: boolean }, io: Io): Promise<number> {
  let root: string;
  if (opts.dir) {
    root = path.resolve(io.cwd, opts.dir);
    await mkdir(root, { recursive: true });
    if ((await readdir(root)).length > 0) {
      const message = `The demo folder ${root} is not empty. Pass --dir with a new or empty folder, or leave it out to use a temporary one.`;
      if (opts.json)
        io.stdout(`${JSON.stringify({ status: "failed", reason: "invalid_request", message }, null, 2)}\n`);
      else io.stderr(`error: ${message}\n`);
      return EXIT.rejected;
    }
  } else {
    root = await mkdtemp(path.join(os.tmpdir(), "pr-creator-demo-"));
  }
  const sample = await buildSampleRepo(root);
  const config = path.join(root, "pr-creator.yaml");
  await writeFile(config, DEMO_CONFIG);
  const agent = await createAgent({
    configFile: config,
    repoPath: sample.dir,
    cwd: root,
    forge: null,
    defaultParseWorkers: 0,
    terminal: onTerminal(io),
  });
  const runs: RunResult[] = [];
  try {
    for (const [file, event] of [
      [sample.eventFile, sample.event],
      [sample.secondEventFile, sample.secondEvent],
      [sample.changeEventFile, sample.changeEvent],
    ] as const) {
      if (!opts.json) {
        const what =
          event.event === "CommitCompleted"
            ? `branch ${event.branch}, commit ${event.commit_hash}`
            : `change request ${event.change_type} ${event.change_id} on ${event.base_branch}`;
        io.stdout(`\nSample repository ${sample.dir}: ${what}\n`);
        io.stdout(`Running: npx pr-creator run ${file} --config ${config} --repo-path ${sample.dir}\n\n`);
      }
      const result = await agent.handle(event);
      runs.push(result);
      if (!opts.json) io.stdout(formatHuman(result));
    }
  } finally {
    await agent.close();
  }
  if (opts.json) io.stdout(`${JSON.stringify({ runs }, null, 2)}\n`);
  else {
    io.stdout(
      `\nThe second PR was drafted with the first recalled from memory. Its audit chain: npx pr-creator trace ${sample.event.trace_id} --config ${config}\n` +
        `The change request became branch ${runs[2]?.pr?.source_branch ?? "agent-sre/…"} with a low-risk PR that would merge itself after CI on a real forge.\n`,
    );
  }
  return Math.max(...runs.map(exitCodeFor));
}
