/**
 * Hostile review of issue 16 (every grant, revocation): each test is a finding (fixed, or left alone and documented)
 * or a check that held up.
 */
import { createHmac } from 'node:crypto';
import { inspect } from 'node:util';

import axios from 'axios';
import { Redis } from 'ioredis';

import { ExitCode } from '../src/cli/exit-codes.js';
import { type CliResult, runCli } from './helpers/cli-run.js';
import {
  type AuthClient,
  createAuthClient,
  GrantRejectedError,
  MemoryTokenStore,
  type OAuthBearerError,
  RefreshTokenRejectedError,
} from '../src/index.js';
import { RedisTokenStore } from '../src/redis.js';
import { createMemoryAuthority } from '../src/testing/memory.js';
import { type RedisServer, startRedisServer } from './helpers/redis-server.js';
import { type AuthServer, startAuthServer } from '../src/testing/server.js';

const SUBJECT_TOKENS = { 'upstream-token-for-alice': 'alice', 'signed-assertion-for-bob': 'bob' };
const TOKEN_EXCHANGE = 'urn:ietf:params:oauth:grant-type:token-exchange';
const JWT_BEARER = 'urn:ietf:params:oauth:grant-type:jwt-bearer';

let server: AuthServer;
beforeEach(async () => {
  server = await startAuthServer({ subjectTokens: SUBJECT_TOKENS });
});
afterEach(() => server.close());

function client(auth: Record<string, unknown>): AuthClient {
  return createAuthClient({ baseURL: server.apiUrl, auth: auth as never }) as unknown as AuthClient;
}

function base(): { tokenUrl: string; clientId: string; clientSecret: string } {
  return { tokenUrl: server.tokenUrl, clientId: server.credentials.clientId, clientSecret: server.credentials.clientSecret };
}

async function failure(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => {
      throw new Error('expected a rejection');
    },
    (error: unknown) => error,
  );
}

function cli(args: string[], env: Record<string, string>): Promise<CliResult> {
  return runCli(args, env);
}

describe('refresh token obtained elsewhere: a refusal is final', () => {
  test('control (holds): without a store, after a refusal and clearCooldown(), no token request is sent again', async () => {
    const api = client({ ...base(), grant: 'refresh_token', refreshToken: server.issueRefreshToken('demo-user') });
    await api.get('/a');
    server.revokeRefreshTokens();
    expect(await failure(api.tokens.refresh())).toBeInstanceOf(RefreshTokenRejectedError);
    const before = server.stats.tokenRequests;
    api.tokens.clearCooldown();
    expect(await failure(api.tokens.refresh())).toBeInstanceOf(RefreshTokenRejectedError);
    expect(server.stats.tokenRequests).toBe(before);
  });

  test('fixed: with a shared store, the refused refresh token is not sent again once the cooldown is over (clearCooldown)', async () => {
    const store = new MemoryTokenStore();
    const api = client({ ...base(), grant: 'refresh_token', refreshToken: server.issueRefreshToken('demo-user'), store });
    await api.get('/a');
    server.revokeRefreshTokens();
    expect(await failure(api.tokens.refresh())).toBeInstanceOf(RefreshTokenRejectedError);
    const before = server.stats.tokenRequests;
    api.tokens.clearCooldown();
    const again = await failure(api.tokens.refresh());
    expect(again).toBeInstanceOf(RefreshTokenRejectedError);
    // The README: "every later one [fails], without a token request". With the store, the refused token is resent.
    expect(server.stats.tokenRequests).toBe(before);
  });

  test('fixed: with a shared store and cooldownMs 0, no later request resends the refused refresh token', async () => {
    const store = new MemoryTokenStore();
    const api = client({ ...base(), grant: 'refresh_token', refreshToken: server.issueRefreshToken('demo-user'), store, cooldownMs: 0 });
    await api.get('/a');
    server.revokeRefreshTokens();
    expect(await failure(api.tokens.refresh())).toBeInstanceOf(RefreshTokenRejectedError);
    const before = server.stats.tokenRequests;
    // The shared failure record lives 2 s with cooldownMs 0 (TRANSIENT_FAILURE_TTL_MS); wait past it.
    await new Promise((resolve) => setTimeout(resolve, 2_200));
    expect(await failure(api.tokens.refresh())).toBeInstanceOf(RefreshTokenRejectedError);
    expect(server.stats.tokenRequests).toBe(before);
  });
});

