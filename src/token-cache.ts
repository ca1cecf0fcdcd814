/**
 * The token cache: proactive renewal before expiry, one renewal in flight at a time (single flight), and the parts
 * it composes: the cooldown after a credential failure (cooldown.ts), the schedule of each token set
 * (token-schedule.ts), a shared store (store-link.ts) and the 401 replay protocol (replay-protocol.ts). Knows nothing
 * of axios interceptors. Internal: users get the {@link TokenManager} view of it.
 *
 * No timers of its own: renewal is started by the requests that need it, so an idle process holds no handle open (a
 * retry's backoff waits on a timer only while that retry is pending).
 */
import pMemoize from 'p-memoize';

import { monotonicNow } from './clock.js';
import { Cooldown } from './cooldown.js';
import { publishError, publishRenewal, summarize } from './diagnostics.js';
import { credentialTag, type CredentialSource, type GrantCredentials } from './credentials.js';
import { ConfigurationError, ErrorCode, InvalidRequestError, OAuthBearerError, RefreshTokenRejectedError } from './errors.js';
import { type GrantCalls, type GrantResult, type InitialSource, obtainTokens } from './grants.js';
import type { ResolvedAuthOptions, ResolvedGrant, TokenSource } from './options.js';
import { withRetry } from './retry.js';
import { ReplayProtocol } from './replay-protocol.js';
import { StoreLink, type StoreKeyOf } from './store-link.js';
import { isLeasingStore } from './stores/types.js';
import type { ClientTokenEndpoint } from './token-endpoint.js';
import { cacheEntry, type CachedToken, isWorthAdopting, sendable } from './token-schedule.js';
import { createTokenSet, type TokenSet } from './token-set.js';

/** The resolved options the cache runs on (every one has its default already: see options.ts `defaults`). */
export interface TokenCacheOptions
  extends Pick<ResolvedAuthOptions, 'refreshMargin' | 'clockSkewMs' | 'retry' | 'cooldownMs' | 'store' | 'leaseMs' | 'timeout' | 'onToken' | 'onError'> {
  /**
   * Derives the store key of a renewal's credentials, bound to all of them (see storeKey()); required with a store.
   * Asked again only when the credentials change.
   */
  readonly storeKey?: StoreKeyOf | undefined;
  /**
   * Fetches the credentials at the start of each renewal (a function password, an account's provider); absent, the
   * endpoint grants with the options' own, fixed ones.
   */
  readonly credentials?: CredentialSource | undefined;
  /** The account this cache acts for, on a multi-account client: named in its hooks' events. */
  readonly account?: string | undefined;
  /** The configured grant. @default { type: 'password' } */
  readonly grant?: ResolvedGrant | undefined;
  /** Whether clear() revokes what it forgets (`auth.revokeOnClear`). @default false */
  readonly revokeOnClear?: boolean | undefined;
}

/** The grants a cache calls; the credentials are the renewal's (undefined: the endpoint's own). */
export type GrantEndpoint = Pick<ClientTokenEndpoint, 'grant' | 'refreshGrant' | 'revoke'>;

/** How many tokens {@link TokenCache.knownSecrets} remembers: four token sets' worth. */
const RECENT_SECRETS = 8;

