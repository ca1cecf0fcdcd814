/**
 * Scenario 10 in the report: its targets (issue 18: per-request CPU with telemetry against without, at concurrency
 * 50, at most 1.02 with instrumentOpenTelemetry() and no SDK installed, at most 1.05 with the SDK) and its table.
 */
import { channels } from '../src/diagnostics.js';
import { count, status, table } from './markdown.js';
import type { Target } from './report.js';
import { formatRange } from './stats.js';
import type { TelemetryResult } from './telemetry.js';

export const MAX_NOOP_CPU_RATIO = 1.02;
export const MAX_OTEL_CPU_RATIO = 1.05;
/** off, control, channels, noop, otel: each makes one refresh per storm. */
export const VARIANT_COUNT = 5;

/** Scenario 10's targets. */
export function telemetryTargets(result: TelemetryResult): Target[] {
  const { params, noopRatio, otelRatio, controlRatio } = result;
  const control = `; A/A control ${formatRange(controlRatio, 3)}`;
  return [
    {
      target: `telemetry: CPU ratio with instrumentOpenTelemetry() and no SDK / without ≤ ${MAX_NOOP_CPU_RATIO} at concurrency ${params.concurrency} (median)`,
      measured: formatRange(noopRatio, 3) + control,
      status: status(noopRatio.median <= MAX_NOOP_CPU_RATIO),
    },
    {
      target: `telemetry: CPU ratio with the OpenTelemetry SDK / without ≤ ${MAX_OTEL_CPU_RATIO} at concurrency ${params.concurrency} (median)`,
      measured: formatRange(otelRatio, 3) + control,
      status: status(otelRatio.median <= MAX_OTEL_CPU_RATIO),
    },
    {
      target: 'telemetry: 0 failures, one token call per storm, one span per storm with the SDK',
      measured: `${count(result.failures)} failure(s), ${count(result.tokenCalls)} token call(s), ${count(result.otelSpans)} span(s) for ${count(params.rounds * params.slices)} storms per variant`,
      status: status(result.failures === 0 && result.tokenCalls === VARIANT_COUNT * params.rounds * params.slices && result.otelSpans === params.rounds * params.slices),
    },
  ];
}

/** Scenario 10's table. */
export function telemetrySection(result: TelemetryResult): string[] {
  const { params, cpuMs } = result;
  const total = (values: readonly number[]): string => `${values.reduce((sum, value) => sum + value, 0).toFixed(0)} ms`;
  return [
    `**10. Telemetry** (${params.rounds} rounds of ${params.slices} interleaved slices per variant; each slice a revocation storm of ` +
      `${count(params.requests)} requests at concurrency ${params.concurrency}: one refresh and a replay per 401; client CPU; ratios to \`off\` per round: median (min–max))`,
    '',
    table(['variant', 'client CPU (all rounds)', 'CPU ratio to off'], [
      ['off: no subscriber', total(cpuMs.off), '1'],
      ['control: off again (noise floor)', total(cpuMs.control), formatRange(result.controlRatio, 3)],
      [`channels: a subscriber on each of the ${Object.keys(channels).length} channels (${count(result.channelEvents)} events)`, total(cpuMs.channels), formatRange(result.channelsRatio, 3)],
      ['noop: instrumentOpenTelemetry() with no SDK (the API\'s no-op providers)', total(cpuMs.noop), formatRange(result.noopRatio, 3)],
      [`otel: instrumentOpenTelemetry with sdk-trace-base and sdk-metrics (${count(result.otelSpans)} spans)`, total(cpuMs.otel), formatRange(result.otelRatio, 3)],
    ]),
  ];
}
