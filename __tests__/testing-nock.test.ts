import axios, { type AxiosResponse } from 'axios';
import nock from 'nock';

import { formEncode } from '../src/form-encoding.js';
import { type MockTokenEndpoint, mockProtectedApi, type MockTokenError, mockTokenEndpoint } from '../src/testing/nock.js';

const TOKEN_URL = 'https://idp.test/connect/token';
const http = axios.create({ validateStatus: () => true });
const FORM = { 'Content-Type': 'application/x-www-form-urlencoded' };
const CLIENT = { client_id: 'demo-client', client_secret: 'demo-secret' };
const USER = { grant_type: 'password', username: 'demo-user', password: 'demo-password' };

beforeAll(() => nock.disableNetConnect());
afterAll(() => nock.restore());

let idp: MockTokenEndpoint;
beforeEach(() => {
  idp = mockTokenEndpoint({ tokenUrl: TOKEN_URL });
});
afterEach(() => {
  idp.stop();
  nock.cleanAll();
  jest.restoreAllMocks();
});

function postToken(fields: Record<string, string>, headers: Record<string, string> = FORM): Promise<AxiosResponse> {
  return http.post(TOKEN_URL, new URLSearchParams(fields).toString(), { headers });
}
const passwordGrant = (): Promise<AxiosResponse> => postToken({ ...USER, ...CLIENT });

/**
 * What a request no interceptor matches ends in, whichever nock runs this suite (npm run test:consumers runs it with
 * 13.5 and 14 too): nock 15 answers it with an ERR_NOCK_NO_MATCH body, 13 and 14 fail it with "Nock: No match".
 */
async function unmatched(request: Promise<AxiosResponse>): Promise<string> {
  try {
    const data = (await request).data as { code?: string };
    return data.code ?? JSON.stringify(data);
  } catch (error) {
    return error instanceof Error && error.message.startsWith('Nock: No match') ? 'ERR_NOCK_NO_MATCH' : String(error);
  }
}
const refreshGrant = (refreshToken: string): Promise<AxiosResponse> => postToken({ ...CLIENT, grant_type: 'refresh_token', refresh_token: refreshToken });

