import nock from 'nock';

import { ErrorCode, InvalidTokenResponseError, TokenEndpointError, TokenNetworkError, type TokenSet } from '../src/index.js';
import { MAX_RESPONSE_BYTES } from '../src/limits.js';
import { endpointWith, rejectionOf, tokenBody } from './helpers/endpoint-fixtures.js';
import { recordRequests, useNock } from './helpers/endpoint-nock.js';

useNock();

const ISSUER = 'https://idp.test';
const WELL_KNOWN = '/.well-known/openid-configuration';
/** On another host than the issuer, so a POST to the issuer itself would not match. */
const DISCOVERED_TOKEN_URL = 'https://login.idp.test/oauth2/token';
const discoveryDocument = { issuer: ISSUER, token_endpoint: DISCOVERED_TOKEN_URL, jwks_uri: `${ISSUER}/jwks` };

describe('discovery of the token endpoint from an issuer', () => {
  test('five concurrent grants read the discovery document once and all post to the token endpoint it names', async () => {
    const discovery = nock(ISSUER).get(WELL_KNOWN).once().reply(200, discoveryDocument);
    const token = nock('https://login.idp.test').post('/oauth2/token').times(5).reply(200, tokenBody);
    const endpoint = endpointWith({ tokenUrl: undefined, issuer: ISSUER });

    const results = await Promise.all(Array.from({ length: 5 }, () => endpoint.passwordGrant()));

    expect(results.map((tokens: TokenSet) => tokens.accessToken)).toEqual(Array<string>(5).fill(tokenBody.access_token));
    discovery.done();
    token.done();
  });

  test('later grants and tokenUrl() reuse the discovered endpoint without asking again', async () => {
    nock(ISSUER).get(WELL_KNOWN).once().reply(200, discoveryDocument);
    nock('https://login.idp.test').post('/oauth2/token').twice().reply(200, tokenBody);
    const endpoint = endpointWith({ tokenUrl: undefined, issuer: ISSUER });

    await endpoint.passwordGrant();
    await endpoint.refreshGrant('fixture-refresh-token-0001');

    await expect(endpoint.tokenUrl()).resolves.toBe(DISCOVERED_TOKEN_URL);
  });

  test('an issuer with a path is looked up under that path, its trailing slash removed first', async () => {
    const issuer = 'https://idp.test/realms/acme/';
    const sent = recordRequests(
      nock(ISSUER).get(`/realms/acme${WELL_KNOWN}`).reply(200, { issuer, token_endpoint: `${issuer}protocol/openid-connect/token` }),
    );
    const endpoint = endpointWith({ tokenUrl: undefined, issuer });

    await expect(endpoint.tokenUrl()).resolves.toBe(`${issuer}protocol/openid-connect/token`);
    expect(sent).toHaveLength(1);
  });

  test.each([
    ['without a trailing slash, the document with one', ISSUER, `${ISSUER}/`],
    ['with a trailing slash, the document without', `${ISSUER}/`, ISSUER],
  ])('an issuer without a path configured %s is the same issuer (both spell the same URL)', async (_name, configured, named) => {
    nock(ISSUER).get(WELL_KNOWN).reply(200, { ...discoveryDocument, issuer: named });

    await expect(endpointWith({ tokenUrl: undefined, issuer: configured }).tokenUrl()).resolves.toBe(DISCOVERED_TOKEN_URL);
  });

  test('a configured tokenUrl is used as given, without discovery', async () => {
    await expect(endpointWith().tokenUrl()).resolves.toBe('https://idp.test/connect/token');
  });
});

interface FailureCase {
  readonly name: string;
  readonly reply: (interceptor: nock.Interceptor) => nock.Scope;
  readonly type: abstract new (...args: never[]) => Error;
  readonly code: string;
  readonly issuer?: string;
  readonly allowInsecureHttp?: boolean;
}

