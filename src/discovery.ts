/**
 * OpenID Connect discovery of the token endpoint: read the issuer's `/.well-known/openid-configuration` once
 * (following same-origin redirects, a few at most), check that it belongs to the issuer and names a token endpoint
 * the password may be sent to, and return that endpoint with the client authentication methods it lists.
 */
import type { AxiosInstance, AxiosResponse } from 'axios';

import { endpointText } from './endpoint-text.js';
import { ErrorCode, InvalidTokenResponseError, TokenEndpointError } from './errors.js';
import { isLoopback } from './transport-security.js';
import { redactBody } from './redact.js';
import { plainHeaders, requestFailure } from './token-http.js';
import type { DiscoveryDocument } from './wire.js';

/** What discovery needs from the resolved options. */
export interface DiscoveryOptions {
  readonly issuer: URL;
  readonly allowInsecureHttp: boolean;
  readonly timeout: number;
}

/** What discovery found. */
export interface DiscoveredEndpoint {
  /** The token endpoint, checked. */
  readonly tokenEndpoint: string;
  /** `token_endpoint_auth_methods_supported`, when the document has it as a list (non-strings left out). */
  readonly authMethods: readonly string[] | undefined;
  /**
   * `revocation_endpoint` (RFC 8414), when the document names one that passes the token endpoint's checks; a missing or
   * unusable one is left out rather than failing discovery, since grants do not need it (`tokens.revoke()` says so).
   */
  readonly revocationEndpoint: string | undefined;
}

/**
 * Redirects of the discovery GET followed at most, all on the issuer's origin. Some servers serve the document at
 * one spelling only (a trailing slash) and redirect the other; a longer chain is a loop or a misconfiguration.
 */
export const MAX_DISCOVERY_REDIRECTS = 5;

const REDIRECTS: ReadonlySet<number> = new Set([301, 302, 303, 307, 308]);

/** The field this module reads beyond the two in wire.ts. */
interface DiscoveryBody extends DiscoveryDocument {
  token_endpoint_auth_methods_supported?: unknown;
  revocation_endpoint?: unknown;
}

/** Reads the discovery document and returns the token endpoint it names; throws a typed error naming what was wrong. */
export async function discoverTokenEndpoint(http: AxiosInstance, options: DiscoveryOptions): Promise<DiscoveredEndpoint> {
  const { document, location } = await fetchDocument(http, options);
  const fail = (field: string, problem: string): InvalidTokenResponseError =>
    new InvalidTokenResponseError('discovery', field, `${problem} (document at ${shown(location)})`, { status: 200, headers: {}, body: redactBody(document) });

  if (typeof document.issuer !== 'string') throw fail('issuer', 'is missing or not a string');
  if (!isSameIssuer(document.issuer, options.issuer)) {
    // Both are public URLs, not secrets; the document's is still the network's text, so it is escaped and cut.
    throw fail('issuer', `"${endpointText(document.issuer, [])}" is not the configured issuer "${shown(options.issuer.href)}"`);
  }
  if (typeof document.token_endpoint !== 'string' || !URL.canParse(document.token_endpoint)) {
    throw fail('token_endpoint', 'is missing or not a URL');
  }
  const endpoint = new URL(document.token_endpoint);
  const problem = endpointProblem(endpoint, options);
  if (problem !== undefined) throw fail('token_endpoint', problem);
  return { tokenEndpoint: endpoint.href, authMethods: authMethodsOf(document), revocationEndpoint: revocationEndpointOf(document, options) };
}

/**
 * Why a URL the document names may not receive the client's secret, or undefined when it may: the same rules as for a
 * configured tokenUrl (no plain http off loopback, no downgrade from an https issuer, no credentials in the URL).
 */
