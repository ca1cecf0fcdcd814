/**
 * The options of the token endpoint and token manager: their defaults in one object, and one function that
 * validates what the caller passed and returns a new resolved object (the caller's object is never mutated).
 */
import type { AxiosRequestConfig } from 'axios';

import type { AccountProvider, Credential } from './credentials.js';
import { ConfigurationError, type OAuthBearerError } from './errors.js';
import { refuseUnknownOptions } from './option-names.js';
import { REDACTED } from './redact.js';
import { retryDefaults, type RetryOptions, type RetryPolicy } from './retry.js';
import { MAX_LEASE_MS, MIN_LEASE_MS, type TokenStore } from './stores/types.js';
import type { TokenSet } from './token-set.js';
import { isLoopback } from './transport-security.js';

/**
 * How the client authenticates (RFC 6749 section 2.3.1): `client_secret_post` as form fields; `client_secret_basic`
 * in an HTTP Basic header, form-encoded first (RFC 6749), then once raw if that is refused with `invalid_client` and
 * encoding changes the id or secret (many servers do not decode), keeping the form that worked for that token
 * endpoint; `client_secret_basic_encoded` or `client_secret_basic_raw`: Basic in that one form only.
 */
export type ClientAuthentication = 'client_secret_post' | 'client_secret_basic' | 'client_secret_basic_encoded' | 'client_secret_basic_raw';

const CLIENT_AUTHENTICATIONS: readonly ClientAuthentication[] = ['client_secret_post', 'client_secret_basic', 'client_secret_basic_encoded', 'client_secret_basic_raw'];

/**
 * Why a new token set arrived: the configured grant (`password`, `client_credentials`, `extension` for an
 * extension grant), a refresh, or another process's token found in the shared store.
 */
export type TokenSource = 'password' | 'client_credentials' | 'extension' | 'refresh_token' | 'store';

/** What {@link CommonAuthOptions.onToken} receives. The token set prints redacted; its fields hold the real values. */
export interface TokenEvent {
  readonly tokens: TokenSet;
  readonly source: TokenSource;
  /** The account the token is for, on a client with `auth.account`; absent on a single-account client. */
  readonly account?: string;
}

/** What {@link CommonAuthOptions.onError} receives beside the error, on a client with `auth.account` only. */
export interface ErrorContext {
  /** The account whose renewal failed. */
  readonly account: string;
}

/**
 * Everything needed to obtain and renew tokens, by grant: the password grant for one account
 * ({@link SingleAccountAuthOptions}) or many ({@link MultiAccountAuthOptions}), client credentials
 * ({@link ClientCredentialsAuthOptions}), a refresh token obtained elsewhere ({@link RefreshTokenAuthOptions}), or an
 * extension grant ({@link ExtensionGrantAuthOptions}). Secrets are kept in closures, never on printable objects.
 */
export type AuthOptions = SingleIdentityAuthOptions | MultiAccountAuthOptions;

/** The options of a client whose every request acts for one identity: any grant but many accounts. */
export type SingleIdentityAuthOptions = SingleAccountAuthOptions | ClientCredentialsAuthOptions | RefreshTokenAuthOptions | ExtensionGrantAuthOptions;

/**
 * Which grant obtains the tokens: `'password'` (the default: `username` and `password`, or `account`),
 * `'client_credentials'` (the client acts for itself), `'refresh_token'` (a `refreshToken` obtained elsewhere), or an
 * {@link ExtensionGrant}.
 */
export type GrantOption = 'password' | 'client_credentials' | 'refresh_token' | ExtensionGrant;

/**
 * An extension grant (RFC 6749 section 4.5), such as token exchange (RFC 8693) or a JWT bearer assertion (RFC 7523):
 * its grant type URI and its form parameters. Parameters that hold secrets go in `secrets`, so that they are redacted
 * wherever the password would be.
 */
export interface ExtensionGrant {
  /** The grant type, an absolute URI, e.g. `urn:ietf:params:oauth:grant-type:token-exchange`. */
  readonly type: string;
  /** Form parameters that are not secret (`subject_token_type`, `audience`), sent as given. */
  readonly parameters?: Readonly<Record<string, string>>;
  /**
   * Form parameters that are secret (`subject_token`, `assertion`): each a value, or a function (sync or async) called
   * at the start of each renewal (a freshly signed assertion), bounded by `timeout`. Never printed, never in an error.
   */
  readonly secrets?: Readonly<Record<string, Credential>>;
}

