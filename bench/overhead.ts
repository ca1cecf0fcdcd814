/**
 * Scenario 1: what the library costs per request, as a ratio to plain axios carrying a fixed token, measured in the
 * same process, against the same server, in the same run.
 *
 * On a shared machine the speed drifts by tens of percent within seconds (a first version that ran each client's
 * 5,000 requests as one block saw plain axios alone vary between 1.6 and 2.1 s of CPU), which swamps a 5% target.
 * Three defences:
 * - Each round is cut into slices and the clients take turns slice by slice, in ABC then CBA order (the next round
 *   starts the other way): all see the same drift, and the per-round ratio of their sums cancels a linear drift.
 * - A control: a second, identical plain-axios client measured the same way. Its ratio to the first (ideally 1) is
 *   the noise floor of this run; an auth ratio inside the control's spread says "not distinguishable from plain".
 * - The same comparison with a stub adapter (no sockets, no server): a low-noise figure of the CPU the library adds
 *   per request, independent of the machine's I/O.
 * Each slice starts after a forced GC, so no client pays for another's garbage. Round 0 is a short unmeasured
 * warm-up (JIT, sockets, the auth client's token).
 */
import axios, { type AxiosAdapter, type AxiosInstance } from 'axios';

import { createAuthClient } from '../src/index.js';
import type { LaunchServer } from './bench-server.js';
import { authClient, fetchAccessToken, keepAliveAgent, LONG_LIVED, measure, phases, plainClient, pool, type Progress, withServer } from './load.js';
import { compare, type Comparison, pairedRatios, type RoundTotals, type Summary, summarize } from './stats.js';

/** Sizes of scenario 1 (requests are per client and round). */
export interface OverheadParams {
  readonly rounds: number;
  readonly sequential: number;
  readonly concurrent: number;
  readonly concurrency: number;
  /** Each round's requests are sent in this many slices per client, the clients taking turns slice by slice. */
  readonly slices: number;
  /** Requests per client and round through the stub adapter (no I/O). */
  readonly isolated: number;
}

type Totals = RoundTotals;

/** One shape: per-round totals of each client, and per-round ratios to the plain client (median, range). */
export interface OverheadShape extends Comparison {
  readonly requests: number;
  readonly concurrency: number;
  readonly auth: Totals;
  readonly plain: Totals;
  readonly control: Totals;
}

/** The stub-adapter comparison: CPU microseconds per request of each client, and the per-round ratio. */
export interface IsolatedCost {
  readonly requests: number;
  readonly authCpuUs: Summary;
  readonly plainCpuUs: Summary;
  readonly cpuRatio: Summary;
}

/** What scenario 1 measured. */
export interface OverheadResult {
  readonly params: OverheadParams;
  readonly sequential: OverheadShape;
  readonly concurrent: OverheadShape;
  readonly isolated: IsolatedCost;
  readonly failures: number;
  /** Token calls during the measured rounds (the token is long-lived: 0 expected). */
  readonly tokenCalls: number;
}

/** Answers on the next turn of the event loop, as a socket would, without any I/O. */
const stubAdapter: AxiosAdapter = (config) =>
  new Promise((resolve) => {
    setImmediate(() => resolve({ data: { ok: true }, status: 200, statusText: 'OK', headers: {}, config, request: {} }));
  });

type Name = 'auth' | 'plain' | 'control';