describe('revoke() and renewals in flight', () => {
  test('fixed: revoke() while a renewal is in flight revokes the renewal\'s new tokens too', async () => {
    const api = client({ ...base(), username: server.credentials.username, password: server.credentials.password, revocationUrl: server.revocationUrl });
    await api.get('/a');
    server.setLatency({ tokenMs: 300 });
    const renewal = api.tokens.refresh();
    await new Promise((resolve) => setTimeout(resolve, 50));
    server.setLatency({ tokenMs: 0 });
    await api.tokens.revoke();
    const fresh = await renewal;
    // The cache was emptied (held up)...
    expect(api.tokens.current).toBeUndefined();
    // ...but the access and refresh token the in-flight renewal brought are live at the server and were never revoked:
    // a "logout" that leaves a valid refresh token behind.
    const revoked = server.revoked.map(({ token }) => token);
    expect(revoked).toEqual(expect.arrayContaining([fresh.accessToken, fresh.refreshToken]));
  });

  test('holds: revoke() during a renewal in flight does not bring the tokens back into the cache or the store', async () => {
    const store = new MemoryTokenStore();
    const api = client({ ...base(), grant: 'client_credentials', revocationUrl: server.revocationUrl, store });
    await api.get('/a');
    server.setLatency({ tokenMs: 300 });
    const renewal = api.tokens.refresh();
    await new Promise((resolve) => setTimeout(resolve, 50));
    await api.tokens.revoke();
    await renewal;
    server.setLatency({ tokenMs: 0 });
    expect(api.tokens.current).toBeUndefined();
    // A second client on the store finds nothing to adopt: it makes its own grant.
    const other = client({ ...base(), grant: 'client_credentials', store });
    const before = server.stats.tokenRequests;
    await other.get('/b');
    expect(server.stats.tokenRequests).toBe(before + 1);
  });

  test('holds: a failed revocation starts no cooldown, and the next request makes a fresh grant', async () => {
    const api = client({ ...base(), grant: 'client_credentials', revocationUrl: server.revocationUrl, retry: { attempts: 1 } });
    await api.get('/a');
    server.failNextRevocation(1, 401, { error: 'invalid_client' });
    const error = await failure(api.tokens.revoke());
    expect(error).toMatchObject({ grant: 'revocation' });
    await api.get('/b');
    expect(server.stats.grants.client_credentials).toBe(2);
  });
});

describe('secrets in the CLI', () => {
  test('fixed: OAUTH_GRANT_SECRETS holding the bare assertion (no name=) is a usage error that does not print it', async () => {
    const assertion = 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJib2IifQ.c2lnbmF0dXJlLXNlY3JldA';
    const result = await cli(['token', '--grant', JWT_BEARER], {
      OAUTH_TOKEN_URL: server.tokenUrl,
      OAUTH_CLIENT_ID: server.credentials.clientId,
      OAUTH_CLIENT_SECRET: server.credentials.clientSecret,
      OAUTH_GRANT_SECRETS: assertion,
    });
    expect(result.code).not.toBe(ExitCode.OK);
    expect(result.stderr).not.toContain(assertion);
  });
});

describe('revocation: what is left live at the server', () => {
  test('fixed: a failed refresh-token revocation still revokes the access token', async () => {
    const api = client({ ...base(), username: server.credentials.username, password: server.credentials.password, revocationUrl: server.revocationUrl });
    await api.get('/a');
    const held = api.tokens.current;
    server.failNextRevocation(1, 400, { error: 'invalid_request' });
    await expect(api.tokens.revoke()).rejects.toMatchObject({ grant: 'revocation' });
    expect(api.tokens.current).toBeUndefined();
    // The access token was never even sent for revocation: it still opens the API, and no one holds it any more.
    const still = await axios.get(`${server.apiUrl}/x`, { headers: { Authorization: `Bearer ${held?.accessToken ?? ''}` }, validateStatus: () => true });
    expect(still.status).toBe(401);
    expect(server.revoked.map(({ token }) => token)).toContain(held?.accessToken);
  });

  // Documented (README, revoking tokens): a dropped account's tokens were forgotten when it was dropped, and are not
  // revoked later; revoke an account before forgetting it. Pinned so that a change to it is deliberate.
  test('left alone: tokens.for(account).revoke() after the account was dropped (maxAccounts) resolves and revokes nothing', async () => {
    const users: Record<string, string> = { alice: 'pw-a', bob: 'pw-b' };
    await server.close();
    server = await startAuthServer({ users });
    const api = createAuthClient({
      baseURL: server.apiUrl,
      auth: { ...base(), account: (name: string) => ({ username: name, password: users[name] ?? '' }), maxAccounts: 1, revocationUrl: server.revocationUrl },
    });
    await api.get('/a', { account: 'alice' } as never);
    await api.get('/b', { account: 'bob' } as never);
    expect(api.tokens.has('alice')).toBe(false);
    // The app logs alice out: revoke() succeeds, and alice's tokens, dropped with her manager, are not revoked.
    await api.tokens.for('alice').revoke();
    expect(server.revoked).toEqual([]);
  });
});

