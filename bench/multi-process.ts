/**
 * Scenario 7 (issue 6): one token shared by several processes through Redis. The benchmark starts its own
 * redis-server (./redis-child.ts; without one installed the scenario is SKIPPED, never a failure) and N worker
 * processes (./store-worker.ts), each with its own createAuthClient, ioredis client and RedisTokenStore, against the
 * same loopback authorization server.
 * - cold start: every process bursts with no token anywhere; the first grant is shared too (1 token call expected).
 * - expiry storm: the token then expires server-side while the processes are idle, and all of them burst at once.
 *   Exactly 1 token call in total is the target (one process renews under the lease, the others adopt its token from
 *   the store), with 0 failures and 0 401s (each process knows from the stored expiry that the token is dead).
 * - store overhead (./store-overhead.ts): the same request loop with and without the store, in this process.
 */
import type { BenchServer, LaunchServer } from './bench-server.js';
import { type Counts, counted, phases, type Progress, sleep, withServer } from './load.js';
import { startRedis } from './redis-child.js';
import { storeOverhead, type StoreOverheadParams, storeOverheadRequests, type StoreOverheadResult } from './store-overhead.js';
import type { StoreWorkerReply } from './store-worker.js';
import { type ClockMode, realNow, withVirtualClock } from './virtual-clock.js';
import { startWorkers, type WorkerPool } from './worker-pool.js';

/** Sizes of scenario 7. */
export interface MultiProcessParams {
  readonly processes: number;
  /** Requests each process sends in each burst (all at once). */
  readonly requestsPerProcess: number;
  /**
   * Token lifetime in seconds: the storm waits for it to run out (real clock), or the clock of this process, the
   * server and every worker is moved past it while all are idle (virtual clock: a lifetime of minutes, so a process
   * that a loaded machine leaves behind still finds the renewed token in the store young enough to adopt).
   */
  readonly expiresIn: number;
  readonly clock: ClockMode;
  readonly storeOverhead: StoreOverheadParams;
}

/** One burst across all processes: the summed counts, and what the processes held afterwards. */
export interface ProcessBurstRow extends Counts {
  readonly processes: number;
  /** Different access tokens held by the processes after the burst (1 = they all share one). */
  readonly distinctTokens: number;
  /** Errors the processes' token managers and stores passed to onError during the burst (0 expected). */
  readonly reported: number;
}

/** What scenario 7 measured, or why it did not run. */
export type MultiProcessResult =
  | { readonly status: 'skipped'; readonly params: MultiProcessParams; readonly reason: string }
  | {
      readonly status: 'measured';
      readonly params: MultiProcessParams;
      readonly coldStart: ProcessBurstRow;
      readonly storm: ProcessBurstRow;
      readonly storeOverhead: StoreOverheadResult;
    };

/** How long a worker may live at most, on top of the token lifetime the storm waits out. */
const WORKER_LIFETIME_MS = 180_000;
/** Past the server's expiry before the storm starts, so the token is certainly dead there. */
const PAST_EXPIRY_MS = 50;

/** Runs scenario 7 (see the module comment). */
export async function multiProcess(launch: LaunchServer, params: MultiProcessParams, progress?: Progress): Promise<MultiProcessResult> {
  const started = await startRedis();
  if ('skipped' in started) return { status: 'skipped', params, reason: started.skipped };
  const redis = started.server;
  const burstSize = params.processes * params.requestsPerProcess;
  const next = phases(progress, 2 * burstSize + storeOverheadRequests(params.storeOverhead));
  try {
    const bursts = await withVirtualClock(() => withServer(launch, { expiresIn: params.expiresIn }, async (server) => {
      const workers = await startWorkers(params.processes, {
        apiUrl: server.apiUrl,
        credentials: server.credentials,
        redisPort: redis.port,
        lifetimeMs: WORKER_LIFETIME_MS + params.expiresIn * 1000,
      });
      try {
        const across = (path: string): Promise<ProcessBurstRow> => burstAcross(server, workers, params.requestsPerProcess, path, next(burstSize));
        const coldStart = await across('/cold');
        // Every token in use was issued before the cold start's last answer arrived here: the server expires it
        // at most `expiresIn` later. The processes stay idle meanwhile, so none renews early.
        const past = params.expiresIn * 1000 + PAST_EXPIRY_MS;
        if (params.clock === 'virtual') await Promise.all([server.advanceClock(past), workers.advanceClock(past)]);
        else await sleep(past);
        const storm = await across('/storm');
        return { coldStart, storm };
      } finally {
        await workers.close();
      }
    }));
    const overhead = await storeOverhead(launch, redis.port, params.storeOverhead, next(storeOverheadRequests(params.storeOverhead)));
    return { status: 'measured', params, ...bursts, storeOverhead: overhead };
  } finally {
    await redis.close();
  }
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
  return {
    ...counts,
    processes: workers.size,
    distinctTokens: new Set(replies.map((reply) => reply.tokenFingerprint)).size,
    reported: sum(replies, (reply) => reply.reported),
  };
}

function sum(replies: readonly StoreWorkerReply[], field: (reply: StoreWorkerReply) => number): number {
  return replies.reduce((total, reply) => total + field(reply), 0);
}
