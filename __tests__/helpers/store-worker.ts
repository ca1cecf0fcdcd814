/**
 * One "process" of the multi-process tests (__tests__/redis-multiprocess.test.ts, __tests__/redis-faults.test.ts): its
 * own createAuthClient, its own ioredis client and its own RedisTokenStore, pointed at the parent's loopback server and
 * redis-server (or at a delay proxy in front of it: `redisHost`/`redisPort`).
 *
 * Bundled into one CommonJS file first (./store-worker-bundle.ts), then forked with plain `node` and the
 * {@link WorkerConfig} as JSON in argv[2]. It sends `{ type:
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
import type { RetryOptions } from '../../src/retry.js';
import type { AuthServerCredentials } from '../../src/testing/server.js';
import { advanceClock } from '../../bench/virtual-clock.js';

/** What a worker is built with. Every optional field is passed on only when given, so the library's default applies. */
export interface WorkerConfig {
  readonly apiUrl: string;
  readonly credentials: AuthServerCredentials;
  /** Where the worker's ioredis client connects: the redis-server, or a delay proxy in front of it. */
  readonly redisPort: number;
  /** @default '127.0.0.1' */
  readonly redisHost?: string;
  /** The renewal lease's length (`auth.leaseMs`). */
  readonly leaseMs?: number;
  /** The option of the lock protocol that `leaseMs` replaced (`auth.lockTtlMs`), passed through as given. */
  readonly lockTtlMs?: number;
  /** Milliseconds before a token request is abandoned (`auth.timeout`). */
  readonly timeout?: number;
  /** Merged over the worker's own retry policy (2 attempts, 20-100 ms backoff). */
  readonly retry?: RetryOptions;
  /** Base64 of 32 bytes; every worker of a test gets the same one. */
  readonly encryptionKey?: string;
  /** @default 2000 (not the store's default: eight processes on two cores can be slow to answer) */
  readonly operationTimeoutMs?: number;
  /** How long the store skips Redis after a failure (RedisTokenStore's `circuitBreakerMs`). */
  readonly circuitBreakerMs?: number;
}

/**
 * `burst`: send `count` concurrent GETs. `timedBurst`: the same, and the reply carries its {@link BurstTiming}.
 * `redisReady`: wait until the Redis client is connected again. `clock`: move this process's `Date.now()` and
 * `performance.now()` forward by `advanceMs` (bench/virtual-clock.ts), so a test ages the shared token past its expiry
 * at once instead of sleeping through it; send it only while nothing is in flight.
 */
export type WorkerRequest =
  | { readonly type: 'burst'; readonly count: number }
  | { readonly type: 'timedBurst'; readonly count: number }
  | { readonly type: 'redisReady' }
  | { readonly type: 'clock'; readonly advanceMs: number };

/** When a timed burst's requests settled, measured in the worker. */
export interface BurstTiming {
  /** Epoch milliseconds (Date.now()) when the burst was sent: comparable across the processes of one machine. */
  readonly startedAt: number;
  /** From the start until the last request settled. */
  readonly elapsedMs: number;
  /** From the start until the first request settled (fulfilled or rejected). */
  readonly firstSettledMs: number;
  /** From the start until the last request settled (the same as `elapsedMs`). */
  readonly lastSettledMs: number;
}

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
  /**
   * The same errors, each as `code operation/reason: message` (operation and reason only for store errors), in order,
   * at most {@link MAX_REPORT_DETAILS}: the library's messages hold no secret, so they may cross the IPC channel.
   */
  readonly reportDetails: readonly string[];
  /** Only in the reply to `timedBurst`. */
  readonly timing?: BurstTiming;
  /** The token the worker holds now. */
  readonly accessToken: string | undefined;
  readonly refreshToken: string | undefined;
  readonly expiresAt: number | undefined;
}

const READY_WITHIN_MS = 10_000;
/** How many report details one reply carries at most (a storm of reports must not flood the IPC channel). */
export const MAX_REPORT_DETAILS = 50;

const config = JSON.parse(process.argv[2] ?? '{}') as WorkerConfig;
// Reconnect every 20 ms, and fail a queued command after one failed reconnect, so "Redis is down" shows at once.
const redis = new Redis({
  host: config.redisHost ?? '127.0.0.1',
  port: config.redisPort,
  retryStrategy: () => 20,
  maxRetriesPerRequest: 1,
});
redis.on('error', () => undefined); // reported through the store's onError; ioredis would print it otherwise

