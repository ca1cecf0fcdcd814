/**
 * Scenario 7 (issues 6 and 17): one token shared by several processes through a store, Redis and files side by side.
 * N worker processes (./store-worker.ts), each with its own createAuthClient and its own store, meet the same
 * loopback authorization server, first sharing a RedisTokenStore (each its own ioredis client, on a redis-server the
 * benchmark starts: ./redis-child.ts; without one installed that variant is SKIPPED, never a failure), then sharing a
 * FileTokenStore on a fresh temporary directory (removed afterwards; it needs nothing installed, so it always runs).
 * Each variant runs the same three bursts:
 * - cold start: every process bursts with no token anywhere; the first grant is shared too (1 token call expected).
 * - expiry storm: the token then expires server-side while the processes are idle, and all of them burst at once.
 *   Exactly 1 token call in total is the target (one process renews under the lease, the others adopt its token from
 *   the store), with 0 failures and 0 401s (each process knows from the stored expiry that the token is dead).
 * - warm: the same burst again at once, the token in hand: the baseline of the renewal's added latency (the storm's
 *   request latencies against these, measured in the same run by the same processes).
 * Then, Redis only, the store overhead (./store-overhead.ts): the same request loop with and without the store, in
 * this process.
 *
 * The file-store variant always runs on the real clock, with its own short token lifetime: its locks (proper-lockfile)
 * judge staleness by file-system mtimes, which a virtual clock moved in the workers would make look ancient.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import type { BenchServer, LaunchServer } from './bench-server.js';
import { type Counts, counted, phases, type Progress, sleep, withServer } from './load.js';
import { startRedis } from './redis-child.js';
import { quantile } from './stats.js';
import { storeOverhead, type StoreOverheadParams, storeOverheadRequests, type StoreOverheadResult } from './store-overhead.js';
import type { StoreWorkerConfig, StoreWorkerReply } from './store-worker.js';
import { type ClockMode, realNow, withVirtualClock } from './virtual-clock.js';
import { startWorkers, type WorkerPool } from './worker-pool.js';

/** Sizes of scenario 7. */
export interface MultiProcessParams {
  readonly processes: number;
  /** Requests each process sends in each burst (all at once). */
  readonly requestsPerProcess: number;
  /**
   * Token lifetime in seconds of the Redis variant: the storm waits for it to run out (real clock), or the clock of
   * this process, the server and every worker is moved past it while all are idle (virtual clock: a lifetime of
   * minutes, so a process that a loaded machine leaves behind still finds the renewed token in the store young enough
   * to adopt).
   */
  readonly expiresIn: number;
  /** How the Redis variant's tokens age. */
  readonly clock: ClockMode;
  /**
   * Token lifetime in seconds of the file-store variant, always on the real clock (see the module comment): the storm
   * waits for it to run out. Short, as the wait is the variant's cost, but not so short that a process a loaded
   * machine leaves behind finds the renewed token already retiring (after two thirds of its lifetime, with the default
   * refreshMargin and clockSkewMs).
   */
  readonly fileExpiresIn: number;
  readonly storeOverhead: StoreOverheadParams;
}

/** Latencies of one burst's requests over all processes, from the burst's start in each process to each answer. */
export interface BurstLatency {
  readonly p50Ms: number;
  readonly p95Ms: number;
  readonly maxMs: number;
}

/** One burst across all processes: the summed counts, and what the processes held afterwards. */
export interface ProcessBurstRow extends Counts {
  readonly processes: number;
  /** Different access tokens held by the processes after the burst (1 = they all share one). */
  readonly distinctTokens: number;
  /** Errors the processes' token managers and stores passed to onError during the burst (0 expected). */
  readonly reported: number;
  readonly latency: BurstLatency;
}

/** The three bursts of one store variant. */
export interface StoreBursts {
  /** Token lifetime in seconds, and how it aged. */
  readonly expiresIn: number;
  readonly clock: ClockMode;
  readonly coldStart: ProcessBurstRow;
  readonly storm: ProcessBurstRow;
  /** The same burst with the renewed token in hand: the storm's baseline. */
  readonly warm: ProcessBurstRow;
}

/** What scenario 7 measured: the Redis variant (or why it did not run), and the file-store variant, which always runs. */
export type MultiProcessResult = (
  | { readonly status: 'skipped'; readonly params: MultiProcessParams; readonly reason: string }
  | {
      readonly status: 'measured';
      readonly params: MultiProcessParams;
      readonly coldStart: ProcessBurstRow;
      readonly storm: ProcessBurstRow;
      readonly warm: ProcessBurstRow;
      readonly storeOverhead: StoreOverheadResult;
    }
) & {
  /** The same bursts with the processes sharing a FileTokenStore. */
  readonly files: StoreBursts;
};

/** How long a worker may live at most, on top of the token lifetime the storm waits out. */
const WORKER_LIFETIME_MS = 180_000;
/** Past the server's expiry before the storm starts, so the token is certainly dead there. */
const PAST_EXPIRY_MS = 50;

