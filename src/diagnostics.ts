/**
 * `node:diagnostics_channel` events for the moments an operator wants to see: each token request (with its retries),
 * each renewal, each cooldown that starts, each 401 replayed, each wait of a request for a token, each call of a
 * shared store, each takeover of another process's renewal lease, each error reported. APM agents, loggers and metrics
 * exporters subscribe by name without a hook in the client's options:
 *
 *   import diagnostics_channel from 'node:diagnostics_channel';
 *   diagnostics_channel.subscribe('axios-oauth-bearer:renewal', (event) => logger.info(event, 'token renewed'));
 *
 * Decision: every payload is built here, field by field, from names, numbers and error classes; never from an
 * options object, a token set, a request config or an error's message (a server's error_description is its text,
 * not ours). So no payload can hold a password, a client secret, a token, a form body, a username or an account id,
 * whatever a future field of those objects holds. Publishing is skipped when nobody subscribes: no object is made.
 */
import diagnostics_channel from 'node:diagnostics_channel';

import { type OAuthBearerError, TokenEndpointError } from './errors.js';
import { everyName } from './option-names.js';
import type { TokenSource } from './options.js';
import { TokenStoreError, type TokenStoreFailure, type TokenStoreOperation } from './stores/errors.js';

/** The channel names, also exported for subscribers (`diagnostics_channel.subscribe(channels.renewal, …)`). */
export const channels = {
  tokenRequest: 'axios-oauth-bearer:token-request',
  renewal: 'axios-oauth-bearer:renewal',
  cooldown: 'axios-oauth-bearer:cooldown',
  replay: 'axios-oauth-bearer:replay',
  tokenWait: 'axios-oauth-bearer:token-wait',
  storeOperation: 'axios-oauth-bearer:store-operation',
  leaseTakeover: 'axios-oauth-bearer:lease-takeover',
  error: 'axios-oauth-bearer:error',
} as const;

/** An error as events name it: its class and code, no message. */
export interface ErrorSummary {
  /** The class name, e.g. `UserAuthenticationError`. */
  readonly name: string;
  /** Its `code` (see ErrorCode). */
  readonly code: string;
  /** The token endpoint's HTTP status, when it answered. */
  readonly status?: number;
  /** The OAuth `error` code the endpoint sent (`invalid_grant`), when it sent one; `other` for an unregistered one. */
  readonly oauthError?: string;
}

/** `axios-oauth-bearer:token-request`: one call of the token endpoint, retries included. */
export interface TokenRequestEvent {
  /** The grant sent: `password`, `client_credentials`, `extension` (the type URI is `grantType`) or `refresh_token`. */
  readonly grant: Exclude<TokenSource, 'store'>;
  readonly outcome: 'success' | 'failure';
  /** HTTP requests made: 1 without a retry. */
  readonly attempts: number;
  /** From the first attempt to the answer or the last failure, on the monotonic clock. */
  readonly durationMs: number;
  /** Set when outcome is `failure`. */
  readonly error?: ErrorSummary;
}

/** `axios-oauth-bearer:renewal`: one renewal (one per storm), from the grant or from a shared store. */
export interface RenewalEvent {
  readonly outcome: 'success' | 'failure';
  /** Where the new token came from (`store`: another process's, adopted); set when outcome is `success`. */
  readonly source?: TokenSource;
  readonly durationMs: number;
  /** Set when outcome is `failure`. */
  readonly error?: ErrorSummary;
}

/** `axios-oauth-bearer:cooldown`: the endpoint refused the credentials; renewals fail fast until `endsAt`. */
export interface CooldownEvent {
  readonly durationMs: number;
  /** Wall-clock end, milliseconds since the epoch (the cooldown itself runs on the monotonic clock). */
  readonly endsAt: number;
  readonly error: ErrorSummary;
}

