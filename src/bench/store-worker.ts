/**
 * One process of the multi-process scenario: its own createAuthClient, its own ioredis client and its own
 * RedisTokenStore, pointed at the benchmark's loopback server and redis-server. Forked by ./worker-pool.ts under tsx,
 * with a {@link StoreWorkerConfig} as JSON in argv[2].
 *
 * It sends `{ type: 'ready' }` once its Redis client is connected, then answers each `burst` with a
 * {@link StoreWorkerReply} carrying the same id. Bounded in every direction: a burst is capped at
 * {@link MAX_BURST} requests, each request has a timeout, and the process exits on `exit`, when the parent goes away
 * (the IPC channel closes), and in any case once `lifetimeMs` have passed, so no run can leave one behind.
 */
import { createHash } from 'node:crypto';
import { once } from 'node:events';

import { Redis } from 'ioredis';

import { createAuthClient } from '../index.js';
import { RedisTokenStore } from '../redis.js';
import type { AuthServerCredentials } from '../testing/server.js';
import { describeError, keepAliveAgent } from './load.js';

/** What a worker is built with. */
export interface StoreWorkerConfig {
  readonly apiUrl: string;
  readonly credentials: AuthServerCredentials;
  readonly redisPort: number;
  /** The worker exits by itself after this many milliseconds, whatever happens. */
  readonly lifetimeMs: number;
}

/** `burst`: send `count` concurrent GETs to `path/<n>`, answered with a reply of the same id. `exit`: leave now. */
export type StoreWorkerCommand =
  | { readonly type: 'burst'; readonly id: number; readonly count: number; readonly path: string }
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
  if (typeof field('apiUrl') !== 'string' || typeof field('redisPort') !== 'number' || typeof field('lifetimeMs') !== 'number') {
    throw new TypeError('store-worker: argv[2] must be a StoreWorkerConfig as JSON');
  }
  return parsed as StoreWorkerConfig;
}

function fingerprint(token: string | undefined): string | undefined {
  return token === undefined ? undefined : createHash('sha256').update(token).digest('hex').slice(0, 12);
}

function main(): void {
  const send = process.send?.bind(process);
  if (send === undefined) throw new Error('store-worker must be forked with an IPC channel');
  const config = readConfig();
  // Reconnect quickly and fail a queued command after one failed reconnect: a Redis problem shows as a store error.
  const redis = new Redis({ host: '127.0.0.1', port: config.redisPort, retryStrategy: () => 20, maxRetriesPerRequest: 1 });
  // Reported through the store's onError; ioredis would print it otherwise.
  redis.on('error', () => undefined);
  let reported = 0;
  const onError = (): void => {
    reported += 1;
  };
  // Eight processes on two cores can be slow to answer: only a Redis that is down should count as failing.
  const store = new RedisTokenStore({ client: redis, onError, operationTimeoutMs: 2_000 });
  const api = createAuthClient({
    baseURL: config.apiUrl,
    httpAgent: keepAliveAgent(),
    timeout: REQUEST_TIMEOUT_MS,
    auth: { ...config.credentials, store, onError },
  });

  const leave = (code: number): void => {
    redis.disconnect();
    process.exit(code);
  };
  setTimeout(() => leave(3), config.lifetimeMs).unref();
  process.on('disconnect', () => leave(0));

  const burst = async (id: number, count: number, path: string): Promise<StoreWorkerReply> => {
    reported = 0;
    let ok = 0;
    let firstError: string | undefined;
    const size = Math.max(0, Math.min(MAX_BURST, Math.floor(count)));
    const outcomes = await Promise.allSettled(Array.from({ length: size }, (_, n) => api.get(`${path}/${n}`)));
    for (const outcome of outcomes) {
      if (outcome.status === 'fulfilled') ok += 1;
      else firstError ??= describeError(outcome.reason);
    }
    const tokens = api.tokens.current;
    return { type: 'reply', id, ok, failures: size - ok, firstError, reported, tokenFingerprint: fingerprint(tokens?.accessToken), expiresAt: tokens?.expiresAt };
  };

  process.on('message', (message: StoreWorkerCommand) => {
    if (message.type === 'exit') leave(0);
    else void burst(message.id, message.count, message.path).then((reply) => send(reply));
  });

  const readyTimer = setTimeout(() => leave(2), READY_WITHIN_MS);
  const ready = redis.status === 'ready' ? Promise.resolve() : once(redis, 'ready');
  void ready.then(() => {
    clearTimeout(readyTimer);
    send({ type: 'ready' } satisfies StoreWorkerMessage);
  });
}

main();
