/**
 * client_secret_basic against both kinds of real server: those that form-decode the Basic credentials (RFC 6749
 * section 2.3.1) and those that do not (RFC 7617 only, the majority). Each header is decoded here and compared with
 * what each kind expects, and every token request is counted.
 */
import nock from 'nock';

import { InvalidClientError, type TokenEndpoint, UserAuthenticationError } from '../src/index.js';
import { endpointWith, IDP, REFRESH_TOKEN, rejectionOf, TOKEN_PATH, tokenBody } from './helpers/endpoint-fixtures.js';
import { recordRequests, type SentRequest, useNock } from './helpers/endpoint-nock.js';

useNock();

/** A client id and an `openssl rand -base64`-style secret: `+`, `/`, `=` change under form-encoding, and so does a space. */
const CLIENT_ID = 'reports-client';
const SECRET = 'q8+Zr/Wk9 x=';
const ENCODED_SECRET = 'q8%2BZr%2FWk9+x%3D';

type ServerKind = 'decodes' | 'does not decode';

/** The id and secret a server of that kind reads from a Basic header. */
function readBasic(header: string | null, kind: ServerKind): [string, string] | undefined {
  const match = /^Basic (.+)$/.exec(header ?? '');
  if (match?.[1] === undefined) return undefined;
  const text = Buffer.from(match[1], 'base64').toString('utf8');
  const colon = text.indexOf(':');
  const parts: [string, string] = [text.slice(0, colon), text.slice(colon + 1)];
  const formDecode = (part: string): string => new URLSearchParams(`v=${part}`).get('v') ?? '';
  return kind === 'decodes' ? [formDecode(parts[0]), formDecode(parts[1])] : parts;
}

/** The decoded header, as sent: the test reads the exact bytes, not what any server makes of them. */
function decodedHeader(request: SentRequest): string {
  return Buffer.from((request.headers.get('authorization') ?? '').replace(/^Basic /, ''), 'base64').toString('utf8');
}

/** A token endpoint of that kind for `times` requests; `status` is what it answers a client it does not recognise. */
function server(kind: ServerKind, times: number, status = 401): SentRequest[] {
  return recordRequests(
    nock(IDP)
      .post(TOKEN_PATH)
      .times(times)
      .reply((request) => {
        const [id, secret] = readBasic(request.headers.get('authorization'), kind) ?? [];
        return id === CLIENT_ID && secret === SECRET ? [200, tokenBody] : [status, { error: 'invalid_client' }];
      }),
  );
}

const basicEndpoint = (overrides: Parameters<typeof endpointWith>[0] = {}): TokenEndpoint =>
  endpointWith({ clientId: CLIENT_ID, clientSecret: SECRET, clientAuthentication: 'client_secret_basic', ...overrides });

describe('client_secret_basic finds the form the server accepts', () => {
  test('a server that decodes gets the form-encoded credentials, once: one request per grant', async () => {
    const sent = server('decodes', 2);
    const endpoint = basicEndpoint();

    await endpoint.passwordGrant();
    await endpoint.refreshGrant(REFRESH_TOKEN);

    expect(sent.map(decodedHeader)).toEqual([`${CLIENT_ID}:${ENCODED_SECRET}`, `${CLIENT_ID}:${ENCODED_SECRET}`]);
  });

  test('a server that does not decode refuses the encoded form once; the raw form is sent next and kept for the endpoint', async () => {
    const sent = server('does not decode', 4);
    const endpoint = basicEndpoint();

    await endpoint.passwordGrant();
    await endpoint.refreshGrant(REFRESH_TOKEN);
    await endpoint.passwordGrant();

    expect(sent.map(decodedHeader)).toEqual([`${CLIENT_ID}:${ENCODED_SECRET}`, `${CLIENT_ID}:${SECRET}`, `${CLIENT_ID}:${SECRET}`, `${CLIENT_ID}:${SECRET}`]);
  });

  test('the form is remembered per token endpoint: another endpoint for the same server learns it once more', async () => {
    const sent = server('does not decode', 4);
    const first = basicEndpoint();
    const second = basicEndpoint();

    await first.passwordGrant();
    await second.passwordGrant();

    expect(sent.map(decodedHeader)).toEqual([`${CLIENT_ID}:${ENCODED_SECRET}`, `${CLIENT_ID}:${SECRET}`, `${CLIENT_ID}:${ENCODED_SECRET}`, `${CLIENT_ID}:${SECRET}`]);
  });

  test('a refusal with invalid_client and HTTP 400 (not 401) also tries the other form', async () => {
    const sent = server('does not decode', 2, 400);

    await expect(basicEndpoint().passwordGrant()).resolves.toMatchObject({ accessToken: tokenBody.access_token });

    expect(sent).toHaveLength(2);
  });

  test('a refresh grant learns the form too', async () => {
    const sent = server('does not decode', 2);

    await basicEndpoint().refreshGrant(REFRESH_TOKEN);

    expect(sent.map((request) => [decodedHeader(request), new URLSearchParams(request.body).get('grant_type')])).toEqual([
      [`${CLIENT_ID}:${ENCODED_SECRET}`, 'refresh_token'],
      [`${CLIENT_ID}:${SECRET}`, 'refresh_token'],
    ]);
    // Neither form puts the client credentials in the body.
    expect(sent.every((request) => !/client_(id|secret)/.test(request.body))).toBe(true);
  });
});