/** The password grant for one resource owner: every request of the client acts for this user. */
export interface SingleAccountAuthOptions extends CommonAuthOptions {
  /** @default 'password' */
  readonly grant?: 'password';
  /** The resource owner's username. */
  readonly username: string;
  /**
   * The resource owner's password, or a function (sync or async) that gives it, called at the start of each renewal
   * (so a password rotated in a vault is picked up without a restart), bounded by `timeout`.
   */
  readonly password: Credential;
  readonly account?: undefined;
  readonly refreshToken?: undefined;
}

/**
 * The client credentials grant (RFC 6749 section 4.4): the client acts for itself, with no user. No refresh token is
 * expected: each renewal repeats the grant.
 */
export interface ClientCredentialsAuthOptions extends CommonAuthOptions {
  readonly grant: 'client_credentials';
  readonly username?: undefined;
  readonly password?: undefined;
  readonly account?: undefined;
  readonly refreshToken?: undefined;
}

/**
 * A refresh token obtained elsewhere (an authorization-code or device flow): the client renews with it and keeps each
 * rotated one (in the store, and through `onToken`). There is nothing to fall back on: once the endpoint refuses the
 * refresh token, every request fails with a `RefreshTokenRejectedError` until a client is made with a new one.
 */
export interface RefreshTokenAuthOptions extends CommonAuthOptions {
  readonly grant: 'refresh_token';
  /**
   * The refresh token to start from. With a shared store, a rotated one found there (saved by this client before a
   * restart, or by another process) is used instead: the store key is bound to this starting token.
   */
  readonly refreshToken: string;
  readonly username?: undefined;
  readonly password?: undefined;
  readonly account?: undefined;
}

/** An extension grant (RFC 6749 section 4.5): see {@link ExtensionGrant}. */
export interface ExtensionGrantAuthOptions extends CommonAuthOptions {
  readonly grant: ExtensionGrant;
  readonly username?: undefined;
  readonly password?: undefined;
  readonly account?: undefined;
  readonly refreshToken?: undefined;
}

/**
 * One client for many resource owners (a vendor acting for its customers): each request names its `account`, and each
 * account has a token manager of its own (its own token, renewal, cooldown and store entry), never crossed.
 */
export interface MultiAccountAuthOptions extends CommonAuthOptions {
  /** Many accounts are many resource owners: the password grant only. @default 'password' */
  readonly grant?: 'password';
  /**
   * Gives an account's username and password; called at the start of each renewal of that account (the first request,
   * then about once per token lifetime), bounded by `timeout`, and its answer is not kept past the renewal. May look
   * them up anywhere (a vault, a database).
   */
  readonly account: AccountProvider;
  /**
   * At most this many accounts have a token manager at once; beyond it the least recently used one is dropped, and
   * its tokens forgotten in this process (a shared store keeps them).
   * @default 1000
   */
  readonly maxAccounts?: number;
  /**
   * An account unused for this many milliseconds is dropped the same way.
   * @default 3600000 (an hour)
   */
  readonly accountIdleMs?: number;
  /**
   * The account of a request that names none. Without it, such a request fails with a `ConfigurationError` before
   * anything is sent.
   * @default undefined
   */
  readonly defaultAccount?: string;
  readonly username?: undefined;
  readonly password?: undefined;
  readonly refreshToken?: undefined;
}

