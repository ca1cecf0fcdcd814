/**
 * The one error a shared token store reports. A store never throws into a request: it reports through its `onError`
 * option and carries on as if it held no token (see {@link TokenStoreError.reason}).
 */
import { ErrorCode, OAuthBearerError } from '../errors.js';

/** The code of every {@link TokenStoreError}: `ErrorCode.TOKEN_STORE`, re-exported for `axios-oauth-bearer/redis`. */
export const TOKEN_STORE_ERROR_CODE = ErrorCode.TOKEN_STORE;

/** Which store operation failed. `unlock` is the release function returned by `tryLock`. */
export type TokenStoreOperation = 'get' | 'set' | 'delete' | 'lock' | 'unlock';

/**
 * Why it failed:
 * - `timeout`: the backend did not answer within the store's operation timeout; the operation counts as failed.
 * - `failed`: the backend answered with an error, or could not be reached.
 * - `invalid-value`: a stored value is not a token set this library wrote (corrupt, or written by something else).
 * - `undecryptable`: a stored value failed authenticated decryption: another encryption key, a tampered value, or a
 *   value moved from another key.
 */
export type TokenStoreFailure = 'timeout' | 'failed' | 'invalid-value' | 'undecryptable';

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
  /** The operation that failed. */
  readonly operation: TokenStoreOperation;
  /** Why it failed. */
  readonly reason: TokenStoreFailure;
  /** The store key involved: a hash, never a secret (see `storeKey`). */
  readonly key: string;

  constructor(
    operation: TokenStoreOperation,
    reason: TokenStoreFailure,
    key: string,
    message: string,
    options?: { cause?: Error },
  ) {
    super(ErrorCode.TOKEN_STORE, `Token store ${operation} failed: ${message}`, options);
    this.operation = operation;
    this.reason = reason;
    this.key = key;
  }
}
