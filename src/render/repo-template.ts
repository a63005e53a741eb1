/**
 * A repository's own PR template (GitHub's or Azure DevOps' `pull_request_template.md`) combined with our body
 * template, before rendering. Pure. The repository's text is untrusted: every line of it is made inert (no HTML,
 * pings, links or images, no `${…}` placeholder, no `AB#123` work-item link), so it can neither run a
 * placeholder nor change a decision; only its headings, order and task lists carry over.
 */
import { inertText } from "./markdown.js";

export type RepoTemplateMode = "append" | "use";

export interface RepoTemplateOptions {
  mode: RepoTemplateMode;
  /** Groups of headings that name the same section (the policy's required sections, `Summary|Description`). */
  aliases: readonly (readonly string[])[];
  /** Characters of the repository's text at most; sections past it are left out, and the body says so. */
  maxChars: number;
  allowedHosts?: readonly string[];
}

interface Section {
  /** The heading line as written; null for the text before the first heading. */
  heading: string | null;
  level: number;
  title: string;
  lines: string[];
}

const HEADING = /^(#{1,6})\s+(.*?)\s*#*\s*$/;
const FENCE = /^\s*(```|~~~)/;
const TASK = /^\s*[-*+]\s+\[[ xX]\]\s+/;

function sections(text: string): Section[] {
  const out: Section[] = [{ heading: null, level: 0, title: "", lines: [] }];
  let inFence = false;
  for (const line of text.replace(/\r\n?/g, "\n").split("\n")) {
    if (FENCE.test(line)) inFence = !inFence;
    const m = inFence ? null : HEADING.exec(line);
    if (m) out.push({ heading: line, level: m[1]!.length, title: m[2]!, lines: [] });
    else out.at(-1)!.lines.push(line);
  }
  return out;
}

const keyOf = (title: string) =>
  title
    .replace(/[:\s#]+$/, "")
    .trim()
    .toLowerCase();

/** One line of the repository's text, inert, with nothing left that our renderer or publisher would act on. */
function inertLine(line: string, allowedHosts: readonly string[]): string {
  const indent = /^\s*/.exec(line)![0].replace(/\t/g, "  ");
  return (indent + inertText(line, allowedHosts))
    .replace(/\$\{/g, "&#36;{")
    .replace(/\bAB#(?=\d)/g, "AB\\#")
    .replace(/^(\s*)(>|[`~]{3,}|[-*_]{3,}\s*$|={3,}\s*$)/, "$1\\$2");
}

/** The repository's section content, inert; fenced blocks and HTML comments dropped (they are instructions). */
function inertLines(lines: readonly string[], allowedHosts: readonly string[]): string[] {
  const text = lines.join("\n").replace(/<!--[\s\S]*?(?:-->|$)/g, "");
  const out: string[] = [];
  let inFence = false;
  for (const line of text.split("\n")) {
    if (FENCE.test(line)) {
      inFence = !inFence;
      continue;
    }
    if (inFence) continue;
    out.push(line.trim() === "" ? "" : inertLine(line, allowedHosts));
  }
  return out;
}

const trimBlank = (lines: string[]) => {
  const copy = [...lines];
  while (copy.length > 0 && copy[0]!.trim() === "") copy.shift();
  while (copy.length > 0 && copy.at(-1)!.trim() === "") copy.pop();
  return copy;
};

/**
 * Our template with the repository's: `append` adds the repository's own sections after ours; `use` follows the
 * repository's layout, its sections in its order, with ours in the place of the sections both have (matched by
 * heading, or by the policy's `A|B` alternatives) and ours it lacks after them, so every required section stays.
 * Where both have a section, ours is kept and the repository's task-list items are added under it.
 */
export function mergeRepoTemplate(ours: string, repo: string, options: RepoTemplateOptions): string {
  const hosts = options.allowedHosts ?? [];
  const our = sections(ours);
  const theirs = sections(repo);
  const alias = (key: string) => options.aliases.find((group) => group.some((a) => a.toLowerCase() === key));
  const same = (a: string, b: string) => a === b || (alias(a)?.some((x) => x.toLowerCase() === b) ?? false);
  const matchOf = (s: Section) =>
    s.heading === null ? undefined : our.find((o) => o.heading !== null && same(keyOf(o.title), keyOf(s.title)));

  let budget = options.maxChars;
  let shortened = false;
  /** The repository's lines while the budget lasts. */
  const spend = (lines: string[]): string[] => {
    const size = lines.join("\n").length;
    if (size <= budget) {
      budget -= size;
      return lines;
    }
    shortened = true;
    return [];
  };
  const tasksFor = (o: Section) =>
    theirs.filter((t) => matchOf(t) === o).flatMap((t) => inertLines(t.lines, hosts).filter((l) => TASK.test(l)));
  const ourBlock = (o: Section) => {
    const tasks = spend(tasksFor(o));
    const lines = [...o.lines];
    while (lines.length > 0 && lines.at(-1)!.trim() === "") lines.pop();
    return [o.heading!, ...lines, ...(tasks.length > 0 ? ["", ...tasks] : []), ""];
  };
  const theirBlock = (t: Section) => {
    const body = trimBlank(inertLines(t.lines, hosts));
    const heading = t.heading === null ? [] : [`${"#".repeat(t.level)} ${inertLine(t.title, hosts).trim()}`];
    if (heading.length === 0 && body.length === 0) return [];
    const lines = spend([...heading, ...body]);
    return lines.length > 0 ? [...lines, ""] : [];
  };

  const out: string[] = [...trimBlank(our[0]!.lines), ""];
  if (options.mode === "append") {
    for (const o of our.slice(1)) out.push(...ourBlock(o));
    for (const t of theirs) if (!matchOf(t)) out.push(...theirBlock(t));
  } else {
    const placed = new Set<Section>();
    for (const t of theirs) {
      const o = matchOf(t);
      if (!o) out.push(...theirBlock(t));
      else if (!placed.has(o)) {
        placed.add(o);
        out.push(...ourBlock(o));
      }
    }
    for (const o of our.slice(1)) if (!placed.has(o)) out.push(...ourBlock(o));
  }
  if (shortened) out.push("_Parts of the repository's PR template were left out to keep the description short._", "");
  return `${out
    .join("\n")
    .replace(/\n{3,}/g, "\n\n")
    .trim()}\n`;
}
