/**
 * Store keys, bound to the full credentials. Processes that would ask the same endpoint for the same user's token with
 * the same secrets must meet under one key; a client with any other secret (a wrong password, another client secret)
 * must meet nobody: it gets no stored token, shares no cooldown and waits on no lock of the right client's. Binding
 * the key itself, rather than checking a tag inside each value, gives all three for free and for every store,
 * including a user's own: the library makes every key, a store only names a prefix and, optionally, a secret.
 *
 * Nothing in a key may help an attacker who can list a shared store's keys. A plain hash of the password would be an
 * offline guessing oracle, so the digest is an HMAC-SHA256 under the store's binding secret where it has one (derived
 * from a RedisTokenStore's encryption key; a random per-instance secret for MemoryTokenStore) and a deliberately slow
 * scrypt where it has none, computed once per client.
 */
import { createHash, createHmac, scrypt } from 'node:crypto';

/** What identifies a token: who issues it, to which client, for which user, with which scope. */
export interface StoreKeyFields {
  readonly tokenUrl: string;
  readonly clientId: string;
  readonly username: string;
  /** The requested scope, space-separated; absent and empty mean the same. */
  readonly scope?: string | undefined;
}

/**
 * The identifying fields plus the two secrets a key is bound to. For a grant other than the password grant, `grant`
 * names it (`client_credentials`, `refresh_token`, or the extension grant's URI) and `username` and `password` hold
 * what identifies its tokens: empty for client credentials; for a refresh token obtained elsewhere, `password` is that
 * starting refresh token; for an extension grant, `username` its parameters and `password` its secrets, as JSON.
 */
export interface StoreKeyCredentials extends StoreKeyFields {
  readonly clientSecret: string;
  readonly password: string;
  /** The grant, when it is not the password grant (keys of the password grant are as they always were). */
  readonly grant?: string | undefined;
}

/** What a key needs from the store: its namespace and its binding secret, both optional. */
export interface KeyBinding {
  /** The first part of every key. @default 'axios-oauth-bearer' */
  readonly keyPrefix?: string | undefined;
  /** A secret of the store's own, under which keys are HMACs; without one they are slow scrypt digests. */
  readonly bindingSecret?: (() => Uint8Array | undefined) | undefined;
}

/** The prefix of every key unless a store names another. */
export const DEFAULT_KEY_PREFIX = 'axios-oauth-bearer';

/**
 * scrypt's cost without a binding secret: N = 2^15, r = 8 (32 MiB, about 0.1 s on one core), so each guess of a
 * password costs an attacker the same. Node's default memory limit (32 MiB) is raised just enough to allow it.
 */
const SCRYPT = { N: 2 ** 15, r: 8, p: 1, maxmem: 64 * 1024 * 1024 } as const;
/** The shortest binding secret used as one. */
const MIN_SECRET_BYTES = 16;
/** Names the derivation: a change of scheme changes every key instead of misreading old ones. */
const DOMAIN = 'axios-oauth-bearer/store-key/v2';

/**
 * The store key of a token: `${prefix}:tokens:{${64 hex digits}}`. Computed once per client (the token manager caches
 * it); exported so that tools can find or delete an entry. The digest is a Redis Cluster hash tag (in braces): the
 * token, its renewal lease and its failure record (see `leaseKeyFor`) hash to one slot, so one script can read
 * and write all three.
 *
 * Canonical: spellings of one identity give one key: the URL is normalized (`https://Auth.example/token` and
 * `https://auth.example:443/token` meet), and the scope is a set (RFC 6749 section 3.3), so `b a` equals `a b`.
 *
 * @example
 * await storeKey({ tokenUrl, clientId, clientSecret, username, password }, store);
 * // 'axios-oauth-bearer:tokens:{3f1c…}'
 */
export async function storeKey(credentials: StoreKeyCredentials, binding: KeyBinding = {}): Promise<string> {
  const prefix = binding.keyPrefix ?? DEFAULT_KEY_PREFIX;
  const secret = binding.bindingSecret?.();
  // A short secret is no better than none: an attacker could search it. Such a store gets the slow digest instead.
  const digest = secret !== undefined && secret.byteLength >= MIN_SECRET_BYTES ? hmacDigest(credentials, secret) : await slowDigest(credentials);
  return `${prefix}:tokens:{${digest}}`;
}

/**
 * The key of the renewal lease that goes with a store key (in the same Cluster slot).
 *
 * @example
 * leaseKeyFor('axios-oauth-bearer:tokens:{3f1c…}'); // 'axios-oauth-bearer:tokens:{3f1c…}:lease'
 */
export function leaseKeyFor(key: string): string {
  return `${key}:lease`;
}

/**
 * The key of the shared renewal-failure record that goes with a store key (in the same Cluster slot).
 *
 * @example
 * failureKeyFor('axios-oauth-bearer:tokens:{3f1c…}'); // 'axios-oauth-bearer:tokens:{3f1c…}:failure'
 */
export function failureKeyFor(key: string): string {
  return `${key}:failure`;
}

function hmacDigest(credentials: StoreKeyCredentials, secret: Uint8Array): string {
  return createHmac('sha256', secret).update(`${DOMAIN}\n${canonical(credentials)}`, 'utf8').digest('hex');
}

function slowDigest(credentials: StoreKeyCredentials): Promise<string> {
  // The salt is the identity: the same password under another user, client or endpoint gives an unrelated digest, so
  // nothing can be precomputed for all of them at once.
  const salt = createHash('sha256').update(`${DOMAIN}\n${canonical({ ...credentials, clientSecret: '', password: '' })}`).digest();
  return new Promise((resolve, reject) => {
    // Asynchronous: the work runs on libuv's thread pool, not on the event loop every request shares.
    scrypt(canonical(credentials), salt, 32, SCRYPT, (error, derived) => {
      if (error === null) resolve(derived.toString('hex'));
      else reject(error);
    });
  });
}

/**
 * Keys in a fixed order, every value a JSON string or null: the text is unambiguous (no field can absorb another) and
 * does not depend on the order in which the caller's object was built.
 */
function canonical(credentials: StoreKeyCredentials): string {
  return JSON.stringify({
    clientId: credentials.clientId,
    clientSecret: credentials.clientSecret,
    // Only when set: a password grant's key stays what it was before other grants existed, so stores keep their entries.
    ...(credentials.grant === undefined || credentials.grant === 'password' ? {} : { grant: credentials.grant }),
    password: credentials.password,
    scope: canonicalScope(credentials.scope),
    tokenUrl: canonicalUrl(credentials.tokenUrl),
    username: credentials.username,
  });
}

function canonicalScope(scope: string | undefined): string | null {
  const scopes = [...new Set((scope ?? '').split(' ').filter((part) => part !== ''))].sort();
  return scopes.length === 0 ? null : scopes.join(' ');
}

function canonicalUrl(url: string): string {
  // The options are validated before a key is asked for; an unparsable URL is still a stable identity as written.
  return URL.canParse(url) ? new URL(url).href : url;
}
