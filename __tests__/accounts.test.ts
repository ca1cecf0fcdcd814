/**
 * Many accounts on one client (`auth.account`), against the real loopback server with one user per account: each
 * request carries its own account's token (the server names the token's user in its echo, and the test compares),
 * a storm across 100 accounts makes one grant per account, a revocation one more for that account alone, and a
 * request that names no account fails before anything is sent. Bounds (maxAccounts, accountIdleMs) and the
 * `tokens.for()` managers too.
 *
 * nock is not imported here: its interceptor (@mswjs/interceptors) stalled this storm through a keep-alive agent with
 * a bounded pool (84 of 100 grants sent, then nothing), and every request here goes to real sockets anyway.
 */
import { Agent } from 'node:http';
import util from 'node:util';

import axios, { type AxiosAdapter, AxiosError } from 'axios';

import {
  type AccountProvider,
  type AuthClient,
  type AccountTokenManagers,
  ConfigurationError,
  createAuthClient,
  CredentialError,
  MemoryTokenStore,
  type MultiAccountAttachOptions,
  type OAuthBearerError,
  UserAuthenticationError,
} from '../src/index.js';
import { createMemoryAuthority } from '../src/testing/memory.js';
import { type AuthServer, startAuthServer } from '../src/testing/server.js';

const ACCOUNTS = 100;
const PER_ACCOUNT = 20;
const accountIds = Array.from({ length: ACCOUNTS }, (_, index) => `customer-${String(index)}`);
/** Each account's user and password on the server: the username differs from the account id, as it would in a vault. */
const userOf = (account: string): string => `user-of-${account}`;
const passwordOf = (account: string): string => `password-of-${account}`;
const users = Object.fromEntries(accountIds.map((account) => [userOf(account), passwordOf(account)]));
const vault: AccountProvider = (account) => Promise.resolve({ username: userOf(account), password: passwordOf(account) });

let server: AuthServer;
/** Keep-alive with a bounded pool, as a service would have: 2,000 concurrent requests share 64 sockets. */
const agent = new Agent({ keepAlive: true, maxSockets: 64 });

beforeAll(async () => {
  server = await startAuthServer({ users });
});
beforeEach(() => server.resetStats());
afterAll(async () => {
  agent.destroy();
  await server.close();
});

function client(auth: Partial<MultiAccountAttachOptions> = {}): AuthClient<AccountTokenManagers> {
  const { tokenUrl, clientId, clientSecret } = server.credentials;
  return createAuthClient({ baseURL: server.apiUrl, httpAgent: agent, auth: { tokenUrl, clientId, clientSecret, account: vault, ...auth } });
}

interface Echo {
  readonly username: string;
  readonly token: string;
}

/** Sends PER_ACCOUNT concurrent requests for each account; returns each response's echo with the account it was for. */
async function storm(api: AuthClient<AccountTokenManagers>, accounts: readonly string[]): Promise<{ account: string; echo: Echo }[]> {
  const sends = accounts.flatMap((account) =>
    Array.from({ length: PER_ACCOUNT }, async () => ({ account, echo: (await api.get<Echo>('/reports', { account })).data })),
  );
  return Promise.all(sends);
}

/** A small seeded generator, so a failure reproduces. */
function seeded(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state * 1_103_515_245 + 12_345) % 2 ** 31;
    return state / 2 ** 31;
  };
}

