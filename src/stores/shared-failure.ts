/**
 * A renewal failure shared through a store. When the process holding the renewal lease fails (after its retries), it
 * records why, so the processes waiting for it fail fast with the same typed error instead of each taking the lease in
 * turn and failing alone (a hanging endpoint then costs every process one timeout, not one each in a row). A
 * credential failure is kept for the cooldown (identity providers lock accounts after a few failed logins); any other
 * failure for a moment only (see {@link sharedFailureTtlMs}).
 *
 * Holds no secret: the code, the status, the OAuth codes, the already redacted description and which Basic
 * credential forms were tried (names, not credentials). The class is rebuilt from `code`, not from the status: since
 * classes follow the OAuth code, a 400 can be any of them. Read back as untrusted input: anyone who can write to the
 * store can write a record, so every field is checked and its text escaped and bounded again.
 */
import { cut, printable } from '../endpoint-text.js';
import {
  type BasicCredentialForm,
  type ErrorCodeValue,
  ErrorCode,
  type GrantKind,
  GrantRejectedError,
  InvalidClientError,
  InvalidRequestError,
  InvalidTokenResponseError,
  isCredentialFailure,
  type OAuthBearerError,
  TokenEndpointError,
  TokenNetworkError,
  TokenRequestError,
  RefreshTokenRejectedError,
  UserAuthenticationError,
} from '../errors.js';

/** What a store keeps of a renewal failure. */
export interface SharedFailure {
  readonly code: ErrorCodeValue;
  readonly grant: GrantKind;
  /** The endpoint's HTTP status, for an endpoint error. */
  readonly status?: number;
  readonly error?: string;
  readonly errorDescription?: string;
  /** The client_secret_basic forms tried, when an InvalidClientError says both were. */
  readonly basicFormsTried?: readonly BasicCredentialForm[];
  /** For a network error: it timed out (rather than failed to connect). */
  readonly timedOut?: boolean;
  /** For an invalid token response: the field that was wrong. */
  readonly field?: string;
}

/** How long a failure that is not the credentials' fault is shared: long enough for every waiter to see it. */
export const TRANSIENT_FAILURE_TTL_MS = 2_000;

/** The longest text kept in a record field, whatever a store hands back. */
const MAX_FIELD_LENGTH = 500;

/** The shareable part of a renewal failure; undefined for one that is not about the token endpoint (a bug). */
export function sharedFailureOf(error: OAuthBearerError): SharedFailure | undefined {
  if (!(error instanceof TokenRequestError)) return undefined;
  const base = { code: error.code, grant: error.grant };
  if (error instanceof TokenEndpointError) {
    return {
      ...base,
      status: error.status,
      ...(error.error === undefined ? {} : { error: error.error }),
      ...(error.errorDescription === undefined ? {} : { errorDescription: error.errorDescription }),
      ...(error instanceof InvalidClientError && error.basicFormsTried !== undefined ? { basicFormsTried: error.basicFormsTried } : {}),
    };
  }
  if (error instanceof TokenNetworkError) return { ...base, timedOut: error.timedOut };
  if (error instanceof InvalidTokenResponseError) return { ...base, field: error.field };
  return base;
}

/** How long to keep a failure: the cooldown for a credential failure, a moment for anything else. */
export function sharedFailureTtlMs(error: OAuthBearerError, cooldownMs: number): number {
  return isCredentialFailure(error) && cooldownMs > 0 ? cooldownMs : TRANSIENT_FAILURE_TTL_MS;
}

/** How much longer a rebuilt error's record lives, so the reader's own cooldown ends with it (see remainingOf). */
const REMAINING = new WeakMap<object, number>();

/** The time left on the record a rebuilt error came from; undefined for an error that was not rebuilt from one. */
export function sharedFailureRemainingMs(error: object): number | undefined {
  return REMAINING.get(error);
}

/**
 * The typed error another process saw, rebuilt here (an endpoint error's `response` holds only the status).
 * `remainingMs`, when known, is how much longer the record lives.
 */
