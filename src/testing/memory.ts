/**
 * The test authorization server as an axios adapter: the token endpoint, the discovery document and the protected
 * API answered in memory, with the loopback server's rules, counters, faults and latency (both are transports over
 * ./host.ts). No socket, no `node:http` and no mocking library, so it works in any test runner, module system and
 * runtime axios works in, including where nock cannot be loaded (an ESM-only nock in CommonJS Jest).
 *
 * It plays an axios http adapter closely enough for the library: axios's `validateStatus`, `timeout` (with
 * `timeoutErrorMessage` and `transitional.clarifyTimeoutError`), `signal`, `auth`, `params`, `baseURL` and
 * `responseType` behave as they do over a socket; a reset is an `ECONNRESET` AxiosError, an unknown host `ENOTFOUND`,
 * a closed authority `ECONNREFUSED`.
 */
import axios, { type AxiosAdapter, AxiosError, AxiosHeaders, type AxiosResponse, CanceledError, type InternalAxiosRequestConfig } from 'axios';

import { everyName } from '../option-names.js';
import { AUTHORITY_OPTION_NAMES, type AuthorityOptions, refuseUnknownFixtureOptions } from './authority.js';
import {
  createAuthorityHost,
  discoveryAnswer,
  type HostAnswer,
  type HostResponse,
  MAX_BODY_BYTES,
  NOT_FOUND,
  REVOCATION_PATH,
  routeOf,
  serialize,
  TOO_LARGE,
  type TokenFault,
} from './host.js';
import type { AuthServer, AuthServerCredentials } from './server.js';

/** Options of {@link createMemoryAuthority}: the credentials and token policy, plus where it lives and its latency. */
export interface MemoryAuthorityOptions extends AuthorityOptions {
  /**
   * The origin it answers for; requests to any other origin fail with `ENOTFOUND`.
   * @default 'https://authority.test'
   */
  readonly url?: string;
  /**
   * Milliseconds the token endpoint waits before answering (and before applying a fault).
   * @default 0
   */
  readonly tokenLatencyMs?: number;
  /**
   * Milliseconds the protected API waits before answering.
   * @default 0
   */
  readonly apiLatencyMs?: number;
}

/** The credentials and token URL, plus the adapter that token requests must go through to reach it. */
export interface MemoryAuthorityCredentials extends AuthServerCredentials {
  readonly adapter: AxiosAdapter;
}

/**
 * An in-memory authorization server and its controls: everything {@link AuthServer} has (so a test written against
 * the loopback server runs against this one too), plus the adapter.
 */
export interface MemoryAuthority extends AuthServer {
  /** The axios adapter that answers for `url`: give it to the axios instance under test (`adapter`). */
  readonly adapter: AxiosAdapter;
  /** `tokenUrl`, the client and user credentials and `adapter`: spread them into the client's `auth` options. */
  readonly credentials: MemoryAuthorityCredentials;
}

const DEFAULT_URL = 'https://authority.test';
const STATUS_TEXT: Readonly<Partial<Record<number, string>>> = {
  200: 'OK',
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  413: 'Payload Too Large',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  502: 'Bad Gateway',
  503: 'Service Unavailable',
  504: 'Gateway Timeout',
};
const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** What `error.request` is for the adapter's requests: the method and URL, never the headers (they carry tokens). */
class MemoryRequest {
  constructor(
    readonly method: string,
    readonly url: string,
  ) {}
}

const MEMORY_OPTION_NAMES = everyName<MemoryAuthorityOptions>()([...AUTHORITY_OPTION_NAMES, 'url', 'tokenLatencyMs', 'apiLatencyMs']);

/**
 * Creates an authorization server and protected API that live in an axios adapter: `url + '/connect/token'`,
 * `url + '/revoke'` (RFC 7009), `url + '/api'` (any path below it is protected) and `url + '/.well-known/openid-configuration'`.
 * @example
 * const authority = createMemoryAuthority();
 * const api = createAuthClient({ baseURL: authority.apiUrl, adapter: authority.adapter, auth: authority.credentials });
 * await api.get('/orders');                        // 200 with a valid bearer token, else 401
 * authority.revokeAll();                           // the next call gets 401 and must refresh
 * expect(authority.stats.grants).toMatchObject({ password: 1, refresh_token: 1 });
 */
