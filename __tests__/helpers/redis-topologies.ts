/**
 * Real Redis topologies for tests, started by the test itself on free 127.0.0.1 ports (nothing is mocked, no machine
 * is assumed to run Redis): a 3-master Redis Cluster, and a Sentinel setup (one master, one replica, one sentinel).
 * Every process runs without persistence in a temporary folder of its own; `close()` kills every process and removes
 * the folders. When redis-server is not installed the start rejects with a clear message (the test fails, it is never
 * skipped).
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { freePort, RedisNotInstalled, terminate } from '../../src/testing/redis-process.js';

const SERVER = 'redis-server';
const CLI = 'redis-cli';
const HOST = '127.0.0.1';
/** A healthy start answers in tens of milliseconds; two busy cores may need a few seconds. */
const READY_WITHIN_MS = 15_000;

/** One redis-server (or sentinel) child process. */
export interface RedisNode {
  readonly host: typeof HOST;
  readonly port: number;
  /** Undefined once it has exited. */
  readonly pid: number | undefined;
  /** True until the process has exited (killed by a test or by close()). */
  readonly alive: boolean;
  /** Sends a signal (SIGKILL by default) and resolves once the process has exited. */
  kill(signal?: NodeJS.Signals): Promise<void>;
}

/** A running 3-master Redis Cluster (no replicas). */
export interface RedisClusterHandle {
  readonly nodes: readonly RedisNode[];
  /** Every cluster-owned process is killed and every temporary folder removed; harmless to call twice. */
  close(): Promise<void>;
}

/** A running Sentinel setup monitoring `name`. */
export interface RedisSentinelHandle {
  /** The master name the sentinel monitors (`mymaster`). */
  readonly name: string;
  /** The first master. After a failover the replica is the master: ask the sentinel. */
  readonly master: RedisNode;
  readonly replica: RedisNode;
  readonly sentinel: RedisNode;
  /** The sentinel's option values (milliseconds). */
  readonly downAfterMs: number;
  readonly failoverTimeoutMs: number;
  /** Every process is killed and every temporary folder removed; harmless to call twice. */
  close(): Promise<void>;
}

/** Owns child processes and temporary folders until `release()`. */
class Owner {
  readonly #children = new Set<ChildProcess>();
  readonly #dirs = new Set<string>();

  dir(label: string): string {
    const dir = mkdtempSync(join(tmpdir(), `axios-oauth-bearer-${label}-`));
    this.#dirs.add(dir);
    return dir;
  }

  adopt(child: ChildProcess): void {
    this.#children.add(child);
  }

