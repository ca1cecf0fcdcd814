/**
 * TokenManager on its own: a fake endpoint whose grants the test answers by hand, and fake timers so that
 * `Date.now()` (all the manager reads) is the test's. Times are offsets from a fixed T0.
 */
import {
  ErrorCode,
  InvalidRequestError,
  OAuthBearerError,
  TokenEndpointError,
  TokenNetworkError,
  UserAuthenticationError,
} from '../src/errors.js';
import { defaults, resolveAuthOptions, type TokenEvent } from '../src/options.js';
import { retryDefaults } from '../src/retry.js';
import { TokenManager, type TokenManagerOptions } from '../src/token-manager.js';
import { createFakeEndpoint, type FakeEndpoint, flushMicrotasks, type IssueFields } from './helpers/fake-endpoint.js';

const T0 = Date.UTC(2025, 0, 1, 12, 0, 0);
const invalidGrant = (): InvalidRequestError =>
  new InvalidRequestError('refresh_token', { status: 400, headers: {}, body: { error: 'invalid_grant' } }, { error: 'invalid_grant' });
const networkFailure = (grant: 'password' | 'refresh_token' = 'refresh_token'): TokenNetworkError =>
  new TokenNetworkError(grant, false, new Error('socket hang up'));
const unavailable = (): TokenEndpointError =>
  new TokenEndpointError('refresh_token', { status: 503, headers: {}, body: undefined }, {});

let fake: FakeEndpoint;

beforeEach(() => {
  jest.useFakeTimers({ now: T0 });
  fake = createFakeEndpoint();
});

afterEach(() => {
  // The manager starts renewals from requests, never from timers (a retry waits on one only while it runs).
  expect(jest.getTimerCount()).toBe(0);
  jest.useRealTimers();
});

/** Retries of transient failures have their own tests below; elsewhere one failed attempt is the renewal's failure. */
const noRetry = { ...retryDefaults, attempts: 1 };

function managerWith(options: Partial<TokenManagerOptions> = {}): TokenManager {
  return new TokenManager(fake, { refreshMargin: defaults.refreshMargin, onToken: undefined, onError: undefined, retry: noRetry, ...options });
}

/** Moves the clock to T0 + `ms`. */
function at(ms: number): void {
  jest.setSystemTime(T0 + ms);
}

/** Gets the first token: the password grant, answered at the current time. */
async function firstToken(manager: TokenManager, fields?: IssueFields): Promise<string> {
  const token = manager.getAccessToken();
  (await fake.nextGrant()).issue(fields);
  return token;
}

/** Whether a promise has settled yet, read after letting microtasks run. */
function track(promise: Promise<unknown>): { settled: boolean } {
  const state = { settled: false };
  const done = (): void => {
    state.settled = true;
  };
  promise.then(done, done);
  return state;
}

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

describe('refresh grant, then password grant', () => {
  test('a refresh refused with invalid_grant falls back to exactly one password grant and the caller gets its token', async () => {
    const manager = managerWith();
    await firstToken(manager);
    at(54_100);
    const waiting = manager.getAccessToken();
    const refresh = await fake.nextGrant();
    expect([refresh.kind, refresh.refreshToken]).toEqual(['refresh_token', 'rt-1']);
    refresh.fail(invalidGrant());
    const password = await fake.nextGrant();
    expect(password.kind).toBe('password');
    password.issue();
    expect(await waiting).toBe('at-2');
    expect(fake.passwordGrant).toHaveBeenCalledTimes(2);
    expect(fake.refreshGrant).toHaveBeenCalledTimes(1);
  });

  test('after invalid_grant the dead refresh token is dropped, even when the password grant that follows fails', async () => {
    const manager = managerWith();
    await firstToken(manager);
    const first = manager.refresh();
    (await fake.nextGrant()).fail(invalidGrant());
    const failure = networkFailure('password');
    (await fake.nextGrant()).fail(failure);
    await expect(first).rejects.toBe(failure);

    const second = manager.refresh();
    const next = await fake.nextGrant();
    expect(next.kind).toBe('password');
    next.issue();
    await second;
    expect(fake.refreshGrant).toHaveBeenCalledTimes(1);
  });

  test.each([
    ['a network failure', networkFailure],
    ['a 503 answer', unavailable],
  ])('a refresh that fails with %s makes no password grant, rejects with that error and keeps the refresh token', async (_, makeError) => {
    const manager = managerWith();
    await firstToken(manager);
    const failure = makeError();
    const first = manager.refresh();
    (await fake.nextGrant()).fail(failure);
    await expect(first).rejects.toBe(failure);
    await flushMicrotasks();
    expect(fake.pending).toHaveLength(0);
    expect(fake.passwordGrant).toHaveBeenCalledTimes(1);

    const second = manager.refresh();
    expect(fake.refreshGrant).toHaveBeenCalledTimes(2);
    expect(fake.refreshGrant).toHaveBeenLastCalledWith('rt-1');
    (await fake.nextGrant()).issue();
    expect((await second).accessToken).toBe('at-2');
  });
});

