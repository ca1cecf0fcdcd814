/**
 * One process of the multi-process scenarios (7, and 8 under faults): its own createAuthClient and its own store,
 * pointed at the benchmark's loopback server. The store is either its own ioredis client and RedisTokenStore on the
 * benchmark's redis-server (or on a delay proxy in front of it), or a FileTokenStore on a directory that every worker
 * of the pool shares (scenario 7's file-store variant). Forked by ./worker-pool.ts under tsx, with a
 * {@link StoreWorkerConfig} as JSON in argv[2].
 *
 * It sends `{ type: 'ready' }` once its store can be used (its Redis client connected; a file store at once), then
 * answers each `burst` (and each `renew`: one forced renewal, `tokens.refresh()`) with a {@link StoreWorkerReply}
 * carrying the same id. Bounded in every direction: a burst is capped at {@link MAX_BURST} requests, each request
 * has a timeout, and the process exits on `exit`, when the parent goes away (the IPC channel closes), and in any case
 * once `lifetimeMs` have passed, so no run can leave one behind.
 */
import { createHash } from 'node:crypto';
import { once } from 'node:events';

import axios from 'axios';
import { Redis } from 'ioredis';

import { FileTokenStore } from '../src/file.js';
import { createAuthClient, type RetryOptions, type TokenStore } from '../src/index.js';
import { RedisTokenStore } from '../src/redis.js';
import type { AuthServerCredentials } from '../src/testing/server.js';
import { describeError, keepAliveAgent } from './load.js';
import { advanceClock, realNow } from './virtual-clock.js';

/** What a worker is built with. */
export interface StoreWorkerConfig {
  readonly apiUrl: string;
  readonly credentials: AuthServerCredentials;
  /** The redis-server (or delay proxy) to share tokens through. Exactly one of `redisPort` and `fileDirectory` is given. */
  readonly redisPort?: number;
  /** The directory of a FileTokenStore that every worker of the pool shares (scenario 7's file-store variant). */
  readonly fileDirectory?: string;
  /** The worker exits by itself after this many milliseconds, whatever happens. */
  readonly lifetimeMs: number;
  /** Scenario 8 only (Redis); each is passed on only when given, so scenario 7 runs on the library's defaults. */
  readonly faults?: {
    /** Where the ioredis client connects (a delay proxy in front of redis-server). @default '127.0.0.1' */
    readonly redisHost?: string;
    /** `auth.leaseMs`. */
    readonly leaseMs?: number;
    /** `auth.timeout`: milliseconds before a token request is abandoned. */
    readonly tokenTimeoutMs?: number;
    readonly retry?: RetryOptions;
    /** The store's `operationTimeoutMs` (default here 2000). */
    readonly operationTimeoutMs?: number;
    /** The store's `circuitBreakerMs`. */
    readonly circuitBreakerMs?: number;
  };
}

/**
 * `burst`: send `count` concurrent GETs to `path/<n>`, answered with a reply of the same id. `renew`: one forced
 * renewal (`tokens.refresh()`), counted as one request. `clock`: move this process's clock forward by `advanceMs`
 * (./virtual-clock.ts), answered with an empty reply. `exit`: leave now.
 */
export type StoreWorkerCommand =
  | { readonly type: 'burst'; readonly id: number; readonly count: number; readonly path: string }
  | { readonly type: 'renew'; readonly id: number }
  | { readonly type: 'clock'; readonly id: number; readonly advanceMs: number }
  | { readonly type: 'exit' };

/** How a burst went in one process, and the token that process holds afterwards. */
export interface StoreWorkerReply {
  readonly type: 'reply';
  readonly id: number;
  readonly ok: number;
  readonly failures: number;
  readonly firstError: string | undefined;
  /** Errors passed to `onError` (the token manager's and the store's) during the burst: 0 expected. */
  readonly reported: number;
  /** A short hash of the access token held after the burst (never the token): equal across processes = shared. */
  readonly tokenFingerprint: string | undefined;
  readonly expiresAt: number | undefined;
  /** Epoch ms (Date.now()) when the burst started: comparable across the processes of one machine. */
  readonly startedAt: number;
  /** From the start until the last request settled. */
  readonly lastSettledMs: number;
  /** Each request's latency, from the start of the burst (all are started at once) until it settled, in ms. */
  readonly latenciesMs: readonly number[];
  /** Failed requests by error code (`HTTP_<status>` for an HTTP answer, the error's name without a code). */
  readonly errorCodes: Readonly<Record<string, number>>;
}

/** What a worker sends: ready once, then one reply per burst. */
export type StoreWorkerMessage = { readonly type: 'ready' } | StoreWorkerReply;

/** The most requests one burst may ask for. */
export const MAX_BURST = 10_000;
const READY_WITHIN_MS = 20_000;
const REQUEST_TIMEOUT_MS = 30_000;

function readConfig(): StoreWorkerConfig {
  const parsed: unknown = JSON.parse(process.argv[2] ?? 'null');
  const field = (name: keyof StoreWorkerConfig): unknown => (parsed !== null && typeof parsed === 'object' ? Reflect.get(parsed, name) : undefined);
  const redis = typeof field('redisPort') === 'number';
  const files = typeof field('fileDirectory') === 'string';
  if (typeof field('apiUrl') !== 'string' || redis === files || typeof field('lifetimeMs') !== 'number') {
    throw new TypeError('store-worker: argv[2] must be a StoreWorkerConfig as JSON, with either redisPort or fileDirectory');
  }
  return parsed as StoreWorkerConfig;
}

