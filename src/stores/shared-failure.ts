/**
 * A credential failure shared through a store: when one process finds the password or the client refused, the others
 * sharing its store fail fast with the same typed error for the cooldown, instead of each sending the same credentials
 * once more (identity providers lock accounts after a few failed logins). Holds no secret: the status, the codes,
 * the already redacted description and which Basic credential forms were tried (names, not credentials). The class
 * is rebuilt from `code`, not from the status: since classes follow the OAuth code, a 400 can be any of them.
 */
import {
  type BasicCredentialForm,
  type ErrorCodeValue,
  ErrorCode,
  type GrantKind,
  InvalidClientError,
  InvalidRequestError,
  TokenEndpointError,
  UserAuthenticationError,
} from '../errors.js';

/** What a store keeps of a credential failure. */
export interface SharedFailure {
  readonly code: ErrorCodeValue;
  readonly status: number;
  readonly grant: GrantKind;
  readonly error?: string;
  readonly errorDescription?: string;
  /** The client_secret_basic forms tried, when an InvalidClientError says both were. */
  readonly basicFormsTried?: readonly BasicCredentialForm[];
}

/** The shareable part of an endpoint error. */
export function sharedFailureOf(error: TokenEndpointError): SharedFailure {
  return {
    code: error.code,
    status: error.status,
    grant: error.grant,
    ...(error.error === undefined ? {} : { error: error.error }),
    ...(error.errorDescription === undefined ? {} : { errorDescription: error.errorDescription }),
    ...(error instanceof InvalidClientError && error.basicFormsTried !== undefined ? { basicFormsTried: error.basicFormsTried } : {}),
  };
}

/** The typed error another process saw, rebuilt here (its `response` holds only the status). */
export function errorFromSharedFailure(failure: SharedFailure): TokenEndpointError {
  const response = { status: failure.status, headers: {}, body: undefined };
  const fields = { error: failure.error, errorDescription: failure.errorDescription };
  switch (failure.code) {
    case ErrorCode.INVALID_REQUEST:
      return new InvalidRequestError(failure.grant, response, fields);
    case ErrorCode.INVALID_CLIENT:
      return new InvalidClientError(failure.grant, response, { ...fields, basicFormsTried: failure.basicFormsTried });
    case ErrorCode.USER_AUTHENTICATION:
      return new UserAuthenticationError(failure.grant, response, fields);
    default:
      return new TokenEndpointError(failure.grant, response, fields);
  }
}

/** Reads a stored failure back, or undefined when the value is not one (never trusted blindly). */
export function parseSharedFailure(text: string): SharedFailure | undefined {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (value === null || typeof value !== 'object') return undefined;
  const read = (key: keyof SharedFailure): unknown => Reflect.get(value, key);
  const code = read('code');
  const status = read('status');
  const grant = read('grant');
  const codes: readonly unknown[] = Object.values(ErrorCode);
  if (!codes.includes(code) || typeof status !== 'number' || (grant !== 'password' && grant !== 'refresh_token')) return undefined;
  const optional = (key: 'error' | 'errorDescription'): Record<string, string> => {
    const text = read(key);
    return typeof text === 'string' ? { [key]: text } : {};
  };
  const forms = read('basicFormsTried');
  const basicFormsTried = Array.isArray(forms) && forms.every(isBasicForm) ? { basicFormsTried: forms } : {};
  return { code: code as ErrorCodeValue, status, grant, ...optional('error'), ...optional('errorDescription'), ...basicFormsTried };
}

function isBasicForm(value: unknown): value is BasicCredentialForm {
  return value === 'form-encoded' || value === 'raw';
}
