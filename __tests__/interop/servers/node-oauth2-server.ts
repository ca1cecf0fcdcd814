/**
 * @node-oauth/oauth2-server (npm, the maintained fork of oauth2-server) in this process: the package's own token and
 * authenticate handlers over a small in-memory model, served by node:http on 127.0.0.1 and a free port, behind the
 * counting proxy. `/token` is the token endpoint (password and refresh_token grants for the user's client, the
 * client_credentials grant for a second, service client, whose model user is the client itself
 * (`getUserFromClient`); client authentication required, refresh tokens rotated: `alwaysIssueNewRefreshToken`, the
 * package's default), `/api/*` the protected API, which answers 200 only to an access token this model issued and has
 * not expired or revoked (`user: null` for a client credentials token). The package has no RFC 7009 revocation
 * endpoint and publishes no discovery document: revocation goes through the model, and the suite has no revocation
 * test against this server.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';

import OAuth2Server from '@node-oauth/oauth2-server';

import { CountingProxy } from './counting-proxy.js';
import type { InteropCredentials, InteropServer, ServerDefinition, ServiceCredentials } from './types.js';

const PACKAGE = '@node-oauth/oauth2-server';

const credentials: InteropCredentials = {
  clientId: 'interop-client',
  clientSecret: 'n0de+secret/with=colon: and space',
  username: 'alice',
  password: 'correct horse battery staple',
};

/** The client credentials client: its own client, as on the Django server, so both servers run the same tests. */
const service: ServiceCredentials = {
  clientId: 'interop-service',
  clientSecret: 'n0de+service/secret=with: colon',
};

interface StoredToken {
  readonly accessToken: string;
  accessTokenExpiresAt: Date;
  readonly refreshToken: string | undefined;
  readonly client: OAuth2Server.Client;
  readonly user: OAuth2Server.User;
  readonly scope: string[] | undefined;
}

interface StoredRefreshToken {
  readonly refreshToken: string;
  readonly refreshTokenExpiresAt: Date | undefined;
  readonly client: OAuth2Server.Client;
  readonly user: OAuth2Server.User;
  readonly scope: string[] | undefined;
}

/** The model: two confidential clients (the user's, the service's), one user, tokens in two maps. */
function memoryModel() {
  const accessTokens = new Map<string, StoredToken>();
  const refreshTokens = new Map<string, StoredRefreshToken>();
  const client: OAuth2Server.Client = { id: credentials.clientId, grants: ['password', 'refresh_token'] };
  const serviceClient: OAuth2Server.Client = { id: service.clientId, grants: ['client_credentials'] };
  const user: OAuth2Server.User = { id: 'u-1', username: credentials.username };
  /** The model's user for a client credentials token: the client itself, with no username. */
  const serviceUser: OAuth2Server.User = { id: `client:${service.clientId}` };
  const model: OAuth2Server.PasswordModel & OAuth2Server.RefreshTokenModel & OAuth2Server.ClientCredentialsModel = {
    getClient: (clientId, clientSecret) => {
      if (clientId === credentials.clientId && clientSecret === credentials.clientSecret) return Promise.resolve(client);
      if (clientId === service.clientId && clientSecret === service.clientSecret) return Promise.resolve(serviceClient);
      return Promise.resolve(false);
    },
    getUserFromClient: (fromClient) => Promise.resolve(fromClient.id === service.clientId ? serviceUser : false),
    getUser: (username, password) =>
      Promise.resolve(username === credentials.username && password === credentials.password ? user : false),
    saveToken: (token, tokenClient, tokenUser) => {
      const stored: StoredToken = {
        accessToken: token.accessToken,
        accessTokenExpiresAt: token.accessTokenExpiresAt ?? new Date(Date.now() + 3_600_000),
        refreshToken: token.refreshToken,
        client: tokenClient,
        user: tokenUser,
        scope: token.scope,
      };
      accessTokens.set(stored.accessToken, stored);
      if (token.refreshToken !== undefined) {
        refreshTokens.set(token.refreshToken, {
          refreshToken: token.refreshToken,
          refreshTokenExpiresAt: token.refreshTokenExpiresAt,
          client: tokenClient,
          user: tokenUser,
          scope: token.scope,
        });
      }
      return Promise.resolve({ ...token, client: tokenClient, user: tokenUser });
    },
    getAccessToken: (accessToken) => Promise.resolve(accessTokens.get(accessToken) ?? false),
    getRefreshToken: (refreshToken) => Promise.resolve(refreshTokens.get(refreshToken) ?? false),
    revokeToken: (token) => Promise.resolve(refreshTokens.delete(token.refreshToken)),
    generateAccessToken: () => Promise.resolve(randomBytes(24).toString('base64url')),
    generateRefreshToken: () => Promise.resolve(randomBytes(24).toString('base64url')),
  };
  return { model, accessTokens, refreshTokens };
}

