/**
 * How a store tells its `onError` of trouble: every failure as it happens, and each repair (a lease or record it had
 * to cut back, a value it had to drop) at most once a minute per key and kind, since a waiter that polls would
 * otherwise repeat it 20 times a second. Shared by the Redis and the file store, so both report alike.
 */
import { monotonicNow } from '../clock.js';
import { publishError } from '../diagnostics.js';
import type { TokenStoreError } from './errors.js';

/** A repair is reported again after this long. */
const REPEAT_AFTER_MS = 60_000;
/** The most repairs remembered; beyond it the memory starts over (a burst of keys must not grow it for ever). */
const REMEMBERED = 1_000;

export class StoreReporter {
  readonly #onError: ((error: TokenStoreError) => void) | undefined;
  /** When each repair was last reported, by key and message. */
  readonly #repairsReported = new Map<string, number>();

  constructor(onError: ((error: TokenStoreError) => void) | undefined) {
    this.#onError = onError;
  }

  /** Reports a failure. A failing reporter must not turn a store failure into a failed request. */
  report(error: TokenStoreError): void {
    publishError(error);
    try {
      this.#onError?.(error);
    } catch {
      // Nothing left to report to.
    }
  }

  /** Reports a repair, unless the same one was reported within the last minute. */
  reportOnce(error: TokenStoreError): void {
    const what = `${error.key}\n${error.message}`;
    const now = monotonicNow();
    if ((this.#repairsReported.get(what) ?? -Infinity) > now - REPEAT_AFTER_MS) return;
    if (this.#repairsReported.size > REMEMBERED) this.#repairsReported.clear();
    this.#repairsReported.set(what, now);
    this.report(error);
  }
}
