/**
 * nock fixtures for users' own tests: a token endpoint and a protected API that follow the same rules as the
 * loopback server (./authority.ts), without a socket. The only module that uses nock, an optional peer dependency,
 * and it loads nock only when a fixture is first created (see the export-path note in ./index.ts).
 *
 * Supported: nock 13.5 and 14 (CommonJS) and 15 (15.0.0 CommonJS, 15.0.1 on ESM-only), each where that nock itself
 * runs; their reply functions differ, see {@link interceptedRequest}.
 */
import { createRequire } from 'node:module';

import type nockType from 'nock';

import { everyName } from '../option-names.js';
import {
  type AccessCheck,
  apiEcho,
  AUTHORITY_OPTION_NAMES,
  type AuthorityOptions,
  createAuthority,
  type IssuedToken,
  type RevocationAnswer,
  refuseUnknownFixtureOptions,
  type RevokedToken,
  UNSUPPORTED_GRANT_DESCRIPTION,
} from './authority.js';
import { REVOCATION_PATH } from './host.js';

/** Options of {@link mockTokenEndpoint}: where it listens, plus the credentials and token policy. */
export interface MockTokenEndpointOptions extends AuthorityOptions {
  /** The token endpoint to intercept, e.g. `https://idp.test/connect/token`. */
  readonly tokenUrl: string;
  /**
   * The revocation endpoint (RFC 7009) to intercept; it must differ from `tokenUrl`.
   * @default `/revoke` at the origin of `tokenUrl`, as the loopback server has it
   */
  readonly revocationUrl?: string;
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

/**
 * Successful grants, by type; `extension` counts token exchange and JWT bearer together. `client_credentials` and
 * `extension` are there once one was issued, so a test written for the password grant alone
 * (`toEqual({ password: 1, refresh_token: 0, total: 1 })`) keeps passing.
 */
export interface GrantCounts {
  readonly password: number;
  readonly refresh_token: number;
  readonly client_credentials?: number;
  readonly extension?: number;
  readonly total: number;
}

/** A mocked token endpoint and its controls. */
export interface MockTokenEndpoint {
  readonly tokenUrl: string;
  /** The intercepted revocation endpoint (see {@link MockTokenEndpointOptions.revocationUrl}). */
  readonly revocationUrl: string;
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
  /** A copy of the tokens issued so far, oldest first (not those of `issueRefreshToken`). */
  readonly issuedTokens: readonly IssuedToken[];
  /** Every revocation request, answered or failed. */
  readonly revocations: number;
  /** Every token the revocation endpoint was asked to revoke (known or not), oldest first; refused requests are not in it. */
  readonly revoked: readonly RevokedToken[];
  /** Answers the next `times` token requests with `error` instead of processing them. */
  failNext(error: MockTokenError | MockReply, times?: number): void;
  /** Answers the next `times` revocation requests with `error` instead of processing them (`'network'` resets). */
  failNextRevocation(error: MockTokenError | MockReply, times?: number): void;
  /** Revokes one access or refresh token, or every access token when called without one. Not recorded in `revoked`. */
  revoke(token?: string): void;
  /**
   * A refresh token for `username`, as if the user had signed in through another flow (authorization code, device
   * flow); it refreshes and rotates like any other. `scope` defaults to every allowed scope. Counts as no grant.
   */
  issueRefreshToken(username: string, scope?: string): string;
  /** How the protected API judges an `Authorization` header: `checkAccess('Bearer at-1').ok`. */
  checkAccess(authorization: string | undefined): AccessCheck;
  /** Removes the interceptors; throws (after removing them) when a `failNext` or `failNextRevocation` answer was never used. */
  done(): void;
  /** Removes the interceptors without checking anything. */
  stop(): void;
}

/** Options of {@link mockProtectedApi}. */
export interface MockProtectedApiOptions {
  /** Every path below this URL is protected, e.g. `https://api.test/v1`. */
  readonly baseUrl: string;
  /**
   * The token fixture whose tokens are accepted (anything with its `tokenUrl` and `checkAccess` will do; its
   * `revocationUrl`, when it has one, is left alone like the token endpoint).
   */
  readonly tokens: Pick<MockTokenEndpoint, 'tokenUrl' | 'checkAccess'> & Partial<Pick<MockTokenEndpoint, 'revocationUrl'>>;
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
  unsupported_grant_type: oauthError(400, 'unsupported_grant_type', UNSUPPORTED_GRANT_DESCRIPTION),
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

type Nock = typeof nockType;
let loadedNock: Nock | undefined;

/**
 * Whether this is the CommonJS build, with a `require` of its own (under Jest, Jest's). In the ES module build the
 * bundler's stand-in for `require` has no `resolve` (and throws if called); `import.meta` cannot be used instead, as
 * the CommonJS build is converted from the same chunks.
 */
const hasOwnRequire = typeof require === 'function' && typeof require.resolve === 'function';
/**
 * The ES module build imports nock as soon as it loads, through the same loader as the test's own `import` (and its
 * hooks: tsx's, for one), so both get one instance; failing silently, since nock is optional. A CommonJS nock from
 * there is the very object `require` returns; an ESM-only nock 15 could not be had otherwise, because require(esm)
 * under loader hooks makes a second instance. The fixtures read it once it has settled, which it has before any test
 * or hook runs.
 */
let importedNock: unknown;
if (!hasOwnRequire) {
  import('nock').then(
    (module) => {
      importedNock = module;
      if (loadedNock !== undefined && nockFunction(module) !== loadedNock) {
        // Too late to take the other one: the fixtures' interceptors live in the instance they were made with.
        process.emitWarning(
          'axios-oauth-bearer/testing: the nock fixtures were made before nock finished loading, under a loader that hooks imports ' +
            '(tsx, ts-node/esm), and got a second nock instance that the test does not use. With an ES-module-only nock (15.0.1+), ' +
            "run TypeScript without such a loader (Node's own type stripping, Vitest), or use nock 14, or createMemoryAuthority().",
          'AxiosOAuthBearerWarning',
        );
      }
    },
    () => undefined,
  );
}

/** The nock function of what loading "nock" gave: a CommonJS nock is the function, an ES module namespace has it as `default`. */
function nockFunction(loaded: unknown): unknown {
  return typeof loaded === 'function' ? loaded : (loaded as { default?: unknown } | null | undefined)?.default;
}

/**
 * The nock the test itself loaded, on first use, so that importing `axios-oauth-bearer/testing` for the other fixtures
 * never needs nock, and synchronously, because the fixtures are: the CommonJS build requires it (one nock and one
 * interceptor list with the test, under Jest too); the ES module build takes what it imported, or (when a fixture is
 * made before that import settled, at the top level of a test module) requires it from the working directory, which
 * gives the test's own instance unless loader hooks intervene.
 */
function loadNock(): Nock {
  if (loadedNock !== undefined) return loadedNock;
  let loaded = importedNock;
  let failure: unknown;
  if (loaded === undefined) {
    try {
      // eslint-disable-next-line @typescript-eslint/no-require-imports -- a lazy, synchronous load: see above
      loaded = hasOwnRequire ? require('nock') : createRequire(`${process.cwd()}/package.json`)('nock');
    } catch (error) {
      failure = error;
    }
  }
  const candidate = nockFunction(loaded);
  if (typeof candidate !== 'function') {
    throw new Error(
      'axios-oauth-bearer/testing: mockTokenEndpoint and mockProtectedApi need nock: npm i -D nock@14 (nock 13.5 and 14 work in every setup; ' +
        '15.0.1 and newer are ES modules only, for ESM test setups on Node 22). createMemoryAuthority() and startAuthServer() need no mocking library.',
      failure === undefined ? {} : { cause: failure },
    );
  }
  loadedNock = candidate as Nock;
  return loadedNock;
}

/** What the fixtures read of an intercepted request. */
interface InterceptedRequest {
  /** The path with its query string, e.g. `/v1/orders?page=2`. */
  readonly path: string;
  header(name: string): string | undefined;
  readonly body: string;
}

/**
 * Reads the request a reply function was called for, from whichever nock calls it. Feature-detected, not keyed to
 * nock's version number, so that a nock that changes the call again fails here with a clear message:
 * - nock 15 passes one argument, a Fetch `Request`: headers through `headers.get()`, the body through `text()`;
 * - nock 13 and 14 pass the path and the body (a string, or the parsed object when the request was JSON) and put the
 *   `ClientRequest`, with its lowercase `headers` object, on `this.req`. A parsed JSON body is serialized again: the
 *   echo parses it back, so only its whitespace can differ.
 * The reply functions declare no parameters (`...args`) on purpose: every nock treats a reply function with
 * exactly two (15) or three (13, 14) declared parameters as callback-style and would wait for the callback.
 */
async function interceptedRequest(context: unknown, args: readonly unknown[]): Promise<InterceptedRequest> {
  const [first, second] = args;
  if (isFetchRequest(first)) {
    const { pathname, search } = new URL(first.url);
    const body = await first.text();
    return { path: `${pathname}${search}`, header: (name) => first.headers.get(name) ?? undefined, body };
  }
  const headers = (context as { req?: { headers?: unknown } } | undefined)?.req?.headers;
  if (typeof first !== 'string' || headers === null || typeof headers !== 'object') {
    throw new TypeError('axios-oauth-bearer/testing: this nock calls reply functions in a way the fixtures do not know (supported: nock 13.5, 14, 15)');
  }
  let body = '';
  if (typeof second === 'string') body = second;
  else if (second !== undefined && second !== null) body = JSON.stringify(second);
  const header = (name: string): string | undefined => {
    const value: unknown = Reflect.get(headers, name.toLowerCase());
    if (typeof value === 'string') return value;
    if (typeof value === 'number') return String(value);
    return Array.isArray(value) ? value.map(String).join(', ') : undefined;
  };
  return { path: first, header, body };
}

function isFetchRequest(value: unknown): value is Request {
  return (
    value !== null &&
    typeof value === 'object' &&
    typeof (value as Partial<Request>).text === 'function' &&
    typeof (value as Partial<Request>).url === 'string' &&
    typeof (value as Partial<Request>).headers?.get === 'function'
  );
}

/** A reply function every supported nock calls the same way: no declared parameters, `this` kept for 13 and 14. */
type ReplyFunction = (request: Request) => Promise<nockType.ReplyFnResult>;
function replyWith(answer: (request: InterceptedRequest) => nockType.ReplyFnResult): ReplyFunction {
  return async function (this: unknown, ...args: unknown[]) {
    return answer(await interceptedRequest(this, args));
  };
}

const TOKEN_ENDPOINT_OPTION_NAMES = everyName<MockTokenEndpointOptions>()([...AUTHORITY_OPTION_NAMES, 'tokenUrl', 'revocationUrl']);
const PROTECTED_API_OPTION_NAMES = everyName<MockProtectedApiOptions>()(['baseUrl', 'tokens']);

/**
 * Intercepts `tokenUrl` and `revocationUrl` with persisting nock interceptors that answer every grant of
 * `startAuthServer` (password, refresh, client credentials, token exchange, JWT bearer) and RFC 7009 revocation with
 * the same rules and bodies. Only POST is intercepted: other methods find no interceptor, where the server says 405.
 * @example
 * const idp = mockTokenEndpoint({ tokenUrl: 'https://idp.test/connect/token', expiresIn: 60 });
 * const client = createAuthClient({ auth: { ...idp.credentials } });
 * idp.failNext('invalid_grant');
 * // ... exercise the client ...
 * expect(idp.grants).toMatchObject({ password: 2, refresh_token: 0, total: 2 });
 * idp.done();
 */
export function mockTokenEndpoint(options: MockTokenEndpointOptions): MockTokenEndpoint {
  refuseUnknownFixtureOptions(options, TOKEN_ENDPOINT_OPTION_NAMES, 'mockTokenEndpoint');
  const { tokenUrl, revocationUrl: revocationOption, ...policy } = options;
  const url = new URL(tokenUrl);
  const revocationUrl = revocationOption ?? `${url.origin}${REVOCATION_PATH}`;
  const revocation = new URL(revocationUrl);
  if (revocation.href === url.href) throw new TypeError('mockTokenEndpoint: revocationUrl must differ from tokenUrl');
  const authority = createAuthority(policy);
  const queued: (MockTokenError | MockReply)[] = [];
  const queuedRevocations: (MockTokenError | MockReply)[] = [];
  const issued: IssuedToken[] = [];
  let requests = 0;
  let revocations = 0;

  const nock = loadNock();
  const interceptor = nock(url.origin).persist().post(`${url.pathname}${url.search}`);
  interceptor.reply(
    replyWith((request) => {
      requests += 1;
      const failure = queued.shift();
      if (failure !== undefined) return failureReply(failure);
      const answer = authority.token({
        contentType: request.header('content-type'),
        authorization: request.header('authorization'),
        body: request.body,
      });
      if (answer.issued !== undefined) issued.push(answer.issued);
      return toReply(answer);
    }),
  );

  const revocationInterceptor = nock(revocation.origin).persist().post(`${revocation.pathname}${revocation.search}`);
  revocationInterceptor.reply(
    replyWith((request) => {
      revocations += 1;
      const failure = queuedRevocations.shift();
      if (failure !== undefined) return failureReply(failure);
      const answer = authority.revocation({
        contentType: request.header('content-type'),
        authorization: request.header('authorization'),
        body: request.body,
      });
      return toReply(revocationReply(answer));
    }),
  );

  const stop = (): void => {
    nock.removeInterceptor(interceptor);
    nock.removeInterceptor(revocationInterceptor);
  };
  const { settings } = authority;
  return {
    tokenUrl,
    revocationUrl,
    credentials: {
      tokenUrl,
      clientId: settings.clientId,
      clientSecret: settings.clientSecret,
      username: settings.username,
      password: settings.password,
    },
    get grants() {
      const count = (grant: IssuedToken['grant']): number => issued.filter((token) => token.grant === grant).length;
      const password = count('password');
      const refreshToken = count('refresh_token');
      const clientCredentials = count('client_credentials');
      const extension = issued.length - password - refreshToken - clientCredentials;
      const newer = { ...(clientCredentials > 0 ? { client_credentials: clientCredentials } : {}), ...(extension > 0 ? { extension } : {}) };
      return { password, refresh_token: refreshToken, ...newer, total: issued.length };
    },
    get requests() {
      return requests;
    },
    get issuedTokens() {
      return [...issued];
    },
    get revocations() {
      return revocations;
    },
    get revoked() {
      return authority.revoked;
    },
    failNext(error, times = 1) {
      for (let index = 0; index < times; index += 1) queued.push(error);
    },
    failNextRevocation(error, times = 1) {
      for (let index = 0; index < times; index += 1) queuedRevocations.push(error);
    },
    issueRefreshToken: (username, scope) => authority.issueRefreshToken(username, scope),
    revoke(token) {
      if (token === undefined) authority.revokeAccessTokens();
      else authority.revoke(token);
    },
    checkAccess: (authorization) => authority.checkAccess(authorization),
    done() {
      stop();
      if (queued.length > 0) throw new Error(`mockTokenEndpoint: ${queued.length} queued failNext answer(s) were never used`);
      if (queuedRevocations.length > 0) throw new Error(`mockTokenEndpoint: ${queuedRevocations.length} queued failNextRevocation answer(s) were never used`);
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
  refuseUnknownFixtureOptions(options, PROTECTED_API_OPTION_NAMES, 'mockProtectedApi');
  const base = new URL(options.baseUrl);
  const prefix = base.pathname.replace(/\/+$/, '');
  const stats = { requests: 0, ok: 0, unauthorized: 0 };
  const endpoints = [options.tokens.tokenUrl, options.tokens.revocationUrl].flatMap((href) => (href === undefined ? [] : [new URL(href)]));
  const isProtected = (path: string): boolean => {
    const pathname = path.split('?', 1)[0] ?? path;
    // Leave the token and revocation endpoints alone when they share the API's origin.
    if (endpoints.some((endpoint) => endpoint.origin === base.origin && pathname === endpoint.pathname)) return false;
    return prefix === '' || pathname === prefix || pathname.startsWith(`${prefix}/`);
  };

  const nock = loadNock();
  const scope = nock(base.origin).persist();
  const interceptors = API_METHODS.map((method) => {
    const interceptor = scope.intercept(isProtected, method);
    interceptor.reply(
      replyWith((request) => {
        stats.requests += 1;
        const access = options.tokens.checkAccess(request.header('authorization'));
        if (!access.ok) {
          stats.unauthorized += 1;
          return [401, access.body, { 'WWW-Authenticate': access.challenge }] as const;
        }
        stats.ok += 1;
        return [200, apiEcho(method, request.path, request.header('content-type'), request.body, access.token, access.username)] as const;
      }),
    );
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

/** A queued failure's answer; `'network'` resets the connection instead. */
function failureReply(failure: MockTokenError | MockReply): nockType.ReplyFnResult {
  if (failure === 'network') throw Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' });
  return toReply(typeof failure === 'string' ? ERROR_REPLIES[failure] : failure);
}

/** The revocation 200 has no body: an empty string, so that nock adds no JSON label (as ./host.ts sends it). */
function revocationReply(answer: RevocationAnswer): MockReply {
  return { status: answer.status, body: answer.body ?? '', headers: answer.headers };
}

function toReply(answer: MockReply): nockType.ReplyFnResult {
  const headers = { 'Cache-Control': 'no-store', Pragma: 'no-cache', ...answer.headers };
  if (typeof answer.body === 'string') return [answer.status, answer.body, headers];
  // nock adds Content-Type: application/json for object bodies.
  return [answer.status, (answer.body ?? {}) as Record<string, unknown>, headers];
}
