/** A store in this process's memory, for sharing one token between several clients of one process. */
import { randomBytes } from 'node:crypto';

import type { TokenSet } from '../token-set.js';
import type { SharedFailure } from './shared-failure.js';
import type { LeaseRequest, LeasingTokenStore, RenewalLease, StoreSnapshot } from './types.js';
import { monotonicNow } from '../clock.js';

/** An entry that ends: a lease or a failure record. Times are monotonic (monotonicNow()), immune to clock steps. */
interface Expiring<T> {
  readonly value: T;
  readonly until: number;
}

/**
 * Keeps token sets in memory. One per token manager unless you pass the same instance to several clients, which then
 * share tokens within the process, with the same renewal lease and failure records as the Redis store.
 *
 * @example
 * const store = new MemoryTokenStore();
 * const a = createAuthClient({ baseURL, auth: { ...credentials, store } });
 * const b = createAuthClient({ baseURL, auth: { ...credentials, store } }); // reuses a's token
 */
export class MemoryTokenStore implements LeasingTokenStore {
  readonly #entries = new Map<string, TokenSet>();
  /** Renewal leases: clients sharing this store renew one at a time, so a rotated refresh token is spent once. */
  readonly #leases = new Map<string, Expiring<symbol> & { readonly holdUntil: number }>();
  readonly #failures = new Map<string, Expiring<SharedFailure>>();
  /** Keys are HMACs under this: nothing outside the process ever sees them, so a random secret is enough (and fast). */
  readonly #bindingSecret = randomBytes(32);

  bindingSecret(): Uint8Array {
    return this.#bindingSecret;
  }

  get(key: string): TokenSet | undefined {
    return this.#entries.get(key);
  }

  set(key: string, tokens: TokenSet): void {
    this.#entries.set(key, tokens);
  }

  delete(key: string): void {
    this.#entries.delete(key);
  }

  acquire(key: string, request: LeaseRequest): StoreSnapshot {
    const tokens = this.#entries.get(key);
    const failure = this.#failures.get(key);
    if (failure !== undefined && live(this.#failures, key) !== undefined) {
      return { state: 'held', tokens, failure: failure.value, failureRemainingMs: failure.until - monotonicNow() };
    }
    const held = this.#leases.get(key);
    if (held !== undefined && live(this.#leases, key) !== undefined) {
      return { state: 'held', tokens, failure: undefined, holderRemainingMs: held.holdUntil - monotonicNow() };
    }
    const owner = Symbol(key);
    const now = monotonicNow();
    this.#leases.set(key, { value: owner, until: now + request.leaseMs, holdUntil: now + request.holdMs });
    return { state: 'leased', tokens, failure: undefined, lease: this.#lease(key, owner, request) };
  }

  clearFailure(key: string): void {
    this.#failures.delete(key);
  }

  #lease(key: string, owner: symbol, request: LeaseRequest): RenewalLease {
    const { leaseMs } = request;
    // Fenced: every step first checks that the lease is still this owner's and unexpired.
    const ours = (): boolean => live(this.#leases, key) === owner;
    return {
      extend: () => {
        const held = this.#leases.get(key);
        if (!ours() || held === undefined) return false;
        this.#leases.set(key, { ...held, until: monotonicNow() + leaseMs });
        return true;
      },
      commit: (tokens) => {
        if (!ours()) return false;
        this.#entries.set(key, tokens);
        this.#failures.delete(key);
        this.#leases.delete(key);
        return true;
      },
      fail: (failure, ttlMs) => {
        if (!ours()) return false;
        this.#failures.set(key, { value: failure, until: monotonicNow() + Math.min(ttlMs, request.maxFailureMs) });
        this.#leases.delete(key);
        return true;
      },
      release: () => {
        if (ours()) this.#leases.delete(key);
      },
    };
  }
}

/** The value under `key` while it lasts; an ended one is dropped. */
function live<T>(map: Map<string, Expiring<T>>, key: string): T | undefined {
  const entry = map.get(key);
  if (entry === undefined) return undefined;
  if (monotonicNow() < entry.until) return entry.value;
  map.delete(key);
  return undefined;
}
