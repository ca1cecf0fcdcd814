/**
 * Shared setup for the token cache unit tests (token-manager-*.test.ts: TokenCache, what the public TokenManager
 * views): a fake endpoint whose grants the test
 * answers by hand, and fake timers so that both clocks the manager reads are the test's: `performance.now()` (the
 * monotonic clock its schedules run on) and `Date.now()` (the wall clock, read once per token set to learn its
 * lifetime from `expiresAt`). Times are offsets from a fixed T0; `at()` moves both clocks together, as real time does.
 *
 * `fake` is a live binding, replaced before each test by the hooks that `useTokenManagerHarness()` registers, so the
 * tests read it as a plain name. Jest gives every test file its own module registry, so no two files share it.
 */
import { InvalidRequestError, TokenEndpointError, TokenNetworkError } from '../../src/errors.js';
import { defaults } from '../../src/options.js';
import { retryDefaults } from '../../src/retry.js';
import { TokenCache, type TokenCacheOptions } from '../../src/token-cache.js';
import { createFakeEndpoint, type FakeEndpoint, type IssueFields } from './fake-endpoint.js';

export const T0 = Date.UTC(2025, 0, 1, 12, 0, 0);

/** A refresh refused with `invalid_grant`: the refresh token is dead. */
export const invalidGrant = (): InvalidRequestError =>
  new InvalidRequestError('refresh_token', { status: 400, headers: {}, body: { error: 'invalid_grant' } }, { error: 'invalid_grant' });

/** A grant that never got an answer. */
export const networkFailure = (grant: 'password' | 'refresh_token' = 'refresh_token'): TokenNetworkError =>
  new TokenNetworkError(grant, false, new Error('socket hang up'));

/** A refresh answered with 503. */
export const unavailable = (): TokenEndpointError =>
  new TokenEndpointError('refresh_token', { status: 503, headers: {}, body: undefined }, {});

/** The fake endpoint of the running test; a new one before each test. */
export let fake: FakeEndpoint;

/** The fake `performance.now()` at T0, read when the fake timers are installed. */
let monotonicT0 = 0;

/** Registers the per-test setup: fake timers at T0, a new fake endpoint, and a check that no timer is left behind. */
export function useTokenManagerHarness(): void {
  beforeEach(() => {
    jest.useFakeTimers({ now: T0 });
    monotonicT0 = performance.now();
    fake = createFakeEndpoint();
  });

  afterEach(() => {
    // The manager starts renewals from requests, never from timers (a retry waits on one only while it runs).
    expect(jest.getTimerCount()).toBe(0);
    jest.useRealTimers();
  });
}

/** Retries of transient failures have their own tests (token-manager-renewal); elsewhere one failed attempt is the renewal's failure. */
export const noRetry = { ...retryDefaults, attempts: 1 };

/**
 * A manager on the fake endpoint with the default margin, no hooks, no retries and no clock-skew allowance (the margin
 * tests pin exact instants; the allowance has tests of its own), unless `options` says otherwise.
 */
export function managerWith(options: Partial<TokenCacheOptions> = {}): TokenCache {
  return new TokenCache(fake, {
    ...defaults,
    store: undefined,
    onToken: undefined,
    onError: undefined,
    retry: noRetry,
    clockSkewMs: 0,
    ...options,
  });
}

/**
 * Moves time forward to T0 + `ms`: advances the fake timers, which moves `performance.now()` and `Date.now()` alike
 * (`jest.setSystemTime` would move the wall clock only, which is a clock step, not time passing). Measured on the
 * monotonic clock, so a test that stepped the wall clock still lands at the intended moment of real time. A pending
 * timer that falls due on the way (a retry's backoff) fires, as it would in real time.
 */
export function at(ms: number): void {
  const elapsed = performance.now() - monotonicT0;
  if (ms < elapsed) throw new Error(`at(${ms}): time only moves forward, and it is already T0 + ${elapsed}`);
  jest.advanceTimersByTime(ms - elapsed);
}

/** Gets the first token: the password grant, answered at the current time. */
export async function firstToken(manager: TokenCache, fields?: IssueFields): Promise<string> {
  const token = manager.getAccessToken();
  (await fake.nextGrant()).issue(fields);
  return token;
}

/** Whether a promise has settled yet, read after letting microtasks run. */
export function track(promise: Promise<unknown>): { settled: boolean } {
  const state = { settled: false };
  const done = (): void => {
    state.settled = true;
  };
  promise.then(done, done);
  return state;
}
