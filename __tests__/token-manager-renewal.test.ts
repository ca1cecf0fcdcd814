/**
 * TokenManager, getting a token: the first grant and its single flight, proactive renewal inside the refresh margin,
 * and retries and cooldown after failed grants. Setup (fake endpoint, fake timers at T0) is in helpers/token-manager-harness.
 */
import { OAuthBearerError, TokenEndpointError, UserAuthenticationError } from '../src/errors.js';
import { resolveAuthOptions } from '../src/options.js';
import { retryDefaults } from '../src/retry.js';
import { flushMicrotasks } from './helpers/fake-endpoint.js';
import { at, fake, firstToken, managerWith, networkFailure, track, useTokenManagerHarness } from './helpers/token-manager-harness.js';

useTokenManagerHarness();

describe('getAccessToken', () => {
  test('the first call makes one password grant and later calls reuse its token', async () => {
    const manager = managerWith();
    expect(await firstToken(manager)).toBe('at-1');
    at(30_000);
    const later = await Promise.all([manager.getAccessToken(), manager.getAccessToken(), manager.getAccessToken()]);
    expect(later).toEqual(['at-1', 'at-1', 'at-1']);
    expect(fake.passwordGrant).toHaveBeenCalledTimes(1);
    expect(fake.refreshGrant).not.toHaveBeenCalled();
  });

  test('100 concurrent callers share one password grant, and the shared renewal is cleared after it succeeds', async () => {
    const manager = managerWith();
    const callers = Array.from({ length: 100 }, () => manager.getAccessToken());
    expect(fake.passwordGrant).toHaveBeenCalledTimes(1);
    (await fake.nextGrant()).issue();
    expect(new Set(await Promise.all(callers))).toEqual(new Set(['at-1']));
    expect(manager.renewing).toBe(false);

    const forced = manager.refresh();
    expect(fake.grantCount()).toBe(2);
    (await fake.nextGrant()).issue();
    expect((await forced).accessToken).toBe('at-2');
  });

  test.each([
    ['a typed error', () => networkFailure('password')],
    ['an untyped error', () => new Error('boom')],
  ])('a failed grant rejects all 100 callers with one typed error instance (%s), and the next call tries again', async (_, makeError) => {
    const manager = managerWith();
    const callers = Array.from({ length: 100 }, () => manager.getAccessToken());
    const thrown = makeError();
    (await fake.nextGrant()).fail(thrown);
    const settled = await Promise.allSettled(callers);
    const reasons = new Set(settled.map((result): unknown => (result.status === 'rejected' ? result.reason : 'resolved')));
    expect(reasons.size).toBe(1);
    const [reason] = reasons;
    expect(reason).toBeInstanceOf(OAuthBearerError);
    if (thrown instanceof OAuthBearerError) expect(reason).toBe(thrown);

    const retry = manager.getAccessToken();
    expect(fake.passwordGrant).toHaveBeenCalledTimes(2);
    (await fake.nextGrant()).issue();
    expect(await retry).toBe('at-1');
  });
});

