import type { Draft, PrFacts } from "../domain/pull-request.js";
import type { Violation, ViolationWhere } from "../domain/violations.js";

// Names that look like code but are products and formats a reviewer expects to read about.
const WELL_KNOWN = new Set(
  [
    "GitHub",
    "GitLab",
    "DevOps",
    "JavaScript",
    "TypeScript",
    "PowerShell",
    "PostgreSQL",
    "MySQL",
    "SQLite",
    "MongoDB",
    "OpenAPI",
    "GraphQL",
    "NuGet",
    "OAuth",
    "WebSocket",
    "WebSockets",
    "macOS",
    "iOS",
    "OpenTelemetry",
    "LangGraph",
    "LangChain",
    "CodeQL",
    "ASP.NET",
    "Node.js",
    "Next.js",
    "Vue.js",
    "README",
    "YAML",
    "JSON",
    "OpenAI",
    "ChatGPT",
    "DynamoDB",
    "CosmosDB",
    "BigQuery",
    "JUnit",
    "NUnit",
    "xUnit",
    "PyPI",
    "npm",
    "IntelliJ",
    "VSCode",
    "gRPC",
    "HashiCorp",
    "CloudFormation",
    "ArgoCD",
    "FluxCD",
    "HashMap",
  ].map((n) => n.toLowerCase()),
);

const CODE_SPAN = /`([^`\n]+)`/g;
// Two or more capitalised humps (ApplyDiscount), lower camel with a hump (applyDiscount), snake_case,
// SCREAMING_SNAKE, and dotted names (Order.ApplyDiscount).
const IDENTIFIER =
  /(?<![\p{L}\p{N}_.#/-])(?:[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)+|[A-Z][a-z0-9]+(?:[A-Z][A-Za-z0-9]*)+|[a-z][a-z0-9]*[A-Z][A-Za-z0-9]*|[A-Za-z][A-Za-z0-9]*(?:_[A-Za-z0-9]+)+)(?![\p{L}\p{N}_/-])/gu;
// Dotted tokens that are prose: abbreviations, versions, domains, file names.
const NOT_IDENTIFIER = [
  /^(e\.g|i\.e|etc|vs|cf|a\.k\.a)$/i,
  /\.(com|org|net|io|dev|local)$/i,
  /\.(cs|ts|tsx|js|jsx|mjs|cjs|py|go|java|kt|rb|rs|php|md|json|ya?ml|xml|toml|txt|csproj|sln|sql|sh|ps1|html|css)$/i,
];

/** Candidate identifiers in a piece of prose: code spans first (their whole text), then code-shaped words. */
export function identifiersIn(text: string): string[] {
  const out = new Set<string>();
  for (const m of text.matchAll(CODE_SPAN)) {
    const inner = m[1]!.trim().replace(/\(\)$/, "");
    if (/^[A-Za-z_$][\w$]*(?:\.[A-Za-z_$][\w$]*)*$/.test(inner)) out.add(inner);
  }
  const prose = text.replace(CODE_SPAN, " ");
  for (const m of prose.matchAll(IDENTIFIER)) out.add(m[0].replace(/\.+$/, ""));
  return [...out].filter((t) => !WELL_KNOWN.has(t.toLowerCase()) && !NOT_IDENTIFIER.some((re) => re.test(t)));
}

/** Every identifier-shaped word in the known text, split on anything that cannot be part of a name. */
export function knownIdentifiers(known: readonly string[]): Set<string> {
  const set = new Set<string>();
  for (const text of known) for (const word of text.split(/[^A-Za-z0-9_.$]+/)) if (word) addWithParts(set, word);
  return set;
}

function addWithParts(set: Set<string>, word: string): void {
  const trimmed = word.replace(/^\.+|\.+$/g, "");
  if (!trimmed) return;
  set.add(trimmed);
  if (trimmed.includes(".")) for (const part of trimmed.split(".")) if (part) set.add(part);
}

function isKnown(token: string, known: ReadonlySet<string>): boolean {
  if (known.has(token)) return true;
  // `Order.ApplyDiscount` is faithful when each part is a name the change or its messages use.
  return token.includes(".") && token.split(".").every((part) => known.has(part));
}

/**
 * An identifier the prose names — a code span, CamelCase, snake_case or a dotted name — must appear in what
 * was read (the digest's symbols, paths and hunks), the commit messages or the trace. Anything else is a
 * name the model made up.
 */
export function validateIdentifiers(draft: Draft, known: ReadonlySet<string>): Violation[] {
  const out: Violation[] = [];
  const seen = new Set<string>();
  const fields: [ViolationWhere, string][] = [
    ["summary", draft.summary],
    ["purpose", draft.purpose],
    ...draft.highlights.map((h): [ViolationWhere, string] => ["highlights", h]),
  ];
  for (const [where, text] of fields) {
    for (const token of identifiersIn(text)) {
      if (seen.has(token) || isKnown(token, known)) continue;
      seen.add(token);
      out.push({
        code: "unfaithful_identifier",
        where,
        message: `"${token}" is not a name found in the change, its commit messages or the trace; name only symbols the input shows`,
      });
    }
  }
  return out;
}

/** Everything prose may name: what the digest read, the commit messages, the trace and the branches. */
export function factsCorpus(facts: PrFacts): string[] {
  const { trace, changes, digest } = facts;
  return [
    ...changes.files.flatMap((f) => (f.old_path ? [f.path, f.old_path] : [f.path])),
    ...changes.commits.flatMap((c) => [c.subject, c.body, c.author.name]),
    trace.trace_id,
    trace.blueprint_id,
    trace.blueprint_name ?? "",
    trace.description ?? "",
    trace.component_scope,
    ...trace.linked_files,
    facts.repo,
    facts.source_branch,
    facts.target_branch,
    ...(digest
      ? [
          ...digest.files.flatMap((f) =>
            f.symbols ? [...f.symbols.added, ...f.symbols.removed, ...f.symbols.changed].map((s) => s.name) : [],
          ),
          ...digest.hunks.map((h) => h.text),
        ]
      : []),
    ...(facts.change
      ? [facts.change.alert, facts.change.remediation, facts.change.impact, facts.change.namespace ?? ""]
      : []),
  ];
}
