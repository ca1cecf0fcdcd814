import type { InternalAxiosRequestConfig } from 'axios';
import axios from 'axios';

import { ConfigurationError } from '../src/index.js';
import { allowedOrigins, createAuthorizePredicate } from '../src/origins.js';

const BASE = 'https://api.test/v1';
const may = createAuthorizePredicate(allowedOrigins(undefined, BASE), () => 'https://api.test/connect/token');
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
