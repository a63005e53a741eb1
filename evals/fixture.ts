/** Builds a case's git history with the project's own fixture builder, so hashes are the same on every machine. */
import { createGitRepo, FIXTURE_IDENTITY, type GitRepo } from "../src/demo/git-fixture.js";
import type { Fixture, FileContent, Step } from "./schema.js";

export function contentOf(content: FileContent): string | Buffer {
  if (typeof content === "string") return content;
  if ("lines" in content)
    return Array.from({ length: content.lines }, (_, i) => `${content.prefix} ${i + 1}\n`).join("");
  // Every byte value from NUL up, so git sees a binary file.
  return Buffer.from(Array.from({ length: content.binary }, (_, i) => i & 0xff));
}

/** The fixture's steps with those of the fixture it builds `from` first (recursively). */
export function stepsOf(
  fixture: Fixture,
  named: Readonly<Record<string, Fixture>>,
  seen: readonly string[] = [],
): Step[] {
  if (!fixture.from) return fixture.steps;
  if (seen.includes(fixture.from))
    throw new Error(`fixture ${fixture.from} builds on itself (${[...seen, fixture.from].join(" → ")})`);
  const base = named[fixture.from];
  if (!base) throw new Error(`no fixture named ${fixture.from} (known: ${Object.keys(named).join(", ") || "none"})`);
  return [...stepsOf(base, named, [...seen, fixture.from]), ...fixture.steps];
}

async function apply(repo: GitRepo, step: Step): Promise<void> {
  if ("branch" in step) return repo.checkout(step.branch, { create: true });
  if ("checkout" in step) return repo.checkout(step.checkout);
  if ("merge" in step) {
    await repo.merge(step.merge, step.message);
    return;
  }
  for (const [from, to] of Object.entries(step.rename)) await repo.rename(from, to);
  for (const rel of step.delete) await repo.remove(rel);
  for (const [rel, content] of Object.entries(step.write)) await repo.writeFile(rel, contentOf(content));
  if (step.many) {
    const { path: pattern, count, content } = step.many;
    for (let i = 1; i <= count; i++) {
      const n = String(i).padStart(3, "0");
      await repo.writeFile(pattern.replaceAll("{n}", n), content.replaceAll("{n}", n));
    }
  }
  const author = step.author
    ? { name: step.author, email: `${step.author.toLowerCase().replace(/[^a-z0-9]+/g, ".")}@agents.local` }
    : FIXTURE_IDENTITY;
  let message = step.commit;
  for (const m of step.commit.matchAll(/\{hash:([^}]+)\}/g))
    message = message.replace(m[0], (await repo.git("rev-parse", m[1]!)).trim());
  await repo.commit(message, { allowEmpty: step.allow_empty, author });
}

export async function buildFixture(dir: string, steps: readonly Step[]): Promise<GitRepo> {
  const repo = await createGitRepo(dir, { initialBranch: "main" });
  for (const step of steps) await apply(repo, step);
  return repo;
}
