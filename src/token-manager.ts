/**
 * The token cache: proactive renewal before expiry, one renewal in flight at a time (single flight), a cooldown after
 * the endpoint rejected the credentials, and an optional shared store. Knows nothing of axios interceptors.
 *
 * No timers of its own: renewal is started by the requests that need it, so an idle process holds no handle open (a
 * retry's backoff waits on a timer only while that retry is pending).
 */
import pMemoize from 'p-memoize';

import { monotonicDeadline, monotonicNow } from './clock.js';
import { ErrorCode, OAuthBearerError } from './errors.js';
import { type GrantResult, isCredentialFailure, obtainTokens } from './grants.js';
import { defaults, type ResolvedAuthOptions, type TokenSource } from './options.js';
import { retryDefaults, type RetryPolicy } from './retry.js';
import { sharedFailureRemainingMs } from './stores/shared-failure.js';
import { renewShared } from './stores/shared-renewal.js';
import { isLeasingStore, type TokenStore } from './stores/types.js';
import type { TokenEndpoint } from './token-endpoint.js';
import { createTokenSet, type TokenSet } from './token-set.js';

/** What the manager needs from the resolved options; everything past the first three has a default. */
export interface TokenManagerOptions extends Pick<ResolvedAuthOptions, 'refreshMargin' | 'onToken' | 'onError'> {
  readonly retry?: RetryPolicy;
  /** Milliseconds to fail fast after the endpoint rejected the credentials; 0 turns the cooldown off. */
  readonly cooldownMs?: number;
  readonly store?: TokenStore | undefined;
  /** Derives the store key, bound to the full credentials (see storeKey()); required with a store. Asked once. */
  readonly storeKey?: () => Promise<string>;
  /** How long a shared store's renewal lease lasts unless extended. @default defaults.leaseMs */
  readonly leaseMs?: number;
  /** The token request timeout, which bounds how long a process waits for another one's renewal. */
  readonly timeout?: number;
  /** Taken off each lifetime before scheduling (at most a quarter of it). @default defaults.clockSkewMs */
  readonly clockSkewMs?: number;
}

/** The cooldown's default, in milliseconds. */
export const DEFAULT_COOLDOWN_MS = 60_000;

/** The longest a holder may keep the renewal lease, whatever its options: waiters take over after it. */
const MAX_HOLD_MS = 10 * 60_000;

/** How many tokens {@link TokenManager.knownSecrets} remembers: four token sets' worth. */
const RECENT_SECRETS = 8;

/**
 * `renewAt` and `retireAt` are monotonic (see clock.ts), computed once when the token set is kept: a step of the wall
 * clock moves neither. Only `tokens.expiresAt` is epoch milliseconds, for users and stores.
 */
interface CachedToken {
  readonly tokens: TokenSet;
  /** From here on (monotonic), one background renewal starts while the token is still sent. */
  readonly renewAt: number;
  /** From here on (monotonic), the token is no longer sent: requests wait for the new one. */
  readonly retireAt: number;
  /**
   * Set when the resource server first rejected this token with 401 (never send it again), to the renewal count at
   * that moment: only a renewal that failed after it is "the renewal that followed" its 401s.
   */
  rejectedAtSeq: number | undefined;
  /** Where it came from: a token adopted from a shared store was obtained by another process, for all we know before
   * a revocation that this process has not seen yet. */
  readonly source: TokenSource;
  /** True when the token set is (or was) in the shared store: other processes may hold its refresh token too. */
  readonly shared: boolean;
}

/** The outcome of the most recent renewal, numbered so a request can tell whether it happened after it was sent. */
interface Attempt {
  readonly seq: number;
  readonly error: OAuthBearerError | undefined;
}

/**
 * Holds the current token and renews it. One per credential set; shared by every request of an instance.
 *
 * @example
 * const token = await handle.tokens.getAccessToken();
 * await handle.tokens.refresh(); // force a renewal
 * handle.tokens.clear();         // forget the token; the next request makes a password grant
 */
