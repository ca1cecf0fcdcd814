/**
 * Real servers disagree on statuses: a wrong password is 400 `invalid_grant` on RFC 6749 servers and 403 at the
 * provider, a wrong client secret 400 or 401 `invalid_client`. The class follows the OAuth `error` code first and the
 * status second; the cooldown follows the class; a shared cooldown rebuilds the same class.
 */
import nock from 'nock';

import {
  ErrorCode,
  GrantRejectedError,
  InvalidClientError,
  InvalidRequestError,
  RefreshTokenRejectedError,
  TokenEndpointError,
  UserAuthenticationError,
} from '../src/index.js';
import { isCredentialFailure } from '../src/errors.js';
import { errorFromSharedFailure, parseSharedFailure, sharedFailureOf } from '../src/stores/shared-failure.js';
import { endpointWith, IDP, REFRESH_TOKEN, rejectionOf, TOKEN_PATH } from './helpers/endpoint-fixtures.js';
import { useNock } from './helpers/endpoint-nock.js';

useNock();

type ErrorClass = typeof InvalidRequestError | typeof InvalidClientError | typeof UserAuthenticationError | typeof TokenEndpointError;

interface Case {
  readonly grant: 'password' | 'refresh_token';
  readonly status: number;
  readonly body: string | Record<string, string>;
  readonly type: ErrorClass;
  readonly meaning: string;
}

const cases: Case[] = [
  // The code decides, whatever the 4xx status.
  { grant: 'password', status: 400, body: { error: 'invalid_grant' }, type: UserAuthenticationError, meaning: 'user authentication failed' },
  { grant: 'password', status: 401, body: { error: 'invalid_grant' }, type: UserAuthenticationError, meaning: 'user authentication failed' },
  { grant: 'password', status: 403, body: { error: 'invalid_grant' }, type: UserAuthenticationError, meaning: 'user authentication failed' },
  { grant: 'refresh_token', status: 400, body: { error: 'invalid_grant' }, type: InvalidRequestError, meaning: 'the refresh token is invalid, expired or revoked' },
  { grant: 'refresh_token', status: 403, body: { error: 'invalid_grant' }, type: InvalidRequestError, meaning: 'the refresh token is invalid, expired or revoked' },
  { grant: 'password', status: 400, body: { error: 'invalid_client' }, type: InvalidClientError, meaning: 'invalid client credentials' },
  { grant: 'password', status: 401, body: { error: 'invalid_client' }, type: InvalidClientError, meaning: 'invalid client credentials' },
  { grant: 'password', status: 403, body: { error: 'invalid_client' }, type: InvalidClientError, meaning: 'invalid client credentials' },
  { grant: 'refresh_token', status: 400, body: { error: 'invalid_client' }, type: InvalidClientError, meaning: 'invalid client credentials' },
  {
    grant: 'password',
    status: 400,
    body: { error: 'invalid_scope' },
    type: InvalidRequestError,
    meaning: 'the requested scope is invalid, unknown or exceeds what the client may ask for',
  },
  { grant: 'password', status: 400, body: { error: 'unauthorized_client' }, type: InvalidRequestError, meaning: 'the client is not allowed to use this grant type' },
  { grant: 'password', status: 401, body: { error: 'unauthorized_client' }, type: InvalidRequestError, meaning: 'the client is not allowed to use this grant type' },
  { grant: 'password', status: 400, body: { error: 'unsupported_grant_type' }, type: InvalidRequestError, meaning: 'the token endpoint does not support this grant type' },
  { grant: 'password', status: 400, body: { error: 'invalid_request' }, type: InvalidRequestError, meaning: 'invalid request parameters' },
  { grant: 'password', status: 403, body: { error: 'invalid_request' }, type: InvalidRequestError, meaning: 'invalid request parameters' },
  // No code (an empty body, not JSON, an unknown code): the status decides, as the provider documents it.
  { grant: 'password', status: 400, body: '', type: InvalidRequestError, meaning: 'invalid request parameters' },
  { grant: 'password', status: 401, body: '', type: InvalidClientError, meaning: 'invalid client credentials' },
  { grant: 'password', status: 403, body: '', type: UserAuthenticationError, meaning: 'user authentication failed' },
  { grant: 'password', status: 403, body: '<html>Forbidden</html>', type: UserAuthenticationError, meaning: 'user authentication failed' },
  { grant: 'password', status: 401, body: { error: 'access_denied' }, type: InvalidClientError, meaning: 'invalid client credentials' },
  { grant: 'password', status: 404, body: '', type: TokenEndpointError, meaning: 'the token endpoint answered with an error' },
  // A transient status keeps its meaning (retried, escalated), whatever code it carries.
  { grant: 'password', status: 503, body: { error: 'invalid_client' }, type: TokenEndpointError, meaning: 'the token endpoint answered with an error' },
  { grant: 'password', status: 429, body: { error: 'invalid_grant' }, type: TokenEndpointError, meaning: 'the token endpoint answered with an error' },
  { grant: 'refresh_token', status: 500, body: { error: 'invalid_grant' }, type: TokenEndpointError, meaning: 'the token endpoint answered with an error' },
];

