/**
 * Validates a token endpoint's 200 answer before anything trusts it, in the style of oauth4webapi: one small
 * check per field, each naming the field it rejects.
 */
import { type GrantKind, InvalidTokenResponseError } from './errors.js';
import { MAX_TOKEN_LENGTH } from './limits.js';
import { redactBody } from './redact.js';
import { createTokenSet, type TokenSet } from './token-set.js';
import type { TokenResponseBody } from './wire.js';

/** What parsing needs besides the body. */
export interface ParseContext {
  readonly grant: GrantKind;
  /** When the token request was sent (epoch ms): expiry counts from here, not from the answer's arrival. */
  readonly requestedAt: number;
  /** Lifetime in seconds to assume when the answer has no `expires_in`. */
  readonly defaultExpiresIn: number;
  /** The scope the request asked for: the granted one when the answer names none (RFC 6749 section 5.1). */
  readonly requestedScope?: string | undefined;
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  /** Secrets to scrub from whatever of the body an error keeps (an endpoint may echo them back). */
  readonly secrets?: readonly (string | undefined)[];
}

/** Parses and validates a raw response body; throws {@link InvalidTokenResponseError} naming the bad field. */
export function parseTokenResponse(text: string, context: ParseContext): TokenSet {
  const body = parseJsonObject(text, context);
  // Typed as a never-returning function so each check below narrows the field it tested.
  const fail: (field: string, problem: string) => never = (field, problem) => {
    throw new InvalidTokenResponseError(context.grant, field, problem, {
      status: context.status,
      headers: context.headers,
      body: redactBody(body, context.secrets),
    });
  };

  const accessToken = body.access_token;
  if (typeof accessToken !== 'string' || accessToken === '') fail('access_token', 'must be a non-empty string');
  const accessProblem = syntaxProblem(accessToken, HEADER_SAFE, HEADER_SAFE_RULE);
  if (accessProblem !== undefined) fail('access_token', accessProblem);

  const tokenType = body.token_type;
  if (typeof tokenType !== 'string' || tokenType.toLowerCase() !== 'bearer') {
    fail('token_type', 'must be "bearer" (this library sends bearer tokens only)');
  }

  const expiresIn = readExpiresIn(body.expires_in);
  if (expiresIn === null) fail('expires_in', 'must be a positive number of seconds');

  const refreshToken = body.refresh_token;
  if (refreshToken !== undefined && (typeof refreshToken !== 'string' || refreshToken === '')) {
    fail('refresh_token', 'must be a non-empty string when present');
  }
  const refreshProblem = refreshToken === undefined ? undefined : syntaxProblem(refreshToken, PRINTABLE, PRINTABLE_RULE);
  if (refreshProblem !== undefined) fail('refresh_token', refreshProblem);

  const scope = body.scope;
  if (scope !== undefined && typeof scope !== 'string') fail('scope', 'must be a string when present');
  const scopeProblem = scope === undefined ? undefined : syntaxProblem(scope, PRINTABLE, PRINTABLE_RULE);
  if (scopeProblem !== undefined) fail('scope', scopeProblem);

  const idToken = body.id_token;
  if (idToken !== undefined && (typeof idToken !== 'string' || idToken === '')) fail('id_token', 'must be a non-empty string when present');
  const idProblem = idToken === undefined ? undefined : syntaxProblem(idToken, PRINTABLE, PRINTABLE_RULE);
  if (idProblem !== undefined) fail('id_token', idProblem);

  return createTokenSet({
    accessToken,
    expiresAt: expiryOf(expiresIn, accessToken, context),
    refreshToken,
    scope: scope ?? context.requestedScope,
    idToken,
    extra: extraFields(body),
  });
}

const MODELLED = new Set(['access_token', 'refresh_token', 'id_token', 'scope']);

/** The fields a token set has no place of its own for: everything but the three tokens and the scope. */
function extraFields(body: TokenResponseBody): Record<string, unknown> | undefined {
  const rest = Object.fromEntries(Object.entries(body).filter(([name]) => !MODELLED.has(name)));
  return Object.keys(rest).length === 0 ? undefined : rest;
}

/**
 * When the token expires: from `expires_in` when the answer has it; else from the access token's own JWT claims when
 * it is a JWT (read for scheduling only, never verified and never trusted for anything else: a wrong claim costs an
 * early renewal or one 401, nothing more); else `defaultExpiresIn`.
 */
function expiryOf(expiresIn: number | undefined, accessToken: string, context: ParseContext): number {
  if (expiresIn !== undefined) return context.requestedAt + expiresIn * 1000;
  return jwtExpiry(accessToken, context.requestedAt) ?? context.requestedAt + context.defaultExpiresIn * 1000;
}

