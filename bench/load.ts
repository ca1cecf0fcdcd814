/**
 * Load generation for the scenarios: the two clients under comparison, bursts, bounded worker pools, and memory
 * sampling. Every loop here is bounded by a request count AND a deadline, so no scenario can run away.
 */
import { Agent } from 'node:http';

import axios, { type AxiosInstance } from 'axios';

import {
  type AccountProvider,
  type AccountTokenManagers,
  type AuthClient,
  createAuthClient,
  type MultiAccountAttachOptions,
  type SingleAccountAttachOptions,
} from '../src/index.js';
import type { AuthServerOptions } from '../src/testing/server.js';
import type { BenchServer, LaunchServer } from './bench-server.js';
import { realNow } from './virtual-clock.js';

/** Called as requests finish; the CLI turns it into a live progress line. */
export type Progress = (done: number, total: number) => void;

/** No single request may hang a scenario: a stuck request fails after this long and is counted as a failure. */
const REQUEST_TIMEOUT_MS = 30_000;

/**
 * One keep-alive agent per client, configured identically for both clients of a comparison. maxSockets is above the
 * largest burst (500), so a storm really has 500 requests on the wire rather than queued inside the agent.
 */
export function keepAliveAgent(maxSockets = 512): Agent {
  return new Agent({ keepAlive: true, maxSockets });
}

/** The library's client, with the server's credentials and any option overrides. */
export function authClient(server: BenchServer, agent: Agent, auth: Partial<SingleAccountAttachOptions> = {}): AuthClient {
  return createAuthClient({
    baseURL: server.apiUrl,
    httpAgent: agent,
    timeout: REQUEST_TIMEOUT_MS,
    auth: { ...server.credentials, ...auth },
  });
}

/** The library's client acting for many accounts (`auth.account`) on the server's client credentials. */
export function multiAccountClient(
  server: BenchServer,
  agent: Agent,
  account: AccountProvider,
  auth: Partial<MultiAccountAttachOptions> = {},
): AuthClient<AccountTokenManagers> {
  const { tokenUrl, clientId, clientSecret } = server.credentials;
  return createAuthClient({
    baseURL: server.apiUrl,
    httpAgent: agent,
    timeout: REQUEST_TIMEOUT_MS,
    auth: { tokenUrl, clientId, clientSecret, account, ...auth },
  });
}

/** Plain axios with a fixed bearer token: the floor the library's overhead is measured against. */
export function plainClient(server: BenchServer, agent: Agent, accessToken: string): AxiosInstance {
  return axios.create({
    baseURL: server.apiUrl,
    httpAgent: agent,
    timeout: REQUEST_TIMEOUT_MS,
    headers: { Authorization: `Bearer ${accessToken}` },
  });
}

/** One password grant made by hand, outside the library: the plain client's long-lived token. */
export async function fetchAccessToken(server: BenchServer): Promise<string> {
  const { tokenUrl, clientId, clientSecret, username, password } = server.credentials;
  const form = new URLSearchParams({ grant_type: 'password', client_id: clientId, client_secret: clientSecret, username, password });
  const response = await axios.post<unknown>(tokenUrl, form.toString(), {
    headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
    timeout: REQUEST_TIMEOUT_MS,
  });
  const token: unknown = response.data !== null && typeof response.data === 'object' ? Reflect.get(response.data, 'access_token') : undefined;
  if (typeof token !== 'string') throw new Error('the token endpoint answered without access_token');
  return token;
}

/** How a batch of requests went, as counted by the client. */
export interface Outcome {
  readonly requests: number;
  readonly ok: number;
  readonly failures: number;
  /** What the first failure was (its code or name and status, never its config, which holds the token). */
  readonly firstError: string | undefined;
  readonly wallMs: number;
}

/** Several batches as one outcome: counts and wall times added, the first failure kept. */
export function sumOutcomes(outcomes: readonly Outcome[]): Outcome {
  const total = { requests: 0, ok: 0, failures: 0, firstError: undefined as string | undefined, wallMs: 0 };
  for (const outcome of outcomes) {
    total.requests += outcome.requests;
    total.ok += outcome.ok;
    total.failures += outcome.failures;
    total.firstError ??= outcome.firstError;
    total.wallMs += outcome.wallMs;
  }
  return total;
}

/** Counts successes and failures; shared by bursts and worker pools. */
class Tally {
  ok = 0;
  failures = 0;
  firstError: string | undefined;
  readonly #started = realNow();

  async track(request: Promise<unknown>): Promise<void> {
    try {
      await request;
      this.ok += 1;
    } catch (error) {
      this.failures += 1;
      this.firstError ??= describeError(error);
    }
  }

