/**
 * Type-checked against the BUILT package (dist/*.d.ts) by `npm run check:package`, as a user's code would be: the
 * public names, the per-request `skipAuth` and `account` options without a cast, the options union (a config with
 * neither or both of `username` and `account` does not compile), and the extra entry points.
 */
import axios from 'axios';
import { type AccountTokenManagers, type AuthClient, attachAuth, createAuthClient, ErrorCode, OAuthBearerError, type TokenManager, type TokenSet } from 'axios-oauth-bearer';
import { RedisTokenStore } from 'axios-oauth-bearer/redis';
import { startAuthServer } from 'axios-oauth-bearer/testing/server';

export async function consumer(): Promise<readonly unknown[]> {
  const auth = { tokenUrl: 'https://idp.test/token', clientId: 'c', clientSecret: 's', username: 'u', password: 'p' };
  const api = createAuthClient({ baseURL: 'https://api.test', timeout: 5000, auth });
  await api.get('/public', { skipAuth: true });
  const handle = attachAuth(axios.create({ baseURL: 'https://api.test' }), auth);
  const tokens: TokenSet = await handle.tokens.refresh();
  const code: string = ErrorCode.INVALID_CLIENT;
  const isOurs = (error: unknown): boolean => error instanceof OAuthBearerError && error.code === code;
  handle.detach();
  return [tokens.expiresAt, isOurs, RedisTokenStore, startAuthServer, await accounts(), await grants()];
}

/** Every grant: each compiles with its own fields, and a password-grant config without a username does not. */
async function grants(): Promise<readonly unknown[]> {
  const client = { tokenUrl: 'https://idp.test/token', clientId: 'c', clientSecret: 's' };
  const machine: AuthClient = createAuthClient({ baseURL: 'https://api.test', auth: { ...client, grant: 'client_credentials', scope: 'read' } });
  const given: AuthClient = createAuthClient({ baseURL: 'https://api.test', auth: { ...client, grant: 'refresh_token', refreshToken: 'rt' } });
  const exchange = {
    type: 'urn:ietf:params:oauth:grant-type:token-exchange',
    parameters: { subject_token_type: 'urn:ietf:params:oauth:token-type:access_token' },
    secrets: { subject_token: (): Promise<string> => Promise.resolve('upstream') },
  };
  const exchanged: AuthClient = createAuthClient({ baseURL: 'https://api.test', auth: { ...client, grant: exchange } });
  await machine.tokens.revoke();
  // @ts-expect-error a password-grant config needs a username
  createAuthClient({ baseURL: 'https://api.test', auth: { ...client, password: 'p' } });
  // @ts-expect-error client credentials take no username
  createAuthClient({ baseURL: 'https://api.test', auth: { ...client, grant: 'client_credentials', username: 'u', password: 'p' } });
  // @ts-expect-error a refresh token obtained elsewhere must be given
  createAuthClient({ baseURL: 'https://api.test', auth: { ...client, grant: 'refresh_token' } });
  return [given, exchanged];
}

/** Many accounts: the client's type follows the options, and the request names its account. */
async function accounts(): Promise<readonly unknown[]> {
  const client = { tokenUrl: 'https://idp.test/token', clientId: 'c', clientSecret: (): Promise<string> => Promise.resolve('s') };
  const many: AuthClient<AccountTokenManagers> = createAuthClient({ baseURL: 'https://api.test', auth: { ...client, account: (id: string) => ({ username: id, password: 'p' }) } });
  await many.get('/reports', { account: 'customer-42' });
  const one: TokenManager = many.tokens.for('customer-42');
  // @ts-expect-error a password-grant config needs a username (or account)
  createAuthClient({ baseURL: 'https://api.test', auth: { ...client, password: 'p' } });
  // @ts-expect-error username and account exclude each other
  createAuthClient({ baseURL: 'https://api.test', auth: { ...client, username: 'u', password: 'p', account: () => ({ username: 'u', password: 'p' }) } });
  // @ts-expect-error a multi-account client's tokens are not one TokenManager
  const wrong: TokenManager = many.tokens;
  return [one, wrong];
}
