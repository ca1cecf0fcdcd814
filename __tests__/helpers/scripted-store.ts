/**
 * Stores that misbehave on cue, for the TokenStore contract suite (store-contract.test.ts) and the renewal protocol's
 * unit tests (renew-shared.test.ts). A {@link ScriptedStore} is a MemoryTokenStore (the reference implementation of
 * the lease protocol) behind a switchboard: each step (`get`, `acquire`, the lease's `commit`...) can be told to throw,
 * to reject, to hang forever or to answer garbage, and every call is recorded in order, so a test can say exactly
 * which methods the library called and how often. {@link plainStore} is the same without the lease protocol, and
 * without any optional member unless asked.
 */
import { MemoryTokenStore } from '../../src/stores/memory.js';
import type { LeaseRequest, LeasingTokenStore, MaybePromise, RenewalLease, StoreSnapshot, TokenStore } from '../../src/stores/types.js';
import type { TokenSet } from '../../src/token-set.js';

/** The steps of the protocol a store takes part in. */
export type StoreStep = 'get' | 'set' | 'delete' | 'acquire' | 'clearFailure' | 'extend' | 'commit' | 'fail' | 'release';

/**
 * How a step misbehaves: `throw` synchronously, `reject` its promise, `hang` (a promise that never settles), or
 * `answer` this value instead of doing its work.
 */
export type Fault = 'throw' | 'reject' | 'hang' | { readonly answer: unknown };

/** What a broken store throws: its name shows up in the library's report, its message must not. */
export class StoreBroke extends Error {
  override readonly name = 'StoreBroke';
}

/** A MemoryTokenStore whose every step can be scripted to fail, and whose calls are all recorded. */
export class ScriptedStore implements LeasingTokenStore {
  /** The real store underneath: what a well-behaved step does. */
  readonly inner = new MemoryTokenStore();
  /** Scripted faults, by step; a step not listed behaves. */
  readonly faults = new Map<StoreStep, Fault>();
  /** Every call, in order. */
  readonly calls: StoreStep[] = [];
  /** The lease requests `acquire` was given, in order. */
  readonly requests: LeaseRequest[] = [];

  /** A fast, fixed binding secret (HMAC keys: no scrypt on the thread pool, so a fake clock is the whole story). */
  bindingSecret(): Uint8Array {
    return this.inner.bindingSecret();
  }

  get(key: string): MaybePromise<TokenSet | undefined> {
    return this.#step('get', () => this.inner.get(key));
  }

  set(key: string, tokens: TokenSet): MaybePromise<void> {
    return this.#step('set', () => this.inner.set(key, tokens));
  }

  delete(key: string): MaybePromise<void> {
    return this.#step('delete', () => this.inner.delete(key));
  }

  acquire(key: string, request: LeaseRequest): MaybePromise<StoreSnapshot> {
    this.requests.push(request);
    return this.#step('acquire', () => {
      const snapshot = this.inner.acquire(key, request);
      return snapshot.state === 'leased' ? { ...snapshot, lease: this.#scripted(snapshot.lease) } : snapshot;
    });
  }

  clearFailure(key: string): MaybePromise<void> {
    return this.#step('clearFailure', () => this.inner.clearFailure(key));
  }

  /** How many times `step` was called. */
  count(step: StoreStep): number {
    return this.calls.filter((call) => call === step).length;
  }

  #scripted(lease: RenewalLease): RenewalLease {
    return {
      extend: () => this.#step('extend', () => lease.extend()),
      commit: (tokens) => this.#step('commit', () => lease.commit(tokens)),
      fail: (failure, ttlMs) => this.#step('fail', () => lease.fail(failure, ttlMs)),
      release: () => this.#step('release', () => lease.release()),
    };
  }

  #step<T>(step: StoreStep, behave: () => MaybePromise<T>): MaybePromise<T> {
    this.calls.push(step);
    const fault = this.faults.get(step);
    if (fault === undefined) return behave();
    if (fault === 'throw') throw new StoreBroke(`${step} broke (a secret-looking detail: hunter2)`);
    if (fault === 'reject') return Promise.reject(new StoreBroke(`${step} broke`));
    if (fault === 'hang') return new Promise<never>(() => undefined);
    return fault.answer as T;
  }
}

/** A store with `get`, `set` and `delete` only, recorded and scriptable like a ScriptedStore. */
export interface PlainStore {
  /** What the library is given: exactly the three methods (plus `bindingSecret` when asked). */
  readonly store: TokenStore;
  /** The scripted store behind it (its lease protocol is never reachable through `store`). */
  readonly scripted: ScriptedStore;
  /** Every property the library read on `store`, in order (a missing member read is fine; calling one is not). */
  readonly reads: PropertyKey[];
}

/**
 * A store without the lease protocol and without the optional members (`keyPrefix`, `bindingSecret`): a Proxy over
 * an object that has only `get`, `set` and `delete`, which records every property read. `bindingSecret: true` adds
 * that one optional member (fast HMAC keys instead of scrypt, for tests on a fake clock).
 */
export function plainStore(options: { readonly bindingSecret?: boolean } = {}): PlainStore {
  const scripted = new ScriptedStore();
  const reads: PropertyKey[] = [];
  const target: TokenStore = {
    get: (key) => scripted.get(key),
    set: (key, tokens) => scripted.set(key, tokens),
    delete: (key) => scripted.delete(key),
    ...(options.bindingSecret === true ? { bindingSecret: () => scripted.bindingSecret() } : {}),
  };
  const store = new Proxy(target, {
    get(object, property, receiver) {
      reads.push(property);
      return Reflect.get(object, property, receiver) as unknown;
    },
  });
  return { store, scripted, reads };
}
