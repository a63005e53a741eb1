import type { BaseChatModel } from "@langchain/core/language_models/chat_models";
import { AIMessage, HumanMessage, SystemMessage, type BaseMessage } from "@langchain/core/messages";
import type { Runnable } from "@langchain/core/runnables";
import { z } from "zod";
import { formatZodIssues } from "../domain/errors.js";
import type { Policy } from "../domain/policy.js";
import type { ChangeDigest, CodeSymbol, FileDigest } from "../domain/digest.js";
import type { Draft, PrFacts, PrPlan } from "../domain/pull-request.js";
import { classifyChange } from "../policy/change-type.js";
import type { Violation } from "../domain/violations.js";
import { PROMPTS, fenceUntrusted, fillPrompt, type PromptTexts } from "../prompts/prompts.js";
import { traceModelCall } from "../telemetry/model-span.js";
import { composeTitle } from "../render/title.js";

/** What the model must return. No defaults or optional keys: strict structured-output modes reject them. */
export const DraftOutputSchema = z.object({
  type: z.string().describe("Conventional commit type, e.g. feat or fix"),
  summary: z.string().describe("Imperative one-line summary without trace id or trailing period"),
  purpose: z.string().describe("One paragraph: what the change does and why"),
  highlights: z.array(z.string()).describe("Short points for reviewers, one line each, no list markers"),
});

export interface TokenUsage {
  prompt_tokens: number;
  completion_tokens: number;
}

export interface ModelDraftResult {
  /** The parsed prose, or null when the answer could not be read (then `violations` says why). */
  draft: Draft | null;
  violations: Violation[];
  /** The answer as sent back in a repair round. */
  answer: string;
  usage: TokenUsage;
}

export interface RepairRequest {
  previousAnswer: string;
  violations: readonly Violation[];
}

const METHOD = { function_calling: "functionCalling", json_schema: "jsonSchema", json_mode: "jsonMode" } as const;
const MAX_ANSWER_ECHO = 2000;

function fileLine(f: PrFacts["changes"]["files"][number]): string {
  const from = f.old_path ? ` (from ${f.old_path})` : "";
  const lines = f.binary ? "binary" : `+${f.additions} -${f.deletions}`;
  return `- ${f.change}: ${f.path}${from} [${lines}]`;
}

function symbolNames(symbols: readonly CodeSymbol[]): string {
  return symbols.map((s) => `${s.name}${s.exported ? "" : " (internal)"}`).join(", ");
}

function digestFileLine(f: FileDigest): string {
  const head = `- ${f.path} [${f.role}${f.language ? `, ${f.language}` : ""}]`;
  if (!f.symbols) return f.note ? `${head} ${f.note}` : head;
  const parts = [
    f.symbols.added.length ? `added: ${symbolNames(f.symbols.added)}` : "",
    f.symbols.changed.length ? `changed: ${symbolNames(f.symbols.changed)}` : "",
    f.symbols.removed.length ? `removed: ${symbolNames(f.symbols.removed)}` : "",
  ].filter(Boolean);
  return parts.length ? `${head} ${parts.join("; ")}` : head;
}

/** The digest as the model reads it: one line per file with symbols, then the breaking-change facts. */
export function renderDigestForPrompt(
  digest: ChangeDigest | null | undefined,
  plan: Pick<PrPlan, "breaking" | "breaking_reasons">,
): string {
  const lines = digest ? digest.files.map(digestFileLine) : ["(the files' contents could not be read)"];
  if (plan.breaking) lines.push(`Breaking change: ${plan.breaking_reasons.join("; ")}`);
  return lines.join("\n");
}

