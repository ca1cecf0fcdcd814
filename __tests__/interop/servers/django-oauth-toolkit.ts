/**
 * django-oauth-toolkit from Debian 12 (python3-django-oauth-toolkit 1.7.0, Django 3.2, oauthlib 3.2.2), run by
 * Debian's own /usr/bin/python3 (a python3 earlier on PATH, e.g. pyenv's, does not see Debian's packages).
 *
 * The project's sources are in ./django (settings, urls with the protected API, serve.py); everything a run writes
 * (the sqlite database, the OIDC signing key) goes to a temporary directory that `stop()` removes. serve.py migrates,
 * creates the user, a confidential password-grant client and a confidential client-credentials client (`service`: a
 * DOT application has one grant type), binds a free port and prints it; its stdout's first line
 * is the readiness signal, so there is no polling and no port race. DOT settings: ROTATE_REFRESH_TOKEN on (no grace
 * period), OIDC on so that discovery is published, the default 1-hour tokens (the tests force expiry instead of
 * waiting for it).
 *
 * Its RFC 7009 endpoint, /o/revoke_token/ (counted by the proxy too), as measured: 200 with an empty body typed
 * text/html for any token, known or not; 401 invalid_client for a wrong secret; revoking a refresh token deletes its
 * access token too. It does not check that the token was issued to the revoking client (RFC 7009 2.1 says it
 * should): any authenticated client can revoke any token. The discovery document names no revocation_endpoint.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { CountingProxy } from './counting-proxy.js';
import type { InteropCredentials, InteropServer, ServerDefinition, ServiceCredentials } from './types.js';

/** Debian's interpreter; INTEROP_PYTHON overrides it (for a machine whose Debian python lives elsewhere). */
const PYTHON = process.env.INTEROP_PYTHON ?? '/usr/bin/python3';
const PROJECT_DIR = path.join(__dirname, 'django');
const READY_WITHIN_MS = 60_000;
const STOP_WITHIN_MS = 5_000;

const credentials: InteropCredentials = {
  clientId: 'interop-client',
  clientSecret: 'dj4ngo+secret/with=colon: and space',
  username: 'alice',
  password: 'correct horse battery staple',
};

/** The second application, `client-credentials` (DOT allows one grant type per application). */
const service: ServiceCredentials = {
  clientId: 'interop-service',
  clientSecret: 'dj4ngo+service/secret=with: colon',
};

interface Ready {
  readonly port: number;
  readonly versions: Record<string, string>;
}

function parseReady(line: string): Ready {
  const parsed: unknown = JSON.parse(line);
  if (typeof parsed !== 'object' || parsed === null || !('port' in parsed) || typeof parsed.port !== 'number') {
    throw new Error(`serve.py printed no port: ${line}`);
  }
  const versions = 'versions' in parsed && typeof parsed.versions === 'object' && parsed.versions !== null ? parsed.versions : {};
  return { port: parsed.port, versions: Object.fromEntries(Object.entries(versions).map(([k, v]) => [k, String(v)])) };
}

/** Spawns serve.py and resolves with its ready line; rejects with its stderr when it exits or hangs first. */
function launch(stateDir: string): Promise<{ child: ChildProcess; ready: Ready }> {
  const child = spawn(PYTHON, ['serve.py'], {
    cwd: PROJECT_DIR,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      PYTHONPATH: PROJECT_DIR,
      PYTHONDONTWRITEBYTECODE: '1', // no __pycache__ in the repository
      PYTHONUNBUFFERED: '1',
      INTEROP_STATE_DIR: stateDir,
      INTEROP_CLIENT_ID: credentials.clientId,
      INTEROP_CLIENT_SECRET: credentials.clientSecret,
      INTEROP_USERNAME: credentials.username,
      INTEROP_PASSWORD: credentials.password,
      INTEROP_SERVICE_CLIENT_ID: service.clientId,
      INTEROP_SERVICE_CLIENT_SECRET: service.clientSecret,
      ...(process.env.INTEROP_SERVER_LOG === undefined ? {} : { INTEROP_SERVER_LOG: process.env.INTEROP_SERVER_LOG }),
    },
  });
  // Should the test process die without stopping it, the server must not outlive it.
  const killOnExit = (): void => void child.kill('SIGKILL');
  process.once('exit', killOnExit);
  child.once('exit', () => process.removeListener('exit', killOnExit));
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString('utf8')).slice(-8_000);
    if (process.env.INTEROP_SERVER_LOG !== undefined) process.stderr.write(chunk);
  });
  return new Promise((resolve, reject) => {
    let stdout = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`django-oauth-toolkit did not start within ${READY_WITHIN_MS} ms:\n${stderr}`));
    }, READY_WITHIN_MS);
    child.once('error', (error) => {
      clearTimeout(timer);
      reject(new Error(`${PYTHON} could not be started (run scripts/interop-install.sh): ${error.message}`));
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`django-oauth-toolkit exited with code ${String(code)} before it was ready (run scripts/interop-install.sh):\n${stderr}`));
    });
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString('utf8');
      const newline = stdout.indexOf('\n');
      if (newline < 0) return;
      clearTimeout(timer);
      try {
        resolve({ child, ready: parseReady(stdout.slice(0, newline)) });
      } catch (error) {
        child.kill('SIGKILL');
        reject(error instanceof Error ? error : new Error(String(error)));
      }
    });
  });
}

