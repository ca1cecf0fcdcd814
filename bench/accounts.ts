/**
 * Scenario 9: one client acting for many accounts (`auth.account`, issue 15), against the loopback server with one
 * user per account (a token's echo names its user, and every answer is compared with the account it was sent for).
 * Three parts, on one server:
 * - Per-request CPU of a multi-account client spread over `activeAccounts` accounts, every token already granted
 *   (so it measures the steady path: the account lookup and the LRU touch, not grants), as a ratio to a
 *   single-account client, with a second single-account client as the A/A control. Interleaved as in ./overhead.ts
 *   and ./store-overhead.ts: each round is cut into slices, the clients take turns slice by slice in ABC then CBA
 *   order (the next round starts the other way), so load noise hits all three alike.
 * - Heap per live account: a fresh client grants `heapAccounts` accounts (one real password grant each, one request
 *   each); heapUsed after a full GC before and after, divided by the count.
 * - Bounded by maxAccounts: a fresh client with `maxAccounts` goes through `cycledAccounts` accounts, one real grant
 *   each; heapUsed after a full GC at each checkpoint. The accounts' share of the heap (above the heap before the
 *   first account) at the last checkpoint over the first is the flatness ratio: 1.0 when the dropped accounts leave
 *   nothing behind.
 * Each of the later parts first sends `concurrency` requests at once for one warm-up account, so the agent's sockets
 * and the code's first-use allocations are in the heap before the first figure, not billed to the accounts.
 * The server holds more accounts than users (account i is user i mod `users`: each account still makes its own
 * grant and gets its own token), because the server's options travel in one command-line argument.
 */
import type { Agent } from 'node:http';

import type { AxiosInstance } from 'axios';

import type { AccountProvider, AccountTokenManagers, AuthClient } from '../src/index.js';
import type { BenchServer, LaunchServer } from './bench-server.js';
import { interleavedRound, measuredRounds, type Spent } from './interleave.js';
import { authClient, heapAfterGc, keepAliveAgent, LONG_LIVED, multiAccountClient, phases, pool, type Progress, withServer } from './load.js';
import { compare, type Comparison, type RoundTotals } from './stats.js';

/** Sizes of scenario 9. */
export interface AccountsParams {
  /** Users the server knows; account i is user i mod this. */
  readonly users: number;
  /** The CPU comparison: measured rounds, requests per client and round, concurrency, slices per round. */
  readonly rounds: number;
  readonly requests: number;
  readonly concurrency: number;
  readonly slices: number;
  /** Accounts the multi-account client's requests are spread over (round robin), all granted in the warm-up. */
  readonly activeAccounts: number;
  /** Accounts granted for the heap-per-account figure. */
  readonly heapAccounts: number;
  /** The client's maxAccounts while `cycledAccounts` accounts go through it. */
  readonly maxAccounts: number;
  /** Accounts counted so far at each heap checkpoint, ascending; the last is the number of accounts cycled through. */
  readonly checkpoints: readonly number[];
}

/** The CPU comparison: multi-account over single-account per round (median, range); A/A = a second single client. */
export interface AccountsOverhead extends Comparison {
  readonly multi: RoundTotals;
  readonly single: RoundTotals;
  readonly control: RoundTotals;
  /** Token calls of the warm-up (one per active account and one per single-account client). */
  readonly warmUpTokenCalls: number;
  /** Token calls during the measured rounds (every token granted and long-lived: 0 expected). */
  readonly tokenCalls: number;
}

/** Heap per live account. `undefined` figures without --expose-gc. */
export interface AccountsHeap {
  readonly accounts: number;
  readonly heapBefore: number | undefined;
  readonly heapAfter: number | undefined;
  readonly bytesPerAccount: number | undefined;
  /** Token calls for the accounts (one grant each expected), the warm-up account's excluded. */
  readonly tokenCalls: number;
  readonly liveAccounts: number;
}

/** The heap while accounts go through a bounded client. */
export interface AccountsCycle {
  readonly maxAccounts: number;
  readonly heapBefore: number | undefined;
  /** heapUsed after GC at each checkpoint (`accounts` gone through so far). */
  readonly heap: readonly { readonly accounts: number; readonly heapUsed: number }[];
  /** The accounts' heap (above heapBefore) at the last checkpoint over the first; undefined without --expose-gc. */
  readonly flatness: number | undefined;
  /** Token calls for the accounts (one grant each expected), the warm-up account's excluded. */
  readonly tokenCalls: number;
  /** Live token managers at the end (maxAccounts expected). */
  readonly liveAccounts: number;
}

