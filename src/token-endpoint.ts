/**
 * The grants (password, client credentials, extension grants, refresh; the token URL found by discovery.ts when an
 * issuer is configured) and RFC 7009 revocation, on a bare axios instance of their own (token-http.ts). That instance
 * never carries the auth interceptors (so a token request can never trigger a refresh), has a timeout, does not
 * follow redirects (a redirected POST would resend the password elsewhere), and hands back raw text so this module
 * decides what counts as JSON.
 */
import type { AxiosInstance, AxiosResponse } from 'axios';
import pMemoize from 'p-memoize';

import { credentialSource, type GrantCredentials } from './credentials.js';
import { type DiscoveredEndpoint, discoverTokenEndpoint } from './discovery.js';
import { endpointText } from './endpoint-text.js';
import {
  type BasicCredentialForm,
  ConfigurationError,
  type GrantKind,
  GrantRejectedError,
  InvalidClientError,
  InvalidRequestError,
  OAuthBearerError,
  RefreshTokenRejectedError,
  type OAuthErrorFields,
  type RedactedResponse,
  TokenEndpointError,
  UserAuthenticationError,
} from './errors.js';
import { basicCredentials } from './form-encoding.js';
import {
  ATTACH_ONLY_OPTION_NAMES,
  AUTH_OPTION_NAMES,
  type ClientAuthentication,
  defaults,
  resolveAuthOptions,
  type ResolvedAuthOptions,
  RETIRED_OPTION_NAMES,
  type SingleIdentityAuthOptions,
} from './options.js';
import { refuseUnknownOptions } from './option-names.js';
import { redactBody, withEncodings } from './redact.js';
import { isTransient, isTransientStatus } from './retry.js';
import { createTokenHttpClient, plainHeaders, requestFailure } from './token-http.js';
import { parseTokenResponse } from './token-response.js';
import type { TokenSet } from './token-set.js';
import type { TokenErrorBody } from './wire.js';

/** Talks to the authorization server. Holds the credentials in a closure: printing it shows its methods. */
export interface TokenEndpoint {
  /** Obtains a token with the resource owner's username and password (an endpoint configured for the password grant). */
  passwordGrant(): Promise<TokenSet>;
  /**
   * Obtains a token with the configured grant: the password grant, client credentials, an extension grant, or a refresh
   * with the configured refresh token (`grant: 'refresh_token'`).
   */
  grant(): Promise<TokenSet>;
  /** Renews with a refresh token. */
  refreshGrant(refreshToken: string): Promise<TokenSet>;
  /**
   * Revokes a token (RFC 7009) at `revocationUrl`, or the discovered `revocation_endpoint`; `hint` is sent as
   * `token_type_hint`. Resolves when the endpoint answered 2xx (which it does for a token it does not know, too).
   */
  revoke(token: string, hint?: 'access_token' | 'refresh_token'): Promise<void>;
  /** The token URL (after discovery, when an issuer was configured). Looked up once; concurrent callers share it. */
  tokenUrl(): Promise<string>;
}

/**
 * What the client needs beyond the public endpoint (internal): the token URL once known, without waiting, and grants
 * with the credentials a renewal fetched (one account's, or a rotated secret). Without them, a grant fetches the
 * options' own (a single-account client's).
 */
export interface ClientTokenEndpoint {
  /** The configured grant (never called for `grant: 'refresh_token'`, which has none to fall back on). */
  grant(credentials?: GrantCredentials): Promise<TokenSet>;
  refreshGrant(refreshToken: string, credentials?: GrantCredentials): Promise<TokenSet>;
  revoke(token: string, hint: 'access_token' | 'refresh_token' | undefined, credentials?: GrantCredentials): Promise<void>;
  tokenUrl(): Promise<string>;
  /** The token URL if already known (configured, or discovered), without waiting. */
  knownTokenUrl(): string | undefined;
}

/**
 * The `auth` option names that concern the token endpoint: the only ones {@link createTokenEndpoint} reads (the type
 * below lists them again, so that the declarations need no private name; the check after it keeps the two equal).
 */
