/**
 * Renewal through a store. Before a grant, the store may already hold a newer token (another client or process
 * renewed): take it. With a leasing store, one process renews under a lease while the others wait for its token, so an
 * expiry shared by N processes makes one grant, and a rotated refresh token is spent once:
 *
 *   acquire ──► usable token in the store? ──► adopt it (a lease taken on the way is released)
 *      │ failure recorded? ──► fail fast with that error
 *      │ lease ours ──► grant, extending the lease every third of it ──► commit (fenced: write + release)
 *      │                                            └─ fails ──► record the failure (fenced) for the waiters
 *      │ lease held ──► poll (acquire again) until a token, a failure, the lease, or the wait limit
 *      └ unavailable ──► renew alone, degraded: never with a refresh token adopted from the store
 *
 * A store that fails, hangs or answers garbage never fails a request nor holds it up for longer than one lease: every
 * store operation is given up after `leaseMs` (by then any lease it could answer with has run out), and what a store
 * answers is checked as untrusted input. The process then renews on its own.
 */
import { OAuthBearerError } from '../errors.js';
import type { TokenSet } from '../token-set.js';
import { storeThrew, TokenStoreError, type TokenStoreOperation } from './errors.js';
import { parseTokenSet, serializeTokenSet } from './serialize.js';
import {
  errorFromSharedFailure,
  parseSharedFailure,
  type SharedFailure,
  serializeSharedFailure,
  sharedFailureOf,
  sharedFailureTtlMs,
  TRANSIENT_FAILURE_TTL_MS,
} from './shared-failure.js';
import { isLeasingStore, type LeasingTokenStore, type MaybePromise, type RenewalLease, type StoreSnapshot, type TokenStore } from './types.js';
import { monotonicNow } from '../clock.js';
import { publishLeaseTakeover, publishStoreOperation, type StoreOperationEvent } from '../diagnostics.js';

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
  /** True when that refresh token was adopted from the store: other processes may spend it too. */
  readonly localRefreshIsShared: boolean;
  /** How long a lease lasts unless its holder extends it. */
  readonly leaseMs: number;
  /**
   * The longest this process's own grant can take (its retries and fallback included): its budget as a holder, told
   * to the waiters through the lease, and its own wait limit on a holder that does not say.
   */
  readonly maxWaitMs: number;
  /** False once the token manager was cleared since the renewal began: its token must not be written then. */
  readonly isCurrent: () => boolean;
  /** How long a credential failure is shared with the other processes (the cooldown). */
  readonly cooldownMs: number;
  readonly report: (error: OAuthBearerError) => void;
}

/**
 * The outcome: a token set, whether it came from the store (true) or from our own grant (false), and whether it is
 * in the store now (adopted or committed), so that other processes may hold its refresh token too.
 */
export interface SharedRenewalResult {
  readonly tokens: TokenSet;
  readonly fromStore: boolean;
  readonly shared: boolean;
}

/** A holder is taken over only this far past its own budget: clocks and scheduling are not exact. */
const OVERSTAY_SLACK_MS = 1_000;

/** How often a waiting process looks for the renewer's token. */
const POLL_MS = 50;

/** Renews once, through the store. */
export function renewShared(context: SharedRenewalContext): Promise<SharedRenewalResult> {
  const { store } = context;
  return isLeasingStore(store) ? renewLeased(context, store) : renewPlain(context);
}

async function renewLeased(context: SharedRenewalContext, store: LeasingTokenStore): Promise<SharedRenewalResult> {
  const started = monotonicNow();
  // Whether another process was seen holding the lease: a lease won after that, with no token to adopt, is a takeover.
  let waitedOnHolder = false;
  for (;;) {
    const snapshot = await acquire(context, store);
    if (snapshot.state === 'unavailable') return renewAlone(context);
    const tokens = checked(context, snapshot.tokens);
    if (snapshot.state === 'leased') {
      if (tokens === undefined || !context.isUsable(tokens)) {
        if (waitedOnHolder) publishLeaseTakeover(() => ({ reason: 'lease-freed', waitedMs: monotonicNow() - started }));
        return renewUnderLease(context, snapshot.lease, tokens);
      }
      // Another process renewed just before: its token, and our lease back at once (in the background).
      void settle(context, 'release', () => snapshot.lease.release());
      return { tokens, fromStore: true, shared: true };
    }
    if (snapshot.failure !== undefined) throw errorFromSharedFailure(snapshot.failure, snapshot.failureRemainingMs);
    if (tokens !== undefined && context.isUsable(tokens)) return { tokens, fromStore: true, shared: true };
    // A live holder extends its lease for as long as its grant runs, and says how long that may be (its own budget,
    // whatever ours is); one that overstays it, or a store that does not say and keeps us past our own, is given up.
    const overstayed =
      snapshot.holderRemainingMs === undefined
        ? monotonicNow() - started >= context.maxWaitMs
        : snapshot.holderRemainingMs < -OVERSTAY_SLACK_MS;
    if (overstayed) {
      const waited = Math.round(monotonicNow() - started);
      publishLeaseTakeover(() => ({ reason: 'holder-overstayed', waitedMs: waited }));
      context.report(new TokenStoreError('acquire', 'lease-overstayed', context.key, `the renewal lease was held past its holder's budget (waited ${waited} ms); renewing alone`));
      return renewAlone(context);
    }
    waitedOnHolder = true;
    await sleep(POLL_MS);
  }
}

