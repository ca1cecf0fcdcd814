/**
 * Unknown option names are refused with the name that was meant (issue 18, "errors that say what to do"): a
 * misspelled option used to be ignored and its default silently applied. Every option object the library's client
 * takes: auth (createAuthClient, attachAuth, createTokenEndpoint), auth.retry, and RedisTokenStore's.
 */
import util from 'node:util';

import axios from 'axios';
import { Redis } from 'ioredis';

import { attachAuth, ConfigurationError, createAuthClient, createTokenEndpoint } from '../src/index.js';
import { editDistance } from '../src/option-names.js';
import { RedisTokenStore } from '../src/redis.js';

const auth = { tokenUrl: 'https://idp.test/connect/token', clientId: 'c', clientSecret: 'client-SECRET', username: 'u', password: 'user-SECRET' };

function refusal(run: () => unknown): ConfigurationError {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigurationError);
    return error as ConfigurationError;
  }
  throw new Error('expected a ConfigurationError');
}

describe('auth options', () => {
  test.each([
    ['refreshMargn', 'refreshMargin'],
    ['refershMargin', 'refreshMargin'], // two neighbouring letters swapped
    ['tokenURL', 'tokenUrl'], // case
    ['tmeout', 'timeout'],
    ['clientSecet', 'clientSecret'],
    ['cooldown', 'cooldownMs'],
    ['maxAcounts', 'maxAccounts'],
    ['allowedOrigin', 'allowedOrigins'],
  ])('%s: refused, naming it and %s', (typo, meant) => {
    const error = refusal(() => createAuthClient({ baseURL: 'https://api.test', auth: { ...auth, [typo]: 1 } as never }));
    expect(error.option).toBe(`auth.${typo}`);
    expect(error.message).toBe(`Invalid option \`auth.${typo}\`: is not an option (did you mean \`${meant}\`?)`);
  });

  test('a name close to none lists the options', () => {
    const error = refusal(() => createAuthClient({ baseURL: 'https://api.test', auth: { ...auth, frobnicate: true } as never }));
    expect(error.option).toBe('auth.frobnicate');
    expect(error.message).toMatch(/is not an option \(the options are `tokenUrl`, `issuer`, .*`onError`, `allowedOrigins`\)$/);
  });

  test('the value is never echoed, even when it is a secret under a misspelled name', () => {
    const error = refusal(() => createAuthClient({ baseURL: 'https://api.test', auth: { tokenUrl: auth.tokenUrl, clientId: 'c', clientSecret: 'client-SECRET', username: 'u', passwrd: 'user-SECRET' } as never }));
    expect(error.message).toContain('did you mean `password`?');
    for (const text of [util.inspect(error, { depth: null }), JSON.stringify(error), String(error)]) expect(text).not.toContain('SECRET');
  });

  test('an option set to undefined counts as absent, as everywhere in the options', () => {
    expect(() => createAuthClient({ baseURL: 'https://api.test', auth: { ...auth, refreshMargn: undefined } as never })).not.toThrow();
  });

  test('attachAuth refuses them too, and takes allowedOrigins', () => {
    expect(refusal(() => attachAuth(axios.create({ baseURL: 'https://api.test' }), { ...auth, scop: 'read' } as never)).message).toContain('did you mean `scope`?');
    expect(() => attachAuth(axios.create(), { ...auth, allowedOrigins: ['https://api.test'] })).not.toThrow();
  });

  test('auth.retry', () => {
    const error = refusal(() => createAuthClient({ baseURL: 'https://api.test', auth: { ...auth, retry: { attempt: 5 } } as never }));
    expect(error.option).toBe('auth.retry.attempt');
    expect(error.message).toContain('did you mean `attempts`?');
  });

  test('createTokenEndpoint takes the whole auth options (what it does not use is not read) but no unknown name', () => {
    expect(() => createTokenEndpoint({ ...auth, allowedOrigins: ['https://api.test'], cooldownMs: 5, onToken: () => undefined } as never)).not.toThrow();
    const error = refusal(() => createTokenEndpoint({ ...auth, clientAuthentification: 'client_secret_basic' } as never));
    expect(error.option).toBe('createTokenEndpoint.clientAuthentification');
    expect(error.message).toContain('did you mean `clientAuthentication`?');
  });

  test("0.1's lockTtlMs keeps its own message", () => {
    expect(refusal(() => createAuthClient({ baseURL: 'https://api.test', auth: { ...auth, lockTtlMs: 100 } as never })).message).toMatch(/leaseMs/);
  });
});

test('RedisTokenStore options', () => {
  const client = new Redis({ lazyConnect: true });
  try {
    const error = refusal(() => new RedisTokenStore({ client, prefx: 'app' } as never));
    expect(error.option).toBe('RedisTokenStore.prefx');
    expect(error.message).toContain('did you mean `prefix`?');
    expect(refusal(() => new RedisTokenStore({ client, encryptionkey: 'k' } as never)).message).toContain('did you mean `encryptionKey`?');
  } finally {
    client.disconnect();
  }
});

test('editDistance: insertions, deletions, substitutions and neighbour swaps each cost one', () => {
  expect([
    editDistance('timeout', 'timeout'),
    editDistance('tmeout', 'timeout'),
    editDistance('timeoutt', 'timeout'),
    editDistance('timeaut', 'timeout'),
    editDistance('tiemout', 'timeout'),
    editDistance('', 'abc'),
    editDistance('scope', 'store'),
  ]).toEqual([0, 1, 1, 1, 1, 3, 2]);
});

describe('the test fixtures (axios-oauth-bearer/testing)', () => {
  test('startAuthServer, createMemoryAuthority, mockTokenEndpoint and mockProtectedApi refuse a misspelled option by name', async () => {
    const { createMemoryAuthority, mockProtectedApi, mockTokenEndpoint, startAuthServer } = await import('../src/testing/index.js');
    const rejected = await startAuthServer({ expiresin: 1 } as never).then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(rejected).toBeInstanceOf(ConfigurationError);
    expect(rejected).toMatchObject({ option: 'startAuthServer.expiresin', message: expect.stringContaining('expiresIn') as unknown });
    expect(refusal(() => createMemoryAuthority({ tokenLatency: 5 } as never))).toMatchObject({ option: 'createMemoryAuthority.tokenLatency' });
    expect(refusal(() => mockTokenEndpoint({ tokenUrl: 'https://idp.test/token', rotateRefreshToken: true } as never)).message).toContain('rotateRefreshTokens');
    expect(refusal(() => mockProtectedApi({ baseURL: 'https://api.test', tokens: {} } as never)).message).toContain('baseUrl');
  });
});
