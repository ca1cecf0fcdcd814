/** Two clients of one process sharing a MemoryTokenStore, against the real loopback server (which rotates refresh tokens). */
import nock from 'nock';

import { type AuthClient, createAuthClient, MemoryTokenStore, type OAuthBearerError, type LeaseRequest, type StoreSnapshot, storeKey } from '../src/index.js';
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
  jest.restoreAllMocks();
  await server.close();
});
afterAll(() => nock.restore());

function clients(store: MemoryTokenStore, errors: OAuthBearerError[]): AuthClient[] {
  return [1, 2].map(() =>
    createAuthClient({ baseURL: server.apiUrl, auth: { ...server.credentials, store, onError: (e) => errors.push(e) } }),
  );
}

test('two clients sharing a MemoryTokenStore make one password grant between them', async () => {
  const errors: OAuthBearerError[] = [];
  const [a, b] = clients(new MemoryTokenStore(), errors);

  await Promise.all([a!.get('/x'), b!.get('/y')]);

  expect(server.stats.grants).toEqual({ password: 1, refresh_token: 0 });
  expect(a!.tokens.current?.accessToken).toBe(b!.tokens.current?.accessToken);
  expect(errors).toEqual([]);
});

test('at expiry they renew once between them and never spend a rotated refresh token twice', async () => {
  // Time passes on both clocks: the server's (wall clock) and the clients' schedules (monotonic).
  const realNow = Date.now.bind(Date);
  const realMonotonic = performance.now.bind(performance);
  let offset = 0;
  jest.spyOn(Date, 'now').mockImplementation(() => realNow() + offset);
  jest.spyOn(performance, 'now').mockImplementation(() => realMonotonic() + offset);
  const errors: OAuthBearerError[] = [];
  const [a, b] = clients(new MemoryTokenStore(), errors);
  await Promise.all([a!.get('/x'), b!.get('/y')]);
  offset = 3_601_000; // past expires_in, for the server and both clients

  const results = await Promise.allSettled([...Array.from({ length: 20 }, () => a!.get('/x')), ...Array.from({ length: 20 }, () => b!.get('/y'))]);

  expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(40);
  expect(server.stats.grants).toEqual({ password: 1, refresh_token: 1 });
  expect(server.stats.failedTokenRequests).toBe(0);
  expect(server.stats.api401s).toBe(0); // renewed because it expired, not because the API refused it
  expect(errors).toEqual([]);
});

test('a store’s keyPrefix names every key the library makes for it; the key itself is the library’s', async () => {
  const keys: string[] = [];
  class NamespacedStore extends MemoryTokenStore {
    readonly keyPrefix = 'tenant-a';
    override acquire(key: string, request: LeaseRequest): StoreSnapshot {
      keys.push(key);
      return super.acquire(key, request);
    }
  }
  const store = new NamespacedStore();
  const api = createAuthClient({ baseURL: server.apiUrl, auth: { ...server.credentials, scope: 'read', store } });
  await api.get('/x');

  expect(keys).toEqual([await storeKey({ ...server.credentials, scope: 'read' }, store)]);
  expect(keys[0]).toMatch(/^tenant-a:tokens:\{[0-9a-f]{64}\}$/);
});
