/**
 * Every grant (issue 16) against the real loopback server, through a keep-alive agent: the first grant and its exact
 * form, one grant for concurrent first requests, proactive renewal, one renewal for a 500-request storm after the
 * server revoked every access token, the wrong credentials' class and attempts, no secret in any error, and RFC 7009
 * revocation. The same table runs against the nock fixtures in grants-fixtures.test.ts. No nock here: nock's
 * interceptor stalls keep-alive storms.
 */
import { Agent } from 'node:http';
import { inspect } from 'node:util';

import axios, { type AxiosAdapter, type InternalAxiosRequestConfig } from 'axios';

import { type AuthClient, ConfigurationError, createAuthClient, InvalidClientError, MemoryTokenStore, type TokenEvent } from '../src/index.js';
import { type AuthServer, startAuthServer } from '../src/testing/server.js';
import { CASE_SECRETS, GRANT_CASES, type GrantCase, SUBJECT_TOKENS } from './helpers/grant-cases.js';
import { waitFor } from './helpers/waiting.js';

let server: AuthServer;
let agent: Agent;
const seeded: string[] = [];

beforeEach(async () => {
  server = await startAuthServer({ subjectTokens: SUBJECT_TOKENS });
  agent = new Agent({ keepAlive: true, maxSockets: 64 });
});

afterEach(async () => {
  agent.destroy();
  await server.close();
});

/** The server, with every refresh token it hands out remembered as a secret the errors must not show. */
function grantServer(): AuthServer {
  return new Proxy(server, {
    get(target, key, receiver) {
      if (key !== 'issueRefreshToken') return Reflect.get(target, key, receiver) as unknown;
      return (username: string) => {
        const token = target.issueRefreshToken(username);
        seeded.push(token);
        return token;
      };
    },
  });
}

function clientFor(grant: GrantCase, overrides: Record<string, unknown> = {}, wrong = false): AuthClient {
  return clientWith(grant.auth(grantServer(), wrong), overrides);
}

/** A client of these auth options (one grant case's, made once: a refresh-token case's seed is new at each call). */
function clientWith(auth: object, overrides: Record<string, unknown> = {}): AuthClient {
  const options = { ...auth, cooldownMs: 60_000, ...overrides };
  return createAuthClient({ baseURL: server.apiUrl, httpAgent: agent, auth: options } as Parameters<typeof createAuthClient>[0]) as AuthClient;
}

/** Runs `count` requests at once; each one's echo (or its error). */
async function burst(api: AuthClient, count: number): Promise<PromiseSettledResult<{ username: string }>[]> {
  return Promise.allSettled(Array.from({ length: count }, (_, index) => api.get<{ username: string }>(`/item/${index}`).then((response) => response.data)));
}

function expectNoSecret(error: unknown): void {
  const texts = [inspect(error, { depth: null }), JSON.stringify(error)];
  const secrets = [server.credentials.clientSecret, server.credentials.password, ...CASE_SECRETS, ...seeded];
  for (const text of texts) {
    for (const secret of secrets) expect(text).not.toContain(secret);
    // Every access and refresh token the server issued is a counter: none may appear either.
    expect(text).not.toMatch(/\b(at|rt)-\d+\b/);
  }
}