/** The options every client has, whoever it acts for. */
export interface CommonAuthOptions {
  /**
   * The token endpoint, e.g. `https://oidc-pre.semansys.com/connect/token`. Give this or `issuer`.
   */
  readonly tokenUrl?: string;
  /**
   * An OpenID Connect issuer; its `/.well-known/openid-configuration` is read once to find the token endpoint.
   * Give this or `tokenUrl`.
   */
  readonly issuer?: string;
  /** The client id from the provider. */
  readonly clientId: string;
  /**
   * The client secret from the provider, or a function (sync or async) that gives it, called at the start of each
   * renewal and bounded by `timeout`.
   */
  readonly clientSecret: Credential;
  /** The scope to request, space-separated. Sent only when set. */
  readonly scope?: string;
  /**
   * How the client id and secret are sent: see {@link ClientAuthentication}.
   * @default 'client_secret_post' (the provider's guide); with `issuer`, what the discovery document's
   * `token_endpoint_auth_methods_supported` lists: `client_secret_post` first, else `client_secret_basic`
   */
  readonly clientAuthentication?: ClientAuthentication;
  /**
   * Milliseconds before a token request is abandoned, so a hung endpoint cannot hang callers.
   * @default 10000
   */
  readonly timeout?: number;
  /**
   * Lifetime in seconds assumed when a token response has no `expires_in`. Short on purpose: renewing too early
   * costs one grant, trusting a token too long costs failed requests.
   * @default 300
   */
  readonly defaultExpiresIn?: number;
  /**
   * How long before expiry (ms) the token is renewed, or a function of the token's lifetime (ms) that says so.
   * Inside the margin, requests keep using the current token while one renewal runs in the background; in the last
   * half of it, requests wait for the new token instead of sending one about to expire.
   * @default lifetime => Math.min(lifetime * 0.2, 300_000) (20% of the lifetime, at most 5 minutes)
   */
  readonly refreshMargin?: number | ((lifetimeMs: number) => number);
  /**
   * Milliseconds taken off every token's lifetime before its renewal is scheduled (at most a quarter of the lifetime),
   * for servers whose clock or whole-second `iat` makes a token die a little before `expires_in` says. `0` trusts the
   * server's figure exactly.
   * @default 1000
   */
  readonly clockSkewMs?: number;
  /**
   * Permit a plain `http:` token endpoint that is not on loopback. Never do this in production: the password travels
   * in the request body.
   * @default false
   */
  readonly allowInsecureHttp?: boolean;
  /**
   * Retries of transient token-endpoint failures (5xx, 429, connection failures, timeouts), with exponential backoff
   * and jitter, honouring `Retry-After`. Credential failures (400, 401, 403) are never retried.
   * @default { attempts: 3, baseDelayMs: 250, maxDelayMs: 5000, maxElapsedMs: 15000 }
   */
  readonly retry?: RetryOptions;
  /**
   * After the endpoint rejected the client or the user (400, 401 or 403 on the password grant), further requests fail
   * fast with the same error for this many milliseconds instead of sending the same credentials again: identity
   * providers lock accounts after a few failed logins. `0` turns it off; `tokens.clearCooldown()` ends it early.
   * @default 60000
   */
  readonly cooldownMs?: number;
  /**
   * Where token sets are shared: the default keeps them in this client only. A `RedisTokenStore`
   * (`axios-oauth-bearer/redis`) shares one token, and one grant, across processes.
   * @default undefined (in memory, per client)
   */
  readonly store?: TokenStore;
  /**
   * How long a shared store's renewal lease lasts unless its holder extends it. The holder extends it every third of
   * this while its grant runs, however long that takes; a holder that dies (or is cut off from the store) loses it
   * within one lease, and another process takes over. Shorter means a faster takeover and more store commands.
   * @default 5000
   */
  readonly leaseMs?: number;
  /**
   * The axios adapter that token and discovery requests go through. They use a bare axios instance of their own,
   * never the one being authenticated, so the instance's `adapter` does not reach them: give one here to route them
   * too, for example the in-memory test authority's (`createMemoryAuthority().credentials` includes it), or `'fetch'`
   * on a runtime without `http`. Any value axios's own `adapter` option takes.
   * @default axios's default adapter (http in Node, else xhr or fetch)
   */
  readonly adapter?: AxiosRequestConfig['adapter'];
  /**
   * The revocation endpoint (RFC 7009) that `tokens.revoke()` uses. With `issuer`, the discovery document's
   * `revocation_endpoint` is used when this is not given.
   * @default undefined (with `issuer`: discovered)
   */
  readonly revocationUrl?: string;
  /**
   * Make `tokens.clear()` also revoke the tokens it forgets, in the background (failures go to `onError`).
   * @default false
   */
  readonly revokeOnClear?: boolean;
  /** Called with each new token set (for persistence or metrics). Exceptions it throws are reported to `onError`. */
  readonly onToken?: (event: TokenEvent) => void;
  /**
   * Called once with each failure to obtain a token (secrets already redacted); on a client with `auth.account`, with
   * the account it was for as a second argument (`undefined` for a failure of no one account's, or on a single-account
   * client).
   */
  readonly onError?: (error: OAuthBearerError, context?: ErrorContext) => void;
}

/**
 * The defaults, in one place: `resolveAuthOptions` applies them, and everything past it receives resolved options
 * with no fallbacks of its own (the one default that depends on the server, `clientAuthentication` with an issuer, is
 * applied by the token endpoint once discovery has answered). Frozen all the way down (retry.ts freezes the retry
 * policy it owns), so no code can change every client's defaults.
 */
