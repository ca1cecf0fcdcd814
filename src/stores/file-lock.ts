/**
 * The short file lock that makes each read-modify-write of one FileTokenStore entry atomic across processes: the
 * lock of `proper-lockfile` (a directory `<entry>.lock` made with mkdir, which is atomic on every local file system
 * and on NFS, kept fresh by its holder and taken over when stale), not a hand-rolled one.
 *
 * It is held for one step only (read the entry, decide, write it, rename: milliseconds), never across a grant: the
 * renewal lease, which lasts as long as a grant, is a record inside the entry (see ./file.ts). So a process killed
 * mid-grant holds no file lock, and its lease expires on its own.
 */
import { lock as lockFile } from 'proper-lockfile';

import { codeOf } from './file-io.js';

/** A lock whose holder has not refreshed it for this long is stale (its holder died inside a step): it is taken over. */
export const LOCK_STALE_MS = 5_000;

/** Raised when the lock could not be taken within the wait. */
export class LockTimeoutError extends Error {
  constructor(waitedMs: number) {
    super(`the entry's file lock was held by another process for more than ${waitedMs} ms`);
    this.name = 'LockTimeoutError';
  }
}

/** Raised when the lock was lost during a step (its holder was paused past LOCK_STALE_MS): nothing was written. */
export class LockCompromisedError extends Error {
  constructor() {
    super("the entry's file lock went stale while it was held (the process was paused); nothing was written");
    this.name = 'LockCompromisedError';
  }
}

/** What a step under the lock may ask: whether the lock is still held, right before it renames its write into place. */
export interface LockGuard {
  /** Throws {@link LockCompromisedError} when the lock went stale. */
  assertHeld(): void;
}

/**
 * Runs `step` under the lock of `file`, waiting up to `waitMs` for it (polling with a little random jitter, so that
 * eight processes do not retry in step). The lock's own retries are off: a bounded wait is this function's.
 */
export async function withFileLock<T>(file: string, waitMs: number, step: (guard: LockGuard) => Promise<T>): Promise<T> {
  let compromised = false;
  const options = {
    realpath: false,
    stale: LOCK_STALE_MS,
    retries: 0,
    lockfilePath: `${file}.lock`,
    // The default throws from a timer, which would crash the process: a stale lock is reported by the step instead.
    onCompromised: () => {
      compromised = true;
    },
  };
  const deadline = Date.now() + waitMs;
  let release: () => Promise<void>;
  for (let delay = 1; ; delay = Math.min(delay * 2, 16)) {
    try {
      release = await lockFile(file, options);
      break;
    } catch (error) {
      if (codeOf(error) !== 'ELOCKED') throw error;
      if (Date.now() >= deadline) throw new LockTimeoutError(waitMs);
      await sleep(delay + Math.random() * delay);
    }
  }
  try {
    return await step({
      assertHeld: () => {
        if (compromised) throw new LockCompromisedError();
      },
    });
  } finally {
    // Released already (compromised), or the lock directory removed by hand: nothing left to release.
    await release().catch(() => undefined);
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
