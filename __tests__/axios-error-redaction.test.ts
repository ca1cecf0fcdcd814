/**
 * No printed error, response, config or client shows a token, whatever the transport: keep-alive http and https agents
 * (whose sockets hold every in-flight request's raw headers), string, Buffer, stream and FormData bodies, both axios
 * adapters, and every way a request can end. Real servers on 127.0.0.1, and every URL is theirs (no nock here: nock
 * 15.0's fetch interception loses a POST body, so it would test nock rather than us). The matrix runner
 * (`npm run test:axios`) runs this file against the lowest and the newest axios the peer range allows.
 */
import { readFileSync } from 'node:fs';
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import { inspect } from 'node:util';
import axios, { type AxiosResponse } from 'axios';

import { type AuthClient, createAuthClient, ReplayNotPossibleError } from '../src/index.js';
import { type AuthServer, startAuthServer } from '../src/testing/server.js';

const tls = { key: readFileSync(`${__dirname}/fixtures/tls/key.pem`), cert: readFileSync(`${__dirname}/fixtures/tls/cert.pem`) };

/** The API: echoes what it was sent (the Authorization header included, as a careless API might), or fails on cue. */
function api(request: IncomingMessage, response: ServerResponse): void {
  const chunks: Buffer[] = [];
  request.on('data', (chunk: Buffer) => chunks.push(chunk));
  request.on('end', () => {
    const path = request.url ?? '/';
    const echo = JSON.stringify({ path, authorization: request.headers.authorization ?? null, bytes: Buffer.concat(chunks).length });
    if (path.startsWith('/reset')) return request.socket.destroy();
    if (path.startsWith('/slow')) return void setTimeout(() => response.writeHead(200).end(echo), 1_500).unref();
    const status = path.startsWith('/500') ? 500 : path.startsWith('/404') ? 404 : path.startsWith('/401') ? 401 : 200;
    response.writeHead(status, { 'content-type': 'application/json', ...(status === 401 ? { 'www-authenticate': 'Bearer' } : {}) });
    response.end(echo);
  });
}

let authServer: AuthServer;
const servers: (http.Server | https.Server)[] = [];
const origins: Record<'http' | 'https', string> = { http: '', https: '' };

async function listen(server: http.Server | https.Server, scheme: 'http' | 'https'): Promise<void> {
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  origins[scheme] = `${scheme}://127.0.0.1:${String((server.address() as AddressInfo).port)}`;
}

beforeAll(async () => {
  authServer = await startAuthServer();
  await listen(http.createServer(api), 'http');
  await listen(https.createServer(tls, api), 'https');
});
afterAll(async () => {
  for (const server of servers) {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
  await authServer.close();
});

interface Transport {
  readonly adapter: 'http' | 'fetch';
  readonly scheme: 'http' | 'https';
}
const transports: [string, Transport][] = [
  ['the http adapter with a keep-alive http.Agent', { adapter: 'http', scheme: 'http' }],
  ['the http adapter with a keep-alive https.Agent', { adapter: 'http', scheme: 'https' }],
  ['the fetch adapter', { adapter: 'fetch', scheme: 'http' }],
];

const bodies: [string, () => unknown][] = [
  ['no body', () => undefined],
  ['a string body', () => 'plain text body'],
  ['a Buffer body', () => Buffer.from('buffer body')],
  ['a stream body', () => Readable.from([Buffer.from('stream body')])],
  ['a FormData body', () => {
    const form = new FormData();
    form.append('field', 'value');
    return form;
  }],
];

/** Every access and refresh token the client was ever given, so a stale one cannot hide in the output either. */
const secrets: string[] = [];

function client(transport: Transport): AuthClient {
  const agent = transport.scheme === 'https'
    ? { httpsAgent: new https.Agent({ keepAlive: true, ca: tls.cert }) }
    : { httpAgent: new http.Agent({ keepAlive: true }) };
  return createAuthClient({
    baseURL: origins[transport.scheme],
    adapter: transport.adapter,
    ...agent,
    auth: {
      ...authServer.credentials,
      onToken: ({ tokens }) => void secrets.push(tokens.accessToken, ...(tokens.refreshToken === undefined ? [] : [tokens.refreshToken])),
    },
  });
}

/**
 * Every way a user prints something. A JSON walk that meets a cycle, and String() of axios's prototype-less config,
 * throw without printing anything.
 */
function printed(value: unknown): string {
  const forms: (() => unknown)[] = [
    () => inspect(value, { depth: null }),
    () => inspect(value, { depth: null, showHidden: true }),
    () => JSON.stringify(value),
    () => String(value),
    () => JSON.stringify((value as { toJSON?: () => unknown }).toJSON?.()),
  ];
  return forms
    .map((form) => {
      try {
        return String(form());
      } catch (error) {
        if (error instanceof TypeError && /circular|convert object to primitive/i.test(error.message)) return '';
        throw error;
      }
    })
    .join('\n');
}

function expectNoSecret(value: unknown): void {
  const text = printed(value);
  expect(secrets.length).toBeGreaterThan(0);
  for (const secret of secrets) expect(text).not.toContain(secret);
}

async function failure(run: () => Promise<unknown>): Promise<unknown> {
  try {
    await run();
  } catch (error) {
    return error;
  }
  throw new Error('expected the request to fail');
}

type Outcome = [string, (api: AuthClient, body: unknown) => Promise<unknown>];
const method = (body: unknown): 'get' | 'post' => (body === undefined ? 'get' : 'post');
const outcomes: Outcome[] = [
  ['a 500', (api, data) => failure(() => api.request({ url: '/500', method: method(data), data }))],
  ['a 404', (api, data) => failure(() => api.request({ url: '/404', method: method(data), data }))],
  ['a refused replay (401 twice)', (api, data) => failure(() => api.request({ url: '/401', method: method(data), data }))],
  ['a connection reset', (api, data) => failure(() => api.request({ url: '/reset', method: method(data), data }))],
  ['a timeout', (api, data) => failure(() => api.request({ url: '/slow', method: method(data), data, timeout: 200 }))],
  ['an abort', (api, data) => {
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 100);
    return failure(() => api.request({ url: '/slow', method: method(data), data, signal: controller.signal }));
  }],
];

