/**
 * The in-memory authority (createMemoryAuthority): the loopback server's scenarios (testing-server.test.ts) through
 * its axios adapter, the library end to end on it with exact counts, the adapter's axios behaviour, and a parity check
 * that the same requests get the same answers and counters from both transports. No nock here: nothing can reach
 * the network, because the adapter never opens a socket.
 */
import axios, { type AxiosInstance, type AxiosResponse } from 'axios';

import { createAuthClient, type OAuthBearerError, TokenNetworkError, UserAuthenticationError } from '../src/index.js';
import { formEncode } from '../src/form-encoding.js';
import type { AuthServer } from '../src/testing/server.js';
import { createMemoryAuthority, type MemoryAuthority, type MemoryAuthorityOptions, startAuthServer } from '../src/testing/index.js';

afterEach(() => jest.restoreAllMocks());

const FORM = { 'Content-Type': 'application/x-www-form-urlencoded' };
const CLIENT = { client_id: 'demo-client', client_secret: 'demo-secret' };
const USER = { grant_type: 'password', username: 'demo-user', password: 'demo-password' };
const basic = (pair: string): string => `Basic ${Buffer.from(pair).toString('base64')}`;

let authority: MemoryAuthority;
let http: AxiosInstance;
function restart(options: MemoryAuthorityOptions = {}): void {
  void authority.close();
  authority = createMemoryAuthority(options);
  http = axios.create({ validateStatus: () => true, adapter: authority.adapter });
}
beforeEach(() => {
  authority = createMemoryAuthority();
  http = axios.create({ validateStatus: () => true, adapter: authority.adapter });
});
afterEach(() => authority.close());

function postToken(fields: Record<string, string>, headers: Record<string, string> = FORM): Promise<AxiosResponse> {
  return http.post(authority.tokenUrl, new URLSearchParams(fields).toString(), { headers });
}
function callApi(token: string | undefined, path = '/orders?page=2'): Promise<AxiosResponse> {
  return http.post(`${authority.apiUrl}${path}`, { item: 1 }, { headers: token === undefined ? {} : { Authorization: `Bearer ${token}` } });
}
const burst = <T>(n: number, send: (i: number) => Promise<T>): Promise<T[]> => Promise.all(Array.from({ length: n }, (_, i) => send(i)));
/** A client of the authority with its adapter on both the instance and the token requests; fast retries. */
function client(options: { readonly onError?: (error: OAuthBearerError) => void; readonly password?: string } = {}) {
  return createAuthClient({
    baseURL: authority.apiUrl,
    adapter: authority.adapter,
    auth: { ...authority.credentials, ...options, retry: { baseDelayMs: 1, maxDelayMs: 5 }, cooldownMs: 0 },
  });
}

describe('the fixture', () => {
  test('lives at its url with the loopback server shape: tokenUrl, apiUrl and credentials with the adapter', () => {
    expect([authority.url, authority.tokenUrl, authority.apiUrl]).toEqual(['https://authority.test', 'https://authority.test/connect/token', 'https://authority.test/api']);
    expect(authority.credentials).toEqual({
      tokenUrl: 'https://authority.test/connect/token',
      clientId: 'demo-client',
      clientSecret: 'demo-secret',
      username: 'demo-user',
      password: 'demo-password',
      adapter: authority.adapter,
    });
    restart({ url: 'https://idp.example.test/ignored/path', clientSecret: 'other' });
    expect([authority.tokenUrl, authority.credentials.clientSecret]).toEqual(['https://idp.example.test/connect/token', 'other']);
    expect(() => createMemoryAuthority({ url: 'ftp://x.test' })).toThrow('url must be an absolute http(s) URL');
  });
});

