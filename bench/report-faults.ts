/**
 * Scenario 8 in the report: its targets (a dead holder taken over within two leases; a hanging token endpoint costing
 * N processes about what it costs one; a slow Redis costing a renewal two round trips, no more) and its table, or one
 * SKIPPED line when redis-server was not installed.
 */
import type { FaultsResult } from './faults.js';
import { count, status, table } from './markdown.js';
import type { Target } from './report.js';
import { median } from './stats.js';

/** How much longer than one process alone all processes may take to fail while the token endpoint hangs. */
export const MAX_HANG_RATIO = 1.5;
/** Leases within which a SIGKILLed holder's lease is taken over. */
export const MAX_TAKEOVER_LEASES = 2;
/** Redis round trips one renewal may wait for (acquire, then commit). */
export const MAX_RENEWAL_ROUND_TRIPS = 2;

/** Scenario 8's targets. */
export function faultsTargets(result: FaultsResult): Target[] {
  if (result.status === 'skipped') {
    return [{ target: 'shared store under faults (scenario 8)', measured: `SKIPPED: ${result.reason}`, status: 'SKIPPED' }];
  }
  const { takeover, hang, slowRedis } = result;
  const takeoverBound = MAX_TAKEOVER_LEASES * takeover.leaseMs;
  const hangBound = MAX_HANG_RATIO * hang.singleMs;
  const grantMs = median(slowRedis.baselineMs);
  const addedBound = MAX_RENEWAL_ROUND_TRIPS * slowRedis.delayMs + grantMs;
  const networkFailures = hang.errorCodes.ERR_OAUTH_NETWORK ?? 0;
  return [
    {
      target: `takeover after a SIGKILLed lease holder: within ${MAX_TAKEOVER_LEASES} leases (≤ ${ms(takeoverBound)}, lease ${ms(takeover.leaseMs)}), 1 grant, 0 failures`,
      measured:
        `taken over ${ms(takeover.takeoverMs)} after the kill; ${takeover.survivors} survivors served after ${ms(takeover.servedMs)}; ` +
        `${takeover.grants} grant(s), ${takeover.failures} failure(s)`,
      status: status(takeover.takeoverMs <= takeoverBound && takeover.grants === 1 && takeover.failures === 0),
    },
    {
      target: `token endpoint hangs, ${hang.processes} processes: the last fails within ${MAX_HANG_RATIO}x one process alone, every request with ERR_OAUTH_NETWORK`,
      measured:
        `${ms(hang.allMs)} vs ${ms(hang.singleMs)} alone (${(hang.allMs / hang.singleMs).toFixed(2)}x, bound ${ms(hangBound)}); ` +
        `${count(networkFailures)}/${count(hang.requests)} ERR_OAUTH_NETWORK`,
      status: status(hang.allMs <= hangBound && networkFailures === hang.requests),
    },
    {
      target: `token endpoint hangs: ${hang.processes} processes send as many token requests as one`,
      measured: `${count(hang.allTokenRequests)} vs ${count(hang.singleTokenRequests)} alone`,
      status: status(hang.allTokenRequests === hang.singleTokenRequests),
    },
    {
      target:
        `renewal with every Redis reply ${ms(slowRedis.delayMs)} late: added latency within ${MAX_RENEWAL_ROUND_TRIPS}x the delay ` +
        `plus the grant (≤ ${ms(addedBound)}; grant = median renewal without delay)`,
      measured:
        `+${ms(slowRedis.addedMs)} (${(slowRedis.addedMs / slowRedis.delayMs).toFixed(2)} delays; median ${ms(median(slowRedis.delayedMs))} ` +
        `vs ${ms(median(slowRedis.baselineMs))}); ${slowRedis.failures} failure(s)`,
      status: status(slowRedis.addedMs <= addedBound && slowRedis.failures === 0),
    },
  ];
}

/** Scenario 8's table, or its SKIPPED line. */
export function faultsSection(result: FaultsResult): string[] {
  const header = ['fault', 'setting', 'measured', 'token requests', 'grants', 'failures'];
  const title = '**8. Shared store under faults**';
  if (result.status === 'skipped') {
    return [title, '', table(header, [['all', `SKIPPED: ${result.reason}`, '–', '–', '–', '–']])];
  }
  const { params, takeover, hang, slowRedis } = result;
  const codes = Object.entries(hang.errorCodes)
    .map(([code, n]) => `${code} ×${count(n)}`)
    .join(', ');
  return [
    `${title} (real redis-server, real worker processes with their own client and RedisTokenStore, faults injected ` +
      'for real: a SIGKILLed process, a token endpoint that never answers, Redis behind a delay proxy; times from ' +
      'the workers\' clocks; the authorization server runs in the benchmark process)',
    '',
    table(header, [
      [
        'lease holder SIGKILLed mid-grant',
        `lease ${ms(params.leaseMs)}, ${takeover.survivors} survivors`,
        `lease taken over ${ms(takeover.takeoverMs)} after the kill; survivors served after ${ms(takeover.servedMs)}`,
        `${count(takeover.requestsBeforeKill)} before the kill (hung), 1 after`,
        count(takeover.grants),
        count(takeover.failures),
      ],
      [
        'token endpoint hangs, one process',
        `token timeout ${ms(hang.tokenTimeoutMs)}, ${hang.attempts} attempts`,
        `failed after ${ms(hang.singleMs)}`,
        count(hang.singleTokenRequests),
        '0',
        'all (ERR_OAUTH_NETWORK)',
      ],
      [
        `token endpoint hangs, ${hang.processes} processes`,
        `token timeout ${ms(hang.tokenTimeoutMs)}, ${hang.attempts} attempts`,
        `last failed after ${ms(hang.allMs)} (${(hang.allMs / hang.singleMs).toFixed(2)}x alone)`,
        count(hang.allTokenRequests),
        '0',
        `${count(hang.requests - hang.ok)}/${count(hang.requests)}: ${codes}`,
      ],
      [
        'one renewal, Redis at loopback speed',
        `grant latency ${ms(slowRedis.grantLatencyMs)}`,
        slowRedis.baselineMs.map(ms).join(', '),
        '',
        '',
        '',
      ],
      [
        `one renewal, every Redis reply ${ms(slowRedis.delayMs)} late`,
        `grant latency ${ms(slowRedis.grantLatencyMs)}`,
        `${slowRedis.delayedMs.map(ms).join(', ')}: +${ms(slowRedis.addedMs)} (median)`,
        '',
        `${count(slowRedis.grants)} for ${count(slowRedis.renewals)} renewals`,
        count(slowRedis.failures),
      ],
    ]),
  ];
}

function ms(value: number): string {
  return `${value.toFixed(0)} ms`;
}
