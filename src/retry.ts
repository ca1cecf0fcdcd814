/**
 * Retries for transient token-endpoint failures: 5xx, 429, connection failures and timeouts, with exponential backoff
 * and jitter, honouring `Retry-After`, bounded by attempts and by total time. Credential failures (400, 401, 403) are
 * never retried: sending the same wrong password again is how accounts get locked.
 */
import { monotonicNow } from './clock.js';
import { noteAttempts, OAuthBearerError, TokenEndpointError, TokenNetworkError } from './errors.js';

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
export const retryDefaults: RetryPolicy = Object.freeze({ attempts: 3, baseDelayMs: 250, maxDelayMs: 5000, maxElapsedMs: 15_000 });

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
      const wait = n >= policy.attempts || !isTransient(error) ? undefined : delayFor(error, n, policy, env.random);
      if (wait === undefined || monotonicNow() - started + wait > policy.maxElapsedMs) {
        // A retried failure says how hard it was tried: "after 3 attempts over 1.8 s" (the callers' view of the wait).
        if (error instanceof OAuthBearerError) noteAttempts(error, n, monotonicNow() - started);
        throw error;
      }
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
 * `Retry-After` as milliseconds from now, or undefined when the value is not one RFC 9110 allows (section 10.2.3:
 * `delay-seconds = 1*DIGIT`, or an HTTP-date), so the caller falls back to its own backoff. Nothing else is guessed at:
 * `1.5`, `-1`, `+3`, `1e3` or `0x10` say no delay, and `Date.parse` is never used (it reads `-1` as the year 2001, a
 * date long past, which meant "retry at once"). Only the whitespace around a field value (SP and HTAB, which section
 * 5.5 excludes from the value) is dropped. A delay may come out absurdly large, `Infinity` even: the caller gives up on
 * any wait longer than `maxDelayMs`. An HTTP date is a wall-clock instant, so it is measured against `Date.now()`, not
 * the monotonic clock; one in the past is a delay of 0.
 */
export function parseRetryAfter(value: string | undefined, now = Date.now()): number | undefined {
  if (value === undefined) return undefined;
  const field = value.replace(/^[ \t]+|[ \t]+$/g, '');
  if (/^\d+$/.test(field)) return Number(field) * 1000;
  const date = parseHttpDate(field, now);
  return date === undefined ? undefined : Math.max(0, date - now);
}

const DAY = '(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun)';
const LONG_DAY = '(?:Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday)';
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const MONTH = `(?<month>${MONTHS.join('|')})`;
const TIME = '(?<hour>\\d{2}):(?<minute>\\d{2}):(?<second>\\d{2})';
/**
 * The three forms of an HTTP-date (RFC 9110 section 5.6.7), case-sensitive as it says: IMF-fixdate, the one senders
 * must send, and the obsolete RFC 850 and asctime forms, which a recipient must still accept.
 */
const HTTP_DATES = [
  // Sun, 06 Nov 1994 08:49:37 GMT
  new RegExp(`^${DAY}, (?<day>\\d{2}) ${MONTH} (?<year>\\d{4}) ${TIME} GMT$`),
  // Sunday, 06-Nov-94 08:49:37 GMT
  new RegExp(`^${LONG_DAY}, (?<day>\\d{2})-${MONTH}-(?<yy>\\d{2}) ${TIME} GMT$`),
  // Sun Nov  6 08:49:37 1994 (the day is two digits, or a space and one digit)
  new RegExp(`^${DAY} ${MONTH} (?<day>\\d{2}| \\d) ${TIME} (?<year>\\d{4})$`),
];

/**
 * An HTTP-date as epoch milliseconds, or undefined when it is none: another layout, or a day or time that does not
 * exist (`31 Feb`, `24:00:00`). The day name is checked for its form only, as the grammar does.
 */
function parseHttpDate(text: string, now: number): number | undefined {
  const fields = HTTP_DATES.map((format) => format.exec(text)?.groups).find((groups) => groups !== undefined);
  if (fields === undefined) return undefined;
  const year = fields.yy === undefined ? Number(fields.year) : fullYear(Number(fields.yy), now);
  const month = MONTHS.indexOf(fields.month ?? '');
  const day = Number(fields.day);
  const [hour = NaN, minute = NaN, second = NaN] = [fields.hour, fields.minute, fields.second].map(Number);
  // A second of 60 is the leap second the grammar allows: read as the first second of the next minute.
  if (!(hour <= 23 && minute <= 59 && second <= 60)) return undefined;
  // setUTCFullYear, not Date.UTC, which reads the years 0-99 as 1900-1999.
  const midnight = new Date(0);
  midnight.setUTCFullYear(year, month, day);
  // A day the month does not have (31 Feb, day 00) rolls over into another month: that is no date at all.
  if (midnight.getUTCMonth() !== month || midnight.getUTCDate() !== day) return undefined;
  return midnight.getTime() + ((hour * 60 + minute) * 60 + second) * 1000;
}

/**
 * RFC 850's two-digit year: "a timestamp that appears to be more than 50 years in the future" is in the most recent
 * past year with the same last two digits (RFC 9110 section 5.6.7), reckoned here in whole years.
 */
function fullYear(twoDigits: number, now: number): number {
  const thisYear = new Date(now).getUTCFullYear();
  const year = thisYear - (thisYear % 100) + twoDigits;
  return year > thisYear + 50 ? year - 100 : year;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
