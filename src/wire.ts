/**
 * What comes back over the wire from the token endpoint, exactly as RFC 6749 and the provider name it (snake_case).
 * Shapes only, no logic: validation lives in token-response.ts. (What goes out is built field by field in
 * token-endpoint.ts, in the provider's order, and pinned by the tests' exact request bodies.)
 */

/** A successful token response (RFC 6749 section 5.1) before validation: every field may be anything. */
export interface TokenResponseBody {
  access_token?: unknown;
  token_type?: unknown;
  expires_in?: unknown;
  refresh_token?: unknown;
  scope?: unknown;
  id_token?: unknown;
}

/** An error response (RFC 6749 section 5.2). */
export interface TokenErrorBody {
  error?: unknown;
  error_description?: unknown;
  error_uri?: unknown;
}

/** The one field of an OpenID Connect discovery document this library reads, plus `issuer` to check it. */
export interface DiscoveryDocument {
  issuer?: unknown;
  token_endpoint?: unknown;
}
