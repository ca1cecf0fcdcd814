/**
 * A token store in files on the local disk, shared by every process of one machine that points at the same
 * directory (cron jobs, CLIs, the `cluster` module's workers), with the renewal lease of the Redis store: one process
 * renews, the others wait for its token, a dead holder is taken over once its lease expires, and every write under a
 * lease is fenced.
 *
 * Layout: one JSON document per key, `<sha256 of the key>.json`, holding the token set, the renewal lease and the
 * failure record together. One document rather than three files, because every step of the protocol reads or writes
 * them together (acquire reads all three and takes the lease; commit writes the token, clears the failure and frees
 * the lease): each step is then one read and at most one atomic rename, all or nothing, where three files would need a
 * multi-file transaction. The file name is a digest of the whole key (prefix included), so any key is a safe name of
 * fixed length, and the document repeats the key, so a file copied or renamed under another key's name is refused.
 *
 * Concurrency: each step that writes runs under a short file lock (./file-lock.ts, proper-lockfile) held for that
 * step only, and every write is atomic (./file-io.ts: temporary file, fsync, rename), so a reader needs no lock: it
 * sees a whole document, old or new. A waiter's poll (20 a second, see shared-renewal.ts) is such a lock-free read
 * unless the lease is free. The lease is a record in the document (a random owner value and an expiry); the fence is
 * "the document's lease still holds our owner value and has not expired", checked under the lock right before the
 * write, the file-system form of Redis's compare-and-write script.
 *
 * Times are the wall clock (Date.now()), which every process of one machine shares. A clock step backwards could make
 * a lease or a failure record look longer: one found with more time left than any lease (MAX_LEASE_MS) or than the
 * reader's cooldown is cut to it, and reported, as the Redis store does with a time to live set by hand.
 *
 * Like RedisTokenStore, it never throws into a request: a failure (a disk error, a lock not obtained in time) is
 * reported through `onError` and treated as "no token", "not stored" or "unavailable"; a corrupt, truncated or foreign
 * file is reported and treated as absent, and the next write (the grant that follows) replaces it.
 */
