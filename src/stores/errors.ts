/**
 * The one error a shared token store reports. A store never throws into a request: it reports through its `onError`
 * option and carries on as if it held no token (see {@link TokenStoreError.reason}).
 */
import { brandErrorClass, ErrorCode, OAuthBearerError } from '../errors.js';

/**
 * Which store operation failed. `acquire` is the one look that reads the entry and takes the renewal lease; `extend`,
 * `commit`, `fail` and `release` are the lease's own steps (see RenewalLease); `key` is the derivation of the store
 * key from the credentials (see `storeKey`), before any store method runs.
 */
export type TokenStoreOperation = 'key' | 'get' | 'set' | 'delete' | 'acquire' | 'extend' | 'commit' | 'fail' | 'release' | 'clearFailure';

/**
 * Why it failed:
 * - `timeout`: the backend did not answer within the store's operation timeout; the operation counts as failed.
 * - `failed`: the backend answered with an error, or could not be reached.
 * - `invalid-value`: a stored value is not a token set this library wrote (corrupt, or written by something else).
 * - `undecryptable`: a stored value failed authenticated decryption: another encryption key, a tampered value, or a
 *   value moved from another key.
 * - `lease-lost`: the renewal lease expired before its holder could write (it was paused, or cut off from the store,
 *   for longer than the lease): the token it obtained is used by its own process only, never written over its
 *   successor's.
 * - `no-ttl`: a key that must expire had no time to live, or a longer one than it could mean (written by hand,
 *   forged, or replayed): it was given one.
 * - `lease-overstayed`: another process held the renewal lease past its own grant budget; this one renewed alone.
 */
export type TokenStoreFailure = 'timeout' | 'failed' | 'invalid-value' | 'undecryptable' | 'lease-lost' | 'no-ttl' | 'lease-overstayed';

/**
 * A shared store could not be used. The token manager goes on without it (reading no token, renewing locally), so
 * this is reported, not thrown. It never holds a token, a stored value or an encryption key: `cause` is a sanitized
 * copy of the backend's error (name, message, code).
 *
 * @example
 * const onError = (error: TokenStoreError) => logger.warn({ reason: error.reason }, error.message);
 * const store = new RedisTokenStore({ client, onError });
 */
export class TokenStoreError extends OAuthBearerError {
  static {
    brandErrorClass(this, 'TokenStoreError');
  }

  /** The operation that failed. */
  readonly operation: TokenStoreOperation;
  /** Why it failed. */
  readonly reason: TokenStoreFailure;
  /** The store key involved: a hash, never a secret (see `storeKey`); undefined when the key could not be derived. */
  readonly key: string | undefined;

  constructor(
    operation: TokenStoreOperation,
    reason: TokenStoreFailure,
    key: string | undefined,
    message: string,
    options?: { cause?: Error },
  ) {
    super(ErrorCode.TOKEN_STORE, `Token store ${operation} failed: ${message}`, options);
    this.operation = operation;
    this.reason = reason;
    this.key = key;
  }
}

const FAILURES: readonly TokenStoreFailure[] = ['timeout', 'failed', 'invalid-value', 'undecryptable', 'lease-lost', 'no-ttl', 'lease-overstayed'];

/**
 * What is reported when a store (one of the user's own: the library's stores report instead of throwing) throws or
 * rejects during `operation`. Built afresh, never the thrown value: its message and cause may quote a token set, a
 * stored value or a connection string. Kept: the thrown error's class name, and the reason of a TokenStoreError it
 * threw. Safe with any value, a revoked Proxy or a throwing getter included (then "unknown").
 */
export function storeThrew(operation: TokenStoreOperation, key: string | undefined, error: unknown, note = ''): TokenStoreError {
  let name = 'unknown';
  let reason: TokenStoreFailure = 'failed';
  try {
    const thrownName: unknown = error instanceof Error ? error.name : typeof error;
    name = typeof thrownName === 'string' ? thrownName : 'Error';
    const thrown = error instanceof TokenStoreError ? error.reason : undefined;
    if (thrown !== undefined && FAILURES.includes(thrown)) reason = thrown;
  } catch {
    // A value that cannot even be looked at is reported as unknown.
  }
  return new TokenStoreError(operation, reason, key, `the store threw (${name.slice(0, 100)})${note}`);
}
