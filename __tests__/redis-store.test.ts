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
import { ErrorCode } from '../src/errors.js';
import { failureKeyFor, leaseKeyFor, storeKey } from '../src/stores/key.js';
import { serializeTokenSet } from '../src/stores/serialize.js';
import type { SharedFailure } from '../src/stores/shared-failure.js';
import { type LeaseRequest, MAX_LEASE_MS, type RenewalLease } from '../src/stores/types.js';
import { createTokenSet, type TokenSet } from '../src/token-set.js';
import { type RedisServer, startRedisServer } from './helpers/redis-server.js';

/** A lease request as the token manager makes one, with a generous budget and failure cap. */
function req(leaseMs: number, maxFailureMs = 60_000): LeaseRequest {
  return { leaseMs, holdMs: 60_000, maxFailureMs };
}


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

  test('a prefix with a brace is refused: the digest must stay the Cluster hash tag', () => {
    for (const prefix of ['app{}', 'app:{tenant}', 'a}b']) {
      expect(() => new RedisTokenStore({ client: connect(), prefix })).toThrow(/must not contain `\{` or `\}`/);
    }
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
    await (await lease(a, key)).fail(FAILURE, 10_000);
    await admin.rename(failureKeyFor(key), `${failureKeyFor(key)}-kept`);
    await lease(a, key);
    await admin.rename(`${failureKeyFor(key)}-kept`, failureKeyFor(key));
    const keys = await admin.keys('*');
    expect(keys.sort()).toEqual([key, leaseKeyFor(key), failureKeyFor(key)].sort());
    // The digest is a Cluster hash tag: the token, its lease and its failure record live in one slot.
    expect(key).toMatch(/^app:tokens:\{[0-9a-f]{64}\}$/);
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

/** Acquires and expects the lease to be ours. */
async function lease(on: RedisTokenStore, key: string, leaseMs = 10_000): Promise<RenewalLease> {
  const snapshot = await on.acquire(key, req(leaseMs));
  if (snapshot.state !== 'leased') throw new Error(`expected the lease, got ${snapshot.state}`);
  return snapshot.lease;
}

const FAILURE: SharedFailure = { code: ErrorCode.NETWORK, grant: 'password', timedOut: true };

describe('RedisTokenStore leases', () => {
  test('acquire takes a free lease with what the store holds; a second acquire finds it held; commit writes and frees it', async () => {
    const { store: a } = store();
    const { store: b } = store();
    const key = await storeKey(credentials, a);
    const first = await a.acquire(key, req(10_000));
    expect(first).toMatchObject({ state: 'leased', tokens: undefined, failure: undefined });
    await expect(b.acquire(key, req(10_000))).resolves.toMatchObject({ state: 'held', tokens: undefined, failure: undefined });
    const ttl = await admin.pttl(leaseKeyFor(key));
    expect(ttl).toBeGreaterThan(9_000);
    expect(ttl).toBeLessThanOrEqual(10_000);
    if (first.state !== 'leased') throw new Error('unreachable');
    const written = tokens();
    await expect(first.lease.commit(written)).resolves.toBe(true);
    expect(await admin.exists(leaseKeyFor(key))).toBe(0);
    const next = await b.acquire(key, req(10_000));
    expect(next.state).toBe('leased');
    expect(next.state !== 'unavailable' && next.tokens?.accessToken).toBe(ACCESS_TOKEN);
  });

  test('the whole renewal is two Redis round trips: acquire and commit', async () => {
    const client = connect();
    const { store: a } = store({ client });
    const key = await storeKey(credentials, a);
    await ready(client);
    const commands: string[] = [];
    const monitor = await admin.monitor();
    monitor.on('monitor', (_time: string, args: string[]) => {
      if (args[0] !== 'monitor') commands.push(args[0]!.toLowerCase());
    });
    const held = await lease(a, key);
    await held.commit(tokens());
    await admin.ping();
    await new Promise((resolve) => setTimeout(resolve, 50));
    monitor.disconnect();
    // MONITOR also lists the commands each script runs (as `get`, `set`...): count the top-level EVALs only.
    expect(commands.filter((command) => command === 'eval')).toEqual(['eval', 'eval']);
    expect(commands.filter((command) => !['eval', 'ping', 'time', 'get', 'pttl', 'set', 'del', 'pexpire'].includes(command))).toEqual([]);
  });

  test('a lease expires by itself; extend keeps a live holder’s lease; a lost lease writes nothing', async () => {
    const { store: a, errors } = store();
    const { store: b } = store();
    const key = await storeKey(credentials, a);
    const kept = await lease(a, key, 300);
    for (let n = 0; n < 4; n += 1) {
      await new Promise((resolve) => setTimeout(resolve, 150));
      await expect(kept.extend()).resolves.toBe(true);
    }
    expect((await b.acquire(key, req(300))).state).toBe('held'); // 600 ms in: still a's
    await kept.release();
    const stale = await lease(a, key, 50);
    await waitUntilGone(leaseKeyFor(key));
    const successor = await lease(b, key);
    await expect(stale.extend()).resolves.toBe(false);
    await expect(stale.commit(tokens())).resolves.toBe(false);
    await expect(stale.fail(FAILURE, 10_000)).resolves.toBe(false);
    await stale.release();
    expect(await admin.exists(key)).toBe(0);
    expect(await admin.exists(failureKeyFor(key))).toBe(0);
    expect(await admin.exists(leaseKeyFor(key))).toBe(1); // still the successor's
    // Reported once: a lost lease stays lost (its owner value is never reused), later steps answer without Redis.
    expect(errors.map((error) => [error.operation, error.reason])).toEqual([['extend', 'lease-lost']]);
    await expect(successor.commit(tokens())).resolves.toBe(true);
  });

  test('a commit under a lease that expired and was taken over is refused by the script: nothing written, reported', async () => {
    const { store: a, errors } = store();
    const { store: b } = store();
    const key = await storeKey(credentials, a);
    const stale = await lease(a, key, 50);
    await waitUntilGone(leaseKeyFor(key));
    await lease(b, key);
    await expect(stale.commit(tokens())).resolves.toBe(false);
    expect(await admin.exists(key)).toBe(0);
    expect(await admin.exists(leaseKeyFor(key))).toBe(1);
    expect(errors.map((error) => [error.operation, error.reason])).toEqual([['commit', 'lease-lost']]);
  });

  test('fail records the failure for its ttl, sealed with the encryption key, and releases the lease; waiters see it', async () => {
    const { store: a } = store({ encryptionKey: KEY_A });
    const { store: b } = store({ encryptionKey: KEY_A });
    const key = await storeKey(credentials, a);
    const held = await lease(a, key);
    await expect(held.fail(FAILURE, 400)).resolves.toBe(true);
    expect(await admin.exists(leaseKeyFor(key))).toBe(0);
    const raw = await admin.get(failureKeyFor(key));
    expect(raw).toMatch(/^v1\./);
    expect(raw).not.toContain('ERR_OAUTH');
    const ttl = await admin.pttl(failureKeyFor(key));
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(400);
    // A failure is the answer: the lease is not taken while it lasts.
    await expect(b.acquire(key, req(10_000))).resolves.toMatchObject({ state: 'held', tokens: undefined, failure: FAILURE });
    expect(await admin.exists(leaseKeyFor(key))).toBe(0);
    await waitUntilGone(failureKeyFor(key));
    expect((await b.acquire(key, req(10_000))).state).toBe('leased');
  });

  test('a commit clears a recorded failure; clearFailure forgets one', async () => {
    const { store: a } = store();
    const key = await storeKey(credentials, a);
    await (await lease(a, key)).fail(FAILURE, 60_000);
    expect(await admin.exists(failureKeyFor(key))).toBe(1);
    await a.clearFailure(key);
    expect(await admin.exists(failureKeyFor(key))).toBe(0);
    // A lease taken before another process recorded a failure: its successful commit ends the failure too.
    const held = await lease(a, key);
    await admin.set(failureKeyFor(key), JSON.stringify(FAILURE), 'PX', 60_000);
    await expect(held.commit(tokens())).resolves.toBe(true);
    expect(await admin.exists(failureKeyFor(key))).toBe(0);
  });

  test('a lease or failure key without a time to live, or with a longer one than it could mean, is cut and reported once', async () => {
    const { store: a, errors } = store();
    const key = await storeKey(credentials, a);
    for (const longest of [undefined, MAX_LEASE_MS + 3_600_000]) {
      if (longest === undefined) await admin.set(leaseKeyFor(key), 'left-by-hand');
      else await admin.set(leaseKeyFor(key), 'left-by-hand', 'PX', longest);
      expect((await a.acquire(key, req(1_000))).state).toBe('held');
      const leaseTtl = await admin.pttl(leaseKeyFor(key));
      expect(leaseTtl).toBeGreaterThan(0);
      expect(leaseTtl).toBeLessThanOrEqual(1_000);
      await admin.del(leaseKeyFor(key));
    }
    // A forged or replayed failure record (here plaintext, a year long) lives no longer than the cooldown asked for.
    await admin.set(failureKeyFor(key), JSON.stringify(FAILURE), 'PX', 365 * 86_400_000);
    await expect(a.acquire(key, req(1_000, 2_000))).resolves.toMatchObject({ state: 'held', failure: FAILURE });
    const failureTtl = await admin.pttl(failureKeyFor(key));
    expect(failureTtl).toBeGreaterThan(0);
    expect(failureTtl).toBeLessThanOrEqual(2_000);
    await admin.persist(failureKeyFor(key));
    await expect(a.acquire(key, req(1_000, 2_000))).resolves.toMatchObject({ state: 'held', failure: FAILURE });
    expect(await admin.pttl(failureKeyFor(key))).toBeGreaterThan(0);
    await admin.del(failureKeyFor(key));
    // A token entry without a time to live is reported (the next commit writes one), once however often it is read.
    await admin.set(key, serializeTokenSet(tokens()));
    for (let n = 0; n < 5; n += 1) await (await lease(a, key, 1_000)).release();
    const what = (error: TokenStoreError): string => error.message.replace('Token store acquire failed: the ', '').split(' ')[0]!;
    expect(errors.map((error) => [error.operation, error.reason, what(error)])).toEqual([
      ['acquire', 'no-ttl', 'renewal'],
      ['acquire', 'no-ttl', 'failure'],
      ['acquire', 'no-ttl', 'token'],
    ]);
  });

  test('a sealed token given a long time to live by hand is not revived: Redis’s clock only shortens a lifetime', async () => {
    const { store: a } = store({ encryptionKey: KEY_A });
    const key = await storeKey(credentials, a);
    await a.set(key, tokens(60_000));
    await admin.pexpire(key, 3_600_000); // what someone replaying an old sealed value with a new TTL would do
    const snapshot = await a.acquire(key, req(1_000));
    const expiresAt = snapshot.state === 'unavailable' ? 0 : (snapshot.tokens?.expiresAt ?? 0);
    // The sealed expiresAt (60 s) wins over the hour the key was given.
    expect(expiresAt - Date.now()).toBeLessThanOrEqual(60_000);
    expect(expiresAt - Date.now()).toBeGreaterThan(50_000);
  });

  test('a failure record that is not one is reported and removed, so it cannot block the lease', async () => {
    const { store: a, errors } = store();
    const key = await storeKey(credentials, a);
    for (const garbage of ['{"code":"ERR_OAUTH_NETWORK"}', 'not json', '{"code":"ERR_OAUTH_NETWORK","grant":"password","status":99}']) {
      await admin.set(failureKeyFor(key), garbage, 'PX', 60_000);
      await expect(a.acquire(key, req(10_000))).resolves.toMatchObject({ state: 'held', tokens: undefined, failure: undefined });
      await waitUntilGone(failureKeyFor(key));
      expect((await a.acquire(key, req(10_000))).state).toBe('leased');
      await admin.del(leaseKeyFor(key));
    }
    expect(errors.map((error) => error.reason)).toEqual(['invalid-value', 'invalid-value', 'invalid-value']);
  });

  test('a stored token’s expiry is read from Redis’s own clock (its time to live), not the writer’s', async () => {
    const { store: a } = store();
    const key = await storeKey(credentials, a);
    // Written by a host whose clock runs an hour ahead: its expiresAt is an hour later than the real one.
    const skewed = createTokenSet({ accessToken: ACCESS_TOKEN, expiresAt: Date.now() + 3_600_000 + 60_000 });
    await admin.set(key, serializeTokenSet(skewed), 'PX', 65_000);
    const snapshot = await a.acquire(key, req(10_000));
    const expiresAt = snapshot.state === 'unavailable' ? 0 : (snapshot.tokens?.expiresAt ?? 0);
    expect(expiresAt - Date.now()).toBeGreaterThan(58_000);
    expect(expiresAt - Date.now()).toBeLessThanOrEqual(60_000);
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
    expect(errors[0]?.message).toContain('Redis is skipped for 5000 ms');
    await admin.ping(); // answered once the pause is over
    await expect(store().store.get(key)).resolves.toBeDefined();
  });

  test('an acquire that times out is unavailable, and the lease it takes when it lands late is released', async () => {
    const client = connect();
    const { store: a, errors } = store({ client, operationTimeoutMs: 100 });
    const key = await storeKey(credentials, a);
    await admin.call('CLIENT', 'PAUSE', '500', 'ALL');
    await expect(a.acquire(key, req(10_000))).resolves.toEqual({ state: 'unavailable' });
    expect(errors.map((error) => [error.operation, error.reason])).toEqual([['acquire', 'timeout']]);
    // The script runs once the pause ends (a PING behind it on the same connection answers after it); left alone its
    // lease would stall every renewal for 10 s with nobody renewing.
    await client.ping();
    await waitUntilGone(leaseKeyFor(key));
    expect((await store().store.acquire(key, req(10_000))).state).toBe('leased');
  });

  test('the circuit breaker: after one failure Redis is skipped (no command, no report) until it ends', async () => {
    const client = connect();
    const { store: a, errors } = store({ client, operationTimeoutMs: 100, circuitBreakerMs: 600 });
    const key = await storeKey(credentials, a);
    await ready(client);
    await admin.call('CLIENT', 'PAUSE', '300', 'ALL');
    await expect(a.acquire(key, req(10_000))).resolves.toEqual({ state: 'unavailable' });
    await admin.ping();
    const sent = client.commandQueue.length;
    const started = performance.now();
    await expect(a.acquire(key, req(10_000))).resolves.toEqual({ state: 'unavailable' });
    await expect(a.get(key)).resolves.toBeUndefined();
    await a.set(key, tokens());
    expect(performance.now() - started).toBeLessThan(50); // skipped: no operationTimeoutMs paid
    expect(client.commandQueue.length).toBe(sent);
    expect(await admin.exists(key)).toBe(0);
    expect(errors).toHaveLength(1);
    await new Promise((resolve) => setTimeout(resolve, 650));
    expect((await a.acquire(key, req(10_000))).state).toBe('leased');
    expect(errors).toHaveLength(1);
  });

  test('the lease’s own steps skip the breaker: a holder whose extension timed out once still extends and commits', async () => {
    const client = connect();
    const { store: a, errors } = store({ client, operationTimeoutMs: 100, circuitBreakerMs: 60_000 });
    const { store: b } = store();
    const key = await storeKey(credentials, a);
    const held = await lease(a, key, 1_000);
    await admin.call('CLIENT', 'PAUSE', '300', 'ALL');
    await expect(held.extend()).resolves.toBe(false); // timed out: the breaker is open now
    await admin.ping();
    expect(errors.map((error) => [error.operation, error.reason])).toEqual([['extend', 'timeout']]);
    await expect(held.extend()).resolves.toBe(true);
    expect((await b.acquire(key, req(1_000))).state).toBe('held');
    await expect(held.commit(tokens())).resolves.toBe(true);
    expect(await admin.exists(key)).toBe(1);
    // Other commands are still skipped while the breaker is open.
    await expect(a.acquire(key, req(1_000))).resolves.toEqual({ state: 'unavailable' });
  });

  test('an error Redis answers about one key (WRONGTYPE) is reported for that key and does not open the breaker', async () => {
    const { store: a, errors } = store();
    const bad = await storeKey(credentials, a);
    const good = await storeKey({ ...credentials, username: 'grace.hopper@example.com' }, a);
    await admin.hset(leaseKeyFor(bad), 'a', 'b');
    await expect(a.acquire(bad, req(1_000))).resolves.toEqual({ state: 'unavailable' });
    expect(errors.map((error) => [error.operation, error.reason])).toEqual([['acquire', 'failed']]);
    expect(errors[0]?.message).not.toContain('skipped');
    const held = await lease(a, good, 1_000);
    await expect(held.commit(tokens())).resolves.toBe(true);
    expect(await admin.exists(good)).toBe(1);
  });

  test.each([
    ['a fail-fast client', failFast, 500],
    // 20 retries 20 ms apart take 400 ms at least: the store's 250 ms timeout gives up first.
    ["ioredis's defaults (offline queue, 20 retries)", { retryStrategy: (): number => 20 }, 250],
  ])('with Redis stopped (%s) each operation resolves and reports, and a restart heals', async (_, options, ms) => {
    const client = connect(options);
    // The breaker off: every operation meets the outage.
    const { store: a, errors } = store({ client, operationTimeoutMs: ms, circuitBreakerMs: 0 });
    const key = await storeKey(credentials, a);
    await ready(client);
    await server.stop();
    try {
      await expect(a.get(key)).resolves.toBeUndefined();
      await expect(a.set(key, tokens())).resolves.toBeUndefined();
      await expect(a.acquire(key, req(10_000))).resolves.toEqual({ state: 'unavailable' });
      expect(errors.map((error) => error.operation)).toEqual(['get', 'set', 'acquire']);
      for (const error of errors) expect(['failed', 'timeout']).toContain(error.reason);
    } finally {
      await server.start();
    }
    await Promise.all([ready(client), ready(admin)]);
    const stored = tokens();
    await a.set(key, stored);
    await expect(a.get(key)).resolves.toEqual(stored);
    expect((await a.acquire(key, req(10_000))).state).toBe('leased');
    expect(errors).toHaveLength(3);
  });
});

function keyForms(key: Buffer): string[] {
  return [key.toString('base64'), key.toString('base64url'), key.toString('hex')];
}
