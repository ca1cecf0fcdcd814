/**
 * Errors that say what to do (issue 18, first part): an error inside the cooldown says when it ends (`retryAfterMs`,
 * `cooldownEndsAt`, its message), and a retried failure how many attempts it took over how long. On the in-memory
 * authority, whose token calls are counted.
 */
import { inspect } from 'node:util';

import { createAuthClient, InvalidRequestError, TokenEndpointError, TokenNetworkError, UserAuthenticationError } from '../src/index.js';
import { createMemoryAuthority, type MemoryAuthority } from '../src/testing/memory.js';

let authority: MemoryAuthority;
beforeEach(() => {
  authority = createMemoryAuthority();
});

function client(overrides: Record<string, unknown> = {}) {
  return createAuthClient({ baseURL: authority.apiUrl, adapter: authority.adapter, auth: { ...authority.credentials, ...overrides } });
}

async function failure(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => undefined,
    (reason: unknown) => reason,
  );
}

describe('a cooldown error says when it ends', () => {
  test('retryAfterMs counts down from cooldownMs, cooldownEndsAt is that instant, and the message says how to end it', async () => {
    const api = client({ password: 'wrong', cooldownMs: 30_000 });
    const before = Date.now();
    const first = await failure(api.get('/a'));
    expect(first).toBeInstanceOf(UserAuthenticationError);
    const error = first as UserAuthenticationError;
    expect(error.retryAfterMs).toBeGreaterThan(25_000);
    expect(error.retryAfterMs).toBeLessThanOrEqual(30_000);
    expect(error.cooldownEndsAt?.getTime()).toBeGreaterThanOrEqual(before + 30_000);
    expect(error.message).toMatch(/; renewals fail fast with this error until the cooldown ends \(err\.retryAfterMs, err\.cooldownEndsAt\) or tokens\.clearCooldown\(\) is called$/);
    expect(JSON.parse(JSON.stringify(error))).toMatchObject({ retryAfterMs: expect.any(Number) as unknown });
    // Inside the cooldown: the same error, with no new token request, and the message says so once.
    const second = await failure(api.get('/b'));
    expect(second).toBe(error);
    expect(error.message.match(/renewals fail fast/g)).toHaveLength(1);
    expect(authority.stats.tokenRequests).toBe(1);
    expect(inspect(error, { depth: null })).not.toContain('wrong');
  });

  test('an error that starts no cooldown has no retryAfterMs', async () => {
    const error = await failure(client({ scope: 'admin' }).get('/a'));
    expect(error).toBeInstanceOf(InvalidRequestError);
    expect((error as InvalidRequestError).retryAfterMs).toBeUndefined();
    expect(JSON.parse(JSON.stringify(error))).not.toHaveProperty('retryAfterMs');
  });

  test('cooldownMs 0: no cooldown, no retryAfterMs', async () => {
    const error = await failure(client({ password: 'wrong', cooldownMs: 0 }).get('/a'));
    expect((error as UserAuthenticationError).retryAfterMs).toBeUndefined();
  });
});

describe('a retried failure says how many attempts it took, over how long', () => {
  test('three connection resets: a TokenNetworkError with attempts 3 and the time they took', async () => {
    authority.failNext(3, { type: 'reset' });
    const error = await failure(client({ retry: { attempts: 3, baseDelayMs: 5, maxDelayMs: 5 } }).get('/a'));
    expect(error).toBeInstanceOf(TokenNetworkError);
    expect(error).toMatchObject({ attempts: 3, elapsedMs: expect.any(Number) as unknown });
    expect((error as TokenNetworkError).message).toMatch(/ \(after 3 attempts over \d+\.\d s\)$/);
    expect(authority.stats.tokenRequests).toBe(3);
  });

  test('two 503s with attempts 2: a TokenEndpointError that says so', async () => {
    authority.failNext(2, 503);
    const error = await failure(client({ retry: { attempts: 2, baseDelayMs: 1, maxDelayMs: 1 } }).get('/a'));
    expect(error).toBeInstanceOf(TokenEndpointError);
    expect(error).toMatchObject({ status: 503, attempts: 2 });
  });

  test('a single attempt adds nothing', async () => {
    authority.failNext(1, { type: 'reset' });
    const error = await failure(client({ retry: { attempts: 1 } }).get('/a'));
    expect(error).toBeInstanceOf(TokenNetworkError);
    expect((error as TokenNetworkError).attempts).toBeUndefined();
    expect((error as TokenNetworkError).message).not.toContain('attempts');
  });
});
