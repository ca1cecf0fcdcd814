/**
 * A real authorization server and protected API on 127.0.0.1, for end-to-end tests, the demo and the benchmark.
 * It must never import nock (see the export-path note in ./index.ts): it is published on its own at
 * `axios-oauth-bearer/testing/server`, and the benchmark drives it at thousands of requests a second, so each
 * request does a map lookup and one JSON.stringify, nothing more.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

import { type AccessCheck, apiEcho, type AuthorityOptions, createAuthority } from './authority.js';

export type { AccessCheck, AuthorityOptions, IssuedToken } from './authority.js';
export { fixtureDefaults } from './authority.js';

/** Options of {@link startAuthServer}: the credentials and token policy, plus latency. */
export interface AuthServerOptions extends AuthorityOptions {
  /**
   * Milliseconds the token endpoint waits before answering (and before applying a fault).
   * @default 0
   */
  readonly tokenLatencyMs?: number;
  /**
   * Milliseconds the protected API waits before answering.
   * @default 0
   */
  readonly apiLatencyMs?: number;
  /**
   * The port to listen on; 0 picks a free one.
   * @default 0
   */
  readonly port?: number;
}

/**
 * A misbehaviour of the token endpoint: an answer of your choosing (a string body is sent as is, so `'not json'`
 * makes a malformed body), a connection reset (`socket.destroy()`), or no answer at all until `close()`.
 */
export type TokenFault =
  | { readonly type: 'respond'; readonly status: number; readonly body?: unknown; readonly headers?: Readonly<Record<string, string>> }
  | { readonly type: 'reset' }
  | { readonly type: 'hang' };

/** What a fault hook is told about each token request. */
export interface TokenRequestInfo {
  /** The form's `grant_type`, when it has one. */
  readonly grantType: string | undefined;
  /** 1 for the server's first token request, counting every request since start (not reset by `resetStats`). */
  readonly requestNumber: number;
}

/** Decides a fault for a token request, or `undefined` to answer it normally. */
export type TokenFaultHook = (request: TokenRequestInfo) => TokenFault | undefined;

/** Request counters, as a snapshot. */
export interface AuthServerStats {
  /** Every request to the token endpoint. */
  readonly tokenRequests: number;
  /** Tokens issued, by grant. */
  readonly grants: { readonly password: number; readonly refresh_token: number };
  /** Token requests that issued nothing: refusals and injected faults. */
  readonly failedTokenRequests: number;
  readonly apiRequests: number;
  readonly api401s: number;
  readonly apiOk: number;
}

/** The server's credentials and token URL, ready to spread into the client's auth options. */
export interface AuthServerCredentials {
  readonly tokenUrl: string;
  readonly clientId: string;
  readonly clientSecret: string;
  readonly username: string;
  readonly password: string;
}

/** A running server and its controls. */
export interface AuthServer {
  /** The origin, e.g. `http://127.0.0.1:38017`; also the OpenID Connect issuer. */
  readonly url: string;
  /** `url + '/connect/token'`. */
  readonly tokenUrl: string;
  /** `url + '/api'`: any path below it is protected. */
  readonly apiUrl: string;
  readonly credentials: AuthServerCredentials;
  /** A fresh snapshot on each read. */
  readonly stats: AuthServerStats;
  resetStats(): void;
  /** Every access token issued so far is refused from now on (refresh tokens still work). */
  revokeAll(): void;
  /** Every refresh token issued so far gets `invalid_grant` from now on. */
  revokeRefreshTokens(): void;
  /** Revokes one access or refresh token; false when it was not known. */
  revoke(token: string): boolean;
  /** Answers the next `count` token requests with `status` (and a JSON body, or a raw string body). */
  failNext(count: number, status: number, body?: unknown, headers?: Readonly<Record<string, string>>): void;
  /** Applies `fault` to the next `count` token requests. */
  failNext(count: number, fault: TokenFault): void;
  /** Consulted for each token request once the `failNext` queue is empty; `undefined` removes it. */
  setTokenFault(hook: TokenFaultHook | undefined): void;
  setLatency(latency: { readonly tokenMs?: number; readonly apiMs?: number }): void;
  /** Stops listening and destroys every connection, keep-alive and hung ones included. */
  close(): Promise<void>;
}

