/** The retry loop on its own, with fake timers: the exact waits, the bounds, and what is never retried. */
import {
  InvalidClientError,
  InvalidRequestError,
  type OAuthBearerError,
  TokenEndpointError,
  TokenNetworkError,
  UserAuthenticationError,
} from '../src/index.js';
import { isTransient, parseRetryAfter, type RetryPolicy, withRetry } from '../src/retry.js';

const policy: RetryPolicy = { attempts: 3, baseDelayMs: 250, maxDelayMs: 5000, maxElapsedMs: 15_000 };
const status = (code: number, headers: Record<string, string> = {}): TokenEndpointError =>
  new TokenEndpointError('password', { status: code, headers, body: undefined }, {});

/** An attempt function that fails with the given errors in turn, then succeeds; it records when each call happened. */
function script(...failures: Error[]) {
  const calls: number[] = [];
  const attempt = (): Promise<string> => {
    calls.push(Date.now());
    const failure = failures[calls.length - 1];
    return failure ? Promise.reject(failure) : Promise.resolve('token');
  };
  return { attempt, calls };
}

function run(attempt: () => Promise<string>, overrides: Partial<RetryPolicy> = {}, random = () => 1) {
  const reported: OAuthBearerError[] = [];
  const promise = withRetry(attempt, { ...policy, ...overrides }, { random, onFailure: (e) => reported.push(e) });
  return { promise, reported };
}

beforeEach(() => jest.useFakeTimers({ now: 1_700_000_000_000 }));
afterEach(() => jest.useRealTimers());

test('503 twice, then success: three attempts, waiting 250 ms then 500 ms (exponential, jitter at its maximum)', async () => {
  const { attempt, calls } = script(status(503), status(503));
  const { promise, reported } = run(attempt);

  await jest.advanceTimersByTimeAsync(249);
  expect(calls).toHaveLength(1);
  await jest.advanceTimersByTimeAsync(1);
  expect(calls).toHaveLength(2);
  await jest.advanceTimersByTimeAsync(500);

  await expect(promise).resolves.toBe('token');
  expect(calls.map((t) => t - calls[0]!)).toEqual([0, 250, 750]);
  expect(reported).toHaveLength(2);
});

test('jitter keeps at least half of each wait', async () => {
  const { attempt, calls } = script(status(500), status(500));
  const { promise } = run(attempt, {}, () => 0);
  await jest.advanceTimersByTimeAsync(1000);
  await promise;
  expect(calls.map((t) => t - calls[0]!)).toEqual([0, 125, 375]);
});

test('429 with Retry-After: 2 waits exactly two seconds', async () => {
  const { attempt, calls } = script(status(429, { 'retry-after': '2' }));
  const { promise } = run(attempt);
  await jest.advanceTimersByTimeAsync(1999);
  expect(calls).toHaveLength(1);
  await jest.advanceTimersByTimeAsync(1);
  await expect(promise).resolves.toBe('token');
  expect(calls[1]! - calls[0]!).toBe(2000);
});

test('Retry-After as an HTTP date waits until that date', async () => {
  const at = new Date(Date.now() + 3000).toUTCString();
  const { attempt, calls } = script(status(503, { 'retry-after': at }));
  const { promise } = run(attempt);
  await jest.advanceTimersByTimeAsync(3000);
  await expect(promise).resolves.toBe('token');
  expect(calls[1]! - calls[0]!).toBe(3000);
});

test('a Retry-After longer than maxDelayMs gives up at once instead of keeping the caller waiting', async () => {
  const error = status(503, { 'retry-after': '120' });
  const { attempt, calls } = script(error);
  await expect(run(attempt).promise).rejects.toBe(error);
  expect(calls).toHaveLength(1);
});

test('when the attempts are used up, the last error is thrown and no timer is left', async () => {
  const last = status(503);
  const { attempt, calls } = script(status(503), status(503), last);
  const { promise, reported } = run(attempt);
  const settled = promise.catch((e: unknown) => e);
  await jest.advanceTimersByTimeAsync(10_000);
  expect(await settled).toBe(last);
  expect(calls).toHaveLength(3);
  expect(reported).toEqual([expect.any(TokenEndpointError), expect.any(TokenEndpointError), last]);
  expect(jest.getTimerCount()).toBe(0);
});

test('no retry starts once maxElapsedMs would be passed', async () => {
  const { attempt, calls } = script(status(503), status(503));
  const { promise } = run(attempt, { maxElapsedMs: 600 });
  const settled = promise.catch((e: unknown) => e);
  await jest.advanceTimersByTimeAsync(10_000);
  expect(await settled).toBeInstanceOf(TokenEndpointError);
  // 250 ms fits in 600; 250 + 500 does not.
  expect(calls.map((t) => t - calls[0]!)).toEqual([0, 250]);
});

