/**
 * The TokenStore contract (issue 14, "tests that cannot lie").
 *
 * 1. Every store the library ships keeps the contract on its own (helpers/store-contract.ts): MemoryTokenStore, and
 *    RedisTokenStore against a real redis-server this file starts (plain and encrypted).
 * 2. The same stores behind createAuthClient: one grant for clients that share one, the stored rotated refresh token
 *    preferred over a client's own, a credential failure shared, clear() and clearCooldown() reaching the store.
 * 3. Stores that break the contract, behind createAuthClient with the in-memory authority (its token calls counted):
 *    one without the optional members, one without the lease protocol, one whose methods throw, one whose methods
 *    hang for ever, one that answers garbage. What the README promises: a store's trouble goes to `onError` and is
 *    never thrown into a request; a missing optional member is never called; a hanging store holds a request up for
 *    one lease at most (on Jest's fake clock, exactly); a stored value passes the token checks before it is sent.
 *
 * The step-by-step protocol (every branch of src/stores/shared-renewal.ts, on a fake clock) is renew-shared.test.ts.
 */
import { Redis } from 'ioredis';

import {
  type AuthClient,
  type SingleAccountAuthOptions,
  ConfigurationError,
  createAuthClient,
  MemoryTokenStore,
  type OAuthBearerError,
  storeKey,
  type TokenStore,
  TokenStoreError,
  UserAuthenticationError,
} from '../src/index.js';
import { RedisTokenStore } from '../src/redis.js';
import { failureKeyFor } from '../src/stores/key.js';
import type { LeasingTokenStore } from '../src/stores/types.js';
import { createMemoryAuthority, type MemoryAuthority } from '../src/testing/memory.js';
import { createTokenSet } from '../src/token-set.js';
import { openFileStore } from './helpers/file-store-fixture.js';
import { type RedisServer, startRedisServer } from './helpers/redis-server.js';
import { plainStore, ScriptedStore, type StoreStep } from './helpers/scripted-store.js';
import { describeStoreContract, leaseRequest } from './helpers/store-contract.js';
import { waitFor } from './helpers/waiting.js';

let redis: RedisServer;
const connections = new Set<Redis>();

beforeAll(async () => {
  redis = await startRedisServer();
});
afterAll(async () => {
  await Promise.all([...connections].map((client) => client.quit()));
  await redis.close();
});

function connect(): Redis {
  const client = new Redis({ host: redis.host, port: redis.port, maxRetriesPerRequest: 1, lazyConnect: false });
  client.on('error', () => undefined);
  connections.add(client);
  return client;
}

async function disconnect(client: Redis): Promise<void> {
  connections.delete(client);
  await client.quit();
}

const ENCRYPTION_KEY = Buffer.alloc(32, 0x5c);
let prefixes = 0;
const freshPrefix = (): string => `contract-${process.pid}-${(prefixes += 1)}`;

/** A shipped store, with a look at its failure record that changes nothing (for waiting on a background clearFailure). */
interface Shipped {
  readonly store: LeasingTokenStore;
  hasFailure(key: string): Promise<boolean>;
  close(): Promise<void>;
}

const shipped: readonly (readonly [string, () => Shipped])[] = [
  [
    'MemoryTokenStore',
    () => {
      const store = new MemoryTokenStore();
      return {
        store,
        hasFailure: (key) => {
          // In memory the look is synchronous: a lease it takes on the way is released before anyone else runs.
          const snapshot = store.acquire(key, leaseRequest());
          if (snapshot.state === 'leased') void snapshot.lease.release();
          return Promise.resolve(snapshot.state === 'held' && snapshot.failure !== undefined);
        },
        close: () => Promise.resolve(),
      };
    },
  ],
  [
    'RedisTokenStore',
    () => {
      const client = connect();
      return {
        // A prefix of its own: every test meets a Redis without the last test's entries under the same credentials.
        store: new RedisTokenStore({ client, prefix: freshPrefix() }),
        hasFailure: async (key) => (await client.exists(failureKeyFor(key))) === 1,
        close: () => disconnect(client),
      };
    },
  ],
  [
    'RedisTokenStore (encrypted)',
    () => {
      const client = connect();
      return {
        store: new RedisTokenStore({ client, prefix: freshPrefix(), encryptionKey: ENCRYPTION_KEY }),
        hasFailure: async (key) => (await client.exists(failureKeyFor(key))) === 1,
        close: () => disconnect(client),
      };
    },
  ],
  ['FileTokenStore', () => openFileStore()],
  ['FileTokenStore (encrypted)', () => openFileStore({ encryptionKey: ENCRYPTION_KEY })],
];

