/**
 * The bounds put on what the authorization server sends, in one place so that the README, the checks and the tests
 * quote the same numbers. Everything the endpoint sends is input from the network: it is measured before it is used.
 */

/**
 * The longest access token, refresh token or `scope` accepted, in characters (each of them ASCII, so also bytes).
 *
 * Why 16 KiB: the access token travels in an `Authorization` header, and Node's HTTP server refuses a request
 * whose whole header block is larger than 16 KiB by default (`--max-http-header-size`), so a longer token could not
 * reach a Node API at all. Nginx and Apache refuse a single header line over 8 KiB by default, so a token that passes
 * this check can still be too large for a given API; the check is there to refuse garbage and abuse, not to promise
 * delivery. JWTs with many claims reach a few KiB, well below it.
 */
export const MAX_TOKEN_LENGTH = 16_384;

/**
 * How much of the endpoint's own text (`error`, `error_description`, a socket error's message) an error message
 * keeps, in characters (JavaScript string length), after control characters have been escaped. Longer text is cut
 * and marked with `…`: a 900 KB description is a denial of service on every log line it reaches, not a diagnosis.
 */
export const MAX_ENDPOINT_TEXT_LENGTH = 500;

/**
 * The largest answer read from the token endpoint or the discovery document, in bytes. A token response is a few KiB
 * at most (three tokens of at most {@link MAX_TOKEN_LENGTH} each and a few short fields); anything near this size is
 * not a token response, and reading it whole would only cost memory.
 */
export const MAX_RESPONSE_BYTES = 1_000_000;