export const defaults = Object.freeze({
  clientAuthentication: 'client_secret_post',
  timeout: 10_000,
  defaultExpiresIn: 300,
  refreshMargin: Object.freeze((lifetimeMs: number): number => Math.min(lifetimeMs * 0.2, 300_000)),
  clockSkewMs: 1_000,
  allowInsecureHttp: false,
  retry: retryDefaults,
  cooldownMs: 60_000,
  leaseMs: 5_000,
  revokeOnClear: false,
  maxAccounts: 1_000,
  accountIdleMs: 3_600_000,
} as const);

/** Options after validation and defaults. */
export interface ResolvedAuthOptions {
  readonly tokenUrl: URL | undefined;
  readonly issuer: URL | undefined;
  readonly clientId: string;
  readonly clientSecret: Credential;
  /** The grant, checked. */
  readonly grant: ResolvedGrant;
  /** The one resource owner of a single-account client; undefined with `account`, and for other grants. */
  readonly owner: { readonly username: string; readonly password: Credential } | undefined;
  /** The accounts of a multi-account client; undefined without `account`. */
  readonly accounts: ResolvedAccounts | undefined;
  readonly scope: string | undefined;
  /** Undefined when the caller chose none: the token endpoint then picks (the default, or from discovery). */
  readonly clientAuthentication: ClientAuthentication | undefined;
  readonly timeout: number;
  readonly defaultExpiresIn: number;
  readonly refreshMargin: (lifetimeMs: number) => number;
  readonly clockSkewMs: number;
  readonly allowInsecureHttp: boolean;
  readonly retry: RetryPolicy;
  readonly cooldownMs: number;
  readonly store: TokenStore | undefined;
  readonly leaseMs: number;
  readonly adapter: AxiosRequestConfig['adapter'];
  readonly revocationUrl: URL | undefined;
  readonly revokeOnClear: boolean;
  readonly onToken: ((event: TokenEvent) => void) | undefined;
  readonly onError: ((error: OAuthBearerError, context?: ErrorContext) => void) | undefined;
}

/**
 * The grant after validation: the extension grant's parameters as name-value pairs in the caller's order, its
 * secrets still values or functions (fetched per renewal: credentials.ts).
 */
export type ResolvedGrant =
  | { readonly type: 'password' }
  | { readonly type: 'client_credentials' }
  | { readonly type: 'refresh_token'; readonly refreshToken: string }
  | {
      readonly type: 'extension';
      readonly uri: string;
      readonly parameters: readonly (readonly [string, string])[];
      readonly secrets: readonly (readonly [string, Credential])[];
    };

/** `account`, `maxAccounts`, `accountIdleMs` and `defaultAccount`, checked. */
export interface ResolvedAccounts {
  readonly provider: AccountProvider;
  readonly maxAccounts: number;
  readonly idleMs: number;
  readonly defaultAccount: string | undefined;
}

/**
 * Validates `input` and returns resolved options. Typed `unknown` on purpose: JavaScript callers and configuration
 * files reach this too, and each bad field must get a {@link ConfigurationError} naming it (`prefix.field`).
 */
