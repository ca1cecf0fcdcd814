/**
 * Steps of the wall clock (NTP, a resumed laptop, an administrator) change no schedule: renewal, retirement, the
 * cooldown and the retry loop's time bound all run on the monotonic clock. With fake timers, `jest.setSystemTime`
 * steps only the wall clock (`Date.now()`), while `at()` / advancing the timers is time passing: both clocks move.
 * Setup (fake endpoint, fake timers at T0) is in helpers/token-manager-harness.
 */
import { type OAuthBearerError, TokenEndpointError, UserAuthenticationError } from '../src/errors.js';
import { type RetryPolicy, withRetry } from '../src/retry.js';
import { flushMicrotasks } from './helpers/fake-endpoint.js';
import { at, fake, firstToken, managerWith, T0, useTokenManagerHarness } from './helpers/token-manager-harness.js';

useTokenManagerHarness();

const HOUR = 3_600_000;

/** Steps the wall clock by `ms` (either way) and leaves the monotonic clock where it is. */
function stepWallClock(ms: number): void {
  const monotonic = performance.now();
  jest.setSystemTime(Date.now() + ms);
  expect(performance.now()).toBe(monotonic);
}

describe('a token kept before a wall-clock step keeps its schedule', () => {
  // A 60 s token with the default margin renews from 48 s and retires at 54 s (token-manager-renewal pins these).

  test('the clock steps back an hour: once its real lifetime is over the token is never sent, and one renewal replaces it', async () => {
    const manager = managerWith();
    await firstToken(manager);
    stepWallClock(-HOUR); // by the wall clock the token now has 61 minutes left; in fact it still has 60 seconds

    at(30_000);
    expect(manager.peekAccessToken()).toBe('at-1');
    at(54_100);
    expect(manager.peekAccessToken()).toBeUndefined(); // retired: requests wait for the new token instead
    at(60_001);
    expect(manager.peekAccessToken()).toBeUndefined(); // expired at the server: never sent again
    expect(fake.grantCount()).toBe(1);

    const next = manager.getAccessToken();
    const grant = await fake.nextGrant();
    expect(grant.kind).toBe('refresh_token');
    grant.issue();
    expect(await next).toBe('at-2');
    expect(await manager.getAccessToken()).toBe('at-2');
    expect(fake.passwordGrant).toHaveBeenCalledTimes(1);
    expect(fake.refreshGrant).toHaveBeenCalledTimes(1);
  });

  test('the clock steps forward an hour: the token is still sent until its real renewal point, with no extra grant', async () => {
    const manager = managerWith();
    await firstToken(manager);
    stepWallClock(HOUR); // by the wall clock the token expired 59 minutes ago; in fact it has 60 seconds left

    expect(manager.peekAccessToken()).toBe('at-1');
    at(47_900);
    expect(await manager.getAccessToken()).toBe('at-1');
    expect(fake.grantCount()).toBe(1);
    // expiresAt stays what users read: epoch milliseconds from the moment of issue, untouched by the step.
    expect(manager.current?.expiresAt).toBe(T0 + 60_000);

    at(48_100);
    expect(manager.peekAccessToken()).toBe('at-1'); // sent, while one renewal starts in the background
    expect(fake.grantCount()).toBe(2);
    (await fake.nextGrant()).issue();
    await flushMicrotasks();
    expect(manager.peekAccessToken()).toBe('at-2');
    expect(fake.grantCount()).toBe(2);
  });
});

describe('the cooldown after refused credentials', () => {
  test.each([
    ['forward', HOUR],
    ['back', -HOUR],
  ])('lasts cooldownMs of real time when the wall clock steps %s an hour', async (_direction, step) => {
    const manager = managerWith({ cooldownMs: 60_000 });
    const refused = new UserAuthenticationError('password', { status: 403, headers: {}, body: undefined }, { error: 'access_denied' });
    const first = manager.getAccessToken();
    (await fake.nextGrant()).fail(refused);
    await expect(first).rejects.toBe(refused);

    stepWallClock(step);
    at(59_900);
    await expect(manager.getAccessToken()).rejects.toBe(refused); // still within the cooldown: no grant
    expect(fake.passwordGrant).toHaveBeenCalledTimes(1);

    at(60_100);
    const retried = manager.getAccessToken();
    (await fake.nextGrant()).issue();
    expect(await retried).toBe('at-1');
    expect(fake.passwordGrant).toHaveBeenCalledTimes(2);
  });
});

describe('the retry loop', () => {
  test.each([
    ['forward', HOUR],
    ['back', -HOUR],
  ])('stops at maxElapsedMs of real time when the wall clock steps %s an hour between attempts', async (_direction, step) => {
    // Jitter at its minimum: every wait is 500 ms. Retries start at 500, 1000, ... 5000 ms; the next would end at 5500.
    const policy: RetryPolicy = { attempts: 100, baseDelayMs: 1_000, maxDelayMs: 1_000, maxElapsedMs: 5_000 };
    const started = performance.now();
    const calls: number[] = [];
    const last = new TokenEndpointError('password', { status: 503, headers: {}, body: undefined }, {});
    const attempt = (): Promise<string> => {
      calls.push(performance.now() - started);
      if (calls.length === 2) stepWallClock(step);
      return Promise.reject(last);
    };
    const reported: OAuthBearerError[] = [];
    const settled = withRetry(attempt, policy, { random: () => 0, onFailure: (error) => reported.push(error) }).catch((error: unknown) => error);

    await jest.advanceTimersByTimeAsync(60_000);

    expect(await settled).toBe(last);
    expect(calls).toEqual(Array.from({ length: 11 }, (_, n) => n * 500));
    expect(reported).toHaveLength(11);
  });
});