/**
 * `axios-oauth-bearer:replay`: a request refused with 401 is sent again, with the token of the renewal it waited for
 * (published as it is sent: not when that renewal failed). A replay refused again and sent a second time (the bounded
 * second chance, see interceptors.ts) is a second event.
 */
export interface ReplayEvent {
  /** The request's method, upper case: one of RFC 9110's, `PATCH` or `QUERY`, else `_OTHER`. */
  readonly method: string;
}

/**
 * `axios-oauth-bearer:token-wait`: a request found no usable token and waited for one (the first requests, those of
 * an expiry storm, a replay's not included), until it got one or gave up (the renewal failed, its timeout or signal).
 */
export interface TokenWaitEvent {
  readonly outcome: 'success' | 'failure';
  readonly durationMs: number;
}

/**
 * `axios-oauth-bearer:store-operation`: one call of a shared store's method by the library (any store: the built-in
 * ones and yours), from the call to its answer or to the library giving up on it. A waiter polls `acquire` every 50 ms.
 */
export interface StoreOperationEvent {
  /** `key` (the derivation of the store key) is not a store call and is not published. */
  readonly operation: Exclude<TokenStoreOperation, 'key'>;
  /**
   * `success`: it answered; `failure`: it threw (reported as an error event too); `timeout`: no answer within one
   * lease, given up (reported too); `refused`: a lease step (`extend`, `commit`, `fail`) answered `false`, not done:
   * the lease was lost, or the store failed and said so in its own report (the built-in stores report a backend's
   * failures, as an error event, instead of throwing; their `get`, `set` and `delete` then answer as a `success`).
   */
  readonly outcome: 'success' | 'failure' | 'timeout' | 'refused';
  /** For `acquire` that answered: what it found (`invalid`: an answer that is not a snapshot, reported). */
  readonly state?: 'leased' | 'held' | 'unavailable' | 'invalid';
  readonly durationMs: number;
}

/**
 * `axios-oauth-bearer:lease-takeover`: this process renews in place of another that held the renewal lease and did
 * not finish. `lease-freed`: the lease ran out or was released with no token in the store (its holder died, was cut
 * off, or failed in a way it does not share), and this process took it; `holder-overstayed`: the holder kept it past
 * its own budget, and this process renews alone.
 */
export interface LeaseTakeoverEvent {
  readonly reason: 'lease-freed' | 'holder-overstayed';
  /** How long this process waited on the other holder first. */
  readonly waitedMs: number;
}

/** `axios-oauth-bearer:error`: every error reported through `onError` (published whether or not `onError` is set). */
export interface ErrorEvent extends ErrorSummary {
  /** For a TokenStoreError: the store operation and what went wrong (`other` for a name the library does not use). */
  readonly operation?: string;
  readonly reason?: string;
}

const tokenRequestChannel = diagnostics_channel.channel(channels.tokenRequest);
const renewalChannel = diagnostics_channel.channel(channels.renewal);
const cooldownChannel = diagnostics_channel.channel(channels.cooldown);
const replayChannel = diagnostics_channel.channel(channels.replay);
const errorChannel = diagnostics_channel.channel(channels.error);
const tokenWaitChannel = diagnostics_channel.channel(channels.tokenWait);
const storeOperationChannel = diagnostics_channel.channel(channels.storeOperation);
const leaseTakeoverChannel = diagnostics_channel.channel(channels.leaseTakeover);

/**
 * The OAuth error codes an event may name: RFC 6749 section 5.2 and 4.1.2.1, RFC 7009 (revocation), RFC 8628 (device
 * flow), RFC 8693 (token exchange), RFC 9449 (DPoP) and OpenID Connect Core 3.1.2.6.
 */
const OAUTH_ERROR_CODES: ReadonlySet<string> = new Set([
  'invalid_request',
  'invalid_client',
  'invalid_grant',
  'unauthorized_client',
  'unsupported_grant_type',
  'invalid_scope',
  'access_denied',
  'unsupported_response_type',
  'server_error',
  'temporarily_unavailable',
  'unsupported_token_type',
  'authorization_pending',
  'slow_down',
  'expired_token',
  'invalid_target',
  'invalid_dpop_proof',
  'use_dpop_nonce',
  'interaction_required',
  'login_required',
  'consent_required',
]);