export function resolveAuthOptions(input: unknown, prefix = 'auth', alsoKnown: readonly string[] = []): ResolvedAuthOptions {
  if (input === null || typeof input !== 'object') throw new ConfigurationError(prefix, 'must be an object');
  refuseUnknownOptions(input, [...AUTH_OPTION_NAMES, ...alsoKnown], prefix, RETIRED_OPTION_NAMES);
  const read = (key: OptionName): unknown => Reflect.get(input, key);
  const name = (key: OptionName): string => `${prefix}.${key}`;
  const allowInsecureHttp = optionalBoolean(read('allowInsecureHttp'), name('allowInsecureHttp')) ?? defaults.allowInsecureHttp;

  const tokenUrl = read('tokenUrl');
  const issuer = read('issuer');
  if ((tokenUrl === undefined) === (issuer === undefined)) {
    throw new ConfigurationError(name('tokenUrl'), 'give exactly one of `tokenUrl` and `issuer`');
  }
  const clientAuthentication = resolveClientAuthentication(read('clientAuthentication'), read('clientId'), name('clientAuthentication'));
  const scope = read('scope');
  const grant = resolveGrant(read('grant'), read('refreshToken'), name);
  const revocationUrl = read('revocationUrl');

  return withRedactedView({
    tokenUrl: tokenUrl === undefined ? undefined : secureUrl(tokenUrl, name('tokenUrl'), allowInsecureHttp),
    issuer: issuer === undefined ? undefined : secureUrl(issuer, name('issuer'), allowInsecureHttp),
    clientId: requiredString(read('clientId'), name('clientId')),
    clientSecret: credential(read('clientSecret'), name('clientSecret')),
    grant,
    ...(grant.type === 'password' ? resolveOwner(read, name) : noOwner(read, name, grant.type)),
    scope: scope === undefined ? undefined : requiredString(scope, name('scope')),
    clientAuthentication,
    timeout: positiveNumber(read('timeout'), name('timeout')) ?? defaults.timeout,
    defaultExpiresIn: positiveNumber(read('defaultExpiresIn'), name('defaultExpiresIn')) ?? defaults.defaultExpiresIn,
    refreshMargin: resolveMargin(read('refreshMargin'), name('refreshMargin')),
    clockSkewMs: nonNegativeNumber(read('clockSkewMs'), name('clockSkewMs')) ?? defaults.clockSkewMs,
    allowInsecureHttp,
    retry: resolveRetry(read('retry'), name('retry')),
    cooldownMs: nonNegativeNumber(read('cooldownMs'), name('cooldownMs')) ?? defaults.cooldownMs,
    store: resolveStore(read('store'), name('store')),
    leaseMs: resolveLeaseMs(input, name('leaseMs'), `${prefix}.lockTtlMs`),
    adapter: resolveAdapter(read('adapter'), name('adapter')),
    revocationUrl: revocationUrl === undefined ? undefined : secureUrl(revocationUrl, name('revocationUrl'), allowInsecureHttp),
    revokeOnClear: optionalBoolean(read('revokeOnClear'), name('revokeOnClear')) ?? defaults.revokeOnClear,
    onToken: optionalFunction(read('onToken'), name('onToken')),
    onError: optionalFunction(read('onError'), name('onError')),
  });
}

/** Every option name of either kind of client. */
type OptionName = keyof SingleAccountAuthOptions | keyof MultiAccountAuthOptions | keyof RefreshTokenAuthOptions;

/** The same, as values, for refusing unknown names (`refreshMargn`); the type below fails when one is missing. */
export const AUTH_OPTION_NAMES = [
  'tokenUrl', 'issuer', 'clientId', 'clientSecret', 'grant', 'username', 'password', 'refreshToken', 'account', 'maxAccounts',
  'accountIdleMs', 'defaultAccount', 'scope', 'clientAuthentication', 'timeout', 'defaultExpiresIn', 'clockSkewMs',
  'refreshMargin', 'allowInsecureHttp', 'retry', 'cooldownMs', 'store', 'leaseMs', 'adapter', 'revocationUrl',
  'revokeOnClear', 'onToken', 'onError',
] as const satisfies readonly OptionName[];
// Compile-time only: every option name is listed (an option added to the interfaces but not here fails to compile).
export const AUTH_OPTION_NAMES_COMPLETE: [Exclude<OptionName, (typeof AUTH_OPTION_NAMES)[number]>] extends [never] ? true : never = true;
/** The options attachAuth and createAuthClient take beside these (client.ts's OriginOptions, checked there). */
export const ATTACH_ONLY_OPTION_NAMES = ['allowedOrigins'] as const;
/** 0.1's lease option: known, so that it gets its own message (see resolveLeaseMs) rather than a guess. */
export const RETIRED_OPTION_NAMES = ['lockTtlMs'] as const;
const EXTENSION_GRANT_NAMES = ['type', 'parameters', 'secrets'] as const satisfies readonly (keyof ExtensionGrant)[];
const RETRY_OPTION_NAMES = ['attempts', 'baseDelayMs', 'maxDelayMs', 'maxElapsedMs'] as const satisfies readonly (keyof RetryOptions)[];

/**
 * Parameters the library sends itself, or that are options of their own: an extension grant may not set them (a
 * `client_secret` there would travel unredacted as a plain parameter, a `scope` would bypass `scope`).
 */
const RESERVED_PARAMETERS: ReadonlySet<string> = new Set(['grant_type', 'client_id', 'client_secret', 'scope', 'username', 'password', 'refresh_token']);

