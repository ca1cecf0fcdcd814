/**
 * The TokenStore contract as a reusable block of tests: what the token manager relies on from `get`/`set`/`delete`
 * and from the lease protocol (`acquire`, a lease's `extend`/`commit`/`fail`/`release`, `clearFailure`), checked on
 * the store alone. store-contract.test.ts runs it against every store the library ships; a store of one's own that
 * passes it is one the renewal protocol (src/stores/shared-renewal.ts) can rely on.
 *
 * Real time, with bounds only in the direction a loaded machine cannot break: a lease is asserted gone after waiting
 * longer than it lasts, never asserted still there after some delay (except right after it was taken with a minute to
 * live), and the times a store reports are checked against what was asked, with a minute of slack.
 */
import { randomUUID } from 'node:crypto';

import { ErrorCode } from '../../src/errors.js';
import type { SharedFailure } from '../../src/stores/shared-failure.js';
import type { LeaseRequest, LeasingTokenStore, RenewalLease, StoreSnapshot } from '../../src/stores/types.js';
import { createTokenSet, type TokenSet } from '../../src/token-set.js';
import { sleep } from './waiting.js';

/** A store to put through the contract, and how to let it go. */
export interface ContractStore {
  readonly store: LeasingTokenStore;
  close(): Promise<void>;
}

/** The shortest lease the library asks for: the expiry tests wait a little longer than this. */
const SHORT_LEASE_MS = 1_000;
/** How much longer than a lease or record the expiry tests wait. */
const PAST_MS = 250;

/** A lease request with a minute of lease and budget (nothing expires during a test unless it asks). */
export function leaseRequest(fields: Partial<LeaseRequest> = {}): LeaseRequest {
  return { leaseMs: 60_000, holdMs: 60_000, maxFailureMs: 60_000, ...fields };
}

/** A fresh key per test, in the shape the library makes (prefix, `tokens`, a Cluster hash tag). */
export function contractKey(): string {
  return `contract:tokens:{${randomUUID()}}`;
}

/** A token set valid for a minute, with every optional field the stores keep. */
export function contractTokens(name: string): TokenSet {
  return createTokenSet({
    accessToken: `${name}-access`,
    expiresAt: Date.now() + 60_000,
    refreshToken: `${name}-refresh`,
    scope: 'read write',
    idToken: `${name}-id`,
  });
}

const FAILURE: SharedFailure = {
  code: ErrorCode.USER_AUTHENTICATION,
  grant: 'password',
  status: 400,
  error: 'invalid_grant',
  errorDescription: 'wrong username or password',
};

function leased(snapshot: StoreSnapshot): RenewalLease {
  if (snapshot.state !== 'leased') throw new Error(`expected the lease, got ${snapshot.state}`);
  return snapshot.lease;
}

/** Asserts that `actual` is `expected` as a store hands it back: every field, the expiry never later, at most a minute earlier. */
function expectSameTokens(actual: TokenSet | undefined, expected: TokenSet): void {
  expect(actual).toMatchObject({
    accessToken: expected.accessToken,
    refreshToken: expected.refreshToken,
    scope: expected.scope,
    idToken: expected.idToken,
  });
  expect(actual?.expiresAt).toBeLessThanOrEqual(expected.expiresAt);
  expect(actual?.expiresAt).toBeGreaterThan(expected.expiresAt - 60_000);
}

/**
 * Parts of the contract a store is known to break, by name: their tests run as `test.failing`, so the suite says so
 * and fails as soon as the store is fixed (then take the name out).
 * - `reader-cuts-failure`: LeaseRequest.maxFailureMs says a failure record found with a longer time to live is cut to
 *   the reader's; MemoryTokenStore caps a record only with the writer's request, when it is written.
 */
export type ContractDeviation = 'reader-cuts-failure';