/** The error's class, code, and for the token endpoint's answers its status and OAuth code. */
export function summarize(error: OAuthBearerError): ErrorSummary {
  if (!(error instanceof TokenEndpointError)) return { name: error.name, code: error.code };
  const oauthError = error.error;
  return {
    name: error.name,
    code: error.code,
    status: error.status,
    // The server's text: only the registered codes pass; any other (a provider's own, or a username a broken server
    // put there) is `other`.
    ...(oauthError === undefined ? {} : { oauthError: OAUTH_ERROR_CODES.has(oauthError) ? oauthError : 'other' }),
  };
}

export function publishTokenRequest(make: () => TokenRequestEvent): void {
  if (tokenRequestChannel.hasSubscribers) tokenRequestChannel.publish(make());
}

export function publishRenewal(make: () => RenewalEvent): void {
  if (renewalChannel.hasSubscribers) renewalChannel.publish(make());
}

export function publishCooldown(make: () => CooldownEvent): void {
  if (cooldownChannel.hasSubscribers) cooldownChannel.publish(make());
}

export function publishReplay(make: () => ReplayEvent): void {
  if (replayChannel.hasSubscribers) replayChannel.publish(make());
}

/** Whether a token wait would be published now: the wait is only timed when it would be. */
export function willPublishTokenWait(): boolean {
  return tokenWaitChannel.hasSubscribers;
}

export function publishTokenWait(make: () => TokenWaitEvent): void {
  if (tokenWaitChannel.hasSubscribers) tokenWaitChannel.publish(make());
}

export function publishStoreOperation(make: () => StoreOperationEvent): void {
  if (storeOperationChannel.hasSubscribers) storeOperationChannel.publish(make());
}

export function publishLeaseTakeover(make: () => LeaseTakeoverEvent): void {
  if (leaseTakeoverChannel.hasSubscribers) leaseTakeoverChannel.publish(make());
}

/**
 * The store operations and failure reasons an event may name; a store's own code could construct others. Checked
 * complete against the unions at compile time (everyName): a name added there and not here does not compile.
 */
const STORE_OPERATIONS: ReadonlySet<string> = new Set(
  everyName<Record<TokenStoreOperation, true>>()(['key', 'get', 'set', 'delete', 'acquire', 'extend', 'commit', 'fail', 'release', 'clearFailure']),
);
const STORE_REASONS: ReadonlySet<string> = new Set(
  everyName<Record<TokenStoreFailure, true>>()(['timeout', 'failed', 'invalid-value', 'undecryptable', 'lease-lost', 'no-ttl', 'lease-overstayed']),
);

export function publishError(error: OAuthBearerError): void {
  if (!errorChannel.hasSubscribers) return;
  const known = (value: unknown, names: ReadonlySet<string>): string => (typeof value === 'string' && names.has(value) ? value : 'other');
  const event: ErrorEvent =
    error instanceof TokenStoreError
      ? { ...summarize(error), operation: known(error.operation, STORE_OPERATIONS), reason: known(error.reason, STORE_REASONS) }
      : summarize(error);
  errorChannel.publish(event);
}

/** The methods an event names (RFC 9110's, PATCH and QUERY); any other is `_OTHER`, as the semantic conventions say. */
const HTTP_METHODS: ReadonlySet<string> = new Set(['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'CONNECT', 'OPTIONS', 'TRACE', 'PATCH', 'QUERY']);

/** A request's method as an event names it: a known one, upper case, else `_OTHER` (a config's method is the caller's text). */
export function methodName(method: string | undefined): string {
  const name = (method ?? 'get').toUpperCase();
  return HTTP_METHODS.has(name) ? name : '_OTHER';
}
