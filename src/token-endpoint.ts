/**
 * The password and refresh_token grants (the token URL found by discovery.ts when an issuer is configured), on a
 * bare axios instance of their own (token-http.ts). That instance never carries the auth interceptors (so a token request can never trigger a refresh),
 * has a timeout, does not follow redirects (a redirected POST would resend the password elsewhere), and hands back
 * raw text so this module decides what counts as JSON.
 */
import type { AxiosInstance, AxiosResponse } from 'axios';
import pMemoize from 'p-memoize';

import { discoverTokenEndpoint } from './discovery.js';
import { endpointText } from './endpoint-text.js';
import {
  type GrantKind,
  InvalidClientError,
  InvalidRequestError,
  type OAuthErrorFields,
  type RedactedResponse,
  TokenEndpointError,
  UserAuthenticationError,
} from './errors.js';
import { formEncode } from './form-encoding.js';
import type { ResolvedAuthOptions } from './options.js';
import { redactBody, withEncodings } from './redact.js';
import { createTokenHttpClient, plainHeaders, requestFailure } from './token-http.js';
import { parseTokenResponse } from './token-response.js';
import type { TokenSet } from './token-set.js';
import type { TokenErrorBody } from './wire.js';

// Still exported from here, where index.ts takes it; it lives on its own because redaction uses it too.
export { formEncode } from './form-encoding.js';

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
    known = await discoverTokenEndpoint(http, {
      issuer: options.issuer,
      allowInsecureHttp: options.allowInsecureHttp,
      timeout: options.timeout,
    });
    return known;
  });

  async function grant(kind: 'password' | 'refresh_token', fields: [string, string][], extraSecret?: string): Promise<TokenSet> {
    // Each secret in every spelling an endpoint might echo it in (form-encoded as it travels in the body, HTML- and
    // JSON-escaped as an error page or a JSON answer would quote it), and the Basic header's base64, so an endpoint
    // that echoes the raw request back cannot make an error print it.
    const secrets = withEncodings([options.clientSecret, options.password, extraSecret, basicCredentials]);
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
      throw requestFailure(kind, error, secrets);
    }
    const redacted = { status: response.status, headers: plainHeaders(response.headers, secrets) };
    if (response.status >= 200 && response.status < 300) {
      return parseTokenResponse(response.data, {
        grant: kind,
        requestedAt,
        defaultExpiresIn: options.defaultExpiresIn,
        requestedScope: options.scope,
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
