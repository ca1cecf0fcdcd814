/**
 * The password and refresh_token grants (the token URL found by discovery.ts when an issuer is configured), on a
 * bare axios instance of their own (token-http.ts). That instance never carries the auth interceptors (so a token
 * request can never trigger a refresh), has a timeout, does not follow redirects (a redirected POST would resend the
 * password elsewhere), and hands back raw text so this module decides what counts as JSON.
 */
import type { AxiosInstance, AxiosResponse } from 'axios';
import pMemoize from 'p-memoize';

import { credentialSource, type GrantCredentials } from './credentials.js';
import { discoverTokenEndpoint } from './discovery.js';
import { endpointText } from './endpoint-text.js';
import {
  type BasicCredentialForm,
  ConfigurationError,
  type GrantKind,
  InvalidClientError,
  InvalidRequestError,
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
  type SingleAccountAuthOptions,
} from './options.js';
import { refuseUnknownOptions } from './option-names.js';
import { redactBody, withEncodings } from './redact.js';
import { isTransientStatus } from './retry.js';
import { createTokenHttpClient, plainHeaders, requestFailure } from './token-http.js';
import { parseTokenResponse } from './token-response.js';
import type { TokenSet } from './token-set.js';
import type { TokenErrorBody } from './wire.js';

/** Talks to the authorization server. Holds the credentials in a closure: printing it shows three functions. */
export interface TokenEndpoint {
  /** Obtains a token with the resource owner's username and password. */
  passwordGrant(): Promise<TokenSet>;
  /** Renews with a refresh token. */
  refreshGrant(refreshToken: string): Promise<TokenSet>;
  /** The token URL (after discovery, when an issuer was configured). Looked up once; concurrent callers share it. */
  tokenUrl(): Promise<string>;
}

/**
 * What the client needs beyond the public endpoint (internal): the token URL once known, without waiting, and grants
 * with the credentials a renewal fetched (one account's, or a rotated secret). Without them, a grant fetches the
 * options' own (a single-account client's).
 */
export interface ClientTokenEndpoint {
  passwordGrant(credentials?: GrantCredentials): Promise<TokenSet>;
  refreshGrant(refreshToken: string, credentials?: GrantCredentials): Promise<TokenSet>;
  tokenUrl(): Promise<string>;
  /** The token URL if already known (configured, or discovered), without waiting. */
  knownTokenUrl(): string | undefined;
}


/**
 * Options of {@link createTokenEndpoint}: the `auth` options that concern the token endpoint. `tokenUrl` and `issuer`
 * may also be `URL` objects.
 */
export type TokenEndpointOptions = Omit<
  Pick<SingleAccountAuthOptions, 'tokenUrl' | 'issuer' | 'clientId' | 'clientSecret' | 'username' | 'password' | 'scope' | 'clientAuthentication' | 'timeout' | 'defaultExpiresIn' | 'allowInsecureHttp' | 'adapter'>,
  'tokenUrl' | 'issuer'
> & {
  readonly tokenUrl?: string | URL;
  readonly issuer?: string | URL;
};

/** The names of {@link TokenEndpointOptions}: the only options {@link createTokenEndpoint} reads. */
const ENDPOINT_OPTIONS: readonly (keyof TokenEndpointOptions)[] = [
  'tokenUrl',
  'issuer',
  'clientId',
  'clientSecret',
  'username',
  'password',
  'scope',
  'clientAuthentication',
  'timeout',
  'defaultExpiresIn',
  'allowInsecureHttp',
  'adapter',
];

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
  const endpoint = tokenEndpointFor(resolveAuthOptions(endpointOptions(options), 'createTokenEndpoint'));
  // Only the public three: the client's own extras stay off what users hold.
  return {
    passwordGrant: () => endpoint.passwordGrant(),
    refreshGrant: (refreshToken) => endpoint.refreshGrant(refreshToken),
    tokenUrl: () => endpoint.tokenUrl(),
  };
}

type GrantType = 'password' | 'refresh_token';

/** One token request, before client authentication is added. */
interface GrantRequest {
  readonly kind: GrantType;
  readonly url: string;
  readonly fields: readonly (readonly [string, string])[];
  readonly secrets: readonly string[];
  readonly clientSecret: string;
  readonly basic: BasicHeaders;
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
  const { owner } = options;
  // The options' own credentials, for a grant called without any (the public endpoint, the CLI): fetched per grant.
  const ownCredentials =
    owner === undefined ? undefined : credentialSource({ clientSecret: options.clientSecret, user: owner, timeoutMs: options.timeout });
  const credentialsOf = async (given: GrantCredentials | undefined): Promise<GrantCredentials> => {
    if (given !== undefined) return given;
    if (ownCredentials === undefined) throw new TypeError('unreachable: a multi-account client passes each account\'s credentials');
    return ownCredentials();
  };
  let known = options.tokenUrl?.href;
  let discoveredMethods: readonly string[] | undefined;
  let workingForm: BasicCredentialForm | undefined;

