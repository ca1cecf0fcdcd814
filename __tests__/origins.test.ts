import type { InternalAxiosRequestConfig } from 'axios';
import axios from 'axios';

import { ConfigurationError, OriginNotAllowedError } from '../src/index.js';
import { allowedOrigins, type AuthorizePredicate, createAuthorizePredicate, createUrlPredicate, MAX_REPORTED_ORIGINS, reportOncePerOrigin } from '../src/origins.js';

const BASE = 'https://api.test/v1';
// Built afresh in each test, on first use: a fault in building it fails tests rather than the file's loading, and
// each test reads the endpoint itself (a predicate kept from an earlier test would have it memoized already).
let built: AuthorizePredicate | undefined;
beforeEach(() => {
  built = undefined;
});
const may: AuthorizePredicate = (request) => (built ??= createAuthorizePredicate(allowedOrigins(undefined, BASE), () => 'https://api.test/connect/token'))(request);
/** The allowed origins of BASE, computed inside the test that asks. */
const baseOrigins = (): ReadonlySet<string> => allowedOrigins(undefined, BASE);
const config = (fields: Partial<InternalAxiosRequestConfig>): InternalAxiosRequestConfig => ({
  headers: new axios.AxiosHeaders(),
  baseURL: BASE,
  ...fields,
});

describe('which requests may carry the token', () => {
  test.each([
    ['a relative path under the baseURL', { url: '/reports' }, true],
    ['a relative path that looks like an authority', { url: '@evil.test/x' }, true],
    ['an absolute URL on the same origin', { url: 'https://api.test/other' }, true],
    ['an absolute URL on another origin', { url: 'https://evil.test/steal' }, false],
    ['a protocol-relative URL', { url: '//evil.test/steal' }, false],
    ['the same host over another scheme', { url: 'http://api.test/reports' }, false],
    ['the same host on another port', { url: 'https://api.test:8443/reports' }, false],
    ['an absolute URL forced under the baseURL by allowAbsoluteUrls: false', { url: 'https://evil.test/x', allowAbsoluteUrls: false }, true],
    ['a per-request baseURL on another origin', { url: '/reports', baseURL: 'https://evil.test' }, false],
    ['a request that opted out with skipAuth', { url: '/reports', skipAuth: true }, false],
    ['the token endpoint itself, even with a query', { url: 'https://api.test/connect/token?x=1' }, false],
    ['the token endpoint with a trailing slash', { url: '/../connect/token/' }, false],
    ['the token endpoint in other letter case', { url: 'https://api.test/Connect/Token' }, false],
    ['the token endpoint percent-encoded', { url: 'https://api.test/connect/%74oken' }, false],
    ['the token endpoint with doubled slashes', { url: 'https://api.test/connect//token' }, false],
    ['a path that merely contains the word token', { url: '/tokens/list' }, true],
    ['no URL at all resolves to the baseURL', {}, true],
  ])('%s: %s', (_name, fields, expected) => {
    expect(may(config(fields))).toBe(expected);
  });

  test('the allowed origins come from the configured list when one is given', () => {
    const list = createAuthorizePredicate(allowedOrigins(['https://files.test'], BASE), () => undefined);
    expect(list(config({ url: 'https://files.test/a' }))).toBe(true);
    expect(list(config({ url: '/reports' }))).toBe(false);
  });

  test('an empty or malformed list is a typed configuration error', () => {
    expect(() => allowedOrigins([], BASE)).toThrow(ConfigurationError);
    expect(() => allowedOrigins(['not a url'], BASE)).toThrow(ConfigurationError);
    expect(() => allowedOrigins(['ftp://files.test'], BASE)).toThrow(ConfigurationError);
  });
});

test('with discovery, the token endpoint is withheld from as soon as it is known', () => {
  let known: string | undefined = undefined;
  const discovered = createAuthorizePredicate(allowedOrigins(undefined, 'https://api.test'), () => known);
  expect(discovered(config({ baseURL: 'https://api.test', url: '/oauth/token' }))).toBe(true);
  known = 'https://api.test/oauth/token';
  expect(discovered(config({ baseURL: 'https://api.test', url: '/oauth/token' }))).toBe(false);
  expect(discovered(config({ baseURL: 'https://api.test', url: '/reports' }))).toBe(true);
});

