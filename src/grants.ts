/**
 * One renewal's worth of talking to the token endpoint: the refresh grant when a refresh token is known, the
 * configured grant (password, client credentials, an extension grant) when none is or the endpoint refused it; each
 * with transient failures retried. A client that has no configured grant (a refresh token obtained elsewhere) has
 * nothing to fall back on: a refused refresh token is final. No cache, no state.
 */
import { monotonicNow } from './clock.js';
import { publishTokenRequest, summarize } from './diagnostics.js';
import { OAuthBearerError } from './errors.js';
import type { TokenSource } from './options.js';
import { isTransient, type RetryEnvironment, type RetryPolicy, withRetry } from './retry.js';
import { isRejection, refreshTokenRefusal } from './token-endpoint.js';
import { createTokenSet, type TokenSet } from './token-set.js';

/** A new token set and the grant that produced it. */
export interface GrantResult {
  readonly tokens: TokenSet;
  readonly source: Exclude<TokenSource, 'store'>;
}

/** The configured grant's name in token events. */
export type InitialSource = Exclude<TokenSource, 'store' | 'refresh_token'>;

/** The grants of one renewal, bound to the credentials it fetched. */
export interface GrantCalls {
  /** The configured grant; undefined when there is none to fall back on (a refresh token obtained elsewhere). */
  readonly initial: { readonly source: InitialSource; readonly call: () => Promise<TokenSet> } | undefined;
  refresh(refreshToken: string): Promise<TokenSet>;
}

/**
 * The retry environment, plus a word when the endpoint refused the refresh token (so the caller can forget it), and
 * the error to fail with when there is neither a refresh token nor a configured grant.
 */
export interface GrantEnvironment extends RetryEnvironment {
  readonly onRefreshRejected: () => void;
  readonly nothingToRenewWith: () => OAuthBearerError;
}

/**
 * Obtains a new token set, starting from `refreshToken` when there is one. A refresh the endpoint refuses falls back
 * to the configured grant (with its retries); a refresh that still fails transiently after its retries escalates to
 * one attempt of it (see {@link escalate}). Without a configured grant, a refusal is final (see {@link finalRefusal}).
 */
export async function obtainTokens(
  endpoint: GrantCalls,
  refreshToken: string | undefined,
  retry: RetryPolicy,
  env: GrantEnvironment,
): Promise<GrantResult> {
  const { initial } = endpoint;
  if (refreshToken !== undefined) {
    try {
      const tokens = await requested('refresh_token', () => endpoint.refresh(refreshToken), retry, env);
      // No refresh token in the answer means the old one stays valid (RFC 6749 section 6): keep it.
      const kept = tokens.refreshToken === undefined ? createTokenSet({ ...tokens, refreshToken }) : tokens;
      return { tokens: kept, source: 'refresh_token' };
    } catch (error) {
      if (initial === undefined) throw finalRefusal(error, env);
      if (error instanceof OAuthBearerError && isTransient(error)) return escalate(initial, error, retry, env);
      if (!isRejection(error)) throw error;
      env.onRefreshRejected();
    }
  }
  if (initial === undefined) throw env.nothingToRenewWith();
  return { tokens: await requested(initial.source, initial.call, retry, env), source: initial.source };
}

/**
 * A refresh failure with no grant to fall back on. Only the endpoint's refusal of the token itself ends it: a
 * {@link RefreshTokenRejectedError}, and the token is forgotten. A refused client (`invalid_client`: the secret is
 * wrong, not the token), a transient failure and an unusable answer say nothing against the token, which is kept
 * for the next renewal.
 */
function finalRefusal(error: unknown, env: GrantEnvironment): unknown {
  const final = refreshTokenRefusal(error);
  if (final !== error) env.onRefreshRejected();
  return final;
}

/**
 * A refresh that kept failing with a 5xx or a network error: one attempt of the configured grant (the password grant,
 * say) before the failure reaches the callers. Some servers answer every refresh with 500 after a revocation while
 * the password grant works; without this, every request would fail until a restart. One attempt, not a retried one:
 * the callers have already waited through the refresh's retries, and an endpoint that is down fails this one fast.
 *
 * The refresh token is not touched here: a transient failure says nothing about it, so the caller keeps it, unless
 * the grant succeeds and its token set replaces the old one.
 *
 * Decision: when the grant fails too, its error is the one the callers get, because it is the endpoint's last word
 * (a wrong password found here is a credential failure and starts the cooldown). The refresh failure, a library error
 * already redacted and already reported through `onError`, becomes its `cause` when the grant's error has none of its
 * own (a network error's cause is its socket error, and stays so).
 */
async function escalate(
  initial: NonNullable<GrantCalls['initial']>,
  refreshFailure: OAuthBearerError,
  retry: RetryPolicy,
  env: GrantEnvironment,
): Promise<GrantResult> {
  try {
    return { tokens: await requested(initial.source, initial.call, { ...retry, attempts: 1 }, env), source: initial.source };
  } catch (error) {
    if (error instanceof OAuthBearerError && error.cause === undefined) {
      // Non-enumerable, as the `cause` the Error constructor installs: JSON.stringify never shows it.
      Object.defineProperty(error, 'cause', { value: refreshFailure, enumerable: false, writable: true, configurable: true });
    }
    throw error;
  }
}

/** One token request, retries included, told to the `axios-oauth-bearer:token-request` channel (diagnostics.ts). */
async function requested(grant: GrantResult['source'], call: () => Promise<TokenSet>, retry: RetryPolicy, env: RetryEnvironment): Promise<TokenSet> {
  const started = monotonicNow();
  let attempts = 0;
  const counted = (): Promise<TokenSet> => {
    attempts += 1;
    return call();
  };
  try {
    const tokens = await withRetry(counted, retry, env);
    publishTokenRequest(() => ({ grant, outcome: 'success', attempts, durationMs: monotonicNow() - started }));
    return tokens;
  } catch (error) {
    publishTokenRequest(() => ({
      grant,
      outcome: 'failure',
      attempts,
      durationMs: monotonicNow() - started,
      ...(error instanceof OAuthBearerError ? { error: summarize(error) } : {}),
    }));
    throw error;
  }
}