describe('one client, many accounts', () => {
  test('100 accounts x 20 concurrent requests with random revocations: one grant per account per revocation, every request with its own token', async () => {
    const api = client();
    const first = await storm(api, accountIds);
    expect(first).toHaveLength(ACCOUNTS * PER_ACCOUNT);
    for (const { account, echo } of first) expect(echo.username).toBe(userOf(account));
    expect(server.stats.grants).toEqual({ password: ACCOUNTS, refresh_token: 0 });

    // A seeded random third of the accounts have every token revoked; the next storm meets 401s for those only.
    const random = seeded(42);
    const revoked = accountIds.filter(() => random() < 0.3);
    for (const account of revoked) server.revokeAll(userOf(account));
    const results = await storm(api, accountIds);
    for (const { account, echo } of results) expect(echo.username).toBe(userOf(account));
    // Exactly one refresh for each revoked account (its 20 requests met a 401 together), none for the others.
    expect(revoked.length).toBeGreaterThan(20);
    expect(server.stats.grants).toEqual({ password: ACCOUNTS, refresh_token: revoked.length });
    expect(server.stats.api401s).toBe(revoked.length * PER_ACCOUNT);
    expect(server.stats.failedTokenRequests).toBe(0);
    expect(api.tokens.size).toBe(ACCOUNTS);
    // 4,000 real requests: about 6 s on a loaded 2-core machine (and the suite runs on every Node and axios of the
    // matrix), so the bound is generous.
  }, 90_000);

  test('a request that names no account fails with a ConfigurationError before anything is sent', async () => {
    const api = client();
    const error: unknown = await api.get('/reports').catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ConfigurationError);
    expect((error as ConfigurationError).option).toBe('account');
    expect((error as Error).message).toMatch(/give the request an `account`, or set auth.defaultAccount/);
    for (const bad of ['', 42]) {
      await expect(api.get('/reports', { account: bad as string })).rejects.toThrow(ConfigurationError);
    }
    expect(server.stats.tokenRequests).toBe(0);
    expect(server.stats.apiRequests).toBe(0);
    // A request that gets no token (skipAuth, another origin) needs no account either.
    await expect(api.get('/reports', { skipAuth: true })).rejects.toMatchObject({ response: { status: 401 } });
  });

  test('with defaultAccount, a request that names none acts for it', async () => {
    const api = client({ defaultAccount: 'customer-7' });
    expect((await api.get<Echo>('/reports')).data.username).toBe(userOf('customer-7'));
    expect((await api.get<Echo>('/reports', { account: 'customer-8' })).data.username).toBe(userOf('customer-8'));
    expect(server.stats.grants.password).toBe(2);
  });

  test('a single-account client refuses a request that names an account, rather than send its one user\'s token', async () => {
    const api = createAuthClient({ baseURL: server.apiUrl, auth: server.credentials });
    await expect(api.get('/reports', { account: 'customer-1' })).rejects.toThrow(ConfigurationError);
    expect(server.stats.tokenRequests).toBe(0);
  });

  test('a wrong password fails only its account, with one attempt per cooldown; the others go on', async () => {
    const provider: AccountProvider = (account) => ({ username: userOf(account), password: account === 'customer-3' ? 'wrong' : passwordOf(account) });
    const reported: [OAuthBearerError, unknown][] = [];
    const api = client({ account: provider, onError: (error, context) => reported.push([error, context]) });
    const results = await Promise.allSettled(
      ['customer-2', 'customer-3', 'customer-4'].flatMap((account) => Array.from({ length: 10 }, () => api.get<Echo>('/reports', { account }))),
    );
    const failed = results.filter((result) => result.status === 'rejected');
    expect(failed).toHaveLength(10);
    for (const result of failed) expect(result.reason).toBeInstanceOf(UserAuthenticationError);
    // Once more inside the cooldown: the same error, no new attempt.
    await expect(api.get('/reports', { account: 'customer-3' })).rejects.toThrow(UserAuthenticationError);
    expect(server.stats.grants.password).toBe(2);
    expect(server.stats.failedTokenRequests).toBe(1);
    expect(reported.map(([error, context]) => [error.constructor.name, context])).toEqual([['UserAuthenticationError', { account: 'customer-3' }]]);
    // The cooldown is that account's alone.
    expect((await api.get<Echo>('/reports', { account: 'customer-5' })).data.username).toBe(userOf('customer-5'));
  });

  test("a failed replay's err.config, re-sent for another account, carries that account's token, not the first one's", async () => {
    const authority = createMemoryAuthority({ users: { 'user-a': 'pw-a', 'user-b': 'pw-b' } });
    // An API path that refuses every token, as an API that revoked the user would: the replay fails with 401 too.
    const refusing: AxiosAdapter = (config) => {
      if (config.url !== '/refused') return authority.adapter(config);
      const response = { status: 401, statusText: 'Unauthorized', data: {}, headers: { 'www-authenticate': 'Bearer error="invalid_token"' }, config };
      return Promise.reject(new AxiosError('Request failed with status code 401', 'ERR_BAD_REQUEST', config, {}, response));
    };
    const { tokenUrl, clientId, clientSecret, adapter } = authority.credentials;
    const api = createAuthClient({
      baseURL: authority.apiUrl,
      adapter: refusing,
      auth: { tokenUrl, clientId, clientSecret, adapter, account: (id) => ({ username: `user-${id}`, password: `pw-${id}` }) },
    });
    const failed: unknown = await api.get('/refused', { account: 'a' }).catch((caught: unknown) => caught);
    expect(failed).toBeInstanceOf(AxiosError);
    const config = (failed as AxiosError).config;
    expect((config as { skipAuthRefresh?: boolean } | undefined)?.skipAuthRefresh).toBe(true); // it was the replay that failed
    const echo = await api.request<{ username: string }>({ ...config, url: '/reports', account: 'b' });
    expect(echo.data.username).toBe('user-b');
    // And re-sent for the same account, it is a's again.
    expect((await api.request<{ username: string }>({ ...config, url: '/reports' })).data.username).toBe('user-a');
  });

  test("a request never waits on another account's renewal: A's requests are answered while B's grant hangs", async () => {
    const authority = createMemoryAuthority({ users: { 'user-a': 'pw-a', 'user-b': 'pw-b' } });
    let release: () => void = () => undefined;
    const held = new Promise<void>((resolve) => (release = resolve));
    // B's grant is held at the token endpoint until the test lets it go; A's goes straight through.
    const holdingB: AxiosAdapter = async (config) => {
      if (new URLSearchParams(String(config.data)).get('username') === 'user-b') await held;
      return authority.adapter(config);
    };
    const { tokenUrl, clientId, clientSecret } = authority.credentials;
    const api = createAuthClient({
      baseURL: authority.apiUrl,
      adapter: authority.adapter,
      auth: { tokenUrl, clientId, clientSecret, adapter: holdingB, account: (id) => ({ username: `user-${id}`, password: `pw-${id}` }) },
    });
    let bDone = 0;
    const bRequests = Array.from({ length: 5 }, () => api.get<Echo>('/reports', { account: 'b' }).then((response) => ((bDone += 1), response)));
    const aResults = await Promise.all(Array.from({ length: 5 }, () => api.get<Echo>('/reports', { account: 'a' })));
    expect(aResults.map((response) => response.data.username)).toEqual(Array.from({ length: 5 }, () => 'user-a'));
    expect(bDone).toBe(0);
    expect(api.tokens.for('b').renewing).toBe(true);
    release();
    expect((await Promise.all(bRequests)).map((response) => response.data.username)).toEqual(Array.from({ length: 5 }, () => 'user-b'));
    expect(authority.stats.grants.password).toBe(2);
  });

  test('onToken names the account', async () => {
    const events: unknown[] = [];
    const api = client({ onToken: ({ source, account }) => events.push({ source, account }) });
    await api.get('/reports', { account: 'customer-1' });
    expect(events).toEqual([{ source: 'password', account: 'customer-1' }]);
  });
});

