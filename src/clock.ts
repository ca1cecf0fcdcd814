/**
 * The clock that local schedules run on. `Date.now()` is the wall clock: NTP, a suspended laptop or an administrator
 * can step it by hours in either direction, and a schedule kept in wall-clock terms then sends expired tokens (clock
 * stepped back: 401s) or drops good ones early (stepped forward: needless grants). `performance.now()` only moves
 * forward, at the rate real time passes, so deadlines kept in its terms mean "this long from when they were set".
 *
 * `Date.now()` stays where an epoch value is the point: a token set's public `expiresAt` (epoch milliseconds, what
 * users read and stores persist across processes) and HTTP dates such as `Retry-After`.
 */

/**
 * Milliseconds on the monotonic clock (from an arbitrary origin: compare its values with each other only, never with
 * `Date.now()`). Reads `globalThis.performance` on every call rather than a reference kept from `node:perf_hooks`, so
 * a test's fake timers, which replace the global, move it.
 */
export function monotonicNow(): number {
  return globalThis.performance.now();
}

/**
 * An epoch deadline (`Date.now()` terms) as a monotonic one: what remains until it, read off the wall clock once, now,
 * then counted on the monotonic clock. A later step of the wall clock no longer moves it.
 */
export function monotonicDeadline(epochMs: number): number {
  return monotonicNow() + (epochMs - Date.now());
}
