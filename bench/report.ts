/**
 * Turns results into the targets of issues 5 and 6 and of scenarios 8 and 9 (PASS / MISS) and a markdown report that can be pasted into the
 * README. Pure functions of the results: no I/O, so the numbers printed and the numbers saved as JSON cannot disagree.
 */
import type { Counts } from './load.js';
import { comparisonCells, count, countsRow, status, table } from './markdown.js';
import type { OverheadShape } from './overhead.js';
import type { Results } from './plan.js';
import { accountsSection, accountsTargets } from './report-accounts.js';
import { telemetrySection, telemetryTargets } from './report-telemetry.js';
import { faultsSection, faultsTargets } from './report-faults.js';
import { multiProcessSection, multiProcessTargets } from './report-multi-process.js';
import { formatRange } from './stats.js';

/**
 * A target and how this run did against it. `N/A` when it could not be measured (heap without --expose-gc),
 * `SKIPPED` when its scenario could not run (no redis-server installed).
 */
export interface Target {
  readonly target: string;
  readonly measured: string;
  readonly status: 'PASS' | 'MISS' | 'N/A' | 'SKIPPED';
}

/**
 * The CPU ratio the library may cost at concurrency 50; the same bound holds for the Redis store's own cost and for a
 * multi-account client's against a single-account one.
 */
export const MAX_CPU_RATIO = 1.05;
/**
 * Heap growth allowed between the first and the last checkpoint of the long run: 1 MiB over 75,000 requests is
 * under 14 bytes a request, far below the smallest object a leak per request or per token would keep.
 */
export const MAX_HEAP_GROWTH_BYTES = 1024 * 1024;

/** The run's environment, printed above the tables. */
export interface RunInfo {
  /** `peers` and `peers-quick`: the comparison with the peers (./peers.ts) at full or quick sizes. */
  readonly mode: 'full' | 'quick' | 'peers' | 'peers-quick';
  readonly startedAt: string;
  readonly durationMs: number;
  readonly node: string;
  readonly platform: string;
  readonly cpus: number;
  readonly gcExposed: boolean;
}

/** Judges the results against the targets. */
export function evaluateTargets(results: Results): Target[] {
  const targets: Target[] = [];
  const cpu = results.overhead.concurrent.cpuRatio;
  const control = results.overhead.concurrent.controlCpuRatio;
  targets.push({
    target: `client CPU ratio ≤ ${MAX_CPU_RATIO} at concurrency ${results.overhead.params.concurrency} (median)`,
    measured: `${formatRange(cpu, 3)}; A/A control ${formatRange(control, 3)}`,
    status: status(cpu.median <= MAX_CPU_RATIO),
  });
  const storms: [string, Counts][] = [
    ...results.expiryStorm.map((row): [string, Counts] => [`expiry storm, ${row.mode}, grant ${row.tokenLatencyMs} ms`, row]),
    ...results.revocationStorm.map((row): [string, Counts] => [`revocation storm, ${row.mode}`, row]),
  ];
  for (const [name, row] of storms) {
    targets.push({
      target: `${name}: exactly 1 token call, 0 failures`,
      measured: `${row.tokenCalls} token call(s), ${row.failures} failure(s)`,
      status: status(row.tokenCalls === 1 && row.failures === 0),
    });
  }
  for (const row of results.expiryStorm.filter((storm) => storm.mode === 'proactive')) {
    targets.push({
      target: `expiry storm, proactive, grant ${row.tokenLatencyMs} ms: 0 401s served`,
      measured: `${row.api401s} 401(s)`,
      status: status(row.api401s === 0),
    });
  }
  const steady = results.steadyState;
  targets.push({
    target: 'steady state: 0 401s served, 0 failures',
    measured: `${steady.api401s} 401(s), ${steady.failures} failure(s) in ${count(steady.requests)} requests`,
    status: status(steady.api401s === 0 && steady.failures === 0),
  });
  const queue = results.queue;
  targets.push({
    target: `queue: ${count(queue.params.requests)}/${count(queue.params.requests)} succeed`,
    measured: `${count(queue.ok)}/${count(queue.params.requests)}`,
    status: status(queue.ok === queue.params.requests),
  });
  const { growthBytes, heap } = results.longRun;
  const span = heap.length > 1 ? `${count(heap[1]?.requests ?? 0)}→${count(heap[heap.length - 1]?.requests ?? 0)}` : '';
  targets.push({
    target: `long run: heap growth ${span} < ${mib(MAX_HEAP_GROWTH_BYTES)} (independent of request count)`,
    measured: growthBytes === undefined ? 'not measured (run with node --expose-gc)' : signedMib(growthBytes),
    status: growthBytes === undefined ? 'N/A' : status(growthBytes < MAX_HEAP_GROWTH_BYTES),
  });
  targets.push(...multiProcessTargets(results.multiProcess, MAX_CPU_RATIO));
  targets.push(...faultsTargets(results.faults));
  targets.push(...accountsTargets(results.accounts, MAX_CPU_RATIO));
  targets.push(...telemetryTargets(results.telemetry));
  return targets;
}

