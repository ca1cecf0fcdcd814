/**
 * The plaintext form of a stored token set. Written field by field on purpose: a TokenSet's own `toJSON` is redacted
 * (so that logging one never leaks it), so `JSON.stringify(tokens)` would store `[REDACTED]`.
 * Read back through the same checks as a token response, since anyone who can write to the store can write anything.
 */
import { REDACTED } from '../redact.js';
import { tokenFieldProblem } from '../token-response.js';
import { createTokenSet, type TokenSet } from '../token-set.js';
import { TokenStoreError } from './errors.js';

/** The stored JSON. camelCase like the domain type; `expiresAt` in epoch milliseconds. */
export interface StoredTokenSet {
  readonly accessToken: string;
  readonly expiresAt: number;
  readonly refreshToken?: string;
  readonly scope?: string;
  readonly idToken?: string;
  readonly extra?: Readonly<Record<string, unknown>>;
}

/** The JSON text stored for a token set. It holds the tokens: encrypt it, or keep the store private. */
export function serializeTokenSet(tokens: TokenSet): string {
  const stored: StoredTokenSet = {
    accessToken: tokens.accessToken,
    expiresAt: tokens.expiresAt,
    ...(tokens.refreshToken === undefined ? {} : { refreshToken: tokens.refreshToken }),
    ...(tokens.scope === undefined ? {} : { scope: tokens.scope }),
    ...(tokens.idToken === undefined ? {} : { idToken: tokens.idToken }),
    ...(tokens.extra === undefined ? {} : { extra: tokens.extra }),
  };
  return JSON.stringify(stored);
}

/**
 * Validates a stored JSON text and builds the token set. Throws a {@link TokenStoreError} (`reason: 'invalid-value'`,
 * its `key` the one given) naming the bad field; the message never quotes the value, and a JSON syntax error (whose
 * message quotes the text) is not kept as the cause. A redacted token (`[REDACTED]`: the text of a printed token set)
 * is refused like any other bad value.
 *
 * @example
 * // A store of your own: write the tokens, not the token set's printed (redacted) form.
 * const store = {
 *   get: async (key: string) => { const text = await db.get(key); return text === undefined ? undefined : parseTokenSet(text, key); },
 *   set: (key: string, tokens: TokenSet) => db.set(key, serializeTokenSet(tokens)),
 *   delete: (key: string) => db.delete(key),
 * };
 */
export function parseTokenSet(text: string, key?: string): TokenSet {
  const fail = (problem: string): never => {
    throw new TokenStoreError('get', 'invalid-value', key, `the stored value ${problem}`);
  };
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return fail('is not JSON');
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) return fail('is not a JSON object');
  const record = parsed as Record<string, unknown>;

  const { accessToken, expiresAt, refreshToken, scope, idToken, extra } = record;
  if (typeof accessToken !== 'string' || accessToken === '') return fail('has no accessToken string');
  if (typeof expiresAt !== 'number' || !Number.isFinite(expiresAt)) return fail('has no finite expiresAt number');
  if (refreshToken !== undefined && (typeof refreshToken !== 'string' || refreshToken === '')) {
    return fail('has a refreshToken that is not a non-empty string');
  }
  if (scope !== undefined && typeof scope !== 'string') return fail('has a scope that is not a string');
  if (idToken !== undefined && (typeof idToken !== 'string' || idToken === '')) return fail('has an idToken that is not a non-empty string');
  if (extra !== undefined && (extra === null || typeof extra !== 'object' || Array.isArray(extra))) return fail('has an extra that is not an object');
  // The same alphabet and length as a token response: a stored token is sent in a header just the same.
  const checked = [['accessToken', accessToken], ['refreshToken', refreshToken], ['scope', scope], ['idToken', idToken]] as const;
  for (const [field, value] of checked) {
    // A printed token set (its toJSON and inspect are redacted) saved by a store of the user's own: sent, it would
    // cost a 401, a refused refresh and a grant on every read, silently. Refused here, it costs one grant, reported.
    if (value === REDACTED && field !== 'scope') {
      return fail(`has a redacted ${field} ("${REDACTED}"): it was saved from a printed token set (JSON.stringify of a TokenSet is redacted); save serializeTokenSet(tokens) and read it back with parseTokenSet(text)`);
    }
  }
  for (const [field, value] of checked) {
    const problem = value === undefined ? undefined : tokenFieldProblem(field, value);
    if (problem !== undefined) return fail(`has an ${field} that ${problem}`);
  }
  return createTokenSet({ accessToken, expiresAt, refreshToken, scope, idToken, extra: extra as Record<string, unknown> | undefined });
}
