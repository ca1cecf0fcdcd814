/**
 * assertSupportedAxios on real copies of axios: the one this suite runs with (the devDependency, or each version of
 * the matrix under `npm run test:axios`), and unsupported ones that scripts/test-axios.mjs installs into
 * node_modules/.cache/axios-matrix/<version>. Under the matrix (AXIOS_UNSUPPORTED set) a missing copy fails the suite;
 * in a plain `npm test` before any matrix run they are skipped, with one line on stderr.
 */
import { existsSync, readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';

import axios, { type AxiosInstance } from 'axios';

import { assertSupportedAxios, SUPPORTED_AXIOS_RANGE } from '../src/axios-support.js';
import { attachAuth } from '../src/client.js';
import { ConfigurationError } from '../src/errors.js';

const root = path.join(__dirname, '..');
const cache = path.join(root, 'node_modules', '.cache', 'axios-matrix');
/** What scripts/test-axios.mjs installs; keep in step with its UNSUPPORTED list. */
const UNSUPPORTED = process.env.AXIOS_UNSUPPORTED?.split(',') ?? ['0.27.2', '0.35.0', '1.0.0', '1.19.0'];
const required = process.env.AXIOS_UNSUPPORTED !== undefined;

interface LoadedAxios {
  VERSION: string;
  create(config?: object): unknown;
}

/**
 * The default export of the cached axios@version, required by its path: Jest maps the name `axios` (and whatever
 * createRequire() gives inside a suite) to the axios under test.
 */
function cachedAxios(version: string): LoadedAxios {
  const dir = path.join(cache, version, 'node_modules', 'axios');
  const cjs = path.join(dir, 'dist', 'node', 'axios.cjs'); // 1.x's CommonJS build; 0.x is CommonJS throughout
  const copy = jest.requireActual<LoadedAxios>(existsSync(cjs) ? cjs : dir);
  expect(copy.VERSION).toBe(version);
  return copy;
}

function refusal(instance: unknown): ConfigurationError {
  try {
    assertSupportedAxios(instance);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigurationError);
    return error as ConfigurationError;
  }
  throw new Error('assertSupportedAxios accepted the instance');
}

const installed = UNSUPPORTED.filter((version) => existsSync(path.join(cache, version, 'node_modules', 'axios')));
if (!required && installed.length < UNSUPPORTED.length) {
  process.stderr.write(`axios-support.test.ts: axios ${UNSUPPORTED.join(', ')} not cached; run npm run test:axios to test them\n`);
}

const OLDER = 'comes from an axios older than 1.20.0';
const versions = required ? UNSUPPORTED : installed;

// Jest refuses describe.each with no rows: without any cached copy there is nothing to run here.
if (versions.length > 0) describe.each(versions)('axios %s', (version) => {
  const legacy = (): LoadedAxios => cachedAxios(version);

  test('an axios.create() instance is refused, with a message naming the supported range', () => {
    const error = refusal(legacy().create({ baseURL: 'https://api.test' }));
    expect(error.option).toBe('instance');
    expect(error.message).toContain(OLDER);
    expect(error.message).toContain(`axios 1.20.0 or a newer 1.x (peer range ${SUPPORTED_AXIOS_RANGE})`);
  });

  test('attachAuth refuses it before anything is installed or any token is requested', async () => {
    const tokenRequests: string[] = [];
    const server = createServer((request, response) => {
      tokenRequests.push(request.url ?? '');
      response.writeHead(500).end();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const origin = `http://127.0.0.1:${String((server.address() as AddressInfo).port)}`;
    try {
      const instance = legacy().create({ baseURL: origin }) as { interceptors: { request: { handlers: unknown[] } } };
      const auth = { tokenUrl: `${origin}/token`, clientId: 'c', clientSecret: 's', username: 'u', password: 'p' };
      expect(() => attachAuth(instance as unknown as AxiosInstance, auth)).toThrow(ConfigurationError);
      expect(instance.interceptors.request.handlers).toHaveLength(0);
      expect(tokenRequests).toEqual([]);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });

  test('the default export is refused too', () => {
    expect(refusal(legacy()).message).toContain(OLDER);
  });

  test('an instance with its own adapter and headers is still refused', () => {
    const adapter = (): Promise<never> => Promise.reject(new Error('not sent'));
    const instance = legacy().create({ adapter, headers: { common: { 'X-Client': 'a' }, get: { 'X-Get': 'b' } } });
    expect(refusal(instance).message).toContain(OLDER);
  });
});

describe(`the axios this suite runs with (${axios.VERSION})`, () => {
  test('an axios.create() instance and the default export are accepted', () => {
    expect(() => assertSupportedAxios(axios.create({ baseURL: 'https://api.test' }))).not.toThrow();
    expect(() => assertSupportedAxios(axios)).not.toThrow();
  });

  test('so is an instance with its own adapter and headers', () => {
    const adapter = (): Promise<never> => Promise.reject(new Error('not sent'));
    const headers = { common: { 'X-Client': 'a' }, get: { 'X-Get': 'b' } };
    expect(() => assertSupportedAxios(axios.create({ adapter, headers }))).not.toThrow();
  });
});

test('what is not an axios instance is refused as such', () => {
  for (const value of [undefined, null, {}, () => undefined, { defaults: { headers: {} }, interceptors: {} }]) {
    expect(refusal(value).message).toContain('is not an axios instance');
  }
});

test('the supported range is the peer dependency range package.json declares', () => {
  const pkg = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as { peerDependencies: { axios: string } };
  expect(pkg.peerDependencies.axios).toBe(SUPPORTED_AXIOS_RANGE);
});