  const tokenUrl = pMemoize(async (): Promise<string> => {
    if (options.tokenUrl) return options.tokenUrl.href;
    if (!options.issuer) throw new TypeError('unreachable: options carry a tokenUrl or an issuer');
    const found = await discoverTokenEndpoint(http, { issuer: options.issuer, allowInsecureHttp: options.allowInsecureHttp, timeout: options.timeout });
    discoveredMethods = found.authMethods;
    known = found.tokenEndpoint;
    return known;
  });

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
  async function withBasic(request: GrantRequest, forms: readonly BasicCredentialForm[], tried: BasicCredentialForm[] = []): Promise<TokenSet> {
    const [form, ...rest] = forms;
    if (form === undefined) throw new TypeError('unreachable: at least one Basic form is tried');
    tried.push(form);
    try {
      const tokens = await send(request, `Basic ${request.basic[form]}`, tried);
      workingForm = form;
      return tokens;
    } catch (error) {
      if (rest.length === 0 || !(error instanceof InvalidClientError)) throw error;
    }
    return withBasic(request, rest, tried);
  }

  async function grant(kind: GrantType, credentials: GrantCredentials, fields: GrantRequest['fields'], extraSecret?: string): Promise<TokenSet> {
    const { clientSecret } = credentials;
    const basic: BasicHeaders = {
      'form-encoded': basicCredentials(options.clientId, clientSecret, 'form-encoded'),
      raw: basicCredentials(options.clientId, clientSecret, 'raw'),
    };
    // Each secret in every spelling an endpoint might echo it in (form-encoded as it travels in the body, HTML- and
    // JSON-escaped as an error page or a JSON answer would quote it), and both Basic headers' base64, so an endpoint
    // that echoes the raw request back cannot make an error print it.
    const secrets = withEncodings([clientSecret, credentials.password, extraSecret, basic['form-encoded'], basic.raw]);
    const request: GrantRequest = { kind, url: await tokenUrl(), fields, secrets, clientSecret, basic };
    const method = options.clientAuthentication ?? methodFromDiscovery(discoveredMethods);
    return method === 'client_secret_post' ? send(request, undefined, []) : withBasic(request, basicForms(method, basic));
  }

  async function send(request: GrantRequest, authorization: string | undefined, tried: readonly BasicCredentialForm[]): Promise<TokenSet> {
    const { kind, url, secrets } = request;
    // The provider guide's field order: grant_type, client credentials, then the grant's own fields, then scope.
    const form = new URLSearchParams([['grant_type', kind]]);
    if (authorization === undefined) {
      form.append('client_id', options.clientId);
      form.append('client_secret', request.clientSecret);
    }
    for (const [key, value] of request.fields) form.append(key, value);
    if (options.scope !== undefined) form.append('scope', options.scope);
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
    if (response.status >= 200 && response.status < 300) {
      const context = { grant: kind, requestedAt, defaultExpiresIn: options.defaultExpiresIn, requestedScope: options.scope, secrets };
      return parseTokenResponse(response.data, { ...context, ...redacted });
    }
    throw errorFromResponse(kind, redacted, response.data, secrets, tried);
  }

  return {
    tokenUrl,
    knownTokenUrl: () => known,
    passwordGrant: async (given) => {
      const credentials = await credentialsOf(given);
      return grant('password', credentials, [
        ['username', credentials.username],
        ['password', credentials.password],
      ]);
    },
    refreshGrant: async (refreshToken, given) => {
      // A JavaScript caller's undefined would go out as the text "undefined": refuse before anything is sent.
      if (typeof refreshToken !== 'string' || refreshToken === '') {
        throw new ConfigurationError('refreshToken', 'must be a non-empty string (the refresh_token of a token set)');
      }
      return grant('refresh_token', await credentialsOf(given), [['refresh_token', refreshToken]], refreshToken);
    },
  };
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

type ErrorKind = 'request' | 'client' | 'user' | 'endpoint';

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
    // RFC 6749 section 5.2: on the password grant, the resource owner's credentials; on a refresh, the refresh token.
    if (code === 'invalid_grant') return kind === 'password' ? 'user' : 'request';
    const byCode = BY_CODE.get(code);
    if (byCode !== undefined) return byCode;
  }
  return BY_STATUS.get(status) ?? 'endpoint';
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
