/**
 * Every error this library throws, under one base class with a stable string `code`.
 *
 * Why the care: axios errors keep the whole request config (form body with the password, the client secret and
 * the `Authorization` header). None of them is ever passed through raw. What an error keeps for debugging
 * (the endpoint's status, headers and a redacted body) sits on `response` as a non-enumerable property, so
 * logging the error, `util.inspect(err, { depth: null })` and `JSON.stringify(err)` never print it.
 */

import { monotonicNow } from './clock.js';

/** Stable codes, one per error class. Compare with these rather than with messages. */
export const ErrorCode = Object.freeze({
  CONFIGURATION: 'ERR_OAUTH_CONFIGURATION',
  INVALID_REQUEST: 'ERR_OAUTH_INVALID_REQUEST',
  INVALID_CLIENT: 'ERR_OAUTH_INVALID_CLIENT',
  USER_AUTHENTICATION: 'ERR_OAUTH_USER_AUTHENTICATION_FAILED',
  TOKEN_ENDPOINT: 'ERR_OAUTH_TOKEN_ENDPOINT',
  INVALID_TOKEN_RESPONSE: 'ERR_OAUTH_INVALID_TOKEN_RESPONSE',
  NETWORK: 'ERR_OAUTH_NETWORK',
  REPLAY_NOT_POSSIBLE: 'ERR_OAUTH_REPLAY_NOT_POSSIBLE',
  TOKEN_STORE: 'ERR_OAUTH_TOKEN_STORE',
  HOOK: 'ERR_OAUTH_HOOK_FAILED',
  ORIGIN_NOT_ALLOWED: 'ERR_OAUTH_ORIGIN_NOT_ALLOWED',
  CREDENTIAL: 'ERR_OAUTH_CREDENTIAL',
  GRANT_REJECTED: 'ERR_OAUTH_GRANT_REJECTED',
  REFRESH_TOKEN_REJECTED: 'ERR_OAUTH_REFRESH_TOKEN_REJECTED',
} as const);

/** One of the {@link ErrorCode} values. */
export type ErrorCodeValue = (typeof ErrorCode)[keyof typeof ErrorCode];

/**
 * Which call to the authorization server failed: a grant (`extension` for an extension grant, whatever its URI), the
 * discovery look-up, or a revocation (RFC 7009).
 */
export type GrantKind = 'password' | 'client_credentials' | 'extension' | 'refresh_token' | 'discovery' | 'revocation';

/** What an error keeps of the endpoint's answer; credential fields of the body are already redacted. */
export interface RedactedResponse {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: unknown;
}

/**
 * One class identity across copies of this package. When both the ESM and the CommonJS build load in one process (a
 * CommonJS dependency beside ESM code), each has its own classes, and plain `instanceof` would not see an error of the
 * other copy. So every error carries, under the registry symbol below (the same in every copy), the brands of its
 * library classes, and each class's `Symbol.hasInstance` accepts a value whose brands include its own. Within one copy
 * the prototype chain answers first, exactly as without this.
 */
const ERROR_BRANDS = Symbol.for('axios-oauth-bearer.error');

/** Each library class's own brand. Per copy (a WeakMap of this copy's classes); the brand strings are the same in all. */
const classBrands = new WeakMap<object, string>();

/**
 * Gives a library error class its brand (`axios-oauth-bearer:<name>`), once, in its static block. Only the class
 * itself has it: a subclass (the library's or yours) is not branded by inheriting it, so another copy's
 * `UserAuthenticationError` is never taken for your subclass of it.
 * @internal
 */
export function brandErrorClass(errorClass: object, name: string): void {
  classBrands.set(errorClass, `axios-oauth-bearer:${name}`);
}

/** The brands of `value`'s library classes, from whichever copy made it; an empty list for anything else. */
function brandsOf(value: unknown): readonly unknown[] {
  if ((typeof value !== 'object' && typeof value !== 'function') || value === null) return [];
  const brands: unknown = Reflect.get(value, ERROR_BRANDS);
  return Array.isArray(brands) ? brands : [];
}

