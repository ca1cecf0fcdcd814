/**
 * What a scenario needs from the loopback server, as an asynchronous interface, so the same scenario code drives the
 * server in a child process (the real benchmark: the client's CPU is measured alone) and in this process (the Jest
 * check of the exact counts, where a child process would only add start-up time).
 */
import { fixtureDefaults } from '../src/testing/authority.js';
import { type AuthServerCredentials, type AuthServerOptions, type AuthServerStats, startAuthServer } from '../src/testing/server.js';
import { advanceClock } from './virtual-clock.js';

/** A running loopback server and the controls the scenarios use. */
export interface BenchServer {
  /** `origin + '/api'`: every path below it is protected. */
  readonly apiUrl: string;
  readonly credentials: AuthServerCredentials;
  stats(): Promise<AuthServerStats>;
  resetStats(): Promise<void>;
  /** Every access token issued so far is refused from now on. Resolves once the server has applied it. */
  revokeAll(): Promise<void>;
  setLatency(latency: { readonly tokenMs?: number; readonly apiMs?: number }): Promise<void>;
  /** Answers the next `count` token requests with `status` (an OAuth error body), as the server's `failNext` does. */
  failNext(count: number, status: number): Promise<void>;
  /**
   * Moves the clock of this process and of the server forward by `ms` (./virtual-clock.ts; the quick check only).
   * Resolves once both have moved; call it only while no request is in flight.
   */
  advanceClock(ms: number): Promise<void>;
  close(): Promise<void>;
}

/** Starts a server with the given options; each scenario starts its own, so token lifetimes can differ. */
export type LaunchServer = (options: AuthServerOptions) => Promise<BenchServer>;

/** Launches the server in this process (for the Jest check). */
export const launchInProcess: LaunchServer = async (options) => {
  const server = await startAuthServer(options);
  return {
    apiUrl: server.apiUrl,
    credentials: server.credentials,
    stats: () => Promise.resolve(server.stats),
    resetStats: () => settled(() => server.resetStats()),
    revokeAll: () => settled(() => server.revokeAll()),
    setLatency: (latency) => settled(() => server.setLatency(latency)),
    failNext: (count, status) => settled(() => server.failNext(count, status)),
    // The server reads this process's Date.now(): moving this process's clock moves both.
    advanceClock: (ms) => settled(() => advanceClock(ms)),
    close: () => server.close(),
  };
};

/** Runs a synchronous control and reports it as done, the shape the child-process controls have. */
function settled(run: () => void): Promise<void> {
  run();
  return Promise.resolve();
}

/**
 * The credentials a server started with `options` accepts: the fixture defaults (never random, so this stays true)
 * under the options' own. The child process announces only its URLs, so the parent works them out from the options
 * it started the child with.
 */
export function credentialsFor(tokenUrl: string, options: AuthServerOptions): AuthServerCredentials {
  const { clientId, clientSecret, username, password } = { ...fixtureDefaults, ...options };
  return { tokenUrl, clientId, clientSecret, username, password };
}
