/**
 * End to end over real sockets: the client against the loopback authorization server (token endpoint + protected
 * API on 127.0.0.1), which enforces expiry exactly at expires_in with its own clock.
 *
 * Where a test is about time (tokens expiring while requests flow), it runs on a stepped clock rather than real time:
 * on a loaded 2-core machine a real-time run with 2-second tokens saw 6 and 9 401s from requests that merely sat in a
 * starved event loop past their token's expiry. On the stepped clock a request spends exactly one step on the wire
 * however slowly the machine runs it, so the counts are exact, and they change only when the behaviour does.
 */
import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';

import axios, { type AxiosAdapter, type AxiosResponse, type InternalAxiosRequestConfig } from 'axios';
import nock from 'nock';

import { createAuthClient } from '../src/index.js';
import { type AuthServer, startAuthServer } from '../src/testing/server.js';

// A bound for a hang, not a measurement: the counts are exact however slow the machine. Unloaded each test takes 3-8 s;
// on two cores with three busy loops and a second Jest beside it, 7-13 s, and up to 36 s in a heavier run.
jest.setTimeout(120_000);

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
const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/**
 * A network between the client and the loopback server whose delays are the test's to give. A request or answer that
 * crosses waits at the wire until the test lets it through with a step of the clock; otherwise it goes over the real
 * socket at once. Server and client share this process's clock, stubbed to stand still until the test moves it, so
 * "a protected request arrives one step after it was sent" holds exactly on any machine, however loaded.
 *
 * The token endpoint is near: it is asked and answers within one step, and only its answer takes a step to come
 * back, so the client (which counts a lifetime from when it asked) has exactly the server's idea of the expiry. The
 * protected API is one step away: a request carries the token it was given to a server one step later. So the only
 * slack between them is the one the refresh schedule keeps.
 */
function steppedNetwork() {
  const realNow = Date.now.bind(Date);
  const realMonotonic = performance.now.bind(performance);
  const epoch = realNow();
  const origin = realMonotonic();
  let elapsed = 0;
  jest.spyOn(Date, 'now').mockImplementation(() => epoch + elapsed);
  jest.spyOn(performance, 'now').mockImplementation(() => origin + elapsed);

  const http = axios.getAdapter('http');
  let onWire: { readonly api: boolean; readonly go: () => void }[] = [];
  let onSocket = 0;
  const cross = (api: boolean): Promise<void> => new Promise((go) => onWire.push({ api, go }));
  const send = async (config: InternalAxiosRequestConfig): Promise<AxiosResponse> => {
    onSocket += 1;
    try {
      return await http(config);
    } finally {
      onSocket -= 1;
    }
  };
  return {
    /** Milliseconds of stepped time since the start. */
    elapsed: (): number => elapsed,
    /** The protected API's adapter: a request crosses (one step), then is judged on arrival. */
    api: (async (config) => {
      await cross(true);
      return send(config);
    }) satisfies AxiosAdapter,
    /** The token endpoint's (`auth.adapter`): asked at once, its answer crosses back (one step). */
    token: (async (config) => {
      const response = await send(config);
      await cross(false);
      return response;
    }) satisfies AxiosAdapter,
    /** How many protected requests are on the wire. */
    apiOnWire: (): number => onWire.filter((crossing) => crossing.api).length,
    /** How many crossings of either kind are waiting at the wire. */
    onWire: (): number => onWire.length,
    /**
     * Resolves once nothing is on a real socket and nothing else is left to run (two quiet turns of the event loop):
     * every request is then on the wire, waiting for a token that is, or done.
     */
    async quiet(): Promise<void> {
      let seen = -1;
      for (let calm = 0; calm < 2; ) {
        await nextTurn();
        calm = onSocket === 0 && onWire.length === seen ? calm + 1 : 0;
        seen = onWire.length;
      }
    },
    /** Moves the clock one step on, and lets everything on the wire arrive. */
    step(ms: number): void {
      elapsed += ms;
      this.release(onWire.length);
    },
    /** Lets the first `count` crossings arrive, the clock standing still. */
    release(count: number): void {
      const through = onWire.slice(0, count);
      onWire = onWire.slice(count);
      for (const crossing of through) crossing.go();
    },
  };
}

