/**
 * The command line against real authorization servers: the built `node dist/cli/main.js token` (npm run test:interop
 * builds first) with OAUTH_* variables, exactly as a shell script runs it. Exit codes are the CLI's contract: 0 with
 * the token on stdout, 4 for a refused client, 5 for a refused password.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';

import { serverTable } from './servers/index.js';
import type { InteropServer, ServerDefinition } from './servers/types.js';

const CLI = path.join(__dirname, '..', '..', 'dist', 'cli', 'main.js');

interface CliResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs the CLI asynchronously: the in-process server must keep answering while it runs (no spawnSync). */
function runCli(args: readonly string[], env: Record<string, string>): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], { env: { PATH: process.env.PATH ?? '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stdout, stderr }));
  });
}

beforeAll(() => {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run \`npm run build\` first (npm run test:interop does)`);
});

describe.each(serverTable)('%s', (_name, definition: ServerDefinition) => {
  let server: InteropServer;

  beforeAll(async () => {
    server = await definition.start();
  });

  afterAll(async () => {
    await server.stop();
  });

  beforeEach(() => server.proxy.reset());

  function envFor(overrides: Record<string, string> = {}): Record<string, string> {
    return {
      OAUTH_TOKEN_URL: server.tokenUrl,
      OAUTH_CLIENT_ID: server.credentials.clientId,
      OAUTH_CLIENT_SECRET: server.credentials.clientSecret,
      OAUTH_USERNAME: server.credentials.username,
      OAUTH_PASSWORD: server.credentials.password,
      ...overrides,
    };
  }

  async function apiStatusWith(accessToken: string): Promise<number> {
    const response = await fetch(`${server.apiUrl}/from-cli`, { headers: { authorization: `Bearer ${accessToken}` } });
    await response.arrayBuffer();
    return response.status;
  }

  test('`token` exits 0 and prints an access token that the API accepts', async () => {
    const result = await runCli(['token'], envFor());

    expect(result).toMatchObject({ code: 0, stderr: '' });
    expect(result.stdout).toMatch(/^\S+\n$/);
    expect(await apiStatusWith(result.stdout.trim())).toBe(200);
    expect(server.proxy.grants()).toEqual({ password: 1, refresh_token: 0, total: 1 });
  });

  test('`token --client-auth basic` exits 0 with the special-character secret', async () => {
    const result = await runCli(['token', '--client-auth', 'basic'], envFor());

    expect(result).toMatchObject({ code: 0, stderr: '' });
    expect(await apiStatusWith(result.stdout.trim())).toBe(200);
    expect(server.proxy.tokenCalls.at(-1)).toMatchObject({ clientAuth: 'basic', status: 200 });
  });

  test('a wrong password exits 5, prints no token, and costs one token call', async () => {
    const result = await runCli(['token'], envFor({ OAUTH_PASSWORD: 'not the password' }));

    expect(server.proxy.tokenCalls).toEqual([expect.objectContaining(definition.answers.wrongPassword)]);
    expect(result.code).toBe(5);
    expect(result.stdout).toBe('');
    expect(result.stderr).not.toContain('not the password');
  });

  test('a wrong client secret exits 4 and prints no token', async () => {
    const result = await runCli(['token'], envFor({ OAUTH_CLIENT_SECRET: 'not+the/secret' }));

    expect(server.proxy.tokenCalls).toEqual([expect.objectContaining(definition.answers.wrongSecretPost)]);
    expect(result.code).toBe(4);
    expect(result.stdout).toBe('');
  });

  (definition.publishesDiscovery ? test : test.skip)('`token` with OAUTH_ISSUER finds the token endpoint by discovery and exits 0', async () => {
    // An empty OAUTH_TOKEN_URL counts as unset (see --help): the issuer alone names the server.
    const result = await runCli(['token'], envFor({ OAUTH_TOKEN_URL: '', OAUTH_ISSUER: server.issuer ?? '' }));

    expect(result).toMatchObject({ code: 0, stderr: '' });
    expect(await apiStatusWith(result.stdout.trim())).toBe(200);
    expect(server.proxy.grants()).toEqual({ password: 1, refresh_token: 0, total: 1 });
  });
});
