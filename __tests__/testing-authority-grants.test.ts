/**
 * The fixtures' new grants and revocation (issue 16): client credentials, token exchange, JWT bearer, a refresh token
 * minted elsewhere, and the RFC 7009 revocation endpoint with its record. One table of scenarios runs against each
 * transport (the loopback server, the in-memory adapter, the nock fixtures) with the same expected answers, so the
 * three cannot drift apart; a last check replays every scenario and compares the transports' transcripts directly.
 * Requests are raw (exact form bodies, exact headers): these are the fixtures' wire answers, not the library's.
 */
import axios, { type AxiosInstance, type AxiosResponse } from 'axios';
import nock from 'nock';

import type { AuthorityOptions, RevokedToken } from '../src/testing/authority.js';
import { createMemoryAuthority } from '../src/testing/memory.js';
import { mockProtectedApi, mockTokenEndpoint } from '../src/testing/nock.js';
import { startAuthServer } from '../src/testing/server.js';

// The loopback server is on 127.0.0.1; the nock fixtures answer for idp.test; nothing else is reachable.
beforeAll(() => {
  nock.disableNetConnect();
  nock.enableNetConnect('127.0.0.1');
});
afterAll(() => nock.restore());

const FORM = { 'Content-Type': 'application/x-www-form-urlencoded' };
const CLIENT = { client_id: 'demo-client', client_secret: 'demo-secret' };
const USER = { grant_type: 'password', username: 'demo-user', password: 'demo-password' };
const BASIC = `Basic ${Buffer.from('demo-client:demo-secret').toString('base64')}`;
const TOKEN_EXCHANGE = 'urn:ietf:params:oauth:grant-type:token-exchange';
const JWT_BEARER = 'urn:ietf:params:oauth:grant-type:jwt-bearer';
const ACCESS_TOKEN_TYPE = 'urn:ietf:params:oauth:token-type:access_token';
const SUPPORTED = ['password', 'refresh_token', 'client_credentials', TOKEN_EXCHANGE, JWT_BEARER];
// Tokens from "elsewhere": an upstream token for token exchange, and an assertion for the JWT-bearer grant.
const SUBJECT_TOKENS = { 'upstream-token-alice': 'alice', 'eyJhbGciOiJub25lIn0.eyJzdWIiOiJib2IifQ.': 'bob' };

const NO_STORE = 'no-store';

/** A transport's fixture, seen through the controls every one of them has. */
interface Fixture {
  readonly tokenUrl: string;
  readonly revocationUrl: string;
  readonly apiUrl: string;
  readonly http: AxiosInstance;
  readonly revoked: readonly RevokedToken[];
  readonly grants: { readonly password: number; readonly refresh_token: number; readonly client_credentials: number; readonly extension: number };
  readonly revocations: number;
  issueRefreshToken(username: string, scope?: string): string;
  revoke(token: string): void;
  /** The next revocation request gets this status and JSON body. */
  failNextRevocation(status: number, body: Readonly<Record<string, string>>): void;
  /** The next token request gets this status and JSON body. */
  failNextToken(status: number, body: Readonly<Record<string, string>>): void;
  close(): Promise<void>;
}

/** Every counter, the newer ones (absent until they count something) as 0. */
function allGrants(grants: { password: number; refresh_token: number; client_credentials?: number; extension?: number }): Fixture['grants'] {
  return { client_credentials: 0, extension: 0, ...grants };
}

interface Transport {
  readonly name: string;
  start(options: AuthorityOptions): Promise<Fixture>;
}