/** The base class: `err instanceof OAuthBearerError` catches everything this library throws. */
export class OAuthBearerError extends Error {
  static {
    brandErrorClass(this, 'OAuthBearerError');
  }

  /**
   * `instanceof` across copies of the package (ESM and CommonJS in one process): true for an instance of this class or
   * a subclass, by its prototype chain or by its brands. Another copy's error answers like one of this copy's; a plain
   * object with a matching `code` does not.
   */
  static override [Symbol.hasInstance](value: unknown): boolean {
    if (Function.prototype[Symbol.hasInstance].call(this, value)) return true;
    const own = classBrands.get(this);
    return own !== undefined && brandsOf(value).includes(own);
  }

  /** A stable identifier from {@link ErrorCode}. */
  readonly code: ErrorCodeValue;

  constructor(code: ErrorCodeValue, message: string, options?: { cause?: Error }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
    const brands: string[] = [];
    for (let c: unknown = new.target; typeof c === 'function'; c = Object.getPrototypeOf(c)) {
      const brand = classBrands.get(c);
      if (brand !== undefined) brands.push(brand);
    }
    Object.defineProperty(this, ERROR_BRANDS, { value: Object.freeze(brands), enumerable: false });
  }

  /**
   * While this error holds a cooldown (`cooldownMs`: the endpoint refused the credentials, and renewals fail fast with
   * this same error instead of sending them again), the milliseconds until the cooldown ends; `0` once it ended;
   * undefined for an error that never started one. `tokens.clearCooldown()` ends it early.
   */
  get retryAfterMs(): number | undefined {
    const until = COOLDOWNS.get(this)?.until;
    return until === undefined ? undefined : Math.max(0, Math.ceil(until - monotonicNow()));
  }

  /** When the cooldown this error holds ends (a wall-clock instant, as it was when the cooldown started); see retryAfterMs. */
  get cooldownEndsAt(): Date | undefined {
    const endsAt = COOLDOWNS.get(this)?.endsAt;
    return endsAt === undefined ? undefined : new Date(endsAt);
  }

  /** `JSON.stringify(err)` gives the name, code and message and the error's own public fields; never a secret. */
  toJSON(): Record<string, unknown> {
    const cooldown = this.retryAfterMs === undefined ? {} : { retryAfterMs: this.retryAfterMs };
    return { ...Object.fromEntries(Object.entries(this)), ...cooldown, name: this.name, code: this.code, message: this.message };
  }
}

/** The cooldowns errors hold: a WeakMap, so that an error's own fields stay what its class declares. */
const COOLDOWNS = new WeakMap<OAuthBearerError, { readonly until: number; readonly endsAt: number }>();

/**
 * Records that `error` starts a cooldown lasting `ms` from now (monotonic), and says so in its message, once: the
 * callers who meet it within the cooldown read when it ends and how to end it early.
 */
export function noteCooldown(error: OAuthBearerError, ms: number): void {
  const first = !COOLDOWNS.has(error);
  COOLDOWNS.set(error, { until: monotonicNow() + ms, endsAt: Date.now() + ms });
  // No figure in the text: the same failure seen by two processes (one from the shared record) reads the same, and a
  // log aggregator can group it; the figures are the fields.
  if (first) error.message += '; renewals fail fast with this error until the cooldown ends (err.retryAfterMs, err.cooldownEndsAt) or tokens.clearCooldown() is called';
}

/**
 * Records how many attempts a request made, and over how long, on the error it finally failed with, and says so in its
 * message (once: a retried renewal's error is not annotated twice).
 */
export function noteAttempts(error: OAuthBearerError, attempts: number, elapsedMs: number): void {
  if (!(error instanceof TokenRequestError) || error.attempts !== undefined || attempts < 2) return;
  Object.defineProperty(error, 'attempts', { value: attempts, enumerable: true });
  Object.defineProperty(error, 'elapsedMs', { value: Math.round(elapsedMs), enumerable: true });
  error.message += ` (after ${attempts} attempts over ${(elapsedMs / 1000).toFixed(1)} s)`;
}

