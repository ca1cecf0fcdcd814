/**
 * A wrong password must not become one failed login per process: clients sharing a store (here two per test, as two
 * processes would, each with its own store connection) share the cooldown too.
 */
import { Redis } from 'ioredis';
import nock from 'nock';

import { type AuthClient, createAuthClient, InvalidRequestError, MemoryTokenStore, type TokenStore, UserAuthenticationError } from '../src/index.js';
import { RedisTokenStore } from '../src/redis.js';
import { TRANSIENT_FAILURE_TTL_MS } from '../src/stores/shared-failure.js';
import { type AuthServer, startAuthServer } from '../src/testing/server.js';
import { type RedisServer, startRedisServer } from './helpers/redis-server.js';

let server: AuthServer;
let redis: RedisServer;
const connections: Redis[] = [];

beforeAll(async () => {
  nock.disableNetConnect();
  nock.enableNetConnect('127.0.0.1');
  redis = await startRedisServer();
});
beforeEach(async () => {
  server = await startAuthServer();
});
afterEach(async () => {
  await server.close();
  for (const connection of connections.splice(0)) connection.disconnect();
});
afterAll(async () => {
  await redis.close();
  nock.restore();
});

let run = 0;

/** A store on its own connection; `prefix` keeps tests apart while two stores of one test share keys. */
function redisStore(prefix: string): RedisTokenStore {
  const client = new Redis({ host: redis.host, port: redis.port, retryStrategy: () => 20, maxRetriesPerRequest: 1, keyPrefix: '' });
  connections.push(client);
  return new RedisTokenStore({ client, prefix });
}

function wrongPasswordClient(store: TokenStore): AuthClient {
  return createAuthClient({ baseURL: server.apiUrl, auth: { ...server.credentials, password: 'not-the-password', store } });
}

const stores: [string, () => [TokenStore, TokenStore]][] = [
  ['a MemoryTokenStore shared in one process', () => { const shared = new MemoryTokenStore(); return [shared, shared]; }],
  ['a RedisTokenStore, one connection each', () => {
    run += 1;
    return [redisStore(`cooldown-${String(run)}`), redisStore(`cooldown-${String(run)}`)];
  }],
];

describe.each(stores)('with %s', (_name, makeStores) => {
  test('a burst of both clients with a wrong password makes one login attempt in total; all requests get the typed error', async () => {
    const [first, second] = makeStores();
    const a = wrongPasswordClient(first);
    const b = wrongPasswordClient(second);

    const results = await Promise.allSettled([...Array.from({ length: 20 }, () => a.get('/x')), ...Array.from({ length: 20 }, () => b.get('/y'))]);
    const again = await Promise.allSettled([b.get('/z')]);

    const reasons = [...results, ...again].map((r) => (r.status === 'rejected' ? (r.reason as unknown) : r));
    expect(reasons.every((reason) => reason instanceof UserAuthenticationError)).toBe(true);
    expect(server.stats.tokenRequests).toBe(1);
  });

  test('the second client fails fast from the shared cooldown, and tries once more after clearCooldown()', async () => {
    const [first, second] = makeStores();
    const a = wrongPasswordClient(first);
    const b = wrongPasswordClient(second);
    await expect(a.get('/x')).rejects.toBeInstanceOf(UserAuthenticationError);
    await expect(b.get('/y')).rejects.toBeInstanceOf(UserAuthenticationError);
    expect(server.stats.tokenRequests).toBe(1);

    // The shared cooldown (cleared by either) and each client's own (cleared by itself).
    a.tokens.clearCooldown();
    b.tokens.clearCooldown();
    await expect(b.get('/z')).rejects.toBeInstanceOf(UserAuthenticationError);

    expect(server.stats.tokenRequests).toBe(2);
  });

  test('a wrong password in the RFC dialect (400 invalid_grant) is shared as a UserAuthenticationError: one login attempt', async () => {
    server.failNext(1, 400, { error: 'invalid_grant', error_description: 'Invalid user credentials' });
    const [first, second] = makeStores();
    const a = wrongPasswordClient(first);
    const b = wrongPasswordClient(second);

    const errorA = await a.get('/x').catch((reason: unknown) => reason);
    const errorB = await b.get('/y').catch((reason: unknown) => reason);

    expect(errorA).toBeInstanceOf(UserAuthenticationError);
    expect(errorB).toBeInstanceOf(UserAuthenticationError);
    expect(errorB).toMatchObject({ status: 400, error: 'invalid_grant', message: (errorA as Error).message });
    expect(server.stats.tokenRequests).toBe(1);
  });

  test('an invalid scope is not a credential failure: shared only for a moment (no cooldown), then the other client asks for itself', async () => {
    server.failNext(2, 400, { error: 'invalid_scope' });
    const [first, second] = makeStores();
    const a = createAuthClient({ baseURL: server.apiUrl, auth: { ...server.credentials, scope: 'admin', store: first } });
    const b = createAuthClient({ baseURL: server.apiUrl, auth: { ...server.credentials, scope: 'admin', store: second } });

    await expect(a.get('/x')).rejects.toBeInstanceOf(InvalidRequestError);
    // Within the failure record's short life, the same request (the key binds the scope) gets the same answer.
    const errorB: unknown = await b.get('/y').catch((error: unknown) => error);
    expect(errorB).toBeInstanceOf(InvalidRequestError);
    expect(errorB).toMatchObject({ error: 'invalid_scope' });
    expect(server.stats.tokenRequests).toBe(1);

    await new Promise((resolve) => setTimeout(resolve, TRANSIENT_FAILURE_TTL_MS + 100));
    await expect(b.get('/y')).rejects.toBeInstanceOf(InvalidRequestError);
    expect(server.stats.tokenRequests).toBe(2);
  });
});
