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

  const expiresIn = readExpiresIn(body.expires_in, context.defaultExpiresIn);
  if (expiresIn === undefined) fail('expires_in', 'must be a positive number of seconds');

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

  return createTokenSet({
    accessToken,
    expiresAt: context.requestedAt + expiresIn * 1000,
    refreshToken,
    scope,
  });
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
export function tokenFieldProblem(field: 'accessToken' | 'refreshToken' | 'scope', value: string): string | undefined {
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

/** A positive finite number, or a string holding one; absent (or null) means the default. */
function readExpiresIn(value: unknown, fallback: number): number | undefined {
  if (value === undefined || value === null) return fallback;
  const seconds = typeof value === 'string' && /^\d+(\.\d+)?$/.test(value.trim()) ? Number(value) : value;
  return typeof seconds === 'number' && Number.isFinite(seconds) && seconds > 0 ? seconds : undefined;
}