const transports: readonly Transport[] = [
  {
    name: 'the loopback server',
    async start(options) {
      const server = await startAuthServer(options);
      return {
        tokenUrl: server.tokenUrl,
        revocationUrl: server.revocationUrl,
        apiUrl: server.apiUrl,
        http: axios.create({ validateStatus: () => true }),
        get revoked() {
          return server.revoked;
        },
        get grants() {
          return allGrants(server.stats.grants);
        },
        get revocations() {
          return server.stats.revocations ?? 0;
        },
        issueRefreshToken: (username, scope) => server.issueRefreshToken(username, scope),
        revoke: (token) => void server.revoke(token),
        failNextRevocation: (status, body) => server.failNextRevocation(1, status, body),
        failNextToken: (status, body) => server.failNext(1, status, body),
        close: () => server.close(),
      };
    },
  },
  {
    name: 'the memory authority',
    start(options) {
      const authority = createMemoryAuthority(options);
      return Promise.resolve({
        tokenUrl: authority.tokenUrl,
        revocationUrl: authority.revocationUrl,
        apiUrl: authority.apiUrl,
        http: axios.create({ validateStatus: () => true, adapter: authority.adapter }),
        get revoked() {
          return authority.revoked;
        },
        get grants() {
          return allGrants(authority.stats.grants);
        },
        get revocations() {
          return authority.stats.revocations ?? 0;
        },
        issueRefreshToken: (username, scope) => authority.issueRefreshToken(username, scope),
        revoke: (token) => void authority.revoke(token),
        failNextRevocation: (status, body) => authority.failNextRevocation(1, status, body),
        failNextToken: (status, body) => authority.failNext(1, status, body),
        close: () => authority.close(),
      });
    },
  },
  {
    name: 'the nock fixtures',
    start(options) {
      // The same paths as the other two, so that the API's echo (which names the path) is the same too.
      const idp = mockTokenEndpoint({ ...options, tokenUrl: 'https://idp.test/connect/token' });
      const api = mockProtectedApi({ baseUrl: 'https://idp.test/api', tokens: idp });
      return Promise.resolve({
        tokenUrl: idp.tokenUrl,
        revocationUrl: idp.revocationUrl,
        apiUrl: 'https://idp.test/api',
        http: axios.create({ validateStatus: () => true }),
        get revoked() {
          return idp.revoked;
        },
        get grants() {
          const { total, ...given } = idp.grants;
          const grants = allGrants(given);
          // total is the sum of the others, or a grant type went uncounted.
          expect(total).toBe(grants.password + grants.refresh_token + grants.client_credentials + grants.extension);
          return grants;
        },
        get revocations() {
          return idp.revocations;
        },
        issueRefreshToken: (username, scope) => idp.issueRefreshToken(username, scope),
        revoke: (token) => idp.revoke(token),
        failNextRevocation: (status, body) => idp.failNextRevocation({ status, body }),
        failNextToken: (status, body) => idp.failNext({ status, body }),
        close: () => {
          idp.done();
          api.stop();
          nock.cleanAll();
          return Promise.resolve();
        },
      });
    },
  },
];

/** What a scenario compares of an answer: the same on every transport (content types differ: nock labels its own). */
interface Seen {
  readonly status: number;
  readonly data: unknown;
  readonly cacheControl: unknown;
  readonly challenge: unknown;
}
function seen(response: AxiosResponse): Seen {
  const headers = response.headers as Record<string, unknown>;
  return { status: response.status, data: response.data, cacheControl: headers['cache-control'], challenge: headers['www-authenticate'] };
}

/**
 * The requests a scenario sends, bound to one fixture; each returns what it saw, and records it in the transcript.
 * `faulted` requests get an injected fault, which is left out: nock adds `Cache-Control: no-store` to an injected
 * answer and the host does not (as for the token endpoint's `failNext`), so their headers differ by design.
 */
