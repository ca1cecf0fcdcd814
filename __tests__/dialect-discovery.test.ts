/**
 * Discovery as real servers serve it: the document behind a same-origin redirect (some serve only one spelling of
 * the path), messages that name the document's location, and the client authentication picked from
 * `token_endpoint_auth_methods_supported` when the caller chose none.
 */
import nock from 'nock';

import { type AuthOptions, TokenEndpointError, TokenNetworkError } from '../src/index.js';
import { MAX_DISCOVERY_REDIRECTS } from '../src/discovery.js';
import { endpointWith, plainCredentials, rejectionOf, tokenBody } from './helpers/endpoint-fixtures.js';
import { onlyRequest, recordRequests, useNock } from './helpers/endpoint-nock.js';

useNock();

const ISSUER = 'https://idp.test';
const WELL_KNOWN = '/.well-known/openid-configuration';
const DOCUMENT_URL = `${ISSUER}${WELL_KNOWN}`;
const TOKEN_URL = `${ISSUER}/oauth2/token`;
const document = (extra: Record<string, unknown> = {}) => ({ issuer: ISSUER, token_endpoint: TOKEN_URL, ...extra });
const discovering = (overrides: Partial<AuthOptions> = {}) => endpointWith({ tokenUrl: undefined, issuer: ISSUER, ...overrides });

describe('redirects of the discovery GET', () => {
  test('a 301 to the same path with a trailing slash is followed: two GETs, and the token endpoint it names is used', async () => {
    const first = nock(ISSUER).get(WELL_KNOWN).reply(301, '', { Location: `${DOCUMENT_URL}/` });
    const second = nock(ISSUER).get(`${WELL_KNOWN}/`).reply(200, document());

    await expect(discovering().tokenUrl()).resolves.toBe(TOKEN_URL);

    first.done();
    second.done();
  });

  test('a relative Location is resolved against the URL that redirected', async () => {
    nock(ISSUER).get(WELL_KNOWN).reply(308, '', { Location: 'openid-configuration/' });
    nock(ISSUER).get(`${WELL_KNOWN}/`).reply(200, document());

    await expect(discovering().tokenUrl()).resolves.toBe(TOKEN_URL);
  });

  test(`${MAX_DISCOVERY_REDIRECTS} redirects are followed`, async () => {
    for (let hop = 0; hop < MAX_DISCOVERY_REDIRECTS; hop += 1) {
      nock(ISSUER).get(hop === 0 ? WELL_KNOWN : `/hop/${hop}`).reply(302, '', { Location: `/hop/${hop + 1}` });
    }
    nock(ISSUER).get(`/hop/${MAX_DISCOVERY_REDIRECTS}`).reply(200, document());

    await expect(discovering().tokenUrl()).resolves.toBe(TOKEN_URL);
  });

  test(`a ${MAX_DISCOVERY_REDIRECTS + 1}th redirect is refused, naming the hop, and the next URL is not fetched`, async () => {
    for (let hop = 0; hop <= MAX_DISCOVERY_REDIRECTS; hop += 1) {
      nock(ISSUER).get(hop === 0 ? WELL_KNOWN : `/hop/${hop}`).reply(302, '', { Location: `/hop/${hop + 1}` });
    }

    const error = await rejectionOf(discovering().tokenUrl());

    expect(error).toBeInstanceOf(TokenEndpointError);
    expect(error).toMatchObject({ grant: 'discovery', status: 302 });
    expect((error as Error).message).toBe(
      `discovery failed with HTTP 302: more than ${MAX_DISCOVERY_REDIRECTS} redirects, the last from ${ISSUER}/hop/5 to ${ISSUER}/hop/6`,
    );
  });

  test.each([
    ['another host', 'https://evil.test/.well-known/openid-configuration'],
    ['plain http on the same host', `http://idp.test${WELL_KNOWN}`],
    ['another port', `https://idp.test:8443${WELL_KNOWN}`],
  ])('a redirect to %s is refused with both locations in the message, and not followed', async (_name, location) => {
    nock(ISSUER).get(WELL_KNOWN).reply(301, '', { Location: location });

    const error = await rejectionOf(discovering().passwordGrant());

    expect(error).toBeInstanceOf(TokenEndpointError);
    expect(error).toMatchObject({ grant: 'discovery', status: 301 });
    expect((error as Error).message).toBe(`discovery failed with HTTP 301: ${DOCUMENT_URL} redirected to ${location}, another origin: not followed`);
  });

  test('a redirect without a Location is refused, naming the URL', async () => {
    nock(ISSUER).get(WELL_KNOWN).reply(302, '');

    const error = await rejectionOf(discovering().tokenUrl());

    expect((error as Error).message).toBe(`discovery failed with HTTP 302: ${DOCUMENT_URL} redirected without a usable Location`);
  });
});

