import { connect, createServer } from 'node:net';

import axios, { type AxiosResponse } from 'axios';
import nock from 'nock';

import { formEncode } from '../src/form-encoding.js';
import { resolveAuthOptions } from '../src/options.js';
import { tokenEndpointFor } from '../src/token-endpoint.js';
import { type AuthServer, type AuthServerOptions, startAuthServer } from '../src/testing/server.js';

// The real server is on 127.0.0.1; everything else stays unreachable.
beforeAll(() => {
  nock.disableNetConnect();
  nock.enableNetConnect('127.0.0.1');
});
afterAll(() => nock.restore());
afterEach(() => jest.restoreAllMocks());

const http = axios.create({ validateStatus: () => true });
const FORM = { 'Content-Type': 'application/x-www-form-urlencoded' };
const CLIENT = { client_id: 'demo-client', client_secret: 'demo-secret' };
const USER = { grant_type: 'password', username: 'demo-user', password: 'demo-password' };

let server: AuthServer;
async function restart(options: AuthServerOptions = {}): Promise<void> {
  await server.close();
  server = await startAuthServer(options);
}
beforeEach(async () => {
  server = await startAuthServer();
});
afterEach(() => server.close());

function postToken(fields: Record<string, string>, headers: Record<string, string> = FORM): Promise<AxiosResponse> {
  return http.post(server.tokenUrl, new URLSearchParams(fields).toString(), { headers });
}
function callApi(token: string | undefined, path = '/orders?page=2'): Promise<AxiosResponse> {
  return http.post(`${server.apiUrl}${path}`, { item: 1 }, { headers: token === undefined ? {} : { Authorization: `Bearer ${token}` } });
}

