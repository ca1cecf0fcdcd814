/**
 * One worker process of the multi-process suites (Redis and file store): forked from its bundle with its config as
 * the one argument, ready once it says so, then asked requests by id over IPC, each answer bounded. A worker that dies
 * (or is killed) answers nothing more: its waiters fail at once instead of at a timeout.
 */
import { type ChildProcess, fork } from 'node:child_process';
import { once } from 'node:events';

import type { WorkerBundle } from './store-worker-bundle.js';
import { bounded } from './waiting.js';

/** A started worker: its process, and `send`, which resolves with the worker's answer to one request. */
export interface WorkerChannel<Request extends { readonly type: string }, Reply> {
  readonly child: ChildProcess;
  send(request: Request): Promise<Reply>;
}

/** How long a worker may take to start (a bound for one that never does, not a measurement), and to answer. */
export interface WorkerBounds {
  readonly startMs: number;
  readonly answerMs: number;
}

/** Forks a worker of `bundle` with `config`, adds it to `running` until it exits, and waits for it to be ready. */
export async function forkWorker<Request extends { readonly type: string }, Reply extends { readonly id: number }>(
  bundle: WorkerBundle,
  config: unknown,
  running: Set<ChildProcess>,
  bounds: WorkerBounds,
): Promise<WorkerChannel<Request, Reply>> {
  const child = fork(bundle.path, [JSON.stringify(config)], { execArgv: [], stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
  running.add(child);
  child.once('exit', () => running.delete(child));
  const pending = new Map<number, { resolve: (reply: Reply) => void; reject: (error: Error) => void }>();
  let nextId = 1;
  const ready = new Promise<void>((resolve, reject) => {
    child.on('message', (message: unknown) => {
      if (isReady(message)) resolve();
      else pending.get((message as Reply).id)?.resolve(message as Reply);
    });
    child.once('exit', () => {
      const error = new Error('the worker exited');
      reject(error);
      for (const waiter of pending.values()) waiter.reject(error);
    });
  });
  await bounded(ready, 'a worker to start', bounds.startMs);
  const send = (request: Request): Promise<Reply> => {
    const id = nextId++;
    const reply = new Promise<Reply>((resolve, reject) => pending.set(id, { resolve, reject }));
    child.send({ ...request, id });
    return bounded(reply, `a worker's answer to ${request.type}`, bounds.answerMs);
  };
  return { child, send };
}

/** The worker's first message: `{ type: 'ready' }`; every later one is the answer to a request, by its id. */
function isReady(message: unknown): boolean {
  return typeof message === 'object' && message !== null && (message as { readonly type?: unknown }).type === 'ready';
}

/** Stops a worker: asked to exit (`{ type: 'exit' }`), or killed; killed anyway if it has not exited within `exitMs`. */
export async function stopWorker(child: ChildProcess, how: 'exit' | 'SIGKILL', exitMs: number): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit');
  if (how === 'exit' && child.connected) child.send({ type: 'exit' });
  else child.kill('SIGKILL');
  try {
    await bounded(exited, 'a worker to exit', exitMs);
  } finally {
    child.kill('SIGKILL'); // a no-op once it has exited
  }
}
