/**
 * The two ways in: `createAuthClient` builds a new axios instance, `attachAuth` adds authentication to one that
 * exists (yours, or one a third-party client was built with) and can take it off again.
 */
import axios, { type AxiosInstance, type CreateAxiosDefaults } from 'axios';

import { AccountRegistry, type AccountTokenManagers, accountTokenManagersOf, singleCache, type TokenCaches } from './accounts.js';
import { assertSupportedAxios } from './axios-support.js';
import { credentialSource, type GrantCredentials, isFixed } from './credentials.js';
import { publishError } from './diagnostics.js';
import { installInterceptors } from './interceptors.js';
import {
  ATTACH_ONLY_OPTION_NAMES,
  type ClientCredentialsAuthOptions,
  type ExtensionGrantAuthOptions,
  type MultiAccountAuthOptions,
  type RefreshTokenAuthOptions,
  type ResolvedAuthOptions,
  resolveAuthOptions,
  type SingleAccountAuthOptions,
} from './options.js';
import type { OAuthBearerError } from './errors.js';
import { allowedOrigins, createAuthorizePredicate, createUrlPredicate, reportOncePerOrigin } from './origins.js';
import { storeKey, type StoreKeyCredentials } from './stores/key.js';
import type { TokenStore } from './stores/types.js';
import { type ClientTokenEndpoint, tokenEndpointFor } from './token-endpoint.js';
import { TokenCache } from './token-cache.js';
import { type TokenManager, tokenManagerOf } from './token-manager.js';

/** Options of `attachAuth`: the credentials and token settings, plus where the token may be sent. */
export type AttachAuthOptions = SingleIdentityAttachOptions | MultiAccountAttachOptions;

/** `attachAuth`'s options for a client that acts for one identity, whatever its grant. */
export type SingleIdentityAttachOptions = SingleAccountAttachOptions | ClientCredentialsAttachOptions | RefreshTokenAttachOptions | ExtensionGrantAttachOptions;

/** `attachAuth`'s options for one user (the password grant). */
export interface SingleAccountAttachOptions extends SingleAccountAuthOptions, OriginOptions {}

/** `attachAuth`'s options for the client credentials grant. */
export interface ClientCredentialsAttachOptions extends ClientCredentialsAuthOptions, OriginOptions {}

/** `attachAuth`'s options for a refresh token obtained elsewhere. */
export interface RefreshTokenAttachOptions extends RefreshTokenAuthOptions, OriginOptions {}

/** `attachAuth`'s options for an extension grant. */
export interface ExtensionGrantAttachOptions extends ExtensionGrantAuthOptions, OriginOptions {}

/** `attachAuth`'s options for many accounts (`account`): each request names its own. */
export interface MultiAccountAttachOptions extends MultiAccountAuthOptions, OriginOptions {}

/** Where the token may be sent. */
export interface OriginOptions {
  /**
   * The origins (`https://api.example.com`) whose requests get the token. A request to any other origin, for example
   * an absolute URL to a third party, is sent without it, and its 401 starts no grant.
   * Required when the instance has no `baseURL`.
   * @default [the origin of the instance's baseURL]
   */
  readonly allowedOrigins?: readonly string[];
}
// Compile-time only: options.ts's list of these names is this interface's keys, no more and no fewer.
export const ORIGIN_OPTION_NAMES_MATCH: [keyof OriginOptions, (typeof ATTACH_ONLY_OPTION_NAMES)[number]] extends [
  (typeof ATTACH_ONLY_OPTION_NAMES)[number],
  keyof OriginOptions,
]
  ? true
  : never = true;

/**
 * What `attachAuth` returns. `Tokens` is the token manager ({@link TokenManager}) of a single-account client, or
 * the accounts' managers ({@link AccountTokenManagers}) of a client with `auth.account`.
 */
export interface AuthHandle<Tokens = TokenManager> {
  /** The token manager: current token, forced refresh, forget. */
  readonly tokens: Tokens;
  /** Removes exactly the interceptors attachAuth added; the instance then works as it did before. */
  detach(): void;
}

/** Options of `createAuthClient`: every `axios.create()` option, plus `auth`. */
export interface AuthClientConfig<Auth extends AttachAuthOptions = AttachAuthOptions> extends Omit<CreateAxiosDefaults, 'auth'> {
  /**
   * The credentials and token settings, and where the token may be sent (in place of axios's own `auth`, Basic
   * credentials for every request, which this client does not take).
   */
  readonly auth: Auth;
}

/**
 * An axios instance that authenticates its requests; `tokens` is its token manager (one account's), or the accounts'
 * managers of a client with `auth.account`.
 */
