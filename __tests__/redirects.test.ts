/**
 * Redirects follow the library's rule, whatever the transport: the token goes to a hop only when its origin is allowed
 * and it is not the token endpoint; a 401 from a hop that may not have the token starts no grant. And a request that
 * brings its own Authorization header is the caller's. Real servers on 127.0.0.1, both axios adapters.
 */
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import axios, { AxiosHeaders, HttpStatusCode, type AxiosRequestConfig, type InternalAxiosRequestConfig } from 'axios';

import { attachAuth, createAuthClient, type AuthClient } from '../src/index.js';
import { guardRedirects } from '../src/redirects.js';

interface Seen {
  readonly path: string;
  readonly method: string;
  readonly authorization: string | undefined;
}

/** One origin: a token endpoint (on A), an echo, an always-401, and `/r/<status>/<encoded location>` redirects. */
function site(seen: Seen[]): (request: IncomingMessage, response: ServerResponse) => void {
  let issued = 0;
  return (request, response) => {
    request.resume();
    request.on('end', () => {
      const path = request.url ?? '/';
      seen.push({ path, method: request.method ?? '', authorization: request.headers.authorization });
      const redirect = /^\/r\/(\d{3})\/(.+)$/.exec(path);
      if (path === '/loop') {
        response.writeHead(302, { location: '/loop' }).end();
      } else if (redirect?.[1] !== undefined && redirect[2] !== undefined) {
        response.writeHead(Number(redirect[1]), { location: decodeURIComponent(redirect[2]) }).end();
      } else if (path === '/connect/token' && request.method === 'POST' && request.headers.authorization === undefined) {
        issued += 1;
        response.writeHead(200, { 'content-type': 'application/json' });
        response.end(JSON.stringify({ access_token: `tok-${String(issued)}`, token_type: 'Bearer', expires_in: 3600 }));
      } else if (path === '/401' || path.startsWith('/connect/token')) {
        response.writeHead(401, { 'www-authenticate': 'Bearer' }).end();
      } else {
        response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ authorization: request.headers.authorization ?? null }));
      }
    });
  };
}

const seen: Record<'a' | 'b' | 'c', Seen[]> = { a: [], b: [], c: [] };
const url: Record<'a' | 'b' | 'c', string> = { a: '', b: '', c: '' };
const servers: http.Server[] = [];

beforeAll(async () => {
  for (const name of ['a', 'b', 'c'] as const) {
    const server = http.createServer(site(seen[name]));
    servers.push(server);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url[name] = `http://127.0.0.1:${String((server.address() as AddressInfo).port)}`;
  }
});
beforeEach(() => {
  for (const list of Object.values(seen)) list.splice(0);
});
afterAll(async () => {
  for (const server of servers) await new Promise((resolve) => server.close(resolve));
});

/** A redirect from A's `/r/...` to `location`. */
const via = (status: number, location: string): string => `/r/${String(status)}/${encodeURIComponent(location)}`;
const tokenCalls = (): number => seen.a.filter((hit) => hit.path === '/connect/token' && hit.method === 'POST').length;
const bearer = (api: AuthClient): string => `Bearer ${api.tokens.current?.accessToken ?? '(none)'}`;
const hits = (name: 'a' | 'b' | 'c', path: string): Seen[] => seen[name].filter((hit) => hit.path === path);

function client(adapter: 'http' | 'fetch', extra: Record<string, unknown> = {}): AuthClient {
  return createAuthClient({
    baseURL: url.a,
    adapter,
    ...extra,
    auth: {
      tokenUrl: `${url.a}/connect/token`,
      clientId: 'client',
      clientSecret: 'client-secret',
      username: 'user',
      password: 'user-password',
      allowedOrigins: [url.a, url.b],
    },
  });
}

describe.each(['http', 'fetch'] as const)('with the %s adapter', (adapter) => {
  test.each([301, 302, 303, 307, 308])('a same-origin %i keeps the token', async (status) => {
    const api = client(adapter);
    const response = await api.get<{ authorization: string | null }>(via(status, '/echo'));
    expect(response.data.authorization).toBe(bearer(api));
  });

  test('a redirect to another allowed origin carries the token there', async () => {
    const api = client(adapter);
    const response = await api.get<{ authorization: string | null }>(via(302, `${url.b}/echo`));
    expect(response.data.authorization).toBe(bearer(api));
  });

  test('a redirect to an origin that is not allowed gets no token, also after a hop through an allowed one', async () => {
    const api = client(adapter);
    await expect(api.get(via(302, `${url.c}/echo`))).resolves.toMatchObject({ data: { authorization: null } });
    const twice = `${url.b}${via(307, `${url.c}/echo`)}`;
    await expect(api.get(via(302, twice))).resolves.toMatchObject({ data: { authorization: null } });
    expect(hits('c', '/echo').map((hit) => hit.authorization)).toEqual([undefined, undefined]);
  });

  test.each([302, 307])('a same-origin %i to the token endpoint does not deliver the token there', async (status) => {
    const api = client(adapter);
    await api.get('/echo'); // the token exists before the redirect happens
    const before = hits('a', '/connect/token').length;
    await api.post(via(status, '/connect/token'), 'x=1').catch(() => undefined);
    const redirected = hits('a', '/connect/token').slice(before);
    expect(redirected).toHaveLength(1); // the redirected hop arrived (as a GET after 302, a POST after 307) ...
    expect(redirected[0]).toMatchObject({ method: status === 302 ? 'GET' : 'POST', authorization: undefined }); // ... without the token
  });

  test('five 401s from a redirect target that may not have the token start no grant and are not replayed', async () => {
    const api = client(adapter);
    await api.get('/echo');
    const results = await Promise.allSettled(Array.from({ length: 5 }, () => api.get(via(302, `${url.c}/401`))));
    expect(results.every((result) => result.status === 'rejected')).toBe(true);
    expect(tokenCalls()).toBe(1);
    expect(hits('c', '/401')).toHaveLength(5);
    expect(hits('c', '/401').every((hit) => hit.authorization === undefined)).toBe(true);
  });

  test('a per-request baseURL that names the token endpoint never gets the token', async () => {
    const api = client(adapter);
    await api.get('/echo');
    await api.post('', 'x=1', { baseURL: `${url.a}/connect/token` }).catch(() => undefined);
    await api.post('/', 'x=1', { baseURL: `${url.a}/CONNECT//token/` }).catch(() => undefined);
    const calls = hits('a', '/connect/token').concat(hits('a', '/CONNECT//token/'));
    expect(calls).toHaveLength(3); // the grant, and the two requests that named the endpoint
    expect(calls.every((hit) => hit.authorization === undefined)).toBe(true);
  });

  test('a request with its own Authorization header is sent with it, makes no grant, and its 401 is not handled', async () => {
    const api = client(adapter);
    const own = await api.get<{ authorization: string | null }>('/echo', { headers: { Authorization: 'Basic dXNlcjpwdw==' } });
    expect(own.data.authorization).toBe('Basic dXNlcjpwdw==');
    await expect(api.get('/401', { headers: { Authorization: 'Bearer someone-else' } })).rejects.toMatchObject({ response: { status: 401 } });
    // axios's `auth` option is an Authorization header of the caller's too.
    await expect(api.get('/401', { auth: { username: 'u', password: 'p' } })).rejects.toMatchObject({ response: { status: 401 } });
    expect(tokenCalls()).toBe(0);
    expect(hits('a', '/401')).toHaveLength(2);
    expect(hits('a', '/401')[1]?.authorization).toBe(`Basic ${Buffer.from('u:p').toString('base64')}`);
  });
});