/** An option is missing or malformed. `option` names it; its value is never echoed (it may be a secret). */
export class ConfigurationError extends OAuthBearerError {
  static {
    brandErrorClass(this, 'ConfigurationError');
  }

  /** The option's name, e.g. `auth.tokenUrl`. */
  readonly option: string;

  constructor(option: string, problem: string) {
    super(ErrorCode.CONFIGURATION, `Invalid option \`${option}\`: ${problem}`);
    this.option = option;
  }
}

/** Anything that went wrong while talking to the token endpoint (or the discovery document). */
export class TokenRequestError extends OAuthBearerError {
  static {
    brandErrorClass(this, 'TokenRequestError');
  }

  /** Which request failed. */
  readonly grant: GrantKind;
  /** How many attempts were made before giving up, when it was retried (undefined after a single attempt). */
  declare readonly attempts?: number;
  /** Milliseconds from the first attempt to giving up, when it was retried. */
  declare readonly elapsedMs?: number;

  constructor(code: ErrorCodeValue, grant: GrantKind, message: string, options?: { cause?: Error }) {
    super(code, message, options);
    this.grant = grant;
  }
}

/** Fields parsed from an RFC 6749 section 5.2 error body, when the endpoint sent one. */
export interface OAuthErrorFields {
  readonly error?: string;
  readonly errorDescription?: string;
}

/** The endpoint answered with an HTTP error status. Subclasses name the statuses the provider documents. */
export class TokenEndpointError extends TokenRequestError {
  static {
    brandErrorClass(this, 'TokenEndpointError');
  }

  /** The HTTP status of the endpoint's answer. */
  readonly status: number;
  /** The RFC 6749 `error` code from the body, e.g. `invalid_grant`. */
  readonly error: string | undefined;
  /** The body's `error_description`, with any known secret removed, control characters escaped, at most
   * `MAX_ENDPOINT_TEXT_LENGTH` characters (the same for `error`). */
  readonly errorDescription: string | undefined;
  /** The endpoint's answer, redacted; non-enumerable so logging the error never dumps it. */
  declare readonly response: RedactedResponse;

  constructor(
    grant: GrantKind,
    response: RedactedResponse,
    fields: OAuthErrorFields,
    code: ErrorCodeValue = ErrorCode.TOKEN_ENDPOINT,
    meaning = 'the token endpoint answered with an error',
  ) {
    super(code, grant, describe(grant, response.status, meaning, fields));
    this.status = response.status;
    this.error = fields.error;
    this.errorDescription = fields.errorDescription;
    Object.defineProperty(this, 'response', { value: response, enumerable: false });
  }

  /**
   * True when the endpoint said the grant (password or refresh token) is invalid, expired or revoked. Defined here
   * rather than on {@link InvalidRequestError} alone, because a password grant's `invalid_grant` is a
   * {@link UserAuthenticationError}.
   */
  get isInvalidGrant(): boolean {
    return this.error === 'invalid_grant';
  }
}

function describe(grant: GrantKind, status: number, meaning: string, fields: OAuthErrorFields): string {
  const detail = [fields.error, fields.errorDescription].filter((part) => part !== undefined).join(': ');
  // Discovery is a look-up and revocation gives up a token: "discovery grant failed" read as if a token had been asked for.
  const what = grant === 'discovery' || grant === 'revocation' ? grant : `${grant} grant`;
  return `${what} failed with HTTP ${status}: ${meaning}${detail === '' ? '' : ` (${detail})`}`;
}

/**
 * What an `InvalidRequestError` says, by the RFC 6749 section 5.2 code, so the message names the cause rather than
 * "invalid request parameters" for all of them. A Map, not an object literal: the code is the endpoint's text, and
 * `constructor` or `__proto__` must not find anything.
 */
