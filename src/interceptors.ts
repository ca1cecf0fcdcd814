/**
 * The axios side: a request interceptor that attaches the token, and 401 handling through axios-auth-refresh that
 * renews once and replays each failed request once (with two bounded exceptions: see secondChance). The token manager does the renewing.
 *
 * axios-auth-refresh is configured against its defaults on purpose: with `deduplicateRefresh: true` it rejects every
 * 401 that arrives while a refresh runs (upstream issue #307), so it is off, and the single flight is ours. Its
 * refresh function resolves at once and the renewal happens in the replay's own pass through the request interceptor
 * below, because the library parks every new request of the instance behind that function's promise, whatever the
 * request's signal, skipAuth or origin, and fails them all with a generic CanceledError if it rejects. In the request
 * interceptor a replay waits on the shared renewal, bounded like any wait for a token by the request's signal and
 * axios `timeout` (see bounded), and, if the renewal failed, rejects with its typed error.
 *
 * Every config, response and error of the instance gets a redacted printed form (redacted-view.ts), and every redirect
 * of an authenticated request follows the hop rule (redirects.ts). A request that brings its own `Authorization`
 * header is the caller's: it is sent as it is, and its 401 is the caller's to handle.
 */
import axios, {
  type AxiosError,
  type AxiosInstance,
  type AxiosResponse,
  type InternalAxiosRequestConfig,
} from 'axios';
import { createAuthRefresh } from 'axios-auth-refresh';

import type { TokenCaches } from './accounts.js';
import { monotonicNow } from './clock.js';
import { methodName, publishReplay, publishTokenWait, willPublishTokenWait } from './diagnostics.js';
import { ReplayNotPossibleError } from './errors.js';
import type { AuthorizePredicate, UrlPredicate } from './origins.js';
import { REDACTED } from './redact.js';
import { createRedactedViews, type RedactedViews } from './redacted-view.js';
import { finalUrlOf, guardRedirects, nextHop } from './redirects.js';
import type { TokenCache } from './token-cache.js';

/** Set on a request config by axios-auth-refresh when it replays the request. */
interface ReplayMarker {
  skipAuthRefresh?: boolean;
}

/** The renewal count when the token was attached; a Symbol key so it never collides with axios's own options. */
const SENT_AT_SEQ = Symbol('axios-oauth-bearer.sentAtSeq');
interface SeqMarker {
  [SENT_AT_SEQ]?: number;
}

/** The token this request was sent with, until it completes: the mark of a request the library authenticated. */
const SENT_TOKEN = Symbol('axios-oauth-bearer.sentToken');
interface SentMarker {
  [SENT_TOKEN]?: string | undefined;
}

/**
 * Set by shouldReplay on a config this library asked axios-auth-refresh to replay. `skipAuthRefresh` alone does not
 * make a replay: it is axios-auth-refresh's public option too, and a caller who sets it on a request of their own
 * (to keep that request out of refresh handling) must not have their `Authorization` header replaced, nor the token
 * in it treated as refused.
 */
const OUR_REPLAY = Symbol('axios-oauth-bearer.replay');
interface OurReplayMarker {
  [OUR_REPLAY]?: boolean;
}

/**
 * The token cache a request was authenticated by (its account's), with the `account` it was looked up for and the
 * interceptors (`context`) that looked it up: its replay goes back to it, whatever happened to the account's entry
 * meanwhile. axios copies Symbol keys with a config, so a config re-sent by the caller (a failed request's
 * err.config, to another instance, for another account, after the account was dropped) carries it too: it pins only
 * for the same interceptors and account, and only until the request is finished (`done`). Never printed (printers
 * see string keys only) and never sent.
 */
const CACHE = Symbol('axios-oauth-bearer.cache');
/**
 * A class, not a plain object: axios's mergeConfig deep-copies plain objects, which would make a copy's `context`
 * another object than the interceptors' own; an instance is copied by reference.
 */
