/**
 * The pieces of the shared store that need no Redis server: keys, the stored JSON, encryption, and option checks.
 */
import { inspect } from 'node:util';
import { Redis } from 'ioredis';
import { ConfigurationError } from '../src/errors.js';
import { RedisTokenStore, type RedisTokenStoreOptions } from '../src/redis.js';
import { decryptValue, encryptValue, parseEncryptionKey } from '../src/stores/crypto.js';
import { TokenStoreError } from '../src/stores/errors.js';
import { lockKeyFor, storeKey } from '../src/stores/key.js';
import { parseTokenSet, serializeTokenSet } from '../src/stores/serialize.js';
import { createTokenSet } from '../src/token-set.js';

const fields = {
  tokenUrl: 'https://auth.example/connect/token',
  clientId: 'client-id-7',
  username: 'ada.lovelace@example.com',
  scope: 'api offline_access',
};
const tokens = createTokenSet({
  accessToken: 'access-token-XYZZY-1',
  expiresAt: 1_900_000_000_000,
  refreshToken: 'refresh-token-PLUGH-1',
  scope: 'api',
});
const KEY = Buffer.alloc(32, 0xa1);
const STORE_KEY = storeKey(fields);

describe('storeKey', () => {
  test('a key is the prefix, `tokens` and a SHA-256 hex digest, and names none of the fields', () => {
    expect(STORE_KEY).toMatch(/^axios-oauth-bearer:tokens:[0-9a-f]{64}$/);
    expect(storeKey(fields, 'app')).toBe(`app:tokens:${STORE_KEY.split(':').at(-1)!}`);
    for (const value of Object.values(fields)) expect(STORE_KEY).not.toContain(value);
  });

  test('each of the four fields changes the key', () => {
    const variants = [
      { tokenUrl: 'https://other.example/connect/token' },
      { clientId: 'client-id-8' },
      { username: 'grace.hopper@example.com' },
      { scope: 'api' },
    ];
    const keys = new Set([STORE_KEY, ...variants.map((variant) => storeKey({ ...fields, ...variant }))]);
    expect(keys.size).toBe(5);
  });

  test('spellings of one identity meet under one key: URL case and default port, scope order, no scope', () => {
    const same = { ...fields, tokenUrl: 'https://AUTH.example:443/connect/token', scope: ' offline_access  api ' };
    expect(storeKey(same)).toBe(STORE_KEY);
    expect(storeKey({ ...fields, scope: '' })).toBe(storeKey({ ...fields, scope: undefined }));
  });

  test('text moved from one field to the next gives another key', () => {
    const a = storeKey({ ...fields, clientId: 'app:ada', username: 'x' });
    const b = storeKey({ ...fields, clientId: 'app', username: 'ada:x' });
    expect(a).not.toBe(b);
  });

  test('the lock key is the store key with a `:lock` suffix', () => {
    expect(lockKeyFor(STORE_KEY)).toBe(`${STORE_KEY}:lock`);
  });
});

describe('stored token sets', () => {
  test('the stored JSON holds the real tokens (not the redacted toJSON) and reads back equal', () => {
    const text = serializeTokenSet(tokens);
    expect(JSON.parse(text)).toEqual({
      accessToken: 'access-token-XYZZY-1',
      expiresAt: 1_900_000_000_000,
      refreshToken: 'refresh-token-PLUGH-1',
      scope: 'api',
    });
    expect(parseTokenSet(text, STORE_KEY)).toEqual(tokens);
    expect(JSON.stringify(parseTokenSet(text, STORE_KEY))).not.toContain('XYZZY');
  });

  test.each([
    ['not JSON', '{"accessToken":"access-token-XYZZY-1"', /not JSON/],
    ['an array', '["access-token-XYZZY-1"]', /not a JSON object/],
    ['no access token', '{"expiresAt":1}', /accessToken/],
    ['a string expiry', '{"accessToken":"access-token-XYZZY-1","expiresAt":"1"}', /expiresAt/],
    ['an empty refresh token', '{"accessToken":"access-token-XYZZY-1","expiresAt":1,"refreshToken":""}', /refresh/],
    ['a numeric scope', '{"accessToken":"access-token-XYZZY-1","expiresAt":1,"scope":7}', /scope/],
  ])('a stored value with %s is refused, naming the problem and not the value', (_, text, problem) => {
    const error = catchError(() => parseTokenSet(text, STORE_KEY));
    expect(error).toMatchObject({ reason: 'invalid-value', operation: 'get', key: STORE_KEY });
    expect(error.message).toMatch(problem);
    expect(`${inspect(error, { depth: null })}${JSON.stringify(error)}`).not.toContain('XYZZY');
  });
});

