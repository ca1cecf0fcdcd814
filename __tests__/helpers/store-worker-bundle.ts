/**
 * The multi-process tests' workers (./store-worker.ts for Redis, ./file-store-worker.ts for the file store) as one
 * CommonJS file each that a plain `node` runs: the worker's code, the library's sources, axios and ioredis (or
 * proper-lockfile), bundled by esbuild once per test file.
 *
 * Why not `fork(worker, { execArgv: ['--import', 'tsx'] })`, as before: each worker then started tsx's loader and
 * esbuild service and compiled and loaded about forty modules through its hooks. Measured on the 2-core machine: one
 * worker 1.6 s, eight started at once 9-18 s with other suites running, and on a heavily loaded run past the 60 s a
 * test gives a worker to start ("gave up waiting for a worker to start"). Bundled, one worker starts in 0.6 s and
 * eight in 3.6 s at a load average of 11. The code run is the same sources, compiled by the same esbuild tsx uses.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { buildSync } from 'esbuild';

/** A built worker: `fork(path, args, { execArgv: [] })`, and `remove()` in `afterAll`. */
export interface WorkerBundle {
  readonly path: string;
  remove(): void;
}

/** Bundles ./store-worker.ts (the Redis store's worker) into a temporary folder (about 1-2 s). */
export function bundleStoreWorker(): WorkerBundle {
  return bundleWorker('store-worker');
}

/** Bundles the worker `./${name}.ts` of this folder into a temporary folder. */
export function bundleWorker(name: 'store-worker' | 'file-store-worker'): WorkerBundle {
  const dir = mkdtempSync(join(tmpdir(), `axios-oauth-bearer-${name}-`));
  const path = join(dir, `${name}.cjs`);
  try {
    buildSync({
      entryPoints: [join(__dirname, `${name}.ts`)],
      outfile: path,
      bundle: true,
      platform: 'node',
      format: 'cjs',
      target: 'node20',
      logLevel: 'silent',
    });
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
  return { path, remove: () => rmSync(dir, { recursive: true, force: true }) };
}