import { createHash, hkdfSync, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import path from 'node:path';

import { ConfigurationError } from '../errors.js';
import { refuseUnknownOptions } from '../option-names.js';
import { sanitizeError } from '../sanitize-error.js';
import type { TokenSet } from '../token-set.js';
import { type EncryptionKey, decryptValue, encryptValue, parseEncryptionKey } from './crypto.js';
import { TokenStoreError, type TokenStoreOperation } from './errors.js';
import { StoreReporter } from './reporter.js';
import { codeOf, defaultFileStoreDirectory, prepareDirectory, readFileIfAny, removeFile, removeStaleTemporaries, writeFileAtomic } from './file-io.js';
import { type LockGuard, LockTimeoutError, withFileLock } from './file-lock.js';
import { DEFAULT_KEY_PREFIX, failureKeyFor } from './key.js';
import { parseTokenSet, serializeTokenSet } from './serialize.js';
import { parseSharedFailure, serializeSharedFailure, type SharedFailure } from './shared-failure.js';
import { MAX_LEASE_MS, type LeaseRequest, type LeasingTokenStore, type RenewalLease, type StoreSnapshot } from './types.js';

/** The options of {@link FileTokenStore}. */
export interface FileTokenStoreOptions {
  /**
   * Where the entry files live. Created (mode 0700) when missing; refused when another user owns it or its group or
   * others may write to it (POSIX). Every process that shares tokens names the same directory.
   * @default the platform's cache directory: `$XDG_CACHE_HOME/axios-oauth-bearer` or `~/.cache/axios-oauth-bearer`
   * (Linux and other POSIX), `~/Library/Caches/axios-oauth-bearer` (macOS), `%LOCALAPPDATA%\axios-oauth-bearer` (Windows)
   */
  readonly directory?: string;
  /**
   * The first part of every key the library makes for this store (see {@link TokenStore.keyPrefix}).
   * @default 'axios-oauth-bearer'
   */
  readonly prefix?: string;
  /**
   * Encrypts stored values with AES-256-GCM under this 32-byte key (a Buffer, or base64 of 32 bytes), as
   * RedisTokenStore does. Every process sharing the directory needs the same key; a value that fails to decrypt
   * counts as no token (and is reported).
   * @default undefined (token files hold JSON, readable by the user who owns them)
   */
  readonly encryptionKey?: EncryptionKey;
  /**
   * Receives every failure (a {@link TokenStoreError}); the store carries on without the file. Exceptions it throws
   * are ignored.
   * @default undefined (failures are silent)
   */
  readonly onError?: (error: TokenStoreError) => void;
}

/** The names of {@link FileTokenStoreOptions}, for refusing a misspelled one (`directroy`) rather than ignoring it. */
const FILE_OPTION_NAMES = ['directory', 'prefix', 'encryptionKey', 'onError'] as const satisfies readonly (keyof FileTokenStoreOptions)[];
// Compile-time only: an option added to the interface but not to the list fails to compile.
export const FILE_OPTION_NAMES_COMPLETE: [Exclude<keyof FileTokenStoreOptions, (typeof FILE_OPTION_NAMES)[number]>] extends [never] ? true : never = true;

/** The defaults of {@link FileTokenStoreOptions} (the directory is computed: see {@link defaultFileStoreDirectory}). */
export const fileTokenStoreDefaults = Object.freeze({ prefix: DEFAULT_KEY_PREFIX } as const);

/** A token set is kept this long past `expiresAt` (as in Redis), so a process whose view runs a little behind still finds it. */
const EXPIRY_GRACE_MS = 5_000;

/**
 * The longest a step waits for an entry's file lock. Steps hold it for milliseconds, but a loaded machine's fsync can
 * take hundreds of them, and eight processes queue behind one another: at 1 s, a full test run on 2 cores saw a
 * process give up and renew on its own (two grants for one storm). 4 s stays under LOCK_STALE_MS, so a lock left by a
 * process killed inside a step is taken over rather than waited on twice; meanwhile steps time out and are reported
 * (the process renews on its own, as with a Redis that does not answer).
 */
const LOCK_WAIT_MS = 4_000;

/** Names the document format: a change of format is read as a foreign file, not misread. */
const FORMAT = 'axios-oauth-bearer/file-store/v1';

/** The renewal lease as the document keeps it. `until` and `holdUntil` are epoch milliseconds. */
interface LeaseRecord {
  readonly owner: string;
  readonly until: number;
  /** When the holder's grant budget (LeaseRequest.holdMs) runs out: what waiters are told. */
  readonly holdUntil: number;
}

/** A failure record: the (sealed) serialized SharedFailure, and when it ends. */
interface FailureRecord {
  readonly value: string;
  readonly until: number;
}

/** One entry file. */
interface EntryDocument {
  readonly format: typeof FORMAT;
  readonly key: string;
  /** serializeTokenSet's text, sealed under the key when encrypting. */
  readonly tokens?: string | undefined;
  readonly lease?: LeaseRecord | undefined;
  readonly failure?: FailureRecord | undefined;
}

/** An entry as read: its document (empty when the file is missing or unusable), and the problems found (reported). */
interface ReadEntry {
  readonly document: EntryDocument;
  /** The file's text, when there is a file. */
  readonly text?: string;
  readonly exists: boolean;
  /** True when the file holds something to drop: a foreign or corrupt document, or a record that is not one. */
  readonly damaged: boolean;
}

/**
 * Shares token sets between the processes of one machine through files, and elects one renewer per key with a lease,
 * with the semantics of RedisTokenStore.
 *
 * @example
 * import { FileTokenStore } from 'axios-oauth-bearer/file';
 *
 * const store = new FileTokenStore({ encryptionKey: process.env.TOKEN_STORE_KEY });
 * const api = createAuthClient({ baseURL, auth: { ...credentials, store } });
 */
export class FileTokenStore implements LeasingTokenStore {
  readonly #directory: string;
  readonly #prefix: string;
  readonly #key: Buffer | undefined;
  readonly #bindingSecret: Buffer | undefined;
  readonly #reporter: StoreReporter;

  constructor(options: FileTokenStoreOptions = {}) {
    // Checked although typed: options may come from JavaScript or a config file.
    if ((options as unknown) === null || typeof options !== 'object') {
      throw new ConfigurationError('options', 'must be an object');
    }
    refuseUnknownOptions(options, FILE_OPTION_NAMES, 'FileTokenStore');
    const resolved = { ...fileTokenStoreDefaults, ...definedOnly(options) };
    if (resolved.directory !== undefined && (typeof resolved.directory !== 'string' || resolved.directory === '' || resolved.directory.includes('\0'))) {
      throw new ConfigurationError('directory', 'must be a non-empty path');
    }
    if (typeof resolved.prefix !== 'string' || resolved.prefix === '') {
      throw new ConfigurationError('prefix', 'must be a non-empty string');
    }
    if (resolved.onError !== undefined && typeof resolved.onError !== 'function') {
      throw new ConfigurationError('onError', 'must be a function');
    }
    this.#key = resolved.encryptionKey === undefined ? undefined : parseEncryptionKey(resolved.encryptionKey, 'encryptionKey');
    // The same derivation as RedisTokenStore's: one encryption key gives the same keys in both stores.
    this.#bindingSecret =
      this.#key === undefined ? undefined : Buffer.from(hkdfSync('sha256', this.#key, '', 'axios-oauth-bearer key binding', 32));
    this.#prefix = resolved.prefix;
    this.#reporter = new StoreReporter(resolved.onError);
    this.#directory = path.resolve(resolved.directory ?? defaultFileStoreDirectory());
    prepareDirectory(this.#directory);
    // Temporary files of writes that crashed before their rename: harmless (never read), removed when old.
    void removeStaleTemporaries(this.#directory).catch(() => undefined);
  }

  /** The directory the entry files are in (absolute). */
  get directory(): string {
    return this.#directory;
  }

  /** The `prefix` option: the first part of every key. */
  get keyPrefix(): string {
    return this.#prefix;
  }

  /**
   * With `encryptionKey`, keys are HMACs under a secret derived from it (HKDF, as in RedisTokenStore); without, the
   * library falls back to slow scrypt digests.
   */
  bindingSecret(): Uint8Array | undefined {
    return this.#bindingSecret;
  }

  /** The path of the file that holds `key`'s entry: `<directory>/<sha256 of the key>.json`. */
  fileFor(key: string): string {
    return path.join(this.#directory, `${createHash('sha256').update(key, 'utf8').digest('hex')}.json`);
  }

  /** The stored token set; undefined when there is none, when it expired, and when the file fails or is unusable. */
  async get(key: string): Promise<TokenSet | undefined> {
    try {
      const entry = await this.#read('get', key);
      return this.#readTokens('get', key, entry.document.tokens, Date.now());
    } catch (error) {
      this.#failed('get', key, error);
      return undefined;
    }
  }

  /** Stores the token set (a token set already expired is not stored), keeping the entry's lease and failure record. */
  async set(key: string, tokens: TokenSet): Promise<void> {
    if (!this.#storable(tokens)) return;
    const sealed = this.#seal(key, serializeTokenSet(tokens));
    try {
      await this.#update('set', key, (document) => ({ ...document, tokens: sealed }));
    } catch (error) {
      this.#failed('set', key, error, secretsOf(tokens));
    }
  }

  /** Removes the token set (the lease and a failure record stay, as in Redis); the file goes once nothing is left. */
  async delete(key: string): Promise<void> {
    try {
      await this.#update('delete', key, (document) => ({ ...document, tokens: undefined }));
    } catch (error) {
      this.#failed('delete', key, error);
    }
  }

  /** Forgets a recorded renewal failure (the credentials were fixed). */
  async clearFailure(key: string): Promise<void> {
    try {
      await this.#update('clearFailure', key, (document) => ({ ...document, failure: undefined }));
    } catch (error) {
      this.#failed('clearFailure', key, error);
    }
  }

  /**
   * One look: the stored token set, a recorded failure, and the lease when it was free. While another process holds
   * the lease (or a failure is recorded) this is a plain read, no lock; only taking the lease (or repairing the entry)
   * locks the file, and reads it again under the lock.
   */
  async acquire(key: string, request: LeaseRequest): Promise<StoreSnapshot> {
    try {
      const seen = await this.#read('acquire', key);
      const now = Date.now();
      const looked = !seen.damaged && !this.#needsRepair(seen.document, request, now);
      if (looked) {
        const held = this.#held(key, seen.document, now);
        if (held !== undefined) return held;
      }
      const file = this.fileFor(key);
      return await this.#locked(file, async (guard) => {
        const entry = await this.#read('acquire', key, seen.text);
        const at = Date.now();
        const repaired = this.#repair(key, entry.document, request, at);
        // The same text as the look without the lock: a failure record it found unreadable was reported then.
        const held = this.#held(key, repaired, at, looked && entry.text === seen.text);
        if (held !== undefined) {
          if (repaired !== entry.document || entry.damaged) await this.#write(file, repaired, guard);
          return held;
        }
        const owner = randomBytes(16).toString('hex');
        const leaseMs = Math.ceil(request.leaseMs);
        const tokens = this.#readTokens('acquire', key, repaired.tokens, at);
        const lease: LeaseRecord = { owner, until: at + leaseMs, holdUntil: at + Math.ceil(request.holdMs) };
        // Taking the lease also drops what is unusable (a token that cannot be read, an ended record): the file is
        // then replaced by this write, and a bad value is reported once, not at every waiter's poll.
        await this.#write(file, { format: FORMAT, key, tokens: tokens === undefined ? undefined : repaired.tokens, lease }, guard);
        return { state: 'leased', tokens, failure: undefined, lease: this.#lease(key, owner, leaseMs) };
      });
    } catch (error) {
      this.#failed('acquire', key, error);
      return { state: 'unavailable' };
    }
  }

  /** A `held` snapshot when a failure record or another's lease is live in `document`; undefined when the lease is free. */
  #held(key: string, document: EntryDocument, now: number, reported = false): StoreSnapshot | undefined {
    const { failure, lease } = document;
    if (failure !== undefined && failure.until > now) {
      const shared = this.#readFailure(key, failure.value, reported);
      if (shared === undefined) return undefined; // reported; dropped by the write that takes the lease
      const tokens = this.#readTokens('acquire', key, document.tokens, now);
      return { state: 'held', tokens, failure: shared, failureRemainingMs: failure.until - now };
    }
    if (lease !== undefined && lease.until > now) {
      const tokens = this.#readTokens('acquire', key, document.tokens, now);
      return { state: 'held', tokens, failure: undefined, holderRemainingMs: lease.holdUntil - now };
    }
    return undefined;
  }

  /** True when a record lives longer than it can mean (see #repair): then acquire locks and cuts it. */
  #needsRepair(document: EntryDocument, request: LeaseRequest, now: number): boolean {
    return this.#repair(undefined, document, request, now) !== document;
  }

  /**
   * Cuts a lease with more time left than any lease (MAX_LEASE_MS) to the caller's lease, and a failure record with
   * more than the caller's longest failure to that, as Redis's ACQUIRE does with a time to live set by hand (here: a
   * file edited by hand, or a clock stepped back). Reported once a minute per key when `key` is given.
   */
  #repair(key: string | undefined, document: EntryDocument, request: LeaseRequest, now: number): EntryDocument {
    let repaired = document;
    const maxFailureMs = Math.max(1, Math.ceil(request.maxFailureMs));
    if (document.failure !== undefined && document.failure.until - now > maxFailureMs) {
      repaired = { ...repaired, failure: { ...document.failure, until: now + maxFailureMs } };
      if (key !== undefined) this.#reporter.reportOnce(new TokenStoreError('acquire', 'no-ttl', key, 'the failure record lived longer than the cooldown; it now expires with the cooldown'));
    }
    if (document.lease !== undefined && document.lease.until - now > MAX_LEASE_MS) {
      repaired = { ...repaired, lease: { ...document.lease, until: now + Math.ceil(request.leaseMs) } };
      if (key !== undefined) this.#reporter.reportOnce(new TokenStoreError('acquire', 'no-ttl', key, 'the renewal lease lived longer than any lease; it now expires with a lease'));
    }
    return repaired;
  }

  #lease(key: string, owner: string, leaseMs: number): RenewalLease {
    // Once lost, lost for good (the owner value is never reused): later steps answer at once, and it is reported once.
    let lost = false;
    const losing = (operation: TokenStoreOperation): false => {
      if (!lost) this.#reporter.report(new TokenStoreError(operation, 'lease-lost', key, 'the renewal lease expired before its holder could write; nothing was written'));
      lost = true;
      return false;
    };
    /**
     * Runs a fenced step: under the file lock, the document's lease must still be ours and unexpired; then `change`
     * is written. True when it was; false when the lease is lost, or the step failed (reported).
     */
    const fenced = async (operation: TokenStoreOperation, change: (document: EntryDocument, now: number) => EntryDocument, secrets: readonly (string | undefined)[] = []): Promise<boolean> => {
      if (lost) return false;
      let ours: boolean;
      try {
        const file = this.fileFor(key);
        ours = await this.#locked(file, async (guard) => {
          const { document } = await this.#read(operation, key);
          const now = Date.now();
          if (document.lease?.owner !== owner || document.lease.until <= now) return false;
          await this.#write(file, change(document, now), guard);
          return true;
        });
      } catch (error) {
        this.#failed(operation, key, error, secrets);
        return false;
      }
      return ours || losing(operation);
    };
    const free = (document: EntryDocument): EntryDocument => ({ ...document, lease: undefined });
    return {
      extend: () => fenced('extend', (document, now) => ({ ...document, lease: { owner, until: now + leaseMs, holdUntil: document.lease?.holdUntil ?? now } })),
      commit: async (tokens) => {
        if (!this.#storable(tokens)) {
          // An expired token is not stored (as in Redis): the lease is released, and the commit did not fail.
          if (!lost) await fenced('release', free);
          return !lost;
        }
        const sealed = this.#seal(key, serializeTokenSet(tokens));
        return fenced('commit', (document) => ({ ...free(document), tokens: sealed, failure: undefined }), secretsOf(tokens));
      },
      fail: (failure, ttlMs) => {
        const sealed = this.#seal(failureKeyFor(key), serializeSharedFailure(failure));
        return fenced('fail', (document, now) => ({ ...free(document), failure: { value: sealed, until: now + Math.max(1, Math.ceil(ttlMs)) } }));
      },
      release: async () => {
        if (!lost) await fenced('release', free);
      },
    };
  }

  /**
   * Reads and checks `key`'s file. A missing file is an empty entry; a corrupt, truncated or foreign one is reported
   * (`invalid-value`) and read as empty (`damaged`, so the next write replaces it), and so is a lease or failure
   * record that is not one. `reported`: the text of a read just made, whose damage was reported already (acquire
   * reads once without the lock, then again under it): the same text is not reported twice.
   */
  async #read(operation: TokenStoreOperation, key: string, reported?: string): Promise<ReadEntry> {
    const empty: EntryDocument = { format: FORMAT, key };
    const text = await readFileIfAny(this.fileFor(key));
    if (text === undefined) return { document: empty, exists: false, damaged: false };
    const report = (error: TokenStoreError): void => {
      if (text !== reported) this.#reporter.report(error);
    };
    const invalid = (problem: string): ReadEntry => {
      report(new TokenStoreError(operation, 'invalid-value', key, `the entry file ${problem}; it counts as empty and the next write replaces it`));
      return { document: empty, text, exists: true, damaged: true };
    };
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      return invalid('is not JSON (corrupt or truncated)');
    }
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed) || Reflect.get(parsed, 'format') !== FORMAT) {
      return invalid('is not one this store wrote');
    }
    const record = parsed as Record<string, unknown>;
    if (record.key !== key) return invalid('belongs to another key (copied or renamed)');
    let damaged = false;
    const tokens = record.tokens;
    if (tokens !== undefined && typeof tokens !== 'string') return invalid('holds a token entry that is not a string');
    const lease = leaseOf(record.lease);
    if (record.lease !== undefined && lease === undefined) {
      report(new TokenStoreError(operation, 'invalid-value', key, 'the renewal lease in the entry file is not one this store wrote; it counts as free'));
      damaged = true;
    }
    const failure = failureOf(record.failure);
    if (record.failure !== undefined && failure === undefined) {
      report(new TokenStoreError(operation, 'invalid-value', key, 'the failure record in the entry file is not one this store wrote; it was removed'));
      damaged = true;
    }
    return { document: { format: FORMAT, key, tokens, lease, failure }, text, exists: true, damaged };
  }

  /**
   * Reads `key`'s entry under its file lock, applies `change`, and writes the result (or removes the file when the
   * entry is then empty: no token, no live lease, no live failure record).
   */
  async #update(operation: TokenStoreOperation, key: string, change: (document: EntryDocument) => EntryDocument): Promise<void> {
    const file = this.fileFor(key);
    await this.#locked(file, async (guard) => {
      const entry = await this.#read(operation, key);
      const changed = change(entry.document);
      if (!entry.exists && isEmpty(changed, Date.now())) return;
      await this.#write(file, changed, guard);
    });
  }

  /**
   * Runs `step` under the entry's file lock. When the directory itself is gone (a cache cleaner removed it), it is
   * made again, with the same checks as at construction, and the step tried once more.
   */
  async #locked<T>(file: string, step: (guard: LockGuard) => Promise<T>): Promise<T> {
    try {
      return await withFileLock(file, LOCK_WAIT_MS, step);
    } catch (error) {
      if (codeOf(error) !== 'ENOENT' || existsSync(this.#directory)) throw error;
      prepareDirectory(this.#directory);
      return withFileLock(file, LOCK_WAIT_MS, step);
    }
  }

  /** Writes the document atomically, dropping ended records; an empty entry removes the file instead. */
  async #write(file: string, document: EntryDocument, guard: LockGuard): Promise<void> {
    const now = Date.now();
    const kept: EntryDocument = {
      format: FORMAT,
      key: document.key,
      ...(document.tokens === undefined ? {} : { tokens: document.tokens }),
      ...(document.lease === undefined || document.lease.until <= now ? {} : { lease: document.lease }),
      ...(document.failure === undefined || document.failure.until <= now ? {} : { failure: document.failure }),
    };
    guard.assertHeld();
    if (isEmpty(kept, now)) await removeFile(file);
    else await writeFileAtomic(file, JSON.stringify(kept));
  }

  /** A stored token set, opened and checked; undefined (reported) when it cannot be, and when it expired (not reported). */
  #readTokens(operation: TokenStoreOperation, key: string, stored: string | undefined, now: number): TokenSet | undefined {
    if (stored === undefined) return undefined;
    let tokens: TokenSet;
    try {
      tokens = parseTokenSet(this.#open(key, stored), key);
    } catch (error) {
      // Both throw TokenStoreError only; anything else still must not reach the request.
      this.#reporter.report(error instanceof TokenStoreError ? retag(error, operation) : new TokenStoreError(operation, 'invalid-value', key, 'unreadable'));
      return undefined;
    }
    return tokens.expiresAt + EXPIRY_GRACE_MS > now ? tokens : undefined;
  }

  /** A recorded failure, opened and checked; undefined (reported) for a record that is not one. */
  #readFailure(key: string, stored: string, reported = false): SharedFailure | undefined {
    let failure: SharedFailure | undefined;
    try {
      failure = parseSharedFailure(this.#open(failureKeyFor(key), stored));
    } catch {
      failure = undefined;
    }
    if (failure === undefined && !reported) this.#reporter.report(new TokenStoreError('acquire', 'invalid-value', key, 'the failure record is not one this library wrote; it counts as none'));
    return failure;
  }

  /** Whether a token set is worth storing: one already past its grace is not (Redis would give it no time to live). */
  #storable(tokens: TokenSet): boolean {
    return tokens.expiresAt + EXPIRY_GRACE_MS > Date.now();
  }

  #seal(key: string, plaintext: string): string {
    return this.#key === undefined ? plaintext : encryptValue(plaintext, this.#key, key);
  }

  #open(key: string, stored: string): string {
    return this.#key === undefined ? stored : decryptValue(stored, this.#key, key);
  }

  /** Reports a step that failed: the lock not taken in time (`timeout`), or the file system's error (`failed`). */
  #failed(operation: TokenStoreOperation, key: string, error: unknown, secrets: readonly (string | undefined)[] = []): void {
    if (error instanceof TokenStoreError) {
      this.#reporter.report(error);
      return;
    }
    const cause = sanitizeError(error, secrets);
    const reason = error instanceof LockTimeoutError ? 'timeout' : 'failed';
    this.#reporter.report(new TokenStoreError(operation, reason, key, `${cause.message} (in ${this.#directory})`, { cause }));
  }


}

