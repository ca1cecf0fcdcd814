/**
 * One renewal's worth of talking to the token endpoint: the refresh grant when a refresh token is known, the password
 * grant when none is or the endpoint refused it; each with transient failures retried. No cache, no state.
 */
import { OAuthBearerError, TokenEndpointError } from './errors.js';
import type { TokenSource } from './options.js';
import { isTransient, type RetryEnvironment, type RetryPolicy, withRetry } from './retry.js';
import type { TokenEndpoint } from './token-endpoint.js';
import { createTokenSet, type TokenSet } from './token-set.js';

/** A new token set and the grant that produced it. */
export interface GrantResult {
  readonly tokens: TokenSet;
  readonly source: Exclude<TokenSource, 'store'>;
}

/** The retry environment, plus a word when the endpoint refused the refresh token (so the caller can forget it). */
export interface GrantEnvironment extends RetryEnvironment {
  readonly onRefreshRejected: () => void;
}

/** Obtains a new token set, starting from `refreshToken` when there is one. */
export async function obtainTokens(
  endpoint: TokenEndpoint,
  refreshToken: string | undefined,
  retry: RetryPolicy,
  env: GrantEnvironment,
): Promise<GrantResult> {
  if (refreshToken !== undefined) {
    try {
      const tokens = await withRetry(() => endpoint.refreshGrant(refreshToken), retry, env);
      // No refresh token in the answer means the old one stays valid (RFC 6749 section 6): keep it.
      const kept = tokens.refreshToken === undefined ? createTokenSet({ ...tokens, refreshToken }) : tokens;
      return { tokens: kept, source: 'refresh_token' };
    } catch (error) {
      // A network failure or 5xx says nothing about the refresh token: keep it, and let the caller see the error.
      if (!isRejection(error)) throw error;
      env.onRefreshRejected();
    }
  }
  return { tokens: await withRetry(() => endpoint.passwordGrant(), retry, env), source: 'password' };
}

/**
 * The endpoint answered and refused (a 4xx that is not worth retrying, or an unusable body): the refresh token is not
 * worth keeping. Whatever retry.ts counts as transient says nothing about the token; neither does a redirect.
 */
function isRejection(error: unknown): boolean {
  if (!(error instanceof OAuthBearerError) || isTransient(error)) return false;
  return !(error instanceof TokenEndpointError) || error.status >= 400;
}

/**
 * A failure of the client's or the user's credentials: retrying with the same ones cannot help and may lock the
 * account, so the token manager stops asking for a while (the cooldown).
 */
export function isCredentialFailure(error: unknown): boolean {
  return error instanceof TokenEndpointError && [400, 401, 403].includes(error.status) && error.grant === 'password';
}
