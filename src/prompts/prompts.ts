import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { readFile, stat } from "node:fs/promises";
import path from "node:path";
import { PrCreatorError } from "../domain/errors.js";

/**
 * Prompts live beside this module as Markdown files with `{{variable}}` placeholders. Rendering is plain
 * substitution of known names; an unknown or missing name is a bug and throws.
 */
function load(name: string): string {
  // From src/prompts or dist/prompts alike, the files are in src/prompts (the package ships them).
  return readFileSync(new URL(`../../src/prompts/${name}`, import.meta.url), "utf8");
}

/** Each prompt and its file name (the same names in a `prompts.dir` override folder). */
export const PROMPT_FILES = {
  system: "system.md",
  draft: "draft.md",
  repair: "repair.md",
  styleExamples: "style-examples.md",
} as const;
export type PromptName = keyof typeof PROMPT_FILES;
export type PromptTexts = Readonly<Record<PromptName, string>>;

const NAMES = Object.keys(PROMPT_FILES) as PromptName[];

/** The built-in prompts. */
export const PROMPTS: PromptTexts = Object.fromEntries(NAMES.map((name) => [name, load(PROMPT_FILES[name])])) as Record<
  PromptName,
  string
>;

const PLACEHOLDER = /\{\{([a-z_]+)\}\}/g;

export function placeholdersOf(template: string): Set<string> {
  return new Set([...template.matchAll(PLACEHOLDER)].map((m) => m[1]!));
}

export function fillPrompt(template: string, values: Readonly<Record<string, string>>): string {
  return template.replace(PLACEHOLDER, (_whole, name: string) => {
    if (!Object.hasOwn(values, name)) throw new Error(`prompt variable {{${name}}} has no value`);
    return values[name]!;
  });
}

/** The prompts a run uses, and their version: the first 12 hex digits of the SHA-256 of the texts. */
export interface PromptSet {
  texts: PromptTexts;
  version: string;
  /** Prompts taken from the override folder; the others are built in. */
  overridden: PromptName[];
}

export function promptSetOf(texts: PromptTexts, overridden: PromptName[] = []): PromptSet {
  const hash = createHash("sha256");
  // Name and length before each text: moving text between prompts changes the version too.
  for (const name of NAMES) hash.update(`${name}\n${texts[name].length}\n${texts[name]}`);
  return { texts, version: hash.digest("hex").slice(0, 12), overridden };
}

export const BUILT_IN_PROMPTS: PromptSet = promptSetOf(PROMPTS);

/**
 * The built-in prompts with the files of `dir` in their place. An override must use exactly the built-in's
 * placeholders: the code fills those (facts the gate later checks the prose against), and nothing else.
 */
export async function loadPromptSet(dir: string | undefined): Promise<PromptSet> {
  if (dir === undefined) return BUILT_IN_PROMPTS;
  const texts: Record<PromptName, string> = { ...PROMPTS };
  const overridden: PromptName[] = [];
  const problems: string[] = [];
  for (const name of NAMES) {
    const file = path.join(dir, PROMPT_FILES[name]);
    const text = await readFile(file, "utf8").catch((error: NodeJS.ErrnoException) => {
      if (error.code === "ENOENT") return null;
      problems.push(`${file} cannot be read (${error.code ?? error.message})`);
      return null;
    });
    if (text === null) continue;
    const expected = placeholdersOf(PROMPTS[name]);
    const found = placeholdersOf(text);
    const missing = [...expected].filter((p) => !found.has(p));
    const unknown = [...found].filter((p) => !expected.has(p));
    if (missing.length > 0) problems.push(`${file} lacks ${missing.map((p) => `{{${p}}}`).join(", ")}`);
    if (unknown.length > 0)
      problems.push(`${file} uses ${unknown.map((p) => `{{${p}}}`).join(", ")}, which no code fills`);
    if (text.trim() === "") problems.push(`${file} is empty`);
    texts[name] = text;
    overridden.push(name);
  }
  if (problems.length > 0) {
    throw new PrCreatorError(
      "invalid_config",
      `The prompt overrides in prompts.dir are unusable: ${problems.join("; ")}.`,
      {
        hint: `Keep each built-in prompt's placeholders (${NAMES.map((n) => PROMPT_FILES[n]).join(", ")} in src/prompts of the package show them), or delete the file to use the built-in one.`,
      },
    );
  }
  if (overridden.length === 0 && !(await isDirectory(dir))) {
    throw new PrCreatorError("invalid_config", `prompts.dir ${dir} is not a folder.`, {
      hint: "Point prompts.dir at a folder holding system.md, draft.md, repair.md or style-examples.md, relative to the config file.",
    });
  }
  return promptSetOf(texts, overridden);
}

async function isDirectory(dir: string): Promise<boolean> {
  return (await stat(dir).catch(() => null))?.isDirectory() ?? false;
}

const TAG = "untrusted_data";

/**
 * Wraps repository text so the model can tell data from instructions. The tag name is removed from the data
 * first, so the data cannot close the fence early and smuggle instructions after it.
 */
export function fenceUntrusted(label: string, text: string): string {
  const clean = text
    .replace(new RegExp(`</?\\s*${TAG}[^>]*>`, "gi"), "")
    .replace(new RegExp(TAG, "gi"), "untrusted-data");
  return `<${TAG} source="${label}">\n${clean.trim() || "(none)"}\n</${TAG}>`;
}
