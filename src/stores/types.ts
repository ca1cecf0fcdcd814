/**
 * Where token sets live. The token manager always keeps the current token in memory (the hot path never waits on a
 * store); a store is consulted when a token must be renewed, so that processes sharing one can share one token.
 *
 * Methods may return plain values or promises, so synchronous and asynchronous backends both fit (as in p-memoize).
 */
import type { TokenSet } from '../token-set.js';
import type { StoreKeyFields } from './key.js';
import type { SharedFailure } from './shared-failure.js';

/** A value, or a promise of it. */
export type MaybePromise<T> = T | Promise<T>;

/** Releases a lock taken with {@link LockingTokenStore.tryLock}. Only the owner's release has an effect. */
export type ReleaseLock = () => MaybePromise<void>;

/** Keeps token sets under a key (derived from the endpoint, client id, username and scope; never a secret). */
export interface TokenStore {
  /** The stored token set, or undefined when there is none. */
  get(key: string): MaybePromise<TokenSet | undefined>;
  /** Stores a token set. Stores that expire entries should keep it until `tokens.expiresAt` at least. */
  set(key: string, tokens: TokenSet): MaybePromise<void>;
  /** Removes the token set. */
  delete(key: string): MaybePromise<void>;
  /** The key for a credential set, when the store namespaces its keys itself; storeKey() with the default prefix
   * otherwise. */
  keyFor?(fields: StoreKeyFields): string;
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
