/**
 * TokenManager, renewing a token it has: the refresh grant and its fallback to the password grant, refresh token
 * rotation, renewal after a rejected token, clear(), and no timer left behind. Setup (fake endpoint, fake timers at T0)
 * is in helpers/token-manager-harness.
 */
import { TokenEndpointError, TokenNetworkError } from '../src/errors.js';
import { flushMicrotasks } from './helpers/fake-endpoint.js';
import { at, fake, firstToken, invalidGrant, managerWith, networkFailure, unavailable, useTokenManagerHarness } from './helpers/token-manager-harness.js';

useTokenManagerHarness();

/** The promise, with a no-op handler attached: a test that fails before awaiting it must not crash the worker. */
function observed<T>(promise: Promise<T>): Promise<T> {
  promise.catch(() => undefined);
  return promise;
}

/** An escalated password grant answered with 503. */
const passwordUnavailable = (): TokenEndpointError => new TokenEndpointError('password', { status: 503, headers: {}, body: undefined }, {});

/** Fails the renewal in flight: its refresh with a 503, then the escalated password grant; returns the error callers get. */
async function failRenewal(): Promise<Error> {
  (await fake.nextGrant()).fail(unavailable());
  const failure = passwordUnavailable();
  (await fake.nextGrant()).fail(failure);
  return failure;
}

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
  ])('a refresh that fails with %s escalates to exactly one password grant, whose token replaces the old set', async (_, makeError) => {
    const manager = managerWith();
    await firstToken(manager);
    const renewal = observed(manager.refresh());
    (await fake.nextGrant()).fail(makeError());
    const password = await fake.nextGrant();
    expect(password.kind).toBe('password');
    password.issue();

    expect(await renewal).toMatchObject({ accessToken: 'at-2', refreshToken: 'rt-2' });
    expect(manager.current?.refreshToken).toBe('rt-2');
    expect([fake.refreshGrant.mock.calls.length, fake.passwordGrant.mock.calls.length]).toEqual([1, 2]);
  });

  test.each([
    ['a network failure', networkFailure],
    ['a 503 answer', unavailable],
  ])('a refresh that fails with %s and an escalated password grant that fails reject with the password error, keeping the refresh token', async (_, makeError) => {
    const manager = managerWith();
    await firstToken(manager);
    const refreshFailure = makeError();
    const passwordFailure = passwordUnavailable();
    const first = observed(manager.refresh());
    (await fake.nextGrant()).fail(refreshFailure);
    (await fake.nextGrant()).fail(passwordFailure);

    await expect(first).rejects.toBe(passwordFailure);
    expect(passwordFailure.cause).toBe(refreshFailure);
    await flushMicrotasks();
    expect(fake.pending).toHaveLength(0);
    expect(fake.passwordGrant).toHaveBeenCalledTimes(2);

    const second = manager.refresh();
    expect(fake.refreshGrant).toHaveBeenCalledTimes(2);
    expect(fake.refreshGrant).toHaveBeenLastCalledWith('rt-1');
    (await fake.nextGrant()).issue();
    expect((await second).accessToken).toBe('at-2');
  });

  test('an escalated password grant that fails with a network error keeps its socket error as cause', async () => {
    const manager = managerWith();
    await firstToken(manager);
    const passwordFailure = networkFailure('password');
    const socketError = passwordFailure.cause;
    const renewal = observed(manager.refresh());
    (await fake.nextGrant()).fail(unavailable());
    (await fake.nextGrant()).fail(passwordFailure);

    await expect(renewal).rejects.toBe(passwordFailure);
    expect(passwordFailure.cause).toBe(socketError);
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
    const sentAt = manager.replay.attemptSeq;
    const forced = manager.refresh();
    (await fake.nextGrant()).issue();
    await forced;
    await manager.replay.renewAfterRejection('at-1', sentAt);
    expect(fake.grantCount()).toBe(2);
    expect(manager.peekAccessToken()).toBe('at-2');
  });

  test('makes exactly one grant when the current token is the rejected one, shared by concurrent callers', async () => {
    const manager = managerWith();
    await firstToken(manager);
    const sentAt = manager.replay.attemptSeq;
    const callers = Array.from({ length: 20 }, () => manager.replay.renewAfterRejection('at-1', sentAt));
    expect(fake.grantCount()).toBe(2);
    (await fake.nextGrant()).issue();
    await Promise.all(callers);
    await manager.replay.renewAfterRejection('at-1', sentAt); // a late 401 for the same token
    expect(fake.grantCount()).toBe(2);
    expect(manager.peekAccessToken()).toBe('at-2');
  });

  test('after a failed renewal, a request sent before the failure gets that same error and no new grant', async () => {
    const manager = managerWith();
    await firstToken(manager);
    const sentAt = manager.replay.attemptSeq;
    const first = observed(manager.replay.renewAfterRejection('at-1', sentAt));
    const failure = await failRenewal();
    await expect(first).rejects.toBe(failure);
    await expect(manager.replay.renewAfterRejection('at-1', sentAt)).rejects.toBe(failure);
    expect(fake.grantCount()).toBe(3);

    // A request that starts after the failure never carries at-1: it asks for a token, and that tries again.
    const next = manager.getAccessToken();
    expect(fake.grantCount()).toBe(4);
    (await fake.nextGrant()).issue();
    expect(await next).toBe('at-2');
  });

  test('a renewal that failed before the token was first refused does not count: the 401 gets a renewal of its own', async () => {
    const manager = managerWith();
    await firstToken(manager);
    const sentAt = manager.replay.attemptSeq;
    const background = observed(manager.refresh()); // e.g. the proactive renewal this request's send started
    const failure = await failRenewal();
    await expect(background).rejects.toBe(failure);

    const afterRejection = manager.replay.renewAfterRejection('at-1', sentAt);
    expect(fake.grantCount()).toBe(4);
    (await fake.nextGrant()).issue();
    await afterRejection;
    expect(manager.peekAccessToken()).toBe('at-2');
  });

  test('the rejected token is never handed out again, even while it is unexpired and its renewal failed', async () => {
    const manager = managerWith();
    await firstToken(manager);
    const renewal = observed(manager.replay.renewAfterRejection('at-1', manager.replay.attemptSeq));
    expect(manager.peekAccessToken()).toBeUndefined();
    (await fake.nextGrant()).fail(networkFailure());
    (await fake.nextGrant()).fail(networkFailure('password'));
    await expect(renewal).rejects.toBeInstanceOf(TokenNetworkError);
    expect(manager.peekAccessToken()).toBeUndefined();
    const next = manager.getAccessToken();
    (await fake.nextGrant()).issue();
    expect(await next).toBe('at-2');
  });
});

describe('clear', () => {
  test('clear() during a renewal in flight sticks: the waiting caller gets its token, the cache stays empty', async () => {
    const manager = managerWith();
    await firstToken(manager);
    const inFlight = manager.refresh();
    manager.clear();
    (await fake.nextGrant()).issue();

    expect((await inFlight).accessToken).toBe('at-2');
    expect(manager.current).toBeUndefined();
    const next = manager.getAccessToken();
    expect(fake.passwordGrant).toHaveBeenCalledTimes(2);
    (await fake.nextGrant()).issue();
    expect(await next).toBe('at-3');
  });

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

test('the manager leaves no timer behind after grants, background renewals, rejections, failures and clear()', async () => {
  const manager = managerWith();
  await firstToken(manager);
  at(48_100);
  manager.peekAccessToken();
  await failRenewal();
  await flushMicrotasks();
  const renewal = observed(manager.replay.renewAfterRejection('at-1', manager.replay.attemptSeq));
  (await fake.nextGrant()).issue();
  await renewal;
  manager.clear();
  await firstToken(manager);
  expect(jest.getTimerCount()).toBe(0);
});
