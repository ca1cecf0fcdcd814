/**
 * Credentials from anywhere (`password` and `clientSecret` as functions, `account` as a provider), against the real
 * loopback server: each function is called once per renewal, however many requests wait on it, so a password
 * rotated in the vault is used by the next renewal without a restart; one that throws, hangs or answers garbage
 * fails the waiting requests with a CredentialError that holds nothing of the secret or of what was thrown, and
 * costs no token request.
 */
import util from 'node:util';

import {
  type AccountProvider,
  type Credential,
  CredentialError,
  createAuthClient,
  type OAuthBearerError,
} from '../src/index.js';
import { type AuthServer, startAuthServer } from '../src/testing/server.js';

const SECRET = 'hunter2-from-the-vault';

let server: AuthServer;
beforeAll(async () => {
  server = await startAuthServer();
});
beforeEach(() => server.resetStats());
// The rotation test changes the server's password; every other test starts from the fixture's.
afterEach(() => server.setPassword(server.credentials.username, server.credentials.password));
afterAll(() => server.close());

/** A function that counts its calls and answers what `answer` says now. */
function counted<T>(answer: () => T): { readonly fn: () => T; readonly calls: () => number } {
  let calls = 0;
  return {
    fn: () => {
      calls += 1;
      return answer();
    },
    calls: () => calls,
  };
}

function expectNoSecret(value: unknown, secrets: readonly string[]): void {
  const printed = [util.inspect(value, { depth: null }), JSON.stringify(value), String(value)];
  for (const text of printed) for (const secret of secrets) expect(text).not.toContain(secret);
}

describe('password and clientSecret as functions', () => {
  test('called once per renewal for 20 concurrent requests; a rotated password is used by the next renewal, without a restart', async () => {
    let vault = server.credentials.password;
    const password = counted(() => Promise.resolve(vault));
    const clientSecret = counted(() => server.credentials.clientSecret); // a sync function works too
    const api = createAuthClient({ baseURL: server.apiUrl, auth: { ...server.credentials, password: password.fn, clientSecret: clientSecret.fn } });

    await Promise.all(Array.from({ length: 20 }, () => api.get('/reports')));
    expect(server.stats.grants).toEqual({ password: 1, refresh_token: 0 });
    expect([password.calls(), clientSecret.calls()]).toEqual([1, 1]);

    // The vault and the server rotate the password; every token the client holds stops working.
    vault = 'rotated-password';
    server.setPassword(server.credentials.username, vault);
    server.revokeAll();
    server.revokeRefreshTokens();
    await Promise.all(Array.from({ length: 20 }, () => api.get('/reports')));
    // One renewal, a password grant with the password fetched for it: the credentials changed, so the refresh token
    // (obtained with the old ones) is not used, and nothing is refused.
    expect(server.stats.grants).toEqual({ password: 2, refresh_token: 0 });
    expect(server.stats.failedTokenRequests).toBe(0);
    expect([password.calls(), clientSecret.calls()]).toEqual([2, 2]);
  });

  test('a rotated client secret is used by the next renewal', async () => {
    const secrets = [server.credentials.clientSecret, 'not-the-secret'];
    const clientSecret = counted(() => secrets.shift() ?? 'none-left');
    const errors: OAuthBearerError[] = [];
    const api = createAuthClient({
      baseURL: server.apiUrl,
      auth: { ...server.credentials, clientSecret: clientSecret.fn, onError: (error) => errors.push(error) },
    });
    await api.get('/reports');
    server.revokeAll();
    // The second renewal sends the secret the function gives now, and the server refuses it.
    await expect(api.get('/reports')).rejects.toMatchObject({ code: 'ERR_OAUTH_INVALID_CLIENT' });
    // Called once for the renewal, and sent once: with credentials other than the token's, the renewal is a password
    // grant (a refresh with the old identity's refresh token could succeed where the new credentials would not).
    expect(clientSecret.calls()).toBe(2);
    expect(server.stats.failedTokenRequests).toBe(1);
    expect(errors.map((error) => [error.code, (error as { grant?: string }).grant])).toEqual([['ERR_OAUTH_INVALID_CLIENT', 'password']]);
  });
});

