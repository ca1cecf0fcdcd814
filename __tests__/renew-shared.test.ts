/**
 * The renewal protocol through a store (src/stores/shared-renewal.ts), step by step: renewShared() with a context of
 * the test's own (a grant it counts, a report it reads) against the reference store (MemoryTokenStore, scripted to
 * misbehave where a test says: helpers/scripted-store.ts) and plain stores. Every clock is Jest's fake one (the
 * monotonic clock the lease and the waits run on, and the wall clock of `expiresAt`), so each test says exactly when
 * something happens and how often, and none depends on how loaded the machine is. The end-to-end view of the same
 * protocol, through createAuthClient, is store-contract.test.ts; the real-time one, with the loopback server,
 * shared-renewal.test.ts.
 */
import { ErrorCode, OAuthBearerError, TokenNetworkError, UserAuthenticationError } from '../src/errors.js';
import type { MemoryTokenStore } from '../src/stores/memory.js';
import { TokenStoreError } from '../src/stores/errors.js';
import { sharedFailureRemainingMs, TRANSIENT_FAILURE_TTL_MS } from '../src/stores/shared-failure.js';
import { renewShared, type SharedRenewalContext, type SharedRenewalResult } from '../src/stores/shared-renewal.js';
import type { LeaseRequest, StoreSnapshot, TokenStore } from '../src/stores/types.js';
import { createTokenSet, type TokenSet } from '../src/token-set.js';
import { plainStore, ScriptedStore } from './helpers/scripted-store.js';

const T0 = Date.UTC(2025, 0, 1, 12, 0, 0);
const KEY = 'axios-oauth-bearer:tokens:{renew-shared}';
/** The lease of these tests: one extension every 1000 ms. */
const LEASE_MS = 3_000;
/** This process's own wait limit (what the token manager derives from its retry budget, timeout and lease). */
const MAX_WAIT_MS = 2_400;
const COOLDOWN_MS = 60_000;
/** A lease request with a long lease and budget, as another process would make it. */
const OTHER: LeaseRequest = { leaseMs: 60_000, holdMs: 60_000, maxFailureMs: 60_000 };

beforeEach(() => {
  jest.useFakeTimers({ now: T0 });
  // Away from 0, so that a start time of 0 on the monotonic clock can hide nothing (now - start = now + start).
  jest.advanceTimersByTime(1_000);
});

afterEach(() => {
  // No renewal leaves a timer behind: not the lease's extension, not a store operation's deadline.
  expect(jest.getTimerCount()).toBe(0);
  jest.useRealTimers();
});

/** A token set valid for `lifetimeMs` from now; usable (see `isUsable` below) when that is over 30 s. */
function tokens(accessToken: string, lifetimeMs = 60_000, refreshToken?: string): TokenSet {
  return createTokenSet({ accessToken, expiresAt: Date.now() + lifetimeMs, refreshToken });
}

interface Run {
  readonly context: SharedRenewalContext;
  /** The grant, counted: called with the refresh token it starts from; answers `granted-N` with `rt-granted-N`. */
  readonly grant: jest.Mock<Promise<TokenSet>, [string | undefined]>;
  readonly reports: OAuthBearerError[];
}

/** A renewal context with this process's refresh token `rt-local` (its own: never shared) unless `overrides` says. */
function setup(store: TokenStore, overrides: Partial<SharedRenewalContext> = {}): Run {
  const reports: OAuthBearerError[] = [];
  let issued = 0;
  const grant = jest.fn<Promise<TokenSet>, [string | undefined]>(() => {
    issued += 1;
    return Promise.resolve(tokens(`granted-${issued}`, 60_000, `rt-granted-${issued}`));
  });
  const context: SharedRenewalContext = {
    store,
    key: KEY,
    isUsable: (candidate) => candidate.expiresAt - Date.now() > 30_000,
    grant,
    localRefreshToken: 'rt-local',
    localRefreshIsShared: false,
    leaseMs: LEASE_MS,
    maxWaitMs: MAX_WAIT_MS,
    isCurrent: () => true,
    cooldownMs: COOLDOWN_MS,
    report: (error) => reports.push(error),
    ...overrides,
  };
  return { context, grant, reports };
}

/** A grant that takes `ms` of (fake) time, then answers `slow-granted`; or fails with `error`. */
function slowGrant(ms: number, error?: Error): jest.Mock<Promise<TokenSet>, [string | undefined]> {
  return jest.fn<Promise<TokenSet>, [string | undefined]>(
    () =>
      new Promise<TokenSet>((resolve, reject) => {
        setTimeout(() => (error === undefined ? resolve(tokens('slow-granted', 60_000, 'rt-slow')) : reject(error)), ms);
      }),
  );
}

/** Lets every promise callback already queued run (no timer moves). */
async function flush(): Promise<void> {
  for (let round = 0; round < 50; round += 1) await Promise.resolve();
}

