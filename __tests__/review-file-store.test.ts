/**
 * Hostile review of FileTokenStore and the CLI's `token --cache` / `--forget` (issue 17): each test is a finding
 * (fixed, or decided and documented) or a check that held up.
 */
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { ExitCode } from '../src/cli/exit-codes.js';
import { type CliResult, runCli } from './helpers/cli-run.js';
import { FileTokenStore } from '../src/stores/file.js';
import { type AuthServer, startAuthServer } from '../src/testing/server.js';
import { removeTree } from './helpers/file-store-fixture.js';

const PASSWORD = 'pw-Review-Horse-7731';
const CLIENT_SECRET = 'cs-Review-Staple-1188';
let server: AuthServer | undefined;
let root: string;
let directory: string;

beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'aob-review-fs-'));
  directory = join(root, 'cache');
});
afterEach(async () => {
  await server?.close();
  server = undefined;
  chmodSync(root, 0o700);
  await removeTree(root);
});

async function serve(extra: Record<string, unknown> = {}): Promise<AuthServer> {
  server = await startAuthServer({ clientId: 'cli-client', clientSecret: CLIENT_SECRET, username: 'cli-user', password: PASSWORD, ...extra });
  return server;
}

function env(extra: Record<string, string> = {}): Record<string, string> {
  if (server === undefined) throw new Error('no server');
  return {
    OAUTH_TOKEN_URL: server.tokenUrl,
    OAUTH_CLIENT_ID: 'cli-client',
    OAUTH_USERNAME: 'cli-user',
    OAUTH_PASSWORD: PASSWORD,
    OAUTH_CLIENT_SECRET: CLIENT_SECRET,
    OAUTH_CACHE_DIR: directory,
    ...extra,
  };
}

function cli(args: string[], environment = env()): Promise<CliResult> {
  return runCli(args, environment);
}

function entryFiles(): string[] {
  return readdirSync(directory).filter((name) => name.endsWith('.json')).map((name) => join(directory, name));
}

/** Moves the wall clock (Date.now) forward by `ms`, as a later process would see it; the monotonic clock is fresh per run anyway. */
function later<T>(ms: number, step: () => Promise<T>): Promise<T> {
  const real = Date.now.bind(Date);
  const spy = jest.spyOn(Date, 'now').mockImplementation(() => real() + ms);
  return step().finally(() => spy.mockRestore());
}

test('fixed: a cached token with 3 s of its hour left is renewed before it is printed', async () => {
  await serve({ expiresIn: 3600 });
  expect((await cli(['token', '--cache'])).stdout).toBe('at-1\n');
  // A run 59 min 57 s later: the cached token has 3 s left. The margin (20% of the lifetime, up to 5 min) is
  // computed from what remains at adoption (3 s), not from the token's hour, so it counts as fresh.
  const result = await later(3_597_000, () => cli(['token', '--cache', '--json']));
  expect(result.code).toBe(ExitCode.OK);
  const printed = JSON.parse(result.stdout) as { access_token: string; expires_in: number };
  expect(printed.access_token).not.toBe('at-1');
  expect(printed.expires_in).toBeGreaterThan(300);
});

// Decision (README, the command line): a cached token is printed while it has at least a minute left, inside the
// library's renewal margin or not; below that it is renewed first.
test('decided: a cached token with 100 s of its hour left is printed, with no grant', async () => {
  const auth = await serve({ expiresIn: 3600 });
  await cli(['token', '--cache']);
  const result = await later(3_500_000, () => cli(['token', '--cache']));
  expect(result.stdout).toBe('at-1\n');
  expect(auth.stats.tokenRequests).toBe(1);
});