const credentialFailures: [string, OAuthBearerError][] = [
  ['400 invalid request', new InvalidRequestError('password', { status: 400, headers: {}, body: undefined }, { error: 'invalid_request' })],
  ['401 invalid client', new InvalidClientError('password', { status: 401, headers: {}, body: undefined }, { error: 'invalid_client' })],
  ['403 user authentication', new UserAuthenticationError('password', { status: 403, headers: {}, body: undefined }, {})],
];

test.each(credentialFailures)('a credential failure (%s) is never retried', async (_name, error) => {
  const { attempt, calls } = script(error);
  await expect(run(attempt).promise).rejects.toBe(error);
  expect(calls).toHaveLength(1);
});

test('transient means 5xx, 429, 408, connection failures and timeouts', () => {
  expect([500, 502, 503, 504, 429, 408].map((code) => isTransient(status(code)))).toEqual(Array(6).fill(true));
  expect([400, 401, 403, 404, 302].map((code) => isTransient(status(code)))).toEqual(Array(5).fill(false));
  expect(isTransient(new TokenNetworkError('password', true, new Error('timeout')))).toBe(true);
  expect(isTransient(new Error('a bug'))).toBe(false);
});

describe('Retry-After accepts exactly what RFC 9110 allows', () => {
  const now = Date.parse('Wed, 21 Oct 2026 07:28:00 GMT');

  test('delay-seconds is one or more digits, with the whitespace around a field value dropped', () => {
    expect(parseRetryAfter('7', now)).toBe(7000);
    expect(parseRetryAfter('0', now)).toBe(0);
    expect(parseRetryAfter('007', now)).toBe(7000);
    // RFC 9110 section 5.5: the SP and HTAB around a field value are not part of it (an HTTP parser strips them).
    expect(parseRetryAfter(' 3', now)).toBe(3000);
    expect(parseRetryAfter('\t3 ', now)).toBe(3000);
    expect(parseRetryAfter(undefined, now)).toBeUndefined();
  });

  test.each(['1.5', '-1', '+3', '3abc', '1e3', '0x10', '', ' ', '3 4', '3, 4', '3\n', '\u00a03', '٣', 'soon', 'Infinity', 'NaN'])(
    '%j is neither delay-seconds nor an HTTP-date, so it is ignored',
    (value) => {
      expect(parseRetryAfter(value, now)).toBeUndefined();
    },
  );

  test('a huge integer is read as the huge delay it asks for (the retry loop then gives up rather than wait)', () => {
    expect(parseRetryAfter('99999999999999999999', now)).toBe(1e23);
    expect(parseRetryAfter('9'.repeat(400), now)).toBe(Infinity);
  });

  test('an IMF-fixdate in the future is the wait until it, one in the past no wait at all', () => {
    expect(parseRetryAfter('Wed, 21 Oct 2026 07:28:05 GMT', now)).toBe(5000);
    expect(parseRetryAfter('Wed, 21 Oct 2026 07:27:00 GMT', now)).toBe(0);
    expect(parseRetryAfter('Sun, 06 Nov 1994 08:49:37 GMT', now)).toBe(0);
    expect(parseRetryAfter('  Wed, 21 Oct 2026 07:28:05 GMT\t', now)).toBe(5000);
  });

  test('the obsolete RFC 850 and asctime forms are accepted, as a recipient must', () => {
    expect(parseRetryAfter('Wednesday, 21-Oct-26 07:28:05 GMT', now)).toBe(5000);
    expect(parseRetryAfter('Sunday, 06-Nov-94 08:49:37 GMT', now)).toBe(0);
    expect(parseRetryAfter('Wed Oct 21 07:28:05 2026', now)).toBe(5000);
    expect(parseRetryAfter('Thu Oct 22 07:28:00 2026', now)).toBe(86_400_000);
    // asctime's day of one digit is padded with a space, not a zero (date3 = month SP ( 2DIGIT / ( SP DIGIT ) )).
    expect(parseRetryAfter('Sun Nov  1 07:28:00 2026', now)).toBe(Date.UTC(2026, 10, 1, 7, 28) - now);
    expect(parseRetryAfter('Sun Nov 01 07:28:00 2026', now)).toBe(Date.UTC(2026, 10, 1, 7, 28) - now);
    expect(parseRetryAfter('Sun Nov 1 07:28:00 2026', now)).toBeUndefined();
  });

  test('an RFC 850 year more than 50 years ahead is the most recent past year with the same two digits', () => {
    // In 2026, "76" is 2076 (50 years ahead) and "77" is 1977 (2077 would be 51).
    expect(parseRetryAfter('Wednesday, 21-Oct-76 07:28:00 GMT', now)).toBe(Date.UTC(2076, 9, 21, 7, 28) - now);
    expect(parseRetryAfter('Thursday, 21-Oct-77 07:28:00 GMT', now)).toBe(0);
  });

  test.each([
    ['a lower-case date (HTTP-date is case-sensitive)', 'wed, 21 oct 2026 07:28:05 gmt'],
    ['another zone than GMT', 'Wed, 21 Oct 2026 07:28:05 UTC'],
    ['a numeric offset', 'Wed, 21 Oct 2026 07:28:05 +0000'],
    ['a one-digit day in an IMF-fixdate', 'Wed, 1 Oct 2026 07:28:05 GMT'],
    ['a long day name in an IMF-fixdate', 'Wednesday, 21 Oct 2026 07:28:05 GMT'],
    ['a short day name in an RFC 850 date', 'Wed, 21-Oct-26 07:28:05 GMT'],
    ['a four-digit year in an RFC 850 date', 'Wednesday, 21-Oct-2026 07:28:05 GMT'],
    ['a GMT after an asctime date', 'Wed Oct 21 07:28:05 2026 GMT'],
    ['an ISO 8601 date', '2026-10-21T07:28:05Z'],
    ['the 31st of February', 'Sat, 31 Feb 2026 07:28:05 GMT'],
    ['day 00', 'Wed, 00 Oct 2026 07:28:05 GMT'],
    ['hour 24', 'Wed, 21 Oct 2026 24:00:00 GMT'],
    ['minute 60', 'Wed, 21 Oct 2026 07:60:00 GMT'],
    ['second 61', 'Wed, 21 Oct 2026 07:28:61 GMT'],
  ])('an HTTP-date with %s is ignored', (_name, value) => {
    expect(parseRetryAfter(value, now)).toBeUndefined();
  });

  test('second 60, the leap second the grammar allows, is the first second of the next minute', () => {
    expect(parseRetryAfter('Wed, 21 Oct 2026 07:28:60 GMT', now)).toBe(60_000);
  });

  test('a date in a year below 100 is that year, not 19xx', () => {
    // Measured from a second before 1 January of the year 1 (Date.UTC would say 1901 for that too).
    const yearOne = new Date(0).setUTCFullYear(1, 0, 1);
    expect(parseRetryAfter('Mon, 01 Jan 0001 00:00:00 GMT', yearOne - 1000)).toBe(1000);
  });
});