for (const [name, open] of shipped) {
  // MemoryTokenStore does not cut a failure record to the reader's maxFailureMs (see ContractDeviation).
  describeStoreContract(name, () => Promise.resolve(open()), name === 'MemoryTokenStore' ? ['reader-cuts-failure'] : []);
}

interface Client {
  readonly api: AuthClient;
  readonly errors: OAuthBearerError[];
}

function clientOf(authority: MemoryAuthority, store: TokenStore, options: Partial<SingleAccountAuthOptions> = {}): Client {
  const errors: OAuthBearerError[] = [];
  const api = createAuthClient({
    baseURL: authority.apiUrl,
    adapter: authority.adapter,
    auth: { ...authority.credentials, store, onError: (error) => errors.push(error), ...options },
  });
  return { api, errors };
}

/** What the errors say, as `operation/reason` for store errors and the class name for anything else. */
function summary(errors: readonly OAuthBearerError[]): string[] {
  return errors.map((error) => (error instanceof TokenStoreError ? `${error.operation}/${error.reason}` : error.name));
}

describe.each(shipped)('%s behind createAuthClient', (_name, open) => {
  let fixture: Shipped;
  let authority: MemoryAuthority;

  beforeEach(() => {
    fixture = open();
    authority = createMemoryAuthority();
  });
  afterEach(() => fixture.close());

  test('clients that share it make one token call between them, however many requests start at once', async () => {
    const [a, b, c] = [1, 2, 3].map(() => clientOf(authority, fixture.store));

    const responses = await Promise.all([a, b, c].flatMap((client) => [client!.api.get('/1'), client!.api.get('/2')]));

    expect(responses.map((response) => response.status)).toEqual([200, 200, 200, 200, 200, 200]);
    expect(authority.stats.tokenRequests).toBe(1);
    expect(new Set([a, b, c].map((client) => client!.api.tokens.current?.accessToken)).size).toBe(1);
    expect([...a!.errors, ...b!.errors, ...c!.errors]).toEqual([]);
  });

  test('the rotated refresh token in the store is spent, not the client’s own older one (which the server refuses)', async () => {
    const a = clientOf(authority, fixture.store);
    const b = clientOf(authority, fixture.store);
    await a.api.get('/a'); // the password grant, committed
    await b.api.get('/b'); // adopted
    await b.api.tokens.refresh(); // rotates: a's refresh token is dead from now on
    const rotated = b.api.tokens.current!;
    const key = await storeKey(authority.credentials, fixture.store);
    // An entry no better than a's own token (it expires earlier), so a must renew, with the stored refresh token.
    await fixture.store.set(key, createTokenSet({ accessToken: rotated.accessToken, expiresAt: a.api.tokens.current!.expiresAt - 1_000, refreshToken: rotated.refreshToken }));

    await a.api.tokens.refresh();

    expect(authority.stats.grants).toEqual({ password: 1, refresh_token: 2 });
    expect(authority.stats.failedTokenRequests).toBe(0);
    expect(a.errors).toEqual([]);
  });

  test('a wrong password costs one token call for all: the next client fails with the same class at once; clearCooldown() clears it for all', async () => {
    const wrong = { password: 'not-the-password' };
    const a = clientOf(authority, fixture.store, wrong);
    const b = clientOf(authority, fixture.store, wrong);

    await expect(a.api.get('/a')).rejects.toBeInstanceOf(UserAuthenticationError);
    await expect(b.api.get('/b')).rejects.toBeInstanceOf(UserAuthenticationError);
    expect(authority.stats.tokenRequests).toBe(1);

    const key = await storeKey({ ...authority.credentials, ...wrong }, fixture.store);
    expect(await fixture.hasFailure(key)).toBe(true);
    b.api.tokens.clearCooldown();
    await waitFor('clearCooldown() to reach the store', async () => !(await fixture.hasFailure(key)), 10_000, 10);
    await expect(b.api.get('/b')).rejects.toBeInstanceOf(UserAuthenticationError);

    expect(authority.stats.tokenRequests).toBe(2);
    expect([...a.errors, ...b.errors].filter((error) => error instanceof TokenStoreError)).toEqual([]);
  });

  test('clear() forgets the token in the store too: the next client makes a password grant', async () => {
    const a = clientOf(authority, fixture.store);
    await a.api.get('/a');
    const key = await storeKey(authority.credentials, fixture.store);
    expect(await fixture.store.get(key)).toBeDefined();

    a.api.tokens.clear();
    await waitFor('clear() to reach the store', async () => (await fixture.store.get(key)) === undefined, 10_000, 10);
    await clientOf(authority, fixture.store).api.get('/b');

    expect(authority.stats.grants).toEqual({ password: 2, refresh_token: 0 });
  });
});

