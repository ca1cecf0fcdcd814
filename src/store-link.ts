/**
 * The token manager's side of a shared store: the store key (derived once, bound to the full credentials), store
 * operations run in the background (`clear()`, `clearCooldown()`), and a renewal through the store's lease protocol
 * (stores/shared-renewal.ts). A store never throws into a request: every failure here is reported and the process
 * goes on alone.
 */

import { monotonicNow } from './clock.js';
import { credentialTag, type CredentialSource, type GrantCredentials } from './credentials.js';
import { publishStoreOperation } from './diagnostics.js';
import { OAuthBearerError } from './errors.js';
import { storeThrew, type TokenStoreOperation } from './stores/errors.js';
import { renewShared, type SharedRenewalResult } from './stores/shared-renewal.js';
import { isLeasingStore, type TokenStore } from './stores/types.js';
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

/** Derives the store key of a renewal's credentials (undefined: the client's own, fixed ones). */
export type StoreKeyOf = (credentials: GrantCredentials | undefined) => Promise<string>;

/** The resolved options a store link runs on. */
export interface StoreLinkOptions {
  readonly leaseMs: number;
  readonly cooldownMs: number;
  readonly timeout: number;
  /** The retry budget of one grant, in milliseconds. */
  readonly maxElapsedMs: number;
  readonly report: (error: OAuthBearerError) => void;
  /** Where the credentials come from when no renewal has fetched any yet (a `clear()` first): absent, fixed ones. */
  readonly credentials: CredentialSource | undefined;
}

export class StoreLink {
  readonly #store: TokenStore;
  readonly #derive: StoreKeyOf;
  readonly #options: StoreLinkOptions;
  /**
   * The key of the credentials last seen, and a digest of those credentials to tell when they change (a rotated
   * password is another identity: another key). A digest, not the credentials: they are not kept past a renewal.
   */
  #last: { readonly tag: string; readonly key: Promise<string | undefined> } | undefined;

  constructor(store: TokenStore, deriveKey: StoreKeyOf, options: StoreLinkOptions) {
    this.#store = store;
    this.#derive = deriveKey;
    this.#options = options;
  }

  /** Whether the store elects one renewer (it has `acquire` and `clearFailure`). */
  get leasing(): boolean {
    return isLeasingStore(this.#store);
  }

  /**
   * The store key of `credentials`, derived once for as long as they stay the same; undefined (reported) when the
   * derivation failed, so the process goes on alone.
   */
  key(credentials: GrantCredentials | undefined): Promise<string | undefined> {
    const tag = credentialTag(credentials);
    if (this.#last?.tag === tag) return this.#last.key;
    const key = Promise.resolve(credentials)
      .then(this.#derive)
      .catch((error: unknown) => {
        if (this.#last?.key === key) this.#last = undefined; // not cached: the next store operation tries again
        this.#options.report(storeThrew('key', undefined, error, '; continuing without the store'));
        return undefined;
      });
    this.#last = { tag, key };
    return key;
  }

  /** The key of the credentials last used, else of credentials fetched now; undefined when they cannot be had. */
  #currentKey(): Promise<string | undefined> {
    if (this.#last !== undefined) return this.#last.key;
    const source = this.#options.credentials;
    if (source === undefined) return this.key(undefined);
    return source().then(
      (credentials) => this.key(credentials),
      (error: unknown) => {
        // A CredentialError: typed, and free of the credentials. Reported, and the store operation is skipped.
        if (error instanceof OAuthBearerError) this.#options.report(error);
        return undefined;
      },
    );
  }

  /**
   * Runs a store operation in the background; a failure is reported, never thrown. Told to the store-operation
   * channel like a renewal's (shared-renewal.ts), with no deadline: nothing waits on it.
   */
  background(operation: Exclude<TokenStoreOperation, 'key'>, run: (store: TokenStore, key: string) => unknown): void {
    this.#currentKey()
      .then(async (key) => {
        if (key === undefined) return;
        const started = monotonicNow(); // always: a subscriber arriving meanwhile must not be told the uptime
        try {
          await run(this.#store, key);
          publishStoreOperation(() => ({ operation, outcome: 'success', durationMs: monotonicNow() - started }));
        } catch (error) {
          publishStoreOperation(() => ({ operation, outcome: 'failure', durationMs: monotonicNow() - started }));
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

