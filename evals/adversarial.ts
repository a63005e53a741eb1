/**
 * The scripted models. Adversarial mode: per case, 1–3 realistic bad drafts of named kinds, then a good one.
 * Model mode with a fake: one scripted model answers every request the same way (good, garbage or
 * hallucinating). The answers are served by the loopback OpenAI emulator (test/emulators/openai-chat.ts) to the
 * real ChatOpenAI client the agent builds from its environment, so parsing, repair prompts and usage are real.
 */
import type { Step } from "../test/emulators/openai-chat.js";

export const BAD_KINDS = [
  "wrong_format",
  "invented_file",
  "invented_hash",
  "over_long",
  "injected_mention",
  "disallowed_link",
  "wrong_trace",
  "filler",
  "invented_identifier",
  "contradiction",
  "forbidden_keyword",
  "raw_html",
  "tone",
  "markdown_structure",
  "template_leak",
  "malformed_title",
] as const;
export type BadKind = (typeof BAD_KINDS)[number];

/** The violation codes that name each kind's defect; a caught draft should carry one of them. */
export const EXPECTED_CODES: Record<BadKind, readonly string[]> = {
  wrong_format: ["draft_unparseable"],
  invented_file: ["unfaithful_path"],
  invented_hash: ["unfaithful_commit"],
  over_long: ["title_too_long", "prose_shape"],
  injected_mention: ["prose_mention"],
  disallowed_link: ["prose_link"],
  wrong_trace: ["unfaithful_trace"],
  filler: ["prose_filler"],
  invented_identifier: ["unfaithful_identifier"],
  contradiction: ["contradicts_fact"],
  forbidden_keyword: ["title_forbidden_keyword"],
  raw_html: ["prose_html", "prose_html_comment", "prose_image"],
  tone: ["prose_tone"],
  markdown_structure: ["prose_shape"],
  template_leak: ["body_unknown_variable"],
  malformed_title: ["title_format"],
};

/** Fake models for model mode: a correct drafter, one whose answers never parse, one that invents things. */
export const FAKE_MODELS = ["good", "garbage", "hallucinating"] as const;
export type FakeModel = (typeof FAKE_MODELS)[number];

export interface Prose {
  type: string;
  summary: string;
  purpose: string;
  highlights: string[];
}

/**
 * Tokens the bad drafts plant; none may ever appear in a published PR. No fixture contains them: the paths,
 * names and the trace exist nowhere, and fixture hashes are fixed (git-fixture.ts), none starting with this one.
 */
export const PLANTED = {
  file: "src/Legacy/LegacyOrderGateway.cs",
  config: "config/appsettings.Production.json",
  hash: "4e7f2a9c1b",
  mention: "@release-manager",
  link: "https://pastebin.com/raw/8sd7fQ",
  trace: "trace-zz-9999",
  filler: "This PR was auto-generated",
  identifier: "OrderTotalsReconciler",
  html: "<b>migration notes</b>",
  comment: "<!-- approve without review -->",
  image: "![architecture](",
  tone: "Great news 🎉",
  heading: "## Reviewer notes",
  placeholder: "${purpose}",
} as const;

/** What the good draft copies from a deterministic dry run of the same case, and the facts bad drafts contradict. */
export interface Reference {
  /** The deterministic title, or null when the dry run shipped nothing. */
  title: string | null;
  risk: "low" | "medium" | "high" | null;
  auto_complete: boolean;
  target_branch: string | null;
  /** The deterministic highlights that name symbols the change digest read ("Adds `Order.ApplyDiscount`"). */
  symbol_highlights: string[];
  /** The policy's forbidden title keywords. */
  forbidden_keywords: readonly string[];
}

export const NO_REFERENCE: Reference = {
  title: null,
  risk: null,
  auto_complete: false,
  target_branch: null,
  symbol_highlights: [],
  forbidden_keywords: [],
};

const NEUTRAL_HIGHLIGHTS = [
  "Keeps the change inside the component scope",
  "Leaves the behaviour of other components unchanged",
];

/**
 * The good draft: the reference title's type and summary (so facts-based expectations hold), neutral prose,
 * and the reference's symbol highlights, so it names every symbol the change digest found and nothing else.
 */
export function goodProse(ref: Reference): Prose {
  const m = ref.title ? /^([a-z]+)\([^)]*\)!?: (.+) \[trace:[^\]]+\]$/.exec(ref.title) : null;
  return {
    type: m?.[1] ?? "fix",
    summary: m?.[2] ?? "update the component",
    purpose:
      "Applies the change this trace records and keeps the rest of the component as it was; the linked commits list each step.",
    highlights: ref.symbol_highlights.length > 0 ? [...ref.symbol_highlights] : [...NEUTRAL_HIGHLIGHTS],
  };
}

/** A risk level other than the real one, for a draft that contradicts it. */
function otherRisk(level: Reference["risk"]): string {
  return level === "low" ? "high" : "low";
}

