/**
 * The node:diagnostics_channel events (src/diagnostics.ts, issue 18), against the loopback authorization server on
 * real sockets with a keep-alive agent: the exact events of a first grant, of a 500-request storm after the server
 * revoked every token (one renewal, one token request, one replay event per 401 the server sent), of a 503 retried,
 * of a wrong password and the cooldown that follows; and no payload holds a secret (util.inspect at full depth and
 * JSON.stringify). With no subscriber, no payload is made.
 */
import diagnostics_channel from 'node:diagnostics_channel';
import { Agent } from 'node:http';
import { inspect } from 'node:util';

import { type AuthClient, createAuthClient } from '../src/client.js';
import { channels, publishRenewal } from '../src/diagnostics.js';
import { UserAuthenticationError } from '../src/errors.js';
import { TokenStoreError } from '../src/stores/errors.js';
import { MemoryTokenStore } from '../src/stores/memory.js';
import type { LeaseRequest, StoreSnapshot } from '../src/stores/types.js';
import { type AuthServer, startAuthServer } from '../src/testing/server.js';
import { revocationStorm } from './helpers/revocation-storm.js';
import { waitFor } from './helpers/waiting.js';

/** Asymmetric matchers, typed as what they are here (expect.any is typed any). */
const A_NUMBER: unknown = expect.any(Number);
const A_STRING: unknown = expect.any(String);

type Name = keyof typeof channels;
const NAMES = Object.keys(channels) as Name[];

let server: AuthServer;
let agent: Agent;
let seen: Record<Name, Record<string, unknown>[]>;
const listeners = new Map<Name, (message: unknown) => void>();

beforeEach(async () => {
  server = await startAuthServer();
  agent = new Agent({ keepAlive: true, maxSockets: 64 });
  seen = { tokenRequest: [], renewal: [], cooldown: [], replay: [], tokenWait: [], storeOperation: [], leaseTakeover: [], error: [] };
  for (const name of NAMES) {
    const listener = (message: unknown): void => {
      seen[name].push(message as Record<string, unknown>);
    };
    listeners.set(name, listener);
    diagnostics_channel.subscribe(channels[name], listener);
  }
});

afterEach(async () => {
  for (const [name, listener] of listeners) diagnostics_channel.unsubscribe(channels[name], listener);
  listeners.clear();
  agent.destroy();
  await server.close();
});

function client(auth: Record<string, unknown> = {}): AuthClient {
  return createAuthClient({ baseURL: server.apiUrl, httpAgent: agent, auth: { ...server.credentials, cooldownMs: 60_000, ...auth } } as Parameters<typeof createAuthClient>[0]) as AuthClient;
}

/** Every payload, each as util.inspect and JSON show it, holds none of the credentials and no token the server issued. */
function expectNoSecret(...extra: string[]): void {
  const payloads = NAMES.flatMap((name) => seen[name]);
  expect(payloads.length).toBeGreaterThan(0);
  const { password, clientSecret, username } = server.credentials;
  for (const text of [inspect(payloads, { depth: null }), JSON.stringify(payloads)]) {
    for (const secret of [password, clientSecret, username, ...extra]) expect(text).not.toContain(secret);
    expect(text).not.toMatch(/\b(at|rt)-\d+\b/);
    expect(text).not.toContain('grant_type=');
  }
}

test('a first grant: one token request, one renewal from the password grant, nothing else', async () => {
  const api = client();
  await api.get('/first');
  await api.get('/second');

  expect(seen.tokenRequest).toEqual([{ grant: 'password', outcome: 'success', attempts: 1, durationMs: A_NUMBER }]);
  expect(seen.renewal).toEqual([{ outcome: 'success', source: 'password', durationMs: A_NUMBER }]);
  expect(seen.renewal[0]!.durationMs).toBeGreaterThanOrEqual(seen.tokenRequest[0]!.durationMs as number);
  // The first request waited for the grant; the second found the token cached.
  expect(seen.tokenWait).toEqual([{ outcome: 'success', durationMs: A_NUMBER }]);
  expect([seen.cooldown, seen.replay, seen.storeOperation, seen.leaseTakeover, seen.error]).toEqual([[], [], [], [], []]);
  expectNoSecret(api.tokens.current!.accessToken);
});

