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

test('Retry-After parses delta-seconds and HTTP dates, and ignores anything else', () => {
  const now = Date.parse('Wed, 21 Oct 2026 07:28:00 GMT');
  expect(parseRetryAfter('7', now)).toBe(7000);
  expect(parseRetryAfter(' 0 ', now)).toBe(0);
  expect(parseRetryAfter('Wed, 21 Oct 2026 07:28:05 GMT', now)).toBe(5000);
  expect(parseRetryAfter('Wed, 21 Oct 2026 07:27:00 GMT', now)).toBe(0);
  expect(parseRetryAfter('soon', now)).toBeUndefined();
  expect(parseRetryAfter(undefined, now)).toBeUndefined();
});