describe('the token endpoint', () => {
  test('a password grant with client_secret_post gets the provider-shaped token body, uncached', async () => {
    const response = await postToken({ ...USER, ...CLIENT });
    expect(response.status).toBe(200);
    expect(response.data).toEqual({ access_token: 'at-1', token_type: 'bearer', expires_in: 3600, refresh_token: 'rt-1', scope: 'read write' });
    expect(response.headers['cache-control']).toBe('no-store');
    expect(response.headers['content-type']).toBe('application/json; charset=utf-8');
  });

  test('client_secret_basic is accepted with each credential form-encoded before base64', async () => {
    restart({ clientId: 'my client', clientSecret: 's3cret:+/é' });
    const response = await postToken(USER, { ...FORM, Authorization: basic(`${formEncode('my client')}:${formEncode('s3cret:+/é')}`) });
    expect([response.status, response.data]).toMatchObject([200, { access_token: 'at-1' }]);
  });

  test.each([
    ['a JSON body', { ...USER, ...CLIENT }, { 'Content-Type': 'application/json' }, 400, 'invalid_request', 'the body must be application/x-www-form-urlencoded'],
    ['a missing grant_type', { ...CLIENT, username: 'demo-user' }, FORM, 400, 'invalid_request', 'grant_type is required'],
    ['an unknown grant_type', { ...CLIENT, grant_type: 'authorization_code' }, FORM, 400, 'unsupported_grant_type', 'the supported grants are password, refresh_token, client_credentials, urn:ietf:params:oauth:grant-type:token-exchange, urn:ietf:params:oauth:grant-type:jwt-bearer'],
    ['an unknown refresh token', { ...CLIENT, grant_type: 'refresh_token', refresh_token: 'rt-99' }, FORM, 400, 'invalid_grant', 'the refresh token is invalid, expired or revoked'],
    ['a wrong client secret', { ...USER, client_id: 'demo-client', client_secret: 'nope' }, FORM, 401, 'invalid_client', 'client authentication failed'],
    ['a wrong Basic secret', USER, { ...FORM, Authorization: basic('demo-client:nope') }, 401, 'invalid_client', 'client authentication failed'],
    ['a malformed Basic header', USER, { ...FORM, Authorization: 'Basic a' }, 401, 'invalid_client', 'client authentication failed'],
    ['a wrong password', { ...USER, ...CLIENT, password: 'wrong' }, FORM, 403, 'invalid_grant', 'invalid username or password'],
  ])('answers %s with the documented status and error body', async (_name, fields, headers, status, error, description) => {
    const response = await postToken(fields, headers);
    expect([response.status, response.data]).toEqual([status, { error, error_description: description }]);
  });

  test('a GET gets 405, and a body over 1 MiB gets 413 without being counted', async () => {
    const get = await http.get(authority.tokenUrl);
    expect([get.status, get.headers.allow]).toEqual([405, 'POST']);
    const large = await http.post(authority.tokenUrl, 'x'.repeat((1 << 20) + 1), { headers: FORM });
    expect([large.status, large.data]).toEqual([413, { error: 'invalid_request', error_description: 'body too large' }]);
    expect(authority.stats.tokenRequests).toBe(1);
  });

  test('a refresh rotates the refresh token and the old one then gets invalid_grant', async () => {
    await postToken({ ...USER, ...CLIENT });
    const refreshed = await postToken({ ...CLIENT, grant_type: 'refresh_token', refresh_token: 'rt-1' });
    expect(refreshed.data).toMatchObject({ access_token: 'at-2', refresh_token: 'rt-2' });
    expect((await postToken({ ...CLIENT, grant_type: 'refresh_token', refresh_token: 'rt-1' })).data).toMatchObject({ error: 'invalid_grant' });
    authority.revokeRefreshTokens();
    expect((await postToken({ ...CLIENT, grant_type: 'refresh_token', refresh_token: 'rt-2' })).data).toMatchObject({ error: 'invalid_grant' });
  });
});

