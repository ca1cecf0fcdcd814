/**
 * Scenario 7 in the report: its targets (one grant across processes, through Redis and through files; a Redis store
 * that costs nothing per request once a token is held) and its tables, the two stores side by side. Without
 * redis-server the Redis variant is one SKIPPED line; the file-store variant always has its rows.
 */
import { comparisonCells, count, countsRow, status, table } from './markdown.js';
import type { MultiProcessResult, ProcessBurstRow, StoreBursts } from './multi-process.js';
import type { Target } from './report.js';
import { formatRange } from './stats.js';

/** Scenario 7's targets: one grant across processes per store, and a Redis store that costs nothing per request in steady state. */
export function multiProcessTargets(result: MultiProcessResult, maxCpuRatio: number): Target[] {
  return [...redisTargets(result, maxCpuRatio), ...fileTargets(result.files)];
}

function redisTargets(result: MultiProcessResult, maxCpuRatio: number): Target[] {
  if (result.status === 'skipped') {
    return [{ target: 'multi-process scenario (issue 6), Redis variant', measured: `SKIPPED: ${result.reason}`, status: 'SKIPPED' }];
  }
  const { coldStart, storm, storeOverhead: store } = result;
  const processes = `${storm.processes} processes, one Redis`;
  return [
    {
      target: `multi-process expiry storm, ${processes}: exactly 1 token call in total, 0 failures`,
      measured: `${storm.tokenCalls} token call(s), ${storm.failures} failure(s) in ${count(storm.requests)} requests`,
      status: status(storm.tokenCalls === 1 && storm.failures === 0),
    },
    {
      target: 'multi-process expiry storm: 0 401s served',
      measured: `${storm.api401s} 401(s)`,
      status: status(storm.api401s === 0),
    },
    {
      target: `multi-process cold start, ${processes}: exactly 1 token call in total, 0 failures`,
      measured: `${coldStart.tokenCalls} token call(s), ${coldStart.failures} failure(s)`,
      status: status(coldStart.tokenCalls === 1 && coldStart.failures === 0),
    },
    {
      target: `Redis store per request: CPU ratio with/without ≤ ${maxCpuRatio} at concurrency ${store.params.concurrency} (median)`,
      measured: `${formatRange(store.cpuRatio, 3)}; A/A control ${formatRange(store.controlCpuRatio, 3)}`,
      status: status(store.cpuRatio.median <= maxCpuRatio),
    },
    {
      target: 'Redis store in steady state: consulted 0 times (only at renewal)',
      measured: `${count(store.storeCommands)} Redis command(s) in ${count(store.params.rounds * store.params.requests)} requests`,
      status: status(store.storeCommands === 0),
    },
  ];
}

/** The file-store variant's targets (issue 17): the Redis variant's, for processes sharing a directory. */
function fileTargets(files: StoreBursts): Target[] {
  const { coldStart, storm } = files;
  const processes = `${storm.processes} processes, one directory (FileTokenStore, ${files.expiresIn} s tokens, real clock)`;
  return [
    {
      target: `multi-process expiry storm, ${processes}: exactly 1 token call in total, 0 failures`,
      measured: `${storm.tokenCalls} token call(s), ${storm.failures} failure(s) in ${count(storm.requests)} requests`,
      status: status(storm.tokenCalls === 1 && storm.failures === 0),
    },
    {
      target: 'multi-process expiry storm, file store: 0 401s served, 0 errors reported to onError, 1 token held by all',
      measured: `${storm.api401s} 401(s), ${storm.reported} report(s), ${storm.distinctTokens} distinct token(s)`,
      status: status(storm.api401s === 0 && storm.reported === 0 && storm.distinctTokens === 1),
    },
    {
      target: `multi-process cold start, ${processes}: exactly 1 token call in total, 0 failures`,
      measured: `${coldStart.tokenCalls} token call(s), ${coldStart.failures} failure(s)`,
      status: status(coldStart.tokenCalls === 1 && coldStart.failures === 0),
    },
  ];
}

const COUNTS_HEADER = [
  'scenario',
  'store',
  'burst',
  'processes',
  'requests',
  'ok',
  'failures',
  'token calls',
  '401s served',
  'distinct tokens',
  'errors reported',
  'latency p50',
  'latency p95',
  'wall',
];
const SCENARIO = '7. multi-process';

