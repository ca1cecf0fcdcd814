/**
 * What printing shows. An axios error, response, config or instance reaches far more than its own fields: a keep-alive
 * agent's sockets hold every in-flight request (whose raw header block has the token), a stream body's pipes hold the
 * request it was piped into, a fetch `Request` prints its headers. Chasing each path breaks with the next transport,
 * so instead every object of that kind that passes through the interceptors gets a printed form of its own
 * (`util.inspect`'s custom hook, and `toJSON` where JSON can reach further), built from plain data only: anything that
 * is not a string, number, plain object, array, header set, buffer, date or URL is shown by its class name and never
 * walked. The objects themselves are not changed: `err.config` can be re-sent, `err.response.data` is there.
 */
import { AxiosHeaders } from 'axios';

import { sanitizeError } from './sanitize-error.js';
import { REDACTED, redactText } from './redact.js';

/** Node's hook for util.inspect (what logging prints, and most loggers that format objects). */
const INSPECT = Symbol.for('nodejs.util.inspect.custom');

/** Names whose values are credentials wherever they appear: headers, axios's `auth`, a proxy's `auth`, token bodies. */
const SECRET_KEYS = new Set([
  'authorization',
  'proxy-authorization',
  'cookie',
  'set-cookie',
  'password',
  'access_token',
  'refresh_token',
  'id_token',
  'client_secret',
]);
/** Deeper than any config or answer worth reading in a log. */
const MAX_DEPTH = 8;

/** The secrets to scrub from printed text, asked at print time (the current tokens may have changed since). */
export type SecretSource = () => readonly (string | undefined)[];

type Printable = object & { [INSPECT]?: unknown };

/** Makes the printers of one client: all of them scrub the secrets `secrets` names. */
export function createRedactedViews(secrets: SecretSource): RedactedViews {
  const scrubber = (): ((text: string) => string) => {
    const known = secrets();
    return (text) => redactText(text, known);
  };
  const plain = (value: unknown): unknown => plainView(value, scrubber(), 0, new WeakSet());
  const response = (value: unknown): unknown => responseView(value, scrubber());
  const error = (value: Error & { config?: unknown; response?: unknown }): Error => errorView(value, secrets(), scrubber());
  function inspectPlain(this: object): unknown {
    return plain({ ...this });
  }
  function inspectResponse(this: object): unknown {
    return response(this);
  }
  return {
    // Hot path: a plain assignment of a symbol-keyed function (tens of nanoseconds; defineProperty costs ten times
    // more). Symbol keys are invisible to Object.keys and JSON; axios's config merge copies them, harmlessly.
    config: (config) => void ((config as Printable)[INSPECT] = inspectPlain),
    response(value) {
      (value as Printable)[INSPECT] = inspectResponse;
      transportOf(value);
      // JSON of a fetch response walks straight into the data an API may echo: worth the one defineProperty.
      hidden(value, 'toJSON', inspectResponse);
    },
    error(value) {
      // Rare path: non-enumerable, and toJSON too (axios's own walks the config into agents and stream pipes).
      hidden(value, INSPECT, () => error(value));
      hidden(value, 'toJSON', () => errorJson(value, plain, response));
      const { config, response: answer } = value;
      transportOf(value);
      if (isObject(answer)) transportOf(answer);
      if (isObject(config)) {
        hidden(config, 'toJSON', () => plain({ ...config }));
        hidden(config, INSPECT, () => plain({ ...config }));
      }
      if (isObject(answer)) {
        hidden(answer, 'toJSON', () => response(answer));
        hidden(answer, INSPECT, () => response(answer));
      }
    },
    instance(instance, tokens) {
      const { defaults } = instance;
      hidden(defaults, INSPECT, () => plain({ ...defaults }));
      hidden(defaults, 'toJSON', () => plain({ ...defaults }));
      hidden(instance, INSPECT, () => ({ defaults: plain({ ...defaults }), interceptors: instance.interceptors, tokens }));
      return () => {
        for (const key of [INSPECT, 'toJSON'] as const) Reflect.deleteProperty(defaults, key);
        Reflect.deleteProperty(instance, INSPECT);
      };
    },
  };
}

/** The printers of one client. */
export interface RedactedViews {
  /** Gives a request config its printed form (cheap: called for every request). */
  config(config: object): void;
  /** Gives a response its printed form (cheap: called for every response). */
  response(response: object): void;
  /** Gives an axios error, its config and its response their printed and JSON forms. */
  error(error: Error & { config?: unknown; response?: unknown }): void;
  /** Gives an instance and its defaults their printed forms; returns the function that takes them off again. */
  instance(instance: { readonly defaults: object; readonly interceptors: unknown }, tokens: unknown): () => void;
}

