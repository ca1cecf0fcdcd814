/**
 * The password and refresh_token grants, and optional OpenID Connect discovery, on a bare axios instance of
 * their own. That instance never carries the auth interceptors (so a token request can never trigger a refresh),
 * has a timeout, does not follow redirects (a redirected POST would resend the password elsewhere), and hands back
 * raw text so this module decides what counts as JSON.
 */
import axios, { type AxiosInstance, type AxiosResponse } from 'axios';
import pMemoize from 'p-memoize';

import {
  type GrantKind,
  InvalidClientError,
  InvalidRequestError,
  InvalidTokenResponseError,
  type OAuthErrorFields,
  type RedactedResponse,
  sanitizeError,
  TokenEndpointError,
  TokenNetworkError,
  UserAuthenticationError,
} from './errors.js';
import { isLoopback, type ResolvedAuthOptions } from './options.js';
import { redactBody, redactText } from './redact.js';
import { parseTokenResponse } from './token-response.js';
import type { TokenSet } from './token-set.js';
import type { DiscoveryDocument, TokenErrorBody } from './wire.js';

/** Talks to the authorization server. Holds the credentials in a closure: printing it shows two functions. */
export interface TokenEndpoint {
  /** Obtains a token with the resource owner's username and password. */
  passwordGrant(): Promise<TokenSet>;
  /** Renews with a refresh token. */
  refreshGrant(refreshToken: string): Promise<TokenSet>;
  /** The token URL (after discovery, when an issuer was configured). Looked up once; concurrent callers share it. */
  tokenUrl(): Promise<string>;
  /** The token URL if already known (configured, or discovered), without waiting. */
  knownTokenUrl(): string | undefined;
}

/** Creates the plain axios instance token requests go through. */
export function createTokenHttpClient(timeout: number): AxiosInstance {
  const http = axios.create({
    // axios's `timeout` is an idle timeout once connected: an endpoint that trickles a byte at a time would never
    // trip it. Each request therefore also carries an AbortSignal.timeout(timeout) deadline for the whole exchange.
    timeout,
    maxContentLength: 1_000_000,
    maxRedirects: 0,
    responseType: 'text',
    transformResponse: [(data: unknown) => data],
    validateStatus: () => true,
    transitional: { clarifyTimeoutError: true },
    headers: { Accept: 'application/json' },
  });
  // axios.create copies the global axios.defaults: an application-wide bearer token set there must not reach the
  // token endpoint (client authentication is ours to send).
  delete http.defaults.headers.common.Authorization;
  return http;
}

/** Builds the token endpoint client from resolved options. */
export function createTokenEndpoint(
  options: ResolvedAuthOptions,
  http: AxiosInstance = createTokenHttpClient(options.timeout),
): TokenEndpoint {
  const basicCredentials =
    options.clientAuthentication === 'client_secret_basic'
      ? Buffer.from(`${formEncode(options.clientId)}:${formEncode(options.clientSecret)}`).toString('base64')
      : undefined;
  const basicAuthorization = basicCredentials === undefined ? undefined : `Basic ${basicCredentials}`;

  let known = options.tokenUrl?.href;
  const tokenUrl = pMemoize(async (): Promise<string> => {
    if (options.tokenUrl) return options.tokenUrl.href;
    if (!options.issuer) throw new TypeError('unreachable: options carry a tokenUrl or an issuer');
    known = await discover(http, options.issuer, options.allowInsecureHttp, options.timeout);
    return known;
  });

  async function grant(kind: 'password' | 'refresh_token', fields: [string, string][], extraSecret?: string): Promise<TokenSet> {
    // Each secret also as it travels in the form body (form-encoded) and in the Basic header (base64 alone), so an
    // endpoint that echoes the raw request back cannot make an error print it.
    const secrets = [options.clientSecret, options.password, extraSecret].flatMap((secret) =>
      secret === undefined ? [] : [secret, formEncode(secret)],
    );
    secrets.push(...(basicCredentials === undefined ? [] : [basicCredentials]));
    const url = await tokenUrl();
    // The provider guide's field order: grant_type, client credentials, then the grant's own fields, then scope.
    const form = new URLSearchParams([['grant_type', kind]]);
    if (basicAuthorization === undefined) {
      form.append('client_id', options.clientId);
      form.append('client_secret', options.clientSecret);
    }
    for (const [key, value] of fields) form.append(key, value);
    if (options.scope !== undefined) form.append('scope', options.scope);
    const headers: Record<string, string> = { 'Content-Type': 'application/x-www-form-urlencoded' };
    if (basicAuthorization !== undefined) headers.Authorization = basicAuthorization;

    const requestedAt = Date.now();
    let response: AxiosResponse<string>;
    try {
      response = await http.post<string>(url, form.toString(), { headers, signal: AbortSignal.timeout(options.timeout) });
    } catch (error) {
      throw networkError(kind, error, secrets);
    }
    const redacted = { status: response.status, headers: plainHeaders(response.headers, secrets) };
    if (response.status >= 200 && response.status < 300) {
      return parseTokenResponse(response.data, {
        grant: kind,
        requestedAt,
        defaultExpiresIn: options.defaultExpiresIn,
        secrets,
        ...redacted,
      });
    }
    throw errorFromResponse(kind, redacted, response.data, secrets);
  }

  return {
    tokenUrl,
    knownTokenUrl: () => known,
    passwordGrant: () =>
      grant('password', [
        ['username', options.username],
        ['password', options.password],
      ]),
    refreshGrant: (refreshToken) =>
      grant(
        'refresh_token',
        [['refresh_token', refreshToken]],
        refreshToken,
      ),
  };
}

