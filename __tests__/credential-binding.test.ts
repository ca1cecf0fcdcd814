/**
 * A stored token is only ever handed to the same credentials: clients that share a store (one process's
 * MemoryTokenStore, Redis with and without encryption, a user's own store) but differ in any secret never see each
 * other's token, cooldown or lock. Against the real loopback server and a real redis-server.
 */
import { Redis } from 'ioredis';
import nock from 'nock';

import {
  type AuthClient,
  createAuthClient,
  MemoryTokenStore,
  type OAuthBearerError,
  type TokenSet,
  type TokenStore,
  UserAuthenticationError,
} from '../src/index.js';
import { RedisTokenStore } from '../src/redis.js';
import { serializeTokenSet } from '../src/stores/serialize.js';
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
  nock.restore();
  await redis.close();
});

/** A store as a user might write one: a Map, no lock, no binding secret (keys are then scrypt digests). */
class RecordingStore implements TokenStore {
  readonly entries = new Map<string, TokenSet>();
  readonly seen: string[] = [];

  get(key: string): TokenSet | undefined {
    this.seen.push(key);
    return this.entries.get(key);
  }

  set(key: string, tokens: TokenSet): void {
    this.seen.push(key, serializeTokenSet(tokens));
    this.entries.set(key, tokens);
  }

  delete(key: string): void {
    this.entries.delete(key);
  }
}

let run = 0;
function redisStore(prefix: string, encryptionKey?: Buffer): RedisTokenStore {
  const client = new Redis({ host: redis.host, port: redis.port, retryStrategy: () => 20, maxRetriesPerRequest: 1 });
  connections.push(client);
  return new RedisTokenStore({ client, prefix, ...(encryptionKey === undefined ? {} : { encryptionKey }) });
}

/** Two views of one shared store, as two processes (or two clients of one process) would have. */
const stores: [string, () => [TokenStore, TokenStore]][] = [
  ['a MemoryTokenStore', () => { const shared = new MemoryTokenStore(); return [shared, shared]; }],
  ['a RedisTokenStore without encryption (scrypt keys)', () => {
    run += 1;
    return [redisStore(`bind-${String(run)}`), redisStore(`bind-${String(run)}`)];
  }],
  ['a RedisTokenStore with encryption (HMAC keys)', () => {
    run += 1;
    const key = Buffer.alloc(32, 0x42);
    return [redisStore(`bind-${String(run)}`, key), redisStore(`bind-${String(run)}`, key)];
  }],
  ['a store of the user’s own without a lock or a binding secret', () => { const shared = new RecordingStore(); return [shared, shared]; }],
];

function client(store: TokenStore, errors: OAuthBearerError[] = [], overrides: Record<string, string> = {}): AuthClient {
  return createAuthClient({
    baseURL: server.apiUrl,
    auth: { ...server.credentials, ...overrides, store, onError: (error) => void errors.push(error) },
  });
}

describe.each(stores)('with %s', (_name, makeStores) => {
  test('the right user’s stored token is not served to a client with the same username and a wrong password', async () => {
    const [first, second] = makeStores();
    const right = client(first);
    await right.get('/x');
    expect(server.stats.grants.password).toBe(1);

    const wrong = client(second, [], { password: 'not-the-password' });
    await expect(wrong.get('/y')).rejects.toBeInstanceOf(UserAuthenticationError);

    // The wrong client made a login attempt of its own (refused), and never held the right token.
    expect(server.stats.tokenRequests).toBe(2);
    expect(server.stats.failedTokenRequests).toBe(1);
    expect(wrong.tokens.current).toBeUndefined();
  });

  test('nor to a client with a wrong client secret', async () => {
    const [first, second] = makeStores();
    await client(first).get('/x');
    const wrong = client(second, [], { clientSecret: 'not-the-secret' });
    await expect(wrong.get('/y')).rejects.toMatchObject({ status: 401 });
    expect(server.stats.tokenRequests).toBe(2);
    expect(wrong.tokens.current).toBeUndefined();
  });

  test('a wrong-password client’s cooldown does not reach the right client, which logs in once', async () => {
    const [first, second] = makeStores();
    const wrong = client(first, [], { password: 'not-the-password' });
    await expect(wrong.get('/x')).rejects.toBeInstanceOf(UserAuthenticationError);
    await expect(wrong.get('/x')).rejects.toBeInstanceOf(UserAuthenticationError); // its own cooldown: no new attempt
    expect(server.stats.tokenRequests).toBe(1);

    const errors: OAuthBearerError[] = [];
    const right = client(second, errors);
    await expect(right.get('/y')).resolves.toMatchObject({ status: 200 });
    expect(server.stats.grants).toEqual({ password: 1, refresh_token: 0 });
    expect(errors).toEqual([]);
  });

  test('clients with the same credentials still share one token (one grant between them)', async () => {
    const [first, second] = makeStores();
    await client(first).get('/x');
    await client(second).get('/y');
    expect(server.stats.tokenRequests).toBe(1);
  });
});

test('a password rotation costs one grant and nothing else', async () => {
  const store = redisStore('rotation');
  const port = Number(new URL(server.url).port);
  await client(store).get('/x'); // the old password's token is in the store
  await server.close();
  server = await startAuthServer({ port, password: 'rotated-password' });

  const errors: OAuthBearerError[] = [];
  const rotated = client(store, errors, { password: 'rotated-password' });
  const results = await Promise.all(Array.from({ length: 10 }, () => rotated.get('/y')));

  expect(results.map((response) => response.status)).toEqual(Array.from({ length: 10 }, () => 200));
  expect(server.stats.tokenRequests).toBe(1);
  expect(server.stats.grants.password).toBe(1);
  expect(server.stats.api401s).toBe(0);
  expect(errors).toEqual([]);
});

test('a store of the user’s own sees no secret in any key or value, in any common encoding', async () => {
  const store = new RecordingStore();
  await client(store).get('/x');
  const { password, clientSecret } = server.credentials;
  const seen = store.seen.join('\n');
  expect(store.seen.length).toBeGreaterThan(0);
  for (const secret of [password, clientSecret]) {
    for (const form of [secret, encodeURIComponent(secret), Buffer.from(secret).toString('base64'), JSON.stringify(secret)]) {
      expect(seen).not.toContain(form);
    }
  }
});

test('a store of the user’s own that hands back a plain object is checked like a token response before it is used', async () => {
  const planted = { accessToken: 'planted token with spaces', expiresAt: Date.now() + 60_000 };
  const store: TokenStore = { get: () => planted as unknown as TokenSet, set: () => undefined, delete: () => undefined };
  const errors: OAuthBearerError[] = [];
  const api = client(store, errors);
  await api.get('/x');
  expect(server.stats.grants.password).toBe(1); // the planted value was refused: the client made its own grant
  expect(api.tokens.current?.accessToken).not.toBe(planted.accessToken);
  expect(errors.map((error) => error.code)).toContain('ERR_OAUTH_TOKEN_STORE');

  const fine = { accessToken: 'stored-token-OK', expiresAt: Date.now() + 60_000, refreshToken: 'stored-refresh-OK' };
  const adopting = client({ get: () => fine as unknown as TokenSet, set: () => undefined, delete: () => undefined });
  expect(await adopting.tokens.getAccessToken()).toBe('stored-token-OK'); // adopted: no grant
  expect(server.stats.grants.password).toBe(1);
  expect(JSON.stringify(adopting.tokens.current)).not.toContain('stored-token-OK');
});