test('a 500-request storm after the server revoked every token: one renewal, one token request, a replay event per 401', async () => {
  const api = client();
  const { storm401s, spent } = await revocationStorm(api, server);

  expect(seen.tokenRequest.map(({ grant, outcome, attempts }) => ({ grant, outcome, attempts }))).toEqual([
    { grant: 'password', outcome: 'success', attempts: 1 },
    { grant: 'refresh_token', outcome: 'success', attempts: 1 },
  ]);
  expect(seen.renewal.map(({ outcome, source }) => `${String(outcome)}/${String(source)}`)).toEqual(['success/password', 'success/refresh_token']);
  // Each 401 the server sent is replayed once: as many replay events, each naming the method only.
  expect(seen.replay).toHaveLength(storm401s);
  expect(new Set(seen.replay.map((event) => JSON.stringify(event)))).toEqual(new Set(['{"method":"GET"}']));
  expect([seen.cooldown, seen.error]).toEqual([[], []]);
  expectNoSecret(spent, api.tokens.current!.accessToken);
});

test('a 503 retried: one token request of two attempts, the failed attempt reported as an error event with its status', async () => {
  const api = client({ retry: { attempts: 3, baseDelayMs: 1, maxDelayMs: 5 } });
  server.failNext(1, 503, { error: 'temporarily_unavailable' });

  await api.get('/first');

  expect(server.stats.tokenRequests).toBe(2);
  expect(seen.tokenRequest).toEqual([{ grant: 'password', outcome: 'success', attempts: 2, durationMs: A_NUMBER }]);
  expect(seen.error).toEqual([{ name: 'TokenEndpointError', code: A_STRING, status: 503, oauthError: 'temporarily_unavailable' }]);
  expect(seen.renewal).toHaveLength(1);
  expectNoSecret(api.tokens.current!.accessToken);
});

test('a wrong password: a failed token request, a failed renewal and a cooldown event; inside the cooldown nothing is sent and nothing more published', async () => {
  const wrong = 'wrong-password-7f3a';
  const api = client({ password: wrong });

  await expect(api.get('/first')).rejects.toBeInstanceOf(UserAuthenticationError);
  const before = Date.now();
  await expect(api.get('/second')).rejects.toBeInstanceOf(UserAuthenticationError);

  expect(server.stats.tokenRequests).toBe(1);
  const failure = { name: 'UserAuthenticationError', code: A_STRING, status: 403, oauthError: 'invalid_grant' }; // the reference provider's answer to a wrong password
  expect(seen.tokenRequest).toEqual([{ grant: 'password', outcome: 'failure', attempts: 1, durationMs: A_NUMBER, error: failure }]);
  expect(seen.renewal).toEqual([{ outcome: 'failure', durationMs: A_NUMBER, error: failure }]);
  expect(seen.cooldown).toEqual([{ durationMs: 60_000, endsAt: A_NUMBER, error: failure }]);
  expect(seen.cooldown[0]!.endsAt).toBeGreaterThan(before + 50_000);
  expect(seen.error).toEqual([failure]);
  expect(seen.replay).toEqual([]);
  // Both requests waited for a token and did not get one: the first on the grant, the second on the cooldown.
  expect(seen.tokenWait).toEqual([
    { outcome: 'failure', durationMs: A_NUMBER },
    { outcome: 'failure', durationMs: A_NUMBER },
  ]);
  expectNoSecret(wrong);
});