/** What a broken vault does, and the failure it must become. */
const broken: readonly { readonly name: string; readonly fn: () => unknown; readonly failure: CredentialError['failure']; readonly says: RegExp }[] = [
  { name: 'throws', fn: () => { throw new TypeError(`vault refused ${SECRET}`); }, failure: 'threw', says: /threw TypeError/ },
  // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors -- a vault client that rejects with its raw answer
  { name: 'rejects with a string', fn: () => Promise.reject(SECRET), failure: 'threw', says: /threw a string/ },
  { name: 'hangs', fn: () => new Promise<never>(() => undefined), failure: 'timed-out', says: /did not answer within 300 ms/ },
  { name: 'returns a number', fn: () => 42, failure: 'invalid', says: /returned a number, not a non-empty string/ },
  { name: 'returns an empty string', fn: () => Promise.resolve(''), failure: 'invalid', says: /returned an empty string/ },
  { name: 'returns an object holding the secret', fn: () => ({ value: SECRET }), failure: 'invalid', says: /returned an object/ },
];

describe.each(['password', 'clientSecret'] as const)('a %s function that fails', (credential) => {
  test.each(broken)('$name: a CredentialError with nothing of the secret, no token request, and the next renewal asks again', async ({ fn, failure, says }) => {
    let healthy = false;
    const real = server.credentials[credential];
    const source = counted(() => (healthy ? real : fn()));
    const reported: [OAuthBearerError, unknown][] = [];
    const api = createAuthClient({
      baseURL: server.apiUrl,
      auth: {
        ...server.credentials,
        [credential]: source.fn as Credential,
        timeout: 300,
        onError: (error, context) => reported.push([error, context]),
      },
    });

    const results = await Promise.allSettled(Array.from({ length: 5 }, () => api.get('/reports')));
    const reasons = results.map((result): unknown => (result.status === 'rejected' ? (result.reason as unknown) : result));
    const error = reasons[0];
    expect(error).toBeInstanceOf(CredentialError);
    // One renewal for all five, failed with one error.
    for (const reason of reasons) expect(reason).toBe(error);
    expect(error).toMatchObject({ code: 'ERR_OAUTH_CREDENTIAL', credential, failure, account: undefined });
    expect((error as Error).message).toMatch(says);
    expect((error as Error).message).toContain(`auth.${credential}`);
    expect((error as Error).message).toContain('no token request was sent');
    expectNoSecret(error, [SECRET, server.credentials.password, server.credentials.clientSecret]);
    expect(reported).toEqual([[error, undefined]]);
    expect(server.stats.tokenRequests).toBe(0);
    expect(server.stats.apiRequests).toBe(0);
    expect(source.calls()).toBe(1);

    // No cooldown: a vault outage is not a wrong password, and asking it again costs no token request.
    healthy = true;
    await expect(api.get('/reports')).resolves.toMatchObject({ status: 200 });
    expect(source.calls()).toBe(2);
    expect(server.stats.grants.password).toBe(1);
  });
});

describe('an account provider that fails', () => {
  const answers: readonly { readonly name: string; readonly fn: AccountProvider; readonly failure: CredentialError['failure']; readonly says: RegExp }[] = [
    ...broken.map(({ name, fn, failure, says }) => ({ name, fn: fn as AccountProvider, failure, says: name === 'returns a number' ? /returned a number, not \{ username, password \}/ : says })).filter(({ name }) => name !== 'returns an empty string' && name !== 'returns an object holding the secret'),
    { name: 'returns no password', fn: () => ({ username: 'someone', secret: SECRET }) as never, failure: 'invalid', says: /returned a password that is undefined/ },
    { name: 'returns a numeric username', fn: () => ({ username: 7, password: SECRET }) as never, failure: 'invalid', says: /returned a username that is a number/ },
    { name: 'returns null', fn: () => null as never, failure: 'invalid', says: /returned null/ },
  ];

  test.each(answers)('$name: only that account fails, with its name on the error and the report', async ({ fn, failure, says }) => {
    const { tokenUrl, clientId, clientSecret, username, password } = server.credentials;
    const reported: [OAuthBearerError, unknown][] = [];
    const api = createAuthClient({
      baseURL: server.apiUrl,
      auth: {
        tokenUrl,
        clientId,
        clientSecret,
        timeout: 300,
        account: (id) => (id === 'broken' ? fn(id) : { username, password }),
        onError: (error, context) => reported.push([error, context]),
      },
    });
    const [bad, good] = await Promise.allSettled([api.get('/reports', { account: 'broken' }), api.get('/reports', { account: 'fine' })]);
    expect(good.status).toBe('fulfilled');
    const error = bad.status === 'rejected' ? (bad.reason as unknown) : bad;
    expect(error).toBeInstanceOf(CredentialError);
    expect(error).toMatchObject({ credential: 'account', failure, account: 'broken' });
    expect((error as Error).message).toMatch(says);
    expect((error as Error).message).toContain('for account "broken"');
    expectNoSecret(error, [SECRET, password, clientSecret]);
    expect(reported).toEqual([[error, { account: 'broken' }]]);
    expect(server.stats.tokenRequests).toBe(1);
  });
});