export class TokenManager {
  readonly #endpoint: TokenEndpoint;
  readonly #options: TokenManagerOptions;
  #cached: CachedToken | undefined;
  #lastAttempt: Attempt = { seq: 0, error: undefined };
  /** `until` is monotonic: the cooldown lasts cooldownMs of real time, whatever the wall clock does meanwhile. */
  #cooldown: { readonly error: OAuthBearerError; readonly until: number } | undefined;
  #renewing = 0;
  /** The access and refresh tokens of the last few token sets, so printed objects can be scrubbed of any of them. */
  #recent: readonly string[] = [];
  /** The store key once derived: computed on the first store operation, at most once while it succeeds. */
  #key: Promise<string | undefined> | undefined;
  /** Grows with every clear(): a renewal that started before it must not bring the forgotten tokens back. */
  #generation = 0;
  // p-memoize with no result cache is a single flight: the promise is stored synchronously before any await, shared by
  // every caller while it runs, and dropped when it settles, so a failure is never cached.
  readonly #renew = pMemoize(() => this.#renewOnce(), { cache: false });

  /** @internal Built by attachAuth / createAuthClient. */
  constructor(endpoint: TokenEndpoint, options: TokenManagerOptions) {
    if (options.store !== undefined && options.storeKey === undefined) throw new TypeError('storeKey is required with a store');
    this.#endpoint = endpoint;
    this.#options = options;
  }

  /** The current token set, if any (it may be expired). Prints redacted. */
  get current(): TokenSet | undefined {
    return this.#cached?.tokens;
  }

  /** True while a renewal is in flight. */
  get renewing(): boolean {
    return this.#renewing > 0;
  }

  /** A number that grows with every finished renewal; requests record it to know what happened after they left. */
  get attemptSeq(): number {
    return this.#lastAttempt.seq;
  }

  /**
   * The access token if one may be sent right now, without waiting. Starts a background renewal when the token is
   * inside its refresh margin. The interceptor's fast path: no promise on a warm cache.
   */
  peekAccessToken(): string | undefined {
    const cached = this.#cached;
    if (cached === undefined || cached.rejectedAtSeq !== undefined) return undefined;
    const now = monotonicNow();
    if (now >= cached.retireAt) return undefined;
    if (now >= cached.renewAt && this.#renewing === 0) this.#renewInBackground();
    return cached.tokens.accessToken;
  }

  /**
   * @internal The access and refresh tokens of the current and the last few token sets, for redaction: a request or an
   * echo printed a little later may still carry a token that was replaced meanwhile.
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

  /** Forgets the token and refresh token, here and in the store; the next request makes a password grant. */
  clear(): void {
    this.#cached = undefined;
    this.#generation += 1;
    this.#inStore('delete', (store, key) => store.delete(key));
  }

  /** Ends the cooldown after a credential failure, e.g. once the account was unlocked; the next request tries again. */
  clearCooldown(): void {
    this.#cooldown = undefined;
    this.#inStore('clearFailure', (store, key) => (isLeasingStore(store) ? store.clearFailure(key) : undefined));
  }

  /** Runs a store operation in the background (when there is a store); a failure is reported, never thrown. */
  #inStore(operation: string, run: (store: TokenStore, key: string) => unknown): void {
    const { store } = this.#options;
    if (store === undefined) return;
    this.#storeKey()
      .then((key) => (key === undefined ? undefined : run(store, key)))
      .catch(() => this.#report(new OAuthBearerError(ErrorCode.TOKEN_STORE, `token store ${operation} failed`)));
  }

  /** The store key, derived once; undefined (reported) when the derivation failed, so the process goes on alone. */
  #storeKey(): Promise<string | undefined> {
    const derive = this.#options.storeKey;
    if (derive === undefined) return Promise.resolve(undefined);
    this.#key ??= Promise.resolve()
      .then(derive)
      .catch((error: unknown) => {
        this.#key = undefined; // not cached: the next store operation tries again
        this.#report(new OAuthBearerError(ErrorCode.TOKEN_STORE, `token store key could not be derived (${describe(error)}); continuing without the store`));
        return undefined;
      });
    return this.#key;
  }

  /**
   * Called after the resource server answered 401 to a request sent with `rejectedToken` when the renewal count was
   * `sentAtSeq`. Resolves when a token newer than the rejected one is available; makes no grant when one already is.
   * Rejects with the renewal's error when the renewal that followed the token's first rejection failed: a 401 storm
   * shares one failed renewal instead of starting another, while a renewal that failed before the token was first
   * refused (a background one, say) does not count.
   */
  async renewAfterRejection(rejectedToken: string | undefined, sentAtSeq: number): Promise<void> {
    const cached = this.#cached;
    const isCurrent = cached !== undefined && cached.tokens.accessToken === rejectedToken;
    if (isCurrent) cached.rejectedAtSeq ??= this.#lastAttempt.seq;
    if (this.peekAccessToken() !== undefined) return; // already replaced by a newer, unrejected token
    const failure = this.failureSince(isCurrent ? (cached.rejectedAtSeq ?? sentAtSeq) : sentAtSeq);
    if (failure !== undefined) throw failure;
    await this.#renew();
  }

