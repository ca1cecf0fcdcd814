/**
 * Scenario 7 in the report: its targets (one grant across processes; a store that costs nothing per request once a
 * token is held) and its tables, or one SKIPPED line when redis-server was not installed.
 */
import { comparisonCells, count, countsRow, status, table } from './markdown.js';
import type { MultiProcessResult, ProcessBurstRow } from './multi-process.js';
import type { Target } from './report.js';
import { formatRange } from './stats.js';

/** Scenario 7's targets: one grant across processes, and a store that costs nothing per request in steady state. */
export function multiProcessTargets(result: MultiProcessResult, maxCpuRatio: number): Target[] {
  if (result.status === 'skipped') {
    return [{ target: 'multi-process scenario (issue 6)', measured: `SKIPPED: ${result.reason}`, status: 'SKIPPED' }];
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

/** Scenario 7's tables, or its SKIPPED line. */
export function multiProcessSection(result: MultiProcessResult): string[] {
  const header = ['scenario', 'variant', 'processes', 'requests', 'ok', 'failures', 'token calls', '401s served', 'distinct tokens', 'errors reported', 'wall'];
  const scenario = '7. multi-process';
  if (result.status === 'skipped') {
    return ['**7. Multi-process, one Redis**', '', table(header, [[scenario, `SKIPPED: ${result.reason}`, ...header.slice(2).map(() => '–')]])];
  }
  const { params, storeOverhead: store } = result;
  const row = (variant: string, burst: ProcessBurstRow): string[] => {
    const [, , requests = '', ok = '', failures = '', tokenCalls = '', api401s = '', wall = ''] = countsRow(scenario, variant, burst);
    return [scenario, variant, count(burst.processes), requests, ok, failures, tokenCalls, api401s, count(burst.distinctTokens), count(burst.reported), wall];
  };
  return [
    `**7. Multi-process, one Redis** (${params.processes} processes, each with its own client, ioredis client and RedisTokenStore; ` +
      `${params.requestsPerProcess} requests per process per burst, all at once; wall = from the command to the last process's answer)`,
    '',
    table(header, [
      row('cold start, no token anywhere', result.coldStart),
      row(`expiry storm, ${params.expiresIn} s token expired server-side`, result.storm),
    ]),
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
