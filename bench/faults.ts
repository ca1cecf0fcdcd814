/**
 * Scenario 8: the shared Redis store under faults. Like scenario 7 it starts its own redis-server (SKIPPED, never a
 * failure, when none is installed) and real worker processes (./store-worker.ts); the faults are real too:
 * - slow Redis: one worker reaches Redis through ./delay-proxy.ts; one forced renewal (`tokens.refresh()`) is timed
 *   with the proxy passing replies at once, then with every reply `redisDelayMs` late. The renewal protocol makes two
 *   Redis round trips (acquire, then commit), so it should cost about two delays more, not three or more.
 * - token endpoint hangs: every token request hangs until the token timeout. One process alone fails after its
 *   attempts (and its one escalation to a password grant); then all processes at once, where one holds the lease and
 *   the others should fail from its shared failure record as soon as it fails, not each after its own attempts.
 * - dead holder: the lease holder's token request hangs and the process is SIGKILLed; the others must take the lease
 *   over within about one lease (it lapses at most one lease after its last extension) and make one grant.
 *
 * The authorization server runs in this process, not in a child like scenarios 1-7: the child's IPC controls have no
 * failNext or fault hook, and this scenario measures time in the workers, not this process's CPU.
 */
import { Redis } from 'ioredis';

import { type AuthServer, startAuthServer } from '../src/testing/server.js';
import { type DelayProxy, startDelayProxy } from './delay-proxy.js';
import { type Progress, sleep } from './load.js';
import { startRedis } from './redis-child.js';
import { median } from './stats.js';
import type { StoreWorkerConfig, StoreWorkerReply } from './store-worker.js';
import { type PoolWorker, startWorkers, type WorkerPool } from './worker-pool.js';

/** Sizes of scenario 8. */
export interface FaultsParams {
  /** Processes of the hang measurement; the takeover kills one of them and the others take over. */
  readonly processes: number;
  readonly leaseMs: number;
  /** The workers' token request timeout (`auth.timeout`) during the hang. */
  readonly tokenTimeoutMs: number;
  /** How late every Redis reply is in the slow-Redis measurement. */
  readonly redisDelayMs: number;
  /** The token endpoint's latency during the slow-Redis renewals: the grant the target allows for. */
  readonly grantLatencyMs: number;
  /** Timed renewals with and without the delay. */
  readonly samples: number;
}

/** The takeover after a SIGKILLed lease holder. */
export interface TakeoverResult {
  readonly leaseMs: number;
  readonly survivors: number;
  /** Token requests that reached the server before the kill: the holder's (hung) one, 1 expected. */
  readonly requestsBeforeKill: number;
  /** From the SIGKILL until the first token request after it (a survivor took the lease over and asked). */
  readonly takeoverMs: number;
  /** From the SIGKILL until the survivors' last request was answered. */
  readonly servedMs: number;
  readonly ok: number;
  readonly failures: number;
  /** Tokens issued from the holder's lease on (its own request issued none): 1 expected. */
  readonly grants: number;
}

/** Time to fail while the token endpoint hangs, one process alone and all at once. */
export interface HangResult {
  readonly processes: number;
  readonly tokenTimeoutMs: number;
  readonly attempts: number;
  /** One process alone, from its burst to its last failure. */
  readonly singleMs: number;
  readonly singleTokenRequests: number;
  /** All processes at once, from the first burst's start to the last failure of any. */
  readonly allMs: number;
  readonly allTokenRequests: number;
  /** Requests of all processes, and their failures by code (ERR_OAUTH_NETWORK expected for every one). */
  readonly requests: number;
  readonly errorCodes: Readonly<Record<string, number>>;
  readonly ok: number;
}

/** One renewal with Redis at loopback speed and with every reply late. */
export interface SlowRedisResult {
  readonly delayMs: number;
  readonly grantLatencyMs: number;
  /** `tokens.refresh()` in the worker, with the proxy passing replies at once. */
  readonly baselineMs: readonly number[];
  /** The same with every Redis reply `delayMs` late. */
  readonly delayedMs: readonly number[];
  /** median(delayed) - median(baseline). */
  readonly addedMs: number;
  readonly renewals: number;
  readonly failures: number;
  /** Tokens issued by the timed renewals: one each expected (none adopted). */
  readonly grants: number;
}