/** Holds the current token and renews it. One per credential set; shared by every request of an instance. */
export class TokenCache {
  readonly #endpoint: GrantEndpoint;
  readonly #options: TokenCacheOptions;
  readonly #cooldown: Cooldown;
  readonly #store: StoreLink | undefined;
  /** The interceptors' side: renewal numbering, and the answers a refused request needs. */
  readonly replay: ReplayProtocol;
  #cached: CachedToken | undefined;
  /**
   * The tag (credentials.ts) of the credentials the cached token set was obtained with. A renewal with others (a
   * rotated password, an account whose vault entry now names another user) must not refresh with the old identity's
   * refresh token: the token it got would be kept, and stored under the new credentials' key, as theirs.
   */
  #cachedTag = '';
  #renewing = 0;
  /** The access and refresh tokens of the last few token sets, so printed objects can be scrubbed of any of them. */
  #recent: readonly string[] = [];
  /** Grows with every clear(): a renewal that started before it must not bring the forgotten tokens back. */
  #generation = 0;
  /**
   * With `grant: 'refresh_token'`: the refresh token given in the options, until a token set replaces it, or until it
   * is refused or forgotten; then `#lost` says why there is nothing left to renew with.
   */
  #seed: string | undefined;
  #lost: OAuthBearerError | undefined;
  // p-memoize with no result cache is a single flight: the promise is stored synchronously before any await, shared by
  // every caller while it runs, and dropped when it settles, so a failure is never cached.
  readonly #renew = pMemoize(() => this.#renewOnce(), { cache: false });

