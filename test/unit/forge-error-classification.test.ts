/**
 * Only real network errors are network errors: a client-side failure (a TypeError, azure-devops-node-api's
 * "Failed to find api location") is neither retried nor reported as `forge_unreachable` "network error".
 */
import { describe, expect, it } from "vitest";
import { classifyAzureError } from "../../src/forges/azure-devops/errors.js";
import { forgeFailure } from "../../src/forges/forge-errors.js";
import { classifyGitHubError } from "../../src/forges/github/errors.js";
import { networkCode, RetriesExhausted, withRetry, type CallFailure } from "../../src/net/retry.js";

const policy = {
  max_attempts: 3,
  backoff: "exponential" as const,
  base_delay_ms: 1,
  retryable_status_codes: [429, 500, 502, 503, 504],
};

const withCode = (message: string, code: string) => Object.assign(new Error(message), { code });

/** What the agent reports for a call that kept throwing `error`, and how many attempts it made. */
async function giveUp(platform: "azure_devops" | "github", classify: (e: unknown) => CallFailure, error: unknown) {
  let calls = 0;
  try {
    await withRetry(
      () => {
        calls++;
        return Promise.reject(error);
      },
      policy,
      classify,
      { sleep: async () => {} },
    );
  } catch (e) {
    if (!(e instanceof RetriesExhausted)) throw e;
    return { calls, failure: forgeFailure(platform, "list the project's teams", e, { secrets: ["s3cret-token"] }) };
  }
  throw new Error("the call did not fail");
}

describe("networkCode", () => {
  it("finds network errors, also behind fetch's and octokit's wrappers", () => {
    expect(networkCode(withCode("read ECONNRESET", "ECONNRESET"))).toBe("ECONNRESET");
    expect(networkCode(new Error("socket hang up"))).toBe("ECONNRESET");
    expect(networkCode(withCode("connect ECONNREFUSED 127.0.0.1:1", "ECONNREFUSED"))).toBe("ECONNREFUSED");
    expect(networkCode(new Error("Request timeout: /acme/_apis/projects"))).toBe("TIMEOUT");
    const fetchFailed = Object.assign(new TypeError("fetch failed"), {
      cause: withCode("other side closed", "UND_ERR_SOCKET"),
    });
    expect(networkCode(Object.assign(new Error("other side closed"), { status: 500, cause: fetchFailed }))).toBe(
      "UND_ERR_SOCKET",
    );
    expect(networkCode(new TypeError("fetch failed"))).toBe("ECONNRESET");
    expect(networkCode(new DOMException("The operation was aborted due to timeout", "TimeoutError"))).toBe("TIMEOUT");
  });

  it("finds none in client-side errors", () => {
    expect(networkCode(new Error("Failed to find api location for area: core id: 8a3d49b8"))).toBeUndefined();
    expect(networkCode(new TypeError("Cannot read properties of undefined (reading 'id')"))).toBeUndefined();
    expect(networkCode(withCode("Invalid URL", "ERR_INVALID_URL"))).toBeUndefined();
    expect(networkCode("a string")).toBeUndefined();
  });
});

describe("client-side errors are internal_error, not network errors", () => {
  it("Azure DevOps: 'Failed to find api location' is reported with the library's message, once", async () => {
    const error = new Error("Failed to find api location for area: core id: 79134c72-4a58-4b42-976c-04e7115f32bf");
    expect(classifyAzureError(error)).toEqual({});
    const { calls, failure } = await giveUp("azure_devops", classifyAzureError, error);
    expect(calls).toBe(1);
    expect(failure.reason).toBe("internal_error");
    expect(failure.message).toContain("Failed to find api location for area: core");
    expect(failure.message).not.toMatch(/network error|could not be reached/);
    expect(failure.hint).toMatch(/sign-in page|does not offer this API/);
    expect(failure.attempts).toBe(1);
  });

  it("Azure DevOps: a TypeError is internal_error; a reset is still forge_unreachable after retries", async () => {
    const typeError = await giveUp("azure_devops", classifyAzureError, new TypeError("x.map is not a function"));
    expect(typeError.failure.reason).toBe("internal_error");
    const reset = await giveUp("azure_devops", classifyAzureError, withCode("socket hang up", "ECONNRESET"));
    expect(reset.calls).toBe(3);
    expect(reset.failure.reason).toBe("forge_unreachable");
    expect(reset.failure.message).toContain("could not be reached (ECONNRESET)");
  });

  it("GitHub: an error without a response is a network error only when a network error caused it", async () => {
    const bug = await giveUp("github", classifyGitHubError, new TypeError("Cannot read properties of undefined"));
    expect(bug.calls).toBe(1);
    expect(bug.failure.reason).toBe("internal_error");
    const fetchFailed = Object.assign(new TypeError("fetch failed"), {
      cause: withCode("connect ECONNREFUSED 127.0.0.1:9", "ECONNREFUSED"),
    });
    const refused = Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:9"), {
      name: "HttpError",
      status: 500,
      cause: fetchFailed,
    });
    expect(classifyGitHubError(refused)).toEqual({ network: "ECONNREFUSED" });
    const down = await giveUp("github", classifyGitHubError, refused);
    expect(down.calls).toBe(3);
    expect(down.failure.reason).toBe("forge_unreachable");
  });
});