/** The whole report as markdown: environment, one table per kind of result, then the targets. */
export function renderMarkdown(results: Results, targets: readonly Target[], info: RunInfo): string {
  const lines: string[] = [];
  lines.push(`### axios-oauth-bearer benchmark (${info.mode})`, '');
  lines.push(
    `${info.startedAt} · Node ${info.node} · ${info.platform} · ${info.cpus} CPUs · ${(info.durationMs / 1000).toFixed(0)} s · ` +
      'server in a child process · keep-alive agents',
    '',
  );

  const { overhead } = results;
  lines.push(
    `**1. Overhead vs plain axios** (${overhead.params.rounds} rounds of ${overhead.params.slices} interleaved slices; ` +
      'per-round totals: median; ratios to plain per round: median (min–max); A/A = a second plain client, the noise floor)',
    '',
  );
  const iso = overhead.isolated;
  lines.push(table(['shape', 'requests', 'plain wall', 'auth wall', 'wall ratio', 'A/A wall', 'plain CPU', 'auth CPU', 'CPU ratio', 'A/A CPU'], [
    overheadRow('sequential', overhead.sequential),
    overheadRow(`concurrency ${overhead.params.concurrency}`, overhead.concurrent),
    [
      `stub adapter, no I/O, concurrency ${overhead.params.concurrency}`,
      count(iso.requests),
      '–',
      '–',
      '–',
      '–',
      `${iso.plainCpuUs.median.toFixed(1)} µs/req`,
      `${iso.authCpuUs.median.toFixed(1)} µs/req`,
      formatRange(iso.cpuRatio, 3),
      '–',
    ],
  ]));

  lines.push('', '**2–6. Storms, steady state, queue, long run**', '');
  const rows: string[][] = [
    ...results.expiryStorm.map((row) => countsRow('2. expiry storm', `${row.mode}, grant ${row.tokenLatencyMs} ms`, row)),
    ...results.revocationStorm.map((row) => countsRow('3. revocation storm', `revoked ${row.mode}`, row)),
    countsRow('4. steady state', `${results.steadyState.params.expiresIn} s tokens, ${results.steadyState.params.workers} workers, ${results.steadyState.params.durationMs / 1000} s`, results.steadyState),
    countsRow('5. queue', `cold client, grant ${results.queue.params.tokenLatencyMs} ms`, results.queue),
    countsRow('6. long run', `${results.longRun.params.expiresIn} s tokens, concurrency ${results.longRun.params.concurrency}`, results.longRun),
  ];
  lines.push(table(['scenario', 'variant', 'requests', 'ok', 'failures', 'token calls', '401s served', 'wall'], rows));

  const memory = results.queue.memory;
  lines.push('', ...multiProcessSection(results.multiProcess));
  lines.push('', ...faultsSection(results.faults));
  lines.push('', ...accountsSection(results.accounts));
  lines.push('', ...telemetrySection(results.telemetry));

  lines.push('', '**Memory** (client process)', '');
  const heapCells = results.longRun.heap.map((point) => `${count(point.requests)}: ${mib(point.heapUsed)}`);
  const floor = results.queue.plainFloor;
  lines.push(table(['measure', 'value'], [
    ['5. queue: peak RSS (before the flood)', `${mib(memory.peakRss)} (${mib(memory.baselineRss)})`],
    ['5. queue: peak heapUsed (before the flood)', `${mib(memory.peakHeapUsed)} (${mib(memory.baselineHeapUsed)})`],
    [
      '5. same flood, plain axios + fixed token: peak heapUsed (before)',
      `${mib(floor.memory.peakHeapUsed)} (${mib(floor.memory.baselineHeapUsed)}), ${count(floor.ok)}/${count(results.queue.params.requests)} ok in ${floor.wallMs.toFixed(0)} ms`,
    ],
    ['6. long run: heapUsed after GC, by requests sent', heapCells.length > 0 ? heapCells.join(' · ') : 'not measured (needs --expose-gc)'],
  ]));

  lines.push('', '**Targets**', '');
  lines.push(table(['target', 'measured', 'result'], targets.map((t) => [t.target, t.measured, t.status === 'PASS' ? 'PASS' : `**${t.status}**`])));
  return `${lines.join('\n')}\n`;
}

function overheadRow(shape: string, result: OverheadShape): string[] {
  return [shape, count(result.requests), ...comparisonCells(result.plain, result.auth, result)];
}

function mib(bytes: number): string {
  return `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
}

function signedMib(bytes: number): string {
  const kib = bytes / 1024;
  return `${kib >= 0 ? '+' : ''}${kib.toFixed(0)} KiB`;
}
