/**
 * Store keys. Processes that would ask the same endpoint for the same user's token must meet under one key, and
 * nothing in a key may help an attacker who can list a shared store's keys: every field is hashed, the username too.
 */
import { createHash } from 'node:crypto';

/** What identifies a token: who issues it, to which client, for which user, with which scope. No secret is needed. */
export interface StoreKeyFields {
  readonly tokenUrl: string;
  readonly clientId: string;
  readonly username: string;
  /** The requested scope, space-separated; absent and empty mean the same. */
  readonly scope?: string | undefined;
}

/** The prefix of every key unless a store is given another. */
export const DEFAULT_KEY_PREFIX = 'axios-oauth-bearer';

/**
 * The store key of a token: `${prefix}:tokens:${sha256 hex}`, hashed over a canonical JSON of the four fields.
 *
 * Canonical means spellings of one identity give one key: the URL is normalized (`https://Auth.example/token` and
 * `https://auth.example:443/token` meet), and the scope is a set (RFC 6749 section 3.3), so `b a` equals `a b`.
 *
 * @example
 * storeKey({ tokenUrl: 'https://auth.example/token', clientId: 'app', username: 'ada' });
 * // 'axios-oauth-bearer:tokens:3f1c…' (64 hex digits)
 */
export function storeKey(fields: StoreKeyFields, prefix: string = DEFAULT_KEY_PREFIX): string {
  // Keys in a fixed order, every value a JSON string or null: the text is unambiguous (no field can absorb another)
  // and does not depend on the order in which the caller's object was built.
  const canonical = JSON.stringify({
    clientId: fields.clientId,
    scope: canonicalScope(fields.scope),
    tokenUrl: canonicalUrl(fields.tokenUrl),
    username: fields.username,
  });
  return `${prefix}:tokens:${createHash('sha256').update(canonical, 'utf8').digest('hex')}`;
}

/**
 * The key of the renewal lock that goes with a store key.
 *
 * @example
 * lockKeyFor('axios-oauth-bearer:tokens:3f1c…'); // 'axios-oauth-bearer:tokens:3f1c…:lock'
 */
export function lockKeyFor(key: string): string {
  return `${key}:lock`;
}

function canonicalScope(scope: string | undefined): string | null {
  const scopes = [...new Set((scope ?? '').split(' ').filter((part) => part !== ''))].sort();
  return scopes.length === 0 ? null : scopes.join(' ');
}

function canonicalUrl(url: string): string {
  // The options are validated before a key is asked for; an unparsable URL is still a stable identity as written.
  return URL.canParse(url) ? new URL(url).href : url;
}