describe('mockTokenEndpoint', () => {
  test('answers a password grant with a realistic token body and counts it', async () => {
    const response = await passwordGrant();
    expect([response.status, response.data]).toEqual([200, { access_token: 'at-1', token_type: 'bearer', expires_in: 3600, refresh_token: 'rt-1', scope: 'read write' }]);
    expect(idp.grants).toEqual({ password: 1, refresh_token: 0, total: 1 });
  });

  test('counts every grant exactly and lists the issued tokens oldest first', async () => {
    jest.spyOn(Date, 'now').mockReturnValue(5_000);
    await passwordGrant();
    await refreshGrant('rt-1');
    await refreshGrant('rt-2');
    await passwordGrant();
    await refreshGrant('rt-1'); // rotated away: refused, so not counted
    expect(idp.grants).toEqual({ password: 2, refresh_token: 2, total: 4 });
    expect(idp.requests).toBe(5);
    expect(idp.issuedTokens.map((token) => [token.grant, token.accessToken, token.refreshToken])).toEqual([
      ['password', 'at-1', 'rt-1'],
      ['refresh_token', 'at-2', 'rt-2'],
      ['refresh_token', 'at-3', 'rt-3'],
      ['password', 'at-4', 'rt-4'],
    ]);
    expect(idp.issuedTokens[0]).toMatchObject({ expiresAt: 5_000 + 3_600_000, scope: 'read write' });
  });

  test('follows the same rules as the loopback server: rotation, client authentication and user authentication', async () => {
    await passwordGrant();
    await refreshGrant('rt-1');
    expect((await refreshGrant('rt-1')).data).toEqual({ error: 'invalid_grant', error_description: 'the refresh token is invalid, expired or revoked' });
    expect((await postToken({ ...USER, ...CLIENT, client_secret: 'nope' })).status).toBe(401);
    expect((await postToken({ ...USER, ...CLIENT, password: 'nope' })).status).toBe(403);
    const basic = Buffer.from(`${formEncode('demo-client')}:${formEncode('demo-secret')}`).toString('base64');
    expect((await postToken(USER, { ...FORM, Authorization: `Basic ${basic}` })).data).toMatchObject({ access_token: 'at-3' });
  });

  test('honours its own credentials and token policy', async () => {
    idp.stop();
    idp = mockTokenEndpoint({ tokenUrl: TOKEN_URL, clientSecret: 'other', expiresIn: 0.5, issueRefreshTokens: false });
    expect(idp.credentials).toEqual({ tokenUrl: TOKEN_URL, clientId: 'demo-client', clientSecret: 'other', username: 'demo-user', password: 'demo-password' });
    const response = await postToken({ ...USER, ...CLIENT, client_secret: 'other' });
    expect(response.data).toEqual({ access_token: 'at-1', token_type: 'bearer', expires_in: 0.5, scope: 'read write' });
  });

  test.each<[MockTokenError, number, unknown]>([
    ['invalid_request', 400, { error: 'invalid_request', error_description: 'the request is missing a parameter or is malformed' }],
    ['invalid_grant', 400, { error: 'invalid_grant', error_description: 'the refresh token is invalid, expired or revoked' }],
    ['unsupported_grant_type', 400, { error: 'unsupported_grant_type', error_description: 'the supported grants are password, refresh_token, client_credentials, urn:ietf:params:oauth:grant-type:token-exchange, urn:ietf:params:oauth:grant-type:jwt-bearer' }],
    ['invalid_client', 401, { error: 'invalid_client', error_description: 'client authentication failed' }],
    ['user_authentication', 403, { error: 'invalid_grant', error_description: 'invalid username or password' }],
    ['server_error', 500, { error: 'server_error', error_description: 'the authorization server failed' }],
    ['temporarily_unavailable', 503, { error: 'temporarily_unavailable', error_description: 'try again later' }],
  ])('failNext(%p) answers the next request with HTTP %p and its error body, then recovers', async (error, status, body) => {
    idp.failNext(error);
    const failed = await passwordGrant();
    expect([failed.status, failed.data]).toEqual([status, body]);
    expect((await passwordGrant()).data).toMatchObject({ access_token: 'at-1' });
    expect(idp.grants.total).toBe(1);
  });

  test('a temporarily_unavailable answer carries Retry-After and an invalid_client one a Basic challenge', async () => {
    idp.failNext('temporarily_unavailable');
    idp.failNext('invalid_client');
    expect((await passwordGrant()).headers['retry-after']).toBe('1');
    expect((await passwordGrant()).headers['www-authenticate']).toBe('Basic realm="axios-oauth-bearer-testing"');
  });

  test('failNext("malformed") answers 200 with a body that is not JSON', async () => {
    idp.failNext('malformed');
    const response = await http.post(TOKEN_URL, new URLSearchParams({ ...USER, ...CLIENT }).toString(), {
      headers: FORM,
      responseType: 'text',
      transformResponse: [(data: unknown) => data],
    });
    expect(response.status).toBe(200);
    expect(() => JSON.parse(String(response.data)) as unknown).toThrow(SyntaxError);
  });

  test('failNext("network") resets the connection, and a count repeats the failure', async () => {
    idp.failNext('network', 2);
    await expect(passwordGrant()).rejects.toMatchObject({ code: 'ECONNRESET' });
    await expect(passwordGrant()).rejects.toMatchObject({ code: 'ECONNRESET' });
    expect((await passwordGrant()).status).toBe(200);
  });

  test('failNext accepts an answer of your own', async () => {
    idp.failNext({ status: 429, body: { error: 'slow_down' }, headers: { 'Retry-After': '7' } });
    const response = await passwordGrant();
    expect([response.status, response.data, response.headers['retry-after']]).toEqual([429, { error: 'slow_down' }, '7']);
  });

  test('done() throws when a queued failure was never used, and removes the interceptor either way', async () => {
    idp.failNext('server_error');
    expect(() => idp.done()).toThrow('1 queued failNext answer(s) were never used');
    expect(await unmatched(passwordGrant())).toBe('ERR_NOCK_NO_MATCH');
    expect(idp.requests).toBe(0);
  });

  test('done() passes when every queued failure was used', async () => {
    idp.failNext('invalid_grant');
    await passwordGrant();
    expect(() => idp.done()).not.toThrow();
  });
});

