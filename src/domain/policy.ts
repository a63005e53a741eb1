import { z } from "zod";

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

/** Webhooks are sent over HTTP: any other scheme (file:, ftp:, data:) is refused when the config is read. */
const webhookUrl = z.url({
  protocol: /^https?$/,
  error: (issue) =>
    typeof issue.input === "string" && URL.canParse(issue.input)
      ? `expected an http:// or https:// URL, not ${new URL(issue.input).protocol}// (webhooks are sent over HTTP)`
      : "expected an http:// or https:// URL",
});

const webhookSchema = z.strictObject({
  url: webhookUrl,
  /** Environment variable holding the HMAC secret (never the secret itself: secrets stay out of files). */
  secret_env: z
    .string()
    .regex(/^[A-Z_][A-Z0-9_]*$/, "an environment variable name")
    .optional(),
  /** Which lifecycle events to send; all when left out. */
  events: z.array(z.string().min(1)).optional(),
  timeout_ms: z.number().int().min(100).max(120_000).default(5000),
  max_attempts: z.number().int().min(1).max(10).default(4),
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
        allowed_prefixes: z.array(prefix).min(1).default(["feature/", "bugfix/", "hotfix/"]),
        /** Left out: the seed's map, restricted to the allowed prefixes, so narrowing the prefixes is one key. */
        target_branch_map: z.record(prefix, z.string().min(1)).optional(),
        /** An entry ending in "/" forbids every branch under it; any other entry forbids that exact name. */
        forbidden: z.array(prefix).default(["master", "deprecated/"]),
      })
      .transform((rules) => ({
        ...rules,
        target_branch_map:
          rules.target_branch_map ??
          Object.fromEntries(Object.entries(DEFAULT_TARGETS).filter(([p]) => rules.allowed_prefixes.includes(p))),
      }))
      .prefault({}),
    title: z
      .strictObject({
        max_length: z.number().int().min(20).max(1000).default(100),
        types: z
          .array(z.string().regex(/^[a-z]+$/, "conventional types are lower-case words"))
          .min(1)
          .default(DEFAULT_TYPES),
        forbidden_keywords: z.array(z.string().min(1)).default(["test", "asdf", "fixme"]),
        /** Stripped from the trace id inside the title tag: `trace-ord-8128` → `[trace:ord-8128]`. */
        trace_id_prefix: z.string().default("trace-"),
      })
      .prefault({}),
    body: z
      .strictObject({
        max_length: z.number().int().min(500).max(1_000_000).default(4000),
        max_line_length: z.number().int().min(40).max(10_000).default(100),
        /** Headings the body must have (any level, case-insensitive); `A|B` accepts either name. */
        required_sections: z.array(z.string().min(1)).default(DEFAULT_REQUIRED_SECTIONS),
        /** Inline template; wins over `template_file`. A repository's `.pr-template.md` wins over both. */
        template: z.string().min(1).optional(),
        template_file: z.string().min(1).optional(),
        use_repo_template: z.boolean().default(true),
      })
      .prefault({}),
    limits: z
      .strictObject({
        max_changed_lines: z.number().int().positive().default(3000),
      })
      .prefault({}),
    reviewers: z
      .strictObject({
        mandatory: z.array(z.string().min(1)).default(["TechLeadAgent", "QAAssistantAgent"]),
        /** Extra reviewers by component scope (matched case-insensitively). Prefix a name with `optional:` to not require it. */
        by_scope: z.record(z.string(), z.array(z.string().min(1))).default({}),
      })
      .prefault({}),
    labels: z
      .strictObject({
        always: z.array(z.string().min(1)).default(["traceable", "generated-by:AI"]),
        /** `<scope>` is replaced by the component scope in lower case. Empty string turns it off. */
        domain: z.string().default("domain:<scope>"),
        /** Label on PRs that break their users (a `!`, a BREAKING CHANGE footer, a removed public symbol). Empty string adds none. */
        breaking: z.string().default("breaking-change"),
        requires_tests: z
          .strictObject({
            enabled: z.boolean().default(true),
            label: z.string().min(1).default("requires-tests"),
            code_globs: z
              .array(glob)
              .default(["**/*.{cs,ts,tsx,js,jsx,mjs,cjs,py,go,java,kt,rb,rs,php,swift,scala,c,cc,cpp,h,hpp,fs,vb}"]),
            test_globs: z
              .array(glob)
              .default([
                "**/{test,tests,__tests__,spec,specs}/**",
                "**/*{Test,Tests,Spec,_test,.test,.spec}.*",
                "**/test_*.*",
              ]),
          })
          .prefault({}),
      })
      .prefault({}),
    trace: z
      .strictObject({
        /** Files that may change in any trace without counting as outside its scope. */
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
          ]),
        /** A changed file whose path contains the component scope as a word (CreateOrderHandler.cs for Order) fits the scope. */
        match_scope_in_path: z.boolean().default(true),
      })
      .prefault({}),
    digest: z
      .strictObject({
        /** Tokens (about 4 characters each) of diff hunks the model sees; source first, then tests, then docs. 0 sends none. */
        hunk_budget_tokens: z.number().int().min(0).max(200_000).default(3000),
        /** Files larger than this (bytes, before or after) are counted but not parsed for symbols. */
        max_parse_bytes: z.number().int().min(1024).max(10_000_000).default(512_000),
        /** Files parsed for symbols at most; the rest are counted and classified only. */
        max_parsed_files: z.number().int().min(0).max(10_000).default(300),
        /** Extra globs for generated files (summarised, never quoted), besides the built-in ones. */
        generated_globs: z.array(glob).default([]),
        /** Extra globs for vendored third-party code, besides the built-in ones. */
        vendored_globs: z.array(glob).default([]),
      })
      .prefault({}),
    types: z
      .strictObject({
        /** Used when no commit subject has a conventional type: the first rule whose condition holds gives the type. */
        infer: z.boolean().default(true),
        /** Files that make a change `docs` when every changed file matches. */
        docs_globs: z
          .array(glob)
          .default(["**/*.{md,mdx,rst,adoc,txt}", "docs/**", "doc/**", "**/LICENSE*", "**/CHANGELOG*"]),
        /** Files that make a change `ci` when every changed file matches. */
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
          ]),
        /** Dependency manifests and lock files: a change to only these is `build`. */
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
          ]),
        /** Words at the start of a subject (or in brackets, `[fix]`) that make a change a `fix`. */
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
          ]),
      })
      .prefault({}),
    pr: z
      .strictObject({
        /** `commit`: the event's commit only; `merge-base`: every commit since the target branch; `auto`: merge-base when the target exists locally. */
        commit_range: z.enum(["auto", "commit", "merge-base"]).default("auto"),
      })
      .prefault({}),
    risk: z
      .strictObject({
        /** Risk of a change request's `change_type`; entries here are added to (and override) the seed's table. */
        change_types: z
          .record(z.string().regex(/^[a-z0-9][a-z0-9-]*$/, "change types are lower-case words joined by -"), level)
          .default({})
          .transform((given) => ({ ...DEFAULT_CHANGE_TYPE_RISK, ...given })),
        unknown_change_type: level.default("medium"),
        /** Risk of a commit-based PR by its conventional type; added to (and overriding) the defaults. */
        commit_types: z
          .record(z.string().regex(/^[a-z]+$/, "conventional types are lower-case words"), level)
          .default({})
          .transform((given) => ({ ...DEFAULT_COMMIT_TYPE_RISK, ...given })),
        unknown_commit_type: level.default("medium"),
        /** A changed file matching `glob` raises the risk to at least `level`. */
        paths: z.array(z.strictObject({ glob, level, reason: z.string().min(1).optional() })).default([]),
        /** Changes larger than these raise the risk; line thresholds are skipped when the forge gives no line counts. */
        size: z
          .strictObject({
            medium_lines: z.number().int().positive().default(200),
            high_lines: z.number().int().positive().default(1000),
            medium_files: z.number().int().positive().default(20),
            high_files: z.number().int().positive().default(100),
          })
          .prefault({}),
      })
      .prefault({}),
    merge: z
      .strictObject({
        /** Risk levels whose PRs merge themselves once CI is green. High risk never does. */
        auto_merge_levels: z.array(z.enum(["low", "medium"])).default(["low"]),
        /** Also auto-merge commit-based PRs (CommitCompleted); by default only change requests and rollbacks do. */
        commits: z.boolean().default(false),
        method: z.literal("squash").default("squash"),
        delete_source_branch: z.boolean().default(true),
        /** Required reviewers added to high-risk PRs (names as the forge knows them; GitHub teams as org/team). */
        senior_reviewers: z.array(z.string().min(1)).default([]),
        /** Label on PRs that need a senior approval; empty string adds none. */
        approval_label: z.string().default("requires-approval"),
        /** How long `run --watch` and `rollback --watch` follow a PR's checks and merge before giving up. */
        watch_timeout_ms: z.number().int().min(1000).max(86_400_000).default(900_000),
        poll_interval_ms: z.number().int().min(10).max(600_000).default(5000),
      })
      .prefault({}),
    change_requests: z
      .strictObject({
        /** Branch for a change request: `<prefix><change_type>-<id>` (the seed's agent-sre/<type>-<id>). */
        branch_prefix: z.string().min(1).default("agent-sre/"),
        /** Conventional type of a change request's title and commit. */
        commit_type: z
          .string()
          .regex(/^[a-z]+$/)
          .default("fix"),
      })
      .prefault({}),
    rollback: z
      .strictObject({
        /** Branch for a revert commit (Azure; GitHub names it itself): `<prefix><pr id>`. */
        branch_prefix: z.string().min(1).default("agent-sre/rollback-"),
        /** Labels on every rollback PR, besides the policy's `labels.always`. */
        labels: z.array(z.string().min(1)).default(["rollback"]),
        /** A revert restores a state that ran before: it is low risk and merges itself under merge.auto_merge_levels. */
        auto_merge: z.boolean().default(true),
      })
      .prefault({}),
    retry_policy: z
      .strictObject({
        max_attempts: z.number().int().min(1).max(10).default(retryDefaults.max_attempts),
        backoff: z.enum(["exponential", "fixed"]).default(retryDefaults.backoff),
        base_delay_ms: z.number().int().min(0).max(60_000).default(retryDefaults.base_delay_ms),
        retryable_status_codes: z
          .array(z.number().int().min(400).max(599))
          .default(retryDefaults.retryable_status_codes),
      })
      .prefault({}),
    prose: z
      .strictObject({
        /** Hosts that links in drafted prose may point to (subdomains included); none by default. */
        allowed_link_hosts: z.array(z.string().min(1)).default([]),
        /** Phrases drafted prose must not contain (case-insensitive). */
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
          ]),
        max_highlights: z.number().int().min(0).max(50).default(8),
        max_highlight_length: z.number().int().min(20).max(2000).default(200),
        max_purpose_length: z.number().int().min(50).max(10_000).default(1200),
      })
      .prefault({}),
    /** Where PRs go. Env PR_CREATOR_FORGE wins. `dry-run` previews and writes nothing. */
    forge: z.enum(FORGE_KINDS).default("dry-run"),
    azure_devops: z
      .strictObject({
        /** e.g. https://dev.azure.com/acme; env AZURE_DEVOPS_ORG_URL wins. The PAT comes only from AZURE_DEVOPS_TOKEN. */
        org_url: z.url().optional(),
        /** Env AZURE_DEVOPS_PROJECT wins. */
        project: z.string().min(1).optional(),
      })
      .prefault({}),
    github: z
      .strictObject({
        /** API root; https://HOST/api/v3 for GitHub Enterprise Server. Env GITHUB_API_URL wins. The token comes only from GITHUB_TOKEN. */
        api_url: z.url().default("https://api.github.com"),
        /** Owner for events whose repo is a bare name. Env GITHUB_OWNER wins. */
        owner: z.string().min(1).optional(),
        /** GitHub's recommended pacing: one write a second and ten requests at a time per process. */
        throttle: z.boolean().default(true),
      })
      .prefault({}),
    /** `local`: a git clone (--repo-path); `forge`: the forge's API; `auto`: local when --repo-path is given or no forge is set. */
    commit_source: z.enum(["auto", "local", "forge"]).default("auto"),
    /** Per forge request; a request that takes longer counts as a network failure and is retried under retry_policy. */
    forge_timeout_ms: z.number().int().min(1000).max(600_000).default(30_000),
    model: z
      .strictObject({
        /** `none` drafts deterministically from the commit messages. Env PR_CREATOR_MODEL_PROVIDER overrides. */
        provider: z.enum(["none", "openai", "azure-openai"]).default("none"),
        /** Model (OpenAI) or deployment (Azure) name. Env PR_CREATOR_MODEL overrides. */
        name: z.string().min(1).default("gpt-4o-mini"),
        temperature: z.number().min(0).max(2).default(0),
        /** Per model call; a call that takes longer is retried like a 5xx. */
        timeout_ms: z.number().int().min(1000).max(600_000).default(30_000),
        /** Retries of one model call on timeouts, 429 (honouring Retry-After) and 5xx, with exponential backoff. */
        max_retries: z.number().int().min(0).max(10).default(2),
        /** Repair rounds after the first draft before the deterministic drafter takes over. */
        max_repairs: z.number().int().min(0).max(10).default(2),
        /** How the model is asked for structured output; `function_calling` works with most OpenAI-compatible servers. */
        structured_output: z.enum(["function_calling", "json_schema", "json_mode"]).default("function_calling"),
      })
      .prefault({}),
    approval: z
      .strictObject({
        /**
         * Failures a person may wave through: the run pauses (exit 3) instead of failing, and
         * `pr-creator resume` continues or ends it. Needs the state file for the checkpoint.
         */
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
          .default([]),
      })
      .prefault({}),
    /** SQLite file for checkpoints of paused runs (and, later, memory). Relative to the config file, else the working directory. */
    state_file: z.string().min(1).default(".pr-creator/state.db"),
    memory: z
      .strictObject({
        /** `sqlite`: the state file; `qdrant`: a Qdrant server (QDRANT_URL, QDRANT_API_KEY); `none`: no memory. */
        store: z.enum(["sqlite", "qdrant", "none"]).default("sqlite"),
        qdrant: z
          .strictObject({
            /** Env QDRANT_URL wins. */
            url: z.url().optional(),
            collection: z
              .string()
              .regex(/^[\w-]+$/, "letters, digits, _ and - only")
              .default("pr_creator_prs"),
          })
          .prefault({}),
        /** How many earlier PRs the model sees as style examples (same scope first). */
        recall_k: z.number().int().min(0).max(10).default(3),
        /** Cosine similarity from which an earlier PR of the same scope counts as a possible duplicate. */
        duplicate_threshold: z.number().min(0.5).max(1).default(0.95),
        /** Label added to a PR that looks like a duplicate; empty string adds none. */
        duplicate_label: z.string().default("possible-duplicate"),
      })
      .prefault({}),
    embeddings: z
      .strictObject({
        /** `hashed`: a deterministic n-gram embedder (no model, no network); `openai`: an OpenAI-compatible embeddings model. */
        provider: z.enum(["hashed", "openai"]).default("hashed"),
        model: z.string().min(1).default("text-embedding-3-small"),
        /** Vector size; defaults to 512 (hashed) or 1536 (openai). */
        dimensions: z.number().int().min(16).max(8192).optional(),
      })
      .prefault({}),
    trace_registry: z.string().min(1).optional(),
    events: z
      .strictObject({
        /** Append every lifecycle event as one JSON line to this file. */
        jsonl_file: z.string().min(1).optional(),
        /** Print every lifecycle event as one JSON line on stdout (the CLI leaves stdout to --json output then). */
        stdout: z.boolean().default(false),
        /** HTTP POST of each event, signed with HMAC-SHA256 when a secret is named. */
        webhooks: z.array(webhookSchema).default([]),
        /** Where failures go for people (the seed's HumanOpsAgent): PullRequestFailed and PullRequestMergeBlocked. */
        failure_webhook: webhookSchema.omit({ events: true }).optional(),
        /** Keep events no sink accepted in the state file and send them again on the next run. */
        outbox: z.boolean().default(true),
      })
      .prefault({}),
    telemetry: z
      .strictObject({
        /** OpenTelemetry service.name. Spans go out by OTLP/HTTP when OTEL_EXPORTER_OTLP_ENDPOINT is set. */
        service_name: z.string().min(1).default("pr-creator"),
      })
      .prefault({}),
    logging: z
      .strictObject({
        /** One JSON line per run at info; node-by-node lines at debug (the CLI's --verbose). Env PR_CREATOR_LOG_LEVEL wins. */
        level: z.enum(["silent", "error", "warn", "info", "debug"]).default("info"),
      })
      .prefault({}),
    server: z
      .strictObject({
        host: z.string().min(1).default("127.0.0.1"),
        port: z.number().int().min(0).max(65_535).default(8080),
        /** Bearer token for every route but health checks comes from this environment variable; unset = no auth (loopback only). */
        token_env: z
          .string()
          .regex(/^[A-Z_][A-Z0-9_]*$/, "an environment variable name")
          .default("PR_CREATOR_API_TOKEN"),
        max_body_bytes: z.number().int().min(1024).max(50_000_000).default(1_000_000),
        /** Runs at once; more wait in a queue of max_queued, beyond which requests get 429 with Retry-After. */
        max_concurrent_runs: z.number().int().min(1).max(1000).default(8),
        max_queued: z.number().int().min(0).max(100_000).default(200),
        /** On shutdown, how long in-flight runs may take to finish. */
        drain_timeout_ms: z.number().int().min(0).max(600_000).default(30_000),
      })
      .prefault({}),
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