describe('the allowed origins', () => {
  test('a configured list is reduced to origins: scheme, host and port, lower-cased, default ports dropped', () => {
    expect(allowedOrigins(['https://Files.TEST:443/some/path?q=1', 'http://b.test:8080/'], BASE)).toEqual(new Set(['https://files.test', 'http://b.test:8080']));
  });

  test('without a list, the baseURL’s origin; plain http is an origin too', () => {
    expect(allowedOrigins(undefined, 'http://api.test:8080/v1')).toEqual(new Set(['http://api.test:8080']));
  });

  test.each([
    ['a list that is not an array', 'https://files.test', 'auth.allowedOrigins', /must be a non-empty array of origins/],
    ['an empty list', [], 'auth.allowedOrigins', /must be a non-empty array of origins/],
    ['an entry that is not a string', [42], 'auth.allowedOrigins', /must be an absolute http\(s\) URL/],
    ['an entry that is not a URL', ['files.test'], 'auth.allowedOrigins', /must be an absolute http\(s\) URL/],
    ['an entry that is a list of one URL (its text is a URL)', [['https://files.test']], 'auth.allowedOrigins', /must be an absolute http\(s\) URL/],
  ])('%s is a ConfigurationError naming the option', (_name, configured, option, message) => {
    const attempt = (): unknown => allowedOrigins(configured as readonly string[], BASE);
    expect(attempt).toThrow(ConfigurationError);
    expect(attempt).toThrow(message);
    expect(attempt).toThrow(expect.objectContaining({ option }) as Error);
  });

  test.each([
    ['no baseURL', undefined, 'auth.allowedOrigins', /is required when the axios instance has no baseURL/],
    ['an empty baseURL', '', 'auth.allowedOrigins', /is required when the axios instance has no baseURL/],
    ['a baseURL that is not a URL', '/v1', 'baseURL', /must be an absolute http\(s\) URL/],
    ['a baseURL on another scheme', 'ws://api.test', 'baseURL', /must be an absolute http\(s\) URL/],
  ])('without a list, %s is a ConfigurationError naming the option', (_name, baseURL, option, message) => {
    const attempt = (): unknown => allowedOrigins(undefined, baseURL);
    expect(attempt).toThrow(message);
    expect(attempt).toThrow(expect.objectContaining({ option }) as Error);
  });
});

describe('what axios would call absolute, the predicate does too', () => {
  test.each([
    ['an upper-case scheme', 'HTTPS://evil.test/x', false],
    ['a scheme with a digit', 's3://evil.test/x', false],
    ['a scheme with + - and .', 'git+ssh.x-y://evil.test/x', false],
    ['a relative path with // further on', '/reports//2024?next=//evil.test', true],
    ['a relative path with a colon before //', 'a:b/c?x=//evil.test', true],
  ])('%s: %s', (_name, url, expected) => {
    expect(may(config({ url }))).toBe(expected);
  });
});

