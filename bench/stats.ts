/**
 * Small summary statistics for repeated measurements. Medians and ranges rather than means: on a shared, noisy
 * machine one descheduled round would drag a mean along, while the median and the min-max range show it honestly.
 */

/** A set of samples, summarised. */
export interface Summary {
  readonly median: number;
  readonly min: number;
  readonly max: number;
  /** First and third quartile (linear interpolation between closest ranks). */
  readonly q1: number;
  readonly q3: number;
  readonly samples: readonly number[];
}

/** The value at quantile `q` (0..1) of already sorted samples, interpolating between neighbours. */
export function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return Number.NaN;
  const position = (sorted.length - 1) * q;
  const lower = Math.floor(position);
  const upper = Math.ceil(position);
  const low = sorted[lower] ?? Number.NaN;
  const high = sorted[upper] ?? Number.NaN;
  return low + (high - low) * (position - lower);
}

/** The median of `samples` (NaN when there are none). */
export function median(samples: readonly number[]): number {
  return quantile([...samples].sort((a, b) => a - b), 0.5);
}

/** Median, quartiles and range of `samples`. */
export function summarize(samples: readonly number[]): Summary {
  const sorted = [...samples].sort((a, b) => a - b);
  return {
    median: quantile(sorted, 0.5),
    min: sorted[0] ?? Number.NaN,
    max: sorted[sorted.length - 1] ?? Number.NaN,
    q1: quantile(sorted, 0.25),
    q3: quantile(sorted, 0.75),
    samples: [...samples],
  };
}

/** Element-wise ratios of paired samples (measured in the same round, so drifts of the machine cancel out). */
export function pairedRatios(numerators: readonly number[], denominators: readonly number[]): number[] {
  return numerators.map((value, index) => value / (denominators[index] ?? Number.NaN));
}

/** `1.03 (1.01–1.06)`: a median with its min–max range. */
export function formatRange(summary: Summary, digits = 2): string {
  return `${summary.median.toFixed(digits)} (${summary.min.toFixed(digits)}–${summary.max.toFixed(digits)})`;
}

/** Per-round totals of one client. */
export interface RoundTotals {
  readonly wallMs: number[];
  readonly cpuMs: number[];
}

/** A candidate client against a baseline, per round; the control (a second baseline) shows what "no difference" measures. */
export interface Comparison {
  readonly wallRatio: Summary;
  readonly cpuRatio: Summary;
  readonly controlWallRatio: Summary;
  readonly controlCpuRatio: Summary;
}

/** The paired per-round ratios of `candidate` and of `control` to `baseline`. */
export function compare(candidate: RoundTotals, baseline: RoundTotals, control: RoundTotals): Comparison {
  return {
    wallRatio: summarize(pairedRatios(candidate.wallMs, baseline.wallMs)),
    cpuRatio: summarize(pairedRatios(candidate.cpuMs, baseline.cpuMs)),
    controlWallRatio: summarize(pairedRatios(control.wallMs, baseline.wallMs)),
    controlCpuRatio: summarize(pairedRatios(control.cpuMs, baseline.cpuMs)),
  };
}
