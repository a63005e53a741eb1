import { describe, expect, it } from "vitest";
import { databaseUrlProblem, displayDatabaseUrl } from "../../src/domain/database-url.js";
import { parseExplained, PrCreatorError } from "../../src/domain/errors.js";
import { PolicySchema } from "../../src/domain/policy.js";
import { stripUrlCredentials } from "../../src/domain/url-credentials.js";
import { secretValuesFromEnv } from "../../src/logging/run-log.js";
import { resolveDatabaseUrl } from "../../src/postgres/database.js";

const SECRET = "s3cr3t-pa55";

function refusal(run: () => unknown): PrCreatorError {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(PrCreatorError);
    return error as PrCreatorError;
  }
  throw new Error("expected a refusal");
}

describe("resolveDatabaseUrl", () => {
  it("is null without PR_CREATOR_DATABASE_URL or database.url: the embedded state stays the default", () => {
    expect(resolveDatabaseUrl({}, {})).toBeNull();
    expect(resolveDatabaseUrl({ database: {} }, { PR_CREATOR_DATABASE_URL: "  " })).toBeNull();
  });

  it("takes database.url from the policy", () => {
    expect(resolveDatabaseUrl({ database: { url: "postgres://app@db:5432/prs" } }, {})).toBe(
      "postgres://app@db:5432/prs",
    );
  });

  it("lets PR_CREATOR_DATABASE_URL win over database.url", () => {
    const url = resolveDatabaseUrl(
      { database: { url: "postgres://app@policy-db/prs" } },
      { PR_CREATOR_DATABASE_URL: " postgresql://app:pw@env-db/prs " },
    );
    expect(url).toBe("postgresql://app:pw@env-db/prs");
  });

  it("accepts a socket folder given as ?host=", () => {
    expect(resolveDatabaseUrl({}, { PR_CREATOR_DATABASE_URL: "postgres:///prs?host=/var/run/postgresql" })).toBe(
      "postgres:///prs?host=/var/run/postgresql",
    );
  });

  it("refuses another scheme, naming the setting and the scheme but not the URL", () => {
    const error = refusal(() => resolveDatabaseUrl({}, { PR_CREATOR_DATABASE_URL: `mysql://app:${SECRET}@db/prs` }));
    expect(error.reason).toBe("invalid_config");
    expect(error.message).toBe(
      'PR_CREATOR_DATABASE_URL has the scheme "mysql://"; expected postgres:// or postgresql://.',
    );
    expect(error.paragraph).not.toContain(SECRET);
  });

  it("refuses text that is not a URL without echoing it", () => {
    const error = refusal(() => resolveDatabaseUrl({}, { PR_CREATOR_DATABASE_URL: `host=db password=${SECRET}` }));
    expect(error.message).toMatch(/^PR_CREATOR_DATABASE_URL is not a URL/);
    expect(error.paragraph).not.toContain(SECRET);
  });

  it("refuses a URL without a host", () => {
    const error = refusal(() => resolveDatabaseUrl({ database: { url: "postgres:///prs" } }, {}));
    expect(error.message).toMatch(/^database.url in the config names no host/);
  });

  it("refuses a password in database.url (secrets come from the environment), without showing it", () => {
    const error = refusal(() => resolveDatabaseUrl({ database: { url: `postgres://app:${SECRET}@db/prs` } }, {}));
    expect(error.message).toContain("carries a password");
    expect(error.paragraph).toContain("PGPASSWORD");
    expect(error.paragraph).not.toContain(SECRET);
  });
});

describe("databaseUrlProblem and displayDatabaseUrl", () => {
  it("accepts postgres:// and postgresql://", () => {
    expect(databaseUrlProblem("postgres://u@h/d")).toBeNull();
    expect(databaseUrlProblem("postgresql://u@h:5433/d?sslmode=require")).toBeNull();
  });

  it("shows a URL without its password or query", () => {
    expect(displayDatabaseUrl(`postgres://app:${SECRET}@db:5432/prs?password=${SECRET}`)).toBe(
      "postgres://app@db:5432/prs",
    );
    expect(displayDatabaseUrl(`not a url ${SECRET}`)).toBe("(not a URL)");
  });
});

describe("a database URL's password in logs and results", () => {
  it("is a secret of the environment, its user is not", () => {
    expect(secretValuesFromEnv({ PR_CREATOR_DATABASE_URL: `postgres://app:${SECRET}@db/prs` })).toContain(SECRET);
    expect(secretValuesFromEnv({ PR_CREATOR_DATABASE_URL: "postgresql://postgres@db/prs" })).toEqual([]);
  });

  it("is stripped from text like any URL's user info", () => {
    expect(stripUrlCredentials(`connecting to postgresql://app:${SECRET}@db:5432/prs`)).toBe(
      "connecting to postgresql://db:5432/prs",
    );
  });
});

describe("database.url in the config", () => {
  it("is refused with a password, naming the key and not the password", () => {
    const parsed = parseExplained(PolicySchema, { database: { url: `postgres://app:${SECRET}@db/prs` } });
    expect(parsed.success).toBe(false);
    const issues = parsed.success ? [] : parsed.issues;
    expect(issues).toEqual([
      "database.url: carries a password; remove it and set PGPASSWORD, or put the whole URL in PR_CREATOR_DATABASE_URL",
    ]);
  });

  it("is refused when it is not a PostgreSQL URL", () => {
    const parsed = parseExplained(PolicySchema, { database: { url: "mysql://db/prs" } });
    expect(parsed.success ? [] : parsed.issues).toEqual([
      'database.url: has the scheme "mysql://"; expected postgres:// or postgresql://',
    ]);
  });

  it("defaults to none", () => {
    expect(PolicySchema.parse({}).database).toEqual({});
  });
});
