import util from 'node:util';

import nock from 'nock';

import { type AuthOptions, ErrorCode, InvalidTokenResponseError, type TokenSet } from '../src/index.js';
import { MAX_TOKEN_LENGTH } from '../src/limits.js';
import { endpointWith, IDP, REFRESH_TOKEN, rejectionOf, TOKEN_PATH } from './helpers/endpoint-fixtures.js';
import { useNock } from './helpers/endpoint-nock.js';

useNock();

/** The fixed clock every test here runs on: the moment the token request is sent. */
const SENT_AT = 1_700_000_000_000;
let now = SENT_AT;

beforeEach(() => {
  now = SENT_AT;
  jest.spyOn(Date, 'now').mockImplementation(() => now);
});

afterEach(() => {
  jest.restoreAllMocks();
});

const valid = { access_token: 'fixture-access-token-0001', token_type: 'Bearer', expires_in: 3600 };

/** Answers one password grant with `body` (sent as raw text) and returns the grant's result. */
async function passwordGrantAnswered(body: unknown, options: Partial<AuthOptions> = {}): Promise<TokenSet> {
  nock(IDP)
    .post(TOKEN_PATH)
    .reply(200, typeof body === 'string' ? body : JSON.stringify(body), { 'Content-Type': 'application/json' });
  return endpointWith(options).passwordGrant();
}

function without(key: keyof typeof valid): Record<string, unknown> {
  return Object.fromEntries(Object.entries(valid).filter(([name]) => name !== key));
}

describe('a 200 answer that cannot be used', () => {
  const cases: { name: string; body: unknown; field: string }[] = [
    { name: 'a missing access_token', body: without('access_token'), field: 'access_token' },
    { name: 'an empty access_token', body: { ...valid, access_token: '' }, field: 'access_token' },
    { name: 'a numeric access_token', body: { ...valid, access_token: 12345 }, field: 'access_token' },
    { name: 'an object access_token', body: { ...valid, access_token: { value: 'x' } }, field: 'access_token' },
    { name: 'a missing token_type', body: without('token_type'), field: 'token_type' },
    { name: 'a mac token_type', body: { ...valid, token_type: 'mac' }, field: 'token_type' },
    { name: 'a numeric token_type', body: { ...valid, token_type: 1 }, field: 'token_type' },
    { name: 'a negative expires_in', body: { ...valid, expires_in: -60 }, field: 'expires_in' },
    { name: 'a zero expires_in', body: { ...valid, expires_in: 0 }, field: 'expires_in' },
    { name: 'a non-numeric expires_in string', body: { ...valid, expires_in: 'one hour' }, field: 'expires_in' },
    { name: 'a negative expires_in string', body: { ...valid, expires_in: '-60' }, field: 'expires_in' },
    { name: 'a boolean expires_in', body: { ...valid, expires_in: true }, field: 'expires_in' },
    { name: 'a numeric refresh_token', body: { ...valid, refresh_token: 42 }, field: 'refresh_token' },
    { name: 'an empty refresh_token', body: { ...valid, refresh_token: '' }, field: 'refresh_token' },
    { name: 'an array scope', body: { ...valid, scope: ['read', 'write'] }, field: 'scope' },
    { name: 'a numeric scope', body: { ...valid, scope: 7 }, field: 'scope' },
    { name: 'a body that is not JSON', body: '<html>Login</html>', field: 'body' },
    { name: 'an empty body', body: '', field: 'body' },
    { name: 'a JSON array body', body: '[{"access_token":"x"}]', field: 'body' },
    { name: 'a JSON null body', body: 'null', field: 'body' },
    { name: 'a JSON string body', body: '"fixture-access-token-0001"', field: 'body' },
  ];

  test.each(cases)('$name is rejected as an invalid token response naming $field', async ({ body, field }) => {
    const error = await rejectionOf(passwordGrantAnswered(body));

    expect(error).toBeInstanceOf(InvalidTokenResponseError);
    expect(error).toMatchObject({ field, code: ErrorCode.INVALID_TOKEN_RESPONSE, grant: 'password' });
    expect((error as Error).message).toContain(field);
  });

  test('an invalid answer to a refresh grant names the refresh grant', async () => {
    nock(IDP).post(TOKEN_PATH).reply(200, { ...valid, token_type: 'mac' });
    const error = await rejectionOf(endpointWith().refreshGrant(REFRESH_TOKEN));

    expect(error).toBeInstanceOf(InvalidTokenResponseError);
    expect(error).toMatchObject({ field: 'token_type', grant: 'refresh_token' });
  });

  test('the invalid answer is kept on the error with its tokens redacted', async () => {
    const error = await rejectionOf(passwordGrantAnswered({ ...valid, token_type: 'mac', refresh_token: REFRESH_TOKEN }));

    expect((error as InvalidTokenResponseError).response).toMatchObject({
      status: 200,
      body: { access_token: '[REDACTED]', refresh_token: '[REDACTED]', token_type: 'mac', expires_in: 3600 },
    });
  });
});

