/**
 * The interleaved A/B/A' comparison shared by scenarios 7 (a store's cost) and 9 (many accounts): each round runs its
 * slices one after another, every client once per slice, in ABC order on even slices and CBA on odd ones (the other
 * way round when the round is reversed), so load that drifts during a round falls on every client alike. Rounds
 * alternate their direction too, and each client's sums per round are kept for the paired ratios of stats.ts.
 */
import { measure } from './load.js';
import type { RoundTotals } from './stats.js';

/** One client's time over one round. */
export interface Spent {
  wallMs: number;
  cpuMs: number;
}

/** One round of `slices` slices; `runSlice` sends one client's share of one slice. Returns each client's sums. */
export async function interleavedRound<N extends string>(
  names: readonly N[],
  slices: number,
  reverse: boolean,
  runSlice: (name: N, slice: number) => Promise<unknown>,
): Promise<Record<N, Spent>> {
  const sums = Object.fromEntries(names.map((name) => [name, { wallMs: 0, cpuMs: 0 }])) as Record<N, Spent>;
  for (let slice = 0; slice < slices; slice += 1) {
    const order = (slice % 2 === 0) !== reverse ? names : [...names].reverse();
    for (const name of order) {
      const spent = await measure(() => runSlice(name, slice));
      sums[name].wallMs += spent.wallMs;
      sums[name].cpuMs += spent.cpuMs;
    }
  }
  return sums;
}

/** `rounds` measured rounds, the first reversed and then alternating; each client's per-round totals. */
export async function measuredRounds<N extends string>(
  names: readonly N[],
  rounds: number,
  round: (reverse: boolean) => Promise<Record<N, Spent>>,
): Promise<Record<N, RoundTotals>> {
  const cost = Object.fromEntries(names.map((name) => [name, { wallMs: [] as number[], cpuMs: [] as number[] }])) as Record<N, { wallMs: number[]; cpuMs: number[] }>;
  for (let index = 1; index <= rounds; index += 1) {
    const sums = await round(index % 2 === 1);
    for (const name of names) {
      cost[name].wallMs.push(sums[name].wallMs);
      cost[name].cpuMs.push(sums[name].cpuMs);
    }
  }
  return cost;
}
