import axios, { AxiosError } from 'axios';
import nock from 'nock';

import {
  type ClientAuthentication,
  ErrorCode,
  InvalidClientError,
  InvalidRequestError,
  OAuthBearerError,
  TokenEndpointError,
  TokenNetworkError,
  UserAuthenticationError,
} from '../src/index.js';
import {
  causeChain,
  endpointWith,
  IDP,
  REFRESH_TOKEN,
  rejectionOf,
  TOKEN_PATH,
  tokenBody,
  trickyCredentials,
} from './helpers/endpoint-fixtures.js';
import { onlyRequest, recordRequests, useNock } from './helpers/endpoint-nock.js';

useNock();

/** The tricky credentials, form-encoded by hand (space is `+`, UTF-8 bytes percent-encoded). */
const encoded = {
  clientId: 'my+client%3Aid%26%C3%BC',
  clientSecret: 's3cr%3Dt%2B%26%25+%C3%BC%F0%9F%98%80%3Ax',
  username: 'j%C3%B6rg+user%40example.com',
  password: 'p%26ss+w%3Drd%2B100%25%3A%C3%BC%F0%9F%98%80',
} as const;
const trickyRefreshToken = 'rt+/=&ü-0001';
const encodedRefreshToken = 'rt%2B%2F%3D%26%C3%BC-0001';
const basicHeader = `Basic ${Buffer.from(`${encoded.clientId}:${encoded.clientSecret}`).toString('base64')}`;

interface FormCase {
  readonly name: string;
  readonly grant: 'password' | 'refresh_token';
  readonly clientAuthentication: ClientAuthentication;
  readonly scope?: string;
  readonly pairs: readonly (readonly [string, string])[];
  readonly raw: string;
  readonly authorization: string | null;
}

const t = trickyCredentials;
const formCases: FormCase[] = [
  {
    name: 'a password grant with client_secret_post sends the client credentials and the user credentials as form fields',
    grant: 'password',
    clientAuthentication: 'client_secret_post',
    pairs: [['grant_type', 'password'], ['client_id', t.clientId], ['client_secret', t.clientSecret], ['username', t.username], ['password', t.password]],
    raw: `grant_type=password&client_id=${encoded.clientId}&client_secret=${encoded.clientSecret}&username=${encoded.username}&password=${encoded.password}`,
    authorization: null,
  },
  {
    name: 'a password grant with client_secret_post sends a configured scope last',
    grant: 'password',
    clientAuthentication: 'client_secret_post',
    scope: 'read write',
    pairs: [['grant_type', 'password'], ['client_id', t.clientId], ['client_secret', t.clientSecret], ['username', t.username], ['password', t.password], ['scope', 'read write']],
    raw: `grant_type=password&client_id=${encoded.clientId}&client_secret=${encoded.clientSecret}&username=${encoded.username}&password=${encoded.password}&scope=read+write`,
    authorization: null,
  },
  {
    name: 'a password grant with client_secret_basic sends the client credentials only in the Basic header',
    grant: 'password',
    clientAuthentication: 'client_secret_basic',
    pairs: [['grant_type', 'password'], ['username', t.username], ['password', t.password]],
    raw: `grant_type=password&username=${encoded.username}&password=${encoded.password}`,
    authorization: basicHeader,
  },
  {
    name: 'a password grant with client_secret_basic sends a configured scope last',
    grant: 'password',
    clientAuthentication: 'client_secret_basic',
    scope: 'read write',
    pairs: [['grant_type', 'password'], ['username', t.username], ['password', t.password], ['scope', 'read write']],
    raw: `grant_type=password&username=${encoded.username}&password=${encoded.password}&scope=read+write`,
    authorization: basicHeader,
  },
  {
    name: 'a refresh grant with client_secret_post sends the client credentials and the refresh token as form fields',
    grant: 'refresh_token',
    clientAuthentication: 'client_secret_post',
    pairs: [['grant_type', 'refresh_token'], ['client_id', t.clientId], ['client_secret', t.clientSecret], ['refresh_token', trickyRefreshToken]],
    raw: `grant_type=refresh_token&client_id=${encoded.clientId}&client_secret=${encoded.clientSecret}&refresh_token=${encodedRefreshToken}`,
    authorization: null,
  },
  {
    name: 'a refresh grant with client_secret_post sends a configured scope last',
    grant: 'refresh_token',
    clientAuthentication: 'client_secret_post',
    scope: 'read write',
    pairs: [['grant_type', 'refresh_token'], ['client_id', t.clientId], ['client_secret', t.clientSecret], ['refresh_token', trickyRefreshToken], ['scope', 'read write']],
    raw: `grant_type=refresh_token&client_id=${encoded.clientId}&client_secret=${encoded.clientSecret}&refresh_token=${encodedRefreshToken}&scope=read+write`,
    authorization: null,
  },
  {
    name: 'a refresh grant with client_secret_basic sends only the refresh token in the body',
    grant: 'refresh_token',
    clientAuthentication: 'client_secret_basic',
    pairs: [['grant_type', 'refresh_token'], ['refresh_token', trickyRefreshToken]],
    raw: `grant_type=refresh_token&refresh_token=${encodedRefreshToken}`,
    authorization: basicHeader,
  },
  {
    name: 'a refresh grant with client_secret_basic sends a configured scope last',
    grant: 'refresh_token',
    clientAuthentication: 'client_secret_basic',
    scope: 'read write',
    pairs: [['grant_type', 'refresh_token'], ['refresh_token', trickyRefreshToken], ['scope', 'read write']],
    raw: `grant_type=refresh_token&refresh_token=${encodedRefreshToken}&scope=read+write`,
    authorization: basicHeader,
  },
];

