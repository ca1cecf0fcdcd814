/**
 * The authorization server's rules, shared by the loopback server and the nock fixtures so that both answer a
 * request byte for byte alike (with ./host.ts, which adds the routes, counters and faults around these rules): RFC 6749 (sections 2.3.1, 3.2, 4.3, 4.4, 4.5, 5 and 6) with the provider's own statuses,
 * 401 for a rejected client and 403 for a rejected user; the extension grants of RFC 8693 (token exchange) and
 * RFC 7523 (JWT bearer); and revocation (RFC 7009). Bookkeeping only: no sockets and no nock, so the real
 * server never loads nock. The clock is `Date.now()`, read on every call, so a test can stub it.
 */

import { ConfigurationError } from '../errors.js';
import { everyName, refuseUnknownOptions } from '../option-names.js';

/** The credentials and token policy of a test authorization server. */
export interface AuthorityOptions {
  /** @default 'demo-client' */
  readonly clientId?: string;
  /** @default 'demo-secret' */
  readonly clientSecret?: string;
  /** @default 'demo-user' */
  readonly username?: string;
  /** @default 'demo-password' */
  readonly password?: string;
  /**
   * More resource owners beside `username`, username to password: a server for a client that acts for many accounts
   * (`auth.account`). Each token is issued to one user, and the protected API's echo names it (`username`).
   * @default {}
   */
  readonly users?: Readonly<Record<string, string>>;
  /**
   * The scopes the client may have, space-separated. A request without `scope` is granted all of them.
   * @default 'read write'
   */
  readonly scope?: string;
  /**
   * Access-token lifetime in seconds, sent as `expires_in`; fractions are allowed (`0.5`). A token is refused from
   * the very millisecond `issuedAt + expiresIn * 1000` onwards.
   * @default 3600
   */
  readonly expiresIn?: number;
  /**
   * Each refresh issues a new refresh token and invalidates the one used (it then gets `invalid_grant`). When false,
   * a refresh answers with the same refresh token again.
   * @default true
   */
  readonly rotateRefreshTokens?: boolean;
  /**
   * Whether grants include a `refresh_token` at all.
   * @default true
   */
  readonly issueRefreshTokens?: boolean;
  /**
   * Tokens from elsewhere that the extension grants accept, token to username: a token-exchange `subject_token`
   * (beside this authority's own live access tokens) or a JWT-bearer `assertion`. Looked up as given, never parsed:
   * a fixture verifies no JWT signature, so any string can stand for an assertion.
   * @default {}
   */
  readonly subjectTokens?: Readonly<Record<string, string>>;
}

/** The defaults, in one place: fixed demo credentials, never random, so failures reproduce. */
export const fixtureDefaults = Object.freeze({
  clientId: 'demo-client',
  clientSecret: 'demo-secret',
  username: 'demo-user',
  password: 'demo-password',
  users: Object.freeze({}),
  scope: 'read write',
  expiresIn: 3600,
  rotateRefreshTokens: true,
  issueRefreshTokens: true,
  subjectTokens: Object.freeze({}),
} as const);

/** RFC 8693 section 2.1: the token-exchange grant type. */
export const TOKEN_EXCHANGE_GRANT = 'urn:ietf:params:oauth:grant-type:token-exchange';
/** RFC 7523 section 2.1: the JWT-bearer grant type. */
export const JWT_BEARER_GRANT = 'urn:ietf:params:oauth:grant-type:jwt-bearer';
/** RFC 8693 section 3: what a token exchange issues here, sent as `issued_token_type`. */
export const ACCESS_TOKEN_TYPE = 'urn:ietf:params:oauth:token-type:access_token';

/** Every grant type the authority answers, in the order the discovery document lists them. */
export const SUPPORTED_GRANT_TYPES = ['password', 'refresh_token', 'client_credentials', TOKEN_EXCHANGE_GRANT, JWT_BEARER_GRANT] as const satisfies readonly GrantType[];
/** The grant types the fixtures speak (spelled out, not derived, so the declarations name no private constant). */
export type GrantType =
  | 'password'
  | 'refresh_token'
  | 'client_credentials'
  | 'urn:ietf:params:oauth:grant-type:token-exchange'
  | 'urn:ietf:params:oauth:grant-type:jwt-bearer';

