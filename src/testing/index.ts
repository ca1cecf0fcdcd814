/**
 * `axios-oauth-bearer/testing`: fixtures for tests of code that uses this library. Named exports only.
 *
 * Export paths, decided here and mirrored in package.json `exports` and `tsup.entry`:
 * - `axios-oauth-bearer/testing` (this file): every fixture. The in-memory authority (./memory.ts) and the loopback
 *   server need no mocking library; the nock fixtures load nock, an optional peer dependency, only when one is
 *   first created (./nock.ts), so importing this path never needs nock installed.
 * - `axios-oauth-bearer/testing/server` (./server.ts): the loopback server alone, for the demo, the benchmark and
 *   the benchmark's server process.
 * The main entry `axios-oauth-bearer` loads none of them. Shared rules live in ./authority.ts and the site around
 * them (routes, counters, faults) in ./host.ts, so the server, the in-memory authority and the nock fixtures answer
 * alike.
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
  GrantType,
  IssuedToken,
  RevokedToken,
  TokenFault,
  TokenFaultHook,
  TokenRequestInfo,
  TokenTypeHint,
} from './server.js';
export { createMemoryAuthority } from './memory.js';
export type { MemoryAuthority, MemoryAuthorityCredentials, MemoryAuthorityOptions } from './memory.js';
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