function client(fixture: Fixture, transcript: Seen[]) {
  const record = (response: AxiosResponse): Seen => {
    const answer = seen(response);
    transcript.push(answer);
    return answer;
  };
  const post = async (url: string, fields: Record<string, string>, headers: Record<string, string>): Promise<AxiosResponse> =>
    fixture.http.post(url, new URLSearchParams(fields).toString(), { headers });
  return {
    token: async (fields: Record<string, string>, headers: Record<string, string> = FORM) => record(await post(fixture.tokenUrl, fields, headers)),
    revoke: async (fields: Record<string, string>, headers: Record<string, string> = FORM) => record(await post(fixture.revocationUrl, fields, headers)),
    faulted: {
      token: async (fields: Record<string, string>) => seen(await post(fixture.tokenUrl, fields, FORM)),
      revoke: async (fields: Record<string, string>) => seen(await post(fixture.revocationUrl, fields, FORM)),
    },
    api: async (token: string) => record(await fixture.http.get(`${fixture.apiUrl}/me`, { headers: { Authorization: `Bearer ${token}` } })),
  };
}
type Client = ReturnType<typeof client>;

const ok = (data: unknown): Seen => ({ status: 200, data, cacheControl: NO_STORE, challenge: undefined });
const refused = (status: number, error: string, description: string, challenge?: string): Seen => ({
  status,
  data: { error, error_description: description },
  cacheControl: NO_STORE,
  challenge,
});
/** The protected API's 200: its echo names the user the token was issued to. */
const echo = (token: string, username: string): Seen => ({
  status: 200,
  data: { method: 'GET', path: '/api/me', body: null, token, username },
  cacheControl: undefined,
  challenge: undefined,
});
const revokedToken = (): Seen => ({
  status: 401,
  data: { error: 'invalid_token', error_description: 'the access token is unknown or revoked' },
  cacheControl: undefined,
  challenge: 'Bearer realm="axios-oauth-bearer-testing", error="invalid_token", error_description="the access token is unknown or revoked"',
});
/** RFC 7009 section 2.2: 200 and an empty body. */
const REVOKED = ok('');
const CLIENT_REFUSED = refused(401, 'invalid_client', 'client authentication failed', 'Basic realm="axios-oauth-bearer-testing"');
const INVALID_REFRESH = refused(400, 'invalid_grant', 'the refresh token is invalid, expired or revoked');

interface Scenario {
  readonly name: string;
  readonly options?: AuthorityOptions;
  run(send: Client, fixture: Fixture): Promise<void>;
}

