import { z } from "zod";
import { databaseUrlProblem, hasDatabasePassword } from "./database-url.js";
import { defaultStateFile } from "./state-location.js";

const prefix = z.string().min(1);
const glob = z.string().min(1);
const retryDefaults = {
  max_attempts: 3,
  backoff: "exponential" as const,
  base_delay_ms: 1000,
  retryable_status_codes: [429, 500, 502, 503],
};

export const DEFAULT_REQUIRED_SECTIONS = [
  "Summary|Description",
  "Blueprint|Related Trace",
  "Changed Files",
  "Checklist|Review Checklist",
];

export const DEFAULT_TARGETS: Record<string, string> = { "feature/": "dev", "bugfix/": "dev", "hotfix/": "main" };

const level = z.enum(["low", "medium", "high"]);

/** Where PRs can go; `forge:` in the config and env PR_CREATOR_FORGE take one of these. */
export const FORGE_KINDS = ["dry-run", "azure-devops", "github"] as const;
/** Issue trackers that can follow a PR; `none` is the default. */
export const TRACKER_KINDS = ["none", "linear", "azure-boards", "github"] as const;

/** Webhooks are sent over HTTP: any other scheme (file:, ftp:, data:) is refused when the config is read. */
const webhookUrl = z.url({
  protocol: /^https?$/,
  error: (issue) =>
    typeof issue.input === "string" && URL.canParse(issue.input)
      ? `expected an http:// or https:// URL, not ${new URL(issue.input).protocol}// (webhooks are sent over HTTP)`
      : "expected an http:// or https:// URL",
});

const webhookSchema = z.strictObject({
  url: webhookUrl.describe("Where each event is POSTed (http:// or https://)."),
  secret_env: z
    .string()
    .regex(/^[A-Z_][A-Z0-9_]*$/, "an environment variable name")
    .optional()
    .describe(
      "Environment variable holding the HMAC-SHA256 signing secret (never the secret itself: secrets stay out of files).",
    ),
  events: z
    .array(z.string().min(1))
    .optional()
    .describe("Which lifecycle events to send (e.g. PullRequestCreated); all when left out."),
  timeout_ms: z.number().int().min(100).max(120_000).default(5000).describe("Per delivery attempt, in milliseconds."),
  max_attempts: z
    .number()
    .int()
    .min(1)
    .max(10)
    .default(4)
    .describe("Delivery attempts per event, with exponential backoff, before it counts as undelivered."),
});

/** The seed's change types (WORKFLOW-005 `_assess_risk`). */
export const DEFAULT_CHANGE_TYPE_RISK: Record<string, "low" | "medium" | "high"> = {
  "pvc-size": "low",
  "resource-limits": "low",
  "replica-count": "low",
  "network-policy": "medium",
  "service-account": "medium",
  "cluster-config": "high",
  "security-policy": "high",
};

/** Conventional types of commit-based PRs: prose, tests and housekeeping are low; behaviour changes are medium. */
export const DEFAULT_COMMIT_TYPE_RISK: Record<string, "low" | "medium" | "high"> = {
  docs: "low",
  test: "low",
  style: "low",
  chore: "low",
  fix: "low",
  revert: "low",
  feat: "medium",
  refactor: "medium",
  perf: "medium",
  build: "medium",
  ci: "medium",
};

export const DEFAULT_TYPES = [
  "feat",
  "fix",
  "refactor",
  "perf",
  "docs",
  "test",
  "build",
  "ci",
  "chore",
  "style",
  "revert",
];

/**
 * The whole policy: one YAML document. Every key has a default that reproduces the seeds, so an empty
 * file (or no file) is a valid policy. Unknown keys are rejected so a typo never silently does nothing.
 */