/** The description of `unsupported_grant_type`, shared with the nock fixtures' `failNext('unsupported_grant_type')`. */
export const UNSUPPORTED_GRANT_DESCRIPTION = `the supported grants are ${SUPPORTED_GRANT_TYPES.join(', ')}`;

/** One grant the authority answered with tokens. Tokens are counters (`at-1`, `rt-1`): opaque and deterministic. */
export interface IssuedToken {
  /** The request's `grant_type`. */
  readonly grant: GrantType;
  /** The resource owner the token was issued to; for `client_credentials`, the client itself (its `clientId`). */
  readonly username: string;
  readonly accessToken: string;
  readonly refreshToken?: string;
  /** Epoch milliseconds from which the access token is refused. */
  readonly expiresAt: number;
  readonly scope: string;
}

/** What the token endpoint answers: a status, a JSON body and headers, and what was issued on success. */
export interface TokenAnswer {
  readonly status: number;
  readonly body: Readonly<Record<string, unknown>>;
  readonly headers: Readonly<Record<string, string>>;
  readonly issued?: IssuedToken;
}

/** What the revocation endpoint answers: 200 with no body at all (`body` undefined), or an error like the token endpoint's. */
export interface RevocationAnswer {
  readonly status: number;
  readonly body: Readonly<Record<string, string>> | undefined;
  readonly headers: Readonly<Record<string, string>>;
}

/** The `token_type_hint` values of RFC 7009 section 2.1; any other is refused with `unsupported_token_type`. */
export type TokenTypeHint = 'access_token' | 'refresh_token';

/** One token the revocation endpoint was asked to revoke, with what it turned out to be. */
export interface RevokedToken {
  readonly token: string;
  /** What the token was when it arrived; `unknown` when it was never issued, or was already revoked or rotated. */
  readonly kind: TokenTypeHint | 'unknown';
  /** The request's `token_type_hint`, when it had one. */
  readonly hint?: TokenTypeHint;
}

/** The verdict on a protected request's `Authorization` header; a refusal carries the 401's challenge and body. */
export type AccessCheck =
  | { readonly ok: true; readonly token: string; readonly username: string }
  | { readonly ok: false; readonly challenge: string; readonly body: Readonly<Record<string, string>> };

/** The parts of a token request the rules look at. */
export interface TokenRequest {
  readonly contentType: string | undefined;
  readonly authorization: string | undefined;
  readonly body: string;
}

/** A token authority: answers token requests and judges bearer tokens. */
export interface Authority {
  readonly settings: Readonly<Required<AuthorityOptions>>;
  token(request: TokenRequest): TokenAnswer;
  /** The revocation endpoint (RFC 7009): same form and client rules as `token`. */
  revocation(request: TokenRequest): RevocationAnswer;
  /** Every token the revocation endpoint accepted to revoke, known or not, oldest first (a copy). */
  readonly revoked: readonly RevokedToken[];
  /**
   * Mints a refresh token for `username`, as if the user had signed in through a flow this authority does not run
   * (authorization code, device flow); it refreshes and rotates like any other. `scope` defaults to every allowed
   * scope and must stay within them (else a RangeError). Counts as no grant.
   */
  issueRefreshToken(username: string, scope?: string): string;
  checkAccess(authorization: string | undefined): AccessCheck;
  /** Refuses every access token issued so far, or only those of `username`. */
  revokeAccessTokens(username?: string): void;
  revokeRefreshTokens(): void;
  /** Revokes one access or refresh token; false when it was not known. */
  revoke(token: string): boolean;
  /** Gives a user a new password (or a new user), as a rotation in a vault would; tokens issued so far stay valid. */
  setPassword(username: string, password: string): void;
}