/** Watches a renewal: whether it settled, and how. */
function watch(promise: Promise<SharedRenewalResult>): { settled: boolean; result?: SharedRenewalResult; error?: unknown } {
  const state: { settled: boolean; result?: SharedRenewalResult; error?: unknown } = { settled: false };
  promise.then(
    (result) => Object.assign(state, { settled: true, result }),
    (error: unknown) => Object.assign(state, { settled: true, error }),
  );
  return state;
}

/** Moves the fake clocks forward by `ms`, running the timers that fall due and the promise callbacks they queue. */
async function advance(ms: number): Promise<void> {
  await jest.advanceTimersByTimeAsync(ms);
  await flush();
}

/**
 * Awaits a renewal that should end without waiting on anything but fake time: runs fake time forward (a minute at
 * most) until it settles, so a change that makes it wait fails the test at once instead of hanging it.
 */
async function finish<T>(promise: Promise<T>): Promise<T> {
  const state = { settled: false };
  const done = (): void => {
    state.settled = true;
  };
  promise.then(done, done);
  await flush();
  for (let waited = 0; !state.settled && waited < 60_000; waited += 1_000) await advance(1_000);
  if (!state.settled) throw new Error('the renewal is still pending after a minute of fake time');
  return promise;
}

/** What the reports say, as `operation/reason` for store errors and the code for anything else. */
function summary(reports: readonly OAuthBearerError[]): string[] {
  return reports.map((error) => (error instanceof TokenStoreError ? `${error.operation}/${error.reason}` : error.code));
}

const userRefused = (): UserAuthenticationError =>
  new UserAuthenticationError('password', { status: 400, headers: {}, body: undefined }, { error: 'invalid_grant' });
const networkDown = (): TokenNetworkError => new TokenNetworkError('password', false, new Error('connect ECONNREFUSED'));

describe('which protocol a store gets', () => {
  test('a leasing store is asked once with acquire, renewed under its lease and committed through it', async () => {
    const store = new ScriptedStore();
    const { context, grant, reports } = setup(store);

    const result = await finish(renewShared(context));

    expect(result).toEqual({ tokens: expect.objectContaining({ accessToken: 'granted-1' }) as TokenSet, fromStore: false, shared: true });
    expect(grant.mock.calls).toEqual([['rt-local']]);
    expect(store.calls).toEqual(['acquire', 'commit']);
    expect(store.inner.get(KEY)?.accessToken).toBe('granted-1');
    // The commit released the lease: the next process takes it.
    expect(store.inner.acquire(KEY, OTHER).state).toBe('leased');
    expect(reports).toEqual([]);
  });

  test('the lease is asked for with this process’s lease, its budget as the holder and the longer of cooldown and transient record', async () => {
    const store = new ScriptedStore();
    await finish(renewShared(setup(store).context));
    await finish(renewShared(setup(store, { cooldownMs: 0 }).context));
    await finish(renewShared(setup(store, { cooldownMs: 500 }).context));

    expect(store.requests).toEqual([
      { leaseMs: LEASE_MS, holdMs: MAX_WAIT_MS, maxFailureMs: COOLDOWN_MS },
      { leaseMs: LEASE_MS, holdMs: MAX_WAIT_MS, maxFailureMs: TRANSIENT_FAILURE_TTL_MS },
      { leaseMs: LEASE_MS, holdMs: MAX_WAIT_MS, maxFailureMs: TRANSIENT_FAILURE_TTL_MS },
    ]);
  });

  test('a store without acquire and clearFailure is read, then written: no lease is ever asked for', async () => {
    const { store, scripted, reads } = plainStore();
    const { context, grant, reports } = setup(store);

    const result = await finish(renewShared(context));

    expect(result).toEqual({ tokens: expect.objectContaining({ accessToken: 'granted-1' }) as TokenSet, fromStore: false, shared: true });
    expect(grant.mock.calls).toEqual([['rt-local']]);
    expect(scripted.calls).toEqual(['get', 'set']);
    expect(scripted.inner.get(KEY)?.accessToken).toBe('granted-1');
    // It was looked at for the lease protocol (a missing member read is fine), never called: no report of a TypeError.
    expect(reads).toContain('acquire');
    expect(reports).toEqual([]);
  });

  test('a store with acquire but no clearFailure is not a leasing store: acquire is never called', async () => {
    const scripted = new ScriptedStore();
    const acquire = jest.fn((key: string, request: LeaseRequest) => scripted.acquire(key, request));
    const store: TokenStore & { acquire: typeof acquire } = {
      get: (key) => scripted.get(key),
      set: (key, value) => scripted.set(key, value),
      delete: (key) => scripted.delete(key),
      acquire,
    };
    const { context, reports } = setup(store);

    await finish(renewShared(context));

    expect(acquire).not.toHaveBeenCalled();
    expect(scripted.calls).toEqual(['get', 'set']);
    expect(reports).toEqual([]);
  });
});