describe('an error answer is classified by its OAuth code first, its status second', () => {
  test.each(cases)('$grant, HTTP $status, $body: $type.name', async ({ grant, status, body, type, meaning }) => {
    nock(IDP).post(TOKEN_PATH).reply(status, body);
    const endpoint = endpointWith({ retry: { attempts: 1 } });

    const error = await rejectionOf(grant === 'password' ? endpoint.passwordGrant() : endpoint.refreshGrant(REFRESH_TOKEN));

    expect((error as Error).constructor).toBe(type);
    expect(error).toMatchObject({ status, grant });
    const code = typeof body === 'object' && body.error !== undefined ? ` (${body.error})` : '';
    expect((error as Error).message).toBe(`${grant} grant failed with HTTP ${status}: ${meaning}${code}`);
  });

  test('isInvalidGrant still says invalid_grant on a refused refresh token, and now also on a refused password', async () => {
    nock(IDP).post(TOKEN_PATH).twice().reply(400, { error: 'invalid_grant', error_description: 'expired' });
    const endpoint = endpointWith();

    const refresh = await rejectionOf(endpoint.refreshGrant(REFRESH_TOKEN));
    const password = await rejectionOf(endpoint.passwordGrant());

    expect(refresh).toBeInstanceOf(InvalidRequestError);
    expect((refresh as InvalidRequestError).isInvalidGrant).toBe(true);
    expect(password).toBeInstanceOf(UserAuthenticationError);
    expect((password as UserAuthenticationError).isInvalidGrant).toBe(true);
  });
});

describe('the cooldown counts credential failures on the configured grant, by class', () => {
  const response = (status: number) => ({ status, headers: {}, body: undefined });
  test.each<[string, boolean, TokenEndpointError]>([
    ['a 400 invalid_grant (RFC wrong password)', true, new UserAuthenticationError('password', response(400), { error: 'invalid_grant' })],
    ['a 403 (the provider\'s wrong password)', true, new UserAuthenticationError('password', response(403), {})],
    ['a 400 invalid_client', true, new InvalidClientError('password', response(400), { error: 'invalid_client' })],
    ['a 401 without a code', true, new InvalidClientError('password', response(401), {})],
    ['a 400 invalid_scope', false, new InvalidRequestError('password', response(400), { error: 'invalid_scope' })],
    ['a 400 invalid_request', false, new InvalidRequestError('password', response(400), { error: 'invalid_request' })],
    ['a 400 without a code', false, new InvalidRequestError('password', response(400), {})],
    // Reaches the cooldown only where it is final: a refresh token obtained elsewhere, with no grant to fall back on
    // (with one, grants.ts falls back and that grant's failure is the one the cooldown sees).
    ['an invalid_client on a refresh with nothing to fall back on', true, new InvalidClientError('refresh_token', response(401), {})],
    ['a client credentials invalid_client', true, new InvalidClientError('client_credentials', response(401), { error: 'invalid_client' })],
    ['an extension grant invalid_grant', true, new GrantRejectedError('extension', response(400), { error: 'invalid_grant' })],
    ['a refused refresh token with nothing to fall back on', true, new RefreshTokenRejectedError(new InvalidRequestError('refresh_token', response(400), { error: 'invalid_grant' }))],
    ['a token exchange invalid_request (a bad subject token)', false, new InvalidRequestError('extension', response(400), { error: 'invalid_request' })],
    ['a refused revocation', false, new InvalidClientError('revocation', response(401), {})],
    ['a 503', false, new TokenEndpointError('password', response(503), {})],
  ])('%s: a credential failure is %p', (_name, expected, error) => {
    expect(isCredentialFailure(error)).toBe(expected);
  });
});

describe('a shared failure rebuilds the same class, whatever its status', () => {
  const meta = (status: number) => ({ status, headers: { 'x-kept': 'no' }, body: { error: 'dropped' } });
  test.each<[string, TokenEndpointError]>([
    ['a 400 invalid_grant', new UserAuthenticationError('password', meta(400), { error: 'invalid_grant', errorDescription: 'Invalid user credentials' })],
    ['a 400 invalid_client', new InvalidClientError('password', meta(400), { error: 'invalid_client' })],
    ['an invalid_client after both Basic forms', new InvalidClientError('password', meta(401), { error: 'invalid_client', basicFormsTried: ['form-encoded', 'raw'] })],
    ['a 400 invalid_scope', new InvalidRequestError('password', meta(400), { error: 'invalid_scope' })],
  ])('%s comes back as the same class with the same message', (_name, original) => {
    const stored = JSON.stringify(sharedFailureOf(original));
    const parsed = parseSharedFailure(stored);
    if (parsed === undefined) throw new Error('the stored failure did not parse');
    const rebuilt = errorFromSharedFailure(parsed);

    expect(rebuilt.constructor).toBe(original.constructor);
    expect(rebuilt.message).toBe(original.message);
    expect(rebuilt).toMatchObject({ code: original.code, status: original.status, error: original.error, grant: 'password' });
    if (original instanceof InvalidClientError && rebuilt instanceof InvalidClientError) {
      expect(rebuilt.basicFormsTried).toEqual(original.basicFormsTried);
    }
  });

  test('a stored basicFormsTried that is not a list of the two forms is ignored', () => {
    const stored = JSON.stringify({ code: ErrorCode.INVALID_CLIENT, status: 401, grant: 'password', basicFormsTried: ['raw', 'other'] });
    expect(parseSharedFailure(stored)).toEqual({ code: ErrorCode.INVALID_CLIENT, status: 401, grant: 'password' });
  });
});