  async release(): Promise<void> {
    const children = [...this.#children];
    this.#children.clear();
    // SIGKILL, not SIGTERM: nothing is persisted, and a node that would first try to reach its dead peers is not waited for.
    await Promise.all(children.map((child) => killed(child, 'SIGKILL')));
    for (const dir of this.#dirs) rmSync(dir, { recursive: true, force: true });
    this.#dirs.clear();
  }
}

/**
 * Starts three redis-server nodes with `--cluster-enabled yes`, joins them with `redis-cli --cluster create`
 * (`--cluster-replicas 0`: every node a master, the 16384 slots split three ways) and resolves once every node says
 * `cluster_state:ok` and knows the other two.
 *
 * @param nodeTimeoutMs `cluster-node-timeout`: how long a silent node takes to be marked failed (and, with full
 * coverage required, the whole cluster to refuse commands).
 */
export async function startRedisCluster(options: { readonly nodeTimeoutMs?: number } = {}): Promise<RedisClusterHandle> {
  const owner = new Owner();
  try {
    const nodes = await Promise.all(
      [0, 1, 2].map(async () => {
        const dir = owner.dir('cluster');
        return startNode(owner, dir, () => [
          '--cluster-enabled',
          'yes',
          '--cluster-config-file',
          join(dir, 'nodes.conf'),
          '--cluster-node-timeout',
          String(options.nodeTimeoutMs ?? 2_000),
        ]);
      }),
    );
    await run(CLI, ['--cluster', 'create', ...nodes.map((node) => `${HOST}:${node.port}`), '--cluster-replicas', '0', '--cluster-yes']);
    await waitUntil('every cluster node to report cluster_state:ok and know all three nodes', async () => {
      const infos = await Promise.all(nodes.map((node) => command(node.port, ['CLUSTER', 'INFO'])));
      return infos.every((info) => info.includes('cluster_state:ok') && /cluster_known_nodes:3\b/.test(info) && /cluster_slots_ok:16384\b/.test(info));
    });
    return { nodes, close: () => owner.release() };
  } catch (error) {
    await owner.release();
    throw error;
  }
}

/**
 * Starts a master, a replica of it, and one `redis-server --sentinel` whose generated sentinel.conf monitors the master
 * as `mymaster` with quorum 1 and short timeouts. Resolves once the replica is in sync and the sentinel knows it (a
 * failover needs a replica the sentinel has seen).
 */
export async function startRedisSentinel(
  options: { readonly downAfterMs?: number; readonly failoverTimeoutMs?: number } = {},
): Promise<RedisSentinelHandle> {
  const name = 'mymaster';
  const downAfterMs = options.downAfterMs ?? 1_000;
  const failoverTimeoutMs = options.failoverTimeoutMs ?? 3_000;
  const owner = new Owner();
  try {
    // Redis 7 syncs a new replica disklessly after a 5 s delay (waiting for more replicas): there is only one.
    const master = await startNode(owner, owner.dir('sentinel-master'), () => ['--repl-diskless-sync-delay', '0']);
    const replica = await startNode(owner, owner.dir('sentinel-replica'), () => ['--replicaof', HOST, String(master.port)]);
    await waitUntil('the replica to be in sync with the master', async () =>
      (await command(replica.port, ['INFO', 'replication'])).includes('master_link_status:up'),
    );
    const dir = owner.dir('sentinel');
    const sentinel = await startNode(owner, dir, (port) => {
      // Sentinel rewrites its config file (known replicas, epochs): it must be a writable file of its own.
      const file = join(dir, 'sentinel.conf');
      writeFileSync(
        file,
        [
          `port ${port}`,
          `bind ${HOST}`,
          `dir ${dir}`,
          `sentinel monitor ${name} ${HOST} ${master.port} 1`,
          `sentinel down-after-milliseconds ${name} ${downAfterMs}`,
          `sentinel failover-timeout ${name} ${failoverTimeoutMs}`,
          `sentinel parallel-syncs ${name} 1`,
          '',
        ].join('\n'),
      );
      return [file, '--sentinel'];
    }, { portInConfig: true });
    await waitUntil('the sentinel to know the replica', async () => {
      const replicas = await command(sentinel.port, ['SENTINEL', 'REPLICAS', name]);
      return replicas.includes(String(replica.port)) && !/s_down|disconnected/.test(replicas);
    });
    return { name, master, replica, sentinel, downAfterMs, failoverTimeoutMs, close: () => owner.release() };
  } catch (error) {
    await owner.release();
    throw error;
  }
}

/** The address the sentinel gives for the master now (`SENTINEL get-master-addr-by-name`). */
export async function masterAddress(handle: RedisSentinelHandle): Promise<{ host: string; port: number }> {
  const reply = await command(handle.sentinel.port, ['SENTINEL', 'GET-MASTER-ADDR-BY-NAME', handle.name]);
  const [host, port] = reply.split('\n');
  if (host === undefined || port === undefined || !/^\d+$/.test(port)) throw new Error(`unexpected reply to get-master-addr-by-name: ${reply}`);
  return { host, port: Number(port) };
}

/**
 * Spawns redis-server on a free port (a few tries: another process may take the port first) and resolves once it
 * answers PING. `args(port)` gives the arguments; with `portInConfig` they must name the port themselves (a config file).
 */
async function startNode(
  owner: Owner,
  dir: string,
  args: (port: number) => string[],
  { portInConfig = false }: { readonly portInConfig?: boolean } = {},
): Promise<RedisNode> {
  for (let attempt = 1; ; attempt += 1) {
    const port = await freePort();
    // A sentinel persists nothing but its own config file; a server gets no RDB and no AOF.
    const common = portInConfig ? [] : ['--port', String(port), '--bind', HOST, '--dir', dir, '--save', '', '--appendonly', 'no'];
    try {
      const child = await launch([...args(port), ...common], port, owner);
      return node(port, child);
    } catch (error) {
      if (error instanceof RedisNotInstalled || attempt >= 3) throw error;
    }
  }
}

async function launch(args: string[], port: number, owner: Owner): Promise<ChildProcess> {
  const child = spawn(SERVER, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  owner.adopt(child);
  let output = '';
  const collect = (chunk: Buffer): void => {
    output = (output + chunk.toString('utf8')).slice(-4_000);
  };
  child.stdout.on('data', collect);
  child.stderr.on('data', collect);
  // Should this process die without cleaning up, no redis-server may outlive it.
  const killOnExit = (): void => void child.kill('SIGKILL');
  process.once('exit', killOnExit);
  child.once('exit', () => process.removeListener('exit', killOnExit));

  const spawnFailed = once(child, 'error').then(([error]: unknown[]) => {
    const code: unknown = typeof error === 'object' && error !== null ? Reflect.get(error, 'code') : undefined;
    if (code === 'ENOENT') throw new RedisNotInstalled(`${SERVER} not found on PATH (install it, e.g. apt-get install redis-server)`);
    throw new Error(`${SERVER} could not be started: ${String(error)}`);
  });
  const exited = once(child, 'exit').then(([code]: unknown[]) => {
    throw new Error(`${SERVER} ${args.join(' ')} exited with code ${String(code)} before answering PING:\n${output}`);
  });
  // Once the race is decided the pings must stop: a spawn that failed would otherwise keep them going for seconds.
  const pinging = new AbortController();
  const answered = waitUntil(`${SERVER} on port ${port} to answer PING`, async () => (await command(port, ['PING'])) === 'PONG', READY_WITHIN_MS, pinging.signal);
  try {
    await Promise.race([answered, spawnFailed, exited]);
  } catch (error) {
    await killed(child, 'SIGKILL');
    throw error;
  } finally {
    pinging.abort();
    for (const loser of [answered, spawnFailed, exited]) loser.catch(() => undefined);
  }
  return child;
}

function node(port: number, child: ChildProcess): RedisNode {
  const alive = (): boolean => child.exitCode === null && child.signalCode === null;
  return {
    host: HOST,
    port,
    get pid() {
      return alive() ? child.pid : undefined;
    },
    get alive() {
      return alive();
    },
    kill: (signal: NodeJS.Signals = 'SIGKILL') => killed(child, signal),
  };
}

/** Sends `signal` (SIGTERM falls back to SIGKILL, see terminate()) and resolves once the process has exited. */
async function killed(child: ChildProcess, signal: NodeJS.Signals): Promise<void> {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  if (signal === 'SIGTERM') {
    await terminate(child);
    return;
  }
  const exited = once(child, 'exit');
  child.kill(signal);
  await exited;
}

/** Runs a program to completion; rejects with its output when it fails. */
function run(file: string, args: readonly string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(file, args, { timeout: READY_WITHIN_MS }, (error, stdout, stderr) => {
      if (error === null) resolve(stdout);
      else reject(new Error(`${file} ${args.join(' ')} failed: ${error.message}\n${stdout}${stderr}`));
    });
  });
}

/**
 * One command over a fresh socket (RESP), answered as text: a status or bulk string as is, an integer in decimal, an
 * array flattened one element a line (nested arrays too). An error reply rejects. For probes and set-up only.
 */
export function command(port: number, args: readonly string[], timeoutMs = 2_000): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = createConnection({ host: HOST, port });
    let buffer = Buffer.alloc(0);
    const done = (error: Error | undefined, reply?: string): void => {
      socket.destroy();
      if (error === undefined) resolve(reply ?? '');
      else reject(error);
    };
    socket.setTimeout(timeoutMs, () => done(new Error(`no answer to ${args.join(' ')} on port ${port} within ${timeoutMs} ms`)));
    socket.once('error', (error) => done(error));
    socket.once('connect', () => socket.write(args.map((arg) => `$${Buffer.byteLength(arg)}\r\n${arg}\r\n`).reduce((all, part) => all + part, `*${args.length}\r\n`)));
    socket.on('data', (chunk: Buffer) => {
      buffer = Buffer.concat([buffer, chunk]);
      const parsed = parseReply(buffer, 0);
      if (parsed === undefined) return;
      if (parsed.error !== undefined) done(new Error(`${args.join(' ')} on port ${port}: ${parsed.error}`));
      else done(undefined, parsed.lines.join('\n'));
    });
  });
}