describe('what the store already holds', () => {
  test('a usable token found with the lease is adopted, with no grant, and the lease is given back at once', async () => {
    const store = new ScriptedStore();
    store.inner.set(KEY, tokens('stored', 60_000, 'rt-stored'));
    const { context, grant, reports } = setup(store);

    const result = await finish(renewShared(context));

    expect(result).toEqual({ tokens: expect.objectContaining({ accessToken: 'stored', refreshToken: 'rt-stored' }) as TokenSet, fromStore: true, shared: true });
    expect(grant).not.toHaveBeenCalled();
    expect(store.calls).toEqual(['acquire', 'release']);
    expect(store.inner.acquire(KEY, OTHER).state).toBe('leased');
    expect(reports).toEqual([]);
  });

  test('a usable token found while another process holds the lease is adopted, with no grant and no wait', async () => {
    const store = new ScriptedStore();
    store.inner.set(KEY, tokens('stored', 60_000, 'rt-stored'));
    expect(store.inner.acquire(KEY, OTHER).state).toBe('leased');
    const { context, grant } = setup(store);

    const result = await finish(renewShared(context));

    expect(result).toEqual({ tokens: expect.objectContaining({ accessToken: 'stored' }) as TokenSet, fromStore: true, shared: true });
    expect(grant).not.toHaveBeenCalled();
    expect(store.calls).toEqual(['acquire']);
  });

  test('a usable token in a plain store is adopted, with no grant and no write', async () => {
    const { store, scripted } = plainStore();
    scripted.inner.set(KEY, tokens('stored', 60_000, 'rt-stored'));
    const { context, grant } = setup(store);

    const result = await finish(renewShared(context));

    expect(result).toEqual({ tokens: expect.objectContaining({ accessToken: 'stored' }) as TokenSet, fromStore: true, shared: true });
    expect(grant).not.toHaveBeenCalled();
    expect(scripted.calls).toEqual(['get']);
  });

  test.each([
    ['a leasing store', (): { store: TokenStore; inner: MemoryTokenStore } => {
      const scripted = new ScriptedStore();
      return { store: scripted, inner: scripted.inner };
    }],
    ['a plain store', (): { store: TokenStore; inner: MemoryTokenStore } => {
      const plain = plainStore();
      return { store: plain.store, inner: plain.scripted.inner };
    }],
  ])('%s: the stored (rotated) refresh token is preferred over this process’s own one', async (_name, make) => {
    const { store, inner } = make();
    // Another process refreshed and stored its rotated refresh token; its access token is too close to expiry to adopt.
    inner.set(KEY, tokens('stored-but-expiring', 10_000, 'rt-rotated'));
    const { context, grant } = setup(store);

    const result = await finish(renewShared(context));

    expect(grant.mock.calls).toEqual([['rt-rotated']]);
    expect(result.fromStore).toBe(false);
    expect(inner.get(KEY)?.accessToken).toBe('granted-1');
  });

  test.each([
    ['a leasing store', (): { store: TokenStore; inner: MemoryTokenStore } => {
      const scripted = new ScriptedStore();
      return { store: scripted, inner: scripted.inner };
    }],
    ['a plain store', (): { store: TokenStore; inner: MemoryTokenStore } => {
      const plain = plainStore();
      return { store: plain.store, inner: plain.scripted.inner };
    }],
  ])('%s: a stored token without a refresh token leaves this process’s own one to use', async (_name, make) => {
    const { store, inner } = make();
    inner.set(KEY, tokens('stored-but-expiring', 10_000));
    const { context, grant } = setup(store);

    await finish(renewShared(context));

    expect(grant.mock.calls).toEqual([['rt-local']]);
  });

  test('nothing stored and no refresh token of its own: a password grant (refresh token undefined)', async () => {
    const { context, grant } = setup(new ScriptedStore(), { localRefreshToken: undefined });
    await finish(renewShared(context));
    expect(grant.mock.calls).toEqual([[undefined]]);
  });

  test('a store answering null holds nothing: no report, a grant', async () => {
    const { store, scripted } = plainStore();
    scripted.faults.set('get', { answer: null });
    const { context, grant, reports } = setup(store);

    await finish(renewShared(context));

    expect(grant.mock.calls).toEqual([['rt-local']]);
    expect(reports).toEqual([]);
  });

  test.each([
    ['a header injection in the access token', { accessToken: 'stolen\r\nX-Injected: 1', expiresAt: T0 + 600_000 }],
    ['an expiry that is not a number', { accessToken: 'stored', expiresAt: 'tomorrow' }],
    ['an empty object', {}],
    ['a string', 'stored'],
    ['a number', 42],
  ])('a stored value that fails the token checks (%s) is reported and counts as no token', async (_name, garbage) => {
    const { store, scripted } = plainStore();
    scripted.faults.set('get', { answer: garbage });
    const { context, grant, reports } = setup(store);

    const result = await finish(renewShared(context));

    expect(result.tokens.accessToken).toBe('granted-1');
    expect(grant.mock.calls).toEqual([['rt-local']]);
    expect(summary(reports)).toEqual(['get/invalid-value']);
    expect(reports[0]?.message).not.toContain('stolen');
  });

  test('a stored value that cannot even be read (a getter that throws) is reported as a store error', async () => {
    const { store, scripted } = plainStore();
    const poisoned = Object.defineProperty({}, 'accessToken', {
      get() {
        throw new Error('the secret-looking getter');
      },
    });
    scripted.faults.set('get', { answer: poisoned });
    const { context, grant, reports } = setup(store);

    await finish(renewShared(context));

    expect(grant.mock.calls).toEqual([['rt-local']]);
    expect(reports).toHaveLength(1);
    expect(reports[0]).toBeInstanceOf(TokenStoreError);
    expect(reports[0]?.code).toBe(ErrorCode.TOKEN_STORE);
    expect(summary(reports)).toEqual(['get/invalid-value']);
    expect(reports[0]?.message).toMatch(/is not a token set/);
    expect(reports[0]?.message).not.toContain('secret-looking');
  });
});

