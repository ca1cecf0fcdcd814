/**
 * One "process" of file-store-multiprocess.test.ts: its own createAuthClient and its own FileTokenStore on the
 * directory the parent names, pointed at the parent's loopback authorization server. The same protocol as
 * ./store-worker.ts (the Redis one): bundled into one CommonJS file (./store-worker-bundle.ts, bundleWorker), forked with plain
 * `node` and its {@link FileWorkerConfig} as JSON in argv[2]; it sends `{ type: 'ready' }`, then answers each command
 * with a reply carrying the same id, and exits on `exit` or when the parent goes away.
 */
import diagnostics_channel from 'node:diagnostics_channel';
import fsp from 'node:fs/promises';
import axios from 'axios';

import { createAuthClient } from '../../src/client.js';
import { channels, type LeaseTakeoverEvent } from '../../src/diagnostics.js';
import type { OAuthBearerError } from '../../src/errors.js';
import { FileTokenStore } from '../../src/file.js';
import type { AuthServerCredentials } from '../../src/testing/server.js';
import { advanceClock } from '../../bench/virtual-clock.js';

export interface FileWorkerConfig {
  readonly apiUrl: string;
  readonly credentials: AuthServerCredentials;
  /** The directory every worker of a test shares. */
  readonly directory: string;
  /** The renewal lease's length (`auth.leaseMs`). */
  readonly leaseMs?: number;
  /** Base64 of 32 bytes; every worker of a test gets the same one. */
  readonly encryptionKey?: string;
  /** `auth.refreshMargin` in ms: 0 renews at expiry, so a short-lived token meets every process expired at once. */
  readonly refreshMargin?: number;
}

/**
 * `burst`: send `count` concurrent GETs. `clock`: move this process's `Date.now()` and `performance.now()` forward by
 * `advanceMs` (bench/virtual-clock.ts); send it only while nothing is in flight. `crashBeforeRename`: refreshes the
 * token, and the commit of the new one (the second rename of a written file: the first takes the lease) kills this
 * process (SIGKILL) instead of renaming: a crash between a write and its rename.
 */
export type FileWorkerRequest =
  | { readonly type: 'burst'; readonly count: number }
  | { readonly type: 'clock'; readonly advanceMs: number }
  | { readonly type: 'crashBeforeRename' };

export type FileWorkerCommand = (FileWorkerRequest & { readonly id: number }) | { readonly type: 'exit' };

export interface FileWorkerReply {
  readonly type: 'reply';
  readonly id: number;
  readonly ok: number;
  readonly failed: number;
  /** Failed requests by error code (`HTTP_401` for an HTTP status). */
  readonly errors: Readonly<Record<string, number>>;
  /** Every error passed to `onError` (the token manager's and the store's) since the previous reply, as `code operation/reason: message`. */
  readonly reports: readonly string[];
  /** The `axios-oauth-bearer:lease-takeover` events this process published since the previous reply, by reason. */
  readonly takeovers: readonly LeaseTakeoverEvent['reason'][];
  readonly accessToken: string | undefined;
  readonly refreshToken: string | undefined;
  readonly expiresAt: number | undefined;
}

const config = JSON.parse(process.argv[2] ?? '{}') as FileWorkerConfig;

let reports: string[] = [];
const onError = (error: OAuthBearerError): void => {
  const operation: unknown = Reflect.get(error, 'operation');
  const reason: unknown = Reflect.get(error, 'reason');
  const where = typeof operation === 'string' && typeof reason === 'string' ? ` ${operation}/${reason}` : '';
  if (reports.length < 50) reports.push(`${error.code}${where}: ${error.message}`);
};

let takeovers: LeaseTakeoverEvent['reason'][] = [];
diagnostics_channel.subscribe(channels.leaseTakeover, (message) => {
  takeovers.push((message as LeaseTakeoverEvent).reason);
});

const store = new FileTokenStore({ directory: config.directory, onError, ...(config.encryptionKey === undefined ? {} : { encryptionKey: config.encryptionKey }) });
const api = createAuthClient({
  baseURL: config.apiUrl,
  auth: {
    ...config.credentials,
    store,
    onError,
    ...(config.leaseMs === undefined ? {} : { leaseMs: config.leaseMs }),
    ...(config.refreshMargin === undefined ? {} : { refreshMargin: config.refreshMargin }),
    retry: { attempts: 2, baseDelayMs: 20, maxDelayMs: 100 },
  },
});

function count(into: Record<string, number>, code: string): void {
  into[code] = (into[code] ?? 0) + 1;
}

function codeOf(error: unknown): string {
  if (axios.isAxiosError(error) && error.response !== undefined) return `HTTP_${error.response.status}`;
  const code: unknown = error instanceof Error ? Reflect.get(error, 'code') : undefined;
  return typeof code === 'string' ? code : 'UNKNOWN';
}

function reply(id: number, outcome: Pick<FileWorkerReply, 'ok' | 'failed' | 'errors'>): FileWorkerReply {
  const seen = reports;
  const tookOver = takeovers;
  reports = [];
  takeovers = [];
  const tokens = api.tokens.current;
  return { type: 'reply', id, ...outcome, reports: seen, takeovers: tookOver, accessToken: tokens?.accessToken, refreshToken: tokens?.refreshToken, expiresAt: tokens?.expiresAt };
}

async function burst(id: number, size: number): Promise<FileWorkerReply> {
  const errors: Record<string, number> = {};
  const outcomes = await Promise.allSettled(Array.from({ length: size }, (_, n) => api.get(`/orders/${n}`)));
  for (const outcome of outcomes) if (outcome.status === 'rejected') count(errors, codeOf(outcome.reason));
  const failed = Object.values(errors).reduce((sum, n) => sum + n, 0);
  return reply(id, { ok: size - failed, failed, errors });
}

async function crashBeforeRename(id: number): Promise<FileWorkerReply> {
  // The store's writes call the module's own rename (src/stores/file-io.ts): the write and its fsync happen, then this.
  // The refresh writes twice: taking the lease (passed through), then committing the new token (the crash).
  const rename = fsp.rename.bind(fsp);
  let renames = 0;
  fsp.rename = (from, to) => {
    renames += 1;
    if (renames < 2) return rename(from, to);
    process.kill(process.pid, 'SIGKILL');
    return new Promise<void>(() => undefined);
  };
  await api.tokens.refresh();
  return reply(id, { ok: 0, failed: 0, errors: {} }); // never reached: the commit's rename kills the process
}

function answerTo(message: Exclude<FileWorkerCommand, { type: 'exit' }>): Promise<FileWorkerReply> {
  switch (message.type) {
    case 'clock':
      advanceClock(message.advanceMs);
      return Promise.resolve(reply(message.id, { ok: 0, failed: 0, errors: {} }));
    case 'crashBeforeRename':
      return crashBeforeRename(message.id);
    default:
      return burst(message.id, message.count);
  }
}

process.on('message', (message: FileWorkerCommand) => {
  if (message.type === 'exit') process.exit(0);
  else void answerTo(message).then((result) => process.send?.(result));
});
process.on('disconnect', () => process.exit(0));
process.send?.({ type: 'ready' });
