/**
 * GitHub credentials against the emulator through the real clients: a GitHub App (its JWT, signed with the app's
 * key, buys an installation token through @octokit/auth-app), GH_TOKEN beside GITHUB_TOKEN, and 401/403 messages
 * that name the variable and the permission the operation needs without ever showing a secret.
 */
import { generateKeyPairSync, sign } from "node:crypto";
import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { createAgent } from "../../src/agent/create-agent.js";
import { SAMPLE_TRACES } from "../../src/demo/sample-repo.js";
import type { CommitCompleted, LifecycleEvent } from "../../src/domain/events.js";
import { PrCreatorError } from "../../src/domain/errors.js";
import { PolicySchema } from "../../src/domain/policy.js";
import { createForge, gitHubCredentials } from "../../src/forges/create-forge.js";
import { secretValuesFromEnv } from "../../src/logging/run-log.js";
import { createInMemoryTraceRegistry } from "../../src/policy/trace-registry.js";
import { startGitHubEmulator, type GitHubEmulator } from "../emulators/github.js";
import { responseSchema, loadGitHubDescription, validate } from "../emulators/github-schema.js";
import { runEventCli } from "./forge-cli.js";
import { seedOrderServiceOnGitHub } from "./worlds.js";

const TOKEN = "ghp_authTestTokenValue000111";
const REPO = "acme/OrderService";
const APP_ID = 4242;
const INSTALLATION = 77;
const sha = (n: number) => n.toString(16).padStart(40, "c");
const author = { name: "code-committer-agent", email: "cc@agents.local", date: "2025-05-07T19:05:33Z" };

const pem = () =>
  generateKeyPairSync("rsa", {
    modulusLength: 2048,
    publicKeyEncoding: { type: "spki", format: "pem" },
    privateKeyEncoding: { type: "pkcs1", format: "pem" },
  });
const appKey = pem();
const otherKey = pem();

let gh: GitHubEmulator;
let branchCount = 0;

const policy = PolicySchema.parse({
  forge: "github",
  github: { throttle: false },
  retry_policy: { base_delay_ms: 10 },
  forge_timeout_ms: 5000,
});

function seed(): void {
  seedOrderServiceOnGitHub(gh, REPO, sha);
}

function featureBranch(): CommitCompleted {
  const name = `feature/auth-${++branchCount}`;
  const repo = gh.state.repos.get(REPO.toLowerCase())!;
  const commit = sha(5000 + branchCount);
  repo.commits.set(commit, {
    message: "feat(order): implement CreateOrderHandler [trace:ord-8128]",
    author,
    parents: [sha(2)],
    files: [
      { filename: "src/Application/Handlers/CreateOrderHandler.cs", status: "added", additions: 12, deletions: 0 },
      { filename: "tests/Order/CreateOrderHandlerTests.cs", status: "added", additions: 14, deletions: 0 },
    ],
  });
  repo.branches.set(name, commit);
  return {
    event: "CommitCompleted",
    trace_id: "trace-ord-8128",
    commit_hash: commit,
    repo: REPO,
    branch: name,
    agent: "code-committer-agent",
    timestamp: "2025-05-07T19:05:33Z",
  };
}

async function run(env: Record<string, string>, event: unknown = featureBranch()) {
  const delivered: LifecycleEvent[] = [];
  const agent = await createAgent({
    policy,
    env: { GITHUB_API_URL: gh.url, ...env },
    traceRegistry: createInMemoryTraceRegistry(SAMPLE_TRACES),
    sinks: [async (e) => void delivered.push(e)],
    model: null,
    memory: null,
  });
  return { result: await agent.handle(event), delivered };
}

const appEnv = (privateKey = appKey.privateKey) => ({
  GITHUB_APP_ID: String(APP_ID),
  GITHUB_APP_PRIVATE_KEY: privateKey,
  GITHUB_APP_INSTALLATION_ID: String(INSTALLATION),
});

beforeAll(async () => {
  gh = await startGitHubEmulator({
    token: TOKEN,
    app: { id: APP_ID, publicKey: appKey.publicKey, installationId: INSTALLATION },
  });
  seed();
});

afterEach(() => {
  gh.reset();
  seed();
});

afterAll(async () => {
  await gh.close();
});