/**
 * `exp - iat` is the lifetime the issuer meant whatever its clock says, so it is counted from our own request time;
 * with `exp` alone the absolute time is used, if it is still ahead.
 */
function jwtExpiry(token: string, requestedAt: number): number | undefined {
  const payload = token.split('.');
  if (payload.length !== 3 || payload[1] === undefined) return undefined;
  let claims: unknown;
  try {
    claims = JSON.parse(Buffer.from(payload[1], 'base64url').toString('utf8'));
  } catch {
    return undefined;
  }
  if (claims === null || typeof claims !== 'object') return undefined;
  const { exp, iat } = claims as { exp?: unknown; iat?: unknown };
  if (typeof exp !== 'number' || !Number.isFinite(exp)) return undefined;
  if (typeof iat === 'number' && Number.isFinite(iat) && exp > iat) return requestedAt + (exp - iat) * 1000;
  return exp * 1000 > requestedAt ? exp * 1000 : undefined;
}

/**
 * The access token alphabet: printable ASCII without the space, %x21-7E. It is RFC 6749 appendix A.12's
 * `access-token = 1*VSCHAR` minus the space, and a superset of RFC 6750's `b64token`
 * (`1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="`). Why not b64token itself: Salesforce, a common
 * password-grant provider, issues tokens such as `00Dx0000000BV7z!AR8AQ...`, with a "!", and its APIs accept them in
 * the header; JWTs, and the opaque tokens of Glewlwyd, LemonLDAP::NG (hex), django-oauth-toolkit (oauthlib's
 * alphanumerics) and node-oauth2-server (hex) fit either rule. What the rule must exclude, it does: CR, LF, NUL, tab
 * and every other control character (a header injection), spaces (a second word in `Bearer <token>`), DEL and
 * anything beyond ASCII (Node refuses to send some of it, and a terminal may act on it when the CLI prints the token).
 */
const HEADER_SAFE = /^[\x21-\x7E]+$/;
const HEADER_SAFE_RULE = 'must be printable ASCII without spaces (it is sent as an HTTP header value)';

/**
 * The refresh token and `scope` alphabet: printable ASCII with the space, %x20-7E, RFC 6749 appendix A's VSCHAR
 * (`refresh-token = 1*VSCHAR`; a scope's tokens and their separating spaces are VSCHAR too). Neither travels in a
 * header (the refresh token goes in a form body, encoded), but both are printed (`--json`, an inspected token set),
 * and a control character in either is garbage at best.
 */
const PRINTABLE = /^[\x20-\x7E]*$/;
const PRINTABLE_RULE = 'must be printable ASCII';

/**
 * Why a token set's field is unusable, or undefined: the rules above, for whoever else hands the library a token (a
 * shared store, whose writer may be anyone who can write to it).
 */
export function tokenFieldProblem(field: 'accessToken' | 'refreshToken' | 'scope' | 'idToken', value: string): string | undefined {
  return field === 'accessToken' ? syntaxProblem(value, HEADER_SAFE, HEADER_SAFE_RULE) : syntaxProblem(value, PRINTABLE, PRINTABLE_RULE);
}

/** Why `value` is unusable, or undefined. The length is checked first: no pattern runs over a megabyte of junk. */
function syntaxProblem(value: string, alphabet: RegExp, rule: string): string | undefined {
  if (value.length > MAX_TOKEN_LENGTH) return `must be at most ${MAX_TOKEN_LENGTH} characters long`;
  return alphabet.test(value) ? undefined : rule;
}

function parseJsonObject(text: string, context: ParseContext): TokenResponseBody {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    // The raw text is not kept: a half-written body could still hold a token.
    throw new InvalidTokenResponseError(context.grant, 'body', 'is not JSON', {
      status: context.status,
      headers: context.headers,
      body: undefined,
    });
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new InvalidTokenResponseError(context.grant, 'body', 'is not a JSON object', {
      status: context.status,
      headers: context.headers,
      body: redactBody(parsed, context.secrets),
    });
  }
  return parsed;
}

/** A positive finite number, or a string holding one; undefined when absent (or null); null when unusable. */
function readExpiresIn(value: unknown): number | undefined | null {
  if (value === undefined || value === null) return undefined;
  const seconds = typeof value === 'string' && /^\d+(\.\d+)?$/.test(value.trim()) ? Number(value) : value;
  return typeof seconds === 'number' && Number.isFinite(seconds) && seconds > 0 ? seconds : null;
}
