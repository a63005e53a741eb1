export const REDACTED = "[Redacted]";

// Matched on the key lower-cased without - and _, at its end: `github_token`, `apiKey`, `Authorization` are
// secrets, while `prompt_tokens` (a count) and `token_env` (a variable's name) are not.
const SECRET_KEY = /(token|secret|password|passwd|apikey|authorization|credentials?|cookie)$/;

export function isSecretKey(key: string): boolean {
  return SECRET_KEY.test(key.toLowerCase().replace(/[-_]/g, ""));
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== "object" || value === null) return false;
  const proto = Object.getPrototypeOf(value) as unknown;
  return proto === Object.prototype || proto === null;
}

/**
 * A copy with the value under every secret-looking key replaced, at any depth. Only plain objects and
 * arrays are entered; errors and other instances go to pino's serializers as they are (their text is still
 * scrubbed of secret values by `scrubber`).
 */
export function redactKeys(value: unknown, path: WeakSet<object> = new WeakSet()): unknown {
  if (!Array.isArray(value) && !isPlainObject(value)) return value;
  if (path.has(value)) return "[Circular]";
  path.add(value);
  const copy = Array.isArray(value)
    ? value.map((item) => redactKeys(item, path))
    : Object.fromEntries(
        Object.entries(value).map(([key, item]) => [key, isSecretKey(key) ? REDACTED : redactKeys(item, path)]),
      );
  path.delete(value);
  return copy;
}

// Shorter "secrets" would shred ordinary words in every line.
const MIN_SECRET_LENGTH = 4;

/** Replaces every occurrence of the secret values in a serialized JSON line, wherever they appear. */
export function scrubber(secrets: readonly string[]): (line: string) => string {
  const needles = [...new Set(secrets.filter((s) => s.length >= MIN_SECRET_LENGTH))]
    // As they appear inside a JSON string; longest first, so a secret containing another is replaced whole.
    .map((s) => JSON.stringify(s).slice(1, -1))
    .sort((a, b) => b.length - a.length);
  if (needles.length === 0) return (line) => line;
  return (line) => needles.reduce((out, needle) => out.split(needle).join(REDACTED), line);
}
