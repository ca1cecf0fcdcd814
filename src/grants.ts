/**
 * One renewal's worth of talking to the token endpoint: the refresh grant when a refresh token is known, the password
 * grant when none is or the endpoint refused it; each with transient failures retried. No cache, no state.
 */
import { OAuthBearerError, TokenEndpointError } from './errors.js';
import type { TokenSource } from './options.js';
import { isTransient, type RetryEnvironment, type RetryPolicy, withRetry } from './retry.js';
import { createTokenSet, type TokenSet } from './token-set.js';

/** A new token set and the grant that produced it. */
export interface GrantResult {
  readonly tokens: TokenSet;
  readonly source: Exclude<TokenSource, 'store'>;
}

/** The two grants of one renewal, bound to the credentials it fetched. */
export interface GrantCalls {
  password(): Promise<TokenSet>;
  refresh(refreshToken: string): Promise<TokenSet>;
}

/** The retry environment, plus a word when the endpoint refused the refresh token (so the caller can forget it). */
export interface GrantEnvironment extends RetryEnvironment {
  readonly onRefreshRejected: () => void;
}

/**
 * Obtains a new token set, starting from `refreshToken` when there is one. A refresh the endpoint refuses falls back
 * to the password grant (with its retries); a refresh that still fails transiently after its retries escalates to
 * one password grant (see {@link escalate}).
 */
export async function obtainTokens(
  endpoint: GrantCalls,
  refreshToken: string | undefined,
  retry: RetryPolicy,
  env: GrantEnvironment,
): Promise<GrantResult> {
  if (refreshToken !== undefined) {
    try {
      const tokens = await withRetry(() => endpoint.refresh(refreshToken), retry, env);
      // No refresh token in the answer means the old one stays valid (RFC 6749 section 6): keep it.
      const kept = tokens.refreshToken === undefined ? createTokenSet({ ...tokens, refreshToken }) : tokens;
      return { tokens: kept, source: 'refresh_token' };
    } catch (error) {
      if (error instanceof OAuthBearerError && isTransient(error)) return escalate(endpoint, error, retry, env);
      if (!isRejection(error)) throw error;
      env.onRefreshRejected();
    }
  }
  return { tokens: await withRetry(() => endpoint.password(), retry, env), source: 'password' };
}

/**
 * A refresh that kept failing with a 5xx or a network error: one password grant, a single attempt, before the failure
 * reaches the callers. Some servers answer every refresh with 500 after a revocation while the password grant works;
 * without this, every request would fail until a restart. One attempt, not a retried one: the callers have already
 * waited through the refresh's retries, and an endpoint that is down fails this one fast.
 *
 * The refresh token is not touched here: a transient failure says nothing about it, so the caller keeps it, unless
 * the password grant succeeds and its token set replaces the old one.
 *
 * Decision: when the password grant fails too, its error is the one the callers get, because it is the endpoint's
 * last word (a wrong password found here is a credential failure and starts the cooldown). The refresh failure, a
 * library error already redacted and already reported through `onError`, becomes its `cause` when the password
 * grant's error has none of its own (a network error's cause is its socket error, and stays so).
 */
async function escalate(endpoint: GrantCalls, refreshFailure: OAuthBearerError, retry: RetryPolicy, env: GrantEnvironment): Promise<GrantResult> {
  try {
    return { tokens: await withRetry(() => endpoint.password(), { ...retry, attempts: 1 }, env), source: 'password' };
  } catch (error) {
    if (error instanceof OAuthBearerError && error.cause === undefined) {
      // Non-enumerable, as the `cause` the Error constructor installs: JSON.stringify never shows it.
      Object.defineProperty(error, 'cause', { value: refreshFailure, enumerable: false, writable: true, configurable: true });
    }
    throw error;
  }
}

/**
 * The endpoint answered and refused (a 4xx that is not worth retrying, or an unusable body): the refresh token is not
 * worth keeping. Whatever its class (a refused refresh token is an InvalidRequestError, a refused client an
 * InvalidClientError, a 403 without a code a UserAuthenticationError), the status decides: retry.ts's transient ones
 * say nothing about the token, and neither does a redirect.
 */
function isRejection(error: unknown): boolean {
  if (!(error instanceof OAuthBearerError) || isTransient(error)) return false;
  return !(error instanceof TokenEndpointError) || error.status >= 400;
}

