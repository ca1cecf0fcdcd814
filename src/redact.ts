/**
 * Redaction: the one place that decides what a secret looks like once it has been removed.
 *
 * Errors, events and logs built by this library pass every free-text string they carry (messages, an
 * endpoint's `error_description`) through {@link redactText} with the secrets known at that moment, so even
 * a provider that echoes a password back cannot make the library print it.
 */

/** What a removed secret is replaced with. */
export const REDACTED = '[REDACTED]';

/** Replaces every occurrence of each secret in `text`. Secrets shorter than 4 characters are ignored: they would
 * redact ordinary words, and a 3-character secret is not worth protecting this way. */
export function redactText(text: string, secrets: readonly (string | undefined)[]): string {
  let out = text;
  // Longest first: when one secret contains another, replacing the shorter one first would leave the rest of the
  // longer one in the text.
  const longestFirst = secrets.filter((secret) => secret !== undefined).sort((a, b) => b.length - a.length);
  for (const secret of longestFirst) {
    if (secret.length >= 4 && out.includes(secret)) {
      out = out.split(secret).join(REDACTED);
    }
  }
  return out;
}

/** Field names whose values are credentials wherever they appear in a token-endpoint body. */
const SECRET_FIELDS = new Set(['access_token', 'refresh_token', 'id_token', 'password', 'client_secret']);

/**
 * A copy of a parsed JSON body with credential fields replaced and the known `secrets` removed from every string, at
 * any depth (an endpoint may echo the password in `error_description`, or the whole request in a nested object), so
 * an error can keep the body for debugging. Nesting deeper than a token endpoint ever answers is cut off.
 */
export function redactBody(body: unknown, secrets: readonly (string | undefined)[] = [], depth = 0): unknown {
  if (typeof body === 'string') return redactText(body, secrets);
  if (body === null || typeof body !== 'object') return body;
  if (depth >= 8) return REDACTED;
  if (Array.isArray(body)) return body.map((item: unknown) => redactBody(item, secrets, depth + 1));
  const copy: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(body)) {
    copy[key] = SECRET_FIELDS.has(key) ? REDACTED : redactBody(value, secrets, depth + 1);
  }
  return copy;
}