test('client credentials, through a shared store: the grant is named, and a second client adopting the token says so', async () => {
  const store = new MemoryTokenStore();
  const auth = { tokenUrl: server.tokenUrl, clientId: server.credentials.clientId, clientSecret: server.credentials.clientSecret, grant: 'client_credentials', store };
  const first = createAuthClient({ baseURL: server.apiUrl, httpAgent: agent, auth } as Parameters<typeof createAuthClient>[0]) as AuthClient;
  await first.get('/first');
  const second = createAuthClient({ baseURL: server.apiUrl, httpAgent: agent, auth } as Parameters<typeof createAuthClient>[0]) as AuthClient;
  await second.get('/second');

  expect(server.stats.tokenRequests).toBe(1);
  expect(seen.tokenRequest.map(({ grant, outcome }) => `${String(grant)}/${String(outcome)}`)).toEqual(['client_credentials/success']);
  expect(seen.renewal.map(({ source }) => source)).toEqual(['client_credentials', 'store']);
  // Every store call, in order: the first client wins the lease and commits its token; the second finds it, and
  // gives back the lease it took on the way (in the background).
  await waitFor('the second client to release its lease', () => seen.storeOperation.length === 4, 5_000, 10);
  expect(seen.storeOperation).toEqual([
    { operation: 'acquire', outcome: 'success', state: 'leased', durationMs: A_NUMBER },
    { operation: 'commit', outcome: 'success', durationMs: A_NUMBER },
    { operation: 'acquire', outcome: 'success', state: 'leased', durationMs: A_NUMBER },
    { operation: 'release', outcome: 'success', durationMs: A_NUMBER },
  ]);
  expect(seen.leaseTakeover).toEqual([]);
  second.tokens.clear();
  await waitFor('the background delete', () => seen.storeOperation.length === 5, 5_000, 10);
  expect(seen.storeOperation[4]).toEqual({ operation: 'delete', outcome: 'success', durationMs: A_NUMBER });
  expectNoSecret(first.tokens.current!.accessToken);
});

/**
 * A MemoryTokenStore that first answers that another process holds the lease, `held` times, with this much of its
 * budget left: a holder that never finishes, as a killed one (file-store-multiprocess.test.ts has the real one).
 */
