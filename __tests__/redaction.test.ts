import util from 'node:util';

import nock from 'nock';

import { type ClientAuthentication, ErrorCode, InvalidClientError, InvalidRequestError, InvalidTokenResponseError, type OAuthBearerError, TokenEndpointError, TokenNetworkError, UserAuthenticationError } from '../src/index.js';
import { formEncode } from '../src/form-encoding.js';
import { REDACTED, redactBody, redactText, withEncodings } from '../src/redact.js';
import {
  causeChain,
  endpointWith,
  IDP,
  plainCredentials,
  REFRESH_TOKEN,
  rejectionOf,
  TOKEN_PATH,
  tokenBody,
  trickyCredentials,
} from './helpers/endpoint-fixtures.js';
import { recordRequests, useNock } from './helpers/endpoint-nock.js';

useNock();

/** The access token a broken 200 answer carries: it must not leak through the error either. */
const LEAKED_ACCESS_TOKEN = 'fixture-leaked-access-token-0001';

type Credentials = (typeof plainCredentials | typeof trickyCredentials) & { readonly refreshToken: string };
type Reply = (interceptor: nock.Interceptor, credentials: Credentials) => nock.Scope;

/** Everything the client sent, echoed back the way a careless endpoint would. */
async function echo(request: Request, credentials: Credentials): Promise<string> {
  const body = await request.text();
  const authorization = request.headers.get('authorization') ?? 'none';
  return `rejected ${body} (password ${credentials.password}, secret ${credentials.clientSecret}, ` +
    `refresh ${credentials.refreshToken}, authorization ${authorization})`;
}

type ErrorClass = abstract new (...args: never[]) => OAuthBearerError;
/** `refreshType` where a refresh grant's answer means something else (a refused refresh token is not a wrong password). */
const scenarios: { name: string; type: ErrorClass; refreshType?: ErrorClass; reply: Reply; timeout?: number }[] = [
  {
    // invalid_grant on the password grant is RFC 6749's "wrong username or password".
    name: 'a 400 invalid_grant that echoes the request in error_description',
    type: UserAuthenticationError,
    refreshType: InvalidRequestError,
    reply: (i, c) => i.reply(async (request) => [400, { error: 'invalid_grant', error_description: await echo(request, c) }]),
  },
  {
    name: 'a 400 whose error code echoes the password',
    type: InvalidRequestError,
    reply: (i, c) => i.reply(400, { error: `bad password ${c.password}` }),
  },
  {
    name: 'a 400 with a non-JSON body echoing the request',
    type: InvalidRequestError,
    reply: (i, c) => i.reply(async (request) => [400, await echo(request, c)]),
  },
  {
    name: 'a 401 invalid_client that echoes the request',
    type: InvalidClientError,
    reply: (i, c) => i.reply(async (request) => [401, { error: 'invalid_client', error_description: await echo(request, c) }]),
  },
  {
    name: 'a 403 that echoes the request',
    type: UserAuthenticationError,
    reply: (i, c) => i.reply(async (request) => [403, { error: 'access_denied', error_description: await echo(request, c) }]),
  },
  {
    name: 'a 500 that echoes the request',
    type: TokenEndpointError,
    reply: (i, c) => i.reply(async (request) => [500, { error: 'server_error', error_description: await echo(request, c) }]),
  },
  { name: 'a 503 HTML page', type: TokenEndpointError, reply: (i) => i.reply(503, '<html>maintenance</html>') },
  {
    name: 'a 302 redirect',
    type: TokenEndpointError,
    reply: (i, c) => i.reply(302, '', { Location: `https://elsewhere.test/?p=${formEncode(c.password)}` }),
  },
  {
    name: 'a network failure whose message quotes the credentials',
    type: TokenNetworkError,
    reply: (i, c) => i.replyWithError(`socket hang up (password ${c.password}, secret ${c.clientSecret}, refresh ${c.refreshToken})`),
  },
  { name: 'a timeout', type: TokenNetworkError, reply: (i) => i.delay(300).reply(200, tokenBody), timeout: 20 },
  {
    name: 'a 200 with an invalid body that holds an access token',
    type: InvalidTokenResponseError,
    reply: (i) => i.reply(200, { access_token: LEAKED_ACCESS_TOKEN, token_type: 'mac', refresh_token: REFRESH_TOKEN }),
  },
  {
    name: 'a 200 form-encoded body that holds an access token',
    type: InvalidTokenResponseError,
    reply: (i) => i.reply(200, `access_token=${LEAKED_ACCESS_TOKEN}&token_type=bearer`),
  },
];

