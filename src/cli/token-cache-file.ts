/**
 * `token --cache`: the token kept between runs in a FileTokenStore, so a shell loop or a cron job that asks for a
 * token every minute makes one grant per token lifetime, not one per run. The entry is keyed like any store's (bound
 * to the full credentials) and sealed (AES-256-GCM) under `OAUTH_CACHE_KEY`, or else under a key derived from the
 * credentials themselves: the file is worthless without the secrets the caller already holds, and a run with other
 * credentials never meets it.
 *
 * The file store needs `proper-lockfile` (an optional peer dependency of the package); it is loaded only here, only
 * with `--cache` or `--forget`, so the plain command never needs it.
 */
import { scryptSync } from 'node:crypto';

import axios from 'axios';

import { attachAuth, fixedStoreKey, type SingleIdentityAttachOptions } from '../client.js';
import { ConfigurationError } from '../errors.js';
import type { ResolvedAuthOptions, SingleIdentityAuthOptions, TokenSource } from '../options.js';
import type { FileTokenStore } from '../stores/file.js';
import type { TokenSet } from '../token-set.js';
import { UsageError } from './arguments.js';

/** Where the cache lives and how it is sealed: both optional. */
export interface CacheSettings {
  readonly directory: string | undefined;
  /** A base64 key of 32 bytes (`OAUTH_CACHE_KEY`); without it, one derived from the credentials. */
  readonly encryptionKey: string | undefined;
  /** Told of store trouble (a damaged file replaced, a lock taken over): a line for stderr, already redacted. */
  readonly warn: (line: string) => void;
}

/** A token from the cache when a valid one is there, else from a grant that the cache then keeps. */
export async function cachedToken(options: Readonly<Record<string, unknown>>, resolved: ResolvedAuthOptions, settings: CacheSettings): Promise<TokenSet> {
  const store = await openStore(resolved, settings);
  let source: TokenSource | undefined;
  // An instance of its own that sends nothing: only its token manager is used. No origin gets the token.
  const { tokens } = attachAuth(axios.create(), {
    ...(options as unknown as SingleIdentityAuthOptions),
    store,
    allowedOrigins: ['https://token-cache.invalid'],
    onToken: (event) => {
      source = event.source;
    },
    onError: (error) => {
      if (error.code === 'ERR_OAUTH_TOKEN_STORE') settings.warn(`token cache: ${error.message}`);
    },
  } as SingleIdentityAttachOptions);
  await tokens.getAccessToken();
  const current = tokens.current;
  if (current === undefined) throw new TypeError('unreachable: getAccessToken() resolved with a token set in place');
  // A token adopted from the cache is scheduled by the time it has left, which may be seconds: a command's caller
  // needs one that lasts its own work, so a cached one with less than a minute left is renewed first (through the
  // store, once). A token just granted is printed as it is, however short the server made it.
  if (source === 'store' && current.expiresAt - Date.now() < MIN_PRINTED_LIFETIME_MS) return tokens.refresh();
  return current;
}

/** The least lifetime a cached token must have left to be printed rather than renewed. */
const MIN_PRINTED_LIFETIME_MS = 60_000;

/**
 * Removes the cached entry of these credentials, and any refusal recorded with it (a cooldown that would make every run
 * fail fast until it ends); false when there was no token (a refusal alone is cleared all the same).
 */
export async function forgetCached(resolved: ResolvedAuthOptions, settings: CacheSettings): Promise<boolean> {
  const store = await openStore(resolved, settings);
  const key = await fixedStoreKey(resolved, store);
  const had = (await store.get(key)) !== undefined;
  await store.delete(key);
  await store.clearFailure(key);
  return had;
}

async function openStore(resolved: ResolvedAuthOptions, settings: CacheSettings): Promise<FileTokenStore> {
  let Store: typeof FileTokenStore;
  try {
    ({ FileTokenStore: Store } = await import('../stores/file.js'));
  } catch (error) {
    // Only its missing peer is the user's to fix; any other failure to load is a bug, and goes on as one.
    if (!(error instanceof Error && error.message.includes('proper-lockfile'))) throw error;
    throw new UsageError('--cache needs the optional package proper-lockfile: npm install proper-lockfile (or npx -p axios-oauth-bearer -p proper-lockfile axios-oauth-bearer token --cache)');
  }
  try {
    return new Store({
      ...(settings.directory === undefined ? {} : { directory: settings.directory }),
      encryptionKey: settings.encryptionKey ?? derivedKey(resolved),
      // A damaged file replaced, a lock that timed out: said on stderr, so a cache that never works does not go unseen.
      onError: (error) => settings.warn(`token cache: ${error.message}`),
    });
  } catch (error) {
    // The store's own option names mean nothing to a shell user: name what they set.
    if (!(error instanceof ConfigurationError)) throw error;
    const problem = error.message.replace(/^Invalid option `[^`]*`: /, '');
    if (error.option === 'encryptionKey') throw new UsageError(`invalid OAUTH_CACHE_KEY: ${problem}`);
    throw new UsageError(`invalid cache directory (--cache-dir or OAUTH_CACHE_DIR, else the user's cache directory): ${problem}`);
  }
}

/**
 * A sealing key made of the credentials: every secret the command was given (the client secret, the password, the
 * refresh token, an extension grant's secrets), salted with who they are for. Deterministic, so the next run with the
 * same credentials opens the entry; never written anywhere. scrypt (about 0.1 s, once per run), not a fast KDF: the
 * store names its files by an HMAC under a secret derived from this key, and a fast derivation would make a file name
 * an offline oracle for guessing a weak password (the library's scrypt keys exist for the same reason: stores/key.ts).
 */
function derivedKey(resolved: ResolvedAuthOptions): Buffer {
  const { grant, owner, clientSecret } = resolved;
  const secrets = [clientSecret, owner?.password, grant.type === 'refresh_token' ? grant.refreshToken : undefined, ...(grant.type === 'extension' ? grant.secrets.map(([name, value]) => [name, value]) : [])];
  const who = [resolved.tokenUrl?.href ?? resolved.issuer?.href, resolved.clientId, owner?.username, grant.type === 'extension' ? grant.uri : grant.type];
  return scryptSync(JSON.stringify(secrets), `axios-oauth-bearer cli token cache\n${JSON.stringify(who)}`, 32, SCRYPT);
}

/** scrypt's cost: N = 2^15, r = 8 (32 MiB, about 0.1 s), as the library's store keys without a binding secret. */
const SCRYPT = { N: 2 ** 15, r: 8, p: 1, maxmem: 64 * 1024 * 1024 } as const;
