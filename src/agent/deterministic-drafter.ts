import type { CommitInfo } from "../domain/commit.js";
import type { ChangeDigest, CodeSymbol, FileDigest } from "../domain/digest.js";
import type { Policy } from "../domain/policy.js";
import type { Draft, PrFacts, PrPlan } from "../domain/pull-request.js";
import { classifyChange, parseConventional, splitUpstreamRefs } from "../policy/change-type.js";
import { inertText } from "../render/markdown.js";
import { composeTitle } from "../render/title.js";
import { forbiddenKeywordsIn } from "../validate/title.js";

const TRAILER =
  /^(Signed-off-by|Co-authored-by|Reviewed-by|Acked-by|Tested-by|Reported-by|Suggested-by|Helped-by|Change-Id|Cc|BREAKING[ -]CHANGE):\s/i;
/** Symbol highlights per verb, so one big change still leaves room for the commit body's points. */
const MAX_SYMBOLS_PER_VERB = 4;

function isMerge(c: CommitInfo): boolean {
  return c.parents.length > 1;
}

function stripTraceTags(text: string): string {
  return text.replace(/\s*\[trace:[^\]]*\]\s*/g, " ").trim();
}

/** The subject without its conventional prefix, `[fix]`-style tags and upstream references like `(#591)`. */
function subjectSummary(subject: string, types: readonly string[]): string {
  const reverted = /^Revert "(.+)"$/i.exec(subject.trim());
  if (reverted) return `roll back "${subjectSummary(reverted[1]!, types)}"`;
  const conv = parseConventional(subject);
  const text = conv && types.includes(conv.type) ? conv.description : subject.trim().replace(/^\[[^\]]+\]\s*/, "");
  return splitUpstreamRefs(text).text;
}

/** Titles are plain text: one line, no backticks, no HTML comments, and no @ that could notify someone. */
function plainTitleText(text: string): string {
  return text
    .replace(/[\r\n]+/g, " ")
    .replace(/<!--[\s\S]*?-->/g, "")
    .replace(/`/g, "'")
    .replace(/(^|[^\w])@([A-Za-z0-9])/g, "$1$2")
    .replace(/\s{2,}/g, " ")
    .trim();
}

/** `Implement CreateOrderHandler.` → `implement CreateOrderHandler`; leaves acronyms (`API`) alone. */
function summaryCase(text: string): string {
  const t = text.replace(/[.\s]+$/, "");
  return /^[A-Z][a-z]/.test(t) ? t[0]!.toLowerCase() + t.slice(1) : t;
}

function sentence(text: string): string {
  const t = text.trim();
  if (!t) return t;
  const cap = t[0]!.toUpperCase() + t.slice(1);
  return /[.!?]$/.test(cap) ? cap : `${cap}.`;
}

function removeWords(text: string, words: readonly string[]): string {
  let out = text;
  for (const w of words) {
    const escaped = w.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
    out = out.replace(new RegExp(`(?<![\\p{L}\\p{N}_])${escaped}(?![\\p{L}\\p{N}_])`, "giu"), " ");
  }
  return out
    .replace(/\s{2,}/g, " ")
    .replace(/\s+([,.;:])/g, "$1")
    .trim();
}

/** Cuts the summary at a word boundary so the whole title fits the limit. */
function fitSummary(summary: string, room: number): string {
  if (summary.length <= room) return summary;
  const cut = summary.slice(0, room + 1);
  const space = cut.lastIndexOf(" ");
  return (space > 0 ? cut.slice(0, space) : summary.slice(0, room)).replace(/[\s,.;:-]+$/, "");
}

function commitHighlights(commits: readonly CommitInfo[], allowedHosts: readonly string[]): string[] {
  return commits
    .filter((c) => !isMerge(c))
    .flatMap((c) => c.body.split("\n"))
    .map((l) => l.trim())
    .filter((l) => l && !TRAILER.test(l) && !/^This reverts commit [0-9a-f]{7,}/i.test(l))
    .map((l) => l.replace(/^[-*+]\s+/, ""))
    .map((l) => inertText(stripTraceTags(l), allowedHosts))
    .filter(Boolean)
    .map((l) => (l.length > 200 ? `${l.slice(0, 197)}...` : l));
}

function symbolList(symbols: readonly CodeSymbol[], exportedOnly: boolean): string[] {
  const chosen = symbols.filter((s) => s.kind !== "key" && (!exportedOnly || s.exported));
  // Types first: `Adds OrderV2Controller` says more than its ten methods.
  const ranked = [...chosen].sort((a, b) => Number(b.kind === "type") - Number(a.kind === "type"));
  const names = [...new Set(ranked.map((s) => s.name))];
  return names;
}

function phrase(verb: string, names: readonly string[], qualifier: string): string | null {
  if (names.length === 0) return null;
  const shown = names.slice(0, MAX_SYMBOLS_PER_VERB).map((n) => `\`${inertText(n).replace(/'/g, "")}\``);
  const more = names.length > shown.length ? ` and ${names.length - shown.length} more` : "";
  return `${verb} ${qualifier}${shown.join(", ")}${more}`;
}

