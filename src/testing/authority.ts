/**
 * The authorization server's rules, shared by the loopback server and the nock fixtures so that both answer a
 * request byte for byte alike (with ./host.ts, which adds the routes, counters and faults around these rules): RFC 6749 (sections 2.3.1, 3.2, 4.3, 5 and 6) with the provider's own statuses,
 * 401 for a rejected client and 403 for a rejected user. Bookkeeping only: no sockets and no nock, so the real
 * server never loads nock. The clock is `Date.now()`, read on every call, so a test can stub it.
 */

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
} as const);

/** One grant the authority answered with tokens. Tokens are counters (`at-1`, `rt-1`): opaque and deterministic. */
export interface IssuedToken {
  readonly grant: 'password' | 'refresh_token';
  /** The resource owner the token was issued to. */
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
  const accessTokens = new Map<string, { readonly expiresAt: number; readonly username: string }>();
  const refreshTokens = new Map<string, { readonly scope: string; readonly username: string }>();
  let counter = 0;
  let sweepAbove = FIRST_SWEEP;

  function issue(grant: IssuedToken['grant'], username: string, scope: string, refreshScope: string, reuse?: string): TokenAnswer {
    counter += 1;
    if (accessTokens.size > sweepAbove) {
      sweep(accessTokens);
      sweepAbove = Math.max(FIRST_SWEEP, accessTokens.size * 2);
    }
    const accessToken = `at-${counter}`;
    const expiresAt = Date.now() + settings.expiresIn * 1000;
    accessTokens.set(accessToken, { expiresAt, username });
    const refreshToken = settings.issueRefreshTokens ? (reuse ?? `rt-${counter}`) : undefined;
    if (refreshToken !== undefined) refreshTokens.set(refreshToken, { scope: refreshScope, username });
    const body = {
      access_token: accessToken,
      token_type: 'bearer',
      expires_in: settings.expiresIn,
      ...(refreshToken === undefined ? {} : { refresh_token: refreshToken }),
      scope,
    };
    const issued = { grant, username, accessToken, ...(refreshToken === undefined ? {} : { refreshToken }), expiresAt, scope };
    return { status: 200, body, headers: { ...NO_STORE }, issued };
  }

  function clientError(): TokenAnswer {
    // RFC 9110 requires a challenge on every 401; Basic is the one scheme a token endpoint accepts.
    return fail(401, 'invalid_client', 'client authentication failed', { 'WWW-Authenticate': `Basic realm="${REALM}"` });
  }

  /** Undefined when the client authenticated, else the answer refusing it. */
  function authenticateClient(authorization: string | undefined, fields: Map<string, string>): TokenAnswer | undefined {
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
    return scope === undefined ? scopeError() : issue('password', username, scope, scope);
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
    return issue('refresh_token', original.username, scope, originalScope, settings.rotateRefreshTokens ? undefined : refreshToken);
  }

  return {
    settings,
    token({ contentType, authorization, body }) {
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
      const refused = authenticateClient(authorization, fields);
      if (refused !== undefined) return refused;
      const grantType = fields.get('grant_type');
      if (grantType === undefined) return fail(400, 'invalid_request', 'grant_type is required');
      if (grantType === 'password') return passwordGrant(fields);
      if (grantType === 'refresh_token') return refreshGrant(fields);
      return fail(400, 'unsupported_grant_type', 'only password and refresh_token grants are supported');
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

function fail(status: number, error: string, description: string, headers: Record<string, string> = {}): TokenAnswer {
  return { status, body: { error, error_description: description }, headers: { ...NO_STORE, ...headers } };
}

function scopeError(): TokenAnswer {
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
