/**
 * The cooldown after the token endpoint rejected the credentials: for a while, renewals fail fast with the error that
 * started it instead of sending the same credentials again (identity providers lock accounts after a few failed
 * logins). Its deadline is monotonic (see clock.ts): it lasts `cooldownMs` of real time, whatever the wall clock does.
 */
import { monotonicNow } from './clock.js';
import { publishCooldown, summarize } from './diagnostics.js';
import { isCredentialFailure, noteCooldown, type OAuthBearerError } from './errors.js';
import { sharedFailureRemainingMs } from './stores/shared-failure.js';

export class Cooldown {
  readonly #cooldownMs: number;
  #state: { readonly error: OAuthBearerError; readonly until: number } | undefined;

  /** `cooldownMs` 0 turns it off. */
  constructor(cooldownMs: number) {
    this.#cooldownMs = cooldownMs;
  }

  /** The error that started a cooldown that is still running, else undefined. */
  active(): OAuthBearerError | undefined {
    const state = this.#state;
    return state !== undefined && monotonicNow() < state.until ? state.error : undefined;
  }

  /**
   * Called with every failed renewal: a credential failure starts a cooldown. One that another process recorded in a
   * shared store ends when its record does, not a full cooldown after this process read it.
   */
  afterFailure(error: OAuthBearerError): void {
    const left = Math.min(this.#cooldownMs, sharedFailureRemainingMs(error) ?? this.#cooldownMs);
    if (!isCredentialFailure(error) || left <= 0) return;
    this.#state = { error, until: monotonicNow() + left };
    noteCooldown(error, left);
    publishCooldown(() => ({ durationMs: left, endsAt: Date.now() + left, error: summarize(error) }));
  }

  /** Ends it early (`tokens.clearCooldown()`). */
  clear(): void {
    this.#state = undefined;
  }
}
