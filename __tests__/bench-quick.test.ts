/**
 * The benchmark's quick mode in CI: the six scenarios at small sizes against the real loopback server (in this
 * process; the benchmark itself runs it in a child), checked on exact counts only, never on times.
 */
import { launchInProcess } from '../src/bench/bench-server.js';
import { type Check, type QuickReport, runQuick } from '../src/bench/quick.js';

let report: QuickReport;

beforeAll(async () => {
  report = await runQuick(launchInProcess);
}, 30_000);

/** The checks whose name starts with `prefix`, with the failing ones listed by name so a failure explains itself. */
function checksOf(prefix: string): { all: readonly Check[]; failing: readonly Check[] } {
  const all = report.checks.filter((check) => check.name.startsWith(prefix));
  return { all, failing: all.filter((check) => !check.pass) };
}

describe('the quick benchmark', () => {
  test('every expiry storm makes exactly one token call, fails nothing, and serves 401s only when the client could not know', () => {
    const { all, failing } = checksOf('expiry storm');
    // Two variants (proactive, expired early) at two grant latencies, three counts each.
    expect(all).toHaveLength(12);
    expect(failing).toEqual([]);
    const rows = report.results.expiryStorm;
    expect(rows.filter((row) => row.mode === 'proactive').map((row) => row.api401s)).toEqual([0, 0]);
    expect(rows.filter((row) => row.mode === 'server-expired-early').every((row) => row.api401s === row.requests)).toBe(true);
  });

  test('a revocation before or during a storm is answered with exactly one token call and no failed request', () => {
    const { all, failing } = checksOf('revocation storm');
    expect(all).toHaveLength(5);
    expect(failing).toEqual([]);
  });

  test('a cold client queues every request behind one slow grant and then serves them all', () => {
    const { failing } = checksOf('queue');
    expect(failing).toEqual([]);
    expect(report.results.queue.ok).toBe(report.results.queue.params.requests);
  });

  test('steady load over short-lived tokens, the overhead runs and the long run fail no request', () => {
    expect([...checksOf('steady state').failing, ...checksOf('overhead').failing, ...checksOf('long run').failing]).toEqual([]);
    expect(report.results.steadyState.requests).toBeGreaterThan(0);
  });

  test('the report passes as a whole, so `npm run bench -- --quick` exits 0', () => {
    expect(report.checks.filter((check) => !check.pass)).toEqual([]);
    expect(report.passed).toBe(true);
  });
});
