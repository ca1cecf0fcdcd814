/**
 * The few markdown helpers the report's files share: tables, counts, and PASS/MISS.
 */
import type { Counts } from './load.js';
import { type Comparison, formatRange, median, type RoundTotals } from './stats.js';

/** PASS when the target was met, MISS otherwise. */
export const status = (pass: boolean): 'PASS' | 'MISS' => (pass ? 'PASS' : 'MISS');

/** A row of the counts tables: scenario, variant, requests, ok, failures (with the first error), token calls, 401s, wall. */
export function countsRow(scenario: string, variant: string, row: Counts): string[] {
  const failures = row.failures === 0 ? '0' : `${count(row.failures)} (${row.firstError ?? '?'})`;
  return [scenario, variant, count(row.requests), count(row.ok), failures, count(row.tokenCalls), count(row.api401s), `${row.wallMs.toFixed(0)} ms`];
}

/** A markdown table; `|` inside a cell is escaped. */
export function table(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const line = (cells: readonly string[]): string => `| ${cells.map((cell) => cell.replace(/\|/g, '\\|')).join(' | ')} |`;
  return [line(header), line(header.map(() => '---')), ...rows.map(line)].join('\n');
}

/** A count with thousands separators. */
export function count(value: number): string {
  return value.toLocaleString('en-US');
}

/** The eight cells of a comparison row: baseline and candidate wall, wall ratio, A/A wall, then the same for CPU. */
export function comparisonCells(baseline: RoundTotals, candidate: RoundTotals, comparison: Comparison): string[] {
  const ms = (values: readonly number[]): string => `${median(values).toFixed(0)} ms`;
  return [
    ms(baseline.wallMs),
    ms(candidate.wallMs),
    formatRange(comparison.wallRatio, 3),
    formatRange(comparison.controlWallRatio, 3),
    ms(baseline.cpuMs),
    ms(candidate.cpuMs),
    formatRange(comparison.cpuRatio, 3),
    formatRange(comparison.controlCpuRatio, 3),
  ];
}
