/**
 * The two ways in: `createAuthClient` builds a new axios instance, `attachAuth` adds authentication to one that
 * exists (yours, or one a third-party client was built with) and can take it off again.
 */
import axios, { type AxiosInstance, type CreateAxiosDefaults } from 'axios';

import { assertSupportedAxios } from './axios-support.js';
import { installInterceptors } from './interceptors.js';
import { type AuthOptions, type ResolvedAuthOptions, resolveAuthOptions } from './options.js';
import type { OAuthBearerError } from './errors.js';
import { allowedOrigins, createAuthorizePredicate, createUrlPredicate, reportOncePerOrigin } from './origins.js';
import { storeKey, type StoreKeyCredentials } from './stores/key.js';
import { tokenEndpointFor } from './token-endpoint.js';
import { TokenCache } from './token-cache.js';
import { type TokenManager, tokenManagerOf } from './token-manager.js';

/** Options of {@link attachAuth}: the credentials and token settings, plus where the token may be sent. */
export interface AttachAuthOptions extends AuthOptions {
  /**
   * The origins (`https://api.example.com`) whose requests get the token. A request to any other origin, for example
   * an absolute URL to a third party, is sent without it, and its 401 starts no grant.
   * Required when the instance has no `baseURL`.
   * @default [the origin of the instance's baseURL]
   */
  readonly allowedOrigins?: readonly string[];
}

/** What {@link attachAuth} returns. */
export interface AuthHandle {
  /** The token manager: current token, forced refresh, forget. */
  readonly tokens: TokenManager;
  /** Removes exactly the interceptors attachAuth added; the instance then works as it did before. */
  detach(): void;
}

/** Options of {@link createAuthClient}: every `axios.create()` option, plus `auth`. */
export interface AuthClientConfig extends CreateAxiosDefaults {
  /** The credentials and token settings, and where the token may be sent. */
  readonly auth: AttachAuthOptions;
}

/** An axios instance that authenticates its requests; `tokens` is its token manager. */
export interface AuthClient extends AxiosInstance {
  /** The token manager: current token, forced refresh, forget. */
  readonly tokens: TokenManager;
}

/**
 * Adds OAuth bearer authentication to an existing axios instance. Its baseURL, default headers, adapter and its own
 * interceptors are kept.
 *
 * @example
 * const handle = attachAuth(existingInstance, { tokenUrl, clientId, clientSecret, username, password });
 * await existingInstance.get('/reports'); // carries `Authorization: Bearer ...`
 * handle.detach();
 */
export function attachAuth(instance: AxiosInstance, options: AttachAuthOptions): AuthHandle {
  // First: an instance of an axios this library cannot drive would fail only later, after a grant was spent.
  assertSupportedAxios(instance);
  const resolved = resolveAuthOptions(options);
  const allowed = allowedOrigins(options.allowedOrigins, instance.defaults.baseURL);
  const endpoint = tokenEndpointFor(resolved);
  const { store } = resolved;
  const cache = new TokenCache(endpoint, {
    ...resolved,
    storeKey: store === undefined ? undefined : () => storeKey(keyCredentials(resolved), store),
  });
  const tokens = tokenManagerOf(cache);
  const tokenUrl = (): string | undefined => endpoint.knownTokenUrl();
  // A baseURL changed after attaching (a generated client's setConfig) would otherwise get 401s and no word of why.
  const onBaseRefused = reportOncePerOrigin(allowed, (error) => report(resolved.onError, error));
  const mayAuthorize = createAuthorizePredicate(allowed, tokenUrl, onBaseRefused);
  const detach = installInterceptors(instance, cache, tokens, mayAuthorize, createUrlPredicate(allowed, tokenUrl));
  return Object.freeze({ tokens, detach });
}

/** As the token manager reports: a throwing `onError` has nowhere left to report to, and the request goes on. */
function report(onError: ((error: OAuthBearerError) => void) | undefined, error: OAuthBearerError): void {
  try {
    onError?.(error);
  } catch {
    // Nothing to do: see above.
  }
}

/** What a store key is bound to. With discovery the token URL is not known yet; the issuer names the same endpoint. */
function keyCredentials(resolved: ResolvedAuthOptions): StoreKeyCredentials {
  const { clientId, clientSecret, username, password, scope } = resolved;
  return { tokenUrl: (resolved.tokenUrl ?? resolved.issuer ?? '').toString(), clientId, clientSecret, username, password, scope };
}

/**
 * Creates an axios instance that carries a valid bearer token on every request to its `baseURL`'s origin.
 *
 * @example
 * const api = createAuthClient({
 *   baseURL: 'https://api.example.com',
 *   auth: { tokenUrl: 'https://oidc-pre.semansys.com/connect/token', clientId, clientSecret, username, password },
 * });
 * const { data } = await api.get('/reports');
 */
export function createAuthClient(config: AuthClientConfig): AuthClient {
  const { auth, ...axiosConfig } = config;
  const instance = axios.create(axiosConfig);
  const { tokens } = attachAuth(instance, auth);
  // Read-only: code that holds the instance cannot swap the manager other code reads from it.
  return Object.defineProperty(instance, 'tokens', { value: tokens, enumerable: true, writable: false, configurable: false }) as AuthClient;
}