describe('a 200 answer that is accepted', () => {
  test.each(['Bearer', 'bearer', 'BEARER'])('token_type %s is accepted as a bearer token', async (tokenType) => {
    const tokens = await passwordGrantAnswered({ ...valid, token_type: tokenType });

    expect(tokens.tokenType).toBe('Bearer');
    expect(tokens.accessToken).toBe(valid.access_token);
  });

  test('refresh_token and scope are optional', async () => {
    const tokens = await passwordGrantAnswered(valid);

    expect(tokens.refreshToken).toBeUndefined();
    expect(tokens.scope).toBeUndefined();
  });

  test('refresh_token and scope are kept when present', async () => {
    const tokens = await passwordGrantAnswered({ ...valid, refresh_token: REFRESH_TOKEN, scope: 'read write' });

    expect(tokens.refreshToken).toBe(REFRESH_TOKEN);
    expect(tokens.scope).toBe('read write');
  });
});

describe('what the server sent is kept', () => {
  test('without scope in the answer, the token set’s scope is the requested one (RFC 6749 5.1)', async () => {
    expect((await passwordGrantAnswered(valid, { scope: 'read' })).scope).toBe('read');
    expect((await passwordGrantAnswered({ ...valid, scope: 'read write' }, { scope: 'read' })).scope).toBe('read write');
  });

  test('the id_token and every other field are kept, and print redacted', async () => {
    const idToken = 'eyJhbGciOiJub25lIn0.eyJzdWIiOiJhZGEifQ.';
    const tokens = await passwordGrantAnswered({ ...valid, token_type: 'bearer', id_token: idToken, session_state: 'abc', not_before_policy: 0, refresh_token_secret: 'rts-SECRET' });

    expect(tokens.idToken).toBe(idToken);
    expect(tokens.extra).toEqual({ token_type: 'bearer', expires_in: 3600, session_state: 'abc', not_before_policy: 0, refresh_token_secret: 'rts-SECRET' });
    const printed = `${util.inspect(tokens, { depth: null })}${JSON.stringify(tokens)}`;
    expect(printed).not.toContain(idToken);
    expect(printed).not.toContain(valid.access_token);
    expect(printed).toContain('session_state');
  });

  test('an id_token that is not a printable string is refused, naming it', async () => {
    await expect(passwordGrantAnswered({ ...valid, id_token: 'a\r\nb' })).rejects.toMatchObject({ field: 'id_token' });
    await expect(passwordGrantAnswered({ ...valid, id_token: 7 })).rejects.toMatchObject({ field: 'id_token' });
  });
});