describe('the token request', () => {
  test.each(formCases)('$name', async ({ grant, clientAuthentication, scope, pairs, raw, authorization }) => {
    const sent = recordRequests(nock(IDP).post(TOKEN_PATH).reply(200, tokenBody));
    const endpoint = endpointWith({ ...trickyCredentials, clientAuthentication, ...(scope === undefined ? {} : { scope }) });

    await (grant === 'password' ? endpoint.passwordGrant() : endpoint.refreshGrant(trickyRefreshToken));

    const request = onlyRequest(sent);
    expect(request.body).toBe(raw);
    expect([...new URLSearchParams(request.body)]).toEqual(pairs);
    expect(request.headers.get('content-type')).toBe('application/x-www-form-urlencoded');
    expect(request.headers.get('authorization')).toBe(authorization);
  });

  test('the Basic credentials decode to the form-encoded client id and secret joined by a single colon', async () => {
    const sent = recordRequests(nock(IDP).post(TOKEN_PATH).reply(200, tokenBody));
    await endpointWith({ ...trickyCredentials, clientAuthentication: 'client_secret_basic' }).passwordGrant();

    const header = onlyRequest(sent).headers.get('authorization') ?? '';
    const decoded = Buffer.from(header.replace(/^Basic /, ''), 'base64').toString('utf8');
    const parts = decoded.split(':');
    expect(parts).toHaveLength(2);
    const formDecode = (part: string): string | null => new URLSearchParams(`v=${part}`).get('v');
    expect(parts.map(formDecode)).toEqual([trickyCredentials.clientId, trickyCredentials.clientSecret]);
  });

  test('plain ASCII Basic credentials are the id and secret as given', async () => {
    const sent = recordRequests(nock(IDP).post(TOKEN_PATH).reply(200, tokenBody));
    await endpointWith({ clientAuthentication: 'client_secret_basic' }).passwordGrant();

    expect(onlyRequest(sent).headers.get('authorization')).toBe(
      `Basic ${Buffer.from('fixture-client:fixture-client-secret-0001').toString('base64')}`,
    );
  });

  test('the request asks for JSON', async () => {
    const sent = recordRequests(nock(IDP).post(TOKEN_PATH).reply(200, tokenBody));
    await endpointWith().passwordGrant();

    expect(onlyRequest(sent).headers.get('accept')).toBe('application/json');
  });

  test('a token request goes through its own axios instance, unseen by a global axios interceptor', async () => {
    const seen: string[] = [];
    const id = axios.interceptors.request.use((config) => {
      seen.push(config.url ?? '');
      return config;
    });
    try {
      nock(IDP).post(TOKEN_PATH).reply(200, tokenBody);
      nock('https://api.test').get('/probe').reply(200, {});

      await endpointWith().passwordGrant();
      // Proves the interceptor is live: it sees a request sent through the global instance.
      await axios.get('https://api.test/probe');

      expect(seen).toEqual(['https://api.test/probe']);
    } finally {
      axios.interceptors.request.eject(id);
    }
  });

  test('an Authorization header in the global axios defaults never reaches the token endpoint', async () => {
    axios.defaults.headers.common.Authorization = 'Bearer app-wide-token';
    try {
      const sent = recordRequests(nock(IDP).post(TOKEN_PATH).reply(200, tokenBody));
      await endpointWith().passwordGrant();

      expect(onlyRequest(sent).headers.get('authorization')).toBeNull();
    } finally {
      delete axios.defaults.headers.common.Authorization;
    }
  });
});

describe('a successful grant', () => {
  test('the password grant returns the tokens the endpoint issued', async () => {
    nock(IDP).post(TOKEN_PATH).reply(200, tokenBody);
    const tokens = await endpointWith().passwordGrant();

    expect(tokens).toMatchObject({
      accessToken: tokenBody.access_token,
      tokenType: 'Bearer',
      refreshToken: tokenBody.refresh_token,
      scope: tokenBody.scope,
    });
  });

  test('the refresh grant returns the renewed tokens', async () => {
    nock(IDP).post(TOKEN_PATH).reply(200, { access_token: 'fixture-access-token-0002', token_type: 'bearer', expires_in: 60 });
    const tokens = await endpointWith().refreshGrant(REFRESH_TOKEN);

    expect(tokens.accessToken).toBe('fixture-access-token-0002');
    expect(tokens.refreshToken).toBeUndefined();
  });
});

