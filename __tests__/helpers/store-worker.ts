/**
 * One "process" of the multi-process tests (__tests__/redis-multiprocess.test.ts): its own createAuthClient, its own
 * ioredis client and its own RedisTokenStore, pointed at the parent's loopback server and redis-server.
 *
 * Forked with `execArgv: ['--import', 'tsx']` and the {@link WorkerConfig} as JSON in argv[2]. It sends `{ type:
 * 'ready' }` once its Redis client is connected, then answers each {@link WorkerCommand} with a {@link WorkerReply}
 * carrying the same id. It exits on `exit`, and when the parent goes away (the IPC channel closes), so a crashed
 * test run leaves no process behind.
 */
import { once } from 'node:events';
import axios from 'axios';
import { Redis } from 'ioredis';

import { createAuthClient } from '../../src/client.js';
import type { OAuthBearerError } from '../../src/errors.js';
import { RedisTokenStore } from '../../src/redis.js';
import type { AuthServerCredentials } from '../../src/testing/server.js';

/** What a worker is built with. */
export interface WorkerConfig {
  readonly apiUrl: string;
  readonly credentials: AuthServerCredentials;
  readonly redisPort: number;
  readonly lockTtlMs?: number;
  /** Base64 of 32 bytes; every worker of a test gets the same one. */
  readonly encryptionKey?: string;
  readonly operationTimeoutMs?: number;
}

/** `burst`: send `count` concurrent GETs. `redisReady`: wait until the Redis client is connected again. */
export type WorkerRequest = { readonly type: 'burst'; readonly count: number } | { readonly type: 'redisReady' };

/** What the parent sends: a request with the id its reply will carry, or `exit`. */
export type WorkerCommand = (WorkerRequest & { readonly id: number }) | { readonly type: 'exit' };

/** The answer to a command: the burst's outcome, and what the worker saw since its previous answer. */
export interface WorkerReply {
  readonly type: 'reply';
  readonly id: number;
  readonly ok: number;
  readonly failed: number;
  /** Failed requests by error code (`HTTP_401` for an HTTP status). */
  readonly errors: Readonly<Record<string, number>>;
  /** Codes of the errors passed to `onError` (the token manager's and the store's) since the previous reply. */
  readonly reports: Readonly<Record<string, number>>;
  /** The token the worker holds now. */
  readonly accessToken: string | undefined;
  readonly refreshToken: string | undefined;
  readonly expiresAt: number | undefined;
}

const READY_WITHIN_MS = 10_000;

const config = JSON.parse(process.argv[2] ?? '{}') as WorkerConfig;
// Reconnect every 20 ms, and fail a queued command after one failed reconnect, so "Redis is down" shows at once.
const redis = new Redis({ host: '127.0.0.1', port: config.redisPort, retryStrategy: () => 20, maxRetriesPerRequest: 1 });
redis.on('error', () => undefined); // reported through the store's onError; ioredis would print it otherwise

let reports: Record<string, number> = {};
const onError = (error: OAuthBearerError): void => count(reports, error.code);

const store = new RedisTokenStore({
  client: redis,
  onError,
  ...(config.encryptionKey === undefined ? {} : { encryptionKey: config.encryptionKey }),
  // Eight processes on two cores can be slow to answer; only a Redis that is down should count as failed here.
  operationTimeoutMs: config.operationTimeoutMs ?? 2_000,
});
const api = createAuthClient({
  baseURL: config.apiUrl,
  auth: {
    ...config.credentials,
    store,
    onError,
    ...(config.lockTtlMs === undefined ? {} : { lockTtlMs: config.lockTtlMs }),
    retry: { attempts: 2, baseDelayMs: 20, maxDelayMs: 100 },
  },
});

function count(into: Record<string, number>, code: string): void {
  into[code] = (into[code] ?? 0) + 1;
}

function codeOf(error: unknown): string {
  if (axios.isAxiosError(error) && error.response !== undefined) return `HTTP_${error.response.status}`;
  const code: unknown = error instanceof Error ? Reflect.get(error, 'code') : undefined;
  return typeof code === 'string' ? code : 'UNKNOWN';
}

async function burst(id: number, size: number): Promise<WorkerReply> {
  const errors: Record<string, number> = {};
  const outcomes = await Promise.allSettled(Array.from({ length: size }, (_, n) => api.get(`/orders/${n}`)));
  for (const outcome of outcomes) if (outcome.status === 'rejected') count(errors, codeOf(outcome.reason));
  const failed = Object.values(errors).reduce((sum, n) => sum + n, 0);
  return reply(id, { ok: size - failed, failed, errors });
}

function reply(id: number, outcome: Pick<WorkerReply, 'ok' | 'failed' | 'errors'>): WorkerReply {
  const seen = reports;
  reports = {};
  const tokens = api.tokens.current;
  return {
    type: 'reply',
    id,
    ...outcome,
    reports: seen,
    accessToken: tokens?.accessToken,
    refreshToken: tokens?.refreshToken,
    expiresAt: tokens?.expiresAt,
  };
}

async function redisReady(id: number): Promise<WorkerReply> {
  if (redis.status !== 'ready') {
    const timer = setTimeout(() => process.exit(2), READY_WITHIN_MS);
    await once(redis, 'ready');
    clearTimeout(timer);
  }
  return reply(id, { ok: 0, failed: 0, errors: {} });
}

function exit(): void {
  redis.disconnect();
  process.exit(0);
}

process.on('message', (message: WorkerCommand) => {
  if (message.type === 'exit') {
    exit();
    return;
  }
  const answer = message.type === 'burst' ? burst(message.id, message.count) : redisReady(message.id);
  void answer.then((result) => process.send?.(result));
});
process.on('disconnect', exit);

void redisReady(0).then(() => process.send?.({ type: 'ready' }));