describe('encryption', () => {
  test('a value is sealed in the v1 format with a fresh IV each time, and opens to the plaintext', () => {
    const first = encryptValue('plain text', KEY, STORE_KEY);
    const second = encryptValue('plain text', KEY, STORE_KEY);
    expect(first).toMatch(/^v1\.[\w-]{16}\.[\w-]{22}\.[\w-]+$/);
    expect(first.split('.')[1]).not.toBe(second.split('.')[1]);
    expect(decryptValue(first, KEY, STORE_KEY)).toBe('plain text');
  });

  test.each([
    ['another key', (sealed: string) => decryptValue(sealed, Buffer.alloc(32, 0xb2), STORE_KEY)],
    ['another store key', (sealed: string) => decryptValue(sealed, KEY, `${STORE_KEY}x`)],
    ['a changed ciphertext', (sealed: string) => decryptValue(flipFirstCiphertextDigit(sealed), KEY, STORE_KEY)],
    ['a truncated tag', (sealed: string) => decryptValue(sealed.replace(/\.([\w-]{22})\./, '.AAAA.'), KEY, STORE_KEY)],
    ['a plaintext value', () => decryptValue(serializeTokenSet(tokens), KEY, STORE_KEY)],
    ['an unknown version', (sealed: string) => decryptValue(sealed.replace(/^v1/, 'v2'), KEY, STORE_KEY)],
  ])('a value with %s is refused as undecryptable', (_, open) => {
    const error = catchError(() => open(encryptValue(serializeTokenSet(tokens), KEY, STORE_KEY)));
    expect(error).toMatchObject({ reason: 'undecryptable', operation: 'get' });
  });

  test('a key is 32 bytes given as a Buffer, base64 or base64url, and a bad one is never echoed', () => {
    const expected = Buffer.alloc(32, 0xfb);
    for (const form of [expected, expected.toString('base64'), expected.toString('base64url')]) {
      expect(parseEncryptionKey(form, 'encryptionKey')).toEqual(expected);
    }
    const short = Buffer.alloc(31, 0xfb).toString('base64');
    expect(() => parseEncryptionKey(short, 'encryptionKey')).toThrow(ConfigurationError);
    expect(catchError(() => parseEncryptionKey(short, 'encryptionKey')).message).not.toContain(short);
  });
});

describe('RedisTokenStore options', () => {
  // A real ioredis client that never connects: option checks need no server.
  const client = new Redis({ lazyConnect: true });
  afterAll(() => client.disconnect());

  test.each([
    ['client', { client: {} }],
    ['operationTimeoutMs', { operationTimeoutMs: 0 }],
    ['prefix', { prefix: '' }],
    ['onError', { onError: 'log' }],
    ['encryptionKey', { encryptionKey: 'c2hvcnQ=' }],
    ['encryptionKey', { encryptionKey: Buffer.alloc(16) }],
  ])('a bad %s is a ConfigurationError naming it', (option, bad) => {
    const options = { client, ...bad } as unknown as RedisTokenStoreOptions;
    expect(() => new RedisTokenStore(options)).toThrow(ConfigurationError);
    expect(() => new RedisTokenStore(options)).toThrow(new RegExp(`\`${option}\``));
  });

  test('an option given as undefined takes its default', () => {
    const store = new RedisTokenStore({ client, prefix: undefined, operationTimeoutMs: undefined });
    expect(store.keyFor(fields)).toBe(STORE_KEY);
  });

  test('the caller’s options object is not changed', () => {
    const options = Object.freeze({ client, prefix: 'app' });
    expect(() => new RedisTokenStore(options)).not.toThrow();
  });
});

function catchError(run: () => unknown): Error {
  try {
    run();
  } catch (error) {
    if (error instanceof TokenStoreError || error instanceof ConfigurationError) return error;
    throw error;
  }
  throw new Error('expected an error');
}

// The first digit of the ciphertext carries 6 bits of data (the last one may carry only padding bits).
function flipFirstCiphertextDigit(sealed: string): string {
  const [version, iv, tag, ciphertext] = sealed.split('.');
  const flipped = `${ciphertext!.startsWith('A') ? 'B' : 'A'}${ciphertext!.slice(1)}`;
  return [version, iv, tag, flipped].join('.');
}
