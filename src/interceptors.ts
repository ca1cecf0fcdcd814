/**
 * The axios side: a request interceptor that attaches the token, and 401 handling through axios-auth-refresh that
 * renews once and replays each failed request once (with one exception for tokens adopted from a shared store: see
 * secondChance). The token manager does the renewing.
 *
 * axios-auth-refresh is configured against its defaults on purpose: with `deduplicateRefresh: true` it rejects every
 * 401 that arrives while a refresh runs (upstream issue #307), so it is off, and the single flight is ours. Its
 * refresh function resolves at once and the renewal happens in the replay's own pass through the request interceptor
 * below, because the library parks every new request of the instance behind that function's promise, whatever the
 * request's signal, skipAuth or origin, and fails them all with a generic CanceledError if it rejects. In the request
 * interceptor a replay waits abortably on the shared renewal and, if that failed, rejects with its typed error.
 */
import axios, {
  type AxiosError,
  type AxiosInstance,
  type AxiosResponse,
  type GenericAbortSignal,
  type InternalAxiosRequestConfig,
} from 'axios';
import { createAuthRefresh } from 'axios-auth-refresh';

import { ReplayNotPossibleError } from './errors.js';
import type { AuthorizePredicate } from './origins.js';
import { REDACTED } from './redact.js';
import type { TokenManager } from './token-manager.js';

/** Set on a request config by axios-auth-refresh when it replays the request. */
interface ReplayMarker {
  skipAuthRefresh?: boolean;
}

/** The renewal count when the token was attached; a Symbol key so it never collides with axios's own options. */
const SENT_AT_SEQ = Symbol('axios-oauth-bearer.sentAtSeq');
interface SeqMarker {
  [SENT_AT_SEQ]?: number;
}

type Config = InternalAxiosRequestConfig & ReplayMarker & SeqMarker;

/** Installs the interceptors; returns a function that removes exactly them. */
export function installInterceptors(instance: AxiosInstance, tokens: TokenManager, mayAuthorize: AuthorizePredicate): () => void {
  const requestId = instance.interceptors.request.use((config: Config) => attachToken(config, tokens, mayAuthorize));
  const refreshId = createAuthRefresh(
    instance,
    // Resolves at once: see the module comment. The replay renews.
    () => Promise.resolve(),
    {
      shouldRefresh: (error: AxiosError) => shouldReplay(error, mayAuthorize),
      deduplicateRefresh: false,
      maxRetries: 1,
    },
  );
  const finalId = instance.interceptors.response.use(undefined, (error: unknown) => {
    const config = secondChance(error, tokens, mayAuthorize);
    if (config !== undefined) return instance.request(config);
    throw finishError(error, tokens, mayAuthorize);
  });
  return () => {
    instance.interceptors.request.eject(requestId);
    instance.interceptors.response.eject(refreshId);
    instance.interceptors.response.eject(finalId);
  };
}

/** Changes and returns the config it was given (never a clone), synchronously when the token is cached. */
function attachToken(config: Config, tokens: TokenManager, mayAuthorize: AuthorizePredicate): Config | Promise<Config> {
  if (!mayAuthorize(config)) return config;
  const set = (token: string): Config => {
    config.headers.set('Authorization', `Bearer ${token}`);
    return config;
  };
  if (config.skipAuthRefresh === true) {
    // A replay retires the token it was refused with: no grant if a newer token is already there, the shared renewal
    // if not, and, if the renewal that followed the token's first refusal failed, that failure rather than another
    // renewal for the same storm.
    const renewed = tokens.renewAfterRejection(bearerOf(config), config[SENT_AT_SEQ] ?? Infinity).then(() => {
      config[SENT_AT_SEQ] = tokens.attemptSeq;
      return tokens.getAccessToken();
    });
    return abortable(renewed, config.signal).then(set);
  }
  config[SENT_AT_SEQ] = tokens.attemptSeq;
  const cached = tokens.peekAccessToken();
  if (cached !== undefined) return set(cached);
  return abortable(tokens.getAccessToken(), config.signal).then(set);
}