describe("GitHub App", () => {
  it("signs a JWT with the app's key, buys one installation token and creates the PR with it", async () => {
    const before = gh.installationTokens.length;
    const { result } = await run(appEnv());
    expect(result.status).toBe("created");
    const minted = gh.requests.filter((r) => r.route === "apps.createInstallationAccessToken");
    expect(minted.map((r) => `${r.method} ${r.path} ${r.status}`)).toEqual([
      `POST /app/installations/${INSTALLATION}/access_tokens 201`,
    ]);
    expect(gh.installationTokens.length).toBe(before + 1);
    // The emulator verified the RS256 signature against the app's public key; the claims are GitHub's.
    const jwt = gh.appJwts.at(-1)!;
    expect(String(jwt.iss)).toBe(String(APP_ID));
    expect(Number(jwt.exp) - Number(jwt.iat)).toBeLessThanOrEqual(600);
    // Every other request was accepted, so each carried the installation token (the static token was never set).
    expect(gh.requests.filter((r) => r.status === 401)).toEqual([]);
    expect(JSON.stringify(result)).not.toContain("PRIVATE KEY");
  });

  it("works with GitHub's pacing on (github.throttle: true, the default)", async () => {
    const delivered: LifecycleEvent[] = [];
    const agent = await createAgent({
      policy: PolicySchema.parse({ ...policy, github: { throttle: true } }),
      env: { GITHUB_API_URL: gh.url, ...appEnv() },
      traceRegistry: createInMemoryTraceRegistry(SAMPLE_TRACES),
      sinks: [async (e) => void delivered.push(e)],
      model: null,
      memory: null,
    });
    expect((await agent.handle(featureBranch())).status).toBe("created");
  });

  it("the emulator checks the JWT as GitHub does, and answers in the shape of GitHub's OpenAPI description", async () => {
    const now = Math.floor(Date.now() / 1000);
    const jwt = (claims: Record<string, unknown>, key = appKey.privateKey) => {
      const part = (o: object) => Buffer.from(JSON.stringify(o)).toString("base64url");
      const unsigned = `${part({ alg: "RS256", typ: "JWT" })}.${part(claims)}`;
      return `${unsigned}.${sign("sha256", Buffer.from(unsigned), key).toString("base64url")}`;
    };
    const mint = (token: string, installation = INSTALLATION) =>
      fetch(`${gh.url}/app/installations/${installation}/access_tokens`, {
        method: "POST",
        headers: { authorization: `Bearer ${token}`, accept: "application/vnd.github+json" },
      }).then(async (r) => ({ status: r.status, body: (await r.json()) as { message?: string } }));
    const good = { iss: APP_ID, iat: now - 30, exp: now + 570 };
    const ok = await mint(jwt(good));
    expect(ok.status).toBe(201);
    const schema = responseSchema(
      loadGitHubDescription(),
      "POST",
      "/app/installations/{installation_id}/access_tokens",
      201,
    )!;
    expect(validate(schema, ok.body)).toEqual([]);
    expect((await mint(jwt(good, otherKey.privateKey))).status).toBe(401);
    expect((await mint(jwt({ ...good, iss: 1 }))).body.message).toBe("Integration not found");
    expect((await mint(jwt({ ...good, exp: now + 3600 }))).body.message).toMatch(/too far in the future/);
    expect((await mint(jwt({ ...good, iat: now - 700, exp: now - 100 }))).status).toBe(401);
    expect((await mint(jwt(good), 999)).status).toBe(404);
    // An installation token opens the API; the JWT itself does not.
    const token = (ok.body as { token: string }).token;
    const asInstallation = await fetch(`${gh.url}/repos/${REPO}`, { headers: { authorization: `token ${token}` } });
    expect(asInstallation.status).toBe(200);
    const asJwt = await fetch(`${gh.url}/repos/${REPO}`, { headers: { authorization: `Bearer ${jwt(good)}` } });
    expect(asJwt.status).toBe(401);
  });

  it("reads the key from GITHUB_APP_PRIVATE_KEY_FILE, and takes a key whose newlines are written as \\n", async () => {
    const dir = await mkdtemp(path.join(tmpdir(), "pr-creator-app-key-"));
    const file = path.join(dir, "app.pem");
    await writeFile(file, appKey.privateKey);
    const { GITHUB_APP_PRIVATE_KEY: _inline, ...rest } = appEnv();
    expect((await run({ ...rest, GITHUB_APP_PRIVATE_KEY_FILE: file })).result.status).toBe("created");
    const escaped = appKey.privateKey.trim().replace(/\n/g, "\\n");
    expect((await run(appEnv(escaped))).result.status).toBe("created");
  });

  it("a JWT signed with another key is refused: unauthorized, naming the app settings, the key nowhere", async () => {
    const { result, delivered } = await run(appEnv(otherKey.privateKey));
    expect(result.status).toBe("failed");
    expect(result.reason).toBe("unauthorized");
    expect(result.message).toContain(`GITHUB_APP_ID ${APP_ID}, installation ${INSTALLATION}`);
    expect(result.message).toContain("A JSON web token could not be decoded");
    const everything = JSON.stringify({ result, delivered });
    expect(everything).not.toContain("PRIVATE KEY");
    expect(everything).not.toContain(otherKey.privateKey.split("\n")[1]!);
  });

  it("an incomplete or malformed app configuration is invalid_config, naming what is missing and echoing no key", () => {
    const missing = (() => {
      try {
        gitHubCredentials({ GITHUB_APP_ID: "12" });
      } catch (error) {
        return error as PrCreatorError;
      }
    })();
    expect(missing?.reason).toBe("invalid_config");
    expect(missing?.message).toContain("GITHUB_APP_PRIVATE_KEY (or GITHUB_APP_PRIVATE_KEY_FILE)");
    expect(missing?.message).toContain("GITHUB_APP_INSTALLATION_ID");
    expect(() => gitHubCredentials({ ...appEnv(), GITHUB_APP_INSTALLATION_ID: "seventy" })).toThrow(
      /GITHUB_APP_INSTALLATION_ID is "seventy"/,
    );
    const notPem = "MIIEowIBAAKCAQEAsecretish";
    let thrown: unknown;
    try {
      gitHubCredentials({ ...appEnv(notPem) });
    } catch (error) {
      thrown = error;
    }
    expect((thrown as PrCreatorError).message).toContain("does not hold a PEM private key");
    expect(JSON.stringify({ message: (thrown as Error).message, hint: (thrown as PrCreatorError).hint })).not.toContain(
      notPem,
    );
    expect(() => gitHubCredentials({ ...appEnv(), GITHUB_APP_PRIVATE_KEY_FILE: "/nonexistent/app.pem" })).toThrow(
      /Both GITHUB_APP_PRIVATE_KEY and GITHUB_APP_PRIVATE_KEY_FILE/,
    );
    const { GITHUB_APP_PRIVATE_KEY: _inline, ...rest } = appEnv();
    expect(() => gitHubCredentials({ ...rest, GITHUB_APP_PRIVATE_KEY_FILE: "/nonexistent/app.pem" })).toThrow(
      /"\/nonexistent\/app.pem", which cannot be read \(ENOENT\)/,
    );
  });
});