describe('bounds', () => {
  test('at most maxAccounts managers live; the least recently used is dropped and its next request makes a new grant', async () => {
    const api = client({ maxAccounts: 3 });
    for (const account of ['customer-1', 'customer-2', 'customer-3']) await api.get('/reports', { account });
    await api.get('/reports', { account: 'customer-1' }); // used again: customer-2 is now the least recently used
    await api.get('/reports', { account: 'customer-4' });
    expect(api.tokens.size).toBe(3);
    expect(['customer-1', 'customer-2', 'customer-3', 'customer-4'].map((account) => api.tokens.has(account))).toEqual([true, false, true, true]);
    expect(server.stats.grants.password).toBe(4);
    await api.get('/reports', { account: 'customer-2' });
    expect(server.stats.grants.password).toBe(5);
    expect(api.tokens.has('customer-3')).toBe(false);
  });

  test('an account idle for accountIdleMs is dropped', async () => {
    const api = client({ accountIdleMs: 50 });
    await api.get('/reports', { account: 'customer-1' });
    expect(api.tokens.has('customer-1')).toBe(true);
    await new Promise((resolve) => setTimeout(resolve, 120));
    expect(api.tokens.has('customer-1')).toBe(false);
    expect(api.tokens.size).toBe(0);
    await api.get('/reports', { account: 'customer-1' });
    expect(server.stats.grants.password).toBe(2);
  });

  test('10,000 accounts cycled through a bound of 1,000: never more than 1,000 live', () => {
    const api = client({ maxAccounts: 1_000 });
    let largest = 0;
    for (let index = 0; index < 10_000; index += 1) {
      // tokens.for() makes the manager without a grant: the bound is the registry's, whatever the traffic.
      api.tokens.for(`bulk-${String(index)}`).clearCooldown();
      largest = Math.max(largest, api.tokens.size);
    }
    expect(largest).toBe(1_000);
    expect(api.tokens.has('bulk-8999')).toBe(false);
    expect(api.tokens.has('bulk-9000')).toBe(true);
    expect(server.stats.tokenRequests).toBe(0);
  });

  test('an account forgotten while its renewal runs: its waiting requests still get its token, and nothing crosses', async () => {
    const slow = await startAuthServer({ users, tokenLatencyMs: 150 });
    try {
      const { tokenUrl, clientId, clientSecret } = slow.credentials;
      const api = createAuthClient({ baseURL: slow.apiUrl, auth: { tokenUrl, clientId, clientSecret, account: vault } });
      const a = Array.from({ length: 5 }, () => api.get<Echo>('/r', { account: 'customer-1' }));
      await new Promise((resolve) => setTimeout(resolve, 20));
      expect(api.tokens.for('customer-1').renewing).toBe(true);
      expect(api.tokens.forget('customer-1')).toBe(true);
      const b = Array.from({ length: 5 }, () => api.get<Echo>('/r', { account: 'customer-2' }));
      const [forA, forB] = await Promise.all([Promise.all(a), Promise.all(b)]);
      for (const response of forA) expect(response.data.username).toBe(userOf('customer-1'));
      for (const response of forB) expect(response.data.username).toBe(userOf('customer-2'));
      expect(slow.stats.grants.password).toBe(2);
      expect(api.tokens.has('customer-1')).toBe(false);
    } finally {
      await slow.close();
    }
  });
});