/**
 * The adapter's raw objects (the request, and a response stream, which holds its request): printed by class name
 * only, wherever a user prints them from. They are Node's objects and stay as they are otherwise.
 */
function transportOf(owner: object): void {
  const { request, data } = owner as { request?: unknown; data?: unknown };
  for (const raw of [request, data]) {
    if (isObject(raw) && (raw === request || typeof (raw as { pipe?: unknown }).pipe === 'function')) {
      (raw as Printable)[INSPECT] = namedOnly;
    }
  }
}

function namedOnly(this: object): string {
  return `[${className(this)}]`;
}

function plainView(value: unknown, scrub: (text: string) => string, depth: number, seen: WeakSet<object>): unknown {
  if (typeof value === 'string') return scrub(value);
  if (value === null || typeof value !== 'object') return value;
  if (seen.has(value)) return '[Circular]';
  if (depth >= MAX_DEPTH) return '[Object]';
  seen.add(value);
  if (value instanceof AxiosHeaders) return entriesView(Object.entries(value.toJSON()), scrub, depth, seen);
  if (Array.isArray(value)) return value.map((item: unknown) => plainView(item, scrub, depth + 1, seen));
  if (Buffer.isBuffer(value)) return scrub(value.toString('latin1')) === value.toString('latin1') ? value : `[Buffer ${REDACTED}]`;
  if (value instanceof Date) return value;
  if (value instanceof URL || value instanceof URLSearchParams) return scrub(value.toString());
  const prototype: unknown = Object.getPrototypeOf(value);
  if (prototype !== Object.prototype && prototype !== null) return `[${className(value)}]`;
  return entriesView(Object.entries(value), scrub, depth, seen);
}

function entriesView(entries: [string, unknown][], scrub: (text: string) => string, depth: number, seen: WeakSet<object>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, item] of entries) {
    out[key] = SECRET_KEYS.has(key.toLowerCase()) && item !== undefined && item !== null ? REDACTED : plainView(item, scrub, depth + 1, seen);
  }
  return out;
}

function responseView(response: unknown, scrub: (text: string) => string): unknown {
  if (!isObject(response)) return response;
  const { status, statusText, headers, config, data } = response as Record<string, unknown>;
  const view = (value: unknown): unknown => plainView(value, scrub, 0, new WeakSet());
  return { status, statusText: view(statusText), headers: view(headers), config: view(isObject(config) ? { ...config } : config), data: view(data) };
}

function errorView(error: Error & { config?: unknown; response?: unknown }, secrets: readonly (string | undefined)[], scrub: (text: string) => string): Error {
  const cause = error.cause === undefined ? undefined : { cause: sanitizeError(error.cause, secrets) };
  // Typed as strings, but an error built elsewhere may carry anything there.
  const message: unknown = error.message;
  const stack: unknown = error.stack;
  const copy = new Error(scrub(String(message)), cause);
  copy.name = error.name;
  copy.stack = scrub(typeof stack === 'string' ? stack : `${error.name}: ${String(message)}`);
  const { code, status } = error as { code?: unknown; status?: unknown };
  Object.assign(copy, {
    ...(code === undefined ? {} : { code }),
    ...(status === undefined ? {} : { status }),
    config: plainView(isObject(error.config) ? { ...error.config } : error.config, scrub, 0, new WeakSet()),
    ...(error.response === undefined ? {} : { response: responseView(error.response, scrub) }),
  });
  return copy;
}

/** What axios's own AxiosError#toJSON gives, without walking the config into agents and pipes. */
function errorJson(
  error: Error & { config?: unknown },
  plain: (value: unknown) => unknown,
  response: (value: unknown) => unknown,
): Record<string, unknown> {
  const { code, status } = error as { code?: unknown; status?: unknown };
  const { response: answer } = error as { response?: unknown };
  return {
    message: plain(error.message),
    name: error.name,
    stack: plain(error.stack),
    code,
    status,
    config: plain(isObject(error.config) ? { ...error.config } : error.config),
    ...(answer === undefined ? {} : { response: response(answer) }),
  };
}

function hidden(target: object, key: PropertyKey, value: () => unknown): void {
  Object.defineProperty(target, key, { value, enumerable: false, configurable: true, writable: true });
}

function isObject(value: unknown): value is object {
  return value !== null && typeof value === 'object';
}

function className(value: object): string {
  const name: unknown = (value.constructor as { name?: unknown } | undefined)?.name;
  return typeof name === 'string' && name !== '' ? name : 'Object';
}