export interface AuthClient<Tokens = TokenManager> extends AxiosInstance {
  /** The token manager: current token, forced refresh, forget. */
  readonly tokens: Tokens;
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
export function attachAuth(instance: AxiosInstance, options: MultiAccountAttachOptions): AuthHandle<AccountTokenManagers>;
export function attachAuth(instance: AxiosInstance, options: SingleIdentityAttachOptions): AuthHandle;
export function attachAuth(instance: AxiosInstance, options: AttachAuthOptions): AuthHandle<TokenManager | AccountTokenManagers>;
export function attachAuth(instance: AxiosInstance, options: AttachAuthOptions): AuthHandle<TokenManager | AccountTokenManagers> {
  // First: an instance of an axios this library cannot drive would fail only later, after a grant was spent.
  assertSupportedAxios(instance);
  const resolved = resolveAuthOptions(options, 'auth', ATTACH_ONLY_OPTION_NAMES);
  const allowed = allowedOrigins(options.allowedOrigins, instance.defaults.baseURL);
  const endpoint = tokenEndpointFor(resolved);
  const { caches, tokens } = cachesFor(resolved, endpoint);
  const tokenUrl = (): string | undefined => endpoint.knownTokenUrl();
  // A baseURL changed after attaching (a generated client's setConfig) would otherwise get 401s and no word of why.
  const onBaseRefused = reportOncePerOrigin(allowed, (error) => report(resolved.onError, error));
  const mayAuthorize = createAuthorizePredicate(allowed, tokenUrl, onBaseRefused);
  const detach = installInterceptors(instance, caches, tokens, mayAuthorize, createUrlPredicate(allowed, tokenUrl));
  return Object.freeze({ tokens, detach });
}

/**
 * The token caches and the view users get: one cache and its manager, or, with `account`, a registry that makes one
 * cache per account, all on the one endpoint (one discovery, one connection pool, one learned Basic form).
 */
function cachesFor(resolved: ResolvedAuthOptions, endpoint: ClientTokenEndpoint): { caches: TokenCaches; tokens: TokenManager | AccountTokenManagers } {
  const { store, owner, accounts, clientSecret, timeout, grant } = resolved;
  const keyOf = store === undefined ? undefined : (credentials: GrantCredentials | undefined) => storeKey(keyCredentials(resolved, credentials), store);
  if (accounts === undefined) {
    // Fixed values need no fetching; a function is called at each renewal.
    const sources = { clientSecret, user: owner, secrets: grant.type === 'extension' ? grant.secrets : [], timeoutMs: timeout };
    const credentials = isFixed(sources) ? undefined : credentialSource(sources);
    const cache = new TokenCache(endpoint, { ...resolved, storeKey: keyOf, credentials });
    return { caches: singleCache(cache), tokens: tokenManagerOf(cache) };
  }
  const registry = new AccountRegistry(accounts, (account) => {
    const credentials = credentialSource({ clientSecret, user: { account, provider: accounts.provider }, timeoutMs: timeout });
    return new TokenCache(endpoint, { ...resolved, storeKey: keyOf, credentials, account });
  });
  return { caches: registry, tokens: accountTokenManagersOf(registry) };
}

/** As the token manager reports: a throwing `onError` has nowhere left to report to, and the request goes on. */
function report(onError: ResolvedAuthOptions['onError'], error: OAuthBearerError): void {
  publishError(error);
  try {
    onError?.(error);
  } catch {
    // Nothing to do: see above.
  }
}

/**
 * What a store key is bound to: the renewal's credentials, or the fixed ones of the options. With discovery the token
 * URL is not known yet; the issuer names the same endpoint.
 */
function keyCredentials(resolved: ResolvedAuthOptions, credentials: GrantCredentials | undefined): StoreKeyCredentials {
  const { clientId, scope, grant } = resolved;
  const tokenUrl = (resolved.tokenUrl ?? resolved.issuer ?? '').toString();
  const fetched = credentials ?? fixedCredentials(resolved);
  const identity = { tokenUrl, clientId, scope, clientSecret: fetched.clientSecret };
  switch (grant.type) {
    case 'password': {
      if (fetched.owner === undefined) throw new TypeError('unreachable: the password grant has a resource owner');
      return { ...identity, username: fetched.owner.username, password: fetched.owner.password };
    }
    case 'client_credentials':
      return { ...identity, grant: grant.type, username: '', password: '' };
    case 'refresh_token':
      // Bound to the starting refresh token: a restart with the same one finds the rotated token saved under it.
      return { ...identity, grant: grant.type, username: '', password: grant.refreshToken };
    case 'extension':
      return { ...identity, grant: grant.uri, username: JSON.stringify(grant.parameters), password: JSON.stringify(fetched.secrets) };
  }
}

/**
 * The store key of a client whose credentials are all values (the CLI's), as its token cache computes it: for a tool
 * that works on the store entry itself (`token --forget`). Internal.
 */
export function fixedStoreKey(resolved: ResolvedAuthOptions, store: TokenStore): Promise<string> {
  return storeKey(keyCredentials(resolved, undefined), store);
}

/** The options' own credentials, when every one is a value (else they are fetched before a key is asked for). */
function fixedCredentials(resolved: ResolvedAuthOptions): GrantCredentials {
  const { owner, clientSecret, grant } = resolved;
  const secrets = grant.type === 'extension' ? grant.secrets : [];
  if (typeof clientSecret !== 'string' || (owner !== undefined && typeof owner.password !== 'string') || secrets.some(([, value]) => typeof value !== 'string')) {
    throw new TypeError('unreachable: credentials given as functions are fetched before a key is asked for');
  }
  return {
    clientSecret,
    owner: owner === undefined ? undefined : { username: owner.username, password: owner.password as string },
    secrets: secrets.map(([key, value]) => [key, value as string] as const),
  };
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
export function createAuthClient(config: AuthClientConfig<MultiAccountAttachOptions>): AuthClient<AccountTokenManagers>;
export function createAuthClient(config: AuthClientConfig<SingleIdentityAttachOptions>): AuthClient;
export function createAuthClient(config: AuthClientConfig): AuthClient<TokenManager | AccountTokenManagers>;
export function createAuthClient(config: AuthClientConfig): AuthClient<TokenManager | AccountTokenManagers> {
  const { auth, ...axiosConfig } = config;
  const instance = axios.create(axiosConfig);
  const { tokens } = attachAuth(instance, auth);
  // Read-only: code that holds the instance cannot swap the manager other code reads from it.
  return Object.defineProperty(instance, 'tokens', { value: tokens, enumerable: true, writable: false, configurable: false }) as AuthClient<
    TokenManager | AccountTokenManagers
  >;
}
