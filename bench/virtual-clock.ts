/**
 * A controlled clock for the quick check (`npm run bench -- --quick`, and `npm test` through bench-quick): instead of
 * sleeping until a token expires, a scenario moves the clock forward, in this process (the clients, and the server
 * when it runs in-process) and in every process it drives (the server child, the store workers), while nothing is in
 * flight. Token lifetimes can then be long (minutes), so however slowly a loaded machine serves a burst, no token runs
 * out in the middle of one: every count that real time made a race becomes exact.
 *
 * It moves `Date.now()` (what expiries are dated with, here and in the loopback server) and `performance.now()` (the
 * library's schedules run on it: src/clock.ts reads the global on every call so that a test can move it) by the same
 * offset, and only forward. Timers are not touched: a jump looks like a process that was suspended for that long.
 * The benchmark's own stopwatch is {@link realNow}, which a jump never moves. The full benchmark never moves the
 * clock: its targets are measured in real time.
 */

/** How a scenario lets its tokens age: in real time (the full benchmark), or by moving the clock (the quick check). */
export type ClockMode = 'real' | 'virtual';

const dateNowDescriptor = Object.getOwnPropertyDescriptor(Date, 'now');
const nativeDateNow: () => number = Date.now.bind(Date);
const nativePerformanceNow: () => number = performance.now.bind(performance);

let offsetMs = 0;

/** Milliseconds on the real monotonic clock, whatever {@link advanceClock} did: the benchmark's own stopwatch. */
export function realNow(): number {
  return nativePerformanceNow();
}

/** How far this process's clock has been moved, in milliseconds (0 when it is the real one). */
export function clockOffset(): number {
  return offsetMs;
}

/**
 * Moves this process's `Date.now()` and `performance.now()` forward by `ms`. Call it only while no request is in
 * flight: a jump under a request in flight would be a race again.
 */
export function advanceClock(ms: number): void {
  if (!(Number.isFinite(ms) && ms >= 0)) throw new RangeError(`the clock moves forward only, by a finite number of ms (got ${ms})`);
  if (offsetMs === 0) {
    Date.now = () => nativeDateNow() + offsetMs;
    // An own property in front of the prototype's method; resetClock() deletes it again.
    performance.now = () => nativePerformanceNow() + offsetMs;
  }
  offsetMs += ms;
}

/** Puts the real clock back. */
export function resetClock(): void {
  offsetMs = 0;
  if (dateNowDescriptor !== undefined) Object.defineProperty(Date, 'now', dateNowDescriptor);
  if (Object.prototype.hasOwnProperty.call(performance, 'now')) Reflect.deleteProperty(performance, 'now');
}

/** Runs `work` and puts the real clock back afterwards, however it ends. */
export async function withVirtualClock<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } finally {
    resetClock();
  }
}
