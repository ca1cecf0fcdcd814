/**
 * A FileTokenStore in a fresh temporary directory of its own, for the tests (store-contract.test.ts, file-store*.test.ts):
 * its store, a look at an entry's failure record that changes nothing, and `close()`, which removes the directory.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
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
    close: () => {
      // A store's background write (a temporary file, a lock directory) may still be landing as the test ends: rmSync
      // then meets ENOTEMPTY, which it retries (seen once on a loaded 2-core CI run).
      rmSync(parent, { recursive: true, force: true, maxRetries: 10, retryDelay: 20 });
      return Promise.resolve();
    },
  };
}
