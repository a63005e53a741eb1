/** Small Markdown helpers shared by the renderer and the gate. Pure. */

const FENCE = /^ {0,3}(`{3,}|~{3,})(.*)$/;

/**
 * Calls `fn` for each line with whether it sits inside a fenced code block (fence lines count as inside).
 * As in CommonMark, a fence closes only with the same character, at least as long, and nothing after it.
 */
export function forEachLine(text: string, fn: (line: string, index: number, inFence: boolean) => void): void {
  let open: string | null = null;
  text.split("\n").forEach((line, i) => {
    const m = FENCE.exec(line);
    if (open === null) {
      if (m && !(m[1]![0] === "`" && m[2]!.includes("`"))) {
        open = m[1]!;
        fn(line, i, true);
      } else fn(line, i, false);
      return;
    }
    if (m && m[1]![0] === open[0] && m[1]!.length >= open.length && m[2]!.trim() === "") open = null;
    fn(line, i, true);
  });
}

export function isTableRow(line: string): boolean {
  return line.trimStart().startsWith("|");
}

export function isHeading(line: string): boolean {
  return /^#{1,6}\s/.test(line);
}

/** A line the width rule cannot apply to: a table row, a code line, or one unbreakable token (a long URL). */
export function isLineLengthExempt(line: string, inFence: boolean): boolean {
  return inFence || isTableRow(line) || !/\S\s+\S/.test(line.replace(/^\s*(?:[-*+]|\d+\.)\s+(?:\[[ xX]\]\s+)?/, ""));
}

/** Wraps one prose line at spaces; list items continue with an indent that lines up with their text. */
export function wrapLine(line: string, width: number): string[] {
  if (line.length <= width) return [line];
  const marker = /^(\s*(?:[-*+]|\d+\.)\s+(?:\[[ xX]\]\s+)?|\s*)/.exec(line)![1]!;
  const indent = " ".repeat(marker.length);
  const out: string[] = [];
  let current = marker;
  let currentHasWord = false;
  for (const word of line.slice(marker.length).split(/\s+/).filter(Boolean)) {
    if (currentHasWord && current.length + 1 + word.length > width) {
      out.push(current);
      current = indent + word;
    } else {
      current += (currentHasWord ? " " : "") + word;
    }
    currentHasWord = true;
  }
  out.push(current);
  return out;
}

/** Wraps every prose line of a Markdown document; headings, tables and code stay as they are. */
export function wrapMarkdown(text: string, width: number): string {
  const out: string[] = [];
  forEachLine(text, (line, _i, inFence) => {
    if (inFence || isTableRow(line) || isHeading(line)) out.push(line);
    else out.push(...wrapLine(line, width));
  });
  return out.join("\n");
}

/** Escapes text for one Markdown table cell. */
export function tableCell(text: string): string {
  return text
    .replace(/\\/g, "\\\\")
    .replace(/\|/g, "\\|")
    .replace(/[\r\n]+/g, " ");
}

// One capture group, so `split` keeps the URLs at odd indexes.
const URL_TOKEN_SPLIT = /(\b(?:[a-z][a-z0-9+.-]*:\/\/|www\.)[^\s<>()[\]`]+)/i;

function hostOf(url: string): string | null {
  try {
    return new URL(/^www\./i.test(url) ? `https://${url}` : url).hostname.toLowerCase();
  } catch {
    return null;
  }
}

function hostAllowed(url: string, allowedHosts: readonly string[]): boolean {
  const host = hostOf(url);
  if (!host || !/^https?:/i.test(/^www\./i.test(url) ? "https:" : url)) return false;
  return allowedHosts.some((h) => host === h.toLowerCase() || host.endsWith(`.${h.toLowerCase()}`));
}

/**
 * Makes untrusted one-line text (commit subjects, file names, blueprint names) inert in Markdown: no HTML, no
 * pings, no images, no links. `<` becomes an entity so no tag can open, mentions are shown as code instead
 * of notifying anyone, and a link — Markdown or bare, as forges autolink them — becomes code unless its host
 * is one of `allowedHosts` (the policy's `prose.allowed_link_hosts`).
 */
export function inertText(text: string, allowedHosts: readonly string[] = []): string {
  return text
    .replace(/[\r\n]+/g, " ")
    .replace(/<!--[\s\S]*?-->/g, "")
    .replace(/`/g, "'")
    .replace(/</g, "&lt;")
    .replace(/!\[/g, "[")
    .replace(/\[([^\]]*)\]\(([^)\s]*)[^)]*\)/g, (_whole, label: string, url: string) => `${label} (${url})`)
    .split(URL_TOKEN_SPLIT)
    .map((part, i) =>
      i % 2 === 1
        ? hostAllowed(part, allowedHosts)
          ? part
          : `\`${part}\``
        : part.replace(/(^|[^\w`])@([A-Za-z0-9][\w.-]*)/g, "$1`@$2`"),
    )
    .join("")
    .trim();
}

/**
 * Makes untrusted multi-line text (a blueprint's description) inert while keeping its paragraphs: each line
 * as `inertText`, links shown as text, and no line that could open or close a code fence or a heading.
 */
export function inertBlock(text: string, allowedHosts: readonly string[] = []): string {
  return text
    .replace(/\r\n?/g, "\n")
    .replace(/<!--[\s\S]*?-->/g, "")
    .split("\n")
    .map((line) => inertText(line, allowedHosts).replace(/^(#{1,6}\s|>|[`~]{3,}|[-*_]{3,}\s*$|={3,}\s*$)/, "\\$1"))
    .join("\n")
    .replace(/\n{3,}/g, "\n\n")
    .trim();
}

/** Collapses runs of blank lines so optional empty variables do not leave holes. */
export function tidyBlankLines(text: string): string {
  return (
    text
      .replace(/[ \t]+$/gm, "")
      .replace(/\n{3,}/g, "\n\n")
      .trim() + "\n"
  );
}