// RFC 6749 section 5.1: token answers must not be cached. Error answers carry the same headers.
const NO_STORE = { 'Cache-Control': 'no-store', Pragma: 'no-cache' } as const;
const REALM = 'axios-oauth-bearer-testing';
// Expired access tokens stay listed (a stubbed clock may move back) until the table outgrows a threshold, which
// then doubles, so a long benchmark stays bounded without sweeping on every grant.
const FIRST_SWEEP = 10_000;

/** Resolves options over {@link fixtureDefaults}; the caller's object is not touched. */
/** Every AuthorityOptions name: the fixtures refuse any other (a misspelled `expiresin` must not pass silently). */
export const AUTHORITY_OPTION_NAMES = everyName<AuthorityOptions>()([
  'clientId',
  'clientSecret',
  'username',
  'password',
  'users',
  'scope',
  'expiresIn',
  'rotateRefreshTokens',
  'issueRefreshTokens',
  'subjectTokens',
]);

/**
 * Throws a ConfigurationError naming the first option of `options` that is not in `known` (with the likely one),
 * as the library's own option objects do. `fixture` prefixes the option's name in the error.
 */
export function refuseUnknownFixtureOptions(options: unknown, known: readonly string[], fixture: string): void {
  if (options === null || typeof options !== 'object') throw new ConfigurationError(fixture, 'options must be an object');
  refuseUnknownOptions(options, known, fixture);
}

export function resolveAuthorityOptions(options: AuthorityOptions = {}): Readonly<Required<AuthorityOptions>> {
  const settings = { ...fixtureDefaults, ...stripUndefined(options) };
  if (!Number.isFinite(settings.expiresIn) || settings.expiresIn <= 0) {
    throw new RangeError('expiresIn must be a positive number of seconds');
  }
  return settings;
}

