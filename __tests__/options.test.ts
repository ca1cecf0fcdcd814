import util from 'node:util';

import { ConfigurationError, defaults, ErrorCode } from '../src/index.js';
import { resolveAuthOptions } from '../src/options.js';
import { plainCredentials, TOKEN_URL } from './helpers/endpoint-fixtures.js';

const valid = { tokenUrl: TOKEN_URL, ...plainCredentials };

/** Resolves `input` and returns the ConfigurationError it must throw. */
function configurationErrorOf(input: unknown): ConfigurationError {
  try {
    resolveAuthOptions(input);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigurationError);
    return error as ConfigurationError;
  }
  throw new Error('expected resolveAuthOptions to throw');
}

function expectNotShown(error: ConfigurationError, value: string): void {
  for (const printed of [error.message, String(error), util.inspect(error, { depth: null }), JSON.stringify(error)]) {
    expect(printed).not.toContain(value);
  }
}

describe('required options', () => {
  const required = ['clientId', 'clientSecret', 'username', 'password'] as const;
  const cases = required.flatMap((key) => [
    { key, problem: 'missing', value: undefined },
    { key, problem: 'empty', value: '' },
    { key, problem: 'not a string', value: 12345678 },
  ]);

  test.each(cases)('$key that is $problem is rejected, naming auth.$key', ({ key, value }) => {
    const error = configurationErrorOf({ ...valid, [key]: value });

    expect(error.option).toBe(`auth.${key}`);
    expect(error.code).toBe(ErrorCode.CONFIGURATION);
    expect(error.message).toContain(`auth.${key}`);
  });

  test.each(['clientSecret', 'password'] as const)('a malformed %s is not echoed in the error', (key) => {
    const error = configurationErrorOf({ ...valid, [key]: 987654321 });

    expect(error.option).toBe(`auth.${key}`);
    expectNotShown(error, '987654321');
  });

  test('a non-object is rejected as a whole', () => {
    expect(configurationErrorOf(null).option).toBe('auth');
    expect(configurationErrorOf('https://idp.test').option).toBe('auth');
  });
});

describe('the token URL or issuer', () => {
  test('giving both tokenUrl and issuer is rejected', () => {
    expect(configurationErrorOf({ ...valid, issuer: 'https://idp.test' }).option).toBe('auth.tokenUrl');
  });

  test('giving neither tokenUrl nor issuer is rejected', () => {
    expect(configurationErrorOf(plainCredentials).option).toBe('auth.tokenUrl');
  });

  test.each([
    ['tokenUrl', 'http://idp.test/token'],
    ['issuer', 'http://idp.test'],
  ] as const)('a plain http %s off loopback is rejected', (key, url) => {
    const input = { ...plainCredentials, [key]: url };

    expect(configurationErrorOf(input).option).toBe(`auth.${key}`);
  });

  test('a plain http tokenUrl off loopback is allowed with allowInsecureHttp', () => {
    const options = resolveAuthOptions({ ...valid, tokenUrl: 'http://idp.test/token', allowInsecureHttp: true });

    expect(options.tokenUrl?.href).toBe('http://idp.test/token');
  });

  test.each(['http://127.0.0.1:8080/token', 'http://localhost:8080/token', 'http://[::1]:8080/token'])(
    'plain http on loopback (%s) is allowed',
    (url) => {
      expect(resolveAuthOptions({ ...valid, tokenUrl: url }).tokenUrl?.href).toBe(url);
    },
  );

  test('a URL with embedded credentials is rejected without echoing them', () => {
    const error = configurationErrorOf({ ...valid, tokenUrl: 'https://admin:fixture-url-password@idp.test/token' });

    expect(error.option).toBe('auth.tokenUrl');
    expectNotShown(error, 'fixture-url-password');
  });

  test.each(['not a url', '/connect/token', 'ftp://idp.test/token', ''])('%j is rejected as a token URL', (url) => {
    expect(configurationErrorOf({ ...valid, tokenUrl: url }).option).toBe('auth.tokenUrl');
  });
});