const REQUEST_MEANINGS: ReadonlyMap<string, string> = new Map([
  ['invalid_scope', 'the requested scope is invalid, unknown or exceeds what the client may ask for'],
  ['unauthorized_client', 'the client is not allowed to use this grant type'],
  ['unsupported_grant_type', 'the token endpoint does not support this grant type'],
]);

function requestMeaning(grant: GrantKind, error: string | undefined): string {
  if (error === 'invalid_grant') {
    return grant === 'refresh_token' ? 'the refresh token is invalid, expired or revoked' : 'the grant was refused';
  }
  return (error === undefined ? undefined : REQUEST_MEANINGS.get(error)) ?? 'invalid request parameters';
}

/**
 * The request was refused as malformed or not allowed: `invalid_request`, `invalid_scope`, `unauthorized_client`,
 * `unsupported_grant_type`, a refresh token refused with `invalid_grant` (the token manager then falls back to the
 * password grant), or HTTP 400 without a code. The message names the cause.
 */
export class InvalidRequestError extends TokenEndpointError {
  static {
    brandErrorClass(this, 'InvalidRequestError');
  }

  constructor(grant: GrantKind, response: RedactedResponse, fields: OAuthErrorFields) {
    super(grant, response, fields, ErrorCode.INVALID_REQUEST, requestMeaning(grant, fields.error));
  }
}

/** The two ways of putting the client id and secret into an HTTP Basic header (see `ClientAuthentication`). */
export type BasicCredentialForm = 'form-encoded' | 'raw';

/** What an {@link InvalidClientError} is built from: the body's fields, and the Basic forms tried, if any. */
export interface InvalidClientFields extends OAuthErrorFields {
  readonly basicFormsTried?: readonly BasicCredentialForm[];
}

/**
 * The client id or client secret was rejected: the code `invalid_client` (whatever the 4xx status), or HTTP 401
 * without a code. When client_secret_basic was tried with both credential forms, the message says so and
 * {@link InvalidClientError.basicFormsTried} lists them.
 */
export class InvalidClientError extends TokenEndpointError {
  static {
    brandErrorClass(this, 'InvalidClientError');
  }

  /** The Basic credential forms sent, in order, when more than one was tried; undefined otherwise. */
  readonly basicFormsTried: readonly BasicCredentialForm[] | undefined;

  constructor(grant: GrantKind, response: RedactedResponse, fields: InvalidClientFields) {
    const tried = fields.basicFormsTried !== undefined && fields.basicFormsTried.length > 1 ? [...fields.basicFormsTried] : undefined;
    const note = tried === undefined ? '' : ` (client_secret_basic tried with ${tried.join(' and ')} credentials)`;
    super(grant, response, fields, ErrorCode.INVALID_CLIENT, `invalid client credentials${note}`);
    this.basicFormsTried = tried;
  }
}

/**
 * The username or password was rejected: `invalid_grant` on the password grant (RFC 6749 section 5.2's way of saying
 * so), or HTTP 403 without a code (the provider's documented meaning of 403).
 */
export class UserAuthenticationError extends TokenEndpointError {
  static {
    brandErrorClass(this, 'UserAuthenticationError');
  }

  constructor(grant: GrantKind, response: RedactedResponse, fields: OAuthErrorFields) {
    super(grant, response, fields, ErrorCode.USER_AUTHENTICATION, 'user authentication failed');
  }
}

/**
 * The endpoint refused the grant itself (`invalid_grant`) on client credentials or an extension grant: the assertion,
 * subject token or other grant parameters are invalid, expired or revoked. A credential failure: the cooldown starts.
 */
export class GrantRejectedError extends TokenEndpointError {
  static {
    brandErrorClass(this, 'GrantRejectedError');
  }

  constructor(grant: GrantKind, response: RedactedResponse, fields: OAuthErrorFields) {
    super(grant, response, fields, ErrorCode.GRANT_REJECTED, 'the grant was refused');
  }
}

