/**
 * A real redis-server for tests, started by the test itself on a free loopback port (Redis is never mocked, and no
 * machine is assumed to run one). No persistence, and its working directory is a temporary folder, so nothing is
 * written into the repository. `stop()` then `start()` brings it back on the same port, for "Redis went away" tests.
 */
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { freePort, launchRedis as launch, terminate } from '../../src/testing/redis-process.js';

/** A redis-server child process owned by a test file. */
export interface RedisServer {
  readonly host: '127.0.0.1';
  readonly port: number;
  /** True between a `start()` that answered PING and the next `stop()`. */
  readonly running: boolean;
  /**
   * The redis-server process id while it runs (undefined once stopped), for faults a test injects by signal:
   * `process.kill(redis.pid, 'SIGSTOP')` freezes it with every connection open (`stop()` sends SIGCONT first).
   */
  readonly pid: number | undefined;
  /** Starts it again on the same port (after `stop()`), and resolves once it answers PING. */
  start(): Promise<void>;
  /** SIGTERM (after a SIGCONT, should it be frozen), and resolves once the process has exited. Harmless when already stopped. */
  stop(): Promise<void>;
  /** Stops it for good and removes its temporary folder: call in `afterAll`. */
  close(): Promise<void>;
}

/** Starts redis-server on a free 127.0.0.1 port and resolves once it answers PING. */
export async function startRedisServer(): Promise<RedisServer> {
  const dir = mkdtempSync(join(tmpdir(), 'axios-oauth-bearer-redis-'));
  // Another process may take the free port between our check and redis-server's bind: try a few ports.
  for (let attempt = 1; ; attempt += 1) {
    const port = await freePort();
    let child: ChildProcess | undefined;
    try {
      child = await launch(port, dir);
      return managed(port, dir, child);
    } catch (error) {
      if (attempt >= 3) {
        rmSync(dir, { recursive: true, force: true });
        throw error;
      }
    }
  }
}

function managed(port: number, dir: string, first: ChildProcess): RedisServer {
  let child: ChildProcess | undefined = first;
  return {
    host: '127.0.0.1',
    port,
    get running() {
      return child !== undefined;
    },
    get pid() {
      return child?.pid;
    },
    async start() {
      if (child !== undefined) return;
      child = await launch(port, dir);
    },
    async stop() {
      const stopping = child;
      child = undefined;
      if (stopping === undefined) return;
      // A test may have frozen it (SIGSTOP): a stopped process would not act on SIGTERM until SIGKILL, seconds later.
      if (stopping.exitCode === null && stopping.signalCode === null) stopping.kill('SIGCONT');
      await terminate(stopping);
    },
    async close() {
      await this.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
