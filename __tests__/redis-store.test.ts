/**
 * RedisTokenStore against a real redis-server started by this file (never a mock). Two stores on two clients stand
 * for two processes sharing one Redis.
 */
import { once } from 'node:events';
import { inspect } from 'node:util';
import { type Cluster, Redis, type RedisOptions } from 'ioredis';
import { OAuthBearerError } from '../src/errors.js';
import { RedisTokenStore, type RedisStoreClient, type RedisTokenStoreOptions } from '../src/redis.js';
import { TokenStoreError } from '../src/stores/errors.js';
import { lockKeyFor, storeKey } from '../src/stores/key.js';
import { createTokenSet, type TokenSet } from '../src/token-set.js';
import { type RedisServer, startRedisServer } from './helpers/redis-server.js';

// Compile-time only: both ioredis client classes fit the store's client interface.
export type ClientFits = [Redis, Cluster] extends [RedisStoreClient, RedisStoreClient] ? true : never;
const fits: ClientFits = true;

const credentials = {
  tokenUrl: 'https://auth.example/connect/token',
  clientId: 'client-id-7',
  clientSecret: 'client-secret-SQUEAMISH',
  username: 'ada.lovelace@example.com',
  password: 'password-OSSIFRAGE',
  scope: 'api offline_access',
};
const ACCESS_TOKEN = 'access-token-XYZZY-1';
const REFRESH_TOKEN = 'refresh-token-PLUGH-1';
const KEY_A = Buffer.alloc(32, 0xa1);
const KEY_B = Buffer.alloc(32, 0xb2);

function tokens(lifetimeMs = 60_000): TokenSet {
  return createTokenSet({
    accessToken: ACCESS_TOKEN,
    expiresAt: Date.now() + lifetimeMs,
    refreshToken: REFRESH_TOKEN,
    scope: 'api',
  });
}

let server: RedisServer;
let admin: Redis;
const clients: Redis[] = [];

// Quick reconnects; a queued command fails after one failed reconnect (ioredis's default waits for 20).
const failFast: RedisOptions = { retryStrategy: (): number => 20, maxRetriesPerRequest: 1 };

function connect(options: RedisOptions = failFast): Redis {
  const client = new Redis({ host: server.host, port: server.port, ...options });
  client.on('error', () => undefined); // ioredis prints unhandled 'error' events; the store reports its own.
  clients.push(client);
  return client;
}

function store(options: Partial<RedisTokenStoreOptions> = {}): { store: RedisTokenStore; errors: TokenStoreError[] } {
  const errors: TokenStoreError[] = [];
  const onError = (error: TokenStoreError): void => void errors.push(error);
  const created = new RedisTokenStore({ client: options.client ?? connect(), onError, ...options });
  return { store: created, errors };
}

async function ready(client: Redis): Promise<void> {
  if (client.status !== 'ready') await once(client, 'ready');
}

async function waitUntilGone(key: string): Promise<void> {
  while ((await admin.exists(key)) === 1) await new Promise((resolve) => setTimeout(resolve, 10));
}

beforeAll(async () => {
  server = await startRedisServer();
  admin = connect();
});

beforeEach(async () => {
  await admin.flushall();
});

afterAll(async () => {
  for (const client of clients) client.disconnect();
  await server.close();
});