function countsCells(store: string, burst: string, row: ProcessBurstRow): string[] {
  const [, , requests = '', ok = '', failures = '', tokenCalls = '', api401s = '', wall = ''] = countsRow(SCENARIO, burst, row);
  return [
    SCENARIO,
    store,
    burst,
    count(row.processes),
    requests,
    ok,
    failures,
    tokenCalls,
    api401s,
    count(row.distinctTokens),
    count(row.reported),
    ms(row.latency.p50Ms),
    ms(row.latency.p95Ms),
    wall,
  ];
}

function burstRows(store: string, bursts: StoreBursts): string[][] {
  return [
    countsCells(store, 'cold start, no token anywhere', bursts.coldStart),
    countsCells(store, `expiry storm, ${bursts.expiresIn} s token expired server-side`, bursts.storm),
    countsCells(store, 'warm, token in hand (baseline)', bursts.warm),
  ];
}

/** The renewal's added latency cells of one variant: storm against the warm baseline (and the cold start) of the same run. */
function latencyCells(bursts: StoreBursts): string[] {
  const { coldStart, storm, warm } = bursts;
  const added = storm.latency.p50Ms - warm.latency.p50Ms;
  return [
    `${bursts.expiresIn} s, ${bursts.clock} clock`,
    `${added >= 0 ? '+' : '−'}${ms(Math.abs(added))}`,
    ratio(storm.latency.p50Ms, warm.latency.p50Ms),
    ratio(storm.latency.p95Ms, warm.latency.p95Ms),
    ratio(storm.latency.p50Ms, coldStart.latency.p50Ms),
  ];
}

/** Scenario 7's tables: both stores' bursts, the renewal's added latency side by side, and the Redis store's overhead. */
export function multiProcessSection(result: MultiProcessResult): string[] {
  const { params, files } = result;
  const redis: StoreBursts | undefined =
    result.status === 'measured' ? { expiresIn: params.expiresIn, clock: params.clock, coldStart: result.coldStart, storm: result.storm, warm: result.warm } : undefined;
  const redisRows =
    redis === undefined
      ? [[SCENARIO, 'Redis', `SKIPPED: ${result.status === 'skipped' ? result.reason : ''}`, ...COUNTS_HEADER.slice(3).map(() => '–')]]
      : burstRows('Redis', redis);
  const latencyHeader = ['store', 'token lifetime', 'storm p50 − warm p50', 'storm p50 / warm p50', 'storm p95 / warm p95', 'storm p50 / cold start p50'];
  const lines = [
    `**7. Multi-process, one Redis and one directory** (${params.processes} processes, each with its own client and store: ` +
      'an ioredis client and RedisTokenStore, or a FileTokenStore on a directory they all share; ' +
      `${params.requestsPerProcess} requests per process per burst, all at once; latency = from the burst's start in a process to each answer, ` +
      "over all the processes' requests; wall = from the command to the last process's answer)",
    '',
    table(COUNTS_HEADER, [...redisRows, ...burstRows('files', files)]),
    '',
    "The renewal's added latency (each store against its own warm burst, the same processes in the same run; ratios, not absolute times)",
    '',
    table(latencyHeader, [
      redis === undefined ? ['Redis', 'SKIPPED', '–', '–', '–', '–'] : ['Redis', ...latencyCells(redis)],
      ['files', ...latencyCells(files)],
    ]),
  ];
  if (result.status === 'skipped') return lines;
  const store = result.storeOverhead;
  return [
    ...lines,
    '',
    `Redis store overhead, one process (${store.params.rounds} rounds of ${store.params.slices} interleaved slices, long-lived token; ` +
      'per-round totals: median; ratios with/without per round: median (min–max); A/A = a second client without the store)',
    '',
    table(
      ['shape', 'requests', 'without wall', 'with wall', 'wall ratio', 'A/A wall', 'without CPU', 'with CPU', 'CPU ratio', 'A/A CPU', 'store commands (first grant)'],
      [
        [
          `concurrency ${store.params.concurrency}`,
          count(store.params.requests),
          ...comparisonCells(store.withoutStore, store.withStore, store),
          `${count(store.storeCommands)} (${count(store.storeCommandsWarmUp)})`,
        ],
      ],
    ),
  ];
}

function ms(value: number): string {
  return Number.isFinite(value) ? `${value.toFixed(0)} ms` : '–';
}

function ratio(numerator: number, denominator: number): string {
  return Number.isFinite(numerator) && Number.isFinite(denominator) && denominator > 0 ? `${(numerator / denominator).toFixed(2)}×` : '–';
}