describe('a store without the optional members (get, set and delete only)', () => {
  let authority: MemoryAuthority;
  beforeEach(() => {
    authority = createMemoryAuthority();
  });

  test('one token call; read, then written; no member it lacks is ever called (nothing reported)', async () => {
    const plain = plainStore();
    const client = clientOf(authority, plain.store);

    await expect(client.api.get('/a')).resolves.toMatchObject({ status: 200 });

    expect(authority.stats.tokenRequests).toBe(1);
    expect(plain.scripted.calls).toEqual(['get', 'set']);
    expect(client.errors).toEqual([]);
  });

  test('a second client adopts the stored token: no second token call', async () => {
    const plain = plainStore();
    await clientOf(authority, plain.store).api.get('/a');
    const second = clientOf(authority, plain.store);

    await second.api.get('/b');

    expect(authority.stats.tokenRequests).toBe(1);
    expect(plain.scripted.calls).toEqual(['get', 'set', 'get']);
    expect(second.errors).toEqual([]);
  });

  test('clear() deletes; clearCooldown() calls nothing (there is no clearFailure to call)', async () => {
    const plain = plainStore();
    const client = clientOf(authority, plain.store);
    await client.api.get('/a');

    client.api.tokens.clear();
    client.api.tokens.clearCooldown();
    await waitFor('clear() to reach the store', () => plain.scripted.calls.includes('delete'), 10_000, 10);
    await new Promise((resolve) => setTimeout(resolve, 20));

    // A call of the missing clearFailure would have thrown a TypeError, reported here.
    expect(plain.scripted.calls).toEqual(['get', 'set', 'delete']);
    expect(client.errors).toEqual([]);
  });

  test('the rotated refresh token in the store is spent, not the client’s own one', async () => {
    const plain = plainStore();
    const a = clientOf(authority, plain.store);
    const b = clientOf(authority, plain.store);
    await a.api.get('/a');
    await b.api.get('/b');
    await b.api.tokens.refresh();
    const rotated = b.api.tokens.current!;
    const key = await storeKey(authority.credentials, plain.store);
    plain.scripted.inner.set(key, createTokenSet({ accessToken: rotated.accessToken, expiresAt: a.api.tokens.current!.expiresAt - 1_000, refreshToken: rotated.refreshToken }));

    await a.api.tokens.refresh();

    expect(authority.stats.grants).toEqual({ password: 1, refresh_token: 2 });
    expect(authority.stats.failedTokenRequests).toBe(0);
  });
});

describe('a store without the lease protocol', () => {
  test('with acquire but no clearFailure it is a plain store: acquire is never called', async () => {
    const authority = createMemoryAuthority();
    const scripted = new ScriptedStore();
    const acquire = jest.fn();
    const store = { get: scripted.get.bind(scripted), set: scripted.set.bind(scripted), delete: scripted.delete.bind(scripted), bindingSecret: () => scripted.bindingSecret(), acquire };
    const client = clientOf(authority, store);

    await client.api.get('/a');
    client.api.tokens.clearCooldown();
    await new Promise((resolve) => setTimeout(resolve, 20));

    expect(acquire).not.toHaveBeenCalled();
    expect(scripted.calls).toEqual(['get', 'set']);
    expect(authority.stats.tokenRequests).toBe(1);
    expect(client.errors).toEqual([]);
  });

  test('with 0.1’s tryLock instead is refused by name before any token call', () => {
    const authority = createMemoryAuthority();
    const scripted = new ScriptedStore();
    const store = { get: scripted.get.bind(scripted), set: scripted.set.bind(scripted), delete: scripted.delete.bind(scripted), tryLock: jest.fn() };

    expect(() => clientOf(authority, store)).toThrow(ConfigurationError);
    expect(() => clientOf(authority, store)).toThrow(/tryLock/);
    expect(store.tryLock).not.toHaveBeenCalled();
    expect(authority.stats.tokenRequests).toBe(0);
  });
});

