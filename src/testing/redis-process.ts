/**
 * Starting and stopping a private redis-server: on a given loopback port, without persistence, its working directory
 * a folder the caller owns. Shared by the tests (a real Redis, never a mock) and the benchmark; not a public export.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { createConnection, createServer } from 'node:net';

const BINARY = 'redis-server';
const READY_WITHIN_MS = 10_000;
const STOP_WITHIN_MS = 5_000;

/** The spawn failed because redis-server is not installed. */
export class RedisNotInstalled extends Error {}

/** Starts redis-server on `port` (127.0.0.1) and resolves once it answers PING; it dies with this process. */
export async function launchRedis(port: number, dir: string): Promise<ChildProcess> {
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir];
  const child = spawn(BINARY, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const collect = (chunk: Buffer): void => {
    // Kept short: only shown when the server fails to start.
    output = (output + chunk.toString('utf8')).slice(-4_000);
  };
  child.stdout.on('data', collect);
  child.stderr.on('data', collect);
  // Should the owning process die without cleaning up, redis-server must not outlive it.
  const killOnExit = (): void => void child.kill('SIGKILL');
  process.once('exit', killOnExit);
  child.once('exit', () => process.removeListener('exit', killOnExit));

  const spawnFailed = once(child, 'error').then(([error]: unknown[]) => {
    // Not `instanceof Error`: under Jest the error comes from another realm than the test's Error.
    const code: unknown = typeof error === 'object' && error !== null ? Reflect.get(error, 'code') : undefined;
    if (code === 'ENOENT') throw new RedisNotInstalled(`${BINARY} not found on PATH (install it, e.g. apt-get install redis-server)`);
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

/** SIGTERM, then SIGKILL after a few seconds; resolves once it has exited. */
export async function terminate(child: ChildProcess): Promise<void> {
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
export async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  server.close();
  await once(server, 'close');
  if (address === null || typeof address === 'string') throw new Error('no TCP address');
  return address.port;
}
