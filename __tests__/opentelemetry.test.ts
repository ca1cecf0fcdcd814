/**
 * axios-oauth-bearer/opentelemetry (issue 18) with the official in-memory SDKs (@opentelemetry/sdk-trace-base and
 * sdk-metrics, pinned), against the loopback authorization server on real sockets: the exact spans and metric values
 * of a first grant, a 500-request storm (one span for the one renewal, every replay counted), a 503 retried, and a
 * wrong password inside the cooldown; no attribute holds a secret; disable() stops it.
 */
import { Agent } from 'node:http';

import { type Attributes, metrics as globalMetrics, trace as globalTrace } from '@opentelemetry/api';
import { type DataPoint, type Histogram, MeterProvider, MetricReader } from '@opentelemetry/sdk-metrics';
import { BasicTracerProvider, InMemorySpanExporter, type ReadableSpan, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';

import { type AuthClient, createAuthClient } from '../src/client.js';
import { ConfigurationError, UserAuthenticationError } from '../src/errors.js';
import { instrumentOpenTelemetry, type OpenTelemetryInstrumentation } from '../src/opentelemetry.js';
import { MemoryTokenStore } from '../src/stores/memory.js';
import type { LeaseRequest, StoreSnapshot } from '../src/stores/types.js';
import { type AuthServer, startAuthServer } from '../src/testing/server.js';
import { revocationStorm } from './helpers/revocation-storm.js';
import { waitFor } from './helpers/waiting.js';

class CollectingReader extends MetricReader {
  protected onShutdown(): Promise<void> {
    return Promise.resolve();
  }
  protected onForceFlush(): Promise<void> {
    return Promise.resolve();
  }
}

let server: AuthServer;
let agent: Agent;
let spans: InMemorySpanExporter;
let reader: CollectingReader;
let instrumentation: OpenTelemetryInstrumentation;

beforeEach(async () => {
  server = await startAuthServer();
  agent = new Agent({ keepAlive: true, maxSockets: 64 });
  spans = new InMemorySpanExporter();
  reader = new CollectingReader();
  instrumentation = instrumentOpenTelemetry({
    tracerProvider: new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(spans)] }),
    meterProvider: new MeterProvider({ readers: [reader] }),
  });
});

afterEach(async () => {
  instrumentation.disable();
  agent.destroy();
  await server.close();
});

function client(auth: Record<string, unknown> = {}): AuthClient {
  return createAuthClient({ baseURL: server.apiUrl, httpAgent: agent, auth: { ...server.credentials, cooldownMs: 60_000, ...auth } } as Parameters<typeof createAuthClient>[0]) as AuthClient;
}

/** Each metric's data points, by name: a counter's value, a histogram's count. */
async function collected(): Promise<Record<string, { attributes: Attributes; value: number }[]>> {
  const { resourceMetrics } = await reader.collect();
  const out: Record<string, { attributes: Attributes; value: number }[]> = {};
  for (const scope of resourceMetrics.scopeMetrics) {
    expect(scope.scope.name).toBe('axios-oauth-bearer');
    for (const metric of scope.metrics) {
      out[metric.descriptor.name] = (metric.dataPoints as DataPoint<number | Histogram>[]).map((point) => ({
        attributes: point.attributes,
        value: typeof point.value === 'number' ? point.value : point.value.count,
      }));
    }
  }
  return out;
}

function spanSummary(span: ReadableSpan): { name: string; status: number; attributes: Attributes } {
  return { name: span.name, status: span.status.code, attributes: span.attributes };
}

/** No span attribute, span status message or metric attribute holds a credential or a token the server issued. */
async function expectNoSecret(...extra: string[]): Promise<void> {
  const text = JSON.stringify({ spans: spans.getFinishedSpans().map((span) => [span.name, span.attributes, span.status, span.events]), metrics: await collected() });
  const { password, clientSecret, username } = server.credentials;
  for (const secret of [password, clientSecret, username, ...extra]) expect(text).not.toContain(secret);
  expect(text).not.toMatch(/\b(at|rt)-\d+\b/);
}