function endpointProblem(endpoint: URL, options: DiscoveryOptions): string | undefined {
  if (endpoint.protocol !== 'https:' && options.issuer.protocol === 'https:') return 'must use https when the issuer does';
  if (endpoint.protocol !== 'https:' && (endpoint.protocol !== 'http:' || !(isLoopback(endpoint) || options.allowInsecureHttp))) {
    return 'must use https (plain http only on loopback, or with `allowInsecureHttp`)';
  }
  return endpoint.username !== '' || endpoint.password !== '' ? 'must not contain credentials' : undefined;
}

function revocationEndpointOf(document: DiscoveryBody, options: DiscoveryOptions): string | undefined {
  const value = document.revocation_endpoint;
  if (typeof value !== 'string' || !URL.canParse(value)) return undefined;
  const url = new URL(value);
  return endpointProblem(url, options) === undefined ? url.href : undefined;
}

function authMethodsOf(document: DiscoveryBody): readonly string[] | undefined {
  const methods = document.token_endpoint_auth_methods_supported;
  return Array.isArray(methods) ? methods.filter((method): method is string => typeof method === 'string') : undefined;
}

/** The document and the URL it was finally read from (after redirects). */
async function fetchDocument(http: AxiosInstance, { issuer, timeout }: DiscoveryOptions): Promise<{ document: DiscoveryBody; location: string }> {
  // OpenID Connect Discovery 1.0 section 4: a terminating "/" of the issuer is removed before the well-known path.
  let location = new URL(`${issuer.href.replace(/\/+$/, '')}/.well-known/openid-configuration`);
  // One deadline for the whole look-up, redirects included, as for a token request.
  const signal = AbortSignal.timeout(timeout);
  for (let redirects = 0; ; redirects += 1) {
    let response: AxiosResponse<string>;
    try {
      response = await http.get<string>(location.href, { signal });
    } catch (error) {
      throw requestFailure('discovery', error, [], shown(location.href));
    }
    if (!REDIRECTS.has(response.status)) return { document: documentOf(response, location.href), location: location.href };
    location = redirectTarget(response, location, redirects);
  }
}

/** Where a redirect leads, if this module follows it: on the same origin, within {@link MAX_DISCOVERY_REDIRECTS}. */
function redirectTarget(response: AxiosResponse<string>, from: URL, redirects: number): URL {
  const refuse = (problem: string): TokenEndpointError =>
    new TokenEndpointError('discovery', { status: response.status, headers: plainHeaders(response.headers), body: undefined }, {}, ErrorCode.TOKEN_ENDPOINT, problem);
  const header: unknown = response.headers.location;
  const target = typeof header === 'string' && URL.canParse(header, from.href) ? new URL(header, from) : undefined;
  if (target === undefined) throw refuse(`${shown(from.href)} redirected without a usable Location`);
  if (target.origin !== from.origin) {
    // The issuer's origin vouches for its document; another origin's would name a token endpoint nobody checked.
    throw refuse(`${shown(from.href)} redirected to ${shown(target.href)}, another origin: not followed`);
  }
  if (redirects >= MAX_DISCOVERY_REDIRECTS) {
    throw refuse(`more than ${MAX_DISCOVERY_REDIRECTS} redirects, the last from ${shown(from.href)} to ${shown(target.href)}`);
  }
  return target;
}

function documentOf(response: AxiosResponse<string>, location: string): DiscoveryBody {
  if (response.status !== 200) {
    const meta = { status: response.status, headers: plainHeaders(response.headers), body: undefined };
    throw new TokenEndpointError('discovery', meta, {}, ErrorCode.TOKEN_ENDPOINT, `could not read the discovery document at ${shown(location)}`);
  }
  const unusable = (problem: string, body?: unknown): InvalidTokenResponseError =>
    new InvalidTokenResponseError('discovery', 'body', `${problem} (document at ${shown(location)})`, { status: 200, headers: {}, body });
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

/** A URL made fit for a message: a redirect target is the network's text, so it is escaped and cut like any other. */
function shown(url: string): string {
  return endpointText(url, []);
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
