/**
 * Shared fixtures for the token-endpoint suites: fixed credentials (some full of characters that need
 * form-encoding) and small helpers. No nock here: importing nock patches `http` for the whole Jest worker, so only
 * files that also restore it (see endpoint-nock.ts) may load it.
 */
import { type AuthOptions, type TokenEndpoint } from '../../src/index.js';
import { resolveAuthOptions } from '../../src/options.js';
import { type ClientTokenEndpoint, tokenEndpointFor } from '../../src/token-endpoint.js';

export const IDP = 'https://idp.test';
export const TOKEN_PATH = '/connect/token';
export const TOKEN_URL = `${IDP}${TOKEN_PATH}`;

/** Plain ASCII credentials, as most providers hand them out. */
export const plainCredentials = {
  clientId: 'fixture-client',
  clientSecret: 'fixture-client-secret-0001',
  username: 'alice@example.com',
  password: 'fixture-password-0001',
} as const;

/** Credentials with every character form-encoding has to care about (space & = + % : ü and an emoji). */
export const trickyCredentials = {
  clientId: 'my client:id&ü',
  clientSecret: 's3cr=t+&% ü😀:x',
  username: 'jörg user@example.com',
  password: 'p&ss w=rd+100%:ü😀',
} as const;

/** A refresh token, as a client would hold it from an earlier grant. */
export const REFRESH_TOKEN = 'fixture-refresh-token-0001';

/** A successful token response body. */
export const tokenBody = {
  access_token: 'fixture-access-token-0001',
  token_type: 'Bearer',
  expires_in: 3600,
  refresh_token: 'fixture-refresh-token-0002',
  scope: 'read write',
} as const;

/** A token endpoint on {@link TOKEN_URL} with plain credentials, unless `overrides` say otherwise. */
export function endpointWith(overrides: Partial<AuthOptions> = {}): TokenEndpoint {
  return publicView(tokenEndpointFor(resolveAuthOptions({ tokenUrl: TOKEN_URL, ...plainCredentials, ...overrides })));
}

/** The client's endpoint as the public one: `passwordGrant` is its configured grant (the password grant here). */
export function publicView(endpoint: ClientTokenEndpoint): TokenEndpoint {
  return {
    passwordGrant: () => endpoint.grant(),
    grant: () => endpoint.grant(),
    refreshGrant: (refreshToken) => endpoint.refreshGrant(refreshToken),
    revoke: (token, hint) => endpoint.revoke(token, hint),
    tokenUrl: () => endpoint.tokenUrl(),
  };
}

/** Awaits a promise that must reject and returns what it rejected with. */
export async function rejectionOf(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected the promise to reject, but it resolved');
}

/** The error followed by each `cause` along its chain. */
export function causeChain(error: unknown): unknown[] {
  const chain: unknown[] = [];
  let current: unknown = error;
  while (current !== undefined && chain.length < 10) {
    chain.push(current);
    current = current instanceof Error ? current.cause : undefined;
  }
  return chain;
}