const TOKEN_PATH = '/connect/token';
const DISCOVERY_PATH = '/.well-known/openid-configuration';
const MAX_BODY_BYTES = 1 << 20;
/** The RFC 6749 code a bare status most likely carries, for `failNext(n, status)` without a body. */
const DEFAULT_ERRORS: Readonly<Partial<Record<number, string>>> = {
  400: 'invalid_request',
  401: 'invalid_client',
  403: 'invalid_grant',
  429: 'temporarily_unavailable',
  503: 'temporarily_unavailable',
};

/**
 * Starts the server on 127.0.0.1 and resolves once it listens.
 * @example
 * const server = await startAuthServer({ expiresIn: 0.5 });
 * const client = createAuthClient({ auth: { ...server.credentials } }); // tokenUrl, clientId, clientSecret, ...
 * await client.get(`${server.apiUrl}/orders`);               // 200 with a valid bearer token, else 401
 * server.revokeAll();                                         // the next call gets 401 and must refresh
 * await server.close();
 */
export async function startAuthServer(options: AuthServerOptions = {}): Promise<AuthServer> {
  const authority = createAuthority(options);
  const latency = { token: options.tokenLatencyMs ?? 0, api: options.apiLatencyMs ?? 0 };
  const faults: TokenFault[] = [];
  let faultHook: TokenFaultHook | undefined;
  let tokenRequestNumber = 0;
  let stats = emptyStats();
  const timers = new Set<NodeJS.Timeout>();
  let origin = '';

  function later(ms: number, run: () => void): void {
    if (ms <= 0) {
      run();
      return;
    }
    const timer = setTimeout(() => {
      timers.delete(timer);
      run();
    }, ms);
    timers.add(timer);
  }

  function answerToken(request: IncomingMessage, response: ServerResponse, body: string): void {
    stats.tokenRequests += 1;
    tokenRequestNumber += 1;
    const fault = faults.shift() ?? faultHook?.({ grantType: grantTypeOf(body), requestNumber: tokenRequestNumber });
    later(latency.token, () => {
      if (fault !== undefined) {
        stats.failedTokenRequests += 1;
        applyFault(request, response, fault);
        return;
      }
      if (request.method !== 'POST') {
        stats.failedTokenRequests += 1;
        send(response, 405, { error: 'invalid_request', error_description: 'use POST' }, { Allow: 'POST' });
        return;
      }
      const answer = authority.token({
        contentType: request.headers['content-type'],
        authorization: request.headers.authorization,
        body,
      });
      if (answer.issued === undefined) stats.failedTokenRequests += 1;
      else stats.grants[answer.issued.grant] += 1;
      send(response, answer.status, answer.body, answer.headers);
    });
  }

  function answerApi(request: IncomingMessage, response: ServerResponse, path: string, body: string): void {
    stats.apiRequests += 1;
    // Checked on arrival, as a real API would: latency must not turn a valid token into an expired one.
    const access: AccessCheck = authority.checkAccess(request.headers.authorization);
    if (access.ok) stats.apiOk += 1;
    else stats.api401s += 1;
    later(latency.api, () => {
      if (!access.ok) {
        send(response, 401, access.body, { 'WWW-Authenticate': access.challenge });
        return;
      }
      send(response, 200, apiEcho(request.method ?? 'GET', path, request.headers['content-type'], body, access.token));
    });
  }

  const server = createServer((request, response) => {
    const path = request.url ?? '/';
    const pathname = path.split('?', 1)[0] ?? path;
    if (pathname === TOKEN_PATH) {
      readBody(request, response, (body) => answerToken(request, response, body));
    } else if (pathname === '/api' || pathname.startsWith('/api/')) {
      readBody(request, response, (body) => answerApi(request, response, path, body));
    } else if (pathname === DISCOVERY_PATH && (request.method === 'GET' || request.method === 'HEAD')) {
      send(response, 200, {
        issuer: origin,
        token_endpoint: `${origin}${TOKEN_PATH}`,
        grant_types_supported: ['password', 'refresh_token'],
        token_endpoint_auth_methods_supported: ['client_secret_post', 'client_secret_basic'],
      });
    } else {
      send(response, 404, { error: 'not_found' });
    }
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const { settings } = authority;

  return {
    url: origin,
    tokenUrl: `${origin}${TOKEN_PATH}`,
    apiUrl: `${origin}/api`,
    credentials: {
      tokenUrl: `${origin}${TOKEN_PATH}`,
      clientId: settings.clientId,
      clientSecret: settings.clientSecret,
      username: settings.username,
      password: settings.password,
    },
    get stats() {
      return { ...stats, grants: { ...stats.grants } };
    },
    resetStats: () => {
      stats = emptyStats();
    },
    revokeAll: () => authority.revokeAccessTokens(),
    revokeRefreshTokens: () => authority.revokeRefreshTokens(),
    revoke: (token) => authority.revoke(token),
    failNext(count: number, fault: number | TokenFault, body?: unknown, headers?: Readonly<Record<string, string>>) {
      const next: TokenFault = typeof fault === 'number' ? { type: 'respond', status: fault, body, headers } : fault;
      for (let index = 0; index < count; index += 1) faults.push(next);
    },
    setTokenFault: (hook) => {
      faultHook = hook;
    },
    setLatency: ({ tokenMs, apiMs }) => {
      latency.token = tokenMs ?? latency.token;
      latency.api = apiMs ?? latency.api;
    },
    close: () =>
      new Promise<void>((resolve, reject) => {
        for (const timer of timers) clearTimeout(timer);
        timers.clear();
        if (!server.listening) {
          resolve();
          return;
        }
        server.close((error) => (error ? reject(error) : resolve()));
        // server.close() alone waits for keep-alive and hung connections to end by themselves.
        server.closeAllConnections();
      }),
  };
}

// The live counters behind AuthServerStats; the getter hands out copies.
function emptyStats() {
  return { tokenRequests: 0, grants: { password: 0, refresh_token: 0 }, failedTokenRequests: 0, apiRequests: 0, api401s: 0, apiOk: 0 };
}

function grantTypeOf(body: string): string | undefined {
  return new URLSearchParams(body).get('grant_type') ?? undefined;
}

function applyFault(request: IncomingMessage, response: ServerResponse, fault: TokenFault): void {
  if (fault.type === 'reset') request.socket.destroy();
  else if (fault.type === 'respond') send(response, fault.status, fault.body ?? { error: DEFAULT_ERRORS[fault.status] ?? 'server_error' }, fault.headers);
  // 'hang': leave the request open; close() destroys its socket.
}

function send(response: ServerResponse, status: number, body: unknown, headers: Readonly<Record<string, string>> = {}): void {
  // A latency timer may fire after the client gave up.
  if (response.destroyed) return;
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  response.writeHead(status, {
    'Content-Type': 'application/json; charset=utf-8',
    'Content-Length': Buffer.byteLength(text),
    ...headers,
  });
  response.end(text);
}

function readBody(request: IncomingMessage, response: ServerResponse, then: (body: string) => void): void {
  const chunks: Buffer[] = [];
  let size = 0;
  request.on('data', (chunk: Buffer) => {
    size += chunk.length;
    if (size <= MAX_BODY_BYTES) chunks.push(chunk);
  });
  request.on('end', () => {
    if (size > MAX_BODY_BYTES) send(response, 413, { error: 'invalid_request', error_description: 'body too large' });
    else then(Buffer.concat(chunks).toString('utf8'));
  });
}
