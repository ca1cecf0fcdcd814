/**
 * A token store in Redis, shared by every process that points at the same Redis, with a renewal lock so that one of
 * them renews and the others wait for its token.
 *
 * Client: ioredis, not node-redis. Its `Redis` and `Cluster` classes share one command API with plain positional
 * signatures (`set(key, value, 'PX', ms, 'NX')`), so one small structural interface ({@link RedisStoreClient}) types
 * both, and this module never imports ioredis at all: the user passes a client they already have. node-redis types
 * single clients and clusters separately, through deep generics over modules, scripts and RESP versions, which a
 * minimal interface would have to mirror per major version. ioredis also reconnects on its own by default.
 *
 * A Redis that is slow or down must not make requests slow or fail: every command is bounded by
 * `operationTimeoutMs`, and every failure is reported through `onError` and then treated as "no token" (get),
 * "not stored" (set, delete) or "proceed locally" (tryLock). Nothing here throws into a request.
 */
import { hkdfSync, randomBytes } from 'node:crypto';
import { ConfigurationError, sanitizeError } from '../errors.js';
import type { TokenSet } from '../token-set.js';
import { type EncryptionKey, decryptValue, encryptValue, parseEncryptionKey } from './crypto.js';
import { TokenStoreError, type TokenStoreOperation } from './errors.js';
import { DEFAULT_KEY_PREFIX, lockKeyFor } from './key.js';
import { parseTokenSet, serializeTokenSet } from './serialize.js';
import { parseSharedFailure, type SharedFailure } from './shared-failure.js';
import type { LockingTokenStore, ReleaseLock } from './types.js';

/**
 * The Redis commands the store uses, as ioredis declares them: an ioredis `Redis` or `Cluster` (v5 or v6) fits.
 * Typed structurally so that this package needs no ioredis types and never loads ioredis.
 */
export interface RedisStoreClient {
  get(key: string): Promise<string | null>;
  set(key: string, value: string, millisecondsToken: 'PX', milliseconds: number): Promise<unknown>;
  set(key: string, value: string, millisecondsToken: 'PX', milliseconds: number, nx: 'NX'): Promise<'OK' | null>;
  del(key: string): Promise<number>;
  eval(script: string, numkeys: number, key: string, arg: string): Promise<unknown>;
}

/** The options of {@link RedisTokenStore}. */
export interface RedisTokenStoreOptions {
  /**
   * An ioredis client (`new Redis(url)` or `new Cluster(nodes)`), owned by the caller: the store never connects,
   * quits or disconnects it. A command waits in ioredis's offline queue while Redis is unreachable; the store gives
   * up on it after `operationTimeoutMs` regardless, but a client with `maxRetriesPerRequest: 1` (or
   * `enableOfflineQueue: false`) also keeps such commands from piling up and running late.
   */
  readonly client: RedisStoreClient;
  /**
   * The first part of every key the library makes for this store (see {@link TokenStore.keyPrefix}).
   * @default 'axios-oauth-bearer'
   */
  readonly prefix?: string;
  /**
   * Encrypts stored values with AES-256-GCM under this 32-byte key (a Buffer, or base64 of 32 bytes). Every process
   * sharing the store needs the same key; a value that fails to decrypt counts as no token (and is reported).
   * @default undefined (values are stored as JSON: keep the Redis private)
   * @example
   * encryptionKey: process.env.TOKEN_STORE_KEY // openssl rand -base64 32
   */
  readonly encryptionKey?: EncryptionKey;
  /**
   * Milliseconds after which a Redis command counts as failed, so a slow Redis cannot slow requests down.
   * @default 500
   */
  readonly operationTimeoutMs?: number;
  /**
   * Receives every failure (a {@link TokenStoreError}); the store carries on without Redis. Pass the same callback
   * as the auth options' `onError` to see them in one place. Exceptions it throws are ignored.
   * @default undefined (failures are silent)
   */
  readonly onError?: (error: TokenStoreError) => void;
}

/** The defaults of {@link RedisTokenStoreOptions}. */
export const redisTokenStoreDefaults = {
  prefix: DEFAULT_KEY_PREFIX,
  operationTimeoutMs: 500,
} as const;

/** Kept this long past `expiresAt`, so a process whose clock runs a little behind still finds the token. */
const EXPIRY_GRACE_MS = 5_000;

// Deletes the lock only while it still holds our value, atomically: a plain GET then DEL could delete a lock that
// expired in between and was taken by another process.
const RELEASE_SCRIPT =
  "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end";

const TIMED_OUT = Symbol('timed out');