/**
 * The misbehaving stores below run on Jest's fake clock: every wait in the protocol (the lease's extensions, the
 * poll, a store operation's deadline) and the authority's latency are the test's. Their keys are HMACs (the
 * ScriptedStore has a binding secret), so no scrypt runs on the thread pool, outside the fake clock.
 */
describe('stores that break the contract, on a fake clock', () => {
  const LEASE_MS = 1_000;
  let authority: MemoryAuthority;

  beforeEach(() => {
    jest.useFakeTimers({ now: Date.UTC(2025, 0, 1, 12, 0, 0) });
    authority = createMemoryAuthority();
  });
  afterEach(() => {
    jest.useRealTimers();
  });

  /** Runs fake time forward, 10 ms at a time, until `promise` settles: within `withinMs`, or the test fails. */
  async function settled<T>(promise: Promise<T>, withinMs: number): Promise<PromiseSettledResult<T>> {
    let outcome: PromiseSettledResult<T> | undefined;
    promise.then(
      (value) => (outcome = { status: 'fulfilled', value }),
      (reason: unknown) => (outcome = { status: 'rejected', reason }),
    );
    for (let elapsed = 0; outcome === undefined && elapsed <= withinMs; elapsed += 10) await jest.advanceTimersByTimeAsync(10);
    if (outcome === undefined) throw new Error(`still pending after ${withinMs} ms of fake time`);
    return outcome;
  }

  /** True when `promise` is still pending after `ms` of fake time. */
  async function pendingAfter(promise: Promise<unknown>, ms: number): Promise<boolean> {
    let done = false;
    promise.then(
      () => (done = true),
      () => (done = true),
    );
    await jest.advanceTimersByTimeAsync(ms);
    return !done;
  }

  const leasingSteps: readonly StoreStep[] = ['acquire', 'commit'];

  describe.each([
    ['throw', 'throw' as const],
    ['reject', 'reject' as const],
  ])('methods that %s', (_name, fault) => {
    test('a leasing store whose every method fails: requests succeed with one token call; each failure is reported, none thrown', async () => {
      const store = new ScriptedStore();
      for (const step of ['get', 'set', 'delete', 'acquire', 'clearFailure', 'extend', 'commit', 'fail', 'release'] as const) store.faults.set(step, fault);
      const client = clientOf(authority, store, { leaseMs: LEASE_MS });

      const outcomes = await settled(Promise.all([client.api.get('/1'), client.api.get('/2'), client.api.get('/3')]), 100);
      client.api.tokens.clear();
      client.api.tokens.clearCooldown();
      await jest.advanceTimersByTimeAsync(10);

      expect(outcomes.status).toBe('fulfilled');
      expect(authority.stats.tokenRequests).toBe(1);
      expect(store.calls).toEqual(['acquire', 'delete', 'clearFailure']);
      expect(summary(client.errors)).toEqual(['acquire/failed', 'delete/failed', 'clearFailure/failed']);
      for (const error of client.errors) expect(error.message).not.toContain('hunter2');
    });

    test.each(leasingSteps)('only %s fails: requests succeed with one token call, one report', async (step) => {
      const store = new ScriptedStore();
      store.faults.set(step, fault);
      const client = clientOf(authority, store, { leaseMs: LEASE_MS });

      const outcome = await settled(client.api.get('/1'), 100);

      expect(outcome).toMatchObject({ status: 'fulfilled', value: { status: 200 } });
      expect(authority.stats.tokenRequests).toBe(1);
      expect(summary(client.errors)).toEqual([`${step}/failed`]);
    });

    test('only extend fails, during a grant that takes three leases: one token call, the request succeeds, each try reported', async () => {
      const store = new ScriptedStore();
      store.faults.set('extend', fault);
      authority.setLatency({ tokenMs: 3 * LEASE_MS + 100 });
      const client = clientOf(authority, store, { leaseMs: LEASE_MS });

      const outcome = await settled(client.api.get('/1'), 4 * LEASE_MS);

      expect(outcome).toMatchObject({ status: 'fulfilled', value: { status: 200 } });
      expect(authority.stats.tokenRequests).toBe(1);
      // Every third of the lease: at 333, 666, ... 2997 ms, nine tries, each reported.
      expect(store.count('extend')).toBe(9);
      expect(summary(client.errors)).toEqual(Array(9).fill('extend/failed'));
    });

    test('only fail fails, after a wrong password: the caller gets the UserAuthenticationError, not the store’s', async () => {
      const store = new ScriptedStore();
      store.faults.set('fail', fault);
      const client = clientOf(authority, store, { leaseMs: LEASE_MS, password: 'not-the-password' });

      const outcome = await settled(client.api.get('/1'), 100);

      expect(outcome.status).toBe('rejected');
      const reason = outcome.status === 'rejected' ? (outcome.reason as unknown) : undefined;
      expect(reason).toBeInstanceOf(UserAuthenticationError);
      expect(authority.stats.tokenRequests).toBe(1);
      expect(summary(client.errors)).toEqual(['UserAuthenticationError', 'fail/failed']);
    });

    test('only release fails, while adopting another client’s token: the token is adopted, one report', async () => {
      const store = new ScriptedStore();
      await settled(clientOf(authority, store, { leaseMs: LEASE_MS }).api.get('/first'), 100);
      store.faults.set('release', fault);
      const second = clientOf(authority, store, { leaseMs: LEASE_MS });

      const outcome = await settled(second.api.get('/1'), 100);
      await jest.advanceTimersByTimeAsync(10);

      expect(outcome).toMatchObject({ status: 'fulfilled', value: { status: 200 } });
      expect(authority.stats.tokenRequests).toBe(1);
      expect(summary(second.errors)).toEqual(['release/failed']);
    });

    test('a plain store whose get and set fail: one token call, both reported', async () => {
      const plain = plainStore({ bindingSecret: true });
      plain.scripted.faults.set('get', fault);
      plain.scripted.faults.set('set', fault);
      const client = clientOf(authority, plain.store, { leaseMs: LEASE_MS });

      const outcome = await settled(client.api.get('/1'), 100);

      expect(outcome).toMatchObject({ status: 'fulfilled', value: { status: 200 } });
      expect(authority.stats.tokenRequests).toBe(1);
      expect(summary(client.errors)).toEqual(['get/failed', 'set/failed']);
    });
  });

  describe('methods that hang for ever', () => {
    test.each(leasingSteps)('a hanging %s holds the request up for exactly one lease, then it succeeds with one token call', async (step) => {
      const store = new ScriptedStore();
      store.faults.set(step, 'hang');
      const client = clientOf(authority, store, { leaseMs: LEASE_MS });
      const request = client.api.get('/1');

      expect(await pendingAfter(request, LEASE_MS - 1)).toBe(true);
      const outcome = await settled(request, 10);

      expect(outcome).toMatchObject({ status: 'fulfilled', value: { status: 200 } });
      expect(authority.stats.tokenRequests).toBe(1);
      expect(summary(client.errors)).toEqual([`${step}/timeout`]);
    });

    test('a leasing store whose every method hangs: two leases at most (acquire, then commit), one token call, nothing thrown', async () => {
      const store = new ScriptedStore();
      for (const step of ['get', 'set', 'delete', 'acquire', 'clearFailure', 'extend', 'commit', 'fail', 'release'] as const) store.faults.set(step, 'hang');
      const client = clientOf(authority, store, { leaseMs: LEASE_MS });

      const outcome = await settled(Promise.all([client.api.get('/1'), client.api.get('/2')]), LEASE_MS + 10);
      client.api.tokens.clear(); // in the background: nothing waits on it
      client.api.tokens.clearCooldown();

      // Unavailable after one lease: renewed alone, so nothing is committed and the second lease is never waited.
      expect(outcome.status).toBe('fulfilled');
      expect(authority.stats.tokenRequests).toBe(1);
      expect(summary(client.errors)).toEqual(['acquire/timeout']);
    });

    test('a plain store whose get and set hang: one lease each, one token call', async () => {
      const plain = plainStore({ bindingSecret: true });
      plain.scripted.faults.set('get', 'hang');
      plain.scripted.faults.set('set', 'hang');
      const client = clientOf(authority, plain.store, { leaseMs: LEASE_MS });
      const request = client.api.get('/1');

      expect(await pendingAfter(request, 2 * LEASE_MS - 1)).toBe(true);
      const outcome = await settled(request, 10);

      expect(outcome).toMatchObject({ status: 'fulfilled', value: { status: 200 } });
      expect(authority.stats.tokenRequests).toBe(1);
      expect(summary(client.errors)).toEqual(['get/timeout', 'set/timeout']);
    });

    test('a store that starts hanging while a client waits on another’s lease: the waiter is bounded too', async () => {
      const store = new ScriptedStore();
      authority.setLatency({ tokenMs: 10 * LEASE_MS });
      const holder = clientOf(authority, store, { leaseMs: LEASE_MS });
      const first = holder.api.get('/holder');
      await jest.advanceTimersByTimeAsync(100);
      authority.setLatency({ tokenMs: 0 }); // the holder's grant keeps its 10 s; any later one answers at once
      const waiter = clientOf(authority, store, { leaseMs: LEASE_MS });
      const second = waiter.api.get('/waiter');
      await jest.advanceTimersByTimeAsync(200); // polling: the lease is held
      expect(store.count('acquire')).toBeGreaterThan(2);
      store.faults.set('acquire', 'hang');

      const outcome = await settled(second, LEASE_MS + 100);
      await settled(first, 10 * LEASE_MS);

      expect(outcome).toMatchObject({ status: 'fulfilled', value: { status: 200 } });
      // The holder's grant, and the waiter's own once it gave up on the store: the store could not be asked.
      expect(authority.stats.tokenRequests).toBe(2);
      expect(summary(waiter.errors)).toEqual(['acquire/timeout']);
      expect(holder.errors).toEqual([]);
    });
  });

  describe('a store that answers garbage', () => {
    const injected = 'stolen\r\nX-Injected: yes';

    test.each([
      ['a token set with a header injection', { accessToken: injected, expiresAt: Date.UTC(2030, 0, 1), refreshToken: 'rt' }],
      ['a token set without an access token', { expiresAt: Date.UTC(2030, 0, 1) }],
      ['a string', injected],
    ])('a plain store’s get answers %s: it is reported, never sent; one token call', async (_name, garbage) => {
      const plain = plainStore({ bindingSecret: true });
      plain.scripted.faults.set('get', { answer: garbage });
      const client = clientOf(authority, plain.store, { leaseMs: LEASE_MS });

      const outcome = await settled(client.api.get('/1'), 100);

      expect(outcome).toMatchObject({ status: 'fulfilled', value: { status: 200 } });
      expect(client.api.tokens.current?.accessToken).not.toContain('stolen');
      expect(authority.stats.tokenRequests).toBe(1);
      expect(authority.stats.api401s).toBe(0);
      expect(summary(client.errors)).toEqual(['get/invalid-value']);
    });

    test.each([
      ['nothing', undefined],
      ['a number', 42],
      ['an unknown state', { state: 'maybe' }],
      ['a lease that is not one', { state: 'leased', tokens: undefined, lease: true }],
      ['a failure record that is not one', { state: 'held', tokens: undefined, failure: { code: 'ERR_WHATEVER', grant: 'password' } }],
      ['a holder budget that is not a number', { state: 'held', tokens: undefined, failure: undefined, holderRemainingMs: 'lots' }],
    ])('acquire answers %s: no wait beyond the own limit, one token call, nothing thrown', async (_name, garbage) => {
      const store = new ScriptedStore();
      store.faults.set('acquire', { answer: garbage });
      const client = clientOf(authority, store, { leaseMs: LEASE_MS, timeout: 1_000, retry: { attempts: 1, maxElapsedMs: 1_000 } });

      // The own limit: 2 x (maxElapsedMs + timeout) + 2 x leaseMs = 6 s.
      const outcome = await settled(client.api.get('/1'), 6_000 + 100);

      expect(outcome).toMatchObject({ status: 'fulfilled', value: { status: 200 } });
      expect(authority.stats.tokenRequests).toBe(1);
      expect(client.errors.every((error) => error instanceof TokenStoreError)).toBe(true);
      expect(client.errors).toHaveLength(1);
    });
  });
});
