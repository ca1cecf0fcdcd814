/**
 * Scenario 7, second part: what a RedisTokenStore costs per request once a token is held. In one process (this one,
 * whose CPU `process.cpuUsage()` measures), the same request loop runs through a client WITH the store, one WITHOUT,
 * and a second one without (the A/A control: its ratio to the first shows what "no difference" measures as today).
 *
 * The store is consulted only when a token is renewed, so with a long-lived token the per-request path is the same
 * code with or without it, and the ratio should read about 1.00. To show that this is why, not to assume it, the
 * Redis commands the store caused are counted by redis-server itself (INFO commandstats: GET, SET, DEL, EVAL, with the
 * scripts' own commands counted too), during the warm-up (the first grant, two round trips: the acquire script with
 * its GETs of the token and the failure record and its SET of the lease, then the commit script with its GET of the
 * lease, SET of the token and DEL = 8) and during the measured rounds (0 expected).
 *
 * Interleaved as in ./overhead.ts: each round is cut into slices, the clients take turns slice by slice in ABC then
 * CBA order (the next round starts the other way), so a machine that drifts during a round drifts for all three.
 */
import type { AxiosInstance } from 'axios';
import { Redis } from 'ioredis';

import { RedisTokenStore } from '../src/redis.js';
import type { LaunchServer } from './bench-server.js';
import { interleavedRound, measuredRounds, type Spent } from './interleave.js';
import { authClient, keepAliveAgent, LONG_LIVED, phases, pool, type Progress, withServer } from './load.js';
import { compare, type Comparison, type RoundTotals } from './stats.js';

/** Sizes of the comparison (requests are per client and round). */
export interface StoreOverheadParams {
  readonly rounds: number;
  readonly requests: number;
  readonly concurrency: number;
  /** Each round's requests are sent in this many slices per client, the clients taking turns slice by slice. */
  readonly slices: number;
}

/** What the comparison measured. Ratios are per round, WITH the store over WITHOUT: median and range. */
export interface StoreOverheadResult extends Comparison {
  readonly params: StoreOverheadParams;
  readonly withStore: RoundTotals;
  readonly withoutStore: RoundTotals;
  /** The second client without a store. */
  readonly control: RoundTotals;
  readonly failures: number;
  /** Token calls during the measured rounds (long-lived token: 0 expected). */
  readonly tokenCalls: number;
  /** Store commands redis-server executed during the warm-up, i.e. the first grant (8: the scripts' own commands too). */
  readonly storeCommandsWarmUp: number;
  /** Store commands redis-server executed during the measured rounds (0 expected: nothing was renewed). */
  readonly storeCommands: number;
  /** Failures the store reported through onError (0 expected). */
  readonly storeErrors: number;
}

type Name = 'withStore' | 'withoutStore' | 'control';
const NAMES: readonly Name[] = ['withStore', 'withoutStore', 'control'];
/** The commands RedisTokenStore sends (EVALSHA too, should a later version cache its script). */
const STORE_COMMANDS = new Set(['get', 'set', 'del', 'eval', 'evalsha']);
const WARM_UP_SLICES = 2;

/** Requests one slice sends per client: the round's requests spread over the slices as evenly as they go. */
function sliceSize(params: StoreOverheadParams, slice: number): number {
  return Math.floor(params.requests / params.slices) + (slice < params.requests % params.slices ? 1 : 0);
}

/** Every request the comparison sends, warm-up included (for the progress bar). */
export function storeOverheadRequests(params: StoreOverheadParams): number {
  const warmUp = Array.from({ length: Math.min(WARM_UP_SLICES, params.slices) }, (_, slice) => sliceSize(params, slice));
  return NAMES.length * (warmUp.reduce((sum, size) => sum + size, 0) + params.rounds * params.requests);
}

/** Runs the comparison against a fresh server with long-lived tokens and the redis-server on `redisPort`. */
export async function storeOverhead(launch: LaunchServer, redisPort: number, params: StoreOverheadParams, progress?: Progress): Promise<StoreOverheadResult> {
  const redis = new Redis({ host: '127.0.0.1', port: redisPort, maxRetriesPerRequest: 1 });
  // Failures show as store errors (counted below); ioredis would print them otherwise.
  redis.on('error', () => undefined);
  try {
    return await withServer(launch, LONG_LIVED, async (server) => {
      let storeErrors = 0;
      const store = new RedisTokenStore({
        client: redis,
        // Its own prefix, so nothing another scenario stored in this Redis can be adopted.
        prefix: 'axios-oauth-bearer-bench-overhead',
        onError: () => {
          storeErrors += 1;
        },
      });
      const clients: Record<Name, AxiosInstance> = {
        withStore: authClient(server, keepAliveAgent(), { store }),
        withoutStore: authClient(server, keepAliveAgent()),
        control: authClient(server, keepAliveAgent()),
      };
      const next = phases(progress, storeOverheadRequests(params));
      let failures = 0;

      /** One round: slices in alternating order, summed per client. */
      const round = (slices: number, reverse: boolean): Promise<Record<Name, Spent>> =>
        interleavedRound(NAMES, slices, reverse, async (name, slice) => {
          const size = sliceSize(params, slice);
          const limits = { concurrency: params.concurrency, maxRequests: size, maxMs: 60_000 };
          const result = await pool(limits, (i) => clients[name].get(`/store-overhead/${i}`), next(size));
          failures += result.failures;
        });

      // Warm-up: each client's first grant (the store's only commands), then an unmeasured round for the JIT.
      const beforeWarmUp = await storeCommandCount(redis);
      for (const name of NAMES) await clients[name].get('/warm-up');
      await round(Math.min(WARM_UP_SLICES, params.slices), false);
      const beforeRounds = await storeCommandCount(redis);
      await server.resetStats();
      const cost = await measuredRounds(NAMES, params.rounds, (reverse) => round(params.slices, reverse));
      const tokenCalls = (await server.stats()).tokenRequests;
      const afterRounds = await storeCommandCount(redis);

      const { withStore, withoutStore, control } = cost;
      return {
        params,
        withStore,
        withoutStore,
        control,
        ...compare(withStore, withoutStore, control),
        failures,
        tokenCalls,
        storeCommandsWarmUp: beforeRounds - beforeWarmUp,
        storeCommands: afterRounds - beforeRounds,
        storeErrors,
      };
    });
  } finally {
    redis.disconnect();
  }
}


/** GET/SET/DEL/EVAL calls redis-server has executed since it started, from `INFO commandstats`. */
async function storeCommandCount(redis: Redis): Promise<number> {
  const info = await redis.info('commandstats');
  let calls = 0;
  for (const match of info.matchAll(/^cmdstat_([a-z|]+):calls=(\d+)/gm)) {
    if (STORE_COMMANDS.has(match[1] ?? '')) calls += Number(match[2]);
  }
  return calls;
}