describe("secrets stay out of logs and output", () => {
  it("every credential variable is scrubbed from log lines", () => {
    const env = {
      ...appEnv(),
      GH_TOKEN: "ghp_cliToken0001",
      AZURE_DEVOPS_BEARER_TOKEN: "entra-token-0001",
      SYSTEM_ACCESSTOKEN: "pipeline-token-0001",
    };
    expect(secretValuesFromEnv(env)).toEqual(
      expect.arrayContaining([appKey.privateKey.trim(), "ghp_cliToken0001", "entra-token-0001", "pipeline-token-0001"]),
    );
  });

  it("a CLI run with a refused app key prints neither the key nor a token, on stdout or stderr", async () => {
    const out = await runEventCli(featureBranch(), "forge: github\ngithub:\n  throttle: false\n", {
      ...appEnv(otherKey.privateKey),
      GITHUB_API_URL: gh.url,
    });
    expect(out.code).not.toBe(0);
    const printed = `${out.stdout}\n${out.stderr}\n${JSON.stringify(out.logs)}`;
    expect(printed).toContain("unauthorized");
    expect(printed).toContain("GITHUB_APP_ID");
    for (const line of otherKey.privateKey.split("\n").filter((l) => l.length > 20))
      expect(printed).not.toContain(line);
    expect(printed).not.toMatch(/ghs_[0-9a-f]{8}/);
  });
});

