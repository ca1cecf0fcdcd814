/**
 * The token caches of a client: one for a single-account client, or one per account, bounded, for a client that acts
 * for many (`auth.account`). A request's cache is looked up once, when its token is attached, and travels with it (its
 * 401 replay goes back to the same cache), so a request for one account never gets another's token, renewal, error or
 * cooldown.
 *
 * Bounded by count and by idleness: at most `maxAccounts` caches live at once, the least recently used dropped first,
 * and one unused for `accountIdleMs` is dropped when the registry is next used. A dropped cache's tokens are forgotten
 * here (a shared store keeps them, so the account's next cache adopts them); a request still in flight with it
 * finishes with it. No timers: an idle registry holds no handle open.
 *
 * Decision: a Map is the LRU (it keeps insertion order; a use moves the entry to the end by delete-and-set), not
 * lru-cache (a runtime dependency for every user, for these few lines) nor quick-lru (holds up to twice its bound).
 */
import { monotonicNow } from './clock.js';
import { ConfigurationError } from './errors.js';
import type { ResolvedAccounts } from './options.js';
import { TokenCache } from './token-cache.js';
import { type TokenManager, tokenManagerFor } from './token-manager.js';

/** Where the interceptors find the cache of a request, by the request's `account` option. */
export interface TokenCaches {
  /** The cache a request with this `account` option uses; throws a ConfigurationError for a request that cannot be served. */
  forRequest(account: unknown): TokenCache;
  /** Every live cache's recent tokens, for redaction. */
  knownSecrets(): readonly string[];
}

/** A single-account client's: the one cache; a request that names an account is refused. */
export function singleCache(cache: TokenCache): TokenCaches {
  return {
    forRequest(account) {
      if (account !== undefined) {
        throw new ConfigurationError('account', 'this client acts for one user (auth.username): a request cannot name an account; create the client with auth.account to act for many');
      }
      return cache;
    },
    knownSecrets: () => cache.knownSecrets(),
  };
}

interface Entry {
  readonly cache: TokenCache;
  lastUsed: number;
}

/** The caches of a multi-account client. */
export class AccountRegistry implements TokenCaches {
  readonly #create: (account: string) => TokenCache;
  readonly #options: ResolvedAccounts;
  readonly #live = new Map<string, Entry>();
  /**
   * The tokens of the caches dropped last (at most maxAccounts of them): the requests, responses and errors that
   * carried them may be printed after the account was dropped, and they are still valid at the server, so they stay
   * redacted. The token strings only, not the caches (a cache is several times their size), except a cache dropped
   * while renewing (by forget()), whose next tokens are not known yet. Bounded, so the heap stays flat.
   */
  #retired: (readonly string[] | TokenCache)[] = [];

  constructor(options: ResolvedAccounts, create: (account: string) => TokenCache) {
    this.#options = options;
    this.#create = create;
  }

  get size(): number {
    this.#expireIdle(monotonicNow());
    return this.#live.size;
  }

  forRequest(account: unknown): TokenCache {
    // Only an absent account falls back to the default: null (a failed tenant look-up, say) is refused below.
    const id = account === undefined ? this.#options.defaultAccount : account;
    if (id === undefined) {
      throw new ConfigurationError('account', 'this client acts for many accounts (auth.account): give the request an `account`, or set auth.defaultAccount');
    }
    if (typeof id !== 'string' || id === '') throw new ConfigurationError('account', 'must be a non-empty string');
    return this.get(id);
  }

  /** The account's cache, made if it has none (no grant until a token is asked for); counts as a use. */
  get(account: string): TokenCache {
    const now = monotonicNow();
    const entry = this.#live.get(account);
    if (entry !== undefined && now - entry.lastUsed < this.#options.idleMs) {
      // Moved to the end: the Map's first entry is always the least recently used.
      this.#live.delete(account);
      entry.lastUsed = now;
      this.#live.set(account, entry);
      return entry.cache;
    }
    if (entry !== undefined) this.#drop(account, entry);
    this.#expireIdle(now);
    const cache = this.#create(account);
    this.#live.set(account, { cache, lastUsed: now });
    while (this.#live.size > this.#options.maxAccounts && this.#dropOldestIdle(account)) {
      // Dropped one; the bound holds once the loop ends, or every entry above it is renewing.
    }
    return cache;
  }

