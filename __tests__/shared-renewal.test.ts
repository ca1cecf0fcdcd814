/**
 * The renewal protocol through a leasing store, in one process: clients sharing a MemoryTokenStore stand for
 * processes sharing Redis (the same protocol; the Redis scripts have their own tests in redis-store.test.ts, the real
 * multi-process faults in redis-faults.test.ts). Against the real loopback authorization server.
 */
import nock from 'nock';

import {
  type AuthClient,
  type AuthOptions,
  createAuthClient,
  MemoryTokenStore,
  type OAuthBearerError,
  type StoreSnapshot,
  storeKey,
  TokenNetworkError,
} from '../src/index.js';
import { type AuthServer, startAuthServer } from '../src/testing/server.js';

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

function client(store: MemoryTokenStore, options: Partial<AuthOptions> = {}, errors: OAuthBearerError[] = []): AuthClient {
  return createAuthClient({
    baseURL: server.apiUrl,
    auth: { ...server.credentials, store, onError: (error) => errors.push(error), ...options },
  });
}

/** A MemoryTokenStore whose acquire can be made to answer `unavailable` (a Redis that is down) or `held` for ever. */
class SwitchableStore extends MemoryTokenStore {
  mode: 'normal' | 'unavailable' | 'held-forever' = 'normal';
  acquires = 0;

  override acquire(key: string, leaseMs: number): StoreSnapshot {
    this.acquires += 1;
    if (this.mode === 'unavailable') return { state: 'unavailable' };
    if (this.mode === 'held-forever') return { state: 'held', tokens: undefined, failure: undefined };
    return super.acquire(key, leaseMs);
  }
}

describe('the lease', () => {
  test('a live holder whose grant takes eight leases keeps its lease: one grant for all, the same token everywhere', async () => {
    const store = new MemoryTokenStore();
    server.setLatency({ tokenMs: 800 });
    const clients = [1, 2, 3, 4].map(() => client(store, { leaseMs: 100 }));

    const results = await Promise.all(clients.flatMap((api) => [api.get('/a'), api.get('/b')]));

    expect(results.map((response) => response.status)).toEqual(Array(8).fill(200));
    expect(server.stats.tokenRequests).toBe(1);
    expect(new Set(clients.map((api) => api.tokens.current?.accessToken)).size).toBe(1);
  });

  test('a holder that stops extending (it died) is taken over after about one lease', async () => {
    const store = new MemoryTokenStore();
    const api = client(store, { leaseMs: 150 });
    const key = await storeKey(server.credentials, store);
    // A "dead process" took the lease and will never extend, commit or release it.
    expect(store.acquire(key, 150).state).toBe('leased');
    const started = performance.now();

    await api.get('/x');

    const waited = performance.now() - started;
    expect(waited).toBeGreaterThanOrEqual(140);
    expect(waited).toBeLessThan(2_000);
    expect(server.stats.tokenRequests).toBe(1);
  });
});

describe('a failed renewal is shared', () => {
  test('when the holder’s grant times out, the waiters fail with the same error class at once, without a grant of their own', async () => {
    const store = new MemoryTokenStore();
    server.failNext(10, { type: 'hang' });
    const options: Partial<AuthOptions> = { timeout: 300, retry: { attempts: 1 }, leaseMs: 100 };
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
    const options: Partial<AuthOptions> = { retry: { attempts: 1 } };
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
  test('a refresh token adopted from the store is never spent: the process makes its own password grant', async () => {
    const store = new SwitchableStore();
    const [a, b] = [1, 2].map(() => client(store));
    await a!.get('/a');
    await b!.get('/b'); // adopts a's token set, refresh token included
    expect(server.stats.grants).toEqual({ password: 1, refresh_token: 0 });

    store.mode = 'unavailable';
    await b!.tokens.refresh();

    expect(server.stats.grants).toEqual({ password: 2, refresh_token: 0 });
  });

  test('a refresh token the process obtained itself stays usable', async () => {
    const store = new SwitchableStore();
    const a = client(store);
    await a.get('/a');
    store.mode = 'unavailable';

    await a.tokens.refresh();

    expect(server.stats.grants).toEqual({ password: 1, refresh_token: 1 });
  });

  test('a lease held longer than any grant can take is waited out, then the process renews alone', async () => {
    const store = new SwitchableStore();
    const api = client(store, { leaseMs: 50, timeout: 100, retry: { attempts: 1, maxElapsedMs: 100 } });
    store.mode = 'held-forever';
    const started = performance.now();

    await api.get('/x');

    // The wait limit: 2 x (maxElapsedMs + timeout) + 2 x leaseMs = 500 ms.
    expect(performance.now() - started).toBeGreaterThanOrEqual(490);
    expect(server.stats.grants).toEqual({ password: 1, refresh_token: 0 });
    expect(store.acquires).toBeGreaterThan(3);
  });
});