const scenarios: readonly Scenario[] = [
  {
    name: 'client_credentials issues a token to the client itself, without a refresh token',
    async run(send, fixture) {
      expect(await send.token({ ...CLIENT, grant_type: 'client_credentials' })).toEqual(ok({ access_token: 'at-1', token_type: 'bearer', expires_in: 3600, scope: 'read write' }));
      expect(await send.api('at-1')).toEqual(echo('at-1', 'demo-client'));
      expect(fixture.grants).toEqual({ password: 0, refresh_token: 0, client_credentials: 1, extension: 0 });
    },
  },
  {
    name: 'client_credentials with Basic authentication and a narrower scope',
    async run(send) {
      const answer = await send.token({ grant_type: 'client_credentials', scope: 'read' }, { ...FORM, Authorization: BASIC });
      expect(answer).toEqual(ok({ access_token: 'at-1', token_type: 'bearer', expires_in: 3600, scope: 'read' }));
    },
  },
  {
    name: 'client_credentials never carries a refresh token, even when the policy issues them for users',
    options: { issueRefreshTokens: true, rotateRefreshTokens: false },
    async run(send) {
      expect((await send.token({ ...CLIENT, grant_type: 'client_credentials' })).data).not.toHaveProperty('refresh_token');
    },
  },
  {
    name: 'client_credentials refuses a wrong client secret with 401 invalid_client, and a scope beyond the allowed',
    async run(send, fixture) {
      expect(await send.token({ grant_type: 'client_credentials', client_id: 'demo-client', client_secret: 'nope' })).toEqual(CLIENT_REFUSED);
      expect(await send.token({ ...CLIENT, grant_type: 'client_credentials', scope: 'read admin' })).toEqual(refused(400, 'invalid_scope', 'the requested scope is not allowed'));
      expect(fixture.grants).toEqual({ password: 0, refresh_token: 0, client_credentials: 0, extension: 0 });
    },
  },
  {
    name: 'token exchange of a subject token from subjectTokens issues tokens to its user, with issued_token_type',
    options: { subjectTokens: SUBJECT_TOKENS },
    async run(send, fixture) {
      const answer = await send.token({ ...CLIENT, grant_type: TOKEN_EXCHANGE, subject_token: 'upstream-token-alice', subject_token_type: ACCESS_TOKEN_TYPE });
      expect(answer).toEqual(
        ok({ access_token: 'at-1', issued_token_type: ACCESS_TOKEN_TYPE, token_type: 'bearer', expires_in: 3600, refresh_token: 'rt-1', scope: 'read write' }),
      );
      expect(await send.api('at-1')).toEqual(echo('at-1', 'alice'));
      // Its refresh token is an ordinary one: it refreshes for alice and rotates.
      expect(await send.token({ ...CLIENT, grant_type: 'refresh_token', refresh_token: 'rt-1' })).toEqual(
        ok({ access_token: 'at-2', token_type: 'bearer', expires_in: 3600, refresh_token: 'rt-2', scope: 'read write' }),
      );
      expect(await send.api('at-2')).toEqual(echo('at-2', 'alice'));
      expect(fixture.grants).toEqual({ password: 0, refresh_token: 1, client_credentials: 0, extension: 1 });
    },
  },
  {
    name: 'token exchange of a live access token of this authority, and not once it is revoked',
    async run(send, fixture) {
      await send.token({ ...USER, ...CLIENT });
      const exchange = { ...CLIENT, grant_type: TOKEN_EXCHANGE, subject_token: 'at-1', subject_token_type: ACCESS_TOKEN_TYPE, scope: 'read' };
      expect(await send.token(exchange)).toEqual(
        ok({ access_token: 'at-2', issued_token_type: ACCESS_TOKEN_TYPE, token_type: 'bearer', expires_in: 3600, refresh_token: 'rt-2', scope: 'read' }),
      );
      expect(await send.api('at-2')).toEqual(echo('at-2', 'demo-user'));
      fixture.revoke('at-1');
      expect(await send.token(exchange)).toEqual(refused(400, 'invalid_request', 'the subject token is invalid, expired or revoked'));
    },
  },
  {
    name: 'token exchange refuses an access token from the millisecond it expires',
    options: { expiresIn: 1 },
    async run(send) {
      const now = jest.spyOn(Date, 'now').mockReturnValue(1_000_000);
      try {
        await send.token({ ...USER, ...CLIENT });
        const exchange = { ...CLIENT, grant_type: TOKEN_EXCHANGE, subject_token: 'at-1', subject_token_type: ACCESS_TOKEN_TYPE };
        now.mockReturnValue(1_000_999);
        expect(await send.token(exchange)).toMatchObject({ status: 200, data: { access_token: 'at-2' } });
        now.mockReturnValue(1_001_000);
        expect(await send.token(exchange)).toEqual(refused(400, 'invalid_request', 'the subject token is invalid, expired or revoked'));
      } finally {
        now.mockRestore();
      }
    },
  },
  {
    name: 'token exchange follows issueRefreshTokens: false',
    options: { subjectTokens: SUBJECT_TOKENS, issueRefreshTokens: false },
    async run(send) {
      const answer = await send.token({ ...CLIENT, grant_type: TOKEN_EXCHANGE, subject_token: 'upstream-token-alice', subject_token_type: ACCESS_TOKEN_TYPE });
      expect(answer).toEqual(ok({ access_token: 'at-1', issued_token_type: ACCESS_TOKEN_TYPE, token_type: 'bearer', expires_in: 3600, scope: 'read write' }));
    },
  },
  {
    name: 'token exchange refuses a missing parameter and an unknown subject token with 400 invalid_request',
    options: { subjectTokens: SUBJECT_TOKENS },
    async run(send, fixture) {
      const missing = refused(400, 'invalid_request', 'subject_token and subject_token_type are required');
      expect(await send.token({ ...CLIENT, grant_type: TOKEN_EXCHANGE, subject_token: 'upstream-token-alice' })).toEqual(missing);
      expect(await send.token({ ...CLIENT, grant_type: TOKEN_EXCHANGE, subject_token_type: ACCESS_TOKEN_TYPE })).toEqual(missing);
      const unknown = { ...CLIENT, grant_type: TOKEN_EXCHANGE, subject_token: 'upstream-token-mallory', subject_token_type: ACCESS_TOKEN_TYPE };
      expect(await send.token(unknown)).toEqual(refused(400, 'invalid_request', 'the subject token is invalid, expired or revoked'));
      // The client is judged first, as for every grant.
      expect(await send.token({ ...unknown, client_secret: 'nope' })).toEqual(CLIENT_REFUSED);
      expect(fixture.grants.extension).toBe(0);
    },
  },
  {
    name: 'jwt-bearer accepts an assertion from subjectTokens and issues no refresh token',
    options: { subjectTokens: SUBJECT_TOKENS },
    async run(send, fixture) {
      const answer = await send.token({ ...CLIENT, grant_type: JWT_BEARER, assertion: 'eyJhbGciOiJub25lIn0.eyJzdWIiOiJib2IifQ.', scope: 'write' });
      expect(answer).toEqual(ok({ access_token: 'at-1', token_type: 'bearer', expires_in: 3600, scope: 'write' }));
      expect(await send.api('at-1')).toEqual(echo('at-1', 'bob'));
      expect(fixture.grants).toEqual({ password: 0, refresh_token: 0, client_credentials: 0, extension: 1 });
    },
  },
  {
    name: 'jwt-bearer refuses an unknown assertion with invalid_grant and a missing one with invalid_request',
    options: { subjectTokens: SUBJECT_TOKENS },
    async run(send) {
      expect(await send.token({ ...CLIENT, grant_type: JWT_BEARER, assertion: 'eyJ.forged.' })).toEqual(refused(400, 'invalid_grant', 'the assertion is invalid'));
      expect(await send.token({ ...CLIENT, grant_type: JWT_BEARER })).toEqual(refused(400, 'invalid_request', 'assertion is required'));
      // A live access token is a subject token for token exchange, not an assertion.
      await send.token({ ...USER, ...CLIENT });
      expect(await send.token({ ...CLIENT, grant_type: JWT_BEARER, assertion: 'at-1' })).toEqual(refused(400, 'invalid_grant', 'the assertion is invalid'));
    },
  },
  {
    name: 'any other grant type is unsupported_grant_type, naming the supported ones',
    async run(send) {
      const answer = await send.token({ ...CLIENT, grant_type: 'authorization_code', code: 'abc' });
      expect(answer).toEqual(refused(400, 'unsupported_grant_type', `the supported grants are ${SUPPORTED.join(', ')}`));
    },
  },
  {
    name: 'issueRefreshToken mints a refresh token that refreshes for its user and rotates',
    async run(send, fixture) {
      const refreshToken = fixture.issueRefreshToken('carol', 'read');
      expect(refreshToken).toBe('rt-1');
      expect(await send.token({ ...CLIENT, grant_type: 'refresh_token', refresh_token: refreshToken })).toEqual(
        ok({ access_token: 'at-2', token_type: 'bearer', expires_in: 3600, refresh_token: 'rt-2', scope: 'read' }),
      );
      expect(await send.api('at-2')).toEqual(echo('at-2', 'carol'));
      expect(await send.token({ ...CLIENT, grant_type: 'refresh_token', refresh_token: refreshToken })).toEqual(INVALID_REFRESH);
      expect(await send.token({ ...CLIENT, grant_type: 'refresh_token', refresh_token: 'rt-2' })).toEqual(
        ok({ access_token: 'at-3', token_type: 'bearer', expires_in: 3600, refresh_token: 'rt-3', scope: 'read' }),
      );
      // Minting is no grant; the two refreshes are.
      expect(fixture.grants).toEqual({ password: 0, refresh_token: 2, client_credentials: 0, extension: 0 });
      expect(fixture.issueRefreshToken('dave')).toBe('rt-4');
      expect(await send.token({ ...CLIENT, grant_type: 'refresh_token', refresh_token: 'rt-4' })).toMatchObject({ data: { scope: 'read write' } });
      expect(() => fixture.issueRefreshToken('erin', 'read admin')).toThrow(RangeError);
    },
  },
  {
    name: 'revoking an access token makes the API answer 401, and a refresh token makes refresh answer invalid_grant',
    async run(send, fixture) {
      await send.token({ ...USER, ...CLIENT });
      expect(await send.api('at-1')).toEqual(echo('at-1', 'demo-user'));
      expect(await send.revoke({ ...CLIENT, token: 'at-1', token_type_hint: 'access_token' })).toEqual(REVOKED);
      expect(await send.api('at-1')).toEqual(revokedToken());
      // Basic authentication and no hint, this time.
      expect(await send.revoke({ token: 'rt-1' }, { ...FORM, Authorization: BASIC })).toEqual(REVOKED);
      expect(await send.token({ ...CLIENT, grant_type: 'refresh_token', refresh_token: 'rt-1' })).toEqual(INVALID_REFRESH);
      expect(fixture.revoked).toEqual([
        { token: 'at-1', kind: 'access_token', hint: 'access_token' },
        { token: 'rt-1', kind: 'refresh_token' },
      ]);
      expect(fixture.revocations).toBe(2);
    },
  },
  {
    name: 'an unknown or already revoked token gets 200 too, recorded as unknown; a wrong hint does not matter',
    async run(send, fixture) {
      await send.token({ ...USER, ...CLIENT });
      expect(await send.revoke({ ...CLIENT, token: 'no-such-token' })).toEqual(REVOKED);
      // RFC 7009 section 2.1: the hint only speeds the lookup; the token is found wherever it is.
      expect(await send.revoke({ ...CLIENT, token: 'at-1', token_type_hint: 'refresh_token' })).toEqual(REVOKED);
      expect(await send.revoke({ ...CLIENT, token: 'at-1' })).toEqual(REVOKED);
      expect(await send.api('at-1')).toEqual(revokedToken());
      expect(fixture.revoked).toEqual([
        { token: 'no-such-token', kind: 'unknown' },
        { token: 'at-1', kind: 'access_token', hint: 'refresh_token' },
        { token: 'at-1', kind: 'unknown' },
      ]);
    },
  },
  {
    name: 'revocation refuses a bad hint, a missing token, a wrong client and two client methods, and revokes nothing then',
    async run(send, fixture) {
      await send.token({ ...USER, ...CLIENT });
      expect(await send.revoke({ ...CLIENT, token: 'at-1', token_type_hint: 'id_token' })).toEqual(
        refused(400, 'unsupported_token_type', 'token_type_hint must be access_token or refresh_token'),
      );
      expect(await send.revoke({ ...CLIENT, token_type_hint: 'access_token' })).toEqual(refused(400, 'invalid_request', 'token is required'));
      expect(await send.revoke({ client_id: 'demo-client', client_secret: 'nope', token: 'at-1' })).toEqual(CLIENT_REFUSED);
      expect(await send.revoke({ token: 'at-1' })).toEqual(CLIENT_REFUSED);
      expect(await send.revoke({ ...CLIENT, token: 'at-1' }, { ...FORM, Authorization: BASIC })).toEqual(refused(400, 'invalid_request', 'more than one client authentication method'));
      expect(await send.revoke({ ...CLIENT, token: 'at-1' }, { 'Content-Type': 'application/json' })).toEqual(
        refused(400, 'invalid_request', 'the body must be application/x-www-form-urlencoded'),
      );
      expect(await send.api('at-1')).toEqual(echo('at-1', 'demo-user'));
      expect(fixture.revoked).toEqual([]);
      expect(fixture.revocations).toBe(6);
    },
  },
  {
    name: 'a revocation fault answers once and leaves the token endpoint alone; a token fault leaves revocation alone',
    async run(send, fixture) {
      await send.token({ ...USER, ...CLIENT });
      fixture.failNextRevocation(503, { error: 'temporarily_unavailable' });
      fixture.failNextToken(500, { error: 'server_error' });
      expect(await send.faulted.revoke({ ...CLIENT, token: 'rt-1' })).toMatchObject({ status: 503, data: { error: 'temporarily_unavailable' } });
      expect(await send.revoke({ ...CLIENT, token: 'rt-1' })).toEqual(REVOKED);
      expect(await send.faulted.token({ ...CLIENT, grant_type: 'refresh_token', refresh_token: 'rt-1' })).toMatchObject({ status: 500, data: { error: 'server_error' } });
      fixture.failNextRevocation(401, { error: 'invalid_client' });
      expect(await send.faulted.revoke({ ...CLIENT, token: 'at-1' })).toMatchObject({ status: 401, data: { error: 'invalid_client' } });
      expect(await send.api('at-1')).toEqual(echo('at-1', 'demo-user'));
      // Only the answered revocation is in the record; every request is counted.
      expect(fixture.revoked).toEqual([{ token: 'rt-1', kind: 'refresh_token' }]);
      expect(fixture.revocations).toBe(3);
    },
  },
  {
    name: 'stats count every grant by type and every revocation request',
    options: { subjectTokens: SUBJECT_TOKENS },
    async run(send, fixture) {
      await send.token({ ...USER, ...CLIENT });
      await send.token({ ...CLIENT, grant_type: 'refresh_token', refresh_token: 'rt-1' });
      await send.token({ ...CLIENT, grant_type: 'client_credentials' });
      await send.token({ ...CLIENT, grant_type: 'client_credentials', client_secret: 'nope' });
      await send.token({ ...CLIENT, grant_type: TOKEN_EXCHANGE, subject_token: 'at-2', subject_token_type: ACCESS_TOKEN_TYPE });
      await send.token({ ...CLIENT, grant_type: JWT_BEARER, assertion: 'eyJhbGciOiJub25lIn0.eyJzdWIiOiJib2IifQ.' });
      await send.token({ ...CLIENT, grant_type: JWT_BEARER, assertion: 'forged' });
      await send.revoke({ ...CLIENT, token: 'at-3' });
      await send.revoke({ ...CLIENT });
      expect(fixture.grants).toEqual({ password: 1, refresh_token: 1, client_credentials: 1, extension: 2 });
      expect(fixture.revocations).toBe(2);
      expect(fixture.revoked).toEqual([{ token: 'at-3', kind: 'access_token' }]);
    },
  },
];