describe('with the http adapter only', () => {
  // `*.localhost` does not resolve here; axios's `lookup` option sends every name to 127.0.0.1.
  const lookup: Extract<NonNullable<AxiosRequestConfig['lookup']>, (h: string, o: object, cb: never) => void> = (_hostname, _options, callback) => {
    callback(null, '127.0.0.1', 4);
  };

  test('a redirect from localhost to evil.localhost gets no token (follow-redirects once kept it for subdomains)', async () => {
    const port = new URL(url.a).port;
    const api = createAuthClient({
      baseURL: `http://localhost:${port}`,
      lookup,
      auth: { tokenUrl: `${url.a}/connect/token`, clientId: 'client', clientSecret: 'client-secret', username: 'user', password: 'user-password' },
    });
    const response = await api.get<{ authorization: string | null }>(via(302, `http://evil.localhost:${port}/echo`));
    expect(response.data.authorization).toBeNull();
  });

  test('the caller’s own beforeRedirect still runs, and a header it sets is kept', async () => {
    const api = client('http', {
      beforeRedirect: (options: Record<string, unknown>) => {
        (options.headers as Record<string, string>)['X-Hop'] = 'seen';
      },
    });
    await api.get(via(302, '/echo'));
    expect(hits('a', '/echo')).toHaveLength(1);
  });

  test('an Authorization header from the instance defaults is replaced by the token; one on the request wins', async () => {
    const instance = axios.create({ baseURL: url.a, headers: { common: { Authorization: 'Bearer static' } } });
    attachAuth(instance, { tokenUrl: `${url.a}/connect/token`, clientId: 'client', clientSecret: 'client-secret', username: 'user', password: 'user-password' });
    const response = await instance.get<{ authorization: string | null }>('/echo');
    expect(response.data.authorization).toMatch(/^Bearer tok-\d+$/);
    await expect(instance.get('/echo', { headers: { Authorization: 'Bearer mine' } })).resolves.toMatchObject({ data: { authorization: 'Bearer mine' } });
  });

  test('so is one given to axios.create at the top of its headers', async () => {
    const instance = axios.create({ baseURL: url.a, headers: { Authorization: 'Bearer static' } });
    attachAuth(instance, { tokenUrl: `${url.a}/connect/token`, clientId: 'client', clientSecret: 'client-secret', username: 'user', password: 'user-password' });
    const response = await instance.get<{ authorization: string | null }>('/echo');
    expect(response.data.authorization).toMatch(/^Bearer tok-\d+$/);
  });
});

describe('with the fetch adapter only', () => {
  test('a redirect loop ends after maxRedirects hops with the redirect as the answer', async () => {
    const api = client('fetch', { maxRedirects: 3 });
    await expect(api.get('/loop')).rejects.toMatchObject({ response: { status: 302 } });
    expect(hits('a', '/loop')).toHaveLength(4); // the request and three hops
  });
});

test('a config guarded twice (a replay with a newer token) sends the newer token to the next hop, and the caller’s hook once', () => {
  const calls: string[] = [];
  const config = { headers: new AxiosHeaders(), beforeRedirect: () => void calls.push('own') } as unknown as InternalAxiosRequestConfig;
  const allowed = (): boolean => true;
  guardRedirects(config, 'Bearer old', allowed);
  guardRedirects(config, 'Bearer new', allowed);
  const headers: Record<string, string> = {}; // follow-redirects stripped the header (another port)
  config.beforeRedirect?.({ href: 'http://127.0.0.1:1/next', headers }, { headers: {}, statusCode: HttpStatusCode.TemporaryRedirect }, { headers: {}, url: 'http://127.0.0.1:2/', method: 'GET' });
  expect(headers).toEqual({ Authorization: 'Bearer new' });
  expect(calls).toEqual(['own']);
});
