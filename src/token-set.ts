/**
 * The domain type for a token: camelCase, with an absolute expiry. A token set is a credential, so it prints
 * redacted: `util.inspect(tokens)` (what logging prints) and `JSON.stringify(tokens)` show the expiry and scope but
 * never the tokens. The fields themselves are ordinary readable properties.
 */
import { REDACTED, redactBody } from './redact.js';

/** A validated token, as the library stores and hands it out. */
export interface TokenSet {
  /** The bearer token sent in `Authorization: Bearer ...`. */
  readonly accessToken: string;
  /** Always `Bearer`: this library sends bearer tokens only. */
  readonly tokenType: 'Bearer';
  /** When the token expires, in epoch milliseconds, counted from when the token request was sent. */
  readonly expiresAt: number;
  /** The refresh token, when the endpoint issued one. */
  readonly refreshToken?: string;
  /** The granted scope: what the endpoint said, else the scope that was requested (RFC 6749 section 5.1). */
  readonly scope?: string;
  /** The OpenID Connect `id_token`, when the endpoint sent one (kept as sent: this library never verifies it). */
  readonly idToken?: string;
  /**
   * The answer's other fields as the endpoint sent them (`token_type` and `expires_in` as spelled there, and any
   * extension), so nothing the server said is lost. Prints with credential-named fields redacted.
   */
  readonly extra?: Readonly<Record<string, unknown>>;
}

/** The fields a token set is made of. */
export interface TokenSetFields {
  accessToken: string;
  expiresAt: number;
  refreshToken?: string | undefined;
  scope?: string | undefined;
  idToken?: string | undefined;
  extra?: Readonly<Record<string, unknown>> | undefined;
}

function redactedView(this: TokenSet): Record<string, unknown> {
  return {
    accessToken: REDACTED,
    tokenType: this.tokenType,
    expiresAt: this.expiresAt,
    ...(this.refreshToken === undefined ? {} : { refreshToken: REDACTED }),
    ...(this.scope === undefined ? {} : { scope: this.scope }),
    ...(this.idToken === undefined ? {} : { idToken: REDACTED }),
    ...(this.extra === undefined ? {} : { extra: redactBody(this.extra) }),
  };
}

/** Builds a frozen token set whose printed and JSON forms are redacted. */
export function createTokenSet(fields: TokenSetFields): TokenSet {
  const tokenSet: TokenSet = {
    accessToken: fields.accessToken,
    tokenType: 'Bearer',
    expiresAt: fields.expiresAt,
    ...(fields.refreshToken === undefined ? {} : { refreshToken: fields.refreshToken }),
    ...(fields.scope === undefined ? {} : { scope: fields.scope }),
    ...(fields.idToken === undefined ? {} : { idToken: fields.idToken }),
    ...(fields.extra === undefined ? {} : { extra: Object.freeze({ ...fields.extra }) }),
  };
  // Non-enumerable, so spreading a token set copies only its data.
  Object.defineProperty(tokenSet, 'toJSON', { value: redactedView });
  Object.defineProperty(tokenSet, Symbol.for('nodejs.util.inspect.custom'), { value: redactedView });
  return Object.freeze(tokenSet);
}