describe('when both forms are refused', () => {
  test('the error says both were tried, after exactly two requests', async () => {
    const sent = recordRequests(nock(IDP).post(TOKEN_PATH).twice().reply(401, { error: 'invalid_client', error_description: 'bad client' }));

    const error = await rejectionOf(basicEndpoint().passwordGrant());

    expect(error).toBeInstanceOf(InvalidClientError);
    expect((error as InvalidClientError).basicFormsTried).toEqual(['form-encoded', 'raw']);
    expect((error as Error).message).toBe(
      'password grant failed with HTTP 401: invalid client credentials (client_secret_basic tried with form-encoded and raw credentials) (invalid_client: bad client)',
    );
    expect(sent.map(decodedHeader)).toEqual([`${CLIENT_ID}:${ENCODED_SECRET}`, `${CLIENT_ID}:${SECRET}`]);
  });

  test('an endpoint that echoes each Authorization header gets neither base64 printed', async () => {
    nock(IDP)
      .post(TOKEN_PATH)
      .twice()
      .reply(401, (request) => ({ error: 'invalid_client', error_description: `got ${request.headers.get('authorization') ?? ''}` }));

    const error = await rejectionOf(basicEndpoint().passwordGrant());

    const encodedBase64 = Buffer.from(`${CLIENT_ID}:${ENCODED_SECRET}`).toString('base64');
    const rawBase64 = Buffer.from(`${CLIENT_ID}:${SECRET}`).toString('base64');
    expect((error as InvalidClientError).errorDescription).toBe('got Basic [REDACTED]');
    for (const printed of [String(error), JSON.stringify(error), JSON.stringify((error as InvalidClientError).response)]) {
      expect(printed).not.toContain(encodedBase64);
      expect(printed).not.toContain(rawBase64);
    }
  });
});

describe('only one form is sent when a second one cannot help', () => {
  test('a refusal other than invalid_client (a wrong password) is final: the password is not sent twice', async () => {
    const sent = recordRequests(nock(IDP).post(TOKEN_PATH).reply(400, { error: 'invalid_grant' }));

    await expect(basicEndpoint().passwordGrant()).rejects.toBeInstanceOf(UserAuthenticationError);

    expect(sent).toHaveLength(1);
  });

  test('credentials that form-encoding leaves alone have one form: one request, and the message names no second', async () => {
    const sent = recordRequests(nock(IDP).post(TOKEN_PATH).reply(401, { error: 'invalid_client' }));

    const error = await rejectionOf(basicEndpoint({ clientSecret: 'PlainSecret-0001' }).passwordGrant());

    expect(sent).toHaveLength(1);
    expect((error as InvalidClientError).basicFormsTried).toBeUndefined();
    expect((error as Error).message).toBe('password grant failed with HTTP 401: invalid client credentials (invalid_client)');
  });

  test('a client id with a colon is sent form-encoded only: raw, no server could split it', async () => {
    const sent = recordRequests(nock(IDP).post(TOKEN_PATH).reply(401, { error: 'invalid_client' }));

    await expect(basicEndpoint({ clientId: 'tenant:app' }).passwordGrant()).rejects.toBeInstanceOf(InvalidClientError);

    expect(sent.map(decodedHeader)).toEqual([`tenant%3Aapp:${ENCODED_SECRET}`]);
  });

  test.each([
    ['client_secret_basic_encoded', `${CLIENT_ID}:${ENCODED_SECRET}`],
    ['client_secret_basic_raw', `${CLIENT_ID}:${SECRET}`],
  ] as const)('%s sends that form only, and a refusal is final', async (clientAuthentication, header) => {
    const sent = recordRequests(nock(IDP).post(TOKEN_PATH).reply(401, { error: 'invalid_client' }));

    const error = await rejectionOf(basicEndpoint({ clientAuthentication }).passwordGrant());

    expect(error).toBeInstanceOf(InvalidClientError);
    expect(sent.map(decodedHeader)).toEqual([header]);
  });

  test('client_secret_basic_raw works with a server that does not decode, in one request', async () => {
    const sent = server('does not decode', 1);

    await basicEndpoint({ clientAuthentication: 'client_secret_basic_raw' }).passwordGrant();

    expect(sent).toHaveLength(1);
  });
});
