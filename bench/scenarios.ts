/**
 * Scenarios 2 to 6 (scenario 1, the overhead comparison, is in ./overhead.ts). Each starts its own loopback server
 * (through `launch`, so the same code runs against a child process or in-process), takes its sizes as parameters (the
 * full run and the quick check differ only there), and returns a plain, JSON-ready result object. Counts come from the
 * server (token calls, 401s served) and from the client (failures); nothing here decides pass or miss.
 */
import type { AuthClient } from '../src/index.js';
import {
  authClient,
  burst,
  type Counts,
  counted,
  fetchAccessToken,
  heapAfterGc,
  keepAliveAgent,
  LONG_LIVED,
  type MemoryPeaks,
  phases,
  plainClient,
  pool,
  type Progress,
  sampleMemory,
  sleep,
  sumOutcomes,
  withServer,
} from './load.js';
import type { BenchServer, LaunchServer } from './bench-server.js';
import { type ClockMode, realNow, withVirtualClock } from './virtual-clock.js';

/** Sizes of the storms (scenarios 2 and 3). */
export interface StormParams {
  readonly requests: number;
  readonly tokenLatenciesMs: readonly number[];
  /**
   * Token lifetime (seconds) for the proactive variant: the storm waits for it to run out (real clock), or the clock
   * is moved past it (virtual clock, where it can be minutes long, so no token dies during a slow burst).
   */
  readonly expiresIn: number;
  readonly clock: ClockMode;
}

/** Past the server's expiry when the proactive storm starts, so the token is certainly dead there. */
const PAST_EXPIRY_MS = 25;

/**
 * Virtual clock only (the quick check): the steady state and the long run let their tokens age by moving the clock,
 * between rounds, while nothing is in flight, by this share of the lifetime, with the client's refreshMargin set to
 * half the lifetime. A token then sits at 60% of its life: past the renewal point (50%, a little earlier for the
 * library's clock-skew allowance of at most 1 s) and before retirement (75%), so the next round's first request
 * starts exactly one background renewal while every request keeps using the token it has, which the server still
 * accepts for 40% of a lifetime of minutes. 10% of a lifetime on either side is the room for the real time a round
 * takes. Exact: one token call per move, no 401, no failure, however slowly the machine serves the round.
 */
const VIRTUAL_AGE = 0.6;
const halfTheLifetime = (lifetimeMs: number): number => lifetimeMs / 2;
/** Virtual clock only: the steady state runs this many rounds, so the clock moves (and a renewal happens) one fewer times. */
export const VIRTUAL_STEADY_ROUNDS = 4;
/** How long a background renewal may take to finish before the clock may move again. */
const SETTLE_MS = 30_000;

/** Waits until the client has no renewal in flight (bounded), then ages its token by VIRTUAL_AGE of its lifetime. */
async function ageToken(server: BenchServer, client: AuthClient, expiresIn: number): Promise<void> {
  const deadline = realNow() + SETTLE_MS;
  while (client.tokens.renewing) {
    if (realNow() > deadline) throw new Error(`a renewal was still in flight after ${SETTLE_MS} ms`);
    await sleep(5);
  }
  await server.advanceClock(expiresIn * 1000 * VIRTUAL_AGE);
}

/** The client knew the token was expiring (proactive), or the server refused a token the client still trusted. */
export type ExpiryMode = 'proactive' | 'server-expired-early';

/** One expiry storm: its variant, its grant latency and its counts. */
export interface ExpiryStormRow extends Counts {
  readonly mode: ExpiryMode;
  readonly tokenLatencyMs: number;
}

