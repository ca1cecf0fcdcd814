/**
 * Stores that cannot break silently (issue 17, its first part): a store of the user's own that saves a token set with
 * `JSON.stringify(tokens)` saves `[REDACTED]` (a token set prints redacted). Before, the next client to read it sent
 * `Bearer [REDACTED]`, got a 401, had `[REDACTED]` refused as a refresh token and made a password grant, every time,
 * with nothing reported. Now the value is refused where it is read, reported with what to do instead, and replaced by
 * one grant: no 401, no refused refresh. The exported serializeTokenSet / parseTokenSet make such a store work.
 */
import util from 'node:util';

import {
  createAuthClient,
  type OAuthBearerError,
  parseTokenSet,
  serializeTokenSet,
  type TokenSet,
  type TokenStore,
  TokenStoreError,
} from '../src/index.js';
import { type AuthServer, startAuthServer } from '../src/testing/server.js';
import { createTokenSet } from '../src/token-set.js';

let server: AuthServer;
beforeAll(async () => {
  server = await startAuthServer();
});
beforeEach(() => server.resetStats());
afterAll(() => server.close());

/** A store over a Map of strings, as one over a database row would be, with the user's choice of (de)serializer. */
function textStore(write: (tokens: TokenSet) => string, read: (text: string, key: string) => TokenSet): { store: TokenStore; rows: Map<string, string> } {
  const rows = new Map<string, string>();
  return {
    rows,
    store: {
      get: (key) => {
        const text = rows.get(key);
        return text === undefined ? undefined : read(text, key);
      },
      set: (key, tokens) => void rows.set(key, write(tokens)),
      delete: (key) => void rows.delete(key),
    },
  };
}

function clientOn(store: TokenStore, errors: OAuthBearerError[]): ReturnType<typeof createAuthClient> {
  return createAuthClient({ baseURL: server.apiUrl, auth: { ...server.credentials, store, onError: (error) => errors.push(error) } });
}

test('a store that saves JSON.stringify(tokens): the redacted value is refused and reported, and one grant replaces it (no 401)', async () => {
  const { store, rows } = textStore(
    (tokens) => JSON.stringify(tokens),
    (text) => JSON.parse(text) as TokenSet,
  );
  const errors: OAuthBearerError[] = [];
  await clientOn(store, errors).get('/reports'); // a first process: its grant, saved redacted
  expect([...rows.values()][0]).toContain('"accessToken":"[REDACTED]"');

  // A second process (a restart) reads it.
  const results = await Promise.all(Array.from({ length: 10 }, () => clientOn(store, errors).get('/reports')));
  expect(results.map((response) => response.status)).toEqual(Array.from({ length: 10 }, () => 200));
  expect(server.stats.api401s).toBe(0); // `Bearer [REDACTED]` was never sent
  expect(server.stats.failedTokenRequests).toBe(0); // nor `[REDACTED]` as a refresh token
  expect(server.stats.grants).toEqual({ password: 11, refresh_token: 0 });
  expect(errors).toHaveLength(10); // once per restarted client: each read the redacted value once, then made its grant
  for (const error of errors) {
    expect(error).toBeInstanceOf(TokenStoreError);
    expect(error).toMatchObject({ operation: 'get', reason: 'invalid-value' });
    expect(error.message).toContain('has a redacted accessToken ("[REDACTED]")');
    expect(error.message).toContain('save serializeTokenSet(tokens) and read it back with parseTokenSet(text)');
  }
});

test('the same store with serializeTokenSet / parseTokenSet: the second process adopts the token, no grant, nothing reported', async () => {
  const { store, rows } = textStore(serializeTokenSet, parseTokenSet);
  const errors: OAuthBearerError[] = [];
  await clientOn(store, errors).get('/reports');
  await Promise.all(Array.from({ length: 10 }, () => clientOn(store, errors).get('/reports')));
  expect(server.stats.grants).toEqual({ password: 1, refresh_token: 0 });
  expect(errors).toEqual([]);
  // What is stored holds the token (keep the store private, or seal it); what the tokens print never does.
  const [text] = [...rows.values()];
  expect(parseTokenSet(text ?? '').accessToken).toMatch(/^at-/);
});

describe('parseTokenSet', () => {
  const tokens = createTokenSet({ accessToken: 'access-SECRET-1', expiresAt: 1_900_000_000_000, refreshToken: 'refresh-SECRET-2', scope: 'read', idToken: 'id-SECRET-3' });

  test('reads back what serializeTokenSet wrote, every field', () => {
    const back = parseTokenSet(serializeTokenSet(tokens), 'k');
    expect([back.accessToken, back.expiresAt, back.refreshToken, back.scope, back.idToken]).toEqual(['access-SECRET-1', 1_900_000_000_000, 'refresh-SECRET-2', 'read', 'id-SECRET-3']);
  });

  test.each(['accessToken', 'refreshToken', 'idToken'])('refuses a redacted %s, naming the field and the fix, quoting no token', (field) => {
    const stored = { ...(JSON.parse(serializeTokenSet(tokens)) as Record<string, unknown>), [field]: '[REDACTED]' };
    let caught: unknown;
    try {
      parseTokenSet(JSON.stringify(stored), 'the-key');
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(TokenStoreError);
    expect(caught).toMatchObject({ reason: 'invalid-value', key: 'the-key' });
    expect((caught as Error).message).toContain(`has a redacted ${field}`);
    for (const text of [util.inspect(caught, { depth: null }), JSON.stringify(caught)]) expect(text).not.toMatch(/SECRET/);
  });

  test('a scope that happens to read [REDACTED] is a scope', () => {
    expect(parseTokenSet(JSON.stringify({ accessToken: 'a', expiresAt: 1, scope: '[REDACTED]' })).scope).toBe('[REDACTED]');
  });
});
