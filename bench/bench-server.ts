/**
 * What a scenario needs from the loopback server, as an asynchronous interface, so the same scenario code drives the
 * server in a child process (the real benchmark: the client's CPU is measured alone) and in this process (the Jest
 * check of the exact counts, where a child process would only add start-up time).
 */
import { fixtureDefaults } from '../src/testing/authority.js';
import { type AuthServerCredentials, type AuthServerOptions, type AuthServerStats, startAuthServer } from '../src/testing/server.js';

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
    close: () => server.close(),
  };
};

/** Runs a synchronous control and reports it as done, the shape the child-process controls have. */
function settled(run: () => void): Promise<void> {
  run();
  return Promise.resolve();
}

/**
 * The credentials a server started without credential options accepts. The child process announces only its URLs,
 * so the parent relies on the fixture defaults (never random, so this stays true).
 */
export function defaultCredentials(tokenUrl: string): AuthServerCredentials {
  const { clientId, clientSecret, username, password } = fixtureDefaults;
  return { tokenUrl, clientId, clientSecret, username, password };
}
