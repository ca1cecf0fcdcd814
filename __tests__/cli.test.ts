import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';

import { ExitCode } from '../src/cli/exit-codes.js';
import { type AuthServer, startAuthServer } from '../src/testing/server.js';
import { run } from '../src/cli/token-command.js';
import { type CliResult, runCli } from './helpers/cli-run.js';

// Distinctive values, so "absent from the output" cannot pass by accident.
const PASSWORD = 'pw-Correct-Horse-7731';
const CLIENT_SECRET = 'cs-Battery-Staple-4410';
const ROOT = join(__dirname, '..');
const BIN = join(ROOT, 'dist', 'cli', 'main.js');

let server: AuthServer;
beforeEach(async () => {
  server = await startAuthServer({ clientId: 'cli-client', clientSecret: CLIENT_SECRET, username: 'cli-user', password: PASSWORD });
});
afterEach(() => server.close());

function baseEnv(...without: string[]): Record<string, string> {
  const env = { OAUTH_TOKEN_URL: server.tokenUrl, OAUTH_CLIENT_ID: 'cli-client', OAUTH_USERNAME: 'cli-user', OAUTH_PASSWORD: PASSWORD, OAUTH_CLIENT_SECRET: CLIENT_SECRET };
  return Object.fromEntries(Object.entries(env).filter(([name]) => !without.includes(name)));
}

type Result = CliResult;

function cli(args: string[], env: Record<string, string> = baseEnv(), stdin?: string): Promise<Result> {
  return runCli(args, env, stdin);
}

/** Every failure: its own exit code, nothing on stdout, a message on stderr, and no secret anywhere. */
function expectFailure(result: Result, code: number): void {
  expect(result.code).toBe(code);
  expect(result.stdout).toBe('');
  expect(result.stderr).toMatch(/^axios-oauth-bearer: /);
  for (const secret of [PASSWORD, CLIENT_SECRET, encodeURIComponent(PASSWORD)]) {
    expect(result.stdout + result.stderr).not.toContain(secret);
  }
}