const credentialSets = [
  ['plain', { ...plainCredentials, refreshToken: REFRESH_TOKEN }],
  ['tricky', { ...trickyCredentials, refreshToken: 'rt+/=&ü-0001' }],
] as const;
const methods: ClientAuthentication[] = ['client_secret_post', 'client_secret_basic'];
const grants = ['password', 'refresh_token'] as const;

const matrix = scenarios.flatMap((scenario) =>
  credentialSets.flatMap(([credentialsName, credentials]) =>
    methods.flatMap((method) => grants.map((grant) => ({ ...scenario, credentialsName, credentials, method, grant }))),
  ),
);

/** JSON.stringify is typed as always returning a string, but gives undefined for what it cannot encode. */
function jsonOf(value: unknown): string {
  const json = JSON.stringify(value) as string | undefined;
  return json ?? '';
}

/** Every printable view of every link of the error's cause chain. */
function printedForms(error: unknown): string[] {
  return causeChain(error).flatMap((link) => [
    link instanceof Error ? link.message : '',
    String(link),
    util.inspect(link, { depth: null }),
    // showHidden also prints the non-enumerable `response` kept for debugging.
    util.inspect(link, { depth: null, showHidden: true }),
    jsonOf(link),
  ]);
}

describe('no error shows a secret', () => {
  test.each(matrix)(
    '$name ($grant grant, $method, $credentialsName credentials)',
    async ({ type, refreshType, reply, timeout, credentials, method, grant }) => {
      const { refreshToken, ...options } = credentials;
      const sent = recordRequests(reply(nock(IDP).post(TOKEN_PATH), credentials));
      const endpoint = endpointWith({ ...options, clientAuthentication: method, ...(timeout ? { timeout } : {}) });

      const error = await rejectionOf(grant === 'password' ? endpoint.passwordGrant() : endpoint.refreshGrant(refreshToken));

      expect(error).toBeInstanceOf(grant === 'refresh_token' ? (refreshType ?? type) : type);
      expect(Object.values(ErrorCode)).toContain((error as OAuthBearerError).code);
      const [request] = sent;
      const authorization = request?.headers.get('authorization') ?? undefined;
      const secrets = [
        credentials.password,
        formEncode(credentials.password),
        credentials.clientSecret,
        formEncode(credentials.clientSecret),
        // Only the refresh grant is given the refresh token; a password grant cannot know it to remove it.
        ...(grant === 'refresh_token' ? [refreshToken, formEncode(refreshToken)] : []),
        LEAKED_ACCESS_TOKEN,
        request?.body,
        authorization,
        authorization?.replace(/^Basic /, ''),
      ].filter((secret) => secret !== undefined);
      expect(request?.body).toContain('grant_type=');
      // Checked first: printing a raw axios error with depth: null would dump sockets and the request config.
      for (const link of causeChain(error)) expect('config' in (link as object)).toBe(false);
      for (const printed of printedForms(error)) {
        for (const secret of secrets) expect(printed).not.toContain(secret);
      }
    },
  );

  test('an echoed password is replaced by the redaction marker, keeping the rest of the description', async () => {
    nock(IDP).post(TOKEN_PATH).reply(400, { error: 'invalid_grant', error_description: `wrong password ${plainCredentials.password}` });
    const error = (await rejectionOf(endpointWith().passwordGrant())) as InvalidRequestError;

    expect(error.errorDescription).toBe(`wrong password ${REDACTED}`);
    expect(error.response.body).toEqual({ error: 'invalid_grant', error_description: `wrong password ${REDACTED}` });
  });
});