export function errorFromSharedFailure(failure: SharedFailure, remainingMs?: number): TokenRequestError {
  const error = rebuild(failure);
  if (remainingMs !== undefined && Number.isFinite(remainingMs)) REMAINING.set(error, Math.max(0, remainingMs));
  return error;
}

function rebuild(failure: SharedFailure): TokenRequestError {
  const response = { status: failure.status ?? 0, headers: {}, body: undefined };
  const fields = { error: failure.error, errorDescription: failure.errorDescription };
  switch (failure.code) {
    case ErrorCode.INVALID_REQUEST:
      return new InvalidRequestError(failure.grant, response, fields);
    case ErrorCode.INVALID_CLIENT:
      return new InvalidClientError(failure.grant, response, { ...fields, basicFormsTried: failure.basicFormsTried });
    case ErrorCode.USER_AUTHENTICATION:
      return new UserAuthenticationError(failure.grant, response, fields);
    case ErrorCode.GRANT_REJECTED:
      return new GrantRejectedError(failure.grant, response, fields);
    case ErrorCode.REFRESH_TOKEN_REJECTED:
      return new RefreshTokenRejectedError(new InvalidRequestError('refresh_token', response, fields));
    case ErrorCode.NETWORK:
      return new TokenNetworkError(failure.grant, failure.timedOut === true, new Error('the renewal in another process failed'));
    case ErrorCode.INVALID_TOKEN_RESPONSE:
      return new InvalidTokenResponseError(failure.grant, failure.field ?? 'body', 'was invalid (seen by the renewal in another process)', response);
    default:
      return new TokenEndpointError(failure.grant, response, fields);
  }
}

/** The JSON text of a record. */
export function serializeSharedFailure(failure: SharedFailure): string {
  return JSON.stringify(failure);
}

// Not 'revocation': a revocation's failure is the caller's, never a renewal's, so it is never recorded.
const GRANTS: readonly unknown[] = ['password', 'client_credentials', 'extension', 'refresh_token', 'discovery'] satisfies GrantKind[];
const CODES: readonly unknown[] = [
  ErrorCode.INVALID_REQUEST,
  ErrorCode.INVALID_CLIENT,
  ErrorCode.USER_AUTHENTICATION,
  ErrorCode.GRANT_REJECTED,
  ErrorCode.REFRESH_TOKEN_REJECTED,
  ErrorCode.TOKEN_ENDPOINT,
  ErrorCode.INVALID_TOKEN_RESPONSE,
  ErrorCode.NETWORK,
];

/** Reads a record back, or undefined when the text is not one (never trusted blindly: see the module comment). */
export function parseSharedFailure(text: string): SharedFailure | undefined {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return undefined;
  const read = (key: keyof SharedFailure): unknown => Reflect.get(value, key);
  const code = read('code');
  const grant = read('grant');
  const status = read('status');
  if (!CODES.includes(code) || !GRANTS.includes(grant)) return undefined;
  if (status !== undefined && !(Number.isInteger(status) && (status as number) >= 100 && (status as number) <= 599)) return undefined;
  const text_ = (key: 'error' | 'errorDescription' | 'field'): Record<string, string> => {
    const field = read(key);
    return typeof field === 'string' ? { [key]: cut(printable(field), MAX_FIELD_LENGTH) } : {};
  };
  const forms = read('basicFormsTried');
  const timedOut = read('timedOut');
  return {
    code: code as ErrorCodeValue,
    grant: grant as GrantKind,
    ...(status === undefined ? {} : { status: status as number }),
    ...text_('error'),
    ...text_('errorDescription'),
    ...text_('field'),
    ...(Array.isArray(forms) && forms.length <= 2 && forms.every(isBasicForm) ? { basicFormsTried: forms } : {}),
    ...(typeof timedOut === 'boolean' ? { timedOut } : {}),
  };
}

function isBasicForm(value: unknown): value is BasicCredentialForm {
  return value === 'form-encoded' || value === 'raw';
}