/**
 * The endpoint refused the refresh token of a client that has nothing else to renew with (`grant: 'refresh_token'`, a
 * refresh token obtained elsewhere): it is invalid, expired or revoked. Every request waiting on the renewal fails
 * with it, and so does every later one, without a token request: make a client with a new refresh token. `status`,
 * `error` and `errorDescription` are the endpoint's refusal's (a 400 `invalid_grant`, usually); its class is `cause`.
 */
export class RefreshTokenRejectedError extends TokenEndpointError {
  static {
    brandErrorClass(this, 'RefreshTokenRejectedError');
  }

  constructor(refusal: TokenEndpointError) {
    const fields = { error: refusal.error, errorDescription: refusal.errorDescription };
    super('refresh_token', refusal.response, fields, ErrorCode.REFRESH_TOKEN_REJECTED, 'the refresh token was refused and there is no other grant to fall back on');
    // Non-enumerable, as the `cause` the Error constructor installs: JSON.stringify never shows it.
    Object.defineProperty(this, 'cause', { value: refusal, enumerable: false, writable: true, configurable: true });
  }
}

/** HTTP 200 with a body that is not JSON or fails validation. `field` names what was wrong. */
export class InvalidTokenResponseError extends TokenRequestError {
  static {
    brandErrorClass(this, 'InvalidTokenResponseError');
  }

  /** The offending field (`access_token`, `token_type`, ...) or `body` when the body itself is unusable. */
  readonly field: string;
  /** The endpoint's answer, redacted; non-enumerable. */
  declare readonly response: RedactedResponse;

  constructor(grant: GrantKind, field: string, problem: string, response: RedactedResponse) {
    const what = grant === 'discovery' ? 'discovery failed' : `${grant} grant returned an invalid response`;
    super(ErrorCode.INVALID_TOKEN_RESPONSE, grant, `${what}: ${field} ${problem}`);
    this.field = field;
    Object.defineProperty(this, 'response', { value: response, enumerable: false });
  }
}

/**
 * The endpoint could not be reached, or did not answer in time. `cause` is a sanitized copy of the original. For
 * discovery, `location` (the document's URL, already made printable) is named in the message.
 */
export class TokenNetworkError extends TokenRequestError {
  static {
    brandErrorClass(this, 'TokenNetworkError');
  }

  /** True when the request was abandoned because of the timeout. */
  readonly timedOut: boolean;

  constructor(grant: GrantKind, timedOut: boolean, cause: Error, location?: string) {
    const what = timedOut ? 'timed out' : `failed: ${cause.message}`;
    const target = grant === 'discovery' ? `to ${location ?? 'the discovery document'}` : 'to the token endpoint';
    super(ErrorCode.NETWORK, grant, `${grant} request ${target} ${what}`, { cause });
    this.timedOut = timedOut;
  }
}

/** A request failed with 401 but could not be replayed because its body (a stream) cannot be sent twice. */
export class ReplayNotPossibleError extends OAuthBearerError {
  static {
    brandErrorClass(this, 'ReplayNotPossibleError');
  }

  /** Always 401: the status the request failed with. */
  readonly status = 401;
  /** The 401 response from the API (its request config is redacted); non-enumerable so logging never dumps it. */
  declare readonly response: unknown;

  constructor(response: unknown) {
    super(
      ErrorCode.REPLAY_NOT_POSSIBLE,
      'The request was rejected with 401 and was not replayed: its body is a stream, which cannot be sent twice. ' +
        'A new token has been requested; send the request again with a fresh body.',
    );
    Object.defineProperty(this, 'response', { value: response, enumerable: false });
  }
}

/**
 * Reported through `onError`, never thrown: requests under a baseURL whose origin is not allowed went out without the
 * token, and their 401s start no grant. The usual cause is a baseURL changed after `attachAuth` (a generated client's
 * `setConfig({ baseURL })`, or `instance.defaults.baseURL = ...`): the allowed origins are fixed when attaching. Reported
 * once per origin. To send the token there, list the origin in `allowedOrigins`. Holds origins only, never a path, a
 * query or a secret.
 */
export class OriginNotAllowedError extends OAuthBearerError {
  static {
    brandErrorClass(this, 'OriginNotAllowedError');
  }

