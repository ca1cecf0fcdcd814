/**
 * The file-store multi-process test's worker (./file-store-worker.ts) as one CommonJS file that a plain `node` runs,
 * bundled by esbuild once per test file: the same reasons and the same build as ./store-worker-bundle.ts (a bundled
 * worker starts in about 0.6 s; through tsx, eight took 9-18 s on two cores). proper-lockfile is bundled in too.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { buildSync } from 'esbuild';

import type { WorkerBundle } from './store-worker-bundle.js';

/** Bundles ./file-store-worker.ts into a temporary folder (about 1-2 s). */
export function bundleFileStoreWorker(): WorkerBundle {
  const dir = mkdtempSync(join(tmpdir(), 'axios-oauth-bearer-file-worker-'));
  const path = join(dir, 'file-store-worker.cjs');
  try {
    buildSync({
      entryPoints: [join(__dirname, 'file-store-worker.ts')],
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
