/**
 * Issue 17, end to end: one grant for all the processes of a machine. Every worker is a real child process
 * (helpers/file-store-worker.ts) with its own token manager and its own FileTokenStore on one shared temporary
 * directory, and they all use the real loopback authorization server this file starts. Nothing is mocked.
 *
 * The expiry is real, not a moved clock (as the Redis suite does): the file lock (proper-lockfile) judges a stale
 * lock by the lock directory's mtime, the file system's clock, which a process's moved Date.now() would contradict.
 * So the token lives 5 s and is renewed at expiry (refreshMargin 0), and the storm is sent once it has expired; the
 * new token then lives 5 s too (4 s once the default clock skew is taken off): the storm's margin before a second
 * renewal could be counted.
 */
import type { ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

import { type AuthServer, type AuthServerOptions, startAuthServer } from '../src/testing/server.js';
import { freshParent, removeTree } from './helpers/file-store-fixture.js';
import type { FileWorkerConfig, FileWorkerReply, FileWorkerRequest } from './helpers/file-store-worker.js';
import { bundleWorker, type WorkerBundle } from './helpers/store-worker-bundle.js';
import { forkWorker, stopWorker as stopWorkerProcess } from './helpers/worker-process.js';
import { sleep, waitFor as waitUntil } from './helpers/waiting.js';

const WAIT_MS = 15_000;
/** A bound for a worker that never starts, not a measurement (see redis-multiprocess.test.ts). */
const START_MS = 60_000;
jest.setTimeout(120_000);
const ENCRYPTION_KEY = Buffer.alloc(32, 0x6f).toString('base64');

interface Worker {
  readonly child: ChildProcess;
  send(request: FileWorkerRequest): Promise<FileWorkerReply>;
  burst(count: number): Promise<FileWorkerReply>;
}

let workerBundle: WorkerBundle;
let server: AuthServer | undefined;
let parent: string;
let directory: string;
const running = new Set<ChildProcess>();


async function startServer(options: AuthServerOptions = {}): Promise<AuthServer> {
  server = await startAuthServer(options);
  return server;
}

function spawnWorkers(count: number, extra: Partial<FileWorkerConfig> = {}): Promise<Worker[]> {
  const config: FileWorkerConfig = { apiUrl: server!.apiUrl, credentials: server!.credentials, directory, encryptionKey: ENCRYPTION_KEY, ...extra };
  return Promise.all(Array.from({ length: count }, () => spawnWorker(config)));
}

async function spawnWorker(config: FileWorkerConfig): Promise<Worker> {
  const { child, send } = await forkWorker<FileWorkerRequest, FileWorkerReply>(workerBundle, config, running, { startMs: START_MS, answerMs: WAIT_MS });
  return { child, send, burst: (count) => send({ type: 'burst', count }) };
}

function burstAll(workers: readonly Worker[], count: number): Promise<FileWorkerReply[]> {
  return Promise.all(workers.map((worker) => worker.burst(count)));
}

function total(replies: readonly FileWorkerReply[], field: 'ok' | 'failed'): number {
  return replies.reduce((sum, reply) => sum + reply[field], 0);
}

function stopWorker(child: ChildProcess, how: 'exit' | 'SIGKILL'): Promise<void> {
  return stopWorkerProcess(child, how, WAIT_MS);
}

/** The entry documents in the shared directory (every `.json` file), parsed. */
function entries(): { tokens?: string; lease?: { owner: string; until: number }; failure?: unknown }[] {
  return readdirSync(directory)
    .filter((name) => name.endsWith('.json'))
    .map((name) => JSON.parse(readFileSync(join(directory, name), 'utf8')) as { tokens?: string; lease?: { owner: string; until: number } });
}

beforeAll(() => {
  workerBundle = bundleWorker('file-store-worker');
});

beforeEach(() => {
  parent = freshParent();
  directory = join(parent, 'tokens');
});

afterEach(async () => {
  await Promise.all([...running].map((child) => stopWorker(child, 'exit')));
  await server?.close();
  server = undefined;
  await removeTree(parent);
});

afterAll(() => {
  workerBundle.remove();
});

describe('a FileTokenStore shared by several processes', () => {
  test('eight processes share one password grant, then meet the expired token together: exactly one more grant, no failure', async () => {
    const auth = await startServer({ expiresIn: 5 });
    const workers = await spawnWorkers(8, { refreshMargin: 0 });
    const warm = await burstAll(workers, 3);
    expect(total(warm, 'failed')).toBe(0);
    expect(auth.stats.grants).toEqual({ password: 1, refresh_token: 0 });
    expect(new Set(warm.map((reply) => reply.accessToken)).size).toBe(1);

    // Past the expiry every worker holds (the server's own), so each of them meets an expired token.
    const expiresAt = Math.max(...warm.map((reply) => reply.expiresAt ?? 0));
    await sleep(Math.max(0, expiresAt + 1_000 - Date.now()));
    auth.resetStats();
    const storm = await burstAll(workers, 5);

    expect(total(storm, 'failed')).toBe(0);
    expect(total(storm, 'ok')).toBe(40);
    expect(auth.stats.grants).toEqual({ password: 0, refresh_token: 1 });
    expect(auth.stats.failedTokenRequests).toBe(0);
    expect(new Set(storm.map((reply) => reply.accessToken)).size).toBe(1);
    expect([...warm, ...storm].flatMap((reply) => reply.reports)).toEqual([]);
    // Seven waited for the one holder and adopted its token: no takeover.
    expect([...warm, ...storm].flatMap((reply) => reply.takeovers)).toEqual([]);
    expect(entries()).toHaveLength(1);
  });

  test('when the lease holder is killed mid-grant, another process takes over once the lease expires: one more grant, no failure', async () => {
    const auth = await startServer();
    const [holder, survivor] = await spawnWorkers(2, { leaseMs: 1_000 });
    await holder!.burst(1);
    const before = await survivor!.burst(1);
    expect(auth.stats.grants).toEqual({ password: 1, refresh_token: 0 });
    auth.resetStats();
    auth.revokeAll();
    auth.failNext(1, { type: 'hang' });

    // The holder takes the lease and its refresh request never gets an answer; it never replies either.
    void holder!.send({ type: 'burst', count: 3 }).catch(() => undefined);
    await waitUntil('the holder to be mid-grant', () => auth.stats.tokenRequests === 1 && entries()[0]?.lease !== undefined, WAIT_MS, 10);
    const survivorDone = survivor!.burst(3);
    await stopWorker(holder!.child, 'SIGKILL');
    const outcome = await survivorDone;

    expect(outcome).toMatchObject({ ok: 3, failed: 0 });
    expect(auth.stats.grants).toEqual({ password: 0, refresh_token: 1 });
    expect(auth.stats.tokenRequests).toBe(2); // the hung one, and the survivor's
    expect(outcome.accessToken).not.toBe(before.accessToken);
    expect(outcome.reports).toEqual([]);
    // Told to the lease-takeover channel (issue 18): the survivor waited on the holder, then won its expired lease.
    expect(outcome.takeovers).toEqual(['lease-freed']);
    expect(before.takeovers).toEqual([]);
    // Committed: the lease is free and the file holds the survivor's token (sealed).
    const [entry] = entries();
    expect(entry?.lease).toBeUndefined();
    expect(entry?.tokens).toMatch(/^v1\./);
  });

  test('a process killed between writing its new token and renaming it into place leaves the old entry readable', async () => {
    const auth = await startServer();
    const [writer] = await spawnWorkers(1);
    const first = await writer!.burst(1);
    const [before] = entries();
    auth.resetStats();

    await expect(writer!.send({ type: 'crashBeforeRename' })).rejects.toThrow('the worker exited');
    expect(writer!.child.signalCode).toBe('SIGKILL');
    expect(auth.stats.grants).toEqual({ password: 0, refresh_token: 1 }); // it got its new token, then died writing it

    // Its temporary file is there; the entry still holds the old token, byte for byte (and the dead process's lease).
    expect(readdirSync(directory).filter((name) => name.endsWith('.tmp'))).toHaveLength(1);
    const after = entries();
    expect(after).toHaveLength(1);
    expect(after[0]?.tokens).toBe(before?.tokens);
    expect(after[0]?.lease?.owner).toMatch(/^[0-9a-f]{32}$/);
    // A new process reads the old token (still valid: a refresh does not revoke it) and makes no grant.
    const [reader] = await spawnWorkers(1);
    const read = await reader!.burst(2);
    expect(read).toMatchObject({ ok: 2, failed: 0, reports: [], accessToken: first.accessToken });
    expect(auth.stats.tokenRequests).toBe(1);
    expect(existsSync(directory)).toBe(true);
  });
});