describe('discovery messages name the document', () => {
  test('a 404 says discovery, not a grant, and where it looked', async () => {
    nock(ISSUER).get(WELL_KNOWN).reply(404, 'Not Found');

    const error = await rejectionOf(discovering().tokenUrl());

    expect((error as Error).message).toBe(`discovery failed with HTTP 404: could not read the discovery document at ${DOCUMENT_URL}`);
  });

  test('a network failure names the URL it could not reach', async () => {
    nock(ISSUER).get(WELL_KNOWN).replyWithError('getaddrinfo ENOTFOUND idp.test');

    const error = await rejectionOf(discovering().tokenUrl());

    expect(error).toBeInstanceOf(TokenNetworkError);
    expect((error as Error).message).toBe(`discovery request to ${DOCUMENT_URL} failed: getaddrinfo ENOTFOUND idp.test`);
  });

  test('a problem after a redirect names the URL the document came from', async () => {
    nock(ISSUER).get(WELL_KNOWN).reply(301, '', { Location: `${DOCUMENT_URL}/` });
    nock(ISSUER).get(`${WELL_KNOWN}/`).reply(200, { issuer: ISSUER });

    const error = await rejectionOf(discovering().tokenUrl());

    expect((error as Error).message).toBe(`discovery failed: token_endpoint is missing or not a URL (document at ${DOCUMENT_URL}/)`);
  });
});

describe('the client authentication, when the caller chose none', () => {
  const basicOf = (id: string, secret: string) => `Basic ${Buffer.from(`${id}:${secret}`).toString('base64')}`;
  const basic = basicOf(plainCredentials.clientId, plainCredentials.clientSecret);

  test.each([
    ['no list', 'post', undefined],
    ['both methods', 'post', ['client_secret_basic', 'client_secret_post']],
    ['post only', 'post', ['client_secret_post']],
    ['basic only', 'basic', ['client_secret_basic']],
    ['basic among methods this library lacks', 'basic', ['private_key_jwt', 'client_secret_basic']],
    ['only methods this library lacks', 'post', ['private_key_jwt', 'tls_client_auth']],
    ['a list that is not an array', 'post', 'client_secret_basic'],
  ])('with %s listed, the grant uses %s', async (_name, expected, methods) => {
    nock(ISSUER).get(WELL_KNOWN).reply(200, document(methods === undefined ? {} : { token_endpoint_auth_methods_supported: methods }));
    const sent = recordRequests(nock(ISSUER).post('/oauth2/token').reply(200, tokenBody));

    await discovering().passwordGrant();

    const request = onlyRequest(sent);
    const form = new URLSearchParams(request.body);
    if (expected === 'basic') {
      expect(request.headers.get('authorization')).toBe(basic);
      expect([form.has('client_id'), form.has('client_secret')]).toEqual([false, false]);
    } else {
      expect(request.headers.get('authorization')).toBeNull();
      expect([form.get('client_id'), form.get('client_secret')]).toEqual([plainCredentials.clientId, plainCredentials.clientSecret]);
    }
  });

  test('a method the caller chose wins over the list', async () => {
    nock(ISSUER).get(WELL_KNOWN).reply(200, document({ token_endpoint_auth_methods_supported: ['client_secret_basic'] }));
    const sent = recordRequests(nock(ISSUER).post('/oauth2/token').reply(200, tokenBody));

    await discovering({ clientAuthentication: 'client_secret_post' }).passwordGrant();

    expect(onlyRequest(sent).headers.get('authorization')).toBeNull();
  });

  test('a basic method picked from the list still finds the raw form for a server that does not decode', async () => {
    const secret = 'q8+Zr/Wk9=';
    nock(ISSUER).get(WELL_KNOWN).reply(200, document({ token_endpoint_auth_methods_supported: ['client_secret_basic'] }));
    const sent = recordRequests(
      nock(ISSUER)
        .post('/oauth2/token')
        .twice()
        .reply((request) => (request.headers.get('authorization') === basicOf(plainCredentials.clientId, secret) ? [200, tokenBody] : [401, { error: 'invalid_client' }])),
    );

    await discovering({ clientSecret: secret }).passwordGrant();

    expect(sent.map((request) => request.headers.get('authorization'))).toEqual([
      basicOf(plainCredentials.clientId, 'q8%2BZr%2FWk9%3D'),
      basicOf(plainCredentials.clientId, secret),
    ]);
  });
});