describe('mockProtectedApi', () => {
  test('accepts a token the fixture issued and echoes the request', async () => {
    const api = mockProtectedApi({ baseUrl: 'https://api.test/v1', tokens: idp });
    await passwordGrant();
    const response = await http.put('https://api.test/v1/orders/7?x=1', { qty: 2 }, { headers: { Authorization: 'Bearer at-1' } });
    expect([response.status, response.data]).toEqual([200, { method: 'PUT', path: '/v1/orders/7?x=1', body: { qty: 2 }, token: 'at-1', username: 'demo-user' }]);
    expect(api.stats).toEqual({ requests: 1, ok: 1, unauthorized: 0 });
  });

  test('rejects an unknown token with 401 and an invalid_token challenge', async () => {
    mockProtectedApi({ baseUrl: 'https://api.test', tokens: idp });
    const response = await http.get('https://api.test/orders', { headers: { Authorization: 'Bearer at-1' } });
    expect(response.status).toBe(401);
    expect(response.headers['www-authenticate']).toContain('error="invalid_token"');
    expect(response.data).toEqual({ error: 'invalid_token', error_description: 'the access token is unknown or revoked' });
  });

  test('rejects a missing token with a bare challenge', async () => {
    const api = mockProtectedApi({ baseUrl: 'https://api.test', tokens: idp });
    const response = await http.delete('https://api.test/orders/1');
    expect([response.status, response.headers['www-authenticate']]).toEqual([401, 'Bearer realm="axios-oauth-bearer-testing"']);
    expect(api.stats).toEqual({ requests: 1, ok: 0, unauthorized: 1 });
  });

  test('rejects a token after revoke(), and revoke(token) revokes that token only', async () => {
    mockProtectedApi({ baseUrl: 'https://api.test', tokens: idp });
    await passwordGrant();
    await passwordGrant();
    idp.revoke('at-1');
    const call = async (token: string): Promise<number> => (await http.get('https://api.test/x', { headers: { Authorization: `Bearer ${token}` } })).status;
    expect([await call('at-1'), await call('at-2')]).toEqual([401, 200]);
    idp.revoke();
    expect(await call('at-2')).toBe(401);
  });

  test('rejects a token from the millisecond it expires', async () => {
    mockProtectedApi({ baseUrl: 'https://api.test', tokens: idp });
    const now = jest.spyOn(Date, 'now').mockReturnValue(0);
    await passwordGrant();
    now.mockReturnValue(3_599_999);
    expect(idp.checkAccess('Bearer at-1').ok).toBe(true);
    now.mockReturnValue(3_600_000);
    const response = await http.get('https://api.test/x', { headers: { Authorization: 'Bearer at-1' } });
    expect([response.status, response.data]).toEqual([401, { error: 'invalid_token', error_description: 'the access token expired' }]);
  });

  test('leaves the token endpoint alone when it shares the API origin', async () => {
    // The API's interceptors go in first, so only the exclusion keeps them off the token path.
    idp.stop();
    mockProtectedApi({ baseUrl: 'https://idp.test', tokens: { tokenUrl: TOKEN_URL, checkAccess: (header) => idp.checkAccess(header) } });
    idp = mockTokenEndpoint({ tokenUrl: TOKEN_URL });
    expect((await passwordGrant()).status).toBe(200);
    expect((await http.get('https://idp.test/me', { headers: { Authorization: 'Bearer at-1' } })).status).toBe(200);
  });

  test('stop() removes its interceptors', async () => {
    const api = mockProtectedApi({ baseUrl: 'https://api.test', tokens: idp });
    api.stop();
    expect(await unmatched(http.get('https://api.test/x'))).toBe('ERR_NOCK_NO_MATCH');
    expect(api.stats.requests).toBe(0);
  });
});
