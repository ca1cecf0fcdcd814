/**
 * Cross-account isolation as a property: fast-check generates a few accounts (some with a wrong password in the
 * vault), a bound on live accounts, token latency, and a sequence of steps (bursts of concurrent requests for one or
 * several accounts, revocations of one account's tokens, an eviction in the middle of a renewal). Against the memory
 * authority, which knows each token's user and echoes it:
 * - every request of a good account succeeds with a token of that account's user, whatever the others do;
 * - every request of a wrong-password account fails with UserAuthenticationError, and no other request does;
 * - each step costs an account at most one password attempt (two when it was evicted mid-renewal), and with nothing
 *   evicted exactly one in the whole run (the cooldown holds the failure; a good account keeps its token);
 * - a revoked account renews with its refresh token, never another account's grant.
 */
import { type AxiosAdapter } from 'axios';
import fc from 'fast-check';

import { type AccountProvider, createAuthClient, type OAuthBearerError, UserAuthenticationError } from '../src/index.js';
import { createMemoryAuthority } from '../src/testing/memory.js';

const ACCOUNTS = ['a0', 'a1', 'a2', 'a3', 'a4'] as const;
type Account = (typeof ACCOUNTS)[number];
const userOf = (account: Account): string => `user-${account}`;
const passwordOf = (account: Account): string => `password-${account}`;

type Step =
  | { readonly kind: 'burst'; readonly accounts: readonly Account[]; readonly count: number }
  | { readonly kind: 'revoke'; readonly account: Account }
  | { readonly kind: 'evict-mid-renewal'; readonly account: Account; readonly count: number };

interface Scenario {
  readonly wrong: readonly Account[];
  readonly maxAccounts: number;
  readonly tokenLatencyMs: number;
  readonly steps: readonly Step[];
}

const account = fc.constantFrom(...ACCOUNTS);
const scenarios: fc.Arbitrary<Scenario> = fc.record({
  wrong: fc.subarray([...ACCOUNTS], { maxLength: 2 }),
  maxAccounts: fc.integer({ min: 2, max: ACCOUNTS.length }),
  tokenLatencyMs: fc.integer({ min: 0, max: 3 }),
  steps: fc.array(
    fc.oneof(
      { weight: 3, arbitrary: fc.record({ kind: fc.constant('burst' as const), accounts: fc.uniqueArray(account, { minLength: 1, maxLength: 3 }), count: fc.integer({ min: 1, max: 5 }) }) },
      { weight: 1, arbitrary: fc.record({ kind: fc.constant('revoke' as const), account }) },
      { weight: 1, arbitrary: fc.record({ kind: fc.constant('evict-mid-renewal' as const), account, count: fc.integer({ min: 1, max: 4 }) }) },
    ),
    { minLength: 1, maxLength: 10 },
  ),
});

interface Outcome {
  readonly account: Account;
  readonly result: PromiseSettledResult<{ readonly username: string }>;
}

