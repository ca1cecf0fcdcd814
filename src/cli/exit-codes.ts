/**
 * The command-line tool's exit codes: one per kind of failure, so a script can tell "fix your configuration" from
 * "the password was rejected" from "try again later" without parsing messages. They are a public contract
 * (documented in `--help`): never renumber one, only add.
 */
export const ExitCode = {
  /** A token was printed. */
  OK: 0,
  /** A bug, or a failure this table does not name. */
  UNEXPECTED: 1,
  /** A flag or environment variable is missing, unknown or invalid (ConfigurationError included). */
  USAGE: 2,
  /** The token endpoint called the request invalid or not allowed (InvalidRequestError: `invalid_request`,
   * `invalid_scope`, `unauthorized_client`, `unsupported_grant_type`, or HTTP 400 without a code). */
  INVALID_REQUEST: 3,
  /** The client id or client secret was rejected (InvalidClientError: `invalid_client`, or HTTP 401 without a code). */
  INVALID_CLIENT: 4,
  /** The username or password was rejected (UserAuthenticationError: `invalid_grant` on the password grant, or HTTP
   * 403 without a code). */
  USER_AUTHENTICATION: 5,
  /** The token endpoint could not be reached, or did not answer in time (TokenNetworkError). */
  NETWORK: 6,
  /** The token endpoint's answer is not a usable token response (InvalidTokenResponseError). */
  INVALID_RESPONSE: 7,
  /** The token endpoint answered with another error status, e.g. 500 (TokenEndpointError). */
  TOKEN_ENDPOINT: 8,
} as const;

/** One of the {@link ExitCode} values. */
export type ExitCodeValue = (typeof ExitCode)[keyof typeof ExitCode];