describe('the answer an error keeps', () => {
  test('is readable on err.response but left out of the printed and JSON forms of the error', async () => {
    nock(IDP).post(TOKEN_PATH).reply(500, { error: 'server_error', trace: 'fixture-trace-marker' }, { 'X-Request-Id': 'req-0001' });
    const error = (await rejectionOf(endpointWith().passwordGrant())) as TokenEndpointError;

    expect(error.response.status).toBe(500);
    expect(error.response.body).toEqual({ error: 'server_error', trace: 'fixture-trace-marker' });
    expect(error.response.headers['x-request-id']).toBe('req-0001');
    for (const printed of [util.inspect(error, { depth: null }), JSON.stringify(error), String(error)]) {
      expect(printed).not.toContain('fixture-trace-marker');
      expect(printed).not.toContain('req-0001');
    }
  });

  test('leaves out session cookies the endpoint set', async () => {
    nock(IDP).post(TOKEN_PATH).reply(400, { error: 'invalid_grant' }, { 'Set-Cookie': 'session=fixture-session-0001' });
    const error = (await rejectionOf(endpointWith().passwordGrant())) as InvalidRequestError;

    expect(util.inspect(error.response, { depth: null })).not.toContain('fixture-session-0001');
  });
});

describe('printing what a grant returns', () => {
  test('a token set prints and serializes without its tokens, while its fields hold the real values', async () => {
    nock(IDP).post(TOKEN_PATH).reply(200, tokenBody);
    const tokens = await endpointWith().passwordGrant();

    expect(tokens.accessToken).toBe(tokenBody.access_token);
    expect(tokens.refreshToken).toBe(tokenBody.refresh_token);
    for (const printed of [util.inspect(tokens, { depth: null }), JSON.stringify(tokens), JSON.stringify({ tokens })]) {
      expect(printed).not.toContain(tokenBody.access_token);
      expect(printed).not.toContain(tokenBody.refresh_token);
      expect(printed).toContain(REDACTED);
      expect(printed).toContain(tokenBody.scope);
    }
  });

  test('the token endpoint object prints no secret, before or after a grant', async () => {
    const endpoint = endpointWith({ ...trickyCredentials, clientAuthentication: 'client_secret_basic' });
    const views = (): string[] => [
      util.inspect(endpoint, { depth: null }),
      util.inspect(endpoint, { depth: null, showHidden: true }),
      JSON.stringify(endpoint),
    ];
    const before = views();
    nock(IDP).post(TOKEN_PATH).reply(200, tokenBody);
    await endpoint.refreshGrant(REFRESH_TOKEN);

    for (const printed of [...before, ...views()]) {
      for (const secret of [trickyCredentials.password, trickyCredentials.clientSecret, REFRESH_TOKEN, tokenBody.access_token]) {
        expect(printed).not.toContain(secret);
      }
      for (const secret of [formEncode(trickyCredentials.password), formEncode(trickyCredentials.clientSecret)]) {
        expect(printed).not.toContain(secret);
      }
    }
  });
});

describe('redactText', () => {
  test('replaces every occurrence of each secret', () => {
    expect(redactText('a hunter22 b hunter22 c', ['hunter22'])).toBe(`a ${REDACTED} b ${REDACTED} c`);
  });

  test('removes a secret whole even when a shorter secret is part of it', () => {
    expect(redactText('token abcd1234', ['abcd', 'abcd1234'])).toBe(`token ${REDACTED}`);
  });

  test('ignores secrets shorter than four characters, which would redact ordinary words', () => {
    expect(redactText('the cat sat', ['cat', undefined])).toBe('the cat sat');
  });
});

