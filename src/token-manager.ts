/**
 * The token manager users hold (`api.tokens`, `handle.tokens`): a small, stable view of the client's token cache.
 * The cache's 401 plumbing (the replay protocol, the fast path the interceptor takes) stays out of reach, so no call
 * from outside can break the single flight, and a change to that protocol is not a breaking change.
 */
import type { TokenCache } from './token-cache.js';
import type { TokenSet } from './token-set.js';

/**
 * The token manager of one client: one per credential set, shared by every request of the instance.
 *
 * @example
 * const token = await api.tokens.getAccessToken();
 * await api.tokens.refresh(); // force a renewal
 * api.tokens.clear();         // forget the token; the next request makes a new grant
 * await api.tokens.revoke();  // revoke it at the server (RFC 7009), then forget it
 */
export interface TokenManager {
  /** The current token set, if any (it may be expired). Prints redacted. */
  readonly current: TokenSet | undefined;
  /** True while a renewal is in flight. */
  readonly renewing: boolean;
  /** A valid access token, renewing first when needed. Concurrent callers share one renewal. */
  getAccessToken(): Promise<string>;
  /** Forces a renewal now (refresh grant, else password grant), shared with any renewal already in flight. */
  refresh(): Promise<TokenSet>;
  /**
   * Forgets the token and refresh token, here and in the shared store; the next request makes a new grant (with
   * `grant: 'refresh_token'`, fails with a `ConfigurationError`: nothing is left to renew with). With
   * `auth.revokeOnClear`, also revokes them, in the background (failures go to `onError`).
   */
  clear(): void;
  /**
   * Revokes the refresh token, then the access token, at the revocation endpoint (RFC 7009: `auth.revocationUrl`, or
   * the issuer's discovered `revocation_endpoint`), after forgetting both here and in the shared store as `clear()`
   * does. Rejects with the revocation's typed error (`grant: 'revocation'`), the tokens forgotten all the same.
   */
  revoke(): Promise<void>;
  /** Ends the cooldown after a credential failure, e.g. once the account was unlocked; the next request tries again. */
  clearCooldown(): void;
}

/**
 * Where a view finds its cache: `live` the one to act on (an account's is made again after it was dropped), `peek` the
 * one to read, without making one.
 */
export interface CacheLookup {
  live(): TokenCache;
  peek(): TokenCache | undefined;
}

/**
 * The view: a frozen object whose only state is a private lookup of the cache, so `Object.keys` finds nothing and a
 * printer shows `TokenManager {}`.
 */
class TokenManagerView implements TokenManager {
  readonly #lookup: CacheLookup;

  constructor(lookup: CacheLookup) {
    this.#lookup = lookup;
    Object.freeze(this);
  }

  get current(): TokenSet | undefined {
    return this.#lookup.peek()?.current;
  }

  get renewing(): boolean {
    return this.#lookup.peek()?.renewing ?? false;
  }

  getAccessToken(): Promise<string> {
    return this.#lookup.live().getAccessToken();
  }

  refresh(): Promise<TokenSet> {
    return this.#lookup.live().refresh();
  }

  clear(): void {
    this.#lookup.live().clear();
  }

  revoke(): Promise<void> {
    return this.#lookup.live().revoke();
  }

  clearCooldown(): void {
    this.#lookup.live().clearCooldown();
  }
}
Object.defineProperty(TokenManagerView, 'name', { value: 'TokenManager' });
// Frozen too, so code that reaches the prototype (through any client's view) cannot change every client's methods.
Object.freeze(TokenManagerView.prototype);
Object.freeze(TokenManagerView);

/** The public token manager of a cache. */
export function tokenManagerOf(cache: TokenCache): TokenManager {
  return new TokenManagerView({ live: () => cache, peek: () => cache });
}

/** The public token manager of whatever cache `lookup` finds each time (one account's of many). */
export function tokenManagerFor(lookup: CacheLookup): TokenManager {
  return new TokenManagerView(lookup);
}