describe('the token endpoint', () => {
  test('a password grant with client_secret_post gets the provider-shaped token body, uncached', async () => {
    const response = await postToken({ ...USER, ...CLIENT });
    expect(response.status).toBe(200);
    expect(response.data).toEqual({ access_token: 'at-1', token_type: 'bearer', expires_in: 3600, refresh_token: 'rt-1', scope: 'read write' });
    expect(response.headers['cache-control']).toBe('no-store');
  });

  test('client_secret_basic is accepted with each credential form-encoded before base64', async () => {
    await restart({ clientId: 'my client', clientSecret: 's3cret:+/é' });
    const basic = Buffer.from(`${formEncode('my client')}:${formEncode('s3cret:+/é')}`).toString('base64');
    const response = await postToken(USER, { ...FORM, Authorization: `Basic ${basic}` });
    expect(response.status).toBe(200);
    expect(response.data).toMatchObject({ access_token: 'at-1' });
  });

  test.each([
    ['a JSON body', { ...USER, ...CLIENT }, { 'Content-Type': 'application/json' }, 400, 'invalid_request', 'the body must be application/x-www-form-urlencoded'],
    ['a missing grant_type', { ...CLIENT, username: 'demo-user' }, FORM, 400, 'invalid_request', 'grant_type is required'],
    ['an unknown grant_type', { ...CLIENT, grant_type: 'authorization_code' }, FORM, 400, 'unsupported_grant_type', 'the supported grants are password, refresh_token, client_credentials, urn:ietf:params:oauth:grant-type:token-exchange, urn:ietf:params:oauth:grant-type:jwt-bearer'],
    ['a missing password', { ...CLIENT, grant_type: 'password', username: 'demo-user' }, FORM, 400, 'invalid_request', 'username and password are required'],
    ['an unknown refresh token', { ...CLIENT, grant_type: 'refresh_token', refresh_token: 'rt-99' }, FORM, 400, 'invalid_grant', 'the refresh token is invalid, expired or revoked'],
    ['a scope that is not allowed', { ...USER, ...CLIENT, scope: 'read admin' }, FORM, 400, 'invalid_scope', 'the requested scope is not allowed'],
    ['a wrong client secret', { ...USER, client_id: 'demo-client', client_secret: 'nope' }, FORM, 401, 'invalid_client', 'client authentication failed'],
    ['no client credentials', USER, FORM, 401, 'invalid_client', 'client authentication failed'],
    ['a wrong Basic secret', USER, { ...FORM, Authorization: `Basic ${Buffer.from('demo-client:nope').toString('base64')}` }, 401, 'invalid_client', 'client authentication failed'],
    ['Basic and client_secret together', { ...USER, ...CLIENT }, { ...FORM, Authorization: `Basic ${Buffer.from('demo-client:demo-secret').toString('base64')}` }, 400, 'invalid_request', 'more than one client authentication method'],
    ['a wrong password', { ...USER, ...CLIENT, password: 'wrong' }, FORM, 403, 'invalid_grant', 'invalid username or password'],
  ])('answers %s with the documented status and error body', async (_name, fields, headers, status, error, description) => {
    const response = await postToken(fields, headers);
    expect(response.status).toBe(status);
    expect(response.data).toEqual({ error, error_description: description });
  });

  test('a rejected client gets a Basic challenge, as every 401 must carry one', async () => {
    const response = await postToken({ ...USER, client_id: 'demo-client', client_secret: 'nope' });
    expect(response.headers['www-authenticate']).toBe('Basic realm="axios-oauth-bearer-testing"');
  });

  test('a repeated parameter is refused and an empty one counts as omitted', async () => {
    const repeated = await http.post(server.tokenUrl, 'grant_type=password&grant_type=password&client_id=demo-client&client_secret=demo-secret', { headers: FORM });
    expect(repeated.data).toEqual({ error: 'invalid_request', error_description: 'parameter grant_type is repeated' });
    const empty = await postToken({ ...USER, ...CLIENT, scope: '' });
    expect(empty.data).toMatchObject({ scope: 'read write' });
  });

  test('a refresh rotates the refresh token and the old one then gets invalid_grant', async () => {
    await postToken({ ...USER, ...CLIENT });
    const refreshed = await postToken({ ...CLIENT, grant_type: 'refresh_token', refresh_token: 'rt-1', scope: 'read' });
    expect(refreshed.data).toEqual({ access_token: 'at-2', token_type: 'bearer', expires_in: 3600, refresh_token: 'rt-2', scope: 'read' });
    const reused = await postToken({ ...CLIENT, grant_type: 'refresh_token', refresh_token: 'rt-1' });
    expect([reused.status, reused.data]).toEqual([400, { error: 'invalid_grant', error_description: 'the refresh token is invalid, expired or revoked' }]);
    // The rotated token keeps the original grant's scope, not the narrowed one.
    const again = await postToken({ ...CLIENT, grant_type: 'refresh_token', refresh_token: 'rt-2' });
    expect(again.data).toMatchObject({ refresh_token: 'rt-3', scope: 'read write' });
  });

  test('without rotation a refresh answers with the same refresh token, which keeps working', async () => {
    await restart({ rotateRefreshTokens: false });
    await postToken({ ...USER, ...CLIENT });
    for (const expected of ['at-2', 'at-3']) {
      const refreshed = await postToken({ ...CLIENT, grant_type: 'refresh_token', refresh_token: 'rt-1' });
      expect(refreshed.data).toMatchObject({ access_token: expected, refresh_token: 'rt-1' });
    }
  });

  test('with issueRefreshTokens false the body has no refresh_token at all', async () => {
    await restart({ issueRefreshTokens: false });
    const response = await postToken({ ...USER, ...CLIENT });
    expect(response.data).toEqual({ access_token: 'at-1', token_type: 'bearer', expires_in: 3600, scope: 'read write' });
  });

  test('revokeRefreshTokens makes every issued refresh token get invalid_grant', async () => {
    await postToken({ ...USER, ...CLIENT });
    server.revokeRefreshTokens();
    const response = await postToken({ ...CLIENT, grant_type: 'refresh_token', refresh_token: 'rt-1' });
    expect(response.data).toMatchObject({ error: 'invalid_grant' });
  });

  test('the library token client obtains tokens through discovery and client_secret_basic', async () => {
    const { clientId, clientSecret, username, password } = server.credentials;
    const options = { clientId, clientSecret, username, password, issuer: server.url, clientAuthentication: 'client_secret_basic' };
    const endpoint = tokenEndpointFor(resolveAuthOptions(options));
    const tokens = await endpoint.grant();
    expect([tokens.accessToken, tokens.refreshToken, await endpoint.tokenUrl()]).toEqual(['at-1', 'rt-1', server.tokenUrl]);
  });
});

describe('injected token-endpoint faults', () => {
  test('failNext answers the next requests with the given status, body and headers, then recovers', async () => {
    server.failNext(2, 503, { error: 'temporarily_unavailable' }, { 'Retry-After': '3' });
    for (let attempt = 0; attempt < 2; attempt += 1) {
      const failed = await postToken({ ...USER, ...CLIENT });
      expect([failed.status, failed.data, failed.headers['retry-after']]).toEqual([503, { error: 'temporarily_unavailable' }, '3']);
    }
    expect((await postToken({ ...USER, ...CLIENT })).data).toMatchObject({ access_token: 'at-1' });
  });

  test('a string body is sent as is, so a malformed token response can be simulated', async () => {
    server.failNext(1, 200, 'not json');
    const response = await http.post(server.tokenUrl, new URLSearchParams({ ...USER, ...CLIENT }).toString(), { headers: FORM, responseType: 'text', transformResponse: [(data: unknown) => data] });
    expect([response.status, response.data]).toEqual([200, 'not json']);
  });

  test('a reset fault destroys the connection', async () => {
    server.failNext(1, { type: 'reset' });
    await expect(postToken({ ...USER, ...CLIENT })).rejects.toMatchObject({ code: 'ECONNRESET' });
  });

  test('the fault hook sees each grant type, and a hung request ends when the server closes', async () => {
    const seen: unknown[] = [];
    let hung: () => void = () => undefined;
    const hanging = new Promise<void>((resolve) => (hung = resolve));
    server.setTokenFault((request) => {
      seen.push(request);
      if (request.grantType !== 'refresh_token') return undefined;
      hung();
      return { type: 'hang' };
    });
    await postToken({ ...USER, ...CLIENT });
    const pending = postToken({ ...CLIENT, grant_type: 'refresh_token', refresh_token: 'rt-1' });
    await hanging;
    await server.close();
    await expect(pending).rejects.toThrow();
    expect(seen).toEqual([{ grantType: 'password', requestNumber: 1 }, { grantType: 'refresh_token', requestNumber: 2 }]);
  });
});

