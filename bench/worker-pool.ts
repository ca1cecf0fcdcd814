/**
 * Forks the multi-process scenario's workers (./store-worker.ts, each its own process with its own client and its own
 * store: an ioredis client and RedisTokenStore, or a FileTokenStore on the directory they share) and drives them over
 * IPC. Bounded: at most {@link MAX_WORKERS} processes, every start and every reply has a deadline, each worker also
 * ends itself after `lifetimeMs`, and all are killed should the benchmark exit first.
 */
import { type ChildProcess, fork } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';

import { TSX_LOADER } from './server-child.js';
import type { StoreWorkerCommand, StoreWorkerConfig, StoreWorkerMessage, StoreWorkerReply } from './store-worker.js';

const WORKER = fileURLToPath(new URL('./store-worker.ts', import.meta.url));
/** More processes than this would measure the machine's scheduler, not the library. */
export const MAX_WORKERS = 32;
// Eight tsx processes compiling at once on two busy cores take a while; a healthy start is far below this.
const START_TIMEOUT_MS = 60_000;
const REPLY_TIMEOUT_MS = 60_000;
const EXIT_TIMEOUT_MS = 5_000;

/** The running workers. */
export interface WorkerPool {
  readonly size: number;
  /** Each worker on its own (scenario 8 drives them one by one, and kills one). */
  readonly workers: readonly PoolWorker[];
  /** Every worker sends `count` concurrent requests at once; resolves with all their replies, each also given to `onReply`. */
  burstAll(count: number, path: string, onReply?: (reply: StoreWorkerReply) => void): Promise<StoreWorkerReply[]>;
  /** Moves every worker's clock forward by `ms` (./virtual-clock.ts); resolves once all have. */
  advanceClock(ms: number): Promise<void>;
  /** Asks every worker to exit, and kills any that has not within a few seconds. */
  close(): Promise<void>;
}

/** One worker of a pool. */
export interface PoolWorker {
  /** `count` concurrent requests to `path/<n>`. */
  request(count: number, path: string): Promise<StoreWorkerReply>;
  /** One forced renewal (`tokens.refresh()`). */
  renew(): Promise<StoreWorkerReply>;
  /** Moves the worker's clock forward by `ms`; resolves once it has. */
  advanceClock(ms: number): Promise<void>;
  /** SIGKILL: no chance to clean up (its lease stays behind). Resolves once it has exited. */
  kill(): Promise<void>;
}

interface Worker extends PoolWorker {
  readonly child: ChildProcess;
}

/** Starts `count` workers with the same config and resolves once every one is ready (its Redis client connected). */
export async function startWorkers(count: number, config: StoreWorkerConfig): Promise<WorkerPool> {
  if (!(Number.isInteger(count) && count >= 1 && count <= MAX_WORKERS)) {
    throw new RangeError(`worker count must be an integer from 1 to ${MAX_WORKERS}`);
  }
  const children: ChildProcess[] = [];
  const killAll = (): void => {
    for (const child of children) child.kill('SIGKILL');
  };
  process.once('exit', killAll);
  const close = async (): Promise<void> => {
    await Promise.all(children.map(stop));
    process.off('exit', killAll);
  };
  try {
    const workers = await Promise.all(
      Array.from({ length: count }, () => {
        const child = fork(WORKER, [JSON.stringify(config)], {
          // Not the parent's execArgv: a worker needs neither --expose-gc nor anything else the benchmark runs with.
          execArgv: ['--import', TSX_LOADER],
          stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
        });
        children.push(child);
        return driven(child);
      }),
    );
    return {
      size: workers.length,
      workers,
      burstAll: (requests, path, onReply) =>
        Promise.all(
          workers.map(async (worker) => {
            const reply = await worker.request(requests, path);
            onReply?.(reply);
            return reply;
          }),
        ),
      advanceClock: async (ms) => {
        await Promise.all(workers.map((worker) => worker.advanceClock(ms)));
      },
      close,
    };
  } catch (error) {
    await close();
    throw error;
  }
}

/** Waits for the worker's `ready`, then matches replies to requests by id. */
async function driven(child: ChildProcess): Promise<Worker> {
  const pending = new Map<number, { resolve: (reply: StoreWorkerReply) => void; reject: (error: Error) => void }>();
  let nextId = 1;
  let exitError: Error | undefined;
  const ready = new Promise<void>((resolve, reject) => {
    child.on('message', (message: StoreWorkerMessage) => {
      if (message.type === 'ready') resolve();
      else pending.get(message.id)?.resolve(message);
    });
    // A worker that dies answers nothing more: fail its waiters at once instead of at a timeout.
    child.once('exit', (code, signal) => {
      exitError = new Error(`a store worker exited (code ${String(code)}, signal ${String(signal)})`);
      reject(exitError);
      for (const waiter of pending.values()) waiter.reject(exitError);
      pending.clear();
    });
  });
  await bounded(ready, START_TIMEOUT_MS, 'a store worker to start');
  const ask = (command: (id: number) => StoreWorkerCommand): Promise<StoreWorkerReply> => {
    if (exitError !== undefined) return Promise.reject(exitError);
    const id = nextId++;
    const reply = new Promise<StoreWorkerReply>((resolve, reject) => pending.set(id, { resolve, reject }));
    child.send(command(id), (error) => {
      if (error !== null) pending.get(id)?.reject(error);
    });
    return bounded(reply, REPLY_TIMEOUT_MS, "a store worker's reply").finally(() => pending.delete(id));
  };
  const kill = async (): Promise<void> => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = once(child, 'exit');
    child.kill('SIGKILL');
    await bounded(exited, EXIT_TIMEOUT_MS, 'a killed store worker to exit');
  };
  return {
    child,
    request: (count, path) => ask((id) => ({ type: 'burst', id, count, path })),
    renew: () => ask((id) => ({ type: 'renew', id })),
    advanceClock: async (ms) => {
      await ask((id) => ({ type: 'clock', id, advanceMs: ms }));
    },
    kill,
  };
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit');
  // With a callback, a channel that closed in the meantime is an error passed here, not an 'error' event.
  if (child.connected) child.send({ type: 'exit' } satisfies StoreWorkerCommand, (error) => error !== null && child.kill('SIGKILL'));
  else child.kill('SIGKILL');
  const timer = setTimeout(() => child.kill('SIGKILL'), EXIT_TIMEOUT_MS);
  try {
    await exited;
  } finally {
    clearTimeout(timer);
  }
}

/** Fails with `what` unless `promise` settles within `ms`: a stuck worker must fail the scenario, not hang it. */
async function bounded<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`gave up waiting for ${what} after ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
