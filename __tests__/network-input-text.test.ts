/**
 * Text written by the token endpoint (`error`, `error_description`, a socket error's message) reaches error messages
 * only escaped and bounded: no control character, no bidi override, at most MAX_ENDPOINT_TEXT_LENGTH characters.
 */
import util from 'node:util';

import nock from 'nock';

import { TokenEndpointError, TokenNetworkError } from '../src/index.js';
import { cut, printable } from '../src/endpoint-text.js';
import { MAX_ENDPOINT_TEXT_LENGTH } from '../src/limits.js';
import { REDACTED } from '../src/redact.js';
import { endpointWith, IDP, plainCredentials, rejectionOf, TOKEN_PATH } from './helpers/endpoint-fixtures.js';
import { useNock } from './helpers/endpoint-nock.js';

useNock();

async function refusedWith(body: nock.Body, status = 400): Promise<TokenEndpointError> {
  nock(IDP).post(TOKEN_PATH).reply(status, body);
  const error = await rejectionOf(endpointWith().passwordGrant());
  expect(error).toBeInstanceOf(TokenEndpointError);
  return error as TokenEndpointError;
}

describe('control characters in the endpoint text', () => {
  test('a description that forges a second line of CLI output stays on one line, its newline visible', async () => {
    const error = await refusedWith({ error: 'invalid_grant', error_description: 'bad\r\naxios-oauth-bearer: token printed' });

    expect(error.errorDescription).toBe('bad\\u000D\\u000Aaxios-oauth-bearer: token printed');
    expect(error.message).toBe(
      'password grant failed with HTTP 400: user authentication failed (invalid_grant: bad\\u000D\\u000Aaxios-oauth-bearer: token printed)',
    );
  });

  test.each([
    ['an ANSI colour sequence (ESC)', 'red \u001B[31malert\u001B[0m', 'red \\u001B[31malert\\u001B[0m'],
    ['a screen clear and a window title (ESC, BEL)', '\u001B[2J\u001B]0;owned\u0007', '\\u001B[2J\\u001B]0;owned\\u0007'],
    ['a NUL and a tab', 'a\u0000b\tc', 'a\\u0000b\\u0009c'],
    ['DEL', 'a\u007Fb', 'a\\u007Fb'],
    ['a one-byte CSI and NEL (C1 controls)', 'a\u009B2Jb\u0085c', 'a\\u009B2Jb\\u0085c'],
    ['a right-to-left override (Trojan Source)', 'user \u202Enimda\u202C ok', 'user \\u202Enimda\\u202C ok'],
    ['bidi isolates', 'x\u2066y\u2069z\u2067\u2068', 'x\\u2066y\\u2069z\\u2067\\u2068'],
    ['bidi marks', 'a\u200Eb\u200Fc\u061Cd', 'a\\u200Eb\\u200Fc\\u061Cd'],
    ['line and paragraph separators', 'a\u2028b\u2029c', 'a\\u2028b\\u2029c'],
  ])('%s in error_description is escaped', async (_name, sent, shown) => {
    const error = await refusedWith({ error: 'invalid_request', error_description: sent });

    expect(error.errorDescription).toBe(shown);
    expect(error.message).toContain(shown);
  });

  test('the error code itself is escaped too', async () => {
    const error = await refusedWith({ error: 'invalid_grant\n\u001B[1mFORGED' }, 403);

    expect(error.error).toBe('invalid_grant\\u000A\\u001B[1mFORGED');
    expect(error.message).not.toContain('\n');
    expect(error.message).not.toContain('\u001B');
  });

  test('ordinary text, accents and emoji included, is kept as the endpoint wrote it', async () => {
    const error = await refusedWith({ error: 'invalid_grant', error_description: 'Mot de passe incorrect — réessayez 🙂 "ok" <b>' });

    expect(error.errorDescription).toBe('Mot de passe incorrect — réessayez 🙂 "ok" <b>');
  });

  test('a socket error message with a newline and an escape sequence is escaped in the network error', async () => {
    nock(IDP).post(TOKEN_PATH).replyWithError('socket hang up\naxios-oauth-bearer: \u001B[32mok');
    const error = await rejectionOf(endpointWith().passwordGrant());

    expect(error).toBeInstanceOf(TokenNetworkError);
    expect((error as Error).message).toBe('password request to the token endpoint failed: socket hang up\\u000Aaxios-oauth-bearer: \\u001B[32mok');
    expect(((error as Error).cause as Error).message).toBe('socket hang up\\u000Aaxios-oauth-bearer: \\u001B[32mok');
  });
});

describe('the length of the endpoint text', () => {
  test(`a 900 KB description is cut to ${MAX_ENDPOINT_TEXT_LENGTH} characters and marked`, async () => {
    const error = await refusedWith({ error: 'invalid_grant', error_description: 'x'.repeat(900_000) });

    expect(error.errorDescription).toBe(`${'x'.repeat(MAX_ENDPOINT_TEXT_LENGTH)}… [899500 more characters cut]`);
    expect(error.message.length).toBeLessThan(MAX_ENDPOINT_TEXT_LENGTH + 150);
    expect(util.inspect(error, { depth: null }).length).toBeLessThan(5 * MAX_ENDPOINT_TEXT_LENGTH);
    expect(JSON.stringify(error).length).toBeLessThan(5 * MAX_ENDPOINT_TEXT_LENGTH);
  });

  test(`a description of exactly ${MAX_ENDPOINT_TEXT_LENGTH} characters is kept whole`, async () => {
    const error = await refusedWith({ error: 'invalid_grant', error_description: 'y'.repeat(MAX_ENDPOINT_TEXT_LENGTH) });

    expect(error.errorDescription).toBe('y'.repeat(MAX_ENDPOINT_TEXT_LENGTH));
  });

  test('a long error code is cut too', async () => {
    const error = await refusedWith({ error: 'e'.repeat(600) });

    expect(error.error).toBe(`${'e'.repeat(MAX_ENDPOINT_TEXT_LENGTH)}… [100 more characters cut]`);
  });

  test('escapes count towards the length: 200 escape characters become at most the limit', async () => {
    const error = await refusedWith({ error: 'invalid_grant', error_description: '\u001B'.repeat(200) });

    expect(error.errorDescription).toBe(`${'\\u001B'.repeat(83)}\\u… [700 more characters cut]`);
  });

  test('a password that straddles the cut is redacted before the cut, so no prefix of it is kept', async () => {
    const description = `${'x'.repeat(MAX_ENDPOINT_TEXT_LENGTH - 5)}${plainCredentials.password} tail`;
    const error = await refusedWith({ error: 'invalid_grant', error_description: description });

    expect(error.errorDescription).toBe(`${'x'.repeat(MAX_ENDPOINT_TEXT_LENGTH - 5)}[REDA… [10 more characters cut]`);
    expect(error.errorDescription).not.toContain(plainCredentials.password.slice(0, 5));
    expect(REDACTED.startsWith('[REDA')).toBe(true);
  });
});

describe('printable and cut', () => {
  test('printable leaves printable text as it is', () => {
    expect(printable('plain ASCII, ü, 😀, and \\u0041 written out')).toBe('plain ASCII, ü, 😀, and \\u0041 written out');
  });

  test('cut never splits a surrogate pair', () => {
    expect(cut(`${'a'.repeat(4)}😀b`, 5)).toBe('aaaa… [3 more characters cut]');
  });

  test('cut leaves text at the limit as it is', () => {
    expect(cut('abcde', 5)).toBe('abcde');
  });
});
