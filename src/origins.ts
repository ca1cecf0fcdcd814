/**
 * Where the token may go: the allowed origins, and the predicate the interceptors ask on every request. It runs on
 * the hot path, so the common case (a relative URL under the instance's baseURL) costs a regex test and a cached
 * lookup, not a URL parse.
 */
import type { InternalAxiosRequestConfig } from 'axios';

import { ConfigurationError, OriginNotAllowedError } from './errors.js';

/** Decides which requests may carry the token. */
export type AuthorizePredicate = (config: InternalAxiosRequestConfig) => boolean;

/** axios's own test for an absolute URL (protocol-relative `//host` included), so we resolve exactly as it does. */
const ABSOLUTE = /^([a-z][a-z\d+\-.]*:)?\/\//i;

/**
 * The origins that get the token: the configured list, else the origin of the instance's baseURL (read once, when
 * attaching, so a per-request `baseURL` cannot widen it).
 */
export function allowedOrigins(configured: readonly string[] | undefined, baseURL: string | undefined): ReadonlySet<string> {
  if (configured !== undefined) {
    const list: readonly unknown[] = Array.isArray(configured) ? configured : [];
    if (list.length === 0) throw new ConfigurationError('auth.allowedOrigins', 'must be a non-empty array of origins');
    return new Set(list.map((origin) => originOf(origin, 'auth.allowedOrigins')));
  }
  if (baseURL === undefined || baseURL === '') {
    throw new ConfigurationError('auth.allowedOrigins', 'is required when the axios instance has no baseURL');
  }
  return new Set([originOf(baseURL, 'baseURL')]);
}

/** Told the origin of a request that resolved under a baseURL whose origin is not allowed (its token was withheld). */
export type BaseRefused = (origin: string) => void;

/**
 * The predicate: not opted out, bound for an allowed origin, and not the token endpoint itself (which never gets a
 * bearer token, so its answers can never start a refresh loop). `tokenEndpoint` is read on each request because with
 * discovery the endpoint becomes known only after the first look-up. `onBaseRefused` hears of each request withheld
 * because its baseURL (the instance's, changed since attaching, or its own) names another origin; an absolute URL to
 * another origin is the documented third-party case and is not passed on.
 */
export function createAuthorizePredicate(
  allowed: ReadonlySet<string>,
  tokenEndpoint: () => string | undefined,
  onBaseRefused?: BaseRefused,
): AuthorizePredicate {
  let lastBase: string | undefined;
  let lastBaseOrigin: string | undefined;
  const baseOrigin = (base: string): string | undefined => {
    if (base !== lastBase) {
      lastBase = base;
      lastBaseOrigin = URL.parse(base)?.origin;
    }
    return lastBaseOrigin;
  };
  const endpoint = memoizedEndpoint(tokenEndpoint);
  return (config) => {
    if (config.skipAuth === true) return false;
    const url = config.url ?? '';
    const base = config.baseURL;
    // As axios's buildFullPath: an empty baseURL is no base at all.
    const useBase = base !== undefined && base !== '' && (!ABSOLUTE.test(url) || config.allowAbsoluteUrls === false);
    // baseURL + '/' + path keeps the base's origin: the path cannot reach back into the authority.
    const origin = useBase ? baseOrigin(base) : URL.parse(url)?.origin;
    if (origin === undefined) return false;
    if (!allowed.has(origin)) {
      if (useBase) onBaseRefused?.(origin);
      return false;
    }
    const token = endpoint();
    // With a base, the endpoint's name may be spelled by the base itself (a per-request baseURL naming the endpoint).
    if (token?.origin !== origin || !mayName(useBase ? `${base}/${url}` : url, token.lastSegment)) return true;
    const full = URL.parse(useBase ? `${base.replace(/\/+$/, '')}/${url.replace(/^\/+/, '')}` : url);
    // Stryker disable next-line ConditionalExpression,BooleanLiteral: never null (the origin came from a URL that parsed, and a path joined to it parses too); the check is for the type
    if (full === null) return true;
    return endpointKey(full) !== token.key;
  };
}