export function createMemoryAuthority(options: MemoryAuthorityOptions = {}): MemoryAuthority {
  refuseUnknownFixtureOptions(options, MEMORY_OPTION_NAMES, 'createMemoryAuthority');
  const origin = originOf(options.url ?? DEFAULT_URL);
  const host = createAuthorityHost(options);
  // Requests waiting on latency or a 'hang' fault: close() fails each as a reset connection.
  const waiting = new Set<(error: Error) => void>();
  let closed = false;

  const adapter: AxiosAdapter = async (config) => {
    const method = (config.method ?? 'get').toUpperCase();
    const href = axios.getUri(config);
    const request = new MemoryRequest(method, href);
    if (config.signal?.aborted === true) throw new CanceledError(undefined, config, request);
    const url = new URL(href);
    if (url.origin !== origin) {
      throw new AxiosError(`getaddrinfo ENOTFOUND ${url.hostname} (this memory authority serves ${origin} only)`, 'ENOTFOUND', config, request);
    }
    if (closed) throw new AxiosError(`connect ECONNREFUSED ${origin} (the memory authority was closed)`, 'ECONNREFUSED', config, request);
    const path = `${url.pathname}${url.search}`;
    const contentType = headerOf(config.headers, 'content-type');
    const authorization = basicAuthorization(config, url) ?? headerOf(config.headers, 'authorization');
    const body = await bodyText(config, request);
    const wait = (ms: number): Promise<void> | undefined => (ms <= 0 ? undefined : delay(ms, config, request, waiting));

    let answer: HostAnswer;
    if (encoder.encode(body).length > MAX_BODY_BYTES) {
      answer = TOO_LARGE;
    } else {
      switch (routeOf(method, path)) {
        case 'token': {
          const fault: TokenFault | undefined = host.tokenArrived(body);
          await wait(host.latency.token);
          answer = host.tokenAnswer(method, contentType, authorization, body, fault);
          break;
        }
        case 'revocation': {
          const fault = host.revocationArrived();
          await wait(host.latency.token);
          answer = host.revocationAnswer(method, contentType, authorization, body, fault);
          break;
        }
        case 'api': {
          // Judged on arrival, as the loopback server does: latency must not expire a valid token.
          const access = host.apiArrived(authorization);
          await wait(host.latency.api);
          answer = host.apiAnswer(method, path, contentType, body, access);
          break;
        }
        case 'discovery':
          answer = discoveryAnswer(origin);
          break;
        case 'not_found':
          answer = NOT_FOUND;
      }
    }
    if (answer.type === 'reset') throw new AxiosError('socket hang up', 'ECONNRESET', config, request);
    if (answer.type === 'hang') {
      // Until close(), the request's timeout or its signal, whichever comes first.
      await delay(Infinity, config, request, waiting);
      throw new TypeError('unreachable: a hung request never resumes');
    }
    return settle(toResponse(answer, method, config, request));
  };

  const { authority } = host;
  const { settings } = authority;
  const tokenUrl = `${origin}/connect/token`;
  return {
    url: origin,
    tokenUrl,
    revocationUrl: `${origin}${REVOCATION_PATH}`,
    apiUrl: `${origin}/api`,
    adapter,
    credentials: {
      tokenUrl,
      clientId: settings.clientId,
      clientSecret: settings.clientSecret,
      username: settings.username,
      password: settings.password,
      adapter,
    },
    get stats() {
      return host.stats;
    },
    resetStats: () => host.resetStats(),
    revokeAll: (username) => authority.revokeAccessTokens(username),
    setPassword: (username, password) => authority.setPassword(username, password),
    revokeRefreshTokens: () => authority.revokeRefreshTokens(),
    revoke: (token) => authority.revoke(token),
    get revoked() {
      return authority.revoked;
    },
    issueRefreshToken: (username, scope) => authority.issueRefreshToken(username, scope),
    failNext: (count: number, fault: number | TokenFault, body?: unknown, headers?: Readonly<Record<string, string>>) => host.failNext(count, fault, body, headers),
    failNextRevocation: (count: number, fault: number | TokenFault, body?: unknown, headers?: Readonly<Record<string, string>>) =>
      host.failNextRevocation(count, fault, body, headers),
    setTokenFault: (hook) => host.setTokenFault(hook),
    setLatency: (latency) => host.setLatency(latency),
    close: () => {
      closed = true;
      for (const fail of waiting) fail(new Error('socket hang up'));
      waiting.clear();
      return Promise.resolve();
    },
  };
}

function originOf(value: string): string {
  let url: URL | undefined;
  try {
    url = new URL(value);
  } catch {
    url = undefined;
  }
  if (url === undefined || (url.protocol !== 'https:' && url.protocol !== 'http:')) {
    throw new TypeError(`createMemoryAuthority: url must be an absolute http(s) URL, got ${JSON.stringify(value)}`);
  }
  return url.origin;
}

/**
 * Waits `ms` (Infinity: until something else ends it), rejecting as axios's http adapter would when the request's
 * signal aborts or its `timeout` runs out, and as a reset connection when the authority closes meanwhile.
 */