/** What scenario 9 measured. */
export interface AccountsResult {
  readonly params: AccountsParams;
  readonly overhead: AccountsOverhead;
  readonly heap: AccountsHeap;
  readonly cycle: AccountsCycle;
  readonly failures: number;
  /** Answers whose echoed user was not the one the request's account (or the single client) is: 0 expected. */
  readonly wrongUser: number;
}

type Name = 'multi' | 'single' | 'control';
const NAMES: readonly Name[] = ['multi', 'single', 'control'];
const WARM_UP_SLICES = 2;

interface Echo {
  readonly username?: unknown;
}

const accountId = (index: number): string => `customer-${String(index)}`;
const userName = (index: number): string => `user-${String(index)}`;
const passwordOf = (user: string): string => `password-of-${user}`;

/** Requests one slice sends per client: the round's requests spread over the slices as evenly as they go. */
function sliceSize(params: AccountsParams, slice: number): number {
  return Math.floor(params.requests / params.slices) + (slice < params.requests % params.slices ? 1 : 0);
}

/** Every request the scenario sends (for the progress bar). */
function totalRequests(params: AccountsParams): number {
  const warmUp = Array.from({ length: Math.min(WARM_UP_SLICES, params.slices) }, (_, slice) => sliceSize(params, slice));
  const comparison = NAMES.length * (warmUp.reduce((sum, size) => sum + size, 0) + params.rounds * params.requests) + params.activeAccounts + 2;
  const cycled = params.checkpoints[params.checkpoints.length - 1] ?? 0;
  return comparison + params.heapAccounts + cycled + 2 * params.concurrency;
}

/** Runs scenario 9 (see the module comment) against a server with long-lived tokens and `users` users. */
export async function accounts(launch: LaunchServer, params: AccountsParams, progress?: Progress): Promise<AccountsResult> {
  const users = Object.fromEntries(Array.from({ length: params.users }, (_, index) => [userName(index), passwordOf(userName(index))]));
  return withServer(launch, { ...LONG_LIVED, users }, async (server) => {
    const next = phases(progress, totalRequests(params));
    const userOf = (account: string): string => userName(Number(account.slice('customer-'.length)) % params.users);
    const provider: AccountProvider = (account) => {
      const username = userOf(account);
      return { username, password: passwordOf(username) };
    };
    const tally = { failures: 0, wrongUser: 0 };
    /** Sends one request and compares the echoed user with the one expected; counts failures through the pool. */
    const checked = async (request: Promise<{ data: Echo }>, expected: string): Promise<void> => {
      const { data } = await request;
      if (data.username !== expected) tally.wrongUser += 1;
    };
    const run = async (limits: { concurrency: number; maxRequests: number }, send: (index: number) => Promise<void>, size: number): Promise<void> => {
      const outcome = await pool({ ...limits, maxMs: 120_000 }, send, next(size));
      tally.failures += outcome.failures;
    };

    const overhead = await compareCpu(server, params, provider, userOf, checked, run);
    const heap = await heapPerAccount(server, params, provider, userOf, checked, run);
    const cycle = await cycleAccounts(server, params, provider, userOf, checked, run);
    return { params, overhead, heap, cycle, ...tally };
  });
}

type Checked = (request: Promise<{ data: Echo }>, expected: string) => Promise<void>;
type Run = (limits: { concurrency: number; maxRequests: number }, send: (index: number) => Promise<void>, size: number) => Promise<void>;

/** Part 1: the interleaved CPU comparison. */
async function compareCpu(server: BenchServer, params: AccountsParams, provider: AccountProvider, userOf: (account: string) => string, checked: Checked, run: Run): Promise<AccountsOverhead> {
  const agents: Record<Name, Agent> = { multi: keepAliveAgent(), single: keepAliveAgent(), control: keepAliveAgent() };
  const multi = multiAccountClient(server, agents.multi, provider);
  const singles: Record<'single' | 'control', AxiosInstance> = { single: authClient(server, agents.single), control: authClient(server, agents.control) };
  const active = Array.from({ length: params.activeAccounts }, (_, index) => accountId(index));
  const singleUser = server.credentials.username;
  const send: Record<Name, (index: number) => Promise<void>> = {
    multi: (index) => {
      const account = active[index % active.length] ?? accountId(0);
      return checked(multi.get<Echo>(`/accounts/${String(index)}`, { account }), userOf(account));
    },
    single: (index) => checked(singles.single.get<Echo>(`/accounts/${String(index)}`), singleUser),
    control: (index) => checked(singles.control.get<Echo>(`/accounts/${String(index)}`), singleUser),
  };
  const round = (slices: number, reverse: boolean): Promise<Record<Name, Spent>> =>
    interleavedRound(NAMES, slices, reverse, (name, slice) => {
      const size = sliceSize(params, slice);
      return run({ concurrency: params.concurrency, maxRequests: size }, send[name], size);
    });

  try {
    // Warm-up: every active account's grant (one request each), each single client's, then an unmeasured round.
    await server.resetStats();
    await run({ concurrency: params.concurrency, maxRequests: active.length }, send.multi, active.length);
    await run({ concurrency: 1, maxRequests: 1 }, send.single, 1);
    await run({ concurrency: 1, maxRequests: 1 }, send.control, 1);
    await round(Math.min(WARM_UP_SLICES, params.slices), false);
    const warmUpTokenCalls = (await server.stats()).tokenRequests;
    await server.resetStats();
    const cost = await measuredRounds(NAMES, params.rounds, (reverse) => round(params.slices, reverse));
    const tokenCalls = (await server.stats()).tokenRequests;
    return { ...cost, ...compare(cost.multi, cost.single, cost.control), warmUpTokenCalls, tokenCalls };
  } finally {
    for (const agent of Object.values(agents)) agent.destroy();
  }
}

