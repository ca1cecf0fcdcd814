/**
 * The dialects end to end, on the real loopback server answering as RFC 6749 servers do (`failNext` with their
 * statuses and bodies): the class each caller gets, the cooldown it starts or not, the refresh fallback, and the
 * Basic form search, each with exact token-request counts.
 */
import nock from 'nock';

import {
  type SingleAccountAttachOptions,
  createAuthClient,
  InvalidClientError,
  InvalidRequestError,
  UserAuthenticationError,
} from '../src/index.js';
import { type AuthServer, startAuthServer } from '../src/testing/server.js';

/** Special characters a generated secret has, which the loopback server form-decodes (RFC 6749 section 2.3.1). */
const SECRET = 'k3+Yz/Pq= 7';
let server: AuthServer;

beforeAll(() => {
  nock.disableNetConnect();
  nock.enableNetConnect('127.0.0.1');
});
beforeEach(async () => {
  server = await startAuthServer({ clientSecret: SECRET });
});
afterEach(() => server.close());
afterAll(() => nock.restore());

const client = (auth: Partial<SingleAccountAttachOptions> = {}) =>
  createAuthClient({ baseURL: server.apiUrl, auth: { ...server.credentials, retry: { attempts: 1 }, ...auth } });

async function reasonsOf(count: number, send: () => Promise<unknown>): Promise<unknown[]> {
  const results = await Promise.allSettled(Array.from({ length: count }, send));
  return results.map((result) => (result.status === 'rejected' ? (result.reason as unknown) : result));
}

describe('credential failures in the RFC dialect start the cooldown', () => {
  test.each([
    ['a wrong password as 400 invalid_grant', 400, { error: 'invalid_grant', error_description: 'Invalid user credentials' }, UserAuthenticationError],
    ['a wrong client secret as 400 invalid_client', 400, { error: 'invalid_client' }, InvalidClientError],
    ['a 403 with an empty body', 403, '', UserAuthenticationError],
  ] as const)('%s: 50 requests, one token request, one error for all, and the cooldown answers later ones', async (_name, status, body, type) => {
    server.failNext(1, status, body);
    const api = client();

    const burst = await reasonsOf(50, () => api.get('/a'));
    const later = await reasonsOf(5, () => api.get('/b'));

    const all = [...burst, ...later];
    expect(new Set(all).size).toBe(1);
    expect(all[0]).toBeInstanceOf(type);
    expect(server.stats.tokenRequests).toBe(1);
  });
});

describe('request failures start no cooldown', () => {
  test.each([
    ['400 invalid_scope', { error: 'invalid_scope' }, 'invalid_scope'],
    ['400 unauthorized_client', { error: 'unauthorized_client' }, 'unauthorized_client'],
    ['400 with an empty body', '', undefined],
  ] as const)('%s is an InvalidRequestError, and the next request tries again', async (_name, body, code) => {
    server.failNext(1, 400, body);
    const api = client();

    const error = await api.get('/a').catch((reason: unknown) => reason);
    const after = await api.get('/b');

    expect(error).toBeInstanceOf(InvalidRequestError);
    expect(error).toMatchObject({ status: 400, error: code });
    expect(after.status).toBe(200);
    expect(server.stats.tokenRequests).toBe(2);
  });
});

describe('a refused refresh token falls back to the password grant, whatever class the refusal gets', () => {
  test.each([
    ['400 invalid_grant', 400, { error: 'invalid_grant' }],
    ['403 invalid_grant', 403, { error: 'invalid_grant' }],
    ['400 invalid_client', 400, { error: 'invalid_client' }],
    ['401 without a body', 401, ''],
    ['403 without a body', 403, ''],
    ['400 invalid_scope', 400, { error: 'invalid_scope' }],
  ] as const)('%s: one refresh, one password grant, and the replay succeeds', async (_name, status, body) => {
    const api = client();
    await api.get('/warm-up');
    server.revokeAll();
    server.failNext(1, status, body);

    await expect(api.get('/a')).resolves.toMatchObject({ status: 200 });

    // Warm-up password grant, the refused refresh, the fallback password grant.
    expect(server.stats.tokenRequests).toBe(3);
    expect(server.stats.grants).toEqual({ password: 2, refresh_token: 0 });
  });
});

describe('client_secret_basic on a server that decodes', () => {
  test('the right secret with special characters costs one token request', async () => {
    const api = client({ clientAuthentication: 'client_secret_basic' });

    await Promise.all(Array.from({ length: 20 }, () => api.get('/a')));

    expect(server.stats.tokenRequests).toBe(1);
  });

  test('a wrong secret costs two token requests for a whole burst (both forms), then the cooldown answers', async () => {
    const api = client({ clientAuthentication: 'client_secret_basic', clientSecret: 'Wr0ng+Secret/=' });

    const all = [...(await reasonsOf(20, () => api.get('/a'))), ...(await reasonsOf(5, () => api.get('/b')))];

    expect(new Set(all).size).toBe(1);
    expect(all[0]).toBeInstanceOf(InvalidClientError);
    expect((all[0] as InvalidClientError).basicFormsTried).toEqual(['form-encoded', 'raw']);
    expect(server.stats.tokenRequests).toBe(2);
  });

  test('client_secret_basic_raw is refused by a server that decodes, in one request', async () => {
    const api = client({ clientAuthentication: 'client_secret_basic_raw' });

    await expect(api.get('/a')).rejects.toBeInstanceOf(InvalidClientError);
    expect(server.stats.tokenRequests).toBe(1);
  });
});
