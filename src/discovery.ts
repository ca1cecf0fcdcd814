/**
 * OpenID Connect discovery of the token endpoint: read the issuer's `/.well-known/openid-configuration` once, check
 * that it belongs to the issuer and names a token endpoint the password may be sent to, and return that endpoint.
 */
import type { AxiosInstance, AxiosResponse } from 'axios';

import { InvalidTokenResponseError, TokenEndpointError } from './errors.js';
import { isLoopback } from './options.js';
import { redactBody } from './redact.js';
import { plainHeaders, requestFailure } from './token-http.js';
import type { DiscoveryDocument } from './wire.js';

/** What discovery needs from the resolved options. */
export interface DiscoveryOptions {
  readonly issuer: URL;
  readonly allowInsecureHttp: boolean;
  readonly timeout: number;
}

/** Reads the discovery document and returns the token endpoint it names; throws a typed error naming what was wrong. */
export async function discoverTokenEndpoint(http: AxiosInstance, options: DiscoveryOptions): Promise<string> {
  const document = await fetchDocument(http, options);
  const fail = (field: string, problem: string): InvalidTokenResponseError =>
    new InvalidTokenResponseError('discovery', field, problem, { status: 200, headers: {}, body: redactBody(document) });

  if (typeof document.issuer !== 'string') throw fail('issuer', 'is missing or not a string in the discovery document');
  if (!isSameIssuer(document.issuer, options.issuer)) throw fail('issuer', 'belongs to a different issuer');
  if (typeof document.token_endpoint !== 'string' || !URL.canParse(document.token_endpoint)) {
    throw fail('token_endpoint', 'is missing or not a URL in the discovery document');
  }
  const endpoint = new URL(document.token_endpoint);
  if (endpoint.protocol !== 'https:' && options.issuer.protocol === 'https:') {
    throw fail('token_endpoint', 'must use https when the issuer does');
  }
  // The same rule as for a configured tokenUrl: the password must not travel in plain http off loopback.
  if (endpoint.protocol !== 'https:' && (endpoint.protocol !== 'http:' || !(isLoopback(endpoint) || options.allowInsecureHttp))) {
    throw fail('token_endpoint', 'must use https (plain http only on loopback, or with `allowInsecureHttp`)');
  }
  if (endpoint.username !== '' || endpoint.password !== '') throw fail('token_endpoint', 'must not contain credentials');
  return endpoint.href;
}

async function fetchDocument(http: AxiosInstance, { issuer, timeout }: DiscoveryOptions): Promise<DiscoveryDocument> {
  // OpenID Connect Discovery 1.0 section 4: a terminating "/" of the issuer is removed before the well-known path.
  const base = issuer.href.replace(/\/+$/, '');
  let response: AxiosResponse<string>;
  try {
    response = await http.get<string>(`${base}/.well-known/openid-configuration`, { signal: AbortSignal.timeout(timeout) });
  } catch (error) {
    throw requestFailure('discovery', error, []);
  }
  if (response.status !== 200) {
    throw new TokenEndpointError('discovery', { status: response.status, headers: plainHeaders(response.headers), body: undefined }, {});
  }
  const unusable = (problem: string, body?: unknown): InvalidTokenResponseError =>
    new InvalidTokenResponseError('discovery', 'body', problem, { status: 200, headers: {}, body });
  let parsed: unknown;
  try {
    parsed = JSON.parse(response.data);
  } catch {
    throw unusable('is not JSON');
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw unusable('is not a JSON object', redactBody(parsed));
  }
  return parsed;
}

/**
 * OpenID Connect Discovery 1.0 section 4.3 (and RFC 8414 section 3.3): the document's `issuer` must be identical to
 * the issuer it was fetched for. Decision: exact string comparison, with no trailing-slash leniency, so
 * `https://idp.test/realms/acme/` and `https://idp.test/realms/acme` are different issuers, and a missing, null or
 * non-string `issuer` is refused like a different one (a document that leaves it out proves nothing). The configured
 * issuer reaches this module as a URL, whose serialization adds a "/" to an empty path; that one "/" was not
 * necessarily typed, so for an issuer without a path both `https://idp.test` and `https://idp.test/` match (the two
 * spell the same URL). oauth4webapi compares the same way (URL serializations).
 */
function isSameIssuer(claimed: string, configured: URL): boolean {
  if (claimed === configured.href) return true;
  const bare = configured.pathname === '/' && configured.search === '' && configured.hash === '';
  return bare && claimed === configured.href.slice(0, -1);
}
