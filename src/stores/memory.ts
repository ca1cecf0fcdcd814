/** The default store: a Map in this process. */
import type { TokenSet } from '../token-set.js';
import type { TokenStore } from './types.js';

/**
 * Keeps token sets in memory. One per token manager unless you pass the same instance to several clients, which then
 * share tokens within the process.
 *
 * @example
 * const store = new MemoryTokenStore();
 * const a = createAuthClient({ baseURL, auth: { ...credentials, store } });
 * const b = createAuthClient({ baseURL, auth: { ...credentials, store } }); // reuses a's token
 */
export class MemoryTokenStore implements TokenStore {
  readonly #entries = new Map<string, TokenSet>();

  get(key: string): TokenSet | undefined {
    return this.#entries.get(key);
  }

  set(key: string, tokens: TokenSet): void {
    this.#entries.set(key, tokens);
  }

  delete(key: string): void {
    this.#entries.delete(key);
  }
}