const ENDPOINT_OPTIONS = [
  'tokenUrl',
  'issuer',
  'clientId',
  'clientSecret',
  'grant',
  'username',
  'password',
  'refreshToken',
  'scope',
  'clientAuthentication',
  'timeout',
  'defaultExpiresIn',
  'allowInsecureHttp',
  'adapter',
  'revocationUrl',
] as const;

/**
 * Options of {@link createTokenEndpoint}: the `auth` options that concern the token endpoint, for any grant but many
 * accounts. `tokenUrl` and `issuer` may also be `URL` objects.
 */
export type TokenEndpointOptions = SingleIdentityAuthOptions extends infer Each
  ? Each extends unknown
    ? Pick<
        Each,
        keyof Each &
          ('clientId' | 'clientSecret' | 'grant' | 'username' | 'password' | 'refreshToken' | 'scope' | 'clientAuthentication' | 'timeout' | 'defaultExpiresIn' | 'allowInsecureHttp' | 'adapter' | 'revocationUrl')
      > & {
        readonly tokenUrl?: string | URL;
        readonly issuer?: string | URL;
      }
    : never
  : never;
// Compile-time only: the names in TokenEndpointOptions are ENDPOINT_OPTIONS, no more and no fewer.
type EndpointOptionName = TokenEndpointOptions extends infer Each ? (Each extends unknown ? keyof Each : never) : never;
export const ENDPOINT_OPTION_NAMES_MATCH: [(typeof ENDPOINT_OPTIONS)[number], EndpointOptionName] extends [EndpointOptionName, (typeof ENDPOINT_OPTIONS)[number]]
  ? true
  : never = true;

/**
 * The token endpoint alone, for code that wants a token and no axios instance: validates `options` as `auth` is
 * validated (a `ConfigurationError` naming the field), then grants on demand. No cache, no renewal, no retries: each
 * call is one token request, or two when `client_secret_basic` tries both Basic forms (see the README's "Just a token").
 *
 * @example
 * const endpoint = createTokenEndpoint({ tokenUrl, clientId, clientSecret, username, password });
 * const tokens = await endpoint.passwordGrant();
 */
export function createTokenEndpoint(options: TokenEndpointOptions): TokenEndpoint {
  // The whole auth options may be given (the rest is not read), but no name that is none of them: a typo is refused.
  const raw: unknown = options; // typed, but JavaScript callers and configuration files reach this too
  if (raw !== null && typeof raw === 'object') {
    refuseUnknownOptions(raw, [...AUTH_OPTION_NAMES, ...ATTACH_ONLY_OPTION_NAMES], 'createTokenEndpoint', RETIRED_OPTION_NAMES);
  }
  const resolved = resolveAuthOptions(endpointOptions(options), 'createTokenEndpoint');
  const endpoint = tokenEndpointFor(resolved);
  // Only the public methods: the client's own extras stay off what users hold.
  return {
    passwordGrant: () => {
      if (resolved.grant.type !== 'password') {
        return Promise.reject(new ConfigurationError('createTokenEndpoint.grant', `is ${grantName(resolved)}, not the password grant: call grant()`));
      }
      return endpoint.grant();
    },
    grant: () => configuredGrant(resolved, endpoint),
    refreshGrant: (refreshToken) => endpoint.refreshGrant(refreshToken),
    revoke: (token, hint) => endpoint.revoke(token, hint),
    tokenUrl: () => endpoint.tokenUrl(),
  };
}

/**
 * One token request with the configured grant; with `grant: 'refresh_token'`, a refresh with the configured refresh
 * token, whose refusal is a `RefreshTokenRejectedError` (there is nothing to fall back on).
 */
export async function configuredGrant(options: ResolvedAuthOptions, endpoint: ClientTokenEndpoint): Promise<TokenSet> {
  const { grant } = options;
  if (grant.type !== 'refresh_token') return endpoint.grant();
  try {
    return await endpoint.refreshGrant(grant.refreshToken);
  } catch (error) {
    throw refreshTokenRefusal(error);
  }
}

/** The configured grant as a message names it. */
function grantName({ grant }: ResolvedAuthOptions): string {
  return grant.type === 'extension' ? `the extension grant ${grant.uri}` : `'${grant.type}'`;
}