  outcome(): Outcome {
    const { ok, failures, firstError } = this;
    return { requests: ok + failures, ok, failures, firstError, wallMs: realNow() - this.#started };
  }
}

/** Starts `count` requests at once (a storm) and waits for all of them. */
export async function burst(count: number, send: (index: number) => Promise<unknown>, progress?: Progress): Promise<Outcome> {
  const tally = new Tally();
  const all = Array.from({ length: count }, (_, index) =>
    tally.track(send(index)).then(() => progress?.(tally.ok + tally.failures, count)),
  );
  await Promise.all(all);
  return tally.outcome();
}

/** Limits of a worker pool: whichever is reached first ends it. */
export interface PoolLimits {
  readonly concurrency: number;
  readonly maxRequests: number;
  readonly maxMs: number;
}

/**
 * `concurrency` workers, each sending its next request when the previous one finished, until `maxRequests` were sent
 * or `maxMs` passed. Concurrency 1 is a sequential run.
 */
export async function pool(limits: PoolLimits, send: (index: number) => Promise<unknown>, progress?: Progress): Promise<Outcome> {
  const tally = new Tally();
  const deadline = realNow() + limits.maxMs;
  let started = 0;
  const worker = async (): Promise<void> => {
    while (started < limits.maxRequests && realNow() < deadline) {
      const index = started++;
      await tally.track(send(index));
      progress?.(tally.ok + tally.failures, limits.maxRequests);
    }
  };
  await Promise.all(Array.from({ length: limits.concurrency }, worker));
  return tally.outcome();
}

/** Wall time and this process's CPU time (user + system) of one piece of work. */
export interface Cost<T> {
  readonly result: T;
  readonly wallMs: number;
  readonly cpuMs: number;
}

/** Measures `work`, after a forced GC when available, so garbage left by the previous run is not billed to this one. */
export async function measure<T>(work: () => Promise<T>): Promise<Cost<T>> {
  collectGarbage();
  const cpuBefore = process.cpuUsage();
  const wallBefore = realNow();
  const result = await work();
  const wallMs = realNow() - wallBefore;
  const cpu = process.cpuUsage(cpuBefore);
  return { result, wallMs, cpuMs: (cpu.user + cpu.system) / 1000 };
}

/** True when the process runs with --expose-gc. */
export function canCollectGarbage(): boolean {
  return typeof globalThis.gc === 'function';
}

function collectGarbage(): void {
  // Twice: the first pass can leave objects whose finalisation frees more on the second.
  globalThis.gc?.();
  globalThis.gc?.();
}

/** heapUsed after a full GC, or undefined without --expose-gc (a number without GC would measure garbage, not growth). */
export function heapAfterGc(): number | undefined {
  if (!canCollectGarbage()) return undefined;
  collectGarbage();
  return process.memoryUsage().heapUsed;
}

/** Peaks of periodic process.memoryUsage() samples. */
export interface MemoryPeaks {
  readonly baselineRss: number;
  readonly baselineHeapUsed: number;
  readonly peakRss: number;
  readonly peakHeapUsed: number;
  readonly samples: number;
}

/** Samples memory every `intervalMs` until the returned function is called, which returns the peaks. */
export function sampleMemory(intervalMs = 50): () => MemoryPeaks {
  const first = process.memoryUsage();
  let peakRss = first.rss;
  let peakHeapUsed = first.heapUsed;
  let samples = 1;
  const take = (): void => {
    const usage = process.memoryUsage();
    peakRss = Math.max(peakRss, usage.rss);
    peakHeapUsed = Math.max(peakHeapUsed, usage.heapUsed);
    samples += 1;
  };
  const timer = setInterval(take, intervalMs);
  return () => {
    clearInterval(timer);
    take();
    return { baselineRss: first.rss, baselineHeapUsed: first.heapUsed, peakRss, peakHeapUsed, samples };
  };
}

/** Resolves after `ms`. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)));
}

/** What a failed request was (its code or name and status), never its config, which holds the token. */
export function describeError(error: unknown): string {
  if (axios.isAxiosError(error)) return `${error.code ?? error.name}${error.response ? ` (HTTP ${error.response.status})` : ''}`;
  if (error instanceof Error) {
    const code: unknown = Reflect.get(error, 'code');
    return typeof code === 'string' ? `${error.name} ${code}` : error.name;
  }
  return typeof error;
}

/** Counts of one storm or run, the client's and the server's. */
export interface Counts {
  readonly requests: number;
  readonly ok: number;
  readonly failures: number;
  readonly firstError: string | undefined;
  /** Requests to the token endpoint during the measured part. */
  readonly tokenCalls: number;
  /** 401s the protected API served during the measured part. */
  readonly api401s: number;
  readonly wallMs: number;
}

/** Runs `work` against a fresh server, always closing it. */
export async function withServer<T>(launch: LaunchServer, options: AuthServerOptions, work: (server: BenchServer) => Promise<T>): Promise<T> {
  const server = await launch(options);
  try {
    return await work(server);
  } finally {
    await server.close();
  }
}

/** Resets the server's counters, runs `work`, and joins the client's outcome with the server's counts. */
export async function counted(server: BenchServer, work: () => Promise<Outcome>): Promise<Counts> {
  await server.resetStats();
  const outcome = await work();
  const stats = await server.stats();
  const { requests, ok, failures, firstError, wallMs } = outcome;
  return { requests, ok, failures, firstError, tokenCalls: stats.tokenRequests, api401s: stats.api401s, wallMs };
}

/** Splits one progress bar over consecutive phases. */
export function phases(progress: Progress | undefined, total: number): (size: number) => Progress {
  let base = 0;
  return (size) => {
    const start = base;
    base += size;
    return (done) => progress?.(Math.min(start + done, total), total);
  };
}

/** A token that outlives any scenario. */
export const LONG_LIVED: AuthServerOptions = { expiresIn: 3600 };
