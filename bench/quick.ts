/**
 * The quick check: the ten scenarios at small sizes, judged ONLY on exact counts (token calls, failures, 401s served
 * in the storms, requests served from the queue). Never on times or memory: those depend on the machine, counts do
 * not, so this is safe to run in CI on any runner. Counts that real time would turn into a race (401s at an expiry,
 * renewals during a slow burst) are made exact by the virtual clock (./virtual-clock.ts) of the QUICK sizes, not
 * loosened: a loaded machine serves a burst more slowly, but no token runs out under it. One variant cannot run on
 * the virtual clock, scenario 7's file store (its locks judge staleness by file-system mtimes): it runs in real time,
 * and is checked only on what its lease guarantees whatever the timing (one grant per burst, no failed request).
 */
import type { LaunchServer } from './bench-server.js';
import { QUICK, type Reporter, type Results, runScenarios, type Sizes } from './plan.js';
import { VARIANT_COUNT } from './report-telemetry.js';
import { VIRTUAL_STEADY_ROUNDS } from './scenarios.js';

/** One exact expectation and what was observed. */
export interface Check {
  readonly name: string;
  readonly expected: number;
  readonly actual: number;
  readonly pass: boolean;
}

/** The quick run's measurements and its checks. */
export interface QuickReport {
  readonly results: Results;
  readonly checks: readonly Check[];
  readonly passed: boolean;
}

/**
 * Runs the quick scenarios against servers from `launch` and checks their exact counts.
 * @example
 * const report = await runQuick(launchInProcess);
 * if (!report.passed) console.table(report.checks.filter((check) => !check.pass));
 */
export async function runQuick(launch: LaunchServer, reporter?: Reporter, sizes: Sizes = QUICK): Promise<QuickReport> {
  const results = await runScenarios(launch, sizes, reporter);
  const checks = exactChecks(results);
  return { results, checks, passed: checks.every((check) => check.pass) };
}

/**
 * The counts that must hold at any size. Left out on purpose: 401s of the mid-burst revocation (how many requests the
 * revocation overtakes is a race), and, when a scenario runs on the real clock, its 401s and token calls in the steady
 * state and the long run (a request delayed past the token's last moments by a descheduled process would 401 and be
 * replayed, which is correct behaviour, so those are targets of the full benchmark, not invariants). On the virtual
 * clock they are exact: one renewal per move of the clock, and no 401.
 */