test('a first grant: one span, one token request counted, one renewal recorded', async () => {
  const api = client();
  await api.get('/first');
  await api.get('/second');

  expect(spans.getFinishedSpans().map(spanSummary)).toEqual([
    { name: 'oauth token request', status: 0, attributes: { 'oauth.grant_type': 'password', 'oauth.outcome': 'success', 'oauth.attempts': 1 } },
  ]);
  const [span] = spans.getFinishedSpans();
  expect(span!.kind).toBe(2); // SpanKind.CLIENT
  const metrics = await collected();
  expect(metrics['oauth.token.requests']).toEqual([{ attributes: { 'oauth.grant_type': 'password', 'oauth.outcome': 'success' }, value: 1 }]);
  expect(metrics['oauth.token.request.duration']).toEqual([{ attributes: { 'oauth.grant_type': 'password', 'oauth.outcome': 'success' }, value: 1 }]);
  expect(metrics['oauth.renewal.duration']).toEqual([{ attributes: { 'oauth.outcome': 'success', 'oauth.token.source': 'password' }, value: 1 }]);
  expect(metrics['oauth.replays'] ?? []).toEqual([]);
  expect(metrics['oauth.token.wait.duration']).toEqual([{ attributes: { 'oauth.outcome': 'success' }, value: 1 }]);
  await expectNoSecret(api.tokens.current!.accessToken);
});

test('a 500-request storm after the server revoked every token: one span for the one renewal, every replay counted', async () => {
  const api = client();
  const { storm401s } = await revocationStorm(api, server);

  expect(spans.getFinishedSpans().map((span) => span.attributes['oauth.grant_type'])).toEqual(['password', 'refresh_token']);
  const metrics = await collected();
  expect(metrics['oauth.replays']).toEqual([{ attributes: { 'http.request.method': 'GET' }, value: storm401s }]);
  expect(metrics['oauth.renewal.duration']).toEqual([
    { attributes: { 'oauth.outcome': 'success', 'oauth.token.source': 'password' }, value: 1 },
    { attributes: { 'oauth.outcome': 'success', 'oauth.token.source': 'refresh_token' }, value: 1 },
  ]);
  await expectNoSecret(api.tokens.current!.accessToken);
});

test('a 503 retried: one span of two attempts, the failed attempt counted as an error with its status', async () => {
  const api = client({ retry: { attempts: 3, baseDelayMs: 1, maxDelayMs: 5 } });
  server.failNext(1, 503, { error: 'temporarily_unavailable' });

  await api.get('/first');

  expect(server.stats.tokenRequests).toBe(2);
  expect(spans.getFinishedSpans().map(spanSummary)).toEqual([
    { name: 'oauth token request', status: 0, attributes: { 'oauth.grant_type': 'password', 'oauth.outcome': 'success', 'oauth.attempts': 2 } },
  ]);
  const metrics = await collected();
  expect(metrics['oauth.errors']).toEqual([
    { attributes: { 'error.type': 'TokenEndpointError', 'http.response.status_code': 503, 'oauth.error': 'temporarily_unavailable' }, value: 1 },
  ]);
  await expectNoSecret(api.tokens.current!.accessToken);
});

test('a wrong password inside the cooldown: one failed span, one cooldown, and the second request adds no span', async () => {
  const wrong = 'wrong-password-7f3a';
  const api = client({ password: wrong });

  await expect(api.get('/first')).rejects.toBeInstanceOf(UserAuthenticationError);
  await expect(api.get('/second')).rejects.toBeInstanceOf(UserAuthenticationError);

  expect(server.stats.tokenRequests).toBe(1);
  const failure = { 'error.type': 'UserAuthenticationError', 'http.response.status_code': 403, 'oauth.error': 'invalid_grant' };
  expect(spans.getFinishedSpans().map(spanSummary)).toEqual([
    { name: 'oauth token request', status: 2, attributes: { 'oauth.grant_type': 'password', 'oauth.outcome': 'failure', ...failure, 'oauth.attempts': 1 } },
  ]);
  const metrics = await collected();
  expect(metrics['oauth.token.requests']).toEqual([{ attributes: { 'oauth.grant_type': 'password', 'oauth.outcome': 'failure', ...failure }, value: 1 }]);
  expect(metrics['oauth.cooldowns']).toEqual([{ attributes: failure, value: 1 }]);
  expect(metrics['oauth.renewal.duration']).toEqual([{ attributes: { 'oauth.outcome': 'failure', ...failure }, value: 1 }]);
  await expectNoSecret(wrong);
});

test('disable() unsubscribes: nothing more is recorded; an unknown option is refused by name', async () => {
  instrumentation.disable();
  instrumentation.disable();
  await client().get('/first');
  expect(spans.getFinishedSpans()).toEqual([]);
  expect(() => instrumentOpenTelemetry({ tracerProvder: undefined, meterProvder: {} } as never)).toThrow(ConfigurationError);
});

