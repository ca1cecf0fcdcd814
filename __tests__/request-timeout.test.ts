/**
 * A request's own axios `timeout` bounds its wait for a token, over real sockets on 127.0.0.1: it rejects with axios's
 * own timeout error while the shared renewal goes on for the other requests. Margins are wide on purpose (a 300 ms
 * timeout against a grant of seconds, the rejection asserted well before the grant ends, never to the millisecond),
 * so a loaded 2-core machine does not make them flaky.
 */
import { inspect } from 'node:util';

import axios, { type AxiosError, type AxiosRequestConfig } from 'axios';
import nock from 'nock';

import { type AuthClient, createAuthClient, type SingleAccountAttachOptions } from '../src/index.js';
import { type AuthServer, startAuthServer } from '../src/testing/server.js';

let server: AuthServer | undefined;
const unhandled: unknown[] = [];
const onUnhandled = (reason: unknown): void => void unhandled.push(reason);

beforeAll(() => {
  nock.disableNetConnect();
  nock.enableNetConnect('127.0.0.1');
  process.on('unhandledRejection', onUnhandled);
});
afterEach(async () => {
  jest.restoreAllMocks();
  await server?.close();
  server = undefined;
});
afterAll(() => {
  process.off('unhandledRejection', onUnhandled);
  nock.restore();
});

/** The slow grant: ten times the request timeout, and well past the bound the rejection is held to. */
const GRANT_MS = 3000;
const TIMEOUT_MS = 300;
/** A rejection later than this came from the grant ending, not from the timeout. */
const PROMPT_MS = 2000;

async function start(options: Parameters<typeof startAuthServer>[0]): Promise<AuthServer> {
  server = await startAuthServer(options);
  return server;
}

function client(srv: AuthServer, adapter: 'http' | 'fetch', auth: Partial<SingleAccountAttachOptions> = {}): AuthClient {
  return createAuthClient({ baseURL: srv.apiUrl, adapter, auth: { ...srv.credentials, ...auth } });
}

/** How a request ended, and after how many milliseconds. */
async function timed(request: Promise<unknown>): Promise<{ error: AxiosError | undefined; ms: number }> {
  const started = performance.now();
  try {
    await request;
    return { error: undefined, ms: performance.now() - started };
  } catch (error) {
    if (!axios.isAxiosError(error)) throw error;
    return { error, ms: performance.now() - started };
  }
}

/** Everything a log line could show of the error: none of the secrets may be in it. */
function printed(error: unknown): string {
  return `${inspect(error, { depth: null })}\n${JSON.stringify(error)}`;
}

function expectNoSecrets(text: string, srv: AuthServer, tokens: readonly (string | undefined)[]): void {
  expect(text).not.toContain(srv.credentials.password);
  expect(text).not.toContain(srv.credentials.clientSecret);
  for (const token of tokens) if (token !== undefined) expect(text).not.toContain(token);
}

/** The timers a setTimeout spy saw started with this delay. */
function timersOf(setTimer: jest.SpiedFunction<typeof setTimeout>, delay: number): unknown[] {
  return setTimer.mock.calls.flatMap((call, i): unknown[] => (call[1] === delay ? [setTimer.mock.results[i]?.value] : []));
}

/** Lets late settlements (a renewal's failure after everyone gave up) surface as unhandled rejections, if any. */
const settle = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 50));