/** What a request to the token or revocation endpoint is: which call it is, and its form before client authentication. */
interface FormRequest<T> {
  readonly kind: GrantKind;
  readonly url: string;
  /** Sent first, before the client's credentials: `grant_type` for a grant, nothing for a revocation. */
  readonly lead: readonly (readonly [string, string])[];
  readonly fields: readonly (readonly [string, string])[];
  /** Whether `scope` goes out: on grants, not on a revocation. */
  readonly withScope: boolean;
  readonly secrets: readonly string[];
  readonly clientSecret: string;
  readonly basic: BasicHeaders;
  /** Makes the result of a 2xx answer. */
  readonly accept: (response: AxiosResponse<string>, context: { requestedAt: number; headers: Readonly<Record<string, string>> }) => T;
}

/** The two Basic header values of one client secret (see ClientAuthentication). */
type BasicHeaders = Readonly<Record<BasicCredentialForm, string>>;

/**
 * Only the endpoint's own options, so that the others of an `auth` object passed whole (a store, hooks, a retry
 * policy: none of which this endpoint uses) are neither validated nor silently taken for working; URL objects as
 * their text. Anything that is not an object is left for resolveAuthOptions to refuse.
 */
function endpointOptions(options: unknown): unknown {
  if (options === null || typeof options !== 'object') return options;
  const picked: Record<string, unknown> = {};
  for (const key of ENDPOINT_OPTIONS) {
    const value: unknown = Reflect.get(options, key);
    if (value !== undefined) picked[key] = value instanceof URL ? value.href : value;
  }
  return picked;
}

/**
 * Builds the token endpoint client from resolved options. Its state is the discovered endpoint and, with
 * `client_secret_basic`, the Basic credential form that worked: both per instance, so two clients of one server each
 * learn it once.
 */