class CacheMark {
  done = false;
  constructor(
    readonly cache: TokenCache,
    readonly account: unknown,
    readonly context: Context,
  ) {}
}
interface CacheMarker {
  [CACHE]?: CacheMark | undefined;
}

type Config = InternalAxiosRequestConfig & ReplayMarker & SeqMarker & SentMarker & OurReplayMarker & CacheMarker;

/** True for the replay of a request this library authenticated and asked to replay. */
function isOurReplay(config: Config): boolean {
  return config.skipAuthRefresh === true && config[OUR_REPLAY] === true;
}

/** What the interceptors of one instance share. */
interface Context {
  readonly instance: AxiosInstance;
  /** The caches, by the request's `account` (one cache for a single-account client). */
  readonly caches: TokenCaches;
  /** May this request get the token (skipAuth, allowed origin, not the token endpoint)? */
  readonly mayAuthorize: AuthorizePredicate;
  /** The same rule for an absolute URL: a redirect's next hop, a response's final URL. */
  readonly allowsUrl: UrlPredicate;
  readonly views: RedactedViews;
}

const REDACTED_BEARER = `Bearer ${REDACTED}`;

/** Installs the interceptors; returns a function that removes exactly them (and the printed forms they gave). */
export function installInterceptors(
  instance: AxiosInstance,
  caches: TokenCaches,
  /** What the instance's printed form shows as its `tokens`: the user's view, never a cache. */
  shown: object,
  mayAuthorize: AuthorizePredicate,
  allowsUrl: UrlPredicate,
): () => void {
  const context: Context = { instance, caches, mayAuthorize, allowsUrl, views: createRedactedViews(() => caches.knownSecrets()) };
  const requestId = instance.interceptors.request.use((config: Config) => attachToken(config, context));
  const refreshId = createAuthRefresh(
    instance,
    // Resolves at once: see the module comment. The replay renews.
    () => Promise.resolve(),
    {
      shouldRefresh: (error: AxiosError) => shouldReplay(error, context),
      deduplicateRefresh: false,
      maxRetries: 1,
    },
  );
  const finalId = instance.interceptors.response.use(
    (response: AxiosResponse) => finishResponse(response, context),
    (error: unknown) => {
      const hop = axios.isAxiosError(error) ? nextHop(instance, error.response) : undefined;
      if (hop !== undefined) return instance.request(hop);
      const config = secondChance(error, context);
      if (config !== undefined) return instance.request(config);
      throw finishError(error, context);
    },
  );
  const undoViews = context.views.instance(instance, shown);
  return () => {
    instance.interceptors.request.eject(requestId);
    instance.interceptors.response.eject(refreshId);
    instance.interceptors.response.eject(finalId);
    undoViews();
  };
}

/** Changes and returns the config it was given (never a clone), synchronously when the token is cached. */
function attachToken(config: Config, context: Context): Config | Promise<Config> {
  context.views.config(config);
  // Each pass decides afresh: a config copied from another (a redirect hop, a re-sent err.config) may carry its mark.
  config[SENT_TOKEN] = undefined;
  if (!context.mayAuthorize(config)) return config;
  // A replay goes back to the cache that was refused (see CacheMark); any other pass, a finished request re-sent
  // included, looks up the request's account (and throws a ConfigurationError, before anything is sent, for a request
  // that names none on a multi-account client) and is a fresh request, with the numbering of its own cache.
  const mark = config[CACHE];
  const pinned = mark !== undefined && !mark.done && mark.context === context && mark.account === config.account ? mark.cache : undefined;
  const replay = pinned !== undefined && isOurReplay(config);
  if (!replay && isCallersOwn(config, context)) return config;
  const tokens = replay ? pinned : context.caches.forRequest(config.account);
  config[CACHE] = new CacheMark(tokens, config.account, context);
  const set = (token: string): Config => {
    const bearer = `Bearer ${token}`;
    config.headers.set('Authorization', bearer);
    config[SENT_TOKEN] = token;
    guardRedirects(config, bearer, context.allowsUrl);
    return config;
  };
  if (replay) {
    // A replay retires the token it was refused with: no grant if a newer token is already there, the shared renewal
    // if not, and, if the renewal that followed the token's first refusal failed, that failure rather than another
    // renewal for the same storm.
    const renewed = tokens.replay.renewAfterRejection(bearerOf(config), config[SENT_AT_SEQ] ?? Infinity).then(() => {
      config[SENT_AT_SEQ] = tokens.replay.attemptSeq;
      return tokens.getAccessToken();
    });
    return bounded(renewed, config, context).then((token) => {
      // Published once the replay is really sent again: not for one whose renewal failed or whose wait ended.
      publishReplay(() => ({ method: methodName(config.method) }));
      return set(token);
    });
  }
  config[SENT_AT_SEQ] = tokens.replay.attemptSeq;
  const cached = tokens.peekAccessToken();
  // Hot path: a cached token is attached synchronously, with no timer and no promise.
  if (cached !== undefined) return set(cached);
  return waited(bounded(tokens.getAccessToken(), config, context)).then(set);
}

