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
 * "not stored" (set, delete) or "unavailable" (acquire: the process renews on its own). After a failure or a timeout
 * a circuit breaker skips Redis for `circuitBreakerMs`, so an incident costs a request at most one
 * `operationTimeoutMs`, not one per command. Nothing here throws into a request.
 *
 * The renewal protocol (one lease per entry, fenced writes, a shared failure record) is in ./redis-scripts.ts.
 */
import { hkdfSync, randomBytes } from 'node:crypto';
import { ConfigurationError } from '../errors.js';
import { refuseUnknownOptions } from '../option-names.js';
import { sanitizeError } from '../sanitize-error.js';
import { createTokenSet, type TokenSet } from '../token-set.js';
import { type EncryptionKey, decryptValue, encryptValue, parseEncryptionKey } from './crypto.js';
import { TokenStoreError, type TokenStoreOperation } from './errors.js';
import { StoreReporter } from './reporter.js';
import { DEFAULT_KEY_PREFIX, failureKeyFor, leaseKeyFor } from './key.js';
import { ACQUIRE, COMMIT, EXTEND, FAIL, parseAcquireReply, RELEASE } from './redis-scripts.js';
import { parseTokenSet, serializeTokenSet } from './serialize.js';
import { parseSharedFailure, serializeSharedFailure, type SharedFailure } from './shared-failure.js';
import { MAX_LEASE_MS, type LeaseRequest, type LeasingTokenStore, type RenewalLease, type StoreSnapshot } from './types.js';
import { monotonicNow } from '../clock.js';

/**
 * The Redis commands the store uses, as ioredis declares them: an ioredis `Redis` or `Cluster` (v5 or v6) fits.
 * Typed structurally so that this package needs no ioredis types and never loads ioredis.
 */
export interface RedisStoreClient {
  get(key: string): Promise<string | null>;
  set(key: string, value: string, millisecondsToken: 'PX', milliseconds: number): Promise<unknown>;
  del(key: string): Promise<number>;
  eval(script: string, numkeys: number, ...keysAndArgs: (string | number)[]): Promise<unknown>;
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
   * After a command fails or times out, Redis is skipped for this many milliseconds (reported once): requests then
   * renew on their own at once instead of each waiting `operationTimeoutMs` for a Redis that is down. The first
   * command after it tries Redis again. `0` turns the breaker off.
   * @default 5000
   */
  readonly circuitBreakerMs?: number;
  /**
   * Receives every failure (a {@link TokenStoreError}); the store carries on without Redis. Pass the same callback
   * as the auth options' `onError` to see them in one place. Exceptions it throws are ignored.
   * @default undefined (failures are silent)
   */
  readonly onError?: (error: TokenStoreError) => void;
}

/** The names of {@link RedisTokenStoreOptions}, for refusing a misspelled one (`prefx`) rather than ignoring it. */
const REDIS_OPTION_NAMES = ['client', 'prefix', 'encryptionKey', 'operationTimeoutMs', 'circuitBreakerMs', 'onError'] as const satisfies readonly (keyof RedisTokenStoreOptions)[];
// Compile-time only: an option added to the interface but not to the list fails to compile.
export const REDIS_OPTION_NAMES_COMPLETE: [Exclude<keyof RedisTokenStoreOptions, (typeof REDIS_OPTION_NAMES)[number]>] extends [never] ? true : never = true;

/** The defaults of {@link RedisTokenStoreOptions}. */
export const redisTokenStoreDefaults = Object.freeze({
  prefix: DEFAULT_KEY_PREFIX,
  operationTimeoutMs: 500,
  circuitBreakerMs: 5_000,
} as const);

/** Kept this long past `expiresAt`, so a process whose clock runs a little behind still finds the token. */
const EXPIRY_GRACE_MS = 5_000;

const TIMED_OUT = Symbol('timed out');
/** What a command resolves to when it could not be run (failed, timed out, or skipped by the breaker). */
const UNAVAILABLE = Symbol('unavailable');
type Outcome<T> = T | typeof UNAVAILABLE;

/**
 * Shares token sets between processes through Redis, and elects one renewer per key with a lease: taken with the read
 * (one script), extended by its holder while its grant runs, and fenced, so that a holder that lost it writes nothing.
 *
 * @example
 * import { Redis } from 'ioredis';
 * import { RedisTokenStore } from 'axios-oauth-bearer/redis';
 *
 * const store = new RedisTokenStore({ client: new Redis(process.env.REDIS_URL), encryptionKey: process.env.KEY });
 * const api = createAuthClient({ baseURL, auth: { ...credentials, store } });
 */