async function renewUnderLease(context: SharedRenewalContext, lease: RenewalLease, stored: TokenSet | undefined): Promise<SharedRenewalResult> {
  const keeper = keepLeaseAlive(context, lease);
  try {
    // The stored refresh token is the newest one when it exists: with rotation, ours may already be spent.
    const tokens = await context.grant(stored?.refreshToken ?? context.localRefreshToken);
    keeper.stop();
    if (!context.isCurrent()) {
      // clear() ran meanwhile: the waiters here still get this token, but the store must not bring it back.
      await settle(context, 'release', () => lease.release());
      return { tokens, fromStore: false, shared: false };
    }
    const committed = await settle(context, 'commit', () => lease.commit(tokens));
    return { tokens, fromStore: false, shared: committed === true };
  } catch (error) {
    keeper.stop();
    const failure = error instanceof OAuthBearerError ? sharedFailureOf(error) : undefined;
    if (failure !== undefined && error instanceof OAuthBearerError) {
      const ttlMs = sharedFailureTtlMs(error, context.cooldownMs);
      await settle(context, 'fail', () => lease.fail(failure, ttlMs));
    } else {
      await settle(context, 'release', () => lease.release());
    }
    throw error;
  }
}

/**
 * Extends the lease every third of its length while the grant runs, so a live holder keeps it however long its grant
 * with retries and fallbacks takes, while a dead one loses it within one lease. A failed extension is tried again at
 * the next tick (Redis may only have been slow); extending a lease that was lost changes nothing (it is fenced).
 */
function keepLeaseAlive(context: SharedRenewalContext, lease: RenewalLease): { stop(): void } {
  let extending = false;
  const timer = setInterval(() => {
    if (extending) return;
    extending = true;
    void settle(context, 'extend', () => lease.extend()).finally(() => {
      extending = false;
    });
  }, Math.max(1, Math.floor(context.leaseMs / 3)));
  // The lease alone must not keep a process alive; the grant it guards holds its own handles.
  timer.unref();
  return { stop: () => clearInterval(timer) };
}

/**
 * Renews without the store's help: it could not be reached, or its holder never finished. Shares nothing (a write
 * now could overwrite a newer token), and never spends a refresh token adopted from the store: other processes may be
 * spending the same one, and a provider that detects reuse may revoke the whole token family. A refresh token this
 * process obtained itself stays usable.
 */
async function renewAlone(context: SharedRenewalContext): Promise<SharedRenewalResult> {
  const refreshToken = context.localRefreshIsShared ? undefined : context.localRefreshToken;
  return { tokens: await context.grant(refreshToken), fromStore: false, shared: false };
}

/** A store with get/set/delete only: read, else grant and write. No lease: concurrent processes may both renew. */
async function renewPlain(context: SharedRenewalContext): Promise<SharedRenewalResult> {
  const value = await settle(context, 'get', () => context.store.get(context.key));
  const stored = checked(context, value);
  if (stored !== undefined && context.isUsable(stored)) return { tokens: stored, fromStore: true, shared: true };
  const tokens = await context.grant(stored?.refreshToken ?? context.localRefreshToken);
  if (!context.isCurrent()) return { tokens, fromStore: false, shared: false };
  await settle(context, 'set', () => context.store.set(context.key, tokens));
  return { tokens, fromStore: false, shared: true };
}

async function acquire(context: SharedRenewalContext, store: LeasingTokenStore): Promise<StoreSnapshot> {
  const request = {
    leaseMs: context.leaseMs,
    holdMs: context.maxWaitMs,
    maxFailureMs: Math.max(context.cooldownMs, TRANSIENT_FAILURE_TTL_MS),
  };
  // Boxed: settle's undefined means the store threw or timed out (reported), not that it answered undefined.
  const boxed = await settle(context, 'acquire', async () => ({ answer: await store.acquire(context.key, request) }), (value) => ({ state: stateOf(value.answer) }));
  if (boxed === undefined) return UNAVAILABLE;
  try {
    return snapshotOf(context.key, boxed.answer);
  } catch (error) {
    // Garbage (snapshotOf says what is wrong with it), or a value nothing can look at: a revoked Proxy, a getter that throws.
    context.report(error instanceof TokenStoreError ? error : new TokenStoreError('acquire', 'invalid-value', context.key, "the store's answer could not be read; continuing without it"));
    return UNAVAILABLE;
  }
}

const UNAVAILABLE: StoreSnapshot = Object.freeze({ state: 'unavailable' as const });

