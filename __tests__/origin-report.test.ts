/**
 * A baseURL changed after attachAuth (a generated client's `setConfig({ baseURL })`, `instance.defaults.baseURL = ...`)
 * still gets no token, but it is reported: once per new origin, through `onError`, with an OriginNotAllowedError that
 * says to list the origin in `allowedOrigins`. Real loopback servers: the token endpoint, and APIs that count the
 * Authorization headers they receive.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { inspect } from 'node:util';

import axios, { type AxiosInstance, type InternalAxiosRequestConfig } from 'axios';

import { attachAuth, type AuthHandle, ErrorCode, type OAuthBearerError, OriginNotAllowedError } from '../src/index.js';
import { allowedOrigins, createAuthorizePredicate, MAX_REPORTED_ORIGINS, reportOncePerOrigin } from '../src/origins.js';
import { type AuthServer, startAuthServer } from '../src/testing/server.js';

const PASSWORD = 'pw-Origin-Report-5521';
const CLIENT_SECRET = 'cs-Origin-Report-7702';

/** An API on its own origin: 200 with a bearer token, 401 without; counts both. */
interface CountingApi {
  readonly origin: string;
  readonly requests: number;
  readonly withToken: number;
  close(): Promise<void>;
}

async function startApi(): Promise<CountingApi> {
  let requests = 0;
  let withToken = 0;
  const server: Server = createServer((request, response) => {
    requests += 1;
    const bearer = request.headers.authorization?.startsWith('Bearer ') === true;
    if (bearer) withToken += 1;
    response.writeHead(bearer ? 200 : 401, { 'content-type': 'application/json', ...(bearer ? {} : { 'www-authenticate': 'Bearer' }) });
    response.end('{}');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    origin: `http://127.0.0.1:${port}`,
    get requests() {
      return requests;
    },
    get withToken() {
      return withToken;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

let auth: AuthServer;
let home: CountingApi;
let other: CountingApi;
let third: CountingApi;
let reports: OAuthBearerError[];
let instance: AxiosInstance;

beforeEach(async () => {
  auth = await startAuthServer({ clientSecret: CLIENT_SECRET, password: PASSWORD });
  [home, other, third] = await Promise.all([startApi(), startApi(), startApi()]);
  reports = [];
  instance = axios.create({ baseURL: home.origin });
});
afterEach(async () => {
  await Promise.all([auth.close(), home.close(), other.close(), third.close()]);
});

function attach(extra: { allowedOrigins?: readonly string[]; onError?: (error: OAuthBearerError) => void } = {}): AuthHandle {
  return attachAuth(instance, { ...auth.credentials, onError: (error) => reports.push(error), ...extra });
}

/** Sends `count` GETs (half at once, half one after another) and returns their statuses. */
async function send(count: number, config: { baseURL?: string; skipAuth?: boolean; url?: string } = {}): Promise<number[]> {
  const one = (): Promise<number> =>
    instance.get(config.url ?? '/things', config).then(
      (response) => response.status,
      (error: unknown) => (axios.isAxiosError(error) ? (error.response?.status ?? -1) : -2),
    );
  const parallel = await Promise.all(Array.from({ length: Math.ceil(count / 2) }, one));
  const sequential: number[] = [];
  for (let i = parallel.length; i < count; i += 1) sequential.push(await one());
  return [...parallel, ...sequential];
}

describe('a baseURL changed after attachAuth', () => {
  test('N requests: no token sent, exactly one report naming the origin and what to do, no grant', async () => {
    attach();
    expect(await send(1)).toEqual([200]);
    const grants = auth.stats.tokenRequests;

    instance.defaults.baseURL = other.origin;
    expect(await send(10)).toEqual(Array<number>(10).fill(401));

    expect(other.requests).toBe(10);
    expect(other.withToken).toBe(0);
    expect(auth.stats.tokenRequests).toBe(grants); // the 401s started no grant
    expect(reports).toHaveLength(1);
    const report = reports[0];
    expect(report).toBeInstanceOf(OriginNotAllowedError);
    expect(report?.code).toBe(ErrorCode.ORIGIN_NOT_ALLOWED);
    expect(report).toMatchObject({ origin: other.origin, allowedOrigins: [home.origin] });
    expect(report?.message).toContain(`allowedOrigins: ['${home.origin}', '${other.origin}']`);
    expect(report?.message).toContain('after attachAuth');
  });

  test('a second change to another origin: one more report; back to a reported origin: none', async () => {
    attach();
    instance.defaults.baseURL = other.origin;
    await send(4);
    instance.defaults.baseURL = third.origin;
    await send(4);
    instance.defaults.baseURL = other.origin;
    await send(4);

    expect(reports.map((error) => (error instanceof OriginNotAllowedError ? error.origin : error.code))).toEqual([other.origin, third.origin]);
    expect([other.withToken, third.withToken]).toEqual([0, 0]);
    expect([other.requests, third.requests]).toEqual([8, 4]);
  });

  test('an origin listed in allowedOrigins gets the token and is not reported', async () => {
    attach({ allowedOrigins: [home.origin, other.origin] });
    instance.defaults.baseURL = other.origin;
    expect(await send(6)).toEqual(Array<number>(6).fill(200));

    expect(other.withToken).toBe(6);
    expect(reports).toEqual([]);
    expect(auth.stats.grants.password).toBe(1);
  });

  test('setConfig-style clients (a new instance.defaults and the baseURL passed on each request) are reported once', async () => {
    attach();
    // What @hey-api/client-axios's setConfig does: replaces the defaults object, then sends `baseURL` with each request.
    instance.defaults = { ...instance.defaults, baseURL: other.origin };
    await send(3, { baseURL: other.origin });

    expect(other.withToken).toBe(0);
    expect(reports).toHaveLength(1);
    expect(reports[0]).toMatchObject({ origin: other.origin });
  });

  test('neither skipAuth requests nor absolute URLs to other origins (third parties) are reported', async () => {
    attach();
    instance.defaults.baseURL = other.origin;
    await send(2, { skipAuth: true });
    instance.defaults.baseURL = home.origin;
    await send(2, { url: `${third.origin}/cdn/file` });

    expect(reports).toEqual([]);
    expect([other.withToken, third.withToken]).toEqual([0, 0]);
  });

  test('the report holds no secret: not in its message, its JSON or util.inspect', async () => {
    const handle = attach();
    await send(1);
    const accessToken = await handle.tokens.getAccessToken();
    instance.defaults.baseURL = other.origin;
    await send(1);

    expect(reports).toHaveLength(1);
    const printed = [reports[0]?.message, JSON.stringify(reports[0]), inspect(reports[0], { depth: null })].join('\n');
    for (const secret of [PASSWORD, CLIENT_SECRET, accessToken]) expect(printed).not.toContain(secret);
    expect(JSON.parse(JSON.stringify(reports[0])) as unknown).toMatchObject({ code: ErrorCode.ORIGIN_NOT_ALLOWED, origin: other.origin });
  });

  test('an onError that throws, or none at all, leaves the requests as they were', async () => {
    attach({
      onError: () => {
        throw new Error('logger down');
      },
    });
    instance.defaults.baseURL = other.origin;
    expect(await send(2)).toEqual([401, 401]);

    instance = axios.create({ baseURL: home.origin });
    attachAuth(instance, auth.credentials);
    instance.defaults.baseURL = third.origin;
    expect(await send(2)).toEqual([401, 401]);
  });
});

describe('reportOncePerOrigin', () => {
  const allowed = allowedOrigins(undefined, 'https://api.test');
  const config = (baseURL: string): InternalAxiosRequestConfig => ({ headers: new axios.AxiosHeaders(), baseURL, url: '/x' });

  test(`remembers at most ${MAX_REPORTED_ORIGINS} origins, then reports nothing more`, () => {
    const seen: OriginNotAllowedError[] = [];
    const may = createAuthorizePredicate(allowed, () => undefined, reportOncePerOrigin(allowed, (error) => seen.push(error)));
    for (let round = 0; round < 2; round += 1) {
      for (let i = 0; i < MAX_REPORTED_ORIGINS + 10; i += 1) expect(may(config(`https://tenant-${i}.test`))).toBe(false);
    }
    expect(seen).toHaveLength(MAX_REPORTED_ORIGINS);
    expect(new Set(seen.map((error) => error.origin)).size).toBe(MAX_REPORTED_ORIGINS);
  });

  test('a baseURL on the allowed origin, or with no http(s) origin, is not reported', () => {
    const seen: OriginNotAllowedError[] = [];
    const may = createAuthorizePredicate(allowed, () => undefined, reportOncePerOrigin(allowed, (error) => seen.push(error)));
    expect(may(config('https://api.test/v2'))).toBe(true);
    expect(may(config('foo://bar'))).toBe(false);
    expect(may(config('not a url'))).toBe(false);
    expect(seen).toEqual([]);
  });
});
