/** A store in this process's memory, for sharing one token between several clients of one process. */
import { randomBytes } from 'node:crypto';

import type { TokenSet } from '../token-set.js';
import type { SharedFailure } from './shared-failure.js';
import type { LockingTokenStore, ReleaseLock } from './types.js';

/**
 * Keeps token sets in memory. One per token manager unless you pass the same instance to several clients, which then
 * share tokens within the process.
 *
 * @example
 * const store = new MemoryTokenStore();
 * const a = createAuthClient({ baseURL, auth: { ...credentials, store } });
 * const b = createAuthClient({ baseURL, auth: { ...credentials, store } }); // reuses a's token
 */
export class MemoryTokenStore implements LockingTokenStore {
  readonly #entries = new Map<string, TokenSet>();
  /** Renewal locks: clients sharing this store renew one at a time, so a rotated refresh token is spent once. */
  readonly #locks = new Map<string, { readonly owner: symbol; readonly until: number }>();
  readonly #failures = new Map<string, { readonly failure: SharedFailure; readonly until: number }>();
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

  tryLock(key: string, ttlMs: number): ReleaseLock | undefined {
    const held = this.#locks.get(key);
    if (held !== undefined && Date.now() < held.until) return undefined;
    const owner = Symbol(key);
    this.#locks.set(key, { owner, until: Date.now() + ttlMs });
    return () => {
      if (this.#locks.get(key)?.owner === owner) this.#locks.delete(key);
    };
  }

  setFailure(key: string, failure: SharedFailure, ttlMs: number): void {
    this.#failures.set(key, { failure, until: Date.now() + ttlMs });
  }

  getFailure(key: string): SharedFailure | undefined {
    const entry = this.#failures.get(key);
    return entry !== undefined && Date.now() < entry.until ? entry.failure : undefined;
  }

  clearFailure(key: string): void {
    this.#failures.delete(key);
  }
}
