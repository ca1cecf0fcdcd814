/**
 * The renewal protocol through a leasing store, in one process: clients sharing a MemoryTokenStore stand for
 * processes sharing Redis (the same protocol; the Redis scripts have their own tests in redis-store.test.ts, the real
 * multi-process faults in redis-faults.test.ts). Against the real loopback authorization server.
 */
import nock from 'nock';

import {
  type AuthClient,
  type SingleAccountAuthOptions,
  createAuthClient,
  MemoryTokenStore,
  type OAuthBearerError,
  type LeaseRequest,
  type StoreSnapshot,
  storeKey,
  TokenNetworkError,
  UserAuthenticationError,
} from '../src/index.js';
import { type AuthServer, startAuthServer } from '../src/testing/server.js';
import { TokenStoreError } from '../src/redis.js';
import { createTokenSet } from '../src/token-set.js';

let server: AuthServer;

beforeAll(() => {
  nock.disableNetConnect();
  nock.enableNetConnect('127.0.0.1');
});
beforeEach(async () => {
  server = await startAuthServer({ expiresIn: 3600, rotateRefreshTokens: true });
});
afterEach(async () => {
  await server.close();
});
afterAll(() => nock.restore());

function client(store: MemoryTokenStore, options: Partial<SingleAccountAuthOptions> = {}, errors: OAuthBearerError[] = []): AuthClient {
  return createAuthClient({
    baseURL: server.apiUrl,
    auth: { ...server.credentials, store, onError: (error) => errors.push(error), ...options },
  });
}

/** A MemoryTokenStore whose acquire can be made to answer `unavailable` (a Redis that is down) or `held` for ever. */
class SwitchableStore extends MemoryTokenStore {
  mode: 'normal' | 'unavailable' | 'held-forever' | 'overstayed' = 'normal';
  acquires = 0;

  override acquire(key: string, request: LeaseRequest): StoreSnapshot {
    this.acquires += 1;
    if (this.mode === 'unavailable') return { state: 'unavailable' };
    if (this.mode === 'held-forever') return { state: 'held', tokens: undefined, failure: undefined };
    if (this.mode === 'overstayed') return { state: 'held', tokens: undefined, failure: undefined, holderRemainingMs: -5_000 };
    return super.acquire(key, request);
  }
}

describe('the lease', () => {
  test('a live holder whose grant takes three leases keeps its lease: one grant for all, the same token everywhere', async () => {
    const store = new MemoryTokenStore();
    server.setLatency({ tokenMs: 3_000 });
    const clients = [1, 2, 3, 4].map(() => client(store, { leaseMs: 1_000 }));

    const results = await Promise.all(clients.flatMap((api) => [api.get('/a'), api.get('/b')]));

    expect(results.map((response) => response.status)).toEqual(Array(8).fill(200));
    expect(server.stats.tokenRequests).toBe(1);
    expect(new Set(clients.map((api) => api.tokens.current?.accessToken)).size).toBe(1);
  });

  test('a holder that stops extending (it died) is taken over after about one lease', async () => {
    const store = new MemoryTokenStore();
    const api = client(store, { leaseMs: 1_000 });
    const key = await storeKey(server.credentials, store);
    // A "dead process" took the lease and will never extend, commit or release it.
    expect(store.acquire(key, { leaseMs: 1_000, holdMs: 60_000, maxFailureMs: 60_000 }).state).toBe('leased');
    const started = performance.now();

    await api.get('/x');

    const waited = performance.now() - started;
    expect(waited).toBeGreaterThanOrEqual(990);
    expect(waited).toBeLessThan(3_000);
    expect(server.stats.tokenRequests).toBe(1);
  });
});

describe('a failed renewal is shared', () => {
  test('when the holder’s grant times out, the waiters fail with the same error class at once, without a grant of their own', async () => {
    const store = new MemoryTokenStore();
    server.failNext(10, { type: 'hang' });
    const options: Partial<SingleAccountAuthOptions> = { timeout: 300, retry: { attempts: 1 } };
    const [a, b, c] = [1, 2, 3].map(() => client(store, options));

    const outcomes = await Promise.allSettled([a!.get('/a'), b!.get('/b'), c!.get('/c')]);

    for (const outcome of outcomes) {
      expect(outcome.status).toBe('rejected');
      expect(outcome.status === 'rejected' && outcome.reason).toBeInstanceOf(TokenNetworkError);
      expect(outcome.status === 'rejected' && (outcome.reason as TokenNetworkError).timedOut).toBe(true);
    }
    // One timed-out grant, not one per client in turn.
    expect(server.stats.tokenRequests).toBe(1);
  });

  test('the record is short-lived for a transient failure: a request after it makes its own grant', async () => {
    const store = new MemoryTokenStore();
    server.failNext(1, 503);
    const options: Partial<SingleAccountAuthOptions> = { retry: { attempts: 1 } };
    const [a, b] = [1, 2].map(() => client(store, options));
    await expect(a!.get('/a')).rejects.toMatchObject({ status: 503 });
    await expect(b!.get('/b')).rejects.toMatchObject({ status: 503 });
    expect(server.stats.tokenRequests).toBe(1);

    await new Promise((resolve) => setTimeout(resolve, 2_100));
    await expect(b!.get('/b')).resolves.toMatchObject({ status: 200 });
    expect(server.stats.tokenRequests).toBe(2);
  });
});