describe('injected token-endpoint faults', () => {
  test('failNext answers the next requests with the given status, body and headers, then recovers', async () => {
    authority.failNext(2, 503, { error: 'temporarily_unavailable' }, { 'Retry-After': '3' });
    for (let attempt = 0; attempt < 2; attempt += 1) {
      const failed = await postToken({ ...USER, ...CLIENT });
      expect([failed.status, failed.data, failed.headers['retry-after']]).toEqual([503, { error: 'temporarily_unavailable' }, '3']);
    }
    expect((await postToken({ ...USER, ...CLIENT })).data).toMatchObject({ access_token: 'at-1' });
    expect(authority.stats).toMatchObject({ tokenRequests: 3, failedTokenRequests: 2, grants: { password: 1, refresh_token: 0 } });
  });

  test('a bare status gets the RFC 6749 code it most likely carries; a string body is sent as is', async () => {
    authority.failNext(1, 403);
    expect((await postToken({ ...USER, ...CLIENT })).data).toEqual({ error: 'invalid_grant' });
    authority.failNext(1, 200, 'not json');
    const response = await http.post(authority.tokenUrl, new URLSearchParams({ ...USER, ...CLIENT }).toString(), { headers: FORM, responseType: 'text', transformResponse: [(data: unknown) => data] });
    expect([response.status, response.data]).toEqual([200, 'not json']);
  });

  test('a reset fault fails the request as a reset connection', async () => {
    authority.failNext(1, { type: 'reset' });
    await expect(postToken({ ...USER, ...CLIENT })).rejects.toMatchObject({ code: 'ECONNRESET', message: 'socket hang up' });
  });

  test('the fault hook sees each grant type, and a hung request ends when the authority closes', async () => {
    const seen: unknown[] = [];
    authority.setTokenFault((request) => {
      seen.push(request);
      return request.grantType === 'refresh_token' ? { type: 'hang' } : undefined;
    });
    await postToken({ ...USER, ...CLIENT });
    const pending = postToken({ ...CLIENT, grant_type: 'refresh_token', refresh_token: 'rt-1' });
    await new Promise((resolve) => setTimeout(resolve, 10));
    await authority.close();
    await expect(pending).rejects.toMatchObject({ code: 'ECONNRESET' });
    expect(seen).toEqual([{ grantType: 'password', requestNumber: 1 }, { grantType: 'refresh_token', requestNumber: 2 }]);
    await expect(postToken({ ...USER, ...CLIENT })).rejects.toMatchObject({ code: 'ECONNREFUSED' });
  });
});

describe('the protected API and discovery', () => {
  test('echoes method, path, body and token for a valid bearer token', async () => {
    await postToken({ ...USER, ...CLIENT });
    const response = await callApi('at-1');
    expect([response.status, response.data]).toEqual([200, { method: 'POST', path: '/api/orders?page=2', body: { item: 1 }, token: 'at-1', username: 'demo-user' }]);
  });

  test('a request without a token gets a bare Bearer challenge; after revokeAll an invalid_token one', async () => {
    const bare = await callApi(undefined);
    expect([bare.status, bare.headers['www-authenticate']]).toEqual([401, 'Bearer realm="axios-oauth-bearer-testing"']);
    await postToken({ ...USER, ...CLIENT });
    authority.revokeAll();
    const revoked = await callApi('at-1');
    expect([revoked.status, revoked.data]).toEqual([401, { error: 'invalid_token', error_description: 'the access token is unknown or revoked' }]);
    expect(revoked.headers['www-authenticate']).toContain('error="invalid_token"');
  });

  test('a token is accepted until the millisecond before expires_in and refused from that millisecond on', async () => {
    restart({ expiresIn: 0.5 });
    const now = jest.spyOn(Date, 'now').mockReturnValue(1_000_000);
    await postToken({ ...USER, ...CLIENT });
    now.mockReturnValue(1_000_499);
    expect((await callApi('at-1')).status).toBe(200);
    now.mockReturnValue(1_000_500);
    expect((await callApi('at-1')).data).toEqual({ error: 'invalid_token', error_description: 'the access token expired' });
  });

  test('the discovery document names the authority as issuer; other paths are 404', async () => {
    expect((await http.get(`${authority.url}/.well-known/openid-configuration`)).data).toMatchObject({ issuer: authority.url, token_endpoint: authority.tokenUrl });
    expect((await http.get(`${authority.url}/elsewhere`)).status).toBe(404);
  });

  test('stats count token requests, grants by type, failures and API outcomes; resetStats zeroes them', async () => {
    await postToken({ ...USER, ...CLIENT });
    await postToken({ ...CLIENT, grant_type: 'refresh_token', refresh_token: 'rt-1' });
    await postToken({ ...USER, ...CLIENT, password: 'wrong' });
    authority.failNext(1, 500);
    await postToken({ ...USER, ...CLIENT });
    for (const token of ['at-2', 'at-9', 'at-1', undefined]) await callApi(token);
    expect(authority.stats).toEqual({ tokenRequests: 4, grants: { password: 1, refresh_token: 1 }, failedTokenRequests: 2, apiRequests: 4, api401s: 2, apiOk: 2 });
    authority.resetStats();
    expect(authority.stats).toEqual({ tokenRequests: 0, grants: { password: 0, refresh_token: 0 }, failedTokenRequests: 0, apiRequests: 0, api401s: 0, apiOk: 0 });
  });
});

