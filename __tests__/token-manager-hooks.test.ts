/**
 * TokenManager's hooks: onToken once per new token set, onError once per failure, and neither hook able to fail a
 * request by throwing. Setup (fake endpoint, fake timers at T0) is in helpers/token-manager-harness.
 */
import { ErrorCode, type OAuthBearerError, TokenEndpointError } from '../src/errors.js';
import type { TokenEvent } from '../src/options.js';
import { flushMicrotasks } from './helpers/fake-endpoint.js';
import { at, fake, firstToken, invalidGrant, managerWith, networkFailure, unavailable, useTokenManagerHarness } from './helpers/token-manager-harness.js';

useTokenManagerHarness();

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
    // A refresh that fails transiently escalates to one password grant; it fails too (the endpoint is down).
    const escalated = new TokenEndpointError('password', { status: 503, headers: {}, body: undefined }, {});
    (await fake.nextGrant()).fail(escalated);
    await flushMicrotasks();
    expect(onError.mock.calls).toEqual([[failure], [escalated]]);
    expect(manager.peekAccessToken()).toBe('at-1');
    expect(fake.refreshGrant).toHaveBeenCalledTimes(2);
    expect(fake.passwordGrant).toHaveBeenCalledTimes(2); // the first token, and the escalation
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