describe.each(GRANT_CASES)('$name', (grant) => {
  test('50 concurrent first requests share one grant, and every one acts for the grant\'s subject', async () => {
    const api = clientFor(grant);
    const results = await burst(api, 50);
    expect(results.map((result) => (result.status === 'fulfilled' ? result.value.username : 'failed'))).toEqual(Array(50).fill(grant.subject));
    expect(server.stats.tokenRequests).toBe(1);
    expect(server.stats.grants[grant.first] ?? 0).toBe(1);
  });

  test('proactive renewal: inside the margin a request keeps the current token while one renewal runs', async () => {
    // A margin as long as the lifetime: every token is inside it at once, but not in its last half (requests then wait).
    const api = clientFor(grant, { refreshMargin: 3_599_000 });
    await api.get('/first');
    await api.get('/second'); // sent with the first token; starts the renewal
    await waitFor('the background renewal', () => !api.tokens.renewing, 10_000, 5);
    const { stats } = server;
    expect([stats.tokenRequests, (stats.grants[grant.renewal] ?? 0) - (grant.first === grant.renewal ? 1 : 0), stats.api401s]).toEqual([2, 1, 0]);
  });

  test('a 500-request storm after the server revoked every access token: one renewal, all succeed', async () => {
    const api = clientFor(grant);
    await api.get('/warm');
    const before = server.stats;
    server.revokeAll();
    const results = await burst(api, 500);
    expect(results.filter((result) => result.status === 'rejected')).toEqual([]);
    const after = server.stats;
    expect(after.tokenRequests - before.tokenRequests).toBe(1);
    expect((after.grants[grant.renewal] ?? 0) - (before.grants[grant.renewal] ?? 0)).toBe(1);
    expect(after.api401s).toBeGreaterThan(0);
    expect(after.api401s).toBeLessThanOrEqual(500);
  });

  test(`wrong credentials: every request of a burst fails with ${grant.wrongClass.name}, on one token request`, async () => {
    const api = clientFor(grant, {}, true);
    const first = await burst(api, 20);
    const reasons = first.map((result) => (result.status === 'rejected' ? (result.reason as unknown) : undefined));
    for (const reason of reasons) expect(reason).toBeInstanceOf(grant.wrongClass);
    expect(server.stats.tokenRequests).toBe(1);
    expectNoSecret(reasons[0]);
    // A second burst: within the cooldown (or, for a refused refresh token, with nothing left) nothing is sent.
    const second = await burst(api, 20);
    expect(second.every((result) => result.status === 'rejected' && result.reason instanceof grant.wrongClass)).toBe(true);
    expect(server.stats.tokenRequests).toBe(grant.coolsDown ? 1 : 2);
  });

  if (grant.coolsDown) {
    // A refused refresh token you brought is final (there is nothing else to try): no attempt after the cooldown either.
    const afterCooldown = grant.first === 'refresh_token' ? 1 : 2;
    test(`wrong credentials: one token request per cooldown, and ${afterCooldown === 2 ? 'exactly one more' : 'none'} once it has ended`, async () => {
      const api = clientFor(grant, { cooldownMs: 400 }, true);
      await burst(api, 20);
      await burst(api, 20);
      expect(server.stats.tokenRequests).toBe(1);
      await new Promise((resolve) => setTimeout(resolve, 600)); // past the cooldown (monotonic clock; a slow machine only waits longer)
      const after = await burst(api, 20);
      expect(after.every((result) => result.status === 'rejected' && result.reason instanceof grant.wrongClass)).toBe(true);
      expect(server.stats.tokenRequests).toBe(afterCooldown);
      for (const result of after) expectNoSecret(result.status === 'rejected' ? (result.reason as unknown) : undefined);
    });
  }

  test('revoke(): the server records the refresh token then the access token, and the next request starts afresh', async () => {
    const api = clientFor(grant, { revocationUrl: server.revocationUrl });
    await api.get('/before');
    const held = api.tokens.current;
    await api.tokens.revoke();
    const expected = [
      ...(grant.refreshes ? [{ token: held?.refreshToken, kind: 'refresh_token', hint: 'refresh_token' }] : []),
      { token: held?.accessToken, kind: 'access_token', hint: 'access_token' },
    ];
    expect(server.revoked).toEqual(expected);
    expect(api.tokens.current).toBeUndefined();
    const requests = server.stats.tokenRequests;
    if (grant.name.startsWith('refresh_token')) {
      // Nothing is left to renew with: the request fails before anything is sent.
      await expect(api.get('/after')).rejects.toBeInstanceOf(ConfigurationError);
      expect(server.stats.tokenRequests).toBe(requests);
    } else {
      await expect(api.get('/after')).resolves.toMatchObject({ data: { username: grant.subject } });
      expect(server.stats.tokenRequests).toBe(requests + 1);
      expect(server.stats.grants[grant.first] ?? 0).toBe(2);
    }
  });
});

describe('a shared store, for every grant', () => {
  test.each(GRANT_CASES.filter((grant) => grant.coolsDown))('$name: two clients make one grant between them, and share the cooldown of a wrong credential', async (grant) => {
    const store = new MemoryTokenStore();
    const good = grant.auth(grantServer());
    const [a, b] = [clientWith(good, { store }), clientWith(good, { store })];
    await a.get('/a');
    await b.get('/b');
    expect(server.stats.tokenRequests).toBe(1);
    const wrongStore = new MemoryTokenStore();
    const wrong = grant.auth(grantServer(), true);
    const [c, d] = [clientWith(wrong, { store: wrongStore }), clientWith(wrong, { store: wrongStore })];
    await expect(c.get('/c')).rejects.toBeInstanceOf(grant.wrongClass);
    // The other process reads the shared failure record: the same class, rebuilt, and no token request of its own.
    const error = await d.get('/d').then(() => undefined, (reason: unknown) => reason);
    expect(error).toBeInstanceOf(grant.wrongClass);
    expectNoSecret(error);
    expect(server.stats.tokenRequests).toBe(2);
  });
});