let reports: Record<string, number> = {};
let reportDetails: string[] = [];
const onError = (error: OAuthBearerError): void => {
  count(reports, error.code);
  if (reportDetails.length < MAX_REPORT_DETAILS) reportDetails.push(describeReport(error));
};

/** Only the fields that were given: an option set to `undefined` would still be an option passed. */
function given<T extends object>(fields: T): Partial<T> {
  return Object.fromEntries(Object.entries(fields).filter(([, value]) => value !== undefined)) as Partial<T>;
}

const store = new RedisTokenStore({
  client: redis,
  onError,
  // Eight processes on two cores can be slow to answer; only a Redis that is down should count as failed here.
  operationTimeoutMs: config.operationTimeoutMs ?? 2_000,
  ...given({ encryptionKey: config.encryptionKey, circuitBreakerMs: config.circuitBreakerMs }),
});
const api = createAuthClient({
  baseURL: config.apiUrl,
  auth: {
    ...config.credentials,
    store,
    onError,
    ...given({ leaseMs: config.leaseMs, lockTtlMs: config.lockTtlMs, timeout: config.timeout }),
    retry: { attempts: 2, baseDelayMs: 20, maxDelayMs: 100, ...given(config.retry ?? {}) },
  },
});

function describeReport(error: OAuthBearerError): string {
  const operation: unknown = Reflect.get(error, 'operation');
  const reason: unknown = Reflect.get(error, 'reason');
  const where = typeof operation === 'string' && typeof reason === 'string' ? ` ${operation}/${reason}` : '';
  return `${error.code}${where}: ${error.message}`;
}

function count(into: Record<string, number>, code: string): void {
  into[code] = (into[code] ?? 0) + 1;
}

function codeOf(error: unknown): string {
  if (axios.isAxiosError(error) && error.response !== undefined) return `HTTP_${error.response.status}`;
  const code: unknown = error instanceof Error ? Reflect.get(error, 'code') : undefined;
  return typeof code === 'string' ? code : 'UNKNOWN';
}

async function burst(id: number, size: number, timed: boolean): Promise<WorkerReply> {
  const errors: Record<string, number> = {};
  const startedAt = Date.now();
  const started = performance.now();
  const settled: number[] = [];
  const outcomes = await Promise.allSettled(
    Array.from({ length: size }, (_, n) =>
      api.get(`/orders/${n}`).finally(() => settled.push(performance.now() - started)),
    ),
  );
  for (const outcome of outcomes) if (outcome.status === 'rejected') count(errors, codeOf(outcome.reason));
  const failed = Object.values(errors).reduce((sum, n) => sum + n, 0);
  const last = settled.length === 0 ? 0 : Math.max(...settled);
  const timing: BurstTiming = { startedAt, elapsedMs: last, firstSettledMs: settled.length === 0 ? 0 : Math.min(...settled), lastSettledMs: last };
  return reply(id, { ok: size - failed, failed, errors, ...(timed ? { timing } : {}) });
}

function reply(id: number, outcome: Pick<WorkerReply, 'ok' | 'failed' | 'errors' | 'timing'>): WorkerReply {
  const seen = reports;
  const details = reportDetails;
  reports = {};
  reportDetails = [];
  const tokens = api.tokens.current;
  return {
    type: 'reply',
    id,
    ...outcome,
    reports: seen,
    reportDetails: details,
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

function answerTo(message: Exclude<WorkerCommand, { type: 'exit' }>): Promise<WorkerReply> {
  switch (message.type) {
    case 'redisReady':
      return redisReady(message.id);
    case 'clock':
      advanceClock(message.advanceMs);
      return Promise.resolve(reply(message.id, { ok: 0, failed: 0, errors: {} }));
    default:
      return burst(message.id, message.count, message.type === 'timedBurst');
  }
}

process.on('message', (message: WorkerCommand) => {
  if (message.type === 'exit') {
    exit();
    return;
  }
  const answer = answerTo(message);
  void answer.then((result) => process.send?.(result));
});
process.on('disconnect', exit);

void redisReady(0).then(() => process.send?.({ type: 'ready' }));
