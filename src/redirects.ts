/**
 * Redirects follow the library's rule, not the transport's: every hop of an authenticated request gets the token when
 * its origin is allowed and it is not the token endpoint, and never otherwise. The transports disagree (follow-redirects
 * kept the header for subdomains in older versions and strips it on every redirect in newer ones; fetch keeps it on
 * any same-origin hop, the token endpoint's included), so neither default is relied on:
 *
 * - the http adapter follows redirects through follow-redirects, and axios's `beforeRedirect` hook (run last, after
 *   follow-redirects' own header rules) sets or removes the token for the next hop;
 * - the fetch adapter (chosen by name) is switched to `redirect: 'manual'`, and the library follows each 3xx itself with a new request
 *   through the same interceptors, so each hop is decided like any request (fetch's method rules: 303, and 301/302 after
 *   a POST, become a GET without a body; 307/308 keep both, except a stream body, which cannot be sent twice).
 */
import { AxiosHeaders, type AxiosInstance, type AxiosResponse, type InternalAxiosRequestConfig } from 'axios';

import type { UrlPredicate } from './origins.js';

/**
 * The hops a fetch request has made so far, and the limit it was given. A string key on purpose: axios versions that
 * copy only string keys when they merge a config would otherwise lose the count, and a redirect loop would never end.
 */
const HOPS = 'axiosOAuthBearerRedirects';
interface Hops {
  readonly count: number;
  readonly max: number;
}
/** fetch's own limit (WHATWG fetch, "HTTP-redirect fetch"), used when the config sets no `maxRedirects`. */
const DEFAULT_MAX_REDIRECTS = 20;
const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);

type HopConfig = InternalAxiosRequestConfig & { [HOPS]?: Hops };
type Hook = NonNullable<InternalAxiosRequestConfig['beforeRedirect']> & { [CALLERS]?: Hook | undefined };
/** On the library's beforeRedirect wrapper: the caller's own hook it wraps, if any. */
const CALLERS = Symbol('axios-oauth-bearer.callersBeforeRedirect');

/** Makes every redirect of this request (which carries `bearer`) follow the hop rule. Changes `config` in place. */
export function guardRedirects(config: HopConfig, bearer: string, allowsHop: UrlPredicate): void {
  // A config that passes again (a replay, a re-sent err.config) holds our older wrapper, with an older token: wrap the
  // caller's own hook, never ours.
  const previous: Hook | undefined = config.beforeRedirect;
  const own = previous !== undefined && CALLERS in previous ? previous[CALLERS] : previous;
  const guard: Hook = (options, response, request) => {
    own?.(options, response, request);
    applyHopRule(options, bearer, allowsHop);
  };
  config.beforeRedirect = Object.assign(guard, { [CALLERS]: own });
  // `maxRedirects: 0` is how axios asks fetch for `redirect: 'manual'` (fetchOptions would do too, but a Request
  // re-wrapped with an init, as fetch mocks do, loses its body). The caller's own 0 means no redirects at all: kept.
  if (usesFetch(config) && config.maxRedirects !== 0) {
    config[HOPS] ??= { count: 0, max: config.maxRedirects ?? DEFAULT_MAX_REDIRECTS };
    config.maxRedirects = 0;
  }
}

/** The fetch adapter chosen by name (a function adapter is the caller's own business). */
function usesFetch(config: InternalAxiosRequestConfig): boolean {
  const { adapter } = config;
  return adapter === 'fetch' || (Array.isArray(adapter) && adapter[0] === 'fetch');
}

/** follow-redirects' options for the next hop: its URL and the headers it will send. */
function applyHopRule(options: Record<string, unknown>, bearer: string, allowsHop: UrlPredicate): void {
  const headers = options.headers;
  if (!isRecord(headers)) return;
  const names = Object.keys(headers).filter((name) => name.toLowerCase() === 'authorization');
  const href = hopUrl(options);
  if (href !== undefined && allowsHop(href)) {
    if (names.length === 0) headers.Authorization = bearer;
    return;
  }
  for (const name of names) if (headers[name] === bearer) Reflect.deleteProperty(headers, name);
}

function hopUrl(options: Record<string, unknown>): string | undefined {
  if (typeof options.href === 'string') return options.href;
  const { protocol, hostname, host, port, path } = options;
  const name = typeof hostname === 'string' ? hostname : host;
  if (typeof protocol !== 'string' || typeof name !== 'string') return undefined;
  const portPart = typeof port === 'string' || typeof port === 'number' ? `:${String(port)}` : '';
  return `${protocol}//${name.includes(':') ? `[${name}]` : name}${portPart}${typeof path === 'string' ? path : '/'}`;
}

/**
 * Where the answer really came from: the last hop's URL when follow-redirects followed redirects, else undefined (the
 * request's own URL). A 401 from a hop that may not get the token starts no grant.
 */
export function finalUrlOf(response: AxiosResponse | undefined): string | undefined {
  const request: unknown = response?.request;
  const res: unknown = isRecord(request) ? request.res : undefined;
  const url = isRecord(res) ? res.responseUrl : undefined;
  return typeof url === 'string' ? url : undefined;
}

/** The next hop of a fetch redirect the library follows, or undefined when `response` is not one to follow. */
export function nextHop(instance: AxiosInstance, response: AxiosResponse | undefined): InternalAxiosRequestConfig | undefined {
  const config: HopConfig | undefined = response?.config;
  const hops = config?.[HOPS];
  if (response === undefined || config === undefined || hops === undefined || !REDIRECT_STATUSES.has(response.status)) return undefined;
  const location: unknown = AxiosHeaders.from(response.headers as AxiosHeaders).get('location');
  if (typeof location !== 'string' || hops.count >= hops.max) return undefined;
  const target = URL.parse(location, instance.getUri(config));
  if (target === null || (target.protocol !== 'https:' && target.protocol !== 'http:')) return undefined;
  const method = (config.method ?? 'get').toLowerCase();
  const toGet = response.status === 303 ? method !== 'head' : (response.status === 301 || response.status === 302) && method === 'post';
  if (!toGet && isStream(config.data)) return undefined;
  const headers = AxiosHeaders.from(config.headers);
  headers.delete('Authorization'); // the interceptor decides for the next hop, as for any request
  if (toGet) for (const name of ['Content-Type', 'Content-Length']) headers.delete(name);
  const next: HopConfig = {
    ...config,
    url: target.href,
    params: undefined,
    allowAbsoluteUrls: true,
    method: toGet ? 'get' : method,
    data: toGet ? undefined : config.data,
    headers,
    // Still 0: a hop that gets no token (another origin) is followed by the library too, with the same count.
    maxRedirects: 0,
    [HOPS]: { count: hops.count + 1, max: hops.max },
  };
  return next;
}

function isStream(data: unknown): boolean {
  return isRecord(data) && typeof data.pipe === 'function';
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object';
}