async function run(scenario: Scenario): Promise<void> {
  const authority = createMemoryAuthority({
    users: Object.fromEntries(ACCOUNTS.map((id) => [userOf(id), passwordOf(id)])),
    tokenLatencyMs: scenario.tokenLatencyMs,
  });
  const wrong = new Set(scenario.wrong);
  const attempts = new Map<string, number>();
  // Token requests, counted by the username they carry before the authority answers them.
  const counting: AxiosAdapter = async (config) => {
    const form = new URLSearchParams(String(config.data));
    const key = form.get('grant_type') === 'password' ? (form.get('username') ?? '?') : 'refresh';
    attempts.set(key, (attempts.get(key) ?? 0) + 1);
    return authority.adapter(config);
  };
  const refreshes = new Map<string, number>();
  const reported: { error: OAuthBearerError; account: string | undefined }[] = [];
  const vault: AccountProvider = (id) => ({ username: userOf(id as Account), password: wrong.has(id as Account) ? 'wrong' : passwordOf(id as Account) });
  const { tokenUrl, clientId, clientSecret } = authority.credentials;
  const api = createAuthClient({
    baseURL: authority.apiUrl,
    adapter: authority.adapter,
    auth: {
      tokenUrl,
      clientId,
      clientSecret,
      adapter: counting,
      account: vault,
      maxAccounts: scenario.maxAccounts,
      onToken: ({ source, account: id }) => {
        if (source === 'refresh_token' && id !== undefined) refreshes.set(id, (refreshes.get(id) ?? 0) + 1);
      },
      onError: (error, context) => reported.push({ error, account: context?.account }),
    },
  });
  const send = (id: Account): Promise<Outcome> =>
    api.get<{ username: string }>('/reports', { account: id }).then(
      (response) => ({ account: id, result: { status: 'fulfilled', value: response.data } }),
      (reason: unknown) => ({ account: id, result: { status: 'rejected', reason } }),
    );

  const outcomes: Outcome[] = [];
  /** The most password attempts each account may have made: one per step that asked for it, two if evicted meanwhile. */
  const allowance = new Map<Account, number>();
  const allow = (id: Account, n: number): void => void allowance.set(id, (allowance.get(id) ?? 0) + n);
  const revoked = new Map<Account, number>();
  let evicted = false;
  const distinct = new Set<Account>();
  for (const step of scenario.steps) {
    if (step.kind === 'revoke') {
      authority.revokeAll(userOf(step.account));
      revoked.set(step.account, (revoked.get(step.account) ?? 0) + 1);
    } else if (step.kind === 'burst') {
      for (const id of step.accounts) {
        allow(id, 1);
        distinct.add(id);
      }
      outcomes.push(...(await Promise.all(step.accounts.flatMap((id) => Array.from({ length: step.count }, () => send(id))))));
    } else {
      allow(step.account, 2);
      distinct.add(step.account);
      const first = Array.from({ length: step.count }, () => send(step.account));
      // The renewal for the first requests has started; the account is dropped under it, and asked for again.
      await Promise.resolve();
      api.tokens.forget(step.account);
      evicted = true;
      const second = Array.from({ length: step.count }, () => send(step.account));
      outcomes.push(...(await Promise.all([...first, ...second])));
    }
  }

  for (const { account: id, result } of outcomes) {
    if (wrong.has(id)) {
      expect(result.status).toBe('rejected');
      if (result.status === 'rejected') expect(result.reason).toBeInstanceOf(UserAuthenticationError);
    } else {
      // A good account never fails, and never gets another user's token.
      expect(result).toEqual({ status: 'fulfilled', value: expect.objectContaining({ username: userOf(id) }) as unknown });
    }
  }
  // Reports name the account whose renewal failed: only wrong-password accounts.
  for (const { error, account: id } of reported) {
    expect(error).toBeInstanceOf(UserAuthenticationError);
    expect(wrong.has(id as Account)).toBe(true);
  }
  const lruEvicts = distinct.size > scenario.maxAccounts;
  for (const id of distinct) {
    const made = attempts.get(userOf(id)) ?? 0;
    expect(made).toBeGreaterThanOrEqual(1);
    expect(made).toBeLessThanOrEqual(allowance.get(id) ?? 0);
    // Nothing evicted: one password attempt per account for the whole run, right or wrong (the cooldown holds a failure).
    if (!evicted && !lruEvicts) expect(made).toBe(1);
    // Refreshes only for accounts whose tokens were revoked, at most one per revocation.
    expect(refreshes.get(id) ?? 0).toBeLessThanOrEqual(revoked.get(id) ?? 0);
  }
  await authority.close();
}

test('cross-account isolation: random accounts, revocations, wrong passwords and evictions mid-renewal', async () => {
  await fc.assert(fc.asyncProperty(scenarios, run), { numRuns: 60 });
}, 60_000);