const statusCases: { status: number; body: string; type: typeof TokenEndpointError; code: string }[] = [
  { status: 400, body: '{"error":"invalid_request"}', type: InvalidRequestError, code: ErrorCode.INVALID_REQUEST },
  { status: 400, body: 'Bad Request', type: InvalidRequestError, code: ErrorCode.INVALID_REQUEST },
  { status: 401, body: '{"error":"invalid_client"}', type: InvalidClientError, code: ErrorCode.INVALID_CLIENT },
  { status: 403, body: '{"error":"access_denied"}', type: UserAuthenticationError, code: ErrorCode.USER_AUTHENTICATION },
  { status: 500, body: 'Internal Server Error', type: TokenEndpointError, code: ErrorCode.TOKEN_ENDPOINT },
  { status: 503, body: '<html>down for maintenance</html>', type: TokenEndpointError, code: ErrorCode.TOKEN_ENDPOINT },
];

describe('an error answer', () => {
  test.each(statusCases)('HTTP $status with body $body becomes $type.name with code $code', async ({ status, body, type, code }) => {
    nock(IDP).post(TOKEN_PATH).reply(status, body);
    const error = await rejectionOf(endpointWith().passwordGrant());

    expect(error).toBeInstanceOf(OAuthBearerError);
    expect((error as object).constructor).toBe(type);
    expect(error).toMatchObject({ status, code, grant: 'password' });
  });

  test('a 400 invalid_grant on a refresh says so, with the endpoint\'s code and description', async () => {
    nock(IDP).post(TOKEN_PATH).reply(400, { error: 'invalid_grant', error_description: 'Refresh token expired' });
    const error = await rejectionOf(endpointWith().refreshGrant(REFRESH_TOKEN));

    expect(error).toBeInstanceOf(InvalidRequestError);
    const invalid = error as InvalidRequestError;
    expect(invalid.error).toBe('invalid_grant');
    expect(invalid.errorDescription).toBe('Refresh token expired');
    expect(invalid.isInvalidGrant).toBe(true);
    expect(invalid.grant).toBe('refresh_token');
    expect(invalid.code).toBe(ErrorCode.INVALID_REQUEST);
  });

  test('a 400 with another error code is not an invalid grant', async () => {
    nock(IDP).post(TOKEN_PATH).reply(400, { error: 'unsupported_grant_type' });
    const error = await rejectionOf(endpointWith().passwordGrant());

    expect(error).toBeInstanceOf(InvalidRequestError);
    expect((error as InvalidRequestError).isInvalidGrant).toBe(false);
  });

  test('a 400 with a non-JSON body has no OAuth error fields', async () => {
    nock(IDP).post(TOKEN_PATH).reply(400, 'invalid_grant: nope');
    const error = await rejectionOf(endpointWith().passwordGrant());

    expect(error).toBeInstanceOf(InvalidRequestError);
    expect(error).toMatchObject({ error: undefined, errorDescription: undefined, isInvalidGrant: false });
  });

  test('a 302 is reported as an error and the redirect is not followed', async () => {
    // Were the redirect followed, the POST would go to a host nock refuses and surface as a network error.
    nock(IDP).post(TOKEN_PATH).reply(302, '', { Location: 'https://elsewhere.test/steal' });
    const error = await rejectionOf(endpointWith().passwordGrant());

    expect((error as object).constructor).toBe(TokenEndpointError);
    expect(error).toMatchObject({ status: 302, code: ErrorCode.TOKEN_ENDPOINT });
  });
});

describe('a failure to reach the endpoint', () => {
  function expectSanitizedChain(error: unknown): void {
    for (const link of causeChain(error).slice(1)) {
      expect(link).toBeInstanceOf(Error);
      expect(link).not.toBeInstanceOf(AxiosError);
      expect(axios.isAxiosError(link)).toBe(false);
    }
    for (const link of causeChain(error)) expect(link).not.toHaveProperty('config');
  }

  test('a network failure becomes a TokenNetworkError with a sanitized cause', async () => {
    nock(IDP).post(TOKEN_PATH).replyWithError('connect ECONNREFUSED');
    const error = await rejectionOf(endpointWith().passwordGrant());

    expect(error).toBeInstanceOf(TokenNetworkError);
    expect(error).toMatchObject({ code: ErrorCode.NETWORK, timedOut: false, grant: 'password' });
    expect((error as Error).cause).toBeInstanceOf(Error);
    expectSanitizedChain(error);
  });

  test('an endpoint that does not answer within the timeout becomes a TokenNetworkError that says it timed out', async () => {
    nock(IDP).post(TOKEN_PATH).delay(300).reply(200, tokenBody);
    const error = await rejectionOf(endpointWith({ timeout: 20 }).refreshGrant(REFRESH_TOKEN));

    expect(error).toBeInstanceOf(TokenNetworkError);
    expect(error).toMatchObject({ code: ErrorCode.NETWORK, timedOut: true, grant: 'refresh_token' });
    expect((error as Error).cause).toBeInstanceOf(Error);
    expectSanitizedChain(error);
  });
});