function delay(ms: number, config: InternalAxiosRequestConfig, request: MemoryRequest, waiting: Set<(error: Error) => void>): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const timers: ReturnType<typeof setTimeout>[] = [];
    const { signal } = config;
    const finish = (error?: Error): void => {
      for (const timer of timers) clearTimeout(timer);
      waiting.delete(onClose);
      signal?.removeEventListener?.('abort', onAbort);
      if (error === undefined) resolve();
      else reject(error);
    };
    const onAbort = (): void => finish(new CanceledError(undefined, config, request));
    const onClose = (): void => finish(new AxiosError('socket hang up', 'ECONNRESET', config, request));
    waiting.add(onClose);
    signal?.addEventListener?.('abort', onAbort);
    if (Number.isFinite(ms)) timers.push(setTimeout(() => finish(), ms));
    const timeout = Number(config.timeout);
    if (Number.isInteger(timeout) && timeout > 0) {
      const message = config.timeoutErrorMessage ?? `timeout of ${timeout}ms exceeded`;
      const code = config.transitional?.clarifyTimeoutError === true ? 'ETIMEDOUT' : 'ECONNABORTED';
      timers.push(setTimeout(() => finish(new AxiosError(message, code, config, request)), timeout));
    }
  });
}

/** A header of the request, by lowercase name, from axios's AxiosHeaders or a plain object (any axios copy). */
function headerOf(headers: unknown, name: string): string | undefined {
  if (headers === null || typeof headers !== 'object') return undefined;
  for (const [key, value] of Object.entries(headers)) {
    if (key.toLowerCase() !== name) continue;
    if (typeof value === 'string') return value;
    if (typeof value === 'number') return String(value);
    if (Array.isArray(value)) return value.map(String).join(', ');
  }
  return undefined;
}

/** axios's `auth` option, or credentials in the URL, become a Basic header in the adapter (and replace any other). */
function basicAuthorization(config: InternalAxiosRequestConfig, url: URL): string | undefined {
  let pair: string | undefined;
  if (config.auth !== undefined) pair = `${config.auth.username || ''}:${config.auth.password || ''}`;
  else if (url.username !== '') pair = `${decodeURIComponent(url.username)}:${decodeURIComponent(url.password)}`;
  if (pair === undefined) return undefined;
  let binary = '';
  for (const byte of encoder.encode(pair)) binary += String.fromCharCode(byte);
  return `Basic ${btoa(binary)}`;
}

/** The request body after axios's transformRequest, as text; what an http adapter would refuse is refused. */
async function bodyText(config: InternalAxiosRequestConfig, request: MemoryRequest): Promise<string> {
  const data: unknown = config.data;
  if (data === undefined || data === null) return '';
  if (typeof data === 'string') return data;
  if (data instanceof URLSearchParams) return data.toString();
  if (data instanceof ArrayBuffer) return decoder.decode(data);
  if (ArrayBuffer.isView(data)) return decoder.decode(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
  if (typeof Blob !== 'undefined' && data instanceof Blob) return data.text();
  throw new AxiosError('Data after transformation must be a string, an ArrayBuffer, a Buffer, a Blob or URLSearchParams (the memory authority reads no streams or FormData)', 'ERR_BAD_REQUEST', config, request);
}

function toResponse(answer: HostResponse, method: string, config: InternalAxiosRequestConfig, request: MemoryRequest): AxiosResponse {
  const serialized = serialize(answer);
  const text = method === 'HEAD' ? '' : serialized.text;
  const headers = new AxiosHeaders();
  // Lowercase, as Node's http client hands them to axios: `response.headers['www-authenticate']` works as over a socket.
  for (const [name, value] of Object.entries(serialized.headers)) headers.set(name.toLowerCase(), value);
  headers.set('content-length', String(encoder.encode(serialized.text).length));
  let data: unknown = text;
  if (config.responseType === 'arraybuffer') data = encoder.encode(text).buffer;
  else if (config.responseType === 'blob') data = new Blob([text], { type: serialized.headers['Content-Type'] ?? '' });
  else if (config.responseType === 'stream') {
    throw new AxiosError("the memory authority cannot answer with responseType 'stream' (use the loopback server)", 'ERR_NOT_SUPPORT', config, request);
  }
  return { data, status: answer.status, statusText: STATUS_TEXT[answer.status] ?? '', headers, config, request };
}

/** axios's own settle(): resolve unless `validateStatus` refuses the status. */
function settle(response: AxiosResponse): AxiosResponse {
  const { validateStatus } = response.config;
  if (validateStatus === null || validateStatus === undefined || validateStatus(response.status)) return response;
  const code = response.status >= 400 && response.status < 500 ? 'ERR_BAD_REQUEST' : response.status >= 500 && response.status < 600 ? 'ERR_BAD_RESPONSE' : undefined;
  throw new AxiosError(`Request failed with status code ${response.status}`, code, response.config, response.request, response);
}