/** What an acquire answered, for its store-operation event: one of the three states, else `invalid`. */
function stateOf(answer: unknown): NonNullable<StoreOperationEvent['state']> {
  try {
    const state: unknown = typeof answer === 'object' && answer !== null ? Reflect.get(answer, 'state') : undefined;
    return state === 'leased' || state === 'held' || state === 'unavailable' ? state : 'invalid';
  } catch {
    return 'invalid'; // a getter that throws: snapshotOf reports it
  }
}

/**
 * A store's answer to `acquire`, checked as untrusted input like everything a store hands back: one of the three
 * states; for `leased`, a lease; for `held`, a failure record that reads back as one (its text escaped and bounded
 * again, as from Redis) and times that are finite numbers (else unknown: a budget of `NaN` or `Infinity` must not make
 * a waiter wait for ever). Anything else is the store failing: it is reported, and counts as `unavailable`. The token
 * set is checked where it is used (see {@link checked}).
 */
function snapshotOf(key: string, answer: unknown): StoreSnapshot {
  const invalid = (problem: string): never => {
    throw new TokenStoreError('acquire', 'invalid-value', key, `the store's answer ${problem}; continuing without it`);
  };
  if (typeof answer !== 'object' || answer === null) return invalid('is not a snapshot');
  const field = (name: string): unknown => Reflect.get(answer, name);
  const state = field('state');
  const tokens = field('tokens') as TokenSet | undefined;
  if (state === 'unavailable') return UNAVAILABLE;
  if (state === 'leased') {
    const lease = field('lease');
    if (typeof lease !== 'object' || lease === null) return invalid('has no lease');
    return { state, tokens, failure: undefined, lease: lease as RenewalLease };
  }
  if (state !== 'held') return invalid('has no known state');
  const recorded = field('failure');
  const failure =
    recorded === undefined ? undefined : (parseSharedFailure(serializeSharedFailure(recorded as SharedFailure)) ?? invalid('has a failure record that is not one'));
  return { state, tokens, failure, failureRemainingMs: finite(field('failureRemainingMs')), holderRemainingMs: finite(field('holderRemainingMs')) };
}

function finite(value: unknown): number | undefined {
  return Number.isFinite(value) ? (value as number) : undefined;
}

/**
 * The stored token set, checked as a token response is: a store of the user's own may hand back anything (a row
 * mapped by hand, a value someone else wrote), and whatever is adopted is sent in a header and printed. A value that
 * fails is reported and counts as no token.
 */
function checked(context: SharedRenewalContext, value: TokenSet | null | undefined): TokenSet | undefined {
  if (value === undefined || value === null) return undefined;
  try {
    return parseTokenSet(serializeTokenSet(value), context.key);
  } catch (error) {
    context.report(error instanceof OAuthBearerError ? error : new TokenStoreError('get', 'invalid-value', context.key, 'the store returned a value that is not a token set'));
    return undefined;
  }
}

/** What a store operation that did not answer in time settles as. */
const GAVE_UP = Symbol('gave up');

/** The lease steps whose `false` means the step was not done (the lease lost, or a store that reported its failure). */
const LEASE_STEPS: ReadonlySet<TokenStoreOperation> = new Set(['extend', 'commit', 'fail']);

/**
 * Runs a store operation for a renewal. A throw, or no answer within one lease (whatever it said by then would be
 * stale: a lease it took has run out), becomes a report and undefined: never a failed request, nor a hung one. Each
 * call is told to the `axios-oauth-bearer:store-operation` channel (made only while someone subscribes); `detail`
 * adds what an answer says (acquire's state).
 */
async function settle<T>(
  context: SharedRenewalContext,
  operation: Exclude<TokenStoreOperation, 'key'>,
  run: () => MaybePromise<T>,
  detail?: (value: T) => Pick<StoreOperationEvent, 'state'>,
): Promise<T | undefined> {
  // Always taken (it is cheap): a subscriber that arrives while the call runs must not be told the process's uptime.
  const started = monotonicNow();
  const told = (outcome: StoreOperationEvent['outcome'], extra?: Pick<StoreOperationEvent, 'state'>): void =>
    publishStoreOperation(() => ({ operation, outcome, ...extra, durationMs: monotonicNow() - started }));
  let timer: ReturnType<typeof setTimeout> | undefined;
  const deadline = new Promise<typeof GAVE_UP>((resolve) => {
    timer = setTimeout(resolve, context.leaseMs, GAVE_UP);
    // The deadline alone must not keep a process alive; an operation that waits on real I/O holds its own handle.
    (timer as { unref?: () => void }).unref?.(); // Node and Bun; Deno's and browsers' timers are numbers
  });
  try {
    const outcome = await Promise.race([run(), deadline]);
    if (outcome !== GAVE_UP) {
      told(outcome === false && LEASE_STEPS.has(operation) ? 'refused' : 'success', detail?.(outcome));
      return outcome;
    }
    told('timeout');
    context.report(new TokenStoreError(operation, 'timeout', context.key, `the store did not answer within ${context.leaseMs} ms; continuing without it`));
    return undefined;
  } catch (error) {
    told('failure');
    context.report(storeThrew(operation, context.key, error, '; continuing without it'));
    return undefined;
  } finally {
    clearTimeout(timer);
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