describe('the library on the in-memory authority', () => {
  test('a storm of 200 concurrent requests makes exactly one grant and all succeed', async () => {
    const api = client();
    const responses = await burst(200, (i) => api.get(`/reports/${i}`));
    expect(responses.every((response) => response.status === 200 && (response.data as { token: string }).token === 'at-1')).toBe(true);
    expect(authority.stats).toEqual({ tokenRequests: 1, grants: { password: 1, refresh_token: 0 }, failedTokenRequests: 0, apiRequests: 200, api401s: 0, apiOk: 200 });
  });

  test('after revokeAll, a storm of 200 requests is replayed after exactly one refresh', async () => {
    const api = client();
    await api.get('/warm-up');
    authority.revokeAll();
    const responses = await burst(200, (i) => api.get(`/reports/${i}`));
    expect(responses.map((response) => (response.data as { token: string }).token)).toEqual(Array.from({ length: 200 }, () => 'at-2'));
    // 1 warm-up, 200 refused with the revoked token, 200 replays with the new one.
    expect(authority.stats).toEqual({ tokenRequests: 2, grants: { password: 1, refresh_token: 1 }, failedTokenRequests: 0, apiRequests: 401, api401s: 200, apiOk: 201 });
  });

  test('the same storm with latency on both endpoints still makes one grant and one refresh', async () => {
    restart({ tokenLatencyMs: 20, apiLatencyMs: 5 });
    const api = client();
    await burst(50, (i) => api.get(`/reports/${i}`));
    authority.revokeAll();
    await burst(50, (i) => api.get(`/reports/${i}`));
    expect(authority.stats).toMatchObject({ tokenRequests: 2, grants: { password: 1, refresh_token: 1 }, api401s: 50, apiOk: 100 });
  });

  test('failNext(1, 503): the grant is retried once and every request succeeds', async () => {
    authority.failNext(1, 503);
    const api = client();
    const responses = await burst(20, (i) => api.get(`/reports/${i}`));
    expect(responses.map((response) => response.status)).toEqual(Array.from({ length: 20 }, () => 200));
    expect(authority.stats).toEqual({ tokenRequests: 2, grants: { password: 1, refresh_token: 0 }, failedTokenRequests: 1, apiRequests: 20, api401s: 0, apiOk: 20 });
  });

  test('a wrong password is a UserAuthenticationError for every caller, from one token request', async () => {
    const errors: OAuthBearerError[] = [];
    const api = client({ password: 'wrong', onError: (error) => errors.push(error) });
    const results = await Promise.allSettled(Array.from({ length: 10 }, (_, i) => api.get(`/reports/${i}`)));
    for (const result of results) {
      expect(result.status).toBe('rejected');
      expect(result.status === 'rejected' ? result.reason : undefined).toBeInstanceOf(UserAuthenticationError);
    }
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject({ code: 'ERR_OAUTH_USER_AUTHENTICATION_FAILED', status: 403 });
    expect(authority.stats).toEqual({ tokenRequests: 1, grants: { password: 0, refresh_token: 0 }, failedTokenRequests: 1, apiRequests: 0, api401s: 0, apiOk: 0 });
  });

  test('a reset connection is a TokenNetworkError after the retries; discovery through the adapter works', async () => {
    authority.failNext(3, { type: 'reset' });
    const api = client();
    await expect(api.get('/reports')).rejects.toBeInstanceOf(TokenNetworkError);
    expect(authority.stats.tokenRequests).toBe(3);
    const { clientId, clientSecret, username, password, adapter } = authority.credentials;
    const discovered = createAuthClient({ baseURL: authority.apiUrl, adapter, auth: { clientId, clientSecret, username, password, adapter, issuer: authority.url } });
    expect((await discovered.get('/reports')).data).toMatchObject({ token: 'at-1' });
  });

  test('without auth.adapter the token request leaves for the real network: the adapter must be given twice', async () => {
    const { clientId, clientSecret, username, password } = authority.credentials;
    // A closed loopback port, so the real attempt fails at once, offline.
    const api = createAuthClient({ baseURL: authority.apiUrl, adapter: authority.adapter, auth: { clientId, clientSecret, username, password, tokenUrl: 'http://127.0.0.1:1/token', retry: { attempts: 1 } } });
    await expect(api.get('/reports')).rejects.toBeInstanceOf(TokenNetworkError);
    expect(authority.stats.tokenRequests).toBe(0);
  });
});

