/**
 * Prompt overrides (`prompts.dir`): files named like src/prompts/*.md replace the built-in ones, a missing
 * file keeps the built-in, an override must keep exactly the built-in's placeholders, and the prompt set's
 * version (a short SHA-256 of the texts in force) is recorded in the run result.
 */
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { createAgent } from "../../src/agent/create-agent.js";
import { buildSampleRepo, type SampleRepo } from "../../src/demo/sample-repo.js";
import { PolicySchema } from "../../src/domain/policy.js";
import { loadPolicy } from "../../src/policy/load-policy.js";
import { BUILT_IN_PROMPTS, loadPromptSet, PROMPTS, promptSetOf } from "../../src/prompts/prompts.js";
import { startOpenAiChatEmulator, type OpenAiChatEmulator, messageText } from "../emulators/openai-chat.js";

let root: string;
let sample: SampleRepo;
let dirs = 0;
let emulator: OpenAiChatEmulator | undefined;

beforeAll(async () => {
  root = await mkdtemp(path.join(tmpdir(), "pr-creator-prompts-"));
  sample = await buildSampleRepo(path.join(root, "sample"));
}, 60_000);

afterEach(async () => {
  await emulator?.close();
  emulator = undefined;
});

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

/** A fresh override folder holding these files. */
async function overrides(files: Record<string, string>): Promise<string> {
  dirs += 1;
  const dir = path.join(root, `prompts-${dirs}`);
  await mkdir(dir, { recursive: true });
  for (const [name, text] of Object.entries(files)) await writeFile(path.join(dir, name), text);
  return dir;
}

const SYSTEM = "You write pull requests for the platform team. Be terse.\n";

describe("loading a prompt set", () => {
  it("uses the built-in prompts without a folder, with a 12-digit version that follows the texts", async () => {
    expect(await loadPromptSet(undefined)).toBe(BUILT_IN_PROMPTS);
    expect(BUILT_IN_PROMPTS.version).toMatch(/^[0-9a-f]{12}$/);
    expect(promptSetOf({ ...PROMPTS }).version).toBe(BUILT_IN_PROMPTS.version);
    expect(promptSetOf({ ...PROMPTS, system: `${PROMPTS.system} ` }).version).not.toBe(BUILT_IN_PROMPTS.version);
    // Moving text from one prompt to the next is a different set.
    expect(promptSetOf({ ...PROMPTS, system: "ab", repair: `c${PROMPTS.repair}` }).version).not.toBe(
      promptSetOf({ ...PROMPTS, system: "abc", repair: PROMPTS.repair }).version,
    );
  });

  it("takes the files the folder has and keeps the built-in ones for the rest", async () => {
    const repair = "Fix these:\n{{violations}}\n\nYour draft was:\n{{previous_draft}}\n";
    const set = await loadPromptSet(await overrides({ "system.md": SYSTEM, "repair.md": repair, "notes.txt": "x" }));
    expect(set.overridden).toEqual(["system", "repair"]);
    expect(set.texts).toEqual({ ...PROMPTS, system: SYSTEM, repair });
    expect(set.version).not.toBe(BUILT_IN_PROMPTS.version);
  });

  it("refuses an override that drops a placeholder the code fills, or adds one it does not", async () => {
    const dir = await overrides({
      "repair.md": "Fix these:\n{{violations}}\n",
      "style-examples.md": "{{examples}} for {{team_name}}\n",
    });
    const error = await loadPromptSet(dir).catch((e: unknown) => e);
    expect(error).toMatchObject({ reason: "invalid_config" });
    const message = (error as Error).message;
    expect(message).toContain(`${path.join(dir, "repair.md")} lacks {{previous_draft}}`);
    expect(message).toContain(`${path.join(dir, "style-examples.md")} uses {{team_name}}, which no code fills`);
  });

  it("refuses a folder that does not exist", async () => {
    await expect(loadPromptSet(path.join(root, "no-such-folder"))).rejects.toMatchObject({
      reason: "invalid_config",
      message: expect.stringContaining("is not a folder") as string,
    });
  });

  it("resolves prompts.dir against the config file's folder", async () => {
    const dir = await overrides({});
    const config = path.join(dir, "pr-creator.yaml");
    await writeFile(config, "prompts:\n  dir: my-prompts\n");
    const { policy } = await loadPolicy(config, root);
    expect(policy.prompts.dir).toBe(path.join(dir, "my-prompts"));
  });
});

describe("a run with overridden prompts", () => {
  const agentFor = async (promptsDir: string | undefined, env: Record<string, string> = {}) =>
    createAgent({
      policy: PolicySchema.parse({
        state_file: path.join(root, `state-${(dirs += 1)}.db`),
        model: { timeout_ms: 5000, max_retries: 0 },
        ...(promptsDir ? { prompts: { dir: promptsDir } } : {}),
      }),
      repoPath: sample.dir,
      tracesFile: sample.tracesFile,
      dryRun: true,
      cwd: root,
      sinks: [async () => undefined],
      env,
    });

  it("sends the overridden system prompt to the model and records the set's version in the result", async () => {
    emulator = await startOpenAiChatEmulator({
      script: [
        {
          args: {
            type: "feat",
            summary: "implement CreateOrderHandler",
            purpose:
              "Implements the CreateOrderHandler for the Create Order blueprint: a customer's validated cart becomes a persisted order.",
            highlights: ["Persists the new order through IOrderRepository"],
          },
        },
      ],
    });
    const dir = await overrides({ "system.md": SYSTEM });
    const agent = await agentFor(dir, {
      PR_CREATOR_MODEL_PROVIDER: "openai",
      OPENAI_API_KEY: "test-key",
      OPENAI_BASE_URL: emulator.url,
    });
    try {
      const result = await agent.handle(sample.event);
      expect(result.status).toBe("previewed");
      expect(result.drafted_by).toBe("model");
      expect(result.prompts_version).toBe((await loadPromptSet(dir)).version);
      const system = emulator.requests[0]!.messages.find((m) => m.role === "system");
      expect(messageText(system)).toBe(SYSTEM);
    } finally {
      await agent.close();
    }
  });

  it("records the built-in set's version when nothing is overridden, the deterministic drafter too", async () => {
    const agent = await agentFor(undefined);
    try {
      expect((await agent.handle(sample.event)).prompts_version).toBe(BUILT_IN_PROMPTS.version);
    } finally {
      await agent.close();
    }
  });

  it("refuses to start with an unusable override folder", async () => {
    const dir = await overrides({ "draft.md": "Write a PR.\n" });
    await expect(agentFor(dir)).rejects.toMatchObject({ reason: "invalid_config" });
  });
});
