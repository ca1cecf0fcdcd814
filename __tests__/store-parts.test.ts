/**
 * The pieces of the shared store that need no Redis server: keys, the stored JSON, encryption, and option checks.
 */
import { createHash, scryptSync } from 'node:crypto';
import { inspect } from 'node:util';
import { Redis } from 'ioredis';
import { ConfigurationError } from '../src/errors.js';
import { RedisTokenStore, type RedisTokenStoreOptions } from '../src/redis.js';
import { decryptValue, encryptValue, parseEncryptionKey } from '../src/stores/crypto.js';
import { TokenStoreError } from '../src/stores/errors.js';
import { failureKeyFor, leaseKeyFor, storeKey } from '../src/stores/key.js';
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
/** A key in the shape storeKey() makes, for the tests of values, which need no derivation. */
const STORE_KEY = `axios-oauth-bearer:tokens:${'ab'.repeat(32)}`;
const credentials = { ...fields, clientSecret: 'client-secret-SQUEAMISH', password: 'password-OSSIFRAGE' };
const SECRET = { bindingSecret: (): Uint8Array => Buffer.alloc(32, 0x5c) };

describe('storeKey', () => {
  test('a key is the prefix, `tokens` and a 64-digit hex digest, and names no field in any common encoding', async () => {
    const keys = [await storeKey(credentials), await storeKey(credentials, SECRET)];
    for (const key of keys) {
      expect(key).toMatch(/^axios-oauth-bearer:tokens:\{[0-9a-f]{64}\}$/);
      for (const value of Object.values(credentials)) {
        for (const form of [value, encodeURIComponent(value), Buffer.from(value).toString('base64')]) expect(key).not.toContain(form);
      }
    }
    expect(await storeKey(credentials, { ...SECRET, keyPrefix: 'app' })).toBe(keys[1]!.replace(/^axios-oauth-bearer:/, 'app:'));
  });

  test.each([
    ['without a binding secret', {}],
    ['with a binding secret', SECRET],
  ])('each of the six fields, the two secrets included, changes the key (%s)', async (_, binding) => {
    const variants = [
      { tokenUrl: 'https://other.example/connect/token' },
      { clientId: 'client-id-8' },
      { username: 'grace.hopper@example.com' },
      { scope: 'api' },
      { clientSecret: 'client-secret-SQUEAMISh' },
      { password: 'password-OSSIFRAGe' },
    ];
    const keys = await Promise.all([credentials, ...variants.map((variant) => ({ ...credentials, ...variant }))].map((c) => storeKey(c, binding)));
    expect(new Set(keys).size).toBe(7);
  });

  test('spellings of one identity meet under one key: URL case and default port, scope order, no scope', async () => {
    const same = { ...credentials, tokenUrl: 'https://AUTH.example:443/connect/token', scope: ' offline_access  api ' };
    expect(await storeKey(same, SECRET)).toBe(await storeKey(credentials, SECRET));
    expect(await storeKey({ ...credentials, scope: '' }, SECRET)).toBe(await storeKey({ ...credentials, scope: undefined }, SECRET));
  });

  test('text moved from one field to the next gives another key', async () => {
    const a = await storeKey({ ...credentials, password: 'pass:word', clientSecret: 'x' }, SECRET);
    const b = await storeKey({ ...credentials, password: 'pass', clientSecret: 'word:x' }, SECRET);
    expect(a).not.toBe(b);
  });

  test('without a binding secret the digest is scrypt (N = 2^15, r = 8) salted with the identity, not a fast hash', async () => {
    const canonical = (c: typeof credentials): string =>
      JSON.stringify({ clientId: c.clientId, clientSecret: c.clientSecret, password: c.password, scope: 'api offline_access', tokenUrl: c.tokenUrl, username: c.username });
    const salt = createHash('sha256')
      .update(`axios-oauth-bearer/store-key/v2\n${canonical({ ...credentials, clientSecret: '', password: '' })}`)
      .digest();
    const expected = scryptSync(canonical(credentials), salt, 32, { N: 2 ** 15, r: 8, p: 1, maxmem: 64 * 1024 * 1024 }).toString('hex');
    expect(await storeKey(credentials)).toBe(`axios-oauth-bearer:tokens:{${expected}}`);
  });

  test('with a binding secret the digest is an HMAC under it; another secret gives another key, a short one is ignored', async () => {
    const other = { bindingSecret: (): Uint8Array => Buffer.alloc(32, 0x36) };
    expect(await storeKey(credentials, SECRET)).not.toBe(await storeKey(credentials, other));
    expect(await storeKey(credentials, SECRET)).not.toBe(await storeKey(credentials));
    const short = { bindingSecret: (): Uint8Array => Buffer.alloc(15, 0x5c) };
    expect(await storeKey(credentials, short)).toBe(await storeKey(credentials));
  });

  test('the lease and failure keys are the store key with a `:lease` and a `:failure` suffix', () => {
    expect(leaseKeyFor(STORE_KEY)).toBe(`${STORE_KEY}:lease`);
    expect(failureKeyFor(STORE_KEY)).toBe(`${STORE_KEY}:failure`);
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
    ['a line break in the access token', '{"accessToken":"access-token-XYZZY-1\\r\\nX-Injected: 1","expiresAt":1}', /accessToken that must be printable ASCII without spaces/],
    ['a space in the access token', '{"accessToken":"access-token XYZZY-1","expiresAt":1}', /accessToken that must be printable ASCII/],
    ['an access token over the length limit', `{"accessToken":"XYZZY${'a'.repeat(16_384)}","expiresAt":1}`, /accessToken that must be at most 16384 characters/],
    ['a control character in the refresh token', '{"accessToken":"access-token-XYZZY-1","expiresAt":1,"refreshToken":"r\\u001b[2J"}', /refreshToken that must be printable ASCII/],
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
    expect(store.keyPrefix).toBe('axios-oauth-bearer');
  });

  test('the binding secret is derived from the encryption key (never the key itself), and absent without one', () => {
    const plain = new RedisTokenStore({ client, prefix: 'app' });
    expect(plain.keyPrefix).toBe('app');
    expect(plain.bindingSecret()).toBeUndefined();
    const a = new RedisTokenStore({ client, encryptionKey: KEY }).bindingSecret();
    const b = new RedisTokenStore({ client, encryptionKey: Buffer.alloc(32, 0xb2) }).bindingSecret();
    expect(a).toHaveLength(32);
    expect(Buffer.from(a!).equals(KEY)).toBe(false);
    expect(Buffer.from(a!).equals(Buffer.from(b!))).toBe(false);
    expect(new RedisTokenStore({ client, encryptionKey: KEY.toString('base64') }).bindingSecret()).toEqual(a);
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