describe('tokens.for()', () => {
  test("acts on the account's live manager: refresh, getAccessToken, current, clear", async () => {
    const api = client({ maxAccounts: 2 });
    const manager = api.tokens.for('customer-1');
    expect(manager.current).toBeUndefined();
    expect(api.tokens.has('customer-1')).toBe(false); // reading makes no manager
    const token = await manager.getAccessToken();
    expect(manager.current?.accessToken).toBe(token);
    const refreshed = await manager.refresh();
    expect(refreshed.accessToken).not.toBe(token);
    expect(server.stats.grants).toEqual({ password: 1, refresh_token: 1 });
    expect((await api.get<Echo>('/r', { account: 'customer-1' })).data.token).toBe(refreshed.accessToken);
    // Dropped by the bound, the same manager object goes on working, on the account's new manager.
    await api.tokens.for('customer-2').getAccessToken();
    await api.tokens.for('customer-3').getAccessToken();
    expect(manager.current).toBeUndefined();
    await manager.getAccessToken();
    expect(server.stats.grants.password).toBe(4);
    manager.clear();
    expect(manager.current).toBeUndefined();
    expect(api.tokens.forget('customer-3')).toBe(true);
    expect(api.tokens.forget('customer-3')).toBe(false);
    api.tokens.forgetAll();
    expect(api.tokens.size).toBe(0);
  });

  test('print nothing of the accounts: no token, no password, no account list', async () => {
    const api = client();
    await api.get('/r', { account: 'customer-1' });
    const token = api.tokens.for('customer-1').current?.accessToken ?? 'missing';
    for (const printed of [util.inspect(api.tokens, { depth: null }), JSON.stringify(api.tokens), util.inspect(api, { depth: null })]) {
      expect(printed).not.toContain(token);
      expect(printed).not.toContain(passwordOf('customer-1'));
    }
    expect(util.inspect(api.tokens)).toBe('AccountTokenManagers {}');
    expect(Reflect.ownKeys(api.tokens)).toEqual([]);
    expect(() => api.tokens.for('')).toThrow(ConfigurationError);
  });
});