export const PolicySchema = z
  .strictObject({
    branch_rules: z
      .strictObject({
        allowed_prefixes: z
          .array(prefix)
          .min(1)
          .default(["feature/", "bugfix/", "hotfix/"])
          .describe("Source branch prefixes a PR may come from; any other branch is refused."),
        target_branch_map: z
          .record(prefix, z.string().min(1))
          .optional()
          .describe(
            "Target branch for each allowed prefix. Left out: the seed's map (feature/ and bugfix/ → dev, hotfix/ → main), restricted to the allowed prefixes, so narrowing the prefixes is one key.",
          ),
        forbidden: z
          .array(prefix)
          .default(["master", "deprecated/"])
          .describe(
            'Branches no PR may come from: an entry ending in "/" forbids every branch under it; any other entry forbids that exact name.',
          ),
      })
      .transform((rules) => ({
        ...rules,
        target_branch_map:
          rules.target_branch_map ??
          Object.fromEntries(Object.entries(DEFAULT_TARGETS).filter(([p]) => rules.allowed_prefixes.includes(p))),
      }))
      .prefault({})
      .describe("Which source branches may open PRs, and which branch each one targets."),
    title: z
      .strictObject({
        max_length: z.number().int().min(20).max(1000).default(100).describe("Longest PR title, in characters."),
        types: z
          .array(z.string().regex(/^[a-z]+$/, "conventional types are lower-case words"))
          .min(1)
          .default(DEFAULT_TYPES)
          .describe("Conventional commit types a title may start with (`feat(scope): …`)."),
        forbidden_keywords: z
          .array(z.string().min(1))
          .default(["test", "asdf", "fixme"])
          .describe("Words a title must not contain (case-insensitive)."),
        trace_id_prefix: z
          .string()
          .default("trace-")
          .describe("Stripped from the trace id inside the title tag: `trace-ord-8128` → `[trace:ord-8128]`."),
      })
      .prefault({})
      .describe("Rules for the PR title."),
    body: z
      .strictObject({
        max_length: z
          .number()
          .int()
          .min(500)
          .max(1_000_000)
          .default(4000)
          .describe("Longest PR description, in characters; longer bodies are truncated keeping required sections."),
        max_line_length: z
          .number()
          .int()
          .min(40)
          .max(10_000)
          .default(100)
          .describe("Longest line of prose in the description, in characters."),
        required_sections: z
          .array(z.string().min(1))
          .default(DEFAULT_REQUIRED_SECTIONS)
          .describe("Headings the body must have (any level, case-insensitive); `A|B` accepts either name."),
        template: z
          .string()
          .min(1)
          .optional()
          .describe(
            "Inline body template; wins over `template_file`. A repository's `.pr-template.md` wins over both.",
          ),
        template_file: z
          .string()
          .min(1)
          .optional()
          .describe("File holding the body template, relative to this config file."),
        use_repo_template: z
          .boolean()
          .default(true)
          .describe("Use the repository's own `.pr-template.md` when it has one."),
        repo_pr_template: z
          .enum(["ignore", "append", "use"])
          .default("ignore")
          .describe(
            "The forge's PR template of the repository (GitHub: `.github/pull_request_template.md`, root, `docs/`; Azure DevOps: `.azuredevops/`, `.vsts/`, `docs/`, root), read at the target branch: `ignore` it, `append` its sections after the body, or `use` its layout (its sections in its order, ours filled in where the headings match, the required sections always kept). Its text is shown inert.",
          ),
      })
      .prefault({})
      .describe("Rules and template for the PR description."),
    limits: z
      .strictObject({
        max_changed_lines: z
          .number()
          .int()
          .positive()
          .default(3000)
          .describe("Changes with more added plus deleted lines are refused as too large (pr_too_large)."),
      })
      .prefault({})
      .describe("Size limits for a PR."),
    reviewers: z
      .strictObject({
        mandatory: z
          .array(z.string().min(1))
          .default(["TechLeadAgent", "QAAssistantAgent"])
          .describe("Required reviewers on every PR."),
        by_scope: z
          .record(z.string(), z.array(z.string().min(1)))
          .default({})
          .describe(
            "Extra reviewers by component scope (matched case-insensitively). Prefix a name with `optional:` to not require it.",
          ),
        codeowners: z
          .enum(["off", "optional", "required"])
          .default("off")
          .describe(
            "The owners of the changed paths in the repository's CODEOWNERS (`.github/`, root or `docs/`, read at the target branch) become reviewers: `off`, `optional` or `required`. `@user` and `@org/team` as on GitHub, e-mail addresses resolved through the forge.",
          ),
      })
      .prefault({})
      .describe("Who reviews each PR."),
    labels: z
      .strictObject({
        always: z.array(z.string().min(1)).default(["traceable", "generated-by:AI"]).describe("Labels on every PR."),
        domain: z
          .string()
          .default("domain:<scope>")
          .describe(
            "Domain label; `<scope>` is replaced by the component scope in lower case. Empty string turns it off.",
          ),
        breaking: z
          .string()
          .default("breaking-change")
          .describe(
            "Label on PRs that break their users (a `!`, a BREAKING CHANGE footer, a removed public symbol). Empty string adds none.",
          ),
        requires_tests: z
          .strictObject({
            enabled: z.boolean().default(true).describe("Add the label when code changes without test changes."),
            label: z.string().min(1).default("requires-tests").describe("The label's name."),
            code_globs: z
              .array(glob)
              .default(["**/*.{cs,ts,tsx,js,jsx,mjs,cjs,py,go,java,kt,rb,rs,php,swift,scala,c,cc,cpp,h,hpp,fs,vb}"])
              .describe("Files that count as code."),
            test_globs: z
              .array(glob)
              .default([
                "**/{test,tests,__tests__,spec,specs}/**",
                "**/*{Test,Tests,Spec,_test,.test,.spec}.*",
                "**/test_*.*",
              ])
              .describe("Files that count as tests."),
          })
          .prefault({})
          .describe("A label for PRs that change code but no tests."),
      })
      .prefault({})
      .describe("Labels put on PRs."),
    trace: z
      .strictObject({
        always_in_scope: z
          .array(glob)
          .default([
            "**/*.md",
            "**/*.sln",
            "**/*.csproj",
            "**/package.json",
            "**/package-lock.json",
            "**/.gitignore",
            "**/.editorconfig",
          ])
          .describe("Files that may change in any trace without counting as outside its scope."),
        match_scope_in_path: z
          .boolean()
          .default(true)
          .describe(
            "A changed file whose path contains the component scope as a word (CreateOrderHandler.cs for Order) fits the scope.",
          ),
      })
      .prefault({})
      .describe("How changed files are checked against the trace's scope."),
    digest: z
      .strictObject({
        hunk_budget_tokens: z
          .number()
          .int()
          .min(0)
          .max(200_000)
          .default(3000)
          .describe(
            "Tokens (about 4 characters each) of diff hunks the model sees; source first, then tests, then docs. 0 sends none.",
          ),
        max_parse_bytes: z
          .number()
          .int()
          .min(1024)
          .max(10_000_000)
          .default(512_000)
          .describe("Files larger than this (bytes, before or after) are counted but not parsed for symbols."),
        max_parsed_files: z
          .number()
          .int()
          .min(0)
          .max(10_000)
          .default(300)
          .describe("Files parsed for symbols at most; the rest are counted and classified only."),
        parse_budget_bytes: z
          .number()
          .int()
          .min(0)
          .max(100_000_000)
          .default(2_097_152)
          .describe(
            "Bytes parsed from scratch per digest at most (a code file's before, or its after when added; both sides of YAML and JSON), best-ranked roles first. A file over what is left is listed with its line counts, marked 'not parsed (budget)'. Bounds the digest's time when no earlier parse is cached (about 4 MB/s per core here).",
          ),
        parse_workers: z
          .number()
          .int()
          .min(0)
          .max(32)
          .optional()
          .describe(
            "Worker threads that parse for the digest, so parsing never blocks the event loop and uses spare cores; 0 parses on the main thread, one file per event-loop turn. Unset: one per core but one, at least 1, at most 4 (the one-shot CLI commands run, debug, resume and demo: 0).",
          ),
        generated_globs: z
          .array(glob)
          .default([])
          .describe("Extra globs for generated files (summarised, never quoted), besides the built-in ones."),
        vendored_globs: z
          .array(glob)
          .default([])
          .describe("Extra globs for vendored third-party code, besides the built-in ones."),
      })
      .prefault({})
      .describe("The change digest: what the drafter learns from the diff."),
    types: z
      .strictObject({
        infer: z
          .boolean()
          .default(true)
          .describe(
            "When no commit subject has a conventional type, infer one: the first rule whose condition holds gives the type.",
          ),
        docs_globs: z
          .array(glob)
          .default(["**/*.{md,mdx,rst,adoc,txt}", "docs/**", "doc/**", "**/LICENSE*", "**/CHANGELOG*"])
          .describe("Files that make a change `docs` when every changed file matches."),
        ci_globs: z
          .array(glob)
          .default([
            ".github/workflows/**",
            ".github/actions/**",
            ".gitlab-ci.yml",
            "azure-pipelines*.yml",
            ".azure-pipelines/**",
            ".azuredevops/**",
            "**/Jenkinsfile",
            ".circleci/**",
            ".ci/**",
          ])
          .describe("Files that make a change `ci` when every changed file matches."),
        build_globs: z
          .array(glob)
          .default([
            "**/package.json",
            "**/package-lock.json",
            "**/yarn.lock",
            "**/pnpm-lock.yaml",
            "**/*.csproj",
            "**/*.fsproj",
            "**/*.vbproj",
            "**/Directory.Packages.props",
            "**/Directory.Build.props",
            "**/global.json",
            "**/packages.lock.json",
            "**/nuget.config",
            "**/go.mod",
            "**/go.sum",
            "**/requirements*.txt",
            "**/pyproject.toml",
            "**/poetry.lock",
            "**/Pipfile",
            "**/Pipfile.lock",
            "**/pom.xml",
            "**/build.gradle",
            "**/build.gradle.kts",
            "**/gradle.lockfile",
            "**/Cargo.toml",
            "**/Cargo.lock",
            "**/Gemfile",
            "**/Gemfile.lock",
          ])
          .describe("Dependency manifests and lock files: a change to only these is `build`."),
        fix_words: z
          .array(z.string().min(1))
          .default([
            "fix",
            "fixes",
            "fixed",
            "fixing",
            "bug",
            "bugfix",
            "hotfix",
            "patch",
            "resolve",
            "resolves",
            "correct",
            "corrects",
            "typo",
          ])
          .describe("Words at the start of a subject (or in brackets, `[fix]`) that make a change a `fix`."),
      })
      .prefault({})
      .describe("How a change's conventional type is inferred when its commits name none."),
    pr: z
      .strictObject({
        commit_range: z
          .enum(["auto", "commit", "merge-base"])
          .default("auto")
          .describe(
            "`commit`: the event's commit only; `merge-base`: every commit since the target branch; `auto`: merge-base when the target exists locally.",
          ),
      })
      .prefault({})
      .describe("What a PR is made of."),
    risk: z
      .strictObject({
        change_types: z
          .record(z.string().regex(/^[a-z0-9][a-z0-9-]*$/, "change types are lower-case words joined by -"), level)
          .default({})
          .transform((given) => ({ ...DEFAULT_CHANGE_TYPE_RISK, ...given }))
          .describe(
            "Risk (low, medium, high) of a change request's `change_type`; entries here are added to (and override) the seed's table.",
          ),
        unknown_change_type: level
          .default("medium")
          .describe("Risk of a change request whose `change_type` is in no table."),
        commit_types: z
          .record(z.string().regex(/^[a-z]+$/, "conventional types are lower-case words"), level)
          .default({})
          .transform((given) => ({ ...DEFAULT_COMMIT_TYPE_RISK, ...given }))
          .describe(
            "Risk of a commit-based PR by its conventional type; entries here are added to (and override) the defaults.",
          ),
        unknown_commit_type: level.default("medium").describe("Risk of a commit-based PR whose type is in no table."),
        paths: z
          .array(
            z.strictObject({
              glob: glob.describe("Changed files this rule applies to."),
              level: level.describe("The least risk a matching change has."),
              reason: z.string().min(1).optional().describe("Why, for the PR and the log."),
            }),
          )
          .default([])
          .describe("A changed file matching `glob` raises the risk to at least `level`."),
        size: z
          .strictObject({
            medium_lines: z
              .number()
              .int()
              .positive()
              .default(200)
              .describe("Changed lines from which the risk is at least medium."),
            high_lines: z
              .number()
              .int()
              .positive()
              .default(1000)
              .describe("Changed lines from which the risk is high."),
            medium_files: z
              .number()
              .int()
              .positive()
              .default(20)
              .describe("Changed files from which the risk is at least medium."),
            high_files: z.number().int().positive().default(100).describe("Changed files from which the risk is high."),
          })
          .prefault({})
          .describe(
            "Changes larger than these raise the risk; line thresholds are skipped when the forge gives no line counts.",
          ),
      })
      .prefault({})
      .describe("How risky a change is (low, medium, high): decides draft vs ready, approvals and auto-merge."),
    merge: z
      .strictObject({
        auto_merge_levels: z
          .array(z.enum(["low", "medium"]))
          .default(["low"])
          .describe("Risk levels whose PRs merge themselves once CI is green. High risk never does."),
        commits: z
          .boolean()
          .default(false)
          .describe(
            "Also auto-merge commit-based PRs (CommitCompleted); by default only change requests and rollbacks do.",
          ),
        method: z.literal("squash").default("squash").describe("How PRs are merged; squash is the only method."),
        delete_source_branch: z.boolean().default(true).describe("Delete the source branch after the merge."),
        senior_reviewers: z
          .array(z.string().min(1))
          .default([])
          .describe(
            "Required reviewers added to high-risk PRs (names as the forge knows them; GitHub teams as org/team).",
          ),
        approval_label: z
          .string()
          .default("requires-approval")
          .describe("Label on PRs that need a senior approval; empty string adds none."),
        watch_timeout_ms: z
          .number()
          .int()
          .min(1000)
          .max(86_400_000)
          .default(900_000)
          .describe("How long `run --watch` and `rollback --watch` follow a PR's checks and merge before giving up."),
        poll_interval_ms: z
          .number()
          .int()
          .min(10)
          .max(600_000)
          .default(5000)
          .describe("How often a watch asks the forge for the PR's checks and state."),
      })
      .prefault({})
      .describe("When and how PRs merge themselves."),
    change_requests: z
      .strictObject({
        branch_prefix: z
          .string()
          .min(1)
          .default("agent-sre/")
          .describe("Branch for a change request: `<prefix><change_type>-<id>` (the seed's agent-sre/<type>-<id>)."),
        commit_type: z
          .string()
          .regex(/^[a-z]+$/)
          .default("fix")
          .describe("Conventional type of a change request's title and commit."),
      })
      .prefault({})
      .describe("Infrastructure change requests (ChangeRequested events)."),
    rollback: z
      .strictObject({
        branch_prefix: z
          .string()
          .min(1)
          .default("agent-sre/rollback-")
          .describe("Branch for a revert commit (Azure DevOps; GitHub names it itself): `<prefix><pr id>`."),
        labels: z
          .array(z.string().min(1))
          .default(["rollback"])
          .describe("Labels on every rollback PR, besides the policy's `labels.always`."),
        auto_merge: z
          .boolean()
          .default(true)
          .describe(
            "A revert restores a state that ran before: it is low risk and merges itself under merge.auto_merge_levels.",
          ),
      })
      .prefault({})
      .describe("Rollback PRs (`pr-creator rollback`)."),
    retry_policy: z
      .strictObject({
        max_attempts: z
          .number()
          .int()
          .min(1)
          .max(10)
          .default(retryDefaults.max_attempts)
          .describe("Attempts per forge request, the first included."),
        backoff: z
          .enum(["exponential", "fixed"])
          .default(retryDefaults.backoff)
          .describe("How the wait between attempts grows; a Retry-After header always wins."),
        base_delay_ms: z
          .number()
          .int()
          .min(0)
          .max(60_000)
          .default(retryDefaults.base_delay_ms)
          .describe("Wait before the first retry, in milliseconds."),
        retryable_status_codes: z
          .array(z.number().int().min(400).max(599))
          .default(retryDefaults.retryable_status_codes)
          .describe("HTTP statuses that are retried; timeouts and dropped connections always are."),
      })
      .prefault({})
      .describe("Retries of forge requests."),
    prose: z
      .strictObject({
        allowed_link_hosts: z
          .array(z.string().min(1))
          .default([])
          .describe("Hosts that links in drafted prose may point to (subdomains included); none by default."),
        filler_phrases: z
          .array(z.string().min(1))
          .default([
            "this pr was auto-generated",
            "this pr was automatically generated",
            "auto-generated by",
            "generated by ai",
            "as an ai",
            "as a language model",
            "i hope this helps",
            "feel free to",
            "let me know",
            "in this pr, we",
          ])
          .describe("Phrases drafted prose must not contain (case-insensitive)."),
        max_highlights: z
          .number()
          .int()
          .min(0)
          .max(50)
          .default(8)
          .describe("Most highlights (bullet points) a PR has."),
        max_highlight_length: z
          .number()
          .int()
          .min(20)
          .max(2000)
          .default(200)
          .describe("Longest highlight, in characters."),
        max_purpose_length: z
          .number()
          .int()
          .min(50)
          .max(10_000)
          .default(1200)
          .describe("Longest purpose paragraph, in characters."),
      })
      .prefault({})
      .describe("Rules for the prose the model (or the deterministic drafter) writes."),
    forge: z
      .enum(FORGE_KINDS)
      .default("dry-run")
      .describe("Where PRs go. Env PR_CREATOR_FORGE wins. `dry-run` previews and writes nothing."),
    azure_devops: z
      .strictObject({
        org_url: z
          .url()
          .optional()
          .describe(
            "Organization URL, e.g. https://dev.azure.com/acme; env AZURE_DEVOPS_ORG_URL wins. The PAT comes only from AZURE_DEVOPS_TOKEN.",
          ),
        project: z.string().min(1).optional().describe("Project name. Env AZURE_DEVOPS_PROJECT wins."),
      })
      .prefault({})
      .describe("Azure DevOps settings (forge: azure-devops)."),
    github: z
      .strictObject({
        api_url: z
          .url()
          .default("https://api.github.com")
          .describe(
            "API root; https://HOST/api/v3 for GitHub Enterprise Server. Env GITHUB_API_URL wins. The token comes only from GITHUB_TOKEN.",
          ),
        owner: z
          .string()
          .min(1)
          .optional()
          .describe("Owner for events whose repo is a bare name. Env GITHUB_OWNER wins."),
        throttle: z
          .boolean()
          .default(true)
          .describe("GitHub's recommended pacing: one write a second and ten requests at a time per process."),
      })
      .prefault({})
      .describe("GitHub settings (forge: github)."),
    commit_source: z
      .enum(["auto", "local", "forge"])
      .default("auto")
      .describe(
        "`local`: a git clone (--repo-path); `forge`: the forge's API; `auto`: local when --repo-path is given or no forge is set.",
      ),
    forge_timeout_ms: z
      .number()
      .int()
      .min(1000)
      .max(600_000)
      .default(30_000)
      .describe(
        "Per forge request, in milliseconds; a request that takes longer counts as a network failure and is retried under retry_policy.",
      ),
    model: z
      .strictObject({
        provider: z
          .enum(["none", "openai", "azure-openai"])
          .default("none")
          .describe(
            "`none` drafts deterministically from the commit messages. Env PR_CREATOR_MODEL_PROVIDER overrides.",
          ),
        name: z
          .string()
          .min(1)
          .default("gpt-4o-mini")
          .describe("Model (OpenAI) or deployment (Azure) name. Env PR_CREATOR_MODEL overrides."),
        temperature: z.number().min(0).max(2).default(0).describe("Sampling temperature of the model."),
        timeout_ms: z
          .number()
          .int()
          .min(1000)
          .max(600_000)
          .default(30_000)
          .describe("Per model call, in milliseconds; a call that takes longer is retried like a 5xx."),
        max_retries: z
          .number()
          .int()
          .min(0)
          .max(10)
          .default(2)
          .describe(
            "Retries of one model call on timeouts, 429 (honouring Retry-After) and 5xx, with exponential backoff.",
          ),
        max_repairs: z
          .number()
          .int()
          .min(0)
          .max(10)
          .default(2)
          .describe("Repair rounds after the first draft before the deterministic drafter takes over."),
        structured_output: z
          .enum(["function_calling", "json_schema", "json_mode"])
          .default("function_calling")
          .describe(
            "How the model is asked for structured output; `function_calling` works with most OpenAI-compatible servers.",
          ),
      })
      .prefault({})
      .describe("The model that writes the prose; without one a deterministic drafter does."),
    approval: z
      .strictObject({
        on_violations: z
          .array(
            z.enum([
              "branch_policy_violation",
              "forbidden_branch",
              "target_mismatch",
              "trace_violation",
              "pr_too_large",
            ]),
          )
          .default([])
          .describe(
            "Failures a person may wave through: the run pauses (exit 3) instead of failing, and `pr-creator resume` continues or ends it. Needs the state file for the checkpoint.",
          ),
      })
      .prefault({})
      .describe("Human approval of runs that would fail."),
    state_file: z
      .string()
      .min(1)
      .default(() => defaultStateFile())
      .describe(
        "SQLite file for checkpoints of paused runs, memory, PR history and the event outbox; relative to this config file. Default: state.db in $PR_CREATOR_STATE_DIR, else $XDG_STATE_HOME/pr-creator, else the platform's state folder (~/.local/state/pr-creator; macOS ~/Library/Application Support/pr-creator; Windows %LOCALAPPDATA%\\pr-creator).",
      ),
    database: z
      .strictObject({
        url: z
          .string()
          .optional()
          .superRefine((url, ctx) => {
            if (url === undefined) return;
            const problem = databaseUrlProblem(url.trim());
            if (problem) ctx.addIssue({ code: "custom", message: problem });
            else if (hasDatabasePassword(url))
              ctx.addIssue({
                code: "custom",
                message:
                  "carries a password; remove it and set PGPASSWORD, or put the whole URL in PR_CREATOR_DATABASE_URL",
              });
          })
          .describe(
            "PostgreSQL URL (postgres://user@host:5432/database) that switches the shared state — run registry, queue, checkpoints, PR history, event outbox, memory (unless Qdrant) — from the state file to the database, for many workers and replicas. No password here: PGPASSWORD, or the whole URL in PR_CREATOR_DATABASE_URL, which wins.",
          ),
      })
      .prefault({})
      .describe("The shared PostgreSQL database; without one the state stays in the state file."),
    memory: z
      .strictObject({
        store: z
          .enum(["sqlite", "qdrant", "none"])
          .default("sqlite")
          .describe(
            "`sqlite`: the shared state — the state file, or with a database (PR_CREATOR_DATABASE_URL) Qdrant when QDRANT_URL is set, else the database; `qdrant`: a Qdrant server (QDRANT_URL, QDRANT_API_KEY); `none`: no memory.",
          ),
        qdrant: z
          .strictObject({
            url: z.url().optional().describe("Qdrant server URL. Env QDRANT_URL wins."),
            collection: z
              .string()
              .regex(/^[\w-]+$/, "letters, digits, _ and - only")
              .default("pr_creator_prs")
              .describe("Collection holding the PRs."),
          })
          .prefault({})
          .describe("Qdrant settings (store: qdrant)."),
        recall_k: z
          .number()
          .int()
          .min(0)
          .max(10)
          .default(3)
          .describe("How many earlier PRs the model sees as style examples (same scope first)."),
        duplicate_threshold: z
          .number()
          .min(0.5)
          .max(1)
          .default(0.95)
          .describe("Cosine similarity from which an earlier PR of the same scope counts as a possible duplicate."),
        duplicate_label: z
          .string()
          .default("possible-duplicate")
          .describe("Label added to a PR that looks like a duplicate; empty string adds none."),
      })
      .prefault({})
      .describe("Long-term memory of earlier PRs: style examples, duplicates, trace → PR map."),
    embeddings: z
      .strictObject({
        provider: z
          .enum(["hashed", "openai"])
          .default("hashed")
          .describe(
            "`hashed`: a deterministic n-gram embedder (no model, no network); `openai`: an OpenAI-compatible embeddings model.",
          ),
        model: z
          .string()
          .min(1)
          .default("text-embedding-3-small")
          .describe("Embeddings model name (provider: openai)."),
        dimensions: z
          .number()
          .int()
          .min(16)
          .max(8192)
          .optional()
          .describe("Vector size; defaults to 512 (hashed) or 1536 (openai)."),
      })
      .prefault({})
      .describe("How PRs are embedded for memory."),
    tracker: z
      .enum(TRACKER_KINDS)
      .default("none")
      .describe(
        "Which issue tracker follows every PR (link, state, comments). Env PR_CREATOR_TRACKER wins. `none` touches no tracker.",
      ),
    trackers: z
      .strictObject({
        comments: z
          .strictObject({
            on_failure: z
              .boolean()
              .default(true)
              .describe("Comment on the issue when its PR fails, its merge is blocked, or it is rolled back."),
            on_approval: z
              .boolean()
              .default(true)
              .describe("Comment on the issue when its PR waits for a review or a senior approval, naming who."),
          })
          .prefault({})
          .describe("Which comments the tracker writes on the issue (each once per PR and moment)."),
        linear: z
          .strictObject({
            states: z
              .strictObject({
                on_review: z
                  .string()
                  .min(1)
                  .default("In Review")
                  .describe("Workflow state (by name) an issue moves to when its PR is opened or updated."),
                on_merged: z
                  .string()
                  .min(1)
                  .default("Done")
                  .describe("Workflow state (by name) an issue moves to when its PR merges."),
                on_failure: z
                  .string()
                  .min(1)
                  .optional()
                  .describe(
                    "Workflow state (by name) for a failed, blocked or rolled-back PR; left out, the state stays.",
                  ),
              })
              .prefault({})
              .describe("State names, resolved to ids once per team. The key comes only from LINEAR_API_KEY."),
          })
          .prefault({})
          .describe("Linear (tracker: linear). LINEAR_API_URL overrides the GraphQL endpoint."),
        github: z
          .strictObject({
            link: z
              .enum(["closes", "refs"])
              .default("closes")
              .describe(
                "How the PR body names the GitHub issues it is for: `Closes #N` (GitHub closes them when the PR merges into the default branch) or `Refs #N` (linked only).",
              ),
            labels: z
              .strictObject({
                on_review: z
                  .array(z.string().min(1).max(50))
                  .default([])
                  .describe("Labels added to the issue when its PR is opened or updated."),
                on_merged: z
                  .array(z.string().min(1).max(50))
                  .default([])
                  .describe("Labels added to the issue when its PR merges."),
                on_failure: z
                  .array(z.string().min(1).max(50))
                  .default([])
                  .describe("Labels added to the issue when its PR fails, its merge is blocked, or it is rolled back."),
              })
              .prefault({})
              .describe("Labels per moment; none by default."),
          })
          .prefault({})
          .describe(
            "GitHub issues (tracker: github, with forge: github): comments on failure, rollback and approval, once each (a hidden marker finds them on a re-run), and labels. Uses the forge's token.",
          ),
        azure_boards: z
          .strictObject({
            link_work_items: z
              .boolean()
              .default(true)
              .describe(
                "Link the PR to its work items (the event's work_item_ids, AB#123 in commit messages, the branch name) when it is created (any tracker).",
              ),
            states: z
              .strictObject({
                on_review: z
                  .string()
                  .min(1)
                  .optional()
                  .describe("Work item state when its PR is opened or updated, e.g. Active; left out, it stays."),
                on_merged: z
                  .string()
                  .min(1)
                  .optional()
                  .describe("Work item state when its PR merges, e.g. Resolved or Done; left out, it stays."),
                on_failure: z
                  .string()
                  .min(1)
                  .optional()
                  .describe("Work item state for a failed, blocked or rolled-back PR; left out, it stays."),
              })
              .prefault({})
              .describe(
                "State names of the project's process (Agile: New, Active, Resolved, Closed; Basic: To Do, Doing, Done).",
              ),
          })
          .prefault({})
          .describe(
            "Azure Boards (tracker: azure-boards, with forge: azure-devops): work item states per moment and a comment on failure, once each. Uses the forge's token (scope Work Items: Read & write).",
          ),
      })
      .prefault({})
      .describe("Issue tracker settings."),
    issues: z
      .strictObject({
        key_prefixes: z
          .array(z.string().regex(/^[A-Z][A-Z0-9]{1,9}$/, "a team key in upper case, e.g. BVL"))
          .default([])
          .describe(
            "Team keys (BVL, ENG) an issue key found in commit messages or the branch name must start with; empty accepts any key but well-known acronyms (UTF-8, SHA-256). Only these are read from a lower-case branch name (alice/bvl-232-…).",
          ),
        url_template: z
          .string()
          .regex(/^https?:\/\/[^\s]*\{id\}[^\s]*$/, "an http(s) URL with {id} where the issue key goes")
          .optional()
          .describe(
            "Web address of an issue key, e.g. https://linear.app/acme/issue/{id}: the PR body's Issue line links it.",
          ),
      })
      .prefault({})
      .describe(
        "Where a PR's issue comes from when the event names none: commit messages (BVL-232, AB#123, #12), the branch name, the trace record.",
      ),
    alerts: z
      .strictObject({
        consecutive_failures: z
          .number()
          .int()
          .min(0)
          .max(1000)
          .default(3)
          .describe(
            "After this many failed runs in a row for one repository, one PullRequestAlert goes to the event sinks; a success ends the streak. 0 sends none.",
          ),
      })
      .prefault({})
      .describe("Alerts for repeated failures."),
    trace_registry: z
      .string()
      .min(1)
      .optional()
      .describe("YAML file of traces (id → blueprint, scope), relative to this config file; --traces wins."),
    events: z
      .strictObject({
        jsonl_file: z
          .string()
          .min(1)
          .optional()
          .describe("Append every lifecycle event as one JSON line to this file (relative to this config file)."),
        stdout: z
          .boolean()
          .default(false)
          .describe(
            "Print every lifecycle event as one JSON line on stdout (the CLI leaves stdout to --json output then).",
          ),
        webhooks: z
          .array(webhookSchema)
          .default([])
          .describe("HTTP POST of each event, signed with HMAC-SHA256 when a secret is named."),
        failure_webhook: webhookSchema
          .omit({ events: true })
          .optional()
          .describe(
            "Where failures go for people (the seed's HumanOpsAgent): PullRequestFailed and PullRequestMergeBlocked.",
          ),
        outbox: z
          .boolean()
          .default(true)
          .describe("Keep events no sink accepted in the state file and send them again on the next run."),
      })
      .prefault({})
      .describe("Where lifecycle events go."),
    telemetry: z
      .strictObject({
        service_name: z
          .string()
          .min(1)
          .default("pr-creator")
          .describe(
            "OpenTelemetry service.name unless OTEL_SERVICE_NAME or OTEL_RESOURCE_ATTRIBUTES names one. Spans go out by OTLP/HTTP when OTEL_EXPORTER_OTLP_ENDPOINT is set.",
          ),
      })
      .prefault({})
      .describe("OpenTelemetry tracing."),
    prompts: z
      .strictObject({
        dir: z
          .string()
          .min(1)
          .optional()
          .describe(
            "Folder of prompt overrides, relative to this config file: system.md, draft.md, repair.md, style-examples.md (any of them; a missing file keeps the built-in one). Each must keep the built-in's {{placeholders}}.",
          ),
      })
      .prefault({})
      .describe("The model's prompts. The run result and its span record the prompt set's version (a short hash)."),
    logging: z
      .strictObject({
        level: z
          .enum(["silent", "error", "warn", "info", "debug"])
          .default("info")
          .describe(
            "One JSON line per run at info; node-by-node lines at debug (the CLI's --verbose). Env PR_CREATOR_LOG_LEVEL wins.",
          ),
      })
      .prefault({})
      .describe("The structured JSON log on stderr."),
    server: z
      .strictObject({
        host: z.string().min(1).default("127.0.0.1").describe("Address `pr-creator serve` listens on."),
        port: z
          .number()
          .int()
          .min(0)
          .max(65_535)
          .default(8080)
          .describe("Port `pr-creator serve` listens on; 0 picks a free one."),
        token_env: z
          .string()
          .regex(/^[A-Z_][A-Z0-9_]*$/, "an environment variable name")
          .default("PR_CREATOR_API_TOKEN")
          .describe(
            "Environment variable holding the bearer token every route but health checks needs; unset = no auth (loopback only).",
          ),
        max_body_bytes: z
          .number()
          .int()
          .min(1024)
          .max(50_000_000)
          .default(1_000_000)
          .describe("Largest request body, in bytes."),
        max_concurrent_runs: z
          .number()
          .int()
          .min(1)
          .max(1000)
          .default(8)
          .describe(
            "Runs at once; more wait in a queue of max_queued, beyond which requests get 429 with Retry-After.",
          ),
        max_queued: z.number().int().min(0).max(100_000).default(200).describe("Runs that may wait for a free slot."),
        keep_finished_runs_days: z
          .number()
          .int()
          .min(0)
          .max(3650)
          .default(7)
          .describe(
            "Days a finished run (done or failed) stays in the run registry: the shared one (PostgreSQL, pr_creator.runs), where the workers delete it, or a single `serve`'s state file (server_runs), where that server deletes it (at start, then every minute). Then GET /v1/runs/:id answers 404 and its Idempotency-Key is free again (a repeat of that event creates a new run, which finds and updates the same PR). Queued, running and awaiting_approval runs are never deleted. 0 keeps every run.",
          ),
        drain_timeout_ms: z
          .number()
          .int()
          .min(0)
          .max(600_000)
          .default(30_000)
          .describe("On shutdown, how long in-flight runs may take to finish."),
      })
      .prefault({})
      .describe("The HTTP server (`pr-creator serve`)."),
  })
  .superRefine((policy, ctx) => {
    for (const key of Object.keys(policy.branch_rules.target_branch_map)) {
      if (!policy.branch_rules.allowed_prefixes.includes(key)) {
        ctx.addIssue({
          code: "custom",
          path: ["branch_rules", "target_branch_map", key],
          message: `"${key}" is not one of branch_rules.allowed_prefixes (${policy.branch_rules.allowed_prefixes.join(", ")}); add it there or remove this mapping`,
        });
      }
    }
    for (const p of policy.branch_rules.allowed_prefixes) {
      if (!(p in policy.branch_rules.target_branch_map)) {
        ctx.addIssue({
          code: "custom",
          path: ["branch_rules", "target_branch_map"],
          message: `allowed prefix "${p}" has no target branch; add "${p}: <branch>" to branch_rules.target_branch_map`,
        });
      }
    }
  });

export type Policy = z.infer<typeof PolicySchema>;