interface Parsed {
  readonly lines: string[];
  readonly error: string | undefined;
  readonly end: number;
}

/** One RESP2 reply starting at `start`; undefined while incomplete. */
function parseReply(buffer: Buffer, start: number): Parsed | undefined {
  const lineEnd = buffer.indexOf('\r\n', start);
  if (lineEnd === -1) return undefined;
  const type = String.fromCharCode(buffer[start] ?? 0);
  const head = buffer.toString('utf8', start + 1, lineEnd);
  const next = lineEnd + 2;
  switch (type) {
    case '+':
    case ':':
      return { lines: [head], error: undefined, end: next };
    case '-':
      return { lines: [], error: head, end: next };
    case '$': {
      const length = Number(head);
      if (length < 0) return { lines: [], error: undefined, end: next };
      if (buffer.length < next + length + 2) return undefined;
      return { lines: [buffer.toString('utf8', next, next + length)], error: undefined, end: next + length + 2 };
    }
    case '*': {
      const count = Number(head);
      const lines: string[] = [];
      let at = next;
      for (let index = 0; index < count; index += 1) {
        const element = parseReply(buffer, at);
        if (element === undefined) return undefined;
        if (element.error !== undefined) return element;
        lines.push(...element.lines);
        at = element.end;
      }
      return { lines, error: undefined, end: at };
    }
    default:
      return { lines: [], error: `unexpected reply type ${JSON.stringify(type)}`, end: next };
  }
}

/** Polls `condition` every 25 ms until it holds (a throw counts as not yet); rejects naming `what` after `withinMs`. */
export async function waitUntil(
  what: string,
  condition: () => Promise<boolean> | boolean,
  withinMs = READY_WITHIN_MS,
  signal?: AbortSignal,
): Promise<void> {
  const deadline = Date.now() + withinMs;
  for (;;) {
    if (signal?.aborted === true) throw new Error(`stopped waiting for ${what}`);
    let held = false;
    try {
      held = await condition();
    } catch {
      held = false;
    }
    if (held) return;
    if (Date.now() > deadline) throw new Error(`gave up after ${withinMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}