const failures: FailureCase[] = [
  {
    name: 'a 404 for the discovery document',
    reply: (i) => i.reply(404, 'Not Found'),
    type: TokenEndpointError,
    code: ErrorCode.TOKEN_ENDPOINT,
  },
  {
    name: 'a discovery document that is not JSON',
    reply: (i) => i.reply(200, '<html>Welcome</html>'),
    type: InvalidTokenResponseError,
    code: ErrorCode.INVALID_TOKEN_RESPONSE,
  },
  {
    name: 'a discovery document without token_endpoint',
    reply: (i) => i.reply(200, { issuer: ISSUER }),
    type: InvalidTokenResponseError,
    code: ErrorCode.INVALID_TOKEN_RESPONSE,
  },
  {
    name: 'a discovery document whose token_endpoint is not a URL',
    reply: (i) => i.reply(200, { issuer: ISSUER, token_endpoint: 'token' }),
    type: InvalidTokenResponseError,
    code: ErrorCode.INVALID_TOKEN_RESPONSE,
  },
  {
    name: 'a discovery document for another issuer',
    reply: (i) => i.reply(200, { ...discoveryDocument, issuer: 'https://evil.test' }),
    type: InvalidTokenResponseError,
    code: ErrorCode.INVALID_TOKEN_RESPONSE,
  },
  {
    name: 'an https issuer naming a plain http token endpoint',
    reply: (i) => i.reply(200, { ...discoveryDocument, token_endpoint: 'http://login.idp.test/oauth2/token' }),
    type: InvalidTokenResponseError,
    code: ErrorCode.INVALID_TOKEN_RESPONSE,
  },
  {
    name: 'a loopback http issuer naming a plain http token endpoint off loopback',
    issuer: 'http://127.0.0.1:8080',
    reply: (i) => i.reply(200, { issuer: 'http://127.0.0.1:8080', token_endpoint: 'http://login.idp.test/oauth2/token' }),
    type: InvalidTokenResponseError,
    code: ErrorCode.INVALID_TOKEN_RESPONSE,
  },
  {
    name: 'a token endpoint that is neither http nor https',
    issuer: 'http://idp.test',
    allowInsecureHttp: true,
    reply: (i) => i.reply(200, { issuer: 'http://idp.test', token_endpoint: 'data:application/json,{}' }),
    type: InvalidTokenResponseError,
    code: ErrorCode.INVALID_TOKEN_RESPONSE,
  },
  {
    name: 'a token endpoint with embedded credentials',
    reply: (i) => i.reply(200, { ...discoveryDocument, token_endpoint: 'https://user:pass@login.idp.test/oauth2/token' }),
    type: InvalidTokenResponseError,
    code: ErrorCode.INVALID_TOKEN_RESPONSE,
  },
  {
    name: 'a network failure',
    reply: (i) => i.replyWithError('getaddrinfo ENOTFOUND idp.test'),
    type: TokenNetworkError,
    code: ErrorCode.NETWORK,
  },
];

describe('a failed discovery', () => {
  test.each(failures)('$name is a typed error, and is not cached: the next grant looks again', async (failure) => {
    const issuer = failure.issuer ?? ISSUER;
    const insecure = failure.allowInsecureHttp === undefined ? {} : { allowInsecureHttp: failure.allowInsecureHttp };
    const endpoint = endpointWith({ tokenUrl: undefined, issuer, ...insecure });
    failure.reply(nock(issuer).get(WELL_KNOWN));

    const error = await rejectionOf(endpoint.passwordGrant());

    expect(error).toBeInstanceOf(failure.type);
    expect(error).toMatchObject({ code: failure.code, grant: 'discovery' });

    nock(issuer).get(WELL_KNOWN).reply(200, { issuer, token_endpoint: `${issuer}/token` });
    nock(issuer).post('/token').reply(200, tokenBody);

    await expect(endpoint.passwordGrant()).resolves.toMatchObject({ accessToken: tokenBody.access_token });
  });

  test('a 404 keeps its status', async () => {
    nock(ISSUER).get(WELL_KNOWN).reply(404, 'Not Found');
    const error = await rejectionOf(endpointWith({ tokenUrl: undefined, issuer: ISSUER }).tokenUrl());

    expect(error).toMatchObject({ status: 404 });
  });

  test('a missing token_endpoint is named as the offending field', async () => {
    nock(ISSUER).get(WELL_KNOWN).reply(200, { issuer: ISSUER });
    const error = await rejectionOf(endpointWith({ tokenUrl: undefined, issuer: ISSUER }).tokenUrl());

    expect(error).toMatchObject({ field: 'token_endpoint' });
  });

  test('a plain http token endpoint off loopback is accepted when allowInsecureHttp is set', async () => {
    const issuer = 'http://127.0.0.1:8080';
    nock(issuer).get(WELL_KNOWN).reply(200, { issuer, token_endpoint: 'http://login.idp.test/oauth2/token' });
    const endpoint = endpointWith({ tokenUrl: undefined, issuer, allowInsecureHttp: true });

    await expect(endpoint.tokenUrl()).resolves.toBe('http://login.idp.test/oauth2/token');
  });

  test('a plain http token endpoint on loopback is accepted for a loopback issuer', async () => {
    const issuer = 'http://127.0.0.1:8080';
    nock(issuer).get(WELL_KNOWN).reply(200, { issuer, token_endpoint: 'http://127.0.0.1:8080/token' });

    await expect(endpointWith({ tokenUrl: undefined, issuer }).tokenUrl()).resolves.toBe('http://127.0.0.1:8080/token');
  });
});

