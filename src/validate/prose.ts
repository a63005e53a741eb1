import type { Policy } from "../domain/policy.js";
import type { Draft } from "../domain/pull-request.js";
import type { Violation, ViolationCode } from "../domain/violations.js";
import { forEachLine } from "../render/markdown.js";

/**
 * Rules for the prose a model drafts (summary, purpose, highlights). Pure. Every message goes back to the
 * model as a repair instruction, so it quotes the offending text and says what to do instead.
 */

type Say = (code: ViolationCode, message: string) => void;

/**
 * Raw inline constructs in one left-to-right pass, as CommonMark reads them (whichever starts first wins):
 * a tag inside a code span is code, and a backtick inside a tag's attribute cannot hide the tag.
 * A backtick run opens a span only when it is not escaped and not part of a longer run.
 */
const INLINE = new RegExp(
  [
    /(?<code>(?<![\\`])(?<ticks>`+)(?!`)[\s\S]*?(?<!`)\k<ticks>(?!`))/, // `code`, ``a ` b``
    /(?<comment><!--[\s\S]*?(?:-->|$))/, // masked here, reported by comments() from the raw text
    /(?<autolink><[A-Za-z][\w+.-]{1,31}:[^\s<>]*>)/, // <https://…>
    /(?<tag><\/?[A-Za-z][A-Za-z0-9-]*(?:\s[^<>]*)?\/?>)/, // <b>, <img src=x>, </div>, <br/>; not `a < b`
  ]
    .map((r) => r.source)
    .join("|"),
  "g",
);
const COMMENT = /<!--[\s\S]*?(?:-->|$)/g;
const IMAGE = /!\[[^\]]*\](?:\([^)]*\)|\[[^\]]*\])/g;
const LINK_DEFINITION = /^ {0,3}\[[^\]]+\]:[ \t]*<?([^\s>]+)>?.*$/gm;
const LINK_DESTINATION = /\]\(\s*<?([^\s)>]*)[^)\n]*\)/g;
const BARE_URL = /\b(?:https?|ftp):\/\/[^\s<>()[\]]+|\bwww\.[^\s<>()[\]]+/gi;
const UNSAFE_SCHEMES = new Set(["javascript:", "data:", "vbscript:"]);
/** GitHub's rule: `@` after a non-word character, not part of an e-mail address or a domain (`@example.com`). */
const MENTION = /(?<!\w)@[A-Za-z0-9][A-Za-z0-9-]*(?:\/[A-Za-z0-9][\w-]*)?(?!\w|\.\w)/g;