/** Resolves with `promise`, or rejects promptly with axios's CanceledError when the request's own signal aborts. */
function abortable<T>(promise: Promise<T>, signal: GenericAbortSignal | undefined): Promise<T> {
  if (signal === undefined) return promise;
  if (signal.aborted) return Promise.reject(new axios.CanceledError());
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(new axios.CanceledError());
    signal.addEventListener?.('abort', onAbort, { once: true });
    promise.then(resolve, reject).finally(() => {
      signal.removeEventListener?.('abort', onAbort);
    });
  });
}

function shouldReplay(error: AxiosError, mayAuthorize: AuthorizePredicate): boolean {
  const config = error.config;
  return error.response?.status === 401 && config !== undefined && mayAuthorize(config) && isReplayable(config.data);
}

/** A stream (or anything readable once) cannot be sent twice; strings, buffers, forms and plain objects can. */
function isReplayable(data: unknown): boolean {
  return !(data !== null && typeof data === 'object' && 'pipe' in data && typeof data.pipe === 'function');
}

function bearerOf(config: InternalAxiosRequestConfig | undefined): string | undefined {
  const header = config?.headers.get('Authorization');
  return typeof header === 'string' && header.startsWith('Bearer ') ? header.slice(7) : undefined;
}

/** Set on a replay that is sent a second time; a Symbol key, copied by axios's mergeConfig like any own key. */
const SECOND_CHANCE = Symbol('axios-oauth-bearer.secondChance');

/**
 * The one exception to "replayed at most once": a replay refused with a token adopted from the shared store (see
 * TokenManager.adoptedFromStore) is sent once more, after a renewal that no longer trusts that token. Returns the
 * config to send again, or undefined.
 */
function secondChance(error: unknown, tokens: TokenManager, mayAuthorize: AuthorizePredicate): Config | undefined {
  if (!axios.isAxiosError(error) || error.response?.status !== 401 || error.config === undefined) return undefined;
  const config: Config & { [SECOND_CHANCE]?: boolean } = error.config;
  const eligible = config.skipAuthRefresh === true && config[SECOND_CHANCE] !== true && isReplayable(config.data);
  if (!eligible || !mayAuthorize(config) || !tokens.adoptedFromStore(bearerOf(config))) return undefined;
  config[SECOND_CHANCE] = true;
  return config;
}

/**
 * The last response interceptor: explains a 401 that could not be replayed, and keeps the token out of axios errors.
 * Axios errors hold the request config and the raw request (whose header block contains the token), so for requests
 * that carried our token the header is replaced and the request objects are made non-enumerable: still reachable,
 * never printed by `util.inspect(err)` (what logging uses) or `JSON.stringify(err)`.
 */
function finishError(error: unknown, tokens: TokenManager, mayAuthorize: AuthorizePredicate): unknown {
  if (!axios.isAxiosError(error) || error.config === undefined || !mayAuthorize(error.config)) return error;
  const config: Config = error.config;
  const rejected = bearerOf(config);
  if (rejected === undefined) return error;
  redactAxiosError(error);
  if (error.response?.status === 401 && config.skipAuthRefresh !== true && !isReplayable(config.data)) {
    // Renew in the background so the caller's next attempt has a good token.
    tokens.renewAfterRejection(rejected, config[SENT_AT_SEQ] ?? Infinity).catch(() => undefined);
    return new ReplayNotPossibleError(error.response);
  }
  return error;
}

function redactAxiosError(error: AxiosError): void {
  error.config?.headers.set('Authorization', `Bearer ${REDACTED}`);
  hide(error, 'request');
  if (error.response) hide(error.response, 'request');
}

function hide(target: AxiosError | AxiosResponse, key: 'request'): void {
  Object.defineProperty(target, key, { value: target[key] as unknown, enumerable: false, configurable: true, writable: true });
}