describe('axios-oauth-bearer token, in-process', () => {
  test('prints exactly the issued access token and a newline, configured from the environment alone', async () => {
    const result = await cli(['token']);
    expect(result).toEqual({ code: ExitCode.OK, stdout: 'at-1\n', stderr: '' });
    expect(server.stats.grants.password).toBe(1);
  });

  test('--json prints the token response with whole seconds left in expires_in', async () => {
    const result = await cli(['token', '--json']);
    expect(result.code).toBe(ExitCode.OK);
    const { expires_in: expiresIn, ...rest } = JSON.parse(result.stdout) as Record<string, unknown>;
    // The loopback server spells it `bearer`, and --json keeps the server's spelling.
    expect(rest).toEqual({ access_token: 'at-1', token_type: 'bearer', refresh_token: 'rt-1', scope: 'read write' });
    expect(Number.isInteger(expiresIn) && Number(expiresIn) <= 3600 && Number(expiresIn) > 3500).toBe(true);
  });

  test('--json prints what the server sent: its id_token, its spelling of token_type and its extension fields', async () => {
    server.failNext(1, 200, { access_token: 'at-x', token_type: 'bearer', expires_in: 60, id_token: 'eyJ0.eyJ1.c2ln', session_state: 's-1' });
    const result = await cli(['token', '--json']);
    expect(result.code).toBe(ExitCode.OK);
    const { expires_in: expiresIn, ...rest } = JSON.parse(result.stdout) as Record<string, unknown>;
    expect(rest).toEqual({ access_token: 'at-x', token_type: 'bearer', id_token: 'eyJ0.eyJ1.c2ln', session_state: 's-1' });
    expect(Number(expiresIn)).toBeLessThanOrEqual(60);
  });

  test('flags win over the environment variables they replace', async () => {
    const env = { ...baseEnv(), OAUTH_TOKEN_URL: 'http://127.0.0.1:9/nowhere', OAUTH_CLIENT_ID: 'wrong', OAUTH_USERNAME: 'wrong', OAUTH_SCOPE: 'write' };
    const args = ['token', '--json', '--token-url', server.tokenUrl, '--client-id', 'cli-client', '--username', 'cli-user', '--scope', 'read'];
    const result = await cli(args, env);
    expect(result.code).toBe(ExitCode.OK);
    expect(JSON.parse(result.stdout)).toMatchObject({ access_token: 'at-1', scope: 'read' });
  });

  test('--issuer finds the token endpoint by discovery and overrides an exported OAUTH_TOKEN_URL', async () => {
    const result = await cli(['token', '--issuer', server.url], { ...baseEnv(), OAUTH_TOKEN_URL: 'http://127.0.0.1:9/nowhere' });
    expect(result).toEqual({ code: ExitCode.OK, stdout: 'at-1\n', stderr: '' });
  });

  test('--client-auth basic sends the client credentials in a Basic header the endpoint accepts', async () => {
    expect(await cli(['token', '--client-auth', 'basic'])).toEqual({ code: ExitCode.OK, stdout: 'at-1\n', stderr: '' });
  });

  test('--password-stdin reads the password from the first line and overrides OAUTH_PASSWORD', async () => {
    const result = await cli(['token', '--password-stdin'], { ...baseEnv(), OAUTH_PASSWORD: 'stale' }, `${PASSWORD}\r\nignored\n`);
    expect(result).toEqual({ code: ExitCode.OK, stdout: 'at-1\n', stderr: '' });
  });

  test('with both stdin flags the password is line 1 and the client secret line 2', async () => {
    const env = baseEnv('OAUTH_PASSWORD', 'OAUTH_CLIENT_SECRET');
    const result = await cli(['token', '--password-stdin', '--secret-stdin'], env, `${PASSWORD}\n${CLIENT_SECRET}`);
    expect(result).toEqual({ code: ExitCode.OK, stdout: 'at-1\n', stderr: '' });
  });

  test('standard input is never read unless a stdin flag asks for it', async () => {
    const untouchable: AsyncIterable<string> = { [Symbol.asyncIterator]: (): never => { throw new Error('stdin was read'); } };
    let stdout = '';
    const code = await run(['token'], { env: baseEnv(), stdin: untouchable, stdout: { write: (t: string) => (stdout += t) }, stderr: { write: () => true } });
    expect({ code, stdout }).toEqual({ code: ExitCode.OK, stdout: 'at-1\n' });
  });

  test('--help explains every flag, environment variable and exit code, the security rule and a curl example', async () => {
    const result = await cli(['--help'], {});
    expect(result.code).toBe(ExitCode.OK);
    const env = ['OAUTH_TOKEN_URL', 'OAUTH_ISSUER', 'OAUTH_CLIENT_ID', 'OAUTH_USERNAME', 'OAUTH_SCOPE', 'OAUTH_CLIENT_SECRET', 'OAUTH_PASSWORD', 'OAUTH_GRANT', 'OAUTH_REFRESH_TOKEN', 'OAUTH_GRANT_SECRETS', 'OAUTH_CACHE', 'OAUTH_CACHE_DIR', 'OAUTH_CACHE_KEY'];
    const flags = ['--token-url', '--issuer', '--client-id', '--grant', '--param', '--username', '--scope', '--client-auth', '--timeout', '--password-stdin', '--secret-stdin', '--json', '--cache', '--no-cache', '--cache-dir', '--forget', '--help', '--version'];
    for (const word of [...env, ...flags]) expect(result.stdout).toContain(word);
    for (const code of Object.values(ExitCode)) expect(result.stdout).toMatch(new RegExp(`^ {2}${code} {2}\\S`, 'm'));
    expect(result.stdout).toMatch(/no --password, --client-secret or --refresh-token flag.*\n.*command line \(ps/);
    expect(result.stdout).toContain('curl -H "Authorization: Bearer $(npx axios-oauth-bearer token)"');
    expect(result.stdout).toContain('Text from the endpoint is shown with control characters escaped (ESC as \\u001B) and cut to 500\n  characters.');
    expect((await cli(['token', '-h'], {})).stdout).toBe(result.stdout);
  });

  test('--version prints the version from package.json', async () => {
    const { version } = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string };
    expect(await cli(['--version'], {})).toEqual({ code: ExitCode.OK, stdout: `${version}\n`, stderr: '' });
  });
});

