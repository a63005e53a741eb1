/**
 * The scripted model of adversarial mode: per case, 1–3 realistic bad drafts of named kinds, then a good one.
 * The answers are served by the loopback OpenAI emulator (test/emulators/openai-chat.ts) to the real
 * ChatOpenAI client the agent builds from its environment, so parsing, repair prompts and usage are real.
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
};

export interface Prose {
  type: string;
  summary: string;
  purpose: string;
  highlights: string[];
}

/**
 * Tokens the bad drafts plant; none may ever appear in a published PR. No fixture contains them: the paths
 * and the trace exist nowhere, and fixture hashes are fixed (git-fixture.ts), none starting with this one.
 */
export const PLANTED = {
  file: "src/Legacy/LegacyOrderGateway.cs",
  config: "config/appsettings.Production.json",
  hash: "4e7f2a9c1b",
  mention: "@release-manager",
  link: "https://pastebin.com/raw/8sd7fQ",
  trace: "trace-zz-9999",
  filler: "This PR was auto-generated",
} as const;

export interface ScriptedDraft {
  kind: BadKind | "good";
  step: Step;
}

/** The good draft: the reference title's type and summary (so facts-based expectations hold) and neutral prose. */
export function goodProse(title: string | null): Prose {
  const m = title ? /^([a-z]+)\([^)]*\): (.+) \[trace:[^\]]+\]$/.exec(title) : null;
  return {
    type: m?.[1] ?? "fix",
    summary: m?.[2] ?? "update the component",
    purpose:
      "Applies the change this trace records and keeps the rest of the component as it was; the linked commits list each step.",
    highlights: ["Keeps the change inside the component scope", "Leaves the behaviour of other components unchanged"],
  };
}

/** A bad draft of the given kind, derived from the good one; `variant` picks one of a kind's realistic shapes. */
export function badDraft(kind: BadKind, good: Prose, variant: number): Step {
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
  }
}

/** Case `index` gets 1–3 bad drafts, kinds rotating so every kind is used across the dataset, then the good one. */
export function scriptFor(index: number, good: Prose): ScriptedDraft[] {
  const count = 1 + (index % 3);
  const bad = Array.from({ length: count }, (_, j) => {
    const kind = BAD_KINDS[(index * 3 + j) % BAD_KINDS.length]!;
    return { kind, step: badDraft(kind, good, index + j) };
  });
  return [...bad, { kind: "good", step: { args: { ...good } } }];
}