describe('optional options', () => {
  test('lockTtlMs (0.1) is refused by name, pointing to leaseMs; a store with only 0.1’s tryLock is refused too', () => {
    expect(configurationErrorOf({ ...valid, lockTtlMs: 3_000 }).message).toMatch(/replaced by `leaseMs`/);
    const oldStore = { get: () => undefined, set: () => undefined, delete: () => undefined, tryLock: () => undefined };
    expect(configurationErrorOf({ ...valid, store: oldStore }).message).toMatch(/tryLock, the 0\.1 lock interface/);
  });

  test.each([
    { option: 'clientAuthentication', value: 'private_key_jwt' },
    { option: 'clientAuthentication', value: 'client_secret_BASIC' },
    { option: 'timeout', value: 0 },
    { option: 'timeout', value: -1000 },
    { option: 'timeout', value: Number.NaN },
    { option: 'timeout', value: Number.POSITIVE_INFINITY },
    { option: 'timeout', value: '1000' },
    { option: 'defaultExpiresIn', value: 0 },
    { option: 'defaultExpiresIn', value: -60 },
    { option: 'scope', value: '' },
    { option: 'scope', value: ['read'] },
    { option: 'allowInsecureHttp', value: 'yes' },
    { option: 'refreshMargin', value: -1 },
    { option: 'onToken', value: 'log' },
    { option: 'onError', value: {} },
    { option: 'leaseMs', value: 999 },
    { option: 'leaseMs', value: 60_001 },
    { option: 'leaseMs', value: 0 },
    { option: 'lockTtlMs', value: 30_000 },
  ])('$option set to $value is rejected, naming it', ({ option, value }) => {
    expect(configurationErrorOf({ ...valid, [option]: value }).option).toBe(`auth.${option}`);
  });

  test('the defaults fill in what the caller left out', () => {
    const options = resolveAuthOptions(valid);

    expect(options).toMatchObject({
      // Left open, so that the token endpoint can pick from discovery; it sends defaults.clientAuthentication otherwise.
      clientAuthentication: undefined,
      timeout: 10_000,
      defaultExpiresIn: 300,
      allowInsecureHttp: false,
      scope: undefined,
      issuer: undefined,
    });
    expect(options.tokenUrl?.href).toBe(TOKEN_URL);
    expect(options.leaseMs).toBe(5_000);
    expect(defaults).toMatchObject({ clientAuthentication: 'client_secret_post', timeout: 10_000, defaultExpiresIn: 300 });
  });

  test.each(['client_secret_post', 'client_secret_basic', 'client_secret_basic_encoded', 'client_secret_basic_raw'] as const)(
    'clientAuthentication %s is accepted as given',
    (clientAuthentication) => {
      expect(resolveAuthOptions({ ...valid, clientAuthentication }).clientAuthentication).toBe(clientAuthentication);
    },
  );

  test('client_secret_basic_raw is refused for a client id with a colon, which a raw Basic user-id cannot carry', () => {
    const error = configurationErrorOf({ ...valid, clientId: 'tenant:app', clientAuthentication: 'client_secret_basic_raw' });
    expect(error.option).toBe('auth.clientAuthentication');
    expect(error.message).toContain('client id with a colon');
    expect(resolveAuthOptions({ ...valid, clientId: 'tenant:app', clientAuthentication: 'client_secret_basic' }).clientId).toBe('tenant:app');
  });

  test('the options the caller passed are taken as given', () => {
    const options = resolveAuthOptions({
      ...valid,
      clientAuthentication: 'client_secret_basic',
      timeout: 2500,
      defaultExpiresIn: 60,
      scope: 'read write',
    });

    expect(options).toMatchObject({ clientAuthentication: 'client_secret_basic', timeout: 2500, defaultExpiresIn: 60, scope: 'read write' });
  });

  test("the caller's object is not mutated", () => {
    const input = Object.freeze({ ...valid, timeout: 2500 });

    expect(() => resolveAuthOptions(input)).not.toThrow();
    expect(input).toEqual({ ...valid, timeout: 2500 });
  });

  test('a custom prefix names the option under it', () => {
    expect(() => resolveAuthOptions({ ...valid, password: '' }, 'config.oauth')).toThrow(
      expect.objectContaining({ option: 'config.oauth.password' }) as Error,
    );
  });
});

test('resolved options print the password and client secret redacted, while holding the real values', () => {
  const resolved = resolveAuthOptions(valid);

  for (const printed of [util.inspect(resolved, { depth: null }), JSON.stringify(resolved)]) {
    expect(printed).not.toContain(plainCredentials.password);
    expect(printed).not.toContain(plainCredentials.clientSecret);
    expect(printed).toContain(plainCredentials.username);
  }
  expect(resolved.owner?.password).toBe(plainCredentials.password);
});

test('a refreshMargin function that answers nonsense falls back to the default margin instead of turning renewal off', () => {
  const resolved = resolveAuthOptions({ ...valid, refreshMargin: () => Number.NaN });
  expect(resolved.refreshMargin(60_000)).toBe(defaults.refreshMargin(60_000));
  expect(resolveAuthOptions({ ...valid, refreshMargin: () => -5 }).refreshMargin(60_000)).toBe(12_000);
  expect(resolveAuthOptions({ ...valid, refreshMargin: (lifetime: number) => lifetime / 2 }).refreshMargin(60_000)).toBe(30_000);
});