describe('refresh token rotation', () => {
  test('a new refresh token in the answer replaces the old one', async () => {
    const manager = managerWith();
    await firstToken(manager);
    const first = manager.refresh();
    (await fake.nextGrant()).issue({ refreshToken: 'rt-rotated' });
    await first;
    const second = manager.refresh();
    expect(fake.refreshGrant.mock.calls).toEqual([['rt-1'], ['rt-rotated']]);
    (await fake.nextGrant()).issue();
    await second;
  });

  test('an answer without a refresh token keeps the old one', async () => {
    const manager = managerWith();
    await firstToken(manager);
    const first = manager.refresh();
    (await fake.nextGrant()).issue({ refreshToken: null });
    expect(await first).toMatchObject({ accessToken: 'at-2', refreshToken: 'rt-1' });
    expect(manager.current?.refreshToken).toBe('rt-1');
    const second = manager.refresh();
    expect(fake.refreshGrant.mock.calls).toEqual([['rt-1'], ['rt-1']]);
    (await fake.nextGrant()).issue();
    await second;
  });
});

describe('renewAfterRejection', () => {
  test('resolves without a grant when the current token is already newer than the rejected one', async () => {
    const manager = managerWith();
    await firstToken(manager);
    const sentAt = manager.attemptSeq;
    const forced = manager.refresh();
    (await fake.nextGrant()).issue();
    await forced;
    await manager.renewAfterRejection('at-1', sentAt);
    expect(fake.grantCount()).toBe(2);
    expect(manager.peekAccessToken()).toBe('at-2');
  });

  test('makes exactly one grant when the current token is the rejected one, shared by concurrent callers', async () => {
    const manager = managerWith();
    await firstToken(manager);
    const sentAt = manager.attemptSeq;
    const callers = Array.from({ length: 20 }, () => manager.renewAfterRejection('at-1', sentAt));
    expect(fake.grantCount()).toBe(2);
    (await fake.nextGrant()).issue();
    await Promise.all(callers);
    await manager.renewAfterRejection('at-1', sentAt); // a late 401 for the same token
    expect(fake.grantCount()).toBe(2);
    expect(manager.peekAccessToken()).toBe('at-2');
  });

  test('after a failed renewal, a request sent before the failure gets that same error and no new grant', async () => {
    const manager = managerWith();
    await firstToken(manager);
    const sentAt = manager.attemptSeq;
    const first = manager.renewAfterRejection('at-1', sentAt);
    const failure = unavailable();
    (await fake.nextGrant()).fail(failure);
    await expect(first).rejects.toBe(failure);
    await expect(manager.renewAfterRejection('at-1', sentAt)).rejects.toBe(failure);
    expect(fake.grantCount()).toBe(2);

    const sentAfter = manager.renewAfterRejection('at-1', manager.attemptSeq);
    expect(fake.grantCount()).toBe(3);
    (await fake.nextGrant()).issue();
    await sentAfter;
  });

  test('the rejected token is never handed out again, even while it is unexpired and its renewal failed', async () => {
    const manager = managerWith();
    await firstToken(manager);
    const renewal = manager.renewAfterRejection('at-1', manager.attemptSeq);
    expect(manager.peekAccessToken()).toBeUndefined();
    (await fake.nextGrant()).fail(networkFailure());
    await expect(renewal).rejects.toBeInstanceOf(TokenNetworkError);
    expect(manager.peekAccessToken()).toBeUndefined();
    const next = manager.getAccessToken();
    (await fake.nextGrant()).issue();
    expect(await next).toBe('at-2');
  });
});