/** Runs scenario 7 (see the module comment). */
export async function multiProcess(launch: LaunchServer, params: MultiProcessParams, progress?: Progress): Promise<MultiProcessResult> {
  const started = await startRedis();
  const burstSize = params.processes * params.requestsPerProcess;
  const variantSize = 3 * burstSize;
  const redisSize = 'skipped' in started ? 0 : variantSize + storeOverheadRequests(params.storeOverhead);
  const next = phases(progress, redisSize + variantSize);
  if ('skipped' in started) {
    const files = await fileBursts(launch, params, next);
    return { status: 'skipped', params, reason: started.skipped, files };
  }
  const redis = started.server;
  try {
    const bursts = await withVirtualClock(() => storeBursts(launch, params, { redisPort: redis.port }, params.expiresIn, params.clock, next));
    // Right after the Redis bursts, before the store-overhead loop: the two variants meet the same machine state.
    const files = await fileBursts(launch, params, next);
    const overhead = await storeOverhead(launch, redis.port, params.storeOverhead, next(storeOverheadRequests(params.storeOverhead)));
    const { coldStart, storm, warm } = bursts;
    return { status: 'measured', params, coldStart, storm, warm, storeOverhead: overhead, files };
  } finally {
    await redis.close();
  }
}

/** The three bursts with the workers sharing a FileTokenStore in a fresh temporary directory (mode 0700), removed afterwards. */
async function fileBursts(launch: LaunchServer, params: MultiProcessParams, next: (size: number) => Progress): Promise<StoreBursts> {
  const directory = await mkdtemp(join(tmpdir(), 'axios-oauth-bearer-bench-files-'));
  try {
    return await storeBursts(launch, params, { fileDirectory: directory }, params.fileExpiresIn, 'real', next);
  } finally {
    await rm(directory, { recursive: true, force: true });
  }
}

/** A fresh server with `expiresIn`-second tokens, and workers sharing `store`: cold start, expiry storm, warm burst. */
async function storeBursts(
  launch: LaunchServer,
  params: MultiProcessParams,
  store: Pick<StoreWorkerConfig, 'redisPort' | 'fileDirectory'>,
  expiresIn: number,
  clock: ClockMode,
  next: (size: number) => Progress,
): Promise<StoreBursts> {
  const burstSize = params.processes * params.requestsPerProcess;
  return withServer(launch, { expiresIn }, async (server) => {
    const workers = await startWorkers(params.processes, {
      apiUrl: server.apiUrl,
      credentials: server.credentials,
      ...store,
      lifetimeMs: WORKER_LIFETIME_MS + expiresIn * 1000,
    });
    try {
      const across = (path: string): Promise<ProcessBurstRow> => burstAcross(server, workers, params.requestsPerProcess, path, next(burstSize));
      const coldStart = await across('/cold');
      // Every token in use was issued before the cold start's last answer arrived here: the server expires it
      // at most `expiresIn` later. The processes stay idle meanwhile, so none renews early.
      const past = expiresIn * 1000 + PAST_EXPIRY_MS;
      if (clock === 'virtual') await Promise.all([server.advanceClock(past), workers.advanceClock(past)]);
      else await sleep(past);
      const storm = await across('/storm');
      // At once: a burst takes far less than the 60% of the renewed token's lifetime after which a request would
      // start a background renewal (one that did would show as a token call in this row; nothing checks it).
      const warm = await across('/warm');
      return { expiresIn, clock, coldStart, storm, warm };
    } finally {
      await workers.close();
    }
  });
}

/** Every process bursts at once; the client-side counts are summed over the processes' replies. */
async function burstAcross(server: BenchServer, workers: WorkerPool, perProcess: number, path: string, progress: Progress): Promise<ProcessBurstRow> {
  let replies: StoreWorkerReply[] = [];
  let done = 0;
  const counts = await counted(server, async () => {
    const started = realNow();
    replies = await workers.burstAll(perProcess, path, (reply) => {
      done += reply.ok + reply.failures;
      progress(done, workers.size * perProcess);
    });
    const ok = sum(replies, (reply) => reply.ok);
    const failures = sum(replies, (reply) => reply.failures);
    const firstError = replies.find((reply) => reply.firstError !== undefined)?.firstError;
    return { requests: ok + failures, ok, failures, firstError, wallMs: realNow() - started };
  });
  const latencies = replies.flatMap((reply) => reply.latenciesMs).sort((a, b) => a - b);
  return {
    ...counts,
    processes: workers.size,
    distinctTokens: new Set(replies.map((reply) => reply.tokenFingerprint)).size,
    reported: sum(replies, (reply) => reply.reported),
    latency: { p50Ms: quantile(latencies, 0.5), p95Ms: quantile(latencies, 0.95), maxMs: latencies[latencies.length - 1] ?? Number.NaN },
  };
}

function sum(replies: readonly StoreWorkerReply[], field: (reply: StoreWorkerReply) => number): number {
  return replies.reduce((total, reply) => total + field(reply), 0);
}
