/**
 * Every grant the library speaks, as one table the grant suites run against each test server (the loopback server,
 * the nock fixtures): how to configure a client for it, which counter of the server's `stats.grants` its first grant
 * and its renewals add to, whose token it gets, and how to make it fail with the wrong credentials.
 */
import {
  GrantRejectedError,
  InvalidClientError,
  InvalidRequestError,
  RefreshTokenRejectedError,
  type SingleIdentityAuthOptions,
  UserAuthenticationError,
} from '../../src/index.js';

/** What a case needs from the server it runs against. */
export interface GrantServer {
  readonly tokenUrl: string;
  readonly credentials: { readonly clientId: string; readonly clientSecret: string; readonly username: string; readonly password: string };
  /** A refresh token for `username`, as if obtained through another flow. */
  issueRefreshToken(username: string): string;
}

/** The counters of `stats.grants`. */
export type GrantCounter = 'password' | 'refresh_token' | 'client_credentials' | 'extension';

export interface GrantCase {
  readonly name: string;
  /** The client's auth options (the token URL included), good or with wrong credentials. */
  auth(server: GrantServer, wrong?: boolean): SingleIdentityAuthOptions;
  /** The counter the first grant adds to. */
  readonly first: GrantCounter;
  /** The counter a renewal adds to: the refresh grant where the first grant issued a refresh token. */
  readonly renewal: GrantCounter;
  /** Whose token it is: the API echo's `username`. */
  readonly subject: string;
  /** The error class of a wrong credential. */
  readonly wrongClass: new (...args: never[]) => Error;
  /** Whether the wrong credential starts the cooldown (a second burst then sends nothing). */
  readonly coolsDown: boolean;
  /** Whether a token set of this grant carries a refresh token (revocation then revokes two tokens). */
  readonly refreshes: boolean;
}

export const TOKEN_EXCHANGE = 'urn:ietf:params:oauth:grant-type:token-exchange';
export const JWT_BEARER = 'urn:ietf:params:oauth:grant-type:jwt-bearer';
export const ACCESS_TOKEN_TYPE = 'urn:ietf:params:oauth:token-type:access_token';

/** The subject tokens and assertions the test servers accept (their `subjectTokens` option), and whose they are. */
export const SUBJECT_TOKENS: Readonly<Record<string, string>> = { 'upstream-token-for-alice': 'alice', 'signed-assertion-for-bob': 'bob' };

/** The secret values of the cases, for the no-secret-in-errors checks (the seeded refresh token is added per run). */
export const CASE_SECRETS: readonly string[] = ['upstream-token-for-alice', 'signed-assertion-for-bob', 'wrong-subject-token', 'wrong-assertion', 'wrong-secret'];

function client(server: GrantServer): { tokenUrl: string; clientId: string; clientSecret: string } {
  return { tokenUrl: server.tokenUrl, clientId: server.credentials.clientId, clientSecret: server.credentials.clientSecret };
}

export const GRANT_CASES: readonly GrantCase[] = [
  {
    name: 'password',
    auth: (server, wrong) => ({ ...server.credentials, tokenUrl: server.tokenUrl, ...(wrong === true ? { password: 'wrong-secret' } : {}) }),
    first: 'password',
    renewal: 'refresh_token',
    subject: 'demo-user',
    wrongClass: UserAuthenticationError,
    coolsDown: true,
    refreshes: true,
  },
  {
    name: 'client_credentials',
    auth: (server, wrong) => ({ ...client(server), grant: 'client_credentials', ...(wrong === true ? { clientSecret: 'wrong-secret' } : {}) }),
    first: 'client_credentials',
    renewal: 'client_credentials',
    subject: 'demo-client',
    wrongClass: InvalidClientError,
    coolsDown: true,
    refreshes: false,
  },
  {
    name: 'refresh_token (obtained elsewhere)',
    auth: (server, wrong) => ({ ...client(server), grant: 'refresh_token', refreshToken: wrong === true ? 'rt-never-issued' : server.issueRefreshToken('demo-user') }),
    first: 'refresh_token',
    renewal: 'refresh_token',
    subject: 'demo-user',
    wrongClass: RefreshTokenRejectedError,
    coolsDown: true,
    refreshes: true,
  },
  {
    name: 'token exchange (RFC 8693)',
    auth: (server, wrong) => ({
      ...client(server),
      grant: {
        type: TOKEN_EXCHANGE,
        parameters: { subject_token_type: ACCESS_TOKEN_TYPE },
        secrets: { subject_token: wrong === true ? 'wrong-subject-token' : 'upstream-token-for-alice' },
      },
    }),
    first: 'extension',
    renewal: 'refresh_token',
    subject: 'alice',
    // RFC 8693 section 2.2.2: an invalid subject token is `invalid_request`, which says nothing of the credentials.
    wrongClass: InvalidRequestError,
    coolsDown: false,
    refreshes: true,
  },
  {
    name: 'JWT bearer assertion (RFC 7523), the assertion from a function',
    auth: (server, wrong) => ({
      ...client(server),
      grant: { type: JWT_BEARER, secrets: { assertion: () => Promise.resolve(wrong === true ? 'wrong-assertion' : 'signed-assertion-for-bob') } },
    }),
    first: 'extension',
    renewal: 'extension',
    subject: 'bob',
    wrongClass: GrantRejectedError,
    coolsDown: true,
    refreshes: false,
  },
];
