/**
 * Every grant (issue 16) against the nock fixtures users test with (`mockTokenEndpoint`, `mockProtectedApi`): the
 * same table as grants-loopback.test.ts, so a user's test of any grant sees what the real server would do. No
 * keep-alive agent here (nock's interceptor stalls keep-alive storms): the storm runs on axios's default http adapter.
 */
import { inspect } from 'node:util';

import nock from 'nock';

import { type AuthClient, ConfigurationError, createAuthClient, InvalidClientError } from '../src/index.js';
import { type MockProtectedApi, mockProtectedApi, type MockTokenEndpoint, mockTokenEndpoint } from '../src/testing/nock.js';
import { CASE_SECRETS, GRANT_CASES, type GrantCase, SUBJECT_TOKENS } from './helpers/grant-cases.js';
import { waitFor } from './helpers/waiting.js';

const TOKEN_URL = 'https://idp.fixtures.test/connect/token';
const API_URL = 'https://api.fixtures.test/v1';

let idp: MockTokenEndpoint;
let api: MockProtectedApi;
const seeded: string[] = [];

beforeAll(() => nock.disableNetConnect());
beforeEach(() => {
  idp = mockTokenEndpoint({ tokenUrl: TOKEN_URL, subjectTokens: SUBJECT_TOKENS });
  api = mockProtectedApi({ baseUrl: API_URL, tokens: idp });
});
afterEach(() => {
  idp.stop();
  api.stop();
});
afterAll(() => nock.restore());

function clientFor(grant: GrantCase, overrides: Record<string, unknown> = {}, wrong = false): AuthClient {
  const server = {
    tokenUrl: idp.tokenUrl,
    credentials: idp.credentials,
    issueRefreshToken: (username: string) => {
      const token = idp.issueRefreshToken(username);
      seeded.push(token);
      return token;
    },
  };
  const auth = { ...grant.auth(server, wrong), ...overrides };
  return createAuthClient({ baseURL: API_URL, auth } as Parameters<typeof createAuthClient>[0]) as AuthClient;
}

async function burst(client: AuthClient, count: number): Promise<PromiseSettledResult<{ username: string }>[]> {
  return Promise.allSettled(Array.from({ length: count }, (_, index) => client.get<{ username: string }>(`/item/${index}`).then((response) => response.data)));
}

describe.each(GRANT_CASES)('$name', (grant) => {
  test('20 concurrent first requests share one grant; each acts for the grant\'s subject', async () => {
    const client = clientFor(grant);
    const results = await burst(client, 20);
    expect(results.map((result) => (result.status === 'fulfilled' ? result.value.username : 'failed'))).toEqual(Array(20).fill(grant.subject));
    expect(idp.requests).toBe(1);
    expect(idp.grants[grant.first] ?? 0).toBe(1);
  });

  test('proactive renewal: inside the margin a request keeps the current token while one renewal runs', async () => {
    // A margin as long as the lifetime: every token is inside it at once, but not in its last half (requests then wait).
    const client = clientFor(grant, { refreshMargin: 3_599_000 });
    await client.get('/first');
    await client.get('/second'); // sent with the first token; starts the renewal
    await waitFor('the background renewal', () => !client.tokens.renewing, 10_000, 5);
    expect([idp.requests, (idp.grants[grant.renewal] ?? 0) - (grant.first === grant.renewal ? 1 : 0), api.stats.unauthorized]).toEqual([2, 1, 0]);
  });

  // 100, not 500: nock costs about 12 ms a request here, and grants-loopback.test.ts runs the 500 on real sockets.
  test('a 100-request storm after the fixture revoked every access token: one renewal, all succeed', async () => {
    const client = clientFor(grant);
    await client.get('/warm');
    idp.revoke();
    const results = await burst(client, 100);
    expect(results.filter((result) => result.status === 'rejected')).toEqual([]);
    expect(idp.requests).toBe(2);
    expect(idp.grants[grant.renewal] ?? 0).toBe(grant.first === grant.renewal ? 2 : 1);
    expect(api.stats.unauthorized).toBeGreaterThan(0);
  });

  test(`wrong credentials: ${grant.wrongClass.name} for every request of a burst, one token request, no secret`, async () => {
    const client = clientFor(grant, {}, true);
    const results = await burst(client, 20);
    const reasons = results.map((result) => (result.status === 'rejected' ? (result.reason as unknown) : undefined));
    for (const reason of reasons) expect(reason).toBeInstanceOf(grant.wrongClass);
    expect(idp.requests).toBe(1);
    for (const text of [inspect(reasons[0], { depth: null }), JSON.stringify(reasons[0])]) {
      for (const secret of [idp.credentials.clientSecret, idp.credentials.password, ...CASE_SECRETS, ...seeded]) expect(text).not.toContain(secret);
    }
    await burst(client, 5);
    expect(idp.requests).toBe(grant.coolsDown ? 1 : 2);
  });

  test('revoke() at the fixture\'s revocation endpoint: its record shows what was revoked, and the next request starts afresh', async () => {
    const client = clientFor(grant, { revocationUrl: idp.revocationUrl });
    await client.get('/before');
    const held = client.tokens.current;
    await client.tokens.revoke();
    expect(idp.revoked.map(({ token, kind }) => [token, kind])).toEqual([
      ...(grant.refreshes ? [[held?.refreshToken, 'refresh_token']] : []),
      [held?.accessToken, 'access_token'],
    ]);
    expect(api.stats.unauthorized).toBe(0);
    expect(client.tokens.current).toBeUndefined();
    if (grant.first === 'refresh_token') {
      // Nothing is left to renew with: the request fails before anything is sent.
      await expect(client.get('/after')).rejects.toBeInstanceOf(ConfigurationError);
      expect(idp.requests).toBe(1);
    } else {
      await expect(client.get('/after')).resolves.toMatchObject({ data: { username: grant.subject } });
      expect(idp.requests).toBe(2);
      expect(idp.grants[grant.first] ?? 0).toBe(2);
    }
  });

  test('a refused revocation is typed, names no token, and the tokens are forgotten here all the same', async () => {
    const client = clientFor(grant, { revocationUrl: idp.revocationUrl });
    await client.get('/before');
    const held = client.tokens.current!;
    idp.failNextRevocation('invalid_client');
    const failure = await client.tokens.revoke().then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(failure).toBeInstanceOf(InvalidClientError);
    expect(failure).toMatchObject({ status: 401, error: 'invalid_client' });
    // Each token is asked for even after a refusal (refresh, then access); the first failure is the one thrown.
    expect(idp.revocations).toBe(grant.refreshes ? 2 : 1);
    for (const text of [inspect(failure, { depth: null }), JSON.stringify(failure)]) {
      for (const secret of [held.accessToken, held.refreshToken, idp.credentials.clientSecret, idp.credentials.password].filter((value) => value !== undefined)) expect(text).not.toContain(secret);
    }
    expect(client.tokens.current).toBeUndefined();
  });
});
