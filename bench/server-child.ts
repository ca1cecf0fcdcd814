/**
 * Runs ./server-process.ts in a child process and drives it over IPC, so the benchmark's process does only
 * client work and `process.cpuUsage()` measures the client alone. The child is the published loopback server
 * (axios-oauth-bearer/testing/server) unchanged behind a small IPC shell; this file adds request/reply matching, time limits on every step, and clean-up.
 *
 * server-process.ts offers revokeAll, revokeRefreshTokens, resetStats, getStats, setLatency, failNext (a count and a
 * status), advanceClock and close over IPC; it has no setTokenFault or revoke(token) control (a hook cannot cross
 * IPC), so the scenarios are built from those it has.
 */
import { type ChildProcess, fork } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

import type { AuthServerOptions, AuthServerStats } from '../src/testing/server.js';
import { type BenchServer, credentialsFor, type LaunchServer } from './bench-server.js';
import { advanceClock } from './virtual-clock.js';

const SERVER_PROCESS = fileURLToPath(new URL('./server-process.ts', import.meta.url));
/**
 * tsx's loader, for the child processes that run TypeScript sources. Resolved from this file, not from the working
 * directory, so `npm run bench` works from any directory.
 */
export const TSX_LOADER = import.meta.resolve('tsx');
const START_TIMEOUT_MS = 30_000;
const CONTROL_TIMEOUT_MS = 10_000;
const EXIT_TIMEOUT_MS = 5_000;

/** The first stdout line of server-process.ts. */
interface Announcement {
  readonly url: string;
  readonly tokenUrl: string;
  readonly apiUrl: string;
}

/** A reply to a control message: `{ type, id, ok, stats?, error? }`. */
interface Reply {
  readonly id?: unknown;
  readonly ok?: unknown;
  readonly stats?: unknown;
  readonly error?: unknown;
}

interface Pending {
  readonly resolve: (reply: Reply) => void;
  readonly reject: (error: Error) => void;
  readonly timer: NodeJS.Timeout;
}

/** Launches the loopback server in a child process (tsx runs its TypeScript source). */
export const launchChildProcess: LaunchServer = async (options) => {
  const child = fork(SERVER_PROCESS, [JSON.stringify(options)], {
    // Not the parent's execArgv: the server needs neither --expose-gc nor anything else the benchmark runs with.
    execArgv: ['--import', TSX_LOADER],
    stdio: ['ignore', 'pipe', 'inherit', 'ipc'],
  });
  // Should the benchmark die mid-run, the child must not outlive it (it also exits when the IPC channel closes).
  const killChild = (): void => void child.kill('SIGKILL');
  process.once('exit', killChild);
  try {
    const announced = await readAnnouncement(child);
    return controller(child, announced, options, () => process.off('exit', killChild));
  } catch (error) {
    killChild();
    process.off('exit', killChild);
    throw error;
  }
};

