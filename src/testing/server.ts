/**
 * A real authorization server and protected API on 127.0.0.1, for end-to-end tests, the demo and the benchmark.
 * It must never import nock (see the export-path note in ./index.ts): it is published on its own at
 * `axios-oauth-bearer/testing/server`, and the benchmark drives it at thousands of requests a second, so each
 * request does a map lookup and one JSON.stringify, nothing more. The routes, counters and faults are ./host.ts,
 * shared with the in-memory authority (./memory.ts); this module is the socket around them.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

import { everyName } from '../option-names.js';
import { type AccessCheck, AUTHORITY_OPTION_NAMES, type AuthorityOptions, refuseUnknownFixtureOptions, type RevokedToken } from './authority.js';
import {
  type AuthServerStats,
  createAuthorityHost,
  discoveryAnswer,
  type HostAnswer,
  MAX_BODY_BYTES,
  NOT_FOUND,
  REVOCATION_PATH,
  routeOf,
  serialize,
  TOO_LARGE,
  type TokenFault,
  type TokenFaultHook,
} from './host.js';

export type { AccessCheck, AuthorityOptions, GrantType, IssuedToken, RevokedToken, TokenTypeHint } from './authority.js';
export { fixtureDefaults } from './authority.js';
export type { AuthServerStats, TokenFault, TokenFaultHook, TokenRequestInfo } from './host.js';

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
  /** `url + '/revoke'`: the RFC 7009 revocation endpoint, also named by the discovery document. */
  readonly revocationUrl: string;
  /** `url + '/api'`: any path below it is protected. */
  readonly apiUrl: string;
  readonly credentials: AuthServerCredentials;
  /** A fresh snapshot on each read. */
  readonly stats: AuthServerStats;
  resetStats(): void;
  /**
   * Every access token issued so far is refused from now on (refresh tokens still work); with `username`, only that
   * user's (see the `users` option).
   */
  revokeAll(username?: string): void;
  /** Gives a user a new password (or adds a user), as a rotation in a vault would; issued tokens stay valid. */
  setPassword(username: string, password: string): void;
  /** Every refresh token issued so far gets `invalid_grant` from now on. */
  revokeRefreshTokens(): void;
  /** Revokes one access or refresh token; false when it was not known. Not recorded in `revoked`. */
  revoke(token: string): boolean;
  /**
   * Every token the revocation endpoint was asked to revoke (known or not), oldest first, with what it was: the
   * server's record of what a client revoked. Requests it refused are not in it.
   */
  readonly revoked: readonly RevokedToken[];
  /**
   * A refresh token for `username`, as if the user had signed in through another flow (authorization code, device
   * flow); it then refreshes and rotates like any other. `scope` defaults to every allowed scope (a scope beyond
   * them throws a RangeError). Not counted as a grant.
   */
  issueRefreshToken(username: string, scope?: string): string;
  /** Answers the next `count` token requests with `status` (and a JSON body, or a raw string body). */
  failNext(count: number, status: number, body?: unknown, headers?: Readonly<Record<string, string>>): void;
  /** Applies `fault` to the next `count` token requests. */
  failNext(count: number, fault: TokenFault): void;
  /** Answers the next `count` revocation requests with `status` (and a JSON body, or a raw string body). */
  failNextRevocation(count: number, status: number, body?: unknown, headers?: Readonly<Record<string, string>>): void;
  /** Applies `fault` to the next `count` revocation requests. */
  failNextRevocation(count: number, fault: TokenFault): void;
  /** Consulted for each token request once the `failNext` queue is empty; `undefined` removes it. */
  setTokenFault(hook: TokenFaultHook | undefined): void;
  setLatency(latency: { readonly tokenMs?: number; readonly apiMs?: number }): void;
  /** Stops listening and destroys every connection, keep-alive and hung ones included. */
  close(): Promise<void>;
}