function headersOf(req: http.IncomingMessage): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(req.headers)) {
    if (value !== undefined) out[name] = Array.isArray(value) ? value.join(', ') : value;
  }
  return out;
}

function readForm(req: http.IncomingMessage): Promise<Record<string, string>> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => resolve(Object.fromEntries(new URLSearchParams(Buffer.concat(chunks).toString('utf8')))));
    req.on('error', reject);
  });
}

/** Writes what the package's handlers put on its Response object (status, headers, body). */
function send(res: http.ServerResponse, response: OAuth2Server.Response, fallbackStatus: number, fallbackBody: unknown): void {
  const body: unknown = response.body ?? fallbackBody;
  const status = typeof response.status === 'number' && response.status >= 400 ? response.status : fallbackStatus;
  const headers = { ...(response.headers ?? {}), 'content-type': 'application/json' };
  res.writeHead(status, headers);
  res.end(body === undefined ? '' : JSON.stringify(body));
}

async function handle(oauth: OAuth2Server, req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://127.0.0.1');
  const request = new OAuth2Server.Request({
    method: req.method ?? 'GET',
    headers: headersOf(req),
    query: Object.fromEntries(url.searchParams),
    body: req.method === 'POST' ? await readForm(req) : {},
  });
  const response = new OAuth2Server.Response();
  if (url.pathname === '/token' && req.method === 'POST') {
    try {
      await oauth.token(request, response);
      send(res, response, 200, undefined);
    } catch (error) {
      // The token handler has already put the RFC 6749 5.2 status and body on `response`.
      send(res, response, error instanceof OAuth2Server.OAuthError ? error.code : 500, { error: 'server_error' });
    }
    return;
  }
  if (url.pathname.startsWith('/api/')) {
    try {
      const token = await oauth.authenticate(request, response);
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ user: (token.user as { username?: string }).username ?? null, client: token.client.id, path: url.pathname }));
    } catch (error) {
      const oauthError = error instanceof OAuth2Server.OAuthError ? error : undefined;
      send(res, response, oauthError?.code ?? 500, { error: oauthError?.name ?? 'server_error' });
    }
    return;
  }
  res.writeHead(404, { 'content-type': 'application/json' });
  res.end('{"error":"not_found"}');
}

function packageVersion(): string {
  const manifest: unknown = JSON.parse(readFileSync(require.resolve(`${PACKAGE}/package.json`), 'utf8'));
  return typeof manifest === 'object' && manifest !== null && 'version' in manifest && typeof manifest.version === 'string' ? manifest.version : 'unknown';
}

async function start(): Promise<InteropServer> {
  const { model, accessTokens, refreshTokens } = memoryModel();
  const oauth = new OAuth2Server({ model, accessTokenLifetime: 3600, alwaysIssueNewRefreshToken: true });
  const server = http.createServer((req, res) => {
    handle(oauth, req, res).catch(() => {
      res.writeHead(500);
      res.end();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const proxy = await CountingProxy.start({ upstreamPort: port, tokenPath: '/token', apiPrefix: '/api/' });
  return {
    tokenUrl: `${proxy.origin}/token`,
    apiUrl: `${proxy.origin}/api`,
    issuer: undefined,
    credentials,
    service,
    revocationUrl: undefined, // no RFC 7009 endpoint in the package
    versions: { [PACKAGE]: packageVersion(), node: process.versions.node },
    proxy,
    revoke: (accessToken) => {
      accessTokens.delete(accessToken);
      return Promise.resolve();
    },
    revokeRefreshToken: (refreshToken) => {
      refreshTokens.delete(refreshToken);
      return Promise.resolve();
    },
    expire: (accessToken) => {
      const stored = accessTokens.get(accessToken);
      if (stored !== undefined) stored.accessTokenExpiresAt = new Date(Date.now() - 1000);
      return Promise.resolve();
    },
    async stop() {
      await proxy.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

export const nodeOauth2Server: ServerDefinition = {
  name: '@node-oauth/oauth2-server (npm, in-memory model)',
  publishesDiscovery: false,
  // The package implements no RFC 7009 endpoint: the suite's revocation tests do not run here (no test, not a skip).
  revocationEndpoint: false,
  // basic-auth splits the decoded header at the first colon and never form-decodes.
  basicForm: 'raw',
  refreshAfterRevocation: 'works',
  answers: {
    wrongPassword: { status: 400, error: 'invalid_grant' },
    // 400 for a client that authenticated in the body, 401 (with WWW-Authenticate: Basic) for one that used Basic.
    wrongSecretPost: { status: 400, error: 'invalid_client' },
    wrongSecretBasic: { status: 401, error: 'invalid_client' },
    unknownClient: { status: 400, error: 'invalid_client' },
    refusedRefresh: { status: 400, error: 'invalid_grant' },
    // The client's `grants` list does not name the grant type.
    unauthorizedClient: { status: 400, error: 'unauthorized_client' },
  },
  start,
};