/** Defines the contract's tests for the store `open()` gives (one per test, closed after it). */
export function describeStoreContract(name: string, open: () => Promise<ContractStore>, deviations: readonly ContractDeviation[] = []): void {
  const failing = (deviation: ContractDeviation): typeof test => (deviations.includes(deviation) ? test.failing : test);
  describe(`${name} keeps the TokenStore contract`, () => {
    let opened: ContractStore;
    let store: LeasingTokenStore;
    let key: string;

    beforeEach(async () => {
      opened = await open();
      store = opened.store;
      key = contractKey();
    });
    afterEach(() => opened.close());

    describe('get, set, delete', () => {
      test('a key never written holds nothing', async () => {
        expect(await store.get(key)).toBeUndefined();
      });

      test('a token set written is read back whole; a second write replaces it', async () => {
        const first = contractTokens('first');
        const second = contractTokens('second');
        await store.set(key, first);
        expectSameTokens(await store.get(key), first);
        await store.set(key, second);
        expectSameTokens(await store.get(key), second);
      });

      test('delete forgets it; deleting nothing is harmless', async () => {
        await store.set(key, contractTokens('gone'));
        await store.delete(key);
        expect(await store.get(key)).toBeUndefined();
        await expect(Promise.resolve(store.delete(key))).resolves.toBeUndefined();
      });

      test('keys are independent', async () => {
        const other = contractKey();
        await store.set(key, contractTokens('mine'));
        expect(await store.get(other)).toBeUndefined();
        await store.delete(other);
        expect(await store.get(key)).toBeDefined();
      });

      test('the binding secret, when there is one, is at least 16 bytes and the same every time', () => {
        const secret = store.bindingSecret?.();
        if (secret === undefined) return;
        expect(secret.byteLength).toBeGreaterThanOrEqual(16);
        expect(Buffer.from(store.bindingSecret?.() ?? []).equals(Buffer.from(secret))).toBe(true);
      });
    });

    describe('the lease', () => {
      test('on a free key acquire takes it, with what the store holds; a second acquire finds it held, with the holder’s budget', async () => {
        const stored = contractTokens('stored');
        await store.set(key, stored);

        const first = await store.acquire(key, leaseRequest({ holdMs: 45_000 }));
        const second = await store.acquire(key, leaseRequest());

        expect(first).toMatchObject({ state: 'leased', failure: undefined });
        expectSameTokens(first.state === 'leased' ? first.tokens : undefined, stored);
        expect(second).toMatchObject({ state: 'held', failure: undefined });
        expectSameTokens(second.state === 'held' ? second.tokens : undefined, stored);
        const remaining = second.state === 'held' ? second.holderRemainingMs : undefined;
        expect(remaining).toBeLessThanOrEqual(45_000);
        expect(remaining).toBeGreaterThan(0);
      });

      test('an empty key is leased with no tokens', async () => {
        expect(await store.acquire(key, leaseRequest())).toMatchObject({ state: 'leased', tokens: undefined, failure: undefined });
      });

      test('the holder extends it and commits through it: the token set is stored and the lease is free again', async () => {
        const lease = leased(await store.acquire(key, leaseRequest()));
        const committed = contractTokens('committed');

        expect(await lease.extend()).toBe(true);
        expect(await lease.commit(committed)).toBe(true);

        expectSameTokens(await store.get(key), committed);
        expect((await store.acquire(key, leaseRequest())).state).toBe('leased');
      });

      test('release frees it without writing; a released lease can neither be extended nor write; releasing twice is harmless', async () => {
        await store.set(key, contractTokens('kept'));
        const lease = leased(await store.acquire(key, leaseRequest()));

        await lease.release();
        await lease.release();

        expect(await lease.extend()).toBe(false);
        expect(await lease.commit(contractTokens('late'))).toBe(false);
        expect(await lease.fail(FAILURE, 60_000)).toBe(false);
        expect((await store.get(key))?.accessToken).toBe('kept-access');
        expect((await store.acquire(key, leaseRequest())).state).toBe('leased');
      });

      test('a lease on one key is no lease on another', async () => {
        leased(await store.acquire(key, leaseRequest()));
        expect((await store.acquire(contractKey(), leaseRequest())).state).toBe('leased');
      });

      test('a lease that ran out is taken by the next process, and the late holder’s steps all fail: fenced', async () => {
        const late = leased(await store.acquire(key, leaseRequest({ leaseMs: SHORT_LEASE_MS })));
        await sleep(SHORT_LEASE_MS + PAST_MS);

        const successor = leased(await store.acquire(key, leaseRequest()));

        expect(await late.extend()).toBe(false);
        expect(await late.commit(contractTokens('late'))).toBe(false);
        expect(await late.fail(FAILURE, 60_000)).toBe(false);
        await late.release();
        expect((await store.acquire(key, leaseRequest())).state).toBe('held'); // the successor's, untouched
        expect(await successor.commit(contractTokens('successor'))).toBe(true);
        expect((await store.get(key))?.accessToken).toBe('successor-access');
      });
    });

    describe('the failure record', () => {
      test('fail records why, and frees the lease: every reader finds the record (with its remaining time), and nobody the lease', async () => {
        const lease = leased(await store.acquire(key, leaseRequest()));

        expect(await lease.fail(FAILURE, 30_000)).toBe(true);
        const snapshot = await store.acquire(key, leaseRequest());
        const again = await store.acquire(key, leaseRequest());

        expect(snapshot).toMatchObject({ state: 'held', failure: FAILURE });
        expect(again).toMatchObject({ state: 'held', failure: FAILURE });
        const remaining = snapshot.state === 'held' ? snapshot.failureRemainingMs : undefined;
        expect(remaining).toBeLessThanOrEqual(30_000);
        expect(remaining).toBeGreaterThan(0);
      });

      failing('reader-cuts-failure')('a record found with a longer time to live than the reader’s longest failure (maxFailureMs) is cut to it', async () => {
        await leased(await store.acquire(key, leaseRequest())).fail(FAILURE, 60_000);

        const snapshot = await store.acquire(key, leaseRequest({ maxFailureMs: 2_000 }));

        expect(snapshot.state === 'held' ? snapshot.failureRemainingMs : undefined).toBeLessThanOrEqual(2_000);
      });

      test('clearFailure forgets it: the next acquire takes the lease', async () => {
        await leased(await store.acquire(key, leaseRequest())).fail(FAILURE, 60_000);

        await store.clearFailure(key);

        expect(await store.acquire(key, leaseRequest())).toMatchObject({ state: 'leased', failure: undefined });
      });

      test('a record ends with its time to live: then the lease is free', async () => {
        await leased(await store.acquire(key, leaseRequest())).fail(FAILURE, SHORT_LEASE_MS);
        await sleep(SHORT_LEASE_MS + PAST_MS);

        expect(await store.acquire(key, leaseRequest())).toMatchObject({ state: 'leased', failure: undefined });
      });
    });
  });
}
