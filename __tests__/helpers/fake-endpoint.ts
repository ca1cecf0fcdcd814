/**
 * A fake TokenEndpoint for the TokenManager unit tests. Every grant returns a promise that the test settles by hand,
 * so the order of events is the test's and not the event loop's. Tokens are counters (`at-1`, `rt-1`): fixed, so
 * failures reproduce. Expiry counts from `Date.now()` when the test answers, which under fake timers is the test's.
 */
import type { TokenEndpoint } from '../../src/token-endpoint.js';
import { createTokenSet, type TokenSet } from '../../src/token-set.js';

/** What a test may say about the token set a grant answers with. */
export interface IssueFields {
  /**
   * Milliseconds from now until the access token expires.
   * @default 60_000
   */
  readonly lifetimeMs?: number;
  /**
   * The refresh token in the answer; `null` for an answer without one (RFC 6749 section 6 allows it on a refresh).
   * @default `rt-N`, N counting the token sets issued
   */
  readonly refreshToken?: string | null;
}

/** A grant the manager asked for and the test has not answered yet. */
export interface PendingGrant {
  readonly kind: 'password' | 'refresh_token';
  /** The refresh token the manager sent; undefined for a password grant. */
  readonly refreshToken: string | undefined;
  /** Answers with a new token set (`at-N`) and returns it. */
  issue(fields?: IssueFields): TokenSet;
  /** Answers with an error, as the real endpoint client would throw it. */
  fail(error: Error): void;
}

/** The fake: the three TokenEndpoint methods are jest mocks, so tests count calls exactly. */
export interface FakeEndpoint extends TokenEndpoint {
  readonly passwordGrant: jest.Mock<Promise<TokenSet>, []>;
  readonly refreshGrant: jest.Mock<Promise<TokenSet>, [string]>;
  readonly grant: jest.Mock<Promise<TokenSet>, []>;
  readonly revoke: jest.Mock<Promise<void>, [string, 'access_token' | 'refresh_token' | undefined]>;
  readonly tokenUrl: jest.Mock<Promise<string>, []>;
  /** Grants asked for and not answered yet, oldest first. */
  readonly pending: readonly PendingGrant[];
  /** Password and refresh grants asked for so far. */
  grantCount(): number;
  /**
   * The oldest unanswered grant. Lets queued microtasks run first (a password grant that follows a refused refresh
   * is asked for a few ticks later); fails the test when no grant was asked for.
   */
  nextGrant(): Promise<PendingGrant>;
}

/** Lets every promise callback already queued run, without any timer (fake timers would hold one back). */
export async function flushMicrotasks(rounds = 50): Promise<void> {
  for (let round = 0; round < rounds; round += 1) await Promise.resolve();
}

/** Creates a fake token endpoint whose grants wait for the test to answer them. */
export function createFakeEndpoint(): FakeEndpoint {
  const pending: PendingGrant[] = [];
  let issued = 0;

  const ask = (kind: PendingGrant['kind'], refreshToken: string | undefined): Promise<TokenSet> =>
    new Promise<TokenSet>((resolve, reject) => {
      const grant: PendingGrant = {
        kind,
        refreshToken,
        issue({ lifetimeMs = 60_000, refreshToken: nextRefresh }: IssueFields = {}) {
          settle();
          issued += 1;
          const tokens = createTokenSet({
            accessToken: `at-${issued}`,
            expiresAt: Date.now() + lifetimeMs,
            refreshToken: nextRefresh === null ? undefined : (nextRefresh ?? `rt-${issued}`),
          });
          resolve(tokens);
          return tokens;
        },
        fail(error: Error) {
          settle();
          reject(error);
        },
      };
      const settle = (): void => {
        const index = pending.indexOf(grant);
        if (index === -1) throw new Error(`this ${kind} grant was already answered`);
        pending.splice(index, 1);
      };
      pending.push(grant);
    });

  const passwordGrant = jest.fn<Promise<TokenSet>, []>(() => ask('password', undefined));
  const refreshGrant = jest.fn<Promise<TokenSet>, [string]>((refreshToken) => ask('refresh_token', refreshToken));
  const tokenUrl = jest.fn<Promise<string>, []>(() => Promise.resolve('https://idp.test/connect/token'));

  const revoke = jest.fn<Promise<void>, [string, 'access_token' | 'refresh_token' | undefined]>(() => Promise.resolve());

  return {
    passwordGrant,
    // The cache calls the configured grant `grant`: here the password grant, one mock under both names.
    grant: passwordGrant,
    refreshGrant,
    revoke,
    tokenUrl,
    pending,
    grantCount: () => passwordGrant.mock.calls.length + refreshGrant.mock.calls.length,
    async nextGrant() {
      await flushMicrotasks();
      const next = pending[0];
      if (next === undefined) throw new Error('expected the manager to have asked for a grant, but none is pending');
      return next;
    },
  };
}
