/**
 * `axios-oauth-bearer/testing`: fixtures for tests of code that uses this library. Named exports only.
 *
 * Export paths, decided here and mirrored in package.json `exports` and `tsup.entry`:
 * - `axios-oauth-bearer/testing` (this file): the nock fixtures AND the loopback server. It imports nock, an
 *   optional peer dependency, so it needs `nock` installed. Importing nock also patches `http` globally, which
 *   is what a test using these fixtures wants anyway.
 * - `axios-oauth-bearer/testing/server` (./server.ts): the loopback server alone. It never loads nock, so the
 *   demo, the benchmark and anyone without nock use this path, and a benchmark is not slowed by nock's patching.
 * The main entry `axios-oauth-bearer` loads neither. Shared rules live in ./authority.ts, so the server and the
 * nock fixtures answer alike.
 * @packageDocumentation
 */
export { startAuthServer, fixtureDefaults } from './server.js';
export type {
  AccessCheck,
  AuthorityOptions,
  AuthServer,
  AuthServerCredentials,
  AuthServerOptions,
  AuthServerStats,
  IssuedToken,
  TokenFault,
  TokenFaultHook,
  TokenRequestInfo,
} from './server.js';
export { mockTokenEndpoint, mockProtectedApi } from './nock.js';
export type {
  GrantCounts,
  MockProtectedApi,
  MockProtectedApiOptions,
  MockReply,
  MockTokenEndpoint,
  MockTokenEndpointOptions,
  MockTokenError,
} from './nock.js';