/**
 * At most this many origins are remembered as reported. Past it nothing more is reported: a client that names a new
 * origin on every request must neither grow memory nor flood `onError`.
 */
export const MAX_REPORTED_ORIGINS = 64;

/**
 * A {@link BaseRefused} that reports an {@link OriginNotAllowedError} once per origin (an origin that is not http(s),
 * whose origin is `null`, is not reported: it could not be listed).
 */
export function reportOncePerOrigin(allowed: ReadonlySet<string>, report: (error: OriginNotAllowedError) => void): BaseRefused {
  const reported = new Set<string>();
  return (origin) => {
    if (origin === 'null' || reported.has(origin) || reported.size >= MAX_REPORTED_ORIGINS) return;
    reported.add(origin);
    report(new OriginNotAllowedError(origin, [...allowed]));
  };
}

/** Decides whether an absolute URL (a redirect's next hop, a response's final URL) may get the token. */
export type UrlPredicate = (href: string) => boolean;

/** The same rule as {@link createAuthorizePredicate}, for a URL that is already absolute. */
export function createUrlPredicate(allowed: ReadonlySet<string>, tokenEndpoint: () => string | undefined): UrlPredicate {
  const endpoint = memoizedEndpoint(tokenEndpoint);
  return (href) => {
    const url = URL.parse(href);
    if (url === null || !allowed.has(url.origin)) return false;
    return endpointKey(url) !== endpoint()?.key;
  };
}

interface KnownEndpoint {
  readonly origin: string;
  /** The endpoint compared loosely: decoded, lower-cased, without repeated or trailing slashes and without a query. */
  readonly key: string;
  readonly lastSegment: string;
}

function memoizedEndpoint(tokenEndpoint: () => string | undefined): () => KnownEndpoint | undefined {
  let href: string | undefined;
  let known: KnownEndpoint | undefined;
  return () => {
    const current = tokenEndpoint();
    if (current !== href) {
      href = current;
      // Stryker disable next-line ConditionalExpression: URL.parse(undefined) is null at run time as well; the check is for the type
      const url = current === undefined ? null : URL.parse(current);
      known = url === null ? undefined : knownEndpoint(url);
    }
    return known;
  };
}

function knownEndpoint(url: URL): KnownEndpoint {
  const key = endpointKey(url);
  // The last segment of the path alone: for an endpoint at the origin's root it is empty (every URL may name it).
  const path = key.slice(url.origin.length);
  return { origin: url.origin, key, lastSegment: path.slice(path.lastIndexOf('/') + 1) };
}

/**
 * Servers differ on case, trailing slashes, doubled slashes and percent-encoding in paths: treat all spellings of the
 * token endpoint as the endpoint. Erring this way only ever withholds the token.
 */
function endpointKey(url: URL): string {
  let path = url.pathname;
  try {
    path = decodeURIComponent(path);
  } catch {
    // A malformed escape stays as it is.
  }
  // Doubled slashes first: at most one trailing slash is left to drop.
  return `${url.origin}${path.replace(/\/{2,}/g, '/').replace(/\/$/, '').toLowerCase()}`;
}

/**
 * A cheap pre-check on the hot path: could this URL spell the endpoint's last path segment at all? Percent-escapes,
 * and the tabs and line breaks the URL parser deletes (`tok\nen` is `token`), defeat a plain substring test.
 */
function mayName(url: string, lastSegment: string): boolean {
  return /[%\t\n\r]/.test(url) || url.toLowerCase().includes(lastSegment);
}

function originOf(value: unknown, option: string): string {
  const url = typeof value === 'string' ? URL.parse(value) : null;
  if (url === null || (url.protocol !== 'https:' && url.protocol !== 'http:')) {
    throw new ConfigurationError(option, 'must be an absolute http(s) URL');
  }
  return url.origin;
}