describe('a failed grant under the lease', () => {
  test('a credential failure is recorded for the cooldown, and the caller gets the grant’s own error', async () => {
    const store = new ScriptedStore();
    const refused = userRefused();
    const { context } = setup(store, { grant: jest.fn(() => Promise.reject(refused)) });

    await expect(finish(renewShared(context))).rejects.toBe(refused);

    expect(store.calls).toEqual(['acquire', 'fail']);
    const snapshot = store.inner.acquire(KEY, OTHER);
    expect(snapshot).toMatchObject({ state: 'held', failure: { code: ErrorCode.USER_AUTHENTICATION, grant: 'password', status: 400 }, failureRemainingMs: COOLDOWN_MS });
  });

  test('a transient failure is recorded for a moment only', async () => {
    const store = new ScriptedStore();
    const { context } = setup(store, { grant: jest.fn(() => Promise.reject(networkDown())) });

    await expect(finish(renewShared(context))).rejects.toBeInstanceOf(TokenNetworkError);

    expect(store.inner.acquire(KEY, OTHER)).toMatchObject({ state: 'held', failure: { code: ErrorCode.NETWORK }, failureRemainingMs: TRANSIENT_FAILURE_TTL_MS });
  });

  test.each([
    ['a library error that is not a token request’s', new OAuthBearerError(ErrorCode.TOKEN_ENDPOINT, 'a bug')],
    ['an error that is not the library’s at all', new TypeError('a bug')],
  ])('%s is not recorded: the lease is released, so the next process renews at once', async (_name, error) => {
    const store = new ScriptedStore();
    const { context } = setup(store, { grant: jest.fn(() => Promise.reject(error)) });

    await expect(finish(renewShared(context))).rejects.toBe(error);

    expect(store.calls).toEqual(['acquire', 'release']);
    expect(store.inner.acquire(KEY, OTHER)).toMatchObject({ state: 'leased', failure: undefined });
  });

  test('a release that throws after a failure that is not recorded is reported as a release; the caller gets the grant’s error', async () => {
    const store = new ScriptedStore();
    store.faults.set('release', 'throw');
    const error = new TypeError('a bug');
    const { context, reports } = setup(store, { grant: jest.fn(() => Promise.reject(error)) });

    await expect(finish(renewShared(context))).rejects.toBe(error);

    expect(summary(reports)).toEqual(['release/failed']);
  });

  test('a failure recorded by another process fails this one with the same class, without a grant, its cooldown ending with the record', async () => {
    const store = new ScriptedStore();
    const other = store.inner.acquire(KEY, OTHER);
    if (other.state !== 'leased') throw new Error('expected the lease');
    void other.lease.fail({ code: ErrorCode.USER_AUTHENTICATION, grant: 'password', status: 400, error: 'invalid_grant' }, 20_000);
    await advance(5_000);
    const { context, grant } = setup(store);

    const error: unknown = await finish(renewShared(context)).catch((caught: unknown) => caught);

    expect(error).toBeInstanceOf(UserAuthenticationError);
    expect(sharedFailureRemainingMs(error as object)).toBe(15_000);
    expect(grant).not.toHaveBeenCalled();
  });

  test('a store whose fail throws is reported; the caller still gets the grant’s own error', async () => {
    const store = new ScriptedStore();
    store.faults.set('fail', 'throw');
    const refused = userRefused();
    const { context, reports } = setup(store, { grant: jest.fn(() => Promise.reject(refused)) });

    await expect(finish(renewShared(context))).rejects.toBe(refused);

    expect(summary(reports)).toEqual(['fail/failed']);
  });
});

