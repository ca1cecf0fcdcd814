/**
 * `axios-oauth-bearer/opentelemetry`: spans and metrics for OpenTelemetry, built on the diagnostics channels
 * (./diagnostics.ts). Only this entry imports `@opentelemetry/api` (an optional peer): an application that never
 * imports it loads no OpenTelemetry code, and the library publishes nothing while no channel has a subscriber.
 *
 *   import { instrumentOpenTelemetry } from 'axios-oauth-bearer/opentelemetry';
 *   instrumentOpenTelemetry(); // the global tracer and meter providers, as set up by @opentelemetry/sdk-node
 *
 * Every attribute comes from a channel payload, which holds names, numbers and error classes only (see
 * ./diagnostics.ts): no credential, token, form body, username, account id or URL can become an attribute.
 *
 * Decision: a span is made when its token request has ended (the channel tells the outcome and the duration), with
 * its start time set back by that duration. So it has the right start, end and status, but no parent: the request
 * that needed the token is one of many waiting for the same renewal, and no one of them owns it.
 */
import diagnostics_channel from 'node:diagnostics_channel';

import { type Attributes, type Counter, type Histogram, type Meter, metrics, type MeterProvider, SpanKind, SpanStatusCode, trace, type Tracer, type TracerProvider, ValueType } from '@opentelemetry/api';

import {
  channels,
  type CooldownEvent,
  type ErrorEvent,
  type ErrorSummary,
  type LeaseTakeoverEvent,
  type RenewalEvent,
  type ReplayEvent,
  type StoreOperationEvent,
  type TokenRequestEvent,
  type TokenWaitEvent,
} from './diagnostics.js';
import { ConfigurationError } from './errors.js';
import { refuseUnknownOptions } from './option-names.js';

/** The instrumentation scope's name (the tracer's and the meter's). */
export const INSTRUMENTATION_NAME = 'axios-oauth-bearer';

/** Options of {@link instrumentOpenTelemetry}. */
export interface OpenTelemetryOptions {
  /** Defaults to the global tracer provider (`trace.getTracerProvider()`). */
  readonly tracerProvider?: TracerProvider;
  /** Defaults to the global meter provider (`metrics.getMeterProvider()`). */
  readonly meterProvider?: MeterProvider;
}

/** What {@link instrumentOpenTelemetry} returns: `disable()` unsubscribes it (idempotent). */
export interface OpenTelemetryInstrumentation {
  disable(): void;
}

const OPTION_NAMES = ['tracerProvider', 'meterProvider'] as const satisfies readonly (keyof OpenTelemetryOptions)[];

/**
 * Subscribes to the library's diagnostics channels and records spans and metrics (README, "OpenTelemetry"). Every
 * client in the process is covered, whenever it was made. Calling it twice records everything twice.
 */
export function instrumentOpenTelemetry(options: OpenTelemetryOptions = {}): OpenTelemetryInstrumentation {
  if ((options as unknown) === null || typeof options !== 'object') throw new ConfigurationError('options', 'must be an object');
  refuseUnknownOptions(options, OPTION_NAMES, 'instrumentOpenTelemetry');
  // A wrong value would make every event throw inside the guarded subscribers: nothing recorded, nothing said.
  if (options.tracerProvider !== undefined && typeof (options.tracerProvider as Partial<TracerProvider> | null)?.getTracer !== 'function') {
    throw new ConfigurationError('tracerProvider', 'must be a TracerProvider (it has getTracer)');
  }
  if (options.meterProvider !== undefined && typeof (options.meterProvider as Partial<MeterProvider> | null)?.getMeter !== 'function') {
    throw new ConfigurationError('meterProvider', 'must be a MeterProvider (it has getMeter)');
  }
  // The global providers are looked up at each event, not once here: a meter taken from the global meter provider
  // before the SDK registers one stays a no-op for ever (the tracer provider is a proxy, but a new one after
  // `trace.disable()`), so instrumenting before the SDK starts must not lose what is recorded after.
  const tracer = (): Tracer => (options.tracerProvider ?? trace.getTracerProvider()).getTracer(INSTRUMENTATION_NAME);
  const instruments = instrumentsResolver(options.meterProvider);

  const listeners: [string, (message: unknown) => void][] = [
    [
      channels.tokenRequest,
      (message) => {
        const event = message as TokenRequestEvent;
        const attributes: Attributes = { 'oauth.grant_type': event.grant, 'oauth.outcome': event.outcome, ...errorAttributes(event.error) };
        const { tokenRequests, tokenRequestDuration } = instruments();
        tokenRequests.add(1, attributes);
        tokenRequestDuration.record(event.durationMs / 1000, attributes);
        const end = Date.now();
        const span = tracer().startSpan('oauth token request', {
          kind: SpanKind.CLIENT,
          startTime: end - event.durationMs,
          attributes: { ...attributes, 'oauth.attempts': event.attempts },
        });
        if (event.outcome === 'failure') span.setStatus({ code: SpanStatusCode.ERROR, message: event.error?.name ?? 'failed' });
        span.end(end);
      },
    ],
    [
      channels.renewal,
      (message) => {
        const event = message as RenewalEvent;
        instruments().renewalDuration.record(event.durationMs / 1000, {
          'oauth.outcome': event.outcome,
          ...(event.source === undefined ? {} : { 'oauth.token.source': event.source }),
          ...errorAttributes(event.error),
        });
      },
    ],
    [channels.tokenWait, (message) => {
      const event = message as TokenWaitEvent;
      instruments().tokenWaits.record(event.durationMs / 1000, { 'oauth.outcome': event.outcome });
    }],
    [channels.replay, (message) => instruments().replays.add(1, { 'http.request.method': (message as ReplayEvent).method })],
    [channels.cooldown, (message) => instruments().cooldowns.add(1, errorAttributes((message as CooldownEvent).error))],
    [
      channels.storeOperation,
      (message) => {
        const event = message as StoreOperationEvent;
        instruments().storeOperationDuration.record(event.durationMs / 1000, {
          'oauth.store.operation': event.operation,
          'oauth.outcome': event.outcome,
          ...(event.state === undefined ? {} : { 'oauth.store.lease.state': event.state }),
        });
      },
    ],
    [channels.leaseTakeover, (message) => instruments().leaseTakeovers.add(1, { 'oauth.store.takeover.reason': (message as LeaseTakeoverEvent).reason })],
    [
      channels.error,
      (message) => {
        const event = message as ErrorEvent;
        instruments().errors.add(1, {
          ...errorAttributes(event),
          ...(event.operation === undefined ? {} : { 'oauth.store.operation': event.operation }),
          ...(event.reason === undefined ? {} : { 'oauth.store.reason': event.reason }),
        });
      },
    ],
  ];
  const subscribed = listeners.map(([name, listener]) => [name, guarded(listener)] as const);
  let enabled = true;
  for (const [name, listener] of subscribed) diagnostics_channel.subscribe(name, listener);
  return {
    disable: () => {
      if (!enabled) return;
      enabled = false;
      for (const [name, listener] of subscribed) diagnostics_channel.unsubscribe(name, listener);
    },
  };
}

