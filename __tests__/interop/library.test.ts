/**
 * The library against real authorization servers (issue 11): each server in ./servers is installed by
 * scripts/interop-install.sh, started here on 127.0.0.1 behind a proxy that counts every token endpoint call, and
 * protects an API that accepts only its own live tokens. Counts are exact; nothing here measures time.
 *
 * The error classes follow the rule, "classify by the OAuth error code first, the status second":
 * `invalid_grant` on the password grant is a UserAuthenticationError, `invalid_client` an InvalidClientError at any
 * status. Before each class is checked, the server's own answer is (so a failure says which side moved).
 */
import {
  defaults,
  type AuthClient,
  InvalidClientError,
  UserAuthenticationError,
  createAuthClient,
} from '../../src/index.js';
import { burst, clientFor, formEncoded, postToken, type WhoAmI } from './helpers.js';
import { serverTable } from './servers/index.js';
import type { InteropServer, ServerDefinition } from './servers/types.js';

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

  function statuses(responses: readonly { status: number }[]): number[] {
    return responses.map((response) => response.status);
  }

  describe('the password grant', () => {
    test('with client_secret_post, gets a token that the API accepts, in one token call', async () => {
      const api = clientFor(server, { clientAuthentication: 'client_secret_post' });

      const response = await api.get<WhoAmI>('/reports/1');

      expect(response.status).toBe(200);
      expect(response.data.user).toBe(server.credentials.username);
      expect(response.data.client).toBe(server.credentials.clientId);
      expect(server.proxy.tokenCalls).toEqual([expect.objectContaining({ grantType: 'password', clientAuth: 'post', status: 200 })]);
    });

    test('with client_secret_basic, works with a secret containing + / = : and a space, and keeps the form that worked', async () => {
      for (const special of ['+', '/', '=', ':', ' ']) expect(server.credentials.clientSecret).toContain(special);
      const api = clientFor(server, { clientAuthentication: 'client_secret_basic' });

      const response = await api.get<WhoAmI>('/reports/1');

      expect(response.status).toBe(200);
      const { clientId, clientSecret } = server.credentials;
      const accepted = definition.basicForm === 'raw' ? { id: clientId, secret: clientSecret } : { id: formEncoded(clientId), secret: formEncoded(clientSecret) };
      // RFC 6749 2.3.1's form-encoded credentials first; a server that does not decode them refuses them with
      // invalid_client, and then the raw form is tried once.
      const expected =
        definition.basicForm === 'form-encoded'
          ? [{ grantType: 'password', clientAuth: 'basic', basic: accepted, status: 200 }]
          : [
              { grantType: 'password', clientAuth: 'basic', basic: { id: formEncoded(clientId), secret: formEncoded(clientSecret) }, status: 401, error: 'invalid_client' },
              { grantType: 'password', clientAuth: 'basic', basic: accepted, status: 200 },
            ];
      expect(server.proxy.tokenCalls).toEqual(expected.map((call): unknown => expect.objectContaining(call)));

      server.proxy.reset();
      await api.tokens.refresh();
      expect(server.proxy.tokenCalls).toEqual([expect.objectContaining({ grantType: 'refresh_token', clientAuth: 'basic', basic: accepted, status: 200 })]);
    });

    test('serves ten requests, five at once and then five one after another, with one password grant', async () => {
      const api = clientFor(server);

      const concurrent = await Promise.all([1, 2, 3, 4, 5].map((n) => api.get(`/reports/${n}`)));
      const sequential = [];
      for (const n of [6, 7, 8, 9, 10]) sequential.push(await api.get(`/reports/${n}`));

      expect(statuses([...concurrent, ...sequential])).toEqual(Array<number>(10).fill(200));
      expect(server.proxy.grants()).toEqual({ password: 1, refresh_token: 0, total: 1 });
      expect(server.proxy.apiStatuses()).toEqual({ 200: 10 });
    });
  });

  describe('refresh and rotation', () => {
    test('refreshes with the refresh token; the rotated refresh token works and the old one is refused', async () => {
      const api = clientFor(server);
      await api.get('/reports/1');
      const first = api.tokens.current;
      expect(first?.refreshToken).toEqual(expect.any(String));

      const second = await api.tokens.refresh();
      const afterSecond = await api.get<WhoAmI>('/reports/2');
      const third = await api.tokens.refresh();
      const afterThird = await api.get<WhoAmI>('/reports/3');

      expect(second.accessToken).not.toBe(first?.accessToken);
      expect(second.refreshToken).toEqual(expect.any(String));
      expect(second.refreshToken).not.toBe(first?.refreshToken);
      expect(third.refreshToken).not.toBe(second.refreshToken);
      expect(statuses([afterSecond, afterThird])).toEqual([200, 200]);
      expect(server.proxy.grants()).toEqual({ password: 1, refresh_token: 2, total: 3 });
      expect(server.proxy.tokenCalls.map((call) => call.status)).toEqual([200, 200, 200]);

      // The refresh tokens used up by the two rotations, sent again by hand: the server refuses both.
      const refusals = [await postToken(server, { grant_type: 'refresh_token', refresh_token: first?.refreshToken ?? '' })];
      refusals.push(await postToken(server, { grant_type: 'refresh_token', refresh_token: second.refreshToken ?? '' }));
      for (const refusal of refusals) {
        expect({ status: refusal.status, error: refusal.body.error }).toEqual(definition.answers.refusedRefresh);
      }
    });
  });

  describe('a 401 storm', () => {
    async function warmClient(): Promise<{ api: AuthClient; accessToken: string }> {
      const api = clientFor(server);
      await api.get('/warm');
      const accessToken = api.tokens.current?.accessToken;
      if (accessToken === undefined) throw new Error('no token after the first request');
      return { api, accessToken };
    }

    test(`after the server expires the access token, ${STORM} concurrent requests cost one refresh grant and all succeed`, async () => {
      const { api, accessToken } = await warmClient();
      await server.expire(accessToken);
      server.proxy.reset();

      const responses = await Promise.all(Array.from({ length: STORM }, (_, n) => api.get(`/storm/${n}`)));

      expect(statuses(responses)).toEqual(Array<number>(STORM).fill(200));
      expect(server.proxy.grants()).toEqual({ password: 0, refresh_token: 1, total: 1 });
      // Every request went out with the dead token, got one 401, and was replayed once with the new one.
      expect(server.proxy.apiStatuses()).toEqual({ 200: STORM, 401: STORM });
    });

    test(`after the server revokes the access token, ${STORM} concurrent requests cost one renewal and all succeed`, async () => {
      const { api, accessToken } = await warmClient();
      await server.revoke(accessToken);
      server.proxy.reset();

      const responses = await Promise.all(Array.from({ length: STORM }, (_, n) => api.get(`/storm/${n}`)));

      expect(statuses(responses)).toEqual(Array<number>(STORM).fill(200));
      if (definition.refreshAfterRevocation === 'works') {
        expect(server.proxy.grants()).toEqual({ password: 0, refresh_token: 1, total: 1 });
      } else {
        // The refresh token answers 5xx: retried as the retry policy says, then one password grant (the escalation).
        const attempts = defaults.retry.attempts;
        expect(server.proxy.tokenCalls.map((call) => [call.grantType, call.status >= 500 ? '5xx' : call.status])).toEqual([
          ...Array.from({ length: attempts }, () => ['refresh_token', '5xx']),
          ['password', 200],
        ]);
      }
      expect(server.proxy.apiStatuses()).toEqual({ 200: STORM, 401: STORM });
    });
  });

  describe(`refused credentials: ${BURST} concurrent requests, one attempt, the right class`, () => {
    test('a wrong password is a UserAuthenticationError', async () => {
      const api = clientFor(server, { password: 'not the password' });

      const failures = await burst(BURST, (n) => api.get(`/reports/${n}`));

      expect(server.proxy.tokenCalls).toEqual([expect.objectContaining({ grantType: 'password', ...definition.answers.wrongPassword })]);
      for (const failure of failures) {
        expect(failure).toBeInstanceOf(UserAuthenticationError);
        expect(failure).toMatchObject(definition.answers.wrongPassword);
      }
      expect(server.proxy.apiCalls).toEqual([]);
    });

    test('a wrong client secret sent with client_secret_post is an InvalidClientError', async () => {
      const api = clientFor(server, { clientSecret: 'not+the/secret', clientAuthentication: 'client_secret_post' });

      const failures = await burst(BURST, (n) => api.get(`/reports/${n}`));

      expect(server.proxy.tokenCalls).toEqual([expect.objectContaining({ grantType: 'password', clientAuth: 'post', ...definition.answers.wrongSecretPost })]);
      for (const failure of failures) {
        expect(failure).toBeInstanceOf(InvalidClientError);
        expect(failure).toMatchObject(definition.answers.wrongSecretPost);
      }
    });

    test('a wrong client secret sent with client_secret_basic is an InvalidClientError after each credential form was tried once', async () => {
      const api = clientFor(server, { clientSecret: 'not+the/secret=: at all', clientAuthentication: 'client_secret_basic' });

      const failures = await burst(BURST, (n) => api.get(`/reports/${n}`));

      const refused: unknown = expect.objectContaining({ grantType: 'password', clientAuth: 'basic', ...definition.answers.wrongSecretBasic });
      expect(server.proxy.tokenCalls).toEqual([refused, refused]);
      expect(server.proxy.tokenCalls.map((call) => call.basic?.secret)).toEqual([formEncoded('not+the/secret=: at all'), 'not+the/secret=: at all']);
      for (const failure of failures) {
        expect(failure).toBeInstanceOf(InvalidClientError);
        expect(failure).toMatchObject({ ...definition.answers.wrongSecretBasic, basicFormsTried: ['form-encoded', 'raw'] });
      }
    });

    test('an unknown client id is an InvalidClientError', async () => {
      const api = clientFor(server, { clientId: 'no-such-client', clientAuthentication: 'client_secret_post' });

      const failures = await burst(BURST, (n) => api.get(`/reports/${n}`));

      expect(server.proxy.tokenCalls).toEqual([expect.objectContaining({ grantType: 'password', ...definition.answers.unknownClient })]);
      for (const failure of failures) {
        expect(failure).toBeInstanceOf(InvalidClientError);
        expect(failure).toMatchObject(definition.answers.unknownClient);
      }
    });
  });

  (definition.publishesDiscovery ? describe : describe.skip)('discovery', () => {
    test('finds the token endpoint from the issuer, picks a client authentication it lists, and gets a token', async () => {
      const api = createAuthClient({ baseURL: server.apiUrl, auth: { issuer: server.issuer, ...server.credentials } });

      const response = await api.get<WhoAmI>('/reports/1');

      expect(response.status).toBe(200);
      expect(response.data.user).toBe(server.credentials.username);
      // Through the proxy: the document names the token endpoint at the address it was asked on.
      expect(server.proxy.tokenCalls).toEqual([expect.objectContaining({ grantType: 'password', status: 200 })]);
      expect(['post', 'basic']).toContain(server.proxy.tokenCalls[0]?.clientAuth);
    });
  });
});