async function play(transport: Transport, scenario: Scenario): Promise<Seen[]> {
  const fixture = await transport.start(scenario.options ?? {});
  const transcript: Seen[] = [];
  try {
    await scenario.run(client(fixture, transcript), fixture);
  } finally {
    await fixture.close();
  }
  return transcript;
}

describe.each(transports)('$name', (transport) => {
  test.each(scenarios)('$name', async (scenario) => {
    expect((await play(transport, scenario)).length).toBeGreaterThan(0);
  });
});

test('every scenario gets the same answers from the three transports, request for request', async () => {
  for (const scenario of scenarios) {
    // One transport at a time: a scenario may stub the global clock.
    const server = await play(transports[0]!, scenario);
    const memory = await play(transports[1]!, scenario);
    const mocked = await play(transports[2]!, scenario);
    expect({ scenario: scenario.name, answers: memory }).toEqual({ scenario: scenario.name, answers: server });
    expect({ scenario: scenario.name, answers: mocked }).toEqual({ scenario: scenario.name, answers: server });
  }
});

describe('what only the loopback server and the memory authority serve', () => {
  test.each(transports.slice(0, 2))('$name: discovery names the revocation endpoint and every grant', async (transport) => {
    const fixture = await transport.start({});
    try {
      const origin = new URL(fixture.tokenUrl).origin;
      const response = await fixture.http.get(`${origin}/.well-known/openid-configuration`);
      expect(response.data).toEqual({
        issuer: origin,
        token_endpoint: `${origin}/connect/token`,
        revocation_endpoint: `${origin}/revoke`,
        grant_types_supported: SUPPORTED,
        token_endpoint_auth_methods_supported: ['client_secret_post', 'client_secret_basic'],
        revocation_endpoint_auth_methods_supported: ['client_secret_post', 'client_secret_basic'],
      });
      expect(fixture.revocationUrl).toBe(`${origin}/revoke`);
    } finally {
      await fixture.close();
    }
  });

  test.each(transports.slice(0, 2))('$name: the revocation 200 is empty and unlabelled; GET gets 405 and is counted', async (transport) => {
    const fixture = await transport.start({});
    try {
      const revoked = await fixture.http.post(fixture.revocationUrl, new URLSearchParams({ ...CLIENT, token: 'x' }).toString(), { headers: FORM, responseType: 'text' });
      expect([revoked.status, revoked.data, revoked.headers['content-type'], revoked.headers['content-length']]).toEqual([200, '', undefined, '0']);
      const get = await fixture.http.get(fixture.revocationUrl);
      expect([get.status, get.data, get.headers.allow]).toEqual([405, { error: 'invalid_request', error_description: 'use POST' }, 'POST']);
      expect(fixture.revocations).toBe(2);
    } finally {
      await fixture.close();
    }
  });
});