/** `grant` (and the `refreshToken` that goes with `'refresh_token'`), checked. */
function resolveGrant(value: unknown, refreshToken: unknown, name: (key: OptionName) => string): ResolvedGrant {
  if (value !== 'refresh_token' && refreshToken !== undefined) {
    throw new ConfigurationError(name('refreshToken'), "applies only with `grant: 'refresh_token'` (a refresh token obtained elsewhere)");
  }
  if (value === undefined || value === 'password') return { type: 'password' };
  if (value === 'client_credentials') return { type: 'client_credentials' };
  if (value === 'refresh_token') return { type: 'refresh_token', refreshToken: requiredString(refreshToken, name('refreshToken')) };
  if (value !== null && typeof value === 'object' && !Array.isArray(value)) return resolveExtensionGrant(value, name('grant'));
  throw new ConfigurationError(name('grant'), "must be 'password', 'client_credentials', 'refresh_token' or { type, parameters, secrets } (an extension grant)");
}

function resolveExtensionGrant(value: object, option: string): ResolvedGrant {
  refuseUnknownOptions(value, EXTENSION_GRANT_NAMES, option);
  const type: unknown = Reflect.get(value, 'type');
  // RFC 6749 section 4.5: an extension grant type is an absolute URI (a scheme, then anything).
  if (typeof type !== 'string' || !/^[a-z][a-z0-9+.-]*:\S+$/i.test(type)) {
    throw new ConfigurationError(`${option}.type`, 'must be an absolute URI, e.g. urn:ietf:params:oauth:grant-type:token-exchange');
  }
  const parameters = parameterEntries(Reflect.get(value, 'parameters'), `${option}.parameters`, (entry, at) => requiredString(entry, at));
  const secrets = parameterEntries(Reflect.get(value, 'secrets'), `${option}.secrets`, (entry, at) => credential(entry, at));
  const both = parameters.find(([key]) => secrets.some(([secret]) => secret === key));
  if (both !== undefined) throw new ConfigurationError(`${option}.secrets.${both[0]}`, 'is also in `parameters`: give it once');
  return { type: 'extension', uri: type, parameters, secrets };
}

/** A record of form parameters as pairs, each name allowed and each value checked by `check`. */
function parameterEntries<T>(value: unknown, option: string, check: (entry: unknown, option: string) => T): readonly (readonly [string, T])[] {
  if (value === undefined) return [];
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new ConfigurationError(option, 'must be an object of form parameters');
  return Object.entries(value).map(([key, entry]) => {
    if (key === '' || RESERVED_PARAMETERS.has(key)) {
      throw new ConfigurationError(`${option}.${key}`, 'is a parameter the library sends itself (or an option of its own): it cannot be set here');
    }
    return [key, check(entry, `${option}.${key}`)] as const;
  });
}

/** A grant other than the password grant has no resource owner: `username`, `password` and `account` are refused. */
function noOwner(read: (key: OptionName) => unknown, name: (key: OptionName) => string, grant: ResolvedGrant['type']): Pick<ResolvedAuthOptions, 'owner' | 'accounts'> {
  for (const key of ['username', 'password', 'account', 'maxAccounts', 'accountIdleMs', 'defaultAccount'] as const) {
    if (read(key) !== undefined) throw new ConfigurationError(name(key), `applies only to the password grant, not to \`grant: ${grant === 'extension' ? '{ type }' : `'${grant}'`}\``);
  }
  return { owner: undefined, accounts: undefined };
}

/** One user (`username` and `password`) or many (`account`): exactly one of the two. */
function resolveOwner(
  read: (key: OptionName) => unknown,
  name: (key: OptionName) => string,
): Pick<ResolvedAuthOptions, 'owner' | 'accounts'> {
  const provider = read('account');
  if (provider === undefined) {
    for (const key of ['maxAccounts', 'accountIdleMs', 'defaultAccount'] as const) {
      if (read(key) !== undefined) throw new ConfigurationError(name(key), 'applies only with `account` (a client for many accounts)');
    }
    return { owner: { username: requiredString(read('username'), name('username')), password: credential(read('password'), name('password')) }, accounts: undefined };
  }
  if (typeof provider !== 'function') throw new ConfigurationError(name('account'), 'must be a function (account id => { username, password })');
  if (read('username') !== undefined || read('password') !== undefined) {
    throw new ConfigurationError(name('account'), 'give either `account` (many accounts) or `username` and `password` (one), not both');
  }
  const defaultAccount = read('defaultAccount');
  return {
    owner: undefined,
    accounts: {
      provider: provider as AccountProvider,
      maxAccounts: wholeNumber(read('maxAccounts'), name('maxAccounts')) ?? defaults.maxAccounts,
      idleMs: positiveNumber(read('accountIdleMs'), name('accountIdleMs')) ?? defaults.accountIdleMs,
      defaultAccount: defaultAccount === undefined ? undefined : requiredString(defaultAccount, name('defaultAccount')),
    },
  };
}

