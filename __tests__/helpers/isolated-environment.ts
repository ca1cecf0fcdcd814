/**
 * The Jest test environment of this repository (jest.config.ts `testEnvironment`): Node's, plus a guard that no test
 * file can break the next one in the same worker.
 *
 * Node's core modules are not sandboxed by Jest: every test file of a worker shares one `http`, one `https` and one
 * `Headers.prototype`. nock (through @mswjs/interceptors) replaces `http.request`, `http.get`, `http.ClientRequest`,
 * `https.request`, `https.get`, methods of `Headers.prototype` and the file's `fetch`, `Headers`, `Request` and
 * `Response`, until `nock.restore()`. A file whose `afterAll` throws before it gets there used to leave them patched
 * by a nock whose module registry was gone, and the next file failed on nock internals ("Cannot destructure property
 * 'interceptorsFor'"). Here every one of those slots is read when the file's environment is created and compared
 * after its last `afterAll`: whatever is still replaced is put back, and that file fails, naming the slots.
 */
import http from 'node:http';
import https from 'node:https';

import type { EnvironmentContext, JestEnvironmentConfig } from '@jest/environment';
import type { Circus } from '@jest/types';
import { TestEnvironment } from 'jest-environment-node';

/** One patchable property: where it lives, its key, and the value seen at setup. */
interface Slot {
  readonly label: string;
  readonly holder: object;
  readonly key: PropertyKey;
  readonly original: unknown;
  /** Whether the holder had the property as its own at setup (else it is deleted on restore). */
  readonly own: boolean;
}

function slot(label: string, holder: object, key: PropertyKey): Slot {
  return { label, holder, key, original: Reflect.get(holder, key), own: Object.prototype.hasOwnProperty.call(holder, key) };
}

/** The slots a file changed and left changed. */
function changed(slots: readonly Slot[]): Slot[] {
  return slots.filter((s) => Reflect.get(s.holder, s.key) !== s.original || Object.prototype.hasOwnProperty.call(s.holder, s.key) !== s.own);
}

function restore(slots: readonly Slot[]): void {
  for (const s of slots) {
    if (s.own) Reflect.set(s.holder, s.key, s.original);
    else Reflect.deleteProperty(s.holder, s.key);
  }
}

/** `http.request, http.get` → `http.{request,get}`: the list stays readable when an interceptor patched it all. */
function grouped(labels: readonly string[]): string {
  const groups = new Map<string, string[]>();
  for (const label of labels) {
    const dot = label.lastIndexOf('.');
    const [owner, key] = dot > 0 && !label.includes('[') ? [label.slice(0, dot), label.slice(dot + 1)] : [label, ''];
    groups.set(owner, [...(groups.get(owner) ?? []), key]);
  }
  return [...groups]
    .map(([owner, keys]) => (keys.length === 1 ? (keys[0] === '' ? owner : `${owner}.${keys[0]}`) : `${owner}.{${keys.join(',')}}`))
    .join(', ');
}

/** An error without stack frames: the leak is the file's, not a line of this environment's. */
function leakError(labels: readonly string[], when: string): Error {
  const error = new Error(leakMessage(labels, when));
  error.stack = `${error.name}: ${error.message}`;
  return error;
}

export function leakMessage(labels: readonly string[], when: string): string {
  return (
    `This test file left ${grouped(labels)} patched ${when} (nock, or another HTTP interceptor, is still active). ` +
    'They have been restored so the next file in this worker is not affected, and this file fails. ' +
    'Call nock.restore() in afterAll, first or in a finally, so that a failing cleanup step cannot skip it.'
  );
}

export default class IsolatedEnvironment extends TestEnvironment {
  readonly #shared: Slot[];
  readonly #sandbox: Slot[];
  /** Symbol keys on Headers itself at setup: @mswjs/interceptors marks its patch with one. */
  readonly #headersSymbols: ReadonlySet<symbol>;

  constructor(config: JestEnvironmentConfig, context: EnvironmentContext) {
    super(config, context);
    // Read at creation: the previous file's teardown has already put back whatever it had left patched.
    this.#shared = [
      slot('http.request', http, 'request'),
      slot('http.get', http, 'get'),
      slot('http.ClientRequest', http, 'ClientRequest'),
      slot('https.request', https, 'request'),
      slot('https.get', https, 'get'),
      slot('Headers.prototype.set', Headers.prototype, 'set'),
      slot('Headers.prototype.append', Headers.prototype, 'append'),
      slot('Headers.prototype.delete', Headers.prototype, 'delete'),
    ];
    // The file's own globals die with it, but leaving them patched means the interceptor is still on: it fails too.
    const sandbox: object = this.global;
    this.#sandbox = ['fetch', 'Headers', 'Request', 'Response'].map((name) => slot(`globalThis.${name}`, sandbox, name));
    this.#headersSymbols = new Set(Object.getOwnPropertySymbols(Headers));
  }

  /** Puts back whatever is patched and returns the labels of what was. */
  #repair(): string[] {
    const leaked = [...changed(this.#shared), ...changed(this.#sandbox)];
    restore(leaked);
    const labels = leaked.map((s) => s.label);
    for (const symbol of Object.getOwnPropertySymbols(Headers)) {
      if (this.#headersSymbols.has(symbol)) continue;
      Reflect.deleteProperty(Headers, symbol);
      labels.push(`Headers[${symbol.toString()}]`);
    }
    return labels;
  }

  // Jest awaits this for every event; run_finish comes after the file's last afterAll, while its results can still
  // take an error (reported with the file's test results, which stay visible).
  handleTestEvent(event: Circus.Event, state: Circus.State): void {
    if (event.name !== 'run_finish') return;
    const labels = this.#repair();
    if (labels.length > 0) state.unhandledErrors.push(leakError(labels, 'after its last afterAll'));
  }

  // Anything patched later (a timer that outlived the tests) is still repaired, and fails the file from here.
  override async teardown(): Promise<void> {
    const labels = this.#repair();
    await super.teardown();
    if (labels.length > 0) throw leakError(labels, 'at teardown');
  }
}