export function exactChecks(results: Results): Check[] {
  const checks: Check[] = [];
  const expect = (name: string, actual: number, expected: number): void => {
    checks.push({ name, expected, actual, pass: actual === expected });
  };

  expect('overhead: failures', results.overhead.failures, 0);
  expect('overhead: token calls with a long-lived token', results.overhead.tokenCalls, 0);

  for (const row of results.expiryStorm) {
    const label = `expiry storm (${row.mode}, token latency ${row.tokenLatencyMs} ms)`;
    expect(`${label}: token calls`, row.tokenCalls, 1);
    expect(`${label}: failures`, row.failures, 0);
    // Proactive: the client knew, so nothing is sent with the dead token. Early expiry: every request meets it once.
    expect(`${label}: 401s served`, row.api401s, row.mode === 'proactive' ? 0 : row.requests);
  }

  for (const row of results.revocationStorm) {
    const label = `revocation storm (${row.mode})`;
    expect(`${label}: token calls`, row.tokenCalls, 1);
    expect(`${label}: failures`, row.failures, 0);
    if (row.mode === 'before-burst') expect(`${label}: 401s served`, row.api401s, row.requests);
  }

  const steady = results.steadyState;
  expect('steady state: failures', steady.failures, 0);
  if (steady.params.clock === 'virtual') {
    expect('steady state: token calls (one background renewal per move of the clock)', steady.tokenCalls, VIRTUAL_STEADY_ROUNDS - 1);
    expect('steady state: 401s served', steady.api401s, 0);
  }

  const { queue } = results;
  expect('queue: requests served', queue.ok, queue.params.requests);
  expect('queue: token calls', queue.tokenCalls, 1);

  const long = results.longRun;
  expect('long run: failures', long.failures, 0);
  expect('long run: requests sent', long.requests, long.params.requests);
  if (long.params.clock === 'virtual') {
    expect('long run: token calls (one background renewal per batch)', long.tokenCalls, long.params.checkpoints);
    expect('long run: 401s served', long.api401s, 0);
  }

  // Only with a redis-server to run against; without one the scenario reports SKIPPED and checks nothing. Its 401s and
  // cold start are targets of the full benchmark, not checked here: the issue asks the quick check for these counts.
  const multi = results.multiProcess;
  if (multi.status === 'measured') {
    const label = `multi-process storm (${multi.storm.processes} processes)`;
    expect(`${label}: token calls in total`, multi.storm.tokenCalls, 1);
    expect(`${label}: failures`, multi.storm.failures, 0);
    expect('multi-process store overhead: failures', multi.storeOverhead.failures, 0);
  }
  // Its file-store variant needs nothing installed and always runs, on the real clock (see multi-process.ts): only
  // what the design guarantees whatever the timing, one grant per burst for all the processes and no failed request.
  // Its 401s, distinct tokens and reports to onError are targets of the full benchmark (a process descheduled across
  // the token's last moments would meet a 401 and replay, which is correct behaviour); its warm burst is a baseline.
  const { files } = multi;
  for (const [burst, row] of [['cold start', files.coldStart], ['expiry storm', files.storm]] as const) {
    const label = `file store, multi-process ${burst} (${row.processes} processes, ${files.expiresIn} s tokens, real clock)`;
    expect(`${label}: token calls in total`, row.tokenCalls, 1);
    expect(`${label}: failures`, row.failures, 0);
  }

  // Scenario 8's counts (its times are targets of the full benchmark only); likewise only with a redis-server.
  const faults = results.faults;
  if (faults.status === 'measured') {
    const { takeover, hang, slowRedis } = faults;
    expect('faults, SIGKILLed lease holder: grants after it took the lease', takeover.grants, 1);
    expect("faults, SIGKILLed lease holder: the survivors' failures", takeover.failures, 0);
    expect(`faults, token endpoint hangs: token requests of ${hang.processes} processes (= one alone)`, hang.allTokenRequests, hang.singleTokenRequests);
    expect('faults, token endpoint hangs: requests that did not fail with ERR_OAUTH_NETWORK', hang.requests - (hang.errorCodes.ERR_OAUTH_NETWORK ?? 0), 0);
    expect('faults, slow Redis: failed renewals', slowRedis.failures, 0);
    expect('faults, slow Redis: grants (one per renewal)', slowRedis.grants, slowRedis.renewals);
  }

  // Scenario 9's counts: its tokens are long-lived, so they hold on any clock.
  const { accounts } = results;
  const cycled = accounts.params.checkpoints[accounts.params.checkpoints.length - 1] ?? 0;
  expect('many accounts: failures', accounts.failures, 0);
  expect('many accounts: answers for another user', accounts.wrongUser, 0);
  expect('many accounts: token calls of the warm-up (one per account, one per single-account client)', accounts.overhead.warmUpTokenCalls, accounts.params.activeAccounts + 2);
  expect('many accounts: token calls in the measured rounds', accounts.overhead.tokenCalls, 0);
  expect('many accounts: token calls for the heap figure (one per account)', accounts.heap.tokenCalls, accounts.params.heapAccounts);
  expect('many accounts: live accounts after the heap figure', accounts.heap.liveAccounts, accounts.params.heapAccounts);
  expect('many accounts: token calls while cycling (one per account)', accounts.cycle.tokenCalls, cycled);
  expect('many accounts: live accounts after cycling (maxAccounts)', accounts.cycle.liveAccounts, accounts.params.maxAccounts);

  // Scenario 10: each slice is one revocation storm, renewed once whatever the telemetry.
  const tel = results.telemetry;
  const slices = tel.params.rounds * tel.params.slices;
  expect('telemetry: failures', tel.failures, 0);
  expect('telemetry: token calls (one refresh per storm and variant)', tel.tokenCalls, VARIANT_COUNT * slices);
  expect('telemetry: spans the OpenTelemetry SDK ended (one per storm of its variant)', tel.otelSpans, slices);
  return checks;
}
