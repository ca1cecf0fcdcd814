/**
 * The grants beside the password grant, against the real authorization servers (issue 16): client credentials
 * (RFC 6749 4.4), a refresh token obtained elsewhere (`grant: 'refresh_token'`), and RFC 7009 revocation through
 * `tokens.revoke()`. Same servers, proxy and rules as library.test.ts: counts of token (and revocation) calls are
 * exact, each error class is checked after the server's own answer, nothing measures time.
 *
 * Each server has a second, confidential client for client credentials (`server.service`): a django-oauth-toolkit
 * application has exactly one grant type. @node-oauth/oauth2-server implements no revocation endpoint, so the
 * revocation tests run against django-oauth-toolkit only (`definition.revocationEndpoint`); they are not skipped
 * there, they do not exist.
 */
import {
  type AuthClient,
  type ClientCredentialsAuthOptions,
  ConfigurationError,
  createAuthClient,
  defaults,
  InvalidClientError,
  InvalidRequestError,
  RefreshTokenRejectedError,
  type RefreshTokenAuthOptions,
  TokenEndpointError,
  type TokenEvent,
} from '../../src/index.js';
import { burst, clientFor, expectNoSecrets, formEncoded, postToken, type WhoAmI } from './helpers.js';
import { serverTable } from './servers/index.js';
import type { InteropServer, ServerDefinition, ServiceCredentials } from './servers/types.js';

const STORM = 50;
const BURST = 20;