export class RedisTokenStore implements LeasingTokenStore {
  readonly #client: RedisStoreClient;
  readonly #prefix: string;
  readonly #key: Buffer | undefined;
  readonly #bindingSecret: Buffer | undefined;
  readonly #timeoutMs: number;
  readonly #breakerMs: number;
  readonly #reporter: StoreReporter;
  /** Until when (monotonic ms) Redis is skipped after a failure. */
  #skipUntil = 0;

  constructor(options: RedisTokenStoreOptions) {
    // Checked although typed: options may come from JavaScript or a config file.
    if ((options as unknown) === null || typeof options !== 'object') {
      throw new ConfigurationError('options', 'must be an object');
    }
    refuseUnknownOptions(options, REDIS_OPTION_NAMES, 'RedisTokenStore');
    const resolved = { ...redisTokenStoreDefaults, ...definedOnly(options) };
    if (!isClient(resolved.client)) {
      throw new ConfigurationError('client', 'must be an ioredis client (Redis or Cluster)');
    }
    if (typeof resolved.prefix !== 'string' || resolved.prefix === '') {
      throw new ConfigurationError('prefix', 'must be a non-empty string');
    }
    // A brace would move the Cluster hash tag from the digest into the prefix (every entry in one slot) or break it
    // (`{}`: the three keys of an entry in three slots, and every script a CROSSSLOT error).
    if (/[{}]/.test(resolved.prefix)) {
      throw new ConfigurationError('prefix', 'must not contain `{` or `}` (the key digest is the Redis Cluster hash tag)');
    }
    if (!(Number.isFinite(resolved.operationTimeoutMs) && resolved.operationTimeoutMs > 0)) {
      throw new ConfigurationError('operationTimeoutMs', 'must be a positive number of milliseconds');
    }
    if (!(Number.isFinite(resolved.circuitBreakerMs) && resolved.circuitBreakerMs >= 0)) {
      throw new ConfigurationError('circuitBreakerMs', 'must be a number of milliseconds, 0 or more');
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
    this.#breakerMs = resolved.circuitBreakerMs;
    this.#reporter = new StoreReporter(resolved.onError);
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
    return stored === UNAVAILABLE || stored === null ? undefined : this.#readTokens(key, stored, undefined);
  }

  /** Stores the token set until its expiry (plus a few seconds of grace); one already expired is not stored. */
  async set(key: string, tokens: TokenSet): Promise<void> {
    const ttlMs = ttlOf(tokens);
    if (ttlMs === undefined) return;
    const value = this.#seal(key, serializeTokenSet(tokens));
    await this.#command('set', key, () => this.#client.set(key, value, 'PX', ttlMs), secretsOf(tokens));
  }

  /** Removes the token set (a failure is reported, not thrown). */
  async delete(key: string): Promise<void> {
    await this.#command('delete', key, () => this.#client.del(key));
  }

  /** Forgets a recorded renewal failure (the credentials were fixed). */
  async clearFailure(key: string): Promise<void> {
    await this.#command('clearFailure', key, () => this.#client.del(failureKeyFor(key)));
  }

  /**
   * One round trip: the stored token set (its expiry measured by Redis's own clock: the key's remaining time to live,
   * so hosts whose clocks disagree agree on it), a recorded failure, and the lease when it was free. When Redis fails,
   * times out or is skipped by the breaker: `unavailable`, and a lease that a timed-out script still takes when it
   * lands late is released at once (nobody renews under it).
   */
  async acquire(key: string, request: LeaseRequest): Promise<StoreSnapshot> {
    if (this.#skipping()) return { state: 'unavailable' };
    const owner = randomBytes(16).toString('hex');
    const keys = keysOf(key);
    const leaseMs = Math.ceil(request.leaseMs);
    const args = [owner, leaseMs, MAX_LEASE_MS, Math.max(1, Math.ceil(request.maxFailureMs)), Math.ceil(request.holdMs)];
    const pending = call(() => this.#client.eval(ACQUIRE, 3, ...keys, ...args));
    const outcome = await this.#bounded('acquire', key, pending);
    if (outcome === UNAVAILABLE) {
      pending.then((late) => (parseAcquireReply(late)?.leased === true ? this.#client.eval(RELEASE, 3, ...keys, owner) : undefined)).catch(ignore);
      return { state: 'unavailable' };
    }
    const reply = parseAcquireReply(outcome);
    if (reply === undefined) {
      this.#reporter.report(new TokenStoreError('acquire', 'invalid-value', key, 'Redis answered the acquire script with something else'));
      return { state: 'unavailable' };
    }
    if (reply.repairedLease) this.#reporter.reportOnce(new TokenStoreError('acquire', 'no-ttl', key, 'the renewal lease had no time to live, or a longer one than any lease; it now expires with a lease'));
    if (reply.repairedFailure) this.#reporter.reportOnce(new TokenStoreError('acquire', 'no-ttl', key, 'the failure record had no time to live, or a longer one than the cooldown; it now expires with the cooldown'));
    const tokens = reply.token === undefined ? undefined : this.#readTokens(key, reply.token, reply.tokenTtlMs);
    if (reply.leased) return { state: 'leased', tokens, failure: undefined, lease: this.#lease(key, owner, leaseMs) };
    const failure = reply.failure === undefined ? undefined : this.#readFailure(key, reply.failure);
    return {
      state: 'held',
      tokens,
      failure,
      failureRemainingMs: failure === undefined ? undefined : reply.failureTtlMs,
      holderRemainingMs: reply.holderRemainingMs,
    };
  }

  #lease(key: string, owner: string, leaseMs: number): RenewalLease {
    const keys = keysOf(key);
    // The lease's own steps skip the breaker: a holder that stopped extending because one command was slow would lose
    // its lease while alive, and its grant would be made twice. Each is still bounded by operationTimeoutMs.
    // Once lost, lost for good (the owner value is never reused): later steps answer at once, and it is reported once.
    let lost = false;
    const losing = (operation: TokenStoreOperation): false => {
      if (!lost) this.#reporter.report(new TokenStoreError(operation, 'lease-lost', key, 'the renewal lease expired before its holder could write; nothing was written'));
      lost = true;
      return false;
    };
    /** Runs a fenced script: true when it ran under our lease, false when the lease is lost or Redis unavailable. */
    const fenced = async (operation: TokenStoreOperation, run: () => Promise<unknown>, secrets?: readonly (string | undefined)[]): Promise<boolean> => {
      if (lost) return false;
      const reply = await this.#leaseStep(operation, key, run, secrets);
      return reply === UNAVAILABLE ? false : reply === 1 || losing(operation);
    };
    return {
      extend: () => fenced('extend', () => this.#client.eval(EXTEND, 3, ...keys, owner, Math.ceil(leaseMs))),
      commit: async (tokens) => {
        const ttlMs = ttlOf(tokens);
        if (ttlMs === undefined) {
          if (!lost) await this.#leaseStep('release', key, () => this.#client.eval(RELEASE, 3, ...keys, owner));
          return !lost;
        }
        const value = this.#seal(key, serializeTokenSet(tokens));
        return fenced('commit', () => this.#client.eval(COMMIT, 3, ...keys, owner, value, ttlMs), secretsOf(tokens));
      },
      fail: (failure, ttlMs) => {
        const value = this.#seal(failureKeyFor(key), serializeSharedFailure(failure));
        return fenced('fail', () => this.#client.eval(FAIL, 3, ...keys, owner, value, Math.max(1, Math.ceil(ttlMs))));
      },
      release: async () => {
        if (!lost) await this.#leaseStep('release', key, () => this.#client.eval(RELEASE, 3, ...keys, owner));
      },
    };
  }

  /**
   * A stored token set, decrypted and checked; with its time to live (read by acquire), its expiry is rebased on it
   * (Redis's clock).
   */
  #readTokens(key: string, stored: string, ttlMs: number | undefined): TokenSet | undefined {
    let tokens: TokenSet;
    try {
      tokens = parseTokenSet(this.#open(key, stored), key);
    } catch (error) {
      // Both throw TokenStoreError only; anything else still must not reach the request.
      this.#reporter.report(error instanceof TokenStoreError ? error : new TokenStoreError('get', 'invalid-value', key, 'unreadable'));
      return undefined;
    }
    if (ttlMs === -1) this.#reporter.reportOnce(new TokenStoreError('acquire', 'no-ttl', key, 'the token entry has no time to live; the next renewal writes it with one'));
    if (ttlMs === undefined || ttlMs <= 0) return tokens;
    // Redis's clock can only shorten a lifetime: a writer whose clock runs ahead stored a late expiresAt, but a key
    // given a longer time to live by hand (or replayed) must not revive an expired token.
    const byRedis = Date.now() + ttlMs - EXPIRY_GRACE_MS;
    return byRedis < tokens.expiresAt ? createTokenSet({ ...tokens, expiresAt: byRedis }) : tokens;
  }

  /** A recorded failure, opened and checked; a record that is not one is reported and deleted (it would block the lease). */
  #readFailure(key: string, stored: string): SharedFailure | undefined {
    const failureKey = failureKeyFor(key);
    let failure: SharedFailure | undefined;
    try {
      failure = parseSharedFailure(this.#open(failureKey, stored));
    } catch {
      failure = undefined;
    }
    if (failure !== undefined) return failure;
    this.#reporter.report(new TokenStoreError('acquire', 'invalid-value', key, 'the failure record is not one this library wrote; it was removed'));
    void this.#command('clearFailure', key, () => this.#client.del(failureKey));
    return undefined;
  }

  #seal(key: string, plaintext: string): string {
    return this.#key === undefined ? plaintext : encryptValue(plaintext, this.#key, key);
  }

  #open(key: string, stored: string): string {
    return this.#key === undefined ? stored : decryptValue(stored, this.#key, key);
  }

  /** Runs one command bounded by the timeout and the breaker; UNAVAILABLE when it could not (reported once). */
  async #command<T>(
    operation: TokenStoreOperation,
    key: string,
    run: () => Promise<T>,
    secrets: readonly (string | undefined)[] = [],
  ): Promise<Outcome<T>> {
    if (this.#skipping()) return UNAVAILABLE;
    return this.#bounded(operation, key, call(run), secrets);
  }

  /** A step of a lease held: bounded by the timeout like any command, but not skipped by the breaker. */
  #leaseStep<T>(
    operation: TokenStoreOperation,
    key: string,
    run: () => Promise<T>,
    secrets: readonly (string | undefined)[] = [],
  ): Promise<Outcome<T>> {
    return this.#bounded(operation, key, call(run), secrets);
  }

  async #bounded<T>(
    operation: TokenStoreOperation,
    key: string,
    pending: Promise<T>,
    secrets: readonly (string | undefined)[] = [],
  ): Promise<Outcome<T>> {
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<typeof TIMED_OUT>((resolve) => {
      timer = setTimeout(resolve, this.#timeoutMs, TIMED_OUT);
      // The deadline alone must not keep a process alive that has nothing else to do.
      timer.unref();
    });
    try {
      const outcome = await Promise.race([pending, deadline]);
      if (outcome !== TIMED_OUT) return outcome;
      this.#trip(new TokenStoreError(operation, 'timeout', key, `Redis did not answer within ${this.#timeoutMs} ms${this.#skipNote()}`));
    } catch (error) {
      const cause = sanitizeError(error, secrets);
      // Redis answered, with an error about this key (WRONGTYPE, CROSSSLOT, OOM...): it is up, so the breaker stays
      // closed and the other keys of the store keep working. Only an unreachable or silent Redis opens it.
      if (isReplyError(error)) this.#reporter.report(new TokenStoreError(operation, 'failed', key, cause.message, { cause }));
      else this.#trip(new TokenStoreError(operation, 'failed', key, `${cause.message}${this.#skipNote()}`, { cause }));
    } finally {
      clearTimeout(timer);
    }
    return UNAVAILABLE;
  }

  #skipping(): boolean {
    return this.#breakerMs > 0 && monotonicNow() < this.#skipUntil;
  }

  #skipNote(): string {
    return this.#breakerMs > 0 ? `; Redis is skipped for ${this.#breakerMs} ms` : '';
  }

  /**
   * Opens the breaker and reports the failure that opened it. Commands already in flight that fail meanwhile are not
   * reported again: one incident, one report per breaker period.
   */
  #trip(error: TokenStoreError): void {
    if (this.#skipping()) return;
    this.#skipUntil = monotonicNow() + this.#breakerMs;
    this.#reporter.report(error);
  }


}

/** The three keys of one entry, in the order every script takes them. */
function keysOf(key: string): [string, string, string] {
  return [key, leaseKeyFor(key), failureKeyFor(key)];
}

/** How long Redis keeps a token set: until its expiry plus the grace; undefined when already expired. */
function ttlOf(tokens: TokenSet): number | undefined {
  const ttlMs = Math.ceil(tokens.expiresAt + EXPIRY_GRACE_MS - Date.now());
  return ttlMs > 0 ? ttlMs : undefined;
}

/** What a command's error must never quote: the tokens it was writing. */
function secretsOf(tokens: TokenSet): readonly (string | undefined)[] {
  return [tokens.accessToken, tokens.refreshToken, tokens.idToken];
}

/** An error Redis itself answered with (ioredis's ReplyError), as opposed to a connection that failed. */
function isReplyError(error: unknown): boolean {
  return error instanceof Error && error.name === 'ReplyError';
}

function ignore(): void {
  // The outcome of a late command has nobody left to report to: its operation was already reported.
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