describe.each(['http', 'fetch'] as const)('the %s adapter', (adapter) => {
  test('the first wait: a request with a timeout rejects with ECONNABORTED; the others still get the one token', async () => {
    const srv = await start({ tokenLatencyMs: GRANT_MS });
    const api = client(srv, adapter);
    const config: AxiosRequestConfig = { timeout: TIMEOUT_MS, headers: { 'X-Probe': 'first-wait' } };

    const patient = [api.get('/a'), api.get('/b', { timeout: 0 })];
    const { error, ms } = await timed(api.get('/impatient', config));

    expect(ms).toBeLessThan(PROMPT_MS);
    expect(axios.isAxiosError(error)).toBe(true);
    expect(error).toBeInstanceOf(axios.AxiosError);
    expect(error?.code).toBe('ECONNABORTED');
    expect(error?.message).toBe(`timeout of ${String(TIMEOUT_MS)}ms exceeded`);
    expect(error?.config?.url).toBe('/impatient');
    expect(error?.config?.timeout).toBe(TIMEOUT_MS);
    expect(error?.config?.headers['X-Probe']).toBe('first-wait');
    expect(error?.response).toBeUndefined();
    // No request was sent: the API never saw it.
    expect(srv.stats.apiRequests).toBe(0);

    const answers = await Promise.all(patient);
    expect(answers.map((answer) => answer.status)).toEqual([200, 200]);
    expect(srv.stats.tokenRequests).toBe(1);
    expect(srv.stats.apiRequests).toBe(2);
    expectNoSecrets(printed(error), srv, [api.tokens.current?.accessToken, api.tokens.current?.refreshToken]);
  });

  test('clarifyTimeoutError makes it ETIMEDOUT, and timeoutErrorMessage is the message, as axios itself does', async () => {
    const srv = await start({ tokenLatencyMs: GRANT_MS });
    const api = client(srv, adapter);

    const [clarified, custom] = await Promise.all([
      timed(api.get('/clarified', { timeout: TIMEOUT_MS, transitional: { clarifyTimeoutError: true } })),
      timed(api.get('/custom', { timeout: TIMEOUT_MS, timeoutErrorMessage: 'the API took too long' })),
    ]);

    expect(clarified.ms).toBeLessThan(PROMPT_MS);
    expect(clarified.error?.code).toBe('ETIMEDOUT');
    expect(clarified.error?.message).toBe(`timeout of ${String(TIMEOUT_MS)}ms exceeded`);
    expect(clarified.error?.config?.url).toBe('/clarified');
    expect(custom.ms).toBeLessThan(PROMPT_MS);
    expect(custom.error?.code).toBe('ECONNABORTED');
    expect(custom.error?.message).toBe('the API took too long');
    expect(custom.error?.config?.url).toBe('/custom');
    // The renewal was not cancelled: it finishes, and its token is there for the next request.
    await expect(api.get('/later')).resolves.toMatchObject({ status: 200 });
    expect(srv.stats.tokenRequests).toBe(1);
  });

  test('the replay wait: a 401 whose renewal hangs rejects the replay with ECONNABORTED, printed without secrets', async () => {
    // The hung refresh grant is abandoned after 1.5 s (the token endpoint's own timeout) and retried: far too late.
    const srv = await start({});
    const api = client(srv, adapter, { timeout: 1500 });
    await api.get('/warm-up');
    const refused = api.tokens.current?.accessToken;
    srv.revokeAll();
    srv.failNext(1, { type: 'hang' });
    srv.resetStats();

    const { error, ms } = await timed(api.get('/replayed', { timeout: TIMEOUT_MS }));

    expect(ms).toBeLessThan(PROMPT_MS);
    expect(axios.isAxiosError(error)).toBe(true);
    expect(error?.code).toBe('ECONNABORTED');
    expect(error?.message).toBe(`timeout of ${String(TIMEOUT_MS)}ms exceeded`);
    expect(error?.config?.url).toBe('/replayed');
    expect(error?.response).toBeUndefined();
    // The first attempt went out and was refused; the replay never did.
    expect(srv.stats.api401s).toBe(1);
    expect(srv.stats.apiRequests).toBe(1);
    // The refused token is out of the config too, not only out of what prints.
    expect(error?.config?.headers.Authorization).toBe('Bearer [REDACTED]');

    // The renewal goes on (abandoned, retried) and another request gets its token.
    await expect(api.get('/after')).resolves.toMatchObject({ status: 200 });
    expectNoSecrets(printed(error), srv, [refused, api.tokens.current?.accessToken, api.tokens.current?.refreshToken]);
  });

  test('a renewal that fails after the request timed out rejects nothing unhandled', async () => {
    const srv = await start({});
    const api = client(srv, adapter, { timeout: 800, retry: { attempts: 1 } });
    srv.failNext(1, { type: 'hang' });
    const before = unhandled.length;

    const { error } = await timed(api.get('/impatient', { timeout: TIMEOUT_MS }));
    expect(error?.code).toBe('ECONNABORTED');
    // The same renewal, still in flight, fails on the token endpoint's timeout.
    expect(api.tokens.renewing).toBe(true);
    await expect(api.tokens.refresh()).rejects.toThrow();
    await settle();

    expect(unhandled.slice(before)).toEqual([]);
    expect(srv.stats.tokenRequests).toBe(1);
  });

  test('an AbortSignal still cancels the wait (CanceledError), and the timeout does not fire after it', async () => {
    const srv = await start({ tokenLatencyMs: 1000 });
    const api = client(srv, adapter);
    const setTimer = jest.spyOn(globalThis, 'setTimeout');
    const clearTimer = jest.spyOn(globalThis, 'clearTimeout');
    const controller = new AbortController();
    const WAIT_TIMEOUT_MS = 600;

    const request = timed(api.get('/cancelled', { timeout: WAIT_TIMEOUT_MS, signal: controller.signal }));
    await new Promise((resolve) => setTimeout(resolve, 50));
    controller.abort();
    const { error, ms } = await request;

    expect(axios.isCancel(error)).toBe(true);
    expect(ms).toBeLessThan(WAIT_TIMEOUT_MS);
    // The wait's timer was cleared when the signal ended the wait.
    const timers = timersOf(setTimer, WAIT_TIMEOUT_MS);
    expect(timers).toHaveLength(1);
    expect(clearTimer.mock.calls.some(([timer]) => timer === timers[0])).toBe(true);
    // And other requests still get the token.
    await expect(api.get('/after')).resolves.toMatchObject({ status: 200 });
    expect(srv.stats.tokenRequests).toBe(1);
  });

  test('timeout: 0 means no bound: the request waits for a slow grant and succeeds', async () => {
    const srv = await start({ tokenLatencyMs: 1000 });
    const api = client(srv, adapter);

    // With a signal too, so the wait is the bounded kind; with timeout 0 only the signal bounds it.
    const answer = await api.get('/patient', { timeout: 0, signal: new AbortController().signal });

    expect(answer.status).toBe(200);
    expect(srv.stats.tokenRequests).toBe(1);
  });
});

