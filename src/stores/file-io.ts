/**
 * The file-system steps of FileTokenStore (./file.ts): the directory it may use, atomic writes, and stale temporary
 * files. Kept apart so that the store reads as the protocol, and so that each step can be tested on its own.
 */
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync, statSync } from 'node:fs';
// The module object itself (not a namespace copy), so that a test can stand in for one step (a crash before rename).
import fsp from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

import { ConfigurationError } from '../errors.js';

/** The folder name under the platform's cache directory. */
export const CACHE_FOLDER = 'axios-oauth-bearer';

/** What a temporary file's name ends with: `<entry>.<pid>.<random>.tmp`. Readers never open one. */
export const TEMP_SUFFIX = '.tmp';

/** A temporary file older than this was left by a process that died between its write and its rename. */
export const STALE_TEMP_MS = 60_000;

/**
 * The platform's cache directory for the store: `%LOCALAPPDATA%\axios-oauth-bearer` on Windows,
 * `~/Library/Caches/axios-oauth-bearer` on macOS, and elsewhere `$XDG_CACHE_HOME/axios-oauth-bearer` (when it is an
 * absolute path, as the XDG Base Directory specification requires) or else `~/.cache/axios-oauth-bearer`.
 *
 * @example
 * defaultFileStoreDirectory(); // '/home/me/.cache/axios-oauth-bearer'
 */
export function defaultFileStoreDirectory(
  env: Readonly<Record<string, string | undefined>> = process.env,
  platform: NodeJS.Platform = process.platform,
  home: string = os.homedir(),
): string {
  if (platform === 'win32') {
    const local = env.LOCALAPPDATA;
    return path.win32.join(local !== undefined && path.win32.isAbsolute(local) ? local : path.win32.join(home, 'AppData', 'Local'), CACHE_FOLDER);
  }
  if (platform === 'darwin') return path.posix.join(home, 'Library', 'Caches', CACHE_FOLDER);
  const xdg = env.XDG_CACHE_HOME;
  return path.posix.join(xdg !== undefined && path.posix.isAbsolute(xdg) ? xdg : path.posix.join(home, '.cache'), CACHE_FOLDER);
}

/**
 * Creates the directory (mode 0700, its missing parents too) when it does not exist, and refuses one that another
 * user could tamper with: on POSIX, a directory not owned by the current user, or writable by its group or by others
 * (they could replace an entry, or plant a link). Windows has no such modes: there the directory's ACL, inherited from
 * the user's profile for the default one, is what protects it. Throws a ConfigurationError naming `option`.
 * Synchronous: it runs once, when the store is made, so that a bad directory fails at startup, not in a request.
 */
export function prepareDirectory(directory: string, option = 'directory'): void {
  let created: string | undefined;
  try {
    created = mkdirSync(directory, { recursive: true, mode: 0o700 });
  } catch (error) {
    throw new ConfigurationError(option, `could not be created (${codeOf(error)})`);
  }
  // The mode given to mkdir is masked by the umask, which may also clear the owner's own bits: set it exactly.
  if (created !== undefined && process.platform !== 'win32') chmodSync(directory, 0o700);
  const stats = statSync(directory);
  if (!stats.isDirectory()) throw new ConfigurationError(option, 'is not a directory');
  if (process.platform === 'win32' || typeof process.getuid !== 'function') return;
  const uid = process.getuid();
  if (stats.uid !== uid) {
    throw new ConfigurationError(option, `is owned by another user (uid ${stats.uid}, not ${uid}): token files must be in a directory only you control`);
  }
  if ((stats.mode & 0o022) !== 0) {
    const mode = (stats.mode & 0o777).toString(8).padStart(4, '0');
    throw new ConfigurationError(option, `is writable by its group or by others (mode ${mode}): run \`chmod 700\` on it, or name another directory`);
  }
}

/**
 * Writes `text` to `file` atomically: into a temporary file in the same directory (created 0600, exclusively), synced
 * to disk, then renamed over `file`. A reader sees the old content or the new one, whole; a crash at any point leaves
 * the old file in place (and at most a temporary file that readers ignore and {@link removeStaleTemporaries}
 * deletes). The directory is synced too (POSIX), so the rename itself survives a power loss.
 */
export async function writeFileAtomic(file: string, text: string): Promise<void> {
  const temporary = `${file}.${process.pid}.${randomBytes(6).toString('hex')}${TEMP_SUFFIX}`;
  const handle = await fsp.open(temporary, 'wx', 0o600);
  try {
    try {
      await handle.writeFile(text, 'utf8');
      await handle.sync();
    } finally {
      await handle.close();
    }
    await fsp.rename(temporary, file);
  } catch (error) {
    await fsp.unlink(temporary).catch(ignore);
    throw error;
  }
  await syncDirectory(path.dirname(file));
}

/** The text of `file`, or undefined when there is none. */
export async function readFileIfAny(file: string): Promise<string | undefined> {
  try {
    return await fsp.readFile(file, 'utf8');
  } catch (error) {
    if (codeOf(error) === 'ENOENT') return undefined;
    throw error;
  }
}

/** Removes `file`; one that is already gone is fine. */
export async function removeFile(file: string): Promise<void> {
  try {
    await fsp.unlink(file);
  } catch (error) {
    if (codeOf(error) !== 'ENOENT') throw error;
  }
}

/**
 * Deletes the temporary files of writes that never reached their rename (the writer crashed), once they are older
 * than {@link STALE_TEMP_MS}: a younger one may be a live writer's. Returns how many it removed. Best effort: a file
 * another process removes first, or one it cannot stat, is skipped.
 */
export async function removeStaleTemporaries(directory: string, now = Date.now()): Promise<number> {
  let removed = 0;
  for (const name of await fsp.readdir(directory)) {
    if (!name.endsWith(TEMP_SUFFIX)) continue;
    const file = path.join(directory, name);
    try {
      const stats = await fsp.lstat(file);
      if (stats.isFile() && now - stats.mtimeMs > STALE_TEMP_MS) {
        await fsp.unlink(file);
        removed += 1;
      }
    } catch {
      // Gone already, or not ours to judge.
    }
  }
  return removed;
}

async function syncDirectory(directory: string): Promise<void> {
  if (process.platform === 'win32') return; // directories cannot be opened for syncing there
  let handle: FileHandle | undefined;
  try {
    handle = await fsp.open(directory, 'r');
    await handle.sync();
  } catch {
    // Some file systems refuse to sync a directory (EINVAL): the rename is then as durable as they make it.
  } finally {
    await handle?.close().catch(ignore);
  }
}

/** The `code` of a Node system error (`ENOENT`), or the error's name. */
export function codeOf(error: unknown): string {
  // Not `instanceof Error`: an error made in another realm (a vm context, Jest's sandbox) is one too.
  const code: unknown = typeof error === 'object' && error !== null ? Reflect.get(error, 'code') : undefined;
  return typeof code === 'string' ? code : 'unknown';
}

function ignore(): void {
  // Cleanup after a failure that is already being reported.
}
