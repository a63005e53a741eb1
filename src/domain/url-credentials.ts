/**
 * User info in URLs (`https://user:password@host`): a password or token that must never be shown or stored.
 * Pure: no I/O, nothing of ours imported.
 */

// The schemes whose user info carries credentials (PostgreSQL's too: PR_CREATOR_DATABASE_URL); `ssh://git@host`
// names an account, not a secret. The user info runs to the last "@" before the path, query, fragment, whitespace
// or a quote (so JSON text stays JSON).
const USERINFO = /\b((?:https?|wss?|ftps?|postgres(?:ql)?):\/\/)([^\s/?#"'\\<>`]*)@/gi;

/** Text with the user info of every http(s), ws(s), ftp(s) and postgres(ql) URL in it removed: `https://u:p@h/x` → `https://h/x`. */
export function stripUrlCredentials(text: string): string {
  return text.replace(USERINFO, "$1");
}

/**
 * The secrets in the user info of each URL in `text`, raw and percent-decoded, for scrubbers: the whole user
 * info and the password — or, without a password, the user part alone (`https://TOKEN@host`). A user name next
 * to a password is no secret and would blank out ordinary words.
 */
export function urlCredentials(text: string): string[] {
  const found: string[] = [];
  for (const m of text.matchAll(USERINFO)) {
    const userinfo = m[2]!;
    if (userinfo === "") continue;
    const colon = userinfo.indexOf(":");
    // A database URL's user alone is a role name (often "postgres"), not a token: only its password is secret.
    if (colon < 0 && /^postgres/i.test(m[1]!)) continue;
    const parts = colon < 0 ? [userinfo] : [userinfo, userinfo.slice(colon + 1)];
    for (const part of parts) {
      if (part === "") continue;
      found.push(part);
      try {
        const decoded = decodeURIComponent(part);
        if (decoded !== part) found.push(decoded);
      } catch {
        // Not percent-encoded text; the raw form is enough.
      }
    }
  }
  return [...new Set(found)];
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== "object" || value === null) return false;
  const proto = Object.getPrototypeOf(value) as unknown;
  return proto === Object.prototype || proto === null;
}

/**
 * A copy of `value` with URL user info stripped from every string in it, at any depth of plain objects and
 * arrays (results, events, environments). Anything else is returned as it is; the same value when nothing changed.
 */
export function withoutUrlCredentials<T>(value: T): T {
  if (typeof value === "string") return stripUrlCredentials(value) as T;
  if (Array.isArray(value)) {
    const items = value.map((item: unknown) => withoutUrlCredentials(item));
    return (items.some((item, i) => item !== value[i]) ? items : value) as T;
  }
  if (!isPlainObject(value)) return value;
  let changed = false;
  const copy = Object.fromEntries(
    Object.entries(value).map(([key, item]) => {
      const clean = withoutUrlCredentials(item);
      changed ||= clean !== item;
      return [key, clean];
    }),
  );
  return (changed ? copy : value) as T;
}
