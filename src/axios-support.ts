/**
 * Which axios instances this library can work with, checked before anything is installed on one (and so before any
 * grant): an instance of an older axios would otherwise fail, or leak the token, only once requests are made.
 *
 * Below 1.20.0 the test suites find, by range (`npm run test:axios`, README "Developing"):
 * - 0.x: no AxiosHeaders; request interceptors get plain header objects.
 * - 1.0.x, 1.1.x: a GET or DELETE config cannot be sent again (every replay after a 401 fails with "Invalid character
 *   in header content").
 * - before 1.8.0: axios ignores `allowAbsoluteUrls: false`, so a request the library sends under the baseURL goes to
 *   the absolute URL's origin, token included.
 * - before 1.18.0: errors of the fetch adapter keep a Fetch Request whose headers print the token.
 * - before 1.20.0: the fetch adapter follows redirects itself despite `maxRedirects: 0`, token included.
 *
 * An instance does not carry its axios version. What tells 1.20.0 and newer apart is structural: from 1.20.0 on,
 * `defaults.headers` has default-header sets for the PURGE, LINK and UNLINK methods, which no older axios (0.x
 * included) creates. Keep this marker in step with {@link SUPPORTED_AXIOS_RANGE}: __tests__/axios-support.test.ts
 * runs the check on real copies of the floor, the newest 1.x and versions below the floor.
 */
import type { AxiosInstance } from 'axios';

import { ConfigurationError } from './errors.js';

/** The axios versions this library supports: the `axios` peer dependency range. */
export const SUPPORTED_AXIOS_RANGE = '^1.20.0';

const SUPPORTED = `axios-oauth-bearer needs axios 1.20.0 or a newer 1.x (peer range ${SUPPORTED_AXIOS_RANGE})`;

/**
 * Throws a {@link ConfigurationError} for option `instance` unless `instance` is an axios instance of a supported
 * version: an axios.create() result or the default axios export, of axios 1.20.0 or a newer 1.x.
 */
export function assertSupportedAxios(instance: unknown): asserts instance is AxiosInstance {
  if (!isAxiosInstance(instance)) {
    throw new ConfigurationError('instance', `is not an axios instance (axios.create() or the default axios export); ${SUPPORTED}`);
  }
  const headers = instance.defaults.headers;
  if (!(isObject(headers.purge) && isObject(headers.link) && isObject(headers.unlink))) {
    throw new ConfigurationError('instance', `comes from an axios older than 1.20.0 (0.x included); ${SUPPORTED}`);
  }
}

interface InstanceShape {
  defaults: { headers: Record<string, unknown> };
  interceptors: { request: { use: unknown }; response: { use: unknown } };
}

/** Callable, with `defaults.headers` and `interceptors.request/response.use`: what every axios instance has. */
function isAxiosInstance(value: unknown): value is InstanceShape {
  if (typeof value !== 'function') return false;
  const { defaults, interceptors } = value as Partial<Record<keyof InstanceShape, unknown>>;
  return (
    isObject(defaults) &&
    isObject(defaults.headers) &&
    isObject(interceptors) &&
    isObject(interceptors.request) &&
    typeof interceptors.request.use === 'function' &&
    isObject(interceptors.response) &&
    typeof interceptors.response.use === 'function'
  );
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null;
}
