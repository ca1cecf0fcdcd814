/**
 * nock fixtures for users' own tests: a token endpoint and a protected API that follow the same rules as the
 * loopback server (./authority.ts), without a socket. The only module that imports nock, an optional peer
 * dependency: see the export-path note in ./index.ts.
 */
import nock from 'nock';

import { type AccessCheck, apiEcho, type AuthorityOptions, createAuthority, type IssuedToken } from './authority.js';

/** Options of {@link mockTokenEndpoint}: where it listens, plus the credentials and token policy. */
export interface MockTokenEndpointOptions extends AuthorityOptions {
  /** The token endpoint to intercept, e.g. `https://idp.test/connect/token`. */
  readonly tokenUrl: string;
}

/**
 * A documented failure to answer a token request with:
 * `invalid_request`, `invalid_grant`, `unsupported_grant_type` (400), `invalid_client` (401),
 * `user_authentication` (403, a rejected username or password), `server_error` (500),
 * `temporarily_unavailable` (503 with `Retry-After: 1`), `malformed` (200 with a body that is not JSON),
 * `network` (the connection is reset: the client sees ECONNRESET).
 */
export type MockTokenError =
  | 'invalid_request'
  | 'invalid_grant'
  | 'unsupported_grant_type'
  | 'invalid_client'
  | 'user_authentication'
  | 'server_error'
  | 'temporarily_unavailable'
  | 'malformed'
  | 'network';

/** An answer of your own; a string body is sent as is, anything else as JSON. */
export interface MockReply {
  readonly status: number;
  readonly body?: unknown;
  readonly headers?: Readonly<Record<string, string>>;
}

/** Successful grants, by type. */
export interface GrantCounts {
  readonly password: number;
  readonly refresh_token: number;
  readonly total: number;
}

/** A mocked token endpoint and its controls. */
export interface MockTokenEndpoint {
  readonly tokenUrl: string;
  /** The credentials it accepts with its `tokenUrl`, ready to spread into the client's auth options. */
  readonly credentials: {
    readonly tokenUrl: string;
    readonly clientId: string;
    readonly clientSecret: string;
    readonly username: string;
    readonly password: string;
  };
  /** A snapshot of the grants answered with tokens. */
  readonly grants: GrantCounts;
  /** Every token request, answered or failed. */
  readonly requests: number;
  /** A copy of the tokens issued so far, oldest first. */
  readonly issuedTokens: readonly IssuedToken[];
  /** Answers the next `times` token requests with `error` instead of processing them. */
  failNext(error: MockTokenError | MockReply, times?: number): void;
  /** Revokes one access or refresh token, or every access token when called without one. */
  revoke(token?: string): void;
  /** How the protected API judges an `Authorization` header: `checkAccess('Bearer at-1').ok`. */
  checkAccess(authorization: string | undefined): AccessCheck;
  /** Removes the interceptors; throws (after removing them) when a `failNext` answer was never used. */
  done(): void;
  /** Removes the interceptors without checking anything. */
  stop(): void;
}

/** Options of {@link mockProtectedApi}. */
export interface MockProtectedApiOptions {
  /** Every path below this URL is protected, e.g. `https://api.test/v1`. */
  readonly baseUrl: string;
  /** The token fixture whose tokens are accepted (anything with its `tokenUrl` and `checkAccess` will do). */
  readonly tokens: Pick<MockTokenEndpoint, 'tokenUrl' | 'checkAccess'>;
}

/** A mocked protected API and its controls. */
export interface MockProtectedApi {
  /** A snapshot of the requests answered. */
  readonly stats: { readonly requests: number; readonly ok: number; readonly unauthorized: number };
  stop(): void;
}

const ERROR_REPLIES: Readonly<Record<Exclude<MockTokenError, 'network'>, MockReply>> = {
  invalid_request: oauthError(400, 'invalid_request', 'the request is missing a parameter or is malformed'),
  invalid_grant: oauthError(400, 'invalid_grant', 'the refresh token is invalid, expired or revoked'),
  unsupported_grant_type: oauthError(400, 'unsupported_grant_type', 'only password and refresh_token grants are supported'),
  invalid_client: {
    ...oauthError(401, 'invalid_client', 'client authentication failed'),
    headers: { 'WWW-Authenticate': 'Basic realm="axios-oauth-bearer-testing"' },
  },
  user_authentication: oauthError(403, 'invalid_grant', 'invalid username or password'),
  server_error: oauthError(500, 'server_error', 'the authorization server failed'),
  temporarily_unavailable: {
    ...oauthError(503, 'temporarily_unavailable', 'try again later'),
    headers: { 'Retry-After': '1' },
  },
  malformed: { status: 200, body: '<html>Service Unavailable</html>', headers: { 'Content-Type': 'application/json' } },
};

const API_METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS'] as const;