/** Only the fields that were given: an option set to `undefined` would still be an option passed. */
function given<T extends object>(fields: T): Partial<T> {
  return Object.fromEntries(Object.entries(fields).filter(([, value]) => value !== undefined)) as Partial<T>;
}

/** A failed request's error code: `HTTP_<status>` for an HTTP answer, else the library's code, else the error's name. */
function codeOf(error: unknown): string {
  if (axios.isAxiosError(error) && error.response !== undefined) return `HTTP_${error.response.status}`;
  const code: unknown = error instanceof Error ? Reflect.get(error, 'code') : undefined;
  if (typeof code === 'string') return code;
  return error instanceof Error ? error.name : typeof error;
}

function fingerprint(token: string | undefined): string | undefined {
  return token === undefined ? undefined : createHash('sha256').update(token).digest('hex').slice(0, 12);
}

function main(): void {
  const send = process.send?.bind(process);
  if (send === undefined) throw new Error('store-worker must be forked with an IPC channel');
  const config = readConfig();
  const faults = config.faults ?? {};
  let reported = 0;
  const onError = (): void => {
    reported += 1;
  };
  let store: TokenStore;
  let redis: Redis | undefined;
  if (config.fileDirectory === undefined) {
    // Reconnect quickly and fail a queued command after one failed reconnect: a Redis problem shows as a store error.
    redis = new Redis({ host: faults.redisHost ?? '127.0.0.1', port: config.redisPort, retryStrategy: () => 20, maxRetriesPerRequest: 1 });
    // Reported through the store's onError; ioredis would print it otherwise.
    redis.on('error', () => undefined);
    // Eight processes on two cores can be slow to answer: only a Redis that is down should count as failing.
    store = new RedisTokenStore({
      client: redis,
      onError,
      operationTimeoutMs: faults.operationTimeoutMs ?? 2_000,
      ...given({ circuitBreakerMs: faults.circuitBreakerMs }),
    });
  } else {
    // No encryptionKey, as the Redis store here has none: the variants differ in where the entries live, not in sealing.
    store = new FileTokenStore({ directory: config.fileDirectory, onError });
  }
  const api = createAuthClient({
    baseURL: config.apiUrl,
    httpAgent: keepAliveAgent(),
    timeout: REQUEST_TIMEOUT_MS,
    auth: {
      ...config.credentials,
      store,
      onError,
      ...given({ leaseMs: faults.leaseMs, timeout: faults.tokenTimeoutMs, retry: faults.retry }),
    },
  });

  const leave = (code: number): void => {
    redis?.disconnect();
    process.exit(code);
  };
  setTimeout(() => leave(3), config.lifetimeMs).unref();
  process.on('disconnect', () => leave(0));

  /** Runs `size` requests at once and tells how they went. */
  const run = async (id: number, size: number, request: (n: number) => Promise<unknown>): Promise<StoreWorkerReply> => {
    reported = 0;
    let ok = 0;
    let firstError: string | undefined;
    const errorCodes: Record<string, number> = {};
    const startedAt = Date.now();
    const started = realNow();
    let lastSettledMs = 0;
    const latenciesMs: number[] = [];
    const outcomes = await Promise.allSettled(
      Array.from({ length: size }, (_, n) =>
        request(n).finally(() => {
          lastSettledMs = realNow() - started;
          latenciesMs.push(lastSettledMs);
        }),
      ),
    );
    for (const outcome of outcomes) {
      if (outcome.status === 'fulfilled') {
        ok += 1;
        continue;
      }
      firstError ??= describeError(outcome.reason);
      const code = codeOf(outcome.reason);
      errorCodes[code] = (errorCodes[code] ?? 0) + 1;
    }
    const tokens = api.tokens.current;
    return {
      type: 'reply',
      id,
      ok,
      failures: size - ok,
      firstError,
      reported,
      tokenFingerprint: fingerprint(tokens?.accessToken),
      expiresAt: tokens?.expiresAt,
      startedAt,
      lastSettledMs,
      latenciesMs,
      errorCodes,
    };
  };

  process.on('message', (message: StoreWorkerCommand) => {
    if (message.type === 'exit') leave(0);
    else if (message.type === 'renew') void run(message.id, 1, () => api.tokens.refresh()).then((reply) => send(reply));
    else if (message.type === 'clock') {
      advanceClock(message.advanceMs);
      void run(message.id, 0, () => Promise.resolve()).then((reply) => send(reply));
    }
    else {
      const size = Math.max(0, Math.min(MAX_BURST, Math.floor(message.count)));
      void run(message.id, size, (n) => api.get(`${message.path}/${n}`)).then((reply) => send(reply));
    }
  });

  const readyTimer = setTimeout(() => leave(2), READY_WITHIN_MS);
  const ready = redis === undefined || redis.status === 'ready' ? Promise.resolve() : once(redis, 'ready');
  void ready.then(() => {
    clearTimeout(readyTimer);
    send({ type: 'ready' } satisfies StoreWorkerMessage);
  });
}

main();
