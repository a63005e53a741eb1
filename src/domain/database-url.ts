/**
 * PostgreSQL connection URLs (PR_CREATOR_DATABASE_URL, `database.url`): what makes one usable, and how to show
 * one without its password. Pure: no I/O, nothing of ours imported. Messages never quote the URL itself, which
 * may carry a password.
 */

const SCHEMES = ["postgres:", "postgresql:"];

/**
 * Why `url` cannot be used as a PostgreSQL connection URL, or null when it can: a postgres:// or postgresql://
 * URL naming a host (or a socket folder in `?host=`). The reason names only the scheme, never the rest.
 */
export function databaseUrlProblem(url: string): string | null {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return "is not a URL (expected postgres://user@host:5432/database)";
  }
  if (!SCHEMES.includes(parsed.protocol)) {
    const scheme = /^[a-z][a-z0-9+.-]{0,19}:$/i.test(parsed.protocol) ? ` "${parsed.protocol}//"` : "";
    return `has the scheme${scheme}; expected postgres:// or postgresql://`;
  }
  if (parsed.hostname === "" && !parsed.searchParams.get("host")) {
    return "names no host (expected postgres://user@host:5432/database)";
  }
  return null;
}

/** Whether the URL carries a password (`postgres://user:password@host`). */
export function hasDatabasePassword(url: string): boolean {
  try {
    return new URL(url).password !== "";
  } catch {
    return false;
  }
}

/**
 * The URL for messages and logs: no password (in the user info or a `password=` query parameter), no query
 * string; "(not a URL)" when it cannot be parsed, since the raw text may hold a password anywhere.
 */
export function displayDatabaseUrl(url: string): string {
  try {
    const parsed = new URL(url);
    parsed.password = "";
    parsed.search = "";
    parsed.hash = "";
    return parsed.toString();
  } catch {
    return "(not a URL)";
  }
}