describe('the lease while the grant runs', () => {
  test('is extended every third of its length for as long as the grant takes, and no longer', async () => {
    const store = new ScriptedStore();
    const { context } = setup(store, { grant: slowGrant(9_500), maxWaitMs: 60_000 });
    const renewal = watch(renewShared(context));

    await advance(4_000);
    // Four extensions so far; another process finds the lease held, and is told the holder's budget.
    expect(store.count('extend')).toBe(4);
    expect(store.inner.acquire(KEY, OTHER)).toMatchObject({ state: 'held', holderRemainingMs: 56_000 });
    await advance(5_500);
    expect(renewal.settled).toBe(true);
    expect(store.count('extend')).toBe(9);

    await advance(10_000);
    expect(store.count('extend')).toBe(9);
    expect(renewal.result?.shared).toBe(true);
  });

  test('an extension that fails is reported and tried again at the next third', async () => {
    const store = new ScriptedStore();
    store.faults.set('extend', 'reject');
    const { context, reports } = setup(store, { grant: slowGrant(3_500) });
    const renewal = watch(renewShared(context));

    await advance(3_500);

    expect(renewal.settled).toBe(true);
    expect(store.count('extend')).toBe(3);
    expect(summary(reports)).toEqual(['extend/failed', 'extend/failed', 'extend/failed']);
  });

  test('an extension that hangs is not stacked: the next third waits for it, which gives up after one lease', async () => {
    const store = new ScriptedStore();
    store.faults.set('extend', 'hang');
    const { context, reports } = setup(store, { grant: slowGrant(3_500) });
    const renewal = watch(renewShared(context));

    await advance(3_500);
    expect(renewal.settled).toBe(true);
    expect(store.count('extend')).toBe(1);
    expect(reports).toEqual([]);

    // The one pending extension (from 1000 ms on) is given up one lease later, at 4000 ms.
    await advance(500);
    expect(summary(reports)).toEqual(['extend/timeout']);
  });

  test('a lease lost meanwhile: the token is this process’s own, not shared (the commit was refused)', async () => {
    const store = new ScriptedStore();
    store.faults.set('commit', { answer: false });
    const { context } = setup(store);

    const result = await finish(renewShared(context));

    expect(result).toEqual({ tokens: expect.objectContaining({ accessToken: 'granted-1' }) as TokenSet, fromStore: false, shared: false });
  });

  test('a commit that throws is reported, and the token is not shared', async () => {
    const store = new ScriptedStore();
    store.faults.set('commit', 'throw');
    const { context, reports } = setup(store);

    const result = await finish(renewShared(context));

    expect(result).toMatchObject({ fromStore: false, shared: false });
    expect(summary(reports)).toEqual(['commit/failed']);
  });
});

describe('clear() while the grant ran', () => {
  test('a leasing store: the lease is released, nothing is committed, the token is not shared', async () => {
    const store = new ScriptedStore();
    const { context } = setup(store, { isCurrent: () => false });

    const result = await finish(renewShared(context));

    expect(result).toEqual({ tokens: expect.objectContaining({ accessToken: 'granted-1' }) as TokenSet, fromStore: false, shared: false });
    expect(store.calls).toEqual(['acquire', 'release']);
    expect(store.inner.get(KEY)).toBeUndefined();
    expect(store.inner.acquire(KEY, OTHER).state).toBe('leased');
  });

  test('a leasing store whose release throws: reported as a release', async () => {
    const store = new ScriptedStore();
    store.faults.set('release', 'throw');
    const { context, reports } = setup(store, { isCurrent: () => false });

    await finish(renewShared(context));

    expect(summary(reports)).toEqual(['release/failed']);
  });

  test('a plain store: nothing is written, the token is not shared', async () => {
    const { store, scripted } = plainStore();
    const { context } = setup(store, { isCurrent: () => false });

    const result = await finish(renewShared(context));

    expect(result).toMatchObject({ fromStore: false, shared: false });
    expect(scripted.calls).toEqual(['get']);
  });
});

