/**
 * The benchmark's own redis-server, on a free loopback port, without persistence, its working directory a temporary
 * folder: no machine is assumed to run a Redis, and nothing is written into the repository. The same approach as the
 * tests' helper (__tests__/helpers/redis-server.ts), written again here because src/ never imports from __tests__.
 *
 * A machine without redis-server is not an error: {@link startRedis} says so, and the scenario that needs it is
 * reported as SKIPPED. Any other failure to start (it exits, it never answers PING) is an error, shown with the
 * server's last output.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { createConnection, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A running redis-server owned by the benchmark. */
export interface RedisChild {
  readonly port: number;
  /** Stops it (SIGTERM, then SIGKILL after a few seconds) and removes its temporary folder. */
  close(): Promise<void>;
}

/** Either a running server, or why there is none (redis-server is not installed). */
export type RedisStart = { readonly server: RedisChild } | { readonly skipped: string };

const BINARY = 'redis-server';
const READY_WITHIN_MS = 10_000;
const STOP_WITHIN_MS = 5_000;

/** Marks a spawn that failed because the binary does not exist. */
class NotInstalled extends Error {}

/** Starts redis-server on a free 127.0.0.1 port and resolves once it answers PING. */
export async function startRedis(): Promise<RedisStart> {
  const dir = await mkdtemp(join(tmpdir(), 'axios-oauth-bearer-bench-redis-'));
  // Another process may take the free port between our check and redis-server's bind: try a few ports.
  for (let attempt = 1; ; attempt += 1) {
    try {
      const port = await freePort();
      const child = await launch(port, dir);
      return { server: managed(port, dir, child) };
    } catch (error) {
      if (error instanceof NotInstalled || attempt >= 3) {
        await rm(dir, { recursive: true, force: true });
        if (error instanceof NotInstalled) return { skipped: error.message };
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

async function launch(port: number, dir: string): Promise<ChildProcess> {
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir];
  const child = spawn(BINARY, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const collect = (chunk: Buffer): void => {
    // Kept short: only shown when the server fails to start.
    output = (output + chunk.toString('utf8')).slice(-4_000);
  };
  child.stdout.on('data', collect);
  child.stderr.on('data', collect);
  // Should the benchmark die mid-run, redis-server must not outlive it.
  const killOnExit = (): void => void child.kill('SIGKILL');
  process.once('exit', killOnExit);
  child.once('exit', () => process.removeListener('exit', killOnExit));

  const spawnFailed = once(child, 'error').then(([error]: unknown[]) => {
    // Not `instanceof Error`: under Jest the error comes from another realm than the test's Error.
    const code: unknown = typeof error === 'object' && error !== null ? Reflect.get(error, 'code') : undefined;
    if (code === 'ENOENT') throw new NotInstalled(`${BINARY} not found on PATH (install it, e.g. apt-get install redis-server)`);
    throw new Error(`${BINARY} could not be started: ${String(error)}`);
  });
  const exited = once(child, 'exit').then(([code]: unknown[]) => {
    throw new Error(`${BINARY} exited with code ${String(code)} before answering PING:\n${output}`);
  });
  // Once the race is decided the pings must stop: a spawn that failed would otherwise keep them going for seconds.
  const pinging = new AbortController();
  const answered = waitForPing(port, pinging.signal);
  try {
    await Promise.race([answered, spawnFailed, exited]);
  } catch (error) {
    await terminate(child);
    throw error;
  } finally {
    pinging.abort();
    // Whichever lost the race would otherwise reject unhandled later (e.g. `exited` on a normal stop).
    for (const loser of [answered, spawnFailed, exited]) loser.catch(() => undefined);
  }
  return child;
}

async function waitForPing(port: number, signal: AbortSignal): Promise<void> {
  const deadline = Date.now() + READY_WITHIN_MS;
  while (!(await ping(port))) {
    if (signal.aborted) throw new Error('stopped waiting for PING');
    if (Date.now() > deadline) throw new Error(`${BINARY} on port ${port} did not answer PING within ${READY_WITHIN_MS} ms`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** One PING over a raw socket (RESP inline command): true on `+PONG`. */
function ping(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: '127.0.0.1', port });
    let reply = '';
    const done = (ok: boolean): void => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(1_000, () => done(false));
    socket.once('error', () => done(false));
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.on('data', (chunk: Buffer) => {
      reply += chunk.toString('utf8');
      if (reply.includes('\r\n')) done(reply.startsWith('+PONG'));
    });
  });
}

async function terminate(child: ChildProcess): Promise<void> {
  // A spawn that failed has no pid; one that exited has an exit code or signal: nothing to stop.
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit');
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), STOP_WITHIN_MS);
  try {
    await exited;
  } finally {
    clearTimeout(timer);
  }
}

/** A port that was free a moment ago: listen on 0, read the port, close (redis-server has no `--port 0`). */
async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  server.close();
  await once(server, 'close');
  if (address === null || typeof address === 'string') throw new Error('no TCP address');
  return address.port;
}