describe('secrets never printed (sweep over the new grants)', () => {
  const SUBJECT = 'upstream-token-for-alice';
  const CLIENT_SECRET = () => server.credentials.clientSecret;

  function expectClean(value: unknown, secrets: readonly string[]): void {
    const texts = [inspect(value, { depth: null, showHidden: true }), (JSON.stringify(value) as string | undefined) ?? 'undefined'];
    for (const text of texts) for (const secret of secrets) expect(text).not.toContain(secret);
  }

  test('holds: printed clients, token managers and onError/onToken events of an extension grant and a brought refresh token', async () => {
    const seed = server.issueRefreshToken('demo-user');
    const events: unknown[] = [];
    const hooks = { onError: (error: OAuthBearerError) => events.push(error), onToken: (event: unknown) => events.push(event) };
    const exchange = client({
      ...base(),
      grant: { type: TOKEN_EXCHANGE, parameters: { subject_token_type: 'urn:ietf:params:oauth:token-type:access_token' }, secrets: { subject_token: SUBJECT } },
      revocationUrl: server.revocationUrl,
      ...hooks,
    });
    const brought = client({ ...base(), grant: 'refresh_token', refreshToken: seed, revocationUrl: server.revocationUrl, ...hooks });
    await exchange.get('/a');
    await brought.get('/a');
    const secrets = [SUBJECT, seed, CLIENT_SECRET()];
    for (const value of [exchange, brought, exchange.tokens, brought.tokens, exchange.defaults, brought.interceptors]) expectClean(value, secrets);
    // Errors of every kind: an echoing 400, a reset, a hang past the timeout, a failed revocation.
    server.failNext(2, 400, { error: 'invalid_request', error_description: `bad subject_token=${SUBJECT} client_secret=${CLIENT_SECRET()}` });
    const echoed = await failure(exchange.tokens.refresh());
    server.failNext(3, { type: 'reset' });
    const reset = await failure(client({ ...base(), grant: 'refresh_token', refreshToken: server.issueRefreshToken('demo-user'), retry: { attempts: 1 } }).tokens.refresh());
    server.failNextRevocation(3, { type: 'reset' });
    const revocation = await failure(brought.tokens.revoke());
    for (const error of [echoed, reset, revocation, ...events]) expectClean(error, secrets);
    expect(echoed).toBeInstanceOf(Error);
    expect(revocation).toMatchObject({ grant: 'revocation' });
  });

  test('holds: a CredentialError from a secret function names the parameter, never the value', async () => {
    const api = client({ ...base(), grant: { type: JWT_BEARER, secrets: { assertion: () => { throw new Error(`vault said: ${SUBJECT}`); } } } });
    const error = await failure(api.get('/a'));
    expectClean(error, [SUBJECT]);
    expect(error).toMatchObject({ name: 'CredentialError', parameter: 'assertion' });
  });

  test('holds: a wrong JWT bearer assertion is a GrantRejectedError and starts the cooldown', async () => {
    const api = client({ ...base(), grant: { type: JWT_BEARER, secrets: { assertion: 'wrong-assertion' } } });
    expect(await failure(api.get('/a'))).toBeInstanceOf(GrantRejectedError);
    expect(await failure(api.get('/b'))).toBeInstanceOf(GrantRejectedError);
    expect(server.stats.tokenRequests).toBe(1);
  });
});