describe('redactBody', () => {
  test('replaces credential fields and removes known secrets from strings, without touching the original', () => {
    const body = { access_token: 'at', id_token: 'it', error_description: 'pw hunter22', expires_in: 60 };

    expect(redactBody(body, ['hunter22'])).toEqual({
      access_token: REDACTED,
      id_token: REDACTED,
      error_description: `pw ${REDACTED}`,
      expires_in: 60,
    });
    expect(body.error_description).toBe('pw hunter22');
  });
});

describe('what an error keeps of the answer', () => {
  test.each([
    ['a 400 that echoes the request in a nested object', 400, { error: 'invalid_request', request: { password: 'x', raw: `password=${plainCredentials.password}`, list: [plainCredentials.clientSecret] } }],
    ['a 200 whose invalid body repeats the password in a note', 200, { access_token: '', note: `you sent ${plainCredentials.password}` }],
  ])('%s keeps no secret in err.response.body, at any depth', async (_name, status, body) => {
    nock(IDP).post(TOKEN_PATH).reply(status, body);

    const error = (await rejectionOf(endpointWith().passwordGrant())) as TokenEndpointError | InvalidTokenResponseError;

    const kept = JSON.stringify(error.response.body);
    expect(kept).not.toContain(plainCredentials.password);
    expect(kept).not.toContain(plainCredentials.clientSecret);
    expect(kept).toContain(REDACTED);
  });
});

describe('a secret echoed in another encoding', () => {
  // Every character the encodings below treat specially: quotes, angle brackets, slash, backslash, ampersand, space.
  const QUOTY = 'Pa"ss\'<w> /rd\\&1';
  const html = (text: string, double: string, single: string): string =>
    text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, double).replace(/'/g, single);
  const cases: { name: string; password: string; echoed: string }[] = [
    { name: 'percent-encoded by encodeURIComponent', password: QUOTY, echoed: encodeURIComponent(QUOTY) },
    { name: 'form-encoded with lower-case hex digits', password: QUOTY, echoed: 'Pa%22ss%27%3cw%3e+%2frd%5c%261' },
    { name: 'HTML-escaped with &quot; and &#39; (escape-html, lodash)', password: QUOTY, echoed: html(QUOTY, '&quot;', '&#39;') },
    { name: 'HTML-escaped with &#34; and &#39; (Go, Jinja2)', password: QUOTY, echoed: html(QUOTY, '&#34;', '&#39;') },
    { name: 'HTML-escaped with &#x27; (Python, Django)', password: QUOTY, echoed: html(QUOTY, '&quot;', '&#x27;') },
    { name: 'HTML-escaped with &#039; (PHP)', password: QUOTY, echoed: html(QUOTY, '&quot;', '&#039;') },
    { name: 'JSON-escaped inside a string (JavaScript)', password: QUOTY, echoed: 'Pa\\"ss\'<w> /rd\\\\&1' },
    { name: 'JSON-escaped with "\\/" (PHP json_encode)', password: QUOTY, echoed: 'Pa\\"ss\'<w> \\/rd\\\\&1' },
    { name: 'JSON-escaped as ASCII (Python json.dumps)', password: trickyCredentials.password, echoed: 'p&ss w=rd+100%:\\u00fc\\ud83d\\ude00' },
    { name: 'JSON-escaped as upper-case ASCII (Jackson)', password: trickyCredentials.password, echoed: 'p&ss w=rd+100%:\\u00FC\\uD83D\\uDE00' },
  ];

  test.each(cases)('$name is removed from the message, the fields and the kept answer', async ({ password, echoed }) => {
    nock(IDP).post(TOKEN_PATH).reply(400, { error: 'invalid_grant', error_description: `wrong password ${echoed}`, echo: [echoed] });

    const error = (await rejectionOf(endpointWith({ password }).passwordGrant())) as InvalidRequestError;

    expect(error.errorDescription).toBe(`wrong password ${REDACTED}`);
    expect(error.response.body).toEqual({ error: 'invalid_grant', error_description: `wrong password ${REDACTED}`, echo: [REDACTED] });
    for (const printed of printedForms(error)) expect(printed).not.toContain(echoed);
  });

  test('a secret that is a key of the JSON answer is removed from the key', async () => {
    // A server that parsed the form body wrongly may answer with it as an object: {"<the body>": ""}.
    nock(IDP).post(TOKEN_PATH).reply(400, { error: 'invalid_request', unknown: { [plainCredentials.password]: true } });

    const error = (await rejectionOf(endpointWith().passwordGrant())) as InvalidRequestError;

    expect(error.response.body).toEqual({ error: 'invalid_request', unknown: { [REDACTED]: true } });
    expect(util.inspect(error.response, { depth: null })).not.toContain(plainCredentials.password);
  });

  test('a redirect whose Location echoes the password percent-encoded keeps no trace of it in the headers', async () => {
    nock(IDP).post(TOKEN_PATH).reply(302, '', { Location: `https://elsewhere.test/?p=${encodeURIComponent(QUOTY)}` });

    const error = (await rejectionOf(endpointWith({ password: QUOTY }).passwordGrant())) as TokenEndpointError;

    expect(error.response.headers.location).toBe(`https://elsewhere.test/?p=${REDACTED}`);
  });

  test('a socket error quoting the client secret HTML-escaped does not print it', async () => {
    const clientSecret = 'cs<&>"0001';
    nock(IDP).post(TOKEN_PATH).replyWithError(`bad request for cs&lt;&amp;&gt;&quot;0001`);

    const error = await rejectionOf(endpointWith({ clientSecret }).passwordGrant());

    expect(error).toBeInstanceOf(TokenNetworkError);
    for (const printed of printedForms(error)) expect(printed).not.toContain('cs&lt;&amp;&gt;&quot;0001');
  });
});