async function terminate(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), STOP_WITHIN_MS);
  await exited;
  clearTimeout(timer);
}

/** A form POST straight to the server (not through the proxy, so it is not counted). */
async function postForm(url: string, form: Record<string, string>): Promise<void> {
  const response = await fetch(url, { method: 'POST', body: new URLSearchParams(form) });
  if (!response.ok) throw new Error(`POST ${url} answered ${response.status}: ${await response.text()}`);
}

async function start(): Promise<InteropServer> {
  const stateDir = mkdtempSync(path.join(tmpdir(), 'axios-oauth-bearer-dot-'));
  let child: ChildProcess | undefined;
  try {
    const launched = await launch(stateDir);
    child = launched.child;
    const upstream = `http://127.0.0.1:${launched.ready.port}`;
    const proxy = await CountingProxy.start({
      upstreamPort: launched.ready.port,
      tokenPath: '/o/token/',
      apiPrefix: '/api/',
      revocationPath: '/o/revoke_token/',
    });
    const running = child;
    return {
      tokenUrl: `${proxy.origin}/o/token/`,
      apiUrl: `${proxy.origin}/api`,
      issuer: `${proxy.origin}/o`,
      credentials,
      service,
      revocationUrl: `${proxy.origin}/o/revoke_token/`,
      versions: launched.ready.versions,
      proxy,
      // RFC 7009, DOT's /o/revoke_token/: DOT deletes the access token (and, as measured, its refresh token then
      // answers 500: see refreshAfterRevocation).
      revoke: (accessToken) =>
        postForm(`${upstream}/o/revoke_token/`, {
          token: accessToken,
          token_type_hint: 'access_token',
          client_id: credentials.clientId,
          client_secret: credentials.clientSecret,
        }),
      // Revoking a refresh token marks it revoked (refresh grants with it: 400 invalid_grant) and deletes its access
      // token.
      revokeRefreshToken: (refreshToken) =>
        postForm(`${upstream}/o/revoke_token/`, {
          token: refreshToken,
          token_type_hint: 'refresh_token',
          client_id: credentials.clientId,
          client_secret: credentials.clientSecret,
        }),
      expire: (accessToken) => postForm(`${upstream}/interop/expire`, { token: accessToken }),
      async stop() {
        await proxy.close();
        await terminate(running);
        rmSync(stateDir, { recursive: true, force: true });
      },
    };
  } catch (error) {
    if (child !== undefined) await terminate(child);
    rmSync(stateDir, { recursive: true, force: true });
    throw error;
  }
}

export const djangoOauthToolkit: ServerDefinition = {
  name: 'django-oauth-toolkit (Debian 12 python3-django-oauth-toolkit)',
  publishesDiscovery: true,
  // /o/revoke_token/ (oauthlib's RevocationEndpoint). Its discovery document names no revocation_endpoint, though.
  revocationEndpoint: true,
  // oauthlib's Basic parsing unquote_plus()es the id and secret (RFC 6749 2.3.1).
  basicForm: 'form-encoded',
  // DOT 1.7 deletes a revoked access token; the refresh grant then looks the token up by its refresh token
  // (get_original_scopes) and fails with AccessToken.DoesNotExist: HTTP 500, for good.
  refreshAfterRevocation: 'server-error',
  answers: {
    wrongPassword: { status: 400, error: 'invalid_grant' },
    wrongSecretPost: { status: 401, error: 'invalid_client' },
    wrongSecretBasic: { status: 401, error: 'invalid_client' },
    unknownClient: { status: 401, error: 'invalid_client' },
    refusedRefresh: { status: 400, error: 'invalid_grant' },
    unauthorizedClient: { status: 400, error: 'unauthorized_client' },
  },
  start,
};
