/**
 * The token manager's side of a shared store: the store key (derived once, bound to the full credentials), store
 * operations run in the background (`clear()`, `clearCooldown()`), and a renewal through the store's lease protocol
 * (stores/shared-renewal.ts). A store never throws into a request: every failure here is reported and the process
 * goes on alone.
 */
import type { OAuthBearerError } from './errors.js';
import { storeThrew, type TokenStoreOperation } from './stores/errors.js';
import { renewShared, type SharedRenewalResult } from './stores/shared-renewal.js';
import type { TokenStore } from './stores/types.js';
import type { TokenSet } from './token-set.js';

/** The longest a holder may keep the renewal lease, whatever its options: waiters take over after it. */
const MAX_HOLD_MS = 10 * 60_000;

/** What a shared renewal needs from the manager, besides the store. */
export interface SharedRenewalRequest {
  readonly localRefreshToken: string | undefined;
  readonly localRefreshIsShared: boolean;
  readonly isCurrent: () => boolean;
  readonly isUsable: (tokens: TokenSet) => boolean;
  readonly grant: (refreshToken: string | undefined) => Promise<TokenSet>;
}

/** The resolved options a store link runs on. */
export interface StoreLinkOptions {
  readonly leaseMs: number;
  readonly cooldownMs: number;
  readonly timeout: number;
  /** The retry budget of one grant, in milliseconds. */
  readonly maxElapsedMs: number;
  readonly report: (error: OAuthBearerError) => void;
}

export class StoreLink {
  readonly #store: TokenStore;
  readonly #derive: () => Promise<string>;
  readonly #options: StoreLinkOptions;
  /** The store key once derived: computed on the first store operation, at most once while it succeeds. */
  #key: Promise<string | undefined> | undefined;

  constructor(store: TokenStore, deriveKey: () => Promise<string>, options: StoreLinkOptions) {
    this.#store = store;
    this.#derive = deriveKey;
    this.#options = options;
  }

  /** The store key, derived once; undefined (reported) when the derivation failed, so the process goes on alone. */
  key(): Promise<string | undefined> {
    this.#key ??= Promise.resolve()
      .then(this.#derive)
      .catch((error: unknown) => {
        this.#key = undefined; // not cached: the next store operation tries again
        this.#options.report(storeThrew('key', undefined, error, '; continuing without the store'));
        return undefined;
      });
    return this.#key;
  }

  /** Runs a store operation in the background; a failure is reported, never thrown. */
  background(operation: TokenStoreOperation, run: (store: TokenStore, key: string) => unknown): void {
    this.key()
      .then(async (key) => {
        if (key === undefined) return;
        try {
          await run(this.#store, key);
        } catch (error) {
          this.#options.report(storeThrew(operation, key, error));
        }
      })
      // report() never throws, and storeThrew looks at any value safely: this is the last guard against an unhandled
      // rejection, which would end the process.
      .catch(() => undefined);
  }

  /** One renewal through the store: adopt the stored token set, or hold the lease and grant (shared-renewal.ts). */
  async renew(key: string, request: SharedRenewalRequest): Promise<SharedRenewalResult> {
    const { leaseMs, cooldownMs, timeout, maxElapsedMs, report } = this.#options;
    return renewShared({
      store: this.#store,
      key,
      ...request,
      leaseMs,
      // A grant ends within its retry budget plus a timeout, twice over when a refused refresh token falls back to the
      // password grant: this process's budget as a holder (the waiters are told it through the lease).
      maxWaitMs: Math.min(MAX_HOLD_MS, 2 * (maxElapsedMs + timeout) + 2 * leaseMs),
      cooldownMs,
      report,
    });
  }
}
