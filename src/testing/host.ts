/**
 * The test authorization server's whole site, as requests in and answers out: routing (token endpoint, revocation
 * endpoint, discovery document, protected API, 404), the counters, the injected faults and the latency settings. No sockets and no
 * axios: the loopback server (./server.ts) and the in-memory axios adapter (./memory.ts) are two thin transports over
 * this one module, so they route, answer and count alike and cannot drift apart. The grant and token rules
 * themselves are in ./authority.ts.
 *
 * A request is handled in two steps, as a real server sees it: on arrival it is counted (and a token request takes
 * its fault, a protected request has its token judged, so latency cannot expire a valid token); after the latency
 * the answer is made. A revocation request goes the same way as a token request, with a fault queue of its own and
 * the token endpoint's latency (it is the same authorization server). The benchmark drives the loopback server at thousands of requests a second, so a request
 * costs a few counter updates and one `JSON.stringify` here, with no allocation beyond its answer.
 */
import { type AccessCheck, apiEcho, type Authority, type AuthorityOptions, createAuthority, type GrantType, SUPPORTED_GRANT_TYPES } from './authority.js';

/**
 * A misbehaviour of the token endpoint: an answer of your choosing (a string body is sent as is, so `'not json'`
 * makes a malformed body), a connection reset (`socket.destroy()`), or no answer at all until `close()`.
 */
export type TokenFault =
  | { readonly type: 'respond'; readonly status: number; readonly body?: unknown; readonly headers?: Readonly<Record<string, string>> }
  | { readonly type: 'reset' }
  | { readonly type: 'hang' };

/** What a fault hook is told about each token request. */
export interface TokenRequestInfo {
  /** The form's `grant_type`, when it has one. */
  readonly grantType: string | undefined;
  /** 1 for the server's first token request, counting every request since start (not reset by `resetStats`). */
  readonly requestNumber: number;
}

/** Decides a fault for a token request, or `undefined` to answer it normally. */
export type TokenFaultHook = (request: TokenRequestInfo) => TokenFault | undefined;

/** Request counters, as a snapshot. */
export interface AuthServerStats {
  /** Every request to the token endpoint. */
  readonly tokenRequests: number;
  /**
   * Tokens issued, by grant; `extension` counts token exchange and JWT bearer together. `client_credentials` and
   * `extension` are there once the server issued one: a test written for the password grant alone
   * (`toEqual({ password: 1, refresh_token: 0 })`) keeps passing.
   */
  readonly grants: { readonly password: number; readonly refresh_token: number; readonly client_credentials?: number; readonly extension?: number };
  /** Token requests that issued nothing: refusals and injected faults. */
  readonly failedTokenRequests: number;
  readonly apiRequests: number;
  readonly api401s: number;
  readonly apiOk: number;
  /**
   * Every request to the revocation endpoint: answered, refused or faulted. There once the first one arrived, for the
   * same reason as `grants`' newer counters.
   */
  readonly revocations?: number;
}

/** An answer with a status; `body` is sent as is when it is a string, else as JSON. */
export interface HostResponse {
  readonly type: 'respond';
  readonly status: number;
  readonly body: unknown;
  readonly headers: Readonly<Record<string, string>>;
}

/** What the site does with a request: answer it, reset its connection, or leave it hanging until `close()`. */
export type HostAnswer = HostResponse | { readonly type: 'reset' } | { readonly type: 'hang' };

/** Where a request goes, by its path. */
export type Route = 'token' | 'revocation' | 'api' | 'discovery' | 'not_found';

/** The site's controls and its two-step handlers; the transports add the origin, the bodies and the timers. */
export interface AuthorityHost {
  readonly authority: Authority;
  /** Milliseconds each kind of request waits between arrival and answer. */
  readonly latency: { token: number; api: number };
  readonly stats: AuthServerStats;
  resetStats(): void;
  failNext(count: number, fault: number | TokenFault, body?: unknown, headers?: Readonly<Record<string, string>>): void;
  setTokenFault(hook: TokenFaultHook | undefined): void;
  /** Like `failNext`, for the revocation endpoint; the token endpoint's faults never apply there. */
  failNextRevocation(count: number, fault: number | TokenFault, body?: unknown, headers?: Readonly<Record<string, string>>): void;
  setLatency(latency: { readonly tokenMs?: number; readonly apiMs?: number }): void;
  /** A token request arrived: counts it and returns its fault, from the `failNext` queue or else the hook. */
  tokenArrived(body: string): TokenFault | undefined;
  /** The token endpoint's answer, after the latency. */
  tokenAnswer(method: string | undefined, contentType: string | undefined, authorization: string | undefined, body: string, fault: TokenFault | undefined): HostAnswer;
  /** A revocation request arrived: counts it and returns its fault, from the `failNextRevocation` queue. */
  revocationArrived(): TokenFault | undefined;
  /** The revocation endpoint's answer, after the token latency; the token is revoked only now, as a server would. */
  revocationAnswer(method: string | undefined, contentType: string | undefined, authorization: string | undefined, body: string, fault: TokenFault | undefined): HostAnswer;
  /** A protected request arrived: counts it and judges its token now. */
  apiArrived(authorization: string | undefined): AccessCheck;
  /** The protected API's answer, after the latency. */
  apiAnswer(method: string | undefined, path: string, contentType: string | undefined, body: string, access: AccessCheck): HostResponse;
}