export function tokenEndpointFor(
  options: ResolvedAuthOptions,
  http: AxiosInstance = createTokenHttpClient(options.timeout, options.adapter),
): ClientTokenEndpoint {
  const { owner, grant: configured } = options;
  // The options' own credentials, for a grant called without any (the public endpoint, the CLI): fetched per grant.
  const ownCredentials =
    options.accounts === undefined
      ? credentialSource({
          clientSecret: options.clientSecret,
          user: owner,
          secrets: configured.type === 'extension' ? configured.secrets : [],
          timeoutMs: options.timeout,
        })
      : undefined;
  const credentialsOf = async (given: GrantCredentials | undefined): Promise<GrantCredentials> => {
    if (given !== undefined) return given;
    if (ownCredentials === undefined) throw new TypeError('unreachable: a multi-account client passes each account\'s credentials');
    return ownCredentials();
  };
  let known = options.tokenUrl?.href;
  let discovered: DiscoveredEndpoint | undefined;
  let workingForm: BasicCredentialForm | undefined;

  const tokenUrl = pMemoize(async (): Promise<string> => {
    if (options.tokenUrl) return options.tokenUrl.href;
    if (!options.issuer) throw new TypeError('unreachable: options carry a tokenUrl or an issuer');
    discovered = await discoverTokenEndpoint(http, { issuer: options.issuer, allowInsecureHttp: options.allowInsecureHttp, timeout: options.timeout });
    known = discovered.tokenEndpoint;
    return known;
  });

  async function revocationUrl(): Promise<string> {
    if (options.revocationUrl !== undefined) return options.revocationUrl.href;
    if (options.issuer !== undefined) {
      await tokenUrl();
      if (discovered?.revocationEndpoint !== undefined) return discovered.revocationEndpoint;
    }
    const where = options.issuer === undefined ? 'none is configured' : "the issuer's discovery document names no usable revocation_endpoint";
    throw new ConfigurationError('auth.revocationUrl', `is needed to revoke tokens: ${where}`);
  }

  /**
   * With auto-detecting Basic, the form that worked before, else the RFC's form-encoded one and then the raw one,
   * when the two differ and the raw one can be parsed at all (RFC 7617: a user-id with a colon cannot).
   */
  function basicForms(method: Exclude<ClientAuthentication, 'client_secret_post'>, basic: BasicHeaders): readonly BasicCredentialForm[] {
    if (method === 'client_secret_basic_encoded') return ['form-encoded'];
    if (method === 'client_secret_basic_raw') return ['raw'];
    if (workingForm !== undefined) return [workingForm];
    const differ = basic['form-encoded'] !== basic.raw && !options.clientId.includes(':');
    return differ ? ['form-encoded', 'raw'] : ['form-encoded'];
  }

  /**
   * Sends the request with each Basic form in turn while the endpoint answers `invalid_client`: a server that does
   * not decode refuses the encoded form, one that decodes may refuse the raw one. Any other answer is final, so a wrong
   * password is never sent twice. Both refused: the error lists both forms.
   */
  async function withBasic<T>(request: FormRequest<T>, forms: readonly BasicCredentialForm[], tried: BasicCredentialForm[] = []): Promise<T> {
    const [form, ...rest] = forms;
    if (form === undefined) throw new TypeError('unreachable: at least one Basic form is tried');
    tried.push(form);
    try {
      const result = await send(request, `Basic ${request.basic[form]}`, tried);
      workingForm = form;
      return result;
    } catch (error) {
      if (rest.length === 0 || !(error instanceof InvalidClientError)) throw error;
    }
    return withBasic(request, rest, tried);
  }

  /** Sends one form to `url`, authenticating the client as configured (or as discovery said). */
  async function post<T>(
    kind: GrantKind,
    credentials: GrantCredentials,
    target: { url: string; lead: FormRequest<T>['lead']; withScope: boolean; accept: FormRequest<T>['accept'] },
    fields: FormRequest<T>['fields'],
    extraSecrets: readonly string[],
  ): Promise<T> {
    const { clientSecret } = credentials;
    const basic: BasicHeaders = {
      'form-encoded': basicCredentials(options.clientId, clientSecret, 'form-encoded'),
      raw: basicCredentials(options.clientId, clientSecret, 'raw'),
    };
    // Each secret in every spelling an endpoint might echo it in (form-encoded as it travels in the body, HTML- and
    // JSON-escaped as an error page or a JSON answer would quote it), and both Basic headers' base64, so an endpoint
    // that echoes the raw request back cannot make an error print it.
    const secrets = withEncodings([clientSecret, ...secretsOf(credentials), ...extraSecrets, basic['form-encoded'], basic.raw]);
    const request: FormRequest<T> = { kind, ...target, fields, secrets, clientSecret, basic };
    const method = options.clientAuthentication ?? methodFromDiscovery(discovered?.authMethods);
    return method === 'client_secret_post' ? send(request, undefined, []) : withBasic(request, basicForms(method, basic));
  }

  async function send<T>(request: FormRequest<T>, authorization: string | undefined, tried: readonly BasicCredentialForm[]): Promise<T> {
    const { kind, url, secrets } = request;
    // The provider guide's field order: grant_type, client credentials, then the grant's own fields, then scope.
    const form = new URLSearchParams(request.lead.map(([key, value]): [string, string] => [key, value]));
    if (authorization === undefined) {
      form.append('client_id', options.clientId);
      form.append('client_secret', request.clientSecret);
    }
    for (const [key, value] of request.fields) form.append(key, value);
    if (request.withScope && options.scope !== undefined) form.append('scope', options.scope);
    const headers: Record<string, string> = { 'Content-Type': 'application/x-www-form-urlencoded' };
    if (authorization !== undefined) headers.Authorization = authorization;

    const requestedAt = Date.now();
    let response: AxiosResponse<string>;
    try {
      response = await http.post<string>(url, form.toString(), { headers, signal: AbortSignal.timeout(options.timeout) });
    } catch (error) {
      throw requestFailure(kind, error, secrets);
    }
    const redacted = { status: response.status, headers: plainHeaders(response.headers, secrets) };
    if (response.status >= 200 && response.status < 300) return request.accept(response, { requestedAt, headers: redacted.headers });
    throw errorFromResponse(kind, redacted, response.data, secrets, tried);
  }

  /** A grant's request: `grant_type` first, scope last, and a token response expected. */
  async function grantRequest(kind: GrantKind, grantType: string, credentials: GrantCredentials, fields: FormRequest<TokenSet>['fields'], extra: readonly string[]): Promise<TokenSet> {
    const accept: FormRequest<TokenSet>['accept'] = (response, { requestedAt, headers }) => {
      const context = { grant: kind, requestedAt, defaultExpiresIn: options.defaultExpiresIn, requestedScope: options.scope, secrets: withEncodings([credentials.clientSecret, ...secretsOf(credentials), ...extra]) };
      return parseTokenResponse(response.data, { ...context, status: response.status, headers });
    };
    return post(kind, credentials, { url: await tokenUrl(), lead: [['grant_type', grantType]], withScope: true, accept }, fields, extra);
  }

  return {
    tokenUrl,
    knownTokenUrl: () => known,
    grant: async (given) => {
      const credentials = await credentialsOf(given);
      switch (configured.type) {
        case 'password': {
          const user = credentials.owner;
          if (user === undefined) throw new TypeError('unreachable: the password grant has a resource owner');
          return grantRequest('password', 'password', credentials, [['username', user.username], ['password', user.password]], []);
        }
        case 'client_credentials':
          return grantRequest('client_credentials', 'client_credentials', credentials, [], []);
        case 'extension':
          return grantRequest('extension', configured.uri, credentials, [...configured.parameters, ...credentials.secrets], []);
        case 'refresh_token':
          throw new TypeError('unreachable: a refresh token obtained elsewhere has no grant to fall back on');
      }
    },
    refreshGrant: async (refreshToken, given) => {
      // A JavaScript caller's undefined would go out as the text "undefined": refuse before anything is sent.
      if (typeof refreshToken !== 'string' || refreshToken === '') {
        throw new ConfigurationError('refreshToken', 'must be a non-empty string (the refresh_token of a token set)');
      }
      return grantRequest('refresh_token', 'refresh_token', await credentialsOf(given), [['refresh_token', refreshToken]], [refreshToken]);
    },
    revoke: async (token, hint, given) => {
      if (typeof token !== 'string' || token === '') throw new ConfigurationError('token', 'must be a non-empty string (the token to revoke)');
      const rawHint: unknown = hint; // typed, but JavaScript callers reach this too
      if (rawHint !== undefined && rawHint !== 'access_token' && rawHint !== 'refresh_token') {
        throw new ConfigurationError('hint', "must be 'access_token', 'refresh_token' or undefined");
      }
      const credentials = await credentialsOf(given);
      const target = { url: await revocationUrl(), lead: [], withScope: false, accept: (): void => undefined };
      // RFC 7009 section 2.1: the token, then its type's hint; client authentication as at the token endpoint.
      return post('revocation', credentials, target, [['token', token], ...(hint === undefined ? [] : [['token_type_hint', hint] as const])], [token]);
    },
  };
}