/** Creates an authority with empty token tables. */
export function createAuthority(options: AuthorityOptions = {}): Authority {
  const settings = resolveAuthorityOptions(options);
  const allowedScopes = new Set(splitScope(settings.scope));
  const users = new Map<string, string>([...Object.entries(settings.users), [settings.username, settings.password]]);
  // Maps, as for users: a token such as `constructor` finds nothing it was not given.
  const subjectTokens = new Map<string, string>(Object.entries(settings.subjectTokens));
  const accessTokens = new Map<string, { readonly expiresAt: number; readonly username: string }>();
  const refreshTokens = new Map<string, { readonly scope: string; readonly username: string }>();
  const revoked: RevokedToken[] = [];
  let counter = 0;
  let sweepAbove = FIRST_SWEEP;

  /**
   * Issues an access token, and a refresh token when `refresh` is given and the policy issues them (`reuse` keeps
   * the one presented, without rotation). `extra` goes right after `access_token`, so the password and refresh
   * bodies keep their exact field order.
   */
  function issue(
    grant: GrantType,
    username: string,
    scope: string,
    refresh: { readonly scope: string; readonly reuse?: string } | undefined,
    extra: Readonly<Record<string, string>> = {},
  ): TokenAnswer {
    counter += 1;
    if (accessTokens.size > sweepAbove) {
      sweep(accessTokens);
      sweepAbove = Math.max(FIRST_SWEEP, accessTokens.size * 2);
    }
    const accessToken = `at-${counter}`;
    const expiresAt = Date.now() + settings.expiresIn * 1000;
    accessTokens.set(accessToken, { expiresAt, username });
    const refreshToken = refresh !== undefined && settings.issueRefreshTokens ? (refresh.reuse ?? `rt-${counter}`) : undefined;
    if (refresh !== undefined && refreshToken !== undefined) refreshTokens.set(refreshToken, { scope: refresh.scope, username });
    const body = {
      access_token: accessToken,
      ...extra,
      token_type: 'bearer',
      expires_in: settings.expiresIn,
      ...(refreshToken === undefined ? {} : { refresh_token: refreshToken }),
      scope,
    };
    const issued = { grant, username, accessToken, ...(refreshToken === undefined ? {} : { refreshToken }), expiresAt, scope };
    return { status: 200, body, headers: { ...NO_STORE }, issued };
  }

  function clientError(): Refusal {
    // RFC 9110 requires a challenge on every 401; Basic is the one scheme a token endpoint accepts.
    return fail(401, 'invalid_client', 'client authentication failed', { 'WWW-Authenticate': `Basic realm="${REALM}"` });
  }

  /**
   * The form of a token or revocation request once its client authenticated, else the answer refusing it: both
   * endpoints share these rules, so they refuse alike.
   */
  function authenticatedForm({ contentType, authorization, body }: TokenRequest): Map<string, string> | Refusal {
    if (mediaType(contentType) !== 'application/x-www-form-urlencoded') {
      return fail(400, 'invalid_request', 'the body must be application/x-www-form-urlencoded');
    }
    const fields = new Map<string, string>();
    for (const [key, value] of new URLSearchParams(body)) {
      // RFC 6749 section 3.2: a parameter without a value counts as omitted, and none may be repeated.
      if (value === '') continue;
      if (fields.has(key)) return fail(400, 'invalid_request', `parameter ${key} is repeated`);
      fields.set(key, value);
    }
    return authenticateClient(authorization, fields) ?? fields;
  }

  /** Undefined when the client authenticated, else the answer refusing it. */
  function authenticateClient(authorization: string | undefined, fields: Map<string, string>): Refusal | undefined {
    let credentials: [string | undefined, string | undefined] = [fields.get('client_id'), fields.get('client_secret')];
    if (authorization !== undefined) {
      // RFC 6749 section 2.3.1: a client must not use more than one authentication method per request.
      if (fields.has('client_secret')) return fail(400, 'invalid_request', 'more than one client authentication method');
      const basic = decodeBasic(authorization);
      if (basic === undefined) return clientError();
      credentials = basic;
    }
    const [id, secret] = credentials;
    return id === settings.clientId && secret === settings.clientSecret ? undefined : clientError();
  }

  function passwordGrant(fields: Map<string, string>): TokenAnswer {
    const username = fields.get('username');
    const password = fields.get('password');
    if (username === undefined || password === undefined) {
      return fail(400, 'invalid_request', 'username and password are required');
    }
    // A Map, so a username such as `constructor` finds nothing it was not given.
    if (users.get(username) !== password) return fail(403, 'invalid_grant', 'invalid username or password');
    const scope = grantedScope(fields.get('scope'), allowedScopes);
    return scope === undefined ? scopeError() : issue('password', username, scope, { scope });
  }

  function clientCredentialsGrant(fields: Map<string, string>): TokenAnswer {
    const scope = grantedScope(fields.get('scope'), allowedScopes);
    // RFC 6749 section 4.4.3: the client is the resource owner, and a refresh token should not be included.
    return scope === undefined ? scopeError() : issue('client_credentials', settings.clientId, scope, undefined);
  }

  /** The user a token-exchange subject token stands for: one from `subjectTokens`, or one of our live access tokens. */
  function subjectOf(token: string): string | undefined {
    const named = subjectTokens.get(token);
    if (named !== undefined) return named;
    const record = accessTokens.get(token);
    return record !== undefined && Date.now() < record.expiresAt ? record.username : undefined;
  }

  function tokenExchangeGrant(fields: Map<string, string>): TokenAnswer {
    const subjectToken = fields.get('subject_token');
    // RFC 8693 section 2.1: both are required. Any subject_token_type is taken: the fixture judges the token alone.
    if (subjectToken === undefined || !fields.has('subject_token_type')) {
      return fail(400, 'invalid_request', 'subject_token and subject_token_type are required');
    }
    const username = subjectOf(subjectToken);
    // RFC 8693 section 2.2.2: an invalid subject token is invalid_request, not invalid_grant.
    if (username === undefined) return fail(400, 'invalid_request', 'the subject token is invalid, expired or revoked');
    const scope = grantedScope(fields.get('scope'), allowedScopes);
    if (scope === undefined) return scopeError();
    return issue(TOKEN_EXCHANGE_GRANT, username, scope, { scope }, { issued_token_type: ACCESS_TOKEN_TYPE });
  }

  function jwtBearerGrant(fields: Map<string, string>): TokenAnswer {
    const assertion = fields.get('assertion');
    if (assertion === undefined) return fail(400, 'invalid_request', 'assertion is required');
    // A fixture: the assertion is looked up in subjectTokens as an opaque string; no JWT is decoded or verified.
    const username = subjectTokens.get(assertion);
    if (username === undefined) return fail(400, 'invalid_grant', 'the assertion is invalid');
    const scope = grantedScope(fields.get('scope'), allowedScopes);
    // RFC 7523 section 2.1 as practised: a new assertion is the way to renew, so no refresh token.
    return scope === undefined ? scopeError() : issue(JWT_BEARER_GRANT, username, scope, undefined);
  }

  function refreshGrant(fields: Map<string, string>): TokenAnswer {
    const refreshToken = fields.get('refresh_token');
    if (refreshToken === undefined) return fail(400, 'invalid_request', 'refresh_token is required');
    const original = refreshTokens.get(refreshToken);
    if (original === undefined) return fail(400, 'invalid_grant', 'the refresh token is invalid, expired or revoked');
    const originalScope = original.scope;
    // RFC 6749 section 6: a refresh may narrow the scope, never widen it.
    const scope = grantedScope(fields.get('scope'), new Set(splitScope(originalScope)));
    if (scope === undefined) return scopeError();
    if (settings.rotateRefreshTokens) refreshTokens.delete(refreshToken);
    const reuse = settings.rotateRefreshTokens ? undefined : refreshToken;
    return issue('refresh_token', original.username, scope, reuse === undefined ? { scope: originalScope } : { scope: originalScope, reuse });
  }

  /** Revokes the token wherever it is (RFC 7009 section 2.1: the hint only speeds up a lookup) and says where. */
  function revokeAs(token: string): RevokedToken['kind'] {
    if (accessTokens.delete(token)) return 'access_token';
    return refreshTokens.delete(token) ? 'refresh_token' : 'unknown';
  }

  const grants: Readonly<Record<GrantType, (fields: Map<string, string>) => TokenAnswer>> = {
    password: passwordGrant,
    refresh_token: refreshGrant,
    client_credentials: clientCredentialsGrant,
    [TOKEN_EXCHANGE_GRANT]: tokenExchangeGrant,
    [JWT_BEARER_GRANT]: jwtBearerGrant,
  };

  return {
    settings,
    token(request) {
      const fields = authenticatedForm(request);
      if (!(fields instanceof Map)) return fields;
      const grantType = fields.get('grant_type');
      if (grantType === undefined) return fail(400, 'invalid_request', 'grant_type is required');
      const grant = isGrantType(grantType) ? grants[grantType] : undefined;
      return grant === undefined ? fail(400, 'unsupported_grant_type', UNSUPPORTED_GRANT_DESCRIPTION) : grant(fields);
    },

    revocation(request) {
      const fields = authenticatedForm(request);
      if (!(fields instanceof Map)) return fields;
      const token = fields.get('token');
      if (token === undefined) return fail(400, 'invalid_request', 'token is required');
      const hint = fields.get('token_type_hint');
      if (hint !== undefined && hint !== 'access_token' && hint !== 'refresh_token') {
        return fail(400, 'unsupported_token_type', 'token_type_hint must be access_token or refresh_token');
      }
      revoked.push(Object.freeze({ token, kind: revokeAs(token), ...(hint === undefined ? {} : { hint }) }));
      // RFC 7009 section 2.2: 200 whether or not the token was known, and the body is not read; none is sent.
      return { status: 200, body: undefined, headers: { ...NO_STORE } };
    },

    get revoked() {
      return [...revoked];
    },

    issueRefreshToken(username, scope) {
      const granted = grantedScope(scope, allowedScopes);
      if (granted === undefined) throw new RangeError(`issueRefreshToken: scope ${JSON.stringify(scope)} is not within ${JSON.stringify(settings.scope)}`);
      counter += 1;
      const token = `rt-${counter}`;
      refreshTokens.set(token, { scope: granted, username });
      return token;
    },

    checkAccess(authorization) {
      // RFC 6750 section 3.1: a request without credentials gets a bare challenge, without an error code.
      const match = authorization === undefined ? null : /^bearer +([\w\-.~+/]+=*)$/i.exec(authorization.trim());
      if (match?.[1] === undefined) {
        return { ok: false, challenge: `Bearer realm="${REALM}"`, body: { error: 'unauthorized', error_description: 'a bearer token is required' } };
      }
      const token = match[1];
      const record = accessTokens.get(token);
      const expiresAt = record?.expiresAt;
      if (record !== undefined && Date.now() < record.expiresAt) return { ok: true, token, username: record.username };
      const description = expiresAt === undefined ? 'the access token is unknown or revoked' : 'the access token expired';
      return {
        ok: false,
        challenge: `Bearer realm="${REALM}", error="invalid_token", error_description="${description}"`,
        body: { error: 'invalid_token', error_description: description },
      };
    },

    setPassword: (username, password) => {
      users.set(username, password);
    },
    revokeAccessTokens: (username) => {
      if (username === undefined) accessTokens.clear();
      else for (const [token, record] of accessTokens) if (record.username === username) accessTokens.delete(token);
    },
    revokeRefreshTokens: () => refreshTokens.clear(),
    revoke: (token) => accessTokens.delete(token) || refreshTokens.delete(token),
  };
}