/** A request that had no usable token waits for one: the wait is told to the token-wait channel, however it ends. */
function waited(token: Promise<string>): Promise<string> {
  if (!willPublishTokenWait()) return token;
  const started = monotonicNow();
  return token.then(
    (value) => {
      publishTokenWait(() => ({ outcome: 'success', durationMs: monotonicNow() - started }));
      return value;
    },
    (error: unknown) => {
      publishTokenWait(() => ({ outcome: 'failure', durationMs: monotonicNow() - started }));
      throw error;
    },
  );
}

/**
 * True when the caller put an `Authorization` header on this request: it wins (the request runs as whoever that header
 * names), so no token is attached and its 401 starts nothing. A header the library set (a token of its own, or the
 * redacted one an error's config is re-sent with) and one inherited from the instance's defaults do not count.
 */
function isCallersOwn(config: Config, context: Context): boolean {
  // axios's own `auth` option becomes a Basic Authorization header in the adapter: the caller's, just the same.
  if (config.auth !== undefined) return true;
  const value: unknown = config.headers.get('Authorization');
  if (value === undefined || value === null || value === false || value === '') return false;
  if (typeof value === 'string' && isOurs(value, context.caches)) return false;
  const defaults = context.instance.defaults.headers as unknown as Record<string, Record<string, unknown> | undefined>;
  // `axios.create({ headers: { Authorization } })` keeps it at the top of defaults.headers, beside common and the methods.
  const top = defaults as unknown as Record<string, unknown>;
  const inherited = [top, defaults.common, defaults[(config.method ?? 'get').toLowerCase()]].flatMap((headers) =>
    headers === undefined ? [] : Object.entries(headers).filter(([name]) => name.toLowerCase() === 'authorization'),
  );
  return !inherited.some(([, header]) => header === value);
}

function isOurs(value: string, caches: TokenCaches): boolean {
  if (value === REDACTED_BEARER) return true;
  return value.startsWith('Bearer ') && caches.knownSecrets().includes(value.slice(7));
}