describe('discovery of revocation_endpoint', () => {
  /** The in-memory authority at https://authority.test, its discovery document's revocation_endpoint replaced. */
  function discovering(revocationEndpoint: string) {
    const authority = createMemoryAuthority();
    const seen: string[] = [];
    const adapter = async (config: Parameters<typeof authority.adapter>[0]) => {
      seen.push(String(config.url));
      const response = await authority.adapter(config);
      if (!String(config.url).includes('/.well-known/')) return response;
      const document = JSON.parse(String(response.data)) as Record<string, unknown>;
      return { ...response, data: JSON.stringify({ ...document, revocation_endpoint: revocationEndpoint }) };
    };
    const credentials: Record<string, unknown> = { ...authority.credentials, tokenUrl: undefined };
    const api = createAuthClient({
      baseURL: authority.apiUrl,
      adapter: authority.adapter,
      auth: { ...credentials, issuer: authority.url, adapter } as never,
    }) as unknown as AuthClient;
    return { authority, api, seen };
  }

  test.each([
    ['plain http off loopback under an https issuer', 'http://authority.test/revoke'],
    ['credentials in the URL', 'https://user:pass@authority.test/revoke'],
    ['not a URL', 'not a url'],
  ])('holds: %s is not used: revoke() fails with a ConfigurationError and sends nothing there', async (_name, endpoint) => {
    const { api, seen } = discovering(endpoint);
    await api.get('/a');
    const error = await failure(api.tokens.revoke());
    expect(error).toMatchObject({ name: 'ConfigurationError', option: 'auth.revocationUrl' });
    expect(seen.some((url) => url.includes('/revoke'))).toBe(false);
  });
});

test('control (holds): a usable discovered revocation_endpoint is used', async () => {
  const authority = createMemoryAuthority();
  const seen: string[] = [];
  const adapter = async (config: Parameters<typeof authority.adapter>[0]) => {
    seen.push(String(config.url));
    return authority.adapter(config);
  };
  const credentials: Record<string, unknown> = { ...authority.credentials, tokenUrl: undefined };
  const api = createAuthClient({ baseURL: authority.apiUrl, adapter: authority.adapter, auth: { ...credentials, issuer: authority.url, adapter } as never }) as unknown as AuthClient;
  await api.get('/a');
  await api.tokens.revoke();
  expect(seen.filter((url) => url.endsWith('/revoke'))).toHaveLength(2);
});

describe('with Redis: a refresh token obtained elsewhere, shared by two processes', () => {
  let redis: RedisServer;
  const connections: Redis[] = [];
  beforeAll(async () => {
    redis = await startRedisServer();
  });
  afterAll(async () => {
    for (const connection of connections.splice(0)) connection.disconnect();
    await redis.close();
  });
  function redisStore(prefix: string): RedisTokenStore {
    const connection = new Redis({ host: redis.host, port: redis.port, retryStrategy: () => 20, maxRetriesPerRequest: 1, keyPrefix: '' });
    connections.push(connection);
    return new RedisTokenStore({ client: connection, prefix });
  }

  test('holds: the other process gets the rebuilt RefreshTokenRejectedError without a request, with no secret in it', async () => {
    const seed = server.issueRefreshToken('demo-user');
    const auth = { ...base(), grant: 'refresh_token', refreshToken: seed };
    const a = client({ ...auth, store: redisStore('review-a') });
    const b = client({ ...auth, store: redisStore('review-a') });
    await a.get('/a');
    server.revokeRefreshTokens();
    expect(await failure(a.tokens.refresh())).toBeInstanceOf(RefreshTokenRejectedError);
    const before = server.stats.tokenRequests;
    const rebuilt = await failure(b.tokens.refresh());
    expect(rebuilt).toBeInstanceOf(RefreshTokenRejectedError);
    expect(server.stats.tokenRequests).toBe(before);
    for (const text of [inspect(rebuilt, { depth: null }), JSON.stringify(rebuilt)]) {
      expect(text).not.toContain(seed);
      expect(text).not.toContain(server.credentials.clientSecret);
      expect(text).not.toMatch(/\b(at|rt)-\d+\b/);
    }
  });

  // After clearCooldown() ended the shared record, the other process cannot know of the refusal: it sends its own
  // (refused) copy once, and then it is final there too.
  test('fixed: once the shared failure is cleared, the other process sends the refused refresh token once, then never again', async () => {
    const seed = server.issueRefreshToken('demo-user');
    const auth = { ...base(), grant: 'refresh_token', refreshToken: seed };
    const a = client({ ...auth, store: redisStore('review-b') });
    const b = client({ ...auth, store: redisStore('review-b') });
    await a.get('/a');
    await b.get('/b'); // b adopts a's token set (and its refresh token) from the store
    server.revokeRefreshTokens();
    expect(await failure(a.tokens.refresh())).toBeInstanceOf(RefreshTokenRejectedError);
    a.tokens.clearCooldown();
    await new Promise((resolve) => setTimeout(resolve, 100)); // clearCooldown's store operation runs in the background
    const before = server.stats.tokenRequests;
    expect(await failure(b.tokens.refresh())).toBeInstanceOf(RefreshTokenRejectedError);
    expect(server.stats.tokenRequests).toBe(before + 1);
    b.tokens.clearCooldown();
    expect(await failure(b.tokens.refresh())).toBeInstanceOf(RefreshTokenRejectedError);
    expect(server.stats.tokenRequests).toBe(before + 1);
  });
});