test('a steady stream of requests with 2-second tokens sees no 401 and never waits for a renewal', async () => {
  // A step is 50 ms, a slow WAN between the client and the API. Of a 2-second token's life the schedule keeps about
  // 630 ms in hand (clock skew: a quarter of what is left when it arrives; then half of a 20% refresh margin), so the
  // renewal, begun about 1.2 s after the grant, is back a step later and the old token is never sent late.
  // Renewing only at the expiry (no margin, no skew) sends the old token in the step before it: 5 401s at each of two.
  const STEP_MS = 50;
  const RUN_MS = 4_500;
  // Every worker has a request on the wire at every step, so five are as searching as fifty; each one more costs a
  // real request per step, and a machine with other suites and busy loops on its two cores ran a step in 0.6 s.
  const WORKERS = 5;
  const net = steppedNetwork();
  const srv = await start({ expiresIn: 2 });
  const api = createAuthClient({ baseURL: srv.apiUrl, adapter: net.api, auth: { ...srv.credentials, adapter: net.token } });
  let finished = 0;
  const worker = async (id: number): Promise<number> => {
    let sent = 0;
    while (net.elapsed() < RUN_MS) {
      await api.get(`/stream/${String(id)}/${String(sent)}`);
      sent += 1;
    }
    finished += 1;
    return sent;
  };
  const streams = Promise.all(Array.from({ length: WORKERS }, (_, id) => worker(id)));
  /** Protected requests on the wire at each step (a worker that waited for a token shows as a gap). */
  const perStep: number[] = [];
  while (finished < WORKERS) {
    await net.quiet();
    perStep.push(net.apiOnWire());
    net.step(STEP_MS);
  }
  const sent = await streams;

  // The first grant's answer arrives at 50 ms; from then on every worker has a request on the wire at every step,
  // the one sent at 4.45 s being the last: 89 each. Renewals are sent at 1.25 s, 2.5 s and 3.75 s (about 1.2 s after
  // each token arrived), the next one due after the end. One summary, so that a failure shows every difference.
  const perWorker = RUN_MS / STEP_MS - 1;
  const { api401s, apiOk, grants } = srv.stats;
  expect({ api401s, apiOk, grants, sent, perStep }).toEqual({
    api401s: 0,
    apiOk: WORKERS * perWorker,
    grants: { password: 1, refresh_token: 3 },
    sent: Array<number>(WORKERS).fill(perWorker),
    perStep: [0, ...Array<number>(perWorker).fill(WORKERS), 0],
  });
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
  // The wire holds the requests after they took their token and before the API sees them, so "in flight at the
  // revocation" is exactly the second half, however slowly a loaded machine opens 500 sockets. The clock stands still.
  const net = steppedNetwork();
  const srv = await start({});
  const api = createAuthClient({ baseURL: srv.apiUrl, adapter: net.api, auth: { ...srv.credentials, adapter: net.token } });
  /** Lets everything through, again and again, until `promise` settles (the clock does not move). */
  const deliver = async <T>(promise: Promise<T>): Promise<T> => {
    const state = { done: false };
    const settled = promise.finally(() => (state.done = true));
    while (!state.done) {
      await net.quiet();
      net.release(net.onWire());
    }
    return settled;
  };
  await deliver(api.get('/warm-up'));
  srv.resetStats();

  const pending = burst(500, (i) => api.get(`/r/${String(i)}`));
  await net.quiet();
  expect(net.apiOnWire()).toBe(500); // every one of them sent with the token, none arrived
  net.release(250);
  await net.quiet();
  expect(srv.stats).toMatchObject({ apiRequests: 250, apiOk: 250 });
  srv.revokeAll();
  const results = await deliver(pending);

  expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(500);
  // The 250 that arrived after the revocation were refused once each, and replayed after one refresh.
  expect(srv.stats).toMatchObject({ tokenRequests: 1, grants: { password: 0, refresh_token: 1 }, api401s: 250, apiOk: 500 });
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
