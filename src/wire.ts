/**
 * What goes over the wire to and from the token endpoint, exactly as RFC 6749 and the provider name it
 * (snake_case). Shapes only, no logic: validation lives in token-response.ts.
 */

/** The form fields of a password grant (RFC 6749 section 4.3.2), in the order they are sent. */
export interface PasswordGrantForm {
  grant_type: 'password';
  username: string;
  password: string;
  scope?: string;
}

/** The form fields of a refresh grant (RFC 6749 section 6). */
export interface RefreshGrantForm {
  grant_type: 'refresh_token';
  refresh_token: string;
  scope?: string;
}

/** Client credentials sent in the body with `client_secret_post`. */
export interface ClientCredentialsForm {
  client_id: string;
  client_secret: string;
}

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
