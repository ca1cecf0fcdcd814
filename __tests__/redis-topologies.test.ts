/**
 * RedisTokenStore on the two Redis topologies the README promises, both real and started by this file
 * (helpers/redis-topologies.ts): a 3-master Redis Cluster reached through an ioredis `Cluster`, and a Sentinel setup
 * (master, replica, sentinel) reached through an ioredis `Redis` with `sentinels`. Two clients (ioredis and auth) stand
 * for two processes. The destructive tests (a master SIGKILLed) come last in their block: the Cluster one leaves that
 * cluster without the slot's master, the Sentinel one leaves the replica as the master.
 *
 * Times have honest margins for a loaded 2-core machine: each bound names what it allows for.
 */
import { once } from 'node:events';
import { Cluster, Redis } from 'ioredis';

import { type AuthClient, createAuthClient } from '../src/client.js';
import { ErrorCode } from '../src/errors.js';
import { RedisTokenStore, type RedisStoreClient } from '../src/redis.js';
import { TokenStoreError, type TokenStoreOperation } from '../src/stores/errors.js';
import { failureKeyFor, leaseKeyFor, storeKey } from '../src/stores/key.js';
import type { SharedFailure } from '../src/stores/shared-failure.js';
import type { LeaseRequest, RenewalLease } from '../src/stores/types.js';
import { type AuthServer, type AuthServerOptions, startAuthServer } from '../src/testing/server.js';
import { createTokenSet, type TokenSet } from '../src/token-set.js';
import {
  command,
  masterAddress,
  type RedisClusterHandle,
  type RedisNode,
  type RedisSentinelHandle,
  startRedisCluster,
  startRedisSentinel,
  waitUntil,
} from './helpers/redis-topologies.js';

/** A lease request as the token manager makes one, with a generous budget and failure cap. */
function req(leaseMs: number, maxFailureMs = 60_000): LeaseRequest {
  return { leaseMs, holdMs: 60_000, maxFailureMs };
}


/** Forming the cluster takes about 2.5 s here (redis-cli waits in whole seconds), the Sentinel set-up well under 1 s. */
const START_MS = 40_000;
/** A healthy store command answers in a millisecond; two busy cores and a full suite get two seconds. */
const HEALTHY_OPERATION_MS = 2_000;
/** While a master is down: each command is given up after this, then the breaker skips Redis for BREAKER_MS. */
const OUTAGE_OPERATION_MS = 500;
const BREAKER_MS = 300;
/**
 * No burst of requests may take longer. While Redis is down a burst costs at most one OUTAGE_OPERATION_MS plus a
 * grant from the loopback server (milliseconds); the rest is slack for two loaded cores. A hang fails here.
 */
const BURST_MS = 8_000;
/** Sentinel: down-after 1 s, then election and promotion; measured at about 3 s from the kill. */
const FAILOVER_MS = 20_000;

const credentials = {
  tokenUrl: 'https://auth.example/connect/token',
  clientId: 'client-id-7',
  clientSecret: 'client-secret-SQUEAMISH',
  username: 'ada.lovelace@example.com',
  password: 'password-OSSIFRAGE',
};
const ACCESS_TOKEN = 'access-token-XYZZY-1';
const FAILURE: SharedFailure = { code: ErrorCode.NETWORK, grant: 'password', timedOut: true };

let cluster: RedisClusterHandle | undefined;
let sentinel: RedisSentinelHandle | undefined;
const redisClients: (Redis | Cluster)[] = [];
const authServers: AuthServer[] = [];

beforeAll(async () => {
  // Both at once (about 2.5 s instead of 3); should one fail, the other is still closed in afterAll.
  const [startedCluster, startedSentinel] = await Promise.allSettled([startRedisCluster(), startRedisSentinel()]);
  if (startedCluster.status === 'fulfilled') cluster = startedCluster.value;
  if (startedSentinel.status === 'fulfilled') sentinel = startedSentinel.value;
  for (const outcome of [startedCluster, startedSentinel]) {
    if (outcome.status === 'rejected') throw outcome.reason;
  }
}, START_MS);

