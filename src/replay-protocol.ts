/**
 * How the 401 side of the interceptors and the token cache agree on what happened while a request was out: every
 * finished renewal is numbered, a request records the number when its token is attached, and a refused request asks
 * for a renewal only if none followed its token's first refusal. A 401 storm so shares one renewal (or one failed
 * renewal) instead of starting one per request. Internal: the public token manager does not expose any of it.
 */
import type { OAuthBearerError } from './errors.js';
import type { CachedToken } from './token-schedule.js';
import type { TokenSet } from './token-set.js';

/** What the protocol reads and drives in the token cache. */
export interface ReplayTarget {
  /** The cache entry, live: the protocol marks it rejected. */
  cached(): CachedToken | undefined;
  /** The token if one may be sent now (and starts a background renewal when due). */
  peek(): string | undefined;
  /** The single-flight renewal. */
  renew(): Promise<TokenSet>;
}

/** The outcome of the most recent renewal, numbered so a request can tell whether it happened after it was sent. */
interface Attempt {
  readonly seq: number;
  readonly error: OAuthBearerError | undefined;
}

export class ReplayProtocol {
  readonly #target: ReplayTarget;
  #last: Attempt = { seq: 0, error: undefined };

  constructor(target: ReplayTarget) {
    this.#target = target;
  }

  /** A number that grows with every finished renewal; requests record it to know what happened after they left. */
  get attemptSeq(): number {
    return this.#last.seq;
  }

  /** Called by the cache when a renewal ends: `error` undefined for a success. */
  recordRenewal(error: OAuthBearerError | undefined): void {
    this.#last = { seq: this.#last.seq + 1, error };
  }

  /** The error of the latest renewal if it failed after `seq`; undefined otherwise. */
  failureSince(seq: number): OAuthBearerError | undefined {
    return this.#last.seq > seq ? this.#last.error : undefined;
  }

  /**
   * Called after the resource server answered 401 to a request sent with `rejectedToken` when the renewal count was
   * `sentAtSeq`. Resolves when a token newer than the rejected one is available; makes no grant when one already is.
   * Rejects with the renewal's error when the renewal that followed the token's first rejection failed: a 401 storm
   * shares one failed renewal instead of starting another, while a renewal that failed before the token was first
   * refused (a background one, say) does not count.
   */
  async renewAfterRejection(rejectedToken: string | undefined, sentAtSeq: number): Promise<void> {
    const cached = this.#target.cached();
    const isCurrent = cached !== undefined && cached.tokens.accessToken === rejectedToken;
    if (isCurrent) cached.rejectedAtSeq ??= this.#last.seq;
    if (this.#target.peek() !== undefined) return; // already replaced by a newer, unrejected token
    const failure = this.failureSince(isCurrent ? (cached.rejectedAtSeq ?? sentAtSeq) : sentAtSeq);
    if (failure !== undefined) throw failure;
    await this.#target.renew();
  }

  /**
   * True when `token` is the current token and was adopted from the shared store. A replay refused with such a token
   * gets one more renewal: the store may have handed over a token that a later revocation had killed, and this
   * process could not have known.
   */
  adoptedFromStore(token: string | undefined): boolean {
    const cached = this.#target.cached();
    return cached?.source === 'store' && cached.tokens.accessToken === token;
  }

  /**
   * True when a newer, unrejected token has replaced `token`: a replay refused with it may have been refused only
   * because a renewal that rotated (and revoked) it happened while the replay was in flight.
   */
  supersedes(token: string | undefined): boolean {
    const cached = this.#target.cached();
    return token !== undefined && cached !== undefined && cached.rejectedAtSeq === undefined && cached.tokens.accessToken !== token;
  }
}
