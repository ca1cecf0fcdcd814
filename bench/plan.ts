/**
 * Which scenarios run, in which order, at which sizes. The full benchmark and the quick check share this plan and
 * differ only in sizes, so the check in CI exercises exactly the code the benchmark runs.
 */
import { accounts, type AccountsParams, type AccountsResult } from './accounts.js';
import type { LaunchServer } from './bench-server.js';
import { faults, type FaultsParams, type FaultsResult } from './faults.js';
import type { Progress } from './load.js';
import { multiProcess, type MultiProcessParams, type MultiProcessResult } from './multi-process.js';
import { overhead, type OverheadParams, type OverheadResult } from './overhead.js';
import { telemetry, type TelemetryParams, type TelemetryResult } from './telemetry.js';
import {
  type ExpiryStormRow,
  expiryStorm,
  longRun,
  type LongRunParams,
  type LongRunResult,
  type QueueParams,
  type QueueResult,
  revocationStorm,
  type RevocationStormRow,
  slowGrantQueue,
  steadyState,
  type SteadyParams,
  type SteadyResult,
  type StormParams,
} from './scenarios.js';

/** The sizes of one run. */
export interface Sizes {
  readonly overhead: OverheadParams;
  readonly storm: StormParams;
  readonly steady: SteadyParams;
  readonly queue: QueueParams;
  readonly longRun: LongRunParams;
  readonly multiProcess: MultiProcessParams;
  readonly faults: FaultsParams;
  readonly accounts: AccountsParams;
  readonly telemetry: TelemetryParams;
}

/**
 * The sizes the issues ask for (5 for scenarios 1-6, 6 for the multi-process scenario 7; 8 as its brief asks; 15 for
 * the many-accounts scenario 9: 50 accounts in the CPU comparison, 1,000 for the heap per account, 10,000 through
 * maxAccounts 1,000).
 */
export const FULL: Sizes = {
  overhead: { rounds: 5, sequential: 2_000, concurrent: 5_000, concurrency: 50, slices: 10, isolated: 10_000 },
  storm: { requests: 500, tokenLatenciesMs: [0, 100], expiresIn: 1, clock: 'real' },
  steady: { expiresIn: 1, workers: 20, durationMs: 5_000, clock: 'real' },
  queue: { requests: 10_000, tokenLatencyMs: 1_000 },
  longRun: { requests: 100_000, checkpoints: 4, concurrency: 50, expiresIn: 2, warmup: 2_000, clock: 'real' },
  multiProcess: {
    processes: 8,
    requestsPerProcess: 50,
    expiresIn: 3,
    clock: 'real',
    // The same lifetime as the Redis variant's, both on the real clock: the two stores side by side on equal terms.
    fileExpiresIn: 3,
    storeOverhead: { rounds: 5, requests: 5_000, concurrency: 50, slices: 10 },
  },
  faults: { processes: 8, leaseMs: 1_000, tokenTimeoutMs: 1_000, redisDelayMs: 400, grantLatencyMs: 50, samples: 3 },
  accounts: {
    users: 1_000,
    rounds: 5,
    requests: 2_000,
    concurrency: 50,
    slices: 10,
    activeAccounts: 50,
    heapAccounts: 1_000,
    maxAccounts: 1_000,
    checkpoints: [1_000, 5_000, 10_000],
  },
  // Issue 18's concurrency 50; each slice one revocation storm of 500 requests.
  telemetry: { rounds: 5, slices: 4, requests: 500, concurrency: 50 },
};

/**
 * Small sizes: a few seconds in all, enough for every exact count to mean something. Tokens age on the virtual clock
 * (./virtual-clock.ts): they live for ten minutes and the clock is moved while nothing is in flight, so no count
 * depends on how fast a loaded machine serves a burst (with half-second tokens in real time, a machine at load 13 made
 * the proactive storm renew several times, serve 401s and fail requests, and the long run fail requests).
 */
