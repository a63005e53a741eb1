/**
 * The distribution files, checked by structure since no container runtime or CI runner is here: the
 * Dockerfile, the GitHub Action and the Azure Pipelines template, against the code they drive.
 */
import { existsSync, readFileSync, readdirSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { parse as parseYaml } from "yaml";
import { PolicySchema } from "../../src/domain/policy.js";
import { buildProgram } from "../../src/cli/build-program.js";

const project = path.resolve(import.meta.dirname, "../..");
const read = (file: string) => readFileSync(path.join(project, file), "utf8");

/** Every environment variable name the sources read or name. */
const sourceText = (() => {
  const texts: string[] = [];
  for (const entry of readdirSync(path.join(project, "src"), { recursive: true, withFileTypes: true })) {
    if (entry.isFile() && entry.name.endsWith(".ts"))
      texts.push(readFileSync(path.join(entry.parentPath, entry.name), "utf8"));
  }
  return texts.join("\n");
})();
const cliReads = (name: string) => new RegExp(`\\b${name}\\b`).test(sourceText);

interface Instruction {
  op: string;
  args: string;
}

/** Dockerfile instructions, continuation lines joined and comments dropped. */
function dockerfile(text: string): Instruction[] {
  const joined = text
    .split("\n")
    .filter((l) => !/^\s*#/.test(l))
    .join("\n")
    .replace(/\\\n/g, " ");
  return joined
    .split("\n")
    .map((l) => l.trim())
    .filter(Boolean)
    .map((l) => {
      const [op, ...rest] = l.split(/\s+/);
      return { op: op!.toUpperCase(), args: rest.join(" ") };
    });
}

describe("Dockerfile", () => {
  const steps = dockerfile(read("Dockerfile"));
  const stages = steps.flatMap((s, i) => (s.op === "FROM" ? [i] : []));
  const final = steps.slice(stages[stages.length - 1]);

  it("builds in one stage and runs from another that copies only the build's output", () => {
    expect(stages.length).toBeGreaterThanOrEqual(2);
    const build = /\bAS\s+(\S+)/i.exec(steps[stages[0]!]!.args)?.[1];
    expect(build).toBeTruthy();
    const fromBuild = final.filter((s) => s.op === "COPY" && s.args.includes(`--from=${build}`));
    expect(fromBuild.map((s) => s.args)).toEqual(
      expect.arrayContaining([expect.stringContaining("/app/dist"), expect.stringContaining("/app/node_modules")]),
    );
    // The build stage compiles; the runtime stage has no compiler and no dev dependencies.
    const buildStage = steps.slice(stages[0], stages[1]);
    expect(buildStage.some((s) => s.op === "RUN" && s.args.includes("npm run build"))).toBe(true);
    expect(buildStage.some((s) => s.op === "RUN" && s.args.includes("npm prune --omit=dev"))).toBe(true);
    expect(final.some((s) => s.op === "RUN" && /\bg\+\+|\bnpm (ci|install)\b/.test(s.args))).toBe(false);
  });

  it("copies only files that exist, and the ignore file keeps the heavy folders out of the context", () => {
    for (const s of steps.filter((s) => s.op === "COPY" && !s.args.includes("--from"))) {
      const sources = s.args
        .split(/\s+/)
        .filter((a) => !a.startsWith("--"))
        .slice(0, -1);
      for (const source of sources) expect(existsSync(path.join(project, source)), source).toBe(true);
    }
    const ignored = read(".dockerignore").split("\n");
    for (const folder of ["node_modules", "dist", ".git", "test"]) expect(ignored).toContain(folder);
  });

  it("runs as a non-root user", () => {
    const users = final.filter((s) => s.op === "USER").map((s) => s.args);
    expect(users.length).toBeGreaterThan(0);
    expect(users[users.length - 1]).not.toMatch(/^(root|0)(:|$)/);
    // The user comes before the entry point.
    expect(final.findIndex((s) => s.op === "USER")).toBeLessThan(final.findIndex((s) => s.op === "ENTRYPOINT"));
  });

  it("checks health on the server's /healthz route, on the port it serves and exposes", () => {
    const http = read("src/server/http.ts");
    expect(http).toMatch(/app\.get\("\/healthz"/);
    const health = final.find((s) => s.op === "HEALTHCHECK")!;
    expect(health.args).toMatch(/CMD .*http:\/\/127\.0\.0\.1:8080\/healthz/);
    expect(final.find((s) => s.op === "EXPOSE")!.args).toBe("8080");
    expect(PolicySchema.parse({}).server.port).toBe(8080);
  });

  it("has the CLI as entry point, serve by default, and its state in a volume outside the app", () => {
    const entry = JSON.parse(final.find((s) => s.op === "ENTRYPOINT")!.args) as string[];
    expect(entry.slice(-2)).toEqual(["node", "/app/dist/cli/main.js"]);
    const cmd = JSON.parse(final.find((s) => s.op === "CMD")!.args) as string[];
    expect(cmd).toEqual(["serve", "--host", "0.0.0.0", "--port", "8080"]);
    const env = final
      .filter((s) => s.op === "ENV")
      .map((s) => s.args)
      .join(" ");
    expect(env).toContain("PR_CREATOR_STATE_DIR=/var/lib/pr-creator");
    expect(final.find((s) => s.op === "VOLUME")!.args).toContain("/var/lib/pr-creator");
  });

  it("shows how the same image runs `worker` processes at scale, a command the CLI has", () => {
    const header = read("Dockerfile")
      .split("\n")
      .filter((l) => l.startsWith("#"));
    expect(header.some((l) => /docker run .*PR_CREATOR_DATABASE_URL=\S+ pr-creator worker\b/.test(l))).toBe(true);
    const io = { stdout: () => {}, stderr: () => {}, readStdin: async () => "", cwd: project };
    expect(buildProgram(io).commands.map((c) => c.name())).toContain("worker");
  });
});

interface ActionStep {
  name?: string;
  id?: string;
  uses?: string;
  run?: string;
  env?: Record<string, string>;
}

describe("GitHub Action (action.yml)", () => {
  const action = parseYaml(read("action.yml")) as {
    inputs: Record<string, { required?: boolean; default?: string; description: string }>;
    outputs: Record<string, { value: string }>;
    runs: { using: string; steps: ActionStep[] };
  };
  const steps = action.runs.steps;

  it("is a composite action that builds pr-creator and runs it on the workflow's commit", () => {
    expect(action.runs.using).toBe("composite");
    const scripts = steps.map((s) => s.run ?? "").join("\n");
    expect(scripts).toContain("npm ci");
    expect(scripts).toMatch(/dist\/cli\/main\.js" "\$\{args\[@\]\}"/);
    const event = steps.find((s) => s.run?.includes('"CommitCompleted"'))!;
    expect(event.env!.PRC_SHA).toContain("github.sha");
    expect(event.env!.PRC_REPO).toBe("${{ github.repository }}");
    expect(action.inputs["trace-id"]!.required).toBe(true);
  });

  it("maps every input to an environment variable the CLI reads, or one the script turns into a flag", () => {
    const byInput = new Map<string, { name: string; step: ActionStep }>();
    for (const step of steps)
      for (const [name, value] of Object.entries(step.env ?? {})) {
        const input = /\$\{\{\s*inputs\.([\w-]+)/.exec(value)?.[1];
        if (input) byInput.set(input, { name, step });
      }
    expect([...byInput.keys()].sort()).toEqual(Object.keys(action.inputs).sort());
    for (const [input, { name, step }] of byInput) {
      const used = cliReads(name) || new RegExp(`\\$${name}\\b|e\\.${name}\\b`).test(step.run ?? "");
      expect(used, `${input} → ${name}`).toBe(true);
    }
    expect(byInput.get("config")!.name).toBe("PR_CREATOR_CONFIG");
    expect(byInput.get("forge")!.name).toBe("PR_CREATOR_FORGE");
    expect(byInput.get("github-token")!.name).toBe("GITHUB_TOKEN");
    expect(byInput.get("github-app-id")!.name).toBe("GITHUB_APP_ID");
    expect(byInput.get("github-app-private-key")!.name).toBe("GITHUB_APP_PRIVATE_KEY");
    expect(byInput.get("github-app-installation-id")!.name).toBe("GITHUB_APP_INSTALLATION_ID");
    expect(byInput.get("log-level")!.name).toBe("PR_CREATOR_LOG_LEVEL");
    expect(byInput.get("model-provider")!.name).toBe("PR_CREATOR_MODEL_PROVIDER");
    expect(byInput.get("model")!.name).toBe("PR_CREATOR_MODEL");
  });

  it("never expands inputs inside a script (no script injection), and keeps state out of the workspace", () => {
    for (const step of steps) expect(step.run ?? "").not.toMatch(/\$\{\{/);
    const run = steps.find((s) => s.id === "run")!;
    expect(run.env!.PR_CREATOR_STATE_DIR).toContain("runner.temp");
    expect(Object.keys(action.outputs).sort()).toEqual(["pr-number", "pr-url", "result-file", "status"]);
  });
});

describe("Azure Pipelines template", () => {
  const template = parseYaml(read("templates/azure-pipelines/pr-creator.yml")) as {
    parameters: { name: string }[];
    steps: { script?: string; env?: Record<string, string> }[];
  };

  it("maps each parameter to an environment variable the CLI reads or the script uses, and never expands one in a script", () => {
    const env = Object.assign({}, ...template.steps.map((s) => s.env ?? {})) as Record<string, string>;
    const scripts = template.steps.map((s) => s.script ?? "").join("\n");
    for (const { name } of template.parameters) {
      const variable = Object.entries(env).find(([, value]) => value.includes(`parameters.${name} `))?.[0];
      expect(variable, name).toBeDefined();
      const used = cliReads(variable!) || new RegExp(`\\$${variable}\\b|e\\.${variable}\\b`).test(scripts);
      expect(used, `${name} → ${variable}`).toBe(true);
    }
    expect(scripts).not.toMatch(/\$\{\{/);
    expect(env.SYSTEM_ACCESSTOKEN).toBe("$(System.AccessToken)");
    expect(env.AZURE_DEVOPS_TOKEN).toBeUndefined();
    expect(cliReads("SYSTEM_ACCESSTOKEN")).toBe(true);
  });
});

describe("LICENSE and CHANGELOG", () => {
  it("match package.json's license, and the changelog has an entry for the current version", () => {
    const pkg = JSON.parse(read("package.json")) as { license: string; version: string; files: string[] };
    expect(pkg.license).toBe("MIT");
    expect(read("LICENSE")).toMatch(/^MIT License\n/);
    expect(read("CHANGELOG.md")).toContain(`## [${pkg.version}]`);
    expect(pkg.files).toEqual(expect.arrayContaining(["LICENSE", "CHANGELOG.md", "schema"]));
  });
});