describe('the issuer named by the discovery document (OpenID Connect Discovery 1.0 section 4.3)', () => {
  const REALM = 'https://idp.test/realms/acme';
  const missing = 'is missing or not a string';
  /** Both issuers are shown: they are public URLs, and the mismatch is unreadable without them. */
  const mismatch = (issuer: string, configured: string): string => `"${issuer}" is not the configured issuer "${new URL(configured).href}"`;
  const cases: { name: string; configured: string; issuer: unknown; problem: string }[] = [
    { name: 'a document without issuer', configured: ISSUER, issuer: undefined, problem: missing },
    { name: 'a null issuer', configured: ISSUER, issuer: null, problem: missing },
    { name: 'a numeric issuer', configured: ISSUER, issuer: 42, problem: missing },
    { name: 'an issuer given as an object', configured: ISSUER, issuer: { href: ISSUER }, problem: missing },
    { name: 'another host', configured: ISSUER, issuer: 'https://evil.test', problem: mismatch('https://evil.test', ISSUER) },
    { name: 'the same host over http', configured: ISSUER, issuer: 'http://idp.test', problem: mismatch('http://idp.test', ISSUER) },
    { name: 'an issuer in other letter case', configured: ISSUER, issuer: 'https://IDP.test', problem: mismatch('https://IDP.test', ISSUER) },
    { name: 'a path with a trailing slash the configured issuer lacks', configured: REALM, issuer: `${REALM}/`, problem: mismatch(`${REALM}/`, REALM) },
    { name: 'a path without the trailing slash the configured issuer has', configured: `${REALM}/`, issuer: REALM, problem: mismatch(REALM, `${REALM}/`) },
    { name: 'a parent path of the configured issuer', configured: REALM, issuer: 'https://idp.test/realms', problem: mismatch('https://idp.test/realms', REALM) },
  ];

  test.each(cases)('$name is refused, naming the issuer field and the document, and no token request is made', async ({ configured, issuer, problem }) => {
    const path = new URL(configured).pathname.replace(/\/+$/, '');
    nock(ISSUER).get(`${path}${WELL_KNOWN}`).reply(200, { ...discoveryDocument, issuer });

    const error = await rejectionOf(endpointWith({ tokenUrl: undefined, issuer: configured }).passwordGrant());

    expect(error).toBeInstanceOf(InvalidTokenResponseError);
    expect(error).toMatchObject({ grant: 'discovery', field: 'issuer', code: ErrorCode.INVALID_TOKEN_RESPONSE });
    expect((error as Error).message).toBe(`discovery failed: issuer ${problem} (document at ${ISSUER}${path}${WELL_KNOWN})`);
  });

  test('an issuer with control characters is shown escaped in the message', async () => {
    nock(ISSUER).get(WELL_KNOWN).reply(200, { ...discoveryDocument, issuer: 'https://evil.test\n\u001B[31mforged' });

    const error = await rejectionOf(endpointWith({ tokenUrl: undefined, issuer: ISSUER }).tokenUrl());

    expect((error as Error).message).toContain('"https://evil.test\\u000A\\u001B[31mforged" is not the configured issuer "https://idp.test/"');
  });

  test('an issuer with a path named exactly as configured is accepted', async () => {
    nock(ISSUER).get(`/realms/acme${WELL_KNOWN}`).reply(200, { issuer: REALM, token_endpoint: `${REALM}/token` });

    await expect(endpointWith({ tokenUrl: undefined, issuer: REALM }).tokenUrl()).resolves.toBe(`${REALM}/token`);
  });
});

describe('a discovery document that is not a JSON object', () => {
  test.each([
    ['JSON null', 'null', 'is not a JSON object'],
    ['a JSON array', '[]', 'is not a JSON object'],
    ['a JSON string', '"https://idp.test"', 'is not a JSON object'],
    ['HTML', '<html>Welcome</html>', 'is not JSON'],
  ])('%s is an invalid response naming the body', async (_name, text, problem) => {
    nock(ISSUER).get(WELL_KNOWN).reply(200, text, { 'Content-Type': 'application/json' });

    const error = await rejectionOf(endpointWith({ tokenUrl: undefined, issuer: ISSUER }).tokenUrl());

    expect(error).toBeInstanceOf(InvalidTokenResponseError);
    expect(error).toMatchObject({ grant: 'discovery', field: 'body' });
    expect((error as Error).message).toBe(`discovery failed: body ${problem} (document at ${ISSUER}${WELL_KNOWN})`);
  });

  test('a discovery document over the size limit is an invalid response naming the body, not a network error', async () => {
    nock(ISSUER).get(WELL_KNOWN).reply(200, JSON.stringify({ ...discoveryDocument, padding: 'x'.repeat(MAX_RESPONSE_BYTES) }));

    const error = await rejectionOf(endpointWith({ tokenUrl: undefined, issuer: ISSUER }).tokenUrl());

    expect(error).toBeInstanceOf(InvalidTokenResponseError);
    expect(error).toMatchObject({ grant: 'discovery', field: 'body' });
  });
});
