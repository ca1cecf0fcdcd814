/**
 * The README's examples, run as written (the package name maps to the sources here). If one of these breaks, the
 * README is wrong.
 */
import axios from 'axios';
import nock from 'nock';

import { attachAuth, createAuthClient, createTokenEndpoint, parseTokenSet, serializeTokenSet, type TokenStore } from 'axios-oauth-bearer';
import { mockProtectedApi, mockTokenEndpoint } from 'axios-oauth-bearer/testing';

const TOKEN_URL = 'https://oidc-pre.semansys.com/connect/token';
/** The application's own response type, as in the README. */
type ReportList = Record<string, unknown>;

beforeAll(() => nock.disableNetConnect());
afterEach(() => nock.cleanAll());
afterAll(() => nock.restore());

test('the quick start: one password grant against the provider endpoint, then the token is reused', async () => {
  const idp = mockTokenEndpoint({ tokenUrl: TOKEN_URL, clientId: 'my-client', clientSecret: 's3cret', username: 'me@example.com', password: 'pa55word' });
  mockProtectedApi({ baseUrl: 'https://api.semansys.com', tokens: idp });

  // --- README: Quick start ---
  const api = createAuthClient({
    baseURL: 'https://api.semansys.com',
    auth: {
      tokenUrl: 'https://oidc-pre.semansys.com/connect/token',
      clientId: 'my-client',
      clientSecret: 's3cret',
      username: 'me@example.com',
      password: 'pa55word',
    },
  });
  const { data } = await api.get<ReportList>('/reports');
  // ---

  await api.get('/reports/2');
  expect(data).toMatchObject({ method: 'GET', path: '/reports' });
  expect(idp.grants).toEqual({ password: 1, refresh_token: 0, total: 1 });
  idp.done();
});

test('requesting a token directly sends the provider form and returns a token set', async () => {
  const idp = mockTokenEndpoint({ tokenUrl: TOKEN_URL, clientId: 'my-client', clientSecret: 's3cret', username: 'me@example.com', password: 'pa55word' });

  // --- README: Just a token ---
  const endpoint = createTokenEndpoint({ tokenUrl: TOKEN_URL, clientId: 'my-client', clientSecret: 's3cret', username: 'me@example.com', password: 'pa55word' });
  const tokens = await endpoint.passwordGrant();
  // tokens.accessToken, tokens.expiresAt (epoch ms), tokens.refreshToken, tokens.scope
  // ---

  expect(tokens.accessToken).toBe('at-1');
  expect(tokens.refreshToken).toBe('rt-1');
  idp.done();
});

test('the drop-in recipe keeps the existing instance and its interceptors', async () => {
  const idp = mockTokenEndpoint({ tokenUrl: 'https://idp.test/connect/token' });
  mockProtectedApi({ baseUrl: 'https://api.test', tokens: idp });
  const existing = axios.create({ baseURL: 'https://api.test' });
  const seen: string[] = [];
  existing.interceptors.response.use((response) => {
    seen.push(response.config.url ?? '');
    return response;
  });

  const handle = attachAuth(existing, idp.credentials);
  await existing.get('/orders');
  handle.detach();

  expect(seen).toEqual(['/orders']);
  expect(idp.grants.total).toBe(1);
});

test('one instance for all your customers: each request with its own account\'s token', async () => {
  const idp = mockTokenEndpoint({
    tokenUrl: TOKEN_URL,
    clientId: 'my-client',
    clientSecret: 's3cret',
    users: { 'customer-42@example.com': 'pw-42', 'customer-7@example.com': 'pw-7' },
  });
  mockProtectedApi({ baseUrl: 'https://api.semansys.com', tokens: idp });
  const secrets = new Map([['semansys/customer-42', 'pw-42'], ['semansys/customer-7', 'pw-7']]);
  const vault = { get: (name: string): Promise<string> => Promise.resolve(secrets.get(name) ?? '') };

  // --- README: One instance for all your customers ---
  const api = createAuthClient({
    baseURL: 'https://api.semansys.com',
    auth: {
      tokenUrl: 'https://oidc-pre.semansys.com/connect/token',
      clientId: 'my-client',
      clientSecret: 's3cret',
      // Called when an account needs a grant (once per renewal), never cached by the library.
      account: async (id) => ({ username: `${id}@example.com`, password: await vault.get(`semansys/${id}`) }),
      maxAccounts: 1000, // least recently used accounts beyond this are dropped, with their tokens
    },
  });
  const { data } = await api.get<ReportList>('/reports', { account: 'customer-42' });
  await api.tokens.for('customer-42').refresh();
  // ---

  const other = await api.get<ReportList>('/reports', { account: 'customer-7' });
  expect(data).toMatchObject({ username: 'customer-42@example.com' });
  expect(other.data).toMatchObject({ username: 'customer-7@example.com' });
  expect(idp.grants).toEqual({ password: 2, refresh_token: 1, total: 3 });
  idp.done();
});