/** A secret: a non-empty string, or a function that gives one when called (checked then: see credentials.ts). */
function credential(value: unknown, option: string): Credential {
  if (typeof value === 'function') return value as Credential;
  if (typeof value !== 'string' || value === '') throw new ConfigurationError(option, 'must be a non-empty string, or a function that returns one');
  return value;
}

function wholeNumber(value: unknown, option: string): number | undefined {
  const number = positiveNumber(value, option);
  if (number !== undefined && !Number.isInteger(number)) throw new ConfigurationError(option, 'must be a whole number');
  return number;
}

/** Resolved options hold the password and client secret: printing them (inspect, JSON) shows them redacted. */
function withRedactedView(options: ResolvedAuthOptions): ResolvedAuthOptions {
  const { owner } = options;
  const view = (): Record<string, unknown> => ({
    ...options,
    clientSecret: REDACTED,
    grant: redactedGrant(options.grant),
    owner: owner === undefined ? undefined : { username: owner.username, password: REDACTED },
  });
  Object.defineProperty(options, 'toJSON', { value: view });
  Object.defineProperty(options, Symbol.for('nodejs.util.inspect.custom'), { value: view });
  return options;
}

/** The grant as it may be printed: the refresh token and the extension grant's secrets redacted, their names kept. */
function redactedGrant(grant: ResolvedGrant): unknown {
  if (grant.type === 'refresh_token') return { type: grant.type, refreshToken: REDACTED };
  if (grant.type === 'extension') return { ...grant, secrets: grant.secrets.map(([key]) => [key, REDACTED]) };
  return grant;
}

/** The caller's choice, checked; undefined (no choice) is kept, so discovery can still pick. */
function resolveClientAuthentication(value: unknown, clientId: unknown, option: string): ClientAuthentication | undefined {
  if (value === undefined) return undefined;
  if (!(CLIENT_AUTHENTICATIONS as readonly unknown[]).includes(value)) {
    throw new ConfigurationError(option, `must be one of ${CLIENT_AUTHENTICATIONS.map((method) => `"${method}"`).join(', ')}`);
  }
  // RFC 7617 section 2: a Basic user-id cannot contain a colon; only the form-encoded form (%3A) can carry one.
  if (value === 'client_secret_basic_raw' && typeof clientId === 'string' && clientId.includes(':')) {
    throw new ConfigurationError(option, 'cannot be "client_secret_basic_raw" for a client id with a colon (use "client_secret_basic")');
  }
  return value as ClientAuthentication;
}

function requiredString(value: unknown, option: string): string {
  if (typeof value !== 'string' || value === '') throw new ConfigurationError(option, 'must be a non-empty string');
  return value;
}

function positiveNumber(value: unknown, option: string): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
    throw new ConfigurationError(option, 'must be a positive number');
  }
  return value;
}

function nonNegativeNumber(value: unknown, option: string): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    throw new ConfigurationError(option, 'must be a number >= 0');
  }
  return value;
}

function resolveRetry(value: unknown, option: string): RetryPolicy {
  if (value === undefined) return defaults.retry;
  if (value === null || typeof value !== 'object') throw new ConfigurationError(option, 'must be an object');
  refuseUnknownOptions(value, RETRY_OPTION_NAMES, option);
  const read = (key: keyof RetryOptions): unknown => Reflect.get(value, key);
  const attempts = positiveNumber(read('attempts'), `${option}.attempts`) ?? defaults.retry.attempts;
  if (!Number.isInteger(attempts)) throw new ConfigurationError(`${option}.attempts`, 'must be a whole number');
  return {
    attempts,
    baseDelayMs: nonNegativeNumber(read('baseDelayMs'), `${option}.baseDelayMs`) ?? defaults.retry.baseDelayMs,
    maxDelayMs: nonNegativeNumber(read('maxDelayMs'), `${option}.maxDelayMs`) ?? defaults.retry.maxDelayMs,
    maxElapsedMs: nonNegativeNumber(read('maxElapsedMs'), `${option}.maxElapsedMs`) ?? defaults.retry.maxElapsedMs,
  };
}

