/**
 * Scenario 9 in the report: its targets (a per-request CPU cost no higher than a single-account client's, one grant
 * per account, every answer with its own account's token, a heap bounded by maxAccounts) and its tables.
 */
import type { AccountsResult } from './accounts.js';
import { comparisonCells, count, status, table } from './markdown.js';
import type { Target } from './report.js';
import { formatRange } from './stats.js';

/**
 * The accounts' share of the heap (above the heap before the first account) may grow by at most this factor from the
 * first checkpoint (maxAccounts accounts gone through: the registry full) to the last (ten times as many): a dropped
 * account that left even a fifth of its footprint behind would show as about 2.8 at 10,000 through 1,000.
 */
export const MAX_ACCOUNTS_HEAP_FLATNESS = 1.2;

/** Scenario 9's targets. */
export function accountsTargets(result: AccountsResult, maxCpuRatio: number): Target[] {
  const { params, overhead, heap, cycle } = result;
  const cycled = params.checkpoints[params.checkpoints.length - 1] ?? 0;
  const first = params.checkpoints[0] ?? 0;
  return [
    {
      target: `many accounts: CPU ratio ${params.activeAccounts}-account client / single-account client ≤ ${maxCpuRatio} at concurrency ${params.concurrency} (median)`,
      measured: `${formatRange(overhead.cpuRatio, 3)}; A/A control ${formatRange(overhead.controlCpuRatio, 3)}`,
      status: status(overhead.cpuRatio.median <= maxCpuRatio),
    },
    {
      target: `many accounts: exactly 1 token call per account (${count(heap.accounts)} and ${count(cycled)}), 0 in the measured rounds`,
      measured: `${count(heap.tokenCalls)} and ${count(cycle.tokenCalls)} token call(s); ${count(overhead.tokenCalls)} in the rounds`,
      status: status(heap.tokenCalls === heap.accounts && cycle.tokenCalls === cycled && overhead.tokenCalls === 0),
    },
    {
      target: 'many accounts: 0 failures, every answer for its own account',
      measured: `${count(result.failures)} failure(s), ${count(result.wrongUser)} answer(s) for another user`,
      status: status(result.failures === 0 && result.wrongUser === 0),
    },
    {
      target: `many accounts: ${count(cycled)} accounts through maxAccounts ${count(cycle.maxAccounts)}: ${count(cycle.maxAccounts)} live, accounts' heap at ${count(cycled)} / at ${count(first)} ≤ ${MAX_ACCOUNTS_HEAP_FLATNESS}`,
      measured:
        cycle.flatness === undefined
          ? `${count(cycle.liveAccounts)} live; heap not measured (run with node --expose-gc)`
          : `${count(cycle.liveAccounts)} live; ${cycle.flatness.toFixed(3)}`,
      status: cycle.liveAccounts !== cycle.maxAccounts ? 'MISS' : cycle.flatness === undefined ? 'N/A' : status(cycle.flatness <= MAX_ACCOUNTS_HEAP_FLATNESS),
    },
  ];
}

/** Scenario 9's tables. */
export function accountsSection(result: AccountsResult): string[] {
  const { params, overhead, heap, cycle } = result;
  const heapCells = cycle.heap.map((point) => `${count(point.accounts)}: ${mib(point.heapUsed)}`);
  return [
    `**9. Many accounts** (one client with \`auth.account\`, one server user per account; ${params.rounds} rounds of ${params.slices} interleaved slices, ` +
      `requests spread over ${params.activeAccounts} accounts, every token granted before the rounds; ratios multi/single per round: median (min–max); ` +
      'A/A = a second single-account client)',
    '',
    table(['shape', 'requests', 'single wall', 'multi wall', 'wall ratio', 'A/A wall', 'single CPU', 'multi CPU', 'CPU ratio', 'A/A CPU'], [
      [`concurrency ${params.concurrency}, ${params.activeAccounts} accounts`, count(params.requests), ...comparisonCells(overhead.single, overhead.multi, overhead)],
    ]),
    '',
    table(['measure', 'value'], [
      [
        `heap per live account (${count(heap.accounts)} accounts, one grant and one request each; heapUsed after GC, before → after)`,
        heap.bytesPerAccount === undefined || heap.heapBefore === undefined || heap.heapAfter === undefined
          ? 'not measured (needs --expose-gc)'
          : `${count(Math.round(heap.bytesPerAccount))} bytes (${mib(heap.heapBefore)} → ${mib(heap.heapAfter)})`,
      ],
      [
        `heapUsed after GC, by accounts gone through maxAccounts ${count(cycle.maxAccounts)} (before the first)`,
        heapCells.length > 0 && cycle.heapBefore !== undefined ? `${heapCells.join(' · ')} (${mib(cycle.heapBefore)})` : 'not measured (needs --expose-gc)',
      ],
      [
        `accounts' heap at ${count(params.checkpoints[params.checkpoints.length - 1] ?? 0)} / at ${count(params.checkpoints[0] ?? 0)} (above the heap before the first)`,
        cycle.flatness === undefined ? '–' : cycle.flatness.toFixed(3),
      ],
    ]),
  ];
}

function mib(bytes: number): string {
  return `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
}
