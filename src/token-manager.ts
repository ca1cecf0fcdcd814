/**
 * The token cache: proactive renewal before expiry, one renewal in flight at a time (single flight), refresh grant
 * first and password grant as the fallback. Knows nothing of axios interceptors; they ask it for tokens.
 *
 * No timers: renewal is started by the requests that need it, so an idle process holds no handle open and exits.
 */
import pMemoize from 'p-memoize';

import { OAuthBearerError, TokenEndpointError, TokenNetworkError } from './errors.js';
import type { ResolvedAuthOptions, TokenSource } from './options.js';
import type { TokenEndpoint } from './token-endpoint.js';
import { createTokenSet, type TokenSet } from './token-set.js';

/** What the manager needs from the resolved options. */
export type TokenManagerOptions = Pick<ResolvedAuthOptions, 'refreshMargin' | 'onToken' | 'onError'>;

interface CachedToken {
  readonly tokens: TokenSet;
  /** From here on, one background renewal starts while the token is still sent. */
  readonly renewAt: number;
  /** From here on, the token is no longer sent: requests wait for the new one. */
  readonly retireAt: number;
  /** Set when the resource server rejected this token with 401: never send it again. */
  rejected: boolean;
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
  // p-memoize with no result cache is a single flight: the promise is stored synchronously before any await, shared by
  // every caller while it runs, and dropped when it settles, so a failure is never cached.
  readonly #renew = pMemoize(() => this.#renewOnce(), { cache: false });

  /** @internal Built by attachAuth / createAuthClient. */
  constructor(endpoint: TokenEndpoint, options: TokenManagerOptions) {
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

  #renewing = 0;

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
    if (cached === undefined || cached.rejected) return undefined;
    const now = Date.now();
    if (now >= cached.retireAt) return undefined;
    if (now >= cached.renewAt && this.#renewing === 0) this.#renewInBackground();
    return cached.tokens.accessToken;
  }

  /** A valid access token, renewing first when needed. Concurrent callers share one renewal. */
  async getAccessToken(): Promise<string> {
    return this.peekAccessToken() ?? (await this.#renew()).accessToken;
  }

  /** Forces a renewal now (refresh grant, else password grant), shared with any renewal already in flight. */
  refresh(): Promise<TokenSet> {
    return this.#renew();
  }

  /** Forgets the token and refresh token; the next request makes a password grant. */
  clear(): void {
    this.#cached = undefined;
  }

  /**
   * Called after the resource server answered 401 to a request sent with `rejectedToken` when the renewal count was
   * `sentAtSeq`. Resolves when a token newer than the rejected one is available; makes no grant when one already is.
   * Rejects with the renewal's error when the renewal that followed the request failed (no second attempt for it).
   */
  async renewAfterRejection(rejectedToken: string | undefined, sentAtSeq: number): Promise<void> {
    const cached = this.#cached;
    if (cached !== undefined && cached.tokens.accessToken === rejectedToken) cached.rejected = true;
    if (this.peekAccessToken() !== undefined) return; // already replaced by a newer, unrejected token
    const failure = this.failureSince(sentAtSeq);
    if (failure !== undefined) throw failure;
    await this.#renew();
  }

  /** The error of the latest renewal if it failed after `seq`; undefined otherwise. */
  failureSince(seq: number): OAuthBearerError | undefined {
    return this.#lastAttempt.seq > seq ? this.#lastAttempt.error : undefined;
  }

  #renewInBackground(): void {
    // Failures are reported through onError inside #renewOnce; the next request that needs a token tries again.
    this.#renew().catch(() => undefined);
  }

  async #renewOnce(): Promise<TokenSet> {
    this.#renewing += 1;
    try {
      const { tokens, source } = await this.#grant();
      this.#store(tokens, source);
      this.#lastAttempt = { seq: this.#lastAttempt.seq + 1, error: undefined };
      return tokens;
    } catch (error) {
      const typed = toTyped(error);
      this.#lastAttempt = { seq: this.#lastAttempt.seq + 1, error: typed };
      this.#report(typed);
      throw typed;
    } finally {
      this.#renewing -= 1;
    }
  }

  /** Refresh grant when there is a refresh token; the password grant when there is none or the endpoint refused it. */
  async #grant(): Promise<{ tokens: TokenSet; source: TokenSource }> {
    const refreshToken = this.#cached?.tokens.refreshToken;
    if (refreshToken !== undefined) {
      try {
        const tokens = await this.#endpoint.refreshGrant(refreshToken);
        // No refresh token in the answer means the old one stays valid (RFC 6749 section 6): keep it.
        const kept = tokens.refreshToken === undefined ? createTokenSet({ ...tokens, refreshToken }) : tokens;
        return { tokens: kept, source: 'refresh_token' };
      } catch (error) {
        // A network failure or 5xx says nothing about the refresh token: keep it and let the caller see the error.
        if (!isRejection(error)) throw error;
        this.#report(toTyped(error));
      }
    }
    return { tokens: await this.#endpoint.passwordGrant(), source: 'password' };
  }

  #store(tokens: TokenSet, source: TokenSource): void {
    const now = Date.now();
    const lifetime = Math.max(0, tokens.expiresAt - now);
    const margin = Math.min(Math.max(0, this.#options.refreshMargin(lifetime)), lifetime);
    this.#cached = { tokens, renewAt: tokens.expiresAt - margin, retireAt: tokens.expiresAt - margin / 2, rejected: false };
    const { onToken } = this.#options;
    if (onToken === undefined) return;
    try {
      onToken({ tokens, source });
    } catch (error) {
      // A failing hook must not fail the request that brought the token; it is reported instead.
      this.#report(new OAuthBearerError('ERR_OAUTH_CONFIGURATION', `onToken threw: ${describeHookError(error)}`));
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

/** The endpoint answered and refused the refresh (4xx or an unusable body): the refresh token is not worth keeping. */
function isRejection(error: unknown): boolean {
  if (error instanceof TokenNetworkError) return false;
  if (error instanceof TokenEndpointError) return error.status >= 400 && error.status < 500;
  return error instanceof OAuthBearerError;
}

function toTyped(error: unknown): OAuthBearerError {
  if (error instanceof OAuthBearerError) return error;
  // Only this library's own code runs in a grant, so this is a bug; keep the message, never the object.
  return new OAuthBearerError('ERR_OAUTH_TOKEN_ENDPOINT', `unexpected failure while renewing the token: ${describeHookError(error)}`);
}

function describeHookError(error: unknown): string {
  return error instanceof Error ? error.name : typeof error;
}