// Formal tone, reduced to what a regex can decide without guessing:
/** "!" is excitement, not information; `!=` is an operator (images are masked before this runs). */
const EXCLAMATION = /!(?!=)/;
/** Emoji and flags; ©, ® and ™ are pictographic in Unicode but ordinary in formal text. */
const EMOJI = /(?![©®™])\p{Extended_Pictographic}|\p{Regional_Indicator}/gu;
/** First person singular: the PR describes the change, not its author. `I` is case-sensitive so `i.e.` and `I/O` pass. */
const FIRST_PERSON = /(?<![\p{L}\p{N}_'’/-])(?:I(?:['’](?:m|ve|d|ll))?|[Mm](?:e|y|ine|yself))(?![\p{L}\p{N}_'’/-])/gu;
/**
 * Shouting: a word of 5+ capitals. Four-letter capitals are mostly acronyms (JSON, YAML, REST, UUID, MUST), so
 * they pass; longer acronyms, conventional file names and RFC 2119 keywords are allowed explicitly. A dot
 * followed by a letter (`README.md`) makes it a file name, not a word.
 */
const SHOUT = /(?<![\p{L}\p{N}_.])\p{Lu}{5,}(?![\p{L}\p{N}_]|\.[\p{L}\p{N}])/gu;
const ALLOWED_CAPITALS = new Set([
  "HTTPS",
  "OAUTH",
  "ASCII",
  "JSONL",
  "POSIX",
  "XHTML",
  "GRAPHQL",
  "MSSQL",
  "NOSQL",
  "NGINX",
  "README",
  "CHANGELOG",
  "LICENSE",
  "CODEOWNERS",
  "CONTRIBUTING",
  "SHALL",
  "SHOULD",
  "REQUIRED",
  "OPTIONAL",
  "RECOMMENDED",
]);
/** Placeholders that stand in for content. Whole words only, so "somethings" and "everything" pass. */
const VAGUE = /(?<![\p{L}\p{N}_])(?:stuff|things|etc\.?|lorem ipsum)(?![\p{L}\p{N}_])|\.{3,}|…/giu;
/** Marker words are case-sensitive: "a todo list" is a feature, "TODO" is a gap. */
const MARKERS = /(?<![\p{L}\p{N}_])(?:TODO|TBD|FIXME)(?![\p{L}\p{N}_])/gu;

/** Titles are plain text. `#` after a letter is a name (C#, F#); brackets could also forge a `[trace:…]` tag. */
const SUMMARY_MARKDOWN = /[`*[\]]|(?<![\p{L}\p{N}])_|_(?![\p{L}\p{N}])|(?<!\p{L})#/gu;
const ATX_HEADING = /^ {0,3}#{1,6}(?:[ \t]|$)/;
const SETEXT_UNDERLINE = /^ {0,3}(?:=+|-+)[ \t]*$/;
const LIST_MARKER = /^\s*(?:[-*+]|\d+[.)])(?:\s|$)/;

export function validateProse(draft: Draft, policy: Policy): Violation[] {
  const out: Violation[] = [];
  const sayIn =
    (where: "summary" | "purpose" | "highlights"): Say =>
    (code, message) =>
      out.push({ code, message, where });

  const summary = sayIn("summary");
  checkText("summary", draft.summary, policy, summary);
  summaryShape(draft.summary, summary);

  const purpose = sayIn("purpose");
  checkText("purpose", draft.purpose, policy, purpose);
  purposeShape(draft.purpose, policy, purpose);

  const highlights = sayIn("highlights");
  const { max_highlights, max_highlight_length } = policy.prose;
  if (draft.highlights.length > max_highlights)
    highlights("prose_shape", `highlights has ${draft.highlights.length} items; keep at most ${max_highlights}`);
  draft.highlights.forEach((text, i) => {
    const label = `highlight ${i + 1}`;
    checkText(label, text, policy, highlights);
    highlightShape(label, text, max_highlight_length, highlights);
  });
  return out;
}

/** The content rules, in an order where each masks what it reported so later rules do not report it again. */
function checkText(label: string, text: string, policy: Policy, say: Say): void {
  comments(label, text, say);
  const { rest, tags, autolinks } = scanInline(text);
  for (const tag of unique(tags))
    say("prose_html", `${label} contains the HTML tag ${quote(tag)}; remove it, or put code in backticks`);
  const withoutImages = images(label, decodeNumericEntities(rest), say);
  const words = links(label, withoutImages, autolinks, policy.prose.allowed_link_hosts, say);
  for (const m of unique(words.match(MENTION) ?? []))
    say("prose_mention", `${label} contains the @mention ${quote(m)}; remove it`);
  tone(label, filler(label, words, policy.prose.filler_phrases, say), say);
}

/** Reported anywhere, code spans included: a comment is how text gets hidden from reviewers. */
function comments(label: string, text: string, say: Say): void {
  for (const c of unique(text.match(COMMENT) ?? [])) {
    const kind = c.endsWith("-->") ? "the HTML comment" : "the unterminated HTML comment";
    say("prose_html_comment", `${label} contains ${kind} ${quote(c)}; remove it`);
  }
}

/** The text with code spans, comments, tags and autolinks blanked out, plus the tags and autolink URLs found. */
function scanInline(text: string): { rest: string; tags: string[]; autolinks: string[] } {
  const tags: string[] = [];
  const autolinks: string[] = [];
  const rest = text.replace(INLINE, (...args: unknown[]) => {
    const g = args.at(-1) as Record<string, string | undefined>;
    if (g.tag) tags.push(g.tag);
    if (g.autolink) autolinks.push(g.autolink.slice(1, -1));
    return " ";
  });
  return { rest, tags, autolinks };
}

/** `&#64;admin` renders as `@admin` and still pings; decoded after the tag scan, since `&lt;b&gt;` is only text. */
function decodeNumericEntities(text: string): string {
  return text.replace(
    /&#(?:[xX]([0-9a-fA-F]{1,6})|(\d{1,7}));/g,
    (m, hex: string | undefined, dec: string | undefined) => {
      const cp = hex ? parseInt(hex, 16) : Number(dec);
      return cp > 0 && cp <= 0x10ffff ? String.fromCodePoint(cp) : m;
    },
  );
}

function images(label: string, text: string, say: Say): string {
  for (const img of unique(text.match(IMAGE) ?? []))
    say("prose_image", `${label} contains the image ${quote(img)}; remove it`);
  return text.replace(IMAGE, " ");
}

/** Every link target: autolinks, `[ref]: url`, `[text](url)` and bare URLs. Returns the text without the URLs. */
function links(label: string, text: string, autolinks: string[], allowed: readonly string[], say: Say): string {
  const urls = new Set(autolinks);
  const rest = text
    .replace(LINK_DEFINITION, (_m, url: string) => {
      urls.add(url);
      return " ";
    })
    .replace(LINK_DESTINATION, (_m, url: string) => {
      if (url) urls.add(url);
      return "] ";
    })
    .replace(BARE_URL, (m) => {
      const url = m.replace(/[.,;:!?'"*_~]+$/, ""); // trailing punctuation ends the sentence, not the URL (GFM)
      urls.add(url);
      return " " + m.slice(url.length);
    });
  for (const url of urls) {
    const parsed = parseUrl(url);
    if (parsed && UNSAFE_SCHEMES.has(parsed.protocol))
      say("prose_link", `${label} contains a ${parsed.protocol} URL; remove it`);
    else if (!hostAllowed(parsed?.hostname ?? "", allowed)) {
      const why = parsed?.hostname ? "whose host is not allowed" : "which has no host";
      const hint = allowed.length > 0 ? ` (allowed hosts: ${allowed.join(", ")})` : "";
      say("prose_link", `${label} links to ${quote(url)}, ${why}${hint}; remove the link`);
    }
  }
  return rest;
}

function parseUrl(url: string): URL | null {
  try {
    return new URL(/^www\./i.test(url) ? `https://${url}` : url);
  } catch {
    return null; // relative: no host, so never allowed
  }
}

/** A host matches an allowed entry and its subdomains, case-insensitively (`URL` already lower-cases it). */
function hostAllowed(host: string, allowed: readonly string[]): boolean {
  const h = host.replace(/\.$/, "");
  return (
    h !== "" &&
    allowed.some((entry) => {
      const a = entry
        .trim()
        .toLowerCase()
        .replace(/^\*?\./, "")
        .replace(/\.$/, "");
      return h === a || h.endsWith(`.${a}`);
    })
  );
}

/** Whole words, case-insensitive, any whitespace between words. Returns the text without the phrases found. */
function filler(label: string, text: string, phrases: readonly string[], say: Say): string {
  let rest = text;
  for (const phrase of phrases.map((p) => p.trim()).filter(Boolean)) {
    const words = phrase.split(/\s+/).map((w) => w.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"));
    const re = new RegExp(`(?<![\\p{L}\\p{N}_])${words.join("\\s+")}(?![\\p{L}\\p{N}_])`, "giu");
    if (!re.test(rest)) continue;
    say("prose_filler", `${label} contains the filler phrase ${quote(phrase)}; remove it`);
    rest = rest.replace(re, " "); // "let me know" is one problem, not also a first-person one
  }
  return rest;
}

/** One violation per kind of tone problem, listing what was found. */
function tone(label: string, text: string, say: Say): void {
  const list = (found: Iterable<string>) => unique(found).map(quote).join(", ");
  if (EXCLAMATION.test(text)) say("prose_tone", `${label} contains "!"; use a neutral tone without exclamation marks`);
  const emoji = text.match(EMOJI) ?? [];
  if (emoji.length > 0) say("prose_tone", `${label} contains emoji (${list(emoji)}); remove them`);
  const firstPerson = text.match(FIRST_PERSON) ?? [];
  if (firstPerson.length > 0)
    say("prose_tone", `${label} uses the first person (${list(firstPerson)}); describe the change impersonally`);
  const shouted = (text.match(SHOUT) ?? []).filter((w) => !ALLOWED_CAPITALS.has(w));
  if (shouted.length > 0)
    say("prose_tone", `${label} shouts in capitals (${list(shouted)}); use normal case, or backticks for code`);
  const vague = [...(text.match(VAGUE) ?? []), ...(text.match(MARKERS) ?? [])];
  if (vague.length > 0) say("prose_tone", `${label} uses placeholder wording (${list(vague)}); state the specifics`);
}

function summaryShape(text: string, say: Say): void {
  if (text.trim() === "") return say("prose_shape", "summary is empty; write a short imperative summary of the change");
  if (/[\r\n]/.test(text)) say("prose_shape", "summary spans several lines; write it on one line");
  if (/\.\s*$/.test(text)) say("prose_shape", "summary ends with a period; remove it");
  const markdown = text.match(SUMMARY_MARKDOWN) ?? [];
  if (markdown.length > 0)
    say(
      "prose_shape",
      `summary contains Markdown (${unique(markdown).map(quote).join(", ")}); titles are plain text, so remove it`,
    );
}

/** Headings (ATX `#` or setext underlines) outside code fences would break the body's fixed section structure. */
function purposeShape(text: string, policy: Policy, say: Say): void {
  const max = policy.prose.max_purpose_length;
  if (text.trim() === "") say("prose_shape", "purpose is empty; write one paragraph on what the change does and why");
  if (text.length > max) say("prose_shape", `purpose is ${text.length} characters; shorten it to at most ${max}`);
  const headings: string[] = [];
  let previous = "";
  forEachLine(text, (line, _i, inFence) => {
    if (!inFence && ATX_HEADING.test(line)) headings.push(line.trim());
    else if (!inFence && SETEXT_UNDERLINE.test(line) && previous.trim() !== "" && !ATX_HEADING.test(previous))
      headings.push(`${previous.trim()}\n${line.trim()}`);
    previous = inFence ? "" : line;
  });
  if (headings.length > 0)
    say(
      "prose_shape",
      `purpose contains Markdown headings (${unique(headings).map(quote).join(", ")}); write plain paragraphs instead`,
    );
}

function highlightShape(label: string, text: string, maxLength: number, say: Say): void {
  if (text.trim() === "") return say("prose_shape", `${label} is empty; remove it`);
  if (/[\r\n]/.test(text)) say("prose_shape", `${label} spans several lines; write it on one line`);
  if (text.length > maxLength)
    say("prose_shape", `${label} is ${text.length} characters; shorten it to at most ${maxLength}`);
  const marker = LIST_MARKER.exec(text);
  if (marker)
    say(
      "prose_shape",
      `${label} starts with the list marker ${quote(marker[0].trim())}; remove it, the renderer adds the bullet`,
    );
  if (text.split(/\r?\n/).some((line) => ATX_HEADING.test(line)))
    say("prose_shape", `${label} is a Markdown heading; write it as plain text`);
}

function unique(items: Iterable<string>): string[] {
  return [...new Set(items)];
}

/** Quotes text for a message: JSON escaping keeps newlines visible, and long text is cut. */
function quote(text: string): string {
  const chars = Array.from(text);
  return JSON.stringify(chars.length > 60 ? `${chars.slice(0, 57).join("")}…` : text);
}