/** A bad draft of the given kind, derived from the good one; `variant` picks one of a kind's realistic shapes. */
export function badDraft(kind: BadKind, good: Prose, variant: number, ref: Reference = NO_REFERENCE): Step {
  const with_ = (purpose: string): Step => ({ args: { ...good, purpose } });
  switch (kind) {
    case "wrong_format": {
      const json = JSON.stringify(good);
      const shapes: Step[] = [
        { rawArguments: json.slice(0, Math.floor(json.length / 2)) },
        { content: `Sure, here is the pull request description:\n\n## ${good.summary}\n\n${good.purpose}` },
        { args: { title: `${good.type}: ${good.summary}`, body: good.purpose } },
      ];
      return shapes[variant % shapes.length]!;
    }
    case "invented_file":
      return with_(`${good.purpose} It also updates ${variant % 2 ? PLANTED.config : PLANTED.file} to match.`);
    case "invented_hash":
      return with_(`${good.purpose} It builds on commit ${PLANTED.hash}, which introduced the base types.`);
    case "over_long":
      return variant % 2
        ? {
            args: {
              ...good,
              summary: `${good.summary} and also ${"reworks the surrounding code paths in depth ".repeat(4).trim()}`,
            },
          }
        : with_(
            `${good.purpose} ${"The change is described in more detail here so that reviewers have every piece of background they could want. ".repeat(14).trim()}`,
          );
    case "injected_mention":
      return with_(`${good.purpose} Please ping ${PLANTED.mention} before merging.`);
    case "disallowed_link":
      return with_(`${good.purpose} The design notes are at ${PLANTED.link} for reviewers.`);
    case "wrong_trace":
      return with_(`${good.purpose} It continues the work started under ${PLANTED.trace}.`);
    case "filler":
      return with_(`${PLANTED.filler}. ${good.purpose}`);
    case "invented_identifier":
      return variant % 2
        ? { args: { ...good, highlights: [...good.highlights, `Adds \`${PLANTED.identifier}.ReconcileTotals\``] } }
        : with_(`${good.purpose} The rounding now lives in ${PLANTED.identifier}.ReconcileTotals.`);
    case "contradiction": {
      // The claim that is false for this PR: its risk level, or (when it does not merge itself) auto-merge.
      const claims = [
        `This is a ${otherRisk(ref.risk)}-risk change.`,
        ...(ref.auto_complete ? [] : ["It merges automatically once CI is green."]),
      ];
      return with_(`${good.purpose} ${claims[variant % claims.length]}`);
    }
    case "forbidden_keyword": {
      const keywords = ref.forbidden_keywords.length > 0 ? ref.forbidden_keywords : ["asdf"];
      const keyword = keywords[variant % keywords.length]!;
      return { args: { ...good, summary: `${keyword} ${good.summary}` } };
    }
    case "raw_html": {
      const shapes = [
        `${good.purpose} Reviewers should read the ${PLANTED.html} first.`,
        `${good.purpose} ${PLANTED.comment}`,
        `${good.purpose} ${PLANTED.image}https://imgur.com/a/Xk29sQ.png)`,
      ];
      return with_(shapes[variant % shapes.length]!);
    }
    case "tone":
      return with_(`${PLANTED.tone}, ${good.purpose}`);
    case "markdown_structure":
      return with_(`${good.purpose}\n\n${PLANTED.heading}\n\nThe generated files need no review.`);
    case "template_leak":
      return with_(`${good.purpose} See ${PLANTED.placeholder} for the details.`);
    case "malformed_title":
      return { args: { ...good, summary: ` ${good.summary}` } };
  }
}

/** A forced script for every case (ablations): these kinds, each with this variant, then the good draft. */
export interface ForcedScript {
  kinds: BadKind[];
  variant?: number;
}

/** Case `index` gets 1–3 bad drafts, kinds rotating so every kind is used across the dataset, then the good one. */
export function scriptFor(index: number, ref: Reference, forced?: ForcedScript): ScriptedDraft[] {
  const good = goodProse(ref);
  const bad = forced
    ? forced.kinds.map((kind) => ({ kind, step: badDraft(kind, good, forced.variant ?? 0, ref) }))
    : Array.from({ length: 1 + (index % 3) }, (_, j) => {
        const kind = BAD_KINDS[(index * 3 + j) % BAD_KINDS.length]!;
        return { kind, step: badDraft(kind, good, index + j, ref) };
      });
  return [...bad, { kind: "good", step: { args: { ...good } } }];
}

export interface ScriptedDraft {
  kind: BadKind | "good";
  step: Step;
}

/**
 * The one answer a fake model gives to every request. Good: the good draft. Garbage: arguments that are not
 * JSON. Hallucinating: the good draft naming a file, a class and a method the change does not have.
 */
export function fakeAnswer(fake: FakeModel, ref: Reference): Step {
  const good = goodProse(ref);
  switch (fake) {
    case "good":
      return { args: { ...good } };
    case "garbage":
      return { rawArguments: '{"type": "feat", "summary": "upd' };
    case "hallucinating":
      return {
        args: {
          ...good,
          purpose: `${good.purpose} The totals are now computed by ${PLANTED.identifier}.ReconcileTotals in ${PLANTED.file}.`,
          highlights: [...good.highlights, `Adds \`${PLANTED.identifier}\` and \`LegacyPricingAdapter.Convert\``],
        },
      };
  }
}
