import { createHash, timingSafeEqual } from "node:crypto";
import { isIP } from "node:net";
import type { Policy } from "../domain/policy.js";
import { PrCreatorError } from "../domain/errors.js";

export type AuthCheck = "ok" | "missing" | "invalid";

export interface Auth {
  /** False only on a loopback host with no token configured. */
  readonly required: boolean;
  /** Where the token comes from, for the start-up line (never the token). */
  readonly description: string;
  check(authorization: string | undefined): AuthCheck;
}

/** localhost, 127.0.0.0/8, ::1 and IPv4-mapped 127.x: only this machine can connect. */
export function isLoopbackHost(host: string): boolean {
  const bare = host.replace(/^\[(.*)\]$/, "$1").toLowerCase();
  if (bare === "localhost") return true;
  if (isIP(bare) === 4) return bare.startsWith("127.");
  if (isIP(bare) === 6) return bare === "::1" || /^::ffff:127\./.test(bare);
  return false;
}

const digest = (text: string) => createHash("sha256").update(text, "utf8").digest();

/**
 * Bearer-token auth from the environment variable `server.token_env`. Without a token the server may only
 * listen on loopback: anything else is refused at start-up rather than exposed.
 */
export function createAuth(server: Policy["server"], env: Readonly<Record<string, string | undefined>>): Auth {
  const token = env[server.token_env];
  if (token === undefined || token === "") {
    if (!isLoopbackHost(server.host)) {
      throw new PrCreatorError(
        "invalid_config",
        `The server would listen on ${server.host} without authentication: the environment variable ${server.token_env} is not set.`,
        {
          hint: `Set ${server.token_env} to a secret bearer token, or listen on 127.0.0.1 (server.host or --host).`,
        },
      );
    }
    return {
      required: false,
      description: `auth: none, loopback only (set ${server.token_env} to require a bearer token)`,
      check: () => "ok",
    };
  }
  // Comparing fixed-length digests keeps the time independent of where, and whether in length, the tokens differ.
  const expected = digest(token);
  return {
    required: true,
    description: `auth: bearer token from ${server.token_env}`,
    check(authorization) {
      if (authorization === undefined || authorization.trim() === "") return "missing";
      const match = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(authorization);
      if (!match) return "invalid";
      return timingSafeEqual(digest(match[1]!), expected) ? "ok" : "invalid";
    },
  };
}
