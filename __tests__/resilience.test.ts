/**
 * A flaky token endpoint and a wrong password, against the real loopback server injecting the faults. Retries use
 * millisecond delays here; their exact waits are proved with fake timers in retry.test.ts.
 */
import { createServer } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { inspect } from 'node:util';

import nock from 'nock';

import {
  createAuthClient,
  InvalidClientError,
  type SingleAccountAttachOptions,
  type OAuthBearerError,
  TokenEndpointError,
  TokenNetworkError,
  UserAuthenticationError,
} from '../src/index.js';
import { type AuthServer, startAuthServer } from '../src/testing/server.js';

let server: AuthServer;
const fastRetry = { attempts: 3, baseDelayMs: 5, maxDelayMs: 50, maxElapsedMs: 5000 };

beforeAll(() => {
  nock.disableNetConnect();
  nock.enableNetConnect('127.0.0.1');
});
beforeEach(async () => {
  server = await startAuthServer({ password: 'correct-horse-battery', clientSecret: 'client-secret-9876' });
});
afterEach(async () => {
  jest.restoreAllMocks();
  await server.close();
});
afterAll(() => nock.restore());

function client(auth: Partial<SingleAccountAttachOptions> = {}) {
  const errors: OAuthBearerError[] = [];
  const api = createAuthClient({
    baseURL: server.apiUrl,
    auth: { ...server.credentials, retry: fastRetry, onError: (e) => errors.push(e), ...auth },
  });
  return { api, errors };
}

const burst = (n: number, send: () => Promise<unknown>) => Promise.allSettled(Array.from({ length: n }, send));
const reasons = (results: PromiseSettledResult<unknown>[]) => results.flatMap((r) => (r.status === 'rejected' ? [r.reason as unknown] : []));

test('503 twice, then success: the caller sees one success after 3 token calls, and each failure is reported once', async () => {
  server.failNext(2, 503, { error: 'temporarily_unavailable' });
  const { api, errors } = client();

  await expect(api.get('/a')).resolves.toMatchObject({ status: 200 });

  expect(server.stats.tokenRequests).toBe(3);
  expect(errors.map((e) => e.code)).toEqual(['ERR_OAUTH_TOKEN_ENDPOINT', 'ERR_OAUTH_TOKEN_ENDPOINT']);
});

test('while a retry is pending, the single flight holds: 100 requests, 3 token calls', async () => {
  server.failNext(2, 503);
  const { api } = client();
  const results = await burst(100, () => api.get('/a'));
  expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(100);
  expect(server.stats.tokenRequests).toBe(3);
});

test('429 with Retry-After is honoured: the retry is scheduled for exactly that long', async () => {
  server.failNext(1, 429, { error: 'slow_down' }, { 'Retry-After': '1' });
  const timeout = jest.spyOn(global, 'setTimeout');
  const { api } = client({ retry: { ...fastRetry, maxDelayMs: 2000 } });

  await expect(api.get('/a')).resolves.toMatchObject({ status: 200 });

  expect(timeout.mock.calls.map(([, ms]) => ms)).toContain(1000);
  expect(server.stats.tokenRequests).toBe(2);
});

test('a connection reset, then success', async () => {
  server.failNext(1, { type: 'reset' });
  const { api, errors } = client();
  await expect(api.get('/a')).resolves.toMatchObject({ status: 200 });
  expect(errors).toEqual([expect.any(TokenNetworkError)]);
  expect(server.stats.tokenRequests).toBe(2);
});

test('a timeout, then success', async () => {
  server.failNext(1, { type: 'hang' });
  const { api, errors } = client({ timeout: 200 });
  await expect(api.get('/a')).resolves.toMatchObject({ status: 200 });
  expect(errors).toEqual([expect.objectContaining({ code: 'ERR_OAUTH_NETWORK', timedOut: true })]);
});

test('attempts exhausted: every waiting request rejects with the typed error, and nothing is left pending', async () => {
  server.failNext(10, 503);
  const { api } = client();

  const results = await burst(50, () => api.get('/a'));

  const all = reasons(results);
  expect(all).toHaveLength(50);
  expect(all.every((e) => e instanceof TokenEndpointError && e.status === 503)).toBe(true);
  expect(server.stats.tokenRequests).toBe(3);
  expect(api.tokens.renewing).toBe(false);
});

test('a 401 invalid_client is never retried', async () => {
  server.failNext(5, 401, { error: 'invalid_client' });
  const { api } = client();
  await expect(api.get('/a')).rejects.toBeInstanceOf(InvalidClientError);
  expect(server.stats.tokenRequests).toBe(1);
});