/** The metric instruments of one meter. */
interface Instruments {
  readonly tokenRequests: Counter;
  readonly tokenRequestDuration: Histogram;
  readonly renewalDuration: Histogram;
  readonly replays: Counter;
  readonly cooldowns: Counter;
  readonly tokenWaits: Histogram;
  readonly storeOperationDuration: Histogram;
  readonly leaseTakeovers: Counter;
  readonly errors: Counter;
}

/**
 * Bucket boundaries in seconds (the semantic conventions' advice for HTTP durations): the SDK's default ones are
 * meant for milliseconds and would put every renewal under 5 s in one bucket. Advice needs `@opentelemetry/api`
 * 1.7; an older API passes it on unread and the SDK's defaults apply.
 */
const SECONDS = { advice: { explicitBucketBoundaries: [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10] } };

function instrumentsOf(meter: Meter): Instruments {
  return {
    tokenRequests: meter.createCounter('oauth.token.requests', { description: 'Token endpoint requests, retries included, by grant and outcome', unit: '{request}', valueType: ValueType.INT }),
    tokenRequestDuration: meter.createHistogram('oauth.token.request.duration', { description: 'Duration of a token endpoint request, retries included', unit: 's', ...SECONDS }),
    renewalDuration: meter.createHistogram('oauth.renewal.duration', { description: 'Duration of a renewal (one per storm), by outcome and token source', unit: 's', ...SECONDS }),
    replays: meter.createCounter('oauth.replays', { description: 'Requests refused with 401 and sent again with a renewed token', unit: '{request}', valueType: ValueType.INT }),
    cooldowns: meter.createCounter('oauth.cooldowns', { description: 'Cooldowns started after the token endpoint refused the credentials', unit: '{cooldown}', valueType: ValueType.INT }),
    tokenWaits: meter.createHistogram('oauth.token.wait.duration', { description: 'How long a request without a usable token waited for one', unit: 's', ...SECONDS }),
    storeOperationDuration: meter.createHistogram('oauth.store.operation.duration', { description: "Duration of a shared store's method called by the library, by operation and outcome", unit: 's', ...SECONDS }),
    leaseTakeovers: meter.createCounter('oauth.store.lease.takeovers', { description: "Renewals taken over from another process's lease that did not finish", unit: '{takeover}', valueType: ValueType.INT }),
    errors: meter.createCounter('oauth.errors', { description: 'Errors reported to onError (store reports included), by class', unit: '{error}', valueType: ValueType.INT }),
  };
}

/**
 * The instruments of the given meter provider, else of the global one as it is now: made again when the global
 * provider changes (an SDK started, or `metrics.disable()`), so instrumenting before the SDK starts loses nothing
 * recorded after. One global lookup per event.
 */
function instrumentsResolver(given: MeterProvider | undefined): () => Instruments {
  let provider: MeterProvider | undefined;
  let current: Instruments | undefined;
  return () => {
    const now = given ?? metrics.getMeterProvider();
    if (now !== provider || current === undefined) {
      provider = now;
      current = instrumentsOf(now.getMeter(INSTRUMENTATION_NAME));
    }
    return current;
  };
}

/** `error.type` as the semantic conventions name it (the class), with the HTTP status and OAuth code when known. */
function errorAttributes(error: ErrorSummary | undefined): Attributes {
  if (error === undefined) return {};
  return {
    'error.type': error.name,
    ...(error.status === undefined ? {} : { 'http.response.status_code': error.status }),
    ...(error.oauthError === undefined ? {} : { 'oauth.error': error.oauthError }),
  };
}

/**
 * A subscriber that never throws: node:diagnostics_channel rethrows a subscriber's error as an uncaught exception,
 * which would crash the process over a metrics exporter's bug. Telemetry is lost instead, never a request or a process.
 */
function guarded(listener: (message: unknown) => void): (message: unknown) => void {
  return (message) => {
    try {
      listener(message);
    } catch {
      // Dropped: see above.
    }
  };
}