/** What scenario 8 measured, or why it did not run. */
export type FaultsResult =
  | { readonly status: 'skipped'; readonly params: FaultsParams; readonly reason: string }
  | {
      readonly status: 'measured';
      readonly params: FaultsParams;
      readonly slowRedis: SlowRedisResult;
      readonly hang: HangResult;
      readonly takeover: TakeoverResult;
    };

/** Attempts per token request in the hang (the first one included). */
const HANG_ATTEMPTS = 2;
/** Requests each process sends in the hang and the takeover. */
const REQUESTS_PER_PROCESS = 3;
/** Workers end themselves after this long, whatever happens. */
const WORKER_LIFETIME_MS = 180_000;
const WAIT_MS = 20_000;

/** Runs scenario 8 (see the module comment). */
export async function faults(params: FaultsParams, progress?: Progress): Promise<FaultsResult> {
  const started = await startRedis();
  if ('skipped' in started) return { status: 'skipped', params, reason: started.skipped };
  const redis = started.server;
  const admin = new Redis({ host: '127.0.0.1', port: redis.port, retryStrategy: () => 20, maxRetriesPerRequest: 1 });
  admin.on('error', () => undefined);
  const opened: { server?: AuthServer; proxy?: DelayProxy; pools: WorkerPool[] } = { pools: [] };
  try {
    const server = await startAuthServer({ expiresIn: 3600 });
    opened.server = server;
    const proxy = await startDelayProxy({ targetPort: redis.port });
    opened.proxy = proxy;
    const base: StoreWorkerConfig = { apiUrl: server.apiUrl, credentials: server.credentials, redisPort: redis.port, lifetimeMs: WORKER_LIFETIME_MS };
    const direct = await startWorkers(params.processes, {
      ...base,
      faults: { leaseMs: params.leaseMs, tokenTimeoutMs: params.tokenTimeoutMs, retry: { attempts: HANG_ATTEMPTS } },
    });
    opened.pools.push(direct);
    const proxied = await startWorkers(1, { ...base, redisPort: proxy.port });
    opened.pools.push(proxied);

    const slowRedis = await measureSlowRedis(server, proxy, only(proxied.workers), params);
    progress?.(1, 3);
    const hang = await measureHang(server, admin, direct, params);
    progress?.(2, 3);
    const takeover = await measureTakeover(server, direct, params);
    progress?.(3, 3);
    return { status: 'measured', params, slowRedis, hang, takeover };
  } finally {
    await Promise.all(opened.pools.map((pool) => pool.close()));
    await opened.proxy?.close();
    await opened.server?.close();
    admin.disconnect();
    await redis.close();
  }
}

async function measureSlowRedis(server: AuthServer, proxy: DelayProxy, worker: PoolWorker, params: FaultsParams): Promise<SlowRedisResult> {
  server.setLatency({ tokenMs: params.grantLatencyMs });
  try {
    // The first renewal makes the store's first token; the second is sure to renew (the store then holds this
    // worker's own token, which it never adopts in place of itself), as is every timed one after it.
    await worker.renew();
    await worker.renew();
    server.resetStats();
    let failures = 0;
    const time = async (): Promise<number> => {
      const reply = await worker.renew();
      failures += reply.failures;
      return reply.lastSettledMs;
    };
    const baselineMs: number[] = [];
    for (let n = 0; n < params.samples; n += 1) baselineMs.push(await time());
    proxy.setDelay(params.redisDelayMs, 'replies');
    const delayedMs: number[] = [];
    try {
      for (let n = 0; n < params.samples; n += 1) delayedMs.push(await time());
    } finally {
      proxy.setDelay(0);
    }
    const { grants } = server.stats;
    return {
      delayMs: params.redisDelayMs,
      grantLatencyMs: params.grantLatencyMs,
      baselineMs,
      delayedMs,
      addedMs: median(delayedMs) - median(baselineMs),
      renewals: 2 * params.samples,
      failures,
      grants: grants.password + grants.refresh_token,
    };
  } finally {
    server.setLatency({ tokenMs: 0 });
  }
}