export const TOKEN_PATH = '/connect/token';
export const REVOCATION_PATH = '/revoke';
export const API_PATH = '/api';
export const DISCOVERY_PATH = '/.well-known/openid-configuration';
/** The largest request body read; a larger one gets 413 and is not counted. */
export const MAX_BODY_BYTES = 1 << 20;

// Both endpoints authenticate the client the same way (./authority.ts).
const CLIENT_AUTH_METHODS = ['client_secret_post', 'client_secret_basic'] as const;
const METHOD_NOT_ALLOWED: HostResponse = respond(405, { error: 'invalid_request', error_description: 'use POST' }, { Allow: 'POST' });

/** The RFC 6749 code a bare status most likely carries, for `failNext(n, status)` without a body. */
const DEFAULT_ERRORS: Readonly<Partial<Record<number, string>>> = {
  400: 'invalid_request',
  401: 'invalid_client',
  403: 'invalid_grant',
  429: 'temporarily_unavailable',
  503: 'temporarily_unavailable',
};

/** Routes by path (and, for discovery, method). `path` may carry a query string. */
export function routeOf(method: string | undefined, path: string): Route {
  const pathname = path.split('?', 1)[0] ?? path;
  if (pathname === TOKEN_PATH) return 'token';
  if (pathname === REVOCATION_PATH) return 'revocation';
  if (pathname === API_PATH || pathname.startsWith(`${API_PATH}/`)) return 'api';
  if (pathname === DISCOVERY_PATH && (method === 'GET' || method === 'HEAD')) return 'discovery';
  return 'not_found';
}

/** The discovery document of the site at `origin`, which is also its issuer. */
export function discoveryAnswer(origin: string): HostResponse {
  return respond(200, {
    issuer: origin,
    token_endpoint: `${origin}${TOKEN_PATH}`,
    revocation_endpoint: `${origin}${REVOCATION_PATH}`,
    grant_types_supported: [...SUPPORTED_GRANT_TYPES],
    token_endpoint_auth_methods_supported: [...CLIENT_AUTH_METHODS],
    revocation_endpoint_auth_methods_supported: [...CLIENT_AUTH_METHODS],
  });
}

export const NOT_FOUND: HostResponse = respond(404, { error: 'not_found' });
export const TOO_LARGE: HostResponse = respond(413, { error: 'invalid_request', error_description: 'body too large' });

/**
 * The body text and headers a response goes out with. Every answer with a body is labelled JSON, even a raw string
 * body; an answer without one (`body` undefined: the revocation endpoint's 200) goes out empty and unlabelled, as
 * there is nothing to parse.
 */
export function serialize(answer: HostResponse): { readonly text: string; readonly headers: Record<string, string> } {
  if (answer.body === undefined) return { text: '', headers: { ...answer.headers } };
  const text = typeof answer.body === 'string' ? answer.body : JSON.stringify(answer.body);
  return { text, headers: { 'Content-Type': 'application/json; charset=utf-8', ...answer.headers } };
}

