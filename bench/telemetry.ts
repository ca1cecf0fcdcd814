/**
 * Scenario 10: what telemetry costs per request (issue 18). Four variants of the same client take turns slice by
 * slice (ABCD, then DCBA), in the same process, against the same server:
 * - `off`: no subscriber on any channel (what every user without telemetry has);
 * - `control`: the same again, measured the same way: the noise floor of the run (ideally 1);
 * - `channels`: a plain subscriber on each of the diagnostics channels (an APM agent without OpenTelemetry);
 * - `noop`: instrumentOpenTelemetry() with the API's global providers and no SDK registered (telemetry turned on in
 *   code, the SDK not installed): the API's no-op tracer and meter;
 * - `otel`: instrumentOpenTelemetry() with the real SDK (sdk-trace-base with an in-memory exporter, sdk-metrics).
 * Subscriptions are global, so each is made for its own slices only. A steady-state request publishes nothing (no
 * renewal, no replay), so to measure the events at all each slice starts with the server revoking every token: the
 * slice is a revocation storm at concurrency 50, with one refresh, one token request and a replay per 401 in it.
 */
import diagnostics_channel from 'node:diagnostics_channel';

import { MeterProvider, MetricReader } from '@opentelemetry/sdk-metrics';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';

import { channels } from '../src/diagnostics.js';
import { instrumentOpenTelemetry } from '../src/opentelemetry.js';
import type { LaunchServer } from './bench-server.js';
import { authClient, keepAliveAgent, LONG_LIVED, measure, phases, pool, type Progress, withServer } from './load.js';
import { pairedRatios, type Summary, summarize } from './stats.js';

/** Sizes of scenario 10 (requests are per slice). */
export interface TelemetryParams {
  readonly rounds: number;
  readonly slices: number;
  readonly requests: number;
  readonly concurrency: number;
}

const VARIANTS = ['off', 'control', 'channels', 'noop', 'otel'] as const;
type Variant = (typeof VARIANTS)[number];

/** What scenario 10 measured. */
export interface TelemetryResult {
  readonly params: TelemetryParams;
  /** Client CPU ms per round, by variant. */
  readonly cpuMs: Readonly<Record<Variant, readonly number[]>>;
  /** Per-round CPU ratios to `off`: median (min–max). */
  readonly controlRatio: Summary;
  readonly channelsRatio: Summary;
  readonly noopRatio: Summary;
  readonly otelRatio: Summary;
  readonly failures: number;
  /** Token calls in the measured rounds: one per slice and variant (each slice's one refresh). */
  readonly tokenCalls: number;
  /** Events the channel subscribers saw, and spans the SDK ended, in the measured rounds. */
  readonly channelEvents: number;
  readonly otelSpans: number;
}

class QuietReader extends MetricReader {
  protected onShutdown(): Promise<void> {
    return Promise.resolve();
  }
  protected onForceFlush(): Promise<void> {
    return Promise.resolve();
  }
}

/** Subscribes a variant's telemetry; the returned function unsubscribes it. */
function enable(variant: Variant, counters: { events: number }, exporter: InMemorySpanExporter, providers: { tracer: BasicTracerProvider; meter: MeterProvider }): () => void {
  if (variant === 'channels') {
    const listener = (): void => {
      counters.events += 1;
    };
    for (const name of Object.values(channels)) diagnostics_channel.subscribe(name, listener);
    return () => {
      for (const name of Object.values(channels)) diagnostics_channel.unsubscribe(name, listener);
    };
  }
  if (variant === 'noop') {
    const instrumentation = instrumentOpenTelemetry();
    return () => instrumentation.disable();
  }
  if (variant === 'otel') {
    exporter.reset();
    const instrumentation = instrumentOpenTelemetry({ tracerProvider: providers.tracer, meterProvider: providers.meter });
    return () => instrumentation.disable();
  }
  return () => undefined;
}

/** Runs scenario 10 (see the module comment). */
export async function telemetry(launch: LaunchServer, params: TelemetryParams, progress?: Progress): Promise<TelemetryResult> {
  return withServer(launch, LONG_LIVED, async (server) => {
    const clients = Object.fromEntries(VARIANTS.map((variant) => [variant, authClient(server, keepAliveAgent())])) as Record<Variant, ReturnType<typeof authClient>>;
    const exporter = new InMemorySpanExporter();
    const providers = { tracer: new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] }), meter: new MeterProvider({ readers: [new QuietReader()] }) };
    const next = phases(progress, (params.rounds + 1) * params.slices * VARIANTS.length * params.requests);
    for (const variant of VARIANTS) await clients[variant].get('/warm-up');
    const cpuMs = Object.fromEntries(VARIANTS.map((variant) => [variant, [] as number[]])) as Record<Variant, number[]>;
    const counters = { events: 0 };
    let failures = 0;
    let tokenCalls = 0;
    let otelSpans = 0;
    for (let round = 0; round <= params.rounds; round += 1) {
      const measured = round > 0;
      if (measured) await server.resetStats();
      const sums = new Map<Variant, number>(VARIANTS.map((variant) => [variant, 0]));
      const eventsBefore = counters.events;
      for (let slice = 0; slice < params.slices; slice += 1) {
        const order = (slice + round) % 2 === 0 ? VARIANTS : [...VARIANTS].reverse();
        for (const variant of order) {
          await server.revokeAll();
          const disable = enable(variant, counters, exporter, providers);
          const client = clients[variant];
          const run = await measure(() => pool({ concurrency: params.concurrency, maxRequests: params.requests, maxMs: 60_000 }, (i) => client.get(`/telemetry/${i}`), next(params.requests)));
          disable();
          if (variant === 'otel' && measured) otelSpans += exporter.getFinishedSpans().length;
          failures += run.result.failures;
          sums.set(variant, (sums.get(variant) ?? 0) + run.cpuMs);
        }
      }
      if (!measured) {
        counters.events = eventsBefore;
        continue;
      }
      tokenCalls += (await server.stats()).tokenRequests;
      for (const variant of VARIANTS) cpuMs[variant].push(sums.get(variant) ?? 0);
    }
    const ratio = (variant: Variant): Summary => summarize(pairedRatios(cpuMs[variant], cpuMs.off));
    return {
      params,
      cpuMs,
      controlRatio: ratio('control'),
      channelsRatio: ratio('channels'),
      noopRatio: ratio('noop'),
      otelRatio: ratio('otel'),
      failures,
      tokenCalls,
      channelEvents: counters.events,
      otelSpans,
    };
  });
}