describe('RedisTokenStore', () => {
  test('the client interface is satisfied by an ioredis Redis and Cluster', () => {
    expect(fits).toBe(true);
  });

  test('a token set read back after set equals the one stored', async () => {
    const { store: a, errors } = store();
    const key = await storeKey(credentials, a);
    const stored = tokens();
    await a.set(key, stored);
    await expect(a.get(key)).resolves.toEqual(stored);
    expect((await a.get(key))?.refreshToken).toBe(REFRESH_TOKEN);
    expect(errors).toEqual([]);
  });

  test('a token set is stored with an expiry of its lifetime plus a few seconds of grace', async () => {
    const { store: a } = store();
    const key = await storeKey(credentials, a);
    await a.set(key, tokens(60_000));
    const ttl = await admin.pttl(key);
    expect(ttl).toBeGreaterThan(55_000);
    expect(ttl).toBeLessThanOrEqual(65_000);
  });

  test('a token set that expired long ago is not stored', async () => {
    const { store: a } = store();
    const key = await storeKey(credentials, a);
    await a.set(key, tokens(-60_000));
    expect(await admin.exists(key)).toBe(0);
  });

  test('a key that was never set, or was deleted, reads as no token without any report', async () => {
    const { store: a, errors } = store();
    const key = await storeKey(credentials, a);
    await expect(a.get(key)).resolves.toBeUndefined();
    await a.set(key, tokens());
    await a.delete(key);
    await expect(a.get(key)).resolves.toBeUndefined();
    expect(errors).toEqual([]);
  });

  test('no key in Redis contains a credential, a token or the username', async () => {
    const { store: a } = store({ prefix: 'app' });
    const key = await storeKey(credentials, a);
    await a.set(key, tokens());
    await a.tryLock(key, 10_000);
    const keys = await admin.keys('*');
    expect(keys.sort()).toEqual([key, lockKeyFor(key)].sort());
    expect(key).toMatch(/^app:tokens:[0-9a-f]{64}$/);
    const secrets = [credentials.password, credentials.clientSecret, credentials.username, ACCESS_TOKEN, REFRESH_TOKEN];
    for (const secret of [...secrets, 'ada.lovelace', 'SQUEAMISH', 'OSSIFRAGE']) {
      for (const stored of keys) expect(stored).not.toContain(secret);
    }
  });

  test('with an encryptionKey the raw value holds neither token and still reads back equal', async () => {
    const { store: a, errors } = store({ encryptionKey: KEY_A });
    const key = await storeKey(credentials, a);
    const stored = tokens();
    await a.set(key, stored);
    const raw = await admin.get(key);
    expect(raw).toMatch(/^v1\.[\w-]+\.[\w-]+\.[\w-]+$/);
    expect(raw).not.toContain(ACCESS_TOKEN);
    expect(raw).not.toContain(REFRESH_TOKEN);
    await expect(a.get(key)).resolves.toEqual(stored);
    expect(errors).toEqual([]);
  });

  test('a value encrypted under another key reads as no token and reports one error without any secret', async () => {
    const { store: writer } = store({ encryptionKey: KEY_A });
    const { store: reader, errors } = store({ encryptionKey: KEY_B.toString('base64') });
    const key = await storeKey(credentials, writer);
    await writer.set(key, tokens());
    await expect(reader.get(key)).resolves.toBeUndefined();
    expect(errors).toHaveLength(1);
    const [error] = errors;
    expect(error).toBeInstanceOf(TokenStoreError);
    expect(error).toBeInstanceOf(OAuthBearerError);
    expect(error).toMatchObject({ code: 'ERR_OAUTH_TOKEN_STORE', operation: 'get', reason: 'undecryptable', key });
    const printed = `${inspect(error, { depth: null, showHidden: true })}\n${JSON.stringify(error)}`;
    const raw = (await admin.get(key))!;
    for (const secret of [ACCESS_TOKEN, REFRESH_TOKEN, raw, ...[KEY_A, KEY_B].flatMap(keyForms)]) {
      expect(printed).not.toContain(secret);
    }
  });

  test('an encrypted value moved to another key is refused', async () => {
    const { store: a, errors } = store({ encryptionKey: KEY_A });
    const key = await storeKey(credentials, a);
    const other = await storeKey({ ...credentials, username: 'grace.hopper@example.com' });
    await a.set(key, tokens());
    await admin.set(other, (await admin.get(key))!);
    await expect(a.get(other)).resolves.toBeUndefined();
    expect(errors.map((error) => [error.operation, error.reason])).toEqual([['get', 'undecryptable']]);
  });

  test('a stored value that is not a token set reads as no token and reports an invalid value', async () => {
    const { store: a, errors } = store();
    const key = await storeKey(credentials, a);
    await admin.set(key, JSON.stringify({ accessToken: ACCESS_TOKEN }));
    await expect(a.get(key)).resolves.toBeUndefined();
    expect(errors.map((error) => error.reason)).toEqual(['invalid-value']);
    expect(errors[0]?.message).toMatch(/expiresAt/);
    expect(errors[0]?.message).not.toContain(ACCESS_TOKEN);
  });
});