describe('waiting on another process’s renewal', () => {
  /** Another process holds the lease; returns its lease. */
  function heldByAnother(store: ScriptedStore, request: LeaseRequest = OTHER): Extract<StoreSnapshot, { state: 'leased' }>['lease'] {
    const snapshot = store.inner.acquire(KEY, request);
    if (snapshot.state !== 'leased') throw new Error('expected the lease');
    return snapshot.lease;
  }

  test('its token is adopted at the first look after its commit, every 50 ms, with no grant', async () => {
    const store = new ScriptedStore();
    const lease = heldByAnother(store);
    const { context, grant } = setup(store);
    const renewal = watch(renewShared(context));

    await advance(120);
    expect(renewal.settled).toBe(false);
    void lease.commit(tokens('theirs', 60_000, 'rt-theirs'));
    await advance(30);

    expect(renewal.result).toEqual({ tokens: expect.objectContaining({ accessToken: 'theirs' }) as TokenSet, fromStore: true, shared: true });
    expect(store.count('acquire')).toBe(4); // at 0, 50, 100 and 150 ms
    expect(grant).not.toHaveBeenCalled();
  });

  test('its failure fails this process with the same class, with no grant', async () => {
    const store = new ScriptedStore();
    const lease = heldByAnother(store);
    const { context, grant } = setup(store);
    const renewal = watch(renewShared(context));

    await advance(60);
    void lease.fail({ code: ErrorCode.NETWORK, grant: 'password', timedOut: true }, TRANSIENT_FAILURE_TTL_MS);
    await advance(50);

    expect(renewal.error).toBeInstanceOf(TokenNetworkError);
    expect((renewal.error as TokenNetworkError).timedOut).toBe(true);
    expect(grant).not.toHaveBeenCalled();
  });

  test('a holder that does not say its budget is waited on exactly up to this process’s own limit, then renewed alone and reported', async () => {
    const store = new ScriptedStore();
    store.faults.set('acquire', { answer: { state: 'held', tokens: undefined, failure: undefined } });
    const { context, grant, reports } = setup(store);
    const renewal = watch(renewShared(context));

    await advance(MAX_WAIT_MS - 1);
    expect(grant).not.toHaveBeenCalled();
    expect(reports).toEqual([]);
    await advance(1);

    expect(renewal.settled).toBe(true);
    expect(grant.mock.calls).toEqual([['rt-local']]);
    expect(renewal.result).toMatchObject({ fromStore: false, shared: false });
    expect(store.count('acquire')).toBe(MAX_WAIT_MS / 50 + 1);
    expect(summary(reports)).toEqual(['acquire/lease-overstayed']);
    expect(reports[0]?.message).toContain(`waited ${MAX_WAIT_MS} ms`);
    expect(reports[0]?.message).toContain('renewing alone');
  });

  test('a holder within its budget is waited on past this process’s own limit', async () => {
    const store = new ScriptedStore();
    // The holder's grant may take a minute (its options); this process would give up after 2.4 s of its own.
    const lease = heldByAnother(store, { leaseMs: 60_000, holdMs: 60_000, maxFailureMs: 60_000 });
    const { context, grant } = setup(store);
    const renewal = watch(renewShared(context));

    await advance(10_000);
    expect(renewal.settled).toBe(false);
    void lease.commit(tokens('theirs'));
    await advance(50);

    expect(renewal.result?.tokens.accessToken).toBe('theirs');
    expect(grant).not.toHaveBeenCalled();
  });

  test.each([
    [-1_000, 'waited on (a second of slack for clocks and scheduling)', false],
    [-1_001, 'given up at once', true],
  ])('a holder %i ms past its budget is %s', async (remaining, _name, givenUp) => {
    const store = new ScriptedStore();
    store.faults.set('acquire', { answer: { state: 'held', tokens: undefined, failure: undefined, holderRemainingMs: remaining } });
    const { context, grant, reports } = setup(store);
    const renewal = watch(renewShared(context));
    await flush();

    expect(grant).toHaveBeenCalledTimes(givenUp ? 1 : 0);
    expect(summary(reports)).toEqual(givenUp ? ['acquire/lease-overstayed'] : []);
    // Either way it ends: the holder's token shows up at the next look.
    store.faults.set('acquire', { answer: { state: 'held', tokens: tokens('theirs'), failure: undefined } });
    await advance(50);
    expect(renewal.result?.tokens.accessToken).toBe(givenUp ? 'granted-1' : 'theirs');
  });

  test.each([
    ['not a number', 'soon'],
    ['NaN', Number.NaN],
    ['Infinity', Number.POSITIVE_INFINITY],
  ])('a holder budget that is %s counts as unknown: this process’s own limit applies', async (_name, remaining) => {
    const store = new ScriptedStore();
    store.faults.set('acquire', { answer: { state: 'held', tokens: undefined, failure: undefined, holderRemainingMs: remaining } });
    const { context, grant, reports } = setup(store);
    const renewal = watch(renewShared(context));

    await advance(MAX_WAIT_MS);

    expect(renewal.settled).toBe(true);
    expect(grant).toHaveBeenCalledTimes(1);
    expect(summary(reports)).toEqual(['acquire/lease-overstayed']);
  });

  test('a process that gave up on a holder never spends a refresh token it adopted from the store', async () => {
    const store = new ScriptedStore();
    store.faults.set('acquire', { answer: { state: 'held', tokens: undefined, failure: undefined, holderRemainingMs: -60_000 } });
    const { context, grant } = setup(store, { localRefreshIsShared: true });

    await finish(renewShared(context));

    expect(grant.mock.calls).toEqual([[undefined]]);
  });
});