describe('the adapter plays axios', () => {
  test('an unknown host is ENOTFOUND, naming the origin it serves', async () => {
    const failure: unknown = await http.get('https://other.test/x').catch((error: unknown) => error);
    expect(failure).toMatchObject({ code: 'ENOTFOUND', message: 'getaddrinfo ENOTFOUND other.test (this memory authority serves https://authority.test only)' });
  });

  test('validateStatus decides: by default a 401 rejects with ERR_BAD_REQUEST and a 503 with ERR_BAD_RESPONSE', async () => {
    const strict = axios.create({ adapter: authority.adapter });
    await expect(strict.get(`${authority.apiUrl}/x`)).rejects.toMatchObject({ code: 'ERR_BAD_REQUEST', response: { status: 401, statusText: 'Unauthorized' } });
    authority.failNext(1, 503);
    await expect(strict.post(authority.tokenUrl, '')).rejects.toMatchObject({ code: 'ERR_BAD_RESPONSE', response: { status: 503 } });
  });

  test('timeout, timeoutErrorMessage, clarifyTimeoutError and signal behave as over a socket', async () => {
    authority.setLatency({ tokenMs: 1_000 });
    const form = new URLSearchParams({ ...USER, ...CLIENT }).toString();
    await expect(http.post(authority.tokenUrl, form, { headers: FORM, timeout: 20 })).rejects.toMatchObject({ code: 'ECONNABORTED', message: 'timeout of 20ms exceeded' });
    await expect(http.post(authority.tokenUrl, form, { headers: FORM, timeout: 20, timeoutErrorMessage: 'slow', transitional: { clarifyTimeoutError: true } })).rejects.toMatchObject({ code: 'ETIMEDOUT', message: 'slow' });
    await expect(http.post(authority.tokenUrl, form, { headers: FORM, signal: AbortSignal.timeout(20) })).rejects.toMatchObject({ code: 'ERR_CANCELED' });
    await expect(http.get(authority.apiUrl, { signal: AbortSignal.abort() })).rejects.toMatchObject({ code: 'ERR_CANCELED' });
  });

  test("axios's auth option and credentials in the URL become a Basic header, as in the http adapter", async () => {
    const form = new URLSearchParams(USER).toString();
    const withAuth = await http.post(authority.tokenUrl, form, { headers: FORM, auth: { username: 'demo-client', password: 'demo-secret' } });
    expect(withAuth.data).toMatchObject({ access_token: 'at-1' });
    const inUrl = await http.post('https://demo-client:demo-secret@authority.test/connect/token', form, { headers: FORM });
    expect(inUrl.data).toMatchObject({ access_token: 'at-2' });
  });

  test('baseURL, params, HEAD and responseType arraybuffer, blob and stream', async () => {
    await postToken({ ...USER, ...CLIENT });
    const api = axios.create({ baseURL: authority.apiUrl, adapter: authority.adapter, headers: { Authorization: 'Bearer at-1' } });
    expect((await api.get('/list', { params: { page: 2 } })).data).toMatchObject({ path: '/api/list?page=2', body: null });
    const head = await api.head('/list');
    expect([head.status, head.data, head.headers['content-length']]).toEqual([200, '', expect.any(String)]);
    const bytes = await api.get<ArrayBuffer>('/x', { responseType: 'arraybuffer' });
    expect(JSON.parse(new TextDecoder().decode(bytes.data))).toMatchObject({ path: '/api/x' });
    const blob = await api.get<Blob>('/x', { responseType: 'blob' });
    expect(JSON.parse(await blob.data.text())).toMatchObject({ path: '/api/x' });
    await expect(api.get('/x', { responseType: 'stream' })).rejects.toMatchObject({ code: 'ERR_NOT_SUPPORT' });
    expect((await api.post('/bytes', new TextEncoder().encode('raw'))).data).toMatchObject({ body: 'raw' });
  });
});

