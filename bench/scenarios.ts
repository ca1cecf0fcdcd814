/**
 * Scenarios 2 to 6 (scenario 1, the overhead comparison, is in ./overhead.ts). Each starts its own loopback server
 * (through `launch`, so the same code runs against a child process or in-process), takes its sizes as parameters (the
 * full run and the quick check differ only there), and returns a plain, JSON-ready result object. Counts come from the
 * server (token calls, 401s served) and from the client (failures); nothing here decides pass or miss.
 */
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
  withServer,
} from './load.js';
import type { LaunchServer } from './bench-server.js';

/** Sizes of the storms (scenarios 2 and 3). */
export interface StormParams {
  readonly requests: number;
  readonly tokenLatenciesMs: readonly number[];
  /** Token lifetime (seconds) for the proactive variant: the storm waits for it to run out. */
  readonly expiresIn: number;
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
 * - proactive: default margin, the burst starts 25 ms after the server's expiry; the client knows the token is dead
 *   (its own expiry is counted from when the grant was sent, so it is never later than the server's), so every
 *   request waits for one renewal and none is sent with the dead token.
 * - server-expired-early: refreshMargin 0 and a long-lived token, revoked (acknowledged) right before the burst: the
 *   client still believes the token valid, so the storm goes through the 401 path.
 */
export async function expiryStorm(launch: LaunchServer, params: StormParams, progress?: Progress): Promise<ExpiryStormRow[]> {
  const rows: ExpiryStormRow[] = [];
  const next = phases(progress, params.requests * params.tokenLatenciesMs.length * 2);
  await withServer(launch, { expiresIn: params.expiresIn }, async (server) => {
    for (const tokenLatencyMs of params.tokenLatenciesMs) {
      const client = authClient(server, keepAliveAgent());
      await server.setLatency({ tokenMs: 0 });
      await client.get('/warm-up');
      // The server dates expiry from when it answered, which is before the answer arrived here.
      const serverExpiredBy = Date.now() + params.expiresIn * 1000;
      await server.setLatency({ tokenMs: tokenLatencyMs });
      await sleep(serverExpiredBy + 25 - Date.now());
      const step = next(params.requests);
      const counts = await counted(server, () => burst(params.requests, (i) => client.get(`/storm/${i}`), step));
      rows.push({ mode: 'proactive', tokenLatencyMs, ...counts });
    }
  });
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
}

/** What scenario 4 measured. */
export interface SteadyResult extends Counts {
  readonly params: SteadyParams;
}

/** Scenario 4: short-lived tokens under constant load; proactive renewal should mean no request ever sees a 401. */
export async function steadyState(launch: LaunchServer, params: SteadyParams, progress?: Progress): Promise<SteadyResult> {
  return withServer(launch, { expiresIn: params.expiresIn }, async (server) => {
    const client = authClient(server, keepAliveAgent());
    await client.get('/warm-up');
    // Progress counts milliseconds here: the run is bounded by time, the request cap is only a safety net.
    const started = performance.now();
    const limits = { concurrency: params.workers, maxRequests: 10_000_000, maxMs: params.durationMs };
    const counts = await counted(server, () =>
      pool(limits, (i) => client.get(`/steady/${i}`), () => progress?.(Math.min(Math.round(performance.now() - started), params.durationMs), params.durationMs)),
    );
    return { params, ...counts };
  });
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
  return withServer(launch, { expiresIn: params.expiresIn }, async (server) => {
    const client = authClient(server, keepAliveAgent());
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
      const totals = { requests: 0, ok: 0, failures: 0, firstError: undefined as string | undefined, wallMs: 0 };
      for (let checkpoint = 1; checkpoint <= params.checkpoints; checkpoint += 1) {
        const outcome = await pool(perBatch, (i) => client.get(`/long/${sent + i}`), next(batch));
        sent += outcome.requests;
        totals.requests += outcome.requests;
        totals.ok += outcome.ok;
        totals.failures += outcome.failures;
        totals.firstError ??= outcome.firstError;
        totals.wallMs += outcome.wallMs;
        record(sent);
      }
      return totals;
    });
    const first = heap[1];
    const last = heap[heap.length - 1];
    const growthBytes = first !== undefined && last !== undefined ? last.heapUsed - first.heapUsed : undefined;
    return { params, ...counts, heap, growthBytes };
  });
}
