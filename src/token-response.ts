/**
 * Validates a token endpoint's 200 answer before anything trusts it, in the style of oauth4webapi: one small
 * check per field, each naming the field it rejects.
 */
import { type GrantKind, InvalidTokenResponseError } from './errors.js';
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

  const scope = body.scope;
  if (scope !== undefined && typeof scope !== 'string') fail('scope', 'must be a string when present');

  return createTokenSet({
    accessToken,
    expiresAt: context.requestedAt + expiresIn * 1000,
    refreshToken,
    scope,
  });
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
