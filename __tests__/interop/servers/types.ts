/**
 * What every interop server launcher gives the suite: the endpoints (behind a counting proxy), the credentials it was
 * set up with, what it is known to do, and the controls a test needs (revoke, expire, stop).
 */
import type { CountingProxy } from './counting-proxy.js';

/** The resource owner and the confidential client a server was started with. */
export interface InteropCredentials {
  readonly clientId: string;
  /** Contains `+`, `/`, `=`, `:` and a space, like an `openssl rand -base64` secret with a separator. */
  readonly clientSecret: string;
  readonly username: string;
  readonly password: string;
}

/** A confidential client allowed the client credentials grant (RFC 6749 4.4): it acts for itself, with no user. */
export interface ServiceCredentials {
  readonly clientId: string;
  /** Special characters too, like {@link InteropCredentials.clientSecret}. */
  readonly clientSecret: string;
}

/** A running authorization server with its protected API, on 127.0.0.1. */
export interface InteropServer {
  /** The token endpoint, through the counting proxy. */
  readonly tokenUrl: string;
  /** The protected API's base URL (any path under it answers 200 to a valid token, 401 otherwise). */
  readonly apiUrl: string;
  /** The OpenID Connect issuer, when the server publishes a discovery document. */
  readonly issuer: string | undefined;
  readonly credentials: InteropCredentials;
  /** A second client, for the client credentials grant, when the server supports that grant. */
  readonly service: ServiceCredentials | undefined;
  /** The RFC 7009 revocation endpoint, through the counting proxy, when the server has one. */
  readonly revocationUrl: string | undefined;
  /** What the server really runs, e.g. `{ 'django-oauth-toolkit': '1.7.0', django: '3.2.25' }`. */
  readonly versions: Readonly<Record<string, string>>;
  /** Counts and records every call to the token endpoint, the revocation endpoint and the API. */
  readonly proxy: CountingProxy;
  /** Revokes an access token the way the server offers (its RFC 7009 endpoint, else its storage). */
  revoke(accessToken: string): Promise<void>;
  /**
   * Revokes a refresh token the way the server offers (its RFC 7009 endpoint with `token_type_hint=refresh_token`,
   * else its storage), not through the proxy: a refresh grant with it is then refused with `invalid_grant`.
   */
  revokeRefreshToken(refreshToken: string): Promise<void>;
  /** Makes an access token expired at the server (its storage), leaving its refresh token as it was. */
  expire(accessToken: string): Promise<void>;
  /** Stops the server and the proxy and removes every file the server wrote. */
  stop(): Promise<void>;
}

/** An error answer of the token endpoint: its status and RFC 6749 5.2 `error` code. */
export interface ErrorAnswer {
  readonly status: number;
  readonly error: string | undefined;
}

/** What the server answers, as measured: the suite checks each before it checks what the library made of it. */
export interface ServerAnswers {
  readonly wrongPassword: ErrorAnswer;
  /** A wrong client secret sent as form fields (client_secret_post). */
  readonly wrongSecretPost: ErrorAnswer;
  /** A wrong client secret in an HTTP Basic header (client_secret_basic). */
  readonly wrongSecretBasic: ErrorAnswer;
  /** A client id the server does not know (client_secret_post). */
  readonly unknownClient: ErrorAnswer;
  /** A refresh token already rotated away, or revoked. */
  readonly refusedRefresh: ErrorAnswer;
  /** A grant the client is not allowed (the password grant's client asking for client credentials). */
  readonly unauthorizedClient: ErrorAnswer;
}

/** A server the suite runs against: how to start it, and the facts of its dialect the tests depend on. */
export interface ServerDefinition {
  /** The describe block's name: package and where it comes from. */
  readonly name: string;
  /** True when the server publishes `/.well-known/openid-configuration` under its issuer. */
  readonly publishesDiscovery: boolean;
  /** True when the server has an RFC 7009 revocation endpoint ({@link InteropServer.revocationUrl}). */
  readonly revocationEndpoint: boolean;
  /**
   * Which Basic credential form the server accepts when the secret has characters form-encoding changes: RFC 6749
   * 2.3.1's form-encoded one (the server decodes) or the raw one (it does not).
   */
  readonly basicForm: 'form-encoded' | 'raw';
  /**
   * What a refresh grant gets after {@link InteropServer.revoke}: `works`, or `server-error` (the server answers 5xx
   * to the refresh token of a revoked access token, so the library must fall back to the password grant).
   */
  readonly refreshAfterRevocation: 'works' | 'server-error';
  readonly answers: ServerAnswers;
  start(): Promise<InteropServer>;
}