describe('usage and configuration errors exit 2', () => {
  test.each([
    [['token', '--password', PASSWORD], 'OAUTH_PASSWORD'],
    [['token', `--password=${PASSWORD}`], '--password-stdin'],
    [['token', '--client-secret', CLIENT_SECRET], 'OAUTH_CLIENT_SECRET'],
    [['token', `--client-secret=${CLIENT_SECRET}`], '--secret-stdin'],
  ])('%j is refused without echoing the value, and nothing is sent', async (args, advice) => {
    const result = await cli(args);
    expectFailure(result, ExitCode.USAGE);
    expect(result.stderr).toMatch(/--(password|client-secret) is refused: .*command line \(ps/);
    expect(result.stderr).toContain(advice);
    expect(server.stats.tokenRequests).toBe(0);
  });

  test('each missing input is named with the flag or variable that sets it', async () => {
    const result = await cli(['token'], {});
    expectFailure(result, ExitCode.USAGE);
    for (const where of ['OAUTH_TOKEN_URL', '--client-id or set OAUTH_CLIENT_ID', '--username or set OAUTH_USERNAME', 'set OAUTH_PASSWORD', 'set OAUTH_CLIENT_SECRET']) {
      expect(result.stderr).toContain(where);
    }
  });

  test('--password-stdin with an empty standard input says which line is missing', async () => {
    const result = await cli(['token', '--password-stdin', '--secret-stdin'], baseEnv(), `${PASSWORD}\n`);
    expectFailure(result, ExitCode.USAGE);
    expect(result.stderr).toContain('missing the client secret: standard input had no line 2 for --secret-stdin');
    expect(server.stats.tokenRequests).toBe(0);
  });

  test.each([
    ['an unknown option', ['token', `--pw=${PASSWORD}`], 'unknown option --pw'],
    ['a stray argument', ['token', PASSWORD], 'unexpected extra argument'],
    ['an unknown command', [PASSWORD], 'unknown command'],
    ['no command', [], 'missing the command'],
    ['a flag without its value', ['token', '--client-id'], '--client-id needs a value'],
    ['a bad --client-auth', ['token', '--client-auth', 'digest'], '--client-auth must be `post`, `basic`, `basic-encoded` or `basic-raw`'],
    ['a bad --timeout', ['token', '--timeout', '1.5s'], '--timeout must be a whole number of milliseconds'],
  ])('%s is reported without quoting any value', async (_name, args, message) => {
    const result = await cli(args);
    expectFailure(result, ExitCode.USAGE);
    expect(result.stderr).toContain(message);
    expect(result.stderr).toContain('Usage: axios-oauth-bearer token [options]');
  });

  test('a ConfigurationError from the library names the variable the bad value came from', async () => {
    const result = await cli(['token'], { ...baseEnv(), OAUTH_TOKEN_URL: 'http://auth.example.com/token' });
    expectFailure(result, ExitCode.USAGE);
    expect(result.stderr).toContain('invalid OAUTH_TOKEN_URL: must use https');
  });

  test('a ConfigurationError names the flag when the flag supplied the value', async () => {
    const result = await cli(['token', '--issuer', 'not a url']);
    expectFailure(result, ExitCode.USAGE);
    expect(result.stderr).toContain('invalid --issuer: must be an absolute URL');
  });

  test('OAUTH_TOKEN_URL and OAUTH_ISSUER both set is ambiguous', async () => {
    const result = await cli(['token'], { ...baseEnv(), OAUTH_ISSUER: server.url });
    expectFailure(result, ExitCode.USAGE);
    expect(result.stderr).toContain('OAUTH_TOKEN_URL and OAUTH_ISSUER are both set');
  });
});

describe('token endpoint failures: one exit code each, no secret in the output', () => {
  test.each([
    [400, ExitCode.INVALID_REQUEST, 'HTTP 400: invalid request parameters'],
    [401, ExitCode.INVALID_CLIENT, 'HTTP 401: invalid client credentials'],
    [403, ExitCode.USER_AUTHENTICATION, 'HTTP 403: user authentication failed'],
    [500, ExitCode.TOKEN_ENDPOINT, 'HTTP 500'],
    [503, ExitCode.TOKEN_ENDPOINT, 'HTTP 503'],
  ])('HTTP %i exits %i', async (status, code, message) => {
    server.failNext(1, status);
    const result = await cli(['token']);
    expectFailure(result, code);
    expect(result.stderr).toContain(message);
  });

  test('a wrong password is refused by the real endpoint with exit 5 and a hint', async () => {
    const result = await cli(['token'], { ...baseEnv(), OAUTH_PASSWORD: `${PASSWORD}-typo` });
    expectFailure(result, ExitCode.USER_AUTHENTICATION);
    expect(result.stderr).toContain('Check the username (--username or OAUTH_USERNAME) and the password');
  });

  test('a wrong client secret is refused by the real endpoint with exit 4', async () => {
    expectFailure(await cli(['token'], { ...baseEnv(), OAUTH_CLIENT_SECRET: `${CLIENT_SECRET}-typo` }), ExitCode.INVALID_CLIENT);
  });

  test.each([
    ['a wrong password as an RFC server says it (400 invalid_grant)', 400, { error: 'invalid_grant', error_description: 'Invalid user credentials' }, ExitCode.USER_AUTHENTICATION, 'Check the username (--username or OAUTH_USERNAME) and the password'],
    ['a wrong client secret as 400 invalid_client', 400, { error: 'invalid_client' }, ExitCode.INVALID_CLIENT, 'Check the client id (--client-id or OAUTH_CLIENT_ID)'],
    ['an invalid scope', 400, { error: 'invalid_scope' }, ExitCode.INVALID_REQUEST, 'Check the scope (--scope or OAUTH_SCOPE): ask only for scopes the client is registered for.'],
    ['a client without the password grant', 400, { error: 'unauthorized_client' }, ExitCode.INVALID_REQUEST, 'The client is not allowed the password grant'],
    ['a server without the password grant', 400, { error: 'unsupported_grant_type' }, ExitCode.INVALID_REQUEST, 'does not offer the password grant'],
    ['a 400 with an empty body', 400, '', ExitCode.INVALID_REQUEST, 'Check the scope (--scope or OAUTH_SCOPE) and the token URL.'],
  ] as const)('%s exits by its class with its hint', async (_name, status, body, code, hint) => {
    server.failNext(1, status, body);
    const result = await cli(['token']);
    expectFailure(result, code);
    expect(result.stderr).toContain(hint);
    if (code === ExitCode.USER_AUTHENTICATION) expect(result.stderr).not.toContain('Check the scope');
  });

  test.each([
    ['basic-encoded', ExitCode.OK, 1],
    ['basic', ExitCode.OK, 1],
    ['basic-raw', ExitCode.INVALID_CLIENT, 1],
  ] as const)('--client-auth %s with a secret the server form-decodes exits %i after %i token request', async (method, code, requests) => {
    await server.close();
    server = await startAuthServer({ clientId: 'cli-client', clientSecret: 'cs+Battery/Staple=', username: 'cli-user', password: PASSWORD });
    const result = await cli(['token', '--client-auth', method], { ...baseEnv(), OAUTH_TOKEN_URL: server.tokenUrl, OAUTH_CLIENT_SECRET: 'cs+Battery/Staple=' });
    expect(result.code).toBe(code);
    expect(server.stats.tokenRequests).toBe(requests);
  });

  test('an endpoint that echoes the password in its error description does not get it printed', async () => {
    server.failNext(1, 403, { error: 'invalid_grant', error_description: `wrong password ${PASSWORD}` });
    const result = await cli(['token']);
    expectFailure(result, ExitCode.USER_AUTHENTICATION);
    expect(result.stderr).toContain('wrong password [REDACTED]');
  });

  test('a connection reset exits 6', async () => {
    server.failNext(1, { type: 'reset' });
    expectFailure(await cli(['token']), ExitCode.NETWORK);
  });

  test('an endpoint that never answers exits 6 once --timeout passes, suggesting a longer one', async () => {
    server.failNext(1, { type: 'hang' });
    const result = await cli(['token', '--timeout', '100']);
    expectFailure(result, ExitCode.NETWORK);
    expect(result.stderr).toContain('timed out');
    expect(result.stderr).toContain('Raise --timeout');
  });

  test.each([
    ['a body that is not JSON', 'not json', 'body is not JSON'],
    ['a token of another type', { access_token: 'at-x', token_type: 'mac' }, 'token_type must be "bearer"'],
  ])('%s exits 7', async (_name, body, message) => {
    server.failNext(1, 200, body);
    const result = await cli(['token']);
    expectFailure(result, ExitCode.INVALID_RESPONSE);
    expect(result.stderr).toContain(message);
    expect(result.stderr).not.toContain('at-x');
  });

  test('a failure the table does not name exits 1', async () => {
    const broken = { write: (): never => { throw new Error('EPIPE'); } };
    expect(await run(['token'], { env: baseEnv(), stdin: Readable.from([]), stdout: broken, stderr: { write: () => true } })).toBe(ExitCode.UNEXPECTED);
  });
});

describe('what the endpoint sends never reaches the terminal raw', () => {
  /** Every line on stderr is one of ours: our prefix, and no character that could move the cursor or start a line. */
  function expectOnlyOurLines(stderr: string): void {
    const lines = stderr.split('\n').slice(0, -1);
    expect(lines.length).toBeGreaterThan(0);
    for (const line of lines) {
      expect(line).toMatch(/^axios-oauth-bearer: |^Usage: |^Run `axios-oauth-bearer --help`/);
      // eslint-disable-next-line no-control-regex -- looking for control characters is the point
      expect(line).not.toMatch(/[\u0000-\u001F\u007F-\u009F\u202A-\u202E\u2066-\u2069]/);
    }
  }

  test.each([
    ['CR LF and a second header', 'at-1\r\nX-Injected: yes'],
    ['a NUL', 'at-1\u0000'],
    ['a tab', 'at-1\tx'],
    ['DEL', 'at-1\u007F'],
    ['a non-ASCII letter', 'at-ü'],
    ['a terminal escape sequence', 'at-1\u001B]0;owned\u0007'],
  ])('an access token with %s is refused with exit 7, and nothing is printed on stdout', async (_name, token) => {
    server.failNext(1, 200, { access_token: token, token_type: 'Bearer', expires_in: 60 });
    const result = await cli(['token']);
    expectFailure(result, ExitCode.INVALID_RESPONSE);
    expect(result.stderr).toContain('access_token must be printable ASCII without spaces (it is sent as an HTTP header value)');
    expect(result.stderr).not.toContain(token);
    expectOnlyOurLines(result.stderr);
  });

  test('--json refuses a scope with a terminal escape sequence (exit 7) instead of printing it', async () => {
    server.failNext(1, 200, { access_token: 'at-x', token_type: 'Bearer', expires_in: 60, scope: 'read \u001B[2J' });
    const result = await cli(['token', '--json']);
    expectFailure(result, ExitCode.INVALID_RESPONSE);
    expect(result.stderr).toContain('scope must be printable ASCII');
  });

  test('an error description with escape sequences and a forged line of ours is printed escaped, on one line', async () => {
    const description = 'denied\u001B[2K\r\naxios-oauth-bearer: token printed\u001B]0;owned\u0007 \u202Eevil';
    server.failNext(1, 403, { error: 'invalid_grant', error_description: description });
    const result = await cli(['token']);
    expectFailure(result, ExitCode.USER_AUTHENTICATION);
    expectOnlyOurLines(result.stderr);
    expect(result.stderr.split('\n').filter((line) => line.includes('token printed'))).toEqual([
      'axios-oauth-bearer: password grant failed with HTTP 403: user authentication failed (invalid_grant: ' +
        'denied\\u001B[2K\\u000D\\u000Aaxios-oauth-bearer: token printed\\u001B]0;owned\\u0007 \\u202Eevil)',
    ]);
  });

  test('a 900 KB error description costs a few hundred characters of stderr, not 900 KB', async () => {
    server.failNext(1, 400, { error: 'invalid_request', error_description: 'd'.repeat(900_000) });
    const result = await cli(['token']);
    expectFailure(result, ExitCode.INVALID_REQUEST);
    expect(result.stderr).toContain('… [899500 more characters cut]');
    expect(result.stderr.length).toBeLessThan(1000);
  });

  test('a token response over the size limit exits 7 (an invalid token response), not 6 (a network error)', async () => {
    server.failNext(3, 200, JSON.stringify({ access_token: 'at-x', token_type: 'Bearer', padding: 'p'.repeat(1_000_000) }));
    const result = await cli(['token']);
    expectFailure(result, ExitCode.INVALID_RESPONSE);
    expect(result.stderr).toContain('body is larger than 1000000 bytes');
    expect(server.stats.tokenRequests).toBe(1);
  });

  test('a library message that still held a control character would be printed escaped (the CLI escapes every line)', async () => {
    // The library escapes endpoint text itself; this error is built by hand, in a module registry of its own where
    // the token endpoint throws it, to prove the CLI's own layer.
    let result: Result | undefined;
    await jest.isolateModulesAsync(async () => {
      const errors = await import('../src/errors.js');
      const raw = new errors.TokenEndpointError('password', { status: 500, headers: {}, body: undefined }, { errorDescription: 'x\r\n\u001B[2Jforged' });
      jest.doMock('../src/token-endpoint.js', () => ({ tokenEndpointFor: () => ({}), configuredGrant: () => Promise.reject(raw) }));
      const command = await import('../src/cli/token-command.js');
      let stderr = '';
      const code = await command.run(['token'], { env: baseEnv(), stdin: Readable.from([]), stdout: { write: () => true }, stderr: { write: (t: string) => (stderr += t) } });
      result = { code, stdout: '', stderr };
    });
    jest.dontMock('../src/token-endpoint.js');
    expect(result).toEqual({
      code: ExitCode.TOKEN_ENDPOINT,
      stdout: '',
      stderr: 'axios-oauth-bearer: password grant failed with HTTP 500: the token endpoint answered with an error (x\\u000D\\u000A\\u001B[2Jforged)\n',
    });
  });

  test('an unexpected failure whose message holds a newline and an escape is printed escaped, on one line', async () => {
    const broken = { write: (): never => { throw new Error('EPIPE\naxios-oauth-bearer: \u001B[32mall good'); } };
    let stderr = '';
    const code = await run(['token'], { env: baseEnv(), stdin: Readable.from([]), stdout: broken, stderr: { write: (t: string) => (stderr += t) } });
    expect(code).toBe(ExitCode.UNEXPECTED);
    expect(stderr).toBe('axios-oauth-bearer: unexpected failure: Error: EPIPE\\u000Aaxios-oauth-bearer: \\u001B[32mall good\n');
  });
});

/** Runs the built executable, as `npx axios-oauth-bearer` would, with only the given environment. */
function runBinary(args: string[], env: Record<string, string>, input = ''): Promise<Result> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { env: { PATH: process.env.PATH ?? '', ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
    child.stdin.end(input);
  });
}

