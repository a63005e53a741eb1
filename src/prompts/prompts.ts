import { readFileSync } from "node:fs";

/**
 * Prompts live beside this module as Markdown files with `{{variable}}` placeholders. Rendering is plain
 * substitution of known names; an unknown or missing name is a bug and throws.
 */
function load(name: string): string {
  // From src/prompts or dist/prompts alike, the files are in src/prompts (the package ships them).
  return readFileSync(new URL(`../../src/prompts/${name}`, import.meta.url), "utf8");
}

export const PROMPTS = {
  system: load("system.md"),
  draft: load("draft.md"),
  repair: load("repair.md"),
  styleExamples: load("style-examples.md"),
} as const;

const PLACEHOLDER = /\{\{([a-z_]+)\}\}/g;

export function fillPrompt(template: string, values: Readonly<Record<string, string>>): string {
  return template.replace(PLACEHOLDER, (_whole, name: string) => {
    if (!Object.hasOwn(values, name)) throw new Error(`prompt variable {{${name}}} has no value`);
    return values[name]!;
  });
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