describe('withEncodings', () => {
  test('lists each secret once per distinct spelling, and nothing for an undefined one', () => {
    expect(withEncodings(['plain-secret-0001', undefined])).toEqual(['plain-secret-0001']);
  });

  test('keeps the raw secret first, so the longest-first order of redactText decides', () => {
    expect(withEncodings(['a b&c'])[0]).toBe('a b&c');
    expect(withEncodings(['a b&c'])).toEqual(expect.arrayContaining(['a+b%26c', 'a%20b%26c', 'a b&amp;c']));
  });
});

describe('redactText, exactly', () => {
  test('the marker is [REDACTED]', () => {
    expect(redactText('pw hunter22', ['hunter22'])).toBe('pw [REDACTED]');
  });

  test('a secret of exactly four characters is replaced', () => {
    expect(redactText('pin 1234 ok', ['1234'])).toBe(`pin ${REDACTED} ok`);
  });

  test('undefined entries are skipped, the others still replaced', () => {
    expect(redactText('a secret-1 b', [undefined, 'secret-1', undefined])).toBe(`a ${REDACTED} b`);
  });

  test('longest first, whatever order the secrets come in', () => {
    const text = 'x abcd1234 y abcd12 z abcd';
    const expected = `x ${REDACTED} y ${REDACTED} z ${REDACTED}`;
    expect(redactText(text, ['abcd', 'abcd12', 'abcd1234'])).toBe(expected);
    expect(redactText(text, ['abcd12', 'abcd', 'abcd1234'])).toBe(expected);
    expect(redactText(text, ['abcd1234', 'abcd12', 'abcd'])).toBe(expected);
  });

  test('a text without any of the secrets is returned as it is', () => {
    expect(redactText('nothing to see', ['hunter22'])).toBe('nothing to see');
  });
});