/**
 * Scenario 2: a storm just after the token expired server-side.
 * - proactive: default margin, the burst starts 25 ms after the server's expiry (after a sleep, or with the virtual
 *   clock moved there); the client knows the token is dead (its own expiry is counted from when the grant was sent,
 *   so it is never later than the server's), so every request waits for one renewal and none is sent with the dead
 *   token. With the real clock and a 1-second token, a burst that takes longer than the new token's renewal point
 *   (a loaded machine) renews again and may meet its expiry: that is why the quick check uses the virtual clock.
 * - server-expired-early: refreshMargin 0 and a long-lived token, revoked (acknowledged) right before the burst: the
 *   client still believes the token valid, so the storm goes through the 401 path.
 */
export async function expiryStorm(launch: LaunchServer, params: StormParams, progress?: Progress): Promise<ExpiryStormRow[]> {
  const rows: ExpiryStormRow[] = [];
  const next = phases(progress, params.requests * params.tokenLatenciesMs.length * 2);
  await withVirtualClock(() =>
    withServer(launch, { expiresIn: params.expiresIn }, async (server) => {
      for (const tokenLatencyMs of params.tokenLatenciesMs) {
        const client = authClient(server, keepAliveAgent());
        await server.setLatency({ tokenMs: 0 });
        await client.get('/warm-up');
        // The server dates expiry from when it answered, which is before the answer arrived here.
        const serverExpiredBy = Date.now() + params.expiresIn * 1000;
        await server.setLatency({ tokenMs: tokenLatencyMs });
        if (params.clock === 'virtual') await server.advanceClock(params.expiresIn * 1000 + PAST_EXPIRY_MS);
        else await sleep(serverExpiredBy + PAST_EXPIRY_MS - Date.now());
        const step = next(params.requests);
        const counts = await counted(server, () => burst(params.requests, (i) => client.get(`/storm/${i}`), step));
        rows.push({ mode: 'proactive', tokenLatencyMs, ...counts });
      }
    }),
  );
  await withServer(launch, LONG_LIVED, async (server) => {
    for (const tokenLatencyMs of params.tokenLatenciesMs) {
      const client = authClient(server, keepAliveAgent(), { refreshMargin: 0 });
      await server.setLatency({ tokenMs: 0 });
      await client.get('/warm-up');
      await server.setLatency({ tokenMs: tokenLatencyMs });
      const step = next(params.requests);
      const counts = await counted(server, async () => {
        await server.revokeAll();
        return burst(params.requests, (i) => client.get(`/storm/${i}`), step);
      });
      rows.push({ mode: 'server-expired-early', tokenLatencyMs, ...counts });
    }
  });
  return rows;
}

// ---------------------------------------------------------------------------------------------------------------------

/** Revoked before the burst (every request 401s), or once a tenth of the burst answered (the rest still in flight). */
export type RevocationMode = 'before-burst' | 'mid-burst';

/** One revocation storm: its variant and its counts. */
export interface RevocationStormRow extends Counts {
  readonly mode: RevocationMode;
}

/**
 * Scenario 3: the server revokes the token under a storm of pending requests.
 * - before-burst: revoked (acknowledged) first, then 500 requests on 500 sockets: every one 401s once.
 * - mid-burst: the revocation is sent, without waiting, once a tenth of the burst has answered, so some requests were
 *   accepted and the rest 401 and must share one grant. The server checks a token on arrival (apiLatency would not
 *   help: held requests still pass), and on loopback a request is on the wire for microseconds, so this variant's
 *   agent has 50 sockets: the other nine tenths are then still queued in the client when the revocation lands.
 */
export async function revocationStorm(launch: LaunchServer, params: Pick<StormParams, 'requests'>, progress?: Progress): Promise<RevocationStormRow[]> {
  const next = phases(progress, params.requests * 2);
  return withServer(launch, LONG_LIVED, async (server) => {
    const rows: RevocationStormRow[] = [];
    for (const mode of ['before-burst', 'mid-burst'] as const) {
      const client = authClient(server, keepAliveAgent(mode === 'mid-burst' ? 50 : undefined));
      await client.get('/warm-up');
      const step = next(params.requests);
      let revoked: Promise<void> | undefined;
      const counts = await counted(server, async () => {
        if (mode === 'before-burst') await server.revokeAll();
        const trigger = Math.max(1, Math.floor(params.requests / 10));
        const outcome = await burst(params.requests, (i) => client.get(`/revoked/${i}`), (done, total) => {
          if (mode === 'mid-burst' && done >= trigger) revoked ??= server.revokeAll();
          step(done, total);
        });
        await revoked;
        return outcome;
      });
      rows.push({ mode, ...counts });
    }
    return rows;
  });
}