describe('a store that cannot be asked: renewing alone (degraded)', () => {
  test('unavailable: this process’s own refresh token is used, nothing is written, nothing is reported', async () => {
    const store = new ScriptedStore();
    store.faults.set('acquire', { answer: { state: 'unavailable' } });
    const { context, grant, reports } = setup(store);

    const result = await finish(renewShared(context));

    expect(result).toEqual({ tokens: expect.objectContaining({ accessToken: 'granted-1' }) as TokenSet, fromStore: false, shared: false });
    expect(grant.mock.calls).toEqual([['rt-local']]);
    expect(store.calls).toEqual(['acquire']);
    expect(reports).toEqual([]);
  });

  test('unavailable: a refresh token adopted from the store (others may spend it) is not used: a password grant', async () => {
    const store = new ScriptedStore();
    store.faults.set('acquire', { answer: { state: 'unavailable' } });
    const { context, grant } = setup(store, { localRefreshIsShared: true });

    await finish(renewShared(context));

    expect(grant.mock.calls).toEqual([[undefined]]);
  });

  const revoked = Proxy.revocable({}, {});
  revoked.revoke();

  test.each([
    ['nothing', undefined, 'is not a snapshot'],
    ['a number', 42, 'is not a snapshot'],
    ['null', null, 'is not a snapshot'],
    ['an unknown state', { state: 'busy' }, 'has no known state'],
    ['no state at all', { tokens: undefined }, 'has no known state'],
    ['a lease that is not one', { state: 'leased', tokens: undefined, failure: undefined, lease: 'yes' }, 'has no lease'],
    ['a lease that is null', { state: 'leased', tokens: undefined, failure: undefined, lease: null }, 'has no lease'],
    ['a failure record that is not one', { state: 'held', tokens: undefined, failure: { code: 'ERR_NOT_A_CODE', grant: 'password' } }, 'has a failure record that is not one'],
    ['a failure record that cannot be written out', { state: 'held', tokens: undefined, failure: { code: ErrorCode.NETWORK, grant: 'password', status: 10n } }, 'could not be read'],
  ])('an acquire that answers garbage (%s) is reported and counts as unavailable: no wait, one grant', async (_name, garbage, problem) => {
    const store = new ScriptedStore();
    store.faults.set('acquire', { answer: garbage });
    const { context, grant, reports } = setup(store);

    const result = await finish(renewShared(context));

    expect(result).toEqual({ tokens: expect.objectContaining({ accessToken: 'granted-1' }) as TokenSet, fromStore: false, shared: false });
    expect(grant.mock.calls).toEqual([['rt-local']]);
    expect(store.calls).toEqual(['acquire']);
    expect(summary(reports)).toEqual(['acquire/invalid-value']);
    expect(reports[0]?.message).toContain(`the store's answer ${problem}; continuing without it`);
  });

  test('an answer nothing can look at (a revoked Proxy: even awaiting it throws) is the store failing: reported, renewed alone', async () => {
    const store = new ScriptedStore();
    store.faults.set('acquire', { answer: revoked.proxy });
    const { context, grant, reports } = setup(store);

    const result = await finish(renewShared(context));

    expect(result).toMatchObject({ fromStore: false, shared: false });
    expect(grant).toHaveBeenCalledTimes(1);
    expect(summary(reports)).toEqual(['acquire/failed']);
  });

  test('a failure record’s remaining time that is not a number is unknown: the reader gets the full cooldown', async () => {
    const store = new ScriptedStore();
    const failure = { code: ErrorCode.USER_AUTHENTICATION, grant: 'password', status: 400 };
    store.faults.set('acquire', { answer: { state: 'held', tokens: undefined, failure, failureRemainingMs: 'a while' } });
    const { context, reports } = setup(store);

    const error: unknown = await finish(renewShared(context)).catch((caught: unknown) => caught);

    expect(error).toBeInstanceOf(UserAuthenticationError);
    expect(sharedFailureRemainingMs(error as object)).toBeUndefined();
    expect(reports).toEqual([]);
  });

  test('a failure record’s text is read back bounded and escaped, as from Redis', async () => {
    const store = new ScriptedStore();
    const failure = { code: ErrorCode.USER_AUTHENTICATION, grant: 'password', status: 400, errorDescription: `bad\u001b[31m ${'x'.repeat(2_000)}` };
    store.faults.set('acquire', { answer: { state: 'held', tokens: undefined, failure } });
    const { context } = setup(store);

    const error: unknown = await finish(renewShared(context)).catch((caught: unknown) => caught);

    expect(error).toBeInstanceOf(UserAuthenticationError);
    const description = (error as UserAuthenticationError).errorDescription ?? '';
    expect(description).not.toContain('\u001b');
    expect(description.length).toBeLessThanOrEqual(600);
  });
});

