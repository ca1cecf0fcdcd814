/**
 * When a cached token set renews and when it retires: both on the monotonic clock (see clock.ts), computed once when
 * the token set is kept, so a step of the wall clock moves neither. Only `tokens.expiresAt` is epoch milliseconds,
 * for users and stores.
 */
import { monotonicDeadline, monotonicNow } from './clock.js';
import type { TokenSource } from './options.js';
import type { TokenSet } from './token-set.js';

/** What a schedule depends on: the resolved `refreshMargin` and `clockSkewMs`. */
export interface ScheduleOptions {
  readonly refreshMargin: (lifetimeMs: number) => number;
  readonly clockSkewMs: number;
}

/** The token set the cache holds, with its schedule. */
export interface CachedToken {
  readonly tokens: TokenSet;
  /** From here on (monotonic), one background renewal starts while the token is still sent. */
  readonly renewAt: number;
  /** From here on (monotonic), the token is no longer sent: requests wait for the new one. */
  readonly retireAt: number;
  /**
   * Set when the resource server first rejected this token with 401 (never send it again), to the renewal count at
   * that moment: only a renewal that failed after it is "the renewal that followed" its 401s (see replay-protocol.ts).
   */
  rejectedAtSeq: number | undefined;
  /** Where it came from: a token adopted from a shared store was obtained by another process, for all we know before
   * a revocation that this process has not seen yet. */
  readonly source: TokenSource;
  /** True when the token set is (or was) in the shared store: other processes may hold its refresh token too. */
  readonly shared: boolean;
}

/**
 * The token set's renewal and retirement instants on the monotonic clock. The wall clock is read once, here, to learn
 * how long the token has left (`expiresAt` is epoch ms); from then on a wall-clock step changes nothing.
 */
function scheduleOf(tokens: TokenSet, options: ScheduleOptions): { renewAt: number; retireAt: number } {
  // The expiry first, then now: what remains can only come out a hair short, never long.
  const expiry = monotonicDeadline(tokens.expiresAt);
  const now = monotonicNow();
  const remaining = Math.max(0, expiry - now);
  // A server that truncates `iat` to whole seconds ends a token up to a second before `expires_in` says: schedule
  // against an expiry that is a little earlier, never by more than a quarter (a 1-second token keeps 750 ms).
  const expiresAt = expiry - Math.min(options.clockSkewMs, remaining / 4);
  const lifetime = Math.max(0, expiresAt - now);
  const margin = Math.min(Math.max(0, options.refreshMargin(lifetime)), lifetime);
  return { renewAt: expiresAt - margin, retireAt: expiresAt - margin / 2 };
}

/** A new cache entry for a token set that just arrived. */
export function cacheEntry(tokens: TokenSet, source: TokenSource, shared: boolean, options: ScheduleOptions): CachedToken {
  return { tokens, ...scheduleOf(tokens, options), rejectedAtSeq: undefined, source, shared };
}

/**
 * A stored token is worth adopting when it is not the one we are replacing, is not older than it, and is not retiring
 * (against a schedule computed now, as a new cache entry would get).
 */
export function isWorthAdopting(cached: CachedToken | undefined, tokens: TokenSet, options: ScheduleOptions): boolean {
  if (cached?.tokens.accessToken === tokens.accessToken) return false;
  // An older token than ours (a process that could not write while the store was away comes back to an entry it
  // has since replaced) is no better, however long it has left: it may be the one whose revocation we just met.
  if (cached !== undefined && tokens.expiresAt < cached.tokens.expiresAt) return false;
  return monotonicNow() < scheduleOf(tokens, options).retireAt;
}

/** The access token if the entry may be sent at `now` (not refused by the resource server, not retired). */
export function sendable(cached: CachedToken | undefined, now: number): string | undefined {
  if (cached === undefined || cached.rejectedAtSeq !== undefined || now >= cached.retireAt) return undefined;
  return cached.tokens.accessToken;
}