/** application/x-www-form-urlencoded encoding of one value, as RFC 6749 section 2.3.1 asks for Basic credentials. */
export function formEncode(value: string): string {
  return new URLSearchParams([['', value]]).toString().slice(1);
}

async function discover(http: AxiosInstance, issuer: URL, allowInsecureHttp: boolean, timeout: number): Promise<string> {
  const base = issuer.href.replace(/\/+$/, '');
  const fail = (problem: string, status = 200, body?: unknown): InvalidTokenResponseError =>
    new InvalidTokenResponseError('discovery', 'token_endpoint', problem, { status, headers: {}, body });
  let response: AxiosResponse<string>;
  try {
    response = await http.get<string>(`${base}/.well-known/openid-configuration`, { signal: AbortSignal.timeout(timeout) });
  } catch (error) {
    throw networkError('discovery', error, []);
  }
  if (response.status !== 200) {
    throw new TokenEndpointError('discovery', { status: response.status, headers: plainHeaders(response.headers), body: undefined }, {});
  }
  let document: DiscoveryDocument;
  try {
    document = JSON.parse(response.data) as DiscoveryDocument;
  } catch {
    throw fail('could not be read: the discovery document is not JSON');
  }
  // OpenID Connect Discovery 1.0 section 4.3: the document must name the issuer it was fetched for.
  if (typeof document.issuer === 'string' && document.issuer.replace(/\/+$/, '') !== base) {
    throw fail('belongs to a different issuer', 200, redactBody(document));
  }
  if (typeof document.token_endpoint !== 'string' || !URL.canParse(document.token_endpoint)) {
    throw fail('is missing or not a URL in the discovery document', 200, redactBody(document));
  }
  const endpoint = new URL(document.token_endpoint);
  if (endpoint.protocol !== 'https:' && issuer.protocol === 'https:') {
    throw fail('must use https when the issuer does', 200, redactBody(document));
  }
  // The same rule as for a configured tokenUrl: the password must not travel in plain http off loopback.
  if (endpoint.protocol !== 'https:' && (endpoint.protocol !== 'http:' || !(isLoopback(endpoint) || allowInsecureHttp))) {
    throw fail('must use https (plain http only on loopback, or with `allowInsecureHttp`)', 200, redactBody(document));
  }
  if (endpoint.username !== '' || endpoint.password !== '') {
    throw fail('must not contain credentials', 200, redactBody(document));
  }
  return endpoint.href;
}

/** The one place that maps an error answer from the endpoint to an error class. */
function errorFromResponse(
  kind: GrantKind,
  meta: Omit<RedactedResponse, 'body'>,
  text: string,
  secrets: readonly (string | undefined)[],
): TokenEndpointError {
  const body = tryParseJson(text);
  const fields = oauthErrorFields(body, secrets);
  const response: RedactedResponse = { ...meta, body: redactBody(body, secrets) };
  switch (meta.status) {
    case 400:
      return new InvalidRequestError(kind, response, fields);
    case 401:
      return new InvalidClientError(kind, response, fields);
    case 403:
      return new UserAuthenticationError(kind, response, fields);
    default:
      return new TokenEndpointError(kind, response, fields);
  }
}

function oauthErrorFields(body: unknown, secrets: readonly (string | undefined)[]): OAuthErrorFields {
  if (body === null || typeof body !== 'object') return {};
  const { error, error_description: description } = body as TokenErrorBody;
  return {
    ...(typeof error === 'string' ? { error: redactText(error, secrets) } : {}),
    ...(typeof description === 'string' ? { errorDescription: redactText(description, secrets) } : {}),
  };
}

function tryParseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function networkError(kind: GrantKind, error: unknown, secrets: readonly (string | undefined)[]): TokenNetworkError {
  const code = error instanceof Error && 'code' in error ? error.code : undefined;
  // ERR_CANCELED: only our deadline signal cancels a token request.
  const timedOut = code === 'ETIMEDOUT' || code === 'ECONNABORTED' || code === 'ERR_CANCELED';
  return new TokenNetworkError(kind, timedOut, sanitizeError(error, secrets));
}

/** Response headers as plain strings, without cookies (a session cookie is a credential too) and without any known
 * secret (a redirect's `Location` may echo the form). */
function plainHeaders(headers: AxiosResponse['headers'], secrets: readonly (string | undefined)[] = []): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers as Record<string, unknown>)) {
    if (name.toLowerCase() === 'set-cookie') continue;
    if (typeof value === 'string') out[name] = redactText(value, secrets);
    else if (typeof value === 'number') out[name] = String(value);
  }
  return out;
}