function resolveStore(value: unknown, option: string): TokenStore | undefined {
  if (value === undefined) return undefined;
  const valid =
    value !== null &&
    typeof value === 'object' &&
    ['get', 'set', 'delete'].every((method) => typeof Reflect.get(value, method) === 'function');
  if (!valid) throw new ConfigurationError(option, 'must have get, set and delete methods');
  // 0.1's lock interface: such a store would silently lose its single flight. Say so instead.
  if (typeof Reflect.get(value, 'tryLock') === 'function' && typeof Reflect.get(value, 'acquire') !== 'function') {
    throw new ConfigurationError(option, 'has tryLock, the 0.1 lock interface: implement acquire and clearFailure (LeasingTokenStore) instead');
  }
  return value as TokenStore;
}

/** The lease's length; `lockTtlMs` (0.1) was a lock's fixed lifetime, which a lease is not, so it is refused by name. */
function resolveLeaseMs(input: object, option: string, oldOption: string): number {
  if (Reflect.get(input, 'lockTtlMs') !== undefined) {
    throw new ConfigurationError(oldOption, 'was replaced by `leaseMs` (a lease its holder extends; default 5000)');
  }
  const leaseMs = positiveNumber(Reflect.get(input, 'leaseMs'), option) ?? defaults.leaseMs;
  // Shorter than a second, a lease cannot be extended in time through a slow store (its commands may take 500 ms);
  // longer than a minute, a dead holder stalls everyone for that long. Either way the lease would not do its job.
  if (leaseMs < MIN_LEASE_MS || leaseMs > MAX_LEASE_MS) {
    throw new ConfigurationError(option, `must be between ${MIN_LEASE_MS} and ${MAX_LEASE_MS} milliseconds`);
  }
  return leaseMs;
}

/** An axios adapter: a function, a built-in adapter's name, or a list of them (axios takes the first available). */
function resolveAdapter(value: unknown, option: string): AxiosRequestConfig['adapter'] {
  if (value === undefined) return undefined;
  const single = (entry: unknown): boolean => typeof entry === 'function' || (typeof entry === 'string' && entry !== '');
  const valid = Array.isArray(value) ? value.length > 0 && value.every(single) : single(value);
  if (!valid) throw new ConfigurationError(option, "must be an axios adapter: a function, a name such as 'fetch', or a list of them");
  return value as AxiosRequestConfig['adapter'];
}

function optionalBoolean(value: unknown, option: string): boolean | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'boolean') throw new ConfigurationError(option, 'must be a boolean');
  return value;
}

type AnyCallback = (...args: unknown[]) => unknown;

function isCallback(value: unknown): value is AnyCallback {
  return typeof value === 'function';
}

/** Checks that an option is a function (JavaScript callers cannot be trusted to pass one). */
function optionalFunction(value: unknown, option: string): AnyCallback | undefined {
  if (value === undefined) return undefined;
  if (!isCallback(value)) throw new ConfigurationError(option, 'must be a function');
  return value;
}

function resolveMargin(value: unknown, option: string): (lifetimeMs: number) => number {
  if (value === undefined) return defaults.refreshMargin;
  if (isCallback(value)) {
    return (lifetimeMs: number): number => {
      // A function that answers nonsense must not switch proactive renewal off: fall back to the default margin.
      const margin = Number(value(lifetimeMs));
      return Number.isFinite(margin) && margin >= 0 ? margin : defaults.refreshMargin(lifetimeMs);
    };
  }
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    throw new ConfigurationError(option, 'must be a number of milliseconds >= 0, or a function');
  }
  return () => value;
}

/** Parses a URL and refuses plain http off loopback: the password grant sends credentials in the body. */
function secureUrl(value: unknown, option: string, allowInsecureHttp: boolean): URL {
  const text = requiredString(value, option);
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new ConfigurationError(option, 'must be an absolute URL');
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new ConfigurationError(option, 'must be http(s)');
  if (url.protocol === 'http:' && !isLoopback(url) && !allowInsecureHttp) {
    throw new ConfigurationError(option, 'must use https (plain http is allowed on loopback, or with `allowInsecureHttp`)');
  }
  if (url.username !== '' || url.password !== '') {
    throw new ConfigurationError(option, 'must not contain credentials; use clientId and clientSecret');
  }
  return url;
}
