/**
 * Retries for transient token-endpoint failures: 5xx, 429, connection failures and timeouts, with exponential backoff
 * and jitter, honouring `Retry-After`, bounded by attempts and by total time. Credential failures (400, 401, 403) are
 * never retried: sending the same wrong password again is how accounts get locked.
 */
import { monotonicNow } from './clock.js';
import { OAuthBearerError, TokenEndpointError, TokenNetworkError } from './errors.js';

/** How token requests are retried. */
export interface RetryOptions {
  /**
   * Attempts in total, the first one included. `1` turns retries off.
   * @default 3
   */
  readonly attempts?: number;
  /**
   * The wait before the first retry; it doubles with each further retry (with jitter: between half and all of it).
   * @default 250
   */
  readonly baseDelayMs?: number;
  /**
   * The longest single wait, `Retry-After` included.
   * @default 5000
   */
  readonly maxDelayMs?: number;
  /**
   * No retry starts once this much time has passed since the first attempt, so callers wait seconds, not minutes.
   * @default 15000
   */
  readonly maxElapsedMs?: number;
}

/** Retry options after defaults. */
export type RetryPolicy = Required<RetryOptions>;

/** The defaults. */
export const retryDefaults: RetryPolicy = { attempts: 3, baseDelayMs: 250, maxDelayMs: 5000, maxElapsedMs: 15_000 };

/** What the retry loop needs from outside: randomness and a clock, injectable for deterministic tests. */
export interface RetryEnvironment {
  /** A number in [0, 1). @default Math.random */
  readonly random: () => number;
  /** Called with each failed attempt that will be retried or not (reporting happens there, once per failure). */
  readonly onFailure: (error: OAuthBearerError) => void;
}

/** True for failures worth another attempt: the endpoint was unreachable, overloaded or broken, not unconvinced. */
export function isTransient(error: unknown): boolean {
  if (error instanceof TokenNetworkError) return true;
  return error instanceof TokenEndpointError && isTransientStatus(error.status);
}

/**
 * The statuses that say "not now" rather than "no": 5xx, 429 and 408. The token endpoint's error mapping reads them
 * too (an OAuth code in such an answer does not turn it into a credential failure), so the list lives here once.
 */
export function isTransientStatus(status: number): boolean {
  return status >= 500 || status === 429 || status === 408;
}

/** Runs `attempt` until it succeeds, fails for good, or the policy's bounds are reached; rethrows the last error. */
export async function withRetry<T>(attempt: () => Promise<T>, policy: RetryPolicy, env: RetryEnvironment): Promise<T> {
  // Elapsed time on the monotonic clock: a wall-clock step during the retries neither ends them early nor extends them.
  const started = monotonicNow();
  for (let n = 1; ; n += 1) {
    try {
      return await attempt();
    } catch (error) {
      if (error instanceof OAuthBearerError) env.onFailure(error);
      if (n >= policy.attempts || !isTransient(error)) throw error;
      const wait = delayFor(error, n, policy, env.random);
      if (wait === undefined || monotonicNow() - started + wait > policy.maxElapsedMs) throw error;
      await sleep(wait);
    }
  }
}

/** Retry-After when the endpoint sent one (capped), else exponential backoff with equal jitter. */
function delayFor(error: unknown, retry: number, policy: RetryPolicy, random: () => number): number | undefined {
  const retryAfter = error instanceof TokenEndpointError ? parseRetryAfter(error.response.headers['retry-after']) : undefined;
  // A server asking for more patience than the cap allows would make the caller wait longer than promised: give up.
  if (retryAfter !== undefined) return retryAfter <= policy.maxDelayMs ? retryAfter : undefined;
  const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (retry - 1));
  return ceiling / 2 + random() * (ceiling / 2);
}

/**
 * `Retry-After` as milliseconds from now: delta-seconds or an HTTP date (RFC 9110 section 10.2.3). An HTTP date is a
 * wall-clock instant, so it is measured against `Date.now()`, not the monotonic clock.
 */
export function parseRetryAfter(value: string | undefined, now = Date.now()): number | undefined {
  if (value === undefined) return undefined;
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000;
  const date = Date.parse(trimmed);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
