/**
 * A real redis-server for tests, started by the test itself on a free loopback port (Redis is never mocked, and no
 * machine is assumed to run one). No persistence, and its working directory is a temporary folder, so nothing is
 * written into the repository. `stop()` then `start()` brings it back on the same port, for "Redis went away" tests.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { createConnection, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A redis-server child process owned by a test file. */
export interface RedisServer {
  readonly host: '127.0.0.1';
  readonly port: number;
  /** True between a `start()` that answered PING and the next `stop()`. */
  readonly running: boolean;
  /** Starts it again on the same port (after `stop()`), and resolves once it answers PING. */
  start(): Promise<void>;
  /** SIGTERM, and resolves once the process has exited. Harmless when already stopped. */
  stop(): Promise<void>;
  /** Stops it for good and removes its temporary folder: call in `afterAll`. */
  close(): Promise<void>;
}

const READY_WITHIN_MS = 10_000;
const STOP_WITHIN_MS = 5_000;

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
    async start() {
      if (child !== undefined) return;
      child = await launch(port, dir);
    },
    async stop() {
      const stopping = child;
      child = undefined;
      if (stopping !== undefined) await terminate(stopping);
    },
    async close() {
      await this.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

async function launch(port: number, dir: string): Promise<ChildProcess> {
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir];
  const child = spawn('redis-server', args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const collect = (chunk: Buffer): void => {
    // Kept short: only shown when the server fails to start.
    output = (output + chunk.toString('utf8')).slice(-4_000);
  };
  child.stdout.on('data', collect);
  child.stderr.on('data', collect);
  // If the test process dies without its afterAll, the server must not outlive it.
  const killOnExit = (): void => {
    child.kill('SIGKILL');
  };
  process.once('exit', killOnExit);
  child.once('exit', () => process.removeListener('exit', killOnExit));

  const spawnFailed = once(child, 'error').then(([error]) => {
    throw new Error(`redis-server could not be started (apt-get install redis-server): ${String(error)}`);
  });
  const exited = once(child, 'exit').then(([code]) => {
    throw new Error(`redis-server exited with code ${String(code)} before answering PING:\n${output}`);
  });
  try {
    await Promise.race([waitForPing(port), spawnFailed, exited]);
  } catch (error) {
    await terminate(child);
    throw error;
  } finally {
    // Whichever lost the race would otherwise reject unhandled later (e.g. `exited` on a normal stop).
    spawnFailed.catch(() => undefined);
    exited.catch(() => undefined);
  }
  return child;
}

async function waitForPing(port: number): Promise<void> {
  const deadline = Date.now() + READY_WITHIN_MS;
  while (!(await ping(port))) {
    if (Date.now() > deadline) throw new Error(`redis-server on port ${port} did not answer PING`);
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