describe('--grant: every grant the library speaks', () => {
  test('client_credentials needs no username or password, and gets a token for the client', async () => {
    const result = await cli(['token', '--grant', 'client_credentials'], baseEnv('OAUTH_USERNAME', 'OAUTH_PASSWORD'));
    expect(result).toEqual({ code: ExitCode.OK, stdout: 'at-1\n', stderr: '' });
    expect(server.stats.grants).toMatchObject({ password: 0, client_credentials: 1 });
  });

  test('refresh_token takes OAUTH_REFRESH_TOKEN, and --json prints the rotated refresh token', async () => {
    const refreshToken = server.issueRefreshToken('cli-user');
    const result = await cli(['token', '--grant', 'refresh_token', '--json'], { ...baseEnv('OAUTH_USERNAME', 'OAUTH_PASSWORD'), OAUTH_REFRESH_TOKEN: refreshToken });
    expect(result.code).toBe(ExitCode.OK);
    const printed = JSON.parse(result.stdout) as { access_token: string; refresh_token: string };
    expect(printed.refresh_token).not.toBe(refreshToken);
    expect(server.stats.grants).toMatchObject({ password: 0, refresh_token: 1 });
  });

  test('a refused refresh token exits 5 with a hint, and the token is not printed', async () => {
    const refreshToken = 'rt-Never-Issued-9912';
    const result = await cli(['token', '--grant', 'refresh_token'], { ...baseEnv(), OAUTH_REFRESH_TOKEN: refreshToken });
    expectFailure(result, ExitCode.USER_AUTHENTICATION);
    expect(result.stderr).toContain('the refresh token was refused');
    expect(result.stderr).toContain('OAUTH_REFRESH_TOKEN');
    expect(result.stderr).not.toContain(refreshToken);
  });

  test('an extension grant: --grant <URI>, --param for public parameters, OAUTH_GRANT_SECRETS for secret ones', async () => {
    server.resetStats();
    const exchange = ['--grant', 'urn:ietf:params:oauth:grant-type:token-exchange', '--param', 'subject_token_type=urn:ietf:params:oauth:token-type:access_token'];
    const upstream = (await cli(['token'])).stdout.trim();
    const result = await cli(['token', ...exchange], { ...baseEnv('OAUTH_USERNAME', 'OAUTH_PASSWORD'), OAUTH_GRANT_SECRETS: `subject_token=${upstream}` });
    expect(result).toEqual({ code: ExitCode.OK, stdout: 'at-2\n', stderr: '' });
    expect(server.stats.grants).toMatchObject({ password: 1, extension: 1 });
    const refused = await cli(['token', ...exchange], { ...baseEnv(), OAUTH_GRANT_SECRETS: 'subject_token=st-Not-Known-5521' });
    expectFailure(refused, ExitCode.INVALID_REQUEST);
    expect(refused.stderr).not.toContain('st-Not-Known-5521');
  });

  test.each([
    [['--grant', 'client_credentials', '--username', 'u'], '--username and --password-stdin apply only to the password grant'],
    [['--grant', 'refresh_token'], 'missing the refresh token: set OAUTH_REFRESH_TOKEN'],
    [['--grant', 'not a grant'], '--grant must be password, client_credentials, refresh_token, or an extension grant type URI'],
    [['--grant', 'client_credentials', '--param', 'a=b'], '--param applies only to an extension grant'],
    [['--refresh-token=rt-1'], '--refresh-token is refused'],
  ])('%j is a usage error', async (args, message) => {
    const result = await cli(['token', ...args]);
    expectFailure(result, ExitCode.USAGE);
    expect(result.stderr).toContain(message);
    expect(server.stats.tokenRequests).toBe(0);
  });
});

