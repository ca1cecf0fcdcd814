/**
 * Renewal through a store. Before a grant, the store may already hold a newer token (another client or process
 * renewed): take it. With a locking store, one process renews while the others wait for its token, so an expiry
 * shared by N processes makes one grant, and a rotated refresh token is spent once. A store that fails or is slow
 * never fails a request: the process then renews on its own, as it would without a store.
 */
import { OAuthBearerError, TokenEndpointError } from '../errors.js';
import { isCredentialFailure } from '../grants.js';
import type { TokenSet } from '../token-set.js';
import { parseTokenSet, serializeTokenSet } from './serialize.js';
import { errorFromSharedFailure, sharedFailureOf } from './shared-failure.js';
import { isLockingStore, type LockingTokenStore, type ReleaseLock, type TokenStore } from './types.js';

/** What a shared renewal needs from the token manager. */
export interface SharedRenewalContext {
  readonly store: TokenStore;
  readonly key: string;
  /** True when a stored token may be adopted instead of renewing. */
  readonly isUsable: (tokens: TokenSet) => boolean;
  /** Makes the grant, starting from this refresh token when given. */
  readonly grant: (refreshToken: string | undefined) => Promise<TokenSet>;
  /** The refresh token the manager holds, used when the store has none. */
  readonly localRefreshToken: string | undefined;
  /** How long a renewal lock lives, so a holder that dies frees it. */
  readonly lockTtlMs: number;
  /** How long a credential failure is shared with the other processes (the cooldown); 0 shares nothing. */
  readonly cooldownMs: number;
  readonly report: (error: OAuthBearerError) => void;
}

/** The outcome: a token set, and whether it came from the store (true) or from our own grant (false). */
export interface SharedRenewalResult {
  readonly tokens: TokenSet;
  readonly fromStore: boolean;
}

/** How often a waiting process looks for the renewer's token. */
const POLL_MS = 50;

/** Renews once, through the store. */
export async function renewShared(context: SharedRenewalContext): Promise<SharedRenewalResult> {
  const { store } = context;
  const stored = await read(context);
  if (stored !== undefined && context.isUsable(stored)) return { tokens: stored, fromStore: true };
  if (!isLockingStore(store)) return grantAndWrite(context, stored);

  // Waiting longer than two lock lifetimes means the lock cannot be had at all: renew alone rather than hang.
  const deadline = Date.now() + 2 * context.lockTtlMs;
  for (;;) {
    const release = await safely(context, 'lock', () => store.tryLock(context.key, context.lockTtlMs), noLock);
    if (release !== undefined) return renewHoldingLock(context, store, release);
    if (Date.now() >= deadline) return grantAndWrite(context, stored);
    await sleep(POLL_MS);
    const latest = await read(context);
    if (latest !== undefined && context.isUsable(latest)) return { tokens: latest, fromStore: true };
  }
}

async function renewHoldingLock(
  context: SharedRenewalContext,
  store: LockingTokenStore,
  release: ReleaseLock,
): Promise<SharedRenewalResult> {
  try {
    // The previous holder may have finished between our first read and taking the lock, or found the credentials
    // refused: then this process fails fast with that error rather than try the same credentials again.
    const latest = await read(context);
    if (latest !== undefined && context.isUsable(latest)) return { tokens: latest, fromStore: true };
    const failure = await safely(context, 'read', () => store.getFailure?.(context.key));
    if (failure !== undefined) throw errorFromSharedFailure(failure);
    try {
      return await grantAndWrite(context, latest);
    } catch (error) {
      if (error instanceof TokenEndpointError && isCredentialFailure(error) && context.cooldownMs > 0) {
        const shared = sharedFailureOf(error);
        await safely(context, 'write', () => store.setFailure?.(context.key, shared, context.cooldownMs));
      }
      throw error;
    }
  } finally {
    await safely(context, 'unlock', release);
  }
}

async function grantAndWrite(context: SharedRenewalContext, stored: TokenSet | undefined): Promise<SharedRenewalResult> {
  // The stored refresh token is the newest one when it exists: with rotation, ours may already be spent.
  const tokens = await context.grant(stored?.refreshToken ?? context.localRefreshToken);
  await safely(context, 'write', () => context.store.set(context.key, tokens));
  return { tokens, fromStore: false };
}

/**
 * The stored token set, checked as a token response is: a store of the user's own may hand back anything (a row
 * mapped by hand, a value someone else wrote), and whatever is adopted is sent in a header and printed. A value that
 * fails is reported and counts as no token.
 */
async function read(context: SharedRenewalContext): Promise<TokenSet | undefined> {
  const value: unknown = await safely(context, 'read', () => context.store.get(context.key));
  if (value === undefined || value === null) return undefined;
  try {
    return parseTokenSet(serializeTokenSet(value as TokenSet), context.key);
  } catch (error) {
    context.report(error instanceof OAuthBearerError ? error : new OAuthBearerError('ERR_OAUTH_TOKEN_STORE', 'token store read returned an unusable value'));
    return undefined;
  }
}

/** The lock could not be attempted (the store failed): behave as if it were ours, so the process renews alone. */
const noLock: ReleaseLock = () => undefined;

/** Runs a store operation; a throw becomes a report and a fallback value, never a failed request. */
async function safely<T>(
  context: SharedRenewalContext,
  operation: string,
  run: () => T | Promise<T>,
  fallback?: T,
): Promise<T | undefined> {
  try {
    return await run();
  } catch (error) {
    const name = error instanceof Error ? error.name : typeof error;
    context.report(new OAuthBearerError('ERR_OAUTH_TOKEN_STORE', `token store ${operation} failed (${name}); continuing without it`));
    return fallback;
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