describe('the base a request resolves under', () => {
  test('an empty per-request baseURL is no base: an absolute URL is judged on its own', () => {
    expect(may(config({ baseURL: '', url: 'https://api.test/reports' }))).toBe(true);
    expect(may(config({ baseURL: '', url: '/reports' }))).toBe(false);
  });

  test.each([
    ['no base', undefined],
    ['an empty base', ''],
  ])('with %s, allowAbsoluteUrls: false has nothing to force the URL under: axios sends it as it is', (_name, baseURL) => {
    expect(may(config({ baseURL, url: 'https://api.test/reports', allowAbsoluteUrls: false }))).toBe(true);
    expect(may(config({ baseURL, url: 'https://evil.test/steal', allowAbsoluteUrls: false }))).toBe(false);
  });

  test('a per-request baseURL that does not parse withholds the token, and is not reported', () => {
    const refused = jest.fn();
    const predicate = createAuthorizePredicate(allowedOrigins(undefined, BASE), () => undefined, refused);
    expect(predicate(config({ baseURL: 'not a url', url: '/reports' }))).toBe(false);
    expect(refused).not.toHaveBeenCalled();
  });

  test('only a request withheld because of its base is reported, with that base’s origin', () => {
    const refused = jest.fn();
    const predicate = createAuthorizePredicate(allowedOrigins(undefined, BASE), () => undefined, refused);
    expect(predicate(config({ url: '/reports' }))).toBe(true);
    expect(predicate(config({ url: 'https://evil.test/steal' }))).toBe(false);
    expect(refused).not.toHaveBeenCalled();
    expect(predicate(config({ baseURL: 'https://moved.test/v2', url: '/reports' }))).toBe(false);
    expect(refused.mock.calls).toEqual([['https://moved.test']]);
  });

  test('a base that changes back and forth is read anew each time it changes', () => {
    expect(may(config({ url: '/a' }))).toBe(true);
    expect(may(config({ baseURL: 'https://other.test', url: '/a' }))).toBe(false);
    expect(may(config({ url: '/a' }))).toBe(true);
  });

  test.each([
    ['a base with a trailing slash and a path climbing out of it', 'https://api.test/v1/', '../connect/token'],
    ['a base with two trailing slashes', 'https://api.test/v1//', '../connect/token'],
    ['a base with a trailing slash and the last segment', 'https://api.test/connect/', 'token'],
    ['a base and the last segment with a leading slash', 'https://api.test/connect', '/token'],
  ])('the token endpoint reached through %s is withheld (joined as axios joins)', (_name, baseURL, url) => {
    expect(may(config({ baseURL, url }))).toBe(false);
  });

  test('an absolute URL forced under the base with leading slashes is joined as axios joins it', () => {
    expect(may(config({ url: '//../connect/token', allowAbsoluteUrls: false }))).toBe(false);
  });
});

describe('the token endpoint', () => {
  test('a request without a URL to a base that is the token endpoint itself is withheld', () => {
    const atBase = createAuthorizePredicate(allowedOrigins(undefined, BASE), () => BASE);
    expect(atBase(config({}))).toBe(false);
    expect(atBase(config({ url: '' }))).toBe(false);
    expect(atBase(config({ url: '/reports' }))).toBe(true);
  });

  test('a per-request baseURL that names the endpoint is withheld', () => {
    expect(may(config({ baseURL: 'https://api.test/connect/token', url: '' }))).toBe(false);
    expect(may(config({ baseURL: 'https://api.test/connect', url: 'token' }))).toBe(false);
  });

  test('an endpoint at the root of the origin: only the root is withheld', () => {
    const root = createAuthorizePredicate(allowedOrigins(undefined, 'https://api.test'), () => 'https://api.test/');
    expect(root(config({ baseURL: 'https://api.test', url: '/' }))).toBe(false);
    expect(root(config({ baseURL: 'https://api.test', url: '' }))).toBe(false);
    expect(root(config({ baseURL: 'https://api.test', url: '/reports' }))).toBe(true);
  });

  test('an endpoint at the root of an internationalised origin is withheld however the host is spelled', () => {
    const idn = createAuthorizePredicate(allowedOrigins(undefined, 'https://bücher.test'), () => 'https://bücher.test/');
    expect(idn(config({ baseURL: 'https://bücher.test', url: '/' }))).toBe(false);
    expect(idn(config({ baseURL: 'https://xn--bcher-kva.test', url: '' }))).toBe(false);
    expect(idn(config({ baseURL: 'https://bücher.test', url: '/reports' }))).toBe(true);
  });

  test('an endpoint on another origin does not withhold the same path here', () => {
    const elsewhere = createAuthorizePredicate(allowedOrigins(undefined, BASE), () => 'https://idp.test/connect/token');
    expect(elsewhere(config({ url: 'https://api.test/connect/token' }))).toBe(true);
  });

  test.each([
    ['three slashes in a row', 'https://api.test/connect///token'],
    ['a tab the URL parser drops', 'https://api.test/connect/tok\ten'],
    ['a line feed the URL parser drops', 'https://api.test/connect/tok\nen'],
    ['a carriage return the URL parser drops', 'https://api.test/connect/tok\ren'],
    ['an encoded slash in the path', 'https://api.test/connect%2Ftoken'],
  ])('spelled with %s, it is still withheld', (_name, url) => {
    expect(may(config({ url }))).toBe(false);
  });

  test('a malformed escape stays as it is: such a path is not the endpoint', () => {
    expect(may(config({ url: 'https://api.test/connect/token%E0%A4%A' }))).toBe(true);
    expect(may(config({ url: 'https://api.test/connect/%zz/../token' }))).toBe(false);
  });

  test('an endpoint that does not parse withholds nothing', () => {
    const broken = createAuthorizePredicate(allowedOrigins(undefined, BASE), () => 'not a url');
    expect(broken(config({ url: '/connect/token' }))).toBe(true);
  });
});

