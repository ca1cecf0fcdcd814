/**
 * The benchmark's own redis-server, on a free loopback port, without persistence, its working directory a temporary
 * folder: no machine is assumed to run a Redis, and nothing is written into the repository. The process handling is
 * shared with the tests' helper, in src/testing/redis-process.ts.
 *
 * A machine without redis-server is not an error: {@link startRedis} says so, and the scenario that needs it is
 * reported as SKIPPED. Any other failure to start (it exits, it never answers PING) is an error, shown with the
 * server's last output.
 */
import type { ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { freePort, launchRedis, RedisNotInstalled, terminate } from '../src/testing/redis-process.js';

/** A running redis-server owned by the benchmark. */
export interface RedisChild {
  readonly port: number;
  /** Stops it (SIGTERM, then SIGKILL after a few seconds) and removes its temporary folder. */
  close(): Promise<void>;
}

/** Either a running server, or why there is none (redis-server is not installed). */
export type RedisStart = { readonly server: RedisChild } | { readonly skipped: string };

/** Starts redis-server on a free 127.0.0.1 port and resolves once it answers PING. */
export async function startRedis(): Promise<RedisStart> {
  const dir = await mkdtemp(join(tmpdir(), 'axios-oauth-bearer-bench-redis-'));
  // Another process may take the free port between our check and redis-server's bind: try a few ports.
  for (let attempt = 1; ; attempt += 1) {
    try {
      const port = await freePort();
      const child = await launchRedis(port, dir);
      return { server: managed(port, dir, child) };
    } catch (error) {
      if (error instanceof RedisNotInstalled || attempt >= 3) {
        await rm(dir, { recursive: true, force: true });
        if (error instanceof RedisNotInstalled) return { skipped: error.message };
        throw error;
      }
    }
  }
}

function managed(port: number, dir: string, child: ChildProcess): RedisChild {
  let closed = false;
  return {
    port,
    async close() {
      if (closed) return;
      closed = true;
      await terminate(child);
      await rm(dir, { recursive: true, force: true });
    },
  };
}