describe('the built binary (dist/cli/main.js)', () => {
  beforeAll(() => {
    // `npm test` builds first; this only covers running this file on its own in a fresh checkout.
    if (!existsSync(BIN)) execFileSync('npx', ['tsup'], { cwd: ROOT, stdio: 'ignore' });
  }, 120_000);

  test('is an executable node script', () => {
    expect(readFileSync(BIN, 'utf8').startsWith('#!/usr/bin/env node\n')).toBe(true);
    expect(statSync(BIN).mode & 0o111).not.toBe(0);
  });

  test('prints exactly the token the server issued', async () => {
    expect(await runBinary(['token'], baseEnv())).toEqual({ code: ExitCode.OK, stdout: 'at-1\n', stderr: '' });
    expect(server.stats.grants.password).toBe(1);
  });

  test('reads the password from a pipe with --password-stdin', async () => {
    const env = baseEnv('OAUTH_PASSWORD');
    expect(await runBinary(['token', '--password-stdin'], env, `${PASSWORD}\n`)).toEqual({ code: ExitCode.OK, stdout: 'at-1\n', stderr: '' });
  });

  test('exits 5 on a wrong password, with no secret in stdout or stderr', async () => {
    const wrong = `${PASSWORD}-typo`;
    const result = await runBinary(['token'], { ...baseEnv(), OAUTH_PASSWORD: wrong });
    expectFailure(result, ExitCode.USER_AUTHENTICATION);
    expect(result.stderr).not.toContain(wrong);
  });

  test('--cache in a shell loop of 5 real processes: one grant, the same token printed each time', async () => {
    const directory = mkdtempSync(join(tmpdir(), 'aob-cli-bin-cache-'));
    try {
      const printed: string[] = [];
      for (let call = 0; call < 5; call += 1) {
        const result = await runBinary(['token', '--cache'], { ...baseEnv(), OAUTH_CACHE_DIR: directory });
        expect(result).toMatchObject({ code: ExitCode.OK, stderr: '' });
        printed.push(result.stdout);
      }
      expect(new Set(printed)).toEqual(new Set(['at-1\n']));
      expect(server.stats.tokenRequests).toBe(1);
    } finally {
      rmSync(directory, { recursive: true, force: true });
    }
  });

  test('refuses --password with exit 2 and does not echo it', async () => {
    const result = await runBinary(['token', '--password', PASSWORD], baseEnv());
    expectFailure(result, ExitCode.USAGE);
    expect(result.stderr).toContain('--password is refused');
    expect(server.stats.tokenRequests).toBe(0);
  });
});