/**
 * Intercepts `tokenUrl` with a persisting nock interceptor that answers password and refresh grants like the
 * provider does (same rules and bodies as `startAuthServer`).
 * @example
 * const idp = mockTokenEndpoint({ tokenUrl: 'https://idp.test/connect/token', expiresIn: 60 });
 * const client = createAuthClient({ auth: { ...idp.credentials } });
 * idp.failNext('invalid_grant');
 * // ... exercise the client ...
 * expect(idp.grants).toEqual({ password: 2, refresh_token: 0, total: 2 });
 * idp.done();
 */
export function mockTokenEndpoint(options: MockTokenEndpointOptions): MockTokenEndpoint {
  const { tokenUrl, ...policy } = options;
  const url = new URL(tokenUrl);
  const authority = createAuthority(policy);
  const queued: (MockTokenError | MockReply)[] = [];
  const issued: IssuedToken[] = [];
  let requests = 0;

  const interceptor = nock(url.origin).persist().post(`${url.pathname}${url.search}`);
  interceptor.reply(async (request) => {
    requests += 1;
    const body = await request.text();
    const failure = queued.shift();
    if (failure === 'network') throw Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' });
    if (failure !== undefined) return toReply(typeof failure === 'string' ? ERROR_REPLIES[failure] : failure);
    const answer = authority.token({
      contentType: request.headers.get('content-type') ?? undefined,
      authorization: request.headers.get('authorization') ?? undefined,
      body,
    });
    if (answer.issued !== undefined) issued.push(answer.issued);
    return toReply(answer);
  });

  const stop = (): void => {
    nock.removeInterceptor(interceptor);
  };
  const { settings } = authority;
  return {
    tokenUrl,
    credentials: {
      tokenUrl,
      clientId: settings.clientId,
      clientSecret: settings.clientSecret,
      username: settings.username,
      password: settings.password,
    },
    get grants() {
      const password = issued.filter((token) => token.grant === 'password').length;
      return { password, refresh_token: issued.length - password, total: issued.length };
    },
    get requests() {
      return requests;
    },
    get issuedTokens() {
      return [...issued];
    },
    failNext(error, times = 1) {
      for (let index = 0; index < times; index += 1) queued.push(error);
    },
    revoke(token) {
      if (token === undefined) authority.revokeAccessTokens();
      else authority.revoke(token);
    },
    checkAccess: (authorization) => authority.checkAccess(authorization),
    done() {
      stop();
      if (queued.length > 0) throw new Error(`mockTokenEndpoint: ${queued.length} queued failNext answer(s) were never used`);
    },
    stop,
  };
}

/**
 * Intercepts every path below `baseUrl`: 200 with an echo (`method`, `path`, `body`, `token`) for a token the
 * fixture issued that is neither revoked nor expired, else 401 with a `WWW-Authenticate: Bearer` challenge.
 * @example
 * const api = mockProtectedApi({ baseUrl: 'https://api.test', tokens: idp });
 * idp.revoke(); // the next API call gets 401 and the client should refresh
 */
export function mockProtectedApi(options: MockProtectedApiOptions): MockProtectedApi {
  const base = new URL(options.baseUrl);
  const prefix = base.pathname.replace(/\/+$/, '');
  const stats = { requests: 0, ok: 0, unauthorized: 0 };
  const tokenUrl = new URL(options.tokens.tokenUrl);
  const isProtected = (path: string): boolean => {
    const pathname = path.split('?', 1)[0] ?? path;
    // Leave the token endpoint alone when it shares the API's origin.
    if (tokenUrl.origin === base.origin && pathname === tokenUrl.pathname) return false;
    return prefix === '' || pathname === prefix || pathname.startsWith(`${prefix}/`);
  };

  const scope = nock(base.origin).persist();
  const interceptors = API_METHODS.map((method) => {
    const interceptor = scope.intercept(isProtected, method);
    interceptor.reply(async (request) => {
      stats.requests += 1;
      const access = options.tokens.checkAccess(request.headers.get('authorization') ?? undefined);
      if (!access.ok) {
        stats.unauthorized += 1;
        return [401, access.body, { 'WWW-Authenticate': access.challenge }] as const;
      }
      stats.ok += 1;
      const { pathname, search } = new URL(request.url);
      const contentType = request.headers.get('content-type') ?? undefined;
      return [200, apiEcho(method, `${pathname}${search}`, contentType, await request.text(), access.token)] as const;
    });
    return interceptor;
  });

  return {
    get stats() {
      return { ...stats };
    },
    stop() {
      for (const interceptor of interceptors) nock.removeInterceptor(interceptor);
    },
  };
}

function oauthError(status: number, error: string, description: string): MockReply {
  return { status, body: { error, error_description: description }, headers: {} };
}

function toReply(answer: MockReply): nock.ReplyFnResult {
  const headers = { 'Cache-Control': 'no-store', Pragma: 'no-cache', ...answer.headers };
  if (typeof answer.body === 'string') return [answer.status, answer.body, headers];
  // nock adds Content-Type: application/json for object bodies.
  return [answer.status, (answer.body ?? {}) as Record<string, unknown>, headers];
}