describe('revocation', () => {
  const [password, clientCredentials] = GRANT_CASES;

  test('the revocation endpoint is found through discovery (issuer), with Basic client authentication', async () => {
    const { clientId, clientSecret, username, password: secret } = server.credentials;
    const api = createAuthClient({ baseURL: server.apiUrl, auth: { issuer: server.url, clientId, clientSecret, username, password: secret, clientAuthentication: 'client_secret_basic' } });
    await api.get('/before');
    const held = api.tokens.current;
    await api.tokens.revoke();
    expect(server.revoked.map(({ token }) => token)).toEqual([held?.refreshToken, held?.accessToken]);
  });

  test('without a revocation endpoint, revoke() fails with a ConfigurationError naming auth.revocationUrl, and forgets the tokens', async () => {
    const api = clientFor(password!);
    await api.get('/before');
    await expect(api.tokens.revoke()).rejects.toMatchObject({ name: 'ConfigurationError', option: 'auth.revocationUrl' });
    expect(api.tokens.current).toBeUndefined();
    expect(server.stats.revocations).toBeUndefined(); // absent until the first revocation request
  });

  test('a refused client is an InvalidClientError of grant "revocation", with no secret in it', async () => {
    const api = clientFor(clientCredentials!, { revocationUrl: server.revocationUrl });
    await api.get('/before');
    server.failNextRevocation(1, 401);
    const error = await api.tokens.revoke().then(
      () => undefined,
      (reason: unknown) => reason,
    );
    expect(error).toBeInstanceOf(InvalidClientError);
    expect(error).toMatchObject({ grant: 'revocation', status: 401 });
    expectNoSecret(error);
    expect(api.tokens.current).toBeUndefined();
  });

  test('a 503 from the revocation endpoint is retried', async () => {
    const api = clientFor(clientCredentials!, { revocationUrl: server.revocationUrl, retry: { baseDelayMs: 1, maxDelayMs: 1 } });
    await api.get('/before');
    server.failNextRevocation(1, 503);
    await api.tokens.revoke();
    expect(server.stats.revocations).toBe(2);
    expect(server.revoked).toHaveLength(1);
  });

  test('revokeOnClear: clear() revokes what it forgets, in the background', async () => {
    const api = clientFor(password!, { revocationUrl: server.revocationUrl, revokeOnClear: true });
    await api.get('/before');
    const held = api.tokens.current;
    api.tokens.clear();
    await waitFor('both revocations', () => server.revoked.length === 2, 10_000, 5);
    expect(server.revoked.map(({ kind }) => kind)).toEqual(['refresh_token', 'access_token']);
    expect(server.revoked.map(({ token }) => token)).toEqual([held?.refreshToken, held?.accessToken]);
  });
});

/** An http adapter that records each token request's body (the API's requests go through the instance's own). */
function recordingAdapter(bodies: unknown[]): AxiosAdapter {
  return async (config: InternalAxiosRequestConfig) => {
    bodies.push(config.data);
    return axios.getAdapter('http')(config);
  };
}

describe('the exact form of each grant', () => {
  test.each([
    ['client_credentials', GRANT_CASES[1]!, 'grant_type=client_credentials&client_id=demo-client&client_secret=demo-secret&scope=read'],
    [
      'token exchange: the parameters, then the secrets, in the options\' order',
      GRANT_CASES[3]!,
      'grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Atoken-exchange&client_id=demo-client&client_secret=demo-secret' +
        '&subject_token_type=urn%3Aietf%3Aparams%3Aoauth%3Atoken-type%3Aaccess_token&subject_token=upstream-token-for-alice&scope=read',
    ],
    [
      'JWT bearer, the assertion from a function',
      GRANT_CASES[4]!,
      'grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Ajwt-bearer&client_id=demo-client&client_secret=demo-secret&assertion=signed-assertion-for-bob&scope=read',
    ],
  ])('%s', async (_, grant, body) => {
    const bodies: unknown[] = [];
    const api = clientFor(grant, { scope: 'read', adapter: recordingAdapter(bodies) });
    await api.get('/one');
    expect(bodies).toEqual([body]);
  });
});

describe('a refresh token obtained elsewhere', () => {
  test('the rotated refresh token reaches onToken, and a restart with the same starting token and store uses the rotated one', async () => {
    const seed = server.issueRefreshToken('demo-user');
    const store = new MemoryTokenStore();
    const events: TokenEvent[] = [];
    const { clientId, clientSecret } = server.credentials;
    const auth = { tokenUrl: server.tokenUrl, clientId, clientSecret, grant: 'refresh_token', refreshToken: seed, store, onToken: (event: TokenEvent) => events.push(event) } as const;
    const first = createAuthClient({ baseURL: server.apiUrl, auth });
    await first.get('/one');
    expect(events.map(({ source, tokens }) => [source, tokens.refreshToken === seed])).toEqual([['refresh_token', false]]);
    // "Restart": a new client with the same (now rotated away) starting token, the token revoked so it must renew.
    server.revokeAll();
    const second = createAuthClient({ baseURL: server.apiUrl, auth });
    await expect(second.get('/two')).resolves.toMatchObject({ data: { username: 'demo-user' } });
    expect(server.stats.grants.refresh_token).toBe(2);
    expect(server.stats.failedTokenRequests).toBe(0);
  });

  test('the exact form of the refresh: grant_type, client credentials, the given token, scope', async () => {
    const seed = server.issueRefreshToken('demo-user');
    const bodies: unknown[] = [];
    const { clientId, clientSecret } = server.credentials;
    const auth = { tokenUrl: server.tokenUrl, clientId, clientSecret, grant: 'refresh_token', refreshToken: seed, scope: 'read', adapter: recordingAdapter(bodies) } as const;
    const api = createAuthClient({ baseURL: server.apiUrl, auth });
    await api.get('/one');
    expect(bodies).toEqual([`grant_type=refresh_token&client_id=${clientId}&client_secret=${clientSecret}&refresh_token=${seed}&scope=read`]);
  });
});