describe('degraded mode (the store cannot be reached)', () => {
  test('a refresh token that is in the store is never spent: the process makes its own password grant', async () => {
    const store = new SwitchableStore();
    const [a, b] = [1, 2].map(() => client(store));
    await a!.get('/a'); // a's own grant, committed to the store
    await b!.get('/b'); // adopts it, refresh token included
    expect(server.stats.grants).toEqual({ password: 1, refresh_token: 0 });

    store.mode = 'unavailable';
    await b!.tokens.refresh(); // adopted
    await a!.tokens.refresh(); // its own, but committed: b (or the next lease holder) may spend it too

    expect(server.stats.grants).toEqual({ password: 3, refresh_token: 0 });
  });

  test('a refresh token the process obtained while the store was away (never shared) stays usable', async () => {
    const store = new SwitchableStore();
    store.mode = 'unavailable';
    const a = client(store);
    await a.get('/a');

    await a.tokens.refresh();

    expect(server.stats.grants).toEqual({ password: 1, refresh_token: 1 });
  });

  test('a token older than the one held is not adopted from the store, however long it has left', async () => {
    const store = new MemoryTokenStore();
    const a = client(store);
    await a.get('/a');
    const held = a.tokens.current!;
    const key = await storeKey(server.credentials, store);
    store.set(key, createTokenSet({ accessToken: 'an-older-token', expiresAt: held.expiresAt - 60_000 }));

    await a.tokens.refresh();

    expect(a.tokens.current?.accessToken).not.toBe('an-older-token');
    expect(server.stats.tokenRequests).toBe(2);
  });
});

describe('waiting on a holder', () => {
  test('a waiter follows the holder’s budget, not its own: a shorter timeout of its own does not make a second grant', async () => {
    const store = new MemoryTokenStore();
    server.setLatency({ tokenMs: 3_500 });
    const holder = client(store, { leaseMs: 1_000 });
    // Its own limit would be 2 x (100 + 100) + 2 x 1000 = 2.4 s, shorter than the holder's grant.
    const waiter = client(store, { leaseMs: 1_000, timeout: 100, retry: { attempts: 1, maxElapsedMs: 100 } });
    const first = holder.tokens.getAccessToken();
    await new Promise((resolve) => setTimeout(resolve, 100));

    const [a, b] = await Promise.all([first, waiter.tokens.getAccessToken()]);

    expect(b).toBe(a);
    expect(server.stats.tokenRequests).toBe(1);
  });

  test('a holder past its own budget is given up at once and reported; the process renews alone', async () => {
    const store = new SwitchableStore();
    const errors: OAuthBearerError[] = [];
    const api = client(store, {}, errors);
    store.mode = 'overstayed';

    await api.get('/x');

    expect(server.stats.grants).toEqual({ password: 1, refresh_token: 0 });
    expect(errors.map((error) => (error instanceof TokenStoreError ? error.reason : error.code))).toEqual(['lease-overstayed']);
  });

  test('a store that does not say the holder’s budget is waited on up to this process’s own limit', async () => {
    const store = new SwitchableStore();
    const api = client(store, { leaseMs: 1_000, timeout: 100, retry: { attempts: 1, maxElapsedMs: 100 } });
    store.mode = 'held-forever';
    const started = performance.now();

    await api.get('/x');

    // The limit: 2 x (maxElapsedMs + timeout) + 2 x leaseMs = 2.4 s.
    expect(performance.now() - started).toBeGreaterThanOrEqual(2_390);
    expect(server.stats.grants).toEqual({ password: 1, refresh_token: 0 });
    expect(store.acquires).toBeGreaterThan(10);
  });

  test('a credential failure read from the store ends with its record, not a full cooldown after it was read', async () => {
    const store = new MemoryTokenStore();
    const wrong = { ...server.credentials, password: 'not-the-password' };
    const options = { cooldownMs: 2_000 };
    const a = createAuthClient({ baseURL: server.apiUrl, auth: { ...wrong, store, ...options } });
    const b = createAuthClient({ baseURL: server.apiUrl, auth: { ...wrong, store, ...options } });
    await expect(a.get('/a')).rejects.toBeInstanceOf(UserAuthenticationError);
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    await expect(b.get('/b')).rejects.toBeInstanceOf(UserAuthenticationError); // read from the record
    expect(server.stats.tokenRequests).toBe(1);

    await new Promise((resolve) => setTimeout(resolve, 800)); // the record (and so b's cooldown) is over

    await expect(b.get('/b')).rejects.toBeInstanceOf(UserAuthenticationError);
    expect(server.stats.tokenRequests).toBe(2);
  });
});

describe('clear() during a renewal', () => {
  test('the renewal in flight does not write its token: the store stays empty and the next request makes a grant', async () => {
    const store = new MemoryTokenStore();
    server.setLatency({ tokenMs: 500 });
    const api = client(store);
    const pending = api.get('/a');
    await new Promise((resolve) => setTimeout(resolve, 100));
    api.tokens.clear();
    await pending;

    expect(store.get(await storeKey(server.credentials, store))).toBeUndefined();
    await api.get('/b');
    expect(server.stats.grants).toEqual({ password: 2, refresh_token: 0 });
  });
});