class HeldStore extends MemoryTokenStore {
  held: number;
  readonly #holderRemainingMs: number;
  constructor(held: number, holderRemainingMs: number) {
    super();
    this.held = held;
    this.#holderRemainingMs = holderRemainingMs;
  }
  override acquire(key: string, request: LeaseRequest): StoreSnapshot {
    if (this.held <= 0) return super.acquire(key, request);
    this.held -= 1;
    return { state: 'held', tokens: undefined, failure: undefined, holderRemainingMs: this.#holderRemainingMs };
  }
}

test('a lease that frees up with no token in the store is a takeover: one event, one grant; adopting a token is none', async () => {
  const store = new HeldStore(3, 5_000);
  const api = client({ store });

  await api.get('/first');

  expect(server.stats.tokenRequests).toBe(1);
  expect(seen.leaseTakeover).toEqual([{ reason: 'lease-freed', waitedMs: A_NUMBER }]);
  expect(seen.leaseTakeover[0]!.waitedMs).toBeGreaterThanOrEqual(100); // three polls 50 ms apart, at least two waits
  expect(seen.storeOperation.map(({ operation, state }) => `${String(operation)}/${String(state)}`)).toEqual([
    'acquire/held',
    'acquire/held',
    'acquire/held',
    'acquire/leased',
    'commit/undefined',
  ]);
  expectNoSecret(api.tokens.current!.accessToken);
});

test('a holder past its budget is a takeover too (renewing alone), reported as lease-overstayed', async () => {
  const store = new HeldStore(1, -5_000);
  const reports: string[] = [];
  const api = client({ store, onError: (error: { reason?: string }) => reports.push(String(error.reason)) });

  await api.get('/first');

  expect(server.stats.tokenRequests).toBe(1);
  expect(seen.leaseTakeover).toEqual([{ reason: 'holder-overstayed', waitedMs: A_NUMBER }]);
  expect(reports).toEqual(['lease-overstayed']);
  expect(seen.error).toEqual([{ name: 'TokenStoreError', code: A_STRING, operation: 'acquire', reason: 'lease-overstayed' }]);
  // Renewing alone writes nothing: one acquire, and no commit.
  expect(seen.storeOperation.map(({ operation }) => operation)).toEqual(['acquire']);
});

test('a store that throws: the operation is published as a failure beside its error event', async () => {
  const store = new MemoryTokenStore();
  store.acquire = () => {
    throw new Error('redis is on fire');
  };
  const api = client({ store, onError: () => undefined });

  await api.get('/first');

  expect(seen.storeOperation).toEqual([{ operation: 'acquire', outcome: 'failure', durationMs: A_NUMBER }]);
  expect(seen.error).toEqual([{ name: 'TokenStoreError', code: A_STRING, operation: 'acquire', reason: 'failed' }]);
  expect(JSON.stringify(seen)).not.toContain('redis is on fire');
});

test('with no subscriber, no payload is made', () => {
  for (const [name, listener] of listeners) diagnostics_channel.unsubscribe(channels[name], listener);
  listeners.clear();
  const make = jest.fn(() => ({ outcome: 'success' as const, durationMs: 1 }));
  publishRenewal(make);
  expect(make).not.toHaveBeenCalled();

  const listener = jest.fn();
  diagnostics_channel.subscribe(channels.renewal, listener);
  try {
    publishRenewal(make);
  } finally {
    diagnostics_channel.unsubscribe(channels.renewal, listener);
  }
  expect(make).toHaveBeenCalledTimes(1);
  expect(listener).toHaveBeenCalledWith({ outcome: 'success', durationMs: 1 }, channels.renewal);
});

test('a replay whose renewal fails is never sent again, and no replay event says it was', async () => {
  const api = client();
  await api.get('/warm');
  // Every token refused, the refresh token too, and the password changed: the renewal the 401s wait for fails.
  server.revokeAll();
  server.revokeRefreshTokens();
  server.setPassword(server.credentials.username, 'rotated-elsewhere');

  const results = await Promise.allSettled([api.get('/a'), api.get('/b')]);

  expect(results.map((result) => result.status)).toEqual(['rejected', 'rejected']);
  expect(server.stats.api401s).toBe(2);
  expect(seen.replay).toEqual([]);
  expect(seen.renewal.map(({ outcome }) => outcome)).toEqual(['success', 'failure']);
});

test('an OAuth error code outside the registered ones is published as `other`: the server may put anything there', async () => {
  const api = client({ retry: { attempts: 1 } });
  server.failNext(1, 400, { error: server.credentials.username });

  await expect(api.get('/first')).rejects.toThrow();

  expect(seen.error).toEqual([{ name: 'InvalidRequestError', code: A_STRING, status: 400, oauthError: 'other' }]);
  expectNoSecret();
});

test('a refused refresh token you brought is final: no cooldown event (it would promise a retry at its end), one failed renewal', async () => {
  const api = createAuthClient({
    baseURL: server.apiUrl,
    httpAgent: agent,
    auth: { tokenUrl: server.tokenUrl, clientId: server.credentials.clientId, clientSecret: server.credentials.clientSecret, grant: 'refresh_token', refreshToken: 'rt-never-issued', cooldownMs: 300 },
  } as Parameters<typeof createAuthClient>[0]);
  await expect(api.get('/first')).rejects.toMatchObject({ name: 'RefreshTokenRejectedError' });
  const error = await api.get('/second').catch((caught: unknown) => caught);
  expect(error).toMatchObject({ name: 'RefreshTokenRejectedError' });
  expect((error as { retryAfterMs?: number }).retryAfterMs).toBeUndefined();
  expect(server.stats.tokenRequests).toBe(1);
  expect(seen.cooldown).toEqual([]);
  expect(seen.renewal.map(({ outcome }) => outcome)).toEqual(['failure']);
});

test("a replay names a known method only; a store error's operation and reason are the library's names only", async () => {
  const api = client();
  await api.get('/warm');
  server.revokeAll();
  await api.request({ url: '/odd', method: 'PROPFIND' }).catch(() => undefined);
  server.revokeAll();
  await api.request({ url: '/patch', method: 'patch' });
  expect(seen.replay.map(({ method }) => method)).toEqual(['_OTHER', 'PATCH']);

  const store = new MemoryTokenStore();
  // An answer whose field throws a TokenStoreError of the store's own making: it is passed on as it is, names and all.
  store.acquire = () =>
    ({
      get state(): never {
        throw new TokenStoreError('at-secret-operation' as never, 'rt-secret-reason' as never, undefined, 'made by a store of the user');
      },
    });
  await client({ store, onError: () => undefined }).get('/store');
  expect(seen.error.map(({ operation, reason }) => `${String(operation)}/${String(reason)}`)).toContain('other/other');
  expect(JSON.stringify(seen.error)).not.toContain('secret');
});