describe('RedisTokenStore.tryLock', () => {
  test('a second tryLock on a held key resolves undefined, and the owner’s release frees it', async () => {
    const { store: a } = store();
    const { store: b } = store();
    const key = await storeKey(credentials, a);
    const release = await a.tryLock(key, 10_000);
    expect(release).toBeInstanceOf(Function);
    await expect(b.tryLock(key, 10_000)).resolves.toBeUndefined();
    await expect(a.tryLock(key, 10_000)).resolves.toBeUndefined();
    await release!();
    expect(await admin.exists(lockKeyFor(key))).toBe(0);
    await expect(b.tryLock(key, 10_000)).resolves.toBeInstanceOf(Function);
  });

  test('a release after the lock expired and was retaken does not delete the new owner’s lock', async () => {
    const { store: a } = store();
    const { store: b } = store();
    const key = await storeKey(credentials, a);
    const staleRelease = await a.tryLock(key, 30);
    await waitUntilGone(lockKeyFor(key));
    const release = await b.tryLock(key, 10_000);
    expect(release).toBeInstanceOf(Function);
    await staleRelease!();
    expect(await admin.exists(lockKeyFor(key))).toBe(1);
    await expect(a.tryLock(key, 10_000)).resolves.toBeUndefined();
    await release!();
    expect(await admin.exists(lockKeyFor(key))).toBe(0);
  });

  test('a lock expires by itself after its ttl', async () => {
    const { store: a } = store();
    const { store: b } = store();
    const key = await storeKey(credentials, a);
    await a.tryLock(key, 50);
    const ttl = await admin.pttl(lockKeyFor(key));
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(50);
    await waitUntilGone(lockKeyFor(key));
    await expect(b.tryLock(key, 10_000)).resolves.toBeInstanceOf(Function);
  });

  test('a ttl that is not a positive number is a caller bug and rejects', async () => {
    const { store: a } = store();
    await expect(a.tryLock(await storeKey(credentials, a), 0)).rejects.toThrow(RangeError);
  });
});

describe('RedisTokenStore when Redis is slow or down', () => {
  test('a Redis that does not answer in time makes get resolve undefined and report a timeout', async () => {
    const { store: a, errors } = store({ operationTimeoutMs: 200 });
    const key = await storeKey(credentials, a);
    await a.set(key, tokens());
    // CLIENT PAUSE holds every client's commands (this one's too) until the pause ends: a real slow Redis.
    await admin.call('CLIENT', 'PAUSE', '1000', 'ALL');
    await expect(a.get(key)).resolves.toBeUndefined();
    expect(errors.map((error) => [error.operation, error.reason])).toEqual([['get', 'timeout']]);
    await admin.ping(); // answered once the pause is over
    await expect(a.get(key)).resolves.toBeDefined();
  });

  test('a lock command that times out proceeds locally, and frees the lock when it lands late', async () => {
    const client = connect();
    const { store: a, errors } = store({ client, operationTimeoutMs: 100 });
    const key = await storeKey(credentials, a);
    await admin.call('CLIENT', 'PAUSE', '500', 'ALL');
    await expect(a.tryLock(key, 10_000)).resolves.toBeInstanceOf(Function);
    expect(errors.map((error) => [error.operation, error.reason])).toEqual([['lock', 'timeout']]);
    // The SET NX runs once the pause ends (a PING behind it on the same connection answers after it); left alone it
    // would hold the lock for 10 s with nobody renewing.
    await client.ping();
    await waitUntilGone(lockKeyFor(key));
    await expect(store().store.tryLock(key, 10_000)).resolves.toBeInstanceOf(Function);
  });

  test.each([
    ['a fail-fast client', failFast, 500],
    // 20 retries 20 ms apart take 400 ms at least: the store's 250 ms timeout gives up first.
    ["ioredis's defaults (offline queue, 20 retries)", { retryStrategy: (): number => 20 }, 250],
  ])('with Redis stopped (%s) each operation resolves and reports, and a restart heals', async (_, options, ms) => {
    const client = connect(options);
    const { store: a, errors } = store({ client, operationTimeoutMs: ms });
    const key = await storeKey(credentials, a);
    await ready(client);
    await server.stop();
    try {
      await expect(a.get(key)).resolves.toBeUndefined();
      await expect(a.set(key, tokens())).resolves.toBeUndefined();
      const release = await a.tryLock(key, 10_000);
      expect(release).toBeInstanceOf(Function); // proceed locally
      await release!();
      expect(errors.map((error) => error.operation)).toEqual(['get', 'set', 'lock']);
      for (const error of errors) expect(['failed', 'timeout']).toContain(error.reason);
    } finally {
      await server.start();
    }
    await Promise.all([ready(client), ready(admin)]);
    const stored = tokens();
    await a.set(key, stored);
    await expect(a.get(key)).resolves.toEqual(stored);
    await expect(a.tryLock(key, 10_000)).resolves.toBeInstanceOf(Function);
    expect(errors).toHaveLength(3);
  });
});

function keyForms(key: Buffer): string[] {
  return [key.toString('base64'), key.toString('base64url'), key.toString('hex')];
}