/** The secrets a renewal's credentials carry besides the client secret: the password, an extension grant's secrets. */
function secretsOf(credentials: GrantCredentials): readonly string[] {
  return [...(credentials.owner === undefined ? [] : [credentials.owner.password]), ...credentials.secrets.map(([, value]) => value)];
}

/**
 * The method when the caller chose none. Decision: `client_secret_post` whenever the discovery document lists it (or
 * lists nothing), as the provider guide does: the form body has one encoding every server agrees on, while Basic
 * has two. `client_secret_basic` (auto-detecting its form) only when the list names it and not post. A list naming
 * neither keeps post: the endpoint's answer then says what is wrong.
 */
function methodFromDiscovery(methods: readonly string[] | undefined): ClientAuthentication {
  if (methods === undefined || methods.includes('client_secret_post')) return defaults.clientAuthentication;
  return methods.includes('client_secret_basic') ? 'client_secret_basic' : defaults.clientAuthentication;
}

type ErrorKind = 'request' | 'client' | 'user' | 'grant' | 'endpoint';

/** RFC 6749 section 5.2 codes and the class each one means (`invalid_grant` depends on the grant: see below). */
const BY_CODE: ReadonlyMap<string, ErrorKind> = new Map([
  ['invalid_client', 'client'],
  ['invalid_request', 'request'],
  ['invalid_scope', 'request'],
  ['unauthorized_client', 'request'],
  ['unsupported_grant_type', 'request'],
]);