async function measureHang(server: AuthServer, admin: Redis, pool: WorkerPool, params: FaultsParams): Promise<HangResult> {
  // Every process holds the one shared token first.
  server.revokeAll();
  await pool.burstAll(1, '/faults/warm');
  server.setTokenFault(() => ({ type: 'hang' }));
  try {
    server.resetStats();
    server.revokeAll();
    const single = await first(pool.workers).request(REQUESTS_PER_PROCESS, '/faults/hang-alone');
    const singleTokenRequests = server.stats.tokenRequests;
    // Its failure record would answer the next renewal at once: the processes start from a clean slate.
    await deleteFailureRecords(admin);
    server.resetStats();
    const replies = await pool.burstAll(REQUESTS_PER_PROCESS, '/faults/hang');
    const startedAt = Math.min(...replies.map((reply) => reply.startedAt));
    return {
      processes: pool.size,
      tokenTimeoutMs: params.tokenTimeoutMs,
      attempts: HANG_ATTEMPTS,
      singleMs: single.lastSettledMs,
      singleTokenRequests,
      allMs: lastSettledAt(replies) - startedAt,
      allTokenRequests: server.stats.tokenRequests,
      requests: pool.size * REQUESTS_PER_PROCESS,
      errorCodes: sumCodes(replies),
      ok: replies.reduce((sum, reply) => sum + reply.ok, 0),
    };
  } finally {
    server.setTokenFault(undefined);
    await deleteFailureRecords(admin);
  }
}

async function measureTakeover(server: AuthServer, pool: WorkerPool, params: FaultsParams): Promise<TakeoverResult> {
  const [holder, ...survivors] = pool.workers;
  if (holder === undefined || survivors.length === 0) throw new RangeError('the takeover needs at least two processes');
  server.revokeAll();
  await pool.burstAll(1, '/faults/warm-again');
  server.resetStats();
  server.revokeAll();
  // Until the kill every token request hangs (a holder that retried before it died would hang again), after it none.
  let killedAt: number | undefined;
  let firstAfterKill: number | undefined;
  let beforeKill = 0;
  server.setTokenFault(() => {
    if (killedAt === undefined) {
      beforeKill += 1;
      return { type: 'hang' };
    }
    firstAfterKill ??= Date.now();
    return undefined;
  });
  try {
    void holder.request(REQUESTS_PER_PROCESS, '/faults/holder').catch(() => undefined); // never answers: killed
    await until('the holder to be mid-grant', () => beforeKill >= 1);
    const waiting = Promise.all(survivors.map((worker) => worker.request(REQUESTS_PER_PROCESS, '/faults/takeover')));
    killedAt = Date.now();
    await holder.kill();
    const replies = await waiting;
    const { grants } = server.stats;
    return {
      leaseMs: params.leaseMs,
      survivors: survivors.length,
      requestsBeforeKill: beforeKill,
      takeoverMs: (firstAfterKill ?? Number.NaN) - killedAt,
      servedMs: lastSettledAt(replies) - killedAt,
      ok: replies.reduce((sum, reply) => sum + reply.ok, 0),
      failures: replies.reduce((sum, reply) => sum + reply.failures, 0),
      grants: grants.password + grants.refresh_token,
    };
  } finally {
    server.setTokenFault(undefined);
  }
}

/** Shared failure records (`…:failure`); the benchmark's Redis is private, so KEYS is fine here. */
async function deleteFailureRecords(admin: Redis): Promise<void> {
  const keys = await admin.keys('*:failure');
  if (keys.length > 0) await admin.del(...keys);
}

function lastSettledAt(replies: readonly StoreWorkerReply[]): number {
  return Math.max(...replies.map((reply) => reply.startedAt + reply.lastSettledMs));
}

function sumCodes(replies: readonly StoreWorkerReply[]): Record<string, number> {
  const codes: Record<string, number> = {};
  for (const reply of replies) for (const [code, n] of Object.entries(reply.errorCodes)) codes[code] = (codes[code] ?? 0) + n;
  return codes;
}

async function until(what: string, condition: () => boolean): Promise<void> {
  const deadline = performance.now() + WAIT_MS;
  while (!condition()) {
    if (performance.now() > deadline) throw new Error(`gave up waiting for ${what}`);
    await sleep(2);
  }
}

function first<T>(items: readonly T[]): T {
  const [item] = items;
  if (item === undefined) throw new RangeError('no worker');
  return item;
}

function only<T>(items: readonly T[]): T {
  if (items.length !== 1) throw new RangeError('expected exactly one worker');
  return first(items);
}