describe('the expiry of a token', () => {
  const jwt = (claims: Record<string, unknown>): string =>
    ['{"alg":"RS256"}', JSON.stringify(claims)].map((part) => Buffer.from(part).toString('base64url')).join('.') + '.c2ln';

  test('without expires_in, a JWT access token’s exp - iat is its lifetime, counted from the request', async () => {
    // The server's clock runs an hour behind ours: the claims' own difference still gives 4 seconds.
    const serverNow = SENT_AT / 1000 - 3600;
    const tokens = await passwordGrantAnswered({ ...without('expires_in'), access_token: jwt({ iat: serverNow, exp: serverNow + 4 }) });
    expect(tokens.expiresAt).toBe(SENT_AT + 4_000);
  });

  test('without expires_in and iat, a JWT’s exp is used when it lies ahead, else the default', async () => {
    const ahead = await passwordGrantAnswered({ ...without('expires_in'), access_token: jwt({ exp: SENT_AT / 1000 + 90 }) });
    expect(ahead.expiresAt).toBe(SENT_AT + 90_000);
    const past = await passwordGrantAnswered({ ...without('expires_in'), access_token: jwt({ exp: SENT_AT / 1000 - 5 }) });
    expect(past.expiresAt).toBe(SENT_AT + 300_000);
  });

  test('expires_in wins over a JWT’s claims, and a token that is not a JWT gets the default', async () => {
    const both = await passwordGrantAnswered({ ...valid, access_token: jwt({ iat: 0, exp: 4 }) });
    expect(both.expiresAt).toBe(SENT_AT + 3_600_000);
    const opaque = await passwordGrantAnswered({ ...without('expires_in'), access_token: 'a.b.c' });
    expect(opaque.expiresAt).toBe(SENT_AT + 300_000);
  });

  test('expiresAt is expires_in seconds after the request was sent', async () => {
    const tokens = await passwordGrantAnswered(valid);

    expect(tokens.expiresAt).toBe(SENT_AT + 3_600_000);
  });

  test('a numeric string expires_in such as "3600" is accepted', async () => {
    const tokens = await passwordGrantAnswered({ ...valid, expires_in: '3600' });

    expect(tokens.expiresAt).toBe(SENT_AT + 3_600_000);
  });

  test('without expires_in the default lifetime of 300 seconds is assumed', async () => {
    const tokens = await passwordGrantAnswered(without('expires_in'));

    expect(tokens.expiresAt).toBe(SENT_AT + 300_000);
  });

  test('without expires_in a configured defaultExpiresIn is assumed', async () => {
    const tokens = await passwordGrantAnswered(without('expires_in'), { defaultExpiresIn: 45 });

    expect(tokens.expiresAt).toBe(SENT_AT + 45_000);
  });

  test('a configured defaultExpiresIn does not override the expires_in the endpoint sent', async () => {
    const tokens = await passwordGrantAnswered(valid, { defaultExpiresIn: 45 });

    expect(tokens.expiresAt).toBe(SENT_AT + 3_600_000);
  });

  test.each(['password', 'refresh_token'] as const)(
    'a %s grant counts expiry from when the request was sent, not from when a slow answer arrived',
    async (grant) => {
      // The endpoint takes two minutes (on the mocked clock) to answer.
      nock(IDP)
        .post(TOKEN_PATH)
        .reply(() => {
          now += 120_000;
          return [200, valid];
        });
      const endpoint = endpointWith();

      const tokens = await (grant === 'password' ? endpoint.passwordGrant() : endpoint.refreshGrant(REFRESH_TOKEN));

      expect(now).toBe(SENT_AT + 120_000);
      expect(tokens.expiresAt).toBe(SENT_AT + 3_600_000);
    },
  );
});

