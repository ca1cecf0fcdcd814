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
  /** HTTP 400: the token endpoint called the request invalid (InvalidRequestError). */
  INVALID_REQUEST: 3,
  /** HTTP 401: the client id or client secret was rejected (InvalidClientError). */
  INVALID_CLIENT: 4,
  /** HTTP 403: the username or password was rejected (UserAuthenticationError). */
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