// ---------------------------------------------------------------------------------------------------------------------

/** Sizes of scenario 4. */
export interface SteadyParams {
  readonly expiresIn: number;
  readonly workers: number;
  readonly durationMs: number;
  /** Virtual: VIRTUAL_STEADY_ROUNDS rounds that share durationMs, with the token aged by moving the clock between them. */
  readonly clock: ClockMode;
}

/** What scenario 4 measured. */
export interface SteadyResult extends Counts {
  readonly params: SteadyParams;
}

/**
 * Scenario 4: short-lived tokens under constant load; proactive renewal should mean no request ever sees a 401.
 * With the virtual clock (the quick check) the tokens live for minutes and age between rounds instead (see
 * VIRTUAL_AGE): one background renewal per move of the clock, under the same load.
 */
export async function steadyState(launch: LaunchServer, params: SteadyParams, progress?: Progress): Promise<SteadyResult> {
  const virtual = params.clock === 'virtual';
  return withVirtualClock(() =>
    withServer(launch, { expiresIn: params.expiresIn }, async (server) => {
      const client = authClient(server, keepAliveAgent(), virtual ? { refreshMargin: halfTheLifetime } : {});
      await client.get('/warm-up');
      // Progress counts milliseconds here: the run is bounded by time, the request cap is only a safety net.
      const started = realNow();
      const report = (): void => progress?.(Math.min(Math.round(realNow() - started), params.durationMs), params.durationMs);
      const rounds = virtual ? VIRTUAL_STEADY_ROUNDS : 1;
      const limits = { concurrency: params.workers, maxRequests: 10_000_000, maxMs: params.durationMs / rounds };
      const counts = await counted(server, async () => {
        const outcomes = [];
        let sent = 0;
        for (let round = 0; round < rounds; round += 1) {
          if (round > 0) await ageToken(server, client, params.expiresIn);
          const outcome = await pool(limits, (i) => client.get(`/steady/${sent + i}`), report);
          sent += outcome.requests;
          outcomes.push(outcome);
        }
        return sumOutcomes(outcomes);
      });
      return { params, ...counts };
    }),
  );
}

// ---------------------------------------------------------------------------------------------------------------------

/** Sizes of scenario 5. */
export interface QueueParams {
  readonly requests: number;
  readonly tokenLatencyMs: number;
}

/** What scenario 5 measured. */
export interface QueueResult extends Counts {
  readonly params: QueueParams;
  /** The client process's memory, sampled every 50 ms from just before the flood until the last answer. */
  readonly memory: MemoryPeaks;
  /**
   * The same flood from plain axios with a fixed token, run afterwards: the floor that axios and node:http cost by
   * themselves. Its heap figures compare; its RSS does not (RSS rarely shrinks after the first flood's peak).
   */
  readonly plainFloor: { readonly ok: number; readonly wallMs: number; readonly memory: MemoryPeaks };
}

/**
 * Scenario 5: a cold client receives a flood while its first grant is slow; all must queue behind the one grant and
 * then succeed. The agent's 512 sockets mean most requests then wait a second time, inside node:http, exactly as
 * they would with plain axios: the plain flood shows how much of the peak is that.
 */