describe('proactive renewal', () => {
  test('a 60 s token with the default margin is not renewed at 47.9 s', async () => {
    const manager = managerWith();
    await firstToken(manager);
    at(47_900);
    expect(manager.peekAccessToken()).toBe('at-1');
    expect(await manager.getAccessToken()).toBe('at-1');
    expect(manager.renewing).toBe(false);
    expect(fake.grantCount()).toBe(1);
  });

  test('at 48.1 s the old token is still handed out while exactly one background refresh grant runs', async () => {
    const manager = managerWith();
    await firstToken(manager);
    at(48_100);
    expect([manager.peekAccessToken(), manager.peekAccessToken(), await manager.getAccessToken()]).toEqual(['at-1', 'at-1', 'at-1']);
    expect(fake.refreshGrant).toHaveBeenCalledTimes(1);
    expect(fake.refreshGrant).toHaveBeenCalledWith('rt-1');
    expect(fake.passwordGrant).toHaveBeenCalledTimes(1);
    (await fake.nextGrant()).issue();
    await flushMicrotasks();
    expect(manager.peekAccessToken()).toBe('at-2');
  });

  test('in the last half of the margin (54.1 s) the old token is no longer handed out and callers wait for the new one', async () => {
    const manager = managerWith();
    await firstToken(manager);
    at(54_100);
    expect(manager.peekAccessToken()).toBeUndefined();
    const waiting = manager.getAccessToken();
    const state = track(waiting);
    await flushMicrotasks();
    expect(state.settled).toBe(false);
    expect(fake.refreshGrant).toHaveBeenCalledTimes(1);
    (await fake.nextGrant()).issue();
    expect(await waiting).toBe('at-2');
  });

  test('a caller in the last half of the margin joins the background renewal already running', async () => {
    const manager = managerWith();
    await firstToken(manager);
    at(48_100);
    manager.peekAccessToken();
    at(54_100);
    const waiting = manager.getAccessToken();
    expect(fake.grantCount()).toBe(2);
    (await fake.nextGrant()).issue();
    expect(await waiting).toBe('at-2');
    expect(fake.grantCount()).toBe(2);
  });

  test('by default a second comes off each lifetime before scheduling: a 4 s token renews at 2.4 s and retires at 2.7 s', async () => {
    // Servers that truncate `iat` end a 4 s token up to a second early; without the allowance it retired at 3.6 s.
    const { clockSkewMs } = resolveAuthOptions({ tokenUrl: 'https://idp.test/token', clientId: 'c', clientSecret: 's', username: 'u', password: 'p' });
    const manager = managerWith({ clockSkewMs });
    await firstToken(manager, { lifetimeMs: 4_000 });
    at(2_390);
    expect(manager.peekAccessToken()).toBe('at-1');
    expect(fake.grantCount()).toBe(1);
    at(2_410);
    expect(manager.peekAccessToken()).toBe('at-1'); // sent, while one renewal starts in the background
    expect(fake.grantCount()).toBe(2);
    at(2_710);
    expect(manager.peekAccessToken()).toBeUndefined();
    (await fake.nextGrant()).issue();
  });

  test('the allowance is at most a quarter of the lifetime: a 1 s token still renews in the background at 0.6 s', async () => {
    const manager = managerWith({ clockSkewMs: 1_000 });
    await firstToken(manager, { lifetimeMs: 1_000 });
    at(590);
    expect(manager.peekAccessToken()).toBe('at-1');
    expect(fake.grantCount()).toBe(1);
    at(610);
    expect(manager.peekAccessToken()).toBe('at-1');
    expect(fake.grantCount()).toBe(2);
    (await fake.nextGrant()).issue();
  });

  test('a one-hour token is renewed five minutes before expiry, the cap of the default margin', async () => {
    const manager = managerWith();
    await firstToken(manager, { lifetimeMs: 3_600_000 });
    at(3_299_900);
    expect(manager.peekAccessToken()).toBe('at-1');
    expect(fake.grantCount()).toBe(1);
    at(3_300_100);
    expect(manager.peekAccessToken()).toBe('at-1');
    expect(fake.refreshGrant).toHaveBeenCalledTimes(1);
    (await fake.nextGrant()).issue();
  });

  test('a custom numeric margin from the options is honoured', async () => {
    const { refreshMargin } = resolveAuthOptions({
      tokenUrl: 'https://idp.test/connect/token',
      clientId: 'fixture-client',
      clientSecret: 'fixture-secret',
      username: 'fixture-user',
      password: 'fixture-password',
      refreshMargin: 10_000,
    });
    const manager = managerWith({ refreshMargin });
    await firstToken(manager);
    at(49_900);
    expect(manager.peekAccessToken()).toBe('at-1');
    expect(fake.grantCount()).toBe(1);
    at(50_100);
    expect(manager.peekAccessToken()).toBe('at-1');
    expect(fake.grantCount()).toBe(2);
    at(54_900);
    expect(manager.peekAccessToken()).toBe('at-1');
    at(55_100);
    expect(manager.peekAccessToken()).toBeUndefined();
    (await fake.nextGrant()).issue();
  });

  test('a margin longer than the lifetime is cut to the lifetime, so the token is still sent for its first half', async () => {
    const manager = managerWith({ refreshMargin: () => 120_000 });
    await firstToken(manager);
    at(29_900);
    expect(manager.peekAccessToken()).toBe('at-1');
    at(30_100);
    expect(manager.peekAccessToken()).toBeUndefined();
    (await fake.nextGrant()).issue();
  });

  test('a negative margin counts as none: the token is sent until it expires, without renewal', async () => {
    const manager = managerWith({ refreshMargin: () => -5_000 });
    await firstToken(manager);
    at(59_999);
    expect(manager.peekAccessToken()).toBe('at-1');
    expect(fake.grantCount()).toBe(1);
    at(60_000);
    expect(manager.peekAccessToken()).toBeUndefined();
  });
});

describe('retries and cooldown', () => {
  test('transient failures are retried inside the single flight: 100 callers share one renewal of three attempts', async () => {
    const onError = jest.fn<undefined, [OAuthBearerError]>();
    const manager = managerWith({ onError, retry: retryDefaults });
    const callers = Array.from({ length: 100 }, () => manager.getAccessToken());
    const failures = [networkFailure('password'), new TokenEndpointError('password', { status: 503, headers: {}, body: undefined }, {})];
    for (const [attempt, failure] of failures.entries()) {
      (await fake.nextGrant()).fail(failure);
      await flushMicrotasks();
      expect(jest.getTimerCount()).toBe(1);
      jest.advanceTimersByTime(retryDefaults.baseDelayMs * 2 ** attempt); // the longest the jittered wait can be
    }
    (await fake.nextGrant()).issue();
    expect(new Set(await Promise.all(callers))).toEqual(new Set(['at-1']));
    expect(fake.passwordGrant).toHaveBeenCalledTimes(3);
    expect(onError.mock.calls).toEqual(failures.map((failure) => [failure]));
  });

  test('a refused password is not retried, and within the cooldown calls fail fast with the same error and no grant', async () => {
    const manager = managerWith({ retry: retryDefaults });
    const refused = new UserAuthenticationError('password', { status: 403, headers: {}, body: undefined }, { error: 'access_denied' });
    const first = manager.getAccessToken();
    (await fake.nextGrant()).fail(refused);
    await expect(first).rejects.toBe(refused);
    at(59_000);
    await expect(manager.getAccessToken()).rejects.toBe(refused);
    expect(fake.passwordGrant).toHaveBeenCalledTimes(1);

    manager.clearCooldown();
    const retried = manager.getAccessToken();
    (await fake.nextGrant()).issue();
    expect(await retried).toBe('at-1');
  });
});
