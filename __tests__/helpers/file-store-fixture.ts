/**
 * A FileTokenStore in a fresh temporary directory of its own, for the tests (store-contract.test.ts, file-store*.test.ts):
 * its store, a look at an entry's failure record that changes nothing, and `close()`, which removes the directory.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { FileTokenStore, type FileTokenStoreOptions } from '../../src/stores/file.js';

export interface FileStoreFixture {
  readonly store: FileTokenStore;
  readonly directory: string;
  /** True when `key`'s entry file holds a failure record that has not ended (read directly, no lock, nothing changed). */
  hasFailure(key: string): Promise<boolean>;
  close(): Promise<void>;
}

/** A fresh parent directory (mode 0700, as mkdtemp makes it) for a store's directory, removed by the caller. */
export function freshParent(): string {
  return mkdtempSync(join(tmpdir(), 'axios-oauth-bearer-file-'));
}

/**
 * Removes a store's temporary tree at the end of a test. A store's background step (the release of a lease taken on
 * the way to adopting a stored token, see shared-renewal.ts) can still be writing there as the test ends; removal
 * then meets ENOTEMPTY. The removal is asynchronous on purpose: its retries leave the event loop free, so that step
 * finishes and the next retry succeeds. rmSync's retries block the loop, the step cannot finish, and every retry
 * fails the same way (which is what a fresh-clone CI run on Node 20.19.0 showed).
 */
export function removeTree(path: string): Promise<void> {
  return rm(path, { recursive: true, force: true, maxRetries: 20, retryDelay: 25 });
}

/** A FileTokenStore in `<fresh temp dir>/store` (created by the store itself). */
export function openFileStore(options: Omit<FileTokenStoreOptions, 'directory'> = {}): FileStoreFixture {
  const parent = freshParent();
  const directory = join(parent, 'store');
  const store = new FileTokenStore({ ...options, directory });
  return {
    store,
    directory,
    hasFailure: (key) => {
      try {
        const document = JSON.parse(readFileSync(store.fileFor(key), 'utf8')) as { failure?: { until?: number } };
        return Promise.resolve(typeof document.failure?.until === 'number' && document.failure.until > Date.now());
      } catch {
        return Promise.resolve(false);
      }
    },
    close: () => removeTree(parent),
  };
}
