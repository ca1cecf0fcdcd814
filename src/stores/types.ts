/**
 * Where token sets live. The token manager always keeps the current token in memory (the hot path never waits on a
 * store); a store is consulted when a token must be renewed, so that processes sharing one can share one token.
 *
 * Methods may return plain values or promises, so synchronous and asynchronous backends both fit (as in p-memoize).
 */
import type { TokenSet } from '../token-set.js';
import type { SharedFailure } from './shared-failure.js';

/** A value, or a promise of it. */
export type MaybePromise<T> = T | Promise<T>;

/** Releases a lock taken with {@link LockingTokenStore.tryLock}. Only the owner's release has an effect. */
export type ReleaseLock = () => MaybePromise<void>;

/**
 * Keeps token sets under a key. The library makes every key, bound to the full credentials (see storeKey()): a store
 * never sees a secret, and a client with other credentials never meets another's entries, whatever the store does.
 */
export interface TokenStore {
  /** The stored token set, or undefined when there is none. */
  get(key: string): MaybePromise<TokenSet | undefined>;
  /** Stores a token set. Stores that expire entries should keep it until `tokens.expiresAt` at least. */
  set(key: string, tokens: TokenSet): MaybePromise<void>;
  /** Removes the token set. */
  delete(key: string): MaybePromise<void>;
  /**
   * The first part of the keys the library makes for this store, to share one backend between applications.
   * @default 'axios-oauth-bearer'
   */
  readonly keyPrefix?: string;
  /**
   * A secret of the store's own (at least 16 bytes, the same in every process that shares the store, never written to
   * it), under which keys are HMAC-SHA256 digests of the credentials. Without it, keys are scrypt digests: as safe,
   * but about 0.1 s of CPU once per client. RedisTokenStore derives one from its `encryptionKey`, MemoryTokenStore
   * makes a random one.
   */
  bindingSecret?(): Uint8Array | undefined;
}

/**
 * A store shared between processes that can also elect one of them to renew: the others wait for its result, so one
 * expiry makes one grant in total, and a rotated refresh token is never spent twice.
 */
export interface LockingTokenStore extends TokenStore {
  /**
   * Tries to take the renewal lock for `key` for at most `ttlMs` (so a holder that dies frees it).
   * Resolves a release function when taken, undefined when another process holds it.
   *
   * A store whose backend fails may resolve a release function that does nothing: the caller then renews on its own
   * ("proceed locally"), as it would without a shared store, instead of waiting for a renewal nobody is doing.
   * RedisTokenStore does this, and reports the failure through its own `onError`.
   */
  tryLock(key: string, ttlMs: number): MaybePromise<ReleaseLock | undefined>;
  /**
   * Remembers a credential failure for `ttlMs` (the cooldown), so that the other processes fail fast with it instead
   * of sending the same refused credentials again. Optional.
   */
  setFailure?(key: string, failure: SharedFailure, ttlMs: number): MaybePromise<void>;
  /** The credential failure remembered for `key`, if its cooldown is still running. */
  getFailure?(key: string): MaybePromise<SharedFailure | undefined>;
  /** Forgets the remembered failure (the application fixed the credentials). */
  clearFailure?(key: string): MaybePromise<void>;
}

/** True when the store can elect a single renewer across processes. */
export function isLockingStore(store: TokenStore): store is LockingTokenStore {
  return typeof (store as Partial<LockingTokenStore>).tryLock === 'function';
}