/**
 * Sends `concurrency` requests at once for one account outside the measured ones: its grant, the agent's sockets
 * and the first use of every code path, before the first heap figure.
 */
async function warmUp(api: AuthClient<AccountTokenManagers>, params: AccountsParams, account: string, userOf: (account: string) => string, checked: Checked, run: Run): Promise<void> {
  await run({ concurrency: params.concurrency, maxRequests: params.concurrency }, () => checked(api.get<Echo>('/warm-up', { account }), userOf(account)), params.concurrency);
}

/** Part 2: heap per live account. */
async function heapPerAccount(server: BenchServer, params: AccountsParams, provider: AccountProvider, userOf: (account: string) => string, checked: Checked, run: Run): Promise<AccountsHeap> {
  const agent = keepAliveAgent();
  // Room for every measured account and the warm-up one: nothing is dropped.
  const api = multiAccountClient(server, agent, provider, { maxAccounts: params.heapAccounts + 1 });
  try {
    await warmUp(api, params, accountId(params.heapAccounts), userOf, checked, run);
    const heapBefore = heapAfterGc();
    await server.resetStats();
    const send = (index: number): Promise<void> => {
      const account = accountId(index);
      return checked(api.get<Echo>(`/heap/${String(index)}`, { account }), userOf(account));
    };
    await run({ concurrency: params.concurrency, maxRequests: params.heapAccounts }, send, params.heapAccounts);
    const tokenCalls = (await server.stats()).tokenRequests;
    const heapAfter = heapAfterGc();
    // Read after the figure, so the client (and every account's manager) is certainly alive when it is taken.
    const liveAccounts = api.tokens.size - 1;
    const bytesPerAccount = heapBefore === undefined || heapAfter === undefined ? undefined : (heapAfter - heapBefore) / params.heapAccounts;
    return { accounts: params.heapAccounts, heapBefore, heapAfter, bytesPerAccount, tokenCalls, liveAccounts };
  } finally {
    agent.destroy();
  }
}

/** Part 3: accounts cycled through a client bounded by maxAccounts. */
async function cycleAccounts(server: BenchServer, params: AccountsParams, provider: AccountProvider, userOf: (account: string) => string, checked: Checked, run: Run): Promise<AccountsCycle> {
  const agent = keepAliveAgent();
  const api = multiAccountClient(server, agent, provider, { maxAccounts: params.maxAccounts });
  const total = params.checkpoints[params.checkpoints.length - 1] ?? 0;
  try {
    await warmUp(api, params, accountId(total), userOf, checked, run);
    const heapBefore = heapAfterGc();
    await server.resetStats();
    const heap: { accounts: number; heapUsed: number }[] = [];
    let from = 0;
    for (const checkpoint of params.checkpoints) {
      const start = from;
      const send = (index: number): Promise<void> => {
        const account = accountId(start + index);
        return checked(api.get<Echo>(`/cycle/${String(start + index)}`, { account }), userOf(account));
      };
      await run({ concurrency: params.concurrency, maxRequests: checkpoint - start }, send, checkpoint - start);
      from = checkpoint;
      const heapUsed = heapAfterGc();
      if (heapUsed !== undefined) heap.push({ accounts: checkpoint, heapUsed });
    }
    const tokenCalls = (await server.stats()).tokenRequests;
    const liveAccounts = api.tokens.size;
    const first = heap[0]?.heapUsed;
    const last = heap[heap.length - 1]?.heapUsed;
    const flatness = heapBefore === undefined || first === undefined || last === undefined ? undefined : (last - heapBefore) / (first - heapBefore);
    return { maxAccounts: params.maxAccounts, heapBefore, heap, flatness, tokenCalls, liveAccounts };
  } finally {
    agent.destroy();
  }
}