describe('the protected API', () => {
  test('echoes method, path, body and token for a valid bearer token', async () => {
    await postToken({ ...USER, ...CLIENT });
    const response = await callApi('at-1');
    expect([response.status, response.data]).toEqual([200, { method: 'POST', path: '/api/orders?page=2', body: { item: 1 }, token: 'at-1', username: 'demo-user' }]);
  });

  test('a request without a token gets a bare Bearer challenge, as RFC 6750 asks', async () => {
    const response = await callApi(undefined);
    expect([response.status, response.headers['www-authenticate']]).toEqual([401, 'Bearer realm="axios-oauth-bearer-testing"']);
  });

  test('revokeAll makes the API answer 401 invalid_token for tokens issued before', async () => {
    await postToken({ ...USER, ...CLIENT });
    server.revokeAll();
    const response = await callApi('at-1');
    expect(response.status).toBe(401);
    expect(response.headers['www-authenticate']).toContain('error="invalid_token"');
    expect(response.data).toEqual({ error: 'invalid_token', error_description: 'the access token is unknown or revoked' });
  });

  test('a token is accepted until the millisecond before expires_in and refused from that millisecond on', async () => {
    await restart({ expiresIn: 0.5 });
    const now = jest.spyOn(Date, 'now').mockReturnValue(1_000_000);
    await postToken({ ...USER, ...CLIENT });
    now.mockReturnValue(1_000_499);
    expect((await callApi('at-1')).status).toBe(200);
    now.mockReturnValue(1_000_500);
    const expired = await callApi('at-1');
    expect([expired.status, expired.data]).toEqual([401, { error: 'invalid_token', error_description: 'the access token expired' }]);
  });

  test('the discovery document names the server as issuer and its token endpoint', async () => {
    const response = await http.get(`${server.url}/.well-known/openid-configuration`);
    expect(response.data).toMatchObject({ issuer: server.url, token_endpoint: server.tokenUrl });
  });
});

describe('stats and lifecycle', () => {
  test('stats count token requests, grants by type, failures and API outcomes; resetStats zeroes them', async () => {
    await postToken({ ...USER, ...CLIENT });
    await postToken({ ...CLIENT, grant_type: 'refresh_token', refresh_token: 'rt-1' });
    await postToken({ ...USER, ...CLIENT, password: 'wrong' });
    server.failNext(1, 500);
    await postToken({ ...USER, ...CLIENT });
    await callApi('at-2');
    await callApi('at-9');
    await callApi('at-1');
    await callApi(undefined);
    expect(server.stats).toEqual({ tokenRequests: 4, grants: { password: 1, refresh_token: 1 }, failedTokenRequests: 2, apiRequests: 4, api401s: 2, apiOk: 2 });
    server.resetStats();
    expect(server.stats).toEqual({ tokenRequests: 0, grants: { password: 0, refresh_token: 0 }, failedTokenRequests: 0, apiRequests: 0, api401s: 0, apiOk: 0 });
  });

  test('close() ends keep-alive connections and frees the port for another listener', async () => {
    const { port } = new URL(server.url);
    // A raw socket, because nock's passthrough would not keep the connection alive for us.
    const socket = connect(Number(port), '127.0.0.1');
    const closed = new Promise((resolve) => socket.once('close', resolve));
    const answered = new Promise((resolve) => socket.once('data', resolve));
    socket.write('GET /.well-known/openid-configuration HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: keep-alive\r\n\r\n');
    expect(String(await answered)).toContain('Connection: keep-alive');
    await server.close();
    await closed;
    await expect(http.get(`${server.url}/api/x`)).rejects.toMatchObject({ code: 'ECONNREFUSED' });
    const other = createServer();
    await new Promise<void>((resolve) => other.listen(Number(port), '127.0.0.1', resolve));
    await new Promise((resolve) => other.close(resolve));
  });
});