test('fixed: a refused grant cached as a cooldown is lifted by --forget', async () => {
  const auth = await serve();
  auth.failNext(1, 401, { error: 'invalid_client' }); // e.g. the client was disabled for a moment at the server
  expect((await cli(['token', '--cache'])).code).toBe(ExitCode.INVALID_CLIENT);
  const forget = await cli(['token', '--forget']);
  expect(forget.code).toBe(ExitCode.OK);
  // The server answers normally now: the next run should ask it.
  const next = await cli(['token', '--cache']);
  expect(next).toMatchObject({ code: ExitCode.OK, stdout: 'at-1\n' });
});

test('fixed: the cooldown error a CLI user sees tells them what to do in CLI terms, not tokens.clearCooldown()', async () => {
  const auth = await serve();
  auth.failNext(1, 401, { error: 'invalid_client' });
  await cli(['token', '--cache']);
  const second = await cli(['token', '--cache']);
  expect(second.stderr).not.toContain('tokens.clearCooldown()');
  expect(second.stderr).toMatch(/--forget|--no-cache|cache/);
});

test('fixed: store trouble (a corrupt cache file) is said on stderr', async () => {
  await serve();
  expect((await cli(['token', '--cache'])).code).toBe(ExitCode.OK);
  const [file] = entryFiles();
  writeFileSync(file!, '{"format":"axios-oauth-bearer/file-store/v1","key":', { mode: 0o600 });
  const second = await cli(['token', '--cache']);
  expect(second).toMatchObject({ code: ExitCode.OK, stdout: 'at-2\n' }); // held: re-granted, not failed
  expect(second.stderr).toMatch(/token cache: .*entry file is not JSON/);
});

test('fixed: a group-writable --cache-dir is a usage error (exit 2) naming --cache-dir and OAUTH_CACHE_DIR', async () => {
  await serve();
  mkdirSync(directory, { mode: 0o700 });
  chmodSync(directory, 0o770);
  const result = await cli(['token', '--cache']);
  expect(result.stderr).not.toContain('unexpected failure');
  expect(result.stderr).toContain('OAUTH_CACHE_DIR');
  expect(result.code).toBe(ExitCode.USAGE);
});

// What held (passing): kept as regression checks.

test('held: a cache dir that is a symlink to a world-writable (sticky) directory is refused', async () => {
  await serve();
  const open = join(root, 'open');
  mkdirSync(open);
  chmodSync(open, 0o1777);
  symlinkSync(open, directory);
  const result = await cli(['token', '--cache']);
  expect(result.code).not.toBe(ExitCode.OK);
  expect(readdirSync(open)).toEqual([]);
});

test('held: under umask 0 the directory is 0700 and entry files 0600 (after rename)', async () => {
  await serve();
  const old = process.umask(0);
  try {
    expect((await cli(['token', '--cache'])).code).toBe(ExitCode.OK);
    expect((await cli(['token', '--cache', '--scope', 'read'])).code).toBe(ExitCode.OK);
  } finally {
    process.umask(old);
  }
  expect(entryFiles()).toHaveLength(2);
  for (const file of entryFiles()) expect(statSync(file).mode & 0o777).toBe(0o600);
  expect(statSync(directory).mode & 0o777).toBe(0o700);
});

test('held: a token past its expiry (inside the store\'s 5 s grace) is not printed', async () => {
  await serve({ expiresIn: 60 });
  await cli(['token', '--cache']);
  const result = await later(62_000, () => cli(['token', '--cache']));
  expect(result.stdout).toBe('at-2\n');
});

test('held: FileTokenStore without encryptionKey writes 0600 JSON and no temporary file is left', async () => {
  const store = new FileTokenStore({ directory });
  await store.set('k', { accessToken: 'at-plain', tokenType: 'Bearer', expiresAt: Date.now() + 60_000 });
  const names = readdirSync(directory);
  expect(names.filter((name) => name.endsWith('.tmp'))).toEqual([]);
  const file = store.fileFor('k');
  expect(statSync(file).mode & 0o777).toBe(0o600);
  expect(readFileSync(file, 'utf8')).toContain('at-plain');
});