/** The provider guide's statuses, for an answer without a code this module knows. */
const BY_STATUS: ReadonlyMap<number, ErrorKind> = new Map([
  [400, 'request'],
  [401, 'client'],
  [403, 'user'],
]);

/**
 * Which class an error answer gets: by its OAuth `error` code first, since servers disagree on statuses (RFC 6749
 * servers answer a wrong password with 400 `invalid_grant`, the provider with 403, a wrong client secret comes as 400
 * or 401 `invalid_client`), then by status. Decision: the code decides on a 4xx only; on a status retry.ts calls
 * transient (5xx, 429, 408) and on any other status the status decides, so a code cannot turn an outage into a
 * credential failure that is never retried (or a retried one into a cooldown).
 */
function classify(kind: GrantKind, status: number, code: string | undefined): ErrorKind {
  if (code !== undefined && status >= 400 && status < 500 && !isTransientStatus(status)) {
    // RFC 6749 section 5.2: on the password grant, the resource owner's credentials; on a refresh, the refresh token
    // (the fallback decides what it means: grants.ts); on client credentials or an extension grant, the grant itself.
    if (code === 'invalid_grant') return invalidGrantKind(kind);
    const byCode = BY_CODE.get(code);
    if (byCode !== undefined) return byCode;
  }
  return BY_STATUS.get(status) ?? 'endpoint';
}

function invalidGrantKind(kind: GrantKind): ErrorKind {
  if (kind === 'password') return 'user';
  return kind === 'client_credentials' || kind === 'extension' ? 'grant' : 'request';
}

/** The one place that maps an error answer from the endpoint to an error class. */
function errorFromResponse(
  kind: GrantKind,
  meta: Omit<RedactedResponse, 'body'>,
  text: string,
  secrets: readonly (string | undefined)[],
  basicFormsTried: readonly BasicCredentialForm[],
): TokenEndpointError {
  const body = tryParseJson(text);
  const fields = oauthErrorFields(body, secrets);
  const response: RedactedResponse = { ...meta, body: redactBody(body, secrets) };
  switch (classify(kind, meta.status, fields.error)) {
    case 'request':
      return new InvalidRequestError(kind, response, fields);
    case 'client':
      return new InvalidClientError(kind, response, { ...fields, basicFormsTried });
    case 'user':
      return new UserAuthenticationError(kind, response, fields);
    case 'grant':
      return new GrantRejectedError(kind, response, fields);
    case 'endpoint':
      return new TokenEndpointError(kind, response, fields);
  }
}

function oauthErrorFields(body: unknown, secrets: readonly (string | undefined)[]): OAuthErrorFields {
  if (body === null || typeof body !== 'object') return {};
  const { error, error_description: description } = body as TokenErrorBody;
  return {
    ...(typeof error === 'string' ? { error: endpointText(error, secrets) } : {}),
    ...(typeof description === 'string' ? { errorDescription: endpointText(description, secrets) } : {}),
  };
}

function tryParseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/**
 * `error` as a refresh failure with nothing to fall back on: the endpoint's refusal of the token becomes a
 * {@link RefreshTokenRejectedError}; anything else (see grants.ts, finalRefusal) is returned as it is. Also used where a refresh
 * token obtained elsewhere is the whole grant (createTokenEndpoint's `grant()`, the CLI).
 */
export function refreshTokenRefusal(error: unknown): unknown {
  if (!(error instanceof TokenEndpointError) || !isRejection(error) || error instanceof InvalidClientError) return error;
  return new RefreshTokenRejectedError(error);
}

/**
 * The endpoint answered and refused (a 4xx that is not worth retrying, or an unusable body): the refresh token is not
 * worth keeping. Whatever its class (a refused refresh token is an InvalidRequestError, a refused client an
 * InvalidClientError, a 403 without a code a UserAuthenticationError), the status decides: retry.ts's transient ones
 * say nothing about the token, and neither does a redirect.
 */
export function isRejection(error: unknown): boolean {
  if (!(error instanceof OAuthBearerError) || isTransient(error)) return false;
  return !(error instanceof TokenEndpointError) || error.status >= 400;
}