  /** The account's live cache, without making one or counting a use. */
  peek(account: string): TokenCache | undefined {
    const entry = this.#live.get(account);
    return entry !== undefined && monotonicNow() - entry.lastUsed < this.#options.idleMs ? entry.cache : undefined;
  }

  /** True if the account had a live cache (an idle one counts as gone already, as for has()). */
  forget(account: string): boolean {
    const live = this.peek(account) !== undefined;
    const entry = this.#live.get(account);
    if (entry !== undefined) this.#drop(account, entry);
    return live;
  }

  forgetAll(): void {
    for (const [account, entry] of this.#live) this.#drop(account, entry);
  }

  knownSecrets(): readonly string[] {
    const live = [...this.#live.values()].flatMap((entry) => entry.cache.knownSecrets());
    return [...live, ...this.#retired.flatMap((retired) => (retired instanceof TokenCache ? retired.knownSecrets() : retired))];
  }

  /** Drops the idle entries: they are the oldest, so the walk stops at the first one in use. */
  #expireIdle(now: number): void {
    for (const [account, entry] of this.#live) {
      if (now - entry.lastUsed < this.#options.idleMs) return;
      this.#drop(account, entry);
    }
  }

  /**
   * Drops the least recently used entry that is not renewing; false when every one is. An entry dropped while its
   * renewal runs would be made again by the account's next request, with a renewal of its own: more accounts busy at
   * once than maxAccounts would cost a grant per request. So the bound may be exceeded by the renewing ones, for as
   * long as they renew. `keep` is the account being made: its renewal starts when it is returned.
   */
  #dropOldestIdle(keep: string): boolean {
    for (const [account, entry] of this.#live) {
      if (account === keep || entry.cache.renewing) continue;
      this.#drop(account, entry);
      return true;
    }
    return false;
  }

  #drop(account: string, entry: Entry): void {
    this.#live.delete(account);
    this.#retired.push(entry.cache.renewing ? entry.cache : entry.cache.knownSecrets());
    if (this.#retired.length > this.#options.maxAccounts) this.#retired.shift();
  }
}

/**
 * The token managers of a client made with `auth.account`: `api.tokens`.
 *
 * @example
 * await api.tokens.for('customer-42').refresh();
 * api.tokens.forget('customer-42'); // its tokens are forgotten here; its next request makes a grant
 */
export interface AccountTokenManagers {
  /**
   * The token manager of an account. Each call on it acts on the account's live manager, made when needed (so it
   * keeps working after the account was dropped by `maxAccounts` or `accountIdleMs`); `current` and `renewing` read
   * without making one.
   */
  for(account: string): TokenManager;
  /** True when the account has a live token manager. */
  has(account: string): boolean;
  /** How many accounts have a live token manager: at most `maxAccounts`, more only while the excess is renewing. */
  readonly size: number;
  /** Drops the account's token manager: its tokens are forgotten here (not in a shared store). True if it had one. */
  forget(account: string): boolean;
  /** Drops every account's token manager, as `forget` does. */
  forgetAll(): void;
}

/** The view users hold of a registry: frozen, with nothing to enumerate, like the TokenManager view. */
class AccountTokenManagersView implements AccountTokenManagers {
  readonly #registry: AccountRegistry;

  constructor(registry: AccountRegistry) {
    this.#registry = registry;
    Object.freeze(this);
  }

  for(account: string): TokenManager {
    if (typeof account !== 'string' || account === '') throw new ConfigurationError('account', 'must be a non-empty string');
    return accountManager(this.#registry, account);
  }

  has(account: string): boolean {
    return this.#registry.peek(account) !== undefined;
  }

  get size(): number {
    return this.#registry.size;
  }

  forget(account: string): boolean {
    return this.#registry.forget(account);
  }

  forgetAll(): void {
    this.#registry.forgetAll();
  }
}
Object.defineProperty(AccountTokenManagersView, 'name', { value: 'AccountTokenManagers' });
Object.freeze(AccountTokenManagersView.prototype);
Object.freeze(AccountTokenManagersView);

/** The public view of a registry. */
export function accountTokenManagersOf(registry: AccountRegistry): AccountTokenManagers {
  return new AccountTokenManagersView(registry);
}

/** One account's manager: each call finds the account's live cache, so it never acts on a dropped one. */
function accountManager(registry: AccountRegistry, account: string): TokenManager {
  return tokenManagerFor({ live: () => registry.get(account), peek: () => registry.peek(account) });
}