/** The system prompt and the input template filled with the facts; untrusted text is fenced as data. */
export function buildDraftMessages(
  facts: PrFacts,
  policy: Policy,
  styleExamples: readonly string[],
  repair?: RepairRequest,
  plan?: Pick<PrPlan, "type" | "type_reason" | "breaking" | "breaking_reasons">,
  prompts: PromptTexts = PROMPTS,
): BaseMessage[] {
  const { trace, changes } = facts;
  const kind = plan ?? classifyChange(changes, policy, facts.source_branch, facts.digest);
  const digest = facts.digest;
  const summaryMax =
    policy.title.max_length -
    composeTitle(kind.type, trace.component_scope, "", trace.trace_id, policy, kind.breaking).length;
  const examples = styleExamples.length
    ? fillPrompt(prompts.styleExamples, {
        examples: styleExamples.map((e, i) => fenceUntrusted(`earlier-pr-${i + 1}`, e)).join("\n"),
      })
    : "";
  const input = fillPrompt(prompts.draft, {
    type: kind.type,
    type_reason: kind.type_reason,
    summary_max: String(summaryMax),
    purpose_max: String(policy.prose.max_purpose_length),
    highlights_max: String(policy.prose.max_highlights),
    trace_id: trace.trace_id,
    blueprint_id: trace.blueprint_id,
    blueprint_name: trace.blueprint_name ?? "(not recorded)",
    component_scope: trace.component_scope,
    repo_name: facts.repo,
    branch_name: facts.source_branch,
    target_branch: facts.target_branch,
    change_stats: `${changes.files.length} files, +${changes.additions} -${changes.deletions} lines, ${changes.commits.length} commits`,
    blueprint_description: fenceUntrusted("blueprint", trace.description ?? ""),
    commit_messages: fenceUntrusted(
      "commits",
      changes.commits
        .map((c) => `commit ${c.short_hash} by ${c.author.name}\n${c.subject}\n${c.body}`.trim())
        .join("\n\n"),
    ),
    changed_files_list: fenceUntrusted("files", changes.files.map(fileLine).join("\n")),
    change_digest: fenceUntrusted("digest", renderDigestForPrompt(digest, kind)),
    diff_hunks: fenceUntrusted("diff", digest ? digest.hunks.map((h) => `--- ${h.path}\n${h.text}`).join("\n") : ""),
    hunks_note: digest
      ? digest.hunks_omitted > 0
        ? `${digest.hunks_omitted} more hunks left out to stay within the budget`
        : "all hunks shown"
      : "no diff available",
    style_examples: examples,
  });
  const messages: BaseMessage[] = [new SystemMessage(prompts.system), new HumanMessage(input.trimEnd())];
  if (repair) {
    messages.push(new AIMessage(repair.previousAnswer));
    messages.push(
      new HumanMessage(
        fillPrompt(prompts.repair, {
          previous_draft: repair.previousAnswer,
          violations: repair.violations.map((v) => `- ${v.message}`).join("\n"),
        }).trimEnd(),
      ),
    );
  }
  return messages;
}

function rawAnswer(raw: BaseMessage | undefined): string {
  if (!raw) return "";
  const ai = raw as AIMessage;
  const tool = ai.tool_calls?.[0];
  // Arguments that are not JSON land in invalid_tool_calls as the raw string: exactly what the model must see again.
  const invalid = ai.invalid_tool_calls?.[0]?.args;
  const content = typeof raw.content === "string" ? raw.content : JSON.stringify(raw.content);
  const text = tool ? JSON.stringify(tool.args) : invalid ? invalid : content;
  return text.length > MAX_ANSWER_ECHO ? `${text.slice(0, MAX_ANSWER_ECHO)}…` : text;
}

function usageOf(raw: BaseMessage | undefined): TokenUsage {
  const meta = (raw as AIMessage | undefined)?.usage_metadata;
  return { prompt_tokens: meta?.input_tokens ?? 0, completion_tokens: meta?.output_tokens ?? 0 };
}

function isParseError(error: unknown): boolean {
  if (error instanceof SyntaxError) return true;
  const name = error instanceof Error ? error.name : "";
  return name === "OutputParserException" || name === "ZodError";
}

type Structured = Runnable<BaseMessage[], { raw: BaseMessage; parsed: unknown }>;

/**
 * One model call for structured prose. An answer that does not parse is returned as a violation, not thrown,
 * so it is repaired like any other; errors that outlive the client's retries (model down) do throw.
 */
export async function draftWithModel(
  model: BaseChatModel,
  messages: BaseMessage[],
  policy: Policy,
): Promise<ModelDraftResult> {
  const structured = model.withStructuredOutput(DraftOutputSchema, {
    includeRaw: true,
    name: "pull_request_prose",
    method: METHOD[policy.model.structured_output],
  }) as unknown as Structured;
  let raw: BaseMessage | undefined;
  let parsed: unknown;
  try {
    ({ raw, parsed } = await traceModelCall(model, () => structured.invoke(messages)));
  } catch (error) {
    // In json_schema / json_mode the client parses inside the call, so an unreadable answer arrives as a throw.
    if (!isParseError(error)) throw error;
    raw = undefined;
    parsed = null;
  }
  const usage = usageOf(raw);
  const answer = rawAnswer(raw);
  const checked = DraftOutputSchema.safeParse(parsed, { reportInput: true });
  if (!checked.success) {
    const why =
      parsed === null || parsed === undefined
        ? "it was not valid JSON for the requested fields"
        : formatZodIssues(checked.error).join("; ");
    return {
      draft: null,
      answer,
      usage,
      violations: [
        {
          code: "draft_unparseable",
          where: "draft",
          message: `the answer could not be used (${why}); return an object with string fields type, summary, purpose and a list of strings highlights`,
        },
      ],
    };
  }
  return {
    draft: { ...checked.data, type: checked.data.type.trim().toLowerCase() },
    violations: [],
    answer: JSON.stringify(checked.data),
    usage,
  };
}