/** True when nothing in the entry is worth a file. */
function isEmpty(document: EntryDocument, now: number): boolean {
  return document.tokens === undefined && !(document.lease !== undefined && document.lease.until > now) && !(document.failure !== undefined && document.failure.until > now);
}

function leaseOf(value: unknown): LeaseRecord | undefined {
  if (value === null || typeof value !== 'object') return undefined;
  const { owner, until, holdUntil } = value as Record<string, unknown>;
  if (typeof owner !== 'string' || !/^[0-9a-f]{32}$/.test(owner)) return undefined;
  if (!Number.isFinite(until) || !Number.isFinite(holdUntil)) return undefined;
  return { owner, until: until as number, holdUntil: holdUntil as number };
}

function failureOf(value: unknown): FailureRecord | undefined {
  if (value === null || typeof value !== 'object') return undefined;
  const { value: stored, until } = value as Record<string, unknown>;
  if (typeof stored !== 'string' || !Number.isFinite(until)) return undefined;
  return { value: stored, until: until as number };
}

/** The same error, named after the operation that met it (parseTokenSet and decryptValue always say `get`). */
function retag(error: TokenStoreError, operation: TokenStoreOperation): TokenStoreError {
  if (error.operation === operation) return error;
  const message = error.message.replace(/^Token store \w+ failed: /, '');
  return new TokenStoreError(operation, error.reason, error.key, message);
}

/** What an error must never quote: the tokens being written. */
function secretsOf(tokens: TokenSet): readonly (string | undefined)[] {
  return [tokens.accessToken, tokens.refreshToken, tokens.idToken];
}

// `{ ...defaults, ...options }` would let an explicit `undefined` override a default.
function definedOnly<T extends object>(options: T): Partial<T> {
  return Object.fromEntries(Object.entries(options).filter(([, value]) => value !== undefined)) as Partial<T>;
}