  constructor(endpoint: GrantEndpoint, options: TokenCacheOptions) {
    this.#endpoint = endpoint;
    // A copy, frozen: nothing the caller (or a hook) does to its object afterwards changes how this cache renews.
    this.#options = Object.freeze({ ...options });
    this.#cooldown = new Cooldown(options.cooldownMs);
    this.#seed = options.grant?.type === 'refresh_token' ? options.grant.refreshToken : undefined;
    this.#store = storeLinkFor(options, (error) => this.#report(error));
    this.replay = new ReplayProtocol({ cached: () => this.#cached, peek: () => this.peekAccessToken(), renew: () => this.#renew() });
  }

  /** The current token set, if any (it may be expired). Prints redacted. */
  get current(): TokenSet | undefined {
    return this.#cached?.tokens;
  }

  /** True while a renewal is in flight. */
  get renewing(): boolean {
    return this.#renewing > 0;
  }

  /**
   * The access token if one may be sent right now, without waiting. Starts a background renewal when the token is
   * inside its refresh margin. The interceptor's fast path: no promise on a warm cache.
   */
  peekAccessToken(): string | undefined {
    const cached = this.#cached;
    const now = monotonicNow();
    const token = sendable(cached, now);
    if (token !== undefined && cached !== undefined && now >= cached.renewAt && this.#renewing === 0) this.#renewInBackground();
    return token;
  }

  /**
   * The access and refresh tokens of the current and the last few token sets, for redaction: a request or an echo
   * printed a little later may still carry a token that was replaced meanwhile.
   */
  knownSecrets(): readonly string[] {
    return this.#recent;
  }

  /** A valid access token, renewing first when needed. Concurrent callers share one renewal. */
  async getAccessToken(): Promise<string> {
    return this.peekAccessToken() ?? (await this.#renew()).accessToken;
  }

  /** Forces a renewal now (refresh grant, else password grant), shared with any renewal already in flight. */
  refresh(): Promise<TokenSet> {
    return this.#renew();
  }

  /**
   * Forgets the token and refresh token, here and in the store; the next request makes a new grant (with
   * `grant: 'refresh_token'`, fails: nothing is left to renew with). With `revokeOnClear`, revokes them in the
   * background.
   */
  clear(): void {
    const forgotten = this.#forget();
    if (this.#options.revokeOnClear === true) {
      // Failures were reported to onError where they happened; clear() itself cannot fail.
      this.#revokeAll([forgotten]).catch(() => undefined);
    }
  }

  /**
   * Revokes the refresh token and then the access token (RFC 7009), after forgetting both here and in the store, so no
   * request sends a token while it is revoked. Decision: forgotten first, whatever the revocation's outcome: a caller
   * who logs out must not keep using the tokens because the revocation endpoint was down; the error says so. A renewal
   * in flight is waited for and its new tokens revoked too: a logout must not leave a live refresh token nobody holds.
   */
  async revoke(): Promise<void> {
    const inFlight = this.#renewing > 0 ? this.#renew().catch(() => undefined) : undefined;
    const held = this.#forget();
    const late = await inFlight;
    await this.#revokeAll([held, ...(late === undefined ? [] : [{ accessToken: late.accessToken, refreshToken: late.refreshToken }])]);
  }

  /** clear()'s work: the tokens it forgot (access and refresh), for a revocation. */
  #forget(): { readonly accessToken: string | undefined; readonly refreshToken: string | undefined } {
    const tokens = this.#cached?.tokens;
    const forgotten = { accessToken: tokens?.accessToken, refreshToken: tokens?.refreshToken ?? this.#seed };
    this.#cached = undefined;
    this.#generation += 1;
    if (this.#options.grant?.type === 'refresh_token') {
      this.#seed = undefined;
      this.#lost = new ConfigurationError(
        'auth.refreshToken',
        'was forgotten (tokens.clear() or tokens.revoke()), and there is no other grant: make a client with a new refresh token',
      );
    }
    this.#store?.background('delete', (store, key) => store.delete(key));
    return forgotten;
  }

  /**
   * Revokes every refresh token, then every access token, of these token sets (each once). Each is tried whatever
   * happened to the others: a failed refresh-token revocation must not leave the access token live unasked. The first
   * failure is thrown once all were tried.
   */
  async #revokeAll(sets: readonly { readonly accessToken: string | undefined; readonly refreshToken: string | undefined }[]): Promise<void> {
    const fetch = this.#options.credentials;
    const credentials = fetch === undefined ? undefined : await this.#fetchCredentials(fetch);
    const revokeOne = async (token: string, hint: 'access_token' | 'refresh_token'): Promise<void> => {
      try {
        await withRetry(() => this.#endpoint.revoke(token, hint, credentials), this.#options.retry, { random: Math.random, onFailure: (error) => this.#report(error) });
      } catch (error) {
        // RFC 7009 section 2.2.1: a server that cannot revoke access tokens (self-contained JWTs) says so; not a failure.
        if (hint === 'access_token' && error instanceof InvalidRequestError && error.error === 'unsupported_token_type') return;
        throw error;
      }
    };
    const unique = (tokens: readonly (string | undefined)[]): string[] => [...new Set(tokens.filter((token): token is string => token !== undefined))];
    // The refresh tokens first: RFC 7009 section 2.1 lets a server revoke their access tokens with them.
    const outcomes: PromiseSettledResult<void>[] = [];
    for (const token of unique(sets.map((set) => set.refreshToken))) outcomes.push(...(await Promise.allSettled([revokeOne(token, 'refresh_token')])));
    for (const token of unique(sets.map((set) => set.accessToken))) outcomes.push(...(await Promise.allSettled([revokeOne(token, 'access_token')])));
    const failed = outcomes.find((outcome): outcome is PromiseRejectedResult => outcome.status === 'rejected');
    if (failed !== undefined) throw failed.reason;
  }

  /** Ends the cooldown after a credential failure, e.g. once the account was unlocked; the next request tries again. */
  clearCooldown(): void {
    this.#cooldown.clear();
    if (this.#store?.leasing === true) this.#store.background('clearFailure', (store, key) => (isLeasingStore(store) ? store.clearFailure(key) : undefined));
  }

  #renewInBackground(): void {
    // Failures are reported through onError; the next request that needs a token tries again.
    this.#renew().catch(() => undefined);
  }

  async #renewOnce(): Promise<TokenSet> {
    // A refresh token obtained elsewhere that the endpoint refused is final: not after the cooldown, not from the store
    // (whose entry may still hold it, in this process's view or another's), so it is never sent again.
    if (this.#lost instanceof RefreshTokenRejectedError) throw this.#lost;
    // Within the cooldown, fail fast with the error that started it: the same credentials would be refused again.
    const cooling = this.#cooldown.active();
    if (cooling !== undefined) throw cooling;
    this.#renewing += 1;
    const generation = this.#generation;
    const started = monotonicNow();
    try {
      const { tokens, source, shared, tag } = await this.#obtain(generation);
      publishRenewal(() => ({ outcome: 'success', source, durationMs: monotonicNow() - started }));
      // Its callers still get the token they waited for; the cache stays empty if clear() ran meanwhile.
      if (generation === this.#generation) {
        this.#keep(tokens, source, shared);
        this.#cachedTag = tag;
      }
      this.replay.recordRenewal(undefined);
      return tokens;
    } catch (error) {
      const typed = toTyped(error);
      // Library errors were reported where they happened; anything else is a bug, reported here once.
      if (typed !== error) this.#report(typed);
      publishRenewal(() => ({ outcome: 'failure', durationMs: monotonicNow() - started, error: summarize(typed) }));
      this.replay.recordRenewal(typed);
      const final = typed instanceof RefreshTokenRejectedError && generation === this.#generation;
      // A refused refresh token with nothing to fall back on is final (`#lost`), not a cooldown: a cooldown's error,
      // event and metric would promise a retry at its end that never comes.
      if (!final) this.#cooldown.afterFailure(typed);
      if (final) {
        this.#lost = typed;
        // The entry holds the refused token: other processes sharing it must not send it either.
        this.#store?.background('delete', (store, key) => store.delete(key));
      }
      throw typed;
    } finally {
      this.#renewing -= 1;
    }
  }

  /** The renewal's credentials, fetched now (never kept past it). */
  async #fetchCredentials(source: CredentialSource): Promise<GrantCredentials> {
    try {
      return await source();
    } catch (error) {
      // A CredentialError (credentials.ts): reported here, where it happened, like a failed grant.
      if (error instanceof OAuthBearerError) this.#report(error);
      throw error;
    }
  }

  /** A new token set: from the shared store when it has a better one, else from the token endpoint. */
  async #obtain(generation: number): Promise<{ tokens: TokenSet; source: TokenSource; shared: boolean; tag: string }> {
    // Fixed credentials (no source) cost no await: the grant starts in the same tick as the renewal.
    const fetch = this.#options.credentials;
    const credentials = fetch === undefined ? undefined : await this.#fetchCredentials(fetch);
    const calls = grantCalls(this.#endpoint, credentials, this.#options.grant ?? { type: 'password' });
    const link = this.#store;
    const key = link === undefined ? undefined : await link.key(credentials);
    const tag = credentialTag(credentials);
    // Only with the credentials it was obtained with (see #cachedTag); with others, the password grant decides.
    const cached = this.#cachedTag === tag ? this.#cached : undefined;
    const localRefreshToken = cached?.tokens.refreshToken ?? this.#seed;
    if (link === undefined || key === undefined) return { ...(await this.#grant(calls, localRefreshToken)), shared: false, tag };
    let source: TokenSource = 'store';
    const result = await link.renew(key, {
      localRefreshToken,
      localRefreshIsShared: cached?.shared === true,
      isCurrent: () => generation === this.#generation,
      isUsable: (tokens) => isWorthAdopting(this.#cachedTag === tag ? this.#cached : undefined, tokens, this.#options),
      grant: async (refreshToken) => {
        const granted = await this.#grant(calls, refreshToken);
        source = granted.source;
        return granted.tokens;
      },
    });
    return { tokens: result.tokens, source: result.fromStore ? 'store' : source, shared: result.shared, tag };
  }

  #grant(calls: GrantCalls, refreshToken: string | undefined): Promise<GrantResult> {
    return obtainTokens(calls, refreshToken, this.#options.retry, {
      random: Math.random,
      onFailure: (error) => this.#report(error),
      onRefreshRejected: () => this.#dropRefreshToken(refreshToken),
      nothingToRenewWith: () => this.#lost ?? new ConfigurationError('auth.refreshToken', 'is used up and there is no other grant: make a client with a new refresh token'),
    });
  }

  /** The endpoint refused this refresh token: forget it, so a renewal after a failed fallback does not resend it. */
  #dropRefreshToken(refreshToken: string | undefined): void {
    if (refreshToken !== undefined && refreshToken === this.#seed) this.#seed = undefined;
    const cached = this.#cached;
    if (cached === undefined || cached.tokens.refreshToken !== refreshToken) return;
    this.#cached = { ...cached, tokens: createTokenSet({ ...cached.tokens, refreshToken: undefined }) };
  }

  #keep(tokens: TokenSet, source: TokenSource, shared: boolean): void {
    this.#cached = cacheEntry(tokens, source, shared, this.#options);
    // A token set replaces the given refresh token: a rotated one is in it, or the old one was kept (grants.ts).
    if (tokens.refreshToken !== undefined) this.#seed = undefined;
    this.#lost = undefined;
    const fresh = [tokens.accessToken, ...(tokens.refreshToken === undefined ? [] : [tokens.refreshToken])];
    this.#recent = [...fresh, ...this.#recent.filter((secret) => !fresh.includes(secret))].slice(0, RECENT_SECRETS);
    const { onToken } = this.#options;
    if (onToken === undefined) return;
    try {
      const { account } = this.#options;
      onToken(account === undefined ? { tokens, source } : { tokens, source, account });
    } catch (error) {
      // A failing hook must not fail the request that brought the token; it is reported instead.
      this.#report(new OAuthBearerError(ErrorCode.HOOK, `onToken threw: ${describe(error)}`));
    }
  }

  #report(error: OAuthBearerError): void {
    // Called as a plain function: a `function` hook must not get the options (credentials included) as `this`.
    const { onError, account } = this.#options;
    publishError(error);
    try {
      // The account only where there are many: a single-account client's hook is called as it always was.
      if (account === undefined) onError?.(error);
      else onError?.(error, { account });
    } catch {
      // An error callback that throws has nowhere left to report to; the library's own flow goes on.
    }
  }
}

/**
 * The endpoint's grants with the renewal's credentials (or with the endpoint's own when it fetched none): the
 * configured grant, named as token events name it, and the refresh. A refresh token obtained elsewhere has no
 * configured grant to fall back on.
 */
function grantCalls(endpoint: GrantEndpoint, credentials: GrantCredentials | undefined, grant: ResolvedGrant): GrantCalls {
  const source: InitialSource | undefined = grant.type === 'refresh_token' ? undefined : grant.type;
  // Without fetched credentials, called without the argument: the endpoint then grants with its own.
  const call = (): Promise<TokenSet> => (credentials === undefined ? endpoint.grant() : endpoint.grant(credentials));
  return {
    initial: source === undefined ? undefined : { source, call },
    refresh: (refreshToken) => (credentials === undefined ? endpoint.refreshGrant(refreshToken) : endpoint.refreshGrant(refreshToken, credentials)),
  };
}

function storeLinkFor(options: TokenCacheOptions, report: (error: OAuthBearerError) => void): StoreLink | undefined {
  const { store, storeKey } = options;
  if (store === undefined) return undefined;
  if (storeKey === undefined) throw new TypeError('storeKey is required with a store');
  const { leaseMs, cooldownMs, timeout, credentials } = options;
  return new StoreLink(store, storeKey, { leaseMs, cooldownMs, timeout, maxElapsedMs: options.retry.maxElapsedMs, report, credentials });
}

function toTyped(error: unknown): OAuthBearerError {
  if (error instanceof OAuthBearerError) return error;
  // Only this library's own code runs in a renewal, so this is a bug; keep the error's name, never the object.
  return new OAuthBearerError(ErrorCode.TOKEN_ENDPOINT, `unexpected failure while renewing the token: ${describe(error)}`);
}

function describe(error: unknown): string {
  return error instanceof Error ? error.name : typeof error;
}