describe('the hot path', () => {
  afterEach(() => jest.restoreAllMocks());

  test('a relative URL under the base, with the endpoint known, costs no URL parse once the base was read', () => {
    const predicate = createAuthorizePredicate(allowedOrigins(undefined, BASE), () => 'https://api.test/connect/token');
    expect(predicate(config({ url: '/reports/1' }))).toBe(true);
    const parse = jest.spyOn(URL, 'parse');

    expect(predicate(config({ url: '/reports/2' }))).toBe(true);
    expect(predicate(config({ url: '/reports/3' }))).toBe(true);

    expect(parse).not.toHaveBeenCalled();
  });

  test('a path that names the endpoint’s last segment on another origin’s endpoint costs no URL parse either', () => {
    const predicate = createAuthorizePredicate(allowedOrigins(undefined, BASE), () => 'https://idp.test/connect/token');
    expect(predicate(config({ url: '/token' }))).toBe(true);
    const parse = jest.spyOn(URL, 'parse');

    expect(predicate(config({ url: '/token' }))).toBe(true);

    expect(parse).not.toHaveBeenCalled();
  });
});

describe('reportOncePerOrigin', () => {
  test('reports an OriginNotAllowedError once per origin, naming it and the allowed ones', () => {
    const report = jest.fn<undefined, [OriginNotAllowedError]>();
    const refused = reportOncePerOrigin(baseOrigins(), report);

    refused('https://moved.test');
    refused('https://moved.test');
    refused('https://other.test');

    expect(report.mock.calls.map(([error]) => [error.origin, error.allowedOrigins])).toEqual([
      ['https://moved.test', ['https://api.test']],
      ['https://other.test', ['https://api.test']],
    ]);
    expect(report.mock.calls[0]?.[0]).toBeInstanceOf(OriginNotAllowedError);
  });

  test('an opaque origin ("null") is not reported: it could not be listed', () => {
    const report = jest.fn();
    reportOncePerOrigin(baseOrigins(), report)('null');
    expect(report).not.toHaveBeenCalled();
  });

  test(`reports ${MAX_REPORTED_ORIGINS} origins at most, however many there are`, () => {
    const report = jest.fn();
    const refused = reportOncePerOrigin(baseOrigins(), report);
    for (let n = 0; n < MAX_REPORTED_ORIGINS + 10; n += 1) refused(`https://o${n}.test`);
    expect(report).toHaveBeenCalledTimes(MAX_REPORTED_ORIGINS);
  });
});

describe('createUrlPredicate (redirect hops, final URLs)', () => {
  test.each([
    ['an allowed origin', 'https://api.test/next', true],
    ['another origin', 'https://evil.test/next', false],
    ['something that is not a URL', '/relative/next', false],
    ['the token endpoint', 'https://api.test/Connect/Token/', false],
  ])('%s: %s', (_name, href, expected) => {
    expect(createUrlPredicate(baseOrigins(), () => 'https://api.test/connect/token')(href)).toBe(expected);
  });

  test('with no token endpoint known yet, every URL on an allowed origin may get the token', () => {
    expect(createUrlPredicate(baseOrigins(), () => undefined)('https://api.test/connect/token')).toBe(true);
  });
});