/** Runs scenario 1 (see the module comment) against a server with long-lived tokens. */
export async function overhead(launch: LaunchServer, params: OverheadParams, progress?: Progress): Promise<OverheadResult> {
  return withServer(launch, LONG_LIVED, async (server) => {
    const token = await fetchAccessToken(server);
    const live: Record<Name, AxiosInstance> = {
      auth: authClient(server, keepAliveAgent()),
      plain: plainClient(server, keepAliveAgent(), token),
      control: plainClient(server, keepAliveAgent(), token),
    };
    // The stub clients' token still comes from the real server: the token endpoint has its own axios instance.
    const stub: Record<'auth' | 'plain', AxiosInstance> = {
      auth: createAuthClient({ baseURL: server.apiUrl, adapter: stubAdapter, auth: { ...server.credentials } }),
      plain: axios.create({ baseURL: server.apiUrl, adapter: stubAdapter, headers: { Authorization: `Bearer ${token}` } }),
    };
    const warmupSlices = Math.min(2, params.slices);
    const liveRequests = (slices: number): number => (3 * (params.sequential + params.concurrent) * slices) / params.slices;
    const total = liveRequests(warmupSlices + params.rounds * params.slices) + 2 * params.isolated * (params.rounds + 1);
    const next = phases(progress, total);
    const shapes = {
      sequential: { requests: params.sequential, concurrency: 1 },
      concurrent: { requests: params.concurrent, concurrency: params.concurrency },
      isolated: { requests: params.isolated, concurrency: params.concurrency },
    };
    const totals = (): Totals => ({ wallMs: [], cpuMs: [] });
    const live3 = (): Record<Name, Totals> => ({ auth: totals(), plain: totals(), control: totals() });
    const cost = { sequential: live3(), concurrent: live3(), isolated: { auth: totals(), plain: totals() } };
    let failures = 0;
    let tokenCalls = 0;
    await stub.auth.get('/warm-up');

    /** One round of one shape: slices in alternating order, summed per client. */
    const round = async <N extends string>(clients: Record<N, AxiosInstance>, shape: keyof typeof shapes, slices: number, reverse: boolean) => {
      const names = Object.keys(clients) as N[];
      const sums = new Map<N, { wallMs: number; cpuMs: number }>(names.map((name) => [name, { wallMs: 0, cpuMs: 0 }]));
      const { requests, concurrency } = shapes[shape];
      for (let slice = 0; slice < slices; slice += 1) {
        const size = Math.floor(requests / params.slices) + (slice < requests % params.slices ? 1 : 0);
        const order = (slice % 2 === 0) !== reverse ? names : [...names].reverse();
        for (const name of order) {
          const client = clients[name];
          const limits = { concurrency, maxRequests: size, maxMs: 60_000 };
          const run = await measure(() => pool(limits, (i) => client.get(`/${shape}/${i}`), next(size)));
          failures += run.result.failures;
          const sum = sums.get(name);
          if (sum !== undefined) {
            sum.wallMs += run.wallMs;
            sum.cpuMs += run.cpuMs;
          }
        }
      }
      return sums;
    };
    const keep = <N extends string>(target: Record<N, Totals>, sums: Map<N, { wallMs: number; cpuMs: number }>): void => {
      for (const [name, sum] of sums) {
        target[name].wallMs.push(sum.wallMs);
        target[name].cpuMs.push(sum.cpuMs);
      }
    };

    for (let index = 0; index <= params.rounds; index += 1) {
      const measured = index > 0;
      const slices = measured ? params.slices : warmupSlices;
      if (measured) await server.resetStats();
      for (const shape of ['sequential', 'concurrent'] as const) {
        const sums = await round(live, shape, slices, index % 2 === 1);
        if (measured) keep(cost[shape], sums);
      }
      if (measured) tokenCalls += (await server.stats()).tokenRequests;
      const sums = await round(stub, 'isolated', params.slices, index % 2 === 1);
      if (measured) keep(cost.isolated, sums);
    }

    const summarizeShape = (shape: 'sequential' | 'concurrent'): OverheadShape => {
      const { auth, plain, control } = cost[shape];
      return { ...shapes[shape], auth, plain, control, ...compare(auth, plain, control) };
    };
    const perRequestUs = (cpuMs: readonly number[]): Summary => summarize(cpuMs.map((ms) => (ms * 1000) / params.isolated));
    const isolated: IsolatedCost = {
      requests: params.isolated,
      authCpuUs: perRequestUs(cost.isolated.auth.cpuMs),
      plainCpuUs: perRequestUs(cost.isolated.plain.cpuMs),
      cpuRatio: summarize(pairedRatios(cost.isolated.auth.cpuMs, cost.isolated.plain.cpuMs)),
    };
    return { params, sequential: summarizeShape('sequential'), concurrent: summarizeShape('concurrent'), isolated, failures, tokenCalls };
  });
}
