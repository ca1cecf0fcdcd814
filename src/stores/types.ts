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
 * The renewal lease of one key, held by the process that renews. Every write through it is fenced: it happens only
 * while the lease is still this holder's (one atomic compare-and-write), so a holder that lost its lease (it was
 * paused, or cut off from the store, for longer than the lease) can never overwrite its successor's token.
 */
export interface RenewalLease {
  /** Makes the lease last its full length again from now. Resolves false when it was lost (expired, or taken). */
  extend(): MaybePromise<boolean>;
  /** Stores the token set, clears any failure record and releases the lease, only while it is ours. False: lost. */
  commit(tokens: TokenSet): MaybePromise<boolean>;
  /**
   * Records why the renewal failed, for `ttlMs`, and releases the lease, only while it is ours, so that the processes
   * waiting for this renewal fail fast with the same error instead of each trying in turn. False: lost.
   */
  fail(failure: SharedFailure, ttlMs: number): MaybePromise<boolean>;
  /** Releases the lease without writing (only while ours; harmless when lost or released). */
  release(): MaybePromise<void>;
}

/**
 * What one look at a leasing store found, in one round trip.
 * - `leased`: the lease was free and is now ours (this process renews), with what the store held.
 * - `held`: another process holds the lease (it is renewing), with what the store held.
 * - `unavailable`: the store could not be asked (it failed, timed out, or its circuit breaker is open; it reported
 *   why). The process renews on its own, degraded: see the README's "Redis" section.
 *
 * `tokens` is the stored token set (its `expiresAt` measured by the store's own clock where it can: the remaining
 * time to live, not the writer's wall clock); `failure` a renewal failure recorded within its time to live.
 */
export type StoreSnapshot =
  | { readonly state: 'leased'; readonly tokens: TokenSet | undefined; readonly failure: undefined; readonly lease: RenewalLease }
  | {
      readonly state: 'held';
      readonly tokens: TokenSet | undefined;
      readonly failure: SharedFailure | undefined;
      /** How much longer the failure record lives (so a reader's cooldown ends with it, not a full cooldown later). */
      readonly failureRemainingMs?: number | undefined;
      /** How long until the holder's grant budget runs out; negative when it overstayed. Undefined: unknown. */
      readonly holderRemainingMs?: number | undefined;
    }
  | { readonly state: 'unavailable' };

/** The shortest and the longest lease: `leaseMs` is checked against these, and a lease found longer is cut. */
export const MIN_LEASE_MS = 1_000;
export const MAX_LEASE_MS = 60_000;

/** What a caller of {@link LeasingTokenStore.acquire} asks for. */
export interface LeaseRequest {
  /** How long the lease lasts unless extended. */
  readonly leaseMs: number;
  /** The longest this caller's grant can take (its retries and fallbacks included): the holder's budget. */
  readonly holdMs: number;
  /** The longest a failure record may live (the cooldown): one found with a longer time to live is cut to this. */
  readonly maxFailureMs: number;
}

/**
 * A store shared between processes that also elects one of them to renew: the others wait for its result, so one
 * expiry makes one grant in total, and a rotated refresh token is never spent twice.
 */
export interface LeasingTokenStore extends TokenStore {
  /**
   * Reads the entry and the failure record for `key` and, when there is no failure record and the lease is free,
   * takes the lease for `request.leaseMs`: all in one step (one round trip for a remote store). A store should not throw:
   * a throw counts as `unavailable` (and is reported).
   */
  acquire(key: string, request: LeaseRequest): MaybePromise<StoreSnapshot>;
  /** Forgets a recorded failure (the application fixed the credentials). */
  clearFailure(key: string): MaybePromise<void>;
}

/** True when the store can elect a single renewer across processes. */
export function isLeasingStore(store: TokenStore): store is LeasingTokenStore {
  const candidate = store as Partial<LeasingTokenStore>;
  return typeof candidate.acquire === 'function' && typeof candidate.clearFailure === 'function';
}
