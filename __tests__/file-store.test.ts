/**
 * FileTokenStore on its own (issue 17), on real files in temporary directories: its options, the directory it picks
 * and the ones it refuses, the modes it creates, atomic writes that a crash cannot tear, a corrupt, truncated or
 * foreign file reported and replaced by a grant (through createAuthClient and the loopback authorization server, its
 * token requests counted exactly), and sealing at rest. The contract (get/set/delete and the lease protocol) is run by
 * store-contract.test.ts; several processes sharing one directory by file-store-multiprocess.test.ts.
 */
import { chmodSync, chownSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import fsp from 'node:fs/promises';
import { join } from 'node:path';

import { createAuthClient } from '../src/client.js';
import { ConfigurationError, ErrorCode, type OAuthBearerError } from '../src/errors.js';
import { defaultFileStoreDirectory, FileTokenStore, type FileTokenStoreOptions, storeKey, TokenStoreError } from '../src/file.js';
import { STALE_TEMP_MS } from '../src/stores/file-io.js';
import { encryptValue } from '../src/stores/crypto.js';
import { type AuthServer, startAuthServer } from '../src/testing/server.js';
import { createTokenSet } from '../src/token-set.js';
import { freshParent, removeTree } from './helpers/file-store-fixture.js';
import { waitFor } from './helpers/waiting.js';

const ENCRYPTION_KEY = Buffer.alloc(32, 0x3a);
const posix = process.platform !== 'win32';
const posixTest = posix ? test : test.skip;

let parents: string[] = [];
afterEach(async () => {
  await Promise.all(parents.map(removeTree));
  parents = [];
});

/** A fresh directory path (not created yet) inside a fresh temporary parent. */
function freshDirectory(): string {
  const parent = freshParent();
  parents.push(parent);
  return join(parent, 'store');
}

function modeOf(path: string): number {
  return statSync(path).mode & 0o777;
}

const tokens = (name: string, lifetimeMs = 60_000) =>
  createTokenSet({ accessToken: `${name}-access`, expiresAt: Date.now() + lifetimeMs, refreshToken: `${name}-refresh` });

describe('options', () => {
  test('a misspelled option is refused by name; so are a bad key, prefix, directory and onError', () => {
    const directory = freshDirectory();
    const refused = (options: unknown): ConfigurationError => {
      try {
        new FileTokenStore(options as FileTokenStoreOptions);
      } catch (error) {
        expect(error).toBeInstanceOf(ConfigurationError);
        return error as ConfigurationError;
      }
      throw new Error('not refused');
    };
    expect(refused({ directroy: directory }).option).toBe('FileTokenStore.directroy');
    expect(refused({ directroy: directory }).message).toMatch(/did you mean `directory`/);
    expect(refused({ directory, encryptionKey: 'short' }).option).toBe('encryptionKey');
    expect(refused({ directory, prefix: '' }).option).toBe('prefix');
    expect(refused({ directory: '' }).option).toBe('directory');
    expect(refused({ directory, onError: 'log' }).option).toBe('onError');
    expect(refused(null).option).toBe('options');
  });

  test('the key prefix and the binding secret: the default prefix; with encryptionKey the same secret as RedisTokenStore derives', async () => {
    const directory = freshDirectory();
    const plain = new FileTokenStore({ directory });
    const sealed = new FileTokenStore({ directory, encryptionKey: ENCRYPTION_KEY.toString('base64'), prefix: 'app' });

    expect(plain.keyPrefix).toBe('axios-oauth-bearer');
    expect(plain.bindingSecret()).toBeUndefined();
    expect(sealed.keyPrefix).toBe('app');
    expect(sealed.bindingSecret()?.byteLength).toBe(32);
    const { RedisTokenStore } = await import('../src/redis.js');
    const client = { get: jest.fn(), set: jest.fn(), del: jest.fn(), eval: jest.fn() };
    const redis = new RedisTokenStore({ client, encryptionKey: ENCRYPTION_KEY });
    expect(Buffer.from(sealed.bindingSecret()!).equals(Buffer.from(redis.bindingSecret()!))).toBe(true);
  });

  test('the default directory follows the platform', () => {
    expect(defaultFileStoreDirectory({ XDG_CACHE_HOME: '/xdg/cache' }, 'linux', '/home/me')).toBe('/xdg/cache/axios-oauth-bearer');
    expect(defaultFileStoreDirectory({}, 'linux', '/home/me')).toBe('/home/me/.cache/axios-oauth-bearer');
    // The XDG specification ignores a relative path.
    expect(defaultFileStoreDirectory({ XDG_CACHE_HOME: 'relative' }, 'freebsd', '/home/me')).toBe('/home/me/.cache/axios-oauth-bearer');
    expect(defaultFileStoreDirectory({}, 'darwin', '/Users/me')).toBe('/Users/me/Library/Caches/axios-oauth-bearer');
    expect(defaultFileStoreDirectory({ LOCALAPPDATA: 'C:\\Users\\me\\AppData\\Local' }, 'win32', 'C:\\Users\\me')).toBe('C:\\Users\\me\\AppData\\Local\\axios-oauth-bearer');
    expect(defaultFileStoreDirectory({}, 'win32', 'C:\\Users\\me')).toBe('C:\\Users\\me\\AppData\\Local\\axios-oauth-bearer');
  });

  test('without a directory it uses the cache directory ($XDG_CACHE_HOME here)', () => {
    const cache = freshDirectory();
    const saved = process.env.XDG_CACHE_HOME;
    process.env.XDG_CACHE_HOME = cache;
    try {
      const store = new FileTokenStore();
      expect(store.directory).toBe(process.platform === 'linux' ? join(cache, 'axios-oauth-bearer') : defaultFileStoreDirectory());
    } finally {
      if (saved === undefined) delete process.env.XDG_CACHE_HOME;
      else process.env.XDG_CACHE_HOME = saved;
    }
  });
});

describe('permissions', () => {
  posixTest('the directory is created 0700 (its missing parents too), each entry file 0600', async () => {
    const directory = join(freshDirectory(), 'nested');
    const store = new FileTokenStore({ directory });
    const key = 'app:tokens:{modes}';
    await store.set(key, tokens('a'));

    expect(modeOf(directory)).toBe(0o700);
    expect(modeOf(join(directory, '..'))).toBe(0o700);
    expect(modeOf(store.fileFor(key))).toBe(0o600);
    expect(readdirSync(directory)).toEqual([store.fileFor(key).slice(directory.length + 1)]);
  });

  posixTest('a directory removed after the store was made (a cache cleaner) is made again, 0700, on the next write', async () => {
    const directory = freshDirectory();
    const errors: TokenStoreError[] = [];
    const store = new FileTokenStore({ directory, onError: (error) => errors.push(error) });
    rmSync(directory, { recursive: true });

    expect(await store.get('app:tokens:{gone}')).toBeUndefined();
    await store.set('app:tokens:{gone}', tokens('back'));

    expect((await store.get('app:tokens:{gone}'))?.accessToken).toBe('back-access');
    expect(modeOf(directory)).toBe(0o700);
    expect(errors).toEqual([]);
  });

  posixTest.each([
    ['world-writable (0777)', 0o777],
    ['group-writable (0720)', 0o720],
    ['writable by others (0702)', 0o702],
  ])('a directory that is %s is refused with a ConfigurationError naming the mode', (_name, mode) => {
    const directory = freshDirectory();
    mkdirSync(directory);
    chmodSync(directory, mode);

    const make = () => new FileTokenStore({ directory });

    expect(make).toThrow(ConfigurationError);
    expect(make).toThrow(new RegExp(`\`directory\`: is writable by its group or by others \\(mode ${mode.toString(8).padStart(4, '0')}\\)`));
  });

  posixTest('a directory the user owns that others may only read (0755) is accepted; a file in its place is refused', () => {
    const directory = freshDirectory();
    mkdirSync(directory, { mode: 0o755 });
    chmodSync(directory, 0o755);
    expect(() => new FileTokenStore({ directory })).not.toThrow();

    const file = freshDirectory();
    writeFileSync(file, 'not a directory');
    expect(() => new FileTokenStore({ directory: file })).toThrow(ConfigurationError);
  });

  // Only root can give a directory to another user; elsewhere this is skipped (the check is the uid comparison).
  (posix && process.getuid?.() === 0 ? test : test.skip)('a directory owned by another user is refused', () => {
    const directory = freshDirectory();
    mkdirSync(directory, { mode: 0o700 });
    chownSync(directory, 65_534, 65_534); // nobody

    expect(() => new FileTokenStore({ directory })).toThrow(/is owned by another user \(uid 65534/);
  });
});

describe('atomic writes', () => {
  test('a write that crashed before its rename (a partial temporary file beside the entry) leaves the old token readable', async () => {
    const directory = freshDirectory();
    const errors: TokenStoreError[] = [];
    const store = new FileTokenStore({ directory, onError: (error) => errors.push(error) });
    const key = 'app:tokens:{crash}';
    await store.set(key, tokens('old'));
    const file = store.fileFor(key);
    const complete = readFileSync(file, 'utf8');
    // What a writer killed between its write and its rename leaves: half of its new document, under a temporary name.
    const temporary = `${file}.4242.0123456789ab.tmp`;
    writeFileSync(temporary, complete.replace('old-access', 'new-access').slice(0, complete.length / 2), { mode: 0o600 });

    expect((await store.get(key))?.accessToken).toBe('old-access');
    expect((await new FileTokenStore({ directory }).get(key))?.accessToken).toBe('old-access');
    expect(existsSync(temporary)).toBe(true); // young: it could be a live writer's

    // Once old, the next store made on the directory removes it.
    const old = (Date.now() - STALE_TEMP_MS - 10_000) / 1000;
    utimesSync(temporary, old, old);
    new FileTokenStore({ directory });
    await waitFor('the stale temporary file to be removed', () => !existsSync(temporary), 5_000, 10);
    expect((await store.get(key))?.accessToken).toBe('old-access');
    expect(errors).toEqual([]);
  });

  test('a write frozen between its fsync and its rename: other readers still see the old token whole; no temporary file lingers after a write', async () => {
    const directory = freshDirectory();
    const store = new FileTokenStore({ directory });
    const key = 'app:tokens:{frozen}';
    await store.set(key, tokens('old'));
    expect(readdirSync(directory).filter((name) => name.endsWith('.tmp'))).toEqual([]);

    const rename = jest.spyOn(fsp, 'rename').mockImplementation(() => new Promise<void>(() => undefined));
    try {
      void store.set(key, tokens('new'));
      await waitFor('the new document to be written and synced', () => rename.mock.calls.length === 1, 5_000, 5);
      const [temporary] = readdirSync(directory).filter((name) => name.endsWith('.tmp'));
      expect(readFileSync(join(directory, temporary!), 'utf8')).toContain('new-access');

      expect((await new FileTokenStore({ directory }).get(key))?.accessToken).toBe('old-access');
    } finally {
      rename.mockRestore();
    }
  });
});

describe('a corrupt, truncated or foreign entry file, behind createAuthClient', () => {
  let server: AuthServer;
  beforeEach(async () => {
    server = await startAuthServer();
  });
  afterEach(() => server.close());

  function clientWith(store: FileTokenStore, errors: OAuthBearerError[]) {
    return createAuthClient({ baseURL: server.apiUrl, auth: { ...server.credentials, store, onError: (error) => errors.push(error) } });
  }

  /** Makes the first grant through one store, then lets `damage` rewrite its file. */
  async function damagedEntry(options: Omit<FileTokenStoreOptions, 'directory'>, damage: (text: string, key: string) => string) {
    const directory = freshDirectory();
    const first = new FileTokenStore({ directory, ...options });
    await clientWith(first, []).get('/first');
    const key = await storeKey(server.credentials, first);
    const file = first.fileFor(key);
    writeFileSync(file, damage(readFileSync(file, 'utf8'), key));
    server.resetStats();
    return { directory, key, file };
  }

  const documentWith = (text: string, change: (document: Record<string, unknown>) => Record<string, unknown>) =>
    JSON.stringify(change(JSON.parse(text) as Record<string, unknown>));

  test.each([
    ['garbage bytes', {}, () => '\u0000\u00ff not json at all', 'invalid-value', /is not JSON/],
    ['a document truncated by a full disk', {}, (text: string) => text.slice(0, Math.floor(text.length / 2)), 'invalid-value', /is not JSON/],
    ['an empty file', {}, () => '', 'invalid-value', /is not JSON/],
    ['JSON of another program', {}, () => '{"hello":"world"}', 'invalid-value', /is not one this store wrote/],
    ['another key’s document copied over it', {}, (text: string) => documentWith(text, (document) => ({ ...document, key: 'other:tokens:{0}' })), 'invalid-value', /belongs to another key/],
    ['a token set saved redacted', {}, (text: string) => documentWith(text, (document) => ({ ...document, tokens: JSON.stringify({ accessToken: '[REDACTED]', expiresAt: Date.now() + 60_000 }) })), 'invalid-value', /redacted accessToken/],
    [
      'a value sealed under another encryption key',
      { encryptionKey: ENCRYPTION_KEY },
      (text: string, key: string) => documentWith(text, (document) => ({ ...document, tokens: encryptValue('{"accessToken":"x","expiresAt":1}', Buffer.alloc(32, 1), key) })),
      'undecryptable',
      /failed authentication/,
    ],
    ['a plaintext value in an encrypted store', { encryptionKey: ENCRYPTION_KEY }, (text: string) => documentWith(text, (document) => ({ ...document, tokens: JSON.stringify({ accessToken: 'planted', expiresAt: Date.now() + 60_000 }) })), 'undecryptable', /not in the encrypted v1 format/],
  ] as const)('%s: reported once, replaced by exactly one grant, never a failed request', async (_name, options, damage, reason, message) => {
    const { directory, key, file } = await damagedEntry(options, damage);
    const errors: OAuthBearerError[] = [];
    // The store reports through its own onError (as RedisTokenStore does): the same callback as the client's here.
    const second = clientWith(new FileTokenStore({ directory, ...options, onError: (error) => errors.push(error) }), errors);

    const response = await second.get('/second');

    expect(response.status).toBe(200);
    expect(server.stats.tokenRequests).toBe(1);
    expect(server.stats.grants).toEqual({ password: 1, refresh_token: 0 });
    expect(errors).toHaveLength(1);
    expect(errors[0]).toBeInstanceOf(TokenStoreError);
    expect(errors[0]).toMatchObject({ code: ErrorCode.TOKEN_STORE, operation: 'acquire', reason, key });
    expect(errors[0]!.message).toMatch(message);
    expect(errors[0]!.message).not.toContain(server.credentials.password);

    // Replaced: the file holds the new token, which a third process adopts without a grant or a report.
    expect(JSON.parse(readFileSync(file, 'utf8'))).toMatchObject({ format: 'axios-oauth-bearer/file-store/v1', key });
    const thirdErrors: OAuthBearerError[] = [];
    const third = clientWith(new FileTokenStore({ directory, ...options, onError: (error) => thirdErrors.push(error) }), thirdErrors);
    await third.get('/third');
    expect(server.stats.tokenRequests).toBe(1);
    expect(third.tokens.current?.accessToken).toBe(second.tokens.current?.accessToken);
    expect(thirdErrors).toEqual([]);
  });

  test('get() of a corrupt file reports it and answers no token (it does not throw)', async () => {
    const { directory, key } = await damagedEntry({}, () => '{"format":');
    const errors: TokenStoreError[] = [];

    await expect(new FileTokenStore({ directory, onError: (error) => errors.push(error) }).get(key)).resolves.toBeUndefined();

    expect(errors.map((error) => `${error.operation}/${error.reason}`)).toEqual(['get/invalid-value']);
  });
});

describe('sealing at rest', () => {
  let server: AuthServer;
  beforeEach(async () => {
    server = await startAuthServer({ rotateRefreshTokens: true });
  });
  afterEach(() => server.close());

  test('with encryptionKey no token, credential or failure text is in any file; without, the tokens are there (so the check can fail)', async () => {
    const look = async (options: Omit<FileTokenStoreOptions, 'directory'>) => {
      const directory = freshDirectory();
      const store = new FileTokenStore({ directory, ...options });
      const api = createAuthClient({ baseURL: server.apiUrl, auth: { ...server.credentials, store } });
      await api.get('/a');
      await api.tokens.refresh();
      // A failure record too: a wrong password, shared through the same directory.
      const wrong = createAuthClient({ baseURL: server.apiUrl, auth: { ...server.credentials, password: 'not-the-password', store } });
      await expect(wrong.get('/b')).rejects.toMatchObject({ code: ErrorCode.USER_AUTHENTICATION });
      const current = api.tokens.current!;
      const files = readdirSync(directory);
      const text = files.map((name) => readFileSync(join(directory, name), 'utf8')).join('\n');
      return { files, text, secrets: [current.accessToken, current.refreshToken!, server.credentials.password, server.credentials.clientSecret, server.credentials.username, 'invalid_grant'] };
    };

    const sealed = await look({ encryptionKey: ENCRYPTION_KEY });
    expect(sealed.files).toHaveLength(2);
    for (const secret of sealed.secrets) expect(sealed.text).not.toContain(secret);
    for (const document of sealed.text.split('\n').map((line) => JSON.parse(line) as { tokens?: string; failure?: { value: string } })) {
      if (document.tokens !== undefined) expect(document.tokens).toMatch(/^v1\.[\w-]+\.[\w-]+\.[\w-]+$/);
      if (document.failure !== undefined) expect(document.failure.value).toMatch(/^v1\.[\w-]+\.[\w-]+\.[\w-]+$/);
    }

    const plain = await look({});
    expect(plain.text).toContain(plain.secrets[0]);
    expect(plain.text).toContain('invalid_grant');
  });
});

describe('records found in an entry file', () => {
  const request = { leaseMs: 5_000, holdMs: 5_000, maxFailureMs: 10_000 };

  function storeWithEntry(document: Record<string, unknown>) {
    const directory = freshDirectory();
    const errors: TokenStoreError[] = [];
    const store = new FileTokenStore({ directory, onError: (error) => errors.push(error) });
    const key = 'app:tokens:{records}';
    writeFileSync(store.fileFor(key), JSON.stringify({ format: 'axios-oauth-bearer/file-store/v1', key, ...document }), { mode: 0o600 });
    return { store, key, errors, summary: () => errors.map((error) => `${error.operation}/${error.reason}`) };
  }

  test('a failure record that is not one is reported once and removed: the lease is taken', async () => {
    const { store, key, summary } = storeWithEntry({ failure: { value: '{"code":"ERR_WHATEVER"}', until: Date.now() + 5_000 } });

    const snapshot = await store.acquire(key, request);

    expect(snapshot.state).toBe('leased');
    expect(summary()).toEqual(['acquire/invalid-value']);
    expect(JSON.parse(readFileSync(store.fileFor(key), 'utf8'))).not.toHaveProperty('failure');
  });

  test('a lease that lives longer than any lease (a clock stepped back, a hand edit) is cut to the caller’s, reported once', async () => {
    const owner = 'ab'.repeat(16);
    const { store, key, summary } = storeWithEntry({ lease: { owner, until: Date.now() + 3_600_000, holdUntil: Date.now() + 3_600_000 } });

    const first = await store.acquire(key, request);
    const second = await store.acquire(key, request);

    expect(first.state).toBe('held');
    expect(second.state).toBe('held');
    expect(summary()).toEqual(['acquire/no-ttl']);
    const { lease } = JSON.parse(readFileSync(store.fileFor(key), 'utf8')) as { lease: { owner: string; until: number } };
    expect(lease.owner).toBe(owner);
    expect(lease.until).toBeLessThanOrEqual(Date.now() + request.leaseMs);
  });

  test('a lease record of another shape counts as free and is replaced by the lease taken', async () => {
    const { store, key, summary } = storeWithEntry({ lease: { owner: 42 } });

    const snapshot = await store.acquire(key, request);

    expect(snapshot.state).toBe('leased');
    expect(summary()).toEqual(['acquire/invalid-value']);
  });

  test('a second FileTokenStore on the same directory is fenced out by the first one’s lease, and sees its commit', async () => {
    const directory = freshDirectory();
    const [a, b] = [new FileTokenStore({ directory }), new FileTokenStore({ directory })];
    const key = 'app:tokens:{two}';

    const leased = await a.acquire(key, request);
    const held = await b.acquire(key, request);
    expect(leased.state).toBe('leased');
    expect(held).toMatchObject({ state: 'held', tokens: undefined, failure: undefined });
    if (leased.state !== 'leased') return;
    expect(await leased.lease.commit(tokens('a'))).toBe(true);

    expect((await b.get(key))?.accessToken).toBe('a-access');
    expect((await b.acquire(key, request)).state).toBe('leased');
  });
});