describe('the syntax of the tokens and scope in a 200 answer', () => {
  const HEADER_RULE = 'must be printable ASCII without spaces (it is sent as an HTTP header value)';
  const TOO_LONG = `must be at most ${MAX_TOKEN_LENGTH} characters long`;
  const rejected: { name: string; field: 'access_token' | 'refresh_token' | 'scope'; value: string; problem: string }[] = [
    { name: 'an access token with CR LF and a second header', field: 'access_token', value: 'at-1\r\nX-Injected: 1', problem: HEADER_RULE },
    { name: 'an access token with a bare LF', field: 'access_token', value: 'at-1\nX', problem: HEADER_RULE },
    { name: 'an access token with a NUL', field: 'access_token', value: 'at-1\u0000x', problem: HEADER_RULE },
    { name: 'an access token with a tab', field: 'access_token', value: 'at-1\tx', problem: HEADER_RULE },
    { name: 'an access token with DEL', field: 'access_token', value: 'at-1\u007Fx', problem: HEADER_RULE },
    { name: 'an access token with a space', field: 'access_token', value: 'at-1 x', problem: HEADER_RULE },
    { name: 'an access token with a terminal escape sequence', field: 'access_token', value: 'at-1\u001B[2J', problem: HEADER_RULE },
    { name: 'an access token with a C1 control', field: 'access_token', value: 'at-1\u0085x', problem: HEADER_RULE },
    { name: 'an access token with a Latin-1 letter', field: 'access_token', value: 'at-ü', problem: HEADER_RULE },
    { name: 'an access token with an emoji', field: 'access_token', value: 'at-😀', problem: HEADER_RULE },
    { name: 'an access token with a bidi override', field: 'access_token', value: 'at-\u202Ex', problem: HEADER_RULE },
    { name: 'an access token one character too long', field: 'access_token', value: 'a'.repeat(MAX_TOKEN_LENGTH + 1), problem: TOO_LONG },
    { name: 'a 900 KB access token', field: 'access_token', value: 'a'.repeat(900_000), problem: TOO_LONG },
    { name: 'a refresh token with CR LF', field: 'refresh_token', value: 'rt-1\r\nx', problem: 'must be printable ASCII' },
    { name: 'a refresh token with a NUL', field: 'refresh_token', value: 'rt-1\u0000', problem: 'must be printable ASCII' },
    { name: 'a refresh token with DEL', field: 'refresh_token', value: 'rt-1\u007F', problem: 'must be printable ASCII' },
    { name: 'a refresh token with a non-ASCII letter', field: 'refresh_token', value: 'rt-ü', problem: 'must be printable ASCII' },
    { name: 'a refresh token one character too long', field: 'refresh_token', value: 'r'.repeat(MAX_TOKEN_LENGTH + 1), problem: TOO_LONG },
    { name: 'a scope with a terminal escape sequence', field: 'scope', value: 'read \u001B]0;owned\u0007', problem: 'must be printable ASCII' },
    { name: 'a scope with a newline', field: 'scope', value: 'read\nwrite', problem: 'must be printable ASCII' },
    { name: 'a scope with a bidi isolate', field: 'scope', value: 'read \u2066write', problem: 'must be printable ASCII' },
    { name: 'a scope one character too long', field: 'scope', value: 's'.repeat(MAX_TOKEN_LENGTH + 1), problem: TOO_LONG },
  ];

  test.each(rejected)('$name is an invalid token response naming $field', async ({ field, value, problem }) => {
    const error = await rejectionOf(passwordGrantAnswered({ ...valid, refresh_token: REFRESH_TOKEN, [field]: value }));

    expect(error).toBeInstanceOf(InvalidTokenResponseError);
    expect(error).toMatchObject({ field, grant: 'password', code: ErrorCode.INVALID_TOKEN_RESPONSE });
    expect((error as Error).message).toBe(`password grant returned an invalid response: ${field} ${problem}`);
    if (field !== 'scope') {
      // A token refused is still a token: neither the error nor the answer it keeps shows it, in any escaping.
      for (const printed of [util.inspect(error, { depth: null, showHidden: true }), JSON.stringify(error)]) {
        expect(printed).not.toContain(value);
        expect(printed).not.toContain(JSON.stringify(value).slice(1, -1));
      }
    }
  });

  // Real tokens, in the shapes real servers issue, so that the rule above is never tightened into breaking one.
  const accepted: [string, string][] = [
    ['a JWT (three base64url parts)', 'eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJhbGljZSIsInNjb3BlIjoicmVhZCJ9.c2lnbmF0dXJlLTAwMDE_-A'],
    ['a Salesforce token, with "!" (not a b64token)', '00Dx0000000BV7z!AR8AQAxo9UfVkh8AlV0Gomt9Czx9LjHnSSpwBMmbRcgKFmxOtvxjTrKW19ye6PE3Ds1eQz3z8jr3W7_VbWmEu4Q8TVGSTHxs'],
    ['a node-oauth2-server token (hex)', 'a94a8fe5ccb19ba61c4c0873d391e987982fbbd3a94a8fe5ccb19ba61c4c0873'],
    ['a django-oauth-toolkit token (oauthlib: 30 alphanumerics)', 'Xq7bP0kLmN2vR8sT4wY6zA1cE3gH5j'],
    ['a base64 token with padding', 'dGhpcyBpcyBhIHRva2Vu+/A=='],
    ['a token of exactly the maximum length', 'a'.repeat(MAX_TOKEN_LENGTH)],
  ];

  test.each(accepted)('%s is accepted as an access token', async (_name, token) => {
    const tokens = await passwordGrantAnswered({ ...valid, access_token: token });

    expect(tokens.accessToken).toBe(token);
  });

  test.each([
    ['with spaces (RFC 6749 VSCHAR allows them)', 'rt 0001 x'],
    ['with "!" and "~"', 'rt!0001~x'],
    ['of exactly the maximum length', 'r'.repeat(MAX_TOKEN_LENGTH)],
  ])('a refresh token %s is accepted', async (_name, refreshToken) => {
    expect((await passwordGrantAnswered({ ...valid, refresh_token: refreshToken })).refreshToken).toBe(refreshToken);
  });

  test.each(['read write', 'read,write', 'openid profile api refresh_token', ''])('the scope %j is accepted', async (scope) => {
    expect((await passwordGrantAnswered({ ...valid, scope })).scope).toBe(scope);
  });
});