describe('CLI --grant refresh_token', () => {
  const env = (refreshToken: string) => ({
    OAUTH_TOKEN_URL: server.tokenUrl,
    OAUTH_CLIENT_ID: server.credentials.clientId,
    OAUTH_CLIENT_SECRET: server.credentials.clientSecret,
    OAUTH_REFRESH_TOKEN: refreshToken,
  });

  test('fixed: without --json the CLI warns that the given refresh token is spent, and says how to keep the new one', async () => {
    const seed = server.issueRefreshToken('demo-user');
    const first = await cli(['token', '--grant', 'refresh_token'], env(seed));
    expect(first.code).toBe(ExitCode.OK);
    expect(first.stderr).toBe('axios-oauth-bearer: the refresh token was rotated and the one given is spent: use --json to get the new one, or --cache to keep it\n');
    const second = await cli(['token', '--grant', 'refresh_token'], env(seed));
    expect(second.code).toBe(ExitCode.USER_AUTHENTICATION);
  });

  test('holds: a refused refresh token exits 5 and stderr names OAUTH_REFRESH_TOKEN, never the token', async () => {
    const result = await cli(['token', '--grant', 'refresh_token'], env('rt-never-issued-secret-value'));
    expect(result.code).toBe(ExitCode.USER_AUTHENTICATION);
    expect(result.stderr).toContain('OAUTH_REFRESH_TOKEN');
    expect(result.stderr).not.toContain('rt-never-issued-secret-value');
  });
});

describe('store keys', () => {
  /** The key as 30a3ab6 (before the change) computed it for the password grant, under a MemoryTokenStore's secret. */
  function oldPasswordKey(store: MemoryTokenStore, fields: { tokenUrl: string; clientId: string; clientSecret: string; username: string; password: string }): string {
    const canonical = JSON.stringify({
      clientId: fields.clientId,
      clientSecret: fields.clientSecret,
      password: fields.password,
      scope: null,
      tokenUrl: new URL(fields.tokenUrl).href,
      username: fields.username,
    });
    const digest = createHmac('sha256', store.bindingSecret()).update(`axios-oauth-bearer/store-key/v2\n${canonical}`, 'utf8').digest('hex');
    return `axios-oauth-bearer:tokens:{${digest}}`;
  }

  test('holds: a password-grant client writes under the key it used before the change', async () => {
    const store = new MemoryTokenStore();
    const api = client({ ...server.credentials, store });
    await api.get('/a');
    expect(store.get(oldPasswordKey(store, server.credentials))).toBeDefined();
  });

  test('holds: client credentials, a brought refresh token and two extension-grant subjects never meet under one key', async () => {
    const store = new MemoryTokenStore();
    const exchange = (subject: string) =>
      client({ ...base(), store, grant: { type: TOKEN_EXCHANGE, parameters: { subject_token_type: 'urn:ietf:params:oauth:token-type:access_token' }, secrets: { subject_token: subject } } });
    const apis = [
      client({ ...base(), store, grant: 'client_credentials' }),
      client({ ...base(), store, grant: 'refresh_token', refreshToken: server.issueRefreshToken('demo-user') }),
      exchange('upstream-token-for-alice'),
      exchange('signed-assertion-for-bob'),
      client({ ...server.credentials, store }),
    ];
    const subjects: string[] = [];
    for (const api of apis) subjects.push(((await api.get<{ username: string }>('/me')).data).username);
    expect(subjects).toEqual(['demo-client', 'demo-user', 'alice', 'bob', 'demo-user']);
    expect(server.stats.tokenRequests).toBe(5);
  });
});
