/**
 * End to end over real sockets: the client against the loopback authorization server (token endpoint + protected
 * API on 127.0.0.1), which enforces expiry exactly at expires_in with its own clock.
 */
import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';

import nock from 'nock';

import { createAuthClient } from '../src/index.js';
import { type AuthServer, startAuthServer } from '../src/testing/server.js';

let server: AuthServer | undefined;

beforeAll(() => {
  nock.disableNetConnect();
  nock.enableNetConnect('127.0.0.1');
});
afterEach(async () => {
  jest.restoreAllMocks();
  await server?.close();
  server = undefined;
});
afterAll(() => nock.restore());

async function start(options: Parameters<typeof startAuthServer>[0]): Promise<AuthServer> {
  server = await startAuthServer(options);
  return server;
}

const burst = (n: number, send: (i: number) => Promise<unknown>) => Promise.allSettled(Array.from({ length: n }, (_, i) => send(i)));

test('a steady stream of requests with 2-second tokens sees no 401 at all', async () => {
  const srv = await start({ expiresIn: 2 });
  const api = createAuthClient({ baseURL: srv.apiUrl, auth: srv.credentials });
  const until = Date.now() + 5000;
  const worker = async (): Promise<number> => {
    let sent = 0;
    while (Date.now() < until && sent < 5000) {
      await api.get(`/stream/${String(sent)}`);
      sent += 1;
    }
    return sent;
  };

  const sent = await Promise.all(Array.from({ length: 10 }, worker));

  expect(sent.reduce((a, b) => a + b, 0)).toBe(srv.stats.apiOk);
  expect(srv.stats.api401s).toBe(0);
  // Two expiries in 5 s: renewed each time, before the server would have refused the token.
  expect(srv.stats.grants.refresh_token).toBeGreaterThanOrEqual(2);
});

test('500 concurrent requests just after the token expired make one token call and all succeed', async () => {
  // Server and client share this process's clock: moving it past expires_in expires the token for both, without
  // sleeping, and the new token then lives an hour however slowly 500 sockets open on a busy machine. Time passing
  // moves the client's monotonic clock (its schedule) too.
  const realNow = Date.now.bind(Date);
  const realMonotonic = performance.now.bind(performance);
  let offset = 0;
  jest.spyOn(Date, 'now').mockImplementation(() => realNow() + offset);
  jest.spyOn(performance, 'now').mockImplementation(() => realMonotonic() + offset);
  const srv = await start({ expiresIn: 3600 });
  const api = createAuthClient({ baseURL: srv.apiUrl, auth: srv.credentials });
  await api.get('/warm-up');
  offset = 3_601_000;
  srv.resetStats();

  const results = await burst(500, (i) => api.get(`/r/${String(i)}`));

  expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(500);
  expect(srv.stats.tokenRequests).toBe(1);
  expect(srv.stats.api401s).toBe(0);
});

test('500 requests in flight when the server revokes the token are replayed after one grant', async () => {
  const srv = await start({ apiLatencyMs: 50 });
  const api = createAuthClient({ baseURL: srv.apiUrl, auth: srv.credentials });
  await api.get('/warm-up');
  srv.resetStats();

  const pending = burst(500, (i) => api.get(`/r/${String(i)}`));
  await new Promise((r) => setTimeout(r, 10)); // the requests are on the wire, waiting for the API
  srv.revokeAll();
  const results = await pending;

  expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(500);
  expect(srv.stats.tokenRequests).toBe(1);
});

test('refresh-token rotation under concurrency never spends a refresh token twice', async () => {
  const srv = await start({ expiresIn: 3600, rotateRefreshTokens: true });
  const api = createAuthClient({ baseURL: srv.apiUrl, auth: srv.credentials });
  await api.get('/warm-up');

  for (let round = 0; round < 5; round += 1) {
    srv.revokeAll();
    const results = await burst(100, (i) => api.get(`/r/${String(round)}/${String(i)}`));
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(100);
  }

  expect(srv.stats.grants).toEqual({ password: 1, refresh_token: 5 });
  expect(srv.stats.failedTokenRequests).toBe(0);
});

test('a process that used the client exits on its own: no stray timers or sockets', () => {
  const probe = resolve(__dirname, 'helpers/exit-probe.ts');
  const result = spawnSync(process.execPath, ['--import', 'tsx', probe], { encoding: 'utf8', timeout: 30_000 });

  expect(result.error).toBeUndefined();
  expect(result.signal).toBeNull();
  expect(result.stdout.trim()).toBe('probe done: 52 requests, 0 failures');
  expect(result.status).toBe(0);
});