describe.each(transports)('with %s', (_name, transport) => {
  let api: AuthClient;
  beforeAll(async () => {
    api = client(transport);
    await api.get('/warm-up'); // a token, and a pooled socket that every later request shares
  });

  describe.each(bodies)('and %s', (_body, makeBody) => {
    test.each(outcomes)('%s prints no token: the error, its config, its response, its cause', async (_outcome, run) => {
      const error = await run(api, makeBody());
      expect(error).toBeInstanceOf(Error);
      expectNoSecret(error);
      const { config, response, cause, request } = error as { config?: unknown; response?: unknown; cause?: unknown; request?: unknown };
      for (const part of [config, response, cause, request]) if (part !== undefined) expectNoSecret(part);
    });

    test('a successful answer prints no token, even though the API echoed it', async () => {
      const data = makeBody();
      const response: AxiosResponse<{ authorization: string }> = await api.request({ url: '/echo', method: method(data), data });
      expect(response.data.authorization).toMatch(/^Bearer \S+$/); // the API did get it, and said so
      expectNoSecret(response);
      expectNoSecret(response.config);
      expectNoSecret(response.request); // the adapter's raw request prints by class name only
    });
  });

  test('a stream response body prints no token (it holds the request it answers)', async () => {
    const response = await api.get<Readable>('/echo', { responseType: 'stream' });
    expectNoSecret(response.data);
    (response.data as { resume?: () => void }).resume?.(); // a Node stream with the http adapter; fetch's needs nothing
  });

  test('the client, its defaults and its token manager print no token', async () => {
    await api.get('/echo');
    for (const part of [api, api.defaults, api.tokens]) expectNoSecret(part);
  });

  test('the objects stay usable: err.config can be re-sent (with the current token), err.response.data is there', async () => {
    const error = await failure(() => api.get('/500'));
    if (!axios.isAxiosError(error) || error.config === undefined) throw new Error('expected an axios error with a config');
    expect(error.response?.data).toMatchObject({ path: '/500' });
    const again = await failure(() => api.request({ ...error.config, url: '/500' }));
    expect(axios.isAxiosError(again) && again.response?.status).toBe(500);
    const resent = await api.request<{ authorization: string }>({ ...error.config, url: '/echo' });
    expect(resent.data.authorization).toBe(`Bearer ${api.tokens.current?.accessToken ?? 'none'}`);
  });

  test('a stream body refused with 401 is a ReplayNotPossibleError whose response prints no token', async () => {
    const error = await failure(() => api.post('/401', Readable.from([Buffer.from('once')])));
    if (transport.adapter === 'http') expect(error).toBeInstanceOf(ReplayNotPossibleError);
    expectNoSecret(error);
    expectNoSecret((error as { response?: unknown }).response);
  });
});