describe("GITHUB_TOKEN and GH_TOKEN", () => {
  it("GH_TOKEN alone is used; GITHUB_TOKEN wins when both are set", async () => {
    expect((await run({ GH_TOKEN: TOKEN })).result.status).toBe("created");
    expect((await run({ GITHUB_TOKEN: TOKEN, GH_TOKEN: "ghp_someOtherCliToken999" })).result.status).toBe("created");
    const refused = await run({ GITHUB_TOKEN: "ghp_wrongButFirst00000", GH_TOKEN: TOKEN });
    expect(refused.result.reason).toBe("unauthorized");
    expect(refused.result.message).toContain("The token from GITHUB_TOKEN was not accepted");
  });

  it("no credential at all names every way to give one", () => {
    expect(() => createForge(policy, { GITHUB_API_URL: gh.url })).toThrow(
      /GITHUB_TOKEN \(or GH_TOKEN, or a GitHub App: GITHUB_APP_ID, GITHUB_APP_PRIVATE_KEY, GITHUB_APP_INSTALLATION_ID\)/,
    );
  });

  it("a 401 names the variable (here GH_TOKEN) and the token appears nowhere", async () => {
    const wrong = "ghp_revokedCliTokenValue42";
    const { result, delivered } = await run({ GH_TOKEN: wrong });
    expect(result.reason).toBe("unauthorized");
    expect(result.message).toMatch(/The token from GH_TOKEN was not accepted .*This operation needs Contents: read/);
    expect(result.message).toContain("Set a valid token in GH_TOKEN");
    expect(JSON.stringify({ result, delivered })).not.toContain(wrong);
  });

  it("a 403 on create names GITHUB_TOKEN and Pull requests: write", async () => {
    gh.inject("pulls.create", { status: 403, body: { message: "Resource not accessible by personal access token" } });
    const { result } = await run({ GITHUB_TOKEN: TOKEN });
    expect(result.reason).toBe("forbidden");
    expect(result.message).toContain("Resource not accessible by personal access token");
    expect(result.message).toContain("The token from GITHUB_TOKEN was accepted but is not allowed to do this.");
    expect(result.message).toContain("This operation needs Pull requests: write (classic tokens: repo).");
    expect(result.message).toContain("Give the token in GITHUB_TOKEN Pull requests: write");
    expect(JSON.stringify(result)).not.toContain(TOKEN);
  });

  it("a 403 for the app on labels names the app and the permission", async () => {
    gh.inject("issues.addLabels", { status: 403, body: { message: "Resource not accessible by integration" } });
    const { result } = await run(appEnv());
    expect(result.reason).toBe("forbidden");
    expect(result.message).toContain(
      `The GitHub App installation token from GITHUB_APP_ID ${APP_ID}, installation ${INSTALLATION} was accepted`,
    );
    expect(result.message).toContain("Pull requests: write or Issues: write");
  });
});

describe("GraphQL refusals", () => {
  it("a FORBIDDEN auto-merge (HTTP 200) names the app and the permissions it needs", async () => {
    const { result } = await run(appEnv());
    expect(result.status).toBe("created");
    const forge = createForge(policy, { ...appEnv(), GITHUB_API_URL: gh.url })!;
    gh.inject("graphql", {
      status: 200,
      body: { data: null, errors: [{ type: "FORBIDDEN", message: "Resource not accessible by integration" }] },
    });
    const refused = await forge
      .enableAutoMerge(REPO, Number(result.pr!.id), {
        method: "squash",
        delete_source_branch: false,
        commit_title: "t",
        commit_message: "m",
      })
      .catch((error: unknown) => error as PrCreatorError);
    expect(refused).toBeInstanceOf(PrCreatorError);
    expect((refused as PrCreatorError).reason).toBe("forbidden");
    expect((refused as PrCreatorError).hint).toBe(
      `Give the GitHub App installation token in GITHUB_APP_ID ${APP_ID}, installation ${INSTALLATION} Contents: write and Pull requests: write (classic tokens: repo).`,
    );
  });
});

describe("reviewer look-ups GitHub refuses", () => {
  it("a 403 or 401 on a user look-up is a warning: the PR opens without that reviewer, the reason in the result", async () => {
    gh.inject("users.getByUsername", {
      status: 403,
      body: { message: "Resource protected by organization SAML enforcement." },
    });
    const { result, delivered } = await run({ GITHUB_TOKEN: TOKEN });
    expect(result.status).toBe("created");
    const refusedWarning = result.warnings.find((w) => w.startsWith("Reviewer lookup for"));
    expect(refusedWarning).toMatch(/GitHub answered 403 to look up user (TechLeadAgent|QAAssistantAgent)/);
    expect(refusedWarning).toContain("GITHUB_TOKEN");
    expect(refusedWarning).toContain("SAML");
    // The look-up failed: whether the user exists is unknown, so no "has no GitHub identity" guess beside it.
    expect(result.warnings.filter((w) => w.includes("identity"))).toEqual([]);
    const pull = gh.state.repos.get(REPO.toLowerCase())!.pulls.find((p) => p.number === result.pr?.id)!;
    expect(pull.requested_reviewers.length).toBe(1);
    const created = delivered.find((e) => e.event === "PullRequestCreated") as { unresolved_reviewers?: string[] };
    expect(created.unresolved_reviewers).toHaveLength(1);

    gh.inject("users.getByUsername", { status: 401, body: { message: "Bad credentials" } }, 2);
    const both = await run({ GITHUB_TOKEN: TOKEN });
    expect(both.result.status).toBe("created");
    expect(both.result.warnings.filter((w) => w.includes("GitHub answered 401 to look up user"))).toHaveLength(2);
  });
});