describe('withEncodings, exactly', () => {
  test('every spelling of a secret with a space, both quotes, a slash, a non-ASCII letter and <&>, in order, without duplicates', () => {
    expect(withEncodings([`a "b'/é<&>`])).toEqual([
      `a "b'/é<&>`,
      // form-encoded, then percent-encoded (encodeURIComponent), then both with lower-case hex digits
      'a+%22b%27%2F%C3%A9%3C%26%3E',
      "a%20%22b'%2F%C3%A9%3C%26%3E",
      'a+%22b%27%2f%c3%a9%3c%26%3e',
      "a%20%22b'%2f%c3%a9%3c%26%3e",
      // HTML: the double quote and the single quote as each family of escapers writes them
      'a &quot;b&#39;/é&lt;&amp;&gt;',
      'a &#34;b&#39;/é&lt;&amp;&gt;',
      'a &quot;b&#039;/é&lt;&amp;&gt;',
      'a &quot;b&#x27;/é&lt;&amp;&gt;',
      'a &quot;b&apos;/é&lt;&amp;&gt;',
      "a &quot;b'/é&lt;&amp;&gt;",
      // JSON: as JavaScript writes it, non-ASCII as \uXXXX in lower and upper case, and each with \/ for /
      `a \\"b'/é<&>`,
      `a \\"b'/\\u00e9<&>`,
      `a \\"b'/\\u00E9<&>`,
      `a \\"b'\\/é<&>`,
      `a \\"b'\\/\\u00e9<&>`,
      `a \\"b'\\/\\u00E9<&>`,
    ]);
  });

  test('a secret with a control character: JSON writes it escaped', () => {
    expect(withEncodings(['ctl\u0001x'])).toEqual(['ctl\u0001x', 'ctl%01x', 'ctl\\u0001x']);
  });

  test('a secret that no encoding changes is listed once', () => {
    expect(withEncodings(['plain-1234', 'plain-1234'])).toEqual(['plain-1234']);
  });
});

describe('redactBody, exactly', () => {
  test('every credential field is replaced, wherever it is; other fields are kept', () => {
    const body = {
      access_token: 'a',
      refresh_token: 'r',
      id_token: 'i',
      password: 'p',
      client_secret: 'c',
      token_type: 'bearer',
      nested: [{ password: 'p2', note: 'kept' }],
    };
    expect(redactBody(body)).toEqual({
      access_token: REDACTED,
      refresh_token: REDACTED,
      id_token: REDACTED,
      password: REDACTED,
      client_secret: REDACTED,
      token_type: 'bearer',
      nested: [{ password: REDACTED, note: 'kept' }],
    });
  });

  test('values that are not objects or strings pass through as they are', () => {
    expect(redactBody(null)).toBeNull();
    expect(redactBody(42)).toBe(42);
    expect(redactBody(true)).toBe(true);
    expect(redactBody(undefined)).toBeUndefined();
    expect(redactBody([1, null, 'hunter22 x'], ['hunter22'])).toEqual([1, null, `${REDACTED} x`]);
  });

  test('with no secrets given, no string is changed, whatever it says', () => {
    // "Stryker was here" is the stand-in a mutant of the default `[]` would put there as a secret.
    expect(redactBody({ note: 'Stryker was here', list: ['Stryker was here'] })).toEqual({ note: 'Stryker was here', list: ['Stryker was here'] });
  });

  test('nesting is followed eight levels deep; anything deeper is cut off', () => {
    const nest = (levels: number, leaf: unknown): unknown => (levels === 0 ? leaf : { a: nest(levels - 1, leaf) });
    const arrays = (levels: number, leaf: unknown): unknown => (levels === 0 ? leaf : [arrays(levels - 1, leaf)]);

    expect(redactBody(nest(8, 'leaf'))).toEqual(nest(8, 'leaf'));
    expect(redactBody(nest(9, 'leaf'))).toEqual(nest(8, REDACTED));
    expect(redactBody(arrays(9, 'leaf'))).toEqual(arrays(8, REDACTED));
  });
});