describe('the nock fixtures', () => {
  test('the revocation 200 is empty and unlabelled too', async () => {
    const fixture = await transports[2]!.start({});
    try {
      const revoked = await fixture.http.post(fixture.revocationUrl, new URLSearchParams({ ...CLIENT, token: 'x' }).toString(), { headers: FORM, responseType: 'text' });
      expect([revoked.status, revoked.data, revoked.headers['content-type']]).toEqual([200, '', undefined]);
    } finally {
      await fixture.close();
    }
  });

  test('revocationUrl can be set, must differ from tokenUrl, and done() reports an unused revocation failure', () => {
    const idp = mockTokenEndpoint({ tokenUrl: 'https://idp.test/oauth2/token', revocationUrl: 'https://idp.test/oauth2/revoke' });
    expect(idp.revocationUrl).toBe('https://idp.test/oauth2/revoke');
    idp.failNextRevocation('temporarily_unavailable');
    expect(() => idp.done()).toThrow('1 queued failNextRevocation answer(s) were never used');
    expect(() => mockTokenEndpoint({ tokenUrl: 'https://idp.test/t', revocationUrl: 'https://idp.test/t' })).toThrow(TypeError);
    nock.cleanAll();
  });

  test('failNextRevocation("network") resets the revocation request only', async () => {
    const idp = mockTokenEndpoint({ tokenUrl: 'https://idp.test/connect/token' });
    const http = axios.create({ validateStatus: () => true });
    try {
      idp.failNextRevocation('network');
      await expect(http.post(idp.revocationUrl, new URLSearchParams({ ...CLIENT, token: 'x' }).toString(), { headers: FORM })).rejects.toMatchObject({ code: 'ECONNRESET' });
      expect((await http.post(idp.tokenUrl, new URLSearchParams({ ...USER, ...CLIENT }).toString(), { headers: FORM })).status).toBe(200);
      expect([idp.revocations, idp.revoked]).toEqual([1, []]);
      expect(idp.grants).toEqual({ password: 1, refresh_token: 0, total: 1 }); // the newer counters only once they count
    } finally {
      idp.stop();
      nock.cleanAll();
    }
  });
});