describe('options', () => {
  test.each([
    [{ maxAccounts: 0 }, 'auth.maxAccounts'],
    [{ maxAccounts: 1.5 }, 'auth.maxAccounts'],
    [{ accountIdleMs: -1 }, 'auth.accountIdleMs'],
    [{ defaultAccount: '' }, 'auth.defaultAccount'],
    [{ account: 'vault' }, 'auth.account'],
    [{ username: 'u', password: 'p' }, 'auth.account'],
  ])('%j is refused, naming %s', (extra, option) => {
    expect(() => client(extra as Partial<MultiAccountAttachOptions>)).toThrow(expect.objectContaining({ option }) as Error);
  });

  test('maxAccounts and the others need account', () => {
    expect(() => createAuthClient({ baseURL: server.apiUrl, auth: { ...server.credentials, maxAccounts: 5 } as never })).toThrow(
      expect.objectContaining({ option: 'auth.maxAccounts' }) as Error,
    );
  });

  test('attachAuth takes account too, on an instance of your own', async () => {
    const instance = axios.create({ baseURL: server.apiUrl });
    const { tokenUrl, clientId, clientSecret } = server.credentials;
    const { attachAuth } = await import('../src/index.js');
    const handle = attachAuth(instance, { tokenUrl, clientId, clientSecret, account: vault });
    expect((await instance.get<Echo>('/r', { account: 'customer-9' })).data.username).toBe(userOf('customer-9'));
    expect(handle.tokens.has('customer-9')).toBe(true);
    handle.detach();
  });
});

/**
 * What a hostile review of this feature found, each pinned: identities that change under an account, configs re-sent
 * across instances or after an account was dropped, printing after eviction, more busy accounts than the bound.
 */