test('a fast token under a long timeout leaves no timer behind: the wait clears its own', async () => {
  const srv = await start({ tokenLatencyMs: 20 });
  const api = client(srv, 'http');
  const LONG_MS = 61_234;
  const setTimer = jest.spyOn(globalThis, 'setTimeout');
  const clearTimer = jest.spyOn(globalThis, 'clearTimeout');

  await api.get('/cold', { timeout: LONG_MS });
  await settle();

  const timers = timersOf(setTimer, LONG_MS);
  expect(timers.length).toBeGreaterThan(0);
  for (const timer of timers) expect(clearTimer.mock.calls.some(([cleared]) => cleared === timer)).toBe(true);
});

test('a warm cache adds no timer: a request with a timeout starts exactly the timers plain axios does', async () => {
  const srv = await start({});
  const api = client(srv, 'http');
  await api.get('/warm-up');
  const plain = axios.create({ baseURL: srv.apiUrl, adapter: 'http', validateStatus: () => true });
  const LONG_MS = 62_345;
  const setTimer = jest.spyOn(globalThis, 'setTimeout');
  const count = (): number => setTimer.mock.calls.filter(([, delay]) => delay === LONG_MS).length;

  await plain.get('/plain', { timeout: LONG_MS });
  const plainTimers = count();
  await api.get('/warm', { timeout: LONG_MS });

  expect(count() - plainTimers).toBe(plainTimers);
});