describe('parity with the loopback server', () => {
  /** One script of requests, covering every route and fault kind that answers; the answers are compared whole. */
  async function script(server: AuthServer, send: AxiosInstance): Promise<unknown[]> {
    const token = (fields: Record<string, string>, headers: Record<string, string> = FORM) => send.post(server.tokenUrl, new URLSearchParams(fields).toString(), { headers });
    const api = (path: string, authorization?: string) => send.put(`${server.apiUrl}${path}`, { n: 1 }, { headers: authorization === undefined ? {} : { Authorization: authorization } });
    const steps: Promise<AxiosResponse>[] = [];
    const run = async (step: () => Promise<AxiosResponse>): Promise<void> => {
      steps.push(step());
      await steps[steps.length - 1];
    };
    await run(() => token({ ...USER, ...CLIENT, scope: 'read' }));
    await run(() => token({ ...USER, ...CLIENT, password: 'x' }));
    await run(() => token(USER, { ...FORM, Authorization: basic('demo-client:demo-secret') }));
    await run(() => token({ ...CLIENT, grant_type: 'refresh_token', refresh_token: 'rt-1' }));
    await run(() => token({ ...CLIENT, grant_type: 'refresh_token', refresh_token: 'rt-1' }));
    server.failNext(1, 429, undefined, { 'Retry-After': '2' });
    await run(() => token({ ...USER, ...CLIENT }));
    await run(() => api('/a?b=1', 'Bearer at-3'));
    await run(() => api('/a', 'Bearer at-1'));
    server.revokeAll();
    await run(() => api('/a', 'Bearer at-3'));
    await run(() => api('/a'));
    await run(() => send.get(`${server.url}/.well-known/openid-configuration`));
    await run(() => send.get(`${server.url}/nothing`));
    const responses = await Promise.all(steps);
    const answers: unknown[] = responses.map((response) => {
      const { 'cache-control': cache, pragma, 'www-authenticate': challenge, 'retry-after': retryAfter, 'content-type': type, allow } = response.headers as Record<string, unknown>;
      // The origin differs by design; everything else must match.
      const data: unknown = JSON.parse(JSON.stringify(response.data).replaceAll(server.url, 'ORIGIN'));
      return [response.status, data, { cache, pragma, challenge, retryAfter, type, allow }];
    });
    return [...answers, server.stats];
  }

  test('the same requests get the same statuses, bodies, headers and counters from both transports', async () => {
    const server = await startAuthServer();
    try {
      const overSocket = await script(server, axios.create({ validateStatus: () => true }));
      const inMemory = await script(authority, http);
      expect(inMemory).toEqual(overSocket);
      expect(inMemory.at(-1)).toEqual({ tokenRequests: 6, grants: { password: 2, refresh_token: 1 }, failedTokenRequests: 3, apiRequests: 4, api401s: 2, apiOk: 2 });
    } finally {
      await server.close();
    }
  });
});