  /** The origin the requests went to without the token, e.g. `https://other.example`. */
  readonly origin: string;
  /** The origins that do get the token. */
  readonly allowedOrigins: readonly string[];

  constructor(origin: string, allowedOrigins: readonly string[]) {
    const list = [...allowedOrigins, origin].map((entry) => `'${entry}'`).join(', ');
    super(
      ErrorCode.ORIGIN_NOT_ALLOWED,
      `Requests to ${origin} (from their baseURL) are sent without the token: that origin is not in allowedOrigins ` +
        `(${allowedOrigins.join(', ')}), which is fixed when attaching; did the baseURL change after attachAuth? ` +
        `If ${origin} should get the token, list it: allowedOrigins: [${list}]. Reported once per origin.`,
    );
    this.origin = origin;
    this.allowedOrigins = Object.freeze([...allowedOrigins]);
  }
}

/**
 * Which credential a {@link CredentialError} could not get: a `password` or `clientSecret` function, `auth.account`,
 * or one of an extension grant's `secrets` (named by {@link CredentialError.parameter}).
 */
export type CredentialName = 'password' | 'clientSecret' | 'account' | 'grant.secrets';

/** How getting a credential failed: the function threw (or rejected), took longer than `timeout`, or answered garbage. */
export type CredentialFailure = 'threw' | 'timed-out' | 'invalid';

/**
 * A credential given as a function (`password`, `clientSecret`, or the `account` provider) could not be had, so no
 * token request was sent. Never a cooldown: the endpoint has not refused anything. Holds no value the function
 * returned and nothing of what it threw but its class name (a vault's error may quote the secret it failed on): log
 * inside your function if you need more.
 */
export class CredentialError extends OAuthBearerError {
  static {
    brandErrorClass(this, 'CredentialError');
  }

  /** Which credential. */
  readonly credential: CredentialName;
  /** How it failed. */
  readonly failure: CredentialFailure;
  /** The account it was for, on a client with `auth.account`. */
  readonly account: string | undefined;
  /** The extension grant's secret parameter, when `credential` is `'grant.secrets'` (its name, never its value). */
  readonly parameter: string | undefined;

  constructor(credential: CredentialName, failure: CredentialFailure, problem: string, account?: string, parameter?: string) {
    const who = account === undefined ? '' : ` for account ${JSON.stringify(account)}`;
    super(ErrorCode.CREDENTIAL, `Could not get credentials${who}: ${credentialText(credential, parameter)} ${problem}; no token request was sent`);
    this.credential = credential;
    this.failure = failure;
    this.account = account;
    this.parameter = parameter;
  }
}

function credentialText(credential: CredentialName, parameter: string | undefined): string {
  if (credential === 'account') return 'the account provider (auth.account)';
  if (credential === 'grant.secrets') return `the function of secret parameter ${JSON.stringify(parameter ?? '')} (auth.grant.secrets)`;
  return `the ${credential} function (auth.${credential})`;
}

/**
 * A failure of the credentials on the configured grant: retrying with the same ones cannot help and may lock the
 * account, so the token manager stops asking for a while (the cooldown). By class, not status: a wrong password is 400
 * `invalid_grant` on RFC 6749 servers and 403 at the provider, a wrong secret 400 or 401 `invalid_client`; an invalid
 * scope or request is not the credentials' fault, and starts no cooldown. A refresh's failure reaches this only where
 * it is final (`grant: 'refresh_token'`): elsewhere the configured grant follows it, and that grant's failure is the
 * one that counts.
 */
export function isCredentialFailure(error: unknown): boolean {
  if (!(error instanceof TokenEndpointError) || error.grant === 'discovery' || error.grant === 'revocation') return false;
  if (error instanceof RefreshTokenRejectedError || error instanceof GrantRejectedError) return true;
  // A refused client on a refresh is final only without a grant to fall back on, where it is as final as anywhere.
  return error instanceof InvalidClientError || (error instanceof UserAuthenticationError && error.grant === 'password');
}