describe('clear', () => {
  test('clear() forgets the token and the refresh token, so the next renewal is a password grant', async () => {
    const manager = managerWith();
    await firstToken(manager);
    manager.clear();
    expect(manager.current).toBeUndefined();
    expect(manager.peekAccessToken()).toBeUndefined();
    const next = manager.refresh();
    expect(fake.passwordGrant).toHaveBeenCalledTimes(2);
    expect(fake.refreshGrant).not.toHaveBeenCalled();
    (await fake.nextGrant()).issue();
    expect((await next).accessToken).toBe('at-2');
  });
});

describe('onToken and onError', () => {
  test('onToken is called once per new token set, with its source', async () => {
    const onToken = jest.fn<undefined, [TokenEvent]>();
    const manager = managerWith({ onToken });
    await firstToken(manager);
    await manager.getAccessToken();
    const forced = manager.refresh();
    (await fake.nextGrant()).issue();
    const refreshed = await forced;
    expect(onToken.mock.calls.map(([event]) => [event.tokens.accessToken, event.source])).toEqual([
      ['at-1', 'password'],
      ['at-2', 'refresh_token'],
    ]);
    expect(onToken.mock.calls[1]?.[0].tokens).toBe(refreshed);
  });

  test('an onToken that throws does not fail the request and is reported to onError', async () => {
    const onError = jest.fn<undefined, [OAuthBearerError]>();
    const manager = managerWith({ onError, onToken: () => { throw new Error('disk full'); } });
    expect(await firstToken(manager)).toBe('at-1');
    expect(onError).toHaveBeenCalledTimes(1);
    expect(onError.mock.calls[0]?.[0]).toMatchObject({ code: ErrorCode.HOOK, message: expect.stringContaining('onToken') as unknown });
  });

  test('onError receives each failure once: one for 100 callers, and both the refused refresh and the failed fallback', async () => {
    const onError = jest.fn<undefined, [OAuthBearerError]>();
    const manager = managerWith({ onError });
    const callers = Array.from({ length: 100 }, () => manager.getAccessToken());
    const failure = networkFailure('password');
    (await fake.nextGrant()).fail(failure);
    await Promise.allSettled(callers);
    expect(onError.mock.calls).toEqual([[failure]]);

    await firstToken(manager);
    const forced = manager.refresh();
    const refused = invalidGrant();
    (await fake.nextGrant()).fail(refused);
    const fallbackFailure = networkFailure('password');
    (await fake.nextGrant()).fail(fallbackFailure);
    await expect(forced).rejects.toBe(fallbackFailure);
    expect(onError.mock.calls.slice(1)).toEqual([[refused], [fallbackFailure]]);
    expect(onError.mock.calls[1]?.[0]).toBe(refused);
  });

  test('a failed background renewal is reported once, the old token is still sent, and the next request tries again', async () => {
    const onError = jest.fn<undefined, [OAuthBearerError]>();
    const manager = managerWith({ onError });
    await firstToken(manager);
    at(48_100);
    expect(manager.peekAccessToken()).toBe('at-1');
    const failure = unavailable();
    (await fake.nextGrant()).fail(failure);
    await flushMicrotasks();
    expect(onError.mock.calls).toEqual([[failure]]);
    expect(manager.peekAccessToken()).toBe('at-1');
    expect(fake.refreshGrant).toHaveBeenCalledTimes(2);
    (await fake.nextGrant()).issue();
  });

  test('an onError that throws is swallowed and callers still see the grant error', async () => {
    const manager = managerWith({
      onError: () => { throw new Error('logger down'); },
      onToken: () => { throw new Error('disk full'); },
    });
    const failure = networkFailure('password');
    const first = manager.getAccessToken();
    (await fake.nextGrant()).fail(failure);
    await expect(first).rejects.toBe(failure);
    expect(await firstToken(manager)).toBe('at-1');
  });
});

test('the manager leaves no timer behind after grants, background renewals, rejections, failures and clear()', async () => {
  const manager = managerWith();
  await firstToken(manager);
  at(48_100);
  manager.peekAccessToken();
  (await fake.nextGrant()).fail(unavailable());
  await flushMicrotasks();
  const renewal = manager.renewAfterRejection('at-1', manager.attemptSeq);
  (await fake.nextGrant()).issue();
  await renewal;
  manager.clear();
  await firstToken(manager);
  expect(jest.getTimerCount()).toBe(0);
});
