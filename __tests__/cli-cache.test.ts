/**
 * `axios-oauth-bearer token --cache` (issue 17): the token kept in a FileTokenStore between runs, so a shell loop that
 * calls the command 100 times makes one grant; sealed (no token text in the file), keyed by the credentials (another
 * password never meets the entry), `--forget` removes it, `--no-cache` and `OAUTH_CACHE` switch it.
 */
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { ExitCode } from '../src/cli/exit-codes.js';
import { type CliResult, runCli } from './helpers/cli-run.js';
import { type AuthServer, startAuthServer } from '../src/testing/server.js';
import { removeTree } from './helpers/file-store-fixture.js';

const PASSWORD = 'pw-Cache-Horse-2291';
const CLIENT_SECRET = 'cs-Cache-Staple-8812';
let server: AuthServer;
let directory: string;

beforeEach(async () => {
  server = await startAuthServer({ clientId: 'cli-client', clientSecret: CLIENT_SECRET, username: 'cli-user', password: PASSWORD });
  directory = mkdtempSync(join(tmpdir(), 'aob-cli-cache-'));
});
afterEach(async () => {
  await server.close();
  await removeTree(directory);
});

function env(extra: Record<string, string> = {}): Record<string, string> {
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

/** Every file of the cache directory, as text. */
function cacheText(): string {
  return readdirSync(directory, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => readFileSync(join(entry.parentPath, entry.name), 'utf8'))
    .join('\n');
}

test('100 calls with --cache make one grant, and print the same token each time', async () => {
  const printed = new Set<string>();
  for (let call = 0; call < 100; call += 1) {
    const result = await cli(['token', '--cache']);
    expect(result).toMatchObject({ code: ExitCode.OK, stderr: '' });
    printed.add(result.stdout);
  }
  expect([...printed]).toEqual(['at-1\n']);
  expect(server.stats.tokenRequests).toBe(1);
});

test('the cache file holds no token, password or secret (sealed under a key made of the credentials)', async () => {
  await cli(['token', '--cache']);
  const text = cacheText();
  expect(text.length).toBeGreaterThan(0);
  for (const secret of ['at-1', 'rt-1', PASSWORD, CLIENT_SECRET]) expect(text).not.toContain(secret);
});

test('another password never meets the entry: it makes its own grant (and is refused)', async () => {
  await cli(['token', '--cache']);
  const wrong = await cli(['token', '--cache'], env({ OAUTH_PASSWORD: 'not-the-password' }));
  expect(wrong.code).toBe(ExitCode.USER_AUTHENTICATION);
  expect(server.stats.tokenRequests).toBe(2);
});

test('OAUTH_CACHE=1 turns it on, --no-cache wins over it, and without either every call makes a grant', async () => {
  await cli(['token'], env({ OAUTH_CACHE: '1' }));
  await cli(['token'], env({ OAUTH_CACHE: '1' }));
  expect(server.stats.tokenRequests).toBe(1);
  await cli(['token', '--no-cache'], env({ OAUTH_CACHE: '1' }));
  await cli(['token']);
  expect(server.stats.tokenRequests).toBe(3);
});

test('--forget removes the entry: the next --cache call makes a grant', async () => {
  await cli(['token', '--cache']);
  const forgot = await cli(['token', '--forget']);
  expect(forgot).toEqual({ code: ExitCode.OK, stdout: '', stderr: 'axios-oauth-bearer: the cached token was forgotten\n' });
  expect((await cli(['token', '--forget'])).stderr).toBe('axios-oauth-bearer: no cached token to forget\n');
  await cli(['token', '--cache']);
  expect(server.stats.tokenRequests).toBe(2);
});

test('--cache with --grant refresh_token keeps the rotated refresh token: the next run renews with it, not the spent one', async () => {
  // 30-second tokens, inside the refresh margin: every run renews, so the second one must refresh with what the first
  // left in the cache (the server rotates: the seed it was started with is spent and would be refused).
  await server.close();
  server = await startAuthServer({ clientId: 'cli-client', clientSecret: CLIENT_SECRET, username: 'cli-user', password: PASSWORD, expiresIn: 30 });
  const seed = server.issueRefreshToken('cli-user');
  const refreshEnv = env({ OAUTH_GRANT: 'refresh_token', OAUTH_REFRESH_TOKEN: seed });
  const first = await cli(['token', '--cache'], refreshEnv);
  expect(first.code).toBe(ExitCode.OK);
  const second = await cli(['token', '--cache'], refreshEnv);
  expect(second).toMatchObject({ code: ExitCode.OK, stderr: '' });
  expect(second.stdout).not.toBe(first.stdout);
  expect(server.stats.grants.refresh_token).toBe(2);
  expect(server.stats.failedTokenRequests).toBe(0);
});

test.each([
  [['token', '--cache', '--no-cache'], {}, '--cache and --no-cache contradict each other'],
  [['token'], { OAUTH_CACHE: 'yes' }, 'OAUTH_CACHE must be 1, true, 0 or false'],
  [['token', '--forget', '--no-cache'], {}, '--forget works on the token cache'],
])('%j %j is a usage error', async (args, extra, message) => {
  const result = await cli(args, env(extra));
  expect(result.code).toBe(ExitCode.USAGE);
  expect(result.stderr).toContain(message);
  expect(server.stats.tokenRequests).toBe(0);
});