test('500 requests with a wrong password make one login attempt, then the cooldown answers; clearing it allows one more', async () => {
  const { api, errors } = client({ password: 'wrong-password-1234' });

  const results = await burst(500, () => api.get('/a'));
  const again = await burst(20, () => api.get('/b'));

  const all = [...reasons(results), ...reasons(again)];
  expect(all).toHaveLength(520);
  expect(new Set(all).size).toBe(1);
  expect(all[0]).toBeInstanceOf(UserAuthenticationError);
  expect(server.stats.tokenRequests).toBe(1);
  expect(errors).toHaveLength(1);
  for (const printed of [inspect(all[0], { depth: null }), JSON.stringify(all[0]), String(all[0])]) {
    expect(printed).not.toContain('wrong-password-1234');
    expect(printed).not.toContain('client-secret-9876');
  }

  api.tokens.clearCooldown();
  await expect(api.get('/c')).rejects.toBeInstanceOf(UserAuthenticationError);
  expect(server.stats.tokenRequests).toBe(2);
});

test('after the cooldown has passed, the next request makes one new attempt', async () => {
  // Time passing moves both clocks: the wall clock (the test server's expiry) and the monotonic one (the cooldown).
  const realNow = Date.now.bind(Date);
  const realMonotonic = performance.now.bind(performance);
  let offset = 0;
  jest.spyOn(Date, 'now').mockImplementation(() => realNow() + offset);
  jest.spyOn(performance, 'now').mockImplementation(() => realMonotonic() + offset);
  const { api } = client({ password: 'wrong-password-1234', cooldownMs: 60_000 });

  await expect(api.get('/a')).rejects.toBeInstanceOf(UserAuthenticationError);
  offset = 59_000;
  await expect(api.get('/b')).rejects.toBeInstanceOf(UserAuthenticationError);
  expect(server.stats.tokenRequests).toBe(1);
  offset = 61_000;
  await expect(api.get('/c')).rejects.toBeInstanceOf(UserAuthenticationError);
  expect(server.stats.tokenRequests).toBe(2);
});

test('a refresh that still fails with 503 after its retries escalates to one password grant, and the caller gets that token', async () => {
  const { api, errors } = client();
  await api.get('/warm-up');
  server.revokeAll();
  server.failNext(3, 503);

  await expect(api.get('/a')).resolves.toMatchObject({ status: 200 });

  // 1 warm-up password grant, 3 refused refreshes, 1 escalated password grant.
  expect(server.stats.tokenRequests).toBe(5);
  expect(server.stats.grants).toEqual({ password: 2, refresh_token: 0 });
  expect(errors.map((e) => [e.constructor.name, e instanceof TokenEndpointError ? e.grant : undefined])).toEqual(Array(3).fill(['TokenEndpointError', 'refresh_token']));
  expect(api.tokens.current?.refreshToken).toBe('rt-2');
});

test('when the escalated password grant fails too, the callers get its error with the refresh failure as cause, and the refresh token is kept', async () => {
  const { api, errors } = client();
  await api.get('/warm-up');
  server.revokeAll();
  server.failNext(3, 503);
  server.failNext(1, 502, { error: 'server_error' });

  const results = await burst(20, () => api.get('/a'));

  const all = reasons(results);
  expect(all).toHaveLength(20);
  expect(new Set(all).size).toBe(1);
  expect(all[0]).toMatchObject({ grant: 'password', status: 502 });
  expect((all[0] as Error).cause).toMatchObject({ grant: 'refresh_token', status: 503 });
  // One password grant, not retried: 1 warm-up, 3 refreshes, 1 escalation.
  expect(server.stats.tokenRequests).toBe(5);
  expect(errors).toHaveLength(4);
  expect(api.tokens.current?.refreshToken).toBe('rt-1');
  await expect(api.get('/b')).resolves.toMatchObject({ status: 200 });
  expect(server.stats.grants).toEqual({ password: 1, refresh_token: 1 });
});

test('a refresh that keeps failing with a connection reset also escalates to exactly one password grant', async () => {
  const { api } = client();
  await api.get('/warm-up');
  server.revokeAll();
  server.failNext(3, { type: 'reset' });

  await expect(api.get('/a')).resolves.toMatchObject({ status: 200 });

  expect(server.stats.tokenRequests).toBe(5);
  expect(server.stats.grants).toEqual({ password: 2, refresh_token: 0 });
});

test('an endpoint that trickles its answer a byte at a time still times out: the timeout is a deadline, not an idle timer', async () => {
  const sockets = new Set<Socket>();
  const trickle = createServer((_req, res) => {
    res.writeHead(200, { 'Content-Type': 'application/json' });
    const drip = setInterval(() => res.write(' '), 50);
    res.on('close', () => clearInterval(drip));
  });
  trickle.on('connection', (socket) => sockets.add(socket));
  await new Promise<void>((resolve) => trickle.listen(0, '127.0.0.1', resolve));
  const { port } = trickle.address() as AddressInfo;
  const api = createAuthClient({
    baseURL: server.apiUrl,
    auth: { ...server.credentials, tokenUrl: `http://127.0.0.1:${String(port)}/token`, timeout: 300, retry: { attempts: 1 } },
  });
  try {
    await expect(api.get('/a')).rejects.toMatchObject({ code: 'ERR_OAUTH_NETWORK', timedOut: true });
  } finally {
    for (const socket of sockets) socket.destroy();
    await new Promise((resolve) => trickle.close(resolve));
  }
});