const SERVER_OPTION_NAMES = everyName<AuthServerOptions>()([...AUTHORITY_OPTION_NAMES, 'tokenLatencyMs', 'apiLatencyMs', 'port']);

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
  refuseUnknownFixtureOptions(options, SERVER_OPTION_NAMES, 'startAuthServer');
  const host = createAuthorityHost(options);
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
    const fault = host.tokenArrived(body);
    later(host.latency.token, () => {
      const { headers } = request;
      reply(request, response, host.tokenAnswer(request.method, headers['content-type'], headers.authorization, body, fault));
    });
  }

  function answerRevocation(request: IncomingMessage, response: ServerResponse, body: string): void {
    const fault = host.revocationArrived();
    later(host.latency.token, () => {
      const { headers } = request;
      reply(request, response, host.revocationAnswer(request.method, headers['content-type'], headers.authorization, body, fault));
    });
  }

  function answerApi(request: IncomingMessage, response: ServerResponse, path: string, body: string): void {
    // Checked on arrival, as a real API would: latency must not turn a valid token into an expired one.
    const access: AccessCheck = host.apiArrived(request.headers.authorization);
    later(host.latency.api, () => {
      send(response, host.apiAnswer(request.method, path, request.headers['content-type'], body, access));
    });
  }

  const server = createServer((request, response) => {
    const path = request.url ?? '/';
    switch (routeOf(request.method, path)) {
      case 'token':
        readBody(request, response, (body) => answerToken(request, response, body));
        break;
      case 'revocation':
        readBody(request, response, (body) => answerRevocation(request, response, body));
        break;
      case 'api':
        readBody(request, response, (body) => answerApi(request, response, path, body));
        break;
      case 'discovery':
        send(response, discoveryAnswer(origin));
        break;
      case 'not_found':
        send(response, NOT_FOUND);
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
  const { authority } = host;
  const { settings } = authority;

  return {
    url: origin,
    tokenUrl: `${origin}/connect/token`,
    revocationUrl: `${origin}${REVOCATION_PATH}`,
    apiUrl: `${origin}/api`,
    credentials: {
      tokenUrl: `${origin}/connect/token`,
      clientId: settings.clientId,
      clientSecret: settings.clientSecret,
      username: settings.username,
      password: settings.password,
    },
    get stats() {
      return host.stats;
    },
    resetStats: () => host.resetStats(),
    revokeAll: (username) => authority.revokeAccessTokens(username),
    setPassword: (username, password) => authority.setPassword(username, password),
    revokeRefreshTokens: () => authority.revokeRefreshTokens(),
    revoke: (token) => authority.revoke(token),
    get revoked() {
      return authority.revoked;
    },
    issueRefreshToken: (username, scope) => authority.issueRefreshToken(username, scope),
    failNext: (count: number, fault: number | TokenFault, body?: unknown, headers?: Readonly<Record<string, string>>) => host.failNext(count, fault, body, headers),
    failNextRevocation: (count: number, fault: number | TokenFault, body?: unknown, headers?: Readonly<Record<string, string>>) =>
      host.failNextRevocation(count, fault, body, headers),
    setTokenFault: (hook) => host.setTokenFault(hook),
    setLatency: (latency) => host.setLatency(latency),
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

function reply(request: IncomingMessage, response: ServerResponse, answer: HostAnswer): void {
  if (answer.type === 'reset') request.socket.destroy();
  else if (answer.type === 'respond') send(response, answer);
  // 'hang': leave the request open; close() destroys its socket.
}

function send(response: ServerResponse, answer: Extract<HostAnswer, { type: 'respond' }>): void {
  // A latency timer may fire after the client gave up.
  if (response.destroyed) return;
  const { text, headers } = serialize(answer);
  response.writeHead(answer.status, { ...headers, 'Content-Length': Buffer.byteLength(text) });
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
    if (size > MAX_BODY_BYTES) send(response, TOO_LARGE);
    else then(Buffer.concat(chunks).toString('utf8'));
  });
}
