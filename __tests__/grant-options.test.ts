/**
 * `auth.grant` and its companions, validated (issue 16): every bad shape is a ConfigurationError naming the field,
 * the secrets of every grant print redacted, and an extension grant's secret function that fails costs no request.
 */
import { inspect } from 'node:util';

import { ConfigurationError, createAuthClient, createTokenEndpoint, CredentialError } from '../src/index.js';
import { resolveAuthOptions } from '../src/options.js';
import { createMemoryAuthority } from '../src/testing/memory.js';

const client = { tokenUrl: 'https://idp.test/token', clientId: 'c', clientSecret: 'client-secret-1' };
const EXCHANGE = 'urn:ietf:params:oauth:grant-type:token-exchange';

function refusal(options: unknown): { option: string; message: string } {
  try {
    resolveAuthOptions(options);
  } catch (error) {
    if (error instanceof ConfigurationError) return { option: error.option, message: error.message };
    throw error;
  }
  throw new Error('expected a ConfigurationError');
}

describe('grant options', () => {
  test.each([
    [{ ...client, grant: 'implicit' }, 'auth.grant', "must be 'password', 'client_credentials', 'refresh_token' or { type, parameters, secrets }"],
    [{ ...client, grant: 'client_credentials', username: 'u', password: 'p' }, 'auth.username', "applies only to the password grant, not to `grant: 'client_credentials'`"],
    [{ ...client, grant: 'client_credentials', account: () => ({ username: 'u', password: 'p' }) }, 'auth.account', 'applies only to the password grant'],
    [{ ...client, grant: 'refresh_token' }, 'auth.refreshToken', 'must be a non-empty string'],
    [{ ...client, grant: 'refresh_token', refreshToken: '' }, 'auth.refreshToken', 'must be a non-empty string'],
    [{ ...client, username: 'u', password: 'p', refreshToken: 'rt' }, 'auth.refreshToken', "applies only with `grant: 'refresh_token'`"],
    [{ ...client, grant: { type: 'token-exchange' } }, 'auth.grant.type', 'must be an absolute URI'],
    [{ ...client, grant: { type: EXCHANGE, parameter: {} } }, 'auth.grant.parameter', 'did you mean `parameters`'],
    [{ ...client, grant: { type: EXCHANGE, parameters: { client_secret: 'x' } } }, 'auth.grant.parameters.client_secret', 'a parameter the library sends itself'],
    [{ ...client, grant: { type: EXCHANGE, secrets: { grant_type: 'x' } } }, 'auth.grant.secrets.grant_type', 'a parameter the library sends itself'],
    [{ ...client, grant: { type: EXCHANGE, parameters: { a: 1 } } }, 'auth.grant.parameters.a', 'must be a non-empty string'],
    [{ ...client, grant: { type: EXCHANGE, secrets: { a: 1 } } }, 'auth.grant.secrets.a', 'must be a non-empty string, or a function'],
    [{ ...client, grant: { type: EXCHANGE, parameters: { a: 'x' }, secrets: { a: 'y' } } }, 'auth.grant.secrets.a', 'is also in `parameters`'],
    [{ ...client, grant: 'client_credentials', revocationUrl: 'http://idp.example.com/revoke' }, 'auth.revocationUrl', 'must use https'],
    [{ ...client, grant: 'client_credentials', revokeOnClear: 'yes' }, 'auth.revokeOnClear', 'must be a boolean'],
  ])('%j is refused naming %s', (options, option, message) => {
    const refused = refusal(options);
    expect(refused.option).toBe(option);
    expect(refused.message).toContain(message);
  });

  test('the refresh token and an extension grant\'s secrets print redacted, their names kept', () => {
    const given = resolveAuthOptions({ ...client, grant: 'refresh_token', refreshToken: 'rt-Secret-1' });
    const extension = resolveAuthOptions({ ...client, grant: { type: EXCHANGE, parameters: { audience: 'api' }, secrets: { subject_token: 'st-Secret-2' } } });
    for (const text of [inspect(given, { depth: null }), JSON.stringify(given), inspect(extension, { depth: null }), JSON.stringify(extension)]) {
      expect(text).not.toMatch(/rt-Secret-1|st-Secret-2|client-secret-1/);
    }
    expect(JSON.stringify(extension)).toContain('"subject_token","[REDACTED]"');
    expect(JSON.stringify(extension)).toContain('"audience","api"');
  });

  test('passwordGrant() on an endpoint of another grant rejects with a ConfigurationError and sends nothing', async () => {
    const authority = createMemoryAuthority();
    const { tokenUrl, clientId, clientSecret, adapter } = authority.credentials;
    const endpoint = createTokenEndpoint({ tokenUrl, clientId, clientSecret, adapter, grant: 'client_credentials' });
    await expect(endpoint.passwordGrant()).rejects.toMatchObject({ name: 'ConfigurationError', option: 'createTokenEndpoint.grant' });
    expect(authority.stats.tokenRequests).toBe(0);
    await expect(endpoint.grant()).resolves.toMatchObject({ accessToken: 'at-1' });
  });

  test.each([
    ['throws', () => { throw new Error('vault down: st-Leaked-3'); }, 'threw'],
    ['answers a number', () => 42 as unknown as string, 'invalid'],
  ] as const)('a secret parameter function that %s is a CredentialError naming the parameter, with no token request', async (_, secret, failure) => {
    const authority = createMemoryAuthority();
    const { tokenUrl, clientId, clientSecret, adapter } = authority.credentials;
    const api = createAuthClient({
      baseURL: authority.apiUrl,
      adapter: authority.adapter,
      auth: { tokenUrl, clientId, clientSecret, adapter, grant: { type: EXCHANGE, secrets: { subject_token: secret } } },
    });
    const error = await api.get('/x').then(() => undefined, (reason: unknown) => reason);
    expect(error).toBeInstanceOf(CredentialError);
    expect(error).toMatchObject({ credential: 'grant.secrets', parameter: 'subject_token', failure });
    expect(inspect(error, { depth: null })).not.toContain('st-Leaked-3');
    expect(authority.stats.tokenRequests).toBe(0);
  });
});