  /**
   * True when `token` is the current token and was adopted from the shared store. A replay refused with such a token
   * gets one more renewal: the store may have handed over a token that a later revocation had killed, and this
   * process could not have known.
   */
  adoptedFromStore(token: string | undefined): boolean {
    const cached = this.#cached;
    return cached?.source === 'store' && cached.tokens.accessToken === token;
  }

  /**
   * True when a newer, unrejected token has replaced `token`: a replay refused with it may have been refused only
   * because a renewal that rotated (and revoked) it happened while the replay was in flight.
   */
  supersedes(token: string | undefined): boolean {
    const cached = this.#cached;
    return token !== undefined && cached !== undefined && cached.rejectedAtSeq === undefined && cached.tokens.accessToken !== token;
  }

  /** The error of the latest renewal if it failed after `seq`; undefined otherwise. */
  failureSince(seq: number): OAuthBearerError | undefined {
    return this.#lastAttempt.seq > seq ? this.#lastAttempt.error : undefined;
  }

  #renewInBackground(): void {
    // Failures are reported through onError; the next request that needs a token tries again.
    this.#renew().catch(() => undefined);
  }

  async #renewOnce(): Promise<TokenSet> {
    const cooldown = this.#cooldown;
    // Within the cooldown, fail fast with the error that started it: the same credentials would be refused again.
    if (cooldown !== undefined && monotonicNow() < cooldown.until) throw cooldown.error;
    this.#renewing += 1;
    const generation = this.#generation;
    try {
      const { tokens, source, shared } = await this.#obtain(generation);
      // Its callers still get the token they waited for; the cache stays empty if clear() ran meanwhile.
      if (generation === this.#generation) this.#keep(tokens, source, shared);
      this.#lastAttempt = { seq: this.#lastAttempt.seq + 1, error: undefined };
      return tokens;
    } catch (error) {
      const typed = toTyped(error);
      // Library errors were reported where they happened; anything else is a bug, reported here once.
      if (typed !== error) this.#report(typed);
      this.#lastAttempt = { seq: this.#lastAttempt.seq + 1, error: typed };
      const cooldownMs = this.#options.cooldownMs ?? DEFAULT_COOLDOWN_MS;
      // A failure another process recorded ends when its record does, not a full cooldown after this process read it.
      const cooldownLeft = Math.min(cooldownMs, sharedFailureRemainingMs(typed) ?? cooldownMs);
      if (isCredentialFailure(typed) && cooldownLeft > 0) this.#cooldown = { error: typed, until: monotonicNow() + cooldownLeft };
      throw typed;
    } finally {
      this.#renewing -= 1;
    }
  }

  /** A new token set: from the shared store when it has a better one, else from the token endpoint. */
  async #obtain(generation: number): Promise<{ tokens: TokenSet; source: TokenSource; shared: boolean }> {
    const { store } = this.#options;
    const key = store === undefined ? undefined : await this.#storeKey();
    const cached = this.#cached;
    const localRefreshToken = cached?.tokens.refreshToken;
    if (store === undefined || key === undefined) return { ...(await this.#grant(localRefreshToken)), shared: false };
    let source: TokenSource = 'store';
    const leaseMs = this.#options.leaseMs ?? defaults.leaseMs;
    const retry = this.#options.retry ?? retryDefaults;
    const result = await renewShared({
      store,
      key,
      localRefreshToken,
      localRefreshIsShared: cached?.shared === true,
      leaseMs,
      // A grant ends within its retry budget plus a timeout, twice over when a refused refresh token falls back to the
      // password grant: this process's budget as a holder (the waiters are told it through the lease).
      maxWaitMs: Math.min(MAX_HOLD_MS, 2 * (retry.maxElapsedMs + (this.#options.timeout ?? defaults.timeout)) + 2 * leaseMs),
      isCurrent: () => generation === this.#generation,
      cooldownMs: this.#options.cooldownMs ?? DEFAULT_COOLDOWN_MS,
      isUsable: (tokens) => this.#isBetter(tokens),
      grant: async (refreshToken) => {
        const granted = await this.#grant(refreshToken);
        source = granted.source;
        return granted.tokens;
      },
      report: (error) => this.#report(error),
    });
    return { tokens: result.tokens, source: result.fromStore ? 'store' : source, shared: result.shared };
  }

  #grant(refreshToken: string | undefined): Promise<GrantResult> {
    return obtainTokens(this.#endpoint, refreshToken, this.#options.retry ?? retryDefaults, {
      random: Math.random,
      onFailure: (error) => this.#report(error),
      onRefreshRejected: () => this.#dropRefreshToken(refreshToken),
    });
  }

  /** The endpoint refused this refresh token: forget it, so a renewal after a failed fallback does not resend it. */
  #dropRefreshToken(refreshToken: string | undefined): void {
    const cached = this.#cached;
    if (cached === undefined || cached.tokens.refreshToken !== refreshToken) return;
    this.#cached = { ...cached, tokens: createTokenSet({ ...cached.tokens, refreshToken: undefined }) };
  }

  /**
   * A stored token is worth adopting when it is not the one we are replacing, was not rejected, and is not retiring
   * (against a schedule computed now, as #keep would compute it).
   */
  #isBetter(tokens: TokenSet): boolean {
    const cached = this.#cached;
    if (cached?.tokens.accessToken === tokens.accessToken) return false;
    // An older token than ours (a process that could not write while the store was away comes back to an entry it
    // has since replaced) is no better, however long it has left: it may be the one whose revocation we just met.
    if (cached !== undefined && tokens.expiresAt < cached.tokens.expiresAt) return false;
    return monotonicNow() < this.#schedule(tokens).retireAt;
  }

  /**
   * The token set's renewal and retirement instants on the monotonic clock. The wall clock is read once, here, to learn
   * how long the token has left (`expiresAt` is epoch ms); from then on a wall-clock step changes nothing.
   */
  #schedule(tokens: TokenSet): { renewAt: number; retireAt: number } {
    // The expiry first, then now: what remains can only come out a hair short, never long.
    const expiry = monotonicDeadline(tokens.expiresAt);
    const now = monotonicNow();
    const remaining = Math.max(0, expiry - now);
    // A server that truncates `iat` to whole seconds ends a token up to a second before `expires_in` says: schedule
    // against an expiry that is a little earlier, never by more than a quarter (a 1-second token keeps 750 ms).
    const expiresAt = expiry - Math.min(this.#options.clockSkewMs ?? defaults.clockSkewMs, remaining / 4);
    const lifetime = Math.max(0, expiresAt - now);
    const margin = Math.min(Math.max(0, this.#options.refreshMargin(lifetime)), lifetime);
    return { renewAt: expiresAt - margin, retireAt: expiresAt - margin / 2 };
  }

  #keep(tokens: TokenSet, source: TokenSource, shared: boolean): void {
    this.#cached = { tokens, ...this.#schedule(tokens), rejectedAtSeq: undefined, source, shared };
    const fresh = [tokens.accessToken, ...(tokens.refreshToken === undefined ? [] : [tokens.refreshToken])];
    this.#recent = [...fresh, ...this.#recent.filter((secret) => !fresh.includes(secret))].slice(0, RECENT_SECRETS);
    const { onToken } = this.#options;
    if (onToken === undefined) return;
    try {
      onToken({ tokens, source });
    } catch (error) {
      // A failing hook must not fail the request that brought the token; it is reported instead.
      this.#report(new OAuthBearerError(ErrorCode.HOOK, `onToken threw: ${describe(error)}`));
    }
  }

  #report(error: OAuthBearerError): void {
    try {
      this.#options.onError?.(error);
    } catch {
      // An error callback that throws has nowhere left to report to; the library's own flow goes on.
    }
  }
}

function toTyped(error: unknown): OAuthBearerError {
  if (error instanceof OAuthBearerError) return error;
  // Only this library's own code runs in a renewal, so this is a bug; keep the error's name, never the object.
  return new OAuthBearerError(ErrorCode.TOKEN_ENDPOINT, `unexpected failure while renewing the token: ${describe(error)}`);
}

function describe(error: unknown): string {
  return error instanceof Error ? error.name : typeof error;
}