/**
 * Shares token sets between processes through Redis, and elects one renewer per key with a lock
 * (`SET NX PX` with a random owner value, released by compare-and-delete).
 *
 * @example
 * import { Redis } from 'ioredis';
 * import { RedisTokenStore } from 'axios-oauth-bearer/redis';
 *
 * const store = new RedisTokenStore({ client: new Redis(process.env.REDIS_URL), encryptionKey: process.env.KEY });
 * const api = createAuthClient({ baseURL, auth: { ...credentials, store } });
 */
export class RedisTokenStore implements LockingTokenStore {
  readonly #client: RedisStoreClient;
  readonly #prefix: string;
  readonly #key: Buffer | undefined;
  readonly #bindingSecret: Buffer | undefined;
  readonly #timeoutMs: number;
  readonly #onError: ((error: TokenStoreError) => void) | undefined;

  constructor(options: RedisTokenStoreOptions) {
    // Checked although typed: options may come from JavaScript or a config file.
    if ((options as unknown) === null || typeof options !== 'object') {
      throw new ConfigurationError('options', 'must be an object');
    }
    const resolved = { ...redisTokenStoreDefaults, ...definedOnly(options) };
    if (!isClient(resolved.client)) {
      throw new ConfigurationError('client', 'must be an ioredis client (Redis or Cluster)');
    }
    if (typeof resolved.prefix !== 'string' || resolved.prefix === '') {
      throw new ConfigurationError('prefix', 'must be a non-empty string');
    }
    if (!(Number.isFinite(resolved.operationTimeoutMs) && resolved.operationTimeoutMs > 0)) {
      throw new ConfigurationError('operationTimeoutMs', 'must be a positive number of milliseconds');
    }
    if (resolved.onError !== undefined && typeof resolved.onError !== 'function') {
      throw new ConfigurationError('onError', 'must be a function');
    }
    this.#client = resolved.client;
    this.#prefix = resolved.prefix;
    this.#key =
      resolved.encryptionKey === undefined ? undefined : parseEncryptionKey(resolved.encryptionKey, 'encryptionKey');
    this.#bindingSecret =
      this.#key === undefined ? undefined : Buffer.from(hkdfSync('sha256', this.#key, '', 'axios-oauth-bearer key binding', 32));
    this.#timeoutMs = resolved.operationTimeoutMs;
    this.#onError = resolved.onError;
  }

  /** The `prefix` option: the first part of every key. */
  get keyPrefix(): string {
    return this.#prefix;
  }

  /**
   * With `encryptionKey`, keys are HMACs under a secret derived from it (HKDF, so the encryption key itself is used for
   * nothing else); without, the library falls back to slow scrypt digests.
   */
  bindingSecret(): Uint8Array | undefined {
    return this.#bindingSecret;
  }

  /** The stored token set; undefined when there is none, and when Redis fails, times out or holds a bad value. */
  async get(key: string): Promise<TokenSet | undefined> {
    const stored = await this.#command('get', key, () => this.#client.get(key));
    if (stored === undefined || stored === null) return undefined;
    try {
      return parseTokenSet(this.#key === undefined ? stored : decryptValue(stored, this.#key, key), key);
    } catch (error) {
      // Both throw TokenStoreError only; anything else still must not reach the request.
      this.#report(
        error instanceof TokenStoreError ? error : new TokenStoreError('get', 'invalid-value', key, 'unreadable'),
      );
      return undefined;
    }
  }