test('secrets from a vault: functions called at grant time', async () => {
  const idp = mockTokenEndpoint({ tokenUrl: TOKEN_URL, clientId: 'my-client', clientSecret: 's3cret', username: 'me@example.com', password: 'pa55word' });
  mockProtectedApi({ baseUrl: 'https://api.semansys.com', tokens: idp });
  const secrets = new Map([['semansys/client-secret', 's3cret'], ['semansys/password', 'pa55word']]);
  const vault = { get: (name: string): Promise<string> => Promise.resolve(secrets.get(name) ?? '') };

  // --- README: Secrets from a vault ---
  const api = createAuthClient({
    baseURL: 'https://api.semansys.com',
    auth: {
      tokenUrl: 'https://oidc-pre.semansys.com/connect/token',
      clientId: 'my-client',
      clientSecret: () => vault.get('semansys/client-secret'),
      username: 'me@example.com',
      password: () => vault.get('semansys/password'),
    },
  });
  // ---

  await api.get('/reports');
  expect(idp.grants).toEqual({ password: 1, refresh_token: 0, total: 1 });
  idp.done();
});

test('a store of your own with serializeTokenSet / parseTokenSet: a second client adopts the token', async () => {
  const idp = mockTokenEndpoint({ tokenUrl: TOKEN_URL, clientId: 'my-client', clientSecret: 's3cret', username: 'me@example.com', password: 'pa55word' });
  mockProtectedApi({ baseUrl: 'https://api.semansys.com', tokens: idp });
  const rows = new Map<string, string>();
  const db = { get: (key: string) => Promise.resolve(rows.get(key)), set: (key: string, text: string) => void rows.set(key, text), delete: (key: string) => void rows.delete(key) };

  // --- README: A store of your own ---
  const store: TokenStore = {
    get: async (key) => { const text = await db.get(key); return text === undefined ? undefined : parseTokenSet(text, key); },
    set: (key, tokens) => db.set(key, serializeTokenSet(tokens)), // holds the tokens: keep the table private, or seal it
    delete: (key) => db.delete(key),
  };
  // ---

  const auth = { tokenUrl: TOKEN_URL, clientId: 'my-client', clientSecret: 's3cret', username: 'me@example.com', password: 'pa55word', store };
  await createAuthClient({ baseURL: 'https://api.semansys.com', auth }).get('/reports');
  await createAuthClient({ baseURL: 'https://api.semansys.com', auth }).get('/reports');
  expect(idp.grants).toEqual({ password: 1, refresh_token: 0, total: 1 });
  idp.done();
});

// --- README: Testing your code with the fixtures ---
test('lists reports with a single token request', async () => {
  const idp = mockTokenEndpoint({ tokenUrl: 'https://idp.test/connect/token' });
  mockProtectedApi({ baseUrl: 'https://api.test', tokens: idp });
  const api = createAuthClient({ baseURL: 'https://api.test', auth: idp.credentials });

  const responses = await Promise.all([api.get('/reports/1'), api.get('/reports/2'), api.get('/reports/3')]);
  idp.revoke(); // the server forgets every access token: the next call gets 401, one refresh, one replay
  const after = await api.get('/reports/4');

  expect(responses.map((r) => r.status)).toEqual([200, 200, 200]);
  expect(after.status).toBe(200);
  expect(idp.grants).toEqual({ password: 1, refresh_token: 1, total: 2 });
  idp.done();
});
// ---