export async function slowGrantQueue(launch: LaunchServer, params: QueueParams, progress?: Progress): Promise<QueueResult> {
  return withServer(launch, { ...LONG_LIVED, tokenLatencyMs: params.tokenLatencyMs }, async (server) => {
    const next = phases(progress, params.requests * 2);
    const flood = async (send: (index: number) => Promise<unknown>) => {
      heapAfterGc();
      const stop = sampleMemory(50);
      try {
        const outcome = await burst(params.requests, send, next(params.requests));
        return { outcome, memory: stop() };
      } finally {
        stop();
      }
    };
    const client = authClient(server, keepAliveAgent());
    let memory: MemoryPeaks | undefined;
    const counts = await counted(server, async () => {
      const run = await flood((i) => client.get(`/queued/${i}`));
      memory = run.memory;
      return run.outcome;
    });
    const plain = plainClient(server, keepAliveAgent(), await fetchAccessToken(server));
    const floor = await flood((i) => plain.get(`/queued/${i}`));
    if (memory === undefined) throw new Error('the flood measured no memory');
    return { params, ...counts, memory, plainFloor: { ok: floor.outcome.ok, wallMs: floor.outcome.wallMs, memory: floor.memory } };
  });
}

// ---------------------------------------------------------------------------------------------------------------------

/** Sizes of scenario 6: `requests` in `checkpoints` equal batches, after `warmup` unmeasured ones. */
export interface LongRunParams {
  readonly requests: number;
  readonly checkpoints: number;
  readonly concurrency: number;
  readonly expiresIn: number;
  readonly warmup: number;
  /** Virtual: the token is aged by moving the clock before each batch (see VIRTUAL_AGE). */
  readonly clock: ClockMode;
}

/** What scenario 6 measured. */
export interface LongRunResult extends Counts {
  readonly params: LongRunParams;
  /** heapUsed after a full GC at 0 (after warm-up) and at each checkpoint; empty without --expose-gc. */
  readonly heap: readonly { readonly requests: number; readonly heapUsed: number }[];
  /** heapUsed at the last checkpoint minus at the first one (undefined without --expose-gc). */
  readonly growthBytes: number | undefined;
}

/**
 * Scenario 6: many requests over many short-lived tokens. The run is split into batches and the heap is read between
 * them, with nothing in flight, so what remains is what the library keeps per request or per token.
 */
export async function longRun(launch: LaunchServer, params: LongRunParams, progress?: Progress): Promise<LongRunResult> {
  const virtual = params.clock === 'virtual';
  return withVirtualClock(() => withServer(launch, { expiresIn: params.expiresIn }, async (server) => {
    const client = authClient(server, keepAliveAgent(), virtual ? { refreshMargin: halfTheLifetime } : {});
    const batch = Math.ceil(params.requests / params.checkpoints);
    const perBatch = { concurrency: params.concurrency, maxRequests: batch, maxMs: 300_000 };
    await pool({ ...perBatch, maxRequests: params.warmup }, (i) => client.get(`/warm/${i}`));
    const heap: { requests: number; heapUsed: number }[] = [];
    const record = (requests: number): void => {
      const heapUsed = heapAfterGc();
      if (heapUsed !== undefined) heap.push({ requests, heapUsed });
    };
    record(0);
    let sent = 0;
    const next = phases(progress, batch * params.checkpoints);
    const counts = await counted(server, async () => {
      const outcomes = [];
      for (let checkpoint = 1; checkpoint <= params.checkpoints; checkpoint += 1) {
        if (virtual) await ageToken(server, client, params.expiresIn);
        const outcome = await pool(perBatch, (i) => client.get(`/long/${sent + i}`), next(batch));
        sent += outcome.requests;
        outcomes.push(outcome);
        record(sent);
      }
      return sumOutcomes(outcomes);
    });
    const first = heap[1];
    const last = heap[heap.length - 1];
    const growthBytes = first !== undefined && last !== undefined ? last.heapUsed - first.heapUsed : undefined;
    return { params, ...counts, heap, growthBytes };
  }));
}