/** Creates a site with empty token tables and counters. */
export function createAuthorityHost(options: AuthorityOptions & { readonly tokenLatencyMs?: number; readonly apiLatencyMs?: number } = {}): AuthorityHost {
  const authority = createAuthority(options);
  const latency = { token: options.tokenLatencyMs ?? 0, api: options.apiLatencyMs ?? 0 };
  const faults: TokenFault[] = [];
  const revocationFaults: TokenFault[] = [];
  let faultHook: TokenFaultHook | undefined;
  let tokenRequestNumber = 0;
  let stats = emptyStats();

  return {
    authority,
    latency,
    get stats() {
      return snapshot(stats);
    },
    resetStats() {
      stats = emptyStats();
    },
    failNext(count, fault, body, headers) {
      queueFault(faults, count, fault, body, headers);
    },
    failNextRevocation(count, fault, body, headers) {
      queueFault(revocationFaults, count, fault, body, headers);
    },
    setTokenFault(hook) {
      faultHook = hook;
    },
    setLatency({ tokenMs, apiMs }) {
      latency.token = tokenMs ?? latency.token;
      latency.api = apiMs ?? latency.api;
    },
    tokenArrived(body) {
      stats.tokenRequests += 1;
      tokenRequestNumber += 1;
      return faults.shift() ?? faultHook?.({ grantType: grantTypeOf(body), requestNumber: tokenRequestNumber });
    },
    tokenAnswer(method, contentType, authorization, body, fault) {
      if (fault !== undefined) {
        stats.failedTokenRequests += 1;
        return faultAnswer(fault);
      }
      if (method !== 'POST') {
        stats.failedTokenRequests += 1;
        return METHOD_NOT_ALLOWED;
      }
      const answer = authority.token({ contentType, authorization, body });
      if (answer.issued === undefined) stats.failedTokenRequests += 1;
      else stats.grants[grantCounter(answer.issued.grant)] += 1;
      return respond(answer.status, answer.body, answer.headers);
    },
    revocationArrived() {
      stats.revocations += 1;
      return revocationFaults.shift();
    },
    revocationAnswer(method, contentType, authorization, body, fault) {
      if (fault !== undefined) return faultAnswer(fault);
      // RFC 7009 section 2.1: the client uses POST, as for the token endpoint.
      if (method !== 'POST') return METHOD_NOT_ALLOWED;
      const answer = authority.revocation({ contentType, authorization, body });
      return respond(answer.status, answer.body, answer.headers);
    },
    apiArrived(authorization) {
      stats.apiRequests += 1;
      const access = authority.checkAccess(authorization);
      if (access.ok) stats.apiOk += 1;
      else stats.api401s += 1;
      return access;
    },
    apiAnswer(method, path, contentType, body, access) {
      if (!access.ok) return respond(401, access.body, { 'WWW-Authenticate': access.challenge });
      return respond(200, apiEcho(method ?? 'GET', path, contentType, body, access.token, access.username));
    },
  };
}

function respond(status: number, body: unknown, headers: Readonly<Record<string, string>> = {}): HostResponse {
  return { type: 'respond', status, body, headers };
}

function queueFault(queue: TokenFault[], count: number, fault: number | TokenFault, body: unknown, headers: Readonly<Record<string, string>> | undefined): void {
  const next: TokenFault = typeof fault === 'number' ? { type: 'respond', status: fault, body, headers } : fault;
  for (let index = 0; index < count; index += 1) queue.push(next);
}

function faultAnswer(fault: TokenFault): HostAnswer {
  if (fault.type !== 'respond') return fault;
  return respond(fault.status, fault.body ?? { error: DEFAULT_ERRORS[fault.status] ?? 'server_error' }, fault.headers);
}

/** The counters as users see them: those 0.1 did not have only once they count something (see AuthServerStats). */
function snapshot(stats: ReturnType<typeof emptyStats>): AuthServerStats {
  const { grants, revocations, ...rest } = stats;
  const { client_credentials: clientCredentials, extension, ...first } = grants;
  return {
    ...rest,
    grants: { ...first, ...(clientCredentials > 0 ? { client_credentials: clientCredentials } : {}), ...(extension > 0 ? { extension } : {}) },
    ...(revocations > 0 ? { revocations } : {}),
  };
}

/** The `grants` counter a grant type adds to: the two extension grants share one. */
function grantCounter(grant: GrantType): keyof ReturnType<typeof emptyStats>['grants'] {
  return grant === 'password' || grant === 'refresh_token' || grant === 'client_credentials' ? grant : 'extension';
}

// The live counters behind AuthServerStats; the getter hands out copies.
function emptyStats() {
  return {
    tokenRequests: 0,
    grants: { password: 0, refresh_token: 0, client_credentials: 0, extension: 0 },
    failedTokenRequests: 0,
    apiRequests: 0,
    api401s: 0,
    apiOk: 0,
    revocations: 0,
  };
}

function grantTypeOf(body: string): string | undefined {
  return new URLSearchParams(body).get('grant_type') ?? undefined;
}