test('shared store: each store call recorded by operation, outcome and lease state; a takeover of a lease that freed up counted', async () => {
  const store = new MemoryTokenStore();
  const first = client({ store });
  await first.get('/first');
  const second = client({ store });
  await second.get('/second');
  // The second client's lease goes back in the background: wait for its data point.
  await waitFor('three store data points', async () => ((await collected())['oauth.store.operation.duration'] ?? []).length >= 3, 5_000, 10);

  let metrics = await collected();
  expect(metrics['oauth.store.operation.duration']).toEqual([
    { attributes: { 'oauth.store.operation': 'acquire', 'oauth.outcome': 'success', 'oauth.store.lease.state': 'leased' }, value: 2 },
    { attributes: { 'oauth.store.operation': 'commit', 'oauth.outcome': 'success' }, value: 1 },
    { attributes: { 'oauth.store.operation': 'release', 'oauth.outcome': 'success' }, value: 1 },
  ]);
  expect(metrics['oauth.store.lease.takeovers'] ?? []).toEqual([]);

  // A holder that never finishes (held twice, then the lease is free and the store empty): taken over.
  const abandoned = new (class extends MemoryTokenStore {
    held = 2;
    override acquire(key: string, request: LeaseRequest): StoreSnapshot {
      if (this.held-- <= 0) return super.acquire(key, request);
      return { state: 'held', tokens: undefined, failure: undefined, holderRemainingMs: 5_000 };
    }
  })();
  await client({ store: abandoned }).get('/third');
  metrics = await collected();
  expect(metrics['oauth.store.lease.takeovers']).toEqual([{ attributes: { 'oauth.store.takeover.reason': 'lease-freed' }, value: 1 }]);
  expect(metrics['oauth.store.operation.duration']).toContainEqual({
    attributes: { 'oauth.store.operation': 'acquire', 'oauth.outcome': 'success', 'oauth.store.lease.state': 'held' },
    value: 2,
  });
  expect(server.stats.tokenRequests).toBe(2);
  await expectNoSecret(first.tokens.current!.accessToken);
});

test('instrumented before the SDK registers its global providers: what happens after is recorded all the same', async () => {
  instrumentation.disable();
  const late = instrumentOpenTelemetry(); // the global providers: no SDK yet, so the API's no-ops
  const lateSpans = new InMemorySpanExporter();
  const lateReader = new CollectingReader();
  try {
    await client().get('/before-the-sdk'); // recorded nowhere: there is no SDK
    expect(globalMetrics.setGlobalMeterProvider(new MeterProvider({ readers: [lateReader] }))).toBe(true);
    expect(globalTrace.setGlobalTracerProvider(new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(lateSpans)] }))).toBe(true);

    await client().get('/after-the-sdk');

    expect(lateSpans.getFinishedSpans().map((span) => span.attributes['oauth.grant_type'])).toEqual(['password']);
    const { resourceMetrics } = await lateReader.collect();
    const requests = resourceMetrics.scopeMetrics.flatMap((scope) => scope.metrics).find((metric) => metric.descriptor.name === 'oauth.token.requests');
    expect(requests?.dataPoints.map((point) => point.value)).toEqual([1]);
  } finally {
    late.disable();
    globalMetrics.disable();
    globalTrace.disable();
  }
});

test('durations are histograms in seconds with second-sized buckets (the SDK defaults are for milliseconds); providers are checked', async () => {
  const api = client();
  await api.get('/first');
  const { resourceMetrics } = await reader.collect();
  const renewal = resourceMetrics.scopeMetrics.flatMap((scope) => scope.metrics).find((metric) => metric.descriptor.name === 'oauth.renewal.duration');
  const point = renewal?.dataPoints[0]?.value as Histogram | undefined;
  expect(point?.buckets.boundaries).toEqual([0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10]);
  expect(point?.count).toBe(1);

  const tracer = new BasicTracerProvider().getTracer('x');
  expect(() => instrumentOpenTelemetry({ tracerProvider: tracer } as never)).toThrow(ConfigurationError);
  expect(() => instrumentOpenTelemetry({ meterProvider: 42 } as never)).toThrow(ConfigurationError);
  expect(() => instrumentOpenTelemetry({ tracerProvider: null } as never)).toThrow(ConfigurationError);
});
