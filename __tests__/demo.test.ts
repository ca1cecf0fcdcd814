/**
 * `npm run demo` end to end: the real script in a child process, as a newcomer runs it. It must finish on its own,
 * succeed, and show each step of the story with the counts the library guarantees.
 */
import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';

test('the demo runs on the embedded loopback server, tells the whole story and exits on its own', () => {
  const demo = resolve(__dirname, '../src/cli/demo.ts');
  // Without OAUTH_TOKEN_URL and API_URL the demo uses its loopback server, whatever the developer's shell has set.
  const env = Object.fromEntries(Object.entries({ ...process.env, NO_COLOR: '1' }).filter(([name]) => !['OAUTH_TOKEN_URL', 'API_URL'].includes(name)));

  const result = spawnSync(process.execPath, ['--import', 'tsx', demo], { encoding: 'utf8', timeout: 60_000, env });

  expect(result.stderr).toBe('');
  expect(result.status).toBe(0);
  const out = result.stdout;
  expect(out).toContain('1. First request: no token yet, so one password grant');
  expect(out).toContain('password grant → token #1');
  expect(out).toContain('5 × 200, no token request (still token #1)');
  expect(out).toMatch(/refresh token grant → token #2[\s\S]*✔ GET \/reports\/8 → 200 with token #2; 401s so far: 0/);
  expect(out).toContain('✔ 50 × 401 → 1 refresh grant → 50 replayed → 50 × 200');
  expect(out).toMatch(/onError: ERR_OAUTH_INVALID_REQUEST[\s\S]*password grant → token #4/);
  expect(out).toContain('20 of 20 rejected with that error after 1 login attempt');
  expect(out).toContain('client credentials grant → a token for the client itself');
  expect(out).toContain('✔ 20 × 200 acting for "demo-client" after 1 token request');
  expect(out).toContain("✔ revoke() → the server's record of revoked tokens: access_token; the client holds none");
  expect(out).toMatch(/client credentials grants issued\s+1\n/);
  expect(out).toMatch(/failed\s+0\n/);
  // The demo names tokens; it never prints one, nor the demo password.
  expect(out).not.toMatch(/\bat-\d+\b|\brt-\d+\b|demo-password|demo-secret/);
});