/** The protected API's 200 body, shared so that the server and the nock mock echo a request alike. */
export function apiEcho(method: string, path: string, contentType: string | undefined, body: string, token: string, username: string): Record<string, unknown> {
  let echoed: unknown = body === '' ? null : body;
  if (body !== '' && contentType?.includes('json') === true) {
    try {
      echoed = JSON.parse(body);
    } catch {
      // Not JSON after all: echo the text.
    }
  }
  return { method, path, body: echoed, token, username };
}

/** An error answer, fit for both endpoints: they refuse alike. */
type Refusal = TokenAnswer & RevocationAnswer;

function fail(status: number, error: string, description: string, headers: Record<string, string> = {}): Refusal {
  return { status, body: { error, error_description: description }, headers: { ...NO_STORE, ...headers } };
}

function isGrantType(value: string): value is GrantType {
  return (SUPPORTED_GRANT_TYPES as readonly string[]).includes(value);
}

function scopeError(): Refusal {
  return fail(400, 'invalid_scope', 'the requested scope is not allowed');
}

/** The granted scope: everything allowed when none is asked for, else the request when allowed, else undefined. */
function grantedScope(requested: string | undefined, allowed: ReadonlySet<string>): string | undefined {
  if (requested === undefined) return [...allowed].join(' ');
  const wanted = splitScope(requested);
  return wanted.every((scope) => allowed.has(scope)) ? wanted.join(' ') : undefined;
}