describe('a store that throws or hangs never fails or holds up a renewal', () => {
  test.each([
    ['throws', 'throw' as const],
    ['rejects', 'reject' as const],
  ])('an acquire that %s is reported by the error’s name only, and the process renews alone', async (_name, fault) => {
    const store = new ScriptedStore();
    store.faults.set('acquire', fault);
    const { context, grant, reports } = setup(store);

    const result = await finish(renewShared(context));

    expect(result).toMatchObject({ fromStore: false, shared: false });
    expect(grant.mock.calls).toEqual([['rt-local']]);
    expect(summary(reports)).toEqual(['acquire/failed']);
    expect(reports[0]?.message).toContain('the store threw (StoreBroke); continuing without it');
    expect(reports[0]?.message).not.toContain('hunter2');
  });

  test('a throw that is not an Error is named by its type', async () => {
    const store: TokenStore = {
      get: () => {
        // eslint-disable-next-line @typescript-eslint/only-throw-error -- a store of the user's own may throw anything
        throw 'a string';
      },
      set: () => undefined,
      delete: () => undefined,
    };
    const { context, reports } = setup(store);

    await finish(renewShared(context));

    expect(summary(reports)).toEqual(['get/failed']);
    expect(reports[0]?.message).toContain('the store threw (string)');
  });

  test('a plain store whose get and set throw: one grant, the token is kept, both reported', async () => {
    const { store, scripted } = plainStore();
    scripted.faults.set('get', 'throw');
    scripted.faults.set('set', 'reject');
    const { context, grant, reports } = setup(store);

    const result = await finish(renewShared(context));

    expect(result.tokens.accessToken).toBe('granted-1');
    expect(grant).toHaveBeenCalledTimes(1);
    expect(summary(reports)).toEqual(['get/failed', 'set/failed']);
  });

  test('a release that throws while adopting is reported as a release', async () => {
    const store = new ScriptedStore();
    store.inner.set(KEY, tokens('stored'));
    store.faults.set('release', 'throw');
    const { context, reports } = setup(store);

    const result = await finish(renewShared(context));
    await flush();

    expect(result.fromStore).toBe(true);
    expect(summary(reports)).toEqual(['release/failed']);
  });

  test.each([
    ['get', 'a plain store'],
    ['set', 'a plain store'],
    ['acquire', 'a leasing store'],
    ['commit', 'a leasing store'],
    ['fail', 'a leasing store'],
    ['release', 'a leasing store'],
  ] as const)('a %s that hangs (%s) is given up after one lease, reported as a timeout', async (step, kind) => {
    const scripted = new ScriptedStore();
    const plain = plainStore({ bindingSecret: true });
    const store = kind === 'a plain store' ? plain.store : scripted;
    const faulty = kind === 'a plain store' ? plain.scripted : scripted;
    faulty.faults.set(step, 'hang');
    // release is reached when clear() ran during the grant; fail when the grant failed.
    const refused = userRefused();
    const { context, reports } = setup(store, {
      isCurrent: () => step !== 'release',
      ...(step === 'fail' ? { grant: jest.fn(() => Promise.reject(refused)) } : {}),
    });
    const renewal = watch(renewShared(context));

    await advance(LEASE_MS - 1);
    expect(renewal.settled).toBe(false);
    await advance(1);

    expect(renewal.settled).toBe(true);
    if (step === 'fail') expect(renewal.error).toBe(refused);
    else expect(renewal.result?.tokens.accessToken).toBe('granted-1');
    expect(summary(reports)).toEqual([`${step}/timeout`]);
    expect(reports[0]?.message).toContain(`did not answer within ${LEASE_MS} ms`);
  });

  test('where timers are numbers (Deno, browsers), a hanging store is still given up after one lease', async () => {
    const { store, scripted } = plainStore({ bindingSecret: true });
    scripted.faults.set('get', 'hang');
    const fakeSetTimeout = globalThis.setTimeout;
    const numbered = ((handler: (value: unknown) => void, ms: number, value: unknown) => {
      fakeSetTimeout(handler, ms, value);
      return 0;
    }) as unknown as typeof setTimeout;
    jest.spyOn(globalThis, 'setTimeout').mockImplementation(numbered);
    const { context, grant, reports } = setup(store);

    try {
      const renewal = watch(renewShared(context));
      await advance(LEASE_MS);
      expect(renewal.settled).toBe(true);
      expect(grant).toHaveBeenCalledTimes(1);
      expect(summary(reports)).toEqual(['get/timeout']);
    } finally {
      jest.restoreAllMocks();
    }
    // clearTimeout(0) cleared nothing: let the deadline of the set that followed run out.
    await advance(LEASE_MS);
  });

  test('an acquire that hangs while waiting on a holder ends the wait: renewed alone, after one lease', async () => {
    const store = new ScriptedStore();
    store.inner.acquire(KEY, OTHER);
    const { context, grant, reports } = setup(store);
    const renewal = watch(renewShared(context));
    await advance(100);
    store.faults.set('acquire', 'hang');

    await advance(50 + LEASE_MS);

    expect(renewal.result).toMatchObject({ fromStore: false, shared: false });
    expect(grant).toHaveBeenCalledTimes(1);
    expect(summary(reports)).toEqual(['acquire/timeout']);
  });
});