describe('under attack', () => {
  /** A memory authority with users a, b and c, and an API path that refuses every token (so a replay fails too). */
  function world(): { authority: ReturnType<typeof createMemoryAuthority>; refusing: AxiosAdapter } {
    const authority = createMemoryAuthority({ users: { 'user-a': 'pw-a', 'user-b': 'pw-b', 'user-c': 'pw-c', alice: 'pw-alice', bob: 'pw-bob' } });
    const refusing: AxiosAdapter = (config) => {
      if (config.url !== '/refused') return authority.adapter(config);
      const response = { status: 401, statusText: 'Unauthorized', data: {}, headers: { 'www-authenticate': 'Bearer error="invalid_token"' }, config };
      return Promise.reject(new AxiosError('Request failed with status code 401', 'ERR_BAD_REQUEST', config, {}, response));
    };
    return { authority, refusing };
  }
  type Auth = Partial<MultiAccountAttachOptions>;
  function on(w: ReturnType<typeof world>, auth: Auth = {}): AuthClient<AccountTokenManagers> {
    const { tokenUrl, clientId, clientSecret, adapter } = w.authority.credentials;
    return createAuthClient({
      baseURL: w.authority.apiUrl,
      adapter: w.refusing,
      auth: { tokenUrl, clientId, clientSecret, adapter, account: (id) => ({ username: `user-${id}`, password: `pw-${id}` }), ...auth },
    });
  }

  test("an account whose vault entry now names another user renews as that user, not with the old one's refresh token", async () => {
    const w = world();
    let user = 'alice';
    const store = new MemoryTokenStore();
    const api = on(w, { account: () => ({ username: user, password: `pw-${user}` }), store });
    expect((await api.get<Echo>('/reports', { account: 'a' })).data.username).toBe('alice');
    user = 'bob';
    await api.tokens.for('a').refresh();
    expect((await api.get<Echo>('/reports', { account: 'a' })).data.username).toBe('bob');
    expect(w.authority.stats.grants).toEqual({ password: 2, refresh_token: 0 });
    // Another process that logs in as bob, through the same store, gets bob's token, not alice's.
    const other = on(w, { account: () => ({ username: 'bob', password: 'pw-bob' }), store });
    expect((await other.get<Echo>('/reports', { account: 'x' })).data.username).toBe('bob');
  });

  test('a single-account client whose password function turns wrong is refused at its next renewal, not refreshed', async () => {
    const w = world();
    let password = 'pw-alice';
    const { tokenUrl, clientId, clientSecret, adapter } = w.authority.credentials;
    const api = createAuthClient({ baseURL: w.authority.apiUrl, adapter: w.authority.adapter, auth: { tokenUrl, clientId, clientSecret, adapter, username: 'alice', password: () => password } });
    await api.get('/reports');
    password = 'not-it';
    await expect(api.tokens.refresh()).rejects.toThrow(UserAuthenticationError);
    expect(w.authority.stats.grants).toEqual({ password: 1, refresh_token: 0 });
  });

  test("a failed replay's err.config given to another client is sent with that client's token", async () => {
    const [one, two] = [world(), world()];
    const first = on(one);
    const second = on(two);
    const failed = (await first.get('/refused', { account: 'a' }).catch((caught: unknown) => caught)) as AxiosError;
    await second.get('/reports', { account: 'a' }); // second's own token for a
    const echo = await second.request<Echo>({ ...failed.config, baseURL: two.authority.apiUrl, url: '/reports' });
    expect(echo.data.token).toBe((await second.tokens.for('a').getAccessToken()));
    expect(two.authority.stats.api401s).toBe(0);
  });

  test("after forget(), a re-sent failed replay gets the account's new cache", async () => {
    const w = world();
    let user = 'user-a';
    const api = on(w, { account: () => ({ username: user, password: user === 'user-a' ? 'pw-a' : 'pw-b' }) });
    const failed = (await api.get('/refused', { account: 'a' }).catch((caught: unknown) => caught)) as AxiosError;
    user = 'user-b';
    expect(api.tokens.forget('a')).toBe(true);
    expect((await api.request<Echo>({ ...failed.config, url: '/reports' })).data.username).toBe('user-b');
  });

  test("a response printed after its account was dropped still hides the account's token", async () => {
    const w = world();
    const api = on(w, { maxAccounts: 1 });
    const response = await api.get<Echo>('/reports', { account: 'a' });
    const token = response.data.token;
    await api.get('/reports', { account: 'b' }); // a is dropped
    expect(api.tokens.has('a')).toBe(false);
    for (const text of [util.inspect(response, { depth: null }), JSON.stringify(response)]) expect(text).not.toContain(token);
  });

  test('more accounts busy at once than maxAccounts: still one grant per account (renewing ones are not dropped)', async () => {
    const w = world();
    const api = on(w, { maxAccounts: 2 });
    const results = await Promise.all(Array.from({ length: 30 }, (_, index) => {
      const account = ['a', 'b', 'c'][index % 3] ?? 'a';
      return api.get<Echo>('/reports', { account }).then((response) => [account, response.data.username]);
    }));
    for (const [account, username] of results) expect(username).toBe(`user-${account ?? ''}`);
    expect(w.authority.stats.grants.password).toBe(3);
    // Once the renewals are over, the next new account brings the count back within the bound.
    expect(api.tokens.size).toBe(3);
    api.tokens.for('d').clearCooldown(); // makes d's manager, with no grant
    expect(api.tokens.size).toBe(2);
  });

  test('a provider whose answer has a throwing getter fails with a CredentialError; a null account is refused, not the default', async () => {
    const w = world();
    const api = on(w, {
      defaultAccount: 'a',
      account: () => ({ username: 'user-a', get password(): string { throw new Error('vault sealed: pw-a'); } }),
    });
    const error: unknown = await api.get('/reports').catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(CredentialError);
    expect(error).toMatchObject({ failure: 'threw' });
    expect(util.inspect(error, { depth: null })).not.toContain('pw-a');
    await expect(api.get('/reports', { account: null as unknown as string })).rejects.toThrow(ConfigurationError);
    expect(w.authority.stats.tokenRequests).toBe(0);
  });
});