export const QUICK: Sizes = {
  overhead: { rounds: 1, sequential: 100, concurrent: 300, concurrency: 50, slices: 2, isolated: 200 },
  storm: { requests: 100, tokenLatenciesMs: [0, 100], expiresIn: 600, clock: 'virtual' },
  steady: { expiresIn: 600, workers: 5, durationMs: 1_200, clock: 'virtual' },
  queue: { requests: 500, tokenLatencyMs: 300 },
  longRun: { requests: 2_000, checkpoints: 4, concurrency: 20, expiresIn: 600, warmup: 100, clock: 'virtual' },
  // Four processes, not eight: each is a tsx start-up, and the Jest check has a time budget.
  multiProcess: {
    processes: 4,
    requestsPerProcess: 10,
    expiresIn: 600,
    clock: 'virtual',
    // The file store's locks cannot run on the virtual clock (see multi-process.ts): real time, 4-second tokens. The
    // storm waits those 4 s; a waiting process would have to be left behind for over 2.5 s to find the renewed token
    // retiring and make a grant of its own.
    fileExpiresIn: 4,
    storeOverhead: { rounds: 1, requests: 300, concurrency: 50, slices: 2 },
  },
  // The shortest lease the library accepts, a short timeout and delay: about 9 s in all, most of it starting the four
  // worker processes.
  faults: { processes: 3, leaseMs: 1_000, tokenTimeoutMs: 500, redisDelayMs: 100, grantLatencyMs: 20, samples: 1 },
  // Long-lived tokens, so its counts need no virtual clock: one grant per account, none in the measured rounds, and
  // exactly maxAccounts live after 80 accounts went through 20. About two seconds in all.
  accounts: {
    users: 20,
    rounds: 1,
    requests: 100,
    concurrency: 20,
    slices: 2,
    activeAccounts: 5,
    heapAccounts: 20,
    maxAccounts: 20,
    checkpoints: [20, 40, 80],
  },
  telemetry: { rounds: 1, slices: 2, requests: 100, concurrency: 50 },
};

/** Everything one run measured, ready for JSON. */
export interface Results {
  readonly overhead: OverheadResult;
  readonly expiryStorm: readonly ExpiryStormRow[];
  readonly revocationStorm: readonly RevocationStormRow[];
  readonly steadyState: SteadyResult;
  readonly queue: QueueResult;
  readonly longRun: LongRunResult;
  /** Its Redis variant is skipped (with the reason) when redis-server is not installed; its file-store variant always runs. */
  readonly multiProcess: MultiProcessResult;
  /** Skipped (with the reason) when redis-server is not installed. */
  readonly faults: FaultsResult;
  readonly accounts: AccountsResult;
  readonly telemetry: TelemetryResult;
}

/** The scenario titles, in run order (the CLI numbers them `[n/10]`). */
export const TITLES = [
  'overhead vs plain axios',
  'expiry storm',
  'revocation storm',
  'steady state',
  'queue under a slow grant',
  'long run',
  'multi-process, Redis and file store',
  'shared store under faults',
  'many accounts',
  'telemetry',
] as const;

/** Gives each scenario its progress callback; `index` is 0-based into {@link TITLES}. */
export type Reporter = (index: number) => Progress | undefined;

/** Runs all ten scenarios one after the other (never in parallel: they would measure each other). */
export async function runScenarios(launch: LaunchServer, sizes: Sizes, reporter: Reporter = () => undefined): Promise<Results> {
  return {
    overhead: await overhead(launch, sizes.overhead, reporter(0)),
    expiryStorm: await expiryStorm(launch, sizes.storm, reporter(1)),
    revocationStorm: await revocationStorm(launch, sizes.storm, reporter(2)),
    steadyState: await steadyState(launch, sizes.steady, reporter(3)),
    queue: await slowGrantQueue(launch, sizes.queue, reporter(4)),
    longRun: await longRun(launch, sizes.longRun, reporter(5)),
    multiProcess: await multiProcess(launch, sizes.multiProcess, reporter(6)),
    faults: await faults(sizes.faults, reporter(7)),
    accounts: await accounts(launch, sizes.accounts, reporter(8)),
    telemetry: await telemetry(launch, sizes.telemetry, reporter(9)),
  };
}