  /** Stores the token set until its expiry (plus a few seconds of grace); one already expired is not stored. */
  async set(key: string, tokens: TokenSet): Promise<void> {
    const ttlMs = Math.ceil(tokens.expiresAt + EXPIRY_GRACE_MS - Date.now());
    if (!(ttlMs > 0)) return;
    const plaintext = serializeTokenSet(tokens);
    const value = this.#key === undefined ? plaintext : encryptValue(plaintext, this.#key, key);
    await this.#command('set', key, () => this.#client.set(key, value, 'PX', ttlMs), [
      tokens.accessToken,
      tokens.refreshToken,
    ]);
  }

  /** Removes the token set (a failure is reported, not thrown). */
  async delete(key: string): Promise<void> {
    await this.#command('delete', key, () => this.#client.del(key));
  }

  /** Remembers a credential failure for the cooldown (no secret in it), so other processes do not repeat it. */
  async setFailure(key: string, failure: SharedFailure, ttlMs: number): Promise<void> {
    const value = JSON.stringify(failure);
    await this.#command('set', key, () => this.#client.set(failureKeyFor(key), value, 'PX', Math.max(1, Math.ceil(ttlMs))));
  }

  /** The credential failure another process remembered, while its cooldown runs. */
  async getFailure(key: string): Promise<SharedFailure | undefined> {
    const stored = await this.#command('get', key, () => this.#client.get(failureKeyFor(key)));
    return typeof stored === 'string' ? parseSharedFailure(stored) : undefined;
  }

  /** Forgets a remembered credential failure. */
  async clearFailure(key: string): Promise<void> {
    await this.#command('delete', key, () => this.#client.del(failureKeyFor(key)));
  }

  /**
   * Takes the renewal lock for `key` for `ttlMs`: resolves a release function when taken, undefined when another
   * process holds it.
   *
   * When Redis fails or times out, it resolves a release function that does nothing: the caller proceeds as if it
   * held the lock and renews on its own. That trades the one-grant guarantee for availability while Redis is down
   * (each process then renews for itself, as it would without a shared store) rather than making every process wait
   * for a renewal nobody is doing. If a timed-out lock command still lands later, the lock is released at once.
   *
   * @throws RangeError when `ttlMs` is not a positive number (a caller bug, not a Redis failure).
   */
  async tryLock(key: string, ttlMs: number): Promise<ReleaseLock | undefined> {
    if (!(Number.isFinite(ttlMs) && ttlMs > 0)) throw new RangeError('tryLock: ttlMs must be a positive number');
    const lockKey = lockKeyFor(key);
    const owner = randomBytes(16).toString('hex');
    const pending = call(() => this.#client.set(lockKey, owner, 'PX', Math.ceil(ttlMs), 'NX'));
    const reply = await this.#bounded('lock', key, pending);
    if (reply === 'OK') return this.#releaser(key, lockKey, owner);
    if (reply === null) return undefined;
    // Failed or timed out: proceed locally. A SET that was only slow would hold the lock for ttlMs while nobody
    // renews under it, so free it as soon as it lands.
    pending
      .then((late) => (late === 'OK' ? this.#client.eval(RELEASE_SCRIPT, 1, lockKey, owner) : undefined))
      .catch(ignore);
    return proceedLocally;
  }

  #releaser(key: string, lockKey: string, owner: string): ReleaseLock {
    let released = false;
    return async () => {
      if (released) return;
      released = true;
      await this.#command('unlock', key, () => this.#client.eval(RELEASE_SCRIPT, 1, lockKey, owner));
    };
  }

  /** Runs one command bounded by the timeout; undefined when it failed (already reported). */
  async #command<T>(
    operation: TokenStoreOperation,
    key: string,
    run: () => Promise<T>,
    secrets: readonly (string | undefined)[] = [],
  ): Promise<T | undefined> {
    return this.#bounded(operation, key, call(run), secrets);
  }

  async #bounded<T>(
    operation: TokenStoreOperation,
    key: string,
    pending: Promise<T>,
    secrets: readonly (string | undefined)[] = [],
  ): Promise<T | undefined> {
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<typeof TIMED_OUT>((resolve) => {
      timer = setTimeout(resolve, this.#timeoutMs, TIMED_OUT);
      // The deadline alone must not keep a process alive that has nothing else to do.
      timer.unref();
    });
    try {
      const outcome = await Promise.race([pending, deadline]);
      if (outcome !== TIMED_OUT) return outcome;
      this.#report(new TokenStoreError(operation, 'timeout', key, `Redis did not answer within ${this.#timeoutMs} ms`));
    } catch (error) {
      const cause = sanitizeError(error, secrets);
      this.#report(new TokenStoreError(operation, 'failed', key, cause.message, { cause }));
    } finally {
      clearTimeout(timer);
    }
    return undefined;
  }

  #report(error: TokenStoreError): void {
    try {
      this.#onError?.(error);
    } catch {
      // A failing reporter must not turn a store failure into a failed request.
    }
  }
}

/** Where a shared credential failure lives, beside the token. */
function failureKeyFor(key: string): string {
  return `${key}:failure`;
}

/** The release a caller gets when Redis could not be asked: there is no lock to release. */
const proceedLocally: ReleaseLock = () => undefined;

function ignore(): void {
  // The outcome of a late lock command has nobody left to report to: its operation was already reported.
}

/** Starts a command, turning a synchronous throw (a client in a bad state) into a rejection. */
function call<T>(run: () => Promise<T>): Promise<T> {
  try {
    return run();
  } catch (error) {
    return Promise.reject(error instanceof Error ? error : new Error(String(error)));
  }
}

// `{ ...defaults, ...options }` would let an explicit `undefined` override a default.
function definedOnly<T extends object>(options: T): Partial<T> {
  return Object.fromEntries(Object.entries(options).filter(([, value]) => value !== undefined)) as Partial<T>;
}

function isClient(client: unknown): client is RedisStoreClient {
  if (client === null || typeof client !== 'object') return false;
  const methods = client as Record<string, unknown>;
  return ['get', 'set', 'del', 'eval'].every((name) => typeof methods[name] === 'function');
}
