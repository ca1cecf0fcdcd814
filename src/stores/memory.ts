/** A store in this process's memory, for sharing one token between several clients of one process. */
import { randomBytes } from 'node:crypto';

import type { TokenSet } from '../token-set.js';
import type { SharedFailure } from './shared-failure.js';
import type { LeasingTokenStore, RenewalLease, StoreSnapshot } from './types.js';
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
  readonly #leases = new Map<string, Expiring<symbol>>();
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

  acquire(key: string, leaseMs: number): StoreSnapshot {
    const tokens = this.#entries.get(key);
    const failure = live(this.#failures, key);
    if (failure !== undefined || live(this.#leases, key) !== undefined) return { state: 'held', tokens, failure };
    const owner = Symbol(key);
    this.#leases.set(key, { value: owner, until: monotonicNow() + leaseMs });
    return { state: 'leased', tokens, failure: undefined, lease: this.#lease(key, owner, leaseMs) };
  }

  clearFailure(key: string): void {
    this.#failures.delete(key);
  }

  #lease(key: string, owner: symbol, leaseMs: number): RenewalLease {
    // Fenced: every step first checks that the lease is still this owner's and unexpired.
    const ours = (): boolean => live(this.#leases, key) === owner;
    return {
      extend: () => {
        if (!ours()) return false;
        this.#leases.set(key, { value: owner, until: monotonicNow() + leaseMs });
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
        this.#failures.set(key, { value: failure, until: monotonicNow() + ttlMs });
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