/** setTimeout's largest delay; a longer one would fire at once (Node clamps it to 1 ms). */
const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * Resolves with `promise` (the wait for a token), or rejects promptly when the request runs out first: with axios's
 * CanceledError when its own signal aborts, and with axios's own timeout error when its `timeout` elapses, measured
 * from the start of this wait. The shared renewal behind `promise` is never cancelled: the other requests still get
 * its token, and its outcome is always handled here, so a failure after the caller gave up rejects nothing unhandled.
 *
 * Decision: the HTTP request that follows a wait gets axios's full `timeout` all the same. axios's timeout is per
 * attempt (a 401's replay gets the full timeout again too), so config.timeout is not shortened by the wait.
 */
function bounded<T>(promise: Promise<T>, config: Config, context: Context): Promise<T> {
  const { signal } = config;
  const ms = timeoutOf(config);
  if (signal === undefined && ms === undefined) return promise;
  if (signal?.aborted === true) {
    promise.catch(() => undefined);
    return Promise.reject(new axios.CanceledError());
  }
  return new Promise<T>((resolve, reject) => {
    let timer: ReturnType<typeof setTimeout> | undefined;
    // Whichever ends the wait first clears the other: no timer outlives it, no listener stays on the signal.
    const end = (): void => {
      clearTimeout(timer);
      signal?.removeEventListener?.('abort', onAbort);
    };
    const onAbort = (): void => {
      end();
      reject(new axios.CanceledError());
    };
    if (ms !== undefined) {
      timer = setTimeout(() => {
        end();
        retireRefused(config, context);
        reject(timeoutError(config));
      }, ms);
      timer.unref();
    }
    signal?.addEventListener?.('abort', onAbort, { once: true });
    promise.then(resolve, reject).finally(end);
  });
}

/** axios's `timeout` as its http adapter reads it (an integer; `0`, none or not a number: no timeout), in timer range. */
function timeoutOf(config: Config): number | undefined {
  const { timeout } = config as { timeout?: unknown };
  if (timeout === undefined || timeout === 0) return undefined;
  const ms = typeof timeout === 'number' || typeof timeout === 'string' ? Number.parseInt(String(timeout), 10) : Number.NaN;
  // NaN is left to the adapter, which rejects it; beyond a timer's range the wait is unbounded (24.8 days is plenty).
  return ms > 0 && ms <= MAX_TIMER_MS ? ms : undefined;
}

/**
 * The error axios's http (and xhr) adapter rejects with when `timeout` runs out, built the same way: the message is
 * `timeoutErrorMessage` when set, else `timeout of ${timeout}ms exceeded`; the code ETIMEDOUT with
 * `transitional.clarifyTimeoutError`, else ECONNABORTED. (axios's fetch adapter always says ETIMEDOUT with the default
 * message; this one error follows the adapters that honour both options, whichever adapter the request would use.)
 */
function timeoutError(config: Config): AxiosError {
  const { timeout } = config as { timeout?: unknown };
  const custom = config.timeoutErrorMessage;
  const message = custom !== undefined && custom !== '' ? custom : `timeout of ${String(timeout)}ms exceeded`;
  const code = config.transitional?.clarifyTimeoutError === true ? axios.AxiosError.ETIMEDOUT : axios.AxiosError.ECONNABORTED;
  return new axios.AxiosError(message, code, config);
}

/** A replay that gave up keeps the refused token in its header: its config (the error's) gets the redacted one. */
function retireRefused(config: Config, context: Context): void {
  const header: unknown = config.headers.get('Authorization');
  if (typeof header === 'string' && header !== REDACTED_BEARER && isOurs(header, context.caches)) {
    config.headers.set('Authorization', REDACTED_BEARER);
  }
}

/** A 401 to a request that carried our token, from a hop that may have it (not a redirect target elsewhere). */
function isOurRefusal(error: AxiosError, context: Context): boolean {
  const config: Config | undefined = error.config;
  if (error.response?.status !== 401 || config?.[SENT_TOKEN] === undefined) return false;
  const finalUrl = finalUrlOf(error.response);
  return finalUrl === undefined || context.allowsUrl(finalUrl);
}

function shouldReplay(error: AxiosError, context: Context): boolean {
  const config: Config | undefined = error.config;
  if (config === undefined || !isOurRefusal(error, context) || !isReplayable(config.data)) return false;
  // axios-auth-refresh replays this very config, with skipAuthRefresh set, through axios's mergeConfig, which copies
  // Symbol keys: the replay carries the mark.
  config[OUR_REPLAY] = true;
  return true;
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
 * The two exceptions to "replayed at most once", both bounded to one more send: a replay refused with a token adopted
 * from the shared store (see ReplayProtocol.adoptedFromStore), sent again after a renewal that no longer trusts it; and a
 * replay refused with a token that a newer one replaced while it was in flight (a server that revokes the old access
 * token when it rotates), sent again with the current token. A replay refused with the current token is final.
 * Returns the config to send again, or undefined.
 */
function secondChance(error: unknown, context: Context): Config | undefined {
  if (!axios.isAxiosError(error) || error.config === undefined || !isOurRefusal(error, context)) return undefined;
  const config: Config & { [SECOND_CHANCE]?: boolean } = error.config;
  const eligible = isOurReplay(config) && config[SECOND_CHANCE] !== true && isReplayable(config.data);
  const rejected = bearerOf(config);
  const replay = config[CACHE]?.cache.replay;
  if (!eligible || replay === undefined || !(replay.adoptedFromStore(rejected) || replay.supersedes(rejected))) return undefined;
  config[SECOND_CHANCE] = true;
  return config;
}

/** A successful answer: its printed form, and the token out of its config now that it has been sent. */
function finishResponse(response: AxiosResponse, context: Context): AxiosResponse | Promise<AxiosResponse> {
  const hop = nextHop(context.instance, response);
  if (hop !== undefined) return context.instance.request(hop);
  context.views.response(response);
  retireToken(response.config);
  finish(response.config);
  return response;
}

/**
 * The last response interceptor: explains a 401 that could not be replayed, and keeps the token out of axios errors.
 * Axios errors hold the request config and the raw request (whose header block contains the token), so the header is
 * replaced, the request objects are made non-enumerable (still reachable, never walked by a printer) and the error,
 * its config and its response print through their redacted views.
 */
function finishError(error: unknown, context: Context): unknown {
  if (!axios.isAxiosError(error)) return error;
  context.views.error(error);
  hide(error, 'request');
  if (error.response) hide(error.response, 'request');
  const config: Config | undefined = error.config;
  if (config !== undefined) finish(config);
  const rejected = config?.[SENT_TOKEN];
  if (config === undefined || rejected === undefined) return error;
  const refused = isOurRefusal(error, context);
  retireToken(config);
  if (!refused || error.response === undefined || isOurReplay(config)) return error;
  const callersOptOut = config.skipAuthRefresh === true;
  if (!callersOptOut && isReplayable(config.data)) return error;
  // Not replayed: a stream body cannot be sent twice, or the caller kept this request out of refresh handling
  // (axios-auth-refresh's own skipAuthRefresh: its 401 is theirs, as sent). Either way the token is retired and renewed
  // in the background, so the caller's next attempt has a good one.
  config[CACHE]?.cache.replay.renewAfterRejection(rejected, config[SENT_AT_SEQ] ?? Infinity).catch(() => undefined);
  return callersOptOut ? error : new ReplayNotPossibleError(error.response);
}

/** The request is done: the header its config keeps is the redacted one (re-sending it attaches the current token). */
function retireToken(config: Config): void {
  const token = config[SENT_TOKEN];
  if (token === undefined) return;
  config[SENT_TOKEN] = undefined;
  const { headers } = config;
  // Hot path: the header the interceptor set sits under the name it was set with; a plain assignment is a tenth of
  // what AxiosHeaders#set costs (it normalizes and validates). Anything else goes through set().
  if (headers.Authorization === `Bearer ${token}`) headers.Authorization = REDACTED_BEARER;
  else headers.set('Authorization', REDACTED_BEARER);
}

/** The request is over: its config, re-sent, is a new request (see CacheMark). The cache stays for redaction. */
function finish(config: Config): void {
  const mark = config[CACHE];
  if (mark !== undefined) mark.done = true;
}

function hide(target: AxiosError | AxiosResponse, key: 'request'): void {
  Object.defineProperty(target, key, { value: target[key] as unknown, enumerable: false, configurable: true, writable: true });
}