afterEach(async () => {
  await Promise.all(authServers.splice(0).map((server) => server.close()));
});

afterAll(async () => {
  for (const client of redisClients.splice(0)) client.disconnect();
  await Promise.all([cluster?.close(), sentinel?.close()]);
});

function theCluster(): RedisClusterHandle {
  if (cluster === undefined) throw new Error('the cluster did not start');
  return cluster;
}

function theSentinel(): RedisSentinelHandle {
  if (sentinel === undefined) throw new Error('the Sentinel set-up did not start');
  return sentinel;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

async function bounded<T>(promise: Promise<T>, what: string, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`gave up after ${ms} ms waiting for ${what}`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

async function ready(client: Redis | Cluster): Promise<void> {
  if (client.status !== 'ready') await bounded(once(client, 'ready'), 'an ioredis client to be ready', 10_000);
}

/** An ioredis Cluster client on the three nodes, connected. */
async function clusterClient(): Promise<Cluster> {
  const client = new Cluster(
    theCluster().nodes.map(({ host, port }) => ({ host, port })),
    // Quick retries; a queued command fails after one failed reconnect instead of twenty.
    { clusterRetryStrategy: () => 100, retryDelayOnClusterDown: 100, redisOptions: { maxRetriesPerRequest: 1 } },
  );
  client.on('error', () => undefined); // ioredis prints unhandled 'error' events; the store reports its own.
  redisClients.push(client);
  await ready(client);
  return client;
}

/** An ioredis Redis that finds its master through the sentinel, connected. */
async function sentinelClient(): Promise<Redis> {
  const handle = theSentinel();
  const client = new Redis({
    sentinels: [{ host: handle.sentinel.host, port: handle.sentinel.port }],
    name: handle.name,
    retryStrategy: () => 100,
    sentinelRetryStrategy: () => 100,
    maxRetriesPerRequest: 1,
  });
  client.on('error', () => undefined);
  redisClients.push(client);
  await ready(client);
  return client;
}

interface Store {
  readonly store: RedisTokenStore;
  readonly errors: TokenStoreError[];
}

function storeOn(client: RedisStoreClient, options: { prefix?: string; operationTimeoutMs?: number; circuitBreakerMs?: number } = {}): Store {
  const errors: TokenStoreError[] = [];
  const store = new RedisTokenStore({
    client,
    operationTimeoutMs: HEALTHY_OPERATION_MS,
    onError: (error) => void errors.push(error),
    ...options,
  });
  return { store, errors };
}

function tokens(accessToken = ACCESS_TOKEN, lifetimeMs = 60_000): TokenSet {
  return createTokenSet({ accessToken, expiresAt: Date.now() + lifetimeMs, refreshToken: `refresh-for-${accessToken}` });
}

async function lease(on: RedisTokenStore, key: string, leaseMs = 10_000): Promise<RenewalLease> {
  const snapshot = await on.acquire(key, req(leaseMs));
  if (snapshot.state !== 'leased') throw new Error(`expected the lease, got ${snapshot.state}`);
  return snapshot.lease;
}

function reasons(errors: readonly TokenStoreError[]): string[][] {
  return errors.map((error) => [error.operation, error.reason]);
}

/**
 * The node serving `key`'s slot: the only one that answers a command on it; the others must redirect there (MOVED).
 */
async function ownerOf(key: string): Promise<RedisNode> {
  const { nodes } = theCluster();
  const answers = await Promise.allSettled(nodes.map((node) => command(node.port, ['EXISTS', key])));
  const owners = nodes.filter((_, index) => answers[index]?.status === 'fulfilled');
  const [owner] = owners;
  if (owners.length !== 1 || owner === undefined) throw new Error(`expected one node to serve ${key}, got ${owners.length}`);
  for (const answer of answers) {
    if (answer.status === 'rejected') expect(String(answer.reason)).toContain(`MOVED`);
    if (answer.status === 'rejected') expect(String(answer.reason)).toContain(`${owner.host}:${owner.port}`);
  }
  return owner;
}

/** Which of these keys exist on `node` (asked directly, not through the cluster client). */
async function presentOn(node: RedisNode, keys: readonly string[]): Promise<string[]> {
  const found = await Promise.all(keys.map((key) => command(node.port, ['EXISTS', key])));
  return keys.filter((_, index) => found[index] === '1');
}

async function dbsize(node: RedisNode): Promise<number> {
  return Number(await command(node.port, ['DBSIZE']));
}

async function authServer(options: AuthServerOptions = {}): Promise<AuthServer> {
  const server = await startAuthServer(options);
  authServers.push(server);
  return server;
}

function authClient(server: AuthServer, store: RedisTokenStore): AuthClient {
  // The axios timeout bounds each request's wait for a token too: a hang becomes a failed request, not a stuck test.
  return createAuthClient({ baseURL: server.apiUrl, timeout: BURST_MS, auth: { ...server.credentials, store } });
}

interface Burst {
  readonly ok: number;
  readonly failures: string[];
  readonly elapsedMs: number;
}

/** `count` concurrent GETs on each client; never rejects (failures are counted), bounded by BURST_MS. */
async function burst(apis: readonly AuthClient[], count: number): Promise<Burst> {
  const started = performance.now();
  const settled = await bounded(
    Promise.allSettled(apis.flatMap((api) => Array.from({ length: count }, (_, n) => api.get(`/item/${n}`)))),
    'a burst of requests',
    BURST_MS + 2_000,
  );
  const failures = settled.flatMap((outcome) => {
    if (outcome.status === 'rejected') return [String(outcome.reason)];
    return outcome.value.status === 200 ? [] : [`HTTP ${outcome.value.status}`];
  });
  return { ok: settled.length - failures.length, failures, elapsedMs: performance.now() - started };
}

/**
 * Sends rounds of bursts until `until` resolves, then `after` more: each round first revokes every access token, so
 * every client must renew (and meet the store) in every round.
 */
async function drive(server: AuthServer, apis: readonly AuthClient[], until: Promise<unknown>, after = 2): Promise<Burst[]> {
  const state = { done: false };
  until.then(
    () => (state.done = true),
    () => (state.done = true),
  );
  const rounds: Burst[] = [];
  for (let extra = 0; extra < after; ) {
    server.revokeAll();
    rounds.push(await burst(apis, 2));
    if (state.done) extra += 1;
    await sleep(50);
  }
  await until;
  return rounds;
}

function distinctTokens(apis: readonly AuthClient[]): number {
  return new Set(apis.map((api) => api.tokens.current?.accessToken)).size;
}

describe('RedisTokenStore on a Redis Cluster (ioredis Cluster)', () => {
  test('the three keys of an entry hash to one slot and live on the one node that serves it', async () => {
    const { nodes } = theCluster();
    const { store } = storeOn(await clusterClient());
    const key = await storeKey(credentials, store);
    const keys = [key, leaseKeyFor(key), failureKeyFor(key)];
    const slots = await Promise.all(keys.map((name) => command(nodes[0]!.port, ['CLUSTER', 'KEYSLOT', name])));
    expect(new Set(slots).size).toBe(1);
    // The hash tag alone decides the slot.
    const digest = /\{([0-9a-f]{64})\}/.exec(key)?.[1];
    expect(await command(nodes[1]!.port, ['CLUSTER', 'KEYSLOT', digest!])).toBe(slots[0]);
    const owners = await Promise.all(keys.map(ownerOf));
    expect(new Set(owners.map((node) => node.port)).size).toBe(1);
  });

  test('two stores on two Cluster clients: leased / held, commit, adopt, shared failure, extend, a lost lease writes nothing', async () => {
    const { nodes } = theCluster();
    const a = storeOn(await clusterClient());
    const b = storeOn(await clusterClient());
    const key = await storeKey({ ...credentials, username: 'protocol@example.com' }, a.store);
    const [tokenKey, leaseKey, failureKey] = [key, leaseKeyFor(key), failureKeyFor(key)];
    const all = [tokenKey, leaseKey, failureKey];
    const owner = await ownerOf(key);
    const others = nodes.filter((node) => node !== owner);
    const before = await Promise.all(others.map(dbsize));

    // a takes the lease; b finds it held.
    const first = await a.store.acquire(key, req(10_000));
    expect(first).toMatchObject({ state: 'leased', tokens: undefined, failure: undefined });
    await expect(b.store.acquire(key, req(10_000))).resolves.toMatchObject({ state: 'held', tokens: undefined, failure: undefined });
    expect(await presentOn(owner, all)).toEqual([leaseKey]);

    // a commits: the token is written and the lease freed, on the owner.
    if (first.state !== 'leased') throw new Error('unreachable');
    await expect(first.lease.commit(tokens())).resolves.toBe(true);
    expect(await presentOn(owner, all)).toEqual([tokenKey]);

    // b adopts a's token (and would release the lease it took on the way).
    const adopted = await b.store.acquire(key, req(10_000));
    expect(adopted.state).toBe('leased');
    expect(adopted.state !== 'unavailable' && adopted.tokens?.accessToken).toBe(ACCESS_TOKEN);
    await expect(b.store.get(key)).resolves.toMatchObject({ accessToken: ACCESS_TOKEN });
    expect(await presentOn(owner, all)).toEqual([tokenKey, leaseKey]);

    // b's renewal fails: the record is written next to the token and the lease freed; a sees it.
    if (adopted.state !== 'leased') throw new Error('unreachable');
    await expect(adopted.lease.fail(FAILURE, 10_000)).resolves.toBe(true);
    expect(await presentOn(owner, all)).toEqual([tokenKey, failureKey]);
    await expect(a.store.acquire(key, req(10_000))).resolves.toMatchObject({ state: 'held', failure: FAILURE, tokens: { accessToken: ACCESS_TOKEN } });
    await a.store.clearFailure(key);
    expect(await presentOn(owner, all)).toEqual([tokenKey]);

    // a live holder that extends keeps its lease past its length.
    const kept = await lease(a.store, key, 300);
    for (let n = 0; n < 4; n += 1) {
      await sleep(150);
      await expect(kept.extend()).resolves.toBe(true);
    }
    expect((await b.store.acquire(key, req(300))).state).toBe('held'); // 600 ms in: still a's
    await kept.release();
    expect(await presentOn(owner, all)).toEqual([tokenKey]);

    // A lease that expired (and was taken over by b) writes nothing. Each step gets a stale lease of its own, so that
    // each is refused by its script's fence in Redis (the store answers later steps of a lease it knows lost at once).
    const steps: [TokenStoreOperation, (stale: RenewalLease) => boolean | Promise<boolean>][] = [
      ['extend', (stale) => stale.extend()],
      ['commit', (stale) => stale.commit(tokens('access-token-STALE'))],
      ['fail', (stale) => stale.fail(FAILURE, 10_000)],
    ];
    for (const [, step] of steps) {
      const stale = await lease(a.store, key, 50);
      await waitUntil('the short lease to expire', async () => (await presentOn(owner, [leaseKey])).length === 0, 5_000);
      const successor = await lease(b.store, key);
      await expect(Promise.resolve(step(stale))).resolves.toBe(false);
      await stale.release();
      await expect(b.store.get(key)).resolves.toMatchObject({ accessToken: ACCESS_TOKEN });
      expect(await presentOn(owner, all)).toEqual([tokenKey, leaseKey]); // the lease is still the successor's
      await successor.release();
    }
    const last = await lease(b.store, key);
    await expect(last.commit(tokens('access-token-NEXT'))).resolves.toBe(true);
    await expect(a.store.get(key)).resolves.toMatchObject({ accessToken: 'access-token-NEXT' });

    // Nothing of this entry was ever written to another node.
    expect(await Promise.all(others.map(dbsize))).toEqual(before);
    expect(reasons(a.errors)).toEqual(steps.map(([operation]) => [operation, 'lease-lost']));
    expect(b.errors).toEqual([]);
  });

  test('end to end: two clients on two stores meet an expired token at once and make exactly one token request', async () => {
    const server = await authServer({ expiresIn: 2 });
    const stores = [storeOn(await clusterClient()), storeOn(await clusterClient())];
    const apis = stores.map(({ store }) => authClient(server, store));

    const warm = await burst(apis, 3);
    expect(warm.failures).toEqual([]);
    expect(server.stats.tokenRequests).toBe(1); // the first grant is shared too
    expect(distinctTokens(apis)).toBe(1);

    const expiresAt = Math.max(...apis.map((api) => api.tokens.current?.expiresAt ?? 0));
    await sleep(expiresAt - Date.now() + 50);
    server.resetStats();
    const storm = await burst(apis, 10);

    expect(storm.failures).toEqual([]);
    expect(storm.ok).toBe(20);
    expect(server.stats.tokenRequests).toBe(1);
    expect(server.stats.api401s).toBe(0);
    expect(distinctTokens(apis)).toBe(1);
    expect(stores.flatMap(({ errors }) => reasons(errors))).toEqual([]);
  });

  // Last in this block: the cluster is left without the slot's master.
  test('with the master of the slot SIGKILLed (no replica), the stores report through onError and every request still succeeds', async () => {
    const { nodes } = theCluster();
    const server = await authServer();
    const options = { operationTimeoutMs: OUTAGE_OPERATION_MS, circuitBreakerMs: BREAKER_MS };
    const stores = [storeOn(await clusterClient(), options), storeOn(await clusterClient(), options)];
    const apis = stores.map(({ store }) => authClient(server, store));
    expect((await burst(apis, 2)).failures).toEqual([]);
    expect(server.stats.tokenRequests).toBe(1);
    const owner = await ownerOf(await storeKey(server.credentials, stores[0]!.store));
    const survivors = nodes.filter((node) => node !== owner);

    await owner.kill('SIGKILL');
    // First the node is only unreachable; after cluster-node-timeout the survivors mark it failed and, with full
    // coverage required, refuse every command (CLUSTERDOWN). The rounds cover both, then two more.
    const clusterDown = waitUntil(
      'the surviving nodes to report cluster_state:fail',
      async () => (await Promise.all(survivors.map((node) => command(node.port, ['CLUSTER', 'INFO'])))).every((info) => info.includes('cluster_state:fail')),
      FAILOVER_MS,
    );
    const rounds = await drive(server, apis, clusterDown);

    expect(rounds.flatMap((round) => round.failures)).toEqual([]);
    expect(rounds.length).toBeGreaterThanOrEqual(3);
    for (const round of rounds) expect(round.elapsedMs).toBeLessThan(BURST_MS);
    for (const { errors } of stores) {
      expect(errors.length).toBeGreaterThanOrEqual(1);
      for (const error of errors) {
        expect(error).toBeInstanceOf(TokenStoreError);
        expect(['failed', 'timeout']).toContain(error.reason);
      }
    }
    // Every round renewed (degraded: each client on its own), and no request ever saw a 401 it could not recover from.
    expect(server.stats.tokenRequests).toBeGreaterThanOrEqual(1 + rounds.length);
  }, 40_000);
});

describe('RedisTokenStore behind Sentinel (ioredis Redis with sentinels)', () => {
  test('two stores share one token through the master the sentinel names', async () => {
    const handle = theSentinel();
    const server = await authServer();
    const stores = [storeOn(await sentinelClient(), { prefix: 'before' }), storeOn(await sentinelClient(), { prefix: 'before' })];
    const apis = stores.map(({ store }) => authClient(server, store));

    const first = await burst(apis, 3);

    expect(first.failures).toEqual([]);
    expect(server.stats.tokenRequests).toBe(1);
    expect(distinctTokens(apis)).toBe(1);
    expect(await masterAddress(handle)).toEqual({ host: handle.master.host, port: handle.master.port });
    const key = await storeKey(server.credentials, stores[0]!.store);
    expect(await presentOn(handle.master, [key])).toEqual([key]);
    await waitUntil('the token to reach the replica', async () => (await presentOn(handle.replica, [key])).length === 1, 5_000);
    expect(stores.flatMap(({ errors }) => reasons(errors))).toEqual([]);
  });

  // Last in this block: the replica is the master afterwards.
  test('with the master SIGKILLed, requests keep succeeding through the failover, and the store works again after it', async () => {
    const handle = theSentinel();
    const server = await authServer();
    const options = { prefix: 'during', operationTimeoutMs: OUTAGE_OPERATION_MS, circuitBreakerMs: BREAKER_MS };
    const clients = [await sentinelClient(), await sentinelClient()];
    const stores = clients.map((client) => storeOn(client, options));
    const apis = stores.map(({ store }) => authClient(server, store));
    expect((await burst(apis, 2)).failures).toEqual([]);
    expect(server.stats.tokenRequests).toBe(1);

    const killedAt = performance.now();
    await handle.master.kill('SIGKILL');
    const promoted = waitUntil('the sentinel to name the replica as master', async () => (await masterAddress(handle)).port === handle.replica.port, FAILOVER_MS);
    // Then the ioredis clients must find it (they ask the sentinel again on each reconnect) and the store use it.
    const failedOver = promoted.then(() =>
      waitUntil('both stores to reach the new master', async () => {
        const snapshots = await Promise.all(stores.map(({ store }) => store.acquire('probe:{after-failover}', req(1_000))));
        return snapshots.every((snapshot) => snapshot.state !== 'unavailable');
      }, FAILOVER_MS),
    );
    const rounds = await drive(server, apis, failedOver);
    const failoverMs = performance.now() - killedAt;

    expect(rounds.flatMap((round) => round.failures)).toEqual([]);
    for (const round of rounds) expect(round.elapsedMs).toBeLessThan(BURST_MS);
    expect(failoverMs).toBeGreaterThanOrEqual(handle.downAfterMs);
    expect(await masterAddress(handle)).toEqual({ host: handle.replica.host, port: handle.replica.port });
    expect(await command(handle.replica.port, ['ROLE'])).toMatch(/^master\n/);
    for (const { errors } of stores) {
      expect(errors.length).toBeGreaterThanOrEqual(1);
      for (const error of errors) expect(['failed', 'timeout']).toContain(error.reason);
    }

    // After the failover: one token shared by two stores again, on the new master, with no store error.
    await sleep(BREAKER_MS + 50);
    const after = clients.map((client) => storeOn(client, { prefix: 'after' }));
    const fresh = after.map(({ store }) => authClient(server, store));
    server.resetStats();
    const shared = await burst(fresh, 3);
    expect(shared.failures).toEqual([]);
    expect(server.stats.tokenRequests).toBe(1);
    expect(distinctTokens(fresh)).toBe(1);
    const key = await storeKey(server.credentials, after[0]!.store);
    expect(await presentOn(handle.replica, [key])).toEqual([key]);
    expect(after.flatMap(({ errors }) => reasons(errors))).toEqual([]);
    // The stores that lived through the outage renew through Redis again too.
    const recovered = stores.map(({ errors }) => errors.length);
    server.revokeAll();
    server.resetStats();
    expect((await burst(apis, 3)).failures).toEqual([]);
    expect(stores.map(({ errors }) => errors.length)).toEqual(recovered);
  }, 45_000);
});