describe('the retry loop with each kind of Retry-After', () => {
  test.each(['1.5', '-1', '+3', ' 3x', '3abc', '1e3', '0x10', ''])(
    'Retry-After %j is ignored: the normal backoff applies (250 ms), not an immediate retry',
    async (value) => {
      const { attempt, calls } = script(status(503, { 'retry-after': value }));
      const { promise } = run(attempt);
      await jest.advanceTimersByTimeAsync(249);
      expect(calls).toHaveLength(1);
      await jest.advanceTimersByTimeAsync(1);
      await expect(promise).resolves.toBe('token');
      expect(calls[1]! - calls[0]!).toBe(250);
    },
  );

  test('Retry-After " 3" waits three seconds', async () => {
    const { attempt, calls } = script(status(503, { 'retry-after': ' 3' }));
    const { promise } = run(attempt);
    await jest.advanceTimersByTimeAsync(3000);
    await expect(promise).resolves.toBe('token');
    expect(calls[1]! - calls[0]!).toBe(3000);
  });

  test('a past HTTP date retries at once', async () => {
    const { attempt, calls } = script(status(503, { 'retry-after': new Date(Date.now() - 60_000).toUTCString() }));
    const { promise } = run(attempt);
    await jest.advanceTimersByTimeAsync(0);
    await expect(promise).resolves.toBe('token');
    expect(calls[1]! - calls[0]!).toBe(0);
  });

  test.each([
    ['RFC 850', 'Tuesday, 14-Nov-23 22:13:23 GMT'],
    ['asctime', 'Tue Nov 14 22:13:23 2023'],
  ])('a future %s date waits until it', async (_name, value) => {
    // The fake clock stands at 1_700_000_000_000, Tue, 14 Nov 2023 22:13:20 GMT: three seconds before the date.
    const { attempt, calls } = script(status(503, { 'retry-after': value }));
    const { promise } = run(attempt);
    await jest.advanceTimersByTimeAsync(2999);
    expect(calls).toHaveLength(1);
    await jest.advanceTimersByTimeAsync(1);
    await expect(promise).resolves.toBe('token');
    expect(calls[1]! - calls[0]!).toBe(3000);
  });

  test.each([
    ['20 digits', '99999999999999999999'],
    ['400 digits (Infinity)', '9'.repeat(400)],
    ['the year 9999', 'Fri, 31 Dec 9999 23:59:59 GMT'],
  ])('a huge Retry-After (%s) gives up at once instead of waiting or retrying early', async (_name, value) => {
    const error = status(503, { 'retry-after': value });
    const { attempt, calls } = script(error);
    await expect(run(attempt).promise).rejects.toBe(error);
    expect(calls).toHaveLength(1);
  });
});