function splitScope(scope: string): string[] {
  return scope.split(' ').filter((part) => part !== '');
}

/** Basic credentials, each part form-decoded as RFC 6749 section 2.3.1 asks; undefined when malformed. */
function decodeBasic(authorization: string): [string, string] | undefined {
  const match = /^basic +([A-Za-z0-9+/]+=*)$/i.exec(authorization.trim());
  if (match?.[1] === undefined) return undefined;
  try {
    // atob and TextDecoder rather than Buffer: the in-memory authority runs wherever axios does, not only in Node.
    const decoded = utf8.decode(Uint8Array.from(atob(match[1]), (char) => char.charCodeAt(0)));
    const colon = decoded.indexOf(':');
    if (colon < 0) return undefined;
    return [formDecode(decoded.slice(0, colon)), formDecode(decoded.slice(colon + 1))];
  } catch {
    return undefined;
  }
}

const utf8 = new TextDecoder();

function formDecode(value: string): string {
  return decodeURIComponent(value.replace(/\+/g, ' '));
}

function mediaType(contentType: string | undefined): string | undefined {
  return contentType?.split(';')[0]?.trim().toLowerCase();
}

function sweep(tokens: Map<string, { readonly expiresAt: number }>): void {
  const now = Date.now();
  for (const [token, { expiresAt }] of tokens) if (expiresAt <= now) tokens.delete(token);
}

function stripUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, field]) => field !== undefined)) as Partial<T>;
}