function controller(child: ChildProcess, announced: Announcement, options: AuthServerOptions, forget: () => void): BenchServer {
  const pending = new Map<number, Pending>();
  let nextId = 1;
  child.on('message', (raw: unknown) => {
    const reply = (raw ?? {}) as Reply;
    const waiting = typeof reply.id === 'number' ? pending.get(reply.id) : undefined;
    if (waiting === undefined) return;
    pending.delete(reply.id as number);
    clearTimeout(waiting.timer);
    if (reply.ok === true) waiting.resolve(reply);
    else waiting.reject(new Error(`server control failed: ${String(reply.error)}`));
  });
  child.once('exit', (code) => {
    for (const waiting of pending.values()) {
      clearTimeout(waiting.timer);
      waiting.reject(new Error(`server process exited (code ${String(code)})`));
    }
    pending.clear();
  });

  const control = (type: string, extra: Record<string, unknown> = {}): Promise<Reply> =>
    new Promise<Reply>((resolve, reject) => {
      const id = nextId++;
      const timer = setTimeout(() => {
        pending.delete(id);
        reject(new Error(`server control "${type}" got no reply in ${CONTROL_TIMEOUT_MS} ms`));
      }, CONTROL_TIMEOUT_MS);
      pending.set(id, { resolve, reject, timer });
      child.send({ type, id, ...extra }, (error) => {
        if (error === null) return;
        pending.delete(id);
        clearTimeout(timer);
        reject(error);
      });
    });
  const done = async (type: string, extra?: Record<string, unknown>): Promise<void> => {
    await control(type, extra);
  };

  return {
    apiUrl: announced.apiUrl,
    credentials: credentialsFor(announced.tokenUrl, options),
    stats: async () => toStats((await control('getStats')).stats),
    resetStats: () => done('resetStats'),
    revokeAll: () => done('revokeAll'),
    setLatency: ({ tokenMs, apiMs }) => done('setLatency', { tokenMs, apiMs }),
    failNext: (count, status) => done('failNext', { count, status }),
    advanceClock: async (ms) => {
      await done('advanceClock', { ms });
      advanceClock(ms);
    },
    close: async () => {
      const exited = new Promise<void>((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) resolve();
        else child.once('exit', () => resolve());
      });
      try {
        await control('close');
      } catch {
        // Already gone or not answering: the kill below ends it either way.
      }
      const timer = setTimeout(() => child.kill('SIGKILL'), EXIT_TIMEOUT_MS);
      await exited;
      clearTimeout(timer);
      forget();
    },
  };
}

/** Waits for the child's one line of JSON naming its URLs; fails if the child exits or stays silent. */
function readAnnouncement(child: ChildProcess): Promise<Announcement> {
  const stdout = child.stdout;
  if (stdout === null) return Promise.reject(new Error('server process has no stdout'));
  return new Promise<Announcement>((resolve, reject) => {
    const lines = createInterface({ input: stdout });
    const finish = (error: Error | undefined, announced?: Announcement): void => {
      clearTimeout(timer);
      child.off('exit', onExit);
      lines.close();
      // Nothing else is printed, but a full pipe must never block the server.
      stdout.resume();
      if (announced !== undefined) resolve(announced);
      else reject(error ?? new Error('server process announced nothing'));
    };
    const onExit = (code: number | null): void => finish(new Error(`server process exited before listening (code ${String(code)})`));
    const timer = setTimeout(() => finish(new Error(`server process did not listen within ${START_TIMEOUT_MS} ms`)), START_TIMEOUT_MS);
    child.once('exit', onExit);
    lines.once('line', (line) => {
      try {
        finish(undefined, parseAnnouncement(line));
      } catch (error) {
        finish(error instanceof Error ? error : new Error(String(error)));
      }
    });
  });
}

function parseAnnouncement(line: string): Announcement {
  const parsed: unknown = JSON.parse(line);
  const field = (name: keyof Announcement): string => {
    const value: unknown = parsed !== null && typeof parsed === 'object' ? Reflect.get(parsed, name) : undefined;
    if (typeof value !== 'string') throw new Error(`server process announcement lacks "${name}": ${line}`);
    return value;
  };
  return { url: field('url'), tokenUrl: field('tokenUrl'), apiUrl: field('apiUrl') };
}

/** The child's stats, checked field by field so a changed protocol fails loudly instead of reading as zeros. */
function toStats(value: unknown): AuthServerStats {
  const number = (source: unknown, name: string): number => {
    const field: unknown = source !== null && typeof source === 'object' ? Reflect.get(source, name) : undefined;
    if (typeof field !== 'number') throw new Error(`server stats lack "${name}"`);
    return field;
  };
  const grants: unknown = value !== null && typeof value === 'object' ? Reflect.get(value, 'grants') : undefined;
  return {
    tokenRequests: number(value, 'tokenRequests'),
    grants: { password: number(grants, 'password'), refresh_token: number(grants, 'refresh_token') },
    failedTokenRequests: number(value, 'failedTokenRequests'),
    apiRequests: number(value, 'apiRequests'),
    api401s: number(value, 'api401s'),
    apiOk: number(value, 'apiOk'),
  };
}