/**
 * "Adds `Order.ApplyDiscount`", "Removes public `OrderV1Controller`", "Changes `OrderService.Create`": what the
 * parsers saw, exported symbols first. Configuration keys are listed for YAML/JSON-only changes.
 */
export function digestHighlights(digest: ChangeDigest | null | undefined): string[] {
  if (!digest) return [];
  const of = (files: readonly FileDigest[], pick: "added" | "removed" | "changed") =>
    files.flatMap((f) => f.symbols?.[pick] ?? []);
  const code = digest.files.filter((f) => f.role !== "test");
  const tests = digest.files.filter((f) => f.role === "test");
  const out: string[] = [];
  const removedPublic = symbolList(of(code, "removed"), true);
  const removedOther = symbolList(of(code, "removed"), false).filter((n) => !removedPublic.includes(n));
  const added = symbolList(of(code, "added"), false);
  const changed = symbolList(of(code, "changed"), false).filter((n) => !added.includes(n));
  for (const line of [
    phrase("Adds", added, ""),
    phrase("Changes", changed, ""),
    phrase("Removes", removedPublic, "public "),
    phrase("Removes", removedOther, ""),
    phrase("Adds tests in", symbolList([...of(tests, "added"), ...of(tests, "changed")], false), ""),
  ])
    if (line) out.push(line);
  if (out.length === 0) {
    const keys = (pick: "added" | "removed" | "changed") =>
      of(digest.files, pick)
        .filter((s) => s.kind === "key")
        .map((s) => s.name);
    for (const line of [
      phrase("Sets", keys("changed"), ""),
      phrase("Adds", keys("added"), "keys "),
      phrase("Removes", keys("removed"), "keys "),
    ])
      if (line) out.push(line);
  }
  return out;
}

function highlightsOf(facts: PrFacts, policy: Policy): string[] {
  const lines = [
    ...digestHighlights(facts.digest),
    ...commitHighlights(facts.changes.commits, policy.prose.allowed_link_hosts),
  ];
  return [...new Set(lines)].slice(0, policy.prose.max_highlights);
}

/**
 * Prose from the commit messages alone — no model. Used when no model is configured and as the fallback
 * when a model fails, so it must always pass the gate: it keeps the title within its limit, drops
 * forbidden keywords, and neutralises Markdown in untrusted commit text.
 */
export function draftDeterministically(
  facts: PrFacts,
  policy: Policy,
  plan?: Pick<PrPlan, "type" | "breaking">,
): Draft {
  const { commits } = facts.changes;
  const kind = plan ?? classifyChange(facts.changes, policy, facts.source_branch, facts.digest);
  const type = kind.type;
  const newestFirst = [...commits].reverse().filter((c) => !isMerge(c));
  // The summary comes from the newest commit that carries the PR's type, so type and summary agree.
  const lead =
    newestFirst.find((c) => parseConventional(c.subject)?.type === type) ??
    newestFirst[0] ??
    commits[commits.length - 1]!;

  let summary = summaryCase(plainTitleText(stripTraceTags(subjectSummary(lead.subject, policy.title.types))));
  if (forbiddenKeywordsIn(summary, policy.title.forbidden_keywords).length > 0)
    summary = removeWords(summary, policy.title.forbidden_keywords);
  if (!/[\p{L}\p{N}]/u.test(summary)) summary = `update ${facts.trace.component_scope} component`;
  const room =
    policy.title.max_length -
    composeTitle(type, facts.trace.component_scope, "", facts.trace.trace_id, policy, kind.breaking).length;
  summary = fitSummary(summary, room);

  // A change request's alert, remediation and impact have their own Context section; the purpose ties them together.
  if (facts.change)
    return {
      type,
      summary,
      purpose: sentence(`${summary} in response to the alert ${inertText(facts.change.alert)}`),
      highlights: [],
    };
  const blueprint = facts.trace.blueprint_name
    ? `\`${facts.trace.blueprint_id}\` (${inertText(facts.trace.blueprint_name)})`
    : `\`${facts.trace.blueprint_id}\``;
  // The blueprint's description has its own place in the body; the purpose states what this change does.
  const purpose = sentence(`${summary}, as defined in blueprint ${blueprint}`);
  return { type, summary, purpose, highlights: highlightsOf(facts, policy) };
}