describe.each(serverTable)('%s', (_name, definition: ServerDefinition) => {
  let server: InteropServer;

  beforeAll(async () => {
    server = await definition.start();
  });

  afterAll(async () => {
    await server.stop();
  });

  beforeEach(() => server.proxy.reset());

  function service(): ServiceCredentials {
    if (server.service === undefined) throw new Error(`${definition.name} was started without a client credentials client`);
    return server.service;
  }

  /** The token endpoint calls since the last reset, as [grant_type, status]. */
  function tokenCalls(): [string | undefined, number][] {
    return server.proxy.tokenCalls.map((call) => [call.grantType, call.status]);
  }

  /** What the protected API answers to a token sent by hand (through the proxy, so the API call is recorded). */
  async function apiStatusWith(accessToken: string): Promise<number> {
    const response = await fetch(`${server.apiUrl}/by-hand`, { headers: { authorization: `Bearer ${accessToken}` } });
    await response.arrayBuffer();
    return response.status;
  }

  function statuses(responses: readonly { status: number }[]): number[] {
    return responses.map((response) => response.status);
  }

  /** A client of the service client, with `grant: 'client_credentials'`; its token events go to `events`. */
  function serviceClient(overrides: Partial<ClientCredentialsAuthOptions> = {}, events: TokenEvent[] = []): AuthClient {
    const { clientId, clientSecret } = service();
    const auth: ClientCredentialsAuthOptions = {
      tokenUrl: server.tokenUrl,
      clientId,
      clientSecret,
      onToken: (event) => events.push(event),
      ...overrides,
      grant: 'client_credentials',
    };
    return createAuthClient({ baseURL: server.apiUrl, auth });
  }

  /** A client of the password grant's client with a refresh token it was given; its token events go to `events`. */
  function broughtClient(refreshToken: string, events: TokenEvent[] = [], overrides: Partial<RefreshTokenAuthOptions> = {}): AuthClient {
    const { clientId, clientSecret } = server.credentials;
    const auth: RefreshTokenAuthOptions = {
      tokenUrl: server.tokenUrl,
      clientId,
      clientSecret,
      onToken: (event) => events.push(event),
      ...overrides,
      grant: 'refresh_token',
      refreshToken,
    };
    return createAuthClient({ baseURL: server.apiUrl, auth });
  }

  /** Tokens obtained "elsewhere": a password grant sent by hand. The proxy is reset afterwards. */
  async function tokensFromElsewhere(): Promise<{ accessToken: string; refreshToken: string }> {
    const { username, password } = server.credentials;
    const answer = await postToken(server, { grant_type: 'password', username, password });
    const { access_token: accessToken, refresh_token: refreshToken } = answer.body;
    if (answer.status !== 200 || typeof accessToken !== 'string' || typeof refreshToken !== 'string') {
      throw new Error(`the password grant by hand answered ${answer.status}: ${JSON.stringify(answer.body)}`);
    }
    server.proxy.reset();
    return { accessToken, refreshToken };
  }

  test('the server was started with what the tests below need', () => {
    expect(server.service).toBeDefined();
    for (const special of ['+', '/', '=', ':', ' ']) expect(service().clientSecret).toContain(special);
    expect(server.revocationUrl !== undefined).toBe(definition.revocationEndpoint);
  });

  describe('client credentials (RFC 6749 4.4)', () => {
    test('the first request gets a token for the client itself, with no refresh token, in one token call', async () => {
      const events: TokenEvent[] = [];
      const api = serviceClient({}, events);

      const response = await api.get<WhoAmI>('/jobs/1');

      expect(response.status).toBe(200);
      expect(response.data).toEqual({ user: null, client: service().clientId, path: '/api/jobs/1' });
      expect(server.proxy.tokenCalls).toEqual([expect.objectContaining({ grantType: 'client_credentials', clientAuth: 'post', status: 200 })]);
      // What went out: the grant and the client, nothing of a user or a refresh token.
      expect(Object.keys(server.proxy.tokenCalls[0]?.form ?? {}).sort()).toEqual(['client_id', 'client_secret', 'grant_type']);
      // What came back, as the server sent it: a bearer token, no refresh token (RFC 6749 4.4.3: SHOULD NOT).
      const answer: unknown = JSON.parse(server.proxy.tokenCalls[0]?.body ?? '{}');
      expect(answer).toMatchObject({ token_type: 'Bearer' });
      expect(answer).toHaveProperty('access_token');
      expect(answer).toHaveProperty('expires_in');
      expect(answer).not.toHaveProperty('refresh_token');
      expect(api.tokens.current?.refreshToken).toBeUndefined();
      expect(events.map((event) => event.source)).toEqual(['client_credentials']);
      expect(events[0]?.tokens.accessToken).toBe((answer as { access_token: string }).access_token);
    });

    test('with client_secret_basic and a scope: the special-character secret works, and the scope goes out', async () => {
      const api = serviceClient({ clientAuthentication: 'client_secret_basic', scope: 'read' });

      const response = await api.get<WhoAmI>('/jobs/1');

      expect(response.status).toBe(200);
      const { clientId, clientSecret } = service();
      const encoded = { id: formEncoded(clientId), secret: formEncoded(clientSecret) };
      const expected =
        definition.basicForm === 'form-encoded'
          ? [{ grantType: 'client_credentials', clientAuth: 'basic', basic: encoded, status: 200 }]
          : [
              { grantType: 'client_credentials', clientAuth: 'basic', basic: encoded, status: 401, error: 'invalid_client' },
              { grantType: 'client_credentials', clientAuth: 'basic', basic: { id: clientId, secret: clientSecret }, status: 200 },
            ];
      expect(server.proxy.tokenCalls).toEqual(expected.map((call): unknown => expect.objectContaining(call)));
      expect(server.proxy.tokenCalls.map((call) => call.form)).toEqual(expected.map(() => ({ grant_type: 'client_credentials', scope: 'read' })));
      expect(JSON.parse(server.proxy.tokenCalls.at(-1)?.body ?? '{}')).toMatchObject({ scope: 'read' });
    });

    test(`${STORM} concurrent first requests cost one grant`, async () => {
      const api = serviceClient();

      const responses = await Promise.all(Array.from({ length: STORM }, (_, n) => api.get(`/jobs/${n}`)));

      expect(statuses(responses)).toEqual(Array<number>(STORM).fill(200));
      expect(tokenCalls()).toEqual([['client_credentials', 200]]);
      expect(server.proxy.apiStatuses()).toEqual({ 200: STORM });
    });

    test('tokens.refresh() repeats the grant (there is no refresh token to use), and the new token works', async () => {
      const events: TokenEvent[] = [];
      const api = serviceClient({}, events);
      await api.get('/jobs/1');
      const first = api.tokens.current?.accessToken;

      const renewed = await api.tokens.refresh();
      const response = await api.get('/jobs/2');

      expect(first).toEqual(expect.any(String));
      expect(renewed.accessToken).not.toBe(first);
      expect(response.status).toBe(200);
      expect(tokenCalls()).toEqual([
        ['client_credentials', 200],
        ['client_credentials', 200],
      ]);
      expect(events.map((event) => event.source)).toEqual(['client_credentials', 'client_credentials']);
    });

    // Revoked rather than expired: with no refresh token, both reach the library as the same 401 and the same grant,
    // and the revocation is the server's real path (django-oauth-toolkit: its RFC 7009 endpoint). One storm, not two.
    test(`after the server revokes the access token, ${STORM} concurrent requests cost one new grant and all succeed`, async () => {
      const api = serviceClient();
      await api.get('/warm');
      const accessToken = api.tokens.current?.accessToken;
      if (accessToken === undefined) throw new Error('no token after the first request');
      await server.revoke(accessToken);
      server.proxy.reset();

      const responses = await Promise.all(Array.from({ length: STORM }, (_, n) => api.get(`/storm/${n}`)));

      expect(statuses(responses)).toEqual(Array<number>(STORM).fill(200));
      expect(tokenCalls()).toEqual([['client_credentials', 200]]);
      expect(server.proxy.apiStatuses()).toEqual({ 200: STORM, 401: STORM });
      expect(api.tokens.current?.accessToken).not.toBe(accessToken);
    });

    test(`a wrong client secret: ${BURST} concurrent requests, one token call, an InvalidClientError that shows no secret`, async () => {
      const wrongSecret = 'not+the/service=secret: at all';
      const api = serviceClient({ clientSecret: wrongSecret });

      const failures = await burst(BURST, (n) => api.get(`/jobs/${n}`));

      expect(server.proxy.tokenCalls).toEqual([expect.objectContaining({ grantType: 'client_credentials', clientAuth: 'post', ...definition.answers.wrongSecretPost })]);
      for (const failure of failures) {
        expect(failure).toBeInstanceOf(InvalidClientError);
        expect(failure).toMatchObject({ ...definition.answers.wrongSecretPost, grant: 'client_credentials' });
      }
      expectNoSecrets(failures[0], [wrongSecret, service().clientSecret]);
      expect(server.proxy.apiCalls).toEqual([]);
    });

    test(`a client not allowed the grant: ${BURST} concurrent requests, one token call, an InvalidRequestError`, async () => {
      // The password grant's client asks for client credentials.
      const api = serviceClient({ clientId: server.credentials.clientId, clientSecret: server.credentials.clientSecret });

      const failures = await burst(BURST, (n) => api.get(`/jobs/${n}`));

      expect(server.proxy.tokenCalls).toEqual([expect.objectContaining({ grantType: 'client_credentials', ...definition.answers.unauthorizedClient })]);
      for (const failure of failures) {
        expect(failure).toBeInstanceOf(InvalidRequestError);
        expect(failure).toMatchObject({ ...definition.answers.unauthorizedClient, grant: 'client_credentials' });
      }
      expectNoSecrets(failures[0], [server.credentials.clientSecret]);
    });
  });

  describe("a refresh token obtained elsewhere (grant: 'refresh_token')", () => {
    test('the first request renews with it; the rotated refresh token is kept, reported, and used next; the used ones are refused', async () => {
      const brought = await tokensFromElsewhere();
      const events: TokenEvent[] = [];
      const api = broughtClient(brought.refreshToken, events);

      const response = await api.get<WhoAmI>('/reports/1');

      expect(response.status).toBe(200);
      expect(response.data.user).toBe(server.credentials.username);
      expect(tokenCalls()).toEqual([['refresh_token', 200]]);
      expect(server.proxy.tokenCalls[0]?.form).toMatchObject({ grant_type: 'refresh_token', refresh_token: brought.refreshToken });
      // Both servers rotate: the answer's refresh token is new, and it is the one kept and reported.
      const rotated = api.tokens.current?.refreshToken;
      expect(rotated).toEqual(expect.any(String));
      expect(rotated).not.toBe(brought.refreshToken);
      expect(events.map((event) => [event.source, event.tokens.refreshToken])).toEqual([['refresh_token', rotated]]);

      const second = await api.tokens.refresh();
      expect(await apiStatusWith(second.accessToken)).toBe(200);
      expect(server.proxy.tokenCalls[1]?.form).toMatchObject({ grant_type: 'refresh_token', refresh_token: rotated });
      expect(second.refreshToken).not.toBe(rotated);
      expect(events.map((event) => [event.source, event.tokens.refreshToken])).toEqual([
        ['refresh_token', rotated],
        ['refresh_token', second.refreshToken],
      ]);
      expect(tokenCalls()).toEqual([
        ['refresh_token', 200],
        ['refresh_token', 200],
      ]);

      // The two used up by the rotations, sent again by hand: refused.
      for (const used of [brought.refreshToken, rotated ?? '']) {
        const refusal = await postToken(server, { grant_type: 'refresh_token', refresh_token: used });
        expect({ status: refusal.status, error: refusal.body.error }).toEqual(definition.answers.refusedRefresh);
      }
    });

    test(`${STORM} concurrent first requests cost one refresh; after the server expires the token, ${STORM} more cost one more`, async () => {
      const api = broughtClient((await tokensFromElsewhere()).refreshToken);

      const first = await Promise.all(Array.from({ length: STORM }, (_, n) => api.get(`/reports/${n}`)));
      expect(statuses(first)).toEqual(Array<number>(STORM).fill(200));
      expect(tokenCalls()).toEqual([['refresh_token', 200]]);

      const accessToken = api.tokens.current?.accessToken ?? '';
      const rotated = api.tokens.current?.refreshToken;
      await server.expire(accessToken);
      server.proxy.reset();

      const storm = await Promise.all(Array.from({ length: STORM }, (_, n) => api.get(`/storm/${n}`)));

      expect(statuses(storm)).toEqual(Array<number>(STORM).fill(200));
      expect(tokenCalls()).toEqual([['refresh_token', 200]]);
      expect(server.proxy.tokenCalls[0]?.form.refresh_token).toBe(rotated);
      expect(server.proxy.apiStatuses()).toEqual({ 200: STORM, 401: STORM });
    });

    test(`a refresh token the server revoked: ${BURST} concurrent requests and a later one fail with RefreshTokenRejectedError, after one token call`, async () => {
      const brought = await tokensFromElsewhere();
      await server.revokeRefreshToken(brought.refreshToken);
      // The server's own answer first.
      const refusal = await postToken(server, { grant_type: 'refresh_token', refresh_token: brought.refreshToken });
      expect({ status: refusal.status, error: refusal.body.error }).toEqual(definition.answers.refusedRefresh);
      server.proxy.reset();
      const api = broughtClient(brought.refreshToken);

      const failures = await burst(BURST, (n) => api.get(`/reports/${n}`));
      const later = await api.get('/reports/later').then(
        () => undefined,
        (error: unknown) => error,
      );

      // One refresh, no other grant to fall back on, and nothing more once it was refused.
      expect(tokenCalls()).toEqual([['refresh_token', definition.answers.refusedRefresh.status]]);
      expect(server.proxy.tokenCalls[0]?.error).toBe(definition.answers.refusedRefresh.error);
      for (const failure of [...failures, later]) {
        expect(failure).toBeInstanceOf(RefreshTokenRejectedError);
        expect(failure).toMatchObject({ code: 'ERR_OAUTH_REFRESH_TOKEN_REJECTED', grant: 'refresh_token', ...definition.answers.refusedRefresh });
      }
      const secrets = [server.credentials.clientSecret, brought.refreshToken, brought.accessToken];
      expectNoSecrets(failures[0], secrets);
      expectNoSecrets(later, secrets);
      expect(server.proxy.apiCalls).toEqual([]);
    });

    // django-oauth-toolkit 1.7 answers 500 to the refresh token of an access token revoked through its RFC 7009
    // endpoint (see refreshAfterRevocation): a server error says nothing against the token, so it is not a
    // RefreshTokenRejectedError, and with no password to escalate to the error reaches the callers.
    test('the refresh token of an access token the server revoked', async () => {
      const brought = await tokensFromElsewhere();
      await server.revoke(brought.accessToken);
      server.proxy.reset();
      const api = broughtClient(brought.refreshToken);

      const failures = await burst(BURST, (n) => api.get(`/reports/${n}`));

      if (definition.refreshAfterRevocation === 'works') {
        expect(failures).toEqual(Array<undefined>(BURST).fill(undefined));
        expect(tokenCalls()).toEqual([['refresh_token', 200]]);
        return;
      }
      expect(server.proxy.tokenCalls.map((call) => [call.grantType, call.status >= 500 ? '5xx' : call.status])).toEqual(
        Array.from({ length: defaults.retry.attempts }, () => ['refresh_token', '5xx']),
      );
      for (const failure of failures) {
        expect(failure).toBeInstanceOf(TokenEndpointError);
        expect(failure).not.toBeInstanceOf(RefreshTokenRejectedError);
        expect(failure).toMatchObject({ grant: 'refresh_token' });
        expect((failure as TokenEndpointError).status).toBeGreaterThanOrEqual(500);
      }
      expectNoSecrets(failures[0], [server.credentials.clientSecret, brought.refreshToken, brought.accessToken]);
    });
  });

  // @node-oauth/oauth2-server has no RFC 7009 endpoint: these exist for the servers that do.
  if (definition.revocationEndpoint) {
    describe('revocation (RFC 7009) with tokens.revoke()', () => {
      function revocationUrl(): string {
        if (server.revocationUrl === undefined) throw new Error(`${definition.name} was started without a revocation endpoint`);
        return server.revocationUrl;
      }

      test('revokes the refresh token, then the access token; the server refuses both afterwards; the next request makes a fresh grant', async () => {
        const api = clientFor(server, { revocationUrl: revocationUrl() });
        await api.get('/reports/1');
        const { accessToken, refreshToken } = api.tokens.current ?? {};
        if (accessToken === undefined || refreshToken === undefined) throw new Error('no token set after the first request');
        server.proxy.reset();

        await api.tokens.revoke();

        expect(server.proxy.revocationCalls).toEqual([
          expect.objectContaining({ token: refreshToken, tokenTypeHint: 'refresh_token', clientAuth: 'post', status: 200 }),
          expect.objectContaining({ token: accessToken, tokenTypeHint: 'access_token', clientAuth: 'post', status: 200 }),
        ]);
        // What the server answers a revocation with: 200 and an empty body (django-oauth-toolkit: as text/html).
        expect(server.proxy.revocationCalls.map((call) => call.body)).toEqual(['', '']);
        expect(server.proxy.tokenCalls).toEqual([]);
        expect(api.tokens.current).toBeUndefined();
        // Refused by the server, checked by hand.
        expect(await apiStatusWith(accessToken)).toBe(401);
        const refusal = await postToken(server, { grant_type: 'refresh_token', refresh_token: refreshToken });
        expect({ status: refusal.status, error: refusal.body.error }).toEqual(definition.answers.refusedRefresh);
        server.proxy.reset();

        const response = await api.get<WhoAmI>('/reports/2');

        expect(response.status).toBe(200);
        expect(tokenCalls()).toEqual([['password', 200]]);
        expect(api.tokens.current?.accessToken).not.toBe(accessToken);
      });

      test('with client_secret_basic, the revocation authenticates the client as the token request did', async () => {
        const api = clientFor(server, { revocationUrl: revocationUrl(), clientAuthentication: 'client_secret_basic' });
        await api.get('/reports/1');
        const accessToken = api.tokens.current?.accessToken ?? '';
        server.proxy.reset();

        await api.tokens.revoke();

        expect(server.proxy.revocationCalls.map((call) => [call.tokenTypeHint, call.clientAuth, call.status])).toEqual([
          ['refresh_token', 'basic', 200],
          ['access_token', 'basic', 200],
        ]);
        expect(await apiStatusWith(accessToken)).toBe(401);
      });

      test('a client credentials token: only the access token is revoked, and the next request makes a fresh grant', async () => {
        const api = serviceClient({ revocationUrl: revocationUrl() });
        await api.get('/jobs/1');
        const accessToken = api.tokens.current?.accessToken ?? '';
        server.proxy.reset();

        await api.tokens.revoke();

        expect(server.proxy.revocationCalls).toEqual([expect.objectContaining({ token: accessToken, tokenTypeHint: 'access_token', clientAuth: 'post', status: 200 })]);
        expect(await apiStatusWith(accessToken)).toBe(401);
        server.proxy.reset();

        const response = await api.get<WhoAmI>('/jobs/2');

        expect(response.status).toBe(200);
        expect(tokenCalls()).toEqual([['client_credentials', 200]]);
      });

      test('a refresh token obtained elsewhere: the rotated one is revoked, and then there is nothing left to renew with', async () => {
        const brought = await tokensFromElsewhere();
        const api = broughtClient(brought.refreshToken, [], { revocationUrl: revocationUrl() });
        await api.get('/reports/1');
        const { accessToken, refreshToken } = api.tokens.current ?? {};
        server.proxy.reset();

        await api.tokens.revoke();
        const after = await api.get('/reports/2').then(
          () => undefined,
          (error: unknown) => error,
        );

        expect(server.proxy.revocationCalls.map((call) => [call.token, call.tokenTypeHint, call.status])).toEqual([
          [refreshToken, 'refresh_token', 200],
          [accessToken, 'access_token', 200],
        ]);
        expect(after).toBeInstanceOf(ConfigurationError);
        expect(server.proxy.tokenCalls).toEqual([]);
        const refusal = await postToken(server, { grant_type: 'refresh_token', refresh_token: refreshToken ?? '' });
        expect({ status: refusal.status, error: refusal.body.error }).toEqual(definition.answers.refusedRefresh);
      });

      test('a revocation the server refuses: an InvalidClientError for the revocation that shows no secret, and the tokens stay valid there', async () => {
        // The secret is a function: right for the grant, wrong by the time of the revocation.
        let secret = server.credentials.clientSecret;
        const wrongSecret = 'not+the/secret=: any more';
        const api = clientFor(server, { revocationUrl: revocationUrl(), clientSecret: () => secret });
        await api.get('/reports/1');
        const { accessToken, refreshToken } = api.tokens.current ?? {};
        secret = wrongSecret;
        server.proxy.reset();

        const failure = await api.tokens.revoke().then(
          () => undefined,
          (error: unknown) => error,
        );

        // Both are tried, whatever happened to the first: a failed refresh-token revocation must not leave the access
        // token unasked. The first failure is the one thrown.
        expect(server.proxy.revocationCalls).toEqual([
          expect.objectContaining({ tokenTypeHint: 'refresh_token', clientAuth: 'post', ...definition.answers.wrongSecretPost }),
          expect.objectContaining({ tokenTypeHint: 'access_token', clientAuth: 'post', ...definition.answers.wrongSecretPost }),
        ]);
        expect(failure).toBeInstanceOf(InvalidClientError);
        expect(failure).toMatchObject({ grant: 'revocation', ...definition.answers.wrongSecretPost });
        expectNoSecrets(failure, [wrongSecret, server.credentials.clientSecret, accessToken, refreshToken]);
        // Forgotten here whatever the outcome; at the server, nothing was revoked.
        expect(api.tokens.current).toBeUndefined();
        expect(await apiStatusWith(accessToken ?? '')).toBe(200);
      });

      if (definition.publishesDiscovery) {
        // django-oauth-toolkit 1.7's discovery document names no revocation_endpoint (RFC 8414 2 has one).
        test('with an issuer and no revocationUrl, a discovery document without revocation_endpoint is a ConfigurationError, and nothing is sent', async () => {
          const api = createAuthClient({ baseURL: server.apiUrl, auth: { issuer: server.issuer, ...server.credentials } });
          await api.get('/reports/1');
          const accessToken = api.tokens.current?.accessToken ?? '';
          server.proxy.reset();

          const failure = await api.tokens.revoke().then(
            () => undefined,
            (error: unknown) => error,
          );

          expect(failure).toBeInstanceOf(ConfigurationError);
          expect((failure as Error).message).toContain('revocationUrl');
          expect(server.proxy.revocationCalls).toEqual([]);
          expect(await apiStatusWith(accessToken)).toBe(200);
        });
      }
    });
  }
});
