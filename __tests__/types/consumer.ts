/**
 * Type-checked against the BUILT package (dist/*.d.ts) by `npm run check:package`, as a user's code would be: the
 * public names, the per-request `skipAuth` option without a cast, and the extra entry points.
 */
import axios from 'axios';
import { attachAuth, createAuthClient, ErrorCode, OAuthBearerError, type TokenSet } from 'axios-oauth-bearer';
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
  return [tokens.expiresAt, isOurs, RedisTokenStore, startAuthServer];
}
